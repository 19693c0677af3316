"""WooCommerceHook over real HTTP against the WooCommerce sandbox."""

from __future__ import annotations

import time

import pytest
import requests

from officeguy_woocommerce.common.http import (
    AmbiguousWriteError,
    AuthError,
    BusinessError,
    ConnectionConfigError,
)
from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook


def _create_products(hook: WooCommerceHook, n: int, prefix: str = "P", **fields) -> list[dict]:
    result = hook.batch("/products", create=[
        {"name": f"{prefix} {i}", "sku": f"{prefix}-{i:04d}", "regular_price": "10.00", "manage_stock": True,
         "stock_quantity": i % 7, **fields}
        for i in range(n)
    ])
    assert not result.errors, result.errors
    return result.created


def test_paging_walks_every_page_in_id_order_with_items_created_in_the_same_second(woo, woo_conn):
    hook = WooCommerceHook(woo_conn(woo))
    created = _create_products(hook, 250)
    assert len({p["date_created_gmt"] for p in created}) < 250  # many share a second

    woo.reset_stats()
    products = hook.list_products()

    ids = [p.id for p in products]
    assert ids == sorted(p["id"] for p in created)
    assert woo.stats().get("GET /products") == 3  # 100 + 100 + 50


def test_batch_over_100_is_split_so_the_store_never_answers_413(woo, woo_conn):
    hook = WooCommerceHook(woo_conn(woo))
    created = _create_products(hook, 150)
    woo.reset_stats()

    result = hook.update_products([{"id": p["id"], "stock_quantity": 42} for p in created])

    assert not result.errors
    assert len(result.updated) == 150
    assert woo.stats().get("POST /products/batch") == 2
    assert {p.stock_quantity for p in hook.list_products()} == {42}


def test_batch_item_errors_are_returned_not_raised(woo, woo_conn):
    hook = WooCommerceHook(woo_conn(woo))
    good = _create_products(hook, 2)

    result = hook.update_products([
        {"id": good[0]["id"], "stock_quantity": 5},
        {"id": 999999, "stock_quantity": 1},
        {"id": good[1]["id"], "stock_quantity": 0},
    ])

    assert [u["stock_quantity"] for u in result.updated] == [5, 0]
    assert [(e.id, e.code, e.status) for e in result.errors] == [(999999, "woocommerce_rest_product_invalid_id", 400)]
    assert hook.get_product(good[1]["id"]).stock_status == "outofstock"


def test_variations_are_written_through_their_parents_batch_endpoint(woo, woo_conn):
    hook = WooCommerceHook(woo_conn(woo))
    parent = hook.request("POST", "/products", json={
        "name": "חולצה", "type": "variable", "attributes": [{"name": "size", "variation": True, "options": ["S", "M"]}],
    }).json()
    made = hook.batch(f"/products/{parent['id']}/variations", create=[
        {"sku": f"TS-{s}", "regular_price": "50", "manage_stock": True, "stock_quantity": 3,
         "attributes": [{"name": "size", "option": s}]} for s in ("S", "M")
    ])
    woo.reset_stats()

    result = hook.update_variations(parent["id"], [{"id": made.created[0]["id"], "stock_quantity": 9}])

    assert not result.errors
    assert woo.stats() == {"POST /products/{id}/variations/batch": 1}
    by_id = {v.id: v for v in hook.list_stock_items() if v.parent_id == parent["id"]}
    assert by_id[made.created[0]["id"]].stock_quantity == 9
    assert by_id[made.created[1]["id"]].stock_quantity == 3


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_transient_errors_are_retried(woo, woo_conn, status):
    hook = WooCommerceHook(woo_conn(woo))
    _create_products(hook, 3)
    woo.arm_fault(kind="status", method="GET", path="/products$", status=status, times=2,
                  body={"code": "busy", "message": "try later"})
    woo.reset_stats()

    assert len(hook.list_products()) == 3
    assert woo.stats()["GET /products"] == 3


def test_retry_after_is_honoured(woo, woo_conn):
    hook = WooCommerceHook(woo_conn(woo))
    woo.arm_fault(kind="status", method="GET", path="/products$", status=429, times=1, headers={"Retry-After": "1"})
    started = time.monotonic()
    hook.list_products()
    assert time.monotonic() - started >= 1.0


def test_a_timeout_on_a_read_is_retried(woo, woo_conn):
    hook = WooCommerceHook(woo_conn(woo, timeout=0.5))
    _create_products(hook, 2)
    woo.arm_fault(kind="timeout", method="GET", path="/products$", seconds=1.5, times=1)
    assert len(hook.list_products()) == 2


def test_an_unanswered_create_is_ambiguous_and_not_resent(woo, woo_conn):
    hook = WooCommerceHook(woo_conn(woo))
    woo.arm_fault(kind="drop", method="POST", path="/products/batch$", times=1)
    with pytest.raises(AmbiguousWriteError, match="may have been made"):
        hook.batch("/products", create=[{"name": "X", "sku": "X-1", "regular_price": "1"}])
    assert [p.sku for p in hook.list_products()] == ["X-1"]  # committed exactly once


def test_a_business_error_is_not_retried_and_says_what_was_refused(woo, woo_conn):
    hook = WooCommerceHook(woo_conn(woo))
    product = _create_products(hook, 1)[0]
    woo.reset_stats()
    with pytest.raises(BusinessError, match=r"PUT /products/\d+.*rest_invalid_param"):
        hook.request("PUT", f"/products/{product['id']}", json={"stock_quantity": 2.5})
    assert woo.stats() == {"PUT /products/{id}": 1}


def test_oauth1_over_http_is_the_default_and_works(woo, woo_conn):
    hook = WooCommerceHook(woo_conn(woo))
    _create_products(hook, 1)
    assert hook.auth_mode == "oauth1"
    assert len(hook.list_products()) == 1


def test_basic_auth_over_http_is_refused_before_any_call(woo, woo_conn):
    hook = WooCommerceHook(woo_conn(woo, auth="basic"))
    with pytest.raises(ConnectionConfigError, match="only over HTTPS"):
        hook.list_products()
    assert woo.stats() == {}


@pytest.mark.parametrize("auth", ["basic", "query"])
def test_keys_over_https_with_the_sandbox_certificate(woo_https, woo_conn, auth):
    hook = WooCommerceHook(woo_conn(woo_https, auth=auth))
    _create_products(hook, 2)
    assert [p.sku for p in hook.list_products()] == ["P-0000", "P-0001"]


def test_an_untrusted_certificate_is_a_clear_error(woo_https, woo_conn):
    hook = WooCommerceHook(woo_conn(woo_https, verify_ssl="true"))
    with pytest.raises(BusinessError, match="verify_ssl"):
        hook.list_products()


@pytest.mark.parametrize(("tls", "auth"), [(False, "oauth1"), (True, "basic"), (True, "query")])
def test_wrong_credentials_give_a_clear_error_without_the_secret(tmp_path, woo_conn, tls, auth):
    from sandbox.woocommerce.testing import woo_sandbox

    secret = "cs_" + "f" * 40
    with woo_sandbox(tmp_path / "s", tls=tls) as sandbox:
        hook = WooCommerceHook(woo_conn(sandbox, secret=secret, auth=auth, max_attempts=5))
        with pytest.raises(AuthError) as caught:
            hook.list_products()
        assert sum(sandbox.stats().values()) == 1  # a refused credential is not retried
    text = str(caught.value) + repr(caught.value.args)
    assert secret not in text and sandbox.consumer_key not in text
    assert "woocommerce_default" in text and "consumer key" in text
    # nothing chained: a library's exception text (URLs with keys) never reaches a traceback
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or caught.value.__suppress_context__


def test_test_connection_answers_the_ui_button(woo, woo_conn):
    ok, message = WooCommerceHook(woo_conn(woo)).test_connection()
    assert ok, message
    assert woo.url in message


def test_orders_are_listed_by_modified_window_in_gmt(woo, woo_conn):
    hook = WooCommerceHook(woo_conn(woo))
    product = _create_products(hook, 1)[0]
    order = hook.request("POST", "/orders", json={
        "set_paid": True, "line_items": [{"product_id": product["id"], "quantity": 1}],
    }).json()
    modified = order["date_modified_gmt"]
    from datetime import datetime, timedelta

    moment = datetime.fromisoformat(modified)
    found = hook.list_orders(modified_after=moment - timedelta(seconds=1), modified_before=moment + timedelta(seconds=1),
                             statuses=["processing", "completed"])
    assert [o["id"] for o in found] == [order["id"]]
    # bounds are inclusive to the second although WooCommerce compares strictly (A3)
    assert [o["id"] for o in hook.list_orders(modified_after=moment, modified_before=moment)] == [order["id"]]
    assert hook.list_orders(modified_after=moment + timedelta(seconds=1)) == []


def test_requests_ca_bundle_in_the_environment_does_not_override_the_connection(woo_https, woo_conn, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", requests.certs.where())
    hook = WooCommerceHook(woo_conn(woo_https))
    assert hook.list_products() == []
