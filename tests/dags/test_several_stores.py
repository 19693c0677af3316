"""Several stores (STOCK_SYNC_STORES): three WooCommerce stores, two of them on one OfficeGuy company and
the third on a company of its own, through real DAG runs (dag.test) against five sandboxes over HTTP.

- each store's branch writes its own store; one OfficeGuy read per company;
- a sale in one store that OfficeGuy has not documented yet keeps the other store of its company from
  selling the same units (I3 over the company), and not the store of the other company;
- every store's orders are documented exactly once, under a reference that names the store (I1);
- one store's failure fails only its branch, the others write, and the report of each store exists.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from officeguy_woocommerce.officeguy.hooks import OfficeGuyHook
from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook
from tests.helpers import run_dag, state

ORDERS = "woocommerce_orders_to_officeguy"
STOCK = "officeguy_stock_to_woocommerce"
STORES = ("main", "outlet", "eu")
pytestmark = pytest.mark.airflow


@pytest.fixture
def shops(tmp_path, monkeypatch, woo_conn, og_conn, sync_home, airflow_db):
    from airflow.models.pool import Pool
    from airflow.utils.session import create_session

    from sandbox.officeguy.testing import og_sandbox
    from sandbox.woocommerce.testing import woo_sandbox

    monkeypatch.setenv("STOCK_SYNC_STORES", "main,outlet,eu:officeguy_eu")
    with create_session() as session:
        for name in STORES:
            Pool.create_or_update_pool(f"stock_sync_writes_{name}", slots=1, description=f"{name} writers",
                                       include_deferred=False, session=session)
    with woo_sandbox(tmp_path / "main", dataset="demo") as main, \
            woo_sandbox(tmp_path / "outlet", dataset="demo") as outlet, \
            woo_sandbox(tmp_path / "eu", dataset="demo") as eu, \
            og_sandbox(tmp_path / "og", dataset="demo") as company, \
            og_sandbox(tmp_path / "og-eu", dataset="demo") as company_eu:
        for name, sandbox in zip(STORES, (main, outlet, eu), strict=True):
            woo_conn(sandbox, f"woocommerce_{name}")
        og_conn(company)
        og_conn(company_eu, "officeguy_eu")
        yield {"main": main, "outlet": outlet, "eu": eu, "og": company, "og_eu": company_eu}


def _product(store: str, woo_id: int):
    with WooCommerceHook(f"woocommerce_{store}") as hook:
        return hook.get_product(woo_id)


def _og_stock(conn_id: str) -> dict[int, float]:
    with OfficeGuyHook(conn_id) as hook:
        return {int(s.external_identifier): s.stock for s in hook.list_stock() if s.external_identifier.isdigit()}


def _documents(conn_id: str) -> list:
    today = datetime.now(UTC).date()
    with OfficeGuyHook(conn_id) as hook:
        return hook.list_documents(today - timedelta(days=2), today + timedelta(days=2), types=[1])


def _sell(store: str, woo_id: int, quantity: int) -> dict:
    with WooCommerceHook(f"woocommerce_{store}") as hook:
        return hook.request("POST", "/orders", json={
            "set_paid": True, "payment_method": "bacs", "payment_method_title": "Bank transfer",
            "billing": {"first_name": "Dana", "last_name": "Cohen", "email": "dana@example.com"},
            "line_items": [{"product_id": woo_id, "quantity": quantity}]}).json()


def _task_states(dag_run) -> dict[str, str]:
    return {ti.task_id: str(getattr(ti.state, "value", ti.state)) for ti in dag_run.get_task_instances()}


def test_three_stores_two_sharing_a_company_sync_and_document_each_exactly_once(shops):
    # the stores follow their companies
    first = run_dag(STOCK)
    assert state(first) == "success", _task_states(first)
    og_a, og_b = _og_stock("officeguy_default"), _og_stock("officeguy_eu")
    woo_id = next(ext for ext, stock in sorted(og_a.items()) if stock and stock >= 10
                  and _product("main", ext).manage_stock is True and _product("main", ext).type == "simple")
    for store, og in (("main", og_a), ("outlet", og_a), ("eu", og_b)):
        assert _product(store, woo_id).stock_quantity == math.floor(og[woo_id]), store
    tasks = _task_states(first)
    assert {t for t in tasks if t.startswith("extract_officeguy_stock")} == {
        "extract_officeguy_stock_officeguy_default", "extract_officeguy_stock_officeguy_eu"}  # one read a company
    assert {tasks[f"{s}.apply_stock"] for s in STORES} == {"success"}

    # two stores of one company sell the same card; OfficeGuy has no document yet
    assert state(run_dag(ORDERS)) == "success"  # the orders flow has run once: its watermarks are set
    _sell("main", woo_id, 2)
    _sell("outlet", woo_id, 1)
    assert state(run_dag(STOCK)) == "success"
    want = math.floor(og_a[woo_id]) - 3  # both stores' sales, on the company's one stock
    assert _product("main", woo_id).stock_quantity == want
    assert _product("outlet", woo_id).stock_quantity == want
    assert _product("eu", woo_id).stock_quantity == math.floor(og_b[woo_id])  # another company: untouched

    # the orders of every store: one document each, under a reference naming its store
    assert state(run_dag(ORDERS)) == "success"
    assert state(run_dag(ORDERS)) == "success"  # a second run documents nothing again
    docs = _documents("officeguy_default")
    refs = [d.external_reference for d in docs if d.external_reference]
    assert len(refs) == len(set(refs)) == 2, refs
    hosts = {s: shops[s].url.split("://", 1)[1].rstrip("/") for s in ("main", "outlet")}
    assert all(any(hosts[s] in r for r in refs) for s in hosts), (refs, hosts)
    assert not _documents("officeguy_eu")
    assert _og_stock("officeguy_default")[woo_id] == og_a[woo_id] - 3
    assert state(run_dag(STOCK)) == "success"
    assert _product("main", woo_id).stock_quantity == _product("outlet", woo_id).stock_quantity == want


def test_one_stores_failure_fails_only_its_branch(shops, woo_conn):
    og_a = _og_stock("officeguy_default")
    woo_id = next(ext for ext, stock in sorted(og_a.items()) if stock and stock >= 10
                  and _product("main", ext).manage_stock is True and _product("main", ext).type == "simple")
    woo_conn(shops["outlet"], "woocommerce_outlet", key="ck_wrong", secret="cs_wrong")  # the outlet is refused
    with OfficeGuyHook() as hook:
        card = next(s.id for s in hook.list_stock() if s.external_identifier == str(woo_id))
        from tests.helpers import purchase_order

        hook.create_document(purchase_order(card, 5))

    dag_run = run_dag(STOCK)

    tasks = _task_states(dag_run)
    assert state(dag_run) == "failed"
    assert tasks["outlet.extract_woocommerce_products"] == "failed"
    assert tasks["outlet.apply_stock"] in ("upstream_failed", "skipped")
    assert tasks["main.apply_stock"] == tasks["eu.apply_stock"] == "success", tasks
    assert _product("main", woo_id).stock_quantity == math.floor(og_a[woo_id] + 5)
    # the main store's report says whose pending sales it could not count
    from officeguy_woocommerce.include import config
    from officeguy_woocommerce.include.reports import report_path, reports_dir

    folder = reports_dir(config.load())
    for store in STORES:
        page = report_path(folder, STOCK, f"{dag_run.run_id}~{store}")
        assert page.exists(), page
    assert "outlet" in report_path(folder, STOCK, f"{dag_run.run_id}~main").read_text()
