"""``WooCommerceHook``: the one place that talks to a store's wc/v3 REST API.

Connection ``woocommerce_default`` (type ``woocommerce``): host = store base URL, login = consumer
key, password = consumer secret; the extras are the ``extra_field``s of `WooCommerceSettings`
(``auth`` basic | query | oauth1, ``verify_ssl`` bool or a CA bundle path, ``timeout``,
``max_attempts``, ``backoff_seconds``, ``read_concurrency``, ``write_concurrency``), each declared in the connection form
(provider_info.py) and the README. The connection is parsed once, into ``hook.settings``.

What it owns (woocommerce-api.md): authentication as WooCommerce really does it (A1: keys only over
HTTPS, OAuth 1.0a one-legged over HTTP, signed by oauthlib), paging that always walks every page
with ``orderby=id&order=asc`` (A3: the default date order repeats and skips items created in the
same second), batches of at most 100 items (A4: 101 is refused with 413), variations through their
parent's batch endpoint, per-item batch errors returned rather than lost (A4: HTTP 200 with errors
inside), retries with backoff on timeouts, 5xx and 429 (honouring Retry-After; A6: hosts and WAFs
add them), and one clear exception for everything else.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from airflow.sdk import BaseHook
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth1

import officeguy_woocommerce.common.http as api_http
from officeguy_woocommerce.common.http import (
    AmbiguousWriteError,
    AuthError,
    Backoff,
    BusinessError,
    ConnectionConfigError,
    TransientError,
    parse_retry_after,
)

log = logging.getLogger(__name__)

SYSTEM = "WooCommerce"
API_PREFIX = "/wp-json/wc/v3"
BATCH_LIMIT = 100  # woocommerce_rest_batch_items_limit default (A4)
PAGE_SIZE = 100  # per_page maximum (A3)
# The fields the stock sync reads: _fields nearly halves a real store's answer time (A7).
STOCK_FIELDS = (
    "id,parent_id,type,status,sku,name,manage_stock,stock_quantity,stock_status,backorders,"
    "low_stock_amount,sold_individually,variations,date_modified_gmt,meta_data"
)


@dataclass(frozen=True)
class WooProduct:
    """A product or a variation, as far as stock is concerned."""

    id: int
    parent_id: int
    type: str
    status: str
    sku: str
    name: str
    manage_stock: bool | str  # True, False, or "parent" on a variation whose parent manages stock (A2.3)
    stock_quantity: int | None
    stock_status: str
    backorders: str
    low_stock_amount: int | None
    sold_individually: bool
    variation_ids: tuple[int, ...] = ()
    date_modified_gmt: str | None = None
    meta_data: tuple[dict, ...] = ()

    @classmethod
    def from_api(cls, obj: dict, parent_id: int | None = None) -> WooProduct:
        if isinstance(obj.get("id"), bool) or not str(obj.get("id", "")).isdigit():
            raise ValueError(f"id {obj.get('id')!r} is not a product id")
        meta = obj.get("meta_data") or ()
        if not isinstance(meta, list | tuple) or not all(isinstance(m, dict) for m in meta):
            raise TypeError(f"meta_data is {type(meta).__name__}, not a list of objects")
        if not isinstance(obj.get("sku") or "", str):
            raise TypeError(f"sku {obj.get('sku')!r} is not text")
        return cls(
            id=int(obj["id"]),
            parent_id=int(obj.get("parent_id") or parent_id or 0),
            type=obj.get("type") or ("variation" if parent_id else "simple"),
            status=obj.get("status") or "publish",
            sku=(obj.get("sku") or "").strip(),
            name=obj.get("name") or "",
            manage_stock=obj.get("manage_stock", False),
            stock_quantity=obj.get("stock_quantity"),
            stock_status=obj.get("stock_status") or "instock",
            backorders=obj.get("backorders") or "no",
            low_stock_amount=obj.get("low_stock_amount"),
            sold_individually=bool(obj.get("sold_individually", False)),
            variation_ids=tuple(obj.get("variations") or ()),
            date_modified_gmt=obj.get("date_modified_gmt"),
            meta_data=tuple(obj.get("meta_data") or ()),
        )


@dataclass(frozen=True)
class BatchItemError:
    id: int | None
    code: str
    message: str
    status: int | None


@dataclass
class BatchResult:
    """What a batch call did. Failed items do not fail the call (A4): they are listed here."""

    created: list[dict] = field(default_factory=list)
    updated: list[dict] = field(default_factory=list)
    deleted: list[dict] = field(default_factory=list)
    errors: list[BatchItemError] = field(default_factory=list)
    calls: int = 0

    def absorb(self, answer: dict) -> None:
        self.calls += 1
        for key in ("create", "update", "delete"):
            for item in answer.get(key) or []:
                if isinstance(item, dict) and "error" in item:
                    err = item["error"] or {}
                    self.errors.append(BatchItemError(
                        id=item.get("id"), code=err.get("code", ""), message=err.get("message", ""),
                        status=(err.get("data") or {}).get("status"),
                    ))
                else:
                    {"create": self.created, "update": self.updated, "delete": self.deleted}[key].append(item)


@dataclass(frozen=True)
class WooCommerceSettings(api_http.ConnectionSettings):
    """Connection ``woocommerce_default`` parsed once (``WooCommerceHook.settings``)."""

    consumer_key: str = api_http.secret_field()
    consumer_secret: str = api_http.secret_field()
    auth_mode: str = api_http.extra_field("auth", None)  # None: basic over https, oauth1 over http
    verify: bool | str = api_http.extra_field("verify_ssl", True)  # or the path of a CA bundle
    timeout: float = api_http.extra_field("timeout", 60, minimum=0.001)
    max_attempts: int = api_http.extra_field("max_attempts", 5, minimum=1, integer=True)
    backoff_seconds: float = api_http.extra_field("backoff_seconds", 0.5, minimum=0)
    read_concurrency: int = api_http.extra_field("read_concurrency", 4, minimum=1, integer=True)
    # stock batches sent at once: a shared host serves 4-6 requests at a time, and a batch holds one
    # PHP worker for seconds, so 2 leaves room for the shop's own visitors
    write_concurrency: int = api_http.extra_field("write_concurrency", 2, minimum=1, integer=True)
    # the secret the store's webhooks sign their deliveries with (include/webhooks.py); empty: no webhooks
    webhook_secret: str = field(default="", repr=False, metadata={
        "extra": "webhook_secret", "default": None, "minimum": None, "integer": False, "secret": True})

    system = SYSTEM
    secret_attrs = ("login", "password")

    @classmethod
    def _parse(cls, conn: Any, extra: dict, conn_id: str, url: str) -> dict[str, Any]:
        if not url:
            raise ConnectionConfigError(f"Connection {conn_id!r} has no Store URL (host).", system=SYSTEM)
        https = urlsplit(url).scheme == "https"
        auth = str(extra.get("auth") or ("basic" if https else "oauth1")).strip().lower()
        if auth not in {"basic", "query", "oauth1"}:
            raise ConnectionConfigError(f"Connection {conn_id!r}: auth must be basic, query or oauth1, not {auth!r}.",
                                        system=SYSTEM)
        if auth in {"basic", "query"} and not https:
            # A1: over plain HTTP WooCommerce ignores Basic and query keys and answers 401.
            raise ConnectionConfigError(
                f"Connection {conn_id!r}: WooCommerce accepts {auth} authentication only over HTTPS; use an "
                "https:// Store URL or set auth to oauth1.", system=SYSTEM)
        if not conn.login or not conn.password:
            raise ConnectionConfigError(f"Connection {conn_id!r} needs the consumer key (login) and consumer "
                                        "secret (password).", system=SYSTEM)
        secret = extra.get("webhook_secret") or ""
        if not isinstance(secret, str) or (secret and len(secret.strip()) < 16):
            raise ConnectionConfigError(
                f"Connection {conn_id!r}: extra 'webhook_secret' must be text of at least 16 characters (the "
                "secret the store's webhooks sign with; register_webhooks sets it in the store).", system=SYSTEM)
        api_http.register_secrets(secret.strip())
        return {"consumer_key": conn.login, "consumer_secret": conn.password, "auth_mode": auth,
                "verify": _parse_verify(extra.get("verify_ssl", True), conn_id), "webhook_secret": secret.strip()}


class WooCommerceHook(api_http.ApiHookMixin, BaseHook):
    """Talks to one WooCommerce store through its wc/v3 REST API. Use it as a context manager, which
    closes its requests session; the connection, checked once, is ``hook.settings``."""

    conn_name_attr = "woocommerce_conn_id"
    default_conn_name = "woocommerce_default"
    conn_type = "woocommerce"
    hook_name = "WooCommerce"
    settings_class = WooCommerceSettings

    def __init__(self, woocommerce_conn_id: str = default_conn_name, *, max_attempts: int | None = None,
                 backoff: Backoff | None = None) -> None:
        super().__init__(woocommerce_conn_id, max_attempts=max_attempts, backoff=backoff)
        self.rejected_products: list[dict] = []  # malformed products of the last reads, with reasons
        # the store's clock (its Date header) when it answered this hook's first call: where a later read
        # of what changed since this one starts (WooCommerceStockExtractOperator's snapshot cursor)
        self.first_server_date: datetime | None = None

    # ----------------------------------------------------------------- connection and session
    @property
    def auth_mode(self) -> str:
        return self.settings.auth_mode

    @property
    def verify(self) -> bool | str:
        return self.settings.verify

    @property
    def read_concurrency(self) -> int:
        return self.settings.read_concurrency

    @property
    def write_concurrency(self) -> int:
        return self.settings.write_concurrency

    def _new_session(self, settings: WooCommerceSettings) -> requests.Session:
        session = requests.Session()
        session.headers.update({"Accept": "application/json", "User-Agent": "officeguy-woocommerce-sync/0.1"})
        if settings.auth_mode == "basic":
            session.auth = HTTPBasicAuth(settings.consumer_key, settings.consumer_secret)
        elif settings.auth_mode == "oauth1":
            # One-legged OAuth 1.0a, HMAC-SHA256, parameters in the query string (A1); the JSON body is not signed.
            session.auth = OAuth1(settings.consumer_key, settings.consumer_secret, signature_method="HMAC-SHA256",
                                  signature_type="query")
        return session

    # ----------------------------------------------------------------- one request
    def request(self, method: str, path: str, *, params: dict | None = None, json: Any = None,
                idempotent: bool | None = None, what: str = "") -> requests.Response:
        """One API call with retries. ``path`` is relative to /wp-json/wc/v3. Returns the response."""
        session = self.get_conn()
        if idempotent is None:
            idempotent = method.upper() in {"GET", "PUT", "DELETE", "HEAD", "OPTIONS"}
        what = what or f"{method} {path}"
        url = f"{self.base_url}{API_PREFIX}{path}"
        s = self.settings
        query_auth = ({"consumer_key": s.consumer_key, "consumer_secret": s.consumer_secret}
                      if s.auth_mode == "query" else {})
        query = {**(params or {}), **query_auth}

        def once() -> requests.Response:
            self._count_call()
            started = time.monotonic()
            try:
                # verify per request: a REQUESTS_CA_BUNDLE in the environment overrides Session.verify
                resp = session.request(method, url, params=query, json=json, timeout=self.timeout, verify=self.verify)
            except requests.RequestException as exc:
                raise self._transport_error(exc, idempotent=idempotent, what=what) from None
            log.debug("WooCommerce %s %s -> %s in %.2fs", method, path, resp.status_code, time.monotonic() - started)
            if self.first_server_date is None:
                self.first_server_date = _server_date(resp)
            self._raise_for(resp, what, idempotent)
            return resp

        return self._retrying(once)

    def _raise_for(self, resp: requests.Response, what: str, idempotent: bool) -> None:
        status = resp.status_code
        if status < 400:
            return
        code, message = _error_fields(resp)
        detail = self._redact(f"{message} ({code})" if code else message or resp.reason or "")
        if status == 429 or status >= 500:
            text = f"WooCommerce answered {status} to {what}: {detail}"
            if status >= 500 and not idempotent:
                raise AmbiguousWriteError(text + "; the change may have been made", system=SYSTEM, status=status)
            raise TransientError(text, system=SYSTEM, status=status, code=code,
                                 retry_after=parse_retry_after(resp.headers.get("Retry-After")))
        if status in (401, 403):
            raise AuthError(
                f"WooCommerce refused the credentials of connection {self.woocommerce_conn_id!r} for {what}: "
                f"{detail}. Check the consumer key/secret, that the key has read_write permission, and "
                f"that auth={self.auth_mode} suits the store's scheme.", system=SYSTEM, status=status, code=code)
        raise BusinessError(f"WooCommerce refused {what} ({status}): {detail}", system=SYSTEM, status=status, code=code)

    # ----------------------------------------------------------------- paging
    def iter_pages(self, path: str, params: dict | None = None) -> Iterator[list[dict]]:
        """Every page of a collection, ``orderby=id&order=asc``, until ``X-WP-TotalPages``.

        The id order makes pages stable while the store changes; items seen twice (a product
        moved between pages) are dropped.
        """
        query = {**(params or {}), "per_page": PAGE_SIZE, "orderby": "id", "order": "asc"}
        seen: set[int] = set()
        page = 1
        while True:
            what = f"GET {path} page {page}"
            resp = self.request("GET", path, params={**query, "page": page}, what=what)
            try:
                items = resp.json()
            except ValueError:
                kind = "an HTML page" if "<html" in resp.text[:500].lower() else "something that is not JSON"
                raise BusinessError(
                    f"WooCommerce answered {what} of {self.base_url} with {kind} (HTTP {resp.status_code}), not "
                    "its JSON list: a maintenance mode, a security or caching plugin, or a redirect to a login "
                    "page is in the way of the REST API. Open that URL in a browser, fix it, and run again.",
                    system=SYSTEM) from None
            if not isinstance(items, list):
                raise BusinessError(f"WooCommerce answered {what} with {type(items).__name__}, not a list.",
                                    system=SYSTEM)
            items = [i for i in items if isinstance(i, dict)]
            fresh = [i for i in items if i.get("id") not in seen]
            seen.update(i.get("id") for i in fresh)
            if fresh:
                yield fresh
            header = resp.headers.get("X-WP-TotalPages")
            if header is not None and str(header).strip().isdigit():
                if page >= int(header) or not items:
                    return
            elif len(items) < PAGE_SIZE:
                # no (usable) page count, e.g. a proxy stripped the header: read until a short page
                return
            page += 1

    def list_all(self, path: str, params: dict | None = None) -> list[dict]:
        return [item for page in self.iter_pages(path, params) for item in page]

    # ----------------------------------------------------------------- products and variations
    def list_products(self, *, fields: str | None = STOCK_FIELDS, **filters: Any) -> list[WooProduct]:
        params = {k: _param(v) for k, v in filters.items() if v is not None}
        if fields:
            params["_fields"] = fields
        return self._products(self.list_all("/products", params))

    def list_variations(self, parent_id: int, *, fields: str | None = STOCK_FIELDS) -> list[WooProduct]:
        params = {"_fields": fields} if fields else {}
        return self._products(self.list_all(f"/products/{parent_id}/variations", params), parent_id)

    def parent_managed_variations(self, parent_id: int, variation_ids: list[int]) -> dict[int, int]:
        """Variation id -> parent id for those of ``variation_ids`` whose stock the parent manages
        (``manage_stock: "parent"``, A2.3). One call per 100 variations; ids the parent no longer has
        are left out."""
        found: dict[int, int] = {}
        ids = sorted(set(variation_ids))
        for start in range(0, len(ids), 100):
            rows = self.list_all(f"/products/{parent_id}/variations",
                                 {"include": ",".join(map(str, ids[start:start + 100])), "_fields": "id,manage_stock"})
            for row in rows:
                if isinstance(row, dict) and row.get("manage_stock") == "parent" and str(row.get("id")).isdigit():
                    found[int(row["id"])] = int(parent_id)
        return found

    def _products(self, rows: list[dict], parent_id: int | None = None) -> list[WooProduct]:
        """Products as `WooProduct`; a malformed one (no usable id, odd field types) is left out and
        listed in ``rejected_products`` with its reason, so the others go on (I7)."""
        out = []
        for row in rows:
            try:
                out.append(WooProduct.from_api(row, parent_id=parent_id))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                where = f"variation of product {parent_id}" if parent_id else "product"
                self.rejected_products.append({
                    "woo_id": row.get("id") if isinstance(row, dict) else None, "parent_id": parent_id or 0,
                    "reason": f"a {where} WooCommerce listed is malformed ({type(exc).__name__}: "
                              f"{str(exc)[:120]}; id {row.get('id') if isinstance(row, dict) else row!r}); "
                              "left out of this run, fix it in WooCommerce"})
        return out

    def list_stock_items(self, **filters: Any) -> list[WooProduct]:
        """Every product and every variation of every variable product (one variation list per parent).

        wc/v3 has no way to list all variations at once, so the per-parent lists are read a few at
        a time (``read_concurrency`` in the connection's extra, default 4): reads are cheap for a
        real store (A7) and this is most of a large catalogue's calls."""
        products = self.list_products(**filters)
        return products + self.list_variations_of(p.id for p in products if p.type == "variable" and p.variation_ids)

    def list_variations_of(self, parent_ids: Iterable[int]) -> list[WooProduct]:
        """The variations of each of ``parent_ids``: one list per parent, ``read_concurrency`` at once."""
        parents = list(parent_ids)
        items: list[WooProduct] = []
        if self.read_concurrency > 1 and len(parents) > 1:
            with ThreadPoolExecutor(max_workers=self.read_concurrency) as pool:
                for variations in pool.map(self.list_variations, parents):
                    items.extend(variations)
        else:
            for parent_id in parents:
                items.extend(self.list_variations(parent_id))
        return items

    def get_product(self, product_id: int) -> WooProduct:
        return WooProduct.from_api(self.request("GET", f"/products/{product_id}").json())

    def batch(self, path: str, *, create: list[dict] = (), update: list[dict] = (),
              delete: list[int] = ()) -> BatchResult:
        """``POST {path}/batch`` in chunks of at most 100 items in total (A4: 101 gives 413)."""
        result = BatchResult()
        ops = [("create", x) for x in create] + [("update", x) for x in update] + [("delete", x) for x in delete]
        for start in range(0, len(ops), BATCH_LIMIT):
            body: dict[str, list] = {}
            for op, item in ops[start:start + BATCH_LIMIT]:
                body.setdefault(op, []).append(item)
            # Updates and deletes by id are idempotent; creates are not.
            answer = self.request("POST", f"{path}/batch", json=body, idempotent="create" not in body,
                                  what=f"POST {path}/batch ({start + 1}-{start + sum(map(len, body.values()))})")
            result.absorb(answer.json())
        return result

    def update_products(self, updates: list[dict]) -> BatchResult:
        return self.batch("/products", update=updates)

    def update_variations(self, parent_id: int, updates: list[dict]) -> BatchResult:
        return self.batch(f"/products/{parent_id}/variations", update=updates)

    # ----------------------------------------------------------------- orders
    def list_orders(self, *, modified_after: datetime | None = None, modified_before: datetime | None = None,
                    statuses: list[str] | None = None, include: list[int] | None = None) -> list[dict]:
        """Orders, every page, modified within [modified_after, modified_before] to the second.

        Dates are sent naive UTC with ``dates_are_gmt=true`` (A3: a Z suffix with dates_are_gmt=true
        is shifted by the site's offset). WooCommerce compares strictly (``>``/``<``) at one-second
        resolution, so the bounds are widened by a second: an order modified in the very second of
        a bound is read (twice at worst, by two windows; the ledger de-duplicates)."""
        params: dict[str, Any] = {"dates_are_gmt": "true"}
        if modified_after:
            params["modified_after"] = _naive_utc(modified_after - timedelta(seconds=1))
        if modified_before:
            params["modified_before"] = _naive_utc(modified_before + timedelta(seconds=1))
        if statuses:
            params["status"] = ",".join(statuses)
        if include:
            params["include"] = ",".join(str(i) for i in include)
        return self.list_all("/orders", params)

    def get_setting(self, group: str, setting_id: str) -> Any:
        """One store setting's value, e.g. ``get_setting("general", "woocommerce_calc_taxes")`` -> "yes"."""
        return self.request("GET", f"/settings/{group}/{setting_id}").json().get("value")

    def list_webhooks(self) -> list[dict]:
        """The store's webhooks (WooCommerce never returns their secrets, A8)."""
        return self.list_all("/webhooks")

    def create_webhook(self, body: dict) -> dict:
        return self.request("POST", "/webhooks", json=body, idempotent=False, what="register a webhook").json()

    def update_webhook(self, webhook_id: int, body: dict) -> dict:
        return self.request("PUT", f"/webhooks/{int(webhook_id)}", json=body, what=f"update webhook {webhook_id}").json()

    def get_order(self, order_id: int) -> dict:
        return self.request("GET", f"/orders/{order_id}").json()

    def update_order(self, order_id: int, payload: dict) -> dict:
        return self.request("PUT", f"/orders/{order_id}", json=payload).json()

    def add_order_note(self, order_id: int, note: str) -> dict:
        return self.request("POST", f"/orders/{order_id}/notes", json={"note": note, "customer_note": False}).json()

    def list_refunds(self, order_id: int) -> list[dict]:
        what = f"GET /orders/{order_id}/refunds"
        resp = self.request("GET", f"/orders/{order_id}/refunds", what=what)
        try:
            refunds = resp.json()
        except ValueError:
            raise BusinessError(f"WooCommerce answered {what} with something that is not JSON (HTTP "
                                f"{resp.status_code}); the order's credits wait for the next run.", system=SYSTEM) from None
        if not isinstance(refunds, list):
            raise BusinessError(f"WooCommerce answered {what} with {type(refunds).__name__}, not a list.",
                                system=SYSTEM)
        return refunds

    # ----------------------------------------------------------------- UI
    def _probe(self) -> str:
        resp = self.request("GET", "/products", params={"per_page": 1, "_fields": "id"})
        return f"Connected to {self.base_url}: {resp.headers.get('X-WP-Total', '?')} products."


def _error_fields(resp: requests.Response) -> tuple[str, str]:
    try:
        body = resp.json()
    except ValueError:
        return "", (resp.text or "")[:200]
    if isinstance(body, dict):
        return str(body.get("code", "")), str(body.get("message", ""))
    return "", str(body)[:200]


def _parse_verify(value: Any, conn_id: str = "") -> bool | str:
    if isinstance(value, bool):
        return value
    text = str(value).strip()
    if text.lower() in {"true", "1", "yes", ""}:
        return True
    if text.lower() in {"false", "0", "no"}:
        return False
    if not os.path.exists(text):  # a CA bundle path that is not there
        raise ConnectionConfigError(
            f"Connection {conn_id!r}: extra 'verify_ssl' names the CA bundle {text!r}, which does not exist on "
            "this worker; give the right path, or true/false.")
    return text


def _param(value: Any) -> Any:
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _server_date(resp: requests.Response) -> datetime | None:
    """The response's ``Date`` header (RFC 9110: the server's clock when it answered), aware UTC; None
    when it is missing or unreadable."""
    try:
        moment = parsedate_to_datetime(resp.headers.get("Date") or "")
    except (TypeError, ValueError, IndexError):
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _naive_utc(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")
