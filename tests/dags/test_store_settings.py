"""The store's own stock settings, one test per row of README.md's rules table, through real stock
DAG runs against both sandboxes; and the low-stock e-mails, read back from a real SMTP server."""

from __future__ import annotations

import email
import email.policy
import json

import pytest

from officeguy_woocommerce.officeguy.hooks import OfficeGuyHook
from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook
from tests.helpers import run_dag, state

STOCK = "officeguy_stock_to_woocommerce"
ORDERS = "woocommerce_orders_to_officeguy"
pytestmark = pytest.mark.airflow


class Shop:
    """Builds products in the Woo sandbox and their OfficeGuy cards with a given stock."""

    def __init__(self) -> None:
        self.woo, self.og = WooCommerceHook(), OfficeGuyHook()
        self.n = 0

    def card(self, woo_id: int, name: str, sku: str, stock: float) -> int:
        item_id = self.og.create_income_item(name=name, sku=sku, external_identifier=str(woo_id), price=10)
        self.set_og_stock(item_id, stock)
        return item_id

    def set_og_stock(self, item_id: int, stock: float) -> None:
        current = {s.id: s.stock for s in self.og.list_stock()}[item_id]
        delta = stock - current
        if delta:
            doc_type = 11 if delta > 0 else 9  # a purchase order raises stock, a delivery note lowers it
            self.og.create_document({"Details": {"Type": doc_type, "Customer": {"Name": "ספק"}},
                                     "Items": [{"Quantity": abs(delta), "UnitPrice": 1, "Item": {"ID": item_id}}],
                                     "VATIncluded": True})

    def product(self, stock: float | None = None, **fields) -> dict:
        self.n += 1
        body = {"name": f"מוצר {self.n} 🧪", "sku": f"R-{self.n}", "regular_price": "10", **fields}
        product = self.woo.request("POST", "/products", json=body).json()
        if stock is not None:
            product["og_item_id"] = self.card(product["id"], product["name"], product["sku"], stock)
        return product

    def get(self, woo_id: int) -> dict:
        return self.woo.request("GET", f"/products/{woo_id}").json()


@pytest.fixture
def shop(airflow_db, stores):
    return Shop()


@pytest.mark.parametrize("stores", ["empty"], indirect=True)
def test_rules_table(shop):
    s = shop
    unmanaged_in = s.product(stock=5, manage_stock=False, stock_status="outofstock")
    unmanaged_out = s.product(stock=0, manage_stock=False, stock_status="instock")
    unmanaged_backorder = s.product(stock=0, manage_stock=False, stock_status="onbackorder")
    managed = s.product(stock=7.9, manage_stock=True, stock_quantity=1)
    managed_zero = s.product(stock=0, manage_stock=True, stock_quantity=4)
    managed_negative = s.product(stock=-3, manage_stock=True, stock_quantity=4)
    backorders_notify = s.product(stock=0, manage_stock=True, stock_quantity=5, backorders="notify")
    backorders_yes = s.product(stock=-2, manage_stock=True, stock_quantity=5, backorders="yes")
    single = s.product(stock=9, manage_stock=True, stock_quantity=2, sold_individually=True)
    opted_out = s.product(stock=50, manage_stock=True, stock_quantity=3,
                          meta_data=[{"key": "_stock_sync_exclude", "value": "yes"}])
    # variable: own-stock variations, and a parent that manages the stock of its variations
    own = s.product(type="variable", attributes=[{"name": "size", "variation": True, "options": ["S", "M"]}])
    own_vars = s.woo.batch(f"/products/{own['id']}/variations", create=[
        {"sku": f"V-{x}", "regular_price": "10", "manage_stock": True, "stock_quantity": 4,
         "attributes": [{"name": "size", "option": x}]} for x in ("S", "M")]).created
    for v in own_vars:
        s.card(v["id"], f"variation {v['sku']}", v["sku"], 0)
    shared = s.product(type="variable", manage_stock=True, stock_quantity=1,
                       attributes=[{"name": "size", "variation": True, "options": ["S", "M"]}])
    shared_vars = s.woo.batch(f"/products/{shared['id']}/variations", create=[
        {"sku": f"P-{x}", "regular_price": "10", "attributes": [{"name": "size", "option": x}]}
        for x in ("S", "M")]).created
    s.card(shared["id"], shared["name"], shared["sku"], 12)

    dag_run = run_dag(STOCK, force=True)  # most of these products go down: past the safety brake on purpose
    assert state(dag_run) == "success"

    # stock status shown to the customer, for products that do not manage a quantity
    assert (s.get(unmanaged_in["id"])["stock_status"], s.get(unmanaged_out["id"])["stock_status"]) == (
        "instock", "outofstock")
    assert s.get(unmanaged_backorder["id"])["stock_status"] == "onbackorder"  # the merchant's choice is kept
    # managed quantity: floor of OfficeGuy's, zero and negative included
    assert s.get(managed["id"])["stock_quantity"] == 7
    assert (s.get(managed_zero["id"])["stock_quantity"], s.get(managed_zero["id"])["stock_status"]) == (0, "outofstock")
    assert (s.get(managed_negative["id"])["stock_quantity"], s.get(managed_negative["id"])["stock_status"]) == (
        -3, "outofstock")
    # backorders allowed: at zero or below the product is on backorder; the setting is never touched
    for product, setting in ((backorders_notify, "notify"), (backorders_yes, "yes")):
        now = s.get(product["id"])
        assert (now["stock_status"], now["backorders"]) == ("onbackorder", setting)
    # sold individually: untouched
    assert s.get(single["id"])["sold_individually"] is True and s.get(single["id"])["stock_quantity"] == 9
    # opt-out: never written, listed as skipped
    assert s.get(opted_out["id"])["stock_quantity"] == 3
    from officeguy_woocommerce.app.ledger_connection import get_ledger

    run = get_ledger().runs(flow="stock")[0]
    assert run.counts["skipped_by_reason"].get("opted out") == 1
    # variations with their own stock, through the parent's batch endpoint; the parent's derived status
    for v in own_vars:
        assert s.woo.request("GET", f"/products/{own['id']}/variations/{v['id']}").json()["stock_quantity"] == 0
    assert s.get(own["id"])["stock_status"] == "outofstock"
    # variations whose parent manages the stock: the parent gets the quantity
    assert s.get(shared["id"])["stock_quantity"] == 12
    for v in shared_vars:
        variation = s.woo.request("GET", f"/products/{shared['id']}/variations/{v['id']}").json()
        assert (variation["manage_stock"], variation["stock_quantity"]) == ("parent", 12)


@pytest.mark.parametrize("stores", ["empty"], indirect=True)
def test_a_sold_individually_product_still_becomes_one_document_line(shop):
    s = shop
    single = s.product(stock=5, manage_stock=True, stock_quantity=5, sold_individually=True)
    order = s.woo.request("POST", "/orders", json={"set_paid": True, "line_items": [
        {"product_id": single["id"], "quantity": 1}]}).json()

    assert state(run_dag(ORDERS)) == "success"

    meta = {m["key"]: m["value"] for m in s.woo.get_order(order["id"])["meta_data"]}
    lines = s.og.get_document(int(meta["OfficeGuyDocumentID"]))["Items"]
    assert [(line["Quantity"], line["Item"]["ID"]) for line in lines] == [(1, single["og_item_id"])]


@pytest.fixture
def smtp_server(monkeypatch):
    """A real SMTP server on loopback (aiosmtpd) keeping what it receives."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received: list[email.message.EmailMessage] = []

    class Keep(Message):
        def handle_message(self, message):
            received.append(email.message_from_bytes(message.as_bytes(), policy=email.policy.default))

    import socket

    with socket.socket() as probe:  # aiosmtpd checks readiness by connecting: it needs a real port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": port,
        "extra": {"disable_tls": True, "disable_ssl": True, "from_email": "stock-sync@shop.test", "retry_limit": 0}}))
    monkeypatch.setenv("STOCK_SYNC_ALERT_RECIPIENTS", "owner@shop.test,manager@shop.test")
    yield received
    controller.stop()


def _body(message) -> str:
    part = message.get_body(preferencelist=("html", "plain"))
    return part.get_content()


@pytest.mark.parametrize("stores", ["empty"], indirect=True)
def test_low_and_out_of_stock_emails_once_per_crossing(shop, smtp_server):
    s = shop  # a three-product shop: every fall is "most products", so runs pass the brake on purpose
    own_threshold = s.product(stock=20, manage_stock=True, stock_quantity=20, low_stock_amount=5)
    default_threshold = s.product(stock=20, manage_stock=True, stock_quantity=20)
    parent = s.product(type="variable", manage_stock=False,
                       attributes=[{"name": "size", "variation": True, "options": ["S"]}])
    s.woo.request("PUT", f"/products/{parent['id']}", json={"manage_stock": True, "stock_quantity": 0,
                                                              "low_stock_amount": 4})
    s.woo.request("PUT", f"/products/{parent['id']}", json={"manage_stock": False})
    # WooCommerce clears low_stock_amount on an unmanaged product (A2), so the parent keeps none:
    # the variation's threshold falls back to the store default, as WooCommerce's own does.
    variation = s.woo.batch(f"/products/{parent['id']}/variations", create=[
        {"sku": "VAR-S", "regular_price": "10", "manage_stock": True, "stock_quantity": 20,
         "attributes": [{"name": "size", "option": "S"}]}]).created[0]
    s.card(variation["id"], "וריאציה S", "VAR-S", 20)
    assert state(run_dag(STOCK, force=True)) == "success" and smtp_server == []  # in sync: no mail

    s.set_og_stock(own_threshold["og_item_id"], 4)  # 20 -> 4: at or below its own threshold 5
    s.set_og_stock(default_threshold["og_item_id"], 2)  # 20 -> 2: at the store default 2
    s.set_og_stock(next(i.id for i in s.og.list_income_items() if i.sku == "VAR-S"), 0)  # out of stock
    assert state(run_dag(STOCK, force=True)) == "success"

    subjects = [" ".join(str(m["subject"]).split()) for m in smtp_server]  # unfold the encoded header
    kinds = {subj.rsplit("(", 1)[1].rstrip(")"): subj.split(":")[0] for subj in subjects}
    assert kinds == {own_threshold["sku"]: "[Stock sync] Product low in stock",
                     default_threshold["sku"]: "[Stock sync] Product low in stock",
                     "VAR-S": "[Stock sync] Product out of stock"}
    assert len(smtp_server) == 3
    by_sku = {subj.rsplit("(", 1)[1].rstrip(")"): m for subj, m in zip(subjects, smtp_server, strict=True)}
    own_mail = _body(by_sku[own_threshold["sku"]])
    assert "Quantity: 4." in own_mail and "threshold: 5." in own_mail and own_threshold["name"] in own_mail
    assert "threshold: 2." in _body(by_sku[default_threshold["sku"]])
    assert all(m["to"] == "owner@shop.test, manager@shop.test" for m in smtp_server)

    # still low: no repeat
    s.set_og_stock(own_threshold["og_item_id"], 3)
    assert state(run_dag(STOCK, force=True)) == "success"
    assert len(smtp_server) == 3

    # back above the line re-arms; falling again mails again
    s.set_og_stock(own_threshold["og_item_id"], 30)
    assert state(run_dag(STOCK, force=True)) == "success"
    assert len(smtp_server) == 3
    s.set_og_stock(own_threshold["og_item_id"], 1)
    assert state(run_dag(STOCK, force=True)) == "success"
    assert len(smtp_server) == 4 and "low in stock" in smtp_server[-1]["subject"]
