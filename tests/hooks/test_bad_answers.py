"""Bad answers from either system are reported with what was sent and isolated (issue 9, defects 9, 10).

An OfficeGuy row without ``ID`` or with ``ID`` "A-17", stock ``true`` or an object, a duplicate id,
an envelope that is an array; a WooCommerce page answered with HTML, or without ``X-WP-TotalPages``.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from officeguy_woocommerce.common.http import BusinessError
from officeguy_woocommerce.include.stock_io import og_items_frame, woo_products_frame
from officeguy_woocommerce.include.stock_plan import PlanOptions, plan_stock
from officeguy_woocommerce.officeguy.hooks import OfficeGuyHook
from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook, WooProduct

STOCK_LIST = "/stock/stock/list/"


def _answer(og, data):
    og.arm_fault(kind="status", status=200, path=STOCK_LIST, body={"Status": 0, "UserErrorMessage": None,
                                                                  "TechnicalErrorDetails": None, "Data": data})


def test_malformed_officeguy_stock_rows_are_left_out_with_their_reason(og, og_conn):
    og_conn(og)
    _answer(og, {"Stock": [
        {"ID": "A-17", "Name": "letters", "Stock": 3}, {"Name": "no id", "Stock": 2}, "not an object",
        {"ID": 5, "Name": "twice", "Stock": 1}, {"ID": 5, "Name": "twice", "Stock": 9},
        {"ID": 6, "Name": "boolean", "Stock": True}, {"ID": 7, "Name": "object", "Stock": {"qty": 4}},
        {"ID": 8, "Name": "fine", "Stock": 3.5}, {"ID": "9", "Name": "id as text", "Stock": 1},
    ]})
    hook = OfficeGuyHook()
    items = hook.list_stock()
    assert [(i.id, i.stock) for i in items] == [(6, "True"), (7, "{'qty': 4}"), (8, 3.5), (9, 1.0)]
    reasons = [r["reason"] for r in hook.rejected_stock_rows]
    assert len(reasons) == 5
    assert "'A-17'" in reasons[0] and "letters" in reasons[0]
    assert "no usable ID (None)" in reasons[1]
    assert "not an object" in reasons[2]
    assert all("item 5" in r and "2 times" in r for r in reasons[3:])


@pytest.mark.parametrize("data, shape", [([{"ID": 1}], "list"), ({"Stock": {"ID": 1}}, "Stock as dict")])
def test_an_officeguy_answer_in_an_undocumented_shape_says_so(og, og_conn, data, shape):
    og_conn(og)
    _answer(og, data)
    with pytest.raises(BusinessError) as caught:
        OfficeGuyHook().list_stock()
    assert shape in str(caught.value) and "officeguy_default" in str(caught.value)


def _woo(woo_id, qty, *, manage=True):
    return WooProduct.from_api({"id": woo_id, "type": "simple", "sku": f"S{woo_id}", "name": f"P{woo_id}",
                                "manage_stock": manage, "stock_quantity": qty, "stock_status": "instock"})


def test_stock_true_and_woo_quantities_that_are_not_whole_numbers_are_skipped_with_the_raw_value():
    og = og_items_frame(
        [type("Row", (), {"id": i, "name": f"P{w}", "external_identifier": str(w), "stock": s})()
         for i, w, s in ((1, 10, True), (2, 11, 4.0), (3, 12, 6.0), (4, 13, 7.0))], [])
    woo = woo_products_frame([_woo(10, 1), _woo(11, "5"), _woo(12, 5.5), _woo(13, 2)])
    plan = plan_stock(og, woo, {}, PlanOptions())
    assert plan.changes["woo_id"].tolist() == [13]  # only the well-formed pair is written
    skipped = plan.skipped.set_index("woo_id")
    assert "True" in skipped.loc[10, "detail"]
    assert "'5'" in skipped.loc[11, "detail"] and "5.5" in skipped.loc[12, "detail"]


class _Pages(BaseHTTPRequestHandler):
    """A store whose proxy drops X-WP-TotalPages (230 products), or answers page 2 with HTML."""

    html_on_page: int | None = None

    def do_GET(self):  # noqa: N802 - http.server's name
        page = int(parse_qs(urlsplit(self.path).query).get("page", ["1"])[0])
        if page == self.html_on_page:
            body, ctype = b"<html><body>Maintenance</body></html>", "text/html"
        else:
            ids = range((page - 1) * 100 + 1, min(page * 100, 230) + 1)
            body = json.dumps([{"id": i, "type": "simple", "sku": f"S{i}", "name": f"P{i}", "manage_stock": True,
                                "stock_quantity": 1, "stock_status": "instock"} for i in ids]).encode()
            ctype = "application/json"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def bare_store(monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AIRFLOW_CONN_BARE_STORE", json.dumps({
        "conn_type": "woocommerce", "host": f"http://127.0.0.1:{server.server_port}", "login": "ck_x",
        "password": "cs_y", "extra": {"backoff_seconds": 0.01, "max_attempts": 1}}))
    yield server
    server.shutdown()
    _Pages.html_on_page = None


def test_pages_are_read_until_a_short_page_when_the_page_count_header_is_missing(bare_store):
    ids = [p["id"] for page in WooCommerceHook("bare_store").iter_pages("/products") for p in page]
    assert ids == list(range(1, 231))


def test_a_page_answered_with_html_is_named(bare_store):
    _Pages.html_on_page = 2
    with pytest.raises(BusinessError) as caught:
        WooCommerceHook("bare_store").list_all("/products")
    assert "page 2" in str(caught.value) and "HTML page" in str(caught.value)
    assert "cs_y" not in str(caught.value)


def test_frames_keep_the_raw_values():
    frame = woo_products_frame([_woo(11, "5")])
    assert frame.loc[0, "bad_stock"] == "stock_quantity '5'" and pd.isna(frame.loc[0, "stock_quantity"])
