"""documents/create as SUMIT's Swagger describes it: VAT modes, strict schemas, payments, SendByEmail,
credit signs and currencies (sumit-swagger-facts.md 1-4), read back through getdetails, list and
the testing helpers (``og.documents()``, ``og.credits_of()``, ``og.sent_emails()``)."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from og_helpers import TODAY, new_item

from sandbox.officeguy.testing import og_sandbox

CREATE = "/accounting/documents/create/"


def body(items: list[dict], doc_type: int = 1, paid: float | None = None, customer: dict | None = None,
         details: dict | None = None, **top: Any) -> dict[str, Any]:
    """A documents/create body; ``paid`` adds one cash payment of that amount."""
    result: dict[str, Any] = {
        "Details": {"Type": doc_type, "Customer": customer or {"Name": "Dana Levi"}, **(details or {})},
        "Items": items, **top,
    }
    if paid is not None:
        result["Payments"] = [{"Amount": paid, "Details_Cash": {}}]
    return result


def item(item_id: int, quantity: float = 1, price: float | None = 10.0, **fields: Any) -> dict[str, Any]:
    line: dict[str, Any] = {"Quantity": quantity, "Item": {"ID": item_id}, **fields}
    if price is not None:
        line["UnitPrice"] = price
    return line


def ok(answer: dict) -> dict:
    assert answer["Status"] == 0, answer
    return answer["Data"]


def refused(answer: dict, *words: str) -> str:
    assert answer["Status"] == 1 and answer["Data"] is None, answer
    for word in words:
        assert word in answer["UserErrorMessage"], answer["UserErrorMessage"]
    return answer["UserErrorMessage"]


def details_of(og, created: dict) -> dict:
    return ok(og.call("/accounting/documents/getdetails/", {"DocumentID": created["DocumentID"]}))


@pytest.fixture
def mug(og):
    return new_item(og, "Mug", stock=100)


# --- VAT: one rate on the document (Swagger 1.1) -----------------------------------------------

def test_vat_included_prices_are_gross_and_vat_is_computed_on_the_document(og, mug):
    created = ok(og.call(CREATE, body([item(mug, 1, 118.0), item(mug, 2, 29.5)], paid=177.0, VATIncluded=True)))
    doc = details_of(og, created)["Document"]
    assert (doc["DocumentValue"], doc["VAT"], doc["NetValue"]) == (177.0, 27.0, 150.0)
    assert (doc["VATIncluded"], doc["VATRate"], doc["VATPerItem"]) == (True, 18.0, False)
    recorded = og.documents()[-1]  # after the purchase order that stocked the mug
    assert (recorded["gross"], recorded["vat"], recorded["net"]) == (177.0, 27.0, 150.0)
    assert [ln["vat"] for ln in recorded["lines"]] == [18.0, 9.0]


def test_line_vats_add_up_to_the_document_vat_with_the_rounding_on_the_last_line(og, mug):
    created = ok(og.call(CREATE, body([item(mug, 1, 10.0)] * 3, paid=30.0, VATIncluded=True)))
    data = details_of(og, created)
    assert data["Document"]["VAT"] == 4.58  # 30 - 30/1.18 = 4.576...
    assert [i["VAT"] for i in data["Items"]] == [1.53, 1.53, 1.52]
    assert [i["DocumentCurrency_VAT"] for i in data["Items"]] == [1.53, 1.53, 1.52]


@pytest.mark.parametrize("included", [False, None, "false"])
def test_vat_excluded_prices_are_net_and_vat_is_added(og, mug, included):
    extra = {} if included is None else {"VATIncluded": included}
    refused(og.call(CREATE, body([item(mug, 2, 50.0)], paid=100.0, **extra)), "payments total (100.00)", "118.00")
    created = ok(og.call(CREATE, body([item(mug, 2, 50.0)], paid=118.0, **extra)))
    doc = details_of(og, created)["Document"]
    assert (doc["DocumentValue"], doc["VAT"], doc["NetValue"], doc["VATIncluded"]) == (118.0, 18.0, 100.0, False)


@pytest.mark.parametrize("rate, gross", [(17, 117.0), ("0", 100.0), (None, 118.0)])
def test_vat_rate_or_the_company_default(og, mug, rate, gross):
    created = ok(og.call(CREATE, body([item(mug, 1, 100.0)], paid=gross, VATRate=rate)))
    assert details_of(og, created)["Document"]["DocumentValue"] == gross


def test_the_company_default_follows_the_config(og, mug):
    og.set_config(vat_rate=17.0)
    ok(og.call(CREATE, body([item(mug, 1, 100.0)], paid=117.0)))


@pytest.mark.parametrize("rate", [-1, 101, "x"])
def test_a_vat_rate_outside_0_to_100_is_refused(og, mug, rate):
    refused(og.call(CREATE, body([item(mug, 1, 100.0)], paid=100.0, VATRate=rate)), "VATRate")


@pytest.mark.parametrize("included, price", [(True, 118.0), (False, 118.0)])
def test_a_no_vat_customer_pays_no_vat_whatever_the_rate(og, mug, included, price):
    customer = {"Name": "Eilat Ltd", "NoVAT": True, "CompanyNumber": "514000000"}
    created = ok(og.call(CREATE, body([item(mug, 1, price)], paid=118.0, customer=customer, VATIncluded=included,
                                      VATRate=18)))
    doc = details_of(og, created)["Document"]
    assert (doc["DocumentValue"], doc["VAT"], doc["NetValue"], doc["VATRate"]) == (118.0, 0.0, 118.0, 0.0)
    assert (doc["Customer"]["NoVAT"], doc["Customer"]["CompanyNumber"]) == (True, "514000000")
    recorded = og.document(created["DocumentID"])
    assert (recorded["no_vat"], recorded["company_number"], recorded["vat"]) == (True, "514000000", 0.0)


def test_no_vat_is_remembered_on_the_customer_card(og, mug):
    first = ok(og.call(CREATE, body([item(mug, 1, 100.0)], paid=100.0, customer={"Name": "Exporter", "NoVAT": "true"})))
    again = ok(og.call(CREATE, body([item(mug, 1, 100.0)], paid=100.0, customer={"ID": first["CustomerID"]})))
    assert details_of(og, again)["Document"]["Customer"]["NoVAT"] is True
    # a document may say otherwise for itself
    ok(og.call(CREATE, body([item(mug, 1, 100.0)], paid=118.0, customer={"ID": first["CustomerID"], "NoVAT": False})))


# --- VAT per item (Swagger 4) ------------------------------------------------------------------

def test_vat_per_item_takes_net_prices_and_each_lines_vat_amount(og, mug):
    lines = [item(mug, 2, 50.0, VAT=18.0), item(mug, 1, 40.0, VAT=0), item(mug, 1, 10.0)]  # absent VAT is 0
    created = ok(og.call(CREATE, body(lines, paid=168.0, VATPerItem=True, VATIncluded=False)))
    data = details_of(og, created)
    doc = data["Document"]
    assert (doc["DocumentValue"], doc["VAT"], doc["NetValue"]) == (168.0, 18.0, 150.0)
    assert (doc["VATPerItem"], doc["VATRate"], doc["VATIncluded"]) == (True, None, False)
    assert [(i["TotalPrice"], i["VAT"]) for i in data["Items"]] == [(100.0, 18.0), (40.0, 0.0), (10.0, 0.0)]
    assert [ln["vat"] for ln in og.documents()[-1]["lines"]] == [18.0, 0.0, 0.0]


@pytest.mark.parametrize("top", [{"VATRate": 18}, {"VATRate": 0}, {"VATIncluded": True}, {"VATIncluded": "true"},
                                 {"VATRate": 17, "VATIncluded": True}])
def test_vat_per_item_needs_no_rate_and_vat_not_included(og, mug, top):
    request = body([item(mug, 1, 100.0, VAT=18.0)], paid=118.0, VATPerItem=True, **top)
    refused(og.call(CREATE, request), "VATPerItem", "VATRate")
    assert "VATPerItem" in refused(og.call(CREATE, request, language="he"))


@pytest.mark.parametrize("field", ["VAT", "DocumentCurrency_VAT"])
@pytest.mark.parametrize("top", [{}, {"VATPerItem": False}, {"VATPerItem": None}, {"VATIncluded": True}])
def test_a_line_vat_without_vat_per_item_is_refused(og, mug, field, top):
    lines = [item(mug, 1, 100.0), item(mug, 1, 100.0, **{field: 18.0})]
    refused(og.call(CREATE, body(lines, paid=236.0, **top)), "Line 2", field, "VATPerItem")


def test_a_null_line_vat_is_no_vat(og, mug):
    ok(og.call(CREATE, body([item(mug, 1, 100.0, VAT=None)], paid=118.0)))


@pytest.mark.parametrize("lines, words", [
    ([item(1001, 1, 100.0, VAT=18.0), item(1001, 1, 100.0, VAT=-1.0)], ["Line 2", "negative VAT"]),
    ([item(1001, 1, 100.0, VAT=50.01)], ["Line 1", "more than half", "100.00"]),
    ([item(1001, 1, 0.0, VAT=0.01)], ["Line 1", "more than half"]),
    ([item(1001, 1, 100.0, VAT=18.0), item(1001, 1, -10.0, VAT=1.8)], ["Line 2", "sign"]),
    ([item(1001, 1, 100.0, VAT=10.0, DocumentCurrency_VAT=18.0)], ["Line 1", "disagree"]),
])
def test_nonsense_line_vats_are_refused_naming_the_line(og, mug, lines, words):
    assert mug == 1001
    total = sum(ln["Quantity"] * ln["UnitPrice"] + ln.get("VAT", 0) for ln in lines)
    refused(og.call(CREATE, body(lines, paid=round(total, 2), VATPerItem=True)), *words)
    assert og.item_stock(mug) == 100


def test_a_discount_line_carries_its_negative_vat_on_a_sale(og, mug):
    lines = [item(mug, 1, 100.0, VAT=18.0), item(mug, 1, -10.0, VAT=-1.8)]
    created = ok(og.call(CREATE, body(lines, paid=106.2, VATPerItem=True)))
    doc = details_of(og, created)["Document"]
    assert (doc["DocumentValue"], doc["VAT"], doc["NetValue"]) == (106.2, 16.2, 90.0)


def test_a_no_vat_customer_cannot_get_vat_per_item(og, mug):
    answer = og.call(CREATE, body([item(mug, 1, 100.0, VAT=18.0)], paid=118.0, VATPerItem=True,
                                  customer={"Name": "Exempt", "NoVAT": True}))
    refused(answer, "Line 1", "NoVAT")


def test_vat_per_item_in_a_foreign_currency(og, mug):
    lines = [{"Quantity": 1, "DocumentCurrency_UnitPrice": 100.0, "DocumentCurrency_VAT": 18.0, "Item": {"ID": mug}},
             {"Quantity": 1, "DocumentCurrency_UnitPrice": 50.0, "VAT": 36.0, "Item": {"ID": mug}}]  # 36 ILS = 10 USD
    created = ok(og.call(CREATE, {**body(lines, details={"Currency": "USD"}, VATPerItem=True),
                                  "Payments": [{"DocumentCurrency_Amount": 178.0, "Details_Cash": {}}]}))
    data = details_of(og, created)
    assert (data["Document"]["DocumentValue"], data["Document"]["VAT"], data["Document"]["CompanyValue"]) == (
        178.0, 28.0, 640.8)
    assert [(i["DocumentCurrency_VAT"], i["VAT"]) for i in data["Items"]] == [(18.0, 64.8), (10.0, 36.0)]
    assert [(i["DocumentCurrency_UnitPrice"], i["UnitPrice"]) for i in data["Items"]] == [(100.0, 360.0), (50.0, 180.0)]
    assert data["Payments"][0]["DocumentCurrency_Amount"] == 178.0 and data["Payments"][0]["Amount"] == 640.8


# --- strict schemas (Swagger 0: additionalProperties false) ------------------------------------

@pytest.mark.parametrize("change, field", [
    (lambda b: b.update(VatIncluded=True), "VatIncluded"),
    (lambda b: b.update(Currency="ILS"), "Currency"),
    (lambda b: b["Details"].update(OriginalDocumentID=80000001), "Details.OriginalDocumentID"),
    (lambda b: b["Details"].update(Foo=1), "Details.Foo"),
    (lambda b: b["Details"].update(CustomerID=5), "Details.CustomerID"),
    (lambda b: b["Items"][1].update(Price=10), "Items[2].Price"),
    (lambda b: b["Items"][0].update(SKU="A"), "Items[1].SKU"),
    (lambda b: b["Payments"][0].update(Method="Cash"), "Payments[1].Method"),
    (lambda b: b["Payments"][0]["Details_Cash"].update(Note="x"), "Payments[1].Details_Cash.Note"),
    (lambda b: b["Details"].update(SendByEmail={"Original": True, "SendAsPaymentRequest": False, "Cc": "x"}),
     "Details.SendByEmail.Cc"),
])
def test_unknown_keys_are_refused_at_every_level(og, mug, change, field):
    request = body([item(mug, 1, 50.0), item(mug, 1, 50.0)], paid=100.0, VATIncluded=True)
    ok(og.call(CREATE, request))
    change(request)
    message = refused(og.call(CREATE, request), field)
    assert "Unknown field" in message
    assert field in refused(og.call(CREATE, request, language="he"))
    assert og.item_stock(mug) == 98


def test_customer_and_income_item_are_open_and_the_obsolete_response_language_is_accepted(og, mug):
    request = body([{"Quantity": 1, "UnitPrice": 10.0, "Item": {"ID": mug, "Whatever": 1}}], paid=10.0,
                   customer={"Name": "X", "Folder": "f", "Properties": {"a": 1}, "Country": "IL"},
                   details={"OpeningText": "Hello", "ClosingTextHTML": "<b>bye</b>", "Properties": {"k": "v"},
                            "PaymentRequestText": None, "DueDate": "2026-04-01"},
                   VATIncluded=True, ResponseLanguage=None, OriginalDocumentID=None, VATPerItem=None)
    ok(og.call(CREATE, request))


# --- payments (Swagger 1.4) --------------------------------------------------------------------

@pytest.mark.parametrize("payment, kind", [
    ({"Details_Cash": {}}, "Cash"),
    ({"Type": 2, "Details_Cash": {}}, "Cash"),
    ({"Type": "Cash", "Details_Cash": {}}, "Cash"),
    ({"Type": 0, "Details_Other": {"Type": "WooCommerce"}}, "Other"),
    ({"Type": "Automatic", "Details_CreditCard": {"Last4Digits": "1234", "CardBrand": 1, "Payments": 3,
                                                  "FirstPayment": 40, "EachPayment": "30"}}, "CreditCard"),
    ({"Type": 3, "Details_BankTransfer": {"BankNumber": 12, "BranchNumber": "600", "AccountNumber": "12-345",
                                          "Reference": "T-1", "DueDate": "2026-03-10"}}, "BankTransfer"),
    ({"Type": 4, "Details_Cheque": {"ChequeNumber": "000123", "DueDate": "2026-04-01"}}, "Cheque"),
    ({"Type": 6, "Details_Digital": {"Type": "Bit", "Description": "x"}}, "Digital"),
    ({"Type": 1, "Details_General": {}}, "General"),
    ({"Type": 7, "Details_TaxWithholding": {}}, "TaxWithholding"),
    ({"Type": 8, "PaymentElementID": None, "Details_Other": {"Description": "x", "DueDate": None}}, "Other"),
])
def test_payment_kinds_are_stored_and_returned(og, mug, payment, kind):
    created = ok(og.call(CREATE, {**body([item(mug, 1, 100.0)], VATIncluded=True),
                                  "Payments": [{"Amount": 100.0, **payment}]}))
    (returned,) = details_of(og, created)["Payments"]
    numbers = {"General": 1, "Cash": 2, "BankTransfer": 3, "Cheque": 4, "CreditCard": 5, "Digital": 6,
               "TaxWithholding": 7, "Other": 8}
    assert returned["Type"] == numbers[kind] and returned["Amount"] == 100.0
    assert f"Details_{kind}" in returned
    (paid,) = og.documents()[-1]["payments"]
    assert (paid["kind"], paid["type"], paid["amount"], paid["method"]) == (kind, numbers[kind], 100.0,
                                                                          f"Details_{kind}")


@pytest.mark.parametrize("payment, words", [
    ({"Type": 2, "Details_Other": {"Type": "WooCommerce"}}, ["Payment 1", "2 (Cash)", "Details_Other"]),
    ({"Type": "CreditCard", "Details_Cash": {}}, ["Payment 1", "5 (CreditCard)", "Details_Cash"]),
    ({"Type": 8, "Details_BankTransfer": {}}, ["Payment 1", "8 (Other)"]),
    ({"Type": 9, "Details_Cash": {}}, ["Payments[1].Type"]),
    ({"Type": "Bitcoin", "Details_Cash": {}}, ["Payments[1].Type"]),
    ({"Details_CreditCard": {"Last4": "1234"}}, ["Payments[1].Details_CreditCard.Last4"]),
    ({"Details_Other": {"Last4Digits": "1234"}}, ["Payments[1].Details_Other.Last4Digits"]),
    ({"Details_TaxWithholding": {"Amount": 1}}, ["Payments[1].Details_TaxWithholding.Amount"]),
    ({"Details_BankTransfer": {"BankNumber": "twelve"}}, ["Payments[1].Details_BankTransfer.BankNumber"]),
    ({"Details_CreditCard": {"Payments": 1.5}}, ["Payments[1].Details_CreditCard.Payments"]),
    ({"Details_Cheque": {"DueDate": "soon"}}, ["Payments[1].Details_Cheque.DueDate"]),
    ({"PaymentElementID": "x", "Details_Cash": {}}, ["Payments[1].PaymentElementID"]),
])
def test_payment_type_and_details_must_agree(og, mug, payment, words):
    answer = og.call(CREATE, {**body([item(mug, 1, 100.0)], VATIncluded=True),
                              "Payments": [{"Amount": 100.0, **payment}]})
    refused(answer, *words)


# --- SendByEmail (Swagger 1.2) -----------------------------------------------------------------

def test_send_by_email_is_recorded_with_the_given_address_or_the_customers(og, mug):
    given = ok(og.call(CREATE, body([item(mug)], paid=10.0, VATIncluded=True, details={"SendByEmail": {
        "EmailAddress": "books@example.com", "Original": True, "SendAsPaymentRequest": False}})))
    fallback = ok(og.call(CREATE, body([item(mug)], paid=10.0, VATIncluded=True,
                                       customer={"Name": "Noa", "EmailAddress": "noa@example.com"},
                                       details={"SendByEmail": {"EmailAddress": None, "Original": "false",
                                                                "SendAsPaymentRequest": True}})))
    silent = ok(og.call(CREATE, body([item(mug)], paid=10.0, VATIncluded=True, details={"SendByEmail": None})))
    assert og.sent_emails() == [
        {"document_id": given["DocumentID"], "email": "books@example.com", "original": True,
         "send_as_payment_request": False},
        {"document_id": fallback["DocumentID"], "email": "noa@example.com", "original": False,
         "send_as_payment_request": True},
    ]
    assert details_of(og, fallback)["Document"]["SendByEmail"] == {
        "EmailAddress": "noa@example.com", "Original": False, "SendAsPaymentRequest": True}
    assert details_of(og, silent)["Document"]["SendByEmail"] is None
    assert og.document(given["DocumentID"])["send_by_email"]["EmailAddress"] == "books@example.com"


@pytest.mark.parametrize("send, words", [
    ({"Original": True, "SendAsPaymentRequest": False}, ["SendByEmail", "EmailAddress"]),
    ({"EmailAddress": "a@b.c", "SendAsPaymentRequest": False}, ["SendByEmail.Original is required"]),
    ({"EmailAddress": "a@b.c", "Original": None, "SendAsPaymentRequest": False}, ["SendByEmail.Original"]),
    ({"EmailAddress": "a@b.c", "Original": True}, ["SendByEmail.SendAsPaymentRequest is required"]),
    ({"EmailAddress": "a@b.c", "Original": "yes", "SendAsPaymentRequest": False}, ["SendByEmail.Original"]),
    ({"EmailAddress": "not an address", "Original": True, "SendAsPaymentRequest": False},
     ["SendByEmail.EmailAddress"]),
    ({}, ["SendByEmail.Original is required"]),
])
def test_send_by_email_is_refused_when_incomplete(og, mug, send, words):
    refused(og.call(CREATE, body([item(mug)], paid=10.0, VATIncluded=True, details={"SendByEmail": send})), *words)
    assert og.sent_emails() == []


# --- credits: either sign in, always negative out (Swagger 2, officeguy-api 1.5d) ---------------

def _sale(og, mug, quantity=3, price=59.0):
    return ok(og.call(CREATE, body([item(mug, quantity, price)], paid=quantity * price, VATIncluded=True)))


@pytest.mark.parametrize("quantity, price, paid", [
    (2, 59.0, 118.0),  # all positive: the type says "credit"
    (2, -59.0, -118.0),  # negated prices and amounts (the plugin's refund style)
    (-2, -59.0, -118.0),  # every number negative
])
def test_credits_in_either_convention_are_stored_and_listed_negative(og, mug, quantity, price, paid):
    sale = _sale(og, mug)
    request = body([item(mug, quantity, price)], doc_type=6, paid=paid, VATIncluded=True,
                   OriginalDocumentID=sale["DocumentID"], customer={"ID": sale["CustomerID"]})
    credit = ok(og.call(CREATE, request))
    data = details_of(og, credit)
    doc = data["Document"]
    assert (doc["DocumentValue"], doc["CompanyValue"], doc["VAT"], doc["NetValue"]) == (-118.0, -118.0, -18.0, -100.0)
    assert doc["OriginalDocumentID"] == sale["DocumentID"]
    (line,) = data["Items"]
    assert (line["Quantity"], line["UnitPrice"], line["TotalPrice"], line["VAT"]) == (2, -59.0, -118.0, -18.0)
    assert [p["Amount"] for p in data["Payments"]] == [-118.0]
    listed = ok(og.call("/accounting/documents/list/", {"DocumentTypes": [6]}))["Documents"]
    assert [(d["DocumentValue"], d["CompanyValue"]) for d in listed] == [(-118.0, -118.0)]
    assert og.item_stock(mug) == 100 - 3 + 2  # stock back by |quantity|
    assert og.credits_of(sale["DocumentID"]) == {
        "original_id": sale["DocumentID"], "original_type": 1, "original_gross": 177.0,
        "credit_ids": [credit["DocumentID"]], "credited_gross": 118.0, "credited_net": 100.0, "credited_vat": 18.0,
        "credited_quantities": {mug: 2.0},
    }


def test_a_negative_vat_per_item_credit_is_stored_like_a_positive_one(og, mug):
    sale = _sale(og, mug)
    for sign in (1, -1):
        ok(og.call(CREATE, body([item(mug, 1, sign * 50.0, VAT=sign * 9.0)], doc_type=5, VATPerItem=True,
                                OriginalDocumentID=sale["DocumentID"])))
    assert [(d["gross"], d["vat"], d["lines"][0]["vat"]) for d in og.documents()[-2:]] == [(-59.0, -9.0, -9.0)] * 2
    assert og.credit_totals() == {sale["DocumentID"]: 118.0}
    assert og.item_stock(mug) == 99


@pytest.mark.parametrize("lines, paid, words", [
    # the sign of a credit is the sign of its total; its payments and lines must not outweigh it
    ([item(1001, 1, 59.0), item(1001, 1, -59.0)], None, ("credit", "total is zero")),
    ([item(1001, 1, 59.0), item(1001, 1, -80.0)], 21.0, ("negative", "-21.00")),
    ([item(1001, 1, 59.0)], -59.0, ("negative", "-59.00")),
    ([item(1001, -1, 59.0)], 59.0, ("credit", "Items[1].Quantity")),
    ([item(1001, 1, -59.0, TotalPrice=59.0)], None, ("TotalPrice", "UnitPrice")),
    ([item(1001, 1, 50.0, VAT=-9.0)], None, ("negative VAT", "-9.00")),
])
def test_a_credit_with_inconsistent_signs_is_refused(og, mug, lines, paid, words):
    doc_type = 6 if paid is not None else 5
    top = {"VATPerItem": True} if any("VAT" in ln for ln in lines) else {"VATIncluded": True}
    refused(og.call(CREATE, body(lines, doc_type=doc_type, paid=paid, **top)), *words)
    assert og.item_stock(mug) == 100


@pytest.mark.parametrize("sign", [1, -1])
def test_a_credit_may_carry_a_line_of_the_other_sign(og, mug, sign):
    """A cancellation credits a discount (a negative fee) too: one line against the credit's sign."""
    sale = ok(og.call(CREATE, body([item(mug, 2, 50.0), item(mug, 1, -10.0)], paid=90.0, VATIncluded=True)))
    ok(og.call(CREATE, body([item(mug, 2, sign * 50.0), item(mug, 1, -sign * 10.0)], doc_type=6,
                            paid=sign * 90.0, VATIncluded=True, OriginalDocumentID=sale["DocumentID"])))
    assert og.documents()[-1]["gross"] == -90.0
    assert og.credit_totals() == {sale["DocumentID"]: 90.0}


def test_a_sale_may_have_discount_lines_but_no_negative_total(og, mug):
    created = ok(og.call(CREATE, body([item(mug, 2, 50.0), item(mug, 1, -20.0)], paid=80.0, VATIncluded=True)))
    assert details_of(og, created)["Document"]["DocumentValue"] == 80.0
    refused(og.call(CREATE, body([item(mug, 1, 50.0), item(mug, 1, -60.0)], paid=-10.0, VATIncluded=True)),
            "negative", "-10.00")
    refused(og.call(CREATE, body([item(mug, 1, -5.0)], doc_type=0, VATIncluded=True)), "negative")
    ok(og.call(CREATE, body([item(mug, 1, 0.0)], doc_type=0, VATIncluded=True)))


def test_a_credit_may_name_another_customers_document(og, mug):
    sale = _sale(og, mug)
    credit = ok(og.call(CREATE, body([item(mug, 1, 59.0)], doc_type=5, VATIncluded=True,
                                     customer={"Name": "Somebody else"}, OriginalDocumentID=sale["DocumentID"])))
    assert credit["CustomerID"] != sale["CustomerID"]
    assert og.document(credit["DocumentID"])["original_id"] == sale["DocumentID"]
    assert og.credits_of(sale["DocumentID"])["credited_gross"] == 59.0


def test_draft_credits_are_not_counted(og, mug):
    sale = _sale(og, mug)
    ok(og.call(CREATE, body([item(mug, 1, 59.0)], doc_type=5, VATIncluded=True, details={"IsDraft": True},
                            OriginalDocumentID=sale["DocumentID"])))
    assert og.credits_of(sale["DocumentID"])["credit_ids"] == []
    assert og.item_stock(mug) == 97


# --- currencies (Swagger 3.1) ------------------------------------------------------------------

@pytest.mark.parametrize("currency, number, rate", [
    ("JPY", 8, 0.024), (8, 8, 0.024), ("GBP", 5, 4.6), ("gbp", 5, 4.6), ("5", 5, 4.6), ("EUR", 2, 3.9),
    (1, 1, 3.6), ("CLF", 990, 1.0), (990, 990, 1.0), ("ILS", 0, 1.0), ("AED", 784, 1.0),
])
def test_every_swagger_currency_is_accepted_by_number_or_code(og, mug, currency, number, rate):
    line = {"Quantity": 1, "DocumentCurrency_UnitPrice": 1000.0, "Item": {"ID": mug}}
    created = ok(og.call(CREATE, {**body([line], details={"Currency": currency}, VATIncluded=True),
                                  "Payments": [{"DocumentCurrency_Amount": 1000.0, "Details_Cash": {}}]}))
    doc = details_of(og, created)["Document"]
    assert (doc["Currency"], doc["DocumentValue"], doc["CompanyValue"]) == (number, 1000.0, round(1000 * rate, 2))
    assert og.documents()[-1]["currency"] == number


@pytest.mark.parametrize("currency", [978, "978", 7, 376, "XYZ", "EURO", -1])
def test_currencies_outside_the_swagger_enum_are_refused(og, mug, currency):
    line = {"Quantity": 1, "DocumentCurrency_UnitPrice": 10.0, "Item": {"ID": mug}}
    refused(og.call(CREATE, body([line], doc_type=0, details={"Currency": currency})), "Details.Currency")
    spec = {"Quantity": 1, "UnitPrice": 10.0, "Item": {"ID": mug, "Currency": currency}}
    refused(og.call(CREATE, body([spec], doc_type=0)), "Items[1].Item.Currency")


def test_item_currency_takes_the_full_enum(og):
    spec = {"Name": "Yen mug", "SearchMode": 1, "Currency": "JPY"}
    created = ok(og.call(CREATE, body([{"Quantity": 1, "UnitPrice": 10.0, "Item": spec}], doc_type=0)))
    item_id = details_of(og, created)["Items"][0]["Item"]["ID"]
    items = ok(og.call("/accounting/incomeitems/list/", {}))["IncomeItems"]
    assert {i["ID"]: i["Currency"] for i in items}[item_id] == 8
    assert ok(og.call("/accounting/incomeitems/create/", {"IncomeItem": {"Name": "X", "Currency": "GBP"}}))


@pytest.mark.parametrize("line", [
    {"Quantity": 1, "UnitPrice": 10.0},
    {"Quantity": 1, "TotalPrice": 10.0},
])
def test_a_foreign_document_line_with_only_ils_prices_is_refused(og, mug, line):
    request = body([{**line, "Item": {"ID": mug}}], doc_type=0, details={"Currency": "USD"})
    refused(og.call(CREATE, request), "Line 1", "ILS", "USD", "DocumentCurrency_UnitPrice")


def test_a_foreign_document_payment_with_only_an_ils_amount_is_refused(og, mug):
    line = {"Quantity": 1, "DocumentCurrency_UnitPrice": 10.0, "Item": {"ID": mug}}
    request = {**body([line], details={"Currency": "EUR"}, VATIncluded=True),
               "Payments": [{"Amount": 39.0, "Details_Cash": {}}]}
    refused(og.call(CREATE, request), "Payment 1", "EUR", "DocumentCurrency_Amount")


def test_an_ils_document_reads_either_price_field(og, mug):
    line = {"Quantity": 2, "DocumentCurrency_UnitPrice": 10.0, "Item": {"ID": mug}}
    created = ok(og.call(CREATE, body([line], paid=20.0, VATIncluded=True)))
    assert details_of(og, created)["Items"][0]["UnitPrice"] == 10.0


# --- zero-value lines, receipts, helpers, upgrade ---------------------------------------------

def test_a_zero_price_line_is_accepted_and_recorded(og, mug):
    created = ok(og.call(CREATE, body([item(mug, 1, 30.0), item(mug, 1, 0.0)], paid=30.0, VATIncluded=True)))
    recorded = og.document(created["DocumentID"])
    assert [(ln["zero_value"], ln["vat"]) for ln in recorded["lines"]] == [(False, 4.58), (True, 0.0)]
    assert og.item_stock(mug) == 98


def test_a_receipt_may_be_payments_only_but_an_invoice_receipt_may_not(og, mug):
    receipt = ok(og.call(CREATE, {"Details": {"Type": 2, "Customer": {"Name": "X"}},
                                  "Payments": [{"Amount": 50.0, "Details_Cash": {}}]}))
    data = details_of(og, receipt)
    assert (data["Items"], data["Document"]["DocumentValue"], data["Document"]["VAT"]) == ([], 50.0, 0.0)
    refused(og.call(CREATE, {"Details": {"Type": 1, "Customer": {"Name": "X"}},
                             "Payments": [{"Amount": 50.0, "Details_Cash": {}}]}), "at least one item line")


def test_documents_helper_lists_every_field(og, mug):
    created = ok(og.call(CREATE, body([item(mug, 2, 59.0)], paid=118.0, VATIncluded=True,
                                      details={"ExternalReference": "woo:shop:1"})))
    doc = og.document(created["DocumentID"])
    assert set(doc) == {
        "id", "number", "type", "is_draft", "date", "currency", "currency_code", "customer_id", "customer_name",
        "no_vat", "company_number", "external_reference", "description", "original_id", "vat_included",
        "vat_per_item", "vat_rate", "net", "vat", "gross", "company_value", "send_by_email", "lines", "payments"}
    assert (doc["id"], doc["customer_id"], doc["external_reference"], doc["date"]) == (
        created["DocumentID"], created["CustomerID"], "woo:shop:1", TODAY)
    assert doc["lines"] == [{"position": 1, "item_id": mug, "description": "Mug", "quantity": 2.0, "unit_price": 59.0,
                             "total_price": 118.0, "vat": 18.0, "zero_value": False}]
    assert doc["payments"] == [{"position": 1, "kind": "Cash", "type": 2, "method": "Details_Cash", "amount": 118.0,
                                "details": {}}]
    with pytest.raises(KeyError):
        og.item_stock(999)
    with pytest.raises(KeyError):
        og.credits_of(1)


def test_a_database_of_an_older_sandbox_gets_the_new_columns(tmp_path):
    with og_sandbox(tmp_path, today=TODAY) as og:
        mug = new_item(og, "Mug", stock=5)
        ok(og.call(CREATE, body([item(mug, 1, 10.0)], paid=10.0, VATIncluded=True)))
    with sqlite3.connect(tmp_path / "officeguy.sqlite") as db:
        db.execute("ALTER TABLE documents DROP COLUMN vat_value")
        db.execute("ALTER TABLE payments DROP COLUMN kind")
    with og_sandbox(tmp_path, today=TODAY) as og:
        old = og.documents()[-1]
        assert old["vat"] is None and old["payments"][0]["kind"] == "Cash"
        ok(og.call(CREATE, body([item(mug, 1, 10.0)], paid=10.0, VATIncluded=True)))
        assert og.documents()[-1]["vat"] == 1.53
