"""Request and answer plumbing shared by the route handlers: the merged parameters, ``_fields``,
collection headers (``X-WP-Total``, ``X-WP-TotalPages``, ``Link``) and batches.
"""

from __future__ import annotations

import asyncio
import math
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection

from sandbox.woocommerce.cost import item_cost
from sandbox.woocommerce.errors import RestError, parse_list
from sandbox.woocommerce.products import Ctx
from sandbox.woocommerce.store import Store


@dataclass
class Req:
    """One dispatched request."""

    method: str
    store: Store
    ctx: Ctx
    url_params: dict[str, str]
    query: list[tuple[str, str]]  # as sent, in order (the Link header repeats them)
    params: dict[str, Any]  # WP's merged view: URL < query < form < JSON body
    body: Any = None  # the JSON (or form) body alone, which is what a batch reads

    @property
    def config(self) -> dict[str, Any]:
        return self.store.config

    def tx(self, work: Callable[[Connection], Any]) -> Any:
        """Run ``work`` in one transaction, one writer at a time."""
        with self.store.lock, self.store.engine.begin() as conn:
            return work(conn)

    async def pause(self, saved: int = 1) -> None:
        """The cost of saving ``saved`` objects on a real store (A7: ~44 ms each)."""
        delay = float(self.config.get("write_delay_per_item") or 0) * saved
        if delay > 0:
            await asyncio.sleep(delay)

    async def save_item(self, action: str) -> None:
        """Before a batch saves one item: ``pause()`` plus the cost model's price of the item (cost.py)."""
        seconds = float(self.config.get("write_delay_per_item") or 0) + item_cost(self.config, action)
        if seconds > 0:
            await asyncio.sleep(seconds)


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    allow: bool = True  # False: no Allow header (WP lists only methods whose permission check passes)


def fields_filter(body: Any, fields_param: Any, tail: tuple[str, ...] = ()) -> Any:
    """``rest_filter_response_fields``: keep the listed (possibly dotted) keys.

    Top-level keys come in the order they were asked for (the controllers build only the asked
    fields, in that order: rec 38, 144), except ``tail`` keys, which a controller adds last.
    Nested keys keep the object's order.
    """
    fields = [f.strip() for f in parse_list(fields_param) if f.strip()]
    if not fields:
        return body
    tree: dict[str, Any] = {}
    for name in fields:
        ref = tree
        parts = name.split(".")
        for part in parts[:-1]:
            if ref.get(part) is True:
                break
            ref = ref.setdefault(part, {})
        else:
            ref[parts[-1]] = True

    def cut(obj: Any, keep: dict[str, Any]) -> Any:
        if not isinstance(obj, dict):
            return obj
        return {k: (v if keep[k] is True else cut(v, keep[k])) for k, v in obj.items() if k in keep}

    order = [k for k in tree if k not in tail] + [k for k in tail if k in tree]

    def top(obj: Any) -> Any:
        if not isinstance(obj, dict):
            return obj
        return {k: (obj[k] if tree[k] is True else cut(obj[k], tree[k])) for k in order if k in obj}

    if isinstance(body, list):
        return [top(item) for item in body]
    return top(body)


def php_urlencode(value: str) -> str:
    """PHP ``urlencode`` (space as ``+``, ``~`` encoded), as ``urlencode_deep`` leaves Link params."""
    return urllib.parse.quote_plus(value, safe="").replace("~", "%7E")


def _link_value(value: Any) -> str:
    if value is True:
        return "1"
    if value is False or value is None:
        return ""
    return php_urlencode(str(value))


def link_query(pairs: list[tuple[str, Any]]) -> str:
    """``add_query_arg(urlencode_deep($params))``: lists become ``key%5B0%5D=...``."""
    out = []
    for key, value in pairs:
        if isinstance(value, list):
            out += [f"{key}%5B{i}%5D={_link_value(v)}" for i, v in enumerate(value)]
        else:
            out.append(f"{key}={_link_value(value)}")
    return "&".join(out)


def collection(
    req: Req, items: list[Any], total: int, args: dict[str, Any], route: str,
    link_params: list[tuple[str, Any]] | None = None, tail: tuple[str, ...] = (), max_pages: int | None = None,
) -> Reply:
    """A list answer with WooCommerce's headers (A3): totals always, Link with only prev/next.

    The Link URLs repeat the parameters as WordPress holds them after sanitising (so
    ``dates_are_gmt=true`` comes back as ``dates_are_gmt=1``, rec 32), in the order sent, with
    ``page`` replaced in place or appended.
    """
    per_page = args.get("per_page") or 10
    page = args.get("page") or 1
    if max_pages is None:
        max_pages = math.ceil(total / per_page) if total else 0
    headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(max_pages)}
    if link_params is None:
        link_params = sanitized_pairs(req, args)
    base = f"{req.ctx.api}/{route}"

    def with_page(n: int) -> str:
        pairs = list(link_params)
        for i, (key, _) in enumerate(pairs):
            if key == "page":
                pairs[i] = ("page", n)
                break
        else:
            pairs.append(("page", n))
        return f"{base}?{link_query(pairs)}"

    links = []
    if page > 1:
        links.append(f'<{with_page(min(page - 1, max_pages))}>; rel="prev"')
    if max_pages > page:
        links.append(f'<{with_page(page + 1)}>; rel="next"')
    if links:
        headers["Link"] = ", ".join(links)
    return Reply(200, fields_filter(items, req.params.get("_fields"), tail), headers)


def sanitized_pairs(req: Req, args: dict[str, Any]) -> list[tuple[str, Any]]:
    """The query as sent, each known parameter replaced by its sanitised value."""
    seen: dict[str, Any] = {}
    for key, value in req.query:
        name = key.split("[", 1)[0]
        if name in seen:
            continue
        seen[name] = args.get(name, value) if name in args else value
    return list(seen.items())


async def run_batch(
    req: Req, body: dict[str, Any], create: Callable[[Connection, dict], Any],
    update: Callable[[Connection, dict], Any], delete: Callable[[Connection, int], Any],
) -> Reply:
    """``WC_REST_Controller::batch_items`` (A4): limit first, then create -> update -> delete, each
    item on its own (errors inside the 200 answer), items not schema-validated. ``create``/``update``
    may return a RestError instead of raising it: the item is committed, then reported as failed."""
    items = {k: v for k, v in body.items() if k in ("create", "update", "delete") and v} if isinstance(body, dict) else {}
    limit = int(req.config["batch_limit"])
    if sum(len(v) if isinstance(v, list) else 1 for v in items.values()) > limit:
        raise RestError(
            "woocommerce_rest_request_entity_too_large", f"Unable to accept more than {limit} items for this request.", 413,
        )
    out: dict[str, list] = {}

    def error_item(item_id: Any, err: RestError) -> dict[str, Any]:
        return {"id": item_id, "error": {"code": err.code, "message": err.message, "data": err.body()["data"]}}

    def tick() -> None:  # each item is saved at its own moment, as on a real store
        req.ctx.gmt, req.ctx.local = req.store.now()

    for item in items.get("create", []):
        await req.save_item("create")
        tick()
        try:
            result = req.tx(lambda conn, item=item: create(conn, item))
            out.setdefault("create", []).append(error_item(0, result) if isinstance(result, RestError) else result)
        except RestError as err:
            out.setdefault("create", []).append(error_item(0, err))
    for item in items.get("update", []):
        await req.save_item("update")
        tick()
        item = item if isinstance(item, dict) else {}
        try:
            result = req.tx(lambda conn, item=item: update(conn, item))
            out.setdefault("update", []).append(
                error_item(item.get("id"), result) if isinstance(result, RestError) else result)
        except RestError as err:
            out.setdefault("update", []).append(error_item(item.get("id"), err))
    for raw_id in items.get("delete", []):
        try:
            item_id = int(raw_id)
        except (TypeError, ValueError):
            item_id = 0
        if item_id == 0:
            continue
        await req.save_item("delete")
        tick()
        try:
            out.setdefault("delete", []).append(req.tx(lambda conn, item_id=item_id: delete(conn, item_id)))
        except RestError as err:
            out.setdefault("delete", []).append(error_item(item_id, err))
    return Reply(200, out if out else [])
