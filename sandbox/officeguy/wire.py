"""The OfficeGuy wire format: enums, field parsing and localized business errors.

Enums arrive as integers, digit strings or names (officeguy-api.md 1.4); names are matched
case-insensitively, as .NET's enum binding does. Numbers may arrive as JSON numbers or numeric
strings (the plugin sends ``"VATIncluded": "true"`` and string types). Every refusal is an
``ApiError`` whose message exists in Hebrew and English (``Content-Language``, 1.1).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

DOCUMENT_TYPES = {
    "Invoice": 0, "InvoiceAndReceipt": 1, "Receipt": 2, "ProformaInvoice": 3, "DonationReceipt": 4,
    "CreditInvoice": 5, "CreditInvoiceAndReceipt": 6, "CreditReceipt": 7, "Order": 8,
    "DeliveryNote": 9, "GoodsReturnNote": 10, "PurchasingOrder": 11, "PriceQuotation": 12,
    "PaymentRequest": 13, "CreditDonationReceipt": 14,
}
# 15-22 are the expense and supplier types: valid enum values that documents/create refuses
# with "Document type not supported" (1.4, FLOW's live test of Type 16).
EXPENSE_TYPES = range(15, 23)
ITEM_SEARCH_MODES = {"Automatic": 0, "None": 1, "ExternalIdentifier": 2, "Name": 3, "SKU": 4, "Description": 5}
CUSTOMER_SEARCH_MODES = {
    "Automatic": 0, "None": 1, "ExternalIdentifier": 2, "Name": 3, "CompanyNumber": 4, "Phone": 5,
    "EmailAddress": 6,
}
LANGUAGES = {"Hebrew": 0, "English": 1, "Arabic": 2, "Spanish": 3}
# Accounting_Typed_DocumentCurrency, all 155 values (sumit-swagger-facts 3.1): 0-15 are SUMIT's own
# numbers (7 unused; EUR is 2, not ISO 978), from 32 up the ISO-4217 numeric code.
CURRENCIES = {
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
HOME_CURRENCY = 0  # ILS
# The sandbox has no exchange-rate feed: a fixed rate per currency turns document-currency amounts
# into ILS (CompanyValue, the ILS fields of getdetails). USD 3.6 and EUR 3.9 are what tests were
# written against; a few more are near real; every other currency counts 1 ILS per unit.
ILS_RATES: dict[int, float] = {code: 1.0 for code in CURRENCIES.values()} | {
    0: 1.0, 1: 3.6, 2: 3.9, 3: 2.6, 4: 4.1, 5: 4.6, 6: 2.4, 8: 0.024,
}
CURRENCY_CODES = {number: code for code, number in CURRENCIES.items()}

# Accounting_Typed_DocumentPaymentType (sumit-swagger-facts 1.4); each kind but Automatic has its
# Details_<kind> object, whose fields are listed here with how they are read.
PAYMENT_TYPES = {
    "Automatic": 0, "General": 1, "Cash": 2, "BankTransfer": 3, "Cheque": 4, "CreditCard": 5, "Digital": 6,
    "TaxWithholding": 7, "Other": 8,
}
PAYMENT_DETAILS: dict[str, dict[str, str]] = {
    "Details_General": {},
    "Details_Cash": {},
    "Details_BankTransfer": {"BankNumber": "integer", "BranchNumber": "integer", "AccountNumber": "text",
                             "Reference": "text", "DueDate": "date"},
    "Details_Cheque": {"BankNumber": "integer", "BranchNumber": "integer", "AccountNumber": "text",
                       "ChequeNumber": "text", "DueDate": "date"},
    "Details_CreditCard": {"CardBrand": "text", "Last4Digits": "text", "FirstPayment": "number",
                           "EachPayment": "number", "Payments": "integer"},
    "Details_Other": {"Type": "text", "Description": "text", "DueDate": "date"},
    "Details_Digital": {"Type": "text", "Description": "text"},
    "Details_TaxWithholding": {},
}

# additionalProperties: false (sumit-swagger-facts 0): the only keys documents/create accepts.
# Customer and IncomeItem (Items[].Item) are open schemas and take anything.
CREATE_KEYS = frozenset({
    "Credentials", "Details", "Items", "Payments", "VATIncluded", "VATPerItem", "VATRate", "OriginalDocumentID",
    "ResponseLanguage",
})
DETAILS_KEYS = frozenset({
    "IsDraft", "Date", "Customer", "SendByEmail", "Language", "Currency", "Type", "Description",
    "ExternalReference", "OpeningText", "OpeningTextHTML", "ClosingText", "ClosingTextHTML", "DueDate",
    "PaymentRequestText", "Properties",
})
ITEM_KEYS = frozenset({
    "Quantity", "UnitPrice", "TotalPrice", "DocumentCurrency_UnitPrice", "DocumentCurrency_TotalPrice", "VAT",
    "DocumentCurrency_VAT", "Item", "Description",
})
PAYMENT_KEYS = frozenset({"Amount", "DocumentCurrency_Amount", "Type", "PaymentElementID", *PAYMENT_DETAILS})
SEND_BY_EMAIL_KEYS = frozenset({"EmailAddress", "Original", "SendAsPaymentRequest"})

MESSAGES: dict[str, tuple[str, str]] = {
    "bad_json": ("גוף הבקשה אינו JSON תקין", "The request body is not valid JSON"),
    "credentials_missing": ("חסרים פרטי הזדהות (Credentials)", "Credentials are missing"),
    "credentials_invalid": (
        "פרטי ההזדהות שגויים: מספר החברה או מפתח ה-API אינם נכונים",
        "Invalid credentials: the CompanyID or the APIKey is wrong",
    ),
    "required": ("השדה {field} הוא שדה חובה", "{field} is required"),
    "invalid": ("ערך לא תקין בשדה {field}: {value}", "Invalid value for {field}: {value}"),
    "page_size": ("גודל העמוד (PageSize) חייב להיות בין 10 ל-1000", "Paging.PageSize must be between 10 and 1000"),
    "start_index": ("StartIndex אינו יכול להיות שלילי", "Paging.StartIndex must not be negative"),
    "type_unsupported": ("סוג המסמך אינו נתמך", "Document type not supported"),
    "no_items": ("יש לציין לפחות שורת פריט אחת", "The document needs at least one item line"),
    "line_item_missing": ("שורה {line}: חסר פריט (Item)", "Line {line}: Item is missing"),
    "line_quantity": ("שורה {line}: הכמות אינה יכולה להיות 0", "Line {line}: Quantity must not be 0"),
    "line_price": ("שורה {line}: חסר מחיר", "Line {line}: UnitPrice or TotalPrice is missing"),
    "line_total": (
        "שורה {line}: הסכום אינו שווה לכמות כפול מחיר היחידה",
        "Line {line}: TotalPrice does not equal Quantity × UnitPrice",
    ),
    "item_id_unknown": ("שורה {line}: לא נמצא פריט מספר {id}", "Line {line}: there is no item with ID {id}"),
    "item_search_value": (
        "שורה {line}: לחיפוש לפי {mode} יש למלא את Item.{mode}",
        "Line {line}: SearchMode {mode} needs Item.{mode}",
    ),
    "item_not_found": (
        "שורה {line}: לא נמצא פריט עם {mode} \"{value}\"",
        "Line {line}: no item has {mode} \"{value}\"",
    ),
    "item_name_required": (
        "שורה {line}: ליצירת פריט חדש יש לציין שם (Item.Name)",
        "Line {line}: Item.Name is required to create a new item",
    ),
    "payments_empty": (
        "רשימת התקבולים (Payments) ריקה; יש להשמיט אותה או למלא תקבול",
        "Payments must not be an empty array; leave it out or add a payment",
    ),
    "payments_required": ("סוג מסמך זה מחייב פרטי תקבול (Payments)", "Payments are required for this document type"),
    "payments_not_allowed": (
        "סוג מסמך זה אינו כולל תקבולים (Payments)",
        "Payments are not allowed on this document type",
    ),
    "payment_method": (
        "תקבול {n}: יש לציין אמצעי תשלום אחד בדיוק (Details_Cash, Details_Other, ...)",
        "Payment {n}: give exactly one payment method (Details_Cash, Details_Other, ...)",
    ),
    "payments_sum": (
        "סכום התקבולים ({paid}) אינו שווה לסכום המסמך ({total})",
        "The payments total ({paid}) does not equal the document total ({total})",
    ),
    "original_unknown": ("מסמך המקור {id} לא נמצא", "Original document {id} was not found"),
    "date_too_old": (
        "לא ניתן להפיק מסמך בתאריך עבר של יותר משלושה ימים. ניתן לאפשר זאת בהגדרות החברה (תאריכי מסמכים מותאמים)",
        "A document may be dated at most 3 days in the past. Enable custom document dates in the company settings to issue older documents",
    ),
    "customer_unknown": ("לקוח מספר {id} לא נמצא", "Customer {id} was not found"),
    "customer_name_required": (
        "ליצירת לקוח חדש יש לציין שם (Customer.Name)",
        "Customer.Name is required to create a new customer",
    ),
    "document_unknown": ("המסמך לא נמצא", "Document not found"),
    "document_key": (
        "יש לציין DocumentID, או DocumentType ו-DocumentNumber",
        "Give DocumentID, or DocumentType and DocumentNumber",
    ),
    "technical": ("אירעה שגיאה טכנית", "A technical error occurred"),
    "unknown_field": ("השדה {field} אינו מוכר", "Unknown field {field}: the request does not accept it"),
    "vat_per_item_conflict": (
        "כאשר VATPerItem פעיל, יש להשאיר את VATRate ריק ואת VATIncluded ריק או false",
        "With VATPerItem, VATRate must be empty and VATIncluded empty or false",
    ),
    "vat_rate_range": ("שיעור המע\"מ (VATRate) חייב להיות בין 0 ל-100", "VATRate must be between 0 and 100"),
    "line_vat_not_per_item": (
        "שורה {line}: ניתן לציין {field} רק כאשר VATPerItem פעיל",
        "Line {line}: {field} can only be specified when using VATPerItem",
    ),
    "line_vat_conflict": (
        "שורה {line}: VAT ו-DocumentCurrency_VAT אינם זהים",
        "Line {line}: VAT and DocumentCurrency_VAT disagree",
    ),
    "line_vat_negative": (
        "שורה {line}: מע\"מ שלילי ({vat}) אינו אפשרי בשורה חיובית במסמך מכירה",
        "Line {line}: a negative VAT ({vat}) is not allowed on a sale line",
    ),
    "line_vat_sign": (
        "שורה {line}: סימן המע\"מ ({vat}) שונה מסימן סכום השורה ({amount})",
        "Line {line}: the VAT ({vat}) must have the sign of the line amount ({amount})",
    ),
    "line_vat_too_large": (
        "שורה {line}: המע\"מ ({vat}) גדול ממחצית סכום השורה ({amount})",
        "Line {line}: the VAT ({vat}) is more than half the line amount ({amount})",
    ),
    "line_vat_exempt": (
        "שורה {line}: הלקוח פטור ממע\"מ (NoVAT) ולכן לא ניתן לציין מע\"מ בשורה",
        "Line {line}: the customer is VAT exempt (NoVAT), so the line cannot carry VAT",
    ),
    "line_ils_price": (
        "שורה {line}: UnitPrice ו-TotalPrice הם בשקלים; במסמך במטבע {currency} יש לציין "
        "DocumentCurrency_UnitPrice או DocumentCurrency_TotalPrice",
        "Line {line}: UnitPrice and TotalPrice are in ILS; a {currency} document needs "
        "DocumentCurrency_UnitPrice or DocumentCurrency_TotalPrice",
    ),
    "payment_ils_amount": (
        "תקבול {n}: Amount הוא בשקלים; במסמך במטבע {currency} יש לציין DocumentCurrency_Amount",
        "Payment {n}: Amount is in ILS; a {currency} document needs DocumentCurrency_Amount",
    ),
    "payment_type_mismatch": (
        "תקבול {n}: סוג התקבול {type} אינו תואם ל-{method}",
        "Payment {n}: payment Type {type} does not match {method}",
    ),
    "send_email_missing": (
        "לשליחת המסמך בדוא\"ל יש לציין כתובת (SendByEmail.EmailAddress) או לשמור כתובת ללקוח",
        "SendByEmail needs an EmailAddress: none was given and the customer has none",
    ),
    "credit_mixed_signs": (
        "מסמך זיכוי נשלח בסימן אחד (חיובי או שלילי): {field} בסימן הפוך לסכום המסמך",
        "A credit document is sent in one sign (positive or negative): {field} has the opposite sign to its total",
    ),
    "credit_zero": (
        "סכום מסמך הזיכוי הוא אפס",
        "The credit document's total is zero",
    ),
    "negative_total": (
        "סכום המסמך ({total}) שלילי; רק מסמך זיכוי יכול להיות שלילי",
        "The document total ({total}) is negative; only a credit document can be negative",
    ),
}


class ApiError(Exception):
    """A business error: HTTP 200, Status 1, the message in the caller's language (1.3)."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def message(self, english: bool) -> str:
        return MESSAGES[self.key][1 if english else 0].format(**self.params)


def message(key: str, english: bool) -> str:
    return MESSAGES[key][1 if english else 0]


def enum(value: Any, names: dict[str, int], field: str, extra: range = range(0)) -> int:
    """An enum given as 1, "1" or "InvoiceAndReceipt" (1.4); ``extra`` admits more integers."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            number = int(text)
        else:
            number = next((v for k, v in names.items() if k.lower() == text.lower()), None)
    if number is None or (number not in names.values() and number not in extra):
        raise ApiError("invalid", field=field, value=value)
    return number


def number(value: Any, field: str) -> float:
    """A decimal from a JSON number or a numeric string; NaN and infinities are refused."""
    if isinstance(value, bool):
        raise ApiError("invalid", field=field, value=value)
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise ApiError("invalid", field=field, value=value) from None
    if not math.isfinite(result):
        raise ApiError("invalid", field=field, value=value)
    return result


def optional_number(value: Any, field: str) -> float | None:
    return None if value is None or value == "" else number(value, field)


def integer(value: Any, field: str) -> int:
    result = number(value, field)
    if result != int(result):
        raise ApiError("invalid", field=field, value=value)
    return int(result)


def boolean(value: Any, field: str, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    raise ApiError("invalid", field=field, value=value)


def text(value: Any, field: str) -> str | None:
    """A string field; empty means absent. Numbers are taken as their text (IDs often are)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ApiError("invalid", field=field, value=value)
    result = str(value).strip()
    return result or None


def date(value: Any, field: str) -> dt.date | None:
    """``2026-01-05`` or ``2026-01-05T10:00:00[Z]``; the calendar date is what counts."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ApiError("invalid", field=field, value=value)
    try:
        return dt.datetime.fromisoformat(value.strip()).date()
    except ValueError:
        raise ApiError("invalid", field=field, value=value) from None


def wire_date(day: dt.date | None) -> str | None:
    """Dates go out the way .NET serializes a DateTime without a zone."""
    return None if day is None else f"{day.isoformat()}T00:00:00"


def mapping(value: Any, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ApiError("invalid", field=field, value=value)
    return value


def strict(value: dict[str, Any], allowed: frozenset[str], field: str) -> None:
    """additionalProperties: false: a key the schema does not name is refused, naming it in full."""
    for key in value:
        if key not in allowed:
            raise ApiError("unknown_field", field=f"{field}.{key}" if field else key)


def paging(body: dict[str, Any]) -> tuple[int, int]:
    """``Paging{StartIndex, PageSize}``: a 0-based offset; PageSize 10 by default, 10..1000 (1.5b)."""
    spec = mapping(body.get("Paging"), "Paging")
    start = integer(spec.get("StartIndex") or 0, "Paging.StartIndex")
    size = integer(spec["PageSize"], "Paging.PageSize") if spec.get("PageSize") is not None else 10
    if start < 0:
        raise ApiError("start_index")
    if not 10 <= size <= 1000:
        raise ApiError("page_size")
    return start, size
