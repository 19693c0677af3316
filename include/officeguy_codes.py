"""OfficeGuy (SUMIT) enumerations, defined once: what the API description (SUMIT's Swagger) lists.

Every enum is sent as its integer (the Swagger writes them "Name (N)"; its examples send integers).

- Document types (`Details.Type`): Invoice 0, InvoiceAndReceipt 1, Receipt 2, ... CreditReceipt 7.
- Payment types (`Payments[].Type`): Automatic 0, General 1, Cash 2, BankTransfer 3, Cheque 4,
  CreditCard 5, Digital 6, TaxWithholding 7, Other 8; each has its own `Details_*` object.
- Languages (`Details.Language`): Hebrew 0, English 1, Arabic 2, Spanish 3.
- Currencies (`Details.Currency`): 155 values; ILS is 0 (not 376), codes 0-15 are SUMIT's own
  (7 unused), from 32 up the number is the ISO-4217 numeric code.
"""

from __future__ import annotations

from enum import IntEnum


class DocumentType(IntEnum):
    INVOICE = 0
    INVOICE_AND_RECEIPT = 1
    RECEIPT = 2
    PROFORMA_INVOICE = 3
    DONATION_RECEIPT = 4
    CREDIT_INVOICE = 5
    CREDIT_INVOICE_AND_RECEIPT = 6
    CREDIT_RECEIPT = 7
    ORDER = 8
    DELIVERY_NOTE = 9
    GOODS_RETURN_NOTE = 10
    PURCHASING_ORDER = 11


DOCUMENT_TYPE_NAMES = {0: "Invoice", 1: "InvoiceAndReceipt", 2: "Receipt", 5: "CreditInvoice",
                       6: "CreditInvoiceAndReceipt", 7: "CreditReceipt"}


class PaymentType(IntEnum):
    AUTOMATIC = 0
    GENERAL = 1
    CASH = 2
    BANK_TRANSFER = 3
    CHEQUE = 4
    CREDIT_CARD = 5
    DIGITAL = 6
    TAX_WITHHOLDING = 7
    OTHER = 8


# The Details_* object that goes with each payment type (Swagger Accounting_Typed_DocumentPayment).
PAYMENT_DETAILS = {
    PaymentType.GENERAL: "Details_General", PaymentType.CASH: "Details_Cash",
    PaymentType.BANK_TRANSFER: "Details_BankTransfer", PaymentType.CHEQUE: "Details_Cheque",
    PaymentType.CREDIT_CARD: "Details_CreditCard", PaymentType.DIGITAL: "Details_Digital",
    PaymentType.OTHER: "Details_Other",
}


class Language(IntEnum):
    HEBREW = 0
    ENGLISH = 1
    ARABIC = 2
    SPANISH = 3


# Accounting_Typed_DocumentCurrency, ISO code -> SUMIT's number (sumit-swagger-facts.md 3.1).
CURRENCIES: dict[str, int] = {
    "ILS": 0, "USD": 1, "EUR": 2, "CAD": 3, "CHF": 4, "GBP": 5, "AUD": 6, "JPY": 8, "SEK": 9, "NOK": 10,
    "DKK": 11, "ZAR": 12, "JOD": 13, "LBP": 14, "EGP": 15, "ARS": 32, "BSD": 44, "BHD": 48, "BDT": 50, "AMD": 51,
    "BBD": 52, "BMD": 60, "BTN": 64, "BOB": 68, "BWP": 72, "BZD": 84, "SBD": 90, "BND": 96, "MMK": 104, "BIF": 108,
    "KHR": 116, "CVE": 132, "KYD": 136, "LKR": 144, "CLP": 152, "CNY": 156, "COP": 170, "KMF": 174, "CRC": 188, "HRK": 191,
    "CUP": 192, "CZK": 203, "DOP": 214, "SVC": 222, "ETB": 230, "ERN": 232, "FKP": 238, "FJD": 242, "DJF": 262, "GMD": 270,
    "GIP": 292, "GTQ": 320, "GNF": 324, "GYD": 328, "HTG": 332, "HNL": 340, "HKD": 344, "HUF": 348, "ISK": 352, "INR": 356,
    "IDR": 360, "IRR": 364, "IQD": 368, "JMD": 388, "KZT": 398, "KES": 404, "KPW": 408, "KRW": 410, "KWD": 414, "KGS": 417,
    "LAK": 418, "LSL": 426, "LRD": 430, "LYD": 434, "MOP": 446, "MWK": 454, "MYR": 458, "MVR": 462, "MUR": 480, "MXN": 484,
    "MNT": 496, "MDL": 498, "MAD": 504, "OMR": 512, "NAD": 516, "NPR": 524, "ANG": 532, "AWG": 533, "VUV": 548, "NZD": 554,
    "NIO": 558, "NGN": 566, "PKR": 586, "PAB": 590, "PGK": 598, "PYG": 600, "PEN": 604, "PHP": 608, "QAR": 634, "RUB": 643,
    "RWF": 646, "SHP": 654, "SAR": 682, "SCR": 690, "SLL": 694, "SGD": 702, "VND": 704, "SOS": 706, "SZL": 748, "SYP": 760,
    "THB": 764, "TOP": 776, "TTD": 780, "AED": 784, "TND": 788, "UGX": 800, "MKD": 807, "TZS": 834, "UYU": 858, "UZS": 860,
    "WST": 882, "YER": 886, "TWD": 901, "CUC": 931, "ZWL": 932, "BYN": 933, "TMT": 934, "GHS": 936, "SDG": 938, "RSD": 941,
    "MZN": 943, "AZN": 944, "RON": 946, "TRY": 949, "XAF": 950, "XCD": 951, "XOF": 952, "XPF": 953, "XAU": 959, "XDR": 960,
    "XAG": 961, "ZMW": 967, "SRD": 968, "MGA": 969, "AFN": 971, "TJS": 972, "AOA": 973, "BGN": 975, "CDF": 976, "BAM": 977,
    "UAH": 980, "GEL": 981, "PLN": 985, "BRL": 986, "CLF": 990,
}
