"""A run cleared and run again (``airflow backfill create --reprocess-behavior completed``) is a new try:
its own ledger row (migration 0005), its own report (``<run key>#<n>``), the first try's left as it was;
the orders report counts the orders that were already documented; the link opens the newest try."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from officeguy_woocommerce.include.ledger import DocumentState, Ledger, RunStatus, sqlite_url
from officeguy_woocommerce.include.orders_sync import plan
from officeguy_woocommerce.include.reports import (
    latest_try,
    render_orders_report,
    report_name,
    report_path,
    run_id_from_filename,
    split_report_name,
    text_summary,
    write_report,
)

ORDERS_DAG = "woocommerce_orders_to_officeguy"
RUN_ID = "backfill__2026-03-01T10:00:00+00:00"
STORE = "https://shop.example"


@pytest.fixture
def ledger(tmp_path):
    return Ledger(sqlite_url(tmp_path / "ledger.sqlite"))


# --------------------------------------------------------------------------- ledger rows
def test_each_try_has_its_own_row_and_a_retry_finds_its_tries_row(ledger):
    first = ledger.start_run(flow="orders", dag_id=ORDERS_DAG, run_id=RUN_ID, store=STORE, dry_run=False)
    assert ledger.start_run(flow="orders", dag_id=ORDERS_DAG, run_id=RUN_ID, store=STORE, dry_run=False,
                            attempt=1) == first  # a retried task of the same try
    ledger.finish_run(first, status=RunStatus.SUCCEEDED, counts={"created": 1})

    second = ledger.start_run(flow="orders", dag_id=ORDERS_DAG, run_id=RUN_ID, store=STORE, dry_run=False, attempt=2)
    assert second != first
    ledger.finish_run(second, status=RunStatus.SUCCEEDED, counts={"created": 0, "already_documented": 1})

    assert ledger.get_run(first).counts == {"created": 1} and ledger.get_run(first).attempt == 1
    assert ledger.get_run(second).attempt == 2
    tries = ledger.runs(dag_id=ORDERS_DAG, run_id=RUN_ID)
    assert [(r.attempt, r.counts["created"]) for r in tries] == [(2, 0), (1, 1)]
    assert ledger.runs(dag_id=ORDERS_DAG, run_id="other") == []


def test_a_report_opened_row_learns_its_store_later(ledger):
    pk = ledger.start_run(flow="orders", dag_id=ORDERS_DAG, run_id=RUN_ID, store="", dry_run=False)
    assert ledger.start_run(flow="orders", dag_id=ORDERS_DAG, run_id=RUN_ID, store=STORE, dry_run=False) == pk
    assert ledger.get_run(pk).store == STORE


def _downgrade(ledger: Ledger, revision: str) -> None:
    from alembic import command

    from officeguy_woocommerce.include.ledger.engine import _alembic_config

    cfg = _alembic_config()
    with ledger.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def _insert_old_row(engine, run_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO sync_runs (flow, dag_id, run_id, store, status, dry_run, started_at, counts, message) "
            "VALUES ('orders', :d, :r, :s, 'succeeded', false, :t, '{}', '')"),
            {"d": ORDERS_DAG, "r": run_id, "s": STORE, "t": datetime(2026, 3, 1, tzinfo=UTC)})


def test_migration_0005_keeps_old_rows_as_first_tries_and_downgrades(tmp_path):
    url = sqlite_url(tmp_path / "old.sqlite")
    old = Ledger(url, migrate=False)
    old.migrate("0004")
    _insert_old_row(old.engine, RUN_ID)
    with pytest.raises(sa.exc.IntegrityError):  # before: one row per run
        _insert_old_row(old.engine, RUN_ID)
    old.engine.dispose()

    ledger = Ledger(url, migrate=True)
    (row,) = ledger.runs()
    assert row.attempt == 1 and row.run_id == RUN_ID
    again = ledger.start_run(flow="orders", dag_id=ORDERS_DAG, run_id=RUN_ID, store=STORE, dry_run=False, attempt=2)
    assert again != row.id and len(ledger.runs()) == 2
    with pytest.raises(sa.exc.IntegrityError), ledger.engine.begin() as conn:  # one row per (dag, run key, try)
        conn.execute(sa.text(
            "INSERT INTO sync_runs (flow, dag_id, run_id, attempt, store, status, dry_run, started_at, counts, "
            "message) VALUES ('orders', :d, :r, 2, :s, 'running', false, :t, '{}', '')"),
            {"d": ORDERS_DAG, "r": RUN_ID, "s": STORE, "t": datetime(2026, 3, 1, tzinfo=UTC)})

    _downgrade(ledger, "0004")  # the newest try of each run stays
    with ledger.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, run_id FROM sync_runs")).all()
        columns = {c["name"] for c in sa.inspect(conn).get_columns("sync_runs")}
    assert rows == [(again, RUN_ID)] and "attempt" not in columns


@pytest.fixture
def fresh_postgres_url():
    """A database of its own (the session's shared one is not migrated up and down under other tests)."""
    import uuid

    from officeguy_woocommerce.app.create_database import create_database

    server = "postgresql://postgres@127.0.0.1:5432"
    name = f"run_tries_test_{uuid.uuid4().hex[:10]}"
    assert create_database(f"{server}/postgres", name)
    yield f"{server}/{name}"
    admin = sa.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.mark.postgres
def test_migration_0005_on_postgresql(fresh_postgres_url):
    old = Ledger(fresh_postgres_url, migrate=False)
    old.migrate("0004")
    _insert_old_row(old.engine, RUN_ID)
    old.engine.dispose()
    ledger = Ledger(fresh_postgres_url, migrate=True)
    first = ledger.start_run(flow="orders", dag_id=ORDERS_DAG, run_id=RUN_ID, store=STORE, dry_run=False)
    second = ledger.start_run(flow="orders", dag_id=ORDERS_DAG, run_id=RUN_ID, store=STORE, dry_run=False, attempt=2)
    assert first != second and ledger.get_run(first).attempt == 1
    _downgrade(ledger, "0004")
    ledger.migrate("head")
    assert [(r.id, r.attempt) for r in ledger.runs()] == [(second, 1)]
    ledger.engine.dispose()


# --------------------------------------------------------------------------- report names
@pytest.mark.parametrize("run_key", [RUN_ID, f"{RUN_ID}~second", "backfill__x y/z?#%", "manual__" + "ש" * 240])
def test_a_try_has_its_own_report_name_and_file(tmp_path, run_key):
    assert report_name(run_key, 1) == report_name(run_key, None) == run_key  # the first try: as always
    assert report_name(run_key, 3) == f"{run_key}#3"
    assert split_report_name(report_name(run_key, 3)) == (run_key, 3)
    assert split_report_name(run_key) == (run_key, 1)
    first = report_path(tmp_path, ORDERS_DAG, report_name(run_key, 1))
    third = report_path(tmp_path, ORDERS_DAG, report_name(run_key, 3))
    assert first != third and first.parent == third.parent
    if run_id_from_filename(third.name) is not None:  # not a hashed long name
        assert run_id_from_filename(third.name) == f"{run_key}#3"


def test_latest_try_is_the_newest_report_of_the_run(tmp_path):
    assert latest_try(tmp_path, ORDERS_DAG, RUN_ID) == 1  # nothing written yet
    write_report(tmp_path, ORDERS_DAG, report_name(RUN_ID, 1), "<p>1</p>")
    assert latest_try(tmp_path, ORDERS_DAG, RUN_ID) == 1
    write_report(tmp_path, ORDERS_DAG, report_name(RUN_ID, 3), "<p>3</p>")  # try 2 wrote none
    write_report(tmp_path, ORDERS_DAG, report_name("other", 7), "<p>other</p>")
    assert latest_try(tmp_path, ORDERS_DAG, RUN_ID) == 3
    assert latest_try(tmp_path, "../x", RUN_ID) == 1


def _orders_data(**overrides) -> dict:
    return {"dag_id": ORDERS_DAG, "run_id": RUN_ID, "status": "succeeded", "duration_s": 3.0,
            "counts": {"orders": 1, "created": 0, "already_documented": 1},
            "already_documented": [{"order": 7, "number": "1007", "document_number": 5001, "state": "documented"}],
            **overrides}


def test_the_orders_report_shows_the_try_and_the_orders_already_documented():
    page = render_orders_report(_orders_data(attempt=2))
    assert "already documented" in page and "Already documented before this run" in page and "5001" in page
    assert '<meta name="stock-sync-run-id" content="backfill__2026-03-01T10:00:00+00:00#2">' in page
    assert "<dt>Try</dt>" in page
    first = render_orders_report(_orders_data(attempt=1))
    assert "<dt>Try</dt>" not in first
    assert f'<meta name="stock-sync-run-id" content="{RUN_ID}">' in first

    summary = text_summary(_orders_data(attempt=2))
    assert "(try 2)" in summary.splitlines()[0]
    assert "Documents created: 0, already documented: 1" in summary


# --------------------------------------------------------------------------- already documented
def test_plan_counts_the_orders_whose_sale_was_documented_before_this_run(ledger):
    orders = [{"id": oid, "number": str(1000 + oid), "status": "processing", "total": "10.00",
               "line_items": [{"product_id": 1, "variation_id": 0, "quantity": 1, "total": "10.00"}],
               "date_modified_gmt": "2026-03-01T10:00:00"} for oid in (7, 8)]
    first = plan(orders, ledger, STORE, statuses=["processing"])
    assert first.already_documented == []
    ledger.set_state(STORE, 7, "sale", DocumentState.DOCUMENTED)

    again = plan(orders, ledger, STORE, statuses=["processing"])
    assert [row["order"] for row in again.already_documented] == [7]
    assert again.already_documented[0]["state"] == "documented"


# --------------------------------------------------------------------------- the try and the link
def test_run_attempt_is_the_dag_runs_clear_number_plus_one():
    from officeguy_woocommerce.app.report_tasks import run_attempt

    assert run_attempt({"dag_run": SimpleNamespace(clear_number=0)}) == 1
    assert run_attempt({"dag_run": SimpleNamespace(clear_number=2)}) == 3
    assert run_attempt({"dag_run": SimpleNamespace(clear_number=None)}) == 1
    assert run_attempt() == 1  # outside a task


class _RunningTi:
    """What the worker hands the link when the report task ends: a task instance with its run's context."""

    def __init__(self, run_id: str, task_id: str, clear_number: int) -> None:
        self.dag_id, self.run_id, self.task_id = ORDERS_DAG, run_id, task_id
        self._context = {"dag_run": SimpleNamespace(clear_number=clear_number)}

    def get_template_context(self):
        return self._context


def test_the_link_opens_the_report_of_the_try_the_task_ran_in(tmp_path, monkeypatch):
    from urllib.parse import quote

    from airflow.models.taskinstancekey import TaskInstanceKey

    from officeguy_woocommerce.app.links import RunReportLink

    monkeypatch.setenv("STOCK_SYNC_REPORTS_DIR", str(tmp_path))
    monkeypatch.delenv("AIRFLOW__API__BASE_URL", raising=False)
    link = RunReportLink()
    base = f"/stock-sync/reports/{ORDERS_DAG}/"
    assert link.get_link(None, ti_key=_RunningTi(RUN_ID, "report", 0)) == base + quote(RUN_ID, safe="")
    assert link.get_link(None, ti_key=_RunningTi(RUN_ID, "report", 1)) == base + quote(f"{RUN_ID}#2", safe="")
    assert link.get_link(None, ti_key=_RunningTi(RUN_ID, "second.report", 2)) == base + quote(
        f"{RUN_ID}~second#3", safe="")
    # a bare key (no running task): the newest try with a report
    key = TaskInstanceKey(dag_id=ORDERS_DAG, task_id="report", run_id=RUN_ID, try_number=1, map_index=-1)
    assert link.get_link(None, ti_key=key) == base + quote(RUN_ID, safe="")
    write_report(tmp_path, ORDERS_DAG, report_name(RUN_ID, 2), "<p>2</p>")
    assert link.get_link(None, ti_key=key) == base + quote(f"{RUN_ID}#2", safe="")
