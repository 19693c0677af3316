"""Read-only views of the sandbox's state for tests (``OgSandbox.documents()`` and friends).

They read the database directly, not through the API, so a test can check what OfficeGuy
recorded (VAT, net, gross, lines, payments, e-mails, credits) without paying for API calls.
Amounts are in the document's currency and negative on credits, as stored and listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.officeguy import wire
from sandbox.officeguy.documents import CREDIT_TYPES, ZERO, cents
from sandbox.officeguy.store import Document, Item


def documents(session: Session) -> list[dict[str, Any]]:
    """Every document (drafts included) in ID order, with its lines and payments."""
    return [describe(doc) for doc in session.scalars(select(Document).order_by(Document.id))]


def describe(doc: Document) -> dict[str, Any]:
    return {
        "id": doc.id, "number": doc.number, "type": doc.type, "is_draft": doc.is_draft,
        "date": doc.date.isoformat(), "currency": doc.currency, "currency_code": wire.CURRENCY_CODES.get(doc.currency),
        "customer_id": doc.customer_id, "customer_name": doc.customer.name,
        "no_vat": bool(doc.no_vat), "company_number": doc.company_number or doc.customer.company_number,
        "external_reference": doc.external_reference, "description": doc.description,
        "original_id": doc.original_document_id,
        "vat_included": doc.vat_included, "vat_per_item": bool(doc.vat_per_item),
        "vat_rate": None if doc.vat_per_item else doc.vat_rate,
        "net": doc.net_value, "vat": doc.vat_value, "gross": doc.document_value, "company_value": doc.company_value,
        "send_by_email": doc.send_by_email,
        "lines": [
            {
                "position": line.position, "item_id": line.item_id, "description": line.description,
                "quantity": line.quantity, "unit_price": line.unit_price, "total_price": line.total_price,
                "vat": line.vat, "zero_value": line.total_price == 0,
            }
            for line in doc.lines
        ],
        "payments": [
            {
                "position": p.position, "kind": p.kind or p.method.removeprefix("Details_"),
                "type": wire.PAYMENT_TYPES.get(p.kind or p.method.removeprefix("Details_")),
                "method": p.method, "amount": p.amount, "details": p.details,
            }
            for p in doc.payments
        ],
    }


def item_stock(session: Session, item_id: int) -> float:
    item = session.get(Item, item_id)
    if item is None:
        raise KeyError(f"no OfficeGuy sandbox item {item_id}")
    return item.stock


def credits_of(session: Session, document_id: int) -> dict[str, Any]:
    """The final credit documents whose OriginalDocumentID is ``document_id``, summed as positive
    magnitudes beside the original's own (so ``credited_gross <= original_gross`` can be asserted)."""
    original = session.get(Document, document_id)
    if original is None:
        raise KeyError(f"no OfficeGuy sandbox document {document_id}")
    credits = session.scalars(
        select(Document).where(Document.original_document_id == document_id, Document.type.in_(CREDIT_TYPES),
                               Document.is_draft.is_(False)).order_by(Document.id)).all()
    quantities: dict[int, float] = {}
    for credit in credits:
        for line in credit.lines:
            quantities[line.item_id] = quantities.get(line.item_id, 0.0) + abs(line.quantity)
    return {
        "original_id": original.id, "original_type": original.type,
        "original_gross": abs(original.document_value),
        "credit_ids": [c.id for c in credits],
        "credited_gross": _total(c.document_value for c in credits),
        "credited_net": _total(c.net_value for c in credits),
        "credited_vat": _total(c.vat_value for c in credits),
        "credited_quantities": quantities,
    }


def credit_totals(session: Session) -> dict[int, float]:
    """Original document ID -> the gross of its final credits, as a positive magnitude."""
    totals: dict[int, float] = {}
    rows = session.execute(select(Document.original_document_id, Document.document_value).where(
        Document.original_document_id.is_not(None), Document.type.in_(CREDIT_TYPES), Document.is_draft.is_(False)))
    for original_id, value in rows:
        totals[original_id] = _total([totals.get(original_id, 0.0), value])
    return totals


def sent_emails(session: Session) -> list[dict[str, Any]]:
    """The documents sent by e-mail (``Details.SendByEmail``), in ID order."""
    rows = session.scalars(select(Document).where(Document.send_by_email.is_not(None)).order_by(Document.id))
    return [
        {"document_id": doc.id, "email": doc.send_by_email["EmailAddress"], "original": doc.send_by_email["Original"],
         "send_as_payment_request": doc.send_by_email["SendAsPaymentRequest"]}
        for doc in rows if doc.send_by_email
    ]


def _total(values: Iterable[float | None]) -> float:
    """The sum of the magnitudes, to the agora (a document of an older sandbox may have None)."""
    return float(cents(sum((abs(Decimal(str(v or 0))) for v in values), ZERO)))
