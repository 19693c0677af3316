"""The bad-input campaign (issue 9, I7): every bad input is reported with a specific message naming the
item, connection or setting, and isolated: the rest of the run proceeds, and nothing is written wrong.

Each case sets one bad input up on the model's world (tests/model/world.py: both sandboxes, the
project's flows in-process, a fresh ledger), runs the flow that meets it, and looks at what an
operator sees: the failed tasks' messages, the task logs (INFO and up) and the run's HTML report.

Malformed answers are served by the sandboxes' own fault injection: a ``status`` fault with status
200 returns any ``body`` with any ``headers`` (sandbox/common/faults.py), so no stub server is needed.
A case that still fails on the project is a strict xfail naming the defect (issue 9 defect 10, or
the campaign's own finding); ``make soak`` / tests/model/campaign.py records the figures.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from tests.model.world import World, stats_path

pytestmark = [pytest.mark.airflow, pytest.mark.timeout(600)]

RESULTS: dict[str, dict] = {}


@dataclass
class Case:
    id: str
    group: str
    what: str  # the bad input, as the report names it
    run: Callable[[World], dict]  # set up, run, return {"seen": text, "problems": [...]}
    needles: tuple[str, ...]  # what the operator must be told (case-insensitive)
    defect: str = ""  # a strict xfail's reason while the project still fails the case
    extra: dict = field(default_factory=dict)


CASES: list[Case] = []

def case(id: str, group: str, what: str, needles: tuple[str, ...], defect: str = ""):
    def register(fn):
        CASES.append(Case(id, group, what, fn, needles, defect))
        return fn
    return register


# ----------------------------------------------------------------------------- what the operator sees
def _seen(w: World, out: dict, since: int) -> str:
    parts = list(out.get("_failed", []))
    parts += [line for name, line in w.capture.lines[since:]
              if " DEBUG " not in line and not name.startswith(("urllib3", "hypothesis"))]
    reports = w.home / "reports"
    for path in sorted(reports.rglob("*.html")) if reports.exists() else ():
        if out.get("_run_id") and out["_run_id"] in path.name:
            page = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", path.read_text(encoding="utf-8"), flags=re.S)
            parts.append(html.unescape(re.sub(r"<[^>]+>", " ", page)))
    return "\n".join(parts)


def _start(w: World) -> int:
    w.start_history(stock=[10, 10, 10, 10, 10, 10, 10], fraction=False, real_dags=False)
    return len(w.capture.lines)


def _stock(w: World, params: dict | None = None) -> tuple[dict, int]:
    since = len(w.capture.lines)
    return w.run_stock(params), since


def _orders(w: World, params: dict | None = None) -> tuple[dict, int]:
    since = len(w.capture.lines)
    return w.run_orders("manual", params), since


def _woo(w: World, woo_id: int) -> dict:
    return w.woo_products()[woo_id]


# ----------------------------------------------------------------------------- served answers
def _og_stock_answer(w: World) -> dict:
    with w.unfaulted(w.og):
        return w.og.call("/stock/stock/list/", {})


def _serve_og(w: World, path: str, body, times: int = 1, headers: dict | None = None) -> None:
    w.og.arm_fault(kind="status", status=200, path=path, body=body, times=times, headers=headers or {})


def _serve_woo(w: World, path: str, body, *, times: int = 1, headers: dict | None = None, method: str = "GET") -> None:
    w.woo.arm_fault(kind="status", status=200, path=path, method=method, body=body, times=times,
                    headers=headers or {})


def _woo_page(w: World) -> list[dict]:
    return w.woo_call("GET", "/products", params={"per_page": 100, "orderby": "id", "order": "asc"})


def _pages(total: int, pages: int = 1) -> dict:
    return {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}


def _og_rows_case(mutate: Callable[[list[dict]], None]) -> Callable[[World], dict]:
    """OfficeGuy's stock list with a bad row; card 1002 also moved to 13, which must still reach Woo 11."""

    def run(w: World) -> dict:
        _start(w)
        answer = _og_stock_answer(w)
        rows = answer["Data"]["Stock"]
        next(r for r in rows if r["ID"] == 1002)["Stock"] = 13
        mutate(rows)
        _serve_og(w, "stock/stock/list", answer)
        out, since = _stock(w)
        problems = [] if _woo(w, 11)["stock_quantity"] == 13 else [
            f"the good rows were not synced: Woo 11 is {_woo(w, 11)['stock_quantity']}, not 13"]
        return {"seen": _seen(w, out, since), "problems": problems}

    return run


def _og_answer_case(body, *, times: int = 6, headers: dict | None = None) -> Callable[[World], dict]:
    """OfficeGuy's whole stock answer is unusable: the run stops with a clear message and writes nothing."""

    def run(w: World) -> dict:
        _start(w)
        w.merchant_stock(w.sellables[0], 4)  # a difference a wrong run would "fix"
        w.woo.reset_stats()
        value = body(w) if callable(body) else body
        _serve_og(w, "stock/stock/list", value, times=times, headers=headers)
        out, since = _stock(w)
        writes = {k: v for k, v in w.woo.stats().items() if "batch" in k or k.startswith("PUT")}
        problems = [f"the store was written although OfficeGuy's answer was unusable: {writes}"] if writes else []
        if not out.get("_failed"):
            problems.append("the run succeeded on an unusable OfficeGuy answer")
        return {"seen": _seen(w, out, since), "problems": problems}

    return run


def _stock_value_case(value, needle_id: int = 1001) -> Callable[[World], dict]:
    """Card 1001's stock is ``value``: it is skipped (Woo 10 keeps its quantity), the rest is synced."""

    def run(w: World) -> dict:
        before = None

        def mutate(rows):
            next(r for r in rows if r["ID"] == needle_id)["Stock"] = value

        result = _og_rows_case(mutate)(w)
        before = 10
        if _woo(w, 10)["stock_quantity"] != before:
            result["problems"].append(f"Woo 10 was written {_woo(w, 10)['stock_quantity']} from OfficeGuy stock "
                                      f"{value!r}")
        return result

    return run


# ----------------------------------------------------------------------------- OfficeGuy answers
def _add_row(row):
    def mutate(rows):
        rows.append(row)
    return mutate


case("og-row-without-id", "OfficeGuy answers", "a stock row without ID", ("Broken row", "ID"))(
    _og_rows_case(_add_row({"Name": "Broken row", "ExternalIdentifier": "", "Stock": 4})))
case("og-id-A-17", "OfficeGuy answers", 'a stock row with ID "A-17"', ("A-17",))(
    _og_rows_case(_add_row({"ID": "A-17", "Name": "Broken row", "ExternalIdentifier": "", "Stock": 4})))
case("og-id-null", "OfficeGuy answers", "a stock row with ID null", ("Broken row", "ID"))(
    _og_rows_case(_add_row({"ID": None, "Name": "Broken row", "ExternalIdentifier": "", "Stock": 4})))
case("og-id-fraction", "OfficeGuy answers", "a stock row with ID 3.5", ("3.5",))(
    _og_rows_case(_add_row({"ID": 3.5, "Name": "Broken row", "ExternalIdentifier": "", "Stock": 4})))
case("og-id-negative", "OfficeGuy answers", "a stock row with ID -4", ("-4",))(
    _og_rows_case(_add_row({"ID": -4, "Name": "Broken row", "ExternalIdentifier": "", "Stock": 4})))
case("og-row-not-object", "OfficeGuy answers", "a stock row that is a string", ("row",))(
    _og_rows_case(_add_row("1003;Model shirt;4")))
case("og-duplicate-id", "OfficeGuy answers", "the same OfficeGuy id twice (different stock)",
     ("1001", "twice|2 times"))(
    _og_rows_case(lambda rows: rows.append({**next(r for r in rows if r["ID"] == 1001), "Stock": 2})))
case("og-stock-true", "OfficeGuy answers", "Stock true", ("1001", "true"))(_stock_value_case(True))
case("og-stock-false", "OfficeGuy answers", "Stock false", ("1001", "false"))(_stock_value_case(False))
case("og-stock-abc", "OfficeGuy answers", 'Stock "abc"', ("1001", "abc"))(_stock_value_case("abc"))
case("og-stock-nan", "OfficeGuy answers", 'Stock "NaN"', ("1001", "nan"))(_stock_value_case("NaN"))
case("og-stock-null", "OfficeGuy answers", "Stock null", ("1001",))(_stock_value_case(None))
case("og-stock-object", "OfficeGuy answers", "Stock as an object", ("1001", "{"))(_stock_value_case({"Qty": 3}))
case("og-stock-list", "OfficeGuy answers", "Stock as a list", ("1001", "["))(_stock_value_case([3]))
case("og-stock-huge", "OfficeGuy answers", "Stock 1e30", ("1001",))(_stock_value_case(1e30))
case("og-stock-string-number-comma", "OfficeGuy answers", 'Stock "1,5"', ("1001", "1,5"))(_stock_value_case("1,5"))
case("og-stock-envelope-array", "OfficeGuy answers", "an envelope that is an array",
     ("OfficeGuy", "stock list"))(_og_answer_case([{"Status": 0, "Data": {"Stock": []}}]))
case("og-envelope-string", "OfficeGuy answers", "an envelope that is a JSON string", ("OfficeGuy", "stock list"))(
    _og_answer_case("\"ok\""))
case("og-envelope-number", "OfficeGuy answers", "an envelope that is a number", ("OfficeGuy", "stock list"))(
    _og_answer_case("42"))
case("og-data-stock-object", "OfficeGuy answers", "Data.Stock as an object", ("OfficeGuy", "Stock"))(
    _og_answer_case({"Status": 0, "UserErrorMessage": None, "Data": {"Stock": {"ID": 1001, "Stock": 3}}}))
case("og-data-stock-string", "OfficeGuy answers", "Data.Stock as a string", ("OfficeGuy", "Stock"))(
    _og_answer_case({"Status": 0, "UserErrorMessage": None, "Data": {"Stock": "none"}}))
case("og-data-array", "OfficeGuy answers", "Data as an array", ("OfficeGuy", "stock list"))(
    _og_answer_case({"Status": 0, "UserErrorMessage": None, "Data": [1, 2]}))
case("og-html-page", "OfficeGuy answers", "an HTML page instead of JSON", ("OfficeGuy", "JSON"))(
    _og_answer_case("<html><body><h1>502 Bad Gateway</h1></body></html>"))
case("og-empty-body", "OfficeGuy answers", "an empty 200 answer", ("OfficeGuy", "JSON"))(_og_answer_case(""))
case("og-truncated-json", "OfficeGuy answers", "a truncated JSON answer", ("OfficeGuy", "JSON"))(
    _og_answer_case('{"Status": 0, "Data": {"Stock": [{"ID": 1001, "Sto'))
case("og-status-missing", "OfficeGuy answers", "an envelope without Status", ("OfficeGuy", "stock list"))(
    _og_answer_case({"Data": {"Stock": []}}))
case("og-status-unknown", "OfficeGuy answers", 'Status "Maybe"', ("OfficeGuy", "Maybe"))(
    _og_answer_case({"Status": "Maybe", "Data": None}))
case("og-empty-stock-list", "OfficeGuy answers", "an empty stock list (every item gone)",
     ("OfficeGuy", "no stock items|no items"))(
    _og_answer_case({"Status": 0, "UserErrorMessage": None, "Data": {"Stock": []}}, times=1))


def _income_rows_case(mutate, needles_check=None, *, joined: bool = True) -> Callable[[World], dict]:
    """A bad row among OfficeGuy's item cards: the others still join their SKUs and card 1002 (matched by
    SKU) moves Woo 11 to 13. ``joined=False``: no row is usable, so no SKU can be joined at all: Woo 11
    must then be left as it was (10), never written from a guess, and the report must say why."""
    def run(w: World) -> dict:
        _start(w)
        with w.unfaulted(w.og):
            answer = w.og.call("/accounting/incomeitems/list/", {"Paging": {"StartIndex": 0, "PageSize": 1000}})
        mutate(answer["Data"]["IncomeItems"])
        _serve_og(w, "incomeitems/list", answer)
        w.purchase(1002, 3)
        out, since = _stock(w)
        want = 13 if joined else 10
        problems = [] if _woo(w, 11)["stock_quantity"] == want else [
            f"Woo 11 is {_woo(w, 11)['stock_quantity']}, not {want}"
            + (" (the good items were not synced)" if joined else " (written without its SKU's card)")]
        return {"seen": _seen(w, out, since), "problems": problems}
    return run


case("og-income-item-without-id", "OfficeGuy answers", "an item card without ID in incomeitems/list",
     ("Broken card", "ID"))(_income_rows_case(lambda rows: rows.append({"Name": "Broken card", "SKU": "MB-77"})))
case("og-income-item-id-text", "OfficeGuy answers", 'an item card with ID "X9"', ("X9",))(
    _income_rows_case(lambda rows: rows.append({"ID": "X9", "Name": "Broken card", "SKU": "MB-77"})))
case("og-income-items-not-list", "OfficeGuy answers", "IncomeItems as a list of strings", ("IncomeItems",))(
    _income_rows_case(lambda rows: (rows.clear(), rows.append("oops")), joined=False))


def _duplicate_sku(w: World) -> dict:
    _start(w)
    with w.unfaulted(w.og):
        w.og.call("/accounting/incomeitems/create/", {"IncomeItem": {"Name": "Second MB-11", "SKU": "MB-11",
                                                                     "Currency": "ILS"}})
    w.purchase(1001, 3)
    out, since = _stock(w)
    problems = [] if _woo(w, 10)["stock_quantity"] == 13 else ["the other items were not synced"]
    if _woo(w, 11)["stock_quantity"] != 10:
        problems.append("Woo 11 was written although its SKU is on two OfficeGuy cards")
    return {"seen": _seen(w, out, since), "problems": problems}


case("og-duplicate-sku", "OfficeGuy answers", "the same SKU on two OfficeGuy cards", ("MB-11", "duplicate"))(
    _duplicate_sku)


def _stale_external_id(w: World) -> dict:
    _start(w)
    with w.unfaulted(w.og):
        w.og.call("/accounting/incomeitems/create/", {"IncomeItem": {"Name": "Ghost", "SKU": "",
                                                                     "ExternalIdentifier": "999999", "Currency": "ILS"}})
    w.purchase(1001, 3)
    out, since = _stock(w)
    problems = [] if _woo(w, 10)["stock_quantity"] == 13 else ["the other items were not synced"]
    return {"seen": _seen(w, out, since), "problems": problems}


case("og-external-id-of-deleted-product", "OfficeGuy answers",
     "a card whose ExternalIdentifier names no Woo product", ("999999",))(_stale_external_id)


# ----------------------------------------------------------------------------- WooCommerce answers
def _woo_product_case(mutate, needles_product: int = 10, headers: dict | None = None) -> Callable[[World], dict]:
    """Product 10 in the served products page is bad; card 1002 (Woo 11) moved to 13 must still reach Woo."""

    def run(w: World) -> dict:
        _start(w)
        page = _woo_page(w)
        mutate(next(p for p in page if p["id"] == needles_product), page)
        _serve_woo(w, r"/products$", page, headers=_pages(len(page)) if headers is None else headers)
        w.purchase(1002, 3)
        out, since = _stock(w)
        problems = [] if _woo(w, 11)["stock_quantity"] == 13 else [
            f"the good products were not synced: Woo 11 is {_woo(w, 11)['stock_quantity']}, not 13"]
        if _woo(w, 10)["stock_quantity"] != 10:
            problems.append(f"the bad product 10 was written: {_woo(w, 10)['stock_quantity']}")
        return {"seen": _seen(w, out, since) + ("" if problems else "\n(worked)"), "problems": problems}

    return run


def _set(key, value):
    def mutate(product, _page):
        product[key] = value
    return mutate


case("woo-stock-quantity-string", "WooCommerce answers", 'stock_quantity "5"', ("10", "'5'"))(
    _woo_product_case(_set("stock_quantity", "5")))
case("woo-stock-quantity-fraction", "WooCommerce answers", "stock_quantity 5.5", ("10", "5.5"))(
    _woo_product_case(_set("stock_quantity", 5.5)))
case("woo-stock-quantity-abc", "WooCommerce answers", 'stock_quantity "abc"', ("10", "abc"))(
    _woo_product_case(_set("stock_quantity", "abc")))
case("woo-stock-quantity-true", "WooCommerce answers", "stock_quantity true", ("10", "true"))(
    _woo_product_case(_set("stock_quantity", True)))
case("woo-manage-stock-yes", "WooCommerce answers", 'manage_stock "yes"', ("10", "yes"))(
    _woo_product_case(_set("manage_stock", "yes")))
case("woo-sku-number", "WooCommerce answers", "sku as a number", ("10",))(
    _woo_product_case(_set("sku", 1234)))
case("woo-meta-data-object", "WooCommerce answers", "meta_data as an object", ("10", "meta_data"))(
    _woo_product_case(_set("meta_data", {"_stock_sync_exclude": "yes"})))
case("woo-stock-status-unknown", "WooCommerce answers", 'stock_status "sold" on an unmanaged product',
     ("19", "sold"))(
    _woo_product_case(lambda p, page: next(x for x in page if x["id"] == 19).update(stock_status="sold")))
case("woo-product-without-id", "WooCommerce answers", "a product without id", ("Model product 10", "id"))(
    _woo_product_case(lambda p, _page: p.pop("id")))
case("woo-product-id-text", "WooCommerce answers", 'a product with id "ten"', ("ten",))(
    _woo_product_case(lambda p, _page: p.update(id="ten")))
case("woo-product-type-unknown", "WooCommerce answers", 'type "bundle"', ("Model product 10", "type"))(
    _woo_product_case(_set("type", "bundle")))


def _woo_page_case(body, headers, needles_ok=True, times: int = 6) -> Callable[[World], dict]:
    def run(w: World) -> dict:
        _start(w)
        w.purchase(1002, 3)
        w.woo.reset_stats()
        _serve_woo(w, r"/products$", body, headers=headers, times=times)
        out, since = _stock(w)
        writes = {k: v for k, v in w.woo.stats().items() if "batch" in k}
        problems = [f"the store was written from an unusable products page: {writes}"] if writes else []
        if not out.get("_failed"):
            problems.append("the run succeeded on an unusable products page")
        return {"seen": _seen(w, out, since), "problems": problems}
    return run


case("woo-page-html", "WooCommerce answers", "a products page answered with HTML", ("WooCommerce", "/products"))(
    _woo_page_case("<!DOCTYPE html><html><body>Maintenance</body></html>", _pages(6)))
case("woo-page-object", "WooCommerce answers", "a products page that is an object", ("WooCommerce", "/products"))(
    _woo_page_case({"products": []}, _pages(6)))
case("woo-total-pages-abc", "WooCommerce answers", 'X-WP-TotalPages "abc"', ("worked",))(
    lambda w: _woo_product_case(lambda p, page: None, headers={"X-WP-TotalPages": "abc"})(w))


def _total_pages_missing(w: World) -> dict:
    """Page 1 answered without X-WP-TotalPages: the sync must still read page 2 (a short/empty page ends it)."""
    _start(w)
    with w.unfaulted(w.woo):
        for i in range(100):  # 106 top-level products: two pages
            w.woo_call("POST", "/products", json={"name": f"Filler {i}", "sku": f"FILL-{i}", "regular_price": "1",
                                                  "manage_stock": True, "stock_quantity": 1})
    page1 = w.woo_call("GET", "/products", params={"per_page": 100, "orderby": "id", "order": "asc"})
    _serve_woo(w, r"/products$", page1, headers={"X-WP-Total": "106"})  # no X-WP-TotalPages
    # a card for a product on page 2 (the last filler) that must be synced
    last = max(p["id"] for p in w.woo_call("GET", "/products", params={"per_page": 100, "page": 2, "orderby": "id",
                                                                         "order": "asc"}))
    with w.unfaulted(w.og):
        card = w.og.call("/accounting/incomeitems/create/", {"IncomeItem": {
            "Name": "Filler card", "SKU": "", "ExternalIdentifier": str(last), "Currency": "ILS"}})["Data"]["EntityID"]
    w.purchase(card, 9)
    out, since = _stock(w)
    have = w.woo_products()[last]["stock_quantity"]
    problems = [] if have == 9 else [f"page 2 was never read: product {last} (page 2) has {have}, not 9"]
    return {"seen": _seen(w, out, since), "problems": problems}


case("woo-total-pages-missing", "WooCommerce answers", "a products page without X-WP-TotalPages (2 pages)",
     ("WooCommerce",))(_total_pages_missing)


def _variations_html(w: World) -> dict:
    """One parent's variations page is an HTML page (a WAF, a maintenance page): the store cannot be read
    whole, so the run may stop, but with a message naming the page, and writing nothing."""
    _start(w)
    w.purchase(1002, 3)
    w.woo.reset_stats()
    _serve_woo(w, r"/products/12/variations$", "<html>oops</html>", headers=_pages(2), times=6)
    out, since = _stock(w)
    writes = {k: v for k, v in w.woo.stats().items() if "batch" in k}
    problems = [f"written from a partly unreadable store: {writes}"] if writes and _woo(w, 13)["stock_quantity"] != 10 \
        else []
    return {"seen": _seen(w, out, since), "problems": problems}


case("woo-variations-html", "WooCommerce answers", "one product's variations answered with HTML",
     ("12", "variations", "HTML"))(_variations_html)


# ----------------------------------------------------------------------------- orders
def _order_case(mutate, needles_order=True) -> Callable[[World], dict]:
    """Two paid orders; the first one is served bad; the second must be documented."""

    def run(w: World) -> dict:
        _start(w)
        bad = w.create_order([(w.sellables[0], 1)], "processing")
        good = w.create_order([(w.sellables[1], 1)], "processing")
        orders = w.woo_call("GET", "/orders", params={"include": f"{bad},{good}", "orderby": "id", "order": "asc"})
        mutate(next(o for o in orders if o["id"] == bad))
        _serve_woo(w, r"/orders$", orders, headers=_pages(2), times=1)
        out, since = _orders(w)
        w.note_documents()
        problems = [] if w.orders[good].sale_id else [f"the good order {good} was not documented"]
        if w.orders[bad].sale_id and mutate is not _noop:
            doc = w.og.document(w.orders[bad].sale_id)
            problems.append(f"the bad order {bad} was documented anyway (document {doc['id']}, {doc['gross']})")
        result = {"seen": _seen(w, out, since), "problems": problems, "order": bad}
        return result

    return run


def _noop(order):
    return None


def _line(key, value):
    def mutate(order):
        order["line_items"][0][key] = value
    return mutate


case("order-line-without-product", "orders", "a line whose product was deleted (product_id 0)", ("product",))(
    _order_case(lambda o: o["line_items"][0].update(product_id=0, variation_id=0)))
case("order-total-abc", "orders", 'an order total "abc"', ("abc",))(_order_case(lambda o: o.update(total="abc")))
case("order-quantity-abc", "orders", 'a line quantity "abc"', ("abc",))(_order_case(_line("quantity", "abc")))
case("order-quantity-negative", "orders", "a line quantity -2", ("-2",))(_order_case(_line("quantity", -2)))
case("order-line-total-abc", "orders", 'a line total "abc"', ("abc",))(_order_case(_line("total", "abc")))
case("order-currency-unknown", "orders", 'currency "XYZ"', ("XYZ",))(_order_case(lambda o: o.update(currency="XYZ")))
case("order-lines-missing", "orders", "an order with no line_items key", ("line",))(
    _order_case(lambda o: o.pop("line_items")))


def _orders_page_html(w: World) -> dict:
    _start(w)
    w.create_order([(w.sellables[0], 1)], "processing")
    w.woo.reset_stats()
    _serve_woo(w, r"/orders$", "<html>Service unavailable</html>", headers=_pages(1), times=6)
    out, since = _orders(w)
    problems = [] if out.get("_failed") else ["the run succeeded on an unusable orders page"]
    if w.og.documents():
        problems.append("a document was created from an unusable orders page")
    return {"seen": _seen(w, out, since), "problems": problems}


case("orders-page-html", "orders", "an orders page answered with HTML", ("WooCommerce", "/orders"))(_orders_page_html)


def _refunds_html(w: World) -> dict:
    _start(w)
    oid = w.create_order([(w.sellables[0], 2)], "processing")
    other = w.create_order([(w.sellables[1], 1)], "processing")
    w.run_orders("manual")
    w.refund(oid, full=False, restock=True, amount_only=False)
    w.refund(other, full=False, restock=True, amount_only=False)
    _serve_woo(w, rf"/orders/{oid}/refunds$", "<html>oops</html>", headers=_pages(1), times=6)
    out, since = _orders(w)
    credits = w.og.credits_of(w.orders[other].sale_id)["credit_ids"]
    problems = [] if credits else [f"the other order's refund ({other}) was not credited"]
    return {"seen": _seen(w, out, since), "problems": problems}


case("refunds-page-html", "orders", "one order's refunds answered with HTML", ("refund",))(_refunds_html)


# ----------------------------------------------------------------------------- params
def _skus_case(skus: list[str], synced: bool) -> Callable[[World], dict]:
    def run(w: World) -> dict:
        _start(w)
        w.purchase(1001, 3)
        out, since = _stock(w, {"skus": skus})
        have = _woo(w, 10)["stock_quantity"]
        problems = [] if (have == 13) == synced else [f"Woo 10 is {have} after skus={skus}"]
        return {"seen": _seen(w, out, since), "problems": problems}
    return run


case("param-skus-unknown", "params", "skus naming no product", ("NOPE-1",))(_skus_case(["NOPE-1"], False))
case("param-skus-one-unknown", "params", "skus with one typo beside a good SKU", ("MB-1O",))(
    _skus_case(["MB-10", "MB-1O"], True))
case("param-skus-lowercase", "params", "skus in the wrong case", ("mb-10",))(_skus_case(["mb-10"], False))


def _order_ids_unknown(w: World) -> dict:
    _start(w)
    oid = w.create_order([(w.sellables[0], 1)], "processing")
    out, since = _orders(w, {"order_ids": [oid, 987654]})
    w.note_documents()
    problems = [] if w.orders[oid].sale_id else ["the named good order was not documented"]
    return {"seen": _seen(w, out, since), "problems": problems}


case("param-order-ids-unknown", "params", "order_ids naming an order that does not exist", ("987654",))(
    _order_ids_unknown)


# ----------------------------------------------------------------------------- connections
def _connection_case(conn: str, edit: Callable[[dict, World], None], flow: str = "stock",
                     secret_free: tuple[str, ...] = ()) -> Callable[[World], dict]:
    """One connection set up wrong: the run stops before writing anything, with a message naming it."""
    var = f"AIRFLOW_CONN_{conn.upper()}"

    def run(w: World) -> dict:
        _start(w)
        w.create_order([(w.sellables[0], 1)], "processing")
        w.merchant_stock(w.sellables[1], 4)
        original = os.environ[var]
        spec = json.loads(original)
        edit(spec, w)
        os.environ[var] = json.dumps(spec)
        w.woo.reset_stats()
        w.og.reset_stats()
        try:
            out, since = _stock(w) if flow == "stock" else _orders(w)
        finally:
            os.environ[var] = original
        writes = {k: v for k, v in {**w.woo.stats(), **w.og.stats()}.items()
                  if "batch" in k or "create" in k or k.startswith(("PUT", "POST /orders"))}
        problems = [f"writes happened: {writes}"] if writes else []
        if not out.get("_failed"):
            problems.append("the run succeeded")
        seen = _seen(w, out, since)
        for secret in secret_free:
            if secret in seen + "\n".join(line for _, line in w.capture.lines[since:]):
                problems.append("the secret from the URL appears in what the run shows")
        return {"seen": seen, "problems": problems}

    return run


def _extra(key, value):
    def edit(spec, _w):
        spec.setdefault("extra", {})[key] = value
    return edit


def _host(value):
    def edit(spec, w):
        spec["host"] = value(w) if callable(value) else value
    return edit


WOO, OG = "woocommerce_default", "officeguy_default"
case("conn-woo-timeout-abc", "connections", 'WooCommerce extra timeout "abc"', (WOO, "timeout", "abc"))(
    _connection_case(WOO, _extra("timeout", "abc")))
case("conn-og-timeout-abc", "connections", 'OfficeGuy extra timeout "abc"', (OG, "timeout", "abc"))(
    _connection_case(OG, _extra("timeout", "abc")))
case("conn-woo-timeout-negative", "connections", "WooCommerce extra timeout -1", (WOO, "timeout"))(
    _connection_case(WOO, _extra("timeout", -1)))
case("conn-woo-max-attempts", "connections", 'WooCommerce extra max_attempts "x"', (WOO, "max_attempts"))(
    _connection_case(WOO, _extra("max_attempts", "x")))
case("conn-og-backoff", "connections", 'OfficeGuy extra backoff_seconds "soon"', (OG, "backoff_seconds"))(
    _connection_case(OG, _extra("backoff_seconds", "soon")))
case("conn-og-rate-limit", "connections", 'OfficeGuy extra rate_limit_per_minute "fast"',
     (OG, "rate_limit_per_minute"))(_connection_case(OG, _extra("rate_limit_per_minute", "fast")))
case("conn-woo-verify-missing-file", "connections", "WooCommerce verify_ssl naming a missing file",
     (WOO, "verify_ssl", "/nonexistent/ca.pem"))(_connection_case(WOO, _extra("verify_ssl", "/nonexistent/ca.pem")))
case("conn-woo-auth-digest", "connections", 'WooCommerce extra auth "digest"', (WOO, "digest"))(
    _connection_case(WOO, _extra("auth", "digest")))
case("conn-woo-basic-over-http", "connections", "WooCommerce basic auth over plain http", (WOO, "HTTPS"))(
    _connection_case(WOO, lambda s, w: (s.update(host=w.woo.url.replace("https://", "http://")),
                                        s["extra"].update(auth="basic"))))
case("conn-woo-no-password", "connections", "WooCommerce without consumer secret", (WOO, "secret"))(
    _connection_case(WOO, lambda s, w: s.update(password="")))
case("conn-woo-wrong-secret", "connections", "WooCommerce with a wrong consumer secret", (WOO, "consumer"))(
    _connection_case(WOO, lambda s, w: s.update(password="cs_wrong_wrong_wrong")))
case("conn-og-wrong-key", "connections", "OfficeGuy with a wrong API key", (OG, "API key"))(
    _connection_case(OG, lambda s, w: s.update(password="wrong-api-key-123")))
case("conn-og-company-abc", "connections", 'OfficeGuy Company ID "abc"', (OG, "Company ID"))(
    _connection_case(OG, lambda s, w: s.update(login="abc")))
case("conn-woo-url-userinfo", "connections", "a store URL with user:pass@", (WOO, "password"))(
    _connection_case(WOO, _host(lambda w: w.woo.url.replace("https://", "https://admin:hunter2secret@")),
                     secret_free=("hunter2secret",)))
case("conn-og-url-userinfo", "connections", "an OfficeGuy URL with user:pass@", (OG, "password"))(
    _connection_case(OG, _host(lambda w: w.og.url.replace("http://", "http://admin:hunter2secret@")),
                     secret_free=("hunter2secret",)))
case("conn-og-host-without-scheme", "connections", "an OfficeGuy host without scheme (plain-HTTP server)",
     (OG, "http://"))(_connection_case(OG, _host(lambda w: w.og.url.replace("http://", ""))))
case("conn-woo-wrong-port", "connections", "a store URL nobody answers on", (WOO, "127.0.0.1:9"))(
    _connection_case(WOO, _host("https://127.0.0.1:9")))


def _url_suffix_case(suffix: str) -> Callable[[World], dict]:
    """A store URL pasted with its API path: it works (the path is dropped) or is refused by name."""

    def run(w: World) -> dict:
        _start(w)
        w.purchase(1001, 3)
        var = "AIRFLOW_CONN_WOOCOMMERCE_DEFAULT"
        original = os.environ[var]
        spec = json.loads(original)
        spec["host"] = w.woo.url + suffix
        os.environ[var] = json.dumps(spec)
        try:
            out, since = _stock(w)
        finally:
            os.environ[var] = original
        problems = [] if _woo(w, 10)["stock_quantity"] == 13 else [
            f"a store URL ending in {suffix} did not work: {out.get('_failed')}"]
        return {"seen": _seen(w, out, since) + "\n(worked)", "problems": problems}

    return run


case("conn-woo-host-wp-json", "connections", "a store URL ending in /wp-json", ("worked",))(_url_suffix_case("/wp-json"))
case("conn-woo-host-wc-v3", "connections", "a store URL ending in /wp-json/wc/v3", ("worked",))(
    _url_suffix_case("/wp-json/wc/v3/"))


# ----------------------------------------------------------------------------- settings
def _setting_case(name: str, value: str) -> Callable[[World], dict]:
    """A bad setting fails the DAG files' import (what the Airflow UI shows) with a message naming it."""

    def run(w: World) -> dict:
        import importlib

        from officeguy_woocommerce.include import config

        original = os.environ.get(name)
        os.environ[name] = value
        seen, problems = [], []
        try:
            for module in ("officeguy_stock_to_woocommerce", "woocommerce_orders_to_officeguy"):
                try:
                    importlib.reload(importlib.import_module(module))
                except Exception as exc:  # noqa: BLE001 - what the DAG processor reports
                    seen.append(f"{module}: {type(exc).__name__}: {exc}")
                else:
                    problems.append(f"the DAG {module} imports with {name}={value!r}")
            try:
                config.load()
            except config.ConfigError as exc:
                seen.append(str(exc))
        finally:
            if original is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = original
        return {"seen": "\n".join(seen), "problems": problems}

    return run


for _name, _value in [
    ("STOCK_SYNC_ORDER_STATUSES", "processing,completed,failed"), ("STOCK_SYNC_ORDER_STATUSES", "pending"),
    ("STOCK_SYNC_ORDER_STATUSES", "processing,cancelled"), ("STOCK_SYNC_ORDER_STATUSES", "refunded"),
    ("STOCK_SYNC_ORDER_STATUSES", "checkout-draft"), ("STOCK_SYNC_ORDER_STATUSES", "paid"),
    ("STOCK_SYNC_ORDER_STATUSES", ","), ("STOCK_SYNC_BRAKE_SHARE", "abc"), ("STOCK_SYNC_BRAKE_SHARE", "2"),
    ("STOCK_SYNC_GO_LIVE", "yesterday"), ("STOCK_SYNC_MAX_ATTEMPTS", "x"), ("STOCK_SYNC_SCHEDULE", "hourly"),
    ("STOCK_SYNC_ORDERS_EVERY", "7"), ("STOCK_SYNC_DOCUMENT_TYPE", "quote"), ("STOCK_SYNC_CREDIT_TYPE", "refund"),
    ("STOCK_SYNC_WINDOW_OVERLAP_MINUTES", "-5"), ("STOCK_SYNC_GATEWAY_RULES", "cod=cash"),
    ("STOCK_SYNC_DOCUMENT_LANGUAGE", "klingon"), ("STOCK_SYNC_MATCH_BY_NAME", "maybe"),
    ("STOCK_SYNC_TIMEZONE", "Mars/Olympus_Mons"),
]:
    case(f"setting-{_name.lower()}-{re.sub('[^a-z0-9]+', '-', _value.lower()).strip('-') or 'empty'}", "settings",
         f"{_name}={_value}", (_name, _value.strip(",") or _name))(_setting_case(_name, _value))


def _timezone_before_cards(w: World) -> dict:
    """An invalid STOCK_SYNC_TIMEZONE must stop the orders run before it creates any card or document."""
    _start(w)
    w.create_order([(w.sellables[6], 1)], "processing")  # a product with no card: the run would create one
    os.environ["STOCK_SYNC_TIMEZONE"] = "Mars/Olympus_Mons"
    try:
        out, since = _orders(w)
    finally:
        os.environ.pop("STOCK_SYNC_TIMEZONE", None)
    made = w.created_cards()
    problems = [f"the run created card(s) {made} before failing on the time zone"] if made else []
    return {"seen": _seen(w, out, since), "problems": problems}


case("setting-timezone-orders-run", "settings", "STOCK_SYNC_TIMEZONE invalid, orders run",
     ("STOCK_SYNC_TIMEZONE", "Mars/Olympus_Mons"))(_timezone_before_cards)


def _service_ids(w: World) -> dict:
    _start(w)
    os.environ["STOCK_SYNC_SERVICE_ITEM_IDS"] = "12,abc"
    try:
        out, since = _stock(w)
    finally:
        os.environ.pop("STOCK_SYNC_SERVICE_ITEM_IDS", None)
    return {"seen": _seen(w, out, since), "problems": [] if out.get("_failed") else ["the run succeeded"]}


case("setting-service-item-ids", "settings", "STOCK_SYNC_SERVICE_ITEM_IDS=12,abc",
     ("STOCK_SYNC_SERVICE_ITEM_IDS", "abc"))(_service_ids)


# ----------------------------------------------------------------------------- the test
def _check(case_: Case, world: World) -> list[str]:
    result = case_.run(world)
    seen = result["seen"].lower()
    problems = list(result["problems"])
    missing = [n for n in case_.needles if not any(alt.lower() in seen for alt in n.split("|"))]
    if missing:
        shown = " | ".join(line for line in result["seen"].splitlines() if line.strip())[:600]
        problems.append(f"not reported specifically: {missing} missing from what the operator sees: {shown!r}")
    leaks = world.leaks()
    problems += [str(v) for v in leaks]
    return problems


def _params():
    for c in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=f"BUG: {c.defect}")] if c.defect else []
        yield pytest.param(c, id=c.id, marks=marks)


@pytest.mark.parametrize("bad", list(_params()))
def test_bad_input_is_reported_and_isolated(bad: Case, world):
    problems = _check(bad, world)
    RESULTS[bad.id] = {"group": bad.group, "what": bad.what, "ok": not problems, "problems": problems,
                       "defect": bad.defect}
    assert not problems, f"{bad.what}:\n" + "\n".join(problems)


def test_the_campaign_tries_enough_bad_inputs():
    required = {"og-row-without-id", "og-id-A-17", "og-data-stock-object", "og-stock-envelope-array", "og-duplicate-id",
                "woo-stock-quantity-string", "woo-stock-quantity-fraction", "woo-page-html", "woo-total-pages-missing",
                "og-stock-true", "param-skus-unknown", "conn-og-host-without-scheme", "conn-woo-timeout-abc",
                "conn-woo-verify-missing-file", "conn-woo-host-wp-json", "setting-stock_sync_timezone-mars-olympus-mons",
                "setting-timezone-orders-run", "setting-stock_sync_order_statuses-processing-completed-failed",
                "conn-woo-url-userinfo"}
    ids = {c.id for c in CASES}
    assert required <= ids, required - ids
    assert len(CASES) >= 60


@pytest.fixture(scope="module", autouse=True)
def _write_results():
    yield
    path = stats_path()
    if path is None or not RESULTS:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(path.read_text()) if path.exists() else {}
    data["bad_inputs"] = {"tried": len(RESULTS), "cases": len(CASES), "results": RESULTS}
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False))
