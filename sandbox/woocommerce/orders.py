"""Orders, order notes and refunds (woocommerce-api.md A5), with the stock they move and their money.

The order life cycle follows WooCommerce: ``set_status`` records a transition; saving the order
runs it (``status_transition``): the ``woocommerce_order_status_<to>`` hooks reduce stock (to
processing / completed / on-hold, once per order and once per line) or restore it (to cancelled /
pending), then the "Order status changed from A to B." note is added. ``set_paid`` is
``payment_complete()``: date_paid, then processing. Shapes and key orders: orders rec 71, notes
rec 73, refunds rec 84.

Money is WooCommerce's (totals.py): a create runs ``calculate_totals()``, an update does when
billing, shipping or any lines are sent; taxes when ``woocommerce_calc_taxes`` is "yes" (tax rates
from taxes.py; with prices entered with tax a new line's total is the price less the store base's
tax, ``wc_get_price_excluding_tax``), ``prices_include_tax`` fixed at creation; ``coupon_lines``
are applied like the V3 controller's ``calculate_coupons`` (coupons.py). An invalid coupon answers
400 ``woocommerce_rest_invalid_coupon`` *after* the order was saved without it, as on a real store
(the create has made a pending order; the update has saved its other changes). Refunds carry
``refund_tax`` per rate and refund shipping and fee lines through ``line_items`` by item id.

Deliberately simpler than real: no customers, no payment gateways; shipping and fee items use no
hidden item-meta ids (product, tax and coupon items do, so visible meta ids stay real); a quantity
change on an existing line re-prices it (WooCommerce keeps its old totals unless new ones are sent).
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from sqlalchemy import String, cast, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from sandbox.woocommerce import coupons as C  # noqa: N812
from sandbox.woocommerce import products as P
from sandbox.woocommerce import settings as S  # noqa: N812
from sandbox.woocommerce import totals as TT  # noqa: N812
from sandbox.woocommerce.errors import RestError, invalid_id
from sandbox.woocommerce.products import Ctx
from sandbox.woocommerce.store import iso, notes, orders, refunds
from sandbox.woocommerce.wcmath import money, number, php_number, to_float, wc_format_decimal

ORDER_STATUSES = ["auto-draft", "pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed",
                  "checkout-draft"]  # rec 95's message, in that order
STATUS_NAMES = {
    "pending": "Pending payment", "processing": "Processing", "on-hold": "On hold", "completed": "Completed",
    "cancelled": "Cancelled", "refunded": "Refunded", "failed": "Failed", "checkout-draft": "Draft",
    "auto-draft": "Auto-draft", "trash": "Trash",
}
REDUCE_ON = ("processing", "completed", "on-hold")  # wc_maybe_reduce_stock_levels hooks
RESTORE_ON = ("cancelled", "pending")  # wc_maybe_increase_stock_levels hooks
# Core gateways a REST order may name; none of them can refund through the API.
CORE_GATEWAYS = ("bacs", "cheque", "cod")

BILLING_KEYS = ["first_name", "last_name", "company", "address_1", "address_2", "city", "state", "postcode",
                "country", "email", "phone"]
SHIPPING_KEYS = ["first_name", "last_name", "company", "address_1", "address_2", "city", "state", "postcode",
                 "country", "phone"]

_STR = {"type": "string"}
ORDER_SCHEMA: dict[str, dict[str, Any]] = {
    "parent_id": {"type": "integer"}, "status": {"type": "string", "enum": ORDER_STATUSES}, "currency": _STR,
    "customer_id": {"type": "integer"}, "customer_note": _STR, "billing": {"type": "object"},
    "shipping": {"type": "object"}, "payment_method": _STR, "payment_method_title": _STR, "transaction_id": _STR,
    "meta_data": {"type": "array"}, "line_items": {"type": "array"}, "shipping_lines": {"type": "array"},
    "fee_lines": {"type": "array"}, "coupon_lines": {"type": "array"}, "set_paid": {"type": "boolean"},
}
ORDER_LIST_SCHEMA: dict[str, dict[str, Any]] = {
    "context": {"type": "string", "enum": ["view", "edit"]},
    "page": {"type": "integer", "minimum": 1}, "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
    "search": _STR, "after": {"type": "string", "format": "date-time"},
    "before": {"type": "string", "format": "date-time"},
    "modified_after": {"type": "string", "format": "date-time"},
    "modified_before": {"type": "string", "format": "date-time"}, "dates_are_gmt": {"type": "boolean"},
    "exclude": {"type": "array", "items": {"type": "integer"}}, "include": {"type": "array", "items": {"type": "integer"}},
    "offset": {"type": "integer"}, "order": {"type": "string", "enum": ["asc", "desc"]},
    "orderby": {"type": "string", "enum": ["date", "id", "include", "title", "slug", "modified"]},
    "parent": {"type": "array", "items": {"type": "integer"}},
    "parent_exclude": {"type": "array", "items": {"type": "integer"}},
    "status": {"type": "array", "items": {"type": "string", "enum": ["any", "trash", *ORDER_STATUSES]}},
    "customer": {"type": "integer"}, "product": {"type": "integer"}, "dp": {"type": "integer"},
}
REFUND_SCHEMA: dict[str, dict[str, Any]] = {
    "amount": _STR, "reason": _STR, "refunded_by": {"type": "integer"}, "meta_data": {"type": "array"},
    "line_items": {"type": "array"}, "api_refund": {"type": "boolean"}, "api_restock": {"type": "boolean"},
}
NOTE_SCHEMA: dict[str, dict[str, Any]] = {
    "note": _STR, "customer_note": {"type": "boolean"}, "added_by_user": {"type": "boolean"},
}


def _float(value: Any) -> float:
    return to_float(value)


# ----------------------------------------------------------------------------------------------
# Reading

def get_order(conn: Connection, order_id: Any) -> dict[str, Any] | None:
    row = conn.execute(select(orders).where(orders.c.id == P._as_id(order_id))).mappings().first()
    if row is None:
        return None
    order = dict(row)
    order["data"] = dict(order["data"])
    return order


def _must_order(conn: Connection, order_id: Any, status: int = 404) -> dict[str, Any]:
    order = get_order(conn, order_id)
    if order is None:
        raise invalid_id("shop_order", status)
    return order


def _local(ctx: Ctx, gmt: str | None) -> str | None:
    return iso(ctx.store.local_of(gmt)) if gmt else None


def order_view(ctx: Ctx, conn: Connection, order: dict[str, Any]) -> dict[str, Any]:
    d = order["data"]
    status = order["status"]
    refund_rows = conn.execute(
        select(refunds.c.id, refunds.c.data).where(refunds.c.order_id == order["id"]).order_by(refunds.c.id.desc())
    ).all()
    total = _float(d["total"])
    needs_processing = any(line.get("needs_processing") for line in d["line_items"])
    return {
        "id": order["id"], "parent_id": order["parent_id"], "status": status, "currency": d["currency"],
        "version": "9.4.3", "prices_include_tax": bool(d.get("prices_include_tax", False)),
        "date_created": iso(order["created_local"]), "date_modified": iso(order["modified_local"]),
        "discount_total": money(d.get("discount_total")), "discount_tax": money(d.get("discount_tax")),
        "shipping_total": money(d["shipping_total"]), "shipping_tax": money(d.get("shipping_tax")),
        "cart_tax": money(d.get("cart_tax")), "total": money(d["total"]), "total_tax": money(d.get("total_tax")),
        "customer_id": order["customer_id"], "order_key": d["order_key"], "billing": d["billing"],
        "shipping": d["shipping"], "payment_method": d["payment_method"],
        "payment_method_title": d["payment_method_title"], "transaction_id": d["transaction_id"],
        "customer_ip_address": "", "customer_user_agent": "", "created_via": d["created_via"],
        "customer_note": d["customer_note"], "date_completed": _local(ctx, d.get("date_completed_gmt")),
        "date_paid": _local(ctx, d.get("date_paid_gmt")), "cart_hash": "", "number": str(order["id"]),
        "meta_data": d["meta_data"],
        "line_items": [_line_view(line) for line in d["line_items"]],
        "tax_lines": [_tax_line_view(line) for line in d.get("tax_lines", [])],
        "shipping_lines": [_shipping_view(line) for line in d["shipping_lines"]],
        "fee_lines": [_fee_view(line) for line in d["fee_lines"]],
        "coupon_lines": [_coupon_view(line) for line in d["coupon_lines"]],
        "refunds": [{"id": rid, "reason": rd["reason"], "total": f"-{rd['amount']}"} for rid, rd in refund_rows],
        "payment_url": f"{ctx.home}/checkout/order-pay/{order['id']}/?pay_for_order=true&key={d['order_key']}",
        "is_editable": status in ("pending", "on-hold", "auto-draft"),
        "needs_payment": status in ("pending", "failed") and total > 0,
        "needs_processing": needs_processing,
        "date_created_gmt": iso(order["created_gmt"]), "date_modified_gmt": iso(order["modified_gmt"]),
        "date_completed_gmt": iso(d.get("date_completed_gmt")), "date_paid_gmt": iso(d.get("date_paid_gmt")),
        "currency_symbol": "$",
        "_links": {
            "self": [{"href": f"{ctx.api}/orders/{order['id']}"}],
            "collection": [{"href": f"{ctx.api}/orders"}],
        },
    }


def _line_view(line: dict[str, Any]) -> dict[str, Any]:
    """A product line (``get_order_item_data``): amounts with 2 decimals, ``taxes`` as stored,
    ``price`` = total / quantity as a JSON number (rec 71)."""
    total = _float(line["total"])
    qty = line["quantity"]
    return {
        "id": line["id"], "name": line["name"], "product_id": line["product_id"],
        "variation_id": line["variation_id"], "quantity": qty, "tax_class": line.get("tax_class", ""),
        "subtotal": money(line["subtotal"]), "subtotal_tax": money(line.get("subtotal_tax")),
        "total": money(line["total"]), "total_tax": money(line.get("total_tax")),
        "taxes": TT.taxes_view(line), "meta_data": line["meta_data"], "sku": line["sku"],
        "price": number(total / qty) if qty else 0, "image": line["image"], "parent_name": line["parent_name"],
    }


def _shipping_view(line: dict[str, Any]) -> dict[str, Any]:
    return {"id": line["id"], "method_title": line["method_title"], "method_id": line["method_id"],
            "instance_id": line["instance_id"], "total": money(line["total"]), "total_tax": money(line.get("total_tax")),
            "taxes": TT.taxes_view(line, with_subtotal=False), "meta_data": line["meta_data"]}


def _fee_view(line: dict[str, Any]) -> dict[str, Any]:
    return {"id": line["id"], "name": line["name"], "tax_class": line["tax_class"], "tax_status": line["tax_status"],
            "amount": line["amount"], "total": money(line["total"]), "total_tax": money(line.get("total_tax")),
            "taxes": TT.taxes_view(line, with_subtotal=False), "meta_data": line["meta_data"]}


def _tax_line_view(line: dict[str, Any]) -> dict[str, Any]:
    return {"id": line["id"], "rate_code": line["rate_code"], "rate_id": line["rate_id"], "label": line["label"],
            "compound": line["compound"], "tax_total": money(line["tax_total"]),
            "shipping_tax_total": money(line["shipping_tax_total"]), "rate_percent": line["rate_percent"],
            "meta_data": line.get("meta_data", [])}


def _coupon_view(line: dict[str, Any]) -> dict[str, Any]:
    """A coupon line: ``discount``/``discount_tax`` as stored (not 2 decimals), then what
    ``coupon_info`` says (V2 ``get_order_item_data``)."""
    if "discount" not in line:  # an order saved before coupons were applied: echoed as posted
        return line
    info = next((m["value"] for m in line["meta_data"] if m["key"] == "coupon_info"), "")
    temp = C.from_short_info(info)["data"]
    return {"id": line["id"], "code": line["code"], "discount": line["discount"], "discount_tax": line["discount_tax"],
            "meta_data": line["meta_data"], "discount_type": temp["discount_type"],
            "nominal_amount": to_float(temp["amount"]), "free_shipping": bool(temp["free_shipping"])}


# ----------------------------------------------------------------------------------------------
# Notes

def add_note(ctx: Ctx, conn: Connection, order_id: int, text: str, customer_note: bool = False,
             author: str = "WooCommerce") -> dict[str, Any]:
    note = {
        "id": ctx.store.next_id(conn, "comment"), "order_id": order_id, "author": author, "note": text,
        "customer_note": customer_note, "created_gmt": ctx.gmt, "created_local": ctx.local,
    }
    conn.execute(insert(notes).values(**note))
    return note


def note_view(ctx: Ctx, note: dict[str, Any]) -> dict[str, Any]:
    oid = note["order_id"]
    return {
        "id": note["id"], "author": note["author"], "date_created": iso(note["created_local"]),
        "date_created_gmt": iso(note["created_gmt"]), "note": note["note"],
        "customer_note": bool(note["customer_note"]),
        "_links": {
            "self": [{"href": f"{ctx.api}/orders/{oid}/notes/{note['id']}"}],
            "collection": [{"href": f"{ctx.api}/orders/{oid}/notes"}],
            "up": [{"href": f"{ctx.api}/orders/{oid}"}],
        },
    }


def list_notes(ctx: Ctx, conn: Connection, order_id: Any, kind: str = "any") -> list[dict[str, Any]]:
    order = get_order(conn, order_id)
    if order is None:
        raise RestError("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404)
    query = select(notes).where(notes.c.order_id == order["id"])
    if kind == "customer":
        query = query.where(notes.c.customer_note.is_(True))
    elif kind == "internal":
        query = query.where(notes.c.customer_note.is_(False))
    # oldest first (rec 73, 77)
    rows = conn.execute(query.order_by(notes.c.id.asc())).mappings()
    return [note_view(ctx, dict(r)) for r in rows]


# ----------------------------------------------------------------------------------------------
# Line items and totals

def _formatted_name(row: dict[str, Any], parent: dict[str, Any] | None) -> str:
    """``get_formatted_name()``: "Name (SKU)" or "Name (#id)"; a variation adds its (here always
    empty, the options being in the name already) description span."""
    ident = row["sku"] or f"#{row['id']}"
    if row["type"] == "variation":
        name = f"{parent['name']} - {P._variation_label(row)}" if parent else row["name"]
        return f'{name} ({ident})<span class="description"></span>'
    return f"{row['name']} ({ident})"


def _find_product(conn: Connection, posted: dict[str, Any]) -> dict[str, Any] | None:
    """``get_product_id``: sku, then variation_id, then product_id (A5: a variation SKU resolves
    the parent and the variation)."""
    if posted.get("sku"):
        c = P.products.c
        product_id = conn.execute(
            select(c.id).where(c.sku == str(posted["sku"]).strip(), c.status != "trash").order_by(c.id).limit(1)
        ).scalar() or 0
    elif posted.get("variation_id"):
        product_id = P._as_id(posted["variation_id"])
    elif posted.get("product_id"):
        product_id = P._as_id(posted["product_id"])
    else:
        raise RestError("woocommerce_rest_required_product_reference", "Product ID or SKU is required.", 400)
    return P.get_row(conn, product_id) if product_id else None


HIDDEN_ITEM_META = 9  # _product_id, _variation_id, _qty, _tax_class, _line_subtotal(_tax), _line_total, _line_tax(_data)


def _new_item_id(ctx: Ctx, conn: Connection) -> int:
    """A new product line's id. Its nine hidden meta rows use up item-meta ids first, which is
    why the first visible meta of item 1 is 19 after item 2 was added (rec 71)."""
    item_id = ctx.store.next_id(conn, "order_item")
    for _ in range(HIDDEN_ITEM_META):
        ctx.store.next_id(conn, "item_meta")
    return item_id


def _new_line(ctx: Ctx, conn: Connection, posted: dict[str, Any], opts: S.Options) -> dict[str, Any]:
    """``prepare_line_items`` for a new line: an unknown product still makes a line, with
    product_id 0 and total 0.00 (rec 98, 99). The product sets the tax class; the totals are
    ``wc_get_price_excluding_tax(product, qty)``."""
    product = _find_product(conn, posted)
    quantity = P.wc_stock_amount(posted.get("quantity", 1))
    line: dict[str, Any] = {
        "id": _new_item_id(ctx, conn), "name": "", "product_id": 0, "variation_id": 0,
        "quantity": quantity, "tax_class": "", "subtotal": "0.00", "subtotal_tax": "0", "total": "0.00",
        "total_tax": "0", "taxes": TT.no_taxes(), "meta_data": [], "sku": None,
        "image": {"id": 0, "src": ""}, "parent_name": None, "needs_processing": False,
    }
    if product is not None:
        parent = P.get_row(conn, product["parent_id"]) if product["type"] == "variation" else None
        line["sku"] = product["sku"]
        line["needs_processing"] = not (
            product["extra"].get("virtual") and product["extra"].get("downloadable"))
        price_total = wc_format_decimal(TT.price_excluding_tax(conn, opts, product, quantity))
        line.update(subtotal=price_total, total=price_total, tax_class=TT.product_tax_class(conn, product))
        if product["type"] == "variation":
            line.update(name=f"{parent['name'] if parent else product['name']} - {P._variation_label(product)}",
                        product_id=product["parent_id"], variation_id=product["id"],
                        parent_name=parent["name"] if parent else None)
            for attr in product["extra"].get("attributes", []):
                line["meta_data"].append({
                    "id": ctx.store.next_id(conn, "item_meta"), "key": attr.get("slug") or P.sanitize_title(attr.get("name", "")),
                    "value": attr.get("option", ""), "display_key": attr.get("name", ""),
                    "display_value": attr.get("option", ""),
                })
        else:
            line.update(name=product["name"], product_id=product["id"], image={"id": "", "src": ""})
    for key in ("name", "tax_class"):
        if posted.get(key) is not None:
            line[key] = str(posted[key])
    for key in ("total", "subtotal"):
        if posted.get(key) is not None:
            line[key] = wc_format_decimal(posted[key])
    return line


def _line_meta(line: dict[str, Any], key: str) -> str | None:
    return next((m["value"] for m in line["meta_data"] if m["key"] == key), None)


def _set_line_meta(ctx: Ctx, conn: Connection, line: dict[str, Any], key: str, value: Any) -> None:
    for meta in line["meta_data"]:
        if meta["key"] == key:
            meta["value"] = meta["display_value"] = str(value)
            return
    line["meta_data"].append({"id": ctx.store.next_id(conn, "item_meta"), "key": key, "value": str(value),
                              "display_key": key, "display_value": str(value)})


def _del_line_meta(line: dict[str, Any], key: str) -> None:
    line["meta_data"] = [m for m in line["meta_data"] if m["key"] != key]


def _extra_line(ctx: Ctx, conn: Connection, posted: dict[str, Any], kind: str) -> dict[str, Any]:
    """A new shipping or fee line (``prepare_shipping_lines`` / ``prepare_fee_lines``)."""
    total = wc_format_decimal(posted.get("total", 0))
    base = {"id": ctx.store.next_id(conn, "order_item")}
    if kind == "shipping":
        return {**base, "method_title": str(posted.get("method_title", "")), "method_id": str(posted.get("method_id", "")),
                "instance_id": str(posted.get("instance_id", "")), "total": total, "total_tax": "0",
                "taxes": TT.no_taxes(), "meta_data": []}
    status = posted.get("tax_status", "taxable")
    return {**base, "name": str(posted.get("name", "")), "tax_class": str(posted.get("tax_class", "") or ""),
            "tax_status": status if status in ("taxable", "none") else "taxable",
            "amount": str(posted.get("amount", posted.get("total", ""))), "total": total, "total_tax": "0",
            "taxes": TT.no_taxes(), "meta_data": []}


def _update_extra_line(line: dict[str, Any], posted: dict[str, Any], kind: str) -> None:
    keys = ("method_id", "method_title", "instance_id") if kind == "shipping" else ("name", "tax_class", "tax_status")
    for key in keys:
        if posted.get(key) is not None:
            line[key] = str(posted[key])
    if posted.get("total") is not None:
        line["total"] = wc_format_decimal(posted["total"])


def _item_is_null(posted: dict[str, Any]) -> bool:
    return all(value is None for key, value in posted.items() if key != "id")


def _apply_lines(ctx: Ctx, conn: Connection, d: dict[str, Any], req: dict[str, Any], opts: S.Options) -> None:
    """Add, change or remove lines: quantity 0 or an item with nothing but its ``id``
    (``item_is_null``) removes it."""
    for posted in req.get("line_items") or []:
        if not isinstance(posted, dict):
            continue
        existing = next((line for line in d["line_items"] if posted.get("id") and line["id"] == P._as_id(posted["id"])), None)
        if existing is not None and _item_is_null(posted):
            d["line_items"].remove(existing)
        elif existing is None:
            d["line_items"].append(_new_line(ctx, conn, posted, opts))
        elif posted.get("quantity") is not None and P.wc_stock_amount(posted["quantity"]) == 0:
            d["line_items"].remove(existing)
        else:
            if posted.get("quantity") is not None:
                existing["quantity"] = P.wc_stock_amount(posted["quantity"])
                product = P.get_row(conn, existing["variation_id"] or existing["product_id"])
                if product is not None and posted.get("total") is None:
                    existing["total"] = existing["subtotal"] = wc_format_decimal(
                        TT.price_excluding_tax(conn, opts, product, existing["quantity"]))
            for key in ("total", "subtotal"):
                if posted.get(key) is not None:
                    existing[key] = wc_format_decimal(posted[key])
            if posted.get("tax_class") is not None:
                existing["tax_class"] = str(posted["tax_class"])
    for key, kind in (("shipping_lines", "shipping"), ("fee_lines", "fee")):
        for posted in req.get(key) or []:
            if not isinstance(posted, dict):
                continue
            existing = next((x for x in d[key] if posted.get("id") and x["id"] == P._as_id(posted["id"])), None)
            if existing is not None and _item_is_null(posted):
                d[key].remove(existing)
            elif existing is None:
                d[key].append(_extra_line(ctx, conn, posted, kind))
            else:
                _update_extra_line(existing, posted, kind)


# ----------------------------------------------------------------------------------------------
# Stock

def _reduce_stock(ctx: Ctx, conn: Connection, order: dict[str, Any]) -> int:
    """``wc_maybe_reduce_stock_levels``: once per order, once per line; returns objects saved."""
    if order["stock_reduced"]:
        return 0
    changes = []
    for line in order["data"]["line_items"]:
        product = P.get_row(conn, line["variation_id"] or line["product_id"]) if line["product_id"] else None
        if _line_meta(line, "_reduced_stock") or product is None:
            continue
        holder = P.stock_holder(conn, product)
        if holder is None:
            continue
        qty = line["quantity"]
        new = P.change_stock(ctx, conn, holder, -qty)  # no oversell check (rec 96, 97)
        _set_line_meta(ctx, conn, line, "_reduced_stock", qty)
        parent = P.get_row(conn, product["parent_id"]) if product["parent_id"] else None
        changes.append(f"{_formatted_name(product, parent)} {new + qty}&rarr;{new}")
    order["stock_reduced"] = True
    if changes:
        add_note(ctx, conn, order["id"], "Stock levels reduced: " + ", ".join(changes))
    return len(changes)


def _restore_stock(ctx: Ctx, conn: Connection, order: dict[str, Any]) -> int:
    """``wc_maybe_increase_stock_levels``: only if this order reduced stock."""
    if not order["stock_reduced"]:
        return 0
    changes = []
    for line in order["data"]["line_items"]:
        reduced = P.wc_stock_amount(_line_meta(line, "_reduced_stock"))
        product = P.get_row(conn, line["variation_id"] or line["product_id"]) if line["product_id"] else None
        if not reduced or product is None:
            continue
        holder = P.stock_holder(conn, product)
        if holder is None:
            continue
        new = P.change_stock(ctx, conn, holder, reduced)
        _del_line_meta(line, "_reduced_stock")
        parent = P.get_row(conn, product["parent_id"]) if product["parent_id"] else None
        changes.append(f"{_formatted_name(product, parent)} {new - reduced}&rarr;{new}")
    order["stock_reduced"] = False
    if changes:
        add_note(ctx, conn, order["id"], "Stock levels increased: " + ", ".join(changes))
    return len(changes)


def _record_sales(conn: Connection, order: dict[str, Any]) -> None:
    """``wc_update_total_sales_counts``: counted once when the order is paid/held, taken back
    when it is cancelled (rec 76: total_sales back to 0), on the parent product of each line."""
    recorded = bool(order["data"].get("recorded_sales"))
    cancelled = order["status"] in ("cancelled", "trash")
    if recorded != cancelled:
        return
    sign = -1 if cancelled else 1
    for line in order["data"]["line_items"]:
        if line["product_id"]:
            P.add_sales(conn, line["product_id"], sign * line["quantity"])
    order["data"]["recorded_sales"] = not cancelled


# ----------------------------------------------------------------------------------------------
# Saving

def _set_status(ctx: Ctx, order: dict[str, Any], new: str) -> None:
    """``WC_Order::set_status``: remember the transition; date_paid / date_completed follow."""
    old = order["status"]
    if not new or new == old:
        return
    order["status"] = new
    order.setdefault("_transitions", []).append((old, new))
    if new in ("processing", "completed") and not order["data"].get("date_paid_gmt"):
        order["data"]["date_paid_gmt"] = ctx.gmt
    if new == "completed" and not order["data"].get("date_completed_gmt"):
        order["data"]["date_completed_gmt"] = ctx.gmt


def _save(ctx: Ctx, conn: Connection, order: dict[str, Any], creating: bool) -> int:
    """Write the order, then run its status transitions. Returns objects saved (order + stock)."""
    order["modified_gmt"], order["modified_local"] = ctx.gmt, ctx.local
    transitions = order.pop("_transitions", [])
    values = {k: v for k, v in order.items() if k != "id"}
    if creating:
        conn.execute(insert(orders).values(id=order["id"], **values))
    else:
        conn.execute(update(orders).where(orders.c.id == order["id"]).values(**values))
    ctx.fire("woocommerce_new_order" if creating else "woocommerce_update_order", order["id"])
    saved = 1
    for old, new in transitions:
        ctx.fire(f"woocommerce_order_status_{new}", order["id"])
        ctx.fire(f"woocommerce_order_status_{old}_to_{new}", order["id"])
        ctx.fire("woocommerce_order_status_changed", order["id"])
        if new in REDUCE_ON:
            saved += _reduce_stock(ctx, conn, order)
            _record_sales(conn, order)
        elif new in RESTORE_ON:
            saved += _restore_stock(ctx, conn, order)
        if new == "cancelled":
            _record_sales(conn, order)
        if new in TT.USAGE_STATUSES and (order["data"]["coupon_lines"] or order["data"].get("recorded_coupon_usage_counts")):
            TT.Calculator(ctx, conn, order).update_coupon_usage_counts()
        add_note(ctx, conn, order["id"],
                 f"Order status changed from {STATUS_NAMES.get(old, old)} to {STATUS_NAMES.get(new, new)}.")
    if transitions:
        values = {k: v for k, v in order.items() if k != "id"}
        conn.execute(update(orders).where(orders.c.id == order["id"]).values(**values))
    return saved


def _apply_fields(ctx: Ctx, conn: Connection, order: dict[str, Any], req: dict[str, Any], opts: S.Options) -> None:
    d = order["data"]
    for key, keys in (("billing", BILLING_KEYS), ("shipping", SHIPPING_KEYS)):
        if isinstance(req.get(key), dict):
            d[key] = {k: str(req[key].get(k, d[key].get(k, ""))) for k in keys}
    for key in ("payment_method", "payment_method_title", "transaction_id", "customer_note", "currency"):
        if req.get(key) is not None:
            d[key] = str(req[key])
    if req.get("customer_id") is not None:
        order["customer_id"] = P._as_id(req["customer_id"])
    if req.get("parent_id") is not None:
        order["parent_id"] = P._as_id(req["parent_id"])
    if "meta_data" in req:
        d["meta_data"] = P.update_meta(d["meta_data"], req["meta_data"], ctx.store, conn)
    _apply_lines(ctx, conn, d, req, opts)


RECALCULATE_ON = ("billing", "shipping", "line_items", "shipping_lines", "fee_lines", "coupon_lines")


def _money_and_coupons(ctx: Ctx, conn: Connection, order: dict[str, Any], req: dict[str, Any], opts: S.Options,
                       creating: bool) -> RestError | None:
    """``calculate_totals()`` then ``calculate_coupons()``; a coupon error is returned, not raised:
    the real store has saved the order by then."""
    calc = TT.Calculator(ctx, conn, order, opts)
    if creating or any(req.get(key) is not None for key in RECALCULATE_ON):
        calc.calculate_totals()
    try:
        calc.calculate_coupons(req.get("coupon_lines"))
    except RestError as err:
        return err
    return None


def _paid(ctx: Ctx, conn: Connection, order: dict[str, Any], req: dict[str, Any], creating: bool) -> int:
    """``set_paid: true`` -> ``payment_complete()`` (A5), on create or while payment is needed."""
    if req.get("set_paid") is not True:
        return 0
    needs_payment = order["status"] in ("pending", "failed") and _float(order["data"]["total"]) > 0
    if not (creating or needs_payment):
        return 0
    if order["status"] not in ("on-hold", "pending", "failed", "cancelled"):
        return 0
    if not order["data"].get("date_paid_gmt"):
        order["data"]["date_paid_gmt"] = ctx.gmt
    needs_processing = any(line.get("needs_processing") for line in order["data"]["line_items"])
    # the new status's transition reduces stock; the woocommerce_payment_complete hook that
    # follows finds the order already reduced
    _set_status(ctx, order, "processing" if needs_processing else "completed")
    saved = _save(ctx, conn, order, creating=False)
    ctx.fire("woocommerce_payment_complete", order["id"])
    return saved


def create_order(ctx: Ctx, conn: Connection, req: dict[str, Any]) -> tuple[dict[str, Any], int, RestError | None]:
    """Returns (order, objects saved, the coupon error to answer with after committing, if any)."""
    if req.get("id"):
        raise RestError("woocommerce_rest_shop_order_exists", "Cannot create existing shop_order.", 400)
    opts = S.options_of(conn)
    order = {
        "id": ctx.store.next_id(conn, "post"), "parent_id": 0, "status": "pending", "customer_id": 0,
        "stock_reduced": False, "created_gmt": ctx.gmt, "created_local": ctx.local, "modified_gmt": ctx.gmt,
        "modified_local": ctx.local,
        "data": {
            "currency": "USD", "order_key": "wc_order_" + "".join(
                secrets.choice(string.ascii_letters + string.digits) for _ in range(13)),
            "billing": dict.fromkeys(BILLING_KEYS, ""), "shipping": dict.fromkeys(SHIPPING_KEYS, ""),
            "payment_method": "", "payment_method_title": "", "transaction_id": "", "created_via": "rest-api",
            "customer_note": "", "date_paid_gmt": None, "date_completed_gmt": None, "meta_data": [],
            "line_items": [], "tax_lines": [], "shipping_lines": [], "fee_lines": [], "coupon_lines": [],
            "prices_include_tax": opts.prices_entered_with_tax, "discount_total": "0", "discount_tax": "0",
            "shipping_total": "0", "shipping_tax": "0", "cart_tax": "0", "total": "0", "total_tax": "0",
        },
    }
    _apply_fields(ctx, conn, order, req, opts)
    error = _money_and_coupons(ctx, conn, order, req, opts, creating=True)
    if error is None:
        _set_status(ctx, order, req.get("status") or "pending")
    saved = _save(ctx, conn, order, creating=True)
    # The REST controller saves a new order twice (create, then after calculate_totals), so every
    # order made through the API also fires woocommerce_update_order: order.updated (webhook rec 14).
    ctx.fire("woocommerce_update_order", order["id"])
    if error is None:
        saved += _paid(ctx, conn, order, req, creating=True)
    return order, saved, error


def update_order(ctx: Ctx, conn: Connection, order_id: Any,
                 req: dict[str, Any]) -> tuple[dict[str, Any], int, RestError | None]:
    order = _must_order(conn, order_id, 400)
    order["data"].setdefault("tax_lines", [])
    opts = S.options_of(conn)
    _apply_fields(ctx, conn, order, req, opts)
    error = _money_and_coupons(ctx, conn, order, req, opts, creating=False)
    if error is None and req.get("status"):
        _set_status(ctx, order, req["status"])
    saved = _save(ctx, conn, order, creating=False)
    if error is None:
        saved += _paid(ctx, conn, order, req, creating=False)
    return order, saved, error


def delete_order(ctx: Ctx, conn: Connection, order_id: Any, force: bool) -> dict[str, Any]:
    order = _must_order(conn, order_id)
    view = order_view(ctx, conn, order)
    if force:
        conn.execute(delete(orders).where(orders.c.id == order["id"]))
        conn.execute(delete(notes).where(notes.c.order_id == order["id"]))
        conn.execute(delete(refunds).where(refunds.c.order_id == order["id"]))
    else:
        if order["status"] == "trash":
            raise RestError("woocommerce_rest_already_trashed", "The shop_order has already been deleted.", 410)
        conn.execute(update(orders).where(orders.c.id == order["id"]).values(
            status="trash", data={**order["data"], "_wp_trash_meta_status": order["status"]}))
        ctx.fire("wp_trash_post", order["id"])
        ctx.fire("woocommerce_trash_order", order["id"])
    if force:
        ctx.fire("woocommerce_delete_order", order["id"])  # no webhook topic listens (webhook rec 16)
    return view


def list_orders(ctx: Ctx, conn: Connection, args: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    c = orders.c
    statuses = args.get("status") or ["any"]
    where = []
    if "any" not in statuses:
        where.append(c.status.in_(statuses))
    else:
        where.append(c.status.notin_(["trash", "auto-draft", "checkout-draft"]))
    where += P.id_filters(c, args)
    if args.get("customer") is not None:
        where.append(c.customer_id == args["customer"])
    if args.get("search"):
        where.append(cast(c.data, String).like(f"%{args['search']}%"))
    if args.get("product"):
        # line items live in the JSON blob; a LIKE narrows, the exact test follows in Python
        where.append(cast(c.data, String).like(f"%{args['product']}%"))
    where += P.date_conditions(ctx.store, orders, args)
    query = select(orders).where(*where).order_by(*P.order_clause(orders, args, c.id))
    per_page = args.get("per_page") or 10
    offset = args["offset"] if args.get("offset") is not None else (args.get("page", 1) - 1) * per_page
    if not args.get("product"):
        total = conn.execute(select(func.count()).select_from(orders).where(*where)).scalar()
        return [dict(r) for r in conn.execute(query.limit(per_page).offset(offset)).mappings()], total
    found = [
        dict(r) for r in conn.execute(query).mappings()
        if any(args["product"] in (line["product_id"], line["variation_id"]) for line in r["data"]["line_items"])
    ]
    return found[offset:offset + per_page], len(found)


# ----------------------------------------------------------------------------------------------
# Refunds

def refund_view(ctx: Ctx, row: dict[str, Any]) -> dict[str, Any]:
    d, oid = row["data"], row["order_id"]
    return {
        "id": row["id"], "date_created": iso(row["created_local"]), "date_created_gmt": iso(row["created_gmt"]),
        "amount": d["amount"], "reason": d["reason"], "refunded_by": d["refunded_by"],
        "refunded_payment": d["refunded_payment"], "meta_data": d["meta_data"],
        "line_items": [_line_view(line) for line in d["line_items"]],
        "shipping_lines": [_shipping_view(line) for line in d.get("shipping_lines", [])],
        "tax_lines": [_tax_line_view(line) for line in d.get("tax_lines", [])],
        "fee_lines": [_fee_view(line) for line in d.get("fee_lines", [])],
        "_links": {
            "self": [{"href": f"{ctx.api}/orders/{oid}/refunds/{row['id']}"}],
            "collection": [{"href": f"{ctx.api}/orders/{oid}/refunds"}],
            "up": [{"href": f"{ctx.api}/orders/{oid}"}],
        },
    }


def list_refunds(ctx: Ctx, conn: Connection, order_id: Any) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(refunds).where(refunds.c.order_id == P._as_id(order_id)).order_by(refunds.c.created_gmt.desc(), refunds.c.id.desc())
    ).mappings()
    return [refund_view(ctx, dict(r)) for r in rows]


def _scalar_error(code: str, message: str, data: int) -> RestError:
    """``new WP_Error(code, message, <int>)``: WP answers 500 and prints the bare number as data."""
    err = RestError(code, message, 500)
    err.raw_data = data
    return err


def _php_empty(value: Any) -> bool:
    return value in (None, "", "0", 0, 0.0, False) or value == [] or value == {}


def _refund_taxes(posted: dict[str, Any]) -> dict[int, Any]:
    """``refund_tax`` as ``[{id: <rate id>, refund_total}]`` (or already ``{rate_id: amount}``)."""
    raw = posted.get("refund_tax")
    out: dict[int, Any] = {}
    if isinstance(raw, list):
        for tax in raw:
            if isinstance(tax, dict) and tax.get("id") is not None:
                out[P._as_id(tax["id"])] = tax.get("refund_total", 0)
    elif isinstance(raw, dict):
        out = {P._as_id(k): v for k, v in raw.items()}
    return out


def _negated(value: Any) -> str:
    """``wc_format_refund_total`` (amount * -1) as the item stores it."""
    return wc_format_decimal(php_number(value) * -1)


def _refund_item(ctx: Ctx, conn: Connection, kind: str, original: dict[str, Any], posted: dict[str, Any],
                 calc: TT.Calculator) -> dict[str, Any]:
    """``new $class( $item )`` with id 0, ``_refunded_item_id``, negative total, taxes and quantity."""
    qty = P.wc_stock_amount(posted.get("quantity", 0))
    total = _negated(posted.get("refund_total", 0))
    taxes = {rid: php_number(v) * -1 for rid, v in _refund_taxes(posted).items() if not _php_empty(v)}
    item_id = _new_item_id(ctx, conn) if kind == "line" else ctx.store.next_id(conn, "order_item")
    meta = [{"id": ctx.store.next_id(conn, "item_meta"), "key": "_refunded_item_id", "value": str(original["id"]),
             "display_key": "_refunded_item_id", "display_value": str(original["id"])}]
    if kind == "line":
        item = {"id": item_id, "name": original["name"], "product_id": original["product_id"],
                "variation_id": original["variation_id"], "quantity": -qty, "tax_class": original.get("tax_class", ""),
                "subtotal": total, "subtotal_tax": "0", "total": total, "total_tax": "0", "taxes": TT.no_taxes(),
                "meta_data": meta, "sku": original["sku"], "image": original["image"],
                "parent_name": original["parent_name"], "_qty": qty}
    elif kind == "shipping":
        item = {"id": item_id, "method_title": original["method_title"], "method_id": original["method_id"],
                "instance_id": original["instance_id"], "total": total, "total_tax": "0", "taxes": TT.no_taxes(),
                "meta_data": meta}
    else:
        item = {"id": item_id, "name": original["name"], "tax_class": original["tax_class"],
                "tax_status": original["tax_status"], "amount": original.get("amount", ""), "total": total,
                "total_tax": "0", "taxes": TT.no_taxes(), "meta_data": meta}
    calc.set_taxes(item, taxes, taxes, with_subtotal=kind == "line")
    return item


def create_refund(ctx: Ctx, conn: Connection, order_id: Any, req: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """``wc_create_refund`` as the V3 refunds controller calls it (A5, rec 84-87). ``line_items``
    may name product, shipping and fee items; ``refund_tax`` gives each rate's refunded tax; the
    refund's tax lines are ``update_taxes()`` over its items."""
    order = get_order(conn, order_id)
    if order is None:
        raise _scalar_error("woocommerce_rest_invalid_order_id", "Invalid order ID.", 404)
    d = order["data"]
    posted_lines = [item for item in req.get("line_items") or [] if isinstance(item, dict)]
    if req.get("amount") is not None and str(req["amount"]) != "":
        amount = _float(req["amount"])
    else:  # without an amount the line refund totals and taxes make it up
        amount = sum(_float(item.get("refund_total")) + sum(map(_float, _refund_taxes(item).values()))
                     for item in posted_lines)
    if amount < 0:
        raise _scalar_error("woocommerce_rest_invalid_order_refund", "Refund amount must be greater than zero.", 400)
    already = sum(_float(r["amount"]) for r in conn.execute(
        select(refunds.c.data).where(refunds.c.order_id == order["id"])).scalars())
    remaining = _float(d["total"]) - already
    refund_id = ctx.store.next_id(conn, "post")  # the refund post exists before anything can fail
    if amount > remaining + 1e-9:
        raise _scalar_error("woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.", 500)
    by_id = {P._as_id(item.get("id")): item for item in posted_lines}
    refund_order = {"id": refund_id, "customer_id": 0, "status": "completed", "data": {
        "line_items": [], "fee_lines": [], "shipping_lines": [], "tax_lines": [], "meta_data": [],
        "billing": d["billing"], "shipping": d["shipping"], "coupon_lines": []}}
    calc = TT.Calculator(ctx, conn, refund_order)
    rd = refund_order["data"]
    for kind, key, target in (("line", "line_items", "line_items"), ("fee", "fee_lines", "fee_lines"),
                              ("shipping", "shipping_lines", "shipping_lines")):
        for original in d[key]:
            posted = by_id.get(original["id"])
            if posted is None or (_php_empty(posted.get("quantity")) and _php_empty(posted.get("refund_total"))
                                  and not _refund_taxes(posted)):
                continue
            rd[target].append(_refund_item(ctx, conn, kind, original, posted, calc))
    calc.update_taxes()
    if req.get("api_refund", True):
        # The sandbox has no payment gateway: a REST order's bacs/cheque/cod cannot refund through
        # the API, any other method is unknown - wc_refund_payment fails, the refund is deleted.
        message = ("The payment gateway for this order does not support automatic refunds."
                   if d["payment_method"] in CORE_GATEWAYS else "The payment gateway for this order does not exist.")
        err = _scalar_error("woocommerce_rest_cannot_create_order_refund", message, 500)
        err.burns_post_id = True  # the refund post was saved and deleted again: its id is gone
        raise err
    refund_lines = rd["line_items"]
    data = {
        "amount": money(amount), "reason": str(req.get("reason") or ""), "refunded_by": 1,
        "refunded_payment": False, "meta_data": [],
        "line_items": [{k: v for k, v in line.items() if k != "_qty"} for line in refund_lines],
        "shipping_lines": rd["shipping_lines"], "tax_lines": rd["tax_lines"], "fee_lines": rd["fee_lines"],
    }
    row = {"id": refund_id, "order_id": order["id"], "created_gmt": ctx.gmt, "created_local": ctx.local, "data": data}
    conn.execute(insert(refunds).values(**row))
    saved = 1
    if req.get("api_restock", True):
        saved += _restock_refunded(ctx, conn, order, refund_lines)
    if remaining - amount <= 1e-9:  # wc_order_fully_refunded
        _set_status(ctx, order, "refunded")
    saved += _save(ctx, conn, order, creating=False)
    ctx.fire("woocommerce_order_refunded", order["id"])
    return row, saved


def _restock_refunded(ctx: Ctx, conn: Connection, order: dict[str, Any], refund_lines: list[dict[str, Any]]) -> int:
    """``wc_restock_refunded_items``: put refunded quantities back on lines that reduced stock."""
    saved = 0
    for refund_line in refund_lines:
        qty = refund_line["_qty"]
        original = next(line for line in order["data"]["line_items"]
                        if str(line["id"]) == refund_line["meta_data"][0]["value"])
        reduced = P.wc_stock_amount(_line_meta(original, "_reduced_stock"))
        product = P.get_row(conn, original["variation_id"] or original["product_id"]) if original["product_id"] else None
        holder = P.stock_holder(conn, product) if product else None
        if not reduced or not qty or holder is None:
            continue
        old = P.get_row(conn, holder["id"])["stock_quantity"]
        new = P.change_stock(ctx, conn, holder, qty)
        _set_line_meta(ctx, conn, original, "_reduced_stock", reduced - qty)
        restocked = P.wc_stock_amount(_line_meta(original, "_restock_refunded_items"))
        _set_line_meta(ctx, conn, original, "_restock_refunded_items", restocked + qty)
        add_note(ctx, conn, order["id"], f"Item #{product['id']} stock increased from {old} to {new}.")
        saved += 1
    return saved
