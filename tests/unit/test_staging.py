"""The run staging folder: names, the templated path the DAGs give the operators, and retention."""

from __future__ import annotations

import os

from jinja2 import Environment

from officeguy_woocommerce.include.staging import JINJA_FILTERS, Stage, path_template, remove_old_runs


def test_the_templated_path_names_the_same_file_as_stage(tmp_path):
    run_id = "scheduled__2026-03-01T03:00:00+00:00"
    env = Environment()
    env.filters.update(JINJA_FILTERS)
    rendered = env.from_string(path_template(tmp_path, "orders")).render(dag={"dag_id": "d/x"}, run_id=run_id)
    assert rendered == Stage(tmp_path, "d/x", run_id).path("orders")
    assert ":" not in rendered.split(str(tmp_path))[1] and "+" not in rendered


def test_old_runs_are_removed_and_recent_ones_kept(tmp_path):
    old, new = Stage(tmp_path, "dag", "old"), Stage(tmp_path, "dag", "new")
    old.write_json("orders", [1]), new.write_json("orders", [2])
    week_ago = os.path.getmtime(old.path("orders")) - 8 * 86400
    os.utime(old.path("orders"), (week_ago, week_ago))
    removed = remove_old_runs(tmp_path, 7)
    assert removed == [str(old.dir)] and not old.dir.exists() and new.dir.exists()
    assert remove_old_runs(tmp_path, 0, now=os.path.getmtime(new.path("orders")) + 1) == [str(new.dir)]
    assert remove_old_runs(tmp_path / "nowhere", 0) == []
