"""The settings and results of the document builders.

`DocumentSettings` (how documents are built; its `sale_type_for` applies the per-gateway rules), and
the results of the builders: `DocumentRequest`, `Parked` and `NotCredited`. (The store's tax
settings, `StoreTax`, stand with the VAT rules in `money`; the records of `resolve_lines` in `sale`.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from officeguy_woocommerce.include.documents.basics import _text
from officeguy_woocommerce.include.documents.codes import (
    DEFAULT_CREDIT_TYPE,
    DEFAULT_GATEWAY_RULES,
    DEFAULT_PAYMENT_KINDS,
    INVOICE_AND_RECEIPT,
    KNOWN_CURRENCIES,
    LANGUAGES,
    SALE_TYPES,
)
from officeguy_woocommerce.include.officeguy_codes import PAYMENT_DETAILS


@dataclass(frozen=True)
class DocumentSettings:
    """How documents are built. Defaults follow the official plugin."""

    document_type: int = INVOICE_AND_RECEIPT
    credit_type: int | None = None  # None: the credit type of the sale's type (5 for 0, 6 for 1, 7 for 2)
    language: int = 0  # Hebrew
    custom_dates_allowed: bool = False  # the company setting EnableCustomDocumentDates
    max_past_days: int = 3
    guest_name: str = "Guest"
    shipping_label: str = "Shipping"
    fee_label: str = "Fee"
    rounding_label: str = "Rounding"
    refund_label: str = "Refund"
    timezone: str = "Asia/Jerusalem"
    currencies: frozenset[str] = KNOWN_CURRENCIES
    # Optional existing OfficeGuy cards for the lines that are not products; None: the service card
    # is found or made once (ExternalIdentifier "stock-sync:<kind>", SearchMode Automatic).
    shipping_item_id: int | None = None
    fee_item_id: int | None = None
    adjustment_item_id: int | None = None  # the rounding and "Refund" lines
    send_by_email: bool = True  # Details.SendByEmail to the billing e-mail, as the plugin's default
    credit_sign: int = -1  # -1: credit prices, VAT and payments negative; +1: positive
    company_number_meta: str = "og-citizenid"  # the order meta holding the buyer's company number
    home_country: str = "IL"
    gateway_rules: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_GATEWAY_RULES))
    payment_kinds: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_PAYMENT_KINDS))

    def __hash__(self) -> int:
        return hash((self.document_type, self.credit_type, self.language, self.timezone))

    def __post_init__(self) -> None:
        if self.document_type not in SALE_TYPES:
            raise ValueError(f"document_type must be 0 (Invoice), 1 (InvoiceAndReceipt) or 2 (Receipt), "
                             f"not {self.document_type!r}")
        if self.credit_type is not None and self.credit_type not in DEFAULT_CREDIT_TYPE.values():
            raise ValueError(f"credit_type must be 5 (CreditInvoice), 6 (CreditInvoiceAndReceipt), "
                             f"7 (CreditReceipt) or None, not {self.credit_type!r}")
        if self.language not in LANGUAGES:
            raise ValueError(f"language must be one of {LANGUAGES} (Hebrew, English, Arabic, Spanish)")
        if isinstance(self.max_past_days, bool) or not isinstance(self.max_past_days, int) or self.max_past_days < 0:
            raise ValueError("max_past_days must be a whole number of days, 0 or more")
        if not str(self.guest_name).strip():
            raise ValueError("guest_name must not be empty: OfficeGuy needs a customer name")
        for name in ("shipping_label", "fee_label", "rounding_label", "refund_label"):
            if not str(getattr(self, name)).strip():
                raise ValueError(f"{name} must not be empty: it names an OfficeGuy card")
        if self.credit_sign not in (-1, 1):
            raise ValueError("credit_sign must be -1 (credits sent negative) or 1 (positive)")
        for gateway, doc_type in self.gateway_rules.items():
            if doc_type not in SALE_TYPES:
                raise ValueError(f"gateway rule {gateway}={doc_type!r}: use 0 (Invoice), 1 (InvoiceAndReceipt) "
                                 "or 2 (Receipt)")
        for gateway, kind in self.payment_kinds.items():
            if kind not in PAYMENT_DETAILS:
                raise ValueError(f"payment kind {gateway}={kind!r} is not a SUMIT payment type 1-6 or 8")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone {self.timezone!r} is not an IANA time zone") from None
        unknown = {str(c).strip().upper() for c in self.currencies} - KNOWN_CURRENCIES
        if unknown:
            raise ValueError(f"currencies {', '.join(sorted(unknown))} are not in SUMIT's currency list")
        object.__setattr__(self, "currencies", frozenset(str(c).strip().upper() for c in self.currencies))

    def sale_type_for(self, order: Mapping[str, Any]) -> int:
        """The sale document type of this order: its gateway's rule, else `document_type`."""
        return int(self.gateway_rules.get(_text(order.get("payment_method")), self.document_type))

    def credit_type_for(self, original_type: int | None = None) -> int:
        if self.credit_type is not None:
            return self.credit_type
        original = self.document_type if original_type is None else original_type
        if original not in DEFAULT_CREDIT_TYPE:
            raise ValueError(f"no credit type for original document type {original!r}")
        return DEFAULT_CREDIT_TYPE[original]


@dataclass(frozen=True)
class DocumentRequest:
    """A `documents/create` body (without Credentials) ready to send once."""

    order_id: int
    external_reference: str
    payload: dict[str, Any]
    total: float  # the document total (positive for credits too)
    lines: int  # number of entries in payload["Items"]
    date_replaced: bool  # the paid date was too old and today's date was used (see Description)
    notes: tuple[str, ...] = ()  # things the report should mention (e.g. quantities not restocked)
    vat: float = 0.0  # the document's VAT as OfficeGuy will compute it (positive)
    # Units this document moves on product cards, per order line: {line_id, product_id, variation_id,
    # quantity} (sold units for a sale, units back for a credit): the ledger keeps them.
    stock_lines: tuple[dict[str, int], ...] = ()


@dataclass(frozen=True)
class Parked:
    """An order that cannot be documented automatically; `reason` says what a person should do."""

    order_id: int
    reason: str


@dataclass(frozen=True)
class NotCredited:
    """A refund or cancellation that gets no credit document (the sale is already fully credited)."""

    order_id: int
    reason: str
