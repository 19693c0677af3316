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
# Only the three currencies whose enum numbers the reference gives (1.4: ILS=0, USD=1, EUR=2).
CURRENCIES = {"ILS": 0, "USD": 1, "EUR": 2}

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
