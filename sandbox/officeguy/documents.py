"""Accounting documents: create (with item resolution and stock effects), list and getdetails.

The rules follow officeguy-api.md 1.5c-d and section 7; the choices made where the reference
is silent are listed in ``sandbox/officeguy/app.py``'s docstring.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.officeguy import wire
from sandbox.officeguy.store import (
    FIRST_CUSTOMER_ID,
    FIRST_DOCUMENT_ID,
    FIRST_DOCUMENT_NUMBER,
    FIRST_ITEM_ID,
    Customer,
    Document,
    DocumentLine,
    Item,
    Payment,
    next_id,
)
from sandbox.officeguy.wire import ApiError

# Section 7: final sale documents take stock out, credits, returns and purchase orders put it back.
STOCK_OUT = {0, 1, 2, 9}
STOCK_IN = {5, 6, 7, 10, 11}
# Receipts and invoice-receipts carry payments (1.5c); the donation receipts are receipts too.
PAYMENT_TYPES = {1, 2, 4, 6, 7, 14}
CREDIT_TYPES = {5, 6, 7, 14}
# Documents that ask to be paid stay open; everything else is closed when issued.
OPEN_TYPES = {0, 3, 13}
PAYMENT_METHODS = (
    "Details_Cash", "Details_BankTransfer", "Details_Cheque", "Details_CreditCard", "Details_Other",
    "Details_Digital", "Details_TaxWithholding", "Details_General",
)
# The sandbox has no exchange-rate feed: fixed rates turn a document's value into ILS.
ILS_RATES = {0: 1.0, 1: 3.6, 2: 3.9}
TOLERANCE = 0.01
MAX_BACKDATE_DAYS = 3
ITEM_SEARCH_FIELDS = {2: "ExternalIdentifier", 3: "Name", 4: "SKU", 5: "Description"}
ITEM_COLUMNS = {"ExternalIdentifier": Item.external_identifier, "Name": Item.name, "SKU": Item.sku,
                "Description": Item.description}
CUSTOMER_SEARCH_FIELDS = {2: "ExternalIdentifier", 3: "Name", 4: "CompanyNumber", 5: "Phone", 6: "EmailAddress"}
# Automatic tries the most specific keys first; a name alone is the weakest evidence.
CUSTOMER_AUTOMATIC_ORDER = ("ExternalIdentifier", "CompanyNumber", "EmailAddress", "Phone", "Name")
CUSTOMER_COLUMNS = {
    "ExternalIdentifier": Customer.external_identifier, "Name": Customer.name,
    "CompanyNumber": Customer.company_number, "Phone": Customer.phone, "EmailAddress": Customer.email_address,
}


def create(session: Session, body: dict[str, Any], config: dict[str, Any], company_id: int) -> dict[str, Any]:
    details = body.get("Details")
    if not details:
        raise ApiError("required", field="Details")
    details = wire.mapping(details, "Details")
    if details.get("Type") is None or details.get("Type") == "":
        raise ApiError("required", field="Details.Type")
    doc_type = wire.enum(details["Type"], wire.DOCUMENT_TYPES, "Details.Type", extra=wire.EXPENSE_TYPES)
    if doc_type in wire.EXPENSE_TYPES:
        raise ApiError("type_unsupported")
    if not details.get("Customer"):
        raise ApiError("required", field="Details.Customer")
    is_draft = wire.boolean(details.get("IsDraft"), "Details.IsDraft")
    today = current_date(config)
    date = wire.date(details.get("Date"), "Details.Date") or today
    if date < today - dt.timedelta(days=MAX_BACKDATE_DAYS) and not config["enable_custom_document_dates"]:
        raise ApiError("date_too_old")
    currency = _currency(details.get("Currency"), "Details.Currency")
    language = 0 if details.get("Language") in (None, "") else wire.enum(
        details["Language"], wire.LANGUAGES, "Details.Language")
    vat_included = wire.boolean(body.get("VATIncluded"), "VATIncluded")
    vat_rate = wire.optional_number(body.get("VATRate"), "VATRate")
    vat_rate = config["vat_rate"] if vat_rate is None else vat_rate
    original_id = _original(session, body.get("OriginalDocumentID"))

    lines = _lines(body.get("Items"))
    net = round(sum(line["total"] for line in lines), 2)
    total = net if vat_included else round(net * (1 + vat_rate / 100), 2)
    payments = _payments(body, doc_type, total)

    # A refusal from here on (an unknown item, say) rolls the whole call back: no stray
    # customers or cards are left behind.
    customer = _customer(session, wire.mapping(details["Customer"], "Details.Customer"))
    items = [_item(session, line) for line in lines]
    sign = -1 if doc_type in CREDIT_TYPES else 1
    document = Document(
        id=next_id(session, Document.id, FIRST_DOCUMENT_ID), type=doc_type, is_draft=is_draft,
        number=None if is_draft else _next_number(session, doc_type), date=date,
        due_date=wire.date(details.get("DueDate"), "Details.DueDate"), customer=customer, currency=currency,
        language=language, description=wire.text(details.get("Description"), "Details.Description"),
        external_reference=wire.text(details.get("ExternalReference"), "Details.ExternalReference"),
        vat_included=vat_included, vat_rate=vat_rate, document_value=sign * total,
        company_value=round(sign * total * ILS_RATES[currency], 2), original_document_id=original_id,
    )
    session.add(document)
    for position, (line, item) in enumerate(zip(lines, items, strict=True), start=1):
        document.lines.append(DocumentLine(
            position=position, item=item, description=line["description"] or item.name,
            quantity=line["quantity"], unit_price=sign * line["unit"], total_price=sign * line["total"],
        ))
        if not is_draft and doc_type in STOCK_OUT:
            item.stock -= line["quantity"]
        elif not is_draft and doc_type in STOCK_IN:
            item.stock += line["quantity"]
    for position, (amount, method, method_details) in enumerate(payments, start=1):
        document.payments.append(Payment(position=position, amount=sign * amount, method=method,
                                         details=method_details))
    session.flush()
    return {
        "DocumentID": document.id, "DocumentNumber": document.number, "CustomerID": customer.id,
        "DocumentDownloadURL": download_url(company_id, document.id),
    }


def list_documents(session: Session, body: dict[str, Any], company_id: int) -> dict[str, Any]:
    start, size = wire.paging(body)
    query = select(Document)
    types = body.get("DocumentTypes")
    if types is not None:
        if not isinstance(types, list):
            raise ApiError("invalid", field="DocumentTypes", value=types)
        # Only numeric codes filter: names match nothing (1.4, CFO's observation).
        codes = [int(t) for t in types if isinstance(t, int | str) and str(t).strip().isdigit()]
        query = query.where(Document.type.in_(codes))
    if not wire.boolean(body.get("IncludeDrafts"), "IncludeDrafts"):
        query = query.where(Document.is_draft.is_(False))
    date_from = wire.date(body.get("DateFrom"), "DateFrom")
    date_to = wire.date(body.get("DateTo"), "DateTo")
    if date_from:
        query = query.where(Document.date >= date_from)
    if date_to:
        query = query.where(Document.date <= date_to)
    if body.get("DocumentNumberFrom") not in (None, ""):
        query = query.where(Document.number >= wire.integer(body["DocumentNumberFrom"], "DocumentNumberFrom"))
    if body.get("DocumentNumberTo") not in (None, ""):
        query = query.where(Document.number <= wire.integer(body["DocumentNumberTo"], "DocumentNumberTo"))
    # Neither by date nor by number (1.5d): a fixed scramble of the IDs, so clients must sort.
    query = query.order_by((Document.id * 2654435761) % 4294967296, Document.id).offset(start).limit(size + 1)
    rows = session.scalars(query).all()
    return {
        "Documents": [_summary(doc, company_id) for doc in rows[:size]],
        "HasNextPage": len(rows) > size,
    }


def get_details(session: Session, body: dict[str, Any], company_id: int) -> dict[str, Any]:
    if body.get("DocumentID") not in (None, ""):
        document = session.get(Document, wire.integer(body["DocumentID"], "DocumentID"))
    elif body.get("DocumentType") not in (None, "") and body.get("DocumentNumber") not in (None, ""):
        doc_type = wire.enum(body["DocumentType"], wire.DOCUMENT_TYPES, "DocumentType", extra=wire.EXPENSE_TYPES)
        number = wire.integer(body["DocumentNumber"], "DocumentNumber")
        document = session.scalar(select(Document).where(Document.type == doc_type, Document.number == number))
    else:
        raise ApiError("document_key")
    if document is None:
        raise ApiError("document_unknown")
    customer = document.customer
    header = _summary(document, company_id) | {
        "VATIncluded": document.vat_included, "VATRate": document.vat_rate,
        "OriginalDocumentID": document.original_document_id,
        "Customer": {
            "ID": customer.id, "Name": customer.name, "EmailAddress": customer.email_address,
            "Phone": customer.phone, "City": customer.city, "Address": customer.address,
            "ZipCode": customer.zip_code, "CompanyNumber": customer.company_number,
            "ExternalIdentifier": customer.external_identifier,
        },
    }
    return {
        "Document": header,
        "Items": [
            {
                "Quantity": line.quantity, "UnitPrice": line.unit_price, "TotalPrice": line.total_price,
                "Description": line.description,
                "Item": {
                    "ID": line.item.id, "Name": line.item.name, "SKU": line.item.sku, "Cost": line.item.cost,
                    "Price": line.item.price, "ExternalIdentifier": line.item.external_identifier,
                },
            }
            for line in document.lines
        ],
        "Payments": [{"Amount": p.amount, p.method: p.details} for p in document.payments],
        "DocumentID": document.id,
        "DocumentNumber": document.number,
        "DocumentDownloadURL": download_url(company_id, document.id),
    }


def current_date(config: dict[str, Any]) -> dt.date:
    """The sandbox's today: the real UTC date, or ``config["today"]`` when a test moved the clock."""
    return dt.date.fromisoformat(config["today"]) if config["today"] else dt.datetime.now(dt.UTC).date()


def download_url(company_id: int, document_id: int) -> str:
    """Shaped like SUMIT's links; the sandbox does not serve PDFs."""
    return f"https://app.sumit.co.il/documents/{company_id}/{document_id}/download/"


def _summary(doc: Document, company_id: int) -> dict[str, Any]:
    is_closed = doc.type not in OPEN_TYPES
    return {
        "DocumentID": doc.id, "DocumentNumber": doc.number, "Type": doc.type, "Date": wire.wire_date(doc.date),
        "CustomerID": doc.customer_id, "CustomerName": doc.customer.name, "Currency": doc.currency,
        "Language": doc.language, "DocumentValue": doc.document_value, "CompanyValue": doc.company_value,
        "IsDraft": doc.is_draft, "IsClosed": is_closed, "DueDate": wire.wire_date(doc.due_date),
        "Description": doc.description, "ExternalReference": doc.external_reference, "AssignmentNumber": None,
        "DocumentDownloadURL": download_url(company_id, doc.id),
        "DocumentPaymentURL": None if is_closed else f"https://pay.sumit.co.il/{company_id}/{doc.id}/",
    }


def _currency(value: Any, field: str) -> int:
    return 0 if value in (None, "") else wire.enum(value, wire.CURRENCIES, field)


def _original(session: Session, value: Any) -> int | None:
    if value in (None, "", 0):
        return None
    original_id = wire.integer(value, "OriginalDocumentID")
    if session.get(Document, original_id) is None:
        raise ApiError("original_unknown", id=original_id)
    return original_id


def _lines(items: Any) -> list[dict[str, Any]]:
    if items is None or items == []:
        raise ApiError("no_items")
    if not isinstance(items, list):
        raise ApiError("invalid", field="Items", value=items)
    lines = []
    for n, raw in enumerate(items, start=1):
        raw = wire.mapping(raw, f"Items[{n}]")
        if not raw.get("Item"):
            raise ApiError("line_item_missing", line=n)
        quantity = 1.0 if raw.get("Quantity") in (None, "") else wire.number(raw["Quantity"], f"Items[{n}].Quantity")
        if quantity == 0:
            raise ApiError("line_quantity", line=n)
        # One currency per document: the DocumentCurrency_* fields win when both are sent.
        unit = wire.optional_number(raw.get("DocumentCurrency_UnitPrice"), f"Items[{n}].DocumentCurrency_UnitPrice")
        if unit is None:
            unit = wire.optional_number(raw.get("UnitPrice"), f"Items[{n}].UnitPrice")
        total = wire.optional_number(raw.get("DocumentCurrency_TotalPrice"), f"Items[{n}].DocumentCurrency_TotalPrice")
        if total is None:
            total = wire.optional_number(raw.get("TotalPrice"), f"Items[{n}].TotalPrice")
        if unit is None and total is None:
            raise ApiError("line_price", line=n)
        if unit is None:
            unit = total / quantity
        elif total is None:
            total = quantity * unit
        elif abs(total - quantity * unit) > TOLERANCE:
            raise ApiError("line_total", line=n)
        lines.append({
            "n": n, "quantity": quantity, "unit": round(unit, 4), "total": round(total, 2),
            "description": wire.text(raw.get("Description"), f"Items[{n}].Description"),
            "item": wire.mapping(raw["Item"], f"Items[{n}].Item"),
        })
    return lines


def _payments(body: dict[str, Any], doc_type: int, total: float) -> list[tuple[float, str, dict[str, Any]]]:
    raw = body.get("Payments")
    if raw is None:
        if doc_type in PAYMENT_TYPES:
            raise ApiError("payments_required")
        return []
    if not isinstance(raw, list):
        raise ApiError("invalid", field="Payments", value=raw)
    if not raw:
        raise ApiError("payments_empty")  # DIGI: an empty array is rejected, leave the key out (1.5c)
    if doc_type not in PAYMENT_TYPES:
        raise ApiError("payments_not_allowed")
    payments = []
    for n, entry in enumerate(raw, start=1):
        entry = wire.mapping(entry, f"Payments[{n}]")
        methods = [m for m in PAYMENT_METHODS if entry.get(m) is not None]
        if len(methods) != 1:
            raise ApiError("payment_method", n=n)
        amount = entry.get("DocumentCurrency_Amount")
        if amount in (None, ""):
            amount = entry.get("Amount")
        if amount in (None, ""):
            raise ApiError("required", field=f"Payments[{n}].Amount")
        amount = wire.number(amount, f"Payments[{n}].Amount")
        payments.append((amount, methods[0], wire.mapping(entry[methods[0]], f"Payments[{n}].{methods[0]}")))
    paid = sum(p[0] for p in payments)
    if abs(paid - total) > TOLERANCE + 1e-9:  # the epsilon keeps a 0.01 difference "within 0.01"
        raise ApiError("payments_sum", paid=f"{paid:.2f}", total=f"{total:.2f}")
    return payments


def _next_number(session: Session, doc_type: int) -> int:
    current = session.scalar(
        select(Document.number).where(Document.type == doc_type, Document.number.is_not(None))
        .order_by(Document.number.desc()).limit(1)
    )
    return FIRST_DOCUMENT_NUMBER if current is None else current + 1


def _first(session: Session, model, column, value: str):
    return session.scalar(select(model).where(column == value).order_by(model.id).limit(1))


def _item(session: Session, line: dict[str, Any]) -> Item:
    """Resolve a line's card (section 7): ID, else SearchMode; Automatic and None may create one."""
    n, spec = line["n"], line["item"]
    if spec.get("ID") not in (None, "", 0):
        item_id = wire.integer(spec["ID"], f"Items[{n}].Item.ID")
        item = session.get(Item, item_id)
        if item is None:
            raise ApiError("item_id_unknown", line=n, id=item_id)
        return item
    fields = {name: wire.text(spec.get(name), f"Items[{n}].Item.{name}") for name in ITEM_COLUMNS}
    mode = 1 if spec.get("SearchMode") in (None, "") else wire.enum(
        spec["SearchMode"], wire.ITEM_SEARCH_MODES, f"Items[{n}].Item.SearchMode")
    if mode in ITEM_SEARCH_FIELDS:
        name = ITEM_SEARCH_FIELDS[mode]
        if fields[name] is None:
            raise ApiError("item_search_value", line=n, mode=name)
        item = _first(session, Item, ITEM_COLUMNS[name], fields[name])
        if item is None:
            raise ApiError("item_not_found", line=n, mode=name, value=fields[name])
        return item
    if mode == 0:
        for name in ("ExternalIdentifier", "SKU", "Name"):
            item = fields[name] and _first(session, Item, ITEM_COLUMNS[name], fields[name])
            if item:
                return item
    if fields["Name"] is None:
        raise ApiError("item_name_required", line=n)
    price = wire.optional_number(spec.get("Price"), f"Items[{n}].Item.Price")
    item = Item(  # autoflush puts earlier lines' new cards in the table before next_id looks
        id=next_id(session, Item.id, FIRST_ITEM_ID), name=fields["Name"], description=fields["Description"],
        sku=fields["SKU"],
        external_identifier=fields["ExternalIdentifier"], price=line["unit"] if price is None else price,
        cost=wire.optional_number(spec.get("Cost"), f"Items[{n}].Item.Cost"),
        currency=_currency(spec.get("Currency"), f"Items[{n}].Item.Currency"), stock=0.0,
    )
    session.add(item)
    return item


def _customer(session: Session, spec: dict[str, Any]) -> Customer:
    """Find or create the customer per its SearchMode (default None: always a new customer, 1.4)."""
    if spec.get("ID") not in (None, "", 0):
        customer_id = wire.integer(spec["ID"], "Customer.ID")
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise ApiError("customer_unknown", id=customer_id)
        return customer
    fields = {name: wire.text(spec.get(name), f"Customer.{name}") for name in CUSTOMER_COLUMNS}
    mode = 1 if spec.get("SearchMode") in (None, "") else wire.enum(
        spec["SearchMode"], wire.CUSTOMER_SEARCH_MODES, "Customer.SearchMode")
    searched = CUSTOMER_AUTOMATIC_ORDER if mode == 0 else [CUSTOMER_SEARCH_FIELDS.get(mode)]
    for name in searched:
        customer = name and fields[name] and _first(session, Customer, CUSTOMER_COLUMNS[name], fields[name])
        if customer:
            return customer
    if fields["Name"] is None:
        raise ApiError("customer_name_required")
    customer = Customer(
        id=next_id(session, Customer.id, FIRST_CUSTOMER_ID), name=fields["Name"],
        email_address=fields["EmailAddress"], phone=fields["Phone"], company_number=fields["CompanyNumber"],
        external_identifier=fields["ExternalIdentifier"], city=wire.text(spec.get("City"), "Customer.City"),
        address=wire.text(spec.get("Address"), "Customer.Address"),
        zip_code=wire.text(spec.get("ZipCode"), "Customer.ZipCode"),
    )
    session.add(customer)
    return customer
