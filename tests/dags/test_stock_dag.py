"""The stock DAG end to end: real Airflow runs (dag.test) against both sandboxes over HTTP."""

from __future__ import annotations

import math

import pytest

from officeguy_woocommerce.officeguy.hooks import OfficeGuyHook
from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook
from tests.helpers import purchase_order, run_dag, sale
from tests.helpers import state as _state

DAG_ID = "officeguy_stock_to_woocommerce"
pytestmark = pytest.mark.airflow


def _woo_by_id() -> dict:
    return {p.id: p for p in WooCommerceHook().list_stock_items()}


def _og_by_ext() -> dict:
    return {int(s.external_identifier): s for s in OfficeGuyHook().list_stock() if s.external_identifier.isdigit()}


def test_the_dag_imports_with_its_params_and_pool():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag()
    assert not bag.import_errors, bag.import_errors
    dag = bag.dags[DAG_ID]
    assert dag.max_active_runs == 1 and dag.catchup is False
    assert set(dag.params) == {"dry_run", "skus", "force", "full_read"}
    assert dag.get_task("apply_stock").pool == "stock_sync_writes"
    assert [t.task_id for t in dag.topological_sort()][-1] == "report"


def test_a_purchase_order_reaches_the_store_and_a_second_run_writes_nothing(airflow_db, stores):
    woo, og = stores
    og_hook = OfficeGuyHook()
    target = next(s for s in og_hook.list_stock() if s.external_identifier.isdigit()
                  and _woo_by_id()[int(s.external_identifier)].manage_stock is True)
    woo_id = int(target.external_identifier)
    og_hook.create_document(purchase_order(target.id, 15))

    first = run_dag(DAG_ID)

    assert _state(first) == "success"
    og_now = _og_by_ext()
    woo_now = _woo_by_id()
    assert woo_now[woo_id].stock_quantity == math.floor(target.stock + 15)
    # every matched managed product now equals OfficeGuy (nothing pending yet: I3 trivially)
    for ext, item in og_now.items():
        product = woo_now.get(ext)
        if product is not None and product.manage_stock is True and item.stock is not None:
            assert product.stock_quantity == math.floor(item.stock), product

    woo.reset_stats()
    second = run_dag(DAG_ID)
    assert _state(second) == "success"
    assert not any("batch" in kind or kind.startswith("PUT") for kind in woo.stats()), woo.stats()


def test_a_dry_run_writes_nothing_but_records_the_plan(airflow_db, stores):
    woo, og = stores
    before = {p.id: (p.stock_quantity, p.stock_status) for p in _woo_by_id().values()}
    woo.reset_stats()

    dag_run = run_dag(DAG_ID, dry_run=True)

    assert _state(dag_run) == "success"
    assert not any("batch" in kind for kind in woo.stats())
    assert {p.id: (p.stock_quantity, p.stock_status) for p in _woo_by_id().values()} == before
    from officeguy_woocommerce.app.ledger_connection import get_ledger

    run = get_ledger().runs(flow="stock")[0]
    assert run.status == "dry_run" and run.counts["changed"] > 0
    outcomes = {c.outcome for c in get_ledger().changes(run_pk=run.id)}
    assert outcomes == {"dry_run"}


def test_skus_param_limits_the_run(airflow_db, stores):
    woo, og = stores
    woo_items = _woo_by_id()
    changed_sku = None
    for ext, item in _og_by_ext().items():
        p = woo_items.get(ext)
        if p and p.manage_stock is True and p.sku and p.stock_quantity != math.floor(item.stock):
            changed_sku = p.sku
            break
    assert changed_sku, "the demo catalogue has drift to sync"

    dag_run = run_dag(DAG_ID, skus=[changed_sku])

    assert _state(dag_run) == "success"
    from officeguy_woocommerce.app.ledger_connection import get_ledger

    run = get_ledger().runs(flow="stock")[0]
    assert [c.sku for c in get_ledger().changes(run_pk=run.id)] == [changed_sku]


@pytest.mark.parametrize("stores", ["empty"], indirect=True)
def test_the_brake_stops_a_mass_zeroing_and_force_passes_it(airflow_db, stores):
    woo, og = stores
    woo_hook, og_hook = WooCommerceHook(), OfficeGuyHook()
    made = woo_hook.batch("/products", create=[
        {"name": f"מוצר {i}", "sku": f"B-{i}", "regular_price": "10", "manage_stock": True, "stock_quantity": 8}
        for i in range(10)
    ]).created
    for product in made:
        item_id = og_hook.create_income_item(name=product["name"], sku=product["sku"],
                                             external_identifier=str(product["id"]), price=10)
        og_hook.create_document(purchase_order(item_id, 8))
    assert _state(run_dag(DAG_ID)) == "success"  # in sync: nothing to write
    for item in og_hook.list_stock()[:9]:
        og_hook.create_document(sale(item.id, 8, f"zero-{item.id}"))  # 9 of 10 products to 0
    woo.reset_stats()

    blocked = run_dag(DAG_ID)

    assert _state(blocked) == "failed"
    assert not any("batch" in kind for kind in woo.stats())
    from officeguy_woocommerce.app.ledger_connection import get_ledger

    run = get_ledger().runs(flow="stock")[0]
    assert run.status == "blocked"
    assert "force" in run.message and "Safety brake" in run.message
    assert {p.stock_quantity for p in woo_hook.list_products()} == {8}

    forced = run_dag(DAG_ID, force=True)

    assert _state(forced) == "success"
    assert sorted(p.stock_quantity for p in woo_hook.list_products()) == [0] * 9 + [8]


def test_an_empty_stock_list_is_braked(airflow_db, tmp_path, woo_conn, og_conn, sync_home):
    from sandbox.officeguy.testing import og_sandbox
    from sandbox.woocommerce.testing import woo_sandbox

    with woo_sandbox(tmp_path / "w", dataset="demo") as woo, og_sandbox(tmp_path / "o") as og:
        woo_conn(woo)
        og_conn(og)
        dag_run = run_dag(DAG_ID)
        assert _state(dag_run) == "failed"
        assert not any("batch" in kind for kind in woo.stats())
    from officeguy_woocommerce.app.ledger_connection import get_ledger

    assert "no stock items" in get_ledger().runs(flow="stock")[0].message


@pytest.mark.postgres
def test_the_ledger_on_postgresql(airflow_db, stores, postgres_url, monkeypatch):
    import json

    from officeguy_woocommerce.app import ledger_connection as ledger_module

    monkeypatch.setenv("AIRFLOW_CONN_STOCK_SYNC_DB", json.dumps({"conn_type": "generic", "extra": {
        "sqlalchemy_url": postgres_url}}))
    ledger_module._ledger.cache_clear()

    assert _state(run_dag(DAG_ID)) == "success"

    ledger = ledger_module.get_ledger()
    assert ledger.engine.dialect.name == "postgresql"
    run = ledger.runs(flow="stock")[0]
    assert run.status == "succeeded"
    changes = ledger.changes(run_pk=run.id)
    assert changes and {c.outcome for c in changes} == {"applied"}
    assert len(changes) == run.counts["changed"]


def _read_of(run) -> dict:
    """How the run's Woo extract read the store (its staged output's ``read``)."""
    import json
    import os
    from pathlib import Path

    from officeguy_woocommerce.include.staging import Stage

    path = Stage(Path(os.environ["STOCK_SYNC_HOME"]), DAG_ID, run.run_id).path("woo_products")
    return json.loads(Path(path).read_text(encoding="utf-8"))["read"]


def test_a_triggered_run_reads_only_what_the_store_saved_since_the_last_read(airflow_db, stores):
    """The first run reads the whole store; a triggered run after it re-reads only the products saved since
    (a purchase order in OfficeGuy changes nothing there; a merchant's edit of a variation saves it and its
    parent; an edit of a simple product), writes what differs, and a full read right after it finds nothing
    left to write: the incremental read saw what a full one sees. The store's clock is moved two minutes
    before each run (within OAuth's 15-minute window), past the cursor's one-minute margin."""
    import time

    woo, og = stores
    hook, og_hook = WooCommerceHook(), OfficeGuyHook()
    offset = [0.0]
    woo.app.state.store.clock = lambda: time.time() + offset[0]

    def run(**conf):
        offset[0] += 120
        woo.reset_stats()
        dag_run = run_dag(DAG_ID, **conf)
        assert _state(dag_run) == "success"
        return _read_of(dag_run), woo.stats()

    first, _ = run()
    assert first["mode"] == "full" and "no earlier read" in first["reason"]
    second, _ = run()  # re-reads what the first run wrote, and nothing else
    assert second["mode"] == "incremental"

    items = _woo_by_id()
    og_cards = _og_by_ext()
    simple = next(p for p in items.values() if p.type == "simple" and p.manage_stock is True and p.id in og_cards
                  and og_cards[p.id].stock is not None)
    other = next(p for p in items.values() if p.type == "simple" and p.manage_stock is True and p.id in og_cards
                 and og_cards[p.id].stock is not None and p.id != simple.id)
    variation = next(p for p in items.values() if p.type == "variation" and p.manage_stock is True
                     and p.id in og_cards and og_cards[p.id].stock is not None)
    og_hook.create_document(purchase_order(og_cards[simple.id].id, 7))
    hook.request("PUT", f"/products/{variation.parent_id}/variations/{variation.id}",
                 json={"stock_quantity": (variation.stock_quantity or 0) + 40})
    hook.request("PUT", f"/products/{other.id}", json={"stock_quantity": (other.stock_quantity or 0) + 3})

    third, calls = run()
    # the edited simple product and the variation's parent; the purchase order changed only OfficeGuy
    assert third["mode"] == "incremental" and third["changed"] == 2 and third["trashed"] == 0, third
    assert calls.get("GET /products") == 2 and calls.get("GET /products/{id}/variations") == 1, calls
    after = _woo_by_id()
    assert after[simple.id].stock_quantity == math.floor(og_cards[simple.id].stock + 7)
    assert after[variation.id].stock_quantity == math.floor(og_cards[variation.id].stock)
    assert after[other.id].stock_quantity == math.floor(og_cards[other.id].stock)

    fourth, calls = run(full_read=True)
    assert fourth == {**fourth, "mode": "full", "reason": "a full read was asked for"}
    assert not any("batch" in kind or kind.startswith("PUT") for kind in calls), calls

    # each run's report says how it read the store
    import os
    from pathlib import Path

    pages = [p.read_text(encoding="utf-8") for p in (Path(os.environ["STOCK_SYNC_HOME"]) / "reports").rglob("*.html")]
    assert sum("<dt>Store read</dt><dd>only what the store saved since" in p for p in pages) == 2
    assert sum("<dd>the whole store (a full read was asked for)</dd>" in p for p in pages) == 1
    assert sum("<dd>the whole store (there is no earlier read of this store to start from)</dd>" in p
               for p in pages) == 1


@pytest.mark.parametrize(("run_type", "full_read", "incremental"), [
    ("manual", False, True), ("manual", True, False), ("scheduled", False, False), ("backfill", False, False),
    ("asset_triggered", False, False)])
def test_only_a_triggered_run_reads_incrementally(run_type, full_read, incremental):
    """The DAG's template decides per run: a triggered ("manual") run without ``full_read`` reads what changed;
    every scheduled run reads the whole store (and catches what an incremental read cannot see)."""
    from types import SimpleNamespace

    from airflow.dag_processing.dagbag import DagBag
    from jinja2 import Environment

    task = DagBag().dags[DAG_ID].get_task("extract_woocommerce_products")
    rendered = Environment().from_string(task.incremental).render(
        dag_run=SimpleNamespace(run_type=run_type), params={"full_read": full_read})
    assert rendered == str(incremental)
