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
Each rule is stated in full in the docstring of the module that implements it:

- Money (`money`): Woo's money strings become `Decimal`s, sent rounded to 2 places.
- VAT (`money`; a refunded amount on no line: `credit`): no VAT, `VATIncluded` at the order's one
  rate, or `VATPerItem` exactly as Woo taxed each line; one "Rounding" line when the rounded lines
  miss the total.
- Lines (`lines`, `sale`): a line's card is its variation's or product's; shipping, fee, rounding
  and refund lines go on service cards; what parks an order.
- Customer, payments and per-gateway rules (`sale`): the customer from billing, the payment kind by
  gateway, an Invoice at payment and a Receipt for cash collected later.
- Credits (`credit`): refunds and cancellations, never past the sale document, units back as
  WooCommerce restocked them, the sign.
- External references (`references`) and pending quantities, invariant I3 (`pending`).

Modules
-------
`codes` (document, credit and payment types, languages, currencies, the service-card prefix, the
stock-reducing statuses, limits; the enums are `include/officeguy_codes.py`'s), `model` (settings and
results), `references`, `money` (parsers, cents, `StoreTax` and the VAT mode, wire lines), `lines` (Woo's
order lines, read the same way by every builder), `common` (text, meta, the `_Park` signal), `sale`
(with the records of `resolve_lines`), `credit`, `pending`. Imports run one way: codes, common < model,
money < lines < sale < credit; `references` (codes only) serves sale and credit; `pending` reads lines
and money.
"""

from __future__ import annotations

from officeguy_woocommerce.include.documents.codes import (
    CREDIT_INVOICE,
    CREDIT_INVOICE_AND_RECEIPT,
    CREDIT_RECEIPT,
    CUSTOMER_SEARCH_EXTERNAL_IDENTIFIER,
    CUSTOMER_SEARCH_NONE,
    DEFAULT_CREDIT_TYPE,
    DEFAULT_GATEWAY_RULES,
    DEFAULT_PAYMENT_KINDS,
    HOME_CURRENCY,
    INVOICE,
    INVOICE_AND_RECEIPT,
    ITEM_SEARCH_AUTOMATIC,
    KNOWN_CURRENCIES,
    LANGUAGES,
    MAX_REFERENCE_LENGTH,
    MAX_STORE_KEY_LENGTH,
    PAYMENT_TYPES,
    RECEIPT,
    SALE_TYPES,
    SERVICE_CARD_PREFIX,
    STOCK_HOLDER_KEY,
    STOCK_REDUCING_STATUSES,
)
from officeguy_woocommerce.include.documents.credit import build_credit_document
from officeguy_woocommerce.include.documents.model import DocumentRequest, DocumentSettings, NotCredited, Parked
from officeguy_woocommerce.include.documents.money import CENT, HALF_CENT, ZERO, StoreTax
from officeguy_woocommerce.include.documents.pending import pending_quantities
from officeguy_woocommerce.include.documents.references import credit_reference, external_reference, receipt_reference
from officeguy_woocommerce.include.documents.sale import (
    CardRequest,
    LineMatch,
    LineResolution,
    OgIncomeItemLike,
    build_document,
    build_receipt_document,
    payment_entry,
    resolve_lines,
)

__all__ = [
    "CENT",
    "CREDIT_INVOICE",
    "CREDIT_INVOICE_AND_RECEIPT",
    "CREDIT_RECEIPT",
    "CUSTOMER_SEARCH_EXTERNAL_IDENTIFIER",
    "CUSTOMER_SEARCH_NONE",
    "DEFAULT_CREDIT_TYPE",
    "DEFAULT_GATEWAY_RULES",
    "DEFAULT_PAYMENT_KINDS",
    "HALF_CENT",
    "HOME_CURRENCY",
    "INVOICE",
    "INVOICE_AND_RECEIPT",
    "ITEM_SEARCH_AUTOMATIC",
    "KNOWN_CURRENCIES",
    "LANGUAGES",
    "MAX_REFERENCE_LENGTH",
    "MAX_STORE_KEY_LENGTH",
    "PAYMENT_TYPES",
    "RECEIPT",
    "SALE_TYPES",
    "SERVICE_CARD_PREFIX",
    "STOCK_HOLDER_KEY",
    "STOCK_REDUCING_STATUSES",
    "ZERO",
    "CardRequest",
    "DocumentRequest",
    "DocumentSettings",
    "LineMatch",
    "LineResolution",
    "NotCredited",
    "OgIncomeItemLike",
    "Parked",
    "StoreTax",
    "build_credit_document",
    "build_document",
    "build_receipt_document",
    "credit_reference",
    "external_reference",
    "payment_entry",
    "pending_quantities",
    "receipt_reference",
    "resolve_lines",
]
