"""Runs one group of accounting scenarios end to end: a WooCommerce and an OfficeGuy sandbox with the
group's store settings, tax rates, coupons and catalogue; every scenario's order made through the
store's REST API (WooCommerce's own tax and coupon arithmetic); real runs of the orders DAG between
the scenarios' later events; then a snapshot of both sandboxes' state for the tests to judge.

Nothing here decides what is right: `tests/accounting/scenarios.py` holds the expected documents,
`test_accounting_scenarios.py` compares them with what OfficeGuy recorded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.accounting.scenarios import Event, Group, Scenario
from tests.helpers import run_dag, state

ORDERS_DAG = "woocommerce_orders_to_officeguy"
START_STOCK = 50  # every product starts with this many units in both systems (cards made here)


def _connection(conn_type: str, host: str, login: str, password: str, **extra: Any) -> str:
    return json.dumps({"conn_type": conn_type, "host": host, "login": login, "password": password, "extra": extra})


@dataclass
class ScenarioRun:
    """What happened to one scenario's order, in both systems."""

    scenario: Scenario
    product_ids: dict[str, int] = field(default_factory=dict)  # key -> Woo product id
    order_at_sale: dict[str, Any] = field(default_factory=dict)  # the order as the first run read it
    order_final: dict[str, Any] = field(default_factory=dict)  # the order after every event
    refunds: list[dict[str, Any]] = field(default_factory=list)  # in the order they were made


@dataclass
class GroupRun:
    group: Group
    store: str  # the store key the ledger uses (the hook's base URL)
    runs: list[str]  # state of each orders-DAG run
    report_texts: list[str]  # each run's HTML report
    scenarios: dict[str, ScenarioRun]
    documents: list[dict[str, Any]]  # og.documents() after the last run
    details: dict[int, dict[str, Any]]  # document id -> getdetails' Document (customer city...)
    sent_emails: list[dict[str, Any]]
    cards: dict[int, int]  # Woo product id -> OfficeGuy card id (made here or by the orders flow)
    cards_made_by_flow: set[int]  # Woo product ids whose card the orders flow created
    woo_stock_before: dict[int, int]
    woo_stock_after: dict[int, int]
    og_stock_before: dict[int, float]  # by Woo product id (0 for a product OfficeGuy did not know)
    og_stock_after: dict[int, float]
    ledger_rows: dict[int, dict[str, tuple[str, str]]]  # order id -> doc_key -> (state, last_error)
    customers_after_run: list[int]  # OfficeGuy customer count after each run
    company_vat_rate: float

    @property
    def scenarios_by_order(self) -> dict[int, ScenarioRun]:
        return {run.order_at_sale["id"]: run for run in self.scenarios.values()}


class Shop:
    """The two sandboxes of one group, driven through the project's own hooks (OAuth 1.0a over HTTP)."""

    def __init__(self, woo, og) -> None:
        from officeguy_woocommerce.officeguy.hooks import OfficeGuyHook
        from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook

        self.woo_sandbox, self.og_sandbox = woo, og
        self.woo, self.og = WooCommerceHook(), OfficeGuyHook()
        self.woo.get_conn()

    def post(self, path: str, body: dict) -> dict:
        return self.woo.request("POST", path, json=body).json()

    def put(self, path: str, body: dict) -> dict:
        return self.woo.request("PUT", path, json=body).json()

    def get(self, path: str) -> dict:
        return self.woo.request("GET", path).json()

    def woo_stock(self) -> dict[int, int]:
        return {p["id"]: p["stock_quantity"] for p in self.woo.list_all("/products", {"per_page": 100})}

    def customers(self) -> int:
        from sqlalchemy import func, select

        from sandbox.officeguy.store import Customer

        with self.og_sandbox.app.state.store.reading() as session:
            return session.scalar(select(func.count(Customer.id)))


def _product_body(group: Group, sc_index: int, key: str, product) -> dict:
    return {"name": product.name, "type": "simple", "regular_price": product.price, "tax_class": product.tax_class,
            "manage_stock": True, "stock_quantity": START_STOCK, "sku": f"{group.code}-{sc_index:02d}-{key}"}


def _order_body(scenario: Scenario, product_ids: dict[str, int]) -> dict:
    body = json.loads(json.dumps(scenario.order))  # a deep copy
    email = f"{scenario.name.replace('_', '.')}@example.co.il"
    billing = {"first_name": "נועה", "last_name": "לוי", "address_1": "דיזנגוף 50", "city": "תל אביב",
               "postcode": "6100000", "country": "IL", "email": email, "phone": "050-1234567"}
    shipping = {"first_name": billing["first_name"], "last_name": billing["last_name"], "address_1": "דיזנגוף 50",
                "city": "תל אביב", "postcode": "6100000", "country": "IL"}
    body["billing"] = {**billing, **body.get("billing", {})}
    body["shipping"] = {**shipping, **body.get("shipping", {})}
    body.setdefault("currency", "ILS")
    body.setdefault("payment_method", "stripe")
    body.setdefault("payment_method_title", "Credit card (Stripe)")
    if "status" not in body:
        body.setdefault("set_paid", True)
    body["line_items"] = [{"product_id": product_ids[line["product"]], "quantity": line["quantity"]}
                          for line in body.get("line_items", [])]
    return body


def _line_of(order: dict, product_id: int) -> dict:
    return next(line for line in order["line_items"] if line["product_id"] == product_id)


def _refund_tax(line: dict, amount: str) -> list[dict]:
    if not amount or not line.get("taxes"):
        return []
    return [{"id": line["taxes"][0]["id"], "refund_total": amount}]


def _apply(shop: Shop, run: ScenarioRun, event: Event) -> None:
    oid = run.order_at_sale["id"]
    order = shop.get(f"/orders/{oid}")
    if event.kind == "status":
        shop.put(f"/orders/{oid}", {"status": event.status})
    elif event.kind == "edit":
        shop.put(f"/orders/{oid}", {"line_items": [
            {"id": _line_of(order, run.product_ids[key])["id"], "quantity": qty} for key, qty in event.lines]})
    elif event.kind == "refund":
        lines = []
        for key, qty, total, tax in event.lines:
            line = _line_of(order, run.product_ids[key])
            lines.append({"id": line["id"], "quantity": qty, "refund_total": total,
                          "refund_tax": _refund_tax(line, tax)})
        for kind, refunded in (("shipping_lines", event.shipping), ("fee_lines", event.fees)):
            for index, total, tax in refunded:
                line = order[kind][index]
                lines.append({"id": line["id"], "refund_total": total, "refund_tax": _refund_tax(line, tax)})
        amount = event.amount or f"{sum(float(x['refund_total']) + sum(float(t['refund_total']) for t in x['refund_tax']) for x in lines):.2f}"
        body = {"amount": amount, "reason": event.reason, "api_refund": False, "api_restock": event.restock,
                "line_items": lines}
        run.refunds.append(shop.post(f"/orders/{oid}/refunds", body))
    else:  # pragma: no cover - a typo in the scenario data
        raise ValueError(f"unknown event kind {event.kind!r}")


@contextmanager
def group_run(group: Group, base: Path) -> Iterator[GroupRun]:
    """Set the group up, run it through the orders DAG, and yield the sandboxes' state (sandboxes alive)."""
    from officeguy_woocommerce.app import ledger_connection as ledger_module
    from officeguy_woocommerce.officeguy.hooks import OfficeGuyHook
    from sandbox.officeguy.testing import og_sandbox
    from sandbox.woocommerce.testing import woo_sandbox
    from tests.helpers import purchase_order

    with pytest.MonkeyPatch.context() as mp, \
            woo_sandbox(base / "woo", **group.store_settings) as woo, \
            og_sandbox(base / "og", vat_rate=group.company_vat_rate) as og:
        mp.setenv("STOCK_SYNC_HOME", str(base / "stock_sync"))
        mp.delenv("AIRFLOW_CONN_STOCK_SYNC_DB", raising=False)
        mp.delenv("STOCK_SYNC_REPORTS_DIR", raising=False)
        mp.setenv("AIRFLOW_CONN_WOOCOMMERCE_DEFAULT", _connection(
            "woocommerce", woo.url, woo.consumer_key, woo.consumer_secret, backoff_seconds=0.01))
        mp.setenv("AIRFLOW_CONN_OFFICEGUY_DEFAULT", _connection(
            "officeguy", og.url, str(og.company_id), og.api_key, backoff_seconds=0.01, rate_limit_per_minute=6000))
        ledger_module._ledger.cache_clear()
        shop = Shop(woo, og)
        for rate in group.tax_rates:
            woo.add_tax_rate(**rate)
        for coupon in group.coupons:
            woo.add_coupon(**coupon)

        # The catalogue: every scenario's products in Woo; OfficeGuy cards for those that have one.
        runs = {sc.name: ScenarioRun(sc) for sc in group.scenarios}
        wanted = [(sc, i, key, p) for i, sc in enumerate(group.scenarios) for key, p in sc.products.items()]
        made = shop.woo.batch("/products", create=[_product_body(group, i, key, p) for sc, i, key, p in wanted]).created
        assert len(made) == len(wanted), made
        cards: dict[int, int] = {}
        for (sc, _, key, product), answer in zip(wanted, made, strict=True):
            runs[sc.name].product_ids[key] = answer["id"]
            if product.card is None:
                continue
            item = {"Name": product.name, "SKU": answer["sku"], "Price": float(product.price)}
            if product.card == "ext":
                item["ExternalIdentifier"] = str(answer["id"])
            cards[answer["id"]] = og.call("/accounting/incomeitems/create/", {"IncomeItem": item})["Data"]["EntityID"]
        if cards:
            opening = purchase_order(next(iter(cards.values())), START_STOCK, reference="opening stock")
            opening["Items"] = [{"Quantity": START_STOCK, "UnitPrice": 10, "Item": {"ID": card}} for card in cards.values()]
            assert og.call("/accounting/documents/create/", opening)["Status"] == 0
        woo_before = shop.woo_stock()
        og_before = {pid: og.item_stock(card) for pid, card in cards.items()}

        for sc in group.scenarios:
            runs[sc.name].order_at_sale = shop.post("/orders", _order_body(sc, runs[sc.name].product_ids))

        states, customers, reports = [], [], []
        stages = sorted({1} | {e.stage for sc in group.scenarios for e in sc.events})
        for stage in stages:  # the events of a stage, then one run of the orders DAG
            for sc in group.scenarios:
                for event in sc.events:
                    if event.stage == stage:
                        _apply(shop, runs[sc.name], event)
            dag_run = run_dag(ORDERS_DAG)
            states.append(state(dag_run))
            customers.append(shop.customers())
            reports.append(_report_text(dag_run.run_id))

        for run in runs.values():
            run.order_final = shop.get(f"/orders/{run.order_at_sale['id']}")
        documents = og.documents()
        details = {d["id"]: og.call("/accounting/documents/getdetails/", {"DocumentID": d["id"]})["Data"]["Document"]
                   for d in documents if d["external_reference"].startswith("woo:")}
        og_hook = OfficeGuyHook()
        all_ids = {pid for run in runs.values() for pid in run.product_ids.values()}
        made_by_flow = set()
        for item in og_hook.list_income_items():
            ext = item.external_identifier
            if ext.isdigit() and int(ext) in all_ids and int(ext) not in cards:
                cards[int(ext)] = item.id
                made_by_flow.add(int(ext))
        ledger = ledger_module.get_ledger()
        rows: dict[int, dict[str, tuple[str, str]]] = {}
        for row in ledger.documents(shop.woo.base_url):
            rows.setdefault(row.woo_order_id, {})[row.doc_key] = (row.state, row.last_error or "")
        yield GroupRun(
            group=group, store=shop.woo.base_url, runs=states, report_texts=reports, scenarios=runs,
            documents=documents, details=details, sent_emails=og.sent_emails(), cards=cards,
            cards_made_by_flow=made_by_flow, woo_stock_before=woo_before, woo_stock_after=shop.woo_stock(),
            og_stock_before={pid: og_before.get(pid, 0.0) for pid in all_ids},
            og_stock_after={pid: og.item_stock(cards[pid]) for pid in all_ids if pid in cards},
            ledger_rows=rows, customers_after_run=customers, company_vat_rate=group.company_vat_rate,
        )
        ledger_module._ledger.cache_clear()


def _report_text(run_id: str) -> str:
    from officeguy_woocommerce.app.report_tasks import reports_folder
    from officeguy_woocommerce.include.reports import report_path

    path = report_path(reports_folder(), ORDERS_DAG, run_id)
    return path.read_text(encoding="utf-8") if path.exists() else ""
