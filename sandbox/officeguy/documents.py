"""Accounting documents: create (with item resolution, VAT and stock effects), list and getdetails.

The rules follow officeguy-api.md 1.5c-d and section 7, and SUMIT's own Swagger
(sumit-swagger-facts.md) where it says more; the choices made where both are silent are listed
in ``sandbox/officeguy/app.py``'s docstring. Money is computed in ``Decimal`` and rounded half up
to the agora, as the plugin's PHP ``round()`` does.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
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
# Pure receipts may be payments only (Swagger: Items are for invoices, Payments for receipts).
ITEMLESS_TYPES = {2, 4, 7, 14}
CREDIT_TYPES = {5, 6, 7, 14}
# Documents that ask to be paid stay open; everything else is closed when issued.
OPEN_TYPES = {0, 3, 13}
PAYMENT_METHODS = tuple(wire.PAYMENT_DETAILS)
# The sandbox has no exchange-rate feed: fixed rates (wire.ILS_RATES) turn a value into ILS.
ILS_RATES = wire.ILS_RATES
TOLERANCE = 0.01
CENT = Decimal("0.01")
ZERO = Decimal(0)
# A VAT amount above half the line's net amount is no VAT rate anybody charges: a client bug.
MAX_VAT_SHARE = Decimal("0.5")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
DETAIL_TEXTS = ("Description", "ExternalReference", "OpeningText", "OpeningTextHTML", "ClosingText",
                "ClosingTextHTML", "PaymentRequestText")
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


def cents(value: Any) -> Decimal:
    """Rounded half up to the agora."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: Any) -> float:
    return float(cents(value))


def create(session: Session, body: dict[str, Any], config: dict[str, Any], company_id: int) -> dict[str, Any]:
    wire.strict(body, wire.CREATE_KEYS, "")
    details = body.get("Details")
    if not details:
        raise ApiError("required", field="Details")
    details = wire.mapping(details, "Details")
    wire.strict(details, wire.DETAILS_KEYS, "Details")
    if details.get("Type") is None or details.get("Type") == "":
        raise ApiError("required", field="Details.Type")
    doc_type = wire.enum(details["Type"], wire.DOCUMENT_TYPES, "Details.Type", extra=wire.EXPENSE_TYPES)
    if doc_type in wire.EXPENSE_TYPES:
        raise ApiError("type_unsupported")
    if not details.get("Customer"):
        raise ApiError("required", field="Details.Customer")
    customer_spec = wire.mapping(details["Customer"], "Details.Customer")
    sent_no_vat = None if customer_spec.get("NoVAT") in (None, "") else wire.boolean(
        customer_spec["NoVAT"], "Details.Customer.NoVAT")
    is_draft = wire.boolean(details.get("IsDraft"), "Details.IsDraft")
    today = current_date(config)
    date = wire.date(details.get("Date"), "Details.Date") or today
    if date < today - dt.timedelta(days=MAX_BACKDATE_DAYS) and not config["enable_custom_document_dates"]:
        raise ApiError("date_too_old")
    due_date = wire.date(details.get("DueDate"), "Details.DueDate")
    texts = {name: wire.text(details.get(name), f"Details.{name}") for name in DETAIL_TEXTS}
    wire.mapping(details.get("Properties"), "Details.Properties")
    currency = _currency(details.get("Currency"), "Details.Currency")
    language = 0 if details.get("Language") in (None, "") else wire.enum(
        details["Language"], wire.LANGUAGES, "Details.Language")
    send = _send_by_email(details.get("SendByEmail"))
    per_item, vat_included, sent_rate = _vat_settings(body)
    original_id = _original(session, body.get("OriginalDocumentID"))

    credit = doc_type in CREDIT_TYPES
    lines = _lines(body.get("Items"), doc_type, currency, per_item)
    payments = _payments(body, doc_type, currency)
    if credit:
        _normalise_credit(lines, payments)
    _line_totals(lines)

    # A refusal from here on (an unknown item, say) rolls the whole call back: no stray
    # customers or cards are left behind.
    customer = _customer(session, customer_spec, sent_no_vat)
    no_vat = bool(customer.no_vat) if sent_no_vat is None else sent_no_vat
    rate = 0.0 if no_vat or per_item else (config["vat_rate"] if sent_rate is None else sent_rate)
    if lines:
        net, vat, gross = _vat(lines, per_item, vat_included, rate, no_vat)
    else:  # a receipt of payments only: its value is what was paid
        paid = sum((cents(p["amount"]) for p in payments), ZERO)
        net, vat, gross = paid, ZERO, paid
    if gross < 0:  # a credit was turned positive above: below 0 means its lines outweigh its sign
        raise ApiError("negative_total", total=f"{gross:.2f}")
    _check_payments(payments, gross)
    items = [_item(session, line) for line in lines]
    if send is not None:
        send["EmailAddress"] = send["EmailAddress"] or customer.email_address
        if not send["EmailAddress"]:
            raise ApiError("send_email_missing")

    sign = -1 if credit else 1
    exchange_rate = ILS_RATES[currency]
    document = Document(
        id=next_id(session, Document.id, FIRST_DOCUMENT_ID), type=doc_type, is_draft=is_draft,
        number=None if is_draft else _next_number(session, doc_type), date=date, due_date=due_date,
        customer=customer, currency=currency, language=language, description=texts["Description"],
        external_reference=texts["ExternalReference"], vat_included=vat_included, vat_rate=rate,
        document_value=float(sign * gross), company_value=money(sign * gross * Decimal(str(exchange_rate))),
        original_document_id=original_id, vat_per_item=per_item, vat_value=float(sign * vat),
        net_value=float(sign * net), exchange_rate=exchange_rate, no_vat=no_vat,
        company_number=wire.text(customer_spec.get("CompanyNumber"), "Customer.CompanyNumber")
        or customer.company_number,
        send_by_email=send,
    )
    session.add(document)
    for position, (line, item) in enumerate(zip(lines, items, strict=True), start=1):
        document.lines.append(DocumentLine(
            position=position, item=item, description=line["description"] or item.name,
            quantity=line["quantity"], unit_price=sign * line["unit"], total_price=sign * line["total"],
            vat=float(sign * line["vat"]),
        ))
        if not is_draft and doc_type in STOCK_OUT:
            item.stock -= line["quantity"]
        elif not is_draft and doc_type in STOCK_IN:
            item.stock += line["quantity"]  # |quantity| on credits, whatever sign was sent
    for position, payment in enumerate(payments, start=1):
        document.payments.append(Payment(
            position=position, amount=sign * payment["amount"], method=payment["method"],
            details=payment["details"], kind=payment["kind"],
        ))
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
    rate = Decimal(str(document_rate(document)))
    header = _summary(document, company_id) | {
        "VATIncluded": document.vat_included,
        "VATRate": None if document.vat_per_item else document.vat_rate,
        "VATPerItem": bool(document.vat_per_item),
        "VAT": document.vat_value, "NetValue": document.net_value,
        "OriginalDocumentID": document.original_document_id,
        "SendByEmail": document.send_by_email,
        "Customer": {
            "ID": customer.id, "Name": customer.name, "EmailAddress": customer.email_address,
            "Phone": customer.phone, "City": customer.city, "Address": customer.address,
            "ZipCode": customer.zip_code, "CompanyNumber": document.company_number or customer.company_number,
            "ExternalIdentifier": customer.external_identifier, "NoVAT": bool(document.no_vat),
        },
    }
    return {
        "Document": header,
        "Items": [
            {
                "Quantity": line.quantity,
                "UnitPrice": round(line.unit_price * float(rate), 4), "TotalPrice": _ils(line.total_price, rate),
                "DocumentCurrency_UnitPrice": line.unit_price, "DocumentCurrency_TotalPrice": line.total_price,
                "VAT": None if line.vat is None else _ils(line.vat, rate), "DocumentCurrency_VAT": line.vat,
                "Description": line.description,
                "Item": {
                    "ID": line.item.id, "Name": line.item.name, "SKU": line.item.sku, "Cost": line.item.cost,
                    "Price": line.item.price, "ExternalIdentifier": line.item.external_identifier,
                    "Currency": line.item.currency,
                },
            }
            for line in document.lines
        ],
        "Payments": [
            {"Amount": _ils(p.amount, rate), "DocumentCurrency_Amount": p.amount,
             "Type": wire.PAYMENT_TYPES.get(p.kind or p.method.removeprefix("Details_")), p.method: p.details}
            for p in document.payments
        ],
        "DocumentID": document.id,
        "DocumentNumber": document.number,
        "DocumentDownloadURL": download_url(company_id, document.id),
    }


def _ils(value: float, rate: Decimal) -> float:
    return money(Decimal(str(value)) * rate)


def document_rate(document: Document) -> float:
    """ILS per unit of the document's currency (a document of an older sandbox has none stored)."""
    return document.exchange_rate or ILS_RATES.get(document.currency, 1.0)


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


def _send_by_email(value: Any) -> dict[str, Any] | None:
    """``SendByEmail{EmailAddress?, Original, SendAsPaymentRequest}``: both flags are required."""
    if value is None:
        return None
    spec = wire.mapping(value, "Details.SendByEmail")
    wire.strict(spec, wire.SEND_BY_EMAIL_KEYS, "Details.SendByEmail")
    result: dict[str, Any] = {}
    for key in ("Original", "SendAsPaymentRequest"):  # boolean, not nullable (Swagger)
        if spec.get(key) is None or spec.get(key) == "":
            raise ApiError("required", field=f"Details.SendByEmail.{key}")
        result[key] = wire.boolean(spec[key], f"Details.SendByEmail.{key}")
    email = wire.text(spec.get("EmailAddress"), "Details.SendByEmail.EmailAddress")
    if email is not None and not EMAIL.fullmatch(email):
        raise ApiError("invalid", field="Details.SendByEmail.EmailAddress", value=email)
    return {"EmailAddress": email, **result}


def _vat_settings(body: dict[str, Any]) -> tuple[bool, bool, float | None]:
    """(VATPerItem, VATIncluded, VATRate as sent); VATPerItem needs the other two empty (Swagger 4)."""
    per_item = wire.boolean(body.get("VATPerItem"), "VATPerItem")
    included = wire.boolean(body.get("VATIncluded"), "VATIncluded")
    rate = wire.optional_number(body.get("VATRate"), "VATRate")
    if rate is not None and not 0 <= rate <= 100:
        raise ApiError("vat_rate_range")
    if per_item and (rate is not None or included):
        raise ApiError("vat_per_item_conflict")
    return per_item, included, rate


def _lines(items: Any, doc_type: int, currency: int, per_item: bool) -> list[dict[str, Any]]:
    """Each line's quantity, prices and VAT as sent, in the document's currency."""
    if items is None and doc_type in ITEMLESS_TYPES:
        return []
    if items is None or items == []:
        raise ApiError("no_items")
    if not isinstance(items, list):
        raise ApiError("invalid", field="Items", value=items)
    home = currency == wire.HOME_CURRENCY
    lines = []
    for n, raw in enumerate(items, start=1):
        raw = wire.mapping(raw, f"Items[{n}]")
        wire.strict(raw, wire.ITEM_KEYS, f"Items[{n}]")
        if not raw.get("Item"):
            raise ApiError("line_item_missing", line=n)
        spec = wire.mapping(raw["Item"], f"Items[{n}].Item")
        _currency(spec.get("Currency"), f"Items[{n}].Item.Currency")
        quantity = 1.0 if raw.get("Quantity") in (None, "") else wire.number(raw["Quantity"], f"Items[{n}].Quantity")
        if quantity == 0:
            raise ApiError("line_quantity", line=n)
        sent = {key: wire.optional_number(raw.get(key), f"Items[{n}].{key}") for key in (
            "UnitPrice", "TotalPrice", "DocumentCurrency_UnitPrice", "DocumentCurrency_TotalPrice", "VAT",
            "DocumentCurrency_VAT")}
        # Prices: the DocumentCurrency_* fields; on an ILS document the ILS fields are the same thing.
        unit, total = sent["DocumentCurrency_UnitPrice"], sent["DocumentCurrency_TotalPrice"]
        unit_key, total_key = "DocumentCurrency_UnitPrice", "DocumentCurrency_TotalPrice"
        if home and unit is None and total is None:
            unit, total, unit_key, total_key = sent["UnitPrice"], sent["TotalPrice"], "UnitPrice", "TotalPrice"
        elif unit is None and total is None and (sent["UnitPrice"] is not None or sent["TotalPrice"] is not None):
            # "UnitPrice: in ILS. Leave this empty for non-ILS documents" (Swagger 1.3)
            raise ApiError("line_ils_price", line=n, currency=wire.CURRENCY_CODES[currency])
        if unit is None and total is None:
            raise ApiError("line_price", line=n)
        vat, vat_key = _line_vat(sent, n, currency, per_item)
        lines.append({
            "n": n, "quantity": quantity, "unit": unit, "total": total, "vat": vat,
            "keys": {"unit": unit_key, "total": total_key, "vat": vat_key},
            "description": wire.text(raw.get("Description"), f"Items[{n}].Description"),
            "item": spec,
        })
    return lines


def _line_vat(sent: dict[str, float | None], n: int, currency: int, per_item: bool) -> tuple[float, str]:
    """A line's VAT amount in the document's currency: only with VATPerItem; absent means 0."""
    if not per_item:
        for key in ("VAT", "DocumentCurrency_VAT"):
            if sent[key] is not None:
                raise ApiError("line_vat_not_per_item", line=n, field=key)
        return 0.0, "VAT"
    ils, own = sent["VAT"], sent["DocumentCurrency_VAT"]
    if currency == wire.HOME_CURRENCY:
        if ils is not None and own is not None and abs(ils - own) > TOLERANCE:
            raise ApiError("line_vat_conflict", line=n)
        return (own, "DocumentCurrency_VAT") if own is not None else (ils or 0.0, "VAT")
    if own is not None:
        return own, "DocumentCurrency_VAT"
    if ils is None:
        return 0.0, "VAT"
    return float(cents(Decimal(str(ils)) / Decimal(str(ILS_RATES[currency])))), "VAT"


def _normalise_credit(lines: list[dict[str, Any]], payments: list[dict[str, Any]]) -> None:
    """A credit may be sent positive or negative; from here on it is positive.

    SUMIT's Swagger states no sign for credits. The convention is the sign of the credit's total (its
    payments, else its lines' amounts): every payment must carry it, and after turning the credit
    positive its total must be above 0. Single lines of the other sign stay allowed, as on a sale
    (a discount, a balancing line). Quantities count units: with negative prices a quantity may be
    negative or positive (the negated-prices style); with positive prices it must be positive."""
    def amount(line: dict[str, Any]) -> float:
        if line["total"] is not None:
            return line["total"]
        return (line["unit"] or 0.0) * abs(line["quantity"])

    paid = [p["amount"] for p in payments if p["amount"]]
    basis = sum(paid) if paid else sum(amount(ln) + (ln["vat"] or 0.0) for ln in lines)
    if not basis:
        raise ApiError("credit_zero")
    positive = basis > 0
    for payment in payments:
        if payment["amount"] and (payment["amount"] > 0) != positive:
            raise ApiError("credit_mixed_signs", field=f"Payments[{payment['n']}].{payment['key']}")
    for line in lines:
        if positive and line["quantity"] < 0:
            raise ApiError("credit_mixed_signs", field=f"Items[{line['n']}].Quantity")
        line["quantity"] = abs(line["quantity"])
        if not positive:
            for part in ("unit", "total", "vat"):
                line[part] = None if line[part] is None else -line[part]
    if not positive:
        for payment in payments:
            payment["amount"] = -payment["amount"]


def _line_totals(lines: list[dict[str, Any]]) -> None:
    """UnitPrice or TotalPrice alone is enough; both given must agree within 0.01."""
    for line in lines:
        quantity, unit, total = line["quantity"], line["unit"], line["total"]
        if unit is None:
            unit = total / quantity
        elif total is None:
            total = quantity * unit
        elif abs(total - quantity * unit) > TOLERANCE:
            raise ApiError("line_total", line=line["n"])
        line["unit"], line["total"] = round(unit, 4), float(cents(total))


def _vat(lines: list[dict[str, Any]], per_item: bool, included: bool, rate: float,
         no_vat: bool) -> tuple[Decimal, Decimal, Decimal]:
    """(net, VAT, gross) of the document; each line's ``vat`` becomes its share (Decimal).

    VATPerItem: net prices plus each line's VAT amount. Otherwise the VAT is computed once on the
    document: ``gross − gross / (1 + rate)`` with VATIncluded, ``net × rate`` without, and split
    over the lines with the rounding difference on the last line that has an amount."""
    amounts = [cents(line["total"]) for line in lines]
    if per_item:
        vats = [cents(line["vat"]) for line in lines]
        for line, amount, vat in zip(lines, amounts, vats, strict=True):
            _check_line_vat(line["n"], amount, vat, no_vat)
        net = sum(amounts, ZERO)
        vat = sum(vats, ZERO)
        gross = net + vat
    else:
        factor = Decimal(str(rate)) / 100
        base = sum(amounts, ZERO)
        if included:
            vat = cents(base - base / (1 + factor))
            net, gross = base - vat, base
            vats = [cents(a - a / (1 + factor)) for a in amounts]
        else:
            vat = cents(base * factor)
            net, gross = base, base + vat
            vats = [cents(a * factor) for a in amounts]
        last = max((i for i, a in enumerate(amounts) if a), default=len(amounts) - 1)
        vats[last] += vat - sum(vats, ZERO)
    for line, line_vat in zip(lines, vats, strict=True):
        line["vat"] = line_vat
    return net, vat, gross


def _check_line_vat(n: int, amount: Decimal, vat: Decimal, no_vat: bool) -> None:
    if not vat:
        return
    if no_vat:
        raise ApiError("line_vat_exempt", line=n)
    if vat < 0 and amount >= 0:
        raise ApiError("line_vat_negative", line=n, vat=f"{vat:.2f}")
    if vat > 0 and amount < 0:
        raise ApiError("line_vat_sign", line=n, vat=f"{vat:.2f}", amount=f"{amount:.2f}")
    if abs(vat) > abs(amount) * MAX_VAT_SHARE:
        raise ApiError("line_vat_too_large", line=n, vat=f"{vat:.2f}", amount=f"{amount:.2f}")


def _payments(body: dict[str, Any], doc_type: int, currency: int) -> list[dict[str, Any]]:
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
        wire.strict(entry, wire.PAYMENT_KEYS, f"Payments[{n}]")
        methods = [m for m in PAYMENT_METHODS if entry.get(m) is not None]
        if len(methods) != 1:
            raise ApiError("payment_method", n=n)
        method = methods[0]
        details = _payment_details(entry[method], method, f"Payments[{n}].{method}")
        kind = method.removeprefix("Details_")
        if entry.get("Type") not in (None, ""):
            sent = wire.enum(entry["Type"], wire.PAYMENT_TYPES, f"Payments[{n}].Type")
            if sent not in (0, wire.PAYMENT_TYPES[kind]):
                name = next(k for k, v in wire.PAYMENT_TYPES.items() if v == sent)
                raise ApiError("payment_type_mismatch", n=n, type=f"{sent} ({name})", method=method)
        if entry.get("PaymentElementID") not in (None, ""):
            wire.integer(entry["PaymentElementID"], f"Payments[{n}].PaymentElementID")
        own = wire.optional_number(entry.get("DocumentCurrency_Amount"), f"Payments[{n}].DocumentCurrency_Amount")
        ils = wire.optional_number(entry.get("Amount"), f"Payments[{n}].Amount")
        amount, key = own, "DocumentCurrency_Amount"
        if amount is None and currency == wire.HOME_CURRENCY:
            amount, key = ils, "Amount"
        elif amount is None and ils is not None:
            # "Amount: Leave this empty for non-ILS documents" (Swagger 1.4), as for UnitPrice
            raise ApiError("payment_ils_amount", n=n, currency=wire.CURRENCY_CODES[currency])
        if amount is None:
            raise ApiError("required", field=f"Payments[{n}].Amount")
        payments.append({"n": n, "amount": amount, "key": key, "method": method, "details": details, "kind": kind})
    return payments


def _payment_details(value: Any, method: str, field: str) -> dict[str, Any]:
    """A ``Details_*`` object holds its own fields only (Cash, General, TaxWithholding: none)."""
    details = wire.mapping(value, field)
    fields = wire.PAYMENT_DETAILS[method]
    wire.strict(details, frozenset(fields), field)
    readers = {"integer": wire.integer, "number": wire.number, "text": wire.text, "date": wire.date}
    for key, kind in fields.items():
        if details.get(key) not in (None, ""):
            readers[kind](details[key], f"{field}.{key}")
    return details


def _check_payments(payments: list[dict[str, Any]], gross: Decimal) -> None:
    if not payments:
        return
    paid = sum((Decimal(str(p["amount"])) for p in payments), ZERO)
    if abs(paid - gross) > Decimal(str(TOLERANCE)) + Decimal("1e-9"):  # a 0.01 difference is "within 0.01"
        raise ApiError("payments_sum", paid=f"{paid:.2f}", total=f"{gross:.2f}")


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


def _customer(session: Session, spec: dict[str, Any], no_vat: bool | None) -> Customer:
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
        zip_code=wire.text(spec.get("ZipCode"), "Customer.ZipCode"), no_vat=bool(no_vat),
    )
    session.add(customer)
    return customer
