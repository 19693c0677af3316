"""The stock DAG and the cards the orders flow makes, end to end (real DAG runs, both sandboxes):

- a product OfficeGuy did not know gets a card at 0 that our sale takes to -1: the stock DAG leaves
  the store's quantity alone ("waiting for opening stock in OfficeGuy") until a purchase order in
  OfficeGuy opens the card, then follows OfficeGuy for good;
- the shipping line's OfficeGuy card is a service card: never listed as unmatched.
"""

from __future__ import annotations

import pytest

from officeguy_woocommerce.officeguy.hooks import OfficeGuyHook
from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook
from tests.helpers import purchase_order, run_dag, sale, state

ORDERS = "woocommerce_orders_to_officeguy"
STOCK = "officeguy_stock_to_woocommerce"
WAITING = "waiting for opening stock in OfficeGuy"
pytestmark = pytest.mark.airflow


def _paid_order(woo_hook, lines, **extra) -> dict:
    body = {"set_paid": True, "payment_method": "bacs", "payment_method_title": "העברה בנקאית",
            "billing": {"first_name": "דנה", "last_name": "כהן", "email": "dana@example.com"},
            "line_items": lines, **extra}
    return woo_hook.request("POST", "/orders", json=body).json()


def _product_without_card(woo_hook, og_hook):
    items = og_hook.list_income_items()
    skus = {i.sku for i in items if i.sku}
    carded = {int(i.external_identifier) for i in items if i.external_identifier.isdigit()}
    return next(p for p in woo_hook.list_stock_items() if p.type == "simple" and p.manage_stock is True
                and (p.stock_quantity or 0) > 3 and p.sku and p.id not in carded and p.sku not in skus)


def _last_stock_run():
    from officeguy_woocommerce.app.ledger_connection import get_ledger

    return get_ledger().runs(flow="stock", limit=1)[0]


def _staged(dag_run, name: str):
    from officeguy_woocommerce.include import config
    from officeguy_woocommerce.include.staging import Stage

    return Stage.read(str(Stage(config.load().home, STOCK, dag_run.run_id).dir / f"{name}.json"))


def _report(dag_run) -> str:
    from officeguy_woocommerce.app.report_tasks import reports_folder
    from officeguy_woocommerce.include.reports import report_path

    return report_path(reports_folder(), STOCK, dag_run.run_id).read_text(encoding="utf-8")


def _item_map_row(og_item_id: int):
    from sqlalchemy import select

    from officeguy_woocommerce.app.ledger_connection import get_ledger
    from officeguy_woocommerce.include.ledger import ItemMap

    with get_ledger().session() as s:
        return s.scalars(select(ItemMap).where(ItemMap.og_item_id == og_item_id)).one()


def test_a_new_card_waits_for_its_opening_stock_then_follows_officeguy_for_good(airflow_db, stores):
    woo, og = stores
    woo_hook, og_hook = WooCommerceHook(), OfficeGuyHook()
    assert state(run_dag(ORDERS)) == "success"  # the orders watermark is set
    assert state(run_dag(STOCK)) == "success"  # the store follows OfficeGuy
    product = _product_without_card(woo_hook, og_hook)
    _paid_order(woo_hook, [{"product_id": product.id, "quantity": 1}])
    in_store = product.stock_quantity - 1  # WooCommerce took the sold unit itself
    assert woo_hook.get_product(product.id).stock_quantity == in_store

    assert state(run_dag(ORDERS)) == "success"
    card = next(i for i in og_hook.list_income_items() if i.external_identifier == str(product.id))
    assert {s.id: s.stock for s in og_hook.list_stock()}[card.id] == -1  # new card at 0, minus our sale

    waiting = run_dag(STOCK)

    assert state(waiting) == "success"
    assert woo_hook.get_product(product.id).stock_quantity == in_store  # not -1
    skipped = _staged(waiting, "skipped").set_index("og_item_id")
    row = skipped.loc[card.id]
    assert (row["reason"], row["woo_id"], row["name"], row["sku"]) == (WAITING, product.id, product.name, product.sku)
    assert _last_stock_run().counts["skipped_by_reason"][WAITING] == 1
    page = _report(waiting)
    assert WAITING in page and product.name in page and product.sku in page
    assert _item_map_row(card.id).opened is False

    og_hook.create_document(purchase_order(card.id, 24))  # the merchant records the real stock
    dry = run_dag(STOCK, dry_run=True)
    assert state(dry) == "success"
    assert _item_map_row(card.id).opened is False  # a dry run remembers nothing
    assert woo_hook.get_product(product.id).stock_quantity == in_store

    opened = run_dag(STOCK)

    assert state(opened) == "success"
    assert woo_hook.get_product(product.id).stock_quantity == 23  # OfficeGuy's figure: -1 + 24
    assert _item_map_row(card.id).opened is True
    assert WAITING not in set(_staged(opened, "skipped")["reason"])
    assert _last_stock_run().counts["cards_opened"] == 1

    # Later, OfficeGuy happens to show exactly our own documents' figure again: the card stays open.
    og_hook.create_document(sale(card.id, 24, "shop-counter-sale"))
    assert {s.id: s.stock for s in og_hook.list_stock()}[card.id] == -1
    assert state(run_dag(STOCK)) == "success"
    assert woo_hook.get_product(product.id).stock_quantity == -1


def test_the_shipping_card_is_a_service_card_not_an_unmatched_item(airflow_db, stores):
    woo, og = stores
    woo_hook, og_hook = WooCommerceHook(), OfficeGuyHook()
    product = next(p for p in woo_hook.list_stock_items() if p.type == "simple" and p.manage_stock is True
                   and (p.stock_quantity or 0) > 3)
    _paid_order(woo_hook, [{"product_id": product.id, "quantity": 1}],
                shipping_lines=[{"method_id": "flat_rate", "method_title": "משלוח", "total": "30.00"}],
                fee_lines=[{"name": "אריזת מתנה", "total": "5.00"}])
    assert state(run_dag(ORDERS)) == "success"
    cards = {i.id: i for i in og_hook.list_income_items()}
    services = {i for i, c in cards.items() if c.external_identifier.startswith("stock-sync:")
                or (not c.external_identifier and not c.sku and c.name in ("Shipping", "Fee"))}
    assert len(services) == 2, [(c.name, c.external_identifier) for c in cards.values()]
    assert all(s.stock < 0 for s in og_hook.list_stock() if s.id in services)  # cards the documents took from

    dag_run = run_dag(STOCK)

    assert state(dag_run) == "success"
    unmatched = set(_staged(dag_run, "unmatched_og")["og_item_id"])
    assert not unmatched & services
    assert _last_stock_run().counts["service_cards"] == 2
    assert "service cards ignored" in _report(dag_run)


def test_a_bad_service_item_ids_setting_fails_the_plan_naming_it(airflow_db, stores, monkeypatch):
    from officeguy_woocommerce.app.stock_tasks import service_item_ids, service_labels
    from officeguy_woocommerce.include import config

    settings = config.load()
    assert service_item_ids(settings, {"STOCK_SYNC_SERVICE_ITEM_IDS": " 12, 13 ,"}) == {12, 13}
    assert service_item_ids(settings, {}) == frozenset()
    assert service_labels(settings) == {"Shipping", "Fee", "Rounding", "Refund"}
    with pytest.raises(config.ConfigError, match="STOCK_SYNC_SERVICE_ITEM_IDS.*'abc'"):
        service_item_ids(settings, {"STOCK_SYNC_SERVICE_ITEM_IDS": "12,abc"})
    woo, og = stores
    woo.reset_stats()
    monkeypatch.setenv("STOCK_SYNC_SERVICE_ITEM_IDS", "12,abc")

    assert state(run_dag(STOCK)) == "failed"
    assert not any("batch" in kind for kind in woo.stats())
