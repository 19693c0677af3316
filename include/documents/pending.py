"""Invariant I3: the units WooCommerce's stock and OfficeGuy's differ by because a document is not
there yet (`pending_quantities`: sold units of undocumented orders, positive; units Woo put back
before their credit, negative). Its docstring states the rules."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from officeguy_woocommerce.include.documents.basics import _has_meta, _meta, _text
from officeguy_woocommerce.include.documents.codes import STOCK_REDUCING_STATUSES
from officeguy_woocommerce.include.documents.lines import _id_map, _order_id, _refunded_item_id, _woo_id
from officeguy_woocommerce.include.documents.money import _as_int, _quantity


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
