"""Coupons: the ``/coupons`` resource and ``WC_Discounts`` as it works on an order.

REST (``WC_REST_Coupons_Controller``, V2 ``get_formatted_item_data``): ``{id, code, amount, status,
date_created[_gmt], date_modified[_gmt], discount_type, description, date_expires[_gmt],
usage_count, individual_use, product_ids, excluded_product_ids, usage_limit, usage_limit_per_user,
limit_usage_to_x_items, free_shipping, product_categories, excluded_product_categories,
exclude_sale_items, minimum_amount, maximum_amount, email_restrictions, used_by, meta_data,
_links}``. Codes are stored as ``wc_format_coupon_code`` makes them (lower case); a code another
published coupon has -> 400 ``woocommerce_rest_coupon_code_already_exists``. Coupons are posts:
their ids come from the post sequence; DELETE trashes (410 when already trashed) or, with
``force=true``, deletes, answering with the coupon as it was.

``Discounts`` is ``WC_Discounts`` built from an order (``set_items_from_order``): amounts in cents,
items sorted by ``price * quantity`` descending (``price`` being the line subtotal, plus its tax
when the order's prices include tax); ``percent`` floors each line's discount and hands out the
missing cents one per unit; ``fixed_product`` is per unit; ``fixed_cart`` is split evenly per unit
(``absint(amount / units)``, capped at what is left of each line) and repeated on the rest, the last
cents one per unit in item order - WooCommerce does not split it in proportion to line totals.
Validation is ``WC_Discounts::is_coupon_valid``: exists (published), usage limits, expiry,
minimum/maximum spend, product ids/categories, exclusions, sale items. ``individual_use``,
``free_shipping`` and ``email_restrictions`` are stored and shown but, as for REST orders in
WooCommerce, not enforced (a REST order's shipping lines are explicit: "free shipping" is a 0.00
shipping line the client sends).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, cast, func, insert, select, update
from sqlalchemy.engine import Connection

from sandbox.woocommerce import products as P
from sandbox.woocommerce.errors import RestError
from sandbox.woocommerce.store import coupons, fmt, iso
from sandbox.woocommerce.wcmath import (
    add_precision,
    php_round,
    remove_precision,
    round_discount,
    to_float,
    wc_format_decimal,
)

DISCOUNT_TYPES = ["percent", "fixed_cart", "fixed_product"]
PRODUCT_TYPES = ("fixed_product", "percent")  # wc_get_product_coupon_types()
COUPON_DEFAULTS: dict[str, Any] = {
    "amount": "0", "discount_type": "fixed_cart", "description": "", "date_expires_gmt": None, "usage_count": 0,
    "individual_use": False, "product_ids": [], "excluded_product_ids": [], "usage_limit": 0,
    "usage_limit_per_user": 0, "limit_usage_to_x_items": None, "free_shipping": False, "product_categories": [],
    "excluded_product_categories": [], "exclude_sale_items": False, "minimum_amount": "", "maximum_amount": "",
    "email_restrictions": [], "used_by": [], "meta_data": [],
}
_INTS = {"type": "array", "items": {"type": "integer"}}
COUPON_SCHEMA: dict[str, dict[str, Any]] = {
    "code": {"type": "string"}, "amount": {"type": "string"},
    "status": {"type": "string", "enum": ["draft", "pending", "private", "publish", "future", "trash"]},
    "discount_type": {"type": "string", "enum": DISCOUNT_TYPES}, "description": {"type": "string"},
    "date_expires": {"type": ["null", "string"]}, "date_expires_gmt": {"type": ["null", "string"]},
    "individual_use": {"type": "boolean"}, "product_ids": _INTS, "excluded_product_ids": _INTS,
    "usage_limit": {"type": ["integer", "null"]}, "usage_limit_per_user": {"type": ["integer", "null"]},
    "limit_usage_to_x_items": {"type": ["integer", "null"]}, "free_shipping": {"type": "boolean"},
    "product_categories": _INTS, "excluded_product_categories": _INTS, "exclude_sale_items": {"type": "boolean"},
    "minimum_amount": {"type": "string"}, "maximum_amount": {"type": "string"},
    "email_restrictions": {"type": "array", "items": {"type": "string"}}, "meta_data": {"type": "array"},
}
COUPON_LIST_SCHEMA: dict[str, dict[str, Any]] = {
    "context": {"type": "string", "enum": ["view", "edit"]},
    "page": {"type": "integer", "minimum": 1}, "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
    "search": {"type": "string"}, "code": {"type": "string"}, "offset": {"type": "integer"},
    "order": {"type": "string", "enum": ["asc", "desc"]},
    "orderby": {"type": "string", "enum": ["date", "id", "include", "title", "slug", "modified"]},
    "include": _INTS, "exclude": _INTS,
}


def format_code(code: Any) -> str:
    """``wc_format_coupon_code``: entities decoded, trimmed, lower case."""
    import html

    return html.unescape(str(code or "")).strip().lower()


# ----------------------------------------------------------------------------------------------
# Rows

def get_coupon(conn: Connection, coupon_id: Any) -> dict[str, Any] | None:
    try:
        coupon_id = int(coupon_id)
    except (TypeError, ValueError):
        return None
    row = conn.execute(select(coupons).where(coupons.c.id == coupon_id)).mappings().first()
    return _loaded(row)


def _loaded(row: Any) -> dict[str, Any] | None:
    if row is None:
        return None
    out = dict(row)
    out["data"] = {**COUPON_DEFAULTS, **out["data"]}
    return out


def id_by_code(conn: Connection, code: str, exclude: int = 0) -> int:
    """``wc_get_coupon_id_by_code``: published coupons only."""
    found = conn.execute(select(coupons.c.id).where(
        coupons.c.code == format_code(code), coupons.c.status == "publish", coupons.c.id != exclude,
    ).order_by(coupons.c.id).limit(1)).scalar()
    return found or 0


def by_code(conn: Connection, code: str) -> dict[str, Any] | None:
    coupon_id = id_by_code(conn, code)
    return get_coupon(conn, coupon_id) if coupon_id else None


def coupon_view(ctx, row: dict[str, Any]) -> dict[str, Any]:
    d = row["data"]
    expires_gmt = d.get("date_expires_gmt")
    return {
        "id": row["id"], "code": row["code"], "amount": wc_format_decimal(d["amount"], 2), "status": row["status"],
        "date_created": iso(row["created_local"]), "date_created_gmt": iso(row["created_gmt"]),
        "date_modified": iso(row["modified_local"]), "date_modified_gmt": iso(row["modified_gmt"]),
        "discount_type": d["discount_type"], "description": d["description"],
        "date_expires": iso(ctx.store.local_of(expires_gmt)) if expires_gmt else None,
        "date_expires_gmt": iso(expires_gmt), "usage_count": d["usage_count"],
        "individual_use": d["individual_use"], "product_ids": d["product_ids"],
        "excluded_product_ids": d["excluded_product_ids"], "usage_limit": d["usage_limit"] or None,
        "usage_limit_per_user": d["usage_limit_per_user"] or None,
        "limit_usage_to_x_items": d["limit_usage_to_x_items"] or None, "free_shipping": d["free_shipping"],
        "product_categories": d["product_categories"], "excluded_product_categories": d["excluded_product_categories"],
        "exclude_sale_items": d["exclude_sale_items"], "minimum_amount": wc_format_decimal(d["minimum_amount"], 2),
        "maximum_amount": wc_format_decimal(d["maximum_amount"], 2), "email_restrictions": d["email_restrictions"],
        "used_by": d["used_by"], "meta_data": d["meta_data"],
        "_links": {"self": [{"href": f"{ctx.api}/coupons/{row['id']}"}], "collection": [{"href": f"{ctx.api}/coupons"}]},
    }


def _expiry_gmt(ctx, value: Any, is_gmt: bool) -> str | None:
    if value in (None, ""):
        return None
    text = str(value).strip().replace(" ", "T")
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise RestError("rest_invalid_param", "Invalid parameter(s): date_expires", 400,
                        params={"date_expires": "Invalid date."}) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC if is_gmt else ctx.store.tz)
    return fmt(moment.astimezone(dt.UTC))


def _apply(ctx, conn: Connection, row: dict[str, Any], req: dict[str, Any]) -> None:
    """``prepare_object_for_database`` of the coupons controller."""
    d = row["data"]
    if req.get("code") is not None:
        code = format_code(req["code"])
        if id_by_code(conn, code, row["id"] or 0):
            raise RestError("woocommerce_rest_coupon_code_already_exists", "The coupon code already exists", 400)
        row["code"] = code
    if req.get("status") is not None:
        row["status"] = str(req["status"])
    for key in ("discount_type", "description", "individual_use", "free_shipping", "exclude_sale_items",
                "product_ids", "excluded_product_ids", "product_categories", "excluded_product_categories",
                "email_restrictions"):
        if req.get(key) is not None:
            d[key] = req[key]
    for key in ("usage_limit", "usage_limit_per_user", "limit_usage_to_x_items"):
        if key in req:
            d[key] = abs(int(req[key])) if req[key] not in (None, "") else (None if key == "limit_usage_to_x_items" else 0)
    for key in ("minimum_amount", "maximum_amount"):
        if req.get(key) is not None:
            d[key] = wc_format_decimal(req[key])
    if req.get("amount") is not None:
        d["amount"] = wc_format_decimal(req["amount"])
    if "date_expires_gmt" in req:
        d["date_expires_gmt"] = _expiry_gmt(ctx, req["date_expires_gmt"], True)
    elif "date_expires" in req:
        d["date_expires_gmt"] = _expiry_gmt(ctx, req["date_expires"], False)
    if "meta_data" in req:
        d["meta_data"] = P.update_meta(d["meta_data"], req["meta_data"], ctx.store, conn)
    amount = to_float(d["amount"])
    if amount < 0 or (d["discount_type"] == "percent" and amount > 100):
        raise RestError("coupon_invalid_amount", "Invalid discount amount", 400)


def create_coupon(ctx, conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    if req.get("id"):
        raise RestError("woocommerce_rest_shop_coupon_exists", "Cannot create existing shop_coupon.", 400)
    if req.get("code") in (None, ""):
        raise RestError("rest_missing_callback_param", "Missing parameter(s): code", 400, params=["code"])
    row = {"id": 0, "code": "", "status": "publish", "created_gmt": ctx.gmt, "created_local": ctx.local,
           "modified_gmt": ctx.gmt, "modified_local": ctx.local, "data": dict(COUPON_DEFAULTS)}
    _apply(ctx, conn, row, req)
    row["id"] = ctx.store.next_id(conn, "post")
    conn.execute(insert(coupons).values(**row))
    return row


def update_coupon(ctx, conn: Connection, coupon_id: Any, req: dict[str, Any]) -> dict[str, Any]:
    row = get_coupon(conn, coupon_id)
    if row is None:
        raise RestError("woocommerce_rest_shop_coupon_invalid_id", "Invalid ID.", 400)
    _apply(ctx, conn, row, req)
    row["modified_gmt"], row["modified_local"] = ctx.gmt, ctx.local
    save(conn, row)
    return row


def save(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(update(coupons).where(coupons.c.id == row["id"]).values(
        **{k: v for k, v in row.items() if k != "id"}))


def delete_coupon(ctx, conn: Connection, coupon_id: Any, force: bool) -> dict[str, Any]:
    row = get_coupon(conn, coupon_id)
    if row is None:
        raise RestError("woocommerce_rest_shop_coupon_invalid_id", "Invalid ID.", 404)
    view = coupon_view(ctx, row)
    if force:
        conn.execute(coupons.delete().where(coupons.c.id == row["id"]))
    else:
        if row["status"] == "trash":
            raise RestError("woocommerce_rest_already_trashed", "The shop_coupon has already been deleted.", 410)
        row["status"] = "trash"
        save(conn, row)
    return view


def list_coupons(ctx, conn: Connection, args: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    c = coupons.c
    where = [c.status != "trash"]
    if args.get("code"):
        where.append(c.code == format_code(args["code"]))
    if args.get("search"):
        where.append(cast(c.code, String).like(f"%{format_code(args['search'])}%"))
    if args.get("include"):
        where.append(c.id.in_(args["include"]))
    if args.get("exclude"):
        where.append(c.id.notin_(args["exclude"]))
    total = conn.execute(select(func.count()).select_from(coupons).where(*where)).scalar()
    per_page = args.get("per_page") or 10
    offset = args["offset"] if args.get("offset") is not None else ((args.get("page") or 1) - 1) * per_page
    ordering = P.order_clause(coupons, args, c.code)
    rows = conn.execute(select(coupons).where(*where).order_by(*ordering).limit(per_page).offset(offset)).mappings()
    return [_loaded(r) for r in rows], total


def short_info(row: dict[str, Any]) -> str:
    """``WC_Coupon::get_short_info``, the ``coupon_info`` meta of an order's coupon line."""
    import json

    d = row["data"]
    info: list[Any] = [row["id"], row["code"], None if d["discount_type"] == "fixed_cart" else d["discount_type"],
                       to_float(d["amount"])]
    if d["free_shipping"]:
        info.append(True)
    return json.dumps(info, separators=(",", ":"))


def from_short_info(info: str) -> dict[str, Any]:
    """``set_short_info``: a temporary coupon for a line whose coupon no longer exists."""
    import json

    try:
        values = json.loads(info)
    except (TypeError, ValueError):
        values = []
    values = list(values) + [None] * (5 - len(values))
    return {"id": values[0] or 0, "code": values[1] or "", "status": "publish",
            "data": {**COUPON_DEFAULTS, "discount_type": values[2] or "fixed_cart",
                     "amount": wc_format_decimal(values[3] or 0), "free_shipping": bool(values[4])}}


# ----------------------------------------------------------------------------------------------
# WC_Discounts

@dataclass
class Item:
    key: int  # the order item id
    line: dict[str, Any]
    product: dict[str, Any] | None
    parent: dict[str, Any] | None
    quantity: int
    price: float  # line subtotal in cents (plus its tax when prices include tax)


def _categories(row: dict[str, Any] | None) -> list[int]:
    if row is None:
        return []
    return [int(c.get("id", 0)) for c in {**P.PRODUCT_DEFAULTS, **row["extra"]}.get("categories", [])]


@dataclass
class Discounts:
    items: list[Item]
    sequential: bool = False
    discounts: dict[str, dict[int, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.items = sorted(self.items, key=lambda i: -(i.price * i.quantity))  # sort_by_price (stable)

    def discount_of(self, key: int) -> float:
        return sum(per_item.get(key, 0) for per_item in self.discounts.values())

    def left(self, item: Item) -> int:
        """``get_discounted_price_in_cents``."""
        return abs(int(php_round(item.price - self.discount_of(item.key))))

    def by_item(self) -> dict[int, float]:
        """``get_discounts_by_item()`` in money (not cents), in the items' order."""
        out: dict[int, float] = {}
        for per_item in self.discounts.values():
            for key, value in per_item.items():
                out[key] = out.get(key, 0) + value
        return {k: remove_precision(v) for k, v in out.items()}

    def by_coupon(self) -> dict[str, float]:
        return {code: remove_precision(sum(per_item.values())) for code, per_item in self.discounts.items()}

    # --- applying ---------------------------------------------------------------------------

    def apply(self, coupon: dict[str, Any]) -> None:
        code = coupon["code"]
        if code not in self.discounts:
            self.discounts[code] = {item.key: 0 for item in self.items}
        to_apply = [item for item in self.items
                    if self.left(item) != 0 and item.quantity > 0
                    and (valid_for_product(coupon, item) or coupon["data"]["discount_type"] == "fixed_cart")]
        kind = coupon["data"]["discount_type"]
        if kind == "percent":
            self._percent(coupon, to_apply)
        elif kind == "fixed_product":
            self._fixed_product(coupon, to_apply)
        else:
            self._fixed_cart(coupon, to_apply)

    def _add(self, code: str, item: Item, cents: float) -> None:
        self.discounts[code][item.key] += cents

    def _limit(self, coupon: dict[str, Any]) -> int:
        return int(coupon["data"].get("limit_usage_to_x_items") or 0)

    def _percent(self, coupon: dict[str, Any], items: list[Item]) -> float:
        total, cart_total, applied = 0.0, 0.0, 0
        limit = self._limit(coupon)
        amount = to_float(coupon["data"]["amount"])
        for item in items:
            left = self.left(item)
            price = left if self.sequential else php_round(item.price)
            qty = limit - applied if limit and (limit - applied) < item.quantity else item.quantity
            qty = max(0, qty)
            price = (price / item.quantity) * qty
            discount = round_discount(min(left, math.floor(price * (amount / 100))), 0)
            cart_total += price
            total += discount
            applied += qty
            self._add(coupon["code"], item, discount)
        whole = round_discount(cart_total * (amount / 100), 0)
        if total < whole:
            total += self._remainder(coupon, items, whole - total)
        return total

    def _fixed_product(self, coupon: dict[str, Any], items: list[Item], amount: float | None = None) -> float:
        total, applied = 0.0, 0
        amount = amount if amount else add_precision(coupon["data"]["amount"])
        limit = self._limit(coupon)
        for item in items:
            left = self.left(item)
            if limit:
                qty = max(0, limit - applied if limit - applied < item.quantity else item.quantity)
                discount = min(amount, item.price / item.quantity) * qty
            else:
                qty = item.quantity
                discount = amount * qty
            discount = min(left, discount)
            total += discount
            applied += qty
            self._add(coupon["code"], item, discount)
        return total

    def _fixed_cart(self, coupon: dict[str, Any], items: list[Item], amount: float | None = None) -> float:
        total = 0.0
        amount = amount if amount else add_precision(coupon["data"]["amount"])
        items = [item for item in items if self.left(item) > 0]
        count = sum(item.quantity for item in items)
        if not count:
            return total
        if not amount:
            return self._fixed_product(coupon, items, 0)
        per_unit = abs(int(amount / count))  # absint: down to the cent
        if per_unit > 0:
            total = self._fixed_product(coupon, items, per_unit)
            if 0 < total < amount:
                total += self._fixed_cart(coupon, items, amount - total)
        elif amount > 0:
            total += self._remainder(coupon, items, amount)
        return total

    def _remainder(self, coupon: dict[str, Any], items: list[Item], amount: float) -> float:
        """``apply_coupon_remainder``: one cent at a time, unit by unit, in item order."""
        total = 0.0
        for item in items:
            for _ in range(int(item.quantity)):
                discount = min(self.left(item), 1)
                total += discount
                self._add(coupon["code"], item, discount)
                if total >= amount:
                    return total
        return total


def on_sale(row: dict[str, Any] | None) -> bool:
    return bool(row) and P._on_sale(row)


def valid_for_product(coupon: dict[str, Any], item: Item) -> bool:
    """``WC_Coupon::is_valid_for_product`` (product coupon types only)."""
    d = coupon["data"]
    if d["discount_type"] not in PRODUCT_TYPES or item.product is None:
        return False
    product = item.product
    ids = {product["id"], product["parent_id"]}
    cats = set(_categories(item.parent if product["type"] == "variation" else product))
    valid = False
    if d["product_ids"] and ids & set(d["product_ids"]):
        valid = True
    if d["product_categories"] and cats & set(d["product_categories"]):
        valid = True
    if not d["product_ids"] and not d["product_categories"]:
        valid = True
    if d["excluded_product_ids"] and ids & set(d["excluded_product_ids"]):
        valid = False
    if d["excluded_product_categories"] and cats & set(d["excluded_product_categories"]):
        valid = False
    if d["exclude_sale_items"] and on_sale(product):
        valid = False
    return valid


def _price_html(value: Any) -> str:
    return P._amount_html(wc_format_decimal(value, 2))


def validate(ctx, coupon: dict[str, Any] | None, code: str, discounts: Discounts, subtotal: float,
             customer_id: int) -> None:
    """``WC_Discounts::is_coupon_valid``; raises ``woocommerce_rest_invalid_coupon`` (400)."""

    def fail(message: str) -> RestError:
        return RestError("woocommerce_rest_invalid_coupon", message, 400)

    if coupon is None:
        raise fail(f'Coupon "{code}" does not exist!')
    d = coupon["data"]
    reached = f'Usage limit for coupon "{coupon["code"]}" has been reached.'
    if d["usage_limit"] and d["usage_count"] >= d["usage_limit"]:
        raise fail(reached)
    if customer_id and d["usage_limit_per_user"] and d["used_by"].count(str(customer_id)) >= d["usage_limit_per_user"]:
        raise fail(reached)
    if d.get("date_expires_gmt") and ctx.gmt > d["date_expires_gmt"]:
        raise fail("This coupon has expired.")
    minimum, maximum = to_float(d["minimum_amount"]), to_float(d["maximum_amount"])
    if minimum > 0 and minimum > subtotal:
        raise fail(f"The minimum spend for this coupon is {_price_html(minimum)}.")
    if maximum > 0 and maximum < subtotal:
        raise fail(f"The maximum spend for this coupon is {_price_html(maximum)}.")
    items = discounts.items
    not_applicable = "Sorry, this coupon is not applicable to selected products."
    if d["product_ids"] and not any(
            i.product and {i.product["id"], i.product["parent_id"]} & set(d["product_ids"]) for i in items):
        raise fail(not_applicable)
    if d["product_categories"] and not any(
            i.product and not (d["exclude_sale_items"] and on_sale(i.product))
            and set(_categories(i.product) + _categories(i.parent)) & set(d["product_categories"]) for i in items):
        raise fail(not_applicable)
    if items and d["discount_type"] in PRODUCT_TYPES and not any(valid_for_product(coupon, i) for i in items):
        raise fail(not_applicable)
    if d["discount_type"] not in PRODUCT_TYPES:
        if d["exclude_sale_items"] and any(on_sale(i.product) for i in items):
            raise fail("Sorry, this coupon is not valid for sale items.")
        excluded = [i.line["name"] for i in items if i.product and {i.product["id"], i.product["parent_id"]}
                    & set(d["excluded_product_ids"])]
        if excluded:
            raise fail(f"Sorry, this coupon is not applicable to the products: {', '.join(excluded)}.")
        if d["excluded_product_categories"]:
            names = []
            for i in items:
                for source in (i.product, i.parent):
                    for cat in {**P.PRODUCT_DEFAULTS, **(source or {"extra": {}})["extra"]}["categories"] if source else []:
                        if int(cat.get("id", 0)) in d["excluded_product_categories"] and cat.get("name") not in names:
                            names.append(cat.get("name", ""))
            if names:
                raise fail(f"Sorry, this coupon is not applicable to the categories: {', '.join(names)}.")


def change_usage(conn: Connection, code: str, delta: int, used_by: str) -> None:
    """``increase_usage_count`` / ``decrease_usage_count`` of a published coupon."""
    row = by_code(conn, code)
    if row is None:
        return
    d = row["data"]
    d["usage_count"] = max(0, int(d["usage_count"]) + delta)
    if delta > 0:
        d["used_by"] = [*d["used_by"], used_by]
    elif used_by in d["used_by"]:
        used = list(d["used_by"])
        used.remove(used_by)
        d["used_by"] = used
    save(conn, row)
