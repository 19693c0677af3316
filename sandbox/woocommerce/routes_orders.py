"""``/orders``, ``/orders/<id>``, ``/orders/batch``, ``/orders/<id>/notes`` and ``/orders/<id>/refunds``."""

from __future__ import annotations

from typing import Any

from sandbox.woocommerce import orders as O  # noqa: N812
from sandbox.woocommerce.errors import RestError, invalid_id, to_bool, validate
from sandbox.woocommerce.http import Reply, Req, collection, fields_filter, run_batch, sanitized_pairs
from sandbox.woocommerce.store import notes, refunds


def _single(req: Req, body: dict[str, Any], status: int = 200, location: str | None = None) -> Reply:
    return Reply(status, fields_filter(body, req.params.get("_fields")), {"Location": location} if location else {})


def _id(req: Req) -> Any:
    return req.params.get("id", req.url_params.get("id"))


def _order_id(req: Req) -> Any:
    return req.params.get("order_id", req.url_params.get("order_id"))


async def list_orders(req: Req) -> Reply:
    args = validate(req.params, O.ORDER_LIST_SCHEMA)

    def work(conn):
        rows, total = O.list_orders(req.ctx, conn, args)
        return [O.order_view(req.ctx, conn, r) for r in rows], total

    views, total = req.tx(work)
    # The orders controller writes back what it used, so its Link carries them too (rec 93):
    # the statuses as an array ("put back for next/prev links"), then dp and context, which
    # preparing the first order sets.
    pairs = sanitized_pairs(req, args)
    names = [k for k, _ in pairs]
    if "status" in names:
        pairs[names.index("status")] = ("status", args.get("status"))
    else:
        pairs.append(("status", ["any"]))
    if views:
        pairs += [(k, v) for k, v in (("dp", 2), ("context", "view")) if k not in names]
    return collection(req, views, total, args, "orders", link_params=pairs)


async def create_order(req: Req) -> Reply:
    args = validate({"status": "pending", **req.params}, O.ORDER_SCHEMA)
    view, saved, error = req.tx(lambda conn: _created(req, conn, args))
    await req.pause(saved)
    if error is not None:  # the order is saved, the answer is the coupon error (real WC does the same)
        raise error
    return _single(req, view, 201, f"{req.ctx.api}/orders/{view['id']}")


def _created(req: Req, conn, args: dict[str, Any]) -> tuple[dict[str, Any], int, RestError | None]:
    order, saved, error = O.create_order(req.ctx, conn, args)
    return O.order_view(req.ctx, conn, O.get_order(conn, order["id"])), saved, error


def _updated(req: Req, conn, order_id: Any, args: dict[str, Any]) -> tuple[dict[str, Any], int, RestError | None]:
    order, saved, error = O.update_order(req.ctx, conn, order_id, args)
    return O.order_view(req.ctx, conn, O.get_order(conn, order["id"])), saved, error


def _view_or_error(result: tuple[dict[str, Any], int, RestError | None]) -> dict[str, Any] | RestError:
    """For a batch item: the view, or the coupon error to report once the item is committed."""
    view, _, error = result
    return error if error is not None else view


async def get_order(req: Req) -> Reply:
    def work(conn):
        order = O.get_order(conn, _id(req))
        if order is None:
            raise invalid_id("shop_order", 404)
        return O.order_view(req.ctx, conn, order)

    return _single(req, req.tx(work))


async def update_order(req: Req) -> Reply:
    args = validate(req.params, O.ORDER_SCHEMA)
    view, saved, error = req.tx(lambda conn: _updated(req, conn, _id(req), args))
    await req.pause(saved)
    if error is not None:
        raise error
    return _single(req, view)


async def delete_order(req: Req) -> Reply:
    force = to_bool(req.params.get("force", False))
    return _single(req, req.tx(lambda conn: O.delete_order(req.ctx, conn, _id(req), force)))


async def batch_orders(req: Req) -> Reply:
    return await run_batch(
        req, req.body,
        lambda conn, item: _view_or_error(_created(req, conn, {"status": "pending", **item})),
        lambda conn, item: _view_or_error(_updated(req, conn, item.get("id"), item)),
        lambda conn, item_id: O.delete_order(req.ctx, conn, item_id, force=True),
    )


async def list_notes(req: Req) -> Reply:
    kind = req.params.get("type", "any")
    return Reply(200, fields_filter(req.tx(lambda conn: O.list_notes(req.ctx, conn, _order_id(req), kind)),
                                    req.params.get("_fields")))


async def create_note(req: Req) -> Reply:
    args = validate(req.params, O.NOTE_SCHEMA)
    if not args.get("note"):
        raise RestError("rest_missing_callback_param", "Missing parameter(s): note", 400, params=["note"])

    def work(conn):
        order = O.get_order(conn, _order_id(req))
        if order is None:
            raise RestError("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404)
        author = "admin" if args.get("added_by_user") else "WooCommerce"
        return O.note_view(req.ctx, O.add_note(req.ctx, conn, order["id"], args["note"],
                                                bool(args.get("customer_note")), author))

    view = req.tx(work)
    return _single(req, view, 201, f"{req.ctx.api}/orders/{_order_id(req)}/notes/{view['id']}")


async def get_note(req: Req) -> Reply:
    def work(conn):
        row = conn.execute(notes.select().where(notes.c.id == int(_id(req)), notes.c.order_id == int(_order_id(req)))).mappings().first()
        if row is None:
            raise RestError("woocommerce_rest_invalid_id", "Invalid resource ID.", 404)
        return O.note_view(req.ctx, dict(row))

    return _single(req, req.tx(work))


async def delete_note(req: Req) -> Reply:
    if not to_bool(req.params.get("force", False)):
        raise RestError("woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.", 501)

    def work(conn):
        row = conn.execute(notes.select().where(notes.c.id == int(_id(req)), notes.c.order_id == int(_order_id(req)))).mappings().first()
        if row is None:
            raise RestError("woocommerce_rest_invalid_id", "Invalid resource ID.", 404)
        conn.execute(notes.delete().where(notes.c.id == row["id"]))
        return O.note_view(req.ctx, dict(row))

    return _single(req, req.tx(work))


async def list_refunds(req: Req) -> Reply:
    items = req.tx(lambda conn: O.list_refunds(req.ctx, conn, _order_id(req)))
    args = validate(req.params, {"page": {"type": "integer", "minimum": 1},
                                 "per_page": {"type": "integer", "minimum": 1, "maximum": 100}})
    per_page, page = args.get("per_page") or 10, args.get("page") or 1
    return collection(req, items[(page - 1) * per_page: page * per_page], len(items), args,
                      f"orders/{_order_id(req)}/refunds")


async def create_refund(req: Req) -> Reply:
    args = validate({"api_refund": True, "api_restock": True, **req.params}, O.REFUND_SCHEMA)

    def work(conn):
        row, saved = O.create_refund(req.ctx, conn, _order_id(req), args)
        return O.refund_view(req.ctx, row), saved

    try:
        view, saved = req.tx(work)
    except RestError as err:
        if err.burns_post_id:
            req.tx(lambda conn: req.store.next_id(conn, "post"))
        raise
    await req.pause(saved)
    # sic: WooCommerce puts the route regex into this Location header (rec 84)
    location = f"{req.ctx.api}/orders/(?P<order_id>[\\d]+)/refunds/{view['id']}"
    return _single(req, view, 201, location)


async def get_refund(req: Req) -> Reply:
    def work(conn):
        row = conn.execute(refunds.select().where(
            refunds.c.id == int(_id(req)), refunds.c.order_id == int(_order_id(req)))).mappings().first()
        if row is None:
            raise invalid_id("shop_order_refund", 404)
        return O.refund_view(req.ctx, dict(row))

    return _single(req, req.tx(work))


async def delete_refund(req: Req) -> Reply:
    if not to_bool(req.params.get("force", False)):
        raise RestError("woocommerce_rest_trash_not_supported", "Refunds do not support trashing.", 501)

    def work(conn):
        row = conn.execute(refunds.select().where(
            refunds.c.id == int(_id(req)), refunds.c.order_id == int(_order_id(req)))).mappings().first()
        if row is None:
            raise invalid_id("shop_order_refund", 404)
        view = O.refund_view(req.ctx, dict(row))
        conn.execute(refunds.delete().where(refunds.c.id == row["id"]))
        return view

    return _single(req, req.tx(work))
