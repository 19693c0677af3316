"""The credit document (types 5/6/7) for a refund or the cancellation of an order (`build_credit_document`).

Credits (types 5/6/7 with `OriginalDocumentID`): a refund credits its lines, shipping and fees, and the
part of the amount on no line as one "Refund" line; a cancellation credits what the refunds left. The
credits of an order never exceed its sale document and, once it is cancelled, equal it; a refund that
would go past it (e.g. entered after the cancellation credit) is `NotCredited` and reported. Units go
back on a product's card exactly as WooCommerce restocked them (`_restock_refunded_items` is a running
total per line: each credit returns what that total grew by since the earlier credits); a cancellation
returns every unit WooCommerce no longer holds. The sign: `credit_sign` -1 (default) sends credit
prices, VAT and payments negative, +1 positive (README's accounting section has the evidence).

VAT: a refunded amount that is on no line carries the order's own share of VAT (total_tax ÷ total);
otherwise a credit states VAT as a sale does (`money`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from officeguy_woocommerce.include.documents.basics import _has_meta, _meta, _Park, _reason, _text
from officeguy_woocommerce.include.documents.codes import PAYMENT_TYPES
from officeguy_woocommerce.include.documents.lines import (
    _id_map,
    _line_amounts,
    _line_description,
    _line_name,
    _named_item,
    _order_id,
    _order_label,
    _refund_item,
    _refunded_item_id,
    _service_line,
    _service_lines,
    _stock_key,
    _woo_id,
)
from officeguy_woocommerce.include.documents.model import DocumentRequest, DocumentSettings, NotCredited, Parked
from officeguy_woocommerce.include.documents.money import (
    CENT,
    HALF_CENT,
    ZERO,
    StoreTax,
    _as_int,
    _cents,
    _Line,
    _money,
    _quantity,
    _vat_mode,
    _wire_lines,
)
from officeguy_woocommerce.include.documents.references import _positive_id, credit_reference
from officeguy_woocommerce.include.documents.sale import (
    _currency,
    _customer,
    _document_date,
    _local_date,
    _payload,
    payment_entry,
)


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
    for title, line in _service_lines(refund, "shipping", settings):
        gross, tax = (abs(v) for v in _line_amounts(line, f"refunded shipping '{title}'"))
        raw_sum += gross
        if gross:
            lines.append(_service_line(title, gross, tax, "shipping", settings))
    for title, line in _service_lines(refund, "fee", settings):
        gross, tax = _line_amounts(line, f"refunded fee '{title}'")
        raw_sum -= gross  # a refunded fee is negative; a refunded negative fee (discount) is positive
        if gross:
            lines.append(_service_line(title, -gross, -tax, "fee", settings))
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
