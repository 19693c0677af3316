"""``/settings/<group>[/<id>]``, ``/taxes[/<id>]``, ``/taxes/classes`` and ``/coupons[/<id>]``."""

from __future__ import annotations

from typing import Any

from sandbox.woocommerce import coupons as C  # noqa: N812
from sandbox.woocommerce import settings as S  # noqa: N812
from sandbox.woocommerce import taxes as T  # noqa: N812
from sandbox.woocommerce.errors import RestError, to_bool, validate
from sandbox.woocommerce.http import Reply, Req, collection, fields_filter, run_batch


def _single(req: Req, body: Any, status: int = 200, location: str | None = None) -> Reply:
    return Reply(status, fields_filter(body, req.params.get("_fields")), {"Location": location} if location else {})


def _id(req: Req) -> Any:
    return req.url_params.get("id")


# --- settings ---------------------------------------------------------------------------------

async def list_settings(req: Req) -> Reply:
    group = req.url_params["group_id"]
    return _single(req, req.tx(lambda conn: S.list_group(req.ctx.api, conn, group)))


async def get_setting(req: Req) -> Reply:
    group = req.url_params["group_id"]
    return _single(req, req.tx(lambda conn: S.get_setting(req.ctx.api, conn, group, _id(req))))


async def update_setting(req: Req) -> Reply:
    group = req.url_params["group_id"]
    value = req.params.get("value")
    return _single(req, req.tx(lambda conn: S.update_setting(req.ctx.api, conn, group, _id(req), value)))


# --- taxes ------------------------------------------------------------------------------------

async def list_taxes(req: Req) -> Reply:
    args = validate(req.params, T.TAX_LIST_SCHEMA)
    rows, total = req.tx(lambda conn: T.list_rates(conn, args))
    return collection(req, [T.rate_view(req.ctx.api, r) for r in rows], total, args, "taxes")


async def create_tax(req: Req) -> Reply:
    args = validate({**T.TAX_CREATE_DEFAULTS, **req.params}, T.TAX_SCHEMA)
    if args.get("id"):
        raise RestError("woocommerce_rest_tax_exists", "Cannot create existing resource.", 400)
    view = T.rate_view(req.ctx.api, req.tx(lambda conn: T.create_or_update(conn, args)))
    return _single(req, view, 201, f"{req.ctx.api}/taxes/{view['id']}")


async def get_tax(req: Req) -> Reply:
    return _single(req, T.rate_view(req.ctx.api, req.tx(lambda conn: T.must_rate(conn, _id(req), 404))))


async def update_tax(req: Req) -> Reply:
    args = validate(req.params, T.TAX_SCHEMA)

    def work(conn):
        return T.create_or_update(conn, args, T.must_rate(conn, _id(req), 404))

    return _single(req, T.rate_view(req.ctx.api, req.tx(work)))


async def delete_tax(req: Req) -> Reply:
    if not to_bool(req.params.get("force", False)):
        raise RestError("woocommerce_rest_trash_not_supported", "Taxes do not support trashing.", 501)

    def work(conn):
        row = T.must_rate(conn, _id(req), 400)
        T.delete_rate(conn, row["id"])
        return row

    return _single(req, T.rate_view(req.ctx.api, req.tx(work)))


async def list_tax_classes(req: Req) -> Reply:
    return _single(req, T.classes_view(req.ctx.api))


# --- coupons ----------------------------------------------------------------------------------

async def list_coupons(req: Req) -> Reply:
    args = validate(req.params, C.COUPON_LIST_SCHEMA)

    def work(conn):
        rows, total = C.list_coupons(req.ctx, conn, args)
        return [C.coupon_view(req.ctx, r) for r in rows], total

    views, total = req.tx(work)
    return collection(req, views, total, args, "coupons")


async def create_coupon(req: Req) -> Reply:
    args = validate({"discount_type": "fixed_cart", **req.params}, C.COUPON_SCHEMA)
    await req.pause()
    view = req.tx(lambda conn: C.coupon_view(req.ctx, C.create_coupon(req.ctx, conn, args)))
    return _single(req, view, 201, f"{req.ctx.api}/coupons/{view['id']}")


async def get_coupon(req: Req) -> Reply:
    def work(conn):
        row = C.get_coupon(conn, _id(req))
        if row is None:
            raise RestError("woocommerce_rest_shop_coupon_invalid_id", "Invalid ID.", 404)
        return C.coupon_view(req.ctx, row)

    return _single(req, req.tx(work))


async def update_coupon(req: Req) -> Reply:
    args = validate(req.params, C.COUPON_SCHEMA)
    await req.pause()
    return _single(req, req.tx(lambda conn: C.coupon_view(req.ctx, C.update_coupon(req.ctx, conn, _id(req), args))))


async def delete_coupon(req: Req) -> Reply:
    force = to_bool(req.params.get("force", False))
    return _single(req, req.tx(lambda conn: C.delete_coupon(req.ctx, conn, _id(req), force)))


async def batch_coupons(req: Req) -> Reply:
    ctx = req.ctx
    return await run_batch(
        req, req.body,
        lambda conn, item: C.coupon_view(ctx, C.create_coupon(ctx, conn, {"discount_type": "fixed_cart", **item})),
        lambda conn, item: C.coupon_view(ctx, C.update_coupon(ctx, conn, item.get("id"), item)),
        lambda conn, item_id: C.delete_coupon(ctx, conn, item_id, force=True),
    )
