"""Behaviour of the sandbox over real HTTP: paging, batches, stock rules, orders, refunds, date
filters, faults, persistence (woocommerce-api.md A2-A7)."""

from __future__ import annotations

import time

import pytest
import requests

from sandbox.common.server import ThreadServer
from sandbox.woocommerce.app import create_app
from sandbox.woocommerce.testing import woo_sandbox

T0 = 1795814400  # 2026-11-27T21:20:00Z (22:20:00 in Berlin), a fixed second for tests that need one


def _freeze(woo, when: float) -> None:
    woo.app.state.store.clock = lambda: when


def _product(session, woo, **fields) -> dict:
    response = session.post(f"{woo.api}/products", json={"regular_price": "10.00", **fields})
    assert response.status_code == 201, response.text
    return response.json()


def _get(session, woo, path: str, **params) -> dict | list:
    response = session.get(f"{woo.api}/{path}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


# --- paging -----------------------------------------------------------------------------------

def test_paging_by_id_is_stable_with_items_from_one_second(api):
    woo, session = api
    _freeze(woo, T0)  # every product has the same date_created: real WC would shuffle them (A3)
    for start in (0, 100, 200):
        body = {"create": [{"name": f"P{i}", "sku": f"P-{i:03d}"} for i in range(start, min(start + 100, 250))]}
        assert session.post(f"{woo.api}/products/batch", json=body).status_code == 200
    seen, links = [], []
    for page in (1, 2, 3):
        response = session.get(f"{woo.api}/products", params={"per_page": 100, "page": page, "orderby": "id", "order": "asc"})
        assert (response.headers["X-WP-Total"], response.headers["X-WP-TotalPages"]) == ("250", "3")
        seen += [p["id"] for p in response.json()]
        links.append(response.headers["Link"])
    assert seen == sorted(seen) and len(set(seen)) == 250
    assert 'rel="prev"' not in links[0] and 'rel="next"' in links[0]
    assert 'page=1&orderby=id&order=asc>; rel="prev"' in links[1] and 'rel="next"' in links[1]
    assert 'rel="next"' not in links[2]
    past = session.get(f"{woo.api}/products", params={"per_page": 100, "page": 9, "orderby": "id", "order": "asc"})
    assert past.status_code == 200 and past.json() == []
    assert past.headers["X-WP-Total"] == "250"
    assert past.headers["Link"] == f'<{woo.api}/products?per_page=100&page=3&orderby=id&order=asc>; rel="prev"'
    # the default date order is stable in the sandbox too (ties broken by id, descending)
    dated = [p["id"] for page in (1, 2, 3) for p in _get(session, woo, "products", per_page=100, page=page)]
    assert dated == sorted(seen, reverse=True)


@pytest.mark.parametrize("params, problem", [
    ({"per_page": 101}, "per_page must be between 1 (inclusive) and 100 (inclusive)"),
    ({"per_page": 0}, "per_page must be between 1 (inclusive) and 100 (inclusive)"),
    ({"page": 0}, "page must be greater than or equal to 1"),
    ({"modified_after": "yesterday"}, "Invalid date."),
    ({"orderby": "nope"}, "orderby is not one of"),
])
def test_bad_list_params(api, params, problem):
    woo, session = api
    response = session.get(f"{woo.api}/products", params=params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "rest_invalid_param"
    (name,) = params
    assert body["data"]["params"][name].startswith(problem)
    assert name in body["data"]["details"]


def test_filters(api):
    woo, session = api
    a = _product(session, woo, name="A", sku="F-A", manage_stock=True, stock_quantity=0)
    b = _product(session, woo, name="B", sku="F-B", status="draft")
    c = _product(session, woo, name="C", sku="F-C", type="variable")
    var = session.post(f"{woo.api}/products/{c['id']}/variations", json={"sku": "F-C-1", "regular_price": "2"}).json()
    assert [p["id"] for p in _get(session, woo, "products", sku=" F-A , F-C-1,NOPE")] == [var["id"], a["id"]]
    assert [p["id"] for p in _get(session, woo, "products", sku="F")] == []
    assert [p["id"] for p in _get(session, woo, "products", stock_status="outofstock")] == [a["id"]]
    assert [p["id"] for p in _get(session, woo, "products", status="draft")] == [b["id"]]
    assert [p["id"] for p in _get(session, woo, "products", type="variable")] == [c["id"]]
    assert [p["id"] for p in _get(session, woo, "products", include=f"{c['id']},{a['id']}", orderby="include")] == [c["id"], a["id"]]
    assert [p["id"] for p in _get(session, woo, "products", exclude=a["id"], orderby="id", order="asc")] == [b["id"], c["id"]]
    assert [p["id"] for p in _get(session, woo, "products", parent=c["id"])] == []  # variations are not listed
    assert _get(session, woo, "products", _fields="id,sku", include=a["id"]) == [{"id": a["id"], "sku": "F-A"}]
    assert [p["id"] for p in _get(session, woo, "products", search="B")] == [b["id"]]


# --- batches ----------------------------------------------------------------------------------

def test_batch_over_the_limit_does_nothing(api):
    woo, session = api
    body = {"create": [{"name": f"X{i}"} for i in range(60)], "update": [{"id": 1}] * 41}
    response = session.post(f"{woo.api}/products/batch", json=body)
    assert response.status_code == 413
    assert response.json()["code"] == "woocommerce_rest_request_entity_too_large"
    assert _get(session, woo, "products") == []
    woo.set_config(batch_limit=2)
    assert session.post(f"{woo.api}/products/batch", json={"delete": [1, 2, 3]}).status_code == 413


def test_batch_items_fail_one_by_one_and_are_not_validated(api):
    woo, session = api
    a = _product(session, woo, name="A", sku="B-A", manage_stock=True, stock_quantity=5)
    b = _product(session, woo, name="B", sku="B-B")
    body = {
        "create": [{"name": "Dup", "sku": "B-A"}, {"name": "New", "sku": "B-N"}],
        "update": [{"id": a["id"], "stock_quantity": "abc"}, {"id": 999999, "stock_quantity": 1},
                   {"sku": "B-B", "stock_quantity": 3}, {"id": b["id"], "stock_status": "bogus"}],
        "delete": [999998, b["id"]],
    }
    response = session.post(f"{woo.api}/products/batch", json=body)
    assert response.status_code == 200
    out = response.json()
    assert list(out) == ["create", "update", "delete"]
    assert out["create"][0] == {"id": 0, "error": {"code": "product_invalid_sku", "message": "Invalid or duplicated SKU.",
                                                   "data": {"status": 400, "resource_id": a["id"], "unique_sku": "B-A-1"}}}
    assert out["create"][1]["sku"] == "B-N"
    assert (out["update"][0]["stock_quantity"], out["update"][0]["stock_status"]) == (0, "outofstock")
    assert out["update"][1]["error"]["data"] == {"status": 400} and out["update"][1]["id"] == 999999
    assert out["update"][2]["id"] is None and out["update"][2]["error"]["code"] == "woocommerce_rest_product_invalid_id"
    assert out["update"][3]["stock_status"] == "instock"  # an unknown status becomes instock, no 400
    assert out["delete"][0] == {"id": 999998, "error": {"code": "woocommerce_rest_product_invalid_id",
                                                        "message": "Invalid ID.", "data": {"status": 404}}}
    assert out["delete"][1]["id"] == b["id"]
    assert session.get(f"{woo.api}/products/{b['id']}").status_code == 404  # batch delete is force


def test_write_delay_per_item(api):
    woo, session = api
    woo.set_config(write_delay_per_item=0.05)
    started = time.monotonic()
    session.post(f"{woo.api}/products/batch", json={"create": [{"name": f"D{i}"} for i in range(6)]})
    assert time.monotonic() - started >= 0.3


# --- stock rules ------------------------------------------------------------------------------

def test_stock_rules_on_single_writes(api):
    woo, session = api
    p = _product(session, woo, name="S", sku="S-1", manage_stock=True, stock_quantity=3, low_stock_amount=2)

    def put(**body):
        return session.put(f"{woo.api}/products/{p['id']}", json=body)

    assert put(stock_quantity=0).json()["stock_status"] == "outofstock"
    got = put(stock_quantity=-2, backorders="notify").json()
    assert (got["stock_status"], got["backordered"], got["backorders_allowed"]) == ("onbackorder", True, True)
    assert put(stock_quantity=7, stock_status="outofstock").json()["stock_status"] == "instock"  # ignored
    assert put(inventory_delta=-3).json()["stock_quantity"] == 4
    assert put(stock_quantity="4").status_code == 200
    for bad in ({"stock_quantity": 2.5}, {"stock_quantity": "abc"}, {"manage_stock": "yes"},
                {"backorders": "maybe"}, {"stock_status": "soldout"}):
        assert put(**bad).status_code == 400, bad
    woo.set_config(notify_no_stock_amount=4)
    assert put(stock_quantity=4, backorders="no").json()["stock_status"] == "outofstock"
    unmanaged = put(manage_stock=False, stock_status="onbackorder", stock_quantity=9).json()
    assert (unmanaged["stock_quantity"], unmanaged["backorders"], unmanaged["low_stock_amount"]) == (None, "no", None)
    assert (unmanaged["stock_status"], unmanaged["backordered"]) == ("onbackorder", True)


def test_duplicate_sku_across_products_and_variations(api):
    woo, session = api
    parent = _product(session, woo, name="T", sku="T", type="variable")
    session.post(f"{woo.api}/products/{parent['id']}/variations", json={"sku": "T-S"})
    dup = session.post(f"{woo.api}/products", json={"name": "X", "sku": "T-S"})
    assert dup.status_code == 400 and dup.json()["code"] == "product_invalid_sku"


def test_variations_and_parent_stock(api):
    woo, session = api
    tee = _product(session, woo, name="Tee", sku="TEE", type="variable", manage_stock=False)
    assert tee["stock_status"] == "outofstock"  # no variations yet
    base = f"{woo.api}/products/{tee['id']}/variations"
    s = session.post(base, json={"sku": "TEE-S", "regular_price": "15", "manage_stock": True, "stock_quantity": 0}).json()
    assert _get(session, woo, f"products/{tee['id']}")["stock_status"] == "outofstock"
    session.post(base, json={"sku": "TEE-L", "manage_stock": False, "stock_status": "onbackorder"})
    assert _get(session, woo, f"products/{tee['id']}")["stock_status"] == "onbackorder"
    session.put(f"{base}/{s['id']}", json={"stock_quantity": 4})
    parent = _get(session, woo, f"products/{tee['id']}")
    assert parent["stock_status"] == "instock" and len(parent["variations"]) == 2
    wrong = session.get(f"{woo.api}/products/{tee['id'] + 999}/variations/{s['id']}")
    assert wrong.status_code == 404 and wrong.json()["code"] == "woocommerce_rest_product_variation_invalid_id"

    mug = _product(session, woo, name="Mug", sku="MUG", type="variable", manage_stock=True, stock_quantity=20)
    red = session.post(f"{woo.api}/products/{mug['id']}/variations/batch",
                       json={"create": [{"sku": "MUG-R", "regular_price": "8"}]}).json()["create"][0]
    assert (red["manage_stock"], red["stock_quantity"], red["stock_status"]) == ("parent", 20, "instock")
    ignored = session.put(f"{woo.api}/products/{mug['id']}/variations/{red['id']}", json={"stock_quantity": 3}).json()
    assert ignored["stock_quantity"] == 20


# --- orders -----------------------------------------------------------------------------------

def test_order_stock_reduction_and_restore(api):
    woo, session = api
    w = _product(session, woo, name="Order Widget", sku="ORD-W", manage_stock=True, stock_quantity=10)
    b = _product(session, woo, name="Bulk", sku="BULK", regular_price="2.50", manage_stock=True, stock_quantity=9)
    order = session.post(f"{woo.api}/orders", json={
        "set_paid": True, "line_items": [{"product_id": w["id"], "quantity": 3}, {"sku": "BULK", "quantity": 1}],
        "shipping_lines": [{"method_id": "flat_rate", "method_title": "Flat", "total": "5.00"}],
    })
    assert order.status_code == 201
    o = order.json()
    assert (o["status"], o["total"], o["shipping_total"], o["total_tax"]) == ("processing", "37.50", "5.00", "0.00")
    assert o["date_paid"] is not None and o["line_items"][1]["price"] == 2.5
    assert _get(session, woo, f"products/{w['id']}")["stock_quantity"] == 7
    notes = [n["note"] for n in _get(session, woo, f"orders/{o['id']}/notes")]
    assert notes == ["Stock levels reduced: Order Widget (ORD-W) 10&rarr;7, Bulk (BULK) 9&rarr;8",
                     "Order status changed from Pending payment to Processing."]
    session.put(f"{woo.api}/orders/{o['id']}", json={"status": "completed"})
    assert _get(session, woo, f"products/{w['id']}")["stock_quantity"] == 7  # once per order
    session.put(f"{woo.api}/orders/{o['id']}", json={"status": "cancelled"})
    assert _get(session, woo, f"products/{w['id']}")["stock_quantity"] == 10
    assert _get(session, woo, f"products/{b['id']}")["stock_quantity"] == 9

    pending = session.post(f"{woo.api}/orders", json={"line_items": [{"product_id": w["id"], "quantity": 2}]}).json()
    assert pending["status"] == "pending" and _get(session, woo, f"products/{w['id']}")["stock_quantity"] == 10
    session.put(f"{woo.api}/orders/{pending['id']}", json={"status": "failed"})
    session.put(f"{woo.api}/orders/{pending['id']}", json={"status": "on-hold"})
    assert _get(session, woo, f"products/{w['id']}")["stock_quantity"] == 8
    session.put(f"{woo.api}/orders/{pending['id']}", json={"status": "failed"})  # no restore on failed
    assert _get(session, woo, f"products/{w['id']}")["stock_quantity"] == 8

    oversold = session.post(f"{woo.api}/orders", json={"set_paid": True, "line_items": [{"product_id": w["id"], "quantity": 100}]})
    assert oversold.status_code == 201
    after = _get(session, woo, f"products/{w['id']}")
    assert (after["stock_quantity"], after["stock_status"]) == (-92, "outofstock")

    unknown = session.post(f"{woo.api}/orders", json={"line_items": [{"sku": "NO-SUCH", "quantity": 1}]}).json()
    assert (unknown["line_items"][0]["product_id"], unknown["total"]) == (0, "0.00")


def test_order_of_parent_managed_variation_reduces_parent(api):
    woo, session = api
    _freeze(woo, T0)
    mug = _product(session, woo, name="Mug", sku="MUG", type="variable", manage_stock=True, stock_quantity=20)
    red = session.post(f"{woo.api}/products/{mug['id']}/variations", json={"sku": "MUG-R", "regular_price": "8",
                       "attributes": [{"name": "Color", "option": "Red"}]}).json()
    _freeze(woo, T0 + 30)
    order = session.post(f"{woo.api}/orders", json={"set_paid": True, "line_items": [{"sku": "MUG-R", "quantity": 2}]}).json()
    line = order["line_items"][0]
    assert (line["product_id"], line["variation_id"], line["name"], line["parent_name"]) == (mug["id"], red["id"], "Mug - Red", "Mug")
    assert line["meta_data"][0]["key"] == "color" and line["meta_data"][1]["key"] == "_reduced_stock"
    parent = _get(session, woo, f"products/{mug['id']}")
    variation = _get(session, woo, f"products/{mug['id']}/variations/{red['id']}")
    assert parent["stock_quantity"] == 18 and variation["stock_quantity"] == 18
    assert parent["date_modified_gmt"] == "2026-11-27T21:20:30"
    assert variation["date_modified_gmt"] == "2026-11-27T21:20:00"  # its own date does not move (rec 128)


def test_refund_restocks_and_api_refund_defaults_to_the_gateway(api):
    woo, session = api
    w = _product(session, woo, name="W", sku="W", manage_stock=True, stock_quantity=10)
    order = session.post(f"{woo.api}/orders", json={"payment_method": "bacs", "status": "completed",
                                                    "line_items": [{"product_id": w["id"], "quantity": 2}]}).json()
    item = order["line_items"][0]["id"]
    refund_body = {"amount": "10.00", "reason": "returned", "line_items": [{"id": item, "quantity": 1, "refund_total": 10}]}
    refused = session.post(f"{woo.api}/orders/{order['id']}/refunds", json=refund_body)
    assert refused.status_code == 500
    assert refused.json() == {"code": "woocommerce_rest_cannot_create_order_refund",
                              "message": "The payment gateway for this order does not support automatic refunds.",
                              "data": 500}
    assert _get(session, woo, f"products/{w['id']}")["stock_quantity"] == 8
    refund = session.post(f"{woo.api}/orders/{order['id']}/refunds", json={**refund_body, "api_refund": False})
    assert refund.status_code == 201
    assert refund.json()["id"] == order["id"] + 2  # the refused refund used up an id, as a real store's does
    assert refund.headers["Location"].endswith(f"/orders/(?P<order_id>[\\d]+)/refunds/{refund.json()['id']}")
    assert _get(session, woo, f"products/{w['id']}")["stock_quantity"] == 9
    after = _get(session, woo, f"orders/{order['id']}")
    assert after["refunds"] == [{"id": refund.json()["id"], "reason": "returned", "total": "-10.00"}]
    assert after["status"] == "completed"
    meta = {m["key"]: m["value"] for m in after["line_items"][0]["meta_data"]}
    assert meta == {"_reduced_stock": "1", "_restock_refunded_items": "1"}
    no_restock = session.post(f"{woo.api}/orders/{order['id']}/refunds", json={
        "amount": "10.00", "api_refund": False, "api_restock": False,
        "line_items": [{"id": item, "quantity": 1, "refund_total": 10}]}).json()
    assert no_restock["amount"] == "10.00" and _get(session, woo, f"products/{w['id']}")["stock_quantity"] == 9
    assert _get(session, woo, f"orders/{order['id']}")["status"] == "refunded"  # fully refunded now


def test_order_meta_notes_list_and_404(api):
    woo, session = api
    order = session.post(f"{woo.api}/orders", json={"meta_data": [{"key": "_ref", "value": "A"}, {"key": "k", "value": {"a": 1}}]}).json()
    updated = session.put(f"{woo.api}/orders/{order['id']}", json={"meta_data": [{"key": "_ref", "value": "B"}]}).json()
    assert [(m["key"], m["value"]) for m in updated["meta_data"]] == [("_ref", "B"), ("k", {"a": 1})]
    note = session.post(f"{woo.api}/orders/{order['id']}/notes", json={"note": "Synced"})
    assert note.status_code == 201 and note.json()["author"] == "WooCommerce"
    second = session.post(f"{woo.api}/orders", json={"status": "processing"}).json()
    listed = _get(session, woo, "orders", status="processing,pending", orderby="id", order="asc")
    assert [o["id"] for o in listed] == [order["id"], second["id"]]
    assert [o["id"] for o in _get(session, woo, "orders", status="processing")] == [second["id"]]
    missing = session.get(f"{woo.api}/orders/999999")
    assert missing.status_code == 404 and missing.json()["code"] == "woocommerce_rest_shop_order_invalid_id"
    bad = session.put(f"{woo.api}/orders/{order['id']}", json={"status": "shipped"})
    assert bad.status_code == 400 and "status" in bad.json()["data"]["params"]


# --- dates ------------------------------------------------------------------------------------

def test_modified_after_is_strict_and_shifts_suffixed_dates(api):
    """A3: strict ">", local vs GMT columns, and a Z/offset converted to site-local time."""
    woo, session = api
    _freeze(woo, T0)  # 21:20:00Z = 22:20:00 in Berlin
    a = _product(session, woo, name="A")
    _freeze(woo, T0 + 10)
    b = _product(session, woo, name="B")

    def ids(**params):
        return sorted(p["id"] for p in _get(session, woo, "products", **params))

    assert ids(modified_after="2026-11-27T21:20:00", dates_are_gmt="true") == [b["id"]]  # same second excluded
    assert ids(modified_after="2026-11-27T21:19:59", dates_are_gmt="true") == [a["id"], b["id"]]
    assert ids(modified_after="2026-11-27T22:20:00") == [b["id"]]  # naive = site-local by default
    assert ids(modified_after="2026-11-27T21:20:00Z") == [b["id"]]  # Z converted to local, compared to local
    assert ids(modified_after="2026-11-27T21:20:00+00:00") == [b["id"]]
    # Z + dates_are_gmt=true: converted to local (22:19:59) and compared with GMT: off by an hour
    assert ids(modified_after="2026-11-27T21:19:59Z", dates_are_gmt="true") == []
    assert ids(modified_before="2026-11-27T21:20:10", dates_are_gmt="true") == [a["id"]]
    _freeze(woo, T0 + 20)
    session.put(f"{woo.api}/products/{a['id']}", json={})  # a no-op save still bumps the date (rec 143)
    assert ids(modified_after="2026-11-27T21:20:10", dates_are_gmt="true") == [a["id"]]
    assert _get(session, woo, f"products/{a['id']}")["date_modified"] == "2026-11-27T22:20:20"


# --- delete -----------------------------------------------------------------------------------

def test_trash_then_force_delete(api):
    woo, session = api
    p = _product(session, woo, name="Gone", sku="GONE", status="draft")
    trashed = session.delete(f"{woo.api}/products/{p['id']}")
    assert trashed.status_code == 200 and trashed.json()["status"] == "draft"
    assert _get(session, woo, f"products/{p['id']}")["status"] == "trash"
    assert _get(session, woo, "products") == []
    assert [x["id"] for x in _get(session, woo, "products", status="trash")] == [p["id"]]
    assert session.post(f"{woo.api}/products", json={"name": "Again", "sku": "GONE"}).status_code == 201  # trash frees the SKU
    assert session.delete(f"{woo.api}/products/{p['id']}", params={"force": "true"}).status_code == 200
    assert session.get(f"{woo.api}/products/{p['id']}").status_code == 404


# --- faults -----------------------------------------------------------------------------------

def test_fault_status_503_does_nothing(api):
    woo, session = api
    woo.arm_fault(kind="status", method="POST", path="/products$", status=503, headers={"Retry-After": "1"})
    response = session.post(f"{woo.api}/products", json={"name": "N"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert _get(session, woo, "products") == []
    assert session.post(f"{woo.api}/products", json={"name": "N"}).status_code == 201


def test_fault_drop_after_commit(api):
    woo, session = api
    p = _product(session, woo, name="D", manage_stock=True, stock_quantity=1)
    woo.arm_fault(kind="drop", method="PUT", path=r"/products/\d+$")
    with pytest.raises((requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        session.put(f"{woo.api}/products/{p['id']}", json={"stock_quantity": 42})
    assert _get(session, woo, f"products/{p['id']}")["stock_quantity"] == 42


def test_fault_timeout_after_commit(api):
    woo, session = api
    woo.arm_fault(kind="timeout", method="POST", path="/products/batch$", seconds=1.0)
    with pytest.raises(requests.exceptions.Timeout):
        session.post(f"{woo.api}/products/batch", json={"create": [{"name": "T", "sku": "T-1"}]}, timeout=0.3)
    assert [p["sku"] for p in _get(session, woo, "products", sku="T-1")] == ["T-1"]


def test_call_counting_by_kind(api):
    woo, session = api
    p = _product(session, woo, name="C", type="variable")
    woo.reset_stats()
    session.get(f"{woo.api}/products", params={"per_page": 5})
    session.get(f"{woo.api}/products/{p['id']}/variations")
    session.post(f"{woo.api}/products/{p['id']}/variations/batch", json={})
    session.put(f"{woo.api}/products/{p['id']}", json={})
    session.get(f"{woo.api}/orders")
    assert woo.stats() == {"GET /products": 1, "GET /products/{id}/variations": 1,
                           "POST /products/{id}/variations/batch": 1, "PUT /products/{id}": 1, "GET /orders": 1}


# --- misc -------------------------------------------------------------------------------------

def test_routes_without_pretty_permalinks_and_unknown_routes(api):
    woo, session = api
    _product(session, woo, name="R")
    plain = session.get(f"{woo.url}/", params={"rest_route": "/wc/v3/products"})
    assert plain.status_code == 200 and plain.headers["X-WP-Total"] == "1"
    nope = session.get(f"{woo.api}/nope")
    assert nope.status_code == 404 and nope.json()["code"] == "rest_no_route"
    patch = session.delete(f"{woo.api}/products/batch")
    assert patch.json()["code"] == "rest_no_route"


def test_state_survives_a_restart_and_datasets_load_once(tmp_path):
    db = f"sqlite:///{tmp_path / 'keep.sqlite'}"
    app = create_app(db, dataset="demo")
    with ThreadServer(app, tls=None):
        pass
    store = app.state.store
    with store.engine.connect() as conn:
        from sqlalchemy import func, select

        from sandbox.woocommerce.store import products
        first = conn.execute(select(func.count()).select_from(products)).scalar()
    again = create_app(db, dataset="bench:50")  # not loaded: the database is not empty
    with again.state.store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(products)).scalar() == first
    assert first > 300  # 300 products of which some are variable, plus their variations


def test_woo_sandbox_config_overrides(tmp_path):
    with woo_sandbox(tmp_path, dataset="bench:20", batch_limit=5) as woo:
        assert woo.app.state.config["batch_limit"] == 5
        assert woo.app.state.config["home_url"] == woo.url
        with pytest.raises(KeyError):
            woo.set_config(nope=1)
