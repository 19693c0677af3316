"""Webhooks as WooCommerce 9.4.3 delivers them (woocommerce-api.md A8 and its recordings in
``woocommerce-recordings/webhooks/``).

The pieces, named after the WordPress/WooCommerce code they stand for:

- **the webhook** (``wp_wc_webhooks``, table ``webhooks``): ``topic`` gives ``resource``/``event``
  and the ``hooks`` it listens to; ``secret`` signs deliveries and is never shown (nor logged);
  ``failure_count`` and ``pending_delivery`` are kept but not shown either (rec 01, 23).
- **processing** (``WC_Webhook::process`` + ``wc_webhook_execute_queue``): a request's handlers
  fire WordPress actions into ``Ctx.hooks``; once the request is done every *active* webhook
  listening to one of them queues ``woocommerce_deliver_webhook_async {webhook_id, arg}`` (table
  ``webhook_actions``) - once per (webhook, argument) and request, and not at all while the same
  pair is still pending in the queue: several changes to one order before the queue runs collapse
  into one delivery.
- **the runner** (Action Scheduler on WP-Cron): sends the due actions one by one, oldest first.
  The payload is built *when it is sent* (``get_endpoint_data('/wc/v3/orders/<id>')``), so it shows
  the latest state; ``*.deleted`` sends ``{"id": N}``, an action topic ``{"action", "arg"}``.
  ``webhook_delivery`` picks how it runs:

  * ``"cron"`` (default, a stock store without a system cron): at most once every
    ``webhook_cron_interval`` seconds (60), and only when a request reaches the site
    (``webhook_cron_needs_traffic``, True; False = a real system cron that ticks on its own);
  * ``"immediate"``: a background worker sends what a request queued right after that request
    (a store with a system cron running the queue at once, or ``woocommerce_webhook_deliver_async``
    turned off).

- **delivery** (``WC_Webhook::deliver`` + ``wp_safe_remote_request``): ``POST`` with the recorded
  headers in the recorded order, ``X-WC-Webhook-Signature`` = base64(HMAC-SHA256(secret, raw body)),
  ``X-WC-Webhook-Delivery-ID`` = ``wp_hash(webhook_id . time())`` - the *same* id for every delivery
  of one webhook within one second (rec 13, 15, 17 repeat rec 9's). 200-302 is a success and resets
  ``failure_count``; anything else (a closed connection too) counts a failure, never retried; a
  failure when the count is already above 5 disables the webhook (the 7th in a row, rec 23), but
  actions already queued still go out. Every delivery is logged like ``wc-logs/webhooks-delivery``.
- **the ping** (``deliver_ping``): on create, synchronously, ``webhook_id=<id>`` form-encoded,
  unsigned; only an exact 200 clears ``pending_delivery``; any later save of an active webhook that
  still has it (or whose URL changed) pings again - the saves a delivery makes included.
- **the port rule** (``wp_http_validate_url``): only ports 80, 443 and 8080, or the store's own
  host and port; a private/loopback address only when it is the store's own host. Anything else
  is "A valid URL was not provided." in the delivery log and never a request.
  ``webhook_allow_any_port`` (False) lifts the port rule and ``webhook_allow_local_hosts`` (False)
  the address rule (the ``http_allowed_safe_ports`` / ``http_request_host_is_external`` filters),
  for receivers on loopback in tests.

Options (``create_app(..., webhook_delivery="immediate")``, ``woo_sandbox(tmp_path, ...)``,
``WooSandbox.set_config`` or ``PATCH /__sandbox/config``): ``webhook_delivery``,
``webhook_cron_interval``, ``webhook_cron_needs_traffic``, ``webhook_allow_any_port``,
``webhook_allow_local_hosts``, ``webhook_log_path`` ("" = only in memory and the Python logger
``sandbox.woocommerce.webhooks``).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import string
import threading
import time
import urllib.parse
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from sandbox.woocommerce import orders as O  # noqa: N812
from sandbox.woocommerce import products as P
from sandbox.woocommerce.errors import RestError
from sandbox.woocommerce.products import Ctx
from sandbox.woocommerce.store import Store, iso, webhook_actions, webhooks

log = logging.getLogger("sandbox.woocommerce.webhooks")

WEBHOOK_DEFAULTS: dict[str, Any] = {
    "webhook_delivery": "cron",  # cron | immediate
    "webhook_cron_interval": 60.0,
    "webhook_cron_needs_traffic": True,
    "webhook_allow_any_port": False,
    "webhook_allow_local_hosts": False,
    "webhook_log_path": "",
}

USER_AGENT = "WooCommerce/9.4.3 Hookshot (WordPress/6.5.5)"
ACCEPT_ENCODING = "deflate, gzip, br, zstd"  # what the store's curl offered (every delivery-*.json)
DELIVERY_TIMEOUT = 60.0  # MINUTE_IN_SECONDS
PING_TIMEOUT = 5.0  # wp_safe_remote_post's default
MAX_FAILURES = 5  # woocommerce_max_webhook_delivery_failures
SAFE_PORTS = (80, 443, 8080)  # http_allowed_safe_ports
ASYNC_HOOK = "woocommerce_deliver_webhook_async"
STATUSES = ("active", "paused", "disabled")
INVALID_ACTIONS = ("action.woocommerce_login_credentials",
                   "action.woocommerce_product_csv_importer_check_import_file_path",
                   "action.woocommerce_webhook_should_deliver")
TOPIC_HOOKS: dict[str, list[str]] = {  # WC_Webhook::get_topic_hooks in 9.4.3 (rec 01-06 "hooks")
    "coupon.created": ["woocommerce_process_shop_coupon_meta", "woocommerce_new_coupon"],
    "coupon.updated": ["woocommerce_process_shop_coupon_meta", "woocommerce_update_coupon"],
    "coupon.deleted": ["wp_trash_post"],
    "coupon.restored": ["untrashed_post"],
    "customer.created": ["user_register", "woocommerce_created_customer", "woocommerce_new_customer"],
    "customer.updated": ["profile_update", "woocommerce_update_customer"],
    "customer.deleted": ["delete_user"],
    "order.created": ["woocommerce_new_order"],
    "order.updated": ["woocommerce_update_order", "woocommerce_order_refunded"],
    "order.deleted": ["wp_trash_post", "woocommerce_trash_order"],
    "order.restored": ["untrashed_post", "woocommerce_untrash_order"],
    "product.created": ["woocommerce_process_product_meta", "woocommerce_new_product",
                        "woocommerce_new_product_variation"],
    "product.updated": ["woocommerce_process_product_meta", "woocommerce_update_product",
                        "woocommerce_update_product_variation"],
    "product.deleted": ["wp_trash_post"],
    "product.restored": ["untrashed_post"],
}


# ----------------------------------------------------------------------------------------------
# Topics, URLs, the webhook's REST view

def valid_topic(topic: str) -> bool:
    """``wc_is_webhook_valid_topic``."""
    if topic in INVALID_ACTIONS:
        return False
    if topic.startswith(("action.woocommerce_", "action.wc_")):
        return True
    parts = topic.split(".")
    return len(parts) >= 2 and parts[0] in ("coupon", "customer", "order", "product") and \
        parts[1] in ("created", "updated", "deleted", "restored")


def resource_event(topic: str) -> tuple[str, str]:
    parts = topic.split(".")
    return parts[0], parts[1] if len(parts) > 1 else ""


def topic_hooks(topic: str) -> list[str]:
    resource, event = resource_event(topic)
    if resource == "action":
        return [event]
    return list(TOPIC_HOOKS.get(topic, []))


def valid_url(url: str) -> bool:
    """``wc_is_valid_url``: starts with ``http://``/``https://`` (case matters) and passes
    ``filter_var(FILTER_VALIDATE_URL)`` (approximated: a host, no spaces or control characters)."""
    if not url.startswith(("http://", "https://")):
        return False
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) > 126 for ch in url):
        return False
    try:
        parts = urllib.parse.urlsplit(url)
        _ = parts.port
    except ValueError:
        return False
    host = parts.hostname or ""
    if not host or host.startswith(".") or ".." in host:
        return False
    return all(ch.isalnum() or ch in "-._[]:" for ch in host)


def clean_topic(topic: str) -> str:
    """``WC_Webhook::set_topic``: ``wc_clean``, then '' unless valid *as given* (the controller
    checked it lower-cased, so ``Order.Created`` passes the check and is stored as '')."""
    topic = topic.strip()
    return topic if valid_topic(topic) else ""


def webhook_view(api: str, row: dict[str, Any]) -> dict[str, Any]:
    """``WC_REST_Webhooks_V2_Controller::prepare_item_for_response`` (rec 01, 23): no secret,
    no api_version, no failure_count, date_modified null until the first update."""
    resource, event = resource_event(row["topic"])
    return {
        "id": row["id"], "name": row["name"], "status": row["status"], "topic": row["topic"],
        "resource": resource, "event": event, "hooks": topic_hooks(row["topic"]),
        "delivery_url": row["delivery_url"],
        "date_created": iso(row["created_local"]), "date_created_gmt": iso(row["created_gmt"]),
        "date_modified": iso(row["modified_local"]), "date_modified_gmt": iso(row["modified_gmt"]),
        "_links": {"self": [{"href": f"{api}/webhooks/{row['id']}"}], "collection": [{"href": f"{api}/webhooks"}]},
    }


def get_webhook(conn: Connection, webhook_id: Any) -> dict[str, Any] | None:
    try:
        wid = int(webhook_id)
    except (TypeError, ValueError):
        return None
    row = conn.execute(webhooks.select().where(webhooks.c.id == wid)).mappings().first()
    return dict(row) if row else None


def generate_secret() -> str:
    """``wp_generate_password(50, true, true)``."""
    chars = string.ascii_letters + string.digits + "!@#$%^&*()" + "-_ []{}<>~`+=,.;:/?|"
    return "".join(secrets.choice(chars) for _ in range(50))


def default_name(store: Store) -> str:
    """``Webhook created on %b %d, %Y @ %I:%M %p`` (strftime, so UTC)."""
    moment = dt.datetime.fromtimestamp(int(store.clock()), dt.UTC)
    return "Webhook created on " + moment.strftime("%b %d, %Y @ %I:%M %p")


def insert_webhook(ctx: Ctx, conn: Connection, name: str, topic: str, url: str, secret: str) -> dict[str, Any]:
    row = {
        "id": ctx.store.next_id(conn, "webhook"), "status": "active", "name": name, "user_id": 1,
        "delivery_url": url, "secret": secret, "topic": topic, "created_gmt": ctx.gmt, "created_local": ctx.local,
        "modified_gmt": None, "modified_local": None, "api_version": 3, "failure_count": 0,
        "pending_delivery": True,  # the data store sets it on create; a ping answered 200 clears it
    }
    conn.execute(insert(webhooks).values(**row))
    return row


def save_webhook(store: Store, conn: Connection, row: dict[str, Any], changes: dict[str, Any]) -> bool:
    """``WC_Webhook_Data_Store::update``: write, move date_modified; True when it must ping now
    (active and either the URL changed or pending_delivery is still set)."""
    gmt, local = store.now()
    url_changed = "delivery_url" in changes and changes["delivery_url"] != row["delivery_url"]
    row.update(changes)
    row["modified_gmt"], row["modified_local"] = gmt, local
    conn.execute(update(webhooks).where(webhooks.c.id == row["id"]).values(
        **{k: v for k, v in row.items() if k != "id"}))
    return row["status"] == "active" and (url_changed or bool(row["pending_delivery"]))


# ----------------------------------------------------------------------------------------------
# wp_http_validate_url and the HTTP client (curl as WordPress drives it)

def _home_parts(config: dict[str, Any]) -> urllib.parse.SplitResult:
    return urllib.parse.urlsplit(config.get("home_url") or "http://localhost")


def safe_url(config: dict[str, Any], url: str) -> bool:
    """``wp_http_validate_url`` with the sandbox's allowances (module docstring)."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return False
    home = _home_parts(config)
    host = parts.hostname.strip(".").lower()
    same_host = (home.hostname or "").lower() == parts.hostname.lower()
    if not same_host:
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            try:
                ip = ipaddress.ip_address(socket.gethostbyname(host))
            except (OSError, ValueError):
                return False  # gethostbyname failed
        private = ip.version == 4 and (ip.packed[0] in (127, 10, 0) or (ip.packed[0] == 172 and 16 <= ip.packed[1] <= 31)
                                       or (ip.packed[0] == 192 and ip.packed[1] == 168))
        if private and not config.get("webhook_allow_local_hosts"):
            return False
    if port is None or config.get("webhook_allow_any_port") or port in SAFE_PORTS:
        return True
    return same_host and home.port is not None and home.port == port


class HttpResult:
    """What ``wp_remote_request`` returned: a response, or a WP_Error (``error`` set)."""

    def __init__(self, code: int | str, message: str, headers: list[tuple[str, str]] | None = None,
                 body: str = "", error: bool = False) -> None:
        self.code, self.message, self.headers, self.body, self.error = code, message, headers or [], body, error

    @property
    def success(self) -> bool:  # log_delivery: 2xx, 301 or 302
        return not self.error and 200 <= int(self.code) < 303


def _host_header(parts: urllib.parse.SplitResult) -> str:
    default = 443 if parts.scheme == "https" else 80
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return host if parts.port in (None, default) else f"{host}:{parts.port}"


def http_post(config: dict[str, Any], url: str, headers: list[tuple[str, str]], body: bytes, timeout: float) -> HttpResult:
    """``wp_safe_remote_request``: the URL rule, then one POST with exactly these headers in this
    order (Host first; Connection and Content-Length where the caller puts them)."""
    if not safe_url(config, url):
        return HttpResult("http_request_failed", "A valid URL was not provided.", error=True)
    parts = urllib.parse.urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    started = time.monotonic()
    if parts.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname, port, timeout=timeout, context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(parts.hostname, port, timeout=timeout)
    try:
        conn.putrequest("POST", path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", _host_header(parts))
        for name, value in headers:
            conn.putheader(name, value)
        conn.endheaders(body)
        response = conn.getresponse()
        payload = response.read(1024 * 1024)
        return HttpResult(response.status, response.reason, [(k.lower(), v) for k, v in response.getheaders()],
                          payload.decode("utf-8", "replace"))
    except ConnectionRefusedError:
        ms = int((time.monotonic() - started) * 1000)
        return HttpResult("http_request_failed", f"cURL error 7: Failed to connect to {parts.hostname} port {port} "
                          f"after {ms} ms: Couldn't connect to server", error=True)
    except TimeoutError:
        ms = int(timeout * 1000)
        return HttpResult("http_request_failed",
                          f"cURL error 28: Operation timed out after {ms} milliseconds with 0 bytes received", error=True)
    except (http.client.RemoteDisconnected, http.client.BadStatusLine):
        return HttpResult("http_request_failed", "cURL error 52: Empty reply from server", error=True)
    except ssl.SSLError as exc:
        return HttpResult("http_request_failed", f"cURL error 60: SSL certificate problem: {exc.reason or exc}", error=True)
    except ConnectionResetError:
        return HttpResult("http_request_failed", "cURL error 56: Recv failure: Connection reset by peer", error=True)
    except OSError as exc:
        return HttpResult("http_request_failed", f"cURL error 7: {exc}", error=True)
    finally:
        conn.close()


def wp_json_encode(value: Any) -> bytes:
    """``wp_json_encode`` without flags: ASCII only, ``/`` escaped (delivery bodies, rec 24)."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode()


def signature(secret: str, body: bytes) -> str:
    """``WC_Webhook::generate_signature``: base64 HMAC-SHA256 of the raw body, keyed with the
    secret after ``wp_specialchars_decode(ENT_QUOTES)``."""
    key = secret
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&#039;", "'"), ("&#39;", "'"),
                         ("&#x27;", "'"), ("&amp;", "&")):
        key = key.replace(entity, char)
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def delivery_id(webhook_id: int, now: float) -> str:
    """``wp_hash($webhook_id . strtotime('now'))``: 32 hex, the same within one second."""
    return hmac.new(b"sandbox-wp-salt-nonce", f"{webhook_id}{int(now)}".encode(), hashlib.md5).hexdigest()


# ----------------------------------------------------------------------------------------------
# The delivery log (wc_print_r of log_delivery's array)

def print_r(value: Any, indent: int = 0) -> str:
    if isinstance(value, dict):
        pad = " " * indent
        inner = "".join(f"{pad}    [{k}] => {print_r(v, indent + 8)}\n" for k, v in value.items())
        return f"Array\n{pad}(\n{inner}{pad})\n"
    if isinstance(value, tuple) and len(value) == 2 and value[0] == "__object__":
        pad = " " * indent
        inner = "".join(f"{pad}    [{k}] => {print_r(v, indent + 8)}\n" for k, v in value[1].items())
        return f"WpOrg\\Requests\\Utility\\CaseInsensitiveDictionary Object\n{pad}(\n{inner}{pad})\n"
    return str(value)


def _wp_slash(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("'", "\\'")


# ----------------------------------------------------------------------------------------------
# The runtime: queue, runner thread, deliveries, pings

class WebhookRuntime:
    """One per app (``app.state.webhooks``): queues deliveries after requests, runs the queue
    (WP-Cron/Action Scheduler or the immediate worker) and keeps the delivery log."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.config = store.config
        self.log: list[dict[str, Any]] = []  # the delivery log, entries as dicts (``text`` as WC logs it)
        self.pings: list[dict[str, Any]] = []  # pings sent or refused (WooCommerce keeps no log of them)
        self._run_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()
        self._immediate = False
        self._cron_due = False
        self.last_cron = time.monotonic()  # when WP-Cron last spawned the runner (or the app started)
        self.runs = 0

    def _cron_is_due(self) -> bool:
        return time.monotonic() - self.last_cron >= float(self.config["webhook_cron_interval"])

    # --- processing (end of a request) ---------------------------------------------------------

    def on_request(self) -> None:
        """A request reached the site: WP-Cron spawns the queue runner if its minute is up."""
        if self.config["webhook_delivery"] != "cron":
            return
        if not self.config["webhook_cron_needs_traffic"]:
            self._ensure_thread()  # a system cron: the runner ticks on its own
            return
        if self._cron_is_due():
            self.last_cron = time.monotonic()
            self._cron_due = True
            self._ensure_thread()
            self._wake.set()

    def after_request(self, ctx: Ctx) -> int:
        """``WC_Webhook::process`` for every hook the request fired, then
        ``wc_webhook_execute_queue``: returns the number of actions queued."""
        if not ctx.hooks:
            return 0
        queued = 0
        with self.store.lock, self.store.engine.begin() as conn:
            active = [dict(r) for r in conn.execute(
                webhooks.select().where(webhooks.c.status == "active").order_by(webhooks.c.id.desc())).mappings()]
            if not active:
                return 0
            processed: set[tuple[int, str]] = set()
            gmt, _ = self.store.now()
            for hook, arg in ctx.hooks:
                for hook_row in active:
                    if hook not in topic_hooks(hook_row["topic"]) or not hook_row["delivery_url"]:
                        continue
                    key = (hook_row["id"], json.dumps(arg))
                    if key in processed or not _should_deliver(conn, hook_row, hook, arg):
                        continue
                    processed.add(key)
                    pending = conn.execute(select(webhook_actions.c.id, webhook_actions.c.arg).where(
                        webhook_actions.c.webhook_id == hook_row["id"], webhook_actions.c.status == "pending")).all()
                    if any(json.dumps(a) == key[1] for _, a in pending):
                        continue  # already queued: this change rides on that delivery
                    conn.execute(insert(webhook_actions).values(
                        id=self.store.next_id(conn, "action"), hook=ASYNC_HOOK, status="pending",
                        scheduled_gmt=gmt, last_attempt_gmt=None, webhook_id=hook_row["id"], arg=arg))
                    queued += 1
        if queued and self.config["webhook_delivery"] == "immediate":
            self._immediate = True
            self._ensure_thread()
            self._wake.set()
        elif queued and self.config["webhook_delivery"] == "cron" and not self.config["webhook_cron_needs_traffic"]:
            self._ensure_thread()
        return queued

    # --- the runner --------------------------------------------------------------------------

    def _ensure_thread(self) -> None:
        with self._thread_lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._loop, name="woo-webhooks", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            mode = self.config["webhook_delivery"]
            timeout = 0.5
            if mode == "cron" and not self.config["webhook_cron_needs_traffic"]:
                due_in = self.last_cron + float(self.config["webhook_cron_interval"]) - time.monotonic()
                timeout = max(0.01, min(0.5, due_in))
            self._wake.wait(timeout)
            self._wake.clear()
            if self._stop.is_set():
                break
            run = False
            if self._immediate:
                self._immediate, run = False, True
            if self._cron_due:
                self._cron_due, run = False, True
            if mode == "cron" and not self.config["webhook_cron_needs_traffic"] and self._cron_is_due():
                self.last_cron = time.monotonic()
                run = True
            if run:
                try:
                    self.run_queue()
                except Exception as exc:  # the runner must survive anything a delivery does
                    # the type only: a message could quote a row, and rows hold secrets
                    log.error("webhook queue run failed: %s", type(exc).__name__)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def run_queue(self) -> int:
        """Action Scheduler's run: every due pending action, oldest first. Returns how many ran."""
        with self._run_lock:
            self.runs += 1
            ran = 0
            while True:
                with self.store.lock, self.store.engine.begin() as conn:
                    gmt, _ = self.store.now()
                    action = conn.execute(webhook_actions.select().where(
                        webhook_actions.c.status == "pending", webhook_actions.c.scheduled_gmt <= gmt,
                    ).order_by(webhook_actions.c.scheduled_gmt, webhook_actions.c.id).limit(1)).mappings().first()
                    if action is None:
                        return ran
                    conn.execute(update(webhook_actions).where(webhook_actions.c.id == action["id"]).values(
                        status="in-progress", last_attempt_gmt=gmt))
                self.deliver(action["webhook_id"], action["arg"])
                with self.store.lock, self.store.engine.begin() as conn:
                    conn.execute(update(webhook_actions).where(webhook_actions.c.id == action["id"]).values(
                        status="complete"))
                ran += 1

    def queue(self) -> list[dict[str, Any]]:
        with self.store.lock, self.store.engine.begin() as conn:
            return [dict(r) for r in conn.execute(webhook_actions.select().order_by(webhook_actions.c.id)).mappings()]

    # --- delivery ----------------------------------------------------------------------------

    def _home(self) -> str:
        return (self.config.get("home_url") or "http://localhost").rstrip("/")

    def build_payload(self, row: dict[str, Any], arg: Any) -> Any:
        """``WC_Webhook::build_payload``, now: the wc/v3 resource as ``GET`` returns it."""
        resource, event = resource_event(row["topic"])
        if resource == "action":
            return {"action": topic_hooks(row["topic"])[0], "arg": arg}
        if event == "deleted":
            return {"id": arg}
        ctx = Ctx(self.store, self._home())
        with self.store.lock, self.store.engine.begin() as conn:
            try:
                if resource == "order":
                    order = O.get_order(conn, arg)
                    if order is None:
                        raise RestError("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
                    return O.order_view(ctx, conn, order)
                if resource == "product":
                    product = P.get_row(conn, P._as_id(arg))
                    if product is None:
                        raise RestError("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
                    return P.view_one(ctx, conn, product)
            except RestError as err:
                return err.body()  # get_endpoint_data hands back the error as the payload
        return []  # PHP's array(): "[]"

    def deliver(self, webhook_id: int, arg: Any) -> HttpResult:
        """``WC_Webhook::deliver`` + ``log_delivery``."""
        with self.store.lock, self.store.engine.begin() as conn:
            row = get_webhook(conn, webhook_id)
        if row is None:  # deleted meanwhile: WC_Webhook(0) has no URL; the attempt is logged, nothing saved
            row = {"id": 0, "topic": "", "delivery_url": "", "secret": "", "failure_count": 0, "status": "disabled"}
        started = time.monotonic()
        body = wp_json_encode(self.build_payload(row, arg)).strip()
        resource, event = resource_event(row["topic"])
        did = delivery_id(row["id"], self.store.clock())
        wc_headers = [
            ("Content-Type", "application/json"),
            ("X-WC-Webhook-Source", self._home() + "/"),
            ("X-WC-Webhook-Topic", row["topic"]),
            ("X-WC-Webhook-Resource", resource),
            ("X-WC-Webhook-Event", event),
            ("X-WC-Webhook-Signature", signature(row["secret"], body)),
            ("X-WC-Webhook-ID", str(row["id"])),
            ("X-WC-Webhook-Delivery-ID", did),
        ]
        headers = [("User-Agent", USER_AGENT), ("Accept", "*/*"), ("Accept-Encoding", ACCEPT_ENCODING), *wc_headers,
                   ("Connection", "close"), ("Content-Length", str(len(body)))]
        result = http_post(self.config, row["delivery_url"], headers, body, DELIVERY_TIMEOUT)
        duration = round(time.monotonic() - started, 5)
        self._log_delivery(row, did, [("User-Agent", USER_AGENT), *wc_headers], body, result, duration)
        if not row["id"]:
            return result
        with self.store.lock, self.store.engine.begin() as conn:
            row = get_webhook(conn, webhook_id)
            if row is None:
                return result
            if result.success:
                changes = {"failure_count": 0}
            elif row["failure_count"] > MAX_FAILURES:
                changes = {"status": "disabled"}  # woocommerce_webhook_disabled_due_delivery_failures
            else:
                changes = {"failure_count": row["failure_count"] + 1}
            must_ping = save_webhook(self.store, conn, row, changes)
        if must_ping:
            self.ping(webhook_id)
        return result

    def _log_delivery(self, row: dict[str, Any], did: str, headers: list[tuple[str, str]], body: bytes,
                      result: HttpResult, duration: float) -> None:
        now = self.store.clock()
        moment = dt.datetime.fromtimestamp(int(now), dt.UTC)
        response_headers: Any = ("__object__", {"data:protected": dict(result.headers)}) if not result.error else {}
        message = {"Webhook Delivery": {
            "Delivery ID": did,
            "Date": f"{moment.strftime('%b')} {moment.day}, {moment.year} @ {moment.hour}:{moment.strftime('%M')}",
            "URL": row["delivery_url"], "Duration": duration,
            "Request": {"Method": "POST", "Headers": dict(headers)},
            "Body": _wp_slash(body.decode()),
            "Response": {"Code": result.code, "Message": result.message, "Headers": response_headers,
                         "Body": result.body},
        }}
        text = f"{moment.strftime('%Y-%m-%dT%H:%M:%S')}+00:00 INFO {print_r(message)}"
        entry = {"webhook_id": row["id"], "delivery_id": did, "url": row["delivery_url"], "topic": row["topic"],
                 "code": result.code, "message": result.message, "success": result.success, "text": text}
        self.log.append(entry)
        log.info("%s", text.rstrip("\n"))
        path = self.config.get("webhook_log_path")
        if path:
            with open(path, "a", encoding="utf-8") as sink:
                sink.write(text)

    def ping(self, webhook_id: int) -> bool:
        """``WC_Webhook::deliver_ping``: True when answered exactly 200 (pending_delivery cleared)."""
        with self.store.lock, self.store.engine.begin() as conn:
            row = get_webhook(conn, webhook_id)
        if row is None:
            return False
        body = f"webhook_id={row['id']}".encode()
        headers = [("User-Agent", USER_AGENT), ("Accept", "*/*"), ("Accept-Encoding", ACCEPT_ENCODING),
                   ("Connection", "close"), ("Content-Length", str(len(body))),
                   ("Content-Type", "application/x-www-form-urlencoded")]
        result = http_post(self.config, row["delivery_url"], headers, body, PING_TIMEOUT)
        ok = not result.error and result.code == 200
        self.pings.append({"webhook_id": row["id"], "url": row["delivery_url"], "code": result.code,
                           "message": result.message, "ok": ok})
        if ok:
            with self.store.lock, self.store.engine.begin() as conn:
                fresh = get_webhook(conn, webhook_id)
                if fresh is not None:
                    save_webhook(self.store, conn, fresh, {"pending_delivery": False})
        return ok


def _should_deliver(conn: Connection, row: dict[str, Any], hook: str, arg: Any) -> bool:
    """``WC_Webhook::should_deliver`` past the status check: the post-type check of
    ``wp_trash_post``/``untrashed_post`` and the draft check of ``is_valid_resource``."""
    resource, _ = resource_event(row["topic"])
    if hook in ("wp_trash_post", "untrashed_post", "delete_post"):
        if resource == "order":
            if O.get_order(conn, arg) is None:
                return False
        elif resource == "product":
            if P.get_row(conn, P._as_id(arg)) is None:
                return False
        else:
            return False
    if resource == "product":
        product = P.get_row(conn, P._as_id(arg))
        if product is not None and product["status"] in ("auto-draft", "new"):
            return False
    if resource == "order":
        order = O.get_order(conn, arg)
        if order is None or order["status"] in ("checkout-draft", "auto-draft", "new"):
            return False
    return True


def control_router(runtime: WebhookRuntime) -> Any:
    """``GET /__sandbox/webhooks`` (queue, delivery log, pings; never a secret) and
    ``POST /__sandbox/webhooks/run`` (run the queue now, as ``wp action-scheduler run`` would)."""
    from fastapi import APIRouter

    router = APIRouter(prefix="/__sandbox/webhooks")

    @router.get("")
    def state() -> dict[str, Any]:
        return {"queue": runtime.queue(), "log": runtime.log, "pings": runtime.pings, "runs": runtime.runs}

    @router.post("/run")
    def run() -> dict[str, int]:
        return {"ran": runtime.run_queue()}

    return router
