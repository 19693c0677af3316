"""``/webhooks``, ``/webhooks/<id>`` and ``/webhooks/batch``: ``WC_REST_Webhooks_Controller``
(V3 over V2 over V1) as WooCommerce 9.4.3 runs it; delivery itself is in webhooks.py.

What the answers look like comes from the webhook recordings (rest-01..07, 19, 20, 23, 24, 26);
the validation and error codes from the V1 controller, which no recording contradicts:

- create: ``topic`` and ``delivery_url`` are required (``rest_missing_callback_param``); then
  ``woocommerce_rest_shop_webhook_exists`` (an ``id``), ``..._invalid_topic`` "Webhook topic is
  required and must be valid." and ``..._invalid_delivery_url`` "Webhook delivery URL must be a
  valid URL starting with http:// or https://." (400). ``status`` is checked against the enum but
  then ignored: a webhook made through the API always starts ``active``. Without ``name`` it is
  "Webhook created on <date>", without ``secret`` a random 50-character one. 201 with
  ``Location``, then the ping (the answer is 201 whatever the ping got).
- read/update of a missing id: 400 ``woocommerce_rest_shop_webhook_invalid_id`` "ID is invalid."
  (``prepare_item_for_response`` fails; only id 0 gives 404 "Invalid ID."); delete without
  ``force=true``: 501 ``woocommerce_rest_trash_not_supported`` "Webhooks do not support trashing.";
  delete of a missing id: 404 "Invalid ID.".
- list: ``page``/``per_page``/``offset``, ``search`` (name), ``status`` (all|active|paused|disabled),
  ``include``/``exclude``, ``after``/``before`` (date_created_gmt, inclusive), ``orderby``
  (date|id|title, default date) and ``order`` (default desc). ``X-WP-TotalPages`` is 1 whenever
  ``per_page`` is 1 (``search_webhooks``: ``limit > 1 ? ceil(total / limit) : 1``).
- batch: items skip schema validation (A4); the pings of created webhooks go out after the batch
  (real WooCommerce pings each one while creating it).
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import and_, func, select

from sandbox.woocommerce import webhooks as W  # noqa: N812
from sandbox.woocommerce.errors import RestError, to_bool, validate
from sandbox.woocommerce.http import Reply, Req, collection, fields_filter, run_batch
from sandbox.woocommerce.store import webhooks

KIND = "shop_webhook"
ITEM_SCHEMA = {
    "name": {"type": "string"},
    "status": {"type": "string", "enum": list(W.STATUSES)},
    "topic": {"type": "string"},
    "secret": {"type": "string"},
}
CREATE_SCHEMA = {**ITEM_SCHEMA, "delivery_url": {"type": "string"}}
LIST_SCHEMA = {
    "context": {"type": "string", "enum": ["view", "edit"]},
    "page": {"type": "integer", "minimum": 1},
    "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
    "search": {"type": "string"},
    "after": {"type": "string", "format": "date-time"},
    "before": {"type": "string", "format": "date-time"},
    "exclude": {"type": "array", "items": {"type": "integer"}},
    "include": {"type": "array", "items": {"type": "integer"}},
    "offset": {"type": "integer"},
    "order": {"type": "string", "enum": ["asc", "desc"]},
    "orderby": {"type": "string", "enum": ["date", "id", "title"]},
    "status": {"type": "string", "enum": ["all", "active", "paused", "disabled"]},
}


def _php_empty(value: Any) -> bool:
    return value is None or value is False or value == "" or value == "0" or value == 0 or value == [] or value == {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _runtime(req: Req) -> W.WebhookRuntime:
    return req.store.webhooks


def _single(req: Req, body: dict[str, Any], status: int = 200, location: str | None = None) -> Reply:
    return Reply(status, fields_filter(body, req.params.get("_fields")), {"Location": location} if location else {})


def _missing() -> RestError:
    return RestError(f"woocommerce_rest_{KIND}_invalid_id", "ID is invalid.", 400)


# ----------------------------------------------------------------------------------------------
# The controller's work, shared by the single routes and the batch

def _create(req: Req, conn, item: dict[str, Any]) -> dict[str, Any]:
    if not _php_empty(item.get("id")):
        raise RestError(f"woocommerce_rest_{KIND}_exists", f"Cannot create existing {KIND}.", 400)
    topic = _text(item.get("topic"))
    if _php_empty(topic) or not W.valid_topic(topic.lower()):
        raise RestError(f"woocommerce_rest_{KIND}_invalid_topic", "Webhook topic is required and must be valid.", 400)
    url = _text(item.get("delivery_url"))
    if _php_empty(url) or not W.valid_url(url):
        raise RestError(f"woocommerce_rest_{KIND}_invalid_delivery_url",
                        "Webhook delivery URL must be a valid URL starting with http:// or https://.", 400)
    name = _text(item.get("name")) if not _php_empty(item.get("name")) else W.default_name(req.store)
    secret = _text(item.get("secret")) if not _php_empty(item.get("secret")) else W.generate_secret()
    return W.insert_webhook(req.ctx, conn, name, W.clean_topic(topic), url, secret)


def _update(req: Req, conn, webhook_id: Any, item: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    row = W.get_webhook(conn, webhook_id)
    if row is None:
        raise _missing()
    changes: dict[str, Any] = {}
    if not _php_empty(item.get("topic")):
        topic = _text(item["topic"])
        if not W.valid_topic(topic.lower()):
            raise RestError(f"woocommerce_rest_{KIND}_invalid_topic", "Webhook topic must be valid.", 400)
        changes["topic"] = W.clean_topic(topic)
    if not _php_empty(item.get("delivery_url")):
        url = _text(item["delivery_url"])
        if not W.valid_url(url):
            raise RestError(f"woocommerce_rest_{KIND}_invalid_delivery_url",
                            "Webhook delivery URL must be a valid URL starting with http:// or https://.", 400)
        changes["delivery_url"] = url
    if not _php_empty(item.get("secret")):
        changes["secret"] = _text(item["secret"])
    if not _php_empty(item.get("status")):
        status = _text(item["status"])
        if status.lower() not in W.STATUSES:
            raise RestError(f"woocommerce_rest_{KIND}_invalid_status", "Webhook status must be valid.", 400)
        changes["status"] = status if status in W.STATUSES else "disabled"  # set_status: unknown -> disabled
    if not _php_empty(item.get("name")):
        changes["name"] = _text(item["name"])
    must_ping = W.save_webhook(req.store, conn, row, changes)
    return row, must_ping


def _delete(req: Req, conn, webhook_id: Any) -> dict[str, Any]:
    row = W.get_webhook(conn, webhook_id)
    if row is None:
        raise RestError(f"woocommerce_rest_{KIND}_invalid_id", "Invalid ID.", 404)
    view = W.webhook_view(req.ctx.api, row)
    conn.execute(webhooks.delete().where(webhooks.c.id == row["id"]))
    return view


def _zero_id(req: Req) -> None:
    if int(req.url_params.get("id", "0") or 0) == 0:
        raise RestError(f"woocommerce_rest_{KIND}_invalid_id", "Invalid ID.", 404)


# ----------------------------------------------------------------------------------------------
# Routes

async def list_webhooks(req: Req) -> Reply:
    args = validate(req.params, LIST_SCHEMA)
    per_page = args.get("per_page") or 10
    page = args.get("page") or 1
    offset = args.get("offset") or 0
    if not offset:
        offset = (page - 1) * per_page if page > 1 else 0
    else:
        page = -(-offset // per_page) + 1  # ceil(offset / per_page + 1)
    c = webhooks.c
    where = []
    status = args.get("status") or "all"
    if status != "all":
        where.append(c.status == status)
    if args.get("search"):
        where.append(c.name.like(f"%{args['search'].strip()}%"))
    if args.get("include"):
        where.append(c.id.in_(args["include"]))
    if args.get("exclude"):
        where.append(c.id.not_in(args["exclude"]))
    if args.get("after") or args.get("before"):
        def norm(value: str) -> str:
            return value.replace("T", " ").replace("t", " ")[:19]
        where.append(c.created_gmt.between(norm(args.get("after") or "0000-00-00 00:00:00"),
                                           norm(args.get("before") or req.store.now()[0])))
    column = {"date": c.created_gmt, "id": c.id, "title": c.name}[args.get("orderby") or "date"]
    desc = (args.get("order") or "desc") == "desc"
    ordering = [column.desc(), c.id.desc()] if desc else [column.asc(), c.id.asc()]

    def work(conn):
        cond = and_(*where) if where else None
        count = select(func.count()).select_from(webhooks)
        query = webhooks.select()
        if cond is not None:
            count, query = count.where(cond), query.where(cond)
        total = conn.execute(count).scalar() or 0
        rows = conn.execute(query.order_by(*ordering).limit(per_page).offset(offset)).mappings().all()
        return [W.webhook_view(req.ctx.api, dict(r)) for r in rows], total

    views, total = req.tx(work)
    max_pages = -(-total // per_page) if per_page > 1 else 1
    return collection(req, views, total, {**args, "page": page, "per_page": per_page}, "webhooks",
                      link_params=list(req.query), max_pages=max_pages)


async def create_webhook(req: Req) -> Reply:
    missing = [k for k in ("topic", "delivery_url") if req.params.get(k) is None]
    if missing:
        raise RestError("rest_missing_callback_param", f"Missing parameter(s): {', '.join(missing)}", 400,
                        params=missing)
    args = validate({"status": "active", **req.params}, CREATE_SCHEMA)
    row = req.tx(lambda conn: _create(req, conn, args))
    view = W.webhook_view(req.ctx.api, row)
    await asyncio.to_thread(_runtime(req).ping, row["id"])  # synchronous in the request, as recorded
    return _single(req, view, 201, f"{req.ctx.api}/webhooks/{row['id']}")


async def get_webhook(req: Req) -> Reply:
    _zero_id(req)

    def work(conn):
        row = W.get_webhook(conn, req.url_params["id"])
        if row is None:
            raise _missing()
        return W.webhook_view(req.ctx.api, row)

    return _single(req, req.tx(work))


async def update_webhook(req: Req) -> Reply:
    args = validate(req.params, ITEM_SCHEMA)
    row, must_ping = req.tx(lambda conn: _update(req, conn, req.url_params["id"], args))
    if must_ping:
        await asyncio.to_thread(_runtime(req).ping, row["id"])
    view = req.tx(lambda conn: W.webhook_view(req.ctx.api, W.get_webhook(conn, row["id"]) or row))
    return _single(req, view)


async def delete_webhook(req: Req) -> Reply:
    args = validate(req.params, {"force": {"type": "boolean"}})
    if not to_bool(args.get("force", False)):
        raise RestError("woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.", 501)
    return _single(req, req.tx(lambda conn: _delete(req, conn, req.url_params["id"])))


async def batch_webhooks(req: Req) -> Reply:
    to_ping: list[int] = []

    def create(conn, item):
        row = _create(req, conn, item)
        to_ping.append(row["id"])
        return W.webhook_view(req.ctx.api, row)

    def update(conn, item):
        row, must_ping = _update(req, conn, item.get("id"), item)
        if must_ping:
            to_ping.append(row["id"])
        return W.webhook_view(req.ctx.api, row)

    reply = await run_batch(req, req.body, create, update, lambda conn, item_id: _delete(req, conn, item_id))
    for webhook_id in to_ping:
        await asyncio.to_thread(_runtime(req).ping, webhook_id)
    return reply
