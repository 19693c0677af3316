"""The sale document of a paid order (`build_document`), the card of every line (`resolve_lines`), and
the Receipt for cash collected on an order invoiced earlier (`build_receipt_document`).

Lines. Woo's `total` is after coupons. Zero-value shipping and fee lines are left out. Negative fee
lines (discounts) are allowed. Parked: no lines; product_id 0; a quantity that is not a whole number
above 0; a negative product or shipping total; no OfficeGuy card; lines that do not add up to the
total; a currency SUMIT does not list; no date.

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

`resolve_lines` answers with `LineResolution` (a `LineMatch` per line, a `CardRequest` per card to
create) over OfficeGuy cards shaped as `OgIncomeItemLike`; its docstring states the matching rules.
The customer, payment, date and payload helpers here serve the credits (`credit`) too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from officeguy_woocommerce.include.documents.basics import _meta, _Park, _reason, _text
from officeguy_woocommerce.include.documents.codes import (
    CUSTOMER_SEARCH_EXTERNAL_IDENTIFIER,
    CUSTOMER_SEARCH_NONE,
    HOME_CURRENCY,
    KNOWN_CURRENCIES,
    PAYMENT_TYPES,
    RECEIPT,
    STOCK_HOLDER_KEY,
)
from officeguy_woocommerce.include.documents.lines import (
    _id_map,
    _line_amounts,
    _line_description,
    _line_gross,
    _line_name,
    _order_id,
    _order_label,
    _rounding_item,
    _service_line,
    _service_lines,
    _stock_key,
    _woo_id,
)
from officeguy_woocommerce.include.documents.model import DocumentRequest, DocumentSettings, NotCredited, Parked
from officeguy_woocommerce.include.documents.money import (
    CENT,
    ZERO,
    StoreTax,
    _as_int,
    _Line,
    _money,
    _quantity,
    _vat_mode,
    _VatMode,
    _wire,
    _wire_lines,
)
from officeguy_woocommerce.include.documents.references import _positive_id, external_reference, receipt_reference
from officeguy_woocommerce.include.officeguy_codes import PAYMENT_DETAILS, PaymentType


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
                    f"({', '.join(sorted(settings.currencies))}); document it by hand or add the currency "
                    "to the settings")
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
    for kind in ("shipping", "fee"):
        for title, line in _service_lines(order, kind, settings):
            try:
                gross, tax = _line_amounts(line, f"{kind} '{title}'")
            except _Park as exc:
                problems.append(str(exc))
                continue
            if kind == "shipping" and gross < 0:  # a negative fee is a discount; negative shipping is an error
                problems.append(f"shipping '{title}' has a negative total ({gross}); fix the order or document it "
                                "by hand")
                continue
            raw_sum += gross
            if gross:
                lines.append(_service_line(title, gross, tax, kind, settings))
    return lines, raw_sum


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


class OgIncomeItemLike(Protocol):
    id: int
    name: str
    sku: str
    external_identifier: str
    price: float | None


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
