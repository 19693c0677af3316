"""The WooCommerce sandbox: a wc/v3 REST server that behaves like WooCommerce 9.4.3.

``create_app(db_url, dataset="empty", **options)`` builds the FastAPI app. State lives in the
database at ``db_url`` (SQLite); ``dataset`` (``empty``, ``demo``, ``bench:N``) is loaded only into
an empty database, so a restart keeps what the store holds.

``app.state.config`` holds the runtime options (also under ``/__sandbox/config``):

- ``home_url``: the site URL WordPress believes it has. It goes into the OAuth base string,
  ``Location``/``Link`` headers, permalinks and ``_links``. ``""`` means "the scheme and Host of
  each request" (ThreadServer fills it in once the port is known).
- ``site_timezone`` (``Europe/Berlin``): what the non-``_gmt`` dates and the date filters use.
- ``write_delay_per_item`` (0): seconds slept per product, variation or order saved, to model a
  real store's save cost (woocommerce-api.md A7: ~0.044 s).
- ``batch_limit`` (100): ``woocommerce_rest_batch_items_limit``.
- ``notify_no_stock_amount`` (0): ``woocommerce_notify_no_stock_amount``, the stock at or below
  which a managed product is out of stock (A2).
- the cost model (cost.py), off by default: ``cost_model`` (False) makes every wc/v3 request
  cost what it costs on a real WooCommerce 9.4.3 store (measured there, woocommerce-api.md A7),
  served by at most ``php_workers`` (4) at once while the rest queue; ``cost_list`` (0.19 s, a
  page with ``_fields``), ``cost_list_full`` (0.34), ``cost_variations`` (0.06), ``cost_read``
  (0.17), ``cost_write`` (0.17), ``cost_batch`` (0.17, a batch's fixed part), ``cost_batch_item``
  (0.035 per item updated or deleted: 100 stock updates take 3.67 s plus the sandbox's own work)
  and ``cost_batch_create_item`` (0.09 per item created). The ``/__sandbox`` routes never cost.
- webhooks (webhooks.py, woocommerce-api.md A8): ``webhook_delivery`` ("cron": Action Scheduler on
  WP-Cron, at most every ``webhook_cron_interval`` (60) seconds and, with
  ``webhook_cron_needs_traffic`` (True), only when a request arrives; "immediate": a background
  worker sends right after the request), ``webhook_allow_any_port`` (False: only 80, 443, 8080 or
  the store's own port, as WordPress), ``webhook_allow_local_hosts`` (False), ``webhook_log_path``
  (""). ``GET /__sandbox/webhooks`` shows the queue and the delivery log, ``POST
  /__sandbox/webhooks/run`` runs the queue now.

The store's own settings (``woocommerce_calc_taxes``, ``woocommerce_prices_include_tax``, ...;
settings.py) are not runtime options: they live in the database like WordPress options, are read
and written through ``/settings/<group>/<id>`` (or ``WooSandbox.set_settings``) and survive a
restart. Taxes are off by default, as on a fresh store; tax rates (``/taxes``) and coupons
(``/coupons``) are stored resources too.

``app.state.book`` is the FaultBook (``/__sandbox/faults``, call counts by kind such as
``GET /products`` or ``POST /products/{id}/variations/batch``); ``app.state.store`` the Store and
``app.state.store.clock`` its clock (tests may replace it to freeze time, e.g. for OAuth).
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import Response

from sandbox.common.control import control_router
from sandbox.common.dates import DateHeaderMiddleware
from sandbox.common.faults import FaultBook, FaultMiddleware
from sandbox.woocommerce import cost as CM  # noqa: N812
from sandbox.woocommerce import routes_orders as RO  # noqa: N812
from sandbox.woocommerce import routes_products as RP  # noqa: N812
from sandbox.woocommerce import routes_store as RS  # noqa: N812
from sandbox.woocommerce import routes_webhooks as RW  # noqa: N812
from sandbox.woocommerce import webhooks as WH  # noqa: N812
from sandbox.woocommerce.auth import authenticate, check_permissions, php_params
from sandbox.woocommerce.errors import RestError
from sandbox.woocommerce.http import Reply, Req
from sandbox.woocommerce.products import Ctx, load_dataset
from sandbox.woocommerce.store import Store

# The sandbox's own keys (WooCommerce > Settings > Advanced > REST API would make such pairs).
SANDBOX_CONSUMER_KEY = "ck_5a1d6e0c3f8b4e2a9c7d1f0b6e3a8c4d2f9b7e1a"
SANDBOX_CONSUMER_SECRET = "cs_3e8f1a6c9d2b7e4f0a5c8d1e6b3f9a2c7d4e0b5f"
READONLY_CONSUMER_KEY = "ck_0f4e9b2a7c1d6e3f8a5b0c9d4e1f6a3b8c2d7e0f"
READONLY_CONSUMER_SECRET = "cs_9c2e7f4a1b6d3e8f5a0c7b2d9e4f1a6c3b8d5e0a"
# The key pair of the recordings (woocommerce-recordings/INDEX.txt), read_write, so the recorded
# requests can be replayed with their own Authorization headers and OAuth signatures.
RECORDED_CONSUMER_KEY = "ck_a99f3a727ef4ddd998aff4b8d5a15341d57fa942"
RECORDED_CONSUMER_SECRET = "cs_c65c58e3398abecfb706e0c6a603bc843d669432"

DEFAULT_CONFIG: dict[str, Any] = {
    "home_url": "",
    "site_timezone": "Europe/Berlin",
    "write_delay_per_item": 0.0,
    "batch_limit": 100,
    "notify_no_stock_amount": 0,
    **CM.COST_DEFAULTS,
    **WH.WEBHOOK_DEFAULTS,
}

Handler = Callable[[Req], Awaitable[Reply]]


@dataclass
class Route:
    pattern: str
    handlers: dict[str, Handler]
    kind: str  # collection | item | batch: picks the "cannot ..." error for anonymous calls

    def __post_init__(self) -> None:
        self.regex = re.compile(f"^wc/v3/{self.pattern}/?$")

    @property
    def allow(self) -> str:
        return ", ".join(self.handlers)


def _batch(handler: Handler) -> dict[str, Handler]:
    return {"POST": handler, "PUT": handler, "PATCH": handler}


def _item(get: Handler, edit: Handler, delete: Handler) -> dict[str, Handler]:
    return {"GET": get, "POST": edit, "PUT": edit, "PATCH": edit, "DELETE": delete}


ROUTES = [
    Route("products", {"GET": RP.list_products, "POST": RP.create_product}, "collection"),
    Route("products/batch", _batch(RP.batch_products), "batch"),
    Route(r"products/(?P<id>[\d]+)", _item(RP.get_product, RP.update_product, RP.delete_product), "item"),
    Route(r"products/(?P<product_id>[\d]+)/variations",
          {"GET": RP.list_variations, "POST": RP.create_variation}, "collection"),
    Route(r"products/(?P<product_id>[\d]+)/variations/batch", _batch(RP.batch_variations), "batch"),
    Route(r"products/(?P<product_id>[\d]+)/variations/(?P<id>[\d]+)",
          _item(RP.get_variation, RP.update_variation, RP.delete_variation), "item"),
    Route("orders", {"GET": RO.list_orders, "POST": RO.create_order}, "collection"),
    Route("orders/batch", _batch(RO.batch_orders), "batch"),
    Route(r"orders/(?P<id>[\d]+)", _item(RO.get_order, RO.update_order, RO.delete_order), "item"),
    Route(r"orders/(?P<order_id>[\d]+)/notes", {"GET": RO.list_notes, "POST": RO.create_note}, "collection"),
    Route(r"orders/(?P<order_id>[\d]+)/notes/(?P<id>[\d]+)",
          {"GET": RO.get_note, "DELETE": RO.delete_note}, "item"),
    Route(r"orders/(?P<order_id>[\d]+)/refunds", {"GET": RO.list_refunds, "POST": RO.create_refund}, "collection"),
    Route(r"orders/(?P<order_id>[\d]+)/refunds/(?P<id>[\d]+)",
          {"GET": RO.get_refund, "DELETE": RO.delete_refund}, "item"),
    Route(r"settings/(?P<group_id>[\w-]+)", {"GET": RS.list_settings}, "settings"),
    Route(r"settings/(?P<group_id>[\w-]+)/(?P<id>[\w-]+)",
          {"GET": RS.get_setting, "POST": RS.update_setting, "PUT": RS.update_setting, "PATCH": RS.update_setting},
          "settings"),
    Route("taxes", {"GET": RS.list_taxes, "POST": RS.create_tax}, "collection"),
    Route("taxes/classes", {"GET": RS.list_tax_classes}, "collection"),
    Route(r"taxes/(?P<id>[\d]+)", _item(RS.get_tax, RS.update_tax, RS.delete_tax), "item"),
    Route("coupons", {"GET": RS.list_coupons, "POST": RS.create_coupon}, "collection"),
    Route("coupons/batch", _batch(RS.batch_coupons), "batch"),
    Route(r"coupons/(?P<id>[\d]+)", _item(RS.get_coupon, RS.update_coupon, RS.delete_coupon), "item"),
    Route("webhooks", {"GET": RW.list_webhooks, "POST": RW.create_webhook}, "collection"),
    Route("webhooks/batch", _batch(RW.batch_webhooks), "batch"),
    Route(r"webhooks/(?P<id>[\d]+)", _item(RW.get_webhook, RW.update_webhook, RW.delete_webhook), "item"),
]

_ANONYMOUS = {  # the permission-callback errors an unauthenticated caller gets (A1 table)
    ("collection", "GET"): ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
    ("collection", "POST"): ("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."),
    ("item", "GET"): ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."),
    ("item", "DELETE"): ("woocommerce_rest_cannot_delete", "Sorry, you are not allowed to delete this resource."),
    ("batch", "*"): ("woocommerce_rest_cannot_batch", "Sorry, you are not allowed to batch manipulate this resource."),
    ("item", "*"): ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
    # the setting options controller checks "list" for every read and has its own edit message
    ("settings", "GET"): ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
    ("settings", "*"): ("woocommerce_rest_cannot_edit", "Sorry, you cannot edit this resource."),
}


def classify(method: str, path: str) -> str:
    """The call kind counted by the FaultBook: ``PUT /products/{id}``, ``GET /orders``, ..."""
    if path.startswith("/wp-json/wc/v3"):
        path = path[len("/wp-json/wc/v3"):]
    return f"{method} {re.sub(r'/[0-9]+(?=/|$)', '/{id}', path) or '/'}"


def _json_bytes(body: Any) -> bytes:
    # wp_json_encode without flags: ASCII only, slashes escaped (rec 01's body_raw)
    return json.dumps(body, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode()


def _respond(reply: Reply, home: str, allow: str | None) -> Response:
    headers = {
        "Content-Type": "application/json; charset=UTF-8",
        "X-Robots-Tag": "noindex",
        "X-Content-Type-Options": "nosniff",
        "Access-Control-Expose-Headers": "X-WP-Total, X-WP-TotalPages, Link",
        "Access-Control-Allow-Headers": "Authorization, X-WP-Nonce, Content-Disposition, Content-MD5, Content-Type",
    }
    if "Link" not in reply.headers:  # a collection's prev/next Link replaces the discovery link
        headers["Link"] = f'<{home}/wp-json/>; rel="https://api.w.org/"'
    headers.update(reply.headers)
    if allow and reply.allow:
        headers["Allow"] = allow
    headers["Expires"] = "Wed, 11 Jan 1984 05:00:00 GMT"
    headers["Cache-Control"] = "no-cache, must-revalidate, max-age=0, no-store, private"
    return Response(content=_json_bytes(reply.body), status_code=reply.status, headers=headers)


def _error(err: RestError) -> Reply:
    # A missing variation answers without Allow (rec 120, 121): its permission callbacks fail.
    return Reply(err.status, err.body(), allow=err.code != "woocommerce_rest_product_variation_invalid_id" or err.status != 404)


def _target(request: Request) -> tuple[str, list[tuple[str, str]]]:
    """The route path (``wc/v3/products``) and the query without ``rest_route``."""
    query = urllib.parse.parse_qsl(request.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    if request.url.path.startswith("/wp-json/"):
        return request.url.path[len("/wp-json/"):], query
    # ?rest_route=/wc/v3/... works without pretty permalinks (A6)
    return dict(query).get("rest_route", "").lstrip("/"), [(k, v) for k, v in query if k != "rest_route"]


def _find_route(route_path: str) -> tuple[Route | None, re.Match[str] | None]:
    for candidate in ROUTES:
        match = candidate.regex.match(route_path)
        if match:
            return candidate, match
    return None, None


async def dispatch(request: Request) -> Response:
    """A wc/v3 request; with the cost model on, on a PHP worker and at a real store's cost."""
    config = request.app.state.store.config
    request.app.state.webhooks.on_request()  # WP-Cron: a page load spawns the due queue run
    if not config.get("cost_model"):
        return await serve(request)
    route_path, query = _target(request)
    route, _ = _find_route(route_path)
    method = "GET" if request.method == "HEAD" else request.method
    seconds = CM.request_cost(config, method, route and route.kind, route and route.pattern, query)
    async with request.app.state.workers.hold(config["php_workers"], seconds):
        return await serve(request)


async def serve(request: Request) -> Response:
    """WP_REST_Server::serve_request for the wc/v3 routes."""
    store: Store = request.app.state.store
    config = store.config
    scheme = request.scope.get("scheme", "http")
    route_path, query = _target(request)
    home = config["home_url"] or f"{scheme}://{request.headers.get('host', 'localhost')}"
    ctx = Ctx(store, home.rstrip("/"))
    method = "GET" if request.method == "HEAD" else request.method  # WP serves HEAD as GET
    route, match = _find_route(route_path)

    raw = await request.body()
    form: list[tuple[str, str]] = []
    body: Any = {}
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = urllib.parse.parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
        body = php_params(form)
    elif raw.strip():
        try:
            body = json.loads(raw)
        except ValueError as exc:
            err = RestError("rest_invalid_json", "Invalid JSON body passed.", 400,
                            json_error_code=4, json_error_message=str(exc))
            return _respond(_error(err), ctx.home, None)

    auth = authenticate(store, request.method, scheme, request.url.path, query, form, {k.lower(): v for k, v in request.headers.items()})
    if auth.error:
        return _respond(_error(auth.error), ctx.home, None)
    if auth.key is not None:
        denied = check_permissions(auth.key, method)
        if denied:
            return _respond(_error(denied), ctx.home, None)
    if route is None or method not in route.handlers and method != "OPTIONS":
        err = RestError("rest_no_route", "No route was found matching the URL and request method.", 404)
        return _respond(_error(err), ctx.home, None)
    if method == "OPTIONS":
        # The sandbox answers OPTIONS with the route's methods only, not its full schema (rec 168).
        reply = Reply(200, {"namespace": "wc/v3", "methods": list(route.handlers), "endpoints": []})
        return _respond(reply, ctx.home, route.allow)
    if auth.key is None:
        code, message = _ANONYMOUS.get((route.kind, method)) or _ANONYMOUS[(route.kind, "*")]
        return _respond(_error(RestError(code, message, 401)), ctx.home, None)

    url_params = {k: v for k, v in match.groupdict().items() if v is not None}
    params = {**url_params, **php_params(query), **(body if isinstance(body, dict) else {})}
    req = Req(method, store, ctx, url_params, query, params, body)
    try:
        reply = await route.handlers[method](req)
    except RestError as err:
        reply = _error(err)
    finally:
        store.webhooks.after_request(ctx)  # wc_webhook_execute_queue at 'shutdown'
    return _respond(reply, ctx.home, route.allow)


def create_app(db_url: str, dataset: str = "empty", **options: Any) -> FastAPI:
    """The sandbox app on the database at ``db_url``; see the module docstring for ``options``."""
    unknown = set(options) - set(DEFAULT_CONFIG)
    if unknown:
        raise TypeError(f"unknown WooCommerce sandbox options {sorted(unknown)}; known: {sorted(DEFAULT_CONFIG)}")
    config = {**DEFAULT_CONFIG, **options}
    if config["webhook_delivery"] not in ("cron", "immediate"):
        raise ValueError(f"webhook_delivery must be 'cron' or 'immediate', not {config['webhook_delivery']!r}")
    store = Store(db_url, config, clock=time.time)
    store.webhooks = WH.WebhookRuntime(store)
    if store.is_empty():
        load_dataset(store, dataset)
    store.add_key(SANDBOX_CONSUMER_KEY, SANDBOX_CONSUMER_SECRET, "read_write")
    store.add_key(READONLY_CONSUMER_KEY, READONLY_CONSUMER_SECRET, "read")
    store.add_key(RECORDED_CONSUMER_KEY, RECORDED_CONSUMER_SECRET, "read_write")

    book = FaultBook()
    app = FastAPI(title="WooCommerce sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.book = book
    app.state.config = config
    app.state.store = store
    app.state.workers = CM.Workers()
    app.state.webhooks = store.webhooks
    app.include_router(control_router(book, config))
    app.include_router(WH.control_router(store.webhooks))
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
    app.add_api_route("/wp-json/{rest_path:path}", dispatch, methods=methods, include_in_schema=False)
    app.add_api_route("/", dispatch, methods=methods, include_in_schema=False)
    app.add_middleware(FaultMiddleware, book=book, classify=classify)
    app.add_middleware(DateHeaderMiddleware, clock=lambda: store.clock())  # store.clock: a test may replace it
    return app
