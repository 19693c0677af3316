"""Which OfficeGuy document does a paid WooCommerce order become? The order-document core.

This is the functional core of the orders flow (`woocommerce_orders_to_officeguy`, design.md
"The two flows" 2): plain functions over the order dicts the wc/v3 API returns
(woocommerce-api.md A5) and small dataclasses. No HTTP, no Airflow, no database: the extract task
passes orders in, the write task sends `DocumentRequest.payload` to `/accounting/documents/create/`
once (I1), and a `Parked` result goes to the report with its reason (I2, I7).

Public API
----------
- `DocumentSettings`: document type (0/1/2), credit type, language, date rule, labels.
- `external_reference(store, order_id)` / `credit_reference(store, order_id, refund_id | "cancel")`:
  the deterministic `Details.ExternalReference` that makes a document findable after an ambiguous
  failure (I1; officeguy-api.md 1.5d, section 7 "Idempotency").
- `resolve_lines(order, item_map, og_items)`: the OfficeGuy item card of every line, or the card
  to create (officeguy-api.md 1.5b, section 5 "Create missing cards explicitly").
- `build_document(order, ...)`: the sale document, or `Parked`.
- `build_credit_document(order, ...)`: the credit document for a refund or a cancellation.
- `pending_quantities(orders, documented_order_ids, holder_of)`: invariant I3's "quantities of
  Woo orders that already reduced Woo stock but have no OfficeGuy document yet".

Rules, as implemented (tests/unit/test_order_documents.py has a table for each)
----------------------------------------------------------------------------
Numbers. Woo sends money as strings ("30.00", A5); every sum here is a `Decimal`. The payload
carries floats rounded to 2 places, as the official plugin does (2.2: round(line incl. tax ÷ qty, 2)).

Lines (sale document):
- A line item is identified in Woo by `variation_id` when non-zero, else `product_id`; its OfficeGuy
  card is `og_item_ids[woo id]` and is sent as `Item{ID}` (section 7: ID first, no guessing).
- `UnitPrice` = round((total + total_tax) ÷ quantity, 2) with `VATIncluded: true`: Woo's `total`
  is after discounts (coupons are already in it, so coupon_lines are not documented again).
- Shipping and fee lines become their own document lines. The sandbox (and, by section 7, SUMIT)
  needs an `Item` on every line; an `Item` without ID under SearchMode None (1) creates a new card
  on every document, so they go as `Item{Name: <label>, SearchMode: 0}` (Automatic): the first
  document creates one "Shipping" card and every later one finds it by name. A merchant who keeps
  a service card for these can set `shipping_item_id` / `fee_item_id` / `adjustment_item_id`.
  Negative fee lines (Woo's way of giving a discount as a fee) are allowed; negative product or
  shipping lines are not.
- Rounding: the document total as the sandbox computes it is Σ round(quantity × UnitPrice, 2).
  When that differs from the order total, one balancing line (`rounding_label`, quantity 1) makes
  them equal, like the plugin's "General" line (2.2), so the one payment equals the document total.
- Parked (with a reason a person can act on): no lines; a line item with product_id 0 (A5: Woo
  keeps a line for an unknown product with product_id 0); a quantity that is not a whole number
  above 0 (0 with a zero total is skipped: nothing was sold); a negative line total; a line whose
  Woo id has no OfficeGuy item id; lines that do not add up to the order total within 0.01; a
  currency not in `settings.currencies`; a total that is not a number or is negative; no date.

Details:
- `Type` is an integer (1.4). `Customer` from billing: Name = company + first + last (or the guest
  name), EmailAddress, Phone, City, Address (address_1 + address_2), ZipCode; empty fields are left
  out. A registered customer (customer_id > 0) is sent with `ExternalIdentifier` = customer_id and
  `SearchMode: 2`, so OfficeGuy finds the same customer every time; a guest gets `SearchMode: 1`
  (None), the plugin's default when customers are not merged (2.2).
- `Date`: the paid date (`date_paid`, else `date_created`) in `settings.timezone`. When it is more
  than `max_past_days` before `today` and custom dates are not allowed, OfficeGuy would refuse it
  (1.5c "Backdating is blocked", section 7 "Dates"): the document is dated `today` and the original
  date is written into `Description`; `DocumentRequest.date_replaced` says so.
- `Currency` is the ISO string (1.4: the plugin sends "ILS"). Prices go in `UnitPrice` for ILS and
  in `DocumentCurrency_UnitPrice` (payments: `DocumentCurrency_Amount`) for other currencies: 1.5c
  defines UnitPrice as ILS and the DocumentCurrency_* fields for non-ILS documents.
- `VATRate` is sent only when the order's tax_lines carry one single `rate_percent`; otherwise the
  company's rate applies (the plugin sends the Woo rate, 2.2).
- `Payments` (types 1, 2 and credits 6, 7): one `Details_Other{Type, Description}` for the total;
  none for Invoice 0 / CreditInvoice 5. Never an empty array (1.5c, DIGI).

Credit documents (1.5e): Type 5/6/7 with `OriginalDocumentID`. Quantities, prices and payments are
sent **positive**: the credit type gives the sign (the sandbox stores and lists them negative, as
SUMIT's documents/list does, 1.5d). A refund credits its refund line items (`_refunded_item_id`
names the order line), shipping and fee lines, and any part of the amount not on a line as one
"Refund" line; a refund with no lines is one "Refund" line. Quantities go back on the product's
card only when Woo restocked them (see `build_credit_document`), because a credit document raises
OfficeGuy stock (section 7) and the stock flow then writes OfficeGuy's figure into Woo.
A cancellation credits every line, less what earlier refunds already credited.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# --- Enums and constants (officeguy-api.md 1.4) ------------------------------------------------

INVOICE, INVOICE_AND_RECEIPT, RECEIPT = 0, 1, 2
CREDIT_INVOICE, CREDIT_INVOICE_AND_RECEIPT, CREDIT_RECEIPT = 5, 6, 7
SALE_TYPES = (INVOICE, INVOICE_AND_RECEIPT, RECEIPT)
# The credit type that reverses each sale type (1.5e).
DEFAULT_CREDIT_TYPE = {INVOICE: CREDIT_INVOICE, INVOICE_AND_RECEIPT: CREDIT_INVOICE_AND_RECEIPT,
                       RECEIPT: CREDIT_RECEIPT}
# Receipts and invoice-receipts carry payments; invoices must not (1.5c; the sandbox refuses both ways).
PAYMENT_TYPES = frozenset({INVOICE_AND_RECEIPT, RECEIPT, CREDIT_INVOICE_AND_RECEIPT, CREDIT_RECEIPT})
LANGUAGES = (0, 1, 2, 3)  # Hebrew, English, Arabic, Spanish
ITEM_SEARCH_AUTOMATIC = 0
CUSTOMER_SEARCH_NONE, CUSTOMER_SEARCH_EXTERNAL_IDENTIFIER = 1, 2
# The currencies whose OfficeGuy enum numbers the reference gives (1.4) and the sandbox accepts.
KNOWN_CURRENCIES = frozenset({"ILS", "USD", "EUR"})
HOME_CURRENCY = "ILS"

# Woo statuses whose orders have reduced Woo stock (A5: reduced on the move to processing,
# completed, on-hold; restored on cancelled and pending; failed/refunded restore nothing).
STOCK_REDUCING_STATUSES = frozenset({"processing", "on-hold", "completed"})

MAX_REFERENCE_LENGTH = 100
# A store key longer than this is hashed, so that even a credit reference with two 19-digit ids
# stays within MAX_REFERENCE_LENGTH.
MAX_STORE_KEY_LENGTH = 40
CENT = Decimal("0.01")
ZERO = Decimal(0)


# --- Settings and results ------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentSettings:
    """How documents are built. Defaults follow the official plugin (officeguy-api.md 2.2)."""

    document_type: int = INVOICE_AND_RECEIPT
    credit_type: int | None = None  # None: the credit type of `document_type` (5 for 0, 6 for 1, 7 for 2)
    language: int = 0  # Hebrew
    custom_dates_allowed: bool = False  # the company setting EnableCustomDocumentDates (1.5c)
    max_past_days: int = 3
    guest_name: str = "Guest"
    shipping_label: str = "Shipping"
    fee_label: str = "Fee"
    rounding_label: str = "Rounding"
    refund_label: str = "Refund"
    timezone: str = "Asia/Jerusalem"
    currencies: frozenset[str] = KNOWN_CURRENCIES
    # Optional existing OfficeGuy cards (e.g. non-stock service cards) for the lines that are not
    # products; None: the card is found or made once by name (SearchMode Automatic).
    shipping_item_id: int | None = None
    fee_item_id: int | None = None
    adjustment_item_id: int | None = None  # the rounding and "Refund" lines

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
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone {self.timezone!r} is not an IANA time zone") from None
        object.__setattr__(self, "currencies", frozenset(str(c).strip().upper() for c in self.currencies))

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
    total: float  # what OfficeGuy will compute as the document total (positive for credits too)
    lines: int  # number of entries in payload["Items"]
    date_replaced: bool  # the paid date was too old and today's date was used (see Description)
    notes: tuple[str, ...] = ()  # things the report should mention (e.g. quantities not restocked)


@dataclass(frozen=True)
class Parked:
    """An order that cannot be documented automatically; `reason` says what a person should do."""

    order_id: int
    reason: str


class OgIncomeItemLike(Protocol):
    id: int
    name: str
    sku: str
    external_identifier: str
    price: float | None


@dataclass(frozen=True)
class CardRequest:
    """The fields of an `incomeitems/create` call for a product that has no OfficeGuy card yet."""

    woo_id: int
    name: str
    sku: str
    external_identifier: str  # the Woo id, so that stock/list later names the product (1.5a, 2.1)
    price: float  # unit price incl. VAT in `currency`
    currency: str


@dataclass(frozen=True)
class LineMatch:
    line_id: int | None
    name: str
    woo_id: int | None
    og_item_id: int | None
    via: str  # "item_map", "external_identifier", "sku", "needs_card" or "no_product"


@dataclass
class LineResolution:
    matches: list[LineMatch] = field(default_factory=list)
    og_item_ids: dict[int, int] = field(default_factory=dict)  # woo id -> OfficeGuy item id, found
    needs_card: list[CardRequest] = field(default_factory=list)  # one per Woo id
    problems: list[str] = field(default_factory=list)  # lines that cannot be resolved at all
    warnings: list[str] = field(default_factory=list)


class _Park(Exception):
    """Raised inside the builders; turned into `Parked` at the public boundary."""


# --- External references -------------------------------------------------------------------------


def _store_key(store: str) -> str:
    """Scheme-less host[:port] + path, lower-case: the same store always gives the same key."""
    text = str(store or "").strip()
    if not text:
        raise ValueError("store must be the store's base URL, e.g. https://shop.example.com")
    parts = urlsplit(text if "://" in text else f"//{text}")
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError(f"store {store!r} has no host name")
    port = parts.port
    scheme = parts.scheme.lower()
    if port and not (port == 443 and scheme in ("https", "")) and not (port == 80 and scheme == "http"):
        host = f"{host}:{port}"
    path = parts.path.lower()
    # The API URL of the same store names the same store (A1: /wp-json/wc/v3, ?rest_route=).
    path = re.split(r"/wp-json(?:/|$)|/index\.php(?:/|$)", path, maxsplit=1)[0]
    path = re.sub(r"/+", "/", path).rstrip("/")
    key = host + path
    if len(key) > MAX_STORE_KEY_LENGTH:
        key = "h" + hashlib.sha256(key.encode()).hexdigest()[:24]
    return key


def _positive_id(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a positive whole number, not {value!r}")
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a positive whole number, not {value!r}") from None
    if number <= 0:
        raise ValueError(f"{what} must be a positive whole number, not {value!r}")
    return number


def external_reference(store: str, order_id: int) -> str:
    """`woo:<host/path>:<order_id>`, the `Details.ExternalReference` of the order's sale document."""
    return f"woo:{_store_key(store)}:{_positive_id(order_id, 'order_id')}"


def credit_reference(store: str, order_id: int, refund_id: int | str) -> str:
    """`woo:<host/path>:<order_id>:refund:<refund_id>`, or `...:cancel` for a cancellation."""
    base = external_reference(store, order_id)
    if isinstance(refund_id, str) and refund_id.strip().lower() == "cancel":
        return f"{base}:cancel"
    return f"{base}:refund:{_positive_id(refund_id, 'refund_id')}"


# --- Small parsers --------------------------------------------------------------------------------


def _money(value: Any, what: str) -> Decimal:
    """Woo's money strings ("30.00"), or a number; None and "" are 0 (A5: absent taxes)."""
    if value is None or value == "":
        return ZERO
    if isinstance(value, bool):
        raise _Park(f"{what} is not a number: {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise _Park(f"{what} is not a number: {value!r}") from None
    if not number.is_finite():
        raise _Park(f"{what} is not a number: {value!r}")
    return number


def _quantity(value: Any) -> int | None:
    """A whole-number quantity (A5: `quantity` is an int), or None when it is not one."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or number != number.to_integral_value():
        return None
    return int(number)


def _cents(value: Decimal) -> Decimal:
    # PHP's round() (the plugin) rounds half away from zero.
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _as_int(value: Any) -> int:
    """An id or count from Woo (int, "24" or 24.0); 0 when absent or not a whole number."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return _quantity(value) or 0


def _id_map(mapping: Mapping[Any, Any] | None) -> dict[int, int]:
    """An id -> id mapping with int keys and values (XCom's JSON turns int keys into strings)."""
    result: dict[int, int] = {}
    for key, value in (mapping or {}).items():
        k, v = _as_int(key), _as_int(value)
        if k and v:
            result[k] = v
    return result


def _woo_id(line: Mapping[str, Any]) -> int:
    """The id that identifies the product: the variation when there is one (2.1, 2.2)."""
    return _as_int(line.get("variation_id")) or _as_int(line.get("product_id"))


def _line_name(line: Mapping[str, Any]) -> str:
    name = str(line.get("name") or "").strip()
    return name or f"#{line.get('id')}"


def _meta(line: Mapping[str, Any], key: str) -> Any:
    for entry in line.get("meta_data") or ():
        if isinstance(entry, Mapping) and entry.get("key") == key:
            return entry.get("value")
    return None


def _has_meta(line: Mapping[str, Any], key: str) -> bool:
    return any(isinstance(e, Mapping) and e.get("key") == key for e in line.get("meta_data") or ())


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _strip_tags(value: str) -> str:
    return re.sub(r"<[^>]*>", "", value).strip()


def _line_description(line: Mapping[str, Any]) -> str:
    """The line name, plus the variation's attributes that the name does not already show.

    Woo names a variation line "Tee - S" (parent name, " - ", attribute values joined by ", ") and
    keeps the attributes as visible meta (`size: S`, rec 126/129); long attribute lists are left out
    of the name, so they are appended: "Mug (Color: Red, Size: L)". Hidden meta (keys starting
    with "_") and meta of non-variation lines (often add-on plugins' data) are never printed.
    """
    name = _line_name(line)
    if not _as_int(line.get("variation_id")):
        return name
    shown = set(name.rsplit(" - ", 1)[1].split(", ")) if " - " in name else set()
    extra = []
    for entry in line.get("meta_data") or ():
        if not isinstance(entry, Mapping):
            continue
        key = _text(entry.get("key"))
        if not key or key.startswith("_"):
            continue
        value = entry.get("display_value", entry.get("value"))
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            continue
        value = _strip_tags(str(value))
        if not value or value in shown:
            continue
        label = _strip_tags(_text(entry.get("display_key")) or key)
        extra.append(f"{label}: {value}")
    return f"{name} ({', '.join(extra)})" if extra else name


def _local_date(obj: Mapping[str, Any], field_name: str, tz: ZoneInfo) -> date | None:
    """A Woo date in `tz`: the `_gmt` twin is exact (UTC, A6); the plain field is site-local."""
    gmt = obj.get(f"{field_name}_gmt")
    if gmt:
        try:
            moment = datetime.fromisoformat(str(gmt).strip())
        except ValueError:
            moment = None
        if moment is not None:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return moment.astimezone(tz).date()
    local = obj.get(field_name)
    if local:
        try:
            return datetime.fromisoformat(str(local).strip()).date()
        except ValueError:
            return None
    return None


def _wire(value: Decimal) -> float:
    return float(_cents(value))


# --- Customer, dates, currency, payments ---------------------------------------------------------


def _customer(order: Mapping[str, Any], settings: DocumentSettings) -> dict[str, Any]:
    """The `Details.Customer` object, from billing (officeguy-api.md 2.2 `GetOrderCustomer`)."""
    billing = order.get("billing") or {}
    name = " ".join(p for p in (_text(billing.get("company")), _text(billing.get("first_name")),
                                _text(billing.get("last_name"))) if p)
    customer: dict[str, Any] = {"Name": name or settings.guest_name.strip()}
    address = " ".join(p for p in (_text(billing.get("address_1")), _text(billing.get("address_2"))) if p)
    for key, value in (("EmailAddress", _text(billing.get("email"))), ("Phone", _text(billing.get("phone"))),
                       ("City", _text(billing.get("city"))), ("Address", address),
                       ("ZipCode", _text(billing.get("postcode")))):
        if value:
            customer[key] = value
    customer_id = _as_int(order.get("customer_id"))
    if customer_id > 0:
        customer["ExternalIdentifier"] = str(customer_id)
        customer["SearchMode"] = CUSTOMER_SEARCH_EXTERNAL_IDENTIFIER
    else:
        customer["SearchMode"] = CUSTOMER_SEARCH_NONE
    return customer


def _document_date(wanted: date, settings: DocumentSettings, today: date) -> tuple[date, bool]:
    """The date OfficeGuy will accept: `wanted`, or today when it is past the backdating limit.

    `today` is the caller's date in the OfficeGuy company's zone (the server applies the rule).
    """
    if isinstance(today, datetime):
        today = today.date()
    if not settings.custom_dates_allowed and (today - wanted).days > settings.max_past_days:
        return today, True
    return wanted, False


def _currency(order: Mapping[str, Any], settings: DocumentSettings) -> str:
    currency = _text(order.get("currency")).upper()
    if not currency:
        raise _Park("the order has no currency")
    if currency not in settings.currencies:
        raise _Park(f"currency {currency} is not one OfficeGuy is configured for "
                    f"({', '.join(sorted(settings.currencies))}); document it by hand or add the currency to the settings")
    return currency


def _payment_method(order: Mapping[str, Any]) -> str:
    return _text(order.get("payment_method_title")) or _text(order.get("payment_method")) or "WooCommerce"


def _payments(order: Mapping[str, Any], amount: Decimal, currency: str, prefix: str = "") -> list[dict[str, Any]]:
    method = _payment_method(order)
    description = " ".join(p for p in (prefix, method, _text(order.get("transaction_id"))) if p)
    amount_key = "Amount" if currency == HOME_CURRENCY else "DocumentCurrency_Amount"
    return [{amount_key: _wire(amount), "Details_Other": {"Type": method, "Description": description}}]


def _vat_rate(order: Mapping[str, Any]) -> float | None:
    """The order's single VAT rate, when its tax lines name exactly one (else the company's)."""
    rates = set()
    for tax in order.get("tax_lines") or ():
        if isinstance(tax, Mapping) and tax.get("rate_percent") not in (None, ""):
            try:
                rates.add(Decimal(str(tax["rate_percent"])))
            except InvalidOperation:
                return None
    return float(rates.pop()) if len(rates) == 1 else None


# --- Document lines ------------------------------------------------------------------------------


@dataclass
class _Line:
    description: str
    quantity: int
    unit: Decimal  # rounded to cents, incl. VAT
    item: dict[str, Any]

    @property
    def total(self) -> Decimal:
        # What the sandbox computes for the line: round(quantity × unit, 2) (documents._lines).
        return _cents(self.unit * self.quantity)

    def wire(self, currency: str) -> dict[str, Any]:
        price_key = "UnitPrice" if currency == HOME_CURRENCY else "DocumentCurrency_UnitPrice"
        return {"Quantity": int(self.quantity), price_key: _wire(self.unit),
                "Description": self.description, "Item": self.item}


def _named_item(label: str, item_id: int | None) -> dict[str, Any]:
    """A card for a line that is not a product: a configured ID, or one found/made by name.

    SearchMode Automatic (0) finds the card by name from the second document on (section 7);
    SearchMode None (1) would make a new card on every document.
    """
    if item_id:
        return {"ID": int(item_id)}
    return {"Name": label.strip(), "SearchMode": ITEM_SEARCH_AUTOMATIC}


def _line_gross(line: Mapping[str, Any], what: str) -> Decimal:
    return _money(line.get("total"), f"{what}: total") + _money(line.get("total_tax"), f"{what}: total_tax")


def _product_lines(order: Mapping[str, Any], og_item_ids: Mapping[int, int],
                   problems: list[str]) -> tuple[list[_Line], Decimal]:
    lines: list[_Line] = []
    raw_sum = ZERO
    for line in order.get("line_items") or ():
        name = _line_name(line)
        what = f"line '{name}'"
        try:
            gross = _line_gross(line, what)
        except _Park as exc:
            problems.append(str(exc))
            continue
        quantity = _quantity(line.get("quantity"))
        if not _as_int(line.get("product_id")):
            problems.append(f"line '{name}' has no product in WooCommerce (product_id 0); "
                            "fix the order or document it by hand")
            continue
        if quantity is None:
            problems.append(f"{what} has quantity {line.get('quantity')!r}, not a whole number; fix the order "
                            "or document it by hand")
            continue
        if quantity == 0:
            if gross != 0:
                problems.append(f"{what} has quantity 0 but a total of {gross}; fix the quantity in WooCommerce "
                                "or document it by hand")
            continue  # nothing was sold on it: leave it out (OfficeGuy refuses Quantity 0)
        if quantity < 0:
            problems.append(f"{what} has a negative quantity ({quantity}); refunds are credited separately, "
                            "fix the order or document it by hand")
            continue
        if gross < 0:
            problems.append(f"{what} has a negative total ({gross}); fix the order or document it by hand")
            continue
        woo_id = _woo_id(line)
        og_id = og_item_ids.get(woo_id)
        if not og_id:
            problems.append(f"{what} (Woo id {woo_id}) has no OfficeGuy item; create or map its card first")
            continue
        raw_sum += gross
        lines.append(_Line(_line_description(line), quantity, _cents(gross / quantity), {"ID": int(og_id)}))
    return lines, raw_sum


def _extra_lines(order: Mapping[str, Any], settings: DocumentSettings,
                 problems: list[str]) -> tuple[list[_Line], Decimal]:
    """Shipping and fee lines: one document line each, quantity 1 (2.2: "Name only")."""
    lines: list[_Line] = []
    raw_sum = ZERO
    for line in order.get("shipping_lines") or ():
        title = _text(line.get("method_title")) or settings.shipping_label
        try:
            gross = _line_gross(line, f"shipping '{title}'")
        except _Park as exc:
            problems.append(str(exc))
            continue
        if gross < 0:
            problems.append(f"shipping '{title}' has a negative total ({gross}); fix the order or document it by hand")
            continue
        raw_sum += gross
        lines.append(_Line(title, 1, _cents(gross), _named_item(settings.shipping_label, settings.shipping_item_id)))
    for line in order.get("fee_lines") or ():
        title = _text(line.get("name")) or settings.fee_label
        try:
            gross = _line_gross(line, f"fee '{title}'")
        except _Park as exc:
            problems.append(str(exc))
            continue
        raw_sum += gross
        if gross == 0:
            continue
        lines.append(_Line(title, 1, _cents(gross), _named_item(settings.fee_label, settings.fee_item_id)))
    return lines, raw_sum


def _balance(lines: list[_Line], target: Decimal, label: str, item: dict[str, Any]) -> None:
    """Add one line so that Σ line totals (as OfficeGuy computes them) equals `target` exactly."""
    difference = target - sum((ln.total for ln in lines), ZERO)
    if difference != 0:
        lines.append(_Line(label, 1, difference, item))


def _reason(problems: Sequence[str]) -> str:
    shown = list(problems[:5])
    if len(problems) > 5:
        shown.append(f"and {len(problems) - 5} more")
    return "; ".join(shown)


def _order_id(order: Mapping[str, Any]) -> int:
    return _as_int(order.get("id"))


def _order_label(order: Mapping[str, Any]) -> str:
    return _text(order.get("number")) or str(_order_id(order))


# --- Public builders -----------------------------------------------------------------------------


def resolve_lines(order: Mapping[str, Any], item_map: Mapping[int, int],
                  og_items: Iterable[OgIncomeItemLike]) -> LineResolution:
    """The OfficeGuy card of every line item, or the card to create.

    Per line, with the Woo id = variation_id or product_id (officeguy-api.md 2.2):
    1. the item map (woo id -> og item id, the ledger's record), unless `og_items` is non-empty and
       does not hold that card (a deleted card: warned, and the next rules are tried);
    2. a card whose ExternalIdentifier is the Woo id (how the plugin links them, 2.1); several: the
       lowest ID, with a warning (the sandbox also resolves to the lowest ID);
    3. the one card with the line's SKU, if that card's ExternalIdentifier is empty or this Woo id
       (design.md "Matching": a SKU never overrides an ExternalIdentifier naming another product);
    4. else a `CardRequest` (name, SKU, ExternalIdentifier = Woo id, price = unit price incl. VAT).
    A line with product_id 0 cannot be resolved (A5: Woo's line for an unknown product): `problems`.
    The Woo catalogue is not needed: a product deleted in Woo still resolves from its line.
    """
    item_map = _id_map(item_map)
    cards = list(og_items)
    card_ids = {int(c.id) for c in cards}
    by_external: dict[str, list[int]] = {}
    by_sku: dict[str, list[Any]] = {}
    for card in cards:
        ext = _text(card.external_identifier)
        if ext:
            by_external.setdefault(ext, []).append(int(card.id))
        sku = _text(card.sku)
        if sku:
            by_sku.setdefault(sku, []).append(card)
    currency = _text(order.get("currency")).upper() or HOME_CURRENCY
    result = LineResolution()
    asked: set[int] = set()
    for line in order.get("line_items") or ():
        name = _line_name(line)
        line_id = _as_int(line.get("id")) or None
        if not _as_int(line.get("product_id")):
            result.problems.append(f"line '{name}' has no product in WooCommerce (product_id 0); "
                                   "fix the order or document it by hand")
            result.matches.append(LineMatch(line_id, name, None, None, "no_product"))
            continue
        woo_id = _woo_id(line)
        og_id, via = _resolve_one(woo_id, name, _text(line.get("sku")), item_map, card_ids, by_external, by_sku,
                                  result.warnings)
        if og_id is not None:
            result.og_item_ids[woo_id] = og_id
            result.matches.append(LineMatch(line_id, name, woo_id, og_id, via))
            continue
        result.matches.append(LineMatch(line_id, name, woo_id, None, "needs_card"))
        if woo_id not in asked:
            asked.add(woo_id)
            result.needs_card.append(CardRequest(
                woo_id=woo_id, name=_text(line.get("name")) or f"WooCommerce product {woo_id}",
                sku=_text(line.get("sku")), external_identifier=str(woo_id),
                price=_card_price(line), currency=currency,
            ))
    return result


def _resolve_one(woo_id: int, name: str, sku: str, item_map: Mapping[int, int], card_ids: set[int],
                 by_external: Mapping[str, list[int]], by_sku: Mapping[str, list[Any]],
                 warnings: list[str]) -> tuple[int | None, str]:
    mapped = item_map.get(woo_id)
    if mapped:
        if not card_ids or int(mapped) in card_ids:
            return int(mapped), "item_map"
        warnings.append(f"line '{name}': the item map points Woo id {woo_id} at OfficeGuy item {mapped}, "
                        "which is not in OfficeGuy's item list any more; looked for another card")
    matches = sorted(by_external.get(str(woo_id), ()))
    if matches:
        if len(matches) > 1:
            warnings.append(f"line '{name}': OfficeGuy items {', '.join(map(str, matches))} all have "
                            f"ExternalIdentifier {woo_id}; used the lowest, {matches[0]}")
        return matches[0], "external_identifier"
    if sku:
        same_sku = by_sku.get(sku, [])
        if len(same_sku) == 1:
            card = same_sku[0]
            ext = _text(card.external_identifier)
            if not ext or ext == str(woo_id):
                return int(card.id), "sku"
            warnings.append(f"line '{name}': OfficeGuy item {card.id} has SKU {sku} but ExternalIdentifier {ext} "
                            f"(another Woo product); not used for Woo id {woo_id}")
        elif len(same_sku) > 1:
            warnings.append(f"line '{name}': SKU {sku} is on several OfficeGuy items "
                            f"({', '.join(str(c.id) for c in sorted(same_sku, key=lambda c: c.id))}); "
                            "not matched by SKU")
    return None, "needs_card"


def _card_price(line: Mapping[str, Any]) -> float:
    quantity = _quantity(line.get("quantity"))
    try:
        gross = _line_gross(line, "line")
    except _Park:
        gross = None
    if quantity and quantity > 0 and gross is not None:
        return _wire(gross / quantity)
    try:
        return _wire(_money(line.get("price"), "price"))
    except _Park:
        return 0.0


def build_document(order: Mapping[str, Any], *, store: str, settings: DocumentSettings,
                   og_item_ids: Mapping[int, int], today: date) -> DocumentRequest | Parked:
    """The sale document (`settings.document_type`) for one paid order, or why it cannot be made.

    `og_item_ids` must map every line's Woo id to its OfficeGuy card (after missing cards were
    created from `resolve_lines(...).needs_card`). Which orders are paid is the caller's choice.
    """
    order_id = _order_id(order)
    og_item_ids = _id_map(og_item_ids)
    try:
        if order_id <= 0:
            raise _Park(f"the order has no valid id ({order.get('id')!r})")
        reference = external_reference(store, order_id)
        currency = _currency(order, settings)
        if order.get("total") in (None, ""):
            raise _Park("the order has no total; check the order in WooCommerce")
        total = _money(order.get("total"), "the order total")
        if total < 0:
            raise _Park(f"the order total is negative ({total}); document it by hand")
        problems: list[str] = []
        if not (order.get("line_items") or order.get("shipping_lines") or order.get("fee_lines")):
            raise _Park("the order has no lines; nothing to document")
        lines, product_sum = _product_lines(order, og_item_ids, problems)
        extras, extra_sum = _extra_lines(order, settings, problems)
        if problems:
            raise _Park(_reason(problems))
        if not lines and not extras:
            raise _Park("the order has no line with a quantity; nothing to document")
        if abs(product_sum + extra_sum - total) > CENT:
            raise _Park(f"the order's lines add up to {product_sum + extra_sum} but its total is {total}; "
                        "check the order in WooCommerce or document it by hand")
        lines += extras
        _balance(lines, total, settings.rounding_label,
                 _named_item(settings.rounding_label, settings.adjustment_item_id))

        tz = ZoneInfo(settings.timezone)
        wanted = _local_date(order, "date_paid", tz) or _local_date(order, "date_created", tz)
        if wanted is None:
            raise _Park("the order has neither date_paid nor date_created; cannot date the document")
        doc_date, replaced = _document_date(wanted, settings, today)
    except _Park as exc:
        return Parked(order_id, str(exc))

    description = f"WooCommerce order #{_order_label(order)}"
    if replaced:
        description += f" (paid {wanted.isoformat()}; dated today: OfficeGuy refuses dates more than " \
                       f"{settings.max_past_days} days back)"
    payload = _payload(settings.document_type, order, settings, currency, doc_date, description, reference,
                       lines, total, original_document_id=None)
    return DocumentRequest(order_id, reference, payload, float(total), len(lines), replaced)


def _payload(doc_type: int, order: Mapping[str, Any], settings: DocumentSettings, currency: str, doc_date: date,
             description: str, reference: str, lines: list[_Line], total: Decimal,
             original_document_id: int | None, payment_prefix: str = "") -> dict[str, Any]:
    payload: dict[str, Any] = {
        "Details": {
            "Type": doc_type,
            "Customer": _customer(order, settings),
            "Date": doc_date.isoformat(),
            "Language": settings.language,
            "Currency": currency,
            "Description": description,
            "ExternalReference": reference,
        },
        "Items": [ln.wire(currency) for ln in lines],
        "VATIncluded": True,
    }
    rate = _vat_rate(order)
    if rate is not None:
        payload["VATRate"] = rate
    if doc_type in PAYMENT_TYPES:
        payload["Payments"] = _payments(order, total, currency, payment_prefix)
    if original_document_id is not None:
        payload["OriginalDocumentID"] = original_document_id
    return payload


# --- Credit documents ----------------------------------------------------------------------------


def _refunded_item_id(line: Mapping[str, Any]) -> int:
    return _as_int(_meta(line, "_refunded_item_id"))


def _restocked_quantity(order_line: Mapping[str, Any] | None) -> int | None:
    """How many units of an order line Woo put back in stock through refunds; None: unknown.

    Woo records restocked units on the order line as `_restock_refunded_items` (rec 86). A line
    whose stock Woo tracked (`_reduced_stock` present) without that meta was not restocked.
    With neither meta the product's stock was not tracked by Woo (or the data is incomplete).
    """
    if order_line is None:
        return None
    if _has_meta(order_line, "_restock_refunded_items"):
        return max(_quantity(_meta(order_line, "_restock_refunded_items")) or 0, 0)
    if _has_meta(order_line, "_reduced_stock"):
        return 0
    return None


def build_credit_document(order: Mapping[str, Any], *, store: str, settings: DocumentSettings,
                          original_document_id: int, refund: Mapping[str, Any] | None,
                          og_item_ids: Mapping[int, int], today: date,
                          restock: bool | None = None, original_type: int | None = None,
                          prior_refunds: Sequence[Mapping[str, Any]] = ()) -> DocumentRequest | Parked:
    """The credit document (1.5e) for a refund, or for the cancellation of the whole order.

    - `refund` (a wc/v3 refund object, rec 87): credits its line items (negative quantity and
      totals, `_refunded_item_id` = the order line), shipping and fee lines; the part of `amount`
      not on any line is one `refund_label` line; no lines at all: one line for the amount.
    - `refund=None`: the order was cancelled; every line is credited, less the quantities and
      amounts of `prior_refunds` (refunds already credited by their own documents).
    - Type: `settings.credit_type`, or the credit type of `original_type` (default: the
      settings' document type). `OriginalDocumentID` links the original.
    - Stock: a credit document raises the OfficeGuy stock of its cards (section 7), and the stock
      flow then copies OfficeGuy's figure to Woo. So refunded units go on the product's card only
      when Woo restocked them: `restock=True/False` says so for the whole refund; None (default)
      reads it from the order line's meta (`_restock_refunded_items`, `_reduced_stock`, see
      `_restocked_quantity`; unknown counts as restocked, Woo's `api_restock` default, A5).
      Units not restocked are credited on the `refund_label` card, named in the line's description.
      A cancellation always credits the product cards: Woo restores stock on cancel (A5).
    - Quantities, prices and payments are positive: the credit type gives the sign (see module doc).
    """
    order_id = _order_id(order)
    og_item_ids = _id_map(og_item_ids)
    # A wrong original id or type is the caller's bug, not the order's: ValueError, not Parked.
    original = _positive_id(original_document_id, "original_document_id")
    credit_type = settings.credit_type_for(original_type)
    try:
        if order_id <= 0:
            raise _Park(f"the order has no valid id ({order.get('id')!r})")
        currency = _currency(order, settings)
        order_lines = {_as_int(ln.get("id")): ln for ln in order.get("line_items") or () if _as_int(ln.get("id"))}
        adjustment = _named_item(settings.refund_label, settings.adjustment_item_id)
        notes: list[str] = []
        tz = ZoneInfo(settings.timezone)
        if refund is None:
            reference = credit_reference(store, order_id, "cancel")
            lines, total = _cancel_lines(order, og_item_ids, settings, prior_refunds)
            wanted = today
            description = f"Cancellation of WooCommerce order #{_order_label(order)}"
            prefix = "Cancellation"
        else:
            refund_id = _as_int(refund.get("id"))
            if refund_id <= 0:
                raise _Park(f"the refund has no valid id ({refund.get('id')!r})")
            reference = credit_reference(store, order_id, refund_id)
            lines, total = _refund_lines(refund, order_lines, og_item_ids, settings, restock, notes)
            wanted = _local_date(refund, "date_created", tz) or today
            reason = _text(refund.get("reason"))
            description = f"Refund #{refund_id} of WooCommerce order #{_order_label(order)}" + (
                f": {reason}" if reason else "")
            prefix = "Refund"
        if total <= 0:
            raise _Park("nothing left to credit (the amount is 0 or was already credited)")
        _balance(lines, total, settings.refund_label, adjustment)
        doc_date, replaced = _document_date(wanted, settings, today)
    except _Park as exc:
        return Parked(order_id, str(exc))
    if replaced:
        description += f" (refunded {wanted.isoformat()}; dated today: OfficeGuy refuses dates more than " \
                       f"{settings.max_past_days} days back)"
    payload = _payload(credit_type, order, settings, currency, doc_date, description, reference, lines, total,
                       original_document_id=original, payment_prefix=prefix)
    return DocumentRequest(order_id, reference, payload, float(total), len(lines), replaced, tuple(notes))


def _refund_lines(refund: Mapping[str, Any], order_lines: Mapping[int, Mapping[str, Any]],
                  og_item_ids: Mapping[int, int], settings: DocumentSettings, restock: bool | None,
                  notes: list[str]) -> tuple[list[_Line], Decimal]:
    amount = abs(_money(refund.get("amount"), "the refund amount"))
    problems: list[str] = []
    lines: list[_Line] = []
    raw_sum = ZERO
    adjustment = _named_item(settings.refund_label, settings.adjustment_item_id)
    for line in refund.get("line_items") or ():
        original = order_lines.get(_refunded_item_id(line))
        name = _line_name(original or line)
        what = f"refunded line '{name}'"
        gross = abs(_line_gross(line, what))
        quantity = _quantity(line.get("quantity"))
        if quantity is None:
            problems.append(f"{what} has quantity {line.get('quantity')!r}, not a whole number")
            continue
        quantity = abs(quantity)
        raw_sum += gross
        if quantity == 0:
            if gross:  # money back without goods back: no stock effect
                lines.append(_Line(f"{settings.refund_label}: {name}", 1, _cents(gross), adjustment))
            continue
        source = original if original is not None else line
        og_id = _credited_item(source, what, og_item_ids, problems)
        if og_id is None:
            continue
        if restock is None:
            known = _restocked_quantity(original)
            back = quantity if known is None else min(quantity, known)
        else:
            back = quantity if restock else 0
        unit = _cents(gross / quantity)
        description = _line_description(source)
        if back:
            lines.append(_Line(description, back, unit, {"ID": int(og_id)}))
        if quantity - back:
            notes.append(f"{quantity - back} × '{name}' refunded without restock in WooCommerce: "
                         "credited without returning OfficeGuy stock")
            lines.append(_Line(f"{description} (not restocked)", quantity - back, unit, adjustment))
    for line in refund.get("shipping_lines") or ():
        title = _text(line.get("method_title")) or settings.shipping_label
        gross = abs(_line_gross(line, f"refunded shipping '{title}'"))
        raw_sum += gross
        if gross:
            lines.append(_Line(title, 1, _cents(gross), _named_item(settings.shipping_label,
                                                                     settings.shipping_item_id)))
    for line in refund.get("fee_lines") or ():
        title = _text(line.get("name")) or settings.fee_label
        gross = _line_gross(line, f"refunded fee '{title}'")
        raw_sum -= gross  # a refunded fee is negative; a refunded negative fee (discount) is positive
        if gross:
            lines.append(_Line(title, 1, _cents(-gross), _named_item(settings.fee_label, settings.fee_item_id)))
    if problems:
        raise _Park(_reason(problems))
    if raw_sum - amount > CENT:
        raise _Park(f"the refund's lines add up to {raw_sum} but the refund amount is {amount}; "
                    "credit it by hand")
    if amount - raw_sum > CENT:
        # Part of the amount is on no line (A5: a refund may be an amount only): one line for it.
        lines.append(_Line(settings.refund_label, 1, _cents(amount - raw_sum), adjustment))
    return lines, amount


def _cancel_lines(order: Mapping[str, Any], og_item_ids: Mapping[int, int], settings: DocumentSettings,
                  prior_refunds: Sequence[Mapping[str, Any]]) -> tuple[list[_Line], Decimal]:
    total = _money(order.get("total"), "the order total")
    refunded_qty: dict[int, int] = {}
    refunded_gross: dict[int, Decimal] = {}
    for prior in prior_refunds:
        total -= abs(_money(prior.get("amount"), "a prior refund's amount"))
        for kind in ("line_items", "shipping_lines", "fee_lines"):
            for line in prior.get(kind) or ():
                target = _refunded_item_id(line)
                refunded_qty[target] = refunded_qty.get(target, 0) + abs(_quantity(line.get("quantity")) or 0)
                refunded_gross[target] = refunded_gross.get(target, ZERO) + _line_gross(line, "a prior refund line")
    problems: list[str] = []
    lines: list[_Line] = []
    for line in order.get("line_items") or ():
        name = _line_name(line)
        quantity = _quantity(line.get("quantity"))
        if not quantity or quantity < 0:
            continue
        gross = _line_gross(line, f"line '{name}'")
        remaining = quantity - refunded_qty.get(_as_int(line.get("id")), 0)
        if remaining <= 0:
            continue
        og_id = _credited_item(line, f"line '{name}'", og_item_ids, problems)
        if og_id is None:
            continue
        lines.append(_Line(_line_description(line), remaining, _cents(gross / quantity), {"ID": int(og_id)}))
    for kind, label, item_id, title_key in (("shipping_lines", settings.shipping_label, settings.shipping_item_id,
                                             "method_title"),
                                            ("fee_lines", settings.fee_label, settings.fee_item_id, "name")):
        for line in order.get(kind) or ():
            title = _text(line.get(title_key)) or label
            # Prior refund lines carry negative totals: adding them leaves what is still to credit.
            gross = _line_gross(line, f"{title}") + refunded_gross.get(_as_int(line.get("id")), ZERO)
            if gross:
                lines.append(_Line(title, 1, _cents(gross), _named_item(label, item_id)))
    if problems:
        raise _Park(_reason(problems))
    return lines, total


# --- Pending quantities (I3) ---------------------------------------------------------------------


def _credited_item(line: Mapping[str, Any], what: str, og_item_ids: Mapping[int, int],
                   problems: list[str]) -> int | None:
    """The OfficeGuy item a credited line goes back on, or None with the problem noted."""
    if not _as_int(line.get("product_id")):
        problems.append(f"{what} has no product in WooCommerce (product_id 0); credit it by hand")
        return None
    woo_id = _woo_id(line)
    og_id = og_item_ids.get(woo_id)
    if not og_id:
        problems.append(f"{what} (Woo id {woo_id}) has no OfficeGuy item; create or map its card first")
        return None
    return og_id


def pending_quantities(orders: Iterable[Mapping[str, Any]], documented_order_ids: set[int],
                       holder_of: Mapping[int, int]) -> dict[int, int]:
    """Units that left Woo stock for orders OfficeGuy has no document for yet (invariant I3).

    What is counted, per order line, and why:
    - only orders in processing, on-hold or completed (A5: Woo reduces stock on the move to these
      and restores it on cancelled/pending; pending, failed, cancelled, refunded, drafts are left
      out) whose id is not in `documented_order_ids` (once OfficeGuy has the document, its stock
      already shows the sale; a parked order is not documented, so it still counts);
    - lines with a product (product_id 0 holds no stock);
    - the units Woo still holds back for the line: its `_reduced_stock` meta when present (Woo's
      own record, already lowered by restocking refunds, rec 86); otherwise the quantity less the
      restocked units (`_restock_refunded_items`, or else the units of refund line items that
      point at the line when the order carries full refund objects, as restocked by default, A5);
    - booked on the Woo id that holds the stock: `holder_of[woo id]` (a variation whose parent
      manages stock maps to the parent, A2) or the line's own Woo id.
    Products whose stock Woo does not manage are counted too; the stock plan ignores them.
    """
    holder_of = _id_map(holder_of)
    documented = {_as_int(i) for i in documented_order_ids}
    pending: dict[int, int] = {}
    for order in orders:
        if _text(order.get("status")) not in STOCK_REDUCING_STATUSES:
            continue
        if _order_id(order) in documented:
            continue
        refunded = _embedded_refunded_quantities(order)
        for line in order.get("line_items") or ():
            if not _as_int(line.get("product_id")):
                continue
            held = _held_quantity(line, refunded.get(_as_int(line.get("id")), 0))
            if held <= 0:
                continue
            woo_id = _woo_id(line)
            holder = int(holder_of.get(woo_id, woo_id))
            pending[holder] = pending.get(holder, 0) + held
    return {k: v for k, v in pending.items() if v > 0}


def _held_quantity(line: Mapping[str, Any], refunded_units: int) -> int:
    if _has_meta(line, "_reduced_stock"):
        return max(_quantity(_meta(line, "_reduced_stock")) or 0, 0)
    quantity = _quantity(line.get("quantity")) or 0
    if _has_meta(line, "_restock_refunded_items"):
        restocked = _quantity(_meta(line, "_restock_refunded_items")) or 0
    else:
        restocked = refunded_units
    return max(quantity - abs(restocked), 0)


def _embedded_refunded_quantities(order: Mapping[str, Any]) -> dict[int, int]:
    """Units per order line in full refund objects embedded in `order["refunds"]`, if any.

    GET /orders gives only `refunds[{id, reason, total}]` (A5); a caller that fetched
    /orders/<id>/refunds may put the full objects there instead.
    """
    units: dict[int, int] = {}
    for refund in order.get("refunds") or ():
        if not isinstance(refund, Mapping):
            continue
        for line in refund.get("line_items") or ():
            quantity = _quantity(line.get("quantity")) or 0
            if quantity < 0:
                target = _refunded_item_id(line)
                units[target] = units.get(target, 0) - quantity
    return units
