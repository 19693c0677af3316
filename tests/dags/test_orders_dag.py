"""The orders DAG end to end: real Airflow runs (dag.test) against both sandboxes over HTTP.

Invariants: I1 exactly one document per order across retries, faults and overlapping runs;
I2 nothing lost; I3 pending stock; I7 bad input parked with a reason, the rest goes on."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from officeguy_woocommerce.officeguy.hooks import OfficeGuyHook
from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook
from tests.helpers import run_dag, state

ORDERS = "woocommerce_orders_to_officeguy"
STOCK = "officeguy_stock_to_woocommerce"
pytestmark = pytest.mark.airflow


def _today():
    return datetime.now(UTC).date()


def _documents(types=(1,)):
    hook = OfficeGuyHook()
    return [d for d in hook.list_documents(_today() - timedelta(days=2), _today() + timedelta(days=2),
                                           types=list(types))]


def _by_reference(docs) -> dict[str, list]:
    out: dict[str, list] = {}
    for d in docs:
        out.setdefault(d.external_reference, []).append(d)
    return out


def _paid_order(woo_hook, lines, **extra) -> dict:
    body = {"set_paid": True, "payment_method": "bacs", "payment_method_title": "העברה בנקאית",
            "billing": {"first_name": "דנה", "last_name": "כהן", "email": "dana@example.com", "city": "תל אביב"},
            "line_items": lines, **extra}
    return woo_hook.request("POST", "/orders", json=body).json()


def _catalogue_picks(woo_hook, og_hook):
    """A product matched by ExternalIdentifier, one matched only by SKU, one without any card."""
    products = {p.id: p for p in woo_hook.list_stock_items()}
    items = og_hook.list_income_items()
    by_ext = {int(i.external_identifier): i for i in items if i.external_identifier.isdigit()}
    by_sku = {i.sku: i for i in items if i.sku}
    managed = [p for p in products.values() if p.manage_stock is True and p.type == "simple" and (p.stock_quantity or 0) > 3]
    with_ext = next(p for p in managed if p.id in by_ext)
    with_sku = next(p for p in managed if p.id not in by_ext and p.sku in by_sku)
    carded = {int(i.external_identifier) for i in items if i.external_identifier.isdigit()} | {
        p.id for p in products.values() if p.sku in by_sku}
    no_card = next(p for p in managed if p.id not in carded)
    return with_ext, with_sku, no_card, by_ext, by_sku


def test_paid_orders_become_documents_once_with_cards_and_stock(airflow_db, stores):
    woo, og = stores
    woo_hook, og_hook = WooCommerceHook(), OfficeGuyHook()
    with_ext, with_sku, no_card, by_ext, by_sku = _catalogue_picks(woo_hook, og_hook)
    og_before = {s.id: s.stock for s in og_hook.list_stock()}
    first = _paid_order(woo_hook, [{"product_id": with_ext.id, "quantity": 2}, {"product_id": with_sku.id, "quantity": 1}],
                        shipping_lines=[{"method_id": "flat_rate", "method_title": "משלוח", "total": "30.00"}])
    second = _paid_order(woo_hook, [{"product_id": no_card.id, "quantity": 3}])

    run = run_dag(ORDERS)

    assert state(run) == "success"
    docs = _by_reference(_documents())
    refs = {o["id"]: next(r for r in docs if r.endswith(f":{o['id']}")) for o in (first, second)}
    assert all(len(docs[refs[o]]) == 1 for o in refs)
    details = og_hook.get_document(docs[refs[first["id"]]][0].document_id)
    lines = details["Items"]
    assert [(round(line["Quantity"]), line["Item"]["ID"]) for line in lines[:2]] == [
        (2, by_ext[with_ext.id].id), (1, by_sku[with_sku.sku].id)]
    # the document's value in its own currency (UnitPrice is ILS; the demo store sells in its currency)
    assert math.isclose(details["Document"]["DocumentValue"], float(first["total"]), abs_tol=0.001)
    key = "UnitPrice" if first["currency"] == "ILS" else "DocumentCurrency_UnitPrice"
    assert math.isclose(sum(line["Quantity"] * line[key] for line in lines), float(first["total"]), abs_tol=0.01)
    # a card was made for the product OfficeGuy did not know, carrying the Woo id
    card = [i for i in og_hook.list_income_items() if i.external_identifier == str(no_card.id)]
    assert len(card) == 1
    og_after = {s.id: s.stock for s in og_hook.list_stock()}
    assert og_after[by_ext[with_ext.id].id] == og_before[by_ext[with_ext.id].id] - 2
    assert og_after[card[0].id] == -3  # a new card starts at 0 and the sale deducts it
    # the store learns the document number
    order = woo_hook.get_order(first["id"])
    meta = {m["key"]: m["value"] for m in order["meta_data"]}
    assert meta["OfficeGuyDocumentID"] == str(docs[refs[first["id"]]][0].document_id)
    notes = woo_hook.request("GET", f"/orders/{first['id']}/notes").json()
    assert any("OfficeGuy" in n["note"] for n in notes)

    again = run_dag(ORDERS)

    assert state(again) == "success"
    assert len(_documents()) == 2
    assert len([i for i in og_hook.list_income_items() if i.external_identifier == str(no_card.id)]) == 1


@pytest.mark.parametrize("fault", [
    {"kind": "drop"},
    {"kind": "timeout", "seconds": 2.5},
    {"kind": "error_after", "status": 502},
    {"kind": "status", "status": 403, "body": ""},
    {"kind": "status", "status": 500, "body": "oops"},
])
def test_faults_on_document_create_still_give_exactly_one_document(airflow_db, stores, og_conn, fault):
    woo, og = stores
    og_conn(og, timeout=1, rate_limit_hold_seconds=0.2)
    woo_hook = WooCommerceHook()
    with_ext, *_ = _catalogue_picks(woo_hook, OfficeGuyHook())
    orders = [_paid_order(woo_hook, [{"product_id": with_ext.id, "quantity": 1}]) for _ in range(2)]
    og.arm_fault(path="documents/create", times=1, **fault)

    runs = [run_dag(ORDERS)]
    if state(runs[0]) != "success":
        runs.append(run_dag(ORDERS))  # what the next scheduled run does

    assert state(runs[-1]) == "success"
    docs = _by_reference(_documents())
    for order in orders:
        matching = [ref for ref in docs if ref.endswith(f":{order['id']}")]
        assert len(matching) == 1 and len(docs[matching[0]]) == 1, (fault, docs)


def test_a_task_killed_between_claim_and_record_is_recovered_without_a_duplicate(airflow_db, stores):
    from officeguy_woocommerce.app.ledger_connection import get_ledger
    from officeguy_woocommerce.include.documents import external_reference

    woo, og = stores
    woo_hook, og_hook = WooCommerceHook(), OfficeGuyHook()
    with_ext, _, _, by_ext, _ = _catalogue_picks(woo_hook, og_hook)
    order = _paid_order(woo_hook, [{"product_id": with_ext.id, "quantity": 1}])
    woo_hook.get_conn()
    store = woo_hook.base_url
    ledger = get_ledger()
    ledger.ensure_documents([{"store": store, "woo_order_id": order["id"], "doc_key": "sale",
                              "external_reference": external_reference(store, order["id"])}])
    assert ledger.claim_document(store, order["id"], "sale", "a-worker-that-dies") is not None
    # the dead worker's call reached OfficeGuy before it died
    og_hook.create_document({
        "Details": {"Type": 1, "Customer": {"Name": "Guest"}, "ExternalReference": external_reference(store, order["id"]),
                    "Date": _today().isoformat()},
        "Items": [{"Quantity": 1, "UnitPrice": float(order["total"]), "Item": {"ID": by_ext[with_ext.id].id}}],
        "Payments": [{"Amount": float(order["total"]), "Details_Other": {"Type": "x", "Description": "x"}}],
        "VATIncluded": True,
    })
    import sqlalchemy as sa

    with ledger.engine.begin() as conn:  # the claim's lease runs out
        conn.execute(sa.text("UPDATE order_documents SET claimed_at = :t"), {"t": datetime.now(UTC) - timedelta(hours=1)})

    assert state(run_dag(ORDERS)) == "success"

    docs = _by_reference(_documents())
    assert len(docs[external_reference(store, order["id"])]) == 1
    row = ledger.documents(store, order_ids=[order["id"]])[0]
    assert row.state == "documented" and row.og_document_id == docs[external_reference(store, order["id"])][0].document_id


def test_a_line_without_product_parks_that_order_and_the_others_go_on(airflow_db, stores):
    from officeguy_woocommerce.app.ledger_connection import get_ledger

    woo, og = stores
    woo_hook = WooCommerceHook()
    with_ext, *_ = _catalogue_picks(woo_hook, OfficeGuyHook())
    good = _paid_order(woo_hook, [{"product_id": with_ext.id, "quantity": 1}])
    bad = _paid_order(woo_hook, [{"product_id": 99999999, "quantity": 1}])  # Woo keeps it with product_id 0 (A5)

    run = run_dag(ORDERS)

    assert state(run) == "failed"  # a parked order needs a person: the run says so
    docs = _by_reference(_documents())
    assert any(ref.endswith(f":{good['id']}") for ref in docs)
    assert not any(ref.endswith(f":{bad['id']}") for ref in docs)
    woo_hook.get_conn()
    row = get_ledger().documents(woo_hook.base_url, order_ids=[bad["id"]])[0]
    assert row.state == "parked" and "product" in row.last_error


def test_an_order_cancelled_before_it_was_documented_is_not_documented(airflow_db, stores):
    woo, og = stores
    woo_hook = WooCommerceHook()
    with_ext, *_ = _catalogue_picks(woo_hook, OfficeGuyHook())
    order = _paid_order(woo_hook, [{"product_id": with_ext.id, "quantity": 1}])
    woo_hook.update_order(order["id"], {"status": "cancelled"})

    assert state(run_dag(ORDERS)) == "success"
    assert not any(ref.endswith(f":{order['id']}") for ref in _by_reference(_documents()))


def test_a_refund_after_the_document_gets_one_credit_document_that_returns_stock(airflow_db, stores):
    woo, og = stores
    woo_hook, og_hook = WooCommerceHook(), OfficeGuyHook()
    with_ext, _, _, by_ext, _ = _catalogue_picks(woo_hook, og_hook)
    order = _paid_order(woo_hook, [{"product_id": with_ext.id, "quantity": 3}])
    assert state(run_dag(ORDERS)) == "success"
    stock_after_sale = {s.id: s.stock for s in og_hook.list_stock()}[by_ext[with_ext.id].id]
    line = order["line_items"][0]
    unit = float(line["total"]) / 3
    woo_hook.request("POST", f"/orders/{order['id']}/refunds", json={
        "amount": f"{unit:.2f}", "reason": "פגום", "api_refund": False,
        "line_items": [{"id": line["id"], "quantity": 1, "refund_total": f"{unit:.2f}"}]})

    assert state(run_dag(ORDERS)) == "success"
    assert state(run_dag(ORDERS)) == "success"

    credits = _documents(types=(6,))
    assert len(credits) == 1
    assert {s.id: s.stock for s in og_hook.list_stock()}[by_ext[with_ext.id].id] == stock_after_sale + 1


def test_pending_stock_keeps_a_sale_between_runs_then_store_equals_officeguy(airflow_db, stores):
    woo, og = stores
    woo_hook, og_hook = WooCommerceHook(), OfficeGuyHook()
    assert state(run_dag(ORDERS)) == "success"  # the orders flow has run: its watermark is set
    assert state(run_dag(STOCK)) == "success"  # the store follows OfficeGuy
    with_ext, _, _, by_ext, _ = _catalogue_picks(woo_hook, og_hook)
    og_stock = {s.id: s.stock for s in og_hook.list_stock()}[by_ext[with_ext.id].id]
    before = woo_hook.get_product(with_ext.id).stock_quantity
    assert before == math.floor(og_stock)
    _paid_order(woo_hook, [{"product_id": with_ext.id, "quantity": 2}])  # paid after the last orders run
    assert woo_hook.get_product(with_ext.id).stock_quantity == before - 2

    assert state(run_dag(STOCK)) == "success"
    assert woo_hook.get_product(with_ext.id).stock_quantity == before - 2  # not overwritten by the stale figure

    assert state(run_dag(ORDERS)) == "success"
    assert state(run_dag(STOCK)) == "success"
    og_now = {s.id: s.stock for s in og_hook.list_stock()}
    assert og_now[by_ext[with_ext.id].id] == og_stock - 2
    for ext, item_id in ((p, i.id) for p, i in by_ext.items()):
        product = woo_hook.get_product(ext) if ext == with_ext.id else None
        if product is not None:
            assert product.stock_quantity == math.floor(og_now[item_id])


@pytest.mark.postgres
def test_two_overlapping_runs_on_postgresql_create_one_document_per_order(airflow_db, stores, postgres_url):
    """Two workers document the same orders at once against one PostgreSQL ledger."""
    import threading

    from officeguy_woocommerce.include.documents import DocumentSettings
    from officeguy_woocommerce.include.ledger import Ledger
    from officeguy_woocommerce.include.orders_sync import DocumentContext, create_documents, ensure_cards, plan

    woo, og = stores
    woo_hook = WooCommerceHook()
    with_ext, with_sku, no_card, *_ = _catalogue_picks(woo_hook, OfficeGuyHook())
    orders = [_paid_order(woo_hook, [{"product_id": p.id, "quantity": 1}]) for p in (with_ext, with_sku, no_card) * 4]
    woo_hook.get_conn()
    store = woo_hook.base_url
    ledger = Ledger(postgres_url)
    plan(orders, ledger, store, statuses=("processing", "completed"))
    og_hook = OfficeGuyHook()
    item_ids, _ = ensure_cards(orders, ledger, store, og_hook, og_hook.list_income_items())
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            ctx = DocumentContext(ledger=Ledger(postgres_url, migrate=False), store=store, og=OfficeGuyHook(), woo=WooCommerceHook(),
                                  settings=DocumentSettings(), token=name, today=_today())
            barrier.wait()
            create_documents(orders, item_ids, ctx)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"worker-{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    docs = _by_reference(_documents())
    assert sorted(len(docs.get(r.external_reference, [])) for r in ledger.documents(store)) == [1] * len(orders)
    assert {r.state for r in ledger.documents(store)} == {"documented"}


def test_more_orders_than_one_page_modified_in_the_same_second_are_each_documented_once(airflow_db, stores):
    woo, og = stores
    woo_hook = WooCommerceHook()
    with_ext, *_ = _catalogue_picks(woo_hook, OfficeGuyHook())
    made = woo_hook.batch("/orders", create=[
        {"set_paid": True, "line_items": [{"product_id": with_ext.id, "quantity": 1}]} for _ in range(230)]).created
    assert len({o["date_modified_gmt"] for o in made}) < len(made)  # many share a second
    woo.reset_stats()

    assert state(run_dag(ORDERS)) == "success"

    assert woo.stats()["GET /orders"] >= 3  # 100 + 100 + 30: every page
    docs = _by_reference(_documents())
    assert sorted(int(ref.rsplit(":", 1)[1]) for ref in docs) == sorted(o["id"] for o in made)
    assert all(len(v) == 1 for v in docs.values())


def test_a_status_change_is_read_again_in_a_later_window(airflow_db, stores):
    woo, og = stores
    woo_hook = WooCommerceHook()
    with_ext, *_ = _catalogue_picks(woo_hook, OfficeGuyHook())
    order = woo_hook.request("POST", "/orders", json={"line_items": [{"product_id": with_ext.id, "quantity": 1}]}).json()
    assert order["status"] == "pending"
    assert state(run_dag(ORDERS)) == "success"
    assert not any(ref.endswith(f":{order['id']}") for ref in _by_reference(_documents()))

    woo_hook.update_order(order["id"], {"status": "processing"})  # the customer paid later
    assert state(run_dag(ORDERS)) == "success"

    assert [ref for ref in _by_reference(_documents()) if ref.endswith(f":{order['id']}")]


def test_an_order_of_200_lines_and_one_for_a_deleted_product_are_documented(airflow_db, stores):
    woo, og = stores
    woo_hook, og_hook = WooCommerceHook(), OfficeGuyHook()
    simple = [p for p in woo_hook.list_stock_items() if p.type == "simple"][:200]
    big = _paid_order(woo_hook, [{"product_id": p.id, "quantity": 1} for p in simple])
    doomed = next(p for p in simple if p.manage_stock is True)
    small = _paid_order(woo_hook, [{"product_id": doomed.id, "quantity": 1}])
    woo_hook.request("DELETE", f"/products/{doomed.id}", params={"force": "true"})

    assert state(run_dag(ORDERS)) == "success"

    docs = _by_reference(_documents())
    big_doc = docs[next(r for r in docs if r.endswith(f":{big['id']}"))][0]
    assert sum(1 for line in og_hook.get_document(big_doc.document_id)["Items"] if line["Item"].get("ID")) >= 200
    assert any(r.endswith(f":{small['id']}") for r in docs)


def test_an_order_the_official_plugin_documented_is_recorded_not_documented_again(airflow_db, stores):
    from officeguy_woocommerce.app.ledger_connection import get_ledger

    woo, og = stores
    woo_hook = WooCommerceHook()
    with_ext, *_ = _catalogue_picks(woo_hook, OfficeGuyHook())
    order = _paid_order(woo_hook, [{"product_id": with_ext.id, "quantity": 1}],
                        meta_data=[{"key": "OfficeGuyDocumentID", "value": "777001"}])

    assert state(run_dag(ORDERS)) == "success"

    assert not any(ref.endswith(f":{order['id']}") for ref in _by_reference(_documents()))
    woo_hook.get_conn()
    row = get_ledger().documents(woo_hook.base_url, order_ids=[order["id"]])[0]
    assert (row.state, row.og_document_id) == ("recorded", 777001)


def test_an_order_cancelled_after_its_document_gets_one_credit_that_returns_the_stock(airflow_db, stores):
    woo, og = stores
    woo_hook, og_hook = WooCommerceHook(), OfficeGuyHook()
    with_ext, _, _, by_ext, _ = _catalogue_picks(woo_hook, og_hook)
    item_id = by_ext[with_ext.id].id
    before = {s.id: s.stock for s in og_hook.list_stock()}[item_id]
    order = _paid_order(woo_hook, [{"product_id": with_ext.id, "quantity": 2}])
    assert state(run_dag(ORDERS)) == "success"
    assert {s.id: s.stock for s in og_hook.list_stock()}[item_id] == before - 2

    woo_hook.update_order(order["id"], {"status": "cancelled"})  # Woo restores its own stock (A5)
    assert state(run_dag(ORDERS)) == "success"
    assert state(run_dag(ORDERS)) == "success"

    credits = [d for d in _documents(types=(6,)) if d.external_reference.endswith(f":{order['id']}:cancel")]
    assert len(credits) == 1
    assert {s.id: s.stock for s in og_hook.list_stock()}[item_id] == before
