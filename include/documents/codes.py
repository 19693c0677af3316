"""The codes the document builders use: document, credit and payment types, languages, currencies,
the service-card prefix, the stock-reducing statuses and the reference limits.

The enumerations themselves are `include/officeguy_codes.py`'s (defined once, as SUMIT lists them);
this module names the subsets and defaults the builders need.
"""

from __future__ import annotations

from types import MappingProxyType

from officeguy_woocommerce.include.officeguy_codes import CURRENCIES, DocumentType, Language, PaymentType

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
LANGUAGES = tuple(int(language) for language in Language)  # (0, 1, 2, 3): Hebrew, English, Arabic, Spanish
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

# Set by the orders flow on a line whose variation's stock its parent manages: the parent's Woo id.
STOCK_HOLDER_KEY = "_stock_holder_id"
