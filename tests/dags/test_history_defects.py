"""Issue 9's defects, each as the real DAG runs that reproduced it (dag.test against both sandboxes).

1 a manual orders run lost orders modified before its inferred data interval; 2 a passing failure
parked an order for good, and naming it in ``order_ids`` did nothing; 3 a refund on an order the
official plugin documented was never credited; 4 a failed write-back was never retried, and a lost
ledger gave a second document; 5 a restocking refund was undone in the store by the next stock sync.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from officeguy_woocommerce.officeguy.hooks import OfficeGuyHook
from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook
from tests.dags.test_orders_dag import ORDERS, STOCK, _catalogue_picks, _documents, _paid_order
from tests.helpers import run_dag, state

pytestmark = pytest.mark.airflow


def _ledger():
    from officeguy_woocommerce.app.ledger_connection import get_ledger

    return get_ledger()


def _rows(order_id):
    hook = WooCommerceHook()
    hook.get_conn()
    return {r.doc_key: r for r in _ledger().documents(hook.base_url, order_ids=[order_id])}


def _references(order_id) -> list:
    return [d for d in _documents(types=(0, 1, 2)) if d.external_reference.endswith(f":{order_id}")]


def test_a_manual_run_documents_an_order_modified_an_hour_before_it(airflow_db, stores):
    woo, og = stores
    woo_hook = WooCommerceHook()
    with_ext, *_ = _catalogue_picks(woo_hook, OfficeGuyHook())
    # the orders flow ran an hour and a half ago: its watermark is there
    woo_hook.get_conn()
    _ledger().move_watermark("orders", woo_hook.base_url, datetime.now(UTC) - timedelta(minutes=90))
    order = _paid_order(woo_hook, [{"product_id": with_ext.id, "quantity": 1}])
    # the order was modified an hour ago: outside the 15 minutes Airflow infers for a manual run
    hour_ago = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")  # the store's format
    woo.in_store(lambda conn: _set_modified(conn, order["id"], hour_ago))

    assert state(run_dag(ORDERS)) == "success"

    assert len(_references(order["id"])) == 1
    assert _rows(order["id"])["sale"].state == "documented"


def _set_modified(conn, order_id, gmt):
    from sqlalchemy import update

    from sandbox.woocommerce.store import orders

    conn.execute(update(orders).where(orders.c.id == order_id).values(modified_gmt=gmt, modified_local=gmt))


def test_a_card_that_failed_once_does_not_park_its_order(airflow_db, stores):
    woo, og = stores
    woo_hook = WooCommerceHook()
    _, _, no_card, _, _ = _catalogue_picks(woo_hook, OfficeGuyHook())
    order = _paid_order(woo_hook, [{"product_id": no_card.id, "quantity": 1}])
    og.arm_fault(kind="status", status=500, path="/accounting/incomeitems/create/", times=20)

    run = run_dag(ORDERS)
    assert state(run) == "failed"  # it waits for a retry: the report says so
    assert _rows(order["id"])["sale"].state == "failed"  # not parked

    og.clear_faults()
    assert state(run_dag(ORDERS)) == "success"
    assert _rows(order["id"])["sale"].state == "documented"
    assert len(_references(order["id"])) == 1


def test_an_outage_longer_than_max_attempts_never_parks_and_order_ids_retries_a_parked_order(
        airflow_db, stores, monkeypatch):
    woo, og = stores
    monkeypatch.setenv("STOCK_SYNC_MAX_ATTEMPTS", "1")
    woo_hook = WooCommerceHook()
    with_ext, *_ = _catalogue_picks(woo_hook, OfficeGuyHook())
    order = _paid_order(woo_hook, [{"product_id": with_ext.id, "quantity": 1}])
    og.arm_fault(kind="status", status=503, path="/accounting/documents/create/", times=1000)
    for _ in range(3):  # three runs through the outage
        assert state(run_dag(ORDERS)) == "failed"
        assert _rows(order["id"])["sale"].state == "failed"
    og.clear_faults()
    assert state(run_dag(ORDERS)) == "success"
    assert len(_references(order["id"])) == 1

    # an order parked for a refusal is retried when a person names it in order_ids
    second = _paid_order(woo_hook, [{"product_id": with_ext.id, "quantity": 1}])
    woo_hook.get_conn()
    store = woo_hook.base_url
    _ledger().ensure_documents([{"store": store, "woo_order_id": second["id"], "doc_key": "sale",
                                 "external_reference": f"woo:x:{second['id']}", "state": "parked",
                                 "last_error": "refused by OfficeGuy", "order_modified_gmt":
                                 second["date_modified_gmt"]}])
    assert state(run_dag(ORDERS, order_ids=[second["id"]])) == "success"
    assert _rows(second["id"])["sale"].state == "documented"


def test_a_refund_on_an_order_the_plugin_documented_is_credited(airflow_db, stores):
    woo, og = stores
    woo_hook, og_hook = WooCommerceHook(), OfficeGuyHook()
    with_ext, *_ = _catalogue_picks(woo_hook, og_hook)
    # the plugin's document exists in OfficeGuy (a real sale document) and its id is on the order
    plugin_doc = og_hook.create_document({
        "Details": {"Type": 1, "Customer": {"Name": "Plugin customer"}},
        "Items": [{"Quantity": 2, "UnitPrice": 20.0, "Item": {"Name": "Plugin line", "SearchMode": 0}}],
        "Payments": [{"Amount": 40.0, "Details_Other": {"Type": "WooCommerce", "Description": "x"}}],
        "VATIncluded": True})
    order = _paid_order(woo_hook, [{"product_id": with_ext.id, "quantity": 2}],
                        meta_data=[{"key": "OfficeGuyDocumentID", "value": str(plugin_doc.document_id)}])
    assert state(run_dag(ORDERS)) == "success"
    line = order["line_items"][0]
    woo_hook.request("POST", f"/orders/{order['id']}/refunds", json={
        "amount": line["total"], "api_refund": False,
        "line_items": [{"id": line["id"], "quantity": 2, "refund_total": line["total"]}]})

    assert state(run_dag(ORDERS)) == "success"

    credits = [d for d in _documents(types=(6,)) if f":{order['id']}:refund:" in d.external_reference]
    assert len(credits) == 1
    assert abs(credits[0].value) == pytest.approx(float(line["total"]))


def test_a_failed_write_back_is_retried_and_a_lost_ledger_makes_no_second_document(airflow_db, stores, sync_home):
    woo, og = stores
    woo_hook = WooCommerceHook()
    with_ext, *_ = _catalogue_picks(woo_hook, OfficeGuyHook())
    order = _paid_order(woo_hook, [{"product_id": with_ext.id, "quantity": 1}])
    woo.arm_fault(kind="status", status=500, method="PUT", path=f"/orders/{order['id']}", times=50)

    assert state(run_dag(ORDERS)) == "failed"  # documented, but the store was not told
    assert _rows(order["id"])["sale"].written_back is False
    woo.clear_faults()
    assert state(run_dag(ORDERS)) == "success"  # the write-back is retried though the order did not change
    meta = {m["key"]: m["value"] for m in woo_hook.get_order(order["id"])["meta_data"]}
    assert meta.get("OfficeGuyDocumentID")

    # the ledger is lost while the order carries no document id (its write-back never happened)
    woo_hook.update_order(order["id"], {"meta_data": [{"key": "OfficeGuyDocumentID", "value": ""}]})
    from officeguy_woocommerce.app import ledger_connection as ledger_module

    ledger_module._ledger.cache_clear()
    for path in sync_home.glob("ledger.sqlite*"):
        path.unlink()
    assert state(run_dag(ORDERS, order_ids=[order["id"]])) == "success"
    assert len(_references(order["id"])) == 1  # found by its reference, not created again
    assert _rows(order["id"])["sale"].state == "documented"


def test_a_restocking_refund_is_not_undone_by_the_next_stock_sync(airflow_db, stores):
    woo, og = stores
    woo_hook, og_hook = WooCommerceHook(), OfficeGuyHook()
    assert state(run_dag(ORDERS)) == "success"
    assert state(run_dag(STOCK)) == "success"
    with_ext, _, _, by_ext, _ = _catalogue_picks(woo_hook, og_hook)
    order = _paid_order(woo_hook, [{"product_id": with_ext.id, "quantity": 3}])
    assert state(run_dag(ORDERS)) == "success"
    assert state(run_dag(STOCK)) == "success"
    sold = woo_hook.get_product(with_ext.id).stock_quantity
    line = order["line_items"][0]
    woo_hook.request("POST", f"/orders/{order['id']}/refunds", json={
        "amount": line["total"], "api_refund": False, "api_restock": True,
        "line_items": [{"id": line["id"], "quantity": 3, "refund_total": line["total"]}]})
    assert woo_hook.get_product(with_ext.id).stock_quantity == sold + 3  # Woo restocked

    assert state(run_dag(STOCK)) == "success"  # before the credit reached OfficeGuy
    assert woo_hook.get_product(with_ext.id).stock_quantity == sold + 3  # kept, not the stale figure

    assert state(run_dag(ORDERS)) == "success"  # the credit returns the units in OfficeGuy
    assert state(run_dag(STOCK)) == "success"
    og_now = {s.id: s.stock for s in og_hook.list_stock()}[by_ext[with_ext.id].id]
    assert woo_hook.get_product(with_ext.id).stock_quantity == int(og_now) == sold + 3


def test_a_refund_after_a_lost_ledger_is_still_credited(airflow_db, stores, sync_home):
    woo, og = stores
    woo_hook = WooCommerceHook()
    with_ext, *_ = _catalogue_picks(woo_hook, OfficeGuyHook())
    order = _paid_order(woo_hook, [{"product_id": with_ext.id, "quantity": 1}])
    woo.arm_fault(kind="status", status=500, method="PUT", path=f"/orders/{order['id']}", times=50)
    run_dag(ORDERS)  # documented; the store is never told
    woo.clear_faults()
    from officeguy_woocommerce.app import ledger_connection as ledger_module

    ledger_module._ledger.cache_clear()
    for path in sync_home.glob("ledger.sqlite*"):
        path.unlink()
    line = order["line_items"][0]
    woo_hook.request("POST", f"/orders/{order['id']}/refunds", json={
        "amount": line["total"], "api_refund": False,
        "line_items": [{"id": line["id"], "quantity": 1, "refund_total": line["total"]}]})
    run_dag(ORDERS)
    run_dag(ORDERS)
    credits = [d for d in _documents(types=(6,)) if f":{order['id']}:refund:" in d.external_reference]
    assert len(credits) == 1
