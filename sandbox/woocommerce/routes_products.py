"""``/products``, ``/products/<id>``, ``/products/batch`` and the variations routes."""

from __future__ import annotations

from typing import Any

from sandbox.woocommerce import products as P
from sandbox.woocommerce.errors import invalid_id, to_bool, validate
from sandbox.woocommerce.http import Reply, Req, collection, fields_filter, run_batch

# WC's V3 products controller appends these after the V2 fields, so a _fields answer lists them
# last whatever their place in _fields (rec 38: stock_status comes after date_modified_gmt).
PRODUCT_TAIL = ("stock_status", "has_options", "post_password", "global_unique_id", "permalink_template", "generated_slug")


def _single(req: Req, body: dict[str, Any], status: int = 200, location: str | None = None,
            tail: tuple[str, ...] = ()) -> Reply:
    headers = {"Location": location} if location else {}
    return Reply(status, fields_filter(body, req.params.get("_fields"), tail), headers)


def _product_id(req: Req) -> Any:
    return req.params.get("id", req.url_params.get("id"))


async def list_products(req: Req) -> Reply:
    args = validate(req.params, P.PRODUCT_LIST_SCHEMA)
    rows, total = req.tx(lambda conn: P.list_products(req.ctx, conn, args))
    views = req.tx(lambda conn: P.view_rows(req.ctx, conn, rows))
    return collection(req, views, total, args, "products", tail=PRODUCT_TAIL)


async def create_product(req: Req) -> Reply:
    args = validate({**P.PRODUCT_CREATE_DEFAULTS, **req.params}, P.PRODUCT_SCHEMA)
    await req.pause()

    def work(conn):
        row = P.create_product(req.ctx, conn, args)
        return P.view_one(req.ctx, conn, row, edit=True)

    view = req.tx(work)
    return _single(req, view, 201, f"{req.ctx.api}/products/{view['id']}", PRODUCT_TAIL)


async def get_product(req: Req) -> Reply:
    def work(conn):
        row = P.get_row(conn, P._as_id(_product_id(req)))
        if row is None:
            raise invalid_id("product", 404)
        return P.view_one(req.ctx, conn, row, edit=req.params.get("context") == "edit")

    return _single(req, req.tx(work), tail=PRODUCT_TAIL)


async def update_product(req: Req) -> Reply:
    args = validate(req.params, P.PRODUCT_SCHEMA)
    await req.pause()

    def work(conn):
        row = P.update_product(req.ctx, conn, _product_id(req), args)
        return P.view_one(req.ctx, conn, row, edit=True)

    return _single(req, req.tx(work), tail=PRODUCT_TAIL)


async def delete_product(req: Req) -> Reply:
    force = to_bool(req.params.get("force", False))
    return _single(req, req.tx(lambda conn: P.delete_product(req.ctx, conn, _product_id(req), force)), tail=PRODUCT_TAIL)


async def batch_products(req: Req) -> Reply:
    ctx = req.ctx

    def create(conn, item):
        row = P.create_product(ctx, conn, {**P.PRODUCT_CREATE_DEFAULTS, **item})
        return P.view_one(ctx, conn, row, edit=True)

    def update(conn, item):
        return P.view_one(ctx, conn, P.update_product(ctx, conn, item.get("id"), item), edit=True)

    return await run_batch(
        req, req.body, create, update,
        lambda conn, item_id: P.delete_product(ctx, conn, item_id, force=True),
    )


def _parent_id(req: Req) -> int:
    return P._as_id(req.params.get("product_id", req.url_params["product_id"]))


def _variation_view(req: Req, conn, row: dict[str, Any], edit: bool = True) -> dict[str, Any]:
    return P.variation_view(req.ctx, row, P.get_row(conn, row["parent_id"]), edit)


async def list_variations(req: Req) -> Reply:
    args = validate(req.params, P.VARIATION_LIST_SCHEMA)
    parent_id = _parent_id(req)

    def work(conn):
        rows, total = P.list_products(req.ctx, conn, args, parent_id=parent_id)
        parent = P.get_row(conn, parent_id)
        return [P.variation_view(req.ctx, r, parent) for r in rows], total

    views, total = req.tx(work)
    # Real WooCommerce builds this Link from the route regex (see the Location of rec 111); the
    # sandbox links the plain path. Not recorded: no recording pages through variations.
    return collection(req, views, total, args, f"products/{parent_id}/variations")


async def create_variation(req: Req) -> Reply:
    args = validate({**P.VARIATION_CREATE_DEFAULTS, **req.params}, P.VARIATION_SCHEMA)
    parent_id = _parent_id(req)
    await req.pause()

    def work(conn):
        return _variation_view(req, conn, P.create_variation(req.ctx, conn, parent_id, args))

    view = req.tx(work)
    # sic: WooCommerce puts the route regex into this Location header (rec 111)
    location = f"{req.ctx.api}/products/(?P<product_id>[\\d]+)/variations/{view['id']}"
    return _single(req, view, 201, location)


async def get_variation(req: Req) -> Reply:
    def work(conn):
        row = P.get_variation(conn, _parent_id(req), _product_id(req), 404)
        return _variation_view(req, conn, row, edit=req.params.get("context") == "edit")

    return _single(req, req.tx(work))


async def update_variation(req: Req) -> Reply:
    args = validate(req.params, P.VARIATION_SCHEMA)
    parent_id = _parent_id(req)
    await req.pause()

    def work(conn):
        return _variation_view(req, conn, P.update_variation(req.ctx, conn, parent_id, _product_id(req), args))

    return _single(req, req.tx(work))


async def delete_variation(req: Req) -> Reply:
    force = to_bool(req.params.get("force", False))
    parent_id = _parent_id(req)
    return _single(req, req.tx(lambda conn: P.delete_variation(req.ctx, conn, parent_id, _product_id(req), force)))


async def batch_variations(req: Req) -> Reply:
    ctx, parent_id = req.ctx, _parent_id(req)

    def create(conn, item):
        return _variation_view(req, conn, P.create_variation(ctx, conn, parent_id, {**P.VARIATION_CREATE_DEFAULTS, **item}))

    def update(conn, item):
        return _variation_view(req, conn, P.update_variation(ctx, conn, parent_id, item.get("id"), item))

    return await run_batch(
        req, req.body, create, update,
        lambda conn, item_id: P.delete_variation(ctx, conn, parent_id, item_id, force=True),
    )
