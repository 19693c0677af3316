"""Table tests for the accounting rules of include/documents/ (its module docstring, "Rules").

One table per rule: an order in, the payload fields that rule decides out. Every built document is
also checked against `assert_invariants` (lines add up to the total to the cent, with per-item VAT;
payments equal the total; the sign follows `credit_sign`).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from officeguy_woocommerce.include.documents import (
    DocumentRequest,
    DocumentSettings,
    NotCredited,
    Parked,
    StoreTax,
    build_receipt_document,
)
from tests.unit.test_order_documents import (
    EMPTY_BILLING,
    PAID,
    REFUND_CARD,
    STORE,
    TODAY,
    assert_invariants,
    build,
    chain,
    credit,
    fee,
    items,
    li,
    order,
    refund,
    rli,
    ship,
    vat_line,
    with_meta,
)

TAXES_ON = StoreTax(calc_taxes=True)
TAXES_ON_INCL = StoreTax(calc_taxes=True, prices_include_tax=True)
ABSENT = object()
VAT_KEYS = ("VATIncluded", "VATRate", "VATPerItem")


def vat_fields(payload):
    return {k: payload[k] for k in VAT_KEYS if k in payload}


def no_vat(payload):
    return payload["Details"]["Customer"].get("NoVAT", ABSENT)


# --- VAT: the four modes -------------------------------------------------------------------------

EILAT = order(lines=[li(1, "Widget", 24, 2, "100.00"), li(2, "Gadget", 25, 1, "35.50")], tax_lines=[],
              total_tax="0.00")
EXPORT = order(lines=[li(1, "Widget", 24, 1, "100.00")], shipping=[ship(total="45.00")], tax_lines=[],
               total_tax="0.00", billing={**EMPTY_BILLING, "first_name": "Jo", "city": "Berlin", "country": "DE"})
SINGLE_RATE = order(lines=[li(1, "Widget", 24, 1, "100.00", "18.00"), li(2, "Gadget", 25, 2, "30.00", "5.40")],
                    tax_lines=[vat_line(18, "23.40")])
FRESH_PRODUCE = order(lines=[li(1, "Widget", 24, 1, "100.00", "18.00"), li(2, "Apples 1kg", 25, 2, "12.00")],
                      shipping=[ship(total="20.00", tax="3.60")],
                      tax_lines=[vat_line(18, "21.60"), vat_line(0, "0.00", 2)])
# Woo rounds the tax per line (0.1854 → 0.19, three times: 0.57); OfficeGuy on the total gets 0.56.
PER_LINE_ROUNDING = order(lines=[li(1, "Widget", 24, 1, "1.03", "0.19"), li(2, "Gadget", 25, 1, "1.03", "0.19"),
                                 li(3, "Tee", 35, 1, "1.03", "0.19")], tax_lines=[vat_line(18, "0.57")])
# One tax line, but an untaxed product beside the taxed one: not every line is at the rate.
TAXED_AND_UNTAXED = order(lines=[li(1, "Widget", 24, 1, "10.00", "1.80"), li(2, "Gift card", 25, 1, "50.00")],
                          tax_lines=[vat_line(18, "1.80")])


@pytest.mark.parametrize("o, store_tax, fields, customer_no_vat, prices, vat_per_item, vat", [
    # no tax on the order, the store charges tax (Eilat, export): VATRate 0 and the customer NoVAT
    (EILAT, TAXES_ON, {"VATIncluded": True, "VATRate": 0.0}, True, [50.0, 35.5], None, 0.0),
    (EXPORT, TAXES_ON_INCL, {"VATIncluded": True, "VATRate": 0.0}, True, [100.0, 45.0], None, 0.0),
    # taxes off in the store and none on the order: the company's default rate, nothing said
    (EILAT, StoreTax(), {"VATIncluded": True}, ABSENT, [50.0, 35.5], None, 0.0),
    # one rate and OfficeGuy's total VAT equals Woo's: gross prices at that rate
    (SINGLE_RATE, TAXES_ON, {"VATIncluded": True, "VATRate": 18.0}, False, [118.0, 17.7], None, 23.4),
    (SINGLE_RATE, StoreTax(), {"VATIncluded": True, "VATRate": 18.0}, ABSENT, [118.0, 17.7], None, 23.4),
    # 18% beside zero-rated fresh produce: per item, net prices and each line's VAT
    (FRESH_PRODUCE, TAXES_ON, {"VATIncluded": False, "VATPerItem": True}, False, [100.0, 6.0, 20.0],
     [18.0, 0.0, 3.6], 21.6),
    # one rate, but Woo's per-line rounding (0.57) differs from OfficeGuy's on the total (0.56): per item
    (PER_LINE_ROUNDING, TAXES_ON, {"VATIncluded": False, "VATPerItem": True}, False, [1.03, 1.03, 1.03],
     [0.19, 0.19, 0.19], 0.57),
    (TAXED_AND_UNTAXED, StoreTax(), {"VATIncluded": False, "VATPerItem": True}, ABSENT, [10.0, 50.0],
     [1.8, 0.0], 1.8),
])
def test_vat_modes(o, store_tax, fields, customer_no_vat, prices, vat_per_item, vat):
    result = build(o, store_tax=store_tax)
    assert vat_fields(result.payload) == fields
    assert no_vat(result.payload) == customer_no_vat
    assert [i[1] for i in items(result)] == prices
    if vat_per_item is None:
        assert all("VAT" not in i for i in result.payload["Items"])
    else:
        assert [i["VAT"] for i in result.payload["Items"]] == vat_per_item
    assert result.vat == vat
    assert result.total == float(o["total"])
    assert_invariants(result)


def test_og_vat_on_the_total_is_what_decides_the_single_rate_mode():
    """The rule's own arithmetic, on the two single-rate orders above."""
    for o, same in ((SINGLE_RATE, True), (PER_LINE_ROUNDING, False)):
        gross = Decimal(o["total"])
        og_vat = (gross - gross / Decimal("1.18")).quantize(Decimal("0.01"))
        assert (og_vat == Decimal(o["total_tax"])) is same


@pytest.mark.parametrize("currency, o", [("USD", FRESH_PRODUCE), ("EUR", PER_LINE_ROUNDING)])
def test_per_item_vat_outside_ils_uses_document_currency_fields(currency, o):
    result = build({**o, "currency": currency}, store_tax=TAXES_ON)
    assert result.payload["VATPerItem"] is True
    for item in result.payload["Items"]:
        assert set(item) == {"Quantity", "DocumentCurrency_UnitPrice", "DocumentCurrency_VAT", "Description", "Item"}
    assert set(result.payload["Payments"][0]) == {"DocumentCurrency_Amount", "Type", "Details_BankTransfer"}
    assert_invariants(result)


def test_per_item_credit_outside_ils_sends_negative_document_currency_vat():
    o = {**FRESH_PRODUCE, "currency": "USD"}
    result = credit(o, None, store_tax=TAXES_ON)
    assert [i["DocumentCurrency_VAT"] for i in result.payload["Items"]] == [-18.0, 0.0, -3.6]
    assert result.payload["Payments"][0]["DocumentCurrency_Amount"] == -153.6
    assert_invariants(result, -1)


# --- payments and gateway rules ------------------------------------------------------------------


@pytest.mark.parametrize("method, settings, doc_type, payments", [
    ("cod", DocumentSettings(), 0, None),  # cash on delivery: an Invoice now, the Receipt with the cash
    ("cod", DocumentSettings(document_type=2), 0, None),  # the gateway rule wins over the default type
    ("cod", DocumentSettings(gateway_rules={}), 1, [{"Amount": 40.0, "Type": 2, "Details_Cash": {}}]),
    ("bacs", DocumentSettings(), 1, [{"Amount": 40.0, "Type": 3, "Details_BankTransfer": {}}]),
    ("bacs", DocumentSettings(gateway_rules={"bacs": 2}), 2, [{"Amount": 40.0, "Type": 3,
                                                                "Details_BankTransfer": {}}]),
    ("stripe", DocumentSettings(document_type=0), 0, None),
    ("stripe", DocumentSettings(), 1, [{"Amount": 40.0, "Type": 5, "Details_CreditCard": {}}]),
    ("cheque", DocumentSettings(), 1, [{"Amount": 40.0, "Type": 4, "Details_Cheque": {}}]),
    ("bit", DocumentSettings(), 1, [{"Amount": 40.0, "Type": 6, "Details_Digital": {"Type": "Bit",
                                                                                    "Description": "Bit"}}]),
    ("my_wallet", DocumentSettings(payment_kinds={"my_wallet": 6}), 1,
     [{"Amount": 40.0, "Type": 6, "Details_Digital": {"Type": "Bit", "Description": "Bit"}}]),
    ("my_wallet", DocumentSettings(), 1, [{"Amount": 40.0, "Type": 8, "Details_Other": {"Type": "Bit",
                                                                                        "Description": "Bit"}}]),
])
def test_gateway_rules_and_payment_kinds(method, settings, doc_type, payments):
    result = build(order(method=method, method_title="Bit" if method in ("bit", "my_wallet") else "Pay"), settings)
    assert result.payload["Details"]["Type"] == doc_type
    assert result.payload.get("Payments") == payments
    assert [i[2] for i in items(result)] == [1001, 1002]  # the sale document carries the goods either way
    assert_invariants(result)


@pytest.mark.parametrize("kwargs, error", [
    ({"gateway_rules": {"cod": 5}}, "gateway rule cod=5"),
    ({"payment_kinds": {"x": 7}}, "payment kind x=7"),
    ({"payment_kinds": {"x": 0}}, "payment kind x=0"),
    ({"credit_sign": 0}, "credit_sign"),
    ({"currencies": frozenset({"ILS", "XYZ"})}, "currencies XYZ"),
])
def test_rule_settings_are_validated(kwargs, error):
    with pytest.raises(ValueError, match=error):
        DocumentSettings(**kwargs)


COD = order(method="cod", method_title="Cash on delivery", status="completed")


@pytest.mark.parametrize("o, kw, customer, payment, total", [
    (COD, {"customer_id": 555}, {"ID": 555}, {"Amount": 40.0, "Type": 2, "Details_Cash": {}}, 40.0),
    (COD, {"customer_id": None}, {"Name": "Ann Buyer", "EmailAddress": "ann@example.test", "Phone": "050-1234567",
                                  "City": "Tel Aviv", "Address": "1 Test St", "ZipCode": "6100000", "SearchMode": 1},
     {"Amount": 40.0, "Type": 2, "Details_Cash": {}}, 40.0),
    # a refund credited before the cash came: the receipt is for what the customer paid
    (COD, {"customer_id": 555, "credited": "10.00"}, {"ID": 555}, {"Amount": 30.0, "Type": 2, "Details_Cash": {}},
     30.0),
    ({**COD, "currency": "USD"}, {"customer_id": 555}, {"ID": 555},
     {"DocumentCurrency_Amount": 40.0, "Type": 2, "Details_Cash": {}}, 40.0),
])
def test_receipt_document(o, kw, customer, payment, total):
    result = build_receipt_document(o, store=STORE, settings=DocumentSettings(), original_document_id=90000001,
                                    today=TODAY, **kw)
    assert isinstance(result, DocumentRequest), result
    payload = result.payload
    assert "Items" not in payload and not any(k in payload for k in VAT_KEYS)
    assert payload["Payments"] == [payment]
    assert payload["OriginalDocumentID"] == 90000001
    assert payload["Details"]["Type"] == 2
    assert payload["Details"]["Customer"] == customer
    assert payload["Details"]["ExternalReference"] == result.external_reference == "woo:shop.example.com:101:receipt"
    assert (result.total, result.lines, result.stock_lines) == (total, 0, ())
    assert_invariants(result)


@pytest.mark.parametrize("o, kw, kind", [
    (COD, {"credited": "40.00"}, NotCredited),
    ({**COD, "currency": "XYZ"}, {}, Parked),
])
def test_receipt_document_not_made(o, kw, kind):
    result = build_receipt_document(o, store=STORE, settings=DocumentSettings(), original_document_id=90000001,
                                    customer_id=555, today=TODAY, **kw)
    assert isinstance(result, kind), result


def test_cod_invoice_then_receipt_move_stock_once_and_collect_the_total():
    settings = DocumentSettings()
    invoice = build(COD, settings)
    receipt = build_receipt_document(COD, store=STORE, settings=settings, original_document_id=90000001,
                                     customer_id=555, today=TODAY)
    assert (invoice.payload["Details"]["Type"], receipt.payload["Details"]["Type"]) == (0, 2)
    assert sum(m["quantity"] for m in invoice.stock_lines) == 3 and receipt.stock_lines == ()
    assert invoice.total == receipt.total == 40.0
    assert invoice.external_reference != receipt.external_reference


# --- customer ------------------------------------------------------------------------------------

BUSINESS = {**EMPTY_BILLING, "company": "Acme Ltd", "first_name": "Dan", "last_name": "Cohen",
            "address_1": "5th Ave 1", "address_2": "Floor 3", "city": "New York", "state": "NY", "postcode": "10001",
            "country": "US", "email": "dan@acme.test"}


@pytest.mark.parametrize("billing, meta, settings, expected", [
    (BUSINESS, [("og-citizenid", "514000001")], DocumentSettings(),
     {"Name": "Acme Ltd - Dan Cohen", "EmailAddress": "dan@acme.test", "City": "New York, NY, US",
      "Address": "5th Ave 1, Floor 3", "ZipCode": "10001", "CompanyNumber": "514000001", "SearchMode": 1}),
    ({**BUSINESS, "country": "IL", "state": "", "city": "Haifa"}, [("og-citizenid", " 514000001 ")],
     DocumentSettings(), {"Name": "Acme Ltd - Dan Cohen", "EmailAddress": "dan@acme.test", "City": "Haifa",
                          "Address": "5th Ave 1, Floor 3", "ZipCode": "10001", "CompanyNumber": "514000001",
                          "SearchMode": 1}),
    (BUSINESS, [("vat_number", "DE123")], DocumentSettings(company_number_meta="vat_number", home_country="US"),
     {"Name": "Acme Ltd - Dan Cohen", "EmailAddress": "dan@acme.test", "City": "New York, NY",
      "Address": "5th Ave 1, Floor 3", "ZipCode": "10001", "CompanyNumber": "DE123", "SearchMode": 1}),
    ({**BUSINESS, "first_name": "", "last_name": ""}, [("og-citizenid", "514000001")],
     DocumentSettings(company_number_meta=""),
     {"Name": "Acme Ltd", "EmailAddress": "dan@acme.test", "City": "New York, NY, US",
      "Address": "5th Ave 1, Floor 3", "ZipCode": "10001", "SearchMode": 1}),
])
def test_business_customer(billing, meta, settings, expected):
    result = build(order(billing=billing, meta=meta), settings)
    assert result.payload["Details"]["Customer"] == expected
    assert_invariants(result)


@pytest.mark.parametrize("billing, settings, expected", [
    (BUSINESS, DocumentSettings(), {"EmailAddress": "dan@acme.test", "Original": True, "SendAsPaymentRequest": False}),
    ({**BUSINESS, "email": " dan@acme.test "}, DocumentSettings(),
     {"EmailAddress": "dan@acme.test", "Original": True, "SendAsPaymentRequest": False}),
    (BUSINESS, DocumentSettings(send_by_email=False), None),
    ({**BUSINESS, "email": ""}, DocumentSettings(), None),
    ({}, DocumentSettings(), None),
])
def test_send_by_email(billing, settings, expected):
    result = build(order(billing=billing), settings)
    assert result.payload["Details"].get("SendByEmail") == expected
    cancel = credit(order(billing=billing), None, settings=settings)
    assert cancel.payload["Details"].get("SendByEmail") == expected


# --- credits: customer, sign ---------------------------------------------------------------------


@pytest.mark.parametrize("kw, expected", [
    ({"customer_id": 777}, {"ID": 777}),
    ({"customer_id": 777, "store_tax": TAXES_ON}, {"ID": 777, "NoVAT": False}),
    ({}, {"Name": "Ann Buyer", "EmailAddress": "ann@example.test", "Phone": "050-1234567", "City": "Tel Aviv",
          "Address": "1 Test St", "ZipCode": "6100000", "SearchMode": 1}),
])
def test_credit_customer_is_the_sale_documents_card(kw, expected):
    for rf in (refund(), None):
        result = credit(PAID, rf, **kw)
        assert result.payload["Details"]["Customer"] == expected
        assert_invariants(result, -1)


def test_credit_of_an_untaxed_line_of_a_taxed_order_keeps_the_sales_no_vat():
    sale = build(PAID, store_tax=TAXES_ON)
    result = credit(PAID, refund(amount="10.00", lines=[rli(90, 3)]), store_tax=TAXES_ON, customer_id=777)
    assert sale.payload["Details"]["Customer"]["NoVAT"] is False
    assert result.payload["Details"]["Customer"] == {"ID": 777, "NoVAT": False}  # is {"ID": 777, "NoVAT": True}


FULL_REFUND = refund(amount="47.70", lines=[rli(90, 3, -2, "-20.00"), rli(91, 4, -1, "-15.00", "-2.70", product_id=25,
                                                                           name="Gadget")],
                     shipping=[{"id": 92, "method_title": "Flat rate", "total": "-10.00", "total_tax": "0.00",
                                "meta_data": [{"key": "_refunded_item_id", "value": "51"}]}])


@pytest.mark.parametrize("sign", [-1, 1])
@pytest.mark.parametrize("rf", [refund(amount="10.00", lines=[rli(90, 3)]), refund(amount="7.50"), FULL_REFUND,
                                None], ids=["line", "amount-only", "full", "cancel"])
def test_credit_sign(sign, rf):
    settings = DocumentSettings(credit_sign=sign)
    result = credit(PAID, rf, settings=settings)
    default = credit(PAID, rf)
    assert [i["Quantity"] for i in result.payload["Items"]] == [i["Quantity"] for i in default.payload["Items"]]
    assert all(i["Quantity"] > 0 for i in result.payload["Items"])
    assert [i["UnitPrice"] for i in result.payload["Items"]] == [-sign * i["UnitPrice"]
                                                                 for i in default.payload["Items"]]
    assert [i.get("VAT") for i in result.payload["Items"]] == [
        None if "VAT" not in i else -sign * i["VAT"] for i in default.payload["Items"]]
    assert result.payload["Payments"][0]["Amount"] == sign * result.total
    assert (result.total, result.vat) == (default.total, default.vat)
    assert all(sign * i["UnitPrice"] > 0 for i in result.payload["Items"] if "ID" in i["Item"])
    assert_invariants(result, sign)


# --- credits: cancellation and refunds together --------------------------------------------------


def units_back(results):
    back = {}
    for result in results:
        for moved in result.stock_lines:
            back[moved["line_id"]] = back.get(moved["line_id"], 0) + moved["quantity"]
    return back


def test_paid_cancelled_then_refunded_later_is_not_credited_again():
    cancel = credit(PAID, None)
    assert_invariants(cancel, -1)
    late = credit(PAID, refund(amount="10.00", lines=[rli(90, 3)]), credited=cancel.total,
                  returned_units=units_back([cancel]), cancellation_credited=True)
    assert isinstance(late, NotCredited)
    assert "after the order's cancellation credit" in late.reason
    assert cancel.total == float(PAID["total"])  # the credits equal the sale


@pytest.mark.parametrize("o, refunds, cancel_items, cancel_total, units", [
    # one of two Widgets refunded and restocked; the cancellation credits the rest and the other unit
    (order(lines=[with_meta(PAID["line_items"][0], _restock_refunded_items=1), PAID["line_items"][1]],
           shipping=PAID["shipping_lines"], tax_lines=PAID["tax_lines"], transaction_id="TX-1"),
     [refund(amount="10.00", lines=[rli(90, 3)])],
     [(1, -10.0, 1001, "Order Widget"), (1, -15.0, 1002, "Gadget"), (1, -10.0, None, "Flat rate")], 37.7,
     {3: 2, 4: 1}),
    # the Gadget refunded with its VAT and restocked: what is left has no VAT
    (PAID, [refund(amount="17.70", lines=[rli(91, 4, -1, "-15.00", "-2.70", product_id=25, name="Gadget")])],
     [(2, -10.0, 1001, "Order Widget"), (1, -10.0, None, "Flat rate")], 30.0, {3: 2, 4: 1}),
    # two partial refunds, then the cancellation
    (PAID, [refund(201, amount="10.00", lines=[rli(90, 3)]), refund(202, amount="10.00", shipping=[
        {"total": "-10.00", "total_tax": "0", "meta_data": [{"key": "_refunded_item_id", "value": "51"}]}])],
     [(1, -10.0, 1001, "Order Widget"), (1, -15.0, 1002, "Gadget")], 27.7, {3: 2, 4: 1}),
])
def test_paid_partly_refunded_then_cancelled_credits_exactly_the_rest(o, refunds, cancel_items, cancel_total, units):
    credits, credited, returned = chain(o, refunds)
    cancel = credit(o, None, prior_refunds=refunds, credited=credited, returned_units=returned)
    assert items(cancel) == cancel_items
    assert cancel.total == cancel_total
    done = [*credits, cancel]
    for result in done:
        assert_invariants(result, -1)
    assert sum(Decimal(str(r.total)) for r in done) == Decimal(o["total"])  # Σ credits == the sale
    assert sum(Decimal(str(r.vat)) for r in done) == Decimal(o["total_tax"])  # and so does their VAT
    assert units_back(done) == units  # every sold unit back once
    after = credit(o, refund(299, amount="1.00"), credited=credited + Decimal(str(cancel.total)),
                   returned_units=units_back(done), cancellation_credited=True)
    assert isinstance(after, NotCredited)


def test_amount_only_refund_then_cancellation_credits_the_sales_vat_once():
    refunds = [refund(amount="5.00")]
    credits, credited, returned = chain(PAID, refunds)
    cancel = credit(PAID, None, prior_refunds=refunds, credited=credited, returned_units=returned)
    done = [*credits, cancel]
    assert sum(Decimal(str(r.total)) for r in done) == Decimal("47.70")  # holds
    assert sum(Decimal(str(r.vat)) for r in done) == Decimal("2.70")  # fails: 3.46


@pytest.mark.parametrize("refunds, credited_ok, not_credited", [
    # refunds that together credit the whole sale: the cancellation after them has nothing to credit
    ([FULL_REFUND], 1, True),
    ([refund(201, amount="30.00", lines=[rli(90, 3, -2, "-20.00")], shipping=[
        {"total": "-10.00", "total_tax": "0", "meta_data": [{"key": "_refunded_item_id", "value": "51"}]}]),
      refund(202, amount="17.70", lines=[rli(91, 4, -1, "-15.00", "-2.70", product_id=25, name="Gadget")])], 2, True),
    # a second refund that would go past the sale is not credited; the cancellation credits what is left
    ([refund(201, amount="40.00"), refund(202, amount="10.00")], 1, False),
])
def test_credits_never_exceed_the_sale(refunds, credited_ok, not_credited):
    credits, credited, returned = chain(PAID, refunds)
    assert sum(isinstance(r, DocumentRequest) for r in credits) == credited_ok
    assert all(isinstance(r, DocumentRequest | NotCredited) for r in credits)
    for result in credits:
        if isinstance(result, DocumentRequest):
            assert_invariants(result, -1)
    assert credited <= Decimal(PAID["total"])
    cancel = credit(PAID, None, prior_refunds=[rf for rf, r in zip(refunds, credits, strict=True)
                                               if isinstance(r, DocumentRequest)],
                    credited=credited, returned_units=returned)
    assert isinstance(cancel, NotCredited) is not_credited
    if not not_credited:
        assert_invariants(cancel, -1)
        assert credited + Decimal(str(cancel.total)) == Decimal(PAID["total"])


@pytest.mark.parametrize("meta, returned, back", [
    ({}, {}, 2),  # Woo no longer holds anything: every unit back
    ({"_reduced_stock": 1}, {}, 1),  # Woo still holds one unit: only the other comes back
    ({"_restock_refunded_items": 1}, {3: 1}, 1),  # an earlier credit returned one
    ({"_reduced_stock": 0}, {3: 2}, 0),  # everything already back: the money only, on the refund card
])
def test_cancellation_returns_the_units_woo_no_longer_holds(meta, returned, back):
    o = order(lines=[with_meta(li(3, "Order Widget", 24, 2, "20.00"), **meta)])
    result = credit(o, None, returned_units=returned)
    assert sum(m["quantity"] for m in result.stock_lines) == back
    if back:
        assert items(result)[0][:3] == (back, -round(20 / back, 2), 1001)
    else:
        assert items(result) == [(1, -20.0, None, "Order Widget (not restocked)")]
        assert result.payload["Items"][0]["Item"] == REFUND_CARD
    assert_invariants(result, -1)


def test_two_refunds_of_one_line_only_the_first_restocked():
    """`_restock_refunded_items` is Woo's running total (1 after both refunds): the first credit returns it."""
    o = order(lines=[with_meta(li(3, "Order Widget", 24, 2, "20.00"), _reduced_stock=1, _restock_refunded_items=1)])
    refunds = [refund(201, amount="10.00", lines=[rli(90, 3)]), refund(202, amount="10.00", lines=[rli(91, 3)])]
    (first, second), credited, returned = chain(o, refunds)
    assert items(first) == [(1, -10.0, 1001, "Order Widget")] and first.notes == ()
    assert [m["quantity"] for m in first.stock_lines] == [1]
    assert items(second) == [(1, -10.0, None, "Order Widget (not restocked)")]
    assert second.payload["Items"][0]["Item"] == REFUND_CARD
    assert second.stock_lines == () and "refunded without restock" in second.notes[0]
    assert (credited, returned) == (Decimal("20.00"), {3: 1})
    for result in (first, second):
        assert_invariants(result, -1)


# --- zero-value service lines, currencies --------------------------------------------------------


@pytest.mark.parametrize("shipping, fees, settings, expected", [
    ([ship(title="Free shipping", total="0.00")], [], DocumentSettings(), ["Widget"]),
    ([ship(total="0.00")], [fee(total="0.00")], DocumentSettings(shipping_item_id=7001, fee_item_id=7002),
     ["Widget"]),
    ([ship(total="0.00"), ship(52, "Express", "15.00")], [], DocumentSettings(), ["Widget", "Express"]),
    ([ship(total="0.00")], [fee(name="Discount", total="-2.00")], DocumentSettings(), ["Widget", "Discount"]),
])
def test_zero_value_service_lines_are_left_out(shipping, fees, settings, expected):
    result = build(order(lines=[li(1, "Widget", 24, 1, "10.00")], shipping=shipping, fees=fees), settings)
    assert [i[3] for i in items(result)] == expected
    assert_invariants(result)


def test_zero_shipping_is_left_out_of_a_cancellation_too():
    o = order(lines=[li(3, "Order Widget", 24, 2, "20.00")], shipping=[ship(total="0.00")])
    assert [i[3] for i in items(credit(o, None))] == ["Order Widget"]


@pytest.mark.parametrize("currency, settings, expected", [
    ("GBP", DocumentSettings(), "GBP"),
    ("JPY", DocumentSettings(), "JPY"),
    ("jpy", DocumentSettings(currencies=frozenset({"ILS", "jpy"})), "JPY"),
    ("ILS", DocumentSettings(), "ILS"),
    ("XYZ", DocumentSettings(), "currency XYZ is not one SUMIT lists"),
    ("GBP", DocumentSettings(currencies=frozenset({"ILS", "USD"})), "not one OfficeGuy is configured for (ILS, USD)"),
])
def test_currencies(currency, settings, expected):
    o = order(lines=[li(1, "Widget", 24, 3, "1500"), li(2, "Gadget", 25, 1, "990")], currency=currency)
    result = build(o, settings)
    if len(expected) == 3:
        assert isinstance(result, DocumentRequest), result
        assert result.payload["Details"]["Currency"] == expected
        price_key = "UnitPrice" if expected == "ILS" else "DocumentCurrency_UnitPrice"
        assert [i[price_key] for i in result.payload["Items"]] == [500.0, 990.0]
        assert_invariants(result)
        assert_invariants(credit(o, None, settings=settings), -1)
    else:
        assert isinstance(result, Parked) and expected in result.reason
        assert isinstance(credit(o, None, settings=settings), Parked)
