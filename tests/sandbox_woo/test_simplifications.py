"""Where the sandbox is deliberately simpler than a real WooCommerce 9.4.3, said out loud.

Each ``xfail(strict=True)`` asserts what the real store does; it fails on the sandbox, and would
turn into an error (XPASS) if the sandbox ever started doing it, so this list stays true.
"""

from __future__ import annotations

import pytest
from woo_replay import load

RECS = {r.number: r for r in load()}


def test_orders_carry_no_tax(api):
    """Taxes are off by default (``woocommerce_calc_taxes`` "no", like a fresh store): every *_tax is
    "0.00", tax_lines is empty, totals are price x quantity. test_taxes.py turns them on."""
    woo, session = api
    product = session.post(f"{woo.api}/products", json={"name": "Taxed", "regular_price": "19.99", "tax_status": "taxable"}).json()
    order = session.post(f"{woo.api}/orders", json={"line_items": [{"product_id": product["id"], "quantity": 3}]}).json()
    assert (order["total"], order["total_tax"], order["cart_tax"], order["tax_lines"]) == ("59.97", "0.00", "0.00", [])
    assert order["line_items"][0]["taxes"] == [] and order["line_items"][0]["subtotal_tax"] == "0.00"


@pytest.mark.xfail(strict=True, reason="real WooCommerce fills related_ids with random products of the same "
                                      "category (rec 12: [10]); the sandbox always returns []")
def test_related_ids(api):
    woo, session = api
    first = session.post(f"{woo.api}/products", json={"name": "One"}).json()
    second = session.post(f"{woo.api}/products", json={"name": "Two"}).json()
    assert second["related_ids"] == [first["id"]]


@pytest.mark.xfail(strict=True, reason="OPTIONS answers with the route's methods only, not the full "
                                      "schema and arguments of rec 168")
def test_options_returns_schema(api):
    woo, session = api
    body = session.options(f"{woo.api}/products").json()
    assert set(body) == set(RECS[168].json)


@pytest.mark.xfail(strict=True, reason="rec 57: real WooCommerce repeats oauth_signature in its Link header "
                                      "without the trailing '='; the sandbox repeats it as sent")
def test_link_repeats_oauth_signature_like_real(replayed):
    assert replayed[57].response.headers["Link"] == RECS[57].header("Link")


@pytest.mark.xfail(strict=True, reason="real WooCommerce 9.4.3 drops the id tie-breaker of orderby=date, so "
                                      "items from one second come back in arbitrary order and pages repeat "
                                      "items (rec 21, 23: product 13 twice); the sandbox's order is stable")
def test_date_order_repeats_items_across_pages(replayed):
    page1 = {p["id"] for p in replayed[21].body}
    page3 = {p["id"] for p in replayed[23].body}
    assert page1 & page3


@pytest.mark.xfail(strict=True, reason="order meta_data ids: real ones come from the meta table WooCommerce "
                                      "shares with its own hidden order meta (rec 91: 13); the sandbox counts "
                                      "only the visible meta")
def test_order_meta_ids_match(replayed):
    assert replayed[91].body["meta_data"][0]["id"] == RECS[91].json["meta_data"][0]["id"]
