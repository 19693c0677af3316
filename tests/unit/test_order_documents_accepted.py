"""The payloads of include/documents/ are accepted by the OfficeGuy sandbox, end to end.

Each test runs a real sandbox server (sandbox/officeguy), creates the cards `resolve_lines` asks
for, posts the built document to `/accounting/documents/create/` and reads back what OfficeGuy
recorded: the document value, the payments, the lines, the customer and the stock effect
(officeguy-api.md 1.5c-e, section 7).
"""

from __future__ import annotations

import datetime as dt

import pytest

from officeguy_woocommerce.include.documents import (
    DocumentRequest,
    DocumentSettings,
    build_credit_document,
    build_document,
    resolve_lines,
)
from sandbox.officeguy.testing import og_sandbox
from tests.unit.test_order_documents import EMPTY_BILLING, fee, li, order, refund, rli, ship, vat_line, with_meta

TODAY = dt.date(2026, 3, 10)
STORE = "https://shop.example.com"


@pytest.fixture
def og(tmp_path):
    with og_sandbox(tmp_path / "og", today=TODAY.isoformat()) as sandbox:
        yield sandbox


def ok(answer):
    assert answer["Status"] == 0, answer
    return answer["Data"]


def cards_for(og, o, item_map=None, stock=10):
    """Resolve the order's lines, create the missing cards (as the hook does) and stock them."""
    resolution = resolve_lines(o, item_map or {}, [])
    ids = dict(resolution.og_item_ids)
    for card in resolution.needs_card:
        created = ok(og.call("/accounting/incomeitems/create/", {"IncomeItem": {
            "Name": card.name, "SKU": card.sku, "ExternalIdentifier": card.external_identifier,
            "Price": card.price, "Currency": card.currency}}))
        ids[card.woo_id] = created["EntityID"]
        if stock:  # a purchase order (type 11) puts stock on the card (2.2, section 7)
            ok(og.call("/accounting/documents/create/", {
                "Details": {"Type": 11, "Customer": {"Name": "Supplier"}},
                "Items": [{"Quantity": stock, "UnitPrice": 1, "Item": {"ID": created["EntityID"]}}],
                "VATIncluded": True}))
    return ids


def stock_of(og, item_id):
    return ok(og.call("/stock/stock/list/", {"ItemIDs": [item_id]}))["Stock"][0]["Stock"]


def create(og, request):
    assert isinstance(request, DocumentRequest), request
    data = ok(og.call("/accounting/documents/create/", request.payload))
    return ok(og.call("/accounting/documents/getdetails/", {"DocumentID": data["DocumentID"]}))


def items_named(og, name):
    listed = ok(og.call("/accounting/incomeitems/list/", {"Paging": {"StartIndex": 0, "PageSize": 1000}}))
    return [i for i in listed["IncomeItems"] if i["Name"] == name]


def sale(og, o, settings=None, item_map=None):
    ids = cards_for(og, o, item_map)
    request = build_document(o, store=STORE, settings=settings or DocumentSettings(), og_item_ids=ids, today=TODAY)
    return request, create(og, request), ids


def test_paid_order_with_shipping_and_fee_is_accepted_and_takes_stock(og):
    o = order(lines=[li(1, "Widget", 24, 3, "30.00", "5.40", sku="W-1"), li(2, "Gadget", 25, 1, "12.50", "2.25")],
              shipping=[ship(total="20.00", tax="3.60")], fees=[fee(total="5.00", tax="0.90")], transaction_id="TX-9")
    request, doc, ids = sale(og, o)
    header = doc["Document"]
    assert header["Type"] == 1 and header["DocumentValue"] == request.total == 79.65
    assert header["ExternalReference"] == "woo:shop.example.com:101"
    assert header["Date"] == "2026-03-09T00:00:00" and header["Currency"] == 0
    assert header["Customer"]["Name"] == "Ann Buyer"
    assert [(i["Quantity"], i["Item"]["ID"]) for i in doc["Items"][:2]] == [(3, ids[24]), (1, ids[25])]
    assert [p["Amount"] for p in doc["Payments"]] == [79.65]
    assert (stock_of(og, ids[24]), stock_of(og, ids[25])) == (7, 9)
    # the cards made from the lines carry the Woo id, so stock/list names the product (2.1)
    assert items_named(og, "Widget")[0]["ExternalIdentifier"] == "24"


def test_shipping_and_fees_reuse_one_card_each(og):
    ids = cards_for(og, order(lines=[li(1, "Widget", 24)]))
    for n in (1, 2, 3):
        o = order(100 + n, [li(1, "Widget", 24, 1, "10.00")], shipping=[ship(total="15.00")],
                  fees=[fee(name=f"Wrap {n}", total="2.00")])
        sale(og, o, item_map=ids)
    assert len(items_named(og, "Shipping")) == 1
    assert len(items_named(og, "Fee")) == 1


@pytest.mark.parametrize("doc_type, payments", [(0, 0), (1, 1), (2, 1)])
def test_each_document_type_is_accepted(og, doc_type, payments):
    request, doc, _ = sale(og, order(), DocumentSettings(document_type=doc_type))
    assert doc["Document"]["Type"] == doc_type
    assert doc["Document"]["DocumentValue"] == request.total == 40.0
    assert len(doc["Payments"]) == payments


def test_usd_order_is_accepted_in_document_currency(og):
    request, doc, _ = sale(og, order(currency="USD", shipping=[ship(total="5.00")]))
    assert doc["Document"]["Currency"] == 1
    assert doc["Document"]["DocumentValue"] == request.total == 45.0
    assert doc["Document"]["CompanyValue"] == round(45.0 * 3.6, 2)  # the sandbox's fixed rate


@pytest.mark.parametrize("lines, total", [
    ([li(1, "Third", 24, 3, "10.00")], 10.0),
    ([li(1, "Third", 24, 3, "10.01")], 10.01),
    ([li(1, "Seventh", 24, 7, "10.00", "1.80"), li(2, "Other", 25, 3, "0.10")], 11.9),
])
def test_rounding_line_makes_payments_equal_the_document(og, lines, total):
    request, doc, _ = sale(og, order(lines=lines))
    assert doc["Document"]["DocumentValue"] == request.total == total
    assert doc["Payments"][0]["Amount"] == total


def test_order_with_200_lines_is_accepted(og):
    # every other line at 18 %, the rest zero-rated: a mixed-rate order, documented with per-line VAT
    nets = [round((i * 3.17) % 97 + 1, 2) for i in range(1, 201)]
    lines = [li(i, f"Product {i}", 1000 + i, i % 7 + 1, f"{net:.2f}", f"{round(net * 0.18, 2) if i % 2 else 0:.2f}")
             for i, net in zip(range(1, 201), nets, strict=True)]
    request, doc, ids = sale(og, order(lines=lines, shipping=[ship(total="15.00")],
                                       tax_lines=[vat_line(18, "0", 1), vat_line(0, "0", 2)]))
    assert request.payload["VATPerItem"] is True
    assert doc["Document"]["VAT"] == round(sum(float(ln["total_tax"]) for ln in lines), 2)
    assert doc["Document"]["DocumentValue"] == request.total
    assert len(doc["Items"]) == request.lines >= 201
    assert stock_of(og, ids[1007]) == 10 - (7 % 7 + 1)


def test_hebrew_emoji_and_customers(og):
    billing = {**EMPTY_BILLING, "first_name": "דנה 🌸", "last_name": "לוי", "email": "dana@example.test"}
    lines = [li(1, "חולצה כחולה 👕", 24, 1, "10.00")]
    _, first, ids = sale(og, order(1, lines, billing=billing, customer_id=7))
    _, second, _ = sale(og, order(2, lines, billing=billing, customer_id=7), item_map=ids)
    _, guest1, _ = sale(og, order(3, lines, billing=EMPTY_BILLING), item_map=ids)
    _, guest2, _ = sale(og, order(4, lines, billing=EMPTY_BILLING), item_map=ids)
    assert first["Document"]["Customer"]["Name"] == "דנה 🌸 לוי"
    assert first["Items"][0]["Description"] == "חולצה כחולה 👕"
    # a registered customer is found again by ExternalIdentifier; guests are not merged (2.2)
    assert first["Document"]["CustomerID"] == second["Document"]["CustomerID"]
    assert guest1["Document"]["CustomerName"] == "Guest"
    assert guest1["Document"]["CustomerID"] != guest2["Document"]["CustomerID"]


def test_old_order_is_dated_today_and_the_original_date_would_be_refused(og):
    o = order(date_paid="2026-01-15T10:00:00")
    request, doc, _ = sale(og, o)
    assert request.date_replaced and doc["Document"]["Date"] == "2026-03-10T00:00:00"
    assert "2026-01-15" in doc["Document"]["Description"]
    original = {**request.payload, "Details": {**request.payload["Details"], "Date": "2026-01-15"}}
    assert og.call("/accounting/documents/create/", original)["Status"] == 1


def test_custom_dates_keep_the_original_date(tmp_path):
    with og_sandbox(tmp_path / "og-custom", today=TODAY.isoformat(), enable_custom_document_dates=True) as og:
        request, doc, _ = sale(og, order(date_paid="2026-01-15T10:00:00"), DocumentSettings(custom_dates_allowed=True))
    assert not request.date_replaced and doc["Document"]["Date"] == "2026-01-15T00:00:00"


def test_discount_fee_is_accepted(og):
    request, doc, _ = sale(og, order(lines=[li(1, "Widget", 24, 2, "20.00")], fees=[fee(name="Discount",
                                                                                          total="-5.00")]))
    assert doc["Document"]["DocumentValue"] == request.total == 15.0


# --- credits -------------------------------------------------------------------------------------

PAID_LINES = [with_meta(li(3, "Order Widget", 24, 2, "20.00", sku="ORD-W"), _reduced_stock=2),
              li(4, "Gadget", 25, 1, "15.00", "2.70")]


def sold(og, settings=None):
    o = order(lines=PAID_LINES, shipping=[ship(51, total="10.00")])
    request, doc, ids = sale(og, o, settings)
    return o, doc["DocumentID"], ids


def credited(og, o, document_id, rf, ids, settings=None, **kw):
    request = build_credit_document(o, store=STORE, settings=settings or DocumentSettings(),
                                    original_document_id=document_id, refund=rf, og_item_ids=ids, today=TODAY, **kw)
    return request, create(og, request)


def restocked(o, line_id, units):
    lines = [with_meta(ln, _restock_refunded_items=units) if ln["id"] == line_id else ln for ln in o["line_items"]]
    return {**o, "line_items": lines}


@pytest.mark.parametrize("doc_type, credit_type, payments", [(0, 5, 0), (1, 6, 1), (2, 7, 1)])
def test_partial_refund_credit_is_accepted_and_returns_stock(og, doc_type, credit_type, payments):
    settings = DocumentSettings(document_type=doc_type)
    o, document_id, ids = sold(og, settings)
    assert stock_of(og, ids[24]) == 8
    request, doc = credited(og, restocked(o, 3, 1), document_id, refund(amount="10.00", lines=[rli(90, 3)]), ids,
                            settings)
    header = doc["Document"]
    assert (header["Type"], header["OriginalDocumentID"]) == (credit_type, document_id)
    assert header["DocumentValue"] == -request.total == -10.0  # stored negative (1.5d)
    assert header["ExternalReference"] == "woo:shop.example.com:101:refund:201"
    assert [p["Amount"] for p in doc["Payments"]] == [-10.0] * payments
    assert stock_of(og, ids[24]) == 9


def test_refund_without_restock_leaves_product_stock(og):
    o, document_id, ids = sold(og)
    request, doc = credited(og, o, document_id, refund(amount="20.00", lines=[rli(90, 3, -2, "-20.00")]), ids)
    assert doc["Document"]["DocumentValue"] == -20.0
    assert stock_of(og, ids[24]) == 8 and request.notes


def test_full_refund_credit_is_accepted(og):
    o, document_id, ids = sold(og)
    o = restocked(o, 3, 2)
    rf = refund(amount="47.70", lines=[rli(90, 3, -2, "-20.00"), rli(91, 4, -1, "-15.00", "-2.70", product_id=25)],
                shipping=[{"id": 92, "method_title": "Flat rate", "total": "-10.00", "total_tax": "0.00",
                           "meta_data": [{"key": "_refunded_item_id", "value": "51"}]}])
    request, doc = credited(og, o, document_id, rf, ids)
    assert doc["Document"]["DocumentValue"] == -47.7
    assert (stock_of(og, ids[24]), stock_of(og, ids[25])) == (10, 10)


@pytest.mark.parametrize("amount", ["7.50", "47.70"])
def test_amount_only_refund_credit_is_accepted_without_product_stock(og, amount):
    o, document_id, ids = sold(og)
    request, doc = credited(og, o, document_id, refund(amount=amount), ids)
    assert doc["Document"]["DocumentValue"] == -float(amount)
    assert (stock_of(og, ids[24]), stock_of(og, ids[25])) == (8, 9)


def cancelled(o):
    """The order as WooCommerce shows it after the cancellation: stock restored, `_reduced_stock` gone."""
    lines = [{**ln, "meta_data": [m for m in ln["meta_data"] if m["key"] != "_reduced_stock"]}
             for ln in o["line_items"]]
    return {**o, "status": "cancelled", "line_items": lines}


def test_cancellation_credit_is_accepted_and_returns_all_stock(og):
    o, document_id, ids = sold(og)
    request, doc = credited(og, cancelled(o), document_id, None, ids)
    assert doc["Document"]["DocumentValue"] == -47.7
    assert doc["Document"]["ExternalReference"] == "woo:shop.example.com:101:cancel"
    assert (stock_of(og, ids[24]), stock_of(og, ids[25])) == (10, 10)


def test_cancellation_after_a_refund_is_accepted(og):
    o, document_id, ids = sold(og)
    first = refund(amount="12.00", lines=[rli(90, 3)])
    credited(og, restocked(o, 3, 1), document_id, first, ids)
    # the ledger's record of the refund's credit: 12.00 credited, one unit of line 3 back on its card
    request, doc = credited(og, cancelled(restocked(o, 3, 1)), document_id, None, ids, prior_refunds=[first],
                            credited="12.00", returned_units={3: 1})
    assert doc["Document"]["DocumentValue"] == -request.total == -35.7
    assert (stock_of(og, ids[24]), stock_of(og, ids[25])) == (10, 10)
