"""Accounting documents: create (validation, item resolution, stock effects), list and getdetails
(officeguy-api.md 1.5c-d, section 7)."""

from __future__ import annotations

import datetime as dt

import pytest
from og_helpers import TODAY, document, line, new_item, stock_of

STOCK_DELTA = {0: -1, 1: -1, 2: -1, 9: -1, 5: 1, 6: 1, 7: 1, 10: 1, 11: 1}


def days_ago(n: int) -> str:
    return (dt.date.fromisoformat(TODAY) - dt.timedelta(days=n)).isoformat()


def test_purchase_order_raises_stock(og):
    item_id = new_item(og)
    answer = document(og, 11, [line(item_id, 12)])
    assert answer["Status"] == 0, answer
    assert stock_of(og, item_id) == 12


def test_invoice_and_receipt_lowers_stock(og):
    item_id = new_item(og, stock=10)
    answer = document(og, 1, [line(item_id, 3, 25.0)])
    assert answer["Status"] == 0, answer
    assert set(answer["Data"]) == {"DocumentID", "DocumentNumber", "CustomerID", "DocumentDownloadURL"}
    assert stock_of(og, item_id) == 7


def test_fractional_quantities_move_fractional_stock(og):
    item_id = new_item(og, stock=2)
    assert document(og, 1, [line(item_id, 0.75)])["Status"] == 0
    assert stock_of(og, item_id) == 1.25


@pytest.mark.parametrize("doc_type", range(15))
def test_which_final_documents_move_stock(og, doc_type):
    item_id = new_item(og, stock=10)
    answer = document(og, doc_type, [line(item_id, 2)])
    assert answer["Status"] == 0, answer
    assert stock_of(og, item_id) == 10 + 2 * STOCK_DELTA.get(doc_type, 0)


@pytest.mark.parametrize("doc_type", [1, 11])
def test_a_draft_changes_nothing_and_takes_no_number(og, doc_type):
    item_id = new_item(og, stock=10)
    answer = document(og, doc_type, [line(item_id, 4)], IsDraft=True)
    assert answer["Status"] == 0, answer
    assert answer["Data"]["DocumentNumber"] is None
    assert stock_of(og, item_id) == 10
    assert document(og, doc_type, [line(item_id, 1)], IsDraft="false")["Data"]["DocumentNumber"] == 10002 - (
        doc_type == 1)  # the type-11 sequence already holds the purchase order that stocked the item


def test_credit_document_puts_stock_back_and_stores_negative_values(og):
    item_id = new_item(og, stock=10)
    sale = document(og, 1, [line(item_id, 3, 20.0)])["Data"]
    assert stock_of(og, item_id) == 7
    credit = document(og, 6, [line(item_id, 3, 20.0)])
    assert credit["Status"] == 0, credit
    body = {
        "Details": {"Type": 5, "Customer": {"ID": sale["CustomerID"]}},
        "Items": [line(item_id, 1, 20.0)], "VATIncluded": True, "OriginalDocumentID": sale["DocumentID"],
    }
    linked = og.call("/accounting/documents/create/", body)
    assert linked["Status"] == 0, linked
    assert linked["Data"]["CustomerID"] == sale["CustomerID"]
    assert stock_of(og, item_id) == 11
    details = og.call("/accounting/documents/getdetails/", {"DocumentID": linked["Data"]["DocumentID"]})["Data"]
    assert details["Document"]["DocumentValue"] == -20.0
    assert details["Document"]["OriginalDocumentID"] == sale["DocumentID"]
    assert details["Items"][0]["TotalPrice"] == -20.0
    listed = og.call("/accounting/documents/list/", {"DocumentTypes": [6]})["Data"]["Documents"]
    assert [d["DocumentValue"] for d in listed] == [-60.0]


def test_credit_with_an_unknown_original_document_is_refused(og):
    item_id = new_item(og, stock=10)
    body = {"Details": {"Type": 5, "Customer": {"Name": "X"}}, "Items": [line(item_id, 1)],
            "OriginalDocumentID": 80_999_999}
    answer = og.call("/accounting/documents/create/", body)
    assert answer["Status"] == 1 and "80999999" in answer["UserErrorMessage"]
    assert stock_of(og, item_id) == 10


def test_document_numbers_run_per_type_and_ids_differ_from_numbers(og):
    item_id = new_item(og, stock=10)
    numbers = [document(og, t, [line(item_id)])["Data"]["DocumentNumber"] for t in (1, 1, 0, 1)]
    assert numbers == [10001, 10002, 10001, 10003]
    ids = [d["DocumentID"] for d in og.call("/accounting/documents/list/", {})["Data"]["Documents"]]
    assert not set(ids) & set(numbers) and len(set(ids)) == len(ids)


# --- item resolution (section 7) -------------------------------------------------------------

@pytest.mark.parametrize("spec", [
    {"ExternalIdentifier": "woo-1", "SearchMode": 2},
    {"SKU": "SKU-1", "SearchMode": 4},
    {"Name": "Blue mug", "SearchMode": 3},
    {"Name": "Blue mug", "SearchMode": "Name"},
    {"ExternalIdentifier": "woo-1", "Name": "Renamed in Woo", "SearchMode": 0},
    {"ExternalIdentifier": "unknown", "SKU": "SKU-1", "Name": "Renamed", "SearchMode": "Automatic"},
    {"Name": "Blue mug", "SearchMode": 0},
])
def test_items_resolve_by_search_mode(og, spec):
    decoy = new_item(og, "Decoy", SKU="SKU-2", ExternalIdentifier="woo-2")
    item_id = new_item(og, "Blue mug", SKU="SKU-1", ExternalIdentifier="woo-1", stock=10)
    answer = document(og, 1, [line(quantity=2, **spec)])
    assert answer["Status"] == 0, answer
    assert stock_of(og, item_id) == 8
    assert stock_of(og, decoy) == 0
    assert len(og.call("/stock/stock/list/", {})["Data"]["Stock"]) == 2  # no card was created


def test_items_resolve_by_id(og):
    item_id = new_item(og, stock=5)
    assert document(og, 1, [line(item_id, 5)])["Status"] == 0
    assert stock_of(og, item_id) == 0


def test_unknown_item_id_is_refused(og):
    answer = document(og, 11, [line(999_999)])
    assert answer["Status"] == 1 and "999999" in answer["UserErrorMessage"]


def test_automatic_creates_a_card_when_nothing_matches(og):
    existing = new_item(og, "Blue mug", SKU="SKU-1", ExternalIdentifier="woo-1")
    spec = {"ExternalIdentifier": "woo-9", "SKU": "SKU-9", "Name": "Red mug", "SearchMode": "Automatic"}
    answer = document(og, 1, [line(quantity=2, price=30.0, **spec), line(quantity=1, price=30.0, **spec)])
    assert answer["Status"] == 0, answer
    stock = og.call("/stock/stock/list/", {})["Data"]["Stock"]
    (created,) = [row for row in stock if row["ID"] != existing]
    assert created["ExternalIdentifier"] == "woo-9" and created["Name"] == "Red mug"
    assert created["Stock"] == -3  # one card for both lines, sold before any stock arrived
    items = og.call("/accounting/incomeitems/list/", {})["Data"]["IncomeItems"]
    assert {i["SKU"]: i["Price"] for i in items} == {"SKU-1": 10.0, "SKU-9": 30.0}


def test_search_mode_none_always_creates_a_card(og):
    existing = new_item(og, "Blue mug", SKU="SKU-1", stock=5)
    answer = document(og, 1, [line(Name="Blue mug", SKU="SKU-1", SearchMode=1)])
    assert answer["Status"] == 0
    assert stock_of(og, existing) == 5
    assert len(og.call("/stock/stock/list/", {})["Data"]["Stock"]) == 2


@pytest.mark.parametrize("spec,words", [
    ({"ExternalIdentifier": "woo-404", "SearchMode": 2}, ["Line 2", "ExternalIdentifier", "woo-404"]),
    ({"SKU": "NOPE", "SearchMode": "SKU"}, ["Line 2", "SKU", "NOPE"]),
    ({"Name": "Nothing", "SearchMode": 3}, ["Line 2", "Name", "Nothing"]),
    ({"Name": "Has no SKU", "SearchMode": 4}, ["Line 2", "SKU"]),
])
def test_explicit_search_mode_without_a_match_is_refused_naming_the_line(og, spec, words):
    item_id = new_item(og, stock=10)
    answer = document(og, 1, [line(item_id, 1), line(quantity=1, **spec)])
    assert answer["Status"] == 1
    for word in words:
        assert word in answer["UserErrorMessage"]
    assert stock_of(og, item_id) == 10  # the whole document was refused
    assert len(og.call("/stock/stock/list/", {})["Data"]["Stock"]) == 1
    documents = og.call("/accounting/documents/list/", {"IncludeDrafts": True})["Data"]["Documents"]
    assert [d["Type"] for d in documents] == [11]  # only the purchase order that stocked the card


def test_customers_are_found_by_search_mode_or_created(og):
    item_id = new_item(og, stock=10)
    customer = {"Name": "Dana", "EmailAddress": "dana@example.com", "ExternalIdentifier": "woo-cust-1"}
    first = og.call("/accounting/documents/create/", {
        "Details": {"Type": 11, "Customer": customer}, "Items": [line(item_id)]})["Data"]["CustomerID"]
    again = og.call("/accounting/documents/create/", {
        "Details": {"Type": 11, "Customer": {**customer, "SearchMode": "ExternalIdentifier"}},
        "Items": [line(item_id)]})["Data"]["CustomerID"]
    auto = og.call("/accounting/documents/create/", {
        "Details": {"Type": 11, "Customer": {"Name": "D.", "EmailAddress": "dana@example.com", "SearchMode": 0}},
        "Items": [line(item_id)]})["Data"]["CustomerID"]
    fresh = og.call("/accounting/documents/create/", {
        "Details": {"Type": 11, "Customer": customer}, "Items": [line(item_id)]})["Data"]["CustomerID"]
    assert first == again == auto != fresh  # no SearchMode means None: always a new customer
    unknown = og.call("/accounting/documents/create/", {
        "Details": {"Type": 11, "Customer": {"ID": 123}}, "Items": [line(item_id)]})
    assert unknown["Status"] == 1


# --- validation (1.5c) -----------------------------------------------------------------------

@pytest.mark.parametrize("body,expected", [
    ({"Items": [{"Quantity": 1, "UnitPrice": 1, "Item": {"ID": 1001}}]}, "Details is required"),
    ({"Details": {"Customer": {"Name": "X"}}}, "Details.Type is required"),
    ({"Details": {"Type": 11}}, "Details.Customer is required"),
    ({"Details": {"Type": 11, "Customer": {"Name": "X"}}}, "at least one item line"),
    ({"Details": {"Type": 11, "Customer": {"Name": "X"}}, "Items": []}, "at least one item line"),
    ({"Details": {"Type": 16, "Customer": {"Name": "X"}}, "Items": [{"Quantity": 1, "UnitPrice": 1}]},
     "Document type not supported"),
    ({"Details": {"Type": 11, "Customer": {"Name": "X"}}, "Items": [{"Quantity": 1, "UnitPrice": 1}]},
     "Line 1: Item is missing"),
    ({"Details": {"Type": 11, "Customer": {"Name": "X"}},
      "Items": [{"Quantity": 0, "UnitPrice": 1, "Item": {"ID": 1001}}]}, "Line 1: Quantity must not be 0"),
    ({"Details": {"Type": 11, "Customer": {"Name": "X"}}, "Items": [{"Quantity": 2, "Item": {"ID": 1001}}]},
     "Line 1: UnitPrice or TotalPrice is missing"),
    ({"Details": {"Type": 11, "Customer": {"Name": "X"}},
      "Items": [{"Quantity": 2, "UnitPrice": 5, "TotalPrice": 11, "Item": {"ID": 1001}}]}, "Line 1: TotalPrice"),
    ({"Details": {"Type": 11, "Customer": {"EmailAddress": "a@b.c"}}, "Items": [{"Quantity": 1, "UnitPrice": 1, "Item": {"ID": 1001}}]},
     "Customer.Name is required"),
    ({"Details": {"Type": 11, "Customer": {"Name": "X"}},
      "Items": [{"Quantity": 1, "UnitPrice": 1, "Item": {"Name": "New", "SearchMode": 1}}],
      "Payments": [{"Amount": 1, "Details_Cash": {}}]}, "Payments are not allowed"),
])
def test_invalid_documents_are_refused_with_a_reason(og, body, expected):
    item_id = new_item(og)
    assert item_id == 1001
    answer = og.call("/accounting/documents/create/", body)
    assert answer["Status"] == 1 and answer["Data"] is None
    assert expected in answer["UserErrorMessage"]
    assert og.call("/accounting/documents/list/", {"IncludeDrafts": True})["Data"]["Documents"] == []


def test_total_price_alone_is_enough(og):
    item_id = new_item(og)
    body = {"Details": {"Type": 11, "Customer": {"Name": "X"}}, "Items": [{"Quantity": 4, "TotalPrice": 10,
                                                                            "Item": {"ID": item_id}}],
            "VATIncluded": "true"}
    answer = og.call("/accounting/documents/create/", body)
    details = og.call("/accounting/documents/getdetails/", {"DocumentID": answer["Data"]["DocumentID"]})["Data"]
    assert details["Items"][0]["UnitPrice"] == 2.5 and details["Document"]["DocumentValue"] == 10.0


@pytest.mark.parametrize("doc_type", [1, 2, 6, 7, "InvoiceAndReceipt"])
def test_payments_are_required_on_receipt_types(og, doc_type):
    item_id = new_item(og, stock=5)
    answer = document(og, doc_type, [line(item_id)], pay=False)
    assert answer["Status"] == 1 and "Payments are required" in answer["UserErrorMessage"]
    assert stock_of(og, item_id) == 5


def test_an_empty_payments_array_is_refused(og):
    item_id = new_item(og, stock=5)
    body = {"Details": {"Type": 1, "Customer": {"Name": "X"}}, "Items": [line(item_id)], "VATIncluded": True,
            "Payments": []}
    answer = og.call("/accounting/documents/create/", body)
    assert answer["Status"] == 1 and "empty" in answer["UserErrorMessage"]


@pytest.mark.parametrize("payments,ok", [
    ([{"Amount": 30, "Details_Other": {"Type": "WooCommerce"}}], True),
    ([{"Amount": 30.009, "Details_Cash": {}}], True),
    ([{"Amount": 20, "Details_Cash": {}}, {"Amount": "10", "Details_CreditCard": {"Last4Digits": "1234"}}], True),
    ([{"Amount": 29.98, "Details_Other": {"Type": "WooCommerce"}}], False),
    ([{"Amount": 31, "Details_Other": {"Type": "WooCommerce"}}], False),
    ([{"Amount": 30}], False),
    ([{"Amount": 30, "Details_Cash": {}, "Details_Other": {}}], False),
    ([{"Details_Cash": {}}], False),
])
def test_payments_must_add_up_to_the_document_total(og, payments, ok):
    item_id = new_item(og, stock=5)
    body = {"Details": {"Type": 1, "Customer": {"Name": "X"}}, "Items": [line(item_id, 3, 10.0)],
            "VATIncluded": True, "Payments": payments}
    answer = og.call("/accounting/documents/create/", body)
    assert answer["Status"] == (0 if ok else 1), answer
    assert stock_of(og, item_id) == (2 if ok else 5)


def test_prices_without_vat_get_vat_added_to_the_total(og):
    item_id = new_item(og, stock=5)
    body = {"Details": {"Type": 1, "Customer": {"Name": "X"}}, "Items": [line(item_id, 1, 100.0)],
            "Payments": [{"Amount": 100, "Details_Cash": {}}]}
    assert og.call("/accounting/documents/create/", body)["Status"] == 1
    body["Payments"][0]["Amount"] = 118
    answer = og.call("/accounting/documents/create/", body)
    assert answer["Status"] == 0, answer
    (listed,) = og.call("/accounting/documents/list/", {"DocumentTypes": [1]})["Data"]["Documents"]
    assert listed["DocumentValue"] == 118.0


# --- the 3-day rule (1.5c, section 7) --------------------------------------------------------

def test_documents_may_be_dated_at_most_three_days_back(og):
    item_id = new_item(og)
    assert document(og, 11, [line(item_id)], Date=days_ago(3))["Status"] == 0
    assert document(og, 11, [line(item_id)], Date=days_ago(-5) + "T09:30:00")["Status"] == 0
    refused = document(og, 11, [line(item_id)], Date=days_ago(4))
    assert refused["Status"] == 1 and "3 days" in refused["UserErrorMessage"]
    hebrew = document(og, 11, [line(item_id)], Date=days_ago(4), language="he")
    assert "שלושה ימים" in hebrew["UserErrorMessage"]
    assert stock_of(og, item_id) == 2


def test_the_rule_follows_the_sandbox_clock(og):
    item_id = new_item(og)
    og.set_config(today="2026-06-01")
    assert document(og, 11, [line(item_id)], Date="2026-05-29")["Status"] == 0
    assert document(og, 11, [line(item_id)], Date="2026-05-28")["Status"] == 1
    undated = document(og, 11, [line(item_id)])["Data"]["DocumentID"]
    details = og.call("/accounting/documents/getdetails/", {"DocumentID": undated})["Data"]
    assert details["Document"]["Date"] == "2026-06-01T00:00:00"  # Date defaults to today


def test_custom_document_dates_lift_the_rule(og):
    item_id = new_item(og)
    og.set_config(enable_custom_document_dates=True)
    assert document(og, 11, [line(item_id)], Date="2024-01-15")["Status"] == 0


# --- documents/list (1.5d) -------------------------------------------------------------------

def _issue(og, item_id, dates: list[str], doc_type=11, **details):
    return [document(og, doc_type, [line(item_id)], Date=d, ExternalReference=f"ref-{n}", **details)["Data"]
            for n, d in enumerate(dates)]


def test_list_filters_by_type_dates_and_drafts(og):
    og.set_config(enable_custom_document_dates=True)
    item_id = new_item(og, stock=100)
    _issue(og, item_id, ["2026-01-01", "2026-01-02", "2026-01-03"], doc_type=1)
    _issue(og, item_id, ["2026-01-02"], doc_type=1, IsDraft=True)

    def listed(**filters):
        documents = og.call("/accounting/documents/list/", {"Paging": {"PageSize": 100}, **filters})
        return sorted((d["Type"], d["Date"][:10], d["IsDraft"]) for d in documents["Data"]["Documents"])

    assert listed(DocumentTypes=[1]) == [(1, "2026-01-01", False), (1, "2026-01-02", False), (1, "2026-01-03", False)]
    assert listed(DocumentTypes=[11]) == [(11, TODAY, False)]  # the purchase order that stocked the item
    assert listed(DocumentTypes=["1"]) == listed(DocumentTypes=[1])
    assert listed(DocumentTypes=["InvoiceAndReceipt"]) == []  # names filter nothing (1.4)
    assert listed(DateFrom="2026-01-02", DateTo="2026-01-03") == [(1, "2026-01-02", False), (1, "2026-01-03", False)]
    assert listed(DateFrom="2026-01-02T00:00:00", DateTo="2026-01-02T00:00:00") == [(1, "2026-01-02", False)]
    assert listed(DateTo="2026-01-02", IncludeDrafts=True) == [
        (1, "2026-01-01", False), (1, "2026-01-02", False), (1, "2026-01-02", True)]


def test_list_returns_every_field_and_the_external_reference(og):
    item_id = new_item(og, stock=5)
    created = document(og, 1, [line(item_id, 2, 15.0)], ExternalReference="woo:shop:42",
                       Description="Order number: 42")["Data"]
    (doc,) = og.call("/accounting/documents/list/", {"DocumentTypes": [1]})["Data"]["Documents"]
    assert set(doc) >= {"DocumentID", "DocumentNumber", "Type", "Date", "CustomerID", "CustomerName", "Currency",
                        "Language", "DocumentValue", "CompanyValue", "IsDraft", "IsClosed", "DueDate",
                        "Description", "ExternalReference", "DocumentDownloadURL", "DocumentPaymentURL"}
    assert doc["DocumentID"] == created["DocumentID"] and doc["DocumentNumber"] == created["DocumentNumber"]
    assert (doc["ExternalReference"], doc["Description"]) == ("woo:shop:42", "Order number: 42")
    assert (doc["DocumentValue"], doc["CompanyValue"], doc["CustomerName"]) == (30.0, 30.0, "Dana Levi")
    assert doc["IsClosed"] is True and doc["IsDraft"] is False


def test_list_pages_with_has_next_page_in_a_scrambled_but_stable_order(og):
    item_id = new_item(og)
    for _ in range(25):
        document(og, 11, [line(item_id)])
    pages, start = [], 0
    while True:
        data = og.call("/accounting/documents/list/", {"Paging": {"StartIndex": start, "PageSize": 10}})["Data"]
        pages.append(data["Documents"])
        if not data["HasNextPage"]:
            break
        start += 10
    assert [len(p) for p in pages] == [10, 10, 5]
    ids = [d["DocumentID"] for page in pages for d in page]
    numbers = [d["DocumentNumber"] for page in pages for d in page]
    assert len(set(ids)) == 25
    assert ids != sorted(ids) and ids != sorted(ids, reverse=True)
    assert numbers != sorted(numbers) and numbers != sorted(numbers, reverse=True)
    again = og.call("/accounting/documents/list/", {"Paging": {"PageSize": 100}})["Data"]["Documents"]
    assert [d["DocumentID"] for d in again] == ids
    assert og.call("/accounting/documents/list/", {"Paging": {"PageSize": 5}})["Status"] == 1


# --- documents/getdetails (1.5d) -------------------------------------------------------------

def test_getdetails_by_id_and_by_type_and_number(og):
    item_id = new_item(og, "Blue mug", SKU="SKU-1", stock=5)
    created = document(og, 1, [line(item_id, 2, 15.0)], ExternalReference="woo:shop:7",
                       Customer={"Name": "Noa", "EmailAddress": "noa@example.com"})["Data"]
    by_id = og.call("/accounting/documents/getdetails/", {"DocumentID": created["DocumentID"]})
    by_number = og.call("/accounting/documents/getdetails/",
                        {"DocumentType": "InvoiceAndReceipt", "DocumentNumber": created["DocumentNumber"]})
    assert by_id == by_number and by_id["Status"] == 0
    data = by_id["Data"]
    assert (data["DocumentID"], data["DocumentNumber"]) == (created["DocumentID"], created["DocumentNumber"])
    assert data["DocumentDownloadURL"] == created["DocumentDownloadURL"]
    assert data["Document"]["ExternalReference"] == "woo:shop:7"
    assert data["Document"]["Customer"]["ID"] == created["CustomerID"]
    assert data["Document"]["Customer"]["EmailAddress"] == "noa@example.com"
    (item_line,) = data["Items"]
    assert (item_line["Quantity"], item_line["UnitPrice"], item_line["TotalPrice"]) == (2, 15.0, 30.0)
    assert (item_line["Item"]["ID"], item_line["Item"]["Name"], item_line["Item"]["SKU"]) == (
        item_id, "Blue mug", "SKU-1")
    assert data["Payments"] == [{"Amount": 30.0, "DocumentCurrency_Amount": 30.0, "Type": 8,
                                 "Details_Other": {"Type": "WooCommerce", "Description": "test"}}]


@pytest.mark.parametrize("body", [{"DocumentID": 80_999_999}, {"DocumentType": 1, "DocumentNumber": 99999},
                                  {"DocumentType": 1}, {}])
def test_getdetails_of_an_unknown_document_is_refused(og, body):
    answer = og.call("/accounting/documents/getdetails/", body)
    assert answer["Status"] == 1 and answer["Data"] is None
