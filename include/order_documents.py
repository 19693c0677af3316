"""Which OfficeGuy document does a paid WooCommerce order become? The order-document core.

This is the functional core of the orders flow (`woocommerce_orders_to_officeguy`): plain functions
over the order dicts the wc/v3 API returns and small dataclasses. No HTTP, no Airflow, no database:
the extract task passes orders in, the write task sends `DocumentRequest.payload` to
`/accounting/documents/create/` once (I1), and a `Parked` result goes to the report with its reason
(I2, I7). README's "Accounting rules" table lists every rule below with its source and its test.

Public API
----------
- `DocumentSettings`: document type, per-gateway rules, credit type and sign, language, dates,
  e-mail, labels. `StoreTax`: the store's `woocommerce_calc_taxes` / `woocommerce_prices_include_tax`.
- `external_reference(store, order_id)` / `credit_reference(...)` / `receipt_reference(...)`: the
  deterministic `Details.ExternalReference` that makes a document findable after an ambiguous failure.
- `resolve_lines(order, item_map, og_items)`: the OfficeGuy item card of every line, or the card to create.
- `build_document(order, ...)`: the sale document, or `Parked`.
- `build_receipt_document(order, ...)`: the Receipt for cash collected on an order invoiced earlier.
- `build_credit_document(order, ...)`: the credit for a refund or a cancellation, `NotCredited` when the
  sale is already fully credited.
- `pending_quantities(orders, documented_order_ids, holder_of)`: invariant I3's pending units.

Rules
-----
Money. Woo sends money as strings ("30.00"); every sum here is a `Decimal`, sent rounded to 2 places.

VAT (SUMIT's Swagger: top-level `VATIncluded`, `VATRate`, `VATPerItem`; `Items[].VAT`; `Customer.NoVAT`):
- The order carries no tax and the store charges tax (`woocommerce_calc_taxes` = yes; Eilat, export,
  an exempt customer): `VATRate: 0` and `Customer.NoVAT: true`, as the official plugin does.
- Taxes off in the store and no tax on the order: no `VATRate` (the company default), prices incl. VAT.
- Every taxed line at one rate and OfficeGuy's VAT on the total (gross − gross ÷ (1 + rate)) equals the
  order's tax to the agora: `VATIncluded: true`, `VATRate` = that rate, gross unit prices.
- Otherwise (mixed rates, zero-rated lines beside taxed ones, or Woo's per-line rounding differing from
  OfficeGuy's total rounding): `VATPerItem: true`, `VATRate` null, `VATIncluded` false, each line's
  price without VAT and its `VAT` amount (`DocumentCurrency_VAT` outside ILS) exactly as Woo taxed it.
  A refunded amount that is on no line carries the order's own share of VAT (total_tax ÷ total).
- Lines: `UnitPrice` = round(line amount ÷ quantity, 2) (gross or net by the mode); when the rounded
  lines do not add up to the order total, one "Rounding" line (VAT 0 in per-item mode) makes them equal.

Lines. A line item is identified by `variation_id`, else `product_id`; its card is `Item{ID}`. Woo's
`total` is after coupons. Shipping and fee lines become their own lines on service cards
(`Item{Name, ExternalIdentifier: "stock-sync:<kind>", SearchMode: 0}`: found or made once), unless a
configured card id is given; zero-value shipping and fee lines are left out. Negative fee lines
(discounts) are allowed. Parked: no lines; product_id 0; a quantity that is not a whole number above 0;
a negative product or shipping total; no OfficeGuy card; lines that do not add up to the total; a
currency SUMIT does not list; no date.

Customer (the plugin's `GetOrderCustomer`): Name = "<company> - <first> <last>" (or the name, or
"Guest"); City = city[, state][, country when not Israel] (SUMIT's customer has no country field);
Address = address_1, address_2; `CompanyNumber` from the order meta `company_number_meta`; a
registered customer is found again by `ExternalIdentifier` (SearchMode 2). Credits and receipts use the
customer card of their sale document (`Customer.ID`).

Payments (receipt types only) carry the kind SUMIT describes for the Woo gateway: cash (cod), bank
transfer (bacs), cheque, credit card, digital (PayPal, Bit, ...), `Details_Other` for the rest.
Per-gateway rules: the document type by Woo payment method id (default `cod=invoice`): an Invoice at
payment, and when the order reaches `completed`, a Receipt for the collected cash with no item lines
(so the stock moves once).

Credits (types 5/6/7 with `OriginalDocumentID`): a refund credits its lines, shipping and fees, and the
part of the amount on no line as one "Refund" line; a cancellation credits what the refunds left. The
credits of an order never exceed its sale document and, once it is cancelled, equal it; a refund that
would go past it (e.g. entered after the cancellation credit) is `NotCredited` and reported. Units go
back on a product's card exactly as WooCommerce restocked them (`_restock_refunded_items` is a running
total per line: each credit returns what that total grew by since the earlier credits); a cancellation
returns every unit WooCommerce no longer holds. The sign: `credit_sign` -1 (default) sends credit
prices, VAT and payments negative, +1 positive (README's accounting section has the evidence).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from include.officeguy_codes import CURRENCIES, PAYMENT_DETAILS, DocumentType, PaymentType

# --- Enums and constants -------------------------------------------------------------------------

INVOICE, INVOICE_AND_RECEIPT, RECEIPT = DocumentType.INVOICE, DocumentType.INVOICE_AND_RECEIPT, DocumentType.RECEIPT
CREDIT_INVOICE = DocumentType.CREDIT_INVOICE
CREDIT_INVOICE_AND_RECEIPT = DocumentType.CREDIT_INVOICE_AND_RECEIPT
CREDIT_RECEIPT = DocumentType.CREDIT_RECEIPT
SALE_TYPES = (INVOICE, INVOICE_AND_RECEIPT, RECEIPT)
# The credit type that reverses each sale type.
DEFAULT_CREDIT_TYPE = {INVOICE: CREDIT_INVOICE, INVOICE_AND_RECEIPT: CREDIT_INVOICE_AND_RECEIPT,
                       RECEIPT: CREDIT_RECEIPT}
# Receipts and invoice-receipts carry payments; invoices must not.
PAYMENT_TYPES = frozenset({INVOICE_AND_RECEIPT, RECEIPT, CREDIT_INVOICE_AND_RECEIPT, CREDIT_RECEIPT})
LANGUAGES = (0, 1, 2, 3)  # Hebrew, English, Arabic, Spanish
ITEM_SEARCH_AUTOMATIC = 0
CUSTOMER_SEARCH_NONE, CUSTOMER_SEARCH_EXTERNAL_IDENTIFIER = 1, 2
KNOWN_CURRENCIES = frozenset(CURRENCIES)
HOME_CURRENCY = "ILS"
SERVICE_CARD_PREFIX = "stock-sync:"  # ExternalIdentifier of the shipping/fee/rounding/refund cards

# Woo statuses whose orders have reduced Woo stock (reduced on the move to processing, completed,
# on-hold; restored on cancelled and pending; failed/refunded restore nothing).
STOCK_REDUCING_STATUSES = frozenset({"processing", "on-hold", "completed"})

# The payment kind of well-known Woo gateway ids (the merchant adds more with STOCK_SYNC_PAYMENT_KINDS).
DEFAULT_PAYMENT_KINDS = MappingProxyType({
    "cod": PaymentType.CASH, "bacs": PaymentType.BANK_TRANSFER, "cheque": PaymentType.CHEQUE,
    "paypal": PaymentType.DIGITAL, "ppcp-gateway": PaymentType.DIGITAL, "ppec_paypal": PaymentType.DIGITAL,
    "eh_paypal_express": PaymentType.DIGITAL, "bit": PaymentType.DIGITAL, "bit_payment": PaymentType.DIGITAL,
    "stripe": PaymentType.CREDIT_CARD, "woocommerce_payments": PaymentType.CREDIT_CARD,
    "officeguy": PaymentType.CREDIT_CARD, "square_credit_card": PaymentType.CREDIT_CARD,
    "authorize_net_cim_credit_card": PaymentType.CREDIT_CARD,
})
# Document type per Woo gateway id: cash on delivery is invoiced at checkout, the receipt follows the cash.
DEFAULT_GATEWAY_RULES = MappingProxyType({"cod": INVOICE})

MAX_REFERENCE_LENGTH = 100
# A store key longer than this is hashed, so that even a credit reference with two 19-digit ids
# stays within MAX_REFERENCE_LENGTH.
MAX_STORE_KEY_LENGTH = 40
CENT = Decimal("0.01")
HALF_CENT = Decimal("0.005")
ZERO = Decimal(0)


# --- Settings and results ------------------------------------------------------------------------


@dataclass(frozen=True)
class StoreTax:
    """The store's tax settings, read once per run (`woocommerce_calc_taxes`, `..._prices_include_tax`)."""

    calc_taxes: bool = False
    prices_include_tax: bool = False


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

class OgIncomeItemLike(Protocol):
    id: int
    name: str
    sku: str
    external_identifier: str
    price: float | None


# Set by the orders flow on a line whose variation's stock its parent manages: the parent's Woo id.
STOCK_HOLDER_KEY = "_stock_holder_id"


@dataclass(frozen=True)
class CardRequest:
    """The fields of an `incomeitems/create` call for a product that has no OfficeGuy card yet."""

    woo_id: int
    name: str
    sku: str
    external_identifier: str  # the Woo id, so that stock/list later names the product (1.5a, 2.1)
    price: float  # unit price incl. VAT in `currency`
    currency: str
    serves: tuple[int, ...] = ()  # variations whose parent holds their stock: they use this (parent's) card


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
    return float(_cents(value)) + 0.0  # never -0.0
# --- Customer, dates, currency, payments ---------------------------------------------------------


def _customer(order: Mapping[str, Any], settings: DocumentSettings) -> dict[str, Any]:
    """The `Details.Customer` object, from billing (the official plugin's `GetOrderCustomer`)."""
    billing = order.get("billing") or {}
    person = " ".join(p for p in (_text(billing.get("first_name")), _text(billing.get("last_name"))) if p)
    company = _text(billing.get("company"))
    name = f"{company} - {person}" if company and person else (company or person)
    customer: dict[str, Any] = {"Name": name or settings.guest_name.strip()}
    country = _text(billing.get("country")).upper()
    city = ", ".join(p for p in (_text(billing.get("city")), _text(billing.get("state")),
                                 country if country and country != settings.home_country.upper() else "") if p)
    address = ", ".join(p for p in (_text(billing.get("address_1")), _text(billing.get("address_2"))) if p)
    company_number = _text(_meta(order, settings.company_number_meta)) if settings.company_number_meta else ""
    for key, value in (("EmailAddress", _text(billing.get("email"))), ("Phone", _text(billing.get("phone"))),
                       ("City", city), ("Address", address), ("ZipCode", _text(billing.get("postcode"))),
                       ("CompanyNumber", company_number)):
        if value:
            customer[key] = value
    customer_id = _as_int(order.get("customer_id"))
    if customer_id > 0:
        customer["ExternalIdentifier"] = str(customer_id)
        customer["SearchMode"] = CUSTOMER_SEARCH_EXTERNAL_IDENTIFIER
    else:
        customer["SearchMode"] = CUSTOMER_SEARCH_NONE
    return customer


def _send_by_email(order: Mapping[str, Any], settings: DocumentSettings) -> dict[str, Any] | None:
    email = _text((order.get("billing") or {}).get("email"))
    if not settings.send_by_email or not email:
        return None
    return {"EmailAddress": email, "Original": True, "SendAsPaymentRequest": False}


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
    if currency not in KNOWN_CURRENCIES:
        raise _Park(f"currency {currency} is not one SUMIT lists; document the order by hand")
    if currency not in settings.currencies:
        raise _Park(f"currency {currency} is not one OfficeGuy is configured for "
                    f"({', '.join(sorted(settings.currencies))}); document it by hand or add the currency to the settings")
    return currency


def _payment_method(order: Mapping[str, Any]) -> str:
    return _text(order.get("payment_method_title")) or _text(order.get("payment_method")) or "WooCommerce"


def payment_entry(order: Mapping[str, Any], amount: Decimal, currency: str, settings: DocumentSettings,
                  prefix: str = "") -> dict[str, Any]:
    """One `Payments[]` entry: the amount and the payment kind SUMIT describes for the order's gateway."""
    method = _payment_method(order)
    transaction = _text(order.get("transaction_id"))
    description = " ".join(p for p in (prefix, method, transaction) if p)
    kind = PaymentType(settings.payment_kinds.get(_text(order.get("payment_method")), PaymentType.OTHER))
    if kind == PaymentType.DIGITAL:
        details: dict[str, Any] = {"Type": method, "Description": description}
    elif kind == PaymentType.BANK_TRANSFER:
        details = {"Reference": transaction} if transaction else {}
    elif kind == PaymentType.OTHER:
        details = {"Type": method, "Description": description}
    else:  # cash, cheque, credit card (no card data required), general: nothing more to say
        details = {}
    amount_key = "Amount" if currency == HOME_CURRENCY else "DocumentCurrency_Amount"
    return {amount_key: _wire(amount), "Type": int(kind), PAYMENT_DETAILS[kind]: details}


def _single_rate(order: Mapping[str, Any]) -> Decimal | None:
    """The order's one VAT rate when its tax lines name exactly one; None for none or several."""
    rates = set()
    for tax in order.get("tax_lines") or ():
        if isinstance(tax, Mapping) and tax.get("rate_percent") not in (None, ""):
            try:
                rates.add(Decimal(str(tax["rate_percent"])))
            except InvalidOperation:
                return None
    return rates.pop() if len(rates) == 1 else None


# --- Document lines ------------------------------------------------------------------------------


@dataclass
class _Line:
    description: str
    quantity: int
    gross: Decimal  # the line's amount incl. VAT, in cents
    vat: Decimal  # the VAT in it, in cents (0 on untaxed lines)
    item: dict[str, Any]
    # (line id, product id, variation id) of the order line whose units this line moves, if any
    stock: tuple[int, int, int] | None = None

    @property
    def net(self) -> Decimal:
        return self.gross - self.vat


@dataclass(frozen=True)
class _VatMode:
    per_item: bool
    rate: Decimal | None  # VATIncluded mode: the rate to send; None: the company default
    no_vat: bool


def _vat_mode(lines: Sequence[_Line], total: Decimal, order: Mapping[str, Any], store_tax: StoreTax,
              *, allow_order_rate: bool = True) -> _VatMode:
    """How the document states VAT (module docstring "VAT")."""
    vat = sum((ln.vat for ln in lines), ZERO)
    if vat == 0:
        if _money(order.get("total_tax"), "the order's total_tax") != 0:
            return _VatMode(False, ZERO, False)  # untaxed lines of a taxed order: the customer pays VAT
        if store_tax.calc_taxes:
            return _VatMode(False, ZERO, True)
        return _VatMode(False, None, False)
    rate = _single_rate(order) if allow_order_rate else None
    if rate is not None and rate > 0:
        at_rate = all(abs(ln.net * rate / 100 - ln.vat) <= CENT for ln in lines if ln.net or ln.vat)
        og_vat = _cents(total - total / (1 + rate / 100))
        if at_rate and og_vat == vat:
            return _VatMode(False, rate, False)
    return _VatMode(True, None, False)


def _wire_lines(lines: list[_Line], mode: _VatMode, currency: str, sign: int, total: Decimal,
                rounding_label: str, rounding_item: dict[str, Any]) -> tuple[list[dict[str, Any]], Decimal]:
    """The `Items` array and the VAT OfficeGuy will compute; a rounding line makes the total exact."""
    home = currency == HOME_CURRENCY
    price_key = "UnitPrice" if home else "DocumentCurrency_UnitPrice"
    vat_key = "VAT" if home else "DocumentCurrency_VAT"
    items: list[dict[str, Any]] = []
    counted = ZERO
    for ln in lines:
        amount = ln.net if mode.per_item else ln.gross
        unit = _cents(amount / ln.quantity)
        counted += _cents(unit * ln.quantity) + (ln.vat if mode.per_item else ZERO)
        entry = {"Quantity": int(ln.quantity), price_key: _wire(sign * unit), "Description": ln.description,
                 "Item": ln.item}
        if mode.per_item:
            entry[vat_key] = _wire(sign * ln.vat)
        items.append(entry)
    difference = total - counted
    if difference:
        entry = {"Quantity": 1, price_key: _wire(sign * difference), "Description": rounding_label,
                 "Item": rounding_item}
        if mode.per_item:
            entry[vat_key] = 0.0
        items.append(entry)
    if mode.per_item:
        vat = sum((ln.vat for ln in lines), ZERO)
    elif mode.rate:
        vat = _cents(total - total / (1 + mode.rate / 100))
    else:
        vat = ZERO if mode.rate is not None else Decimal("-1")  # -1: the company default decides
    return items, vat


def _named_item(label: str, item_id: int | None, kind: str) -> dict[str, Any]:
    """A service card for a line that is not a product: a configured ID, or one found/made once.

    SearchMode Automatic (0) finds the card by its ExternalIdentifier (or, for cards made before this
    rule, by name) from the second document on; SearchMode None (1) would make a card every time.
    """
    if item_id:
        return {"ID": int(item_id)}
    return {"Name": label.strip(), "ExternalIdentifier": f"{SERVICE_CARD_PREFIX}{kind}",
            "SearchMode": ITEM_SEARCH_AUTOMATIC}


def _rounding_item(settings: DocumentSettings) -> dict[str, Any]:
    return _named_item(settings.rounding_label, settings.adjustment_item_id, "rounding")


def _refund_item(settings: DocumentSettings) -> dict[str, Any]:
    return _named_item(settings.refund_label, settings.adjustment_item_id, "refund")


def _line_amounts(line: Mapping[str, Any], what: str) -> tuple[Decimal, Decimal]:
    """(gross, VAT) of a Woo line: `total` + `total_tax`, and `total_tax`."""
    tax = _money(line.get("total_tax"), f"{what}: total_tax")
    return _money(line.get("total"), f"{what}: total") + tax, tax


def _line_gross(line: Mapping[str, Any], what: str) -> Decimal:
    return _line_amounts(line, what)[0]


def _stock_key(line: Mapping[str, Any]) -> tuple[int, int, int]:
    return _as_int(line.get("id")), _as_int(line.get("product_id")), _as_int(line.get("variation_id"))


def _product_lines(order: Mapping[str, Any], og_item_ids: Mapping[int, int],
                   problems: list[str]) -> tuple[list[_Line], Decimal]:
    lines: list[_Line] = []
    raw_sum = ZERO
    for line in order.get("line_items") or ():
        name = _line_name(line)
        what = f"line '{name}'"
        try:
            gross, tax = _line_amounts(line, what)
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
        lines.append(_Line(_line_description(line), quantity, gross, tax, {"ID": int(og_id)}, _stock_key(line)))
    return lines, raw_sum


def _extra_lines(order: Mapping[str, Any], settings: DocumentSettings,
                 problems: list[str]) -> tuple[list[_Line], Decimal]:
    """Shipping and fee lines: one document line each, quantity 1; zero-value lines are left out."""
    lines: list[_Line] = []
    raw_sum = ZERO
    for line in order.get("shipping_lines") or ():
        title = _text(line.get("method_title")) or settings.shipping_label
        try:
            gross, tax = _line_amounts(line, f"shipping '{title}'")
        except _Park as exc:
            problems.append(str(exc))
            continue
        if gross < 0:
            problems.append(f"shipping '{title}' has a negative total ({gross}); fix the order or document it by hand")
            continue
        raw_sum += gross
        if gross:
            lines.append(_Line(title, 1, gross, tax, _named_item(settings.shipping_label, settings.shipping_item_id,
                                                                  "shipping")))
    for line in order.get("fee_lines") or ():
        title = _text(line.get("name")) or settings.fee_label
        try:
            gross, tax = _line_amounts(line, f"fee '{title}'")
        except _Park as exc:
            problems.append(str(exc))
            continue
        raw_sum += gross
        if gross:
            lines.append(_Line(title, 1, gross, tax, _named_item(settings.fee_label, settings.fee_item_id, "fee")))
    return lines, raw_sum


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
    A variation whose parent manages its stock (the orders flow marks such a line with
    ``STOCK_HOLDER_KEY`` = the parent's id) and that has no card of its own (rules 1-3) uses its
    parent's card, found by the same rules (without the variation's SKU), else a card is made for the
    parent: WooCommerce took the units off the parent, so OfficeGuy must take them off the same card
    the stock sync reads for the parent (I3).
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
        holder = _as_int(line.get(STOCK_HOLDER_KEY))
        if og_id is None and holder and holder != woo_id:
            og_id, via = _resolve_one(holder, name, "", item_map, card_ids, by_external, by_sku, result.warnings)
            via = f"parent {via}" if og_id is not None else via
        if og_id is not None:
            result.og_item_ids[woo_id] = og_id
            result.matches.append(LineMatch(line_id, name, woo_id, og_id, via))
            continue
        result.matches.append(LineMatch(line_id, name, woo_id, None, "needs_card"))
        card_for = holder if holder and holder != woo_id else woo_id
        request = next((c for c in result.needs_card if c.woo_id == card_for), None)
        if request is None:
            request = CardRequest(
                woo_id=card_for, name=(_text(line.get("parent_name")) if card_for != woo_id else "")
                or _text(line.get("name")) or f"WooCommerce product {card_for}",
                sku="" if card_for != woo_id else _text(line.get("sku")), external_identifier=str(card_for),
                price=_card_price(line), currency=currency)
            result.needs_card.append(request)
        if card_for != woo_id and woo_id not in request.serves:
            result.needs_card[result.needs_card.index(request)] = replace(request, serves=(*request.serves, woo_id))
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
                   og_item_ids: Mapping[int, int], today: date,
                   store_tax: StoreTax | None = None) -> DocumentRequest | Parked:
    """The sale document for one paid order (its gateway's type, else `settings.document_type`).

    `og_item_ids` must map every line's Woo id to its OfficeGuy card (after missing cards were
    created from `resolve_lines(...).needs_card`). Which orders are paid is the caller's choice.
    """
    store_tax = store_tax or StoreTax()
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
        order_tax = _money(order.get("total_tax"), "the order's total_tax")
        line_tax = sum((ln.vat for ln in lines), ZERO)
        if abs(order_tax - line_tax) > CENT:
            raise _Park(f"the order's lines carry {line_tax} VAT but its total_tax is {order_tax}; "
                        "check the order's taxes in WooCommerce or document it by hand")
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
    mode = _vat_mode(lines, total, order, store_tax)
    items, vat = _wire_lines(lines, mode, currency, 1, total, settings.rounding_label, _rounding_item(settings))
    doc_type = settings.sale_type_for(order)
    payment = payment_entry(order, total, currency, settings) if doc_type in PAYMENT_TYPES else None
    payload = _payload(doc_type, order, settings, currency, doc_date, description, reference, items, mode,
                       store_tax, customer=_customer(order, settings), payment=payment, original_document_id=None)
    stock = tuple({"line_id": ln.stock[0], "product_id": ln.stock[1], "variation_id": ln.stock[2],
                   "quantity": ln.quantity} for ln in lines if ln.stock)
    return DocumentRequest(order_id, reference, payload, float(total), len(items), replaced,
                           vat=float(max(vat, ZERO)), stock_lines=stock)


def _payload(doc_type: int, order: Mapping[str, Any], settings: DocumentSettings, currency: str, doc_date: date,
             description: str, reference: str, items: list[dict[str, Any]] | None, mode: _VatMode | None,
             store_tax: StoreTax, *, customer: dict[str, Any], payment: dict[str, Any] | None,
             original_document_id: int | None) -> dict[str, Any]:
    customer = dict(customer)
    if mode is not None and (store_tax.calc_taxes or mode.no_vat):
        customer["NoVAT"] = mode.no_vat  # as the plugin: true when the order carries no tax
    details: dict[str, Any] = {
        "Type": int(doc_type),
        "Customer": customer,
        "Date": doc_date.isoformat(),
        "Language": settings.language,
        "Currency": currency,
        "Description": description,
        "ExternalReference": reference,
    }
    email = _send_by_email(order, settings)
    if email:
        details["SendByEmail"] = email
    payload: dict[str, Any] = {"Details": details}
    if items:
        payload["Items"] = items
    if mode is not None:
        if mode.per_item:
            payload["VATPerItem"] = True
            payload["VATIncluded"] = False
        else:
            payload["VATIncluded"] = True
            if mode.rate is not None:
                payload["VATRate"] = float(mode.rate)
    if payment is not None and doc_type in PAYMENT_TYPES:
        payload["Payments"] = [payment]
    if original_document_id is not None:
        payload["OriginalDocumentID"] = int(original_document_id)
    return payload


def receipt_reference(store: str, order_id: int) -> str:
    """`woo:<host/path>:<order_id>:receipt`: the Receipt for cash collected after an Invoice."""
    return f"{external_reference(store, order_id)}:receipt"


def build_receipt_document(order: Mapping[str, Any], *, store: str, settings: DocumentSettings,
                           original_document_id: int, customer_id: int | None, today: date,
                           credited: Decimal | float | str = ZERO) -> DocumentRequest | Parked | NotCredited:
    """The Receipt (type 2) for the cash of an order invoiced at payment (a gateway rule `invoice`).

    SUMIT's API description puts payments on receipts and items on invoices: the Receipt carries one
    payment for what the customer paid (the order total less what was already credited) and no item
    lines, so the stock moves once, with the Invoice. `OriginalDocumentID` links the Invoice.
    """
    order_id = _order_id(order)
    original = _positive_id(original_document_id, "original_document_id")
    try:
        currency = _currency(order, settings)
        amount = _money(order.get("total"), "the order total") - abs(_money(credited, "the credited amount"))
    except _Park as exc:
        return Parked(order_id, str(exc))
    if amount <= 0:
        return NotCredited(order_id, "nothing left to collect: the order was credited in full before it was completed")
    reference = receipt_reference(store, order_id)
    description = f"Payment for WooCommerce order #{_order_label(order)}"
    customer = {"ID": int(customer_id)} if customer_id else _customer(order, settings)
    payload = _payload(RECEIPT, order, settings, currency, today, description, reference, None, None, StoreTax(),
                       customer=customer, payment=payment_entry(order, amount, currency, settings),
                       original_document_id=original)
    return DocumentRequest(order_id, reference, payload, float(amount), 0, False)


# --- Credit documents ----------------------------------------------------------------------------


def _refunded_item_id(line: Mapping[str, Any]) -> int:
    return _as_int(_meta(line, "_refunded_item_id"))


def _restocked_quantity(order_line: Mapping[str, Any] | None) -> int | None:
    """How many units of an order line Woo put back in stock through refunds, in all; None: unknown.

    Woo records restocked units on the order line as `_restock_refunded_items`, a running total over
    every refund of the line. A line whose stock Woo tracked (`_reduced_stock` present) without that
    meta was not restocked. With neither meta Woo did not track the product's stock.
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
                          prior_refunds: Sequence[Mapping[str, Any]] = (), store_tax: StoreTax | None = None,
                          customer_id: int | None = None, sale_amount: Decimal | float | str | None = None,
                          credited: Decimal | float | str = ZERO, returned_units: Mapping[int, int] | None = None,
                          cancellation_credited: bool = False,
                          sold_units: Mapping[int, int] | None = None) -> DocumentRequest | Parked | NotCredited:
    """The credit document for a refund, or for the cancellation of the whole order.

    - `refund` (a wc/v3 refund object): credits its line items (`_refunded_item_id` names the order
      line), shipping and fee lines; the part of `amount` on no line is one `refund_label` line.
    - `refund=None`: the order was cancelled; the credit is what the earlier credits left of the sale
      (`sale_amount` − `credited`), on the lines the `prior_refunds` (the credited refunds) left.
    - Limits: a refund after the cancellation credit (`cancellation_credited`), or one that would take
      the credits past `sale_amount` (default: the order total), is `NotCredited`.
    - Stock: units go back on a product's card as WooCommerce restocked them. `returned_units` (order
      line id -> units the earlier credits returned) and the running total `_restock_refunded_items`
      give this refund's share; `restock=True/False` overrides for the whole refund. A cancellation
      returns every unit Woo no longer holds for the line (Woo restores stock on cancel), counting the
      units the sale document sold (`sold_units`, order line id -> units) when the order was edited.
    - Type: `settings.credit_type`, or the credit type of `original_type`. Customer: the sale
      document's card (`customer_id`) when known. Sign: `settings.credit_sign`.
    """
    store_tax = store_tax or StoreTax()
    order_id = _order_id(order)
    og_item_ids = _id_map(og_item_ids)
    returned = {_as_int(k): int(v) for k, v in (returned_units or {}).items()}
    # A wrong original id or type is the caller's bug, not the order's: ValueError, not Parked.
    original = _positive_id(original_document_id, "original_document_id")
    credit_type = settings.credit_type_for(original_type)
    try:
        if order_id <= 0:
            raise _Park(f"the order has no valid id ({order.get('id')!r})")
        currency = _currency(order, settings)
        sale_total = _money(order.get("total"), "the order total") if sale_amount in (None, "") else \
            abs(_money(sale_amount, "the sale document's amount"))
        already = abs(_money(credited, "the credited amount"))
        order_lines = {_as_int(ln.get("id")): ln for ln in order.get("line_items") or () if _as_int(ln.get("id"))}
        notes: list[str] = []
        tz = ZoneInfo(settings.timezone)
        if refund is None:
            total = sale_total - already
            if total <= 0:
                return NotCredited(order_id, f"cancelled after refunds that already credited the whole sale "
                                             f"({already} of {sale_total}); nothing more to credit")
            reference = credit_reference(store, order_id, "cancel")
            lines = _cancel_lines(order, og_item_ids, settings, prior_refunds, returned, sold_units)
            rest = total - sum((ln.gross for ln in lines), ZERO)
            if abs(rest) > CENT * max(len(lines), 1):
                # Credited amounts that were on no line (amount-only refunds): their VAT leaves too.
                lines.append(_Line(f"{settings.refund_label}: already credited", 1, rest,
                                   _unplaced_vat(order, rest), _refund_item(settings)))
            wanted = today
            description = f"Cancellation of WooCommerce order #{_order_label(order)}"
            prefix = "Cancellation"
        else:
            refund_id = _as_int(refund.get("id"))
            if refund_id <= 0:
                raise _Park(f"the refund has no valid id ({refund.get('id')!r})")
            total = abs(_money(refund.get("amount"), "the refund amount"))
            if cancellation_credited:
                return NotCredited(order_id, f"refund #{refund_id} ({total}) was entered after the order's "
                                             "cancellation credit, which already credited the whole sale; "
                                             "recorded, not credited again")
            if already + total - sale_total > HALF_CENT:
                return NotCredited(order_id, f"refund #{refund_id} ({total}) would take the order's credits to "
                                             f"{already + total}, past its sale document ({sale_total}); recorded, "
                                             "not credited: check the refunds in WooCommerce")
            reference = credit_reference(store, order_id, refund_id)
            lines = _refund_lines(refund, order, order_lines, og_item_ids, settings, restock, notes, returned)
            wanted = _local_date(refund, "date_created", tz) or today
            reason = _text(refund.get("reason"))
            description = f"Refund #{refund_id} of WooCommerce order #{_order_label(order)}" + (
                f": {reason}" if reason else "")
            prefix = "Refund"
        if total <= 0:
            raise _Park("nothing left to credit (the amount is 0 or was already credited)")
        doc_date, replaced = _document_date(wanted, settings, today)
    except _Park as exc:
        return Parked(order_id, str(exc))
    if replaced:
        description += f" (refunded {wanted.isoformat()}; dated today: OfficeGuy refuses dates more than " \
                       f"{settings.max_past_days} days back)"
    sign = settings.credit_sign
    mode = _vat_mode(lines, total, order, store_tax)
    items, vat = _wire_lines(lines, mode, currency, sign, total, settings.refund_label, _refund_item(settings))
    customer = {"ID": int(customer_id)} if customer_id else _customer(order, settings)
    payment = payment_entry(order, sign * total, currency, settings, prefix) if credit_type in PAYMENT_TYPES else None
    payload = _payload(credit_type, order, settings, currency, doc_date, description, reference, items, mode,
                       store_tax, customer=customer, payment=payment, original_document_id=original)
    stock = tuple({"line_id": ln.stock[0], "product_id": ln.stock[1], "variation_id": ln.stock[2],
                   "quantity": ln.quantity} for ln in lines if ln.stock)
    return DocumentRequest(order_id, reference, payload, float(total), len(items), replaced, tuple(notes),
                           vat=float(max(vat, ZERO)), stock_lines=stock)


def _unplaced_vat(order: Mapping[str, Any], gross: Decimal) -> Decimal:
    """The VAT in a credited amount that is on no order line: the order's own share of VAT in its total
    (order total_tax ÷ order total), so the credits' VAT can never pass the sale's."""
    tax = _money(order.get("total_tax"), "the order's total_tax")
    total = _money(order.get("total"), "the order total")
    if tax == 0 or total <= 0:
        return ZERO
    return _cents(gross * tax / total)


def _refund_lines(refund: Mapping[str, Any], order: Mapping[str, Any], order_lines: Mapping[int, Mapping[str, Any]],
                  og_item_ids: Mapping[int, int], settings: DocumentSettings, restock: bool | None,
                  notes: list[str], returned: dict[int, int]) -> list[_Line]:
    amount = abs(_money(refund.get("amount"), "the refund amount"))
    problems: list[str] = []
    lines: list[_Line] = []
    raw_sum = ZERO
    refund_item = _refund_item(settings)
    for line in refund.get("line_items") or ():
        line_id = _refunded_item_id(line)
        original = order_lines.get(line_id)
        name = _line_name(original or line)
        what = f"refunded line '{name}'"
        gross, tax = (abs(v) for v in _line_amounts(line, what))
        quantity = _quantity(line.get("quantity"))
        if quantity is None:
            problems.append(f"{what} has quantity {line.get('quantity')!r}, not a whole number")
            continue
        quantity = abs(quantity)
        raw_sum += gross
        if quantity == 0:
            if gross:  # money back without goods back: no stock effect
                lines.append(_Line(f"{settings.refund_label}: {name}", 1, gross, tax, refund_item))
            continue
        source = original if original is not None else line
        og_id = _credited_item(source, what, og_item_ids, problems)
        if og_id is None:
            continue
        if restock is None:
            known = _restocked_quantity(original)
            if known is None and _text(order.get("status")) in ("cancelled", "refunded"):
                # the cancellation removed `_reduced_stock`; without `_restock_refunded_items` no refund
                # restocked the line: the cancellation credit returns its units
                known = 0
            back = quantity if known is None else min(quantity, max(known - returned.get(line_id, 0), 0))
        else:
            back = quantity if restock else 0
        returned[line_id] = returned.get(line_id, 0) + back
        description = _line_description(source)
        back_gross = _cents(gross * back / quantity)
        back_tax = _cents(tax * back / quantity)
        if back:
            lines.append(_Line(description, back, back_gross, back_tax, {"ID": int(og_id)}, _stock_key(source)))
        if quantity - back:
            notes.append(f"{quantity - back} × '{name}' refunded without restock in WooCommerce: "
                         "credited without returning OfficeGuy stock")
            lines.append(_Line(f"{description} (not restocked)", quantity - back, gross - back_gross,
                               tax - back_tax, refund_item))
    for line in refund.get("shipping_lines") or ():
        title = _text(line.get("method_title")) or settings.shipping_label
        gross, tax = (abs(v) for v in _line_amounts(line, f"refunded shipping '{title}'"))
        raw_sum += gross
        if gross:
            lines.append(_Line(title, 1, gross, tax, _named_item(settings.shipping_label, settings.shipping_item_id,
                                                                  "shipping")))
    for line in refund.get("fee_lines") or ():
        title = _text(line.get("name")) or settings.fee_label
        gross, tax = _line_amounts(line, f"refunded fee '{title}'")
        raw_sum -= gross  # a refunded fee is negative; a refunded negative fee (discount) is positive
        if gross:
            lines.append(_Line(title, 1, -gross, -tax, _named_item(settings.fee_label, settings.fee_item_id, "fee")))
    if problems:
        raise _Park(_reason(problems))
    if raw_sum - amount > CENT:
        raise _Park(f"the refund's lines add up to {raw_sum} but the refund amount is {amount}; "
                    "credit it by hand")
    if amount - raw_sum > CENT:
        # Part of the amount is on no line (a refund may be an amount only): one line for it.
        rest = amount - raw_sum
        lines.append(_Line(settings.refund_label, 1, rest, _unplaced_vat(order, rest), refund_item))
    return lines


def _cancel_lines(order: Mapping[str, Any], og_item_ids: Mapping[int, int], settings: DocumentSettings,
                  prior_refunds: Sequence[Mapping[str, Any]], returned: Mapping[int, int],
                  sold_units: Mapping[int, int] | None = None) -> list[_Line]:
    """What a cancellation credits: per line, the money the credited refunds left and the units Woo
    no longer holds that no earlier credit returned. A line whose quantity was edited after the sale
    document counts with the units that document sold (`sold_units`), at its price then."""
    refunded: dict[int, tuple[Decimal, Decimal]] = {}
    for prior in prior_refunds:
        for kind in ("line_items", "shipping_lines", "fee_lines"):
            for line in prior.get(kind) or ():
                target = _refunded_item_id(line)
                gross, tax = _line_amounts(line, "a prior refund line")
                old = refunded.get(target, (ZERO, ZERO))
                refunded[target] = (old[0] + gross, old[1] + tax)  # refund lines are negative
    problems: list[str] = []
    lines: list[_Line] = []
    refund_item = _refund_item(settings)
    for line in order.get("line_items") or ():
        name = _line_name(line)
        quantity = _quantity(line.get("quantity"))
        if not quantity or quantity < 0:
            continue
        line_id = _as_int(line.get("id"))
        gross, tax = _line_amounts(line, f"line '{name}'")
        sold = (sold_units or {}).get(line_id)
        if sold is not None and sold != quantity:
            gross, tax = _cents(gross * sold / quantity), _cents(tax * sold / quantity)
            quantity = sold
            if not quantity:
                continue
        less = refunded.get(line_id, (ZERO, ZERO))
        gross, tax = max(gross + less[0], ZERO), max(tax + less[1], ZERO)
        held = max(_quantity(_meta(line, "_reduced_stock")) or 0, 0) if _has_meta(line, "_reduced_stock") else 0
        back = max(quantity - returned.get(line_id, 0) - held, 0)
        description = _line_description(line)
        if back:
            og_id = _credited_item(line, f"line '{name}'", og_item_ids, problems)
            if og_id is None:
                continue
            lines.append(_Line(description, back, gross, tax, {"ID": int(og_id)}, _stock_key(line)))
        elif gross:
            lines.append(_Line(f"{description} (not restocked)", 1, gross, tax, refund_item))
    for kind, label, item_id, title_key, service in (
            ("shipping_lines", settings.shipping_label, settings.shipping_item_id, "method_title", "shipping"),
            ("fee_lines", settings.fee_label, settings.fee_item_id, "name", "fee")):
        for line in order.get(kind) or ():
            title = _text(line.get(title_key)) or label
            gross, tax = _line_amounts(line, title)
            less = refunded.get(_as_int(line.get("id")), (ZERO, ZERO))
            gross, tax = gross + less[0], tax + less[1]
            if gross:
                lines.append(_Line(title, 1, gross, tax, _named_item(label, item_id, service)))
    if problems:
        raise _Park(_reason(problems))
    return lines


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
                       holder_of: Mapping[int, int],
                       returned_units: Mapping[int, Mapping[int, int]] | None = None,
                       sold_units: Mapping[int, Mapping[int, int]] | None = None) -> dict[int, int]:
    """Units WooCommerce's stock and OfficeGuy's differ by because a document is not there yet (I3).

    Positive: units that left Woo stock for orders OfficeGuy has no sale document for yet:
    - only orders in processing, on-hold or completed (Woo reduces stock on the move to these and
      restores it on cancelled/pending) whose id is not in `documented_order_ids` (a parked order
      is not documented, so it still counts); lines with a product;
    - the units Woo still holds back for the line: its `_reduced_stock` meta when present (Woo's own
      record, already lowered by restocking refunds); otherwise the quantity less the restocked
      units (`_restock_refunded_items`, or the units of embedded refund line items).
    Negative: units Woo put back (a restocking refund, a cancellation) on an order whose sale IS
    documented, while the credit that returns them to OfficeGuy is not there yet: Woo put back what its
    refunds restocked (`_restock_refunded_items`), or, once cancelled, all it held for the line (the
    units the sale document sold, `sold_units[order id][line id]`, when known: a quantity raised after
    Woo reduced stock moved nothing); OfficeGuy got back what the documented credits returned
    (`returned_units[order id][line id]`). Without this the next stock
    sync would overwrite the restocked units with OfficeGuy's older figure.
    Booked on the Woo id that holds the stock: `holder_of[woo id]` (a variation whose parent manages
    stock maps to the parent) or the line's own Woo id. Unmanaged products are counted too; the stock
    plan ignores them.
    """
    holder_of = _id_map(holder_of)
    documented = {_as_int(i) for i in documented_order_ids}
    returned = {_as_int(k): {_as_int(a): int(b) for a, b in v.items()} for k, v in (returned_units or {}).items()}
    pending: dict[int, int] = {}

    def book(line: Mapping[str, Any], units: int) -> None:
        woo_id = _woo_id(line)
        holder = int(holder_of.get(woo_id, woo_id))
        pending[holder] = pending.get(holder, 0) + units

    for order in orders:
        status = _text(order.get("status"))
        order_id = _order_id(order)
        lines = [ln for ln in order.get("line_items") or () if _as_int(ln.get("product_id"))]
        if order_id in documented:
            back = returned.get(order_id, {})
            sold = {_as_int(a): int(b) for a, b in ((sold_units or {}).get(order_id) or {}).items()}
            for line in lines:
                quantity = sold.get(_as_int(line.get("id")), _quantity(line.get("quantity")) or 0)
                restocked = max(_quantity(_meta(line, "_restock_refunded_items")) or 0, 0)
                if _has_meta(line, "_reduced_stock"):
                    woo_back = restocked
                elif status in ("cancelled", "refunded"):
                    woo_back = quantity  # Woo restored what it held; `_reduced_stock` is gone
                elif _has_meta(line, "_restock_refunded_items"):
                    woo_back = restocked
                else:
                    continue  # Woo never tracked this line's stock
                woo_back = min(max(woo_back, 0), quantity)
                missing = woo_back - back.get(_as_int(line.get("id")), 0)
                if missing > 0:
                    book(line, -missing)
            continue
        if status not in STOCK_REDUCING_STATUSES:
            continue
        refunded = _embedded_refunded_quantities(order)
        for line in lines:
            held = _held_quantity(line, refunded.get(_as_int(line.get("id")), 0))
            if held > 0:
                book(line, held)
    return {k: v for k, v in pending.items() if v}


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
