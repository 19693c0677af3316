"""A run's staging folder: large data passes between tasks as files, never through XCom (an XCom holds
small summaries; a catalogue of 100,000 products does not belong in Airflow's database).

``<STOCK_SYNC_HOME>/staging/<dag id>/<run id>/<name>.json``, with each id reduced to ``[A-Za-z0-9_.-]``.
The DAG files give the generic operators templated paths into it (``path_template``); the app's tasks
open the same folder with ``Stage``. Light to import (no pandas until a frame is read or written).
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def safe_name(value: Any) -> str:
    """An id as one path segment (``scheduled__2026-03-01T03:00:00+00:00`` -> ``scheduled__2026-03-01T03_00_00_00_00``)."""
    return _SAFE.sub("_", str(value))


# the Jinja filter the DAG files register, so that a templated path names the same folder as Stage
JINJA_FILTERS = {"stage_safe": safe_name}


def path_template(home: Path | str, name: str, store: str | None = None) -> str:
    """The templated path of file ``name`` of the running DAG run's staging folder (for an operator's
    templated ``output_path``; the DAG registers ``JINJA_FILTERS``). ``store``: a named store's branch,
    whose folder is ``<run_id>~<store>`` (include/config.Store.run_key)."""
    run = "run_id" if store is None else f"(run_id ~ '~{store}')"
    return f"{Path(home) / 'staging'}/{{{{ dag.dag_id | stage_safe }}}}/{{{{ {run} | stage_safe }}}}/{name}.json"


def snapshot_path(home: Path | str, conn_id: str) -> str:
    """Where the stock extract keeps its last complete read of the store of connection ``conn_id``, for the
    next run's incremental read (plugins/woocommerce/snapshot.py). Outside ``staging``: it outlives runs."""
    return str(Path(home) / "snapshots" / f"{safe_name(conn_id)}.json")


class Stage:
    """The run's staging folder: ``<home>/staging/<dag_id>/<run_id>/``."""

    def __init__(self, home: Path, dag_id: str, run_id: str) -> None:
        self.dir = Path(home) / "staging" / safe_name(dag_id) / safe_name(run_id)

    def path(self, name: str) -> str:
        return str(self.dir / f"{name}.json")

    def write(self, name: str, frame: Any) -> str:
        """A pandas frame, with its column types."""
        payload = {"columns": list(frame.columns), "dtypes": {c: str(t) for c, t in frame.dtypes.items()},
                   "rows": json.loads(frame.to_json(orient="values", force_ascii=False))}
        return self.write_json(name, payload)

    def write_json(self, name: str, value: Any) -> str:
        """Plain JSON (orders, id maps, payloads) for the next task."""
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / f"{name}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)
        return str(path)

    @staticmethod
    def read_json(path: str) -> Any:
        return json.loads(Path(path).read_text(encoding="utf-8"))

    @staticmethod
    def read(path: str) -> Any:
        """A frame written by ``write``."""
        import pandas as pd

        payload = json.loads(Path(path).read_text(encoding="utf-8"))
        frame = pd.DataFrame(payload["rows"], columns=payload["columns"])
        dtypes = {c: t for c, t in payload["dtypes"].items() if t in {"int64", "float64", "Int64", "bool"}}
        return frame.astype(dtypes) if dtypes else frame


def remove_old_runs(home: Path | str, keep_days: float, *, now: float | None = None) -> list[str]:
    """Delete the staging folders of runs last written more than ``keep_days`` ago (the report task
    calls it once it has read its own run's files; ``STOCK_SYNC_STAGING_KEEP_DAYS``). Returns what went."""
    root = Path(home) / "staging"
    if not root.is_dir():
        return []
    cutoff = (time.time() if now is None else now) - keep_days * 86400
    removed = []
    for run_dir in sorted(p for dag_dir in root.iterdir() if dag_dir.is_dir() for p in dag_dir.iterdir()):
        newest = max((f.stat().st_mtime for f in run_dir.rglob("*") if f.is_file()), default=run_dir.stat().st_mtime)
        if run_dir.is_dir() and newest < cutoff:
            shutil.rmtree(run_dir, ignore_errors=True)
            removed.append(str(run_dir))
    return removed
