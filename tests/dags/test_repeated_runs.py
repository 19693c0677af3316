"""Reports and ledger rows stay true when a run is repeated: a DAG run cleared and run again (what
``airflow backfill create --reprocess-behavior completed`` does to a completed run) is a new try with
its own ledger row and report; the first try's say what it did. A run refused before go-live still
gets its report, saying why. Real runs (dag.test) against both sandboxes."""

from __future__ import annotations

import importlib
from datetime import UTC, date, datetime, timedelta

import pytest

from officeguy_woocommerce.officeguy.hooks import OfficeGuyHook
from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook
from tests.helpers import state

ORDERS = "woocommerce_orders_to_officeguy"
pytestmark = pytest.mark.airflow


def _module():
    return importlib.reload(importlib.import_module(ORDERS))


def _paid_order(woo_hook) -> dict:
    items = {i.external_identifier for i in OfficeGuyHook().list_income_items()}
    product = next(p for p in woo_hook.list_stock_items()
                   if p.manage_stock is True and p.type == "simple" and (p.stock_quantity or 0) > 3
                   and str(p.id) in items)
    return woo_hook.request("POST", "/orders", json={
        "set_paid": True, "payment_method": "bacs", "billing": {"first_name": "דנה", "email": "dana@example.com"},
        "line_items": [{"product_id": product.id, "quantity": 1}]}).json()


@pytest.fixture
def rerun_cleared(monkeypatch):
    """``dag.test()`` for a logical date that already has a run replaces that run; a real re-run keeps it
    and clears it (Airflow counts ``clear_number`` up, as a backfill reprocessing a completed run does).
    Within this fixture, dag.test does the latter."""
    import airflow.models.dagrun as dagrun_module
    from airflow.utils.state import DagRunState

    original = dagrun_module.get_or_create_dagrun

    def get_or_clear(*, dag, logical_date, session, **kwargs):
        from sqlalchemy import select

        existing = session.scalar(select(dagrun_module.DagRun).where(
            dagrun_module.DagRun.dag_id == dag.dag_id, dagrun_module.DagRun.logical_date == logical_date))
        if existing is None:
            return original(dag=dag, logical_date=logical_date, session=session, **kwargs)
        existing.clear_number += 1  # what clear_task_instances does to the run
        existing.state = DagRunState.RUNNING
        existing.start_date = datetime.now(UTC)
        session.commit()
        existing.dag = dag
        return existing

    monkeypatch.setattr(dagrun_module, "get_or_create_dagrun", get_or_clear)


def _report_states(dag_run) -> dict[str, str]:
    return {ti.task_id: str(getattr(ti.state, "value", ti.state)) for ti in dag_run.get_task_instances()}


def _stored_link(run_id: str) -> str:
    """The "Run report" link the worker stored (as XCom) when the report task ended, as stored."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return str(session.scalar(select(XComModel.value).where(
            XComModel.dag_id == ORDERS, XComModel.run_id == run_id, XComModel.task_id == "report",
            XComModel.key == "_link_RunReportLink")))


def test_a_run_cleared_and_run_again_keeps_each_trys_report_and_row(airflow_db, stores, rerun_cleared):
    from urllib.parse import quote

    from officeguy_woocommerce.app.ledger_connection import get_ledger
    from officeguy_woocommerce.app.links import RunReportLink
    from officeguy_woocommerce.app.reports_app import index_page
    from officeguy_woocommerce.include.reports import report_name, report_path, reports_dir

    order = _paid_order(WooCommerceHook())
    logical_date = datetime.now(UTC).replace(microsecond=0)

    first = _module().dag.test(logical_date=logical_date, run_conf={"order_ids": [order["id"]]})
    assert state(first) == "success"
    second = _module().dag.test(logical_date=logical_date, run_conf={"order_ids": [order["id"]]})
    assert state(second) == "success"
    assert second.run_id == first.run_id and second.clear_number == 1

    run_id = first.run_id
    tries = sorted(get_ledger().runs(flow="orders", dag_id=ORDERS, run_id=run_id), key=lambda r: r.attempt)
    assert [r.attempt for r in tries] == [1, 2]
    assert tries[0].counts["created"] == 1 and tries[0].counts["already_documented"] == 0
    assert tries[1].counts["created"] == 0 and tries[1].counts["already_documented"] == 1
    assert tries[0].finished_at <= tries[1].started_at  # each try's duration is its own

    folder = reports_dir()
    page_1 = report_path(folder, ORDERS, report_name(run_id, 1)).read_text()
    page_2 = report_path(folder, ORDERS, report_name(run_id, 2)).read_text()
    assert '<b>1</b><span>documents created</span>' in page_1
    assert '<b>0</b><span>already documented</span>' in page_1
    assert '<b>0</b><span>documents created</span>' in page_2
    assert '<b>1</b><span>already documented</span>' in page_2 and "<dt>Try</dt>" in page_2

    index = index_page({ORDERS}).body.decode()
    assert f'href="{ORDERS}/{quote(run_id, safe="")}"' in index
    assert f'href="{ORDERS}/{quote(run_id + "#2", safe="")}"' in index and f"{run_id} (try 2)" in index

    # the "Run report" link the worker stored when the second try's report task ended opens that try's page
    newest = f"/stock-sync/reports/{ORDERS}/{quote(run_id + '#2', safe='')}"
    assert newest in _stored_link(run_id)
    from airflow.models.taskinstancekey import TaskInstanceKey

    key = TaskInstanceKey(dag_id=ORDERS, task_id="report", run_id=run_id, try_number=2, map_index=-1)
    assert RunReportLink().get_link(None, ti_key=key).endswith(newest)
    assert len([d for d in OfficeGuyHook().list_documents(date.today() - timedelta(days=2),
                                                         date.today() + timedelta(days=2), types=[1])
                if d.external_reference.endswith(f":{order['id']}")]) == 1


def test_a_run_refused_before_go_live_writes_its_report_with_the_reason(airflow_db, stores, monkeypatch):
    from officeguy_woocommerce.app.ledger_connection import get_ledger
    from officeguy_woocommerce.include.reports import report_path, reports_dir

    monkeypatch.setenv("STOCK_SYNC_GO_LIVE", (date.today() + timedelta(days=30)).isoformat())
    dag = _module().dag
    # A backfill's runs get their tasks before the DAG's start date (the go-live day); a manual run's
    # would not: start the tasks earlier so that this manual run over a window before go-live runs them.
    earlier = datetime(2020, 1, 1, tzinfo=UTC)
    for task in dag.tasks:
        task.start_date = earlier

    run = dag.test(logical_date=datetime.now(UTC).replace(microsecond=0))

    assert state(run) == "failed"
    states = _report_states(run)
    assert states["orders_window"] == "failed" and states["report"] in ("success", "failed")
    page = report_path(reports_dir(), ORDERS, run.run_id).read_text()
    assert "before the go-live date" in page
    (row,) = get_ledger().runs(flow="orders", dag_id=ORDERS, run_id=run.run_id)
    assert row.status == "failed" and "before the go-live date" in row.message and row.finished_at is not None
