"""Products and variations: the stock rules of woocommerce-api.md A2, their storage and shapes.

``apply_*`` mirror the REST controllers' ``prepare_object_for_database`` (Version3 products
controller l.692-754, variations controller l.242-275); ``_validate_props`` mirrors
``WC_Product::validate_props`` (abstract-wc-product.php l.1419-1440) and the variable product's
``sync_stock_status``. The JSON shapes and key orders are copied from the recordings:
products rec 01/02 (create/update answers carry the edit-context keys ``permalink_template`` and
``generated_slug``), variations rec 111, a variation through ``/products/<id>`` rec 119.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Float, and_, case, cast, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from sandbox.woocommerce.errors import RestError, invalid_id
from sandbox.woocommerce.store import Store, counters, iso, products

STOCK_STATUSES = ["instock", "outofstock", "onbackorder"]
TAX_CLASS_SLUGS = ["reduced-rate", "zero-rate"]  # the store's additional tax classes (taxes.py)
PRODUCT_TYPES = ["simple", "grouped", "external", "variable"]
POST_STATUSES = ["draft", "pending", "private", "publish", "future", "auto-draft", "trash"]
UNSLUGGED = ("draft", "pending", "auto-draft", "trash")
UNCATEGORIZED = {"id": 15, "name": "Uncategorized", "slug": "uncategorized"}  # rec 01

# Writable fields kept in the JSON blob, with the value a new product has (rec 01).
PRODUCT_DEFAULTS: dict[str, Any] = {
    "featured": False, "catalog_visibility": "visible", "description": "", "short_description": "",
    "date_on_sale_from": None, "date_on_sale_from_gmt": None, "date_on_sale_to": None, "date_on_sale_to_gmt": None,
    "virtual": False, "downloadable": False, "downloads": [], "download_limit": -1, "download_expiry": -1,
    "external_url": "", "button_text": "", "tax_status": "taxable", "tax_class": "", "sold_individually": False,
    "weight": "", "dimensions": {"length": "", "width": "", "height": ""}, "shipping_class": "",
    "reviews_allowed": True, "upsell_ids": [], "cross_sell_ids": [], "purchase_note": "",
    "categories": [UNCATEGORIZED], "tags": [], "images": [], "attributes": [], "default_attributes": [],
    "grouped_products": [], "meta_data": [], "post_password": "", "global_unique_id": "",
}
VARIATION_DEFAULTS: dict[str, Any] = {
    "description": "", "date_on_sale_from": None, "date_on_sale_from_gmt": None, "date_on_sale_to": None,
    "date_on_sale_to_gmt": None, "virtual": False, "downloadable": False, "downloads": [], "download_limit": -1,
    "download_expiry": -1, "tax_status": "taxable", "tax_class": "parent", "weight": "",
    "dimensions": {"length": "", "width": "", "height": ""}, "shipping_class": "", "image": None,
    "attributes": [], "meta_data": [], "global_unique_id": "",
}

_STR = {"type": "string"}
_BOOL = {"type": "boolean"}
_INT = {"type": "integer"}
_NULLABLE_STR = {"type": ["null", "string"]}

# Argument schemas (rec 168 shows the products ones), used for single requests only.
PRODUCT_SCHEMA: dict[str, dict[str, Any]] = {
    "name": _STR, "slug": _STR, "date_created": _NULLABLE_STR, "date_created_gmt": _NULLABLE_STR,
    "type": {"type": "string", "enum": PRODUCT_TYPES},
    "status": {"type": "string", "enum": POST_STATUSES},
    "featured": _BOOL, "catalog_visibility": {"type": "string", "enum": ["visible", "catalog", "search", "hidden"]},
    "description": _STR, "short_description": _STR, "sku": _STR, "global_unique_id": _STR,
    "regular_price": _STR, "sale_price": _STR, "date_on_sale_from": _NULLABLE_STR,
    "date_on_sale_from_gmt": _NULLABLE_STR, "date_on_sale_to": _NULLABLE_STR, "date_on_sale_to_gmt": _NULLABLE_STR,
    "virtual": _BOOL, "downloadable": _BOOL, "downloads": {"type": "array"}, "download_limit": _INT,
    "download_expiry": _INT, "external_url": _STR, "button_text": _STR,
    "tax_status": {"type": "string", "enum": ["taxable", "shipping", "none"]}, "tax_class": _STR,
    "manage_stock": _BOOL, "stock_quantity": _INT,
    "stock_status": {"type": "string", "enum": STOCK_STATUSES},
    "backorders": {"type": "string", "enum": ["no", "notify", "yes"]},
    "low_stock_amount": {"type": ["integer", "null"]}, "sold_individually": _BOOL, "weight": _STR,
    "dimensions": {"type": "object"}, "shipping_class": _STR, "reviews_allowed": _BOOL, "post_password": _STR,
    "upsell_ids": {"type": "array", "items": _INT}, "cross_sell_ids": {"type": "array", "items": _INT},
    "parent_id": _INT, "purchase_note": _STR, "categories": {"type": "array"}, "tags": {"type": "array"},
    "images": {"type": "array"}, "attributes": {"type": "array"}, "default_attributes": {"type": "array"},
    "menu_order": _INT, "meta_data": {"type": "array"},
}
# WP applies schema defaults to a single create (rec 168 lists them); a batch create gets them too
# (WC_REST_Controller::batch_items sets the schema defaults as default params).
PRODUCT_CREATE_DEFAULTS = {
    "type": "simple", "status": "publish", "featured": False, "catalog_visibility": "visible", "virtual": False,
    "downloadable": False, "download_limit": -1, "download_expiry": -1, "tax_status": "taxable",
    "manage_stock": False, "stock_status": "instock", "backorders": "no", "sold_individually": False,
    "reviews_allowed": True,
}
VARIATION_SCHEMA: dict[str, dict[str, Any]] = {
    "description": _STR, "sku": _STR, "global_unique_id": _STR, "regular_price": _STR, "sale_price": _STR,
    "date_on_sale_from": _NULLABLE_STR, "date_on_sale_from_gmt": _NULLABLE_STR, "date_on_sale_to": _NULLABLE_STR,
    "date_on_sale_to_gmt": _NULLABLE_STR, "status": {"type": "string", "enum": ["draft", "pending", "private", "publish"]},
    "virtual": _BOOL, "downloadable": _BOOL, "downloads": {"type": "array"}, "download_limit": _INT,
    "download_expiry": _INT, "tax_status": {"type": "string", "enum": ["taxable", "shipping", "none"]},
    "tax_class": _STR, "manage_stock": _BOOL, "stock_quantity": _INT,
    "stock_status": {"type": "string", "enum": STOCK_STATUSES},
    "backorders": {"type": "string", "enum": ["no", "notify", "yes"]},
    "low_stock_amount": {"type": ["integer", "null"]}, "weight": _STR, "dimensions": {"type": "object"},
    "shipping_class": _STR, "image": {"type": ["object", "null"]}, "attributes": {"type": "array"},
    "menu_order": _INT, "meta_data": {"type": "array"},
}
VARIATION_CREATE_DEFAULTS = {
    "status": "publish", "virtual": False, "downloadable": False, "download_limit": -1, "download_expiry": -1,
    "tax_status": "taxable", "tax_class": "parent", "manage_stock": False, "stock_status": "instock",
    "backorders": "no",
}


@dataclass
class Ctx:
    """What one request needs besides the connection: the store, its home URL and 'now'."""

    store: Store
    home: str
    gmt: str = ""
    local: str = ""
    # the WordPress actions this request fired, in order, as (hook, first argument): webhooks.py
    # turns them into deliveries once the request is done (WC_Webhook::process)
    hooks: list[tuple[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.gmt:
            self.gmt, self.local = self.store.now()

    def fire(self, hook: str, arg: Any) -> None:
        """``do_action($hook, $arg, ...)`` as far as webhooks care."""
        self.hooks.append((hook, arg))

    @property
    def api(self) -> str:
        return f"{self.home}/wp-json/wc/v3"


# ----------------------------------------------------------------------------------------------
# PHP helpers

def wc_stock_amount(value: Any) -> int:
    """``wc_stock_amount``: intval, so "abc" -> 0, "4" -> 4, 2.5 -> 2 (A4: what a batch does)."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip()
    try:
        return int(float(text))
    except ValueError:
        match = re.match(r"[+-]?\d+", text)
        return int(match.group()) if match else 0


def wc_string_to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return value == 1 or str(value).lower() in ("yes", "true", "1")


def sanitize_title(text: str) -> str:
    """WordPress ``sanitize_title`` for slugs: lower-case, dashes, non-ASCII percent-encoded."""
    text = text.strip().lower()
    text = re.sub(r"[^\w\s-]", "", text)
    text = re.sub(r"[\s_-]+", "-", text).strip("-")
    return urllib.parse.quote(text, safe="-").lower()


def _isset(req: dict[str, Any], key: str) -> bool:
    """PHP ``isset($request[key])``: present and not null."""
    return req.get(key) is not None


def update_meta(meta: list[dict], changes: Any, store: Store, conn: Connection) -> list[dict]:
    """``update_meta_data(key, value, id)`` for each item of a ``meta_data`` write (rec 91)."""
    meta = [dict(m) for m in meta]
    for item in changes if isinstance(changes, list) else []:
        if not isinstance(item, dict) or "key" not in item:
            continue
        target = None
        if item.get("id"):
            target = next((m for m in meta if m["id"] == int(item["id"])), None)
        if target is None:
            target = next((m for m in meta if m["key"] == item["key"]), None)
        if target is None:
            meta.append({"id": store.next_id(conn, "meta"), "key": item["key"], "value": item.get("value")})
        else:
            target["key"], target["value"] = item["key"], item.get("value")
    return meta


# ----------------------------------------------------------------------------------------------
# Reading

def get_row(conn: Connection, product_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(products).where(products.c.id == product_id)).mappings().first()
    return dict(row) if row else None


def children_ids(conn: Connection, parent_ids: list[int]) -> dict[int, list[int]]:
    """The variation ids of each parent (``variations``), in menu order then id, in one query."""
    out: dict[int, list[int]] = {pid: [] for pid in parent_ids}
    if not parent_ids:
        return out
    rows = conn.execute(
        select(products.c.parent_id, products.c.id)
        .where(products.c.parent_id.in_(parent_ids), products.c.type == "variation", products.c.status != "trash")
        .order_by(products.c.parent_id, products.c.menu_order, products.c.id)
    )
    for parent_id, child_id in rows:
        out[parent_id].append(child_id)
    return out


def rows_by_id(conn: Connection, ids: set[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    return {r["id"]: dict(r) for r in conn.execute(select(products).where(products.c.id.in_(ids))).mappings()}


def stock_view(row: dict[str, Any], parent: dict[str, Any] | None) -> dict[str, Any]:
    """manage_stock / stock_quantity / backorders / stock_status as the API shows them.

    A variation that does not manage stock while its parent does shows ``manage_stock: "parent"``
    and the parent's quantity, backorders and status (A2.3, rec 124).
    """
    if row["type"] == "variation" and not row["manage_stock"] and parent and parent["manage_stock"]:
        return {
            "manage_stock": "parent", "stock_quantity": parent["stock_quantity"],
            "backorders": parent["backorders"], "stock_status": parent["stock_status"], "managed": True,
        }
    return {
        "manage_stock": bool(row["manage_stock"]), "stock_quantity": row["stock_quantity"],
        "backorders": row["backorders"], "stock_status": row["stock_status"], "managed": bool(row["manage_stock"]),
    }


def _backorders_allowed(backorders: str) -> bool:
    return backorders in ("yes", "notify")


def _backordered(stock: dict[str, Any]) -> bool:
    """``is_on_backorder()``: true for status onbackorder even when unmanaged (rec 12)."""
    if stock["stock_status"] == "onbackorder":
        return True
    qty = stock["stock_quantity"] or 0
    return stock["managed"] and _backorders_allowed(stock["backorders"]) and qty < 0


def _money(value: str) -> str:
    try:
        return f"{float(value):.2f}"
    except ValueError:
        return value


def _amount_html(value: str) -> str:
    return (
        '<span class="woocommerce-Price-amount amount"><bdi><span class="woocommerce-Price-currencySymbol">'
        f"&#36;</span>{_money(value)}</bdi></span>"
    )


def price_html(row: dict[str, Any]) -> str:
    """``get_price_html`` for the plain cases (sandbox: prices as entered - the tax display
    settings are not applied - and no sale schedules)."""
    if row["type"] == "variable":
        high = row["extra"].get("price_max", row["price"])
        if row["price"] == "":
            return ""
        if high != row["price"]:
            return f"{_amount_html(row['price'])} &ndash; {_amount_html(high)}"
        return _amount_html(row["price"])
    if row["price"] == "":
        return ""
    if row["sale_price"] != "" and row["sale_price"] != row["regular_price"]:
        return (
            f'<del aria-hidden="true">{_amount_html(row["regular_price"])}</del> '
            f'<span class="screen-reader-text">Original price was: &#036;{_money(row["regular_price"])}.</span>'
            f'<ins aria-hidden="true">{_amount_html(row["sale_price"])}</ins>'
            f'<span class="screen-reader-text">Current price is: &#036;{_money(row["sale_price"])}.</span>'
        )
    return _amount_html(row["price"])


def _variation_label(row: dict[str, Any]) -> str:
    return ", ".join(str(a.get("option", "")) for a in row["extra"].get("attributes", []))


def _variation_permalink(ctx: Ctx, row: dict[str, Any], parent: dict[str, Any] | None) -> str:
    base = f"{ctx.home}/product/{parent['slug'] if parent else ''}/"
    query = "&".join(
        f"attribute_{a.get('slug') or sanitize_title(a.get('name', ''))}={urllib.parse.quote(str(a.get('option', '')))}"
        for a in row["extra"].get("attributes", [])
    )
    return f"{base}?{query}" if query else base


def _on_sale(row: dict[str, Any]) -> bool:
    return row["sale_price"] != "" and row["regular_price"] != "" and float(row["sale_price"]) < float(row["regular_price"])


def product_view(
    ctx: Ctx, row: dict[str, Any], variations: list[int], parent: dict[str, Any] | None, edit: bool = False,
) -> dict[str, Any]:
    """A product (or a variation seen through ``/products/<id>``) in the products shape."""
    ex = {**PRODUCT_DEFAULTS, **row["extra"]}
    is_variation = row["type"] == "variation"
    stock = stock_view(row, parent)
    if is_variation:
        name = f"{parent['name']} - {_variation_label(row)}" if parent else row["name"]
        slug = sanitize_title(name)
        permalink = _variation_permalink(ctx, row, parent)
    else:
        name, slug = row["name"], row["slug"]
        if slug and row["status"] in ("publish", "private"):
            permalink = f"{ctx.home}/product/{slug}/"
        else:  # drafts have no slug yet, trashed ones "__trashed" (rec 148, 152)
            permalink = f"{ctx.home}/?post_type=product&p={row['id']}"
    purchasable = row["price"] != "" and row["status"] in ("publish", "private")
    out: dict[str, Any] = {
        "id": row["id"], "name": name, "slug": slug, "permalink": permalink,
        "date_created": iso(row["created_local"]), "date_created_gmt": iso(row["created_gmt"]),
        "date_modified": iso(row["modified_local"]), "date_modified_gmt": iso(row["modified_gmt"]),
        "type": row["type"], "status": row["status"],
        "featured": ex["featured"], "catalog_visibility": ex["catalog_visibility"],
        "description": ex["description"], "short_description": ex["short_description"], "sku": row["sku"],
        "price": row["price"], "regular_price": "" if row["type"] == "variable" else row["regular_price"],
        "sale_price": "" if row["type"] == "variable" else row["sale_price"],
        "date_on_sale_from": ex["date_on_sale_from"], "date_on_sale_from_gmt": ex["date_on_sale_from_gmt"],
        "date_on_sale_to": ex["date_on_sale_to"], "date_on_sale_to_gmt": ex["date_on_sale_to_gmt"],
        "on_sale": _on_sale(row), "purchasable": purchasable,
        # a variation's total_sales comes back as a string (rec 119)
        "total_sales": str(row["total_sales"]) if is_variation else row["total_sales"],
        "virtual": ex["virtual"], "downloadable": ex["downloadable"], "downloads": ex["downloads"],
        "download_limit": ex["download_limit"], "download_expiry": ex["download_expiry"],
        "external_url": ex["external_url"], "button_text": ex["button_text"], "tax_status": ex["tax_status"],
        "tax_class": "" if is_variation and ex["tax_class"] == "parent" else ex["tax_class"],
        "manage_stock": stock["manage_stock"], "stock_quantity": stock["stock_quantity"],
        "backorders": stock["backorders"], "backorders_allowed": _backorders_allowed(stock["backorders"]),
        "backordered": _backordered(stock), "low_stock_amount": row["low_stock_amount"],
        "sold_individually": ex["sold_individually"], "weight": ex["weight"], "dimensions": ex["dimensions"],
        "shipping_required": not ex["virtual"], "shipping_taxable": not ex["virtual"] and ex["tax_status"] in ("taxable", "shipping"),
        "shipping_class": ex["shipping_class"], "shipping_class_id": 0,
        "reviews_allowed": False if is_variation else ex["reviews_allowed"],
        # "0" in edit context (create/update answers), "0.00" when viewed (rec 01 vs rec 02)
        "average_rating": "0" if edit else "0.00", "rating_count": 0,
        "upsell_ids": ex["upsell_ids"], "cross_sell_ids": ex["cross_sell_ids"], "parent_id": row["parent_id"],
        "purchase_note": ex["purchase_note"], "categories": [] if is_variation else ex["categories"],
        "tags": ex["tags"], "images": ex["images"], "attributes": ex["attributes"],
        "default_attributes": ex["default_attributes"], "variations": variations,
        "grouped_products": ex["grouped_products"], "menu_order": row["menu_order"], "price_html": price_html(row),
        "related_ids": [],  # real WooCommerce picks random related products; the sandbox shows none
        "meta_data": ex["meta_data"], "stock_status": stock["stock_status"],
        "has_options": row["type"] == "variable", "post_password": ex["post_password"],
        "global_unique_id": ex["global_unique_id"],
    }
    if row["type"] == "variable":
        out["purchasable"] = bool(variations) and row["price"] != ""
    if edit and not is_variation:
        out["permalink_template"] = f"{ctx.home}/product/%pagename%/"
        # a draft or trashed product has no (real) slug yet: WP shows the one it would generate
        out["generated_slug"] = slug if slug and row["status"] in ("publish", "private") else sanitize_title(name)
    links: dict[str, Any] = {
        "self": [{"href": f"{ctx.api}/products/{row['id']}"}],
        "collection": [{"href": f"{ctx.api}/products"}],
    }
    if row["parent_id"]:
        links["up"] = [{"href": f"{ctx.api}/products/{row['parent_id']}"}]
    out["_links"] = links
    return out


def variation_view(ctx: Ctx, row: dict[str, Any], parent: dict[str, Any] | None, edit: bool = False) -> dict[str, Any]:
    """A variation in the variations shape (rec 111, 124)."""
    ex = {**VARIATION_DEFAULTS, **row["extra"]}
    # the stored "parent" shows in edit context only (rec 111 vs rec 117)
    tax_class = "" if ex["tax_class"] == "parent" and not edit else ex["tax_class"]
    stock = stock_view(row, parent)
    pid = row["parent_id"]
    return {
        "id": row["id"], "type": "variation",
        "date_created": iso(row["created_local"]), "date_created_gmt": iso(row["created_gmt"]),
        "date_modified": iso(row["modified_local"]), "date_modified_gmt": iso(row["modified_gmt"]),
        "description": ex["description"], "permalink": _variation_permalink(ctx, row, parent), "sku": row["sku"],
        "global_unique_id": ex["global_unique_id"], "price": row["price"], "regular_price": row["regular_price"],
        "sale_price": row["sale_price"], "date_on_sale_from": ex["date_on_sale_from"],
        "date_on_sale_from_gmt": ex["date_on_sale_from_gmt"], "date_on_sale_to": ex["date_on_sale_to"],
        "date_on_sale_to_gmt": ex["date_on_sale_to_gmt"], "on_sale": _on_sale(row), "status": row["status"],
        "purchasable": row["price"] != "" and row["status"] == "publish", "virtual": ex["virtual"],
        "downloadable": ex["downloadable"], "downloads": ex["downloads"], "download_limit": ex["download_limit"],
        "download_expiry": ex["download_expiry"], "tax_status": ex["tax_status"], "tax_class": tax_class,
        "manage_stock": stock["manage_stock"], "stock_quantity": stock["stock_quantity"],
        "stock_status": stock["stock_status"], "backorders": stock["backorders"],
        "backorders_allowed": _backorders_allowed(stock["backorders"]), "backordered": _backordered(stock),
        "low_stock_amount": row["low_stock_amount"], "weight": ex["weight"], "dimensions": ex["dimensions"],
        "shipping_class": ex["shipping_class"], "shipping_class_id": 0, "image": ex["image"],
        "attributes": ex["attributes"], "menu_order": row["menu_order"], "meta_data": ex["meta_data"],
        "name": _variation_label(row), "parent_id": pid,
        "_links": {
            "self": [{"href": f"{ctx.api}/products/{pid}/variations/{row['id']}"}],
            "collection": [{"href": f"{ctx.api}/products/{pid}/variations"}],
            "up": [{"href": f"{ctx.api}/products/{pid}"}],
        },
    }


def view_rows(ctx: Ctx, conn: Connection, rows: list[dict[str, Any]], edit: bool = False) -> list[dict[str, Any]]:
    """Products-shape views of many rows with two extra queries in all (no N+1)."""
    variable_ids = [r["id"] for r in rows if r["type"] == "variable"]
    kids = children_ids(conn, variable_ids)
    parents = rows_by_id(conn, {r["parent_id"] for r in rows if r["type"] == "variation"})
    return [product_view(ctx, r, kids.get(r["id"], []), parents.get(r["parent_id"]), edit) for r in rows]


def view_one(ctx: Ctx, conn: Connection, row: dict[str, Any], edit: bool = False) -> dict[str, Any]:
    return view_rows(ctx, conn, [row], edit)[0]


# ----------------------------------------------------------------------------------------------
# Writing

def _new_row(ctx: Ctx, ptype: str, parent_id: int = 0) -> dict[str, Any]:
    return {
        "id": 0, "parent_id": parent_id, "type": ptype, "status": "publish", "sku": "", "name": "", "slug": "",
        "manage_stock": False, "stock_quantity": None, "stock_status": "instock", "backorders": "no",
        "low_stock_amount": None, "regular_price": "", "sale_price": "", "price": "", "menu_order": 0,
        "total_sales": 0, "created_gmt": ctx.gmt, "created_local": ctx.local, "modified_gmt": ctx.gmt,
        "modified_local": ctx.local, "extra": {},
    }


def _check_sku(conn: Connection, row: dict[str, Any], sku: Any) -> None:
    """``wc_product_has_unique_sku`` over products and variations that are not in the trash (A2)."""
    sku = str(sku).strip()
    if sku != "":
        owner = conn.execute(
            select(products.c.id).where(products.c.sku == sku, products.c.status != "trash", products.c.id != row["id"]).limit(1)
        ).scalar()
        if owner is not None:
            n = 1
            while conn.execute(select(products.c.id).where(products.c.sku == f"{sku}-{n}").limit(1)).scalar() is not None:
                n += 1
            raise RestError("product_invalid_sku", "Invalid or duplicated SKU.", 400, resource_id=owner, unique_sku=f"{sku}-{n}")
    row["sku"] = sku


def _set_stock_status(row: dict[str, Any], status: Any) -> None:
    """``WC_Product::set_stock_status``: an unknown value becomes instock."""
    row["stock_status"] = status if status in STOCK_STATUSES else "instock"


def _apply_common(row: dict[str, Any], req: dict[str, Any], defaults: dict[str, Any], conn: Connection, store: Store) -> None:
    """Fields other than stock that are stored as they come."""
    if "sku" in req and req["sku"] is not None:
        _check_sku(conn, row, req["sku"])
    for key in ("regular_price", "sale_price"):
        if _isset(req, key):
            row[key] = str(req[key])
    if _isset(req, "menu_order"):
        row["menu_order"] = wc_stock_amount(req["menu_order"])
    if _isset(req, "status"):
        row["status"] = str(req["status"])
    for key in defaults:
        if key in req and key not in ("meta_data", "attributes"):
            row["extra"][key] = req[key]
    if req.get("tax_class") is not None:
        # WC_Product::set_tax_class: sanitised, "standard" is "", an unknown class falls back to ""
        tax_class = sanitize_title(str(req["tax_class"]))
        tax_class = "" if tax_class == "standard" else tax_class
        valid = ["", *TAX_CLASS_SLUGS, *(["parent"] if defaults is VARIATION_DEFAULTS else [])]
        row["extra"]["tax_class"] = tax_class if tax_class in valid else ""
    if "meta_data" in req:
        row["extra"]["meta_data"] = update_meta(row["extra"].get("meta_data", []), req["meta_data"], store, conn)
    row["price"] = row["sale_price"] if row["sale_price"] != "" else row["regular_price"]


def apply_product(ctx: Ctx, conn: Connection, row: dict[str, Any], req: dict[str, Any]) -> None:
    """The products controller's ``prepare_object_for_database`` (V3 l.692-754)."""
    if _isset(req, "type") and req["type"] in PRODUCT_TYPES:
        row["type"] = req["type"]
    if _isset(req, "name"):
        row["name"] = str(req["name"])
    if _isset(req, "slug"):
        row["slug"] = _unique_slug(conn, row, sanitize_title(str(req["slug"])))
    _apply_common(row, req, PRODUCT_DEFAULTS, conn, ctx.store)
    if "attributes" in req and isinstance(req["attributes"], list):
        row["extra"]["attributes"] = [
            {
                "id": int(a.get("id") or 0), "name": a.get("name", ""), "slug": a.get("name", ""),
                "position": int(a.get("position", i)), "visible": bool(a.get("visible", False)),
                "variation": bool(a.get("variation", False)), "options": list(a.get("options", [])),
            }
            for i, a in enumerate(req["attributes"]) if isinstance(a, dict)
        ]
    stock_status = req["stock_status"] if _isset(req, "stock_status") else row["stock_status"]
    if _isset(req, "manage_stock"):
        row["manage_stock"] = wc_string_to_bool(req["manage_stock"])
    if _isset(req, "backorders"):
        row["backorders"] = str(req["backorders"])
    if row["type"] == "grouped":
        row.update(manage_stock=False, backorders="no", stock_quantity=None)
        _set_stock_status(row, stock_status)
    elif row["type"] == "external":
        row.update(manage_stock=False, backorders="no", stock_quantity=None, stock_status="instock")
    elif row["manage_stock"]:
        if row["type"] != "variable":  # a variable product's status is synced from its children
            _set_stock_status(row, stock_status)
        if _isset(req, "stock_quantity"):
            row["stock_quantity"] = wc_stock_amount(req["stock_quantity"])
        elif _isset(req, "inventory_delta"):  # undocumented relative change (rec 07)
            row["stock_quantity"] = wc_stock_amount(row["stock_quantity"]) + wc_stock_amount(req["inventory_delta"])
        if "low_stock_amount" in req:  # array_key_exists: null clears it (rec 17)
            value = req["low_stock_amount"]
            row["low_stock_amount"] = None if value is None or value == "" else wc_stock_amount(value)
    else:
        row.update(manage_stock=False, stock_quantity=None)
        _set_stock_status(row, stock_status)


def apply_variation(ctx: Ctx, conn: Connection, row: dict[str, Any], req: dict[str, Any]) -> None:
    """The variations controller's ``prepare_object_for_database`` (V3 l.242-275)."""
    _apply_common(row, req, VARIATION_DEFAULTS, conn, ctx.store)
    if "attributes" in req and isinstance(req["attributes"], list):
        row["extra"]["attributes"] = [
            {"id": int(a.get("id") or 0), "name": a.get("name", ""), "slug": sanitize_title(a.get("name", "")),
             "option": a.get("option", "")}
            for a in req["attributes"] if isinstance(a, dict)
        ]
    if _isset(req, "manage_stock"):
        # "parent" only says the variation itself does not manage stock
        row["manage_stock"] = False if req["manage_stock"] == "parent" else wc_string_to_bool(req["manage_stock"])
    if _isset(req, "backorders"):
        row["backorders"] = str(req["backorders"])
    if row["manage_stock"]:
        if _isset(req, "stock_quantity"):
            row["stock_quantity"] = wc_stock_amount(req["stock_quantity"])
        elif _isset(req, "inventory_delta"):
            row["stock_quantity"] = wc_stock_amount(row["stock_quantity"]) + wc_stock_amount(req["inventory_delta"])
        if "low_stock_amount" in req:
            value = req["low_stock_amount"]
            row["low_stock_amount"] = None if value is None or value == "" else wc_stock_amount(value)
    else:
        # a qty sent to a variation whose parent manages stock is silently dropped (rec 125)
        row.update(backorders="no", stock_quantity=None, low_stock_amount=None)
    if _isset(req, "stock_status"):
        _set_stock_status(row, req["stock_status"])


def _unique_slug(conn: Connection, row: dict[str, Any], slug: str) -> str:
    """``wp_unique_post_slug``: append -2, -3, ... on a clash."""
    slug = slug or str(row["id"] or "")
    candidate, n = slug, 2
    while conn.execute(
        select(products.c.id).where(products.c.slug == candidate, products.c.id != row["id"], products.c.type != "variation").limit(1)
    ).scalar() is not None:
        candidate, n = f"{slug}-{n}", n + 1
    return candidate


def _validate_props(ctx: Ctx, conn: Connection, row: dict[str, Any]) -> None:
    """``validate_props`` on save (A2.1) plus the variable product's child sync (A2.4)."""
    if not row["manage_stock"]:
        row.update(stock_quantity=None, backorders="no", low_stock_amount=None)
        if row["type"] == "variable":
            statuses = set(conn.execute(
                select(products.c.stock_status).where(
                    products.c.parent_id == row["id"], products.c.type == "variation", products.c.status == "publish"
                )
            ).scalars())
            row["stock_status"] = (
                "instock" if "instock" in statuses else "onbackorder" if "onbackorder" in statuses else "outofstock"
            )
        return
    if (row["stock_quantity"] or 0) > abs(int(ctx.store.config["notify_no_stock_amount"])):
        row["stock_status"] = "instock"
    elif row["backorders"] != "no":
        row["stock_status"] = "onbackorder"
    else:
        row["stock_status"] = "outofstock"


def _sync_variable_prices(conn: Connection, row: dict[str, Any]) -> None:
    prices = [
        p for p in conn.execute(
            select(products.c.price).where(
                products.c.parent_id == row["id"], products.c.type == "variation", products.c.status == "publish"
            )
        ).scalars() if p != ""
    ]
    values = sorted(prices, key=float)
    row["price"] = values[0] if values else ""
    row["extra"] = {**row["extra"], "price_max": values[-1] if values else ""}


def save(ctx: Ctx, conn: Connection, row: dict[str, Any], creating: bool) -> dict[str, Any]:
    """Save a product or variation: validate_props, bump the dates, store, sync the parent."""
    _validate_props(ctx, conn, row)
    if row["type"] == "variable":
        _sync_variable_prices(conn, row)
    if not row["slug"] and row["type"] != "variation" and row["status"] not in UNSLUGGED:
        # wp_insert_post names a post when it leaves draft; a draft keeps post_name "" (rec 148)
        row["slug"] = _unique_slug(conn, row, sanitize_title(row["name"]))
    row["modified_gmt"], row["modified_local"] = ctx.gmt, ctx.local
    if creating:
        row["id"] = ctx.store.next_id(conn, "post")
    values = {k: v for k, v in row.items() if k != "id"}
    if creating:
        conn.execute(insert(products).values(id=row["id"], **values))
    else:
        conn.execute(update(products).where(products.c.id == row["id"]).values(**values))
    suffix = "_variation" if row["type"] == "variation" else ""
    ctx.fire(f"woocommerce_{'new' if creating else 'update'}_product{suffix}", row["id"])
    if row["type"] == "variation" and row["parent_id"]:
        # WC_Product_Variation::save() -> wc_deferred_product_sync(parent): the parent re-syncs
        # price and stock status and is saved, so its date_modified moves too (rec 113, 115).
        parent = get_row(conn, row["parent_id"])
        if parent and parent["type"] == "variable":
            save(ctx, conn, parent, creating=False)
    return row


def create_product(ctx: Ctx, conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    if req.get("id"):
        raise RestError("woocommerce_rest_product_exists", "Cannot create existing product.", 400)
    row = _new_row(ctx, "simple")
    apply_product(ctx, conn, row, req)
    return save(ctx, conn, row, creating=True)


def update_product(ctx: Ctx, conn: Connection, product_id: Any, req: dict[str, Any]) -> dict[str, Any]:
    row = get_row(conn, _as_id(product_id))
    if row is None:
        raise invalid_id("product", 400)  # rec 15: a PUT of a missing id is 400, not 404
    if row["type"] == "variation":
        apply_variation(ctx, conn, row, req)
    else:
        apply_product(ctx, conn, row, req)
    return save(ctx, conn, row, creating=False)


def delete_product(ctx: Ctx, conn: Connection, product_id: Any, force: bool) -> dict[str, Any]:
    """Trash, or with ``force`` delete (with a variable product's variations). Returns the
    product's view from before (rec 149: the answer still shows the old status)."""
    row = get_row(conn, _as_id(product_id))
    if row is None:
        raise invalid_id("product", 404)
    if row["type"] == "variation":
        raise RestError(
            "woocommerce_rest_invalid_product_id",
            "To manipulate product variations you should use the /products/&lt;product_id&gt;/variations/&lt;id&gt; endpoint.",
            404,
        )
    view = view_one(ctx, conn, row, edit=True)
    if force:
        conn.execute(delete(products).where(or_(products.c.id == row["id"], and_(
            products.c.parent_id == row["id"], products.c.type == "variation"))))
    else:
        if row["status"] == "trash":
            raise RestError("woocommerce_rest_already_trashed", "The product has already been deleted.", 410)
        # wp_trash_post: remember status and slug in meta, rename the slug (rec 152)
        meta = list(row["extra"].get("meta_data", []))
        for key, value in (("_wp_trash_meta_status", row["status"]), ("_wp_trash_meta_time", str(int(ctx.store.clock()))),
                           ("_wp_desired_post_slug", row["slug"])):
            meta.append({"id": ctx.store.next_id(conn, "meta"), "key": key, "value": value})
        conn.execute(update(products).where(products.c.id == row["id"]).values(
            status="trash", slug=f"{row['slug']}__trashed", modified_gmt=ctx.gmt, modified_local=ctx.local,
            extra={**row["extra"], "meta_data": meta},
        ))
        ctx.fire("wp_trash_post", row["id"])  # product.deleted; a forced delete fires no webhook topic
    return view


def get_variation(conn: Connection, product_id: int, variation_id: Any, status: int) -> dict[str, Any]:
    """A variation that belongs to ``product_id``, else ``..._variation_invalid_id`` (rec 120, 121)."""
    row = get_row(conn, _as_id(variation_id))
    if row is None or row["type"] != "variation" or row["parent_id"] != product_id:
        raise invalid_id("product_variation", status)
    return row


def create_variation(ctx: Ctx, conn: Connection, product_id: int, req: dict[str, Any]) -> dict[str, Any]:
    if req.get("id"):
        raise RestError("woocommerce_rest_product_variation_exists", "Cannot create existing product_variation.", 400)
    parent = get_row(conn, product_id)
    if parent is None or parent["type"] == "variation":
        raise invalid_id("product", 404)
    row = _new_row(ctx, "variation", parent_id=product_id)
    apply_variation(ctx, conn, row, req)
    return save(ctx, conn, row, creating=True)


def update_variation(ctx: Ctx, conn: Connection, product_id: int, variation_id: Any, req: dict[str, Any]) -> dict[str, Any]:
    row = get_variation(conn, product_id, variation_id, 400)
    apply_variation(ctx, conn, row, req)
    return save(ctx, conn, row, creating=False)


def delete_variation(ctx: Ctx, conn: Connection, product_id: int, variation_id: Any, force: bool) -> dict[str, Any]:
    row = get_variation(conn, product_id, variation_id, 404)
    parent = get_row(conn, product_id)
    view = variation_view(ctx, row, parent, edit=True)
    if force:
        conn.execute(delete(products).where(products.c.id == row["id"]))
    else:
        if row["status"] == "trash":
            raise RestError("woocommerce_rest_already_trashed", "The product_variation has already been deleted.", 410)
        conn.execute(update(products).where(products.c.id == row["id"]).values(status="trash"))
        ctx.fire("wp_trash_post", row["id"])
    if parent:
        save(ctx, conn, parent, creating=False)
    return view


def _as_id(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


# ----------------------------------------------------------------------------------------------
# Stock changes made by orders

def stock_holder(conn: Connection, row: dict[str, Any]) -> dict[str, Any] | None:
    """The object whose stock an order line moves (``get_stock_managed_by_id``), or None when
    nothing manages stock."""
    if row["manage_stock"]:
        return row
    if row["type"] == "variation" and row["parent_id"]:
        parent = get_row(conn, row["parent_id"])
        if parent and parent["manage_stock"]:
            return parent
    return None


def change_stock(ctx: Ctx, conn: Connection, holder: dict[str, Any], delta: int) -> int:
    """``wc_update_product_stock(increase|decrease)`` on the holder; saves it (new status,
    new date_modified: rec 142) and returns the new quantity."""
    holder = get_row(conn, holder["id"]) or holder
    holder["stock_quantity"] = (holder["stock_quantity"] or 0) + delta
    save(ctx, conn, holder, creating=False)
    return holder["stock_quantity"]


def add_sales(conn: Connection, product_id: int, qty: int) -> None:
    """``update_product_sales``: a direct update, no save (the product's date does not move)."""
    conn.execute(update(products).where(products.c.id == product_id).values(total_sales=products.c.total_sales + qty))


# ----------------------------------------------------------------------------------------------
# Listing

def _date_bound(store: Store, value: str) -> str:
    """What ``WP_Date_Query::build_mysql_datetime`` compares with (A3): a naive value is taken
    as it is; a value with Z/offset is converted to *site-local* time, whichever column it is
    then compared with (so Z + dates_are_gmt=true is off by the site's UTC offset)."""
    text = value.strip().replace("t", "T")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}", text):
        return text.replace("T", " ")
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=store.tz)
    return moment.astimezone(store.tz).strftime("%Y-%m-%d %H:%M:%S")


def date_conditions(store: Store, table, args: dict[str, Any]) -> list:
    """Strict ``>``/``<`` date filters on the local or the GMT column (A3)."""
    gmt = bool(args.get("dates_are_gmt"))
    columns = {
        "after": table.c.created_gmt if gmt else table.c.created_local,
        "before": table.c.created_gmt if gmt else table.c.created_local,
        "modified_after": table.c.modified_gmt if gmt else table.c.modified_local,
        "modified_before": table.c.modified_gmt if gmt else table.c.modified_local,
    }
    out = []
    for name, column in columns.items():
        if args.get(name):
            bound = _date_bound(store, args[name])
            out.append(column > bound if name.endswith("after") else column < bound)
    return out


def order_clause(table, args: dict[str, Any], title_column=None) -> list:
    """A stable ORDER BY. Real WC 9.4.3 drops the id tie-breaker for orderby=date (A3), so pages
    can repeat or skip items there; the sandbox always breaks ties by id."""
    direction = "asc" if args.get("order") == "asc" else "desc"
    orderby = args.get("orderby") or "date"

    def d(column):
        return column.asc() if direction == "asc" else column.desc()

    if orderby == "include" and args.get("include"):
        ids = list(args["include"])
        return [case({pid: i for i, pid in enumerate(ids)}, value=table.c.id, else_=len(ids)).asc()]
    mapping = {
        "date": table.c.created_gmt, "modified": table.c.modified_gmt, "title": title_column,
        "slug": getattr(table.c, "slug", None), "menu_order": getattr(table.c, "menu_order", None),
        "popularity": getattr(table.c, "total_sales", None),
    }
    if orderby == "price" and hasattr(table.c, "price"):
        return [d(cast(table.c.price, Float)), d(table.c.id)]
    column = mapping.get(orderby)
    if column is None:
        return [d(table.c.id)]
    return [d(column), d(table.c.id)]


PRODUCT_LIST_SCHEMA: dict[str, dict[str, Any]] = {
    "context": {"type": "string", "enum": ["view", "edit"]},
    "page": {"type": "integer", "minimum": 1},
    "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
    "search": _STR,
    "after": {"type": "string", "format": "date-time"}, "before": {"type": "string", "format": "date-time"},
    "modified_after": {"type": "string", "format": "date-time"},
    "modified_before": {"type": "string", "format": "date-time"},
    "dates_are_gmt": _BOOL,
    "exclude": {"type": "array", "items": _INT}, "include": {"type": "array", "items": _INT},
    "offset": _INT, "order": {"type": "string", "enum": ["asc", "desc"]},
    "orderby": {"type": "string", "enum": [
        "date", "id", "include", "title", "slug", "modified", "popularity", "rating", "popularity", "rating",
        "menu_order", "price", "popularity", "rating"]},  # sic: rec 168 lists some twice
    "parent": {"type": "array", "items": _INT}, "parent_exclude": {"type": "array", "items": _INT},
    "slug": _STR, "status": {"type": "string", "enum": ["any", "future", "trash", "draft", "pending", "private", "publish"]},
    "type": {"type": "string", "enum": PRODUCT_TYPES}, "sku": _STR, "featured": _BOOL, "on_sale": _BOOL,
    "stock_status": {"type": "string", "enum": STOCK_STATUSES}, "search_sku": _STR,
}
VARIATION_LIST_SCHEMA = {
    k: v for k, v in PRODUCT_LIST_SCHEMA.items()
    if k not in ("type", "featured", "parent", "parent_exclude", "search_sku")
}


def id_filters(c, args: dict[str, Any]) -> list:
    """The collection filters products and orders share (A3): include, exclude, parent, parent_exclude."""
    where = []
    for key, column, negate in (("include", c.id, False), ("exclude", c.id, True),
                                ("parent", c.parent_id, False), ("parent_exclude", c.parent_id, True)):
        if args.get(key):
            where.append(column.notin_(args[key]) if negate else column.in_(args[key]))
    return where


def list_products(ctx: Ctx, conn: Connection, args: dict[str, Any], parent_id: int | None = None) -> tuple[list[dict], int]:
    """One page of products (or of one parent's variations) and the total count."""
    c = products.c
    where = []
    skus = [s.strip() for s in str(args.get("sku", "")).split(",") if s.strip()]
    if parent_id is not None:
        where += [c.parent_id == parent_id, c.type == "variation"]
    elif skus:
        where.append(c.sku.in_(skus))  # the sku filter also searches variations (rec 118)
    else:
        where.append(c.type != "variation")
    status = args.get("status") or "any"
    where.append(c.status.notin_(["trash", "auto-draft"]) if status == "any" else c.status == status)
    where += id_filters(c, args)
    if args.get("type"):
        where.append(c.type == args["type"])
    if args.get("stock_status"):
        where.append(c.stock_status == args["stock_status"])
    if args.get("slug"):
        where.append(c.slug == args["slug"])
    if args.get("search"):
        where.append(c.name.like(f"%{args['search']}%"))
    if args.get("search_sku"):
        where.append(c.sku.like(f"%{args['search_sku']}%"))
    if args.get("featured") is not None:
        where.append(func.coalesce(func.json_extract(c.extra, "$.featured"), False) == bool(args["featured"]))
    where += date_conditions(ctx.store, products, args)
    total = conn.execute(select(func.count()).select_from(products).where(*where)).scalar()
    per_page = args.get("per_page") or 10
    offset = args["offset"] if args.get("offset") is not None else (args.get("page", 1) - 1) * per_page
    rows = conn.execute(
        select(products).where(*where).order_by(*order_clause(products, args, c.name)).limit(per_page).offset(offset)
    ).mappings()
    return [dict(r) for r in rows], total


# ----------------------------------------------------------------------------------------------
# Datasets

def load_dataset(store: Store, name: str) -> None:
    """Bulk-load ``sandbox.common.catalogue.build(name)`` with its explicit ids, and start the
    post id sequence after the highest one."""
    from sandbox.common import catalogue

    cat = catalogue.build(name)
    gmt, local = store.now()
    stamp = {"created_gmt": gmt, "created_local": local, "modified_gmt": gmt, "modified_local": local}
    rows: list[dict[str, Any]] = []
    meta_id = 1
    for p in cat.products:
        extra: dict[str, Any] = {}
        if p.sold_individually:
            extra["sold_individually"] = True
        if p.meta_data:
            extra["meta_data"] = [{"id": meta_id + i, "key": m["key"], "value": m["value"]} for i, m in enumerate(p.meta_data)]
            meta_id += len(p.meta_data)
        if p.type == "variable":
            extra["attributes"] = [{
                "id": 0, "name": p.attribute, "slug": p.attribute, "position": 0, "visible": True, "variation": True,
                "options": [v.option for v in p.variations],
            }]
            prices = sorted((v.price for v in p.variations), key=float)
            extra["price_max"] = prices[-1] if prices else ""
        rows.append({
            "id": p.id, "parent_id": 0, "type": p.type, "status": p.status, "sku": p.sku, "name": p.name,
            "slug": sanitize_title(p.name), "manage_stock": p.manage_stock, "stock_quantity": p.stock_quantity,
            "stock_status": p.stock_status, "backorders": p.backorders, "low_stock_amount": p.low_stock_amount,
            "regular_price": "" if p.type == "variable" else p.price, "sale_price": "",
            "price": (sorted((v.price for v in p.variations), key=float) or [""])[0] if p.type == "variable" else p.price,
            "menu_order": 0, "total_sales": 0, **stamp, "extra": extra,
        })
        for i, v in enumerate(p.variations):
            rows.append({
                "id": v.id, "parent_id": p.id, "type": "variation", "status": "publish", "sku": v.sku, "name": p.name,
                "slug": "", "manage_stock": v.manage_stock, "stock_quantity": v.stock_quantity,
                "stock_status": v.stock_status, "backorders": v.backorders, "low_stock_amount": v.low_stock_amount,
                "regular_price": v.price, "sale_price": "", "price": v.price, "menu_order": i + 1, "total_sales": 0,
                **stamp, "extra": {"attributes": [
                    {"id": 0, "name": p.attribute, "slug": sanitize_title(p.attribute), "option": v.option}]},
            })
    with store.lock, store.engine.begin() as conn:
        if rows:
            conn.execute(insert(products), rows)
        next_post = max((r["id"] for r in rows), default=catalogue.FIRST_WOO_ID - 1) + 1
        conn.execute(insert(counters), [
            {"name": "post", "value": next_post}, {"name": "meta", "value": meta_id},
        ])
