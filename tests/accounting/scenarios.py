"""The accounting scenarios as data: per store configuration (a `Group`), each order as it is posted
to WooCommerce, what WooCommerce must make of it (total, total_tax), its later events (refunds,
status changes, an edit) and the OfficeGuy documents it must become.

Every amount below is worked by hand from WooCommerce 9.4.3's arithmetic (IL VAT 18% on the
standard class, 0% on zero-rate, line taxes rounded per line) and from the rules in the module
docstring of `include/documents/`; nothing was copied from a run.

Expected document (`Doc`):
- `doc`: "sale", "receipt", "refund1", "refund2" (the scenario's refunds in the order they were
  made) or "cancel".
- `type`: SUMIT document type (0 Invoice, 1 InvoiceAndReceipt, 2 Receipt, 5 CreditInvoice,
  6 CreditInvoiceAndReceipt).
- `vat_mode`: "rate" (VATIncluded with VATRate 18: OfficeGuy computed it at 18% although the
  company default is 17%), "rate0" (VATIncluded, VATRate 0, the customer not exempt: a credit of
  zero-rated lines only), "per_item" (VATPerItem, net prices and each line's VAT), "no_vat"
  (VATRate 0 and Customer.NoVAT), "default" (no VATRate sent: OfficeGuy applied the company
  default, 17% in these sandboxes), None (a receipt without lines).
- `gross`, `vat`: the document's totals as OfficeGuy stored them (credits as magnitudes).
- `lines`: ((product key or line description, quantity, unit price[, per-item VAT]), ...), or a count.
- `payment`: the payment kind on the document (None: no payments).
- `back`: units the document put back on product cards ({product key: units}); sale documents
  take every sold unit.
- `customer`: customer fields (name, city, company_number, no_vat).
- `credited=False`: a refund that must be recorded but get no document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Product:
    name: str
    price: str
    tax_class: str = ""
    card: str | None = "ext"  # "ext": card with ExternalIdentifier = Woo id; "sku": card with the SKU only; None: none


@dataclass(frozen=True)
class Event:
    stage: int  # the run it comes before (2 or 3)
    kind: str  # "refund", "status", "edit"
    status: str = ""
    lines: tuple = ()  # refund: ((key, qty, refund_total, refund_tax), ...); edit: ((key, new qty), ...)
    shipping: tuple = ()  # refund: ((shipping line index, refund_total, refund_tax), ...)
    fees: tuple = ()  # refund: ((fee line index, refund_total, refund_tax), ...)
    amount: str | None = None  # refund amount; None: the lines' sum
    restock: bool = True  # api_restock
    reason: str = ""


@dataclass(frozen=True)
class Doc:
    doc: str
    type: int = 6
    vat_mode: str | None = "rate"
    gross: str = "0.00"
    vat: str | None = None
    lines: tuple | int | None = None
    payment: str | None = None
    back: dict[str, int] = field(default_factory=dict)
    customer: dict[str, Any] = field(default_factory=dict)
    credited: bool = True
    reason: str = ""  # credited=False: words the recorded reason must contain


@dataclass(frozen=True)
class Scenario:
    name: str
    rule: str
    products: dict[str, Product]
    order: dict[str, Any]  # POST /orders body; line_items: [{"product": key, "quantity": n}]
    woo: tuple[str, str]  # (total, total_tax) WooCommerce must give the order
    expected: tuple[Doc, ...]
    events: tuple[Event, ...] = ()
    same_customer_as: str | None = None
    parked: tuple[str, ...] = ()  # words the run report and ledger must give for a parked order
    bug: str | None = None  # a known project defect: the scenario is xfail(strict)


@dataclass(frozen=True)
class Group:
    code: str
    title: str
    store_settings: dict[str, Any]
    tax_rates: tuple[dict[str, Any], ...]
    coupons: tuple[dict[str, Any], ...]
    scenarios: tuple[Scenario, ...]
    company_vat_rate: float = 17.0  # OfficeGuy's company default: not 18, so VATRate 18 is visible


def line(product: str, quantity: int) -> dict[str, Any]:
    return {"product": product, "quantity": quantity}


def ship(title: str, total: str, method: str = "flat_rate") -> dict[str, Any]:
    return {"method_id": method, "method_title": title, "total": total}


def sale(gross: str, vat: str | None, mode: str | None, lines, payment: str | None = "CreditCard", type: int = 1,
         **customer: Any) -> Doc:
    return Doc("sale", type, mode, gross, vat, lines, payment, customer=customer)


def refund(stage: int, *lines, shipping=(), fees=(), restock: bool = True, amount: str | None = None) -> Event:
    return Event(stage, "refund", lines=tuple(lines), shipping=tuple(shipping), fees=tuple(fees), restock=restock,
                 amount=amount, reason="החזרה")


def status(stage: int, value: str) -> Event:
    return Event(stage, "status", status=value)


SHIP = "שליח"  # a courier shipping line's title
RATE_18 = {"country": "IL", "rate": "18", "name": "VAT"}
ZERO_RATE = {"country": "IL", "rate": "0", "name": "VAT 0%", "class": "zero-rate"}
SAVE10 = {"code": "save10", "amount": "10", "discount_type": "percent"}
TEN = {"code": "ten", "amount": "10.00", "discount_type": "fixed_cart"}
FREESHIP = {"code": "freeship", "amount": "0", "discount_type": "fixed_cart", "free_shipping": True}
FIVE = {"code": "five", "amount": "5", "discount_type": "fixed_product"}


# --- Taxes on, prices entered without tax --------------------------------------------------------
# IL 18% everywhere but Eilat: the standard rate names every postcode range except 88000-88999,
# so an Eilat order matches no rate at all and WooCommerce gives it tax_lines [].

EXCLUSIVE = Group(
    code="EX", title="taxes on, prices excl. tax",
    store_settings={"calc_taxes": True, "prices_include_tax": False},
    tax_rates=({**RATE_18, "postcodes": ["1...87999", "89000...9999999"]}, ZERO_RATE),
    coupons=(SAVE10, TEN, FREESHIP),
    scenarios=(
        Scenario(
            "single_18_hebrew_guest", "one rate on every line: VATIncluded, VATRate 18, gross unit prices",
            {"P": Product("ספל קרמיקה", "100.00")},
            {"line_items": [line("P", 2)]}, ("236.00", "36.00"),
            (sale("236.00", "36.00", "rate", (("P", 2, "118.00"),), name="נועה לוי", city="תל אביב", no_vat=False),),
        ),
        Scenario(
            "eilat_no_rate", "Eilat: no rate matches, tax_lines [] -> VATRate 0 and Customer.NoVAT",
            {"P": Product("כובע שמש", "100.00")},
            {"line_items": [line("P", 1)], "billing": {"city": "אילת", "postcode": "88000"},
             "shipping": {"city": "אילת", "postcode": "88000"}}, ("100.00", "0.00"),
            (sale("100.00", "0.00", "no_vat", (("P", 1, "100.00"),), city="אילת", no_vat=True),),
        ),
        Scenario(
            "export_us_english", "export: no tax -> NoVAT; the country is appended to the customer's City",
            {"P": Product("Travel mug", "100.00")},
            {"line_items": [line("P", 1)],
             "billing": {"first_name": "John", "last_name": "Smith", "address_1": "1 Fifth Ave", "city": "New York",
                         "state": "NY", "postcode": "10001", "country": "US"},
             "shipping": {"first_name": "John", "last_name": "Smith", "address_1": "1 Fifth Ave",
                          "city": "New York", "state": "NY", "postcode": "10001", "country": "US"}},
            ("100.00", "0.00"),
            (sale("100.00", "0.00", "no_vat", (("P", 1, "100.00"),), name="John Smith", city="New York, NY, US",
                  no_vat=True),),
        ),
        Scenario(
            "vat_exempt_meta", "is_vat_exempt=yes: no tax -> NoVAT",
            {"P": Product("מחברת", "100.00")},
            {"line_items": [line("P", 2)], "meta_data": [{"key": "is_vat_exempt", "value": "yes"}]},
            ("200.00", "0.00"),
            (sale("200.00", "0.00", "no_vat", (("P", 2, "100.00"),), no_vat=True),),
        ),
        Scenario(
            "mixed_fresh_produce", "18% beside zero-rated produce: VATPerItem, net prices, each line's VAT",
            {"STD": Product("סלסלת קש", "100.00"), "VEG": Product("עגבניות שרי", "12.50", "zero-rate")},
            {"line_items": [line("STD", 1), line("VEG", 2)]}, ("143.00", "18.00"),
            (sale("143.00", "18.00", "per_item", (("STD", 1, "100.00", "18.00"), ("VEG", 2, "12.50", "0.00"))),),
        ),
        Scenario(
            "percent_coupon", "a percent coupon: lines after the discount, one rate",
            {"A": Product("חולצה", "100.00"), "B": Product("גרביים", "50.00")},
            {"line_items": [line("A", 1), line("B", 1)], "coupon_lines": [{"code": "save10"}]},
            ("159.30", "24.30"),
            (sale("159.30", "24.30", "rate", (("A", 1, "106.20"), ("B", 1, "53.10"))),),
        ),
        Scenario(
            "fixed_cart_coupon_pennies", "a fixed-cart coupon split over 3 lines with the pennies: totals exact",
            {"A": Product("מזלג", "10.00"), "B": Product("כף", "20.00"), "C": Product("סכין", "30.00")},
            {"line_items": [line("A", 1), line("B", 1), line("C", 1)], "coupon_lines": [{"code": "ten"}]},
            ("59.00", "9.00"),
            (sale("59.00", "9.00", "rate", (("A", 1, "7.87"), ("B", 1, "19.67"), ("C", 1, "31.46"))),),
        ),
        Scenario(
            "free_shipping_coupon", "a free-shipping coupon: the 0.00 shipping line is left off the document",
            {"P": Product("כרית", "100.00")},
            {"line_items": [line("P", 1)], "coupon_lines": [{"code": "freeship"}],
             "shipping_lines": [ship("משלוח חינם", "0.00", "free_shipping")]}, ("118.00", "18.00"),
            (sale("118.00", "18.00", "rate", (("P", 1, "118.00"),)),),
        ),
        Scenario(
            "several_shipping_lines", "each shipping line is its own document line, taxed",
            {"P": Product("מנורה", "100.00")},
            {"line_items": [line("P", 1)], "shipping_lines": [ship(SHIP, "30.00"), ship("איסוף מנקודה", "15.00")]},
            ("171.10", "26.10"),
            (sale("171.10", "26.10", "rate", (("P", 1, "118.00"), (SHIP, 1, "35.40"), ("איסוף מנקודה", 1, "17.70"))),),
        ),
        Scenario(
            "fees_positive_and_negative", "a fee and a negative fee (discount) are their own lines, with their tax",
            {"P": Product("שעון קיר", "100.00")},
            {"line_items": [line("P", 1)], "fee_lines": [{"name": "עטיפת מתנה", "total": "10.00"},
                                                        {"name": "הנחת מועדון", "total": "-20.00", "tax_status": "none"}]},
            ("106.20", "16.20"),
            (sale("106.20", "16.20", "rate", (("P", 1, "118.00"), ("עטיפת מתנה", 1, "11.80"),
                                              ("הנחת מועדון", 1, "-23.60"))),),
        ),
        Scenario(
            "business_customer", "company billing: Name 'Company - First Last', CompanyNumber from og-citizenid",
            {"P": Product("מדפסת", "100.00")},
            {"line_items": [line("P", 1)], "payment_method": "bacs", "payment_method_title": "העברה בנקאית",
             "billing": {"company": "Acme Ltd", "first_name": "First", "last_name": "Last"},
             "meta_data": [{"key": "og-citizenid", "value": "514123456"}]}, ("118.00", "18.00"),
            (sale("118.00", "18.00", "rate", (("P", 1, "118.00"),), "BankTransfer", name="Acme Ltd - First Last",
                  company_number="514123456"),),
        ),
        Scenario(
            "registered_customer_first", "a registered customer is found by ExternalIdentifier (Woo customer id)",
            {"P": Product("תיק", "100.00")},
            {"line_items": [line("P", 1)], "customer_id": 4242,
             "billing": {"first_name": "יעל", "last_name": "מזרחי", "email": "yael@example.co.il"}},
            ("118.00", "18.00"),
            (sale("118.00", "18.00", "rate", (("P", 1, "118.00"),), name="יעל מזרחי"),),
        ),
        Scenario(
            "registered_customer_again", "the same registered customer's second order: the same OfficeGuy customer",
            {"P": Product("ארנק", "50.00")},
            {"line_items": [line("P", 3)], "customer_id": 4242,
             "billing": {"first_name": "יעל", "last_name": "מזרחי", "email": "yael@example.co.il"}},
            ("177.00", "27.00"),
            (sale("177.00", "27.00", "rate", (("P", 3, "59.00"),), name="יעל מזרחי"),),
            same_customer_as="registered_customer_first",
        ),
        Scenario(
            "english_customer", "an English-named customer in Israel: name as billed, no country in City",
            {"P": Product("Notebook", "100.00")},
            {"line_items": [line("P", 1)], "billing": {"first_name": "Emily", "last_name": "Clark", "city": "Haifa",
                                                       "address_1": "Herzl 1"}},
            ("118.00", "18.00"),
            (sale("118.00", "18.00", "rate", (("P", 1, "118.00"),), name="Emily Clark", city="Haifa"),),
        ),
        Scenario(
            "partial_refund_restocked", "a restocked partial refund: a credit of its line; the unit back on the card",
            {"P": Product("קומקום", "100.00")},
            {"line_items": [line("P", 3)], "shipping_lines": [ship(SHIP, "30.00")]}, ("389.40", "59.40"),
            (sale("389.40", "59.40", "rate", (("P", 3, "118.00"), (SHIP, 1, "35.40"))),
             Doc("refund1", 6, "rate", "118.00", "18.00", (("P", 1, "118.00"),), "CreditCard", {"P": 1})),
            events=(refund(2, ("P", 1, "100.00", "18.00")),),
        ),
        Scenario(
            "partial_refund_not_restocked", "a refund without restock: credited, the unit stays off the card",
            {"P": Product("מטחנה", "100.00")},
            {"line_items": [line("P", 3)]}, ("354.00", "54.00"),
            (sale("354.00", "54.00", "rate", (("P", 3, "118.00"),)),
             Doc("refund1", 6, "rate", "118.00", "18.00", (("מטחנה (not restocked)", 1, "118.00"),), "CreditCard")),
            events=(refund(2, ("P", 1, "100.00", "18.00"), restock=False),),
        ),
        Scenario(
            "two_refunds_first_restocked", "two refunds of one line, only the first restocked: exactly 1 unit back",
            {"P": Product("כוס", "50.00")},
            {"line_items": [line("P", 3)]}, ("177.00", "27.00"),
            (sale("177.00", "27.00", "rate", (("P", 3, "59.00"),)),
             Doc("refund1", 6, "rate", "59.00", "9.00", (("P", 1, "59.00"),), "CreditCard", {"P": 1}),
             Doc("refund2", 6, "rate", "59.00", "9.00", (("כוס (not restocked)", 1, "59.00"),), "CreditCard")),
            events=(refund(2, ("P", 1, "50.00", "9.00")), refund(2, ("P", 1, "50.00", "9.00"), restock=False)),
        ),
        Scenario(
            "full_refund", "a full refund (lines and shipping): one credit equal to the sale, all units back",
            {"P": Product("שמיכה", "100.00")},
            {"line_items": [line("P", 2)], "shipping_lines": [ship(SHIP, "20.00")]}, ("259.60", "39.60"),
            (sale("259.60", "39.60", "rate", (("P", 2, "118.00"), (SHIP, 1, "23.60"))),
             Doc("refund1", 6, "rate", "259.60", "39.60", (("P", 2, "118.00"), (SHIP, 1, "23.60")), "CreditCard",
                 {"P": 2})),
            events=(refund(2, ("P", 2, "200.00", "36.00"), shipping=((0, "20.00", "3.60"),)),),
        ),
        Scenario(
            "paid_then_cancelled", "cancelled after its document: one credit equal to the sale, all stock back",
            {"A": Product("סיר", "100.00"), "B": Product("מחבת", "50.00")},
            {"line_items": [line("A", 2), line("B", 1)], "shipping_lines": [ship(SHIP, "30.00")]},
            ("330.40", "50.40"),
            (sale("330.40", "50.40", "rate", (("A", 2, "118.00"), ("B", 1, "59.00"), (SHIP, 1, "35.40"))),
             Doc("cancel", 6, "rate", "330.40", "50.40", (("A", 2, "118.00"), ("B", 1, "59.00"), (SHIP, 1, "35.40")),
                 "CreditCard", {"A": 2, "B": 1})),
            events=(status(2, "cancelled"),),
        ),
        Scenario(
            "refund_then_cancelled", "partial refund, then cancelled: the cancellation credits the rest",
            {"P": Product("מגבת", "100.00")},
            {"line_items": [line("P", 3)]}, ("354.00", "54.00"),
            (sale("354.00", "54.00", "rate", (("P", 3, "118.00"),)),
             Doc("refund1", 6, "rate", "118.00", "18.00", (("P", 1, "118.00"),), "CreditCard", {"P": 1}),
             Doc("cancel", 6, "rate", "236.00", "36.00", (("P", 2, "118.00"),), "CreditCard", {"P": 2})),
            events=(refund(2, ("P", 1, "100.00", "18.00")), status(2, "cancelled")),
        ),
        Scenario(
            "cancelled_then_refund_entered", "a refund entered after the cancellation credit: recorded, not credited",
            {"P": Product("צלחת", "100.00")},
            {"line_items": [line("P", 2)]}, ("236.00", "36.00"),
            (sale("236.00", "36.00", "rate", (("P", 2, "118.00"),)),
             Doc("cancel", 6, "rate", "236.00", "36.00", (("P", 2, "118.00"),), "CreditCard", {"P": 2}),
             Doc("refund1", credited=False, reason="after the order's cancellation credit")),
            events=(status(2, "cancelled"), refund(3, ("P", 1, "100.00", "18.00"))),
        ),
        Scenario(
            "guest_credit_uses_sale_customer", "a guest's credit goes to the sale document's customer (no new one)",
            {"P": Product("קערה", "80.00")},
            {"line_items": [line("P", 2)], "billing": {"first_name": "אורח", "last_name": "מזדמן"}},
            ("188.80", "28.80"),
            (sale("188.80", "28.80", "rate", (("P", 2, "94.40"),), name="אורח מזדמן"),
             Doc("refund1", 6, "rate", "94.40", "14.40", (("P", 1, "94.40"),), "CreditCard", {"P": 1},
                 customer={"name": "אורח מזדמן"})),
            events=(refund(2, ("P", 1, "80.00", "14.40")),),
        ),
        Scenario(
            "order_edited_after_document", "edited after its document: parked 'changed', both totals, no 2nd sale",
            {"P": Product("שטיח", "100.00")},
            {"line_items": [line("P", 2)]}, ("236.00", "36.00"),
            (sale("236.00", "36.00", "rate", (("P", 2, "118.00"),)),),
            events=(Event(2, "edit", lines=(("P", 3),)),),
            parked=("changed after it was documented", "236.00", "354.00"),
        ),
        Scenario(
            "unknown_product_gets_card", "a product OfficeGuy did not know: a card (ExternalIdentifier = Woo id)",
            {"P": Product("מוצר חדש", "100.00", card=None)},
            {"line_items": [line("P", 1)]}, ("118.00", "18.00"),
            (sale("118.00", "18.00", "rate", (("P", 1, "118.00"),)),),
        ),
        Scenario(
            "send_by_email", "SendByEmail to the billing e-mail",
            {"P": Product("Gift box", "100.00")},
            {"line_items": [line("P", 1)], "billing": {"email": "orders+vip@example.co.il"}}, ("118.00", "18.00"),
            (sale("118.00", "18.00", "rate", (("P", 1, "118.00"),)),),
        ),
        Scenario(
            "vat_exempt_refunded", "the credit of a NoVAT sale is NoVAT too (VATRate 0, no VAT)",
            {"P": Product("מחשבון", "100.00")},
            {"line_items": [line("P", 2)], "meta_data": [{"key": "is_vat_exempt", "value": "yes"}]},
            ("200.00", "0.00"),
            (sale("200.00", "0.00", "no_vat", (("P", 2, "100.00"),), no_vat=True),
             Doc("refund1", 6, "no_vat", "100.00", "0.00", (("P", 1, "100.00"),), "CreditCard", {"P": 1},
                 customer={"no_vat": True})),
            events=(refund(2, ("P", 1, "100.00", "")),),
        ),
        Scenario(
            "fee_refunded", "a refunded fee line is credited on the fee card with its tax",
            {"P": Product("עציץ", "100.00")},
            {"line_items": [line("P", 1)], "fee_lines": [{"name": "עטיפת מתנה", "total": "10.00"}]},
            ("129.80", "19.80"),
            (sale("129.80", "19.80", "rate", (("P", 1, "118.00"), ("עטיפת מתנה", 1, "11.80"))),
             Doc("refund1", 6, "rate", "11.80", "1.80", (("עטיפת מתנה", 1, "11.80"),), "CreditCard")),
            events=(refund(2, fees=((0, "10.00", "1.80"),)),),
        ),
        Scenario(
            "refund_money_only_on_line", "money back on a line without goods back (quantity 0): no stock moves",
            {"P": Product("ג'קט", "100.00")},
            {"line_items": [line("P", 2)]}, ("236.00", "36.00"),
            (sale("236.00", "36.00", "rate", (("P", 2, "118.00"),)),
             Doc("refund1", 6, "rate", "11.80", "1.80", (("Refund: ג'קט", 1, "11.80"),), "CreditCard")),
            events=(refund(2, ("P", 0, "10.00", "1.80")),),
        ),
        Scenario(
            "refund_then_cancelled_next_run", "refund credited in one run, the cancellation in the next: the rest",
            {"P": Product("מפה", "100.00")},
            {"line_items": [line("P", 3)]}, ("354.00", "54.00"),
            (sale("354.00", "54.00", "rate", (("P", 3, "118.00"),)),
             Doc("refund1", 6, "rate", "118.00", "18.00", (("P", 1, "118.00"),), "CreditCard", {"P": 1}),
             Doc("cancel", 6, "rate", "236.00", "36.00", (("P", 2, "118.00"),), "CreditCard", {"P": 2})),
            events=(refund(2, ("P", 1, "100.00", "18.00")), status(3, "cancelled")),
        ),
        Scenario(
            "mixed_produce_refund_then_cancel", "mixed rates: a zero-rated refund (VATRate 0), then the rest per item",
            {"STD": Product("סל פירות", "100.00"), "VEG": Product("תפוחים", "12.50", "zero-rate")},
            {"line_items": [line("STD", 1), line("VEG", 2)]}, ("143.00", "18.00"),
            (sale("143.00", "18.00", "per_item", (("STD", 1, "100.00", "18.00"), ("VEG", 2, "12.50", "0.00"))),
             Doc("refund1", 6, "rate0", "12.50", "0.00", (("VEG", 1, "12.50"),), "CreditCard", {"VEG": 1}),
             Doc("cancel", 6, "per_item", "130.50", "18.00", (("STD", 1, "100.00", "18.00"), ("VEG", 1, "12.50", "0.00")),
                 "CreditCard", {"STD": 1, "VEG": 1})),
            events=(refund(2, ("VEG", 1, "12.50", "")), status(2, "cancelled")),
        ),
        Scenario(
            "edited_then_cancelled", "edited after its document, then cancelled: the credit reverses the sale (2 units)",
            {"P": Product("פוף", "100.00")},
            {"line_items": [line("P", 2)]}, ("236.00", "36.00"),
            (sale("236.00", "36.00", "rate", (("P", 2, "118.00"),)),
             Doc("cancel", 6, "rate", "236.00", "36.00", (("P", 2, "118.00"),), "CreditCard", {"P": 2})),
            events=(Event(2, "edit", lines=(("P", 3),)), status(2, "cancelled")),
            parked=("changed after it was documented", "236.00", "354.00"),
        ),
        Scenario(
            "refund_not_restocked_then_cancelled", "a refund without restock, then cancelled: every unit Woo restored back",
            {"P": Product("קערת סלט", "100.00")},
            {"line_items": [line("P", 3)]}, ("354.00", "54.00"),
            (sale("354.00", "54.00", "rate", (("P", 3, "118.00"),)),
             Doc("refund1", 6, "rate", "118.00", "18.00", (("קערת סלט (not restocked)", 1, "118.00"),), "CreditCard"),
             Doc("cancel", 6, "rate", "236.00", "36.00", (("P", 3, "78.67"), ("Refund", 1, "-0.01")), "CreditCard",
                 {"P": 3})),
            events=(refund(2, ("P", 1, "100.00", "18.00"), restock=False), status(2, "cancelled")),
        ),
        Scenario(
            "refund_not_restocked_then_cancelled_next_run", "the same with the cancellation a run later: exact",
            {"P": Product("קערת פירות", "100.00")},
            {"line_items": [line("P", 3)]}, ("354.00", "54.00"),
            (sale("354.00", "54.00", "rate", (("P", 3, "118.00"),)),
             Doc("refund1", 6, "rate", "118.00", "18.00", (("קערת פירות (not restocked)", 1, "118.00"),), "CreditCard"),
             Doc("cancel", 6, "rate", "236.00", "36.00", (("P", 3, "78.67"), ("Refund", 1, "-0.01")), "CreditCard",
                 {"P": 3})),
            events=(refund(2, ("P", 1, "100.00", "18.00"), restock=False), status(3, "cancelled")),
        ),
        Scenario(
            "two_refunds_second_restocked_next_run", "two refunds of one line in two runs, only the second restocked",
            {"P": Product("קנקן", "50.00")},
            {"line_items": [line("P", 3)]}, ("177.00", "27.00"),
            (sale("177.00", "27.00", "rate", (("P", 3, "59.00"),)),
             Doc("refund1", 6, "rate", "59.00", "9.00", (("קנקן (not restocked)", 1, "59.00"),), "CreditCard"),
             Doc("refund2", 6, "rate", "59.00", "9.00", (("P", 1, "59.00"),), "CreditCard", {"P": 1})),
            events=(refund(2, ("P", 1, "50.00", "9.00"), restock=False), refund(3, ("P", 1, "50.00", "9.00"))),
        ),
        Scenario(
            "bacs_on_hold_then_paid", "a bacs order on-hold is not documented; once processing it is (BankTransfer)",
            {"P": Product("מחצלת", "100.00")},
            {"line_items": [line("P", 1)], "status": "on-hold", "payment_method": "bacs",
             "payment_method_title": "העברה בנקאית"}, ("118.00", "18.00"),
            (sale("118.00", "18.00", "rate", (("P", 1, "118.00"),), "BankTransfer"),),
            events=(status(2, "processing"),),
        ),
        Scenario(
            "refund_before_first_run", "refunded before it was ever documented: the sale, then its credit, one run",
            {"P": Product("סל כביסה", "100.00")},
            {"line_items": [line("P", 2)]}, ("236.00", "36.00"),
            (sale("236.00", "36.00", "rate", (("P", 2, "118.00"),)),
             Doc("refund1", 6, "rate", "118.00", "18.00", (("P", 1, "118.00"),), "CreditCard", {"P": 1})),
            events=(refund(1, ("P", 1, "100.00", "18.00")),),
        ),
    ),
)


# --- Taxes on, prices entered with tax -----------------------------------------------------------

INCLUSIVE = Group(
    code="IN", title="taxes on, prices incl. tax",
    store_settings={"calc_taxes": True, "prices_include_tax": True},
    tax_rates=(RATE_18, ZERO_RATE, {"country": "IL", "rate": "0", "name": "Eilat", "postcodes": ["88*"]}),
    coupons=(SAVE10,),
    scenarios=(
        Scenario(
            "incl_single_18_bacs", "prices incl. tax, one rate: VATRate 18; bacs -> BankTransfer payment",
            {"P": Product("קפה", "117.00")},
            {"line_items": [line("P", 1)], "payment_method": "bacs", "payment_method_title": "העברה בנקאית"},
            ("117.00", "17.85"),
            (sale("117.00", "17.85", "rate", (("P", 1, "117.00"),), "BankTransfer"),),
        ),
        Scenario(
            "incl_per_line_rounding", "3 lines of 9.99 incl.: Woo's per-line tax (4.56) is not OfficeGuy's 4.57 -> per item",
            {"A": Product("עט כחול", "9.99"), "B": Product("עט אדום", "9.99"), "C": Product("עט ירוק", "9.99")},
            {"line_items": [line("A", 1), line("B", 1), line("C", 1)]}, ("29.97", "4.56"),
            (sale("29.97", "4.56", "per_item", (("A", 1, "8.47", "1.52"), ("B", 1, "8.47", "1.52"),
                                                ("C", 1, "8.47", "1.52"))),),
        ),
        Scenario(
            "incl_three_units_one_line", "3 x 9.99 incl. on one line: the VAT agrees (4.57) -> VATRate 18, exact",
            {"P": Product("מחק", "9.99")},
            {"line_items": [line("P", 3)]}, ("29.97", "4.57"),
            (sale("29.97", "4.57", "rate", (("P", 3, "9.99"),)),),
        ),
        Scenario(
            "incl_percent_coupon", "a percent coupon on a tax-inclusive price",
            {"P": Product("חולצה", "117.00")},
            {"line_items": [line("P", 1)], "coupon_lines": [{"code": "save10"}]}, ("105.30", "16.06"),
            (sale("105.30", "16.06", "rate", (("P", 1, "105.30"),)),),
        ),
        Scenario(
            "incl_mixed_fresh_produce", "prices incl. tax, 18% beside 0%: VATPerItem",
            {"STD": Product("שמן זית", "117.00"), "VEG": Product("מלפפונים", "20.00", "zero-rate")},
            {"line_items": [line("STD", 1), line("VEG", 2)]}, ("157.00", "17.85"),
            (sale("157.00", "17.85", "per_item", (("STD", 1, "99.15", "17.85"), ("VEG", 2, "20.00", "0.00"))),),
        ),
        Scenario(
            "incl_taxed_shipping", "a shipping line taxed at 18% beside a tax-inclusive price",
            {"P": Product("מאוורר", "117.00")},
            {"line_items": [line("P", 1)], "shipping_lines": [ship(SHIP, "30.00")]}, ("152.40", "23.25"),
            (sale("152.40", "23.25", "rate", (("P", 1, "117.00"), (SHIP, 1, "35.40"))),),
        ),
        Scenario(
            "usd_order", "a USD order: DocumentCurrency fields, the document in USD",
            {"P": Product("Headphones", "117.00")},
            {"line_items": [line("P", 1)], "currency": "USD",
             "billing": {"first_name": "Michael", "last_name": "Brown", "city": "Tel Aviv"}}, ("117.00", "17.85"),
            (sale("117.00", "17.85", "rate", (("P", 1, "117.00"),), name="Michael Brown"),),
        ),
        Scenario(
            "gbp_order_paypal", "a GBP order paid by PayPal: the document in GBP, a Digital payment",
            {"P": Product("Scarf", "59.00")},
            {"line_items": [line("P", 2)], "currency": "GBP", "payment_method": "paypal",
             "payment_method_title": "PayPal"}, ("118.00", "18.00"),
            (sale("118.00", "18.00", "rate", (("P", 2, "59.00"),), "Digital"),),
        ),
        Scenario(
            "cod_invoice_then_receipt", "COD: Invoice at processing; at completed a Receipt (no lines, Cash)",
            {"P": Product("שולחן", "117.00")},
            {"line_items": [line("P", 2)], "payment_method": "cod", "payment_method_title": "מזומן במסירה",
             "status": "processing"}, ("234.00", "35.69"),
            (sale("234.00", "35.69", "rate", (("P", 2, "117.00"),), None, type=0),
             Doc("receipt", 2, None, "234.00", None, 0, "Cash")),
            events=(status(2, "completed"),),
        ),
        Scenario(
            "paypal_digital", "PayPal -> a Digital payment",
            {"P": Product("ספר", "117.00")},
            {"line_items": [line("P", 1)], "payment_method": "paypal", "payment_method_title": "PayPal"},
            ("117.00", "17.85"),
            (sale("117.00", "17.85", "rate", (("P", 1, "117.00"),), "Digital"),),
        ),
        Scenario(
            "incl_eilat_zero_rate", "Eilat with a 0% rate on prices incl. tax: base tax off, VATRate 0 + NoVAT",
            {"P": Product("משקפי שמש", "117.00")},
            {"line_items": [line("P", 1)], "billing": {"city": "אילת", "postcode": "88000"},
             "shipping": {"city": "אילת", "postcode": "88000"}}, ("99.15", "0.00"),
            (sale("99.15", "0.00", "no_vat", (("P", 1, "99.15"),), no_vat=True),),
        ),
        Scenario(
            "incl_refund_amount_only", "a refund of an amount on no line: one 'Refund' line with the order's VAT share",
            {"P": Product("כורסה", "117.00")},
            {"line_items": [line("P", 2)]}, ("234.00", "35.69"),
            (sale("234.00", "35.69", "rate", (("P", 2, "117.00"),)),
             Doc("refund1", 6, "rate", "20.00", "3.05", (("Refund", 1, "20.00"),), "CreditCard")),
            events=(refund(2, amount="20.00"),),
        ),
        Scenario(
            "cod_cancelled_before_cash", "a COD invoice cancelled: a CreditInvoice (type 5) without payment",
            {"P": Product("מדף", "117.00")},
            {"line_items": [line("P", 1)], "payment_method": "cod", "payment_method_title": "מזומן במסירה",
             "status": "processing"}, ("117.00", "17.85"),
            (sale("117.00", "17.85", "rate", (("P", 1, "117.00"),), None, type=0),
             Doc("cancel", 5, "rate", "117.00", "17.85", (("P", 1, "117.00"),), None, {"P": 1})),
            events=(status(2, "cancelled"),),
        ),
        Scenario(
            "incl_refund_shipping_only", "a refund of the shipping line only: credited on the shipping card",
            {"P": Product("מזרן", "117.00")},
            {"line_items": [line("P", 1)], "shipping_lines": [ship(SHIP, "30.00")]}, ("152.40", "23.25"),
            (sale("152.40", "23.25", "rate", (("P", 1, "117.00"), (SHIP, 1, "35.40"))),
             Doc("refund1", 6, "rate", "35.40", "5.40", ((SHIP, 1, "35.40"),), "CreditCard")),
            events=(refund(2, shipping=((0, "30.00", "5.40"),)),),
        ),
        Scenario(
            "cod_refund_before_completion", "COD: an item refunded before delivery; the Receipt is the cash collected",
            {"P": Product("ארון", "117.00")},
            {"line_items": [line("P", 2)], "payment_method": "cod", "payment_method_title": "מזומן במסירה",
             "status": "processing"}, ("234.00", "35.69"),
            (sale("234.00", "35.69", "rate", (("P", 2, "117.00"),), None, type=0),
             Doc("refund1", 5, "rate", "117.00", "17.85", (("P", 1, "117.00"),), None, {"P": 1}),
             Doc("receipt", 2, None, "117.00", None, 0, "Cash")),
            events=(refund(2, ("P", 1, "99.15", "17.85")), status(2, "completed")),
        ),
        Scenario(
            "cod_completed_then_cancelled", "COD collected, then cancelled: a CreditInvoiceAndReceipt paying the cash back",
            {"P": Product("כוננית", "117.00")},
            {"line_items": [line("P", 1)], "payment_method": "cod", "payment_method_title": "מזומן במסירה",
             "status": "processing"}, ("117.00", "17.85"),
            (sale("117.00", "17.85", "rate", (("P", 1, "117.00"),), None, type=0),
             Doc("receipt", 2, None, "117.00", None, 0, "Cash"),
             Doc("cancel", 6, "rate", "117.00", "17.85", (("P", 1, "117.00"),), "Cash", {"P": 1})),
            events=(status(2, "completed"), status(3, "cancelled")),
        ),
        Scenario(
            "usd_partial_refund", "a USD order's refund: the credit in USD too",
            {"P": Product("Speaker", "117.00")},
            {"line_items": [line("P", 2)], "currency": "USD"}, ("234.00", "35.69"),
            (sale("234.00", "35.69", "rate", (("P", 2, "117.00"),)),
             Doc("refund1", 6, "rate", "117.00", "17.85", (("P", 1, "117.00"),), "CreditCard", {"P": 1})),
            events=(refund(2, ("P", 1, "99.15", "17.85")),),
        ),
        Scenario(
            "incl_per_line_rounding_cancelled", "the per-item sale cancelled: a per-item credit with the same VAT",
            {"A": Product("עט כחול", "9.99"), "B": Product("עט אדום", "9.99"), "C": Product("עט ירוק", "9.99")},
            {"line_items": [line("A", 1), line("B", 1), line("C", 1)]}, ("29.97", "4.56"),
            (sale("29.97", "4.56", "per_item", (("A", 1, "8.47", "1.52"), ("B", 1, "8.47", "1.52"),
                                                ("C", 1, "8.47", "1.52"))),
             Doc("cancel", 6, "per_item", "29.97", "4.56", (("A", 1, "8.47", "1.52"), ("B", 1, "8.47", "1.52"),
                                                            ("C", 1, "8.47", "1.52")), "CreditCard",
                 {"A": 1, "B": 1, "C": 1})),
            events=(status(2, "cancelled"),),
        ),
        Scenario(
            "incl_full_refund_amount_only", "a full refund as an amount only: one 'Refund' line, equal to the sale",
            {"P": Product("מנורת לילה", "117.00")},
            {"line_items": [line("P", 2)]}, ("234.00", "35.69"),
            (sale("234.00", "35.69", "rate", (("P", 2, "117.00"),)),
             Doc("refund1", 6, "rate", "234.00", "35.69", (("Refund", 1, "234.00"),), "CreditCard")),
            events=(refund(2, amount="234.00"),),
        ),
        Scenario(
            "cod_refund_then_completed_next_run", "COD refund credited (CreditInvoice) before completion: Receipt = the rest",
            {"P": Product("ספה", "117.00")},
            {"line_items": [line("P", 2)], "payment_method": "cod", "payment_method_title": "מזומן במסירה",
             "status": "processing"}, ("234.00", "35.69"),
            (sale("234.00", "35.69", "rate", (("P", 2, "117.00"),), None, type=0),
             Doc("refund1", 5, "rate", "117.00", "17.85", (("P", 1, "117.00"),), None, {"P": 1}),
             Doc("receipt", 2, None, "117.00", None, 0, "Cash")),
            events=(refund(2, ("P", 1, "99.15", "17.85")), status(3, "completed")),
        ),
        Scenario(
            "incl_mixed_rounding_line", "per-item with 3 x 8.47 net != 25.40: a Rounding line with VAT 0",
            {"STD": Product("עט", "9.99"), "VEG": Product("גזר", "5.00", "zero-rate")},
            {"line_items": [line("STD", 3), line("VEG", 1)]}, ("34.97", "4.57"),
            (sale("34.97", "4.57", "per_item", (("STD", 3, "8.47", "4.57"), ("VEG", 1, "5.00", "0.00"),
                                                ("Rounding", 1, "-0.01", "0.00"))),),
        ),
        Scenario(
            "usd_mixed_produce", "a USD order with mixed rates: per-item VAT in the document's currency",
            {"STD": Product("Olive oil", "117.00"), "VEG": Product("Cucumbers", "20.00", "zero-rate")},
            {"line_items": [line("STD", 1), line("VEG", 2)], "currency": "USD"}, ("157.00", "17.85"),
            (sale("157.00", "17.85", "per_item", (("STD", 1, "99.15", "17.85"), ("VEG", 2, "20.00", "0.00"))),),
        ),
    ),
)


# --- Taxes off -----------------------------------------------------------------------------------

PLAIN = Group(
    code="NT", title="taxes off (company default VAT)",
    store_settings={"calc_taxes": False},
    tax_rates=(),
    coupons=(TEN, FIVE),
    scenarios=(
        Scenario(
            "plain_no_vat_rate_sent", "taxes off: no VATRate, VATIncluded; OfficeGuy applies its default (17%)",
            {"P": Product("כיסא", "100.00")},
            {"line_items": [line("P", 2)]}, ("200.00", "0.00"),
            (sale("200.00", "29.06", "default", (("P", 2, "100.00"),), no_vat=False),),
        ),
        Scenario(
            "plain_200_lines_cards_by_flow", "200 lines of products OfficeGuy did not know: 200 lines, 200 cards",
            {f"P{n:03d}": Product(f"פריט {n:03d}", "5.00", card=None) for n in range(200)},
            {"line_items": [line(f"P{n:03d}", 1) for n in range(200)]}, ("1000.00", "0.00"),
            (sale("1000.00", "145.30", "default", 200),),
        ),
        Scenario(
            "plain_card_found_by_sku", "a card with the product's SKU (no ExternalIdentifier) is used, none made",
            {"P": Product("מדפסת לייזר", "60.00", card="sku")},
            {"line_items": [line("P", 1)]}, ("60.00", "0.00"),
            (sale("60.00", "8.72", "default", (("P", 1, "60.00"),)),),
        ),
        Scenario(
            "plain_fixed_cart_coupon_pennies", "fixed-cart coupon over 3 lines without tax: the pennies land exactly",
            {"A": Product("מזלג", "10.00"), "B": Product("כף", "20.00"), "C": Product("סכין", "30.00")},
            {"line_items": [line("A", 1), line("B", 1), line("C", 1)], "coupon_lines": [{"code": "ten"}]},
            ("50.00", "0.00"),
            (sale("50.00", "7.26", "default", (("A", 1, "6.67"), ("B", 1, "16.67"), ("C", 1, "26.66"))),),
        ),
        Scenario(
            "plain_fixed_product_coupon", "a fixed-product coupon: the unit price after the discount",
            {"P": Product("מברשת", "20.00")},
            {"line_items": [line("P", 3)], "coupon_lines": [{"code": "five"}]}, ("45.00", "0.00"),
            (sale("45.00", "6.54", "default", (("P", 3, "15.00"),)),),
        ),
        Scenario(
            "plain_negative_fee", "a negative fee without tax: a negative line",
            {"P": Product("שידה", "100.00")},
            {"line_items": [line("P", 1)], "fee_lines": [{"name": "הנחה", "total": "-15.00"}]}, ("85.00", "0.00"),
            (sale("85.00", "12.35", "default", (("P", 1, "100.00"), ("הנחה", 1, "-15.00"))),),
        ),
        Scenario(
            "plain_cancelled_with_shipping", "taxes off, cancelled: the credit equals the sale, no VATRate",
            {"P": Product("מראה", "100.00")},
            {"line_items": [line("P", 1)], "shipping_lines": [ship(SHIP, "25.00")]}, ("125.00", "0.00"),
            (sale("125.00", "18.16", "default", (("P", 1, "100.00"), (SHIP, 1, "25.00"))),
             Doc("cancel", 6, "default", "125.00", "18.16", (("P", 1, "100.00"), (SHIP, 1, "25.00")), "CreditCard",
                 {"P": 1})),
            events=(status(2, "cancelled"),),
        ),
        Scenario(
            "plain_partial_refund_restocked", "taxes off, a restocked partial refund",
            {"P": Product("אגרטל", "40.00")},
            {"line_items": [line("P", 3)]}, ("120.00", "0.00"),
            (sale("120.00", "17.44", "default", (("P", 3, "40.00"),)),
             Doc("refund1", 6, "default", "40.00", "5.81", (("P", 1, "40.00"),), "CreditCard", {"P": 1})),
            events=(refund(2, ("P", 1, "40.00", "")),),
        ),
        Scenario(
            "plain_completed_card_order", "a card-paid order completed later: no receipt, no second document",
            {"P": Product("כרית ישיבה", "100.00")},
            {"line_items": [line("P", 1)]}, ("100.00", "0.00"),
            (sale("100.00", "14.53", "default", (("P", 1, "100.00"),)),),
            events=(status(2, "completed"),),
        ),
        Scenario(
            "plain_rounding_line_cancelled", "20.00 over 3 units: a Rounding line makes the total exact; its credit too",
            {"P": Product("כפית", "10.00")},
            {"line_items": [line("P", 3)], "coupon_lines": [{"code": "ten"}]}, ("20.00", "0.00"),
            (sale("20.00", "2.91", "default", (("P", 3, "6.67"), ("Rounding", 1, "-0.01"))),
             Doc("cancel", 6, "default", "20.00", "2.91", (("P", 3, "6.67"), ("Refund", 1, "-0.01")), "CreditCard",
                 {"P": 3})),
            events=(status(2, "cancelled"),),
        ),
    ),
)

GROUPS = (EXCLUSIVE, INCLUSIVE, PLAIN)
