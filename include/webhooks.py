"""WooCommerce webhooks: what a delivery is and what the sync does with it (plain Python, no Airflow).

A store sends ``order.created`` / ``order.updated`` to ``POST /stock-sync/webhooks/woocommerce/<store>``
(woocommerce-api.md A8, and the recordings beside it):

- a *ping* when a webhook is saved: form-encoded ``webhook_id=N``, unsigned, no ``X-WC-Webhook-*``
  header. Answered 200 (only an exact 200 counts for WooCommerce), nothing recorded;
- a *delivery*: the raw JSON body signed ``base64(HMAC-SHA256(secret, body))`` in
  ``X-WC-Webhook-Signature``. Checked in constant time against the secret in the store's Airflow
  connection (extra ``webhook_secret``); a bad or missing signature is 401 and records nothing;
- a topic the sync does not handle (products, deletions, actions) is answered 200 and ignored: any
  other answer is a failure to WooCommerce, which disables a webhook after repeated failures.

The body is the order as it was when WooCommerce *sent* it (several changes collapse into one
delivery), so only the order's id is kept: the DAG run reads the order again. ``X-WC-Webhook-
Delivery-ID`` is not unique on a real store (it is derived from the webhook id and the second, A8:
eight deliveries of one second shared one), so a repeated delivery is recognised by that id *and*
the body's digest.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

MAX_BODY_BYTES = 2 * 1024 * 1024  # an order of hundreds of lines is well under 1 MB
HANDLED_TOPICS = frozenset({"order.created", "order.updated"})
ASSET_SCHEME = "woocommerce-orders"


def orders_asset_uri(store: str) -> str:
    """The asset whose events the orders DAG is scheduled on, one per store (Airflow keeps it with a
    trailing slash: it is looked up by `orders_asset_name`)."""
    return f"{ASSET_SCHEME}://{store}"


def orders_asset_name(store: str) -> str:
    return f"woocommerce_orders_{store}"


def signature(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def signature_ok(body: bytes, secret: str, given: str | None) -> bool:
    """Constant-time comparison; no secret or no signature is never OK."""
    if not secret or not given:
        return False
    return hmac.compare_digest(signature(body, secret).encode("ascii"), given.strip().encode("ascii", "replace"))


@dataclass(frozen=True)
class Ping:
    webhook_id: int | None


@dataclass(frozen=True)
class Ignored:
    topic: str


@dataclass(frozen=True)
class OrderChanged:
    order_id: int
    topic: str
    webhook_id: str
    delivery_key: str  # the delivery id and the body's digest: a repeated delivery has the same one

    def event_extra(self) -> dict[str, Any]:
        """What the asset event keeps: ids only, never the order's personal data."""
        return {"order_id": self.order_id, "topic": self.topic, "webhook_id": self.webhook_id,
                "delivery_key": self.delivery_key}


class BadDelivery(ValueError):
    """A delivery the endpoint refuses (the message says why; never the body or the secret)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def is_ping(headers: dict[str, str], body: bytes) -> Ping | None:
    """WooCommerce's ping: form-encoded ``webhook_id=N`` and no ``X-WC-Webhook-Topic``."""
    if headers.get("x-wc-webhook-topic"):
        return None
    if not headers.get("content-type", "").lower().startswith("application/x-www-form-urlencoded"):
        return None
    values = parse_qs(body.decode("utf-8", "replace")).get("webhook_id") or []
    if len(values) != 1 or not values[0].isdigit():
        return None
    return Ping(int(values[0]))


def read_delivery(headers: dict[str, str], body: bytes, secret: str) -> Ping | Ignored | OrderChanged:
    """Classify one request (``headers`` with lower-case names). Raises `BadDelivery` (401 for a bad
    or missing signature, 400 for a signed body that is not an order)."""
    if len(body) > MAX_BODY_BYTES:
        raise BadDelivery(413, f"body of {len(body)} bytes is over the {MAX_BODY_BYTES} allowed")
    ping = is_ping(headers, body)
    if ping is not None:
        return ping
    if not signature_ok(body, secret, headers.get("x-wc-webhook-signature")):
        raise BadDelivery(401, "missing or wrong X-WC-Webhook-Signature (check the webhook's secret against "
                               "the connection's extra webhook_secret)")
    topic = headers.get("x-wc-webhook-topic", "").strip()
    if topic not in HANDLED_TOPICS:
        return Ignored(topic or "(none)")
    try:
        payload = json.loads(body)
        order_id = int(payload["id"])
    except (ValueError, KeyError, TypeError):
        raise BadDelivery(400, f"a signed {topic} delivery whose body is not an order with an id") from None
    if order_id <= 0:
        raise BadDelivery(400, f"a signed {topic} delivery for order id {order_id}")
    if topic == "order.updated" and is_write_back_echo(payload):
        return Ignored(f"{topic} of order {order_id}: already documented, nothing new (the poll reads later edits)")
    key = f"{headers.get('x-wc-webhook-delivery-id', '')}:{hashlib.sha256(body).hexdigest()}"
    return OrderChanged(order_id, topic, headers.get("x-wc-webhook-id", ""), key)


def is_write_back_echo(order: dict[str, Any]) -> bool:
    """The ``order.updated`` WooCommerce sends when the sync writes the document's id into the order: it
    already carries ``OfficeGuyDocumentID``, is still ``processing`` and has no refund, so a run would
    find nothing to do (and would hold the DAG's one run slot while the next paid order waits). A status
    change (completed: a Receipt under a gateway rule; cancelled, refunded) or a refund still counts."""
    meta = {str(m.get("key")): m.get("value") for m in order.get("meta_data") or [] if isinstance(m, dict)}
    return bool(meta.get("OfficeGuyDocumentID")) and order.get("status") == "processing" and not order.get("refunds")


def order_ids_of(extras: list[dict[str, Any]]) -> list[int]:
    """The orders a run's asset events name (once each, in the order they came)."""
    seen: dict[int, None] = {}
    for extra in extras:
        try:
            seen.setdefault(int(extra["order_id"]), None)
        except (KeyError, TypeError, ValueError):
            continue
    return list(seen)


def delivery_path(store: str) -> str:
    """The endpoint's path for ``store`` (after the api-server's base URL)."""
    return f"/stock-sync/webhooks/woocommerce/{store}"


def webhook_warnings(webhooks: list[dict[str, Any]], store: str) -> list[str]:
    """What an orders run's report warns about the store's webhooks (the poll covers the gap): a
    handled topic with no webhook delivering to this project's endpoint, or one WooCommerce disabled."""
    path = delivery_path(store)
    ours = [w for w in webhooks if str(w.get("delivery_url") or "").split("?", 1)[0].rstrip("/").endswith(path)]
    warnings = []
    for topic in sorted(HANDLED_TOPICS):
        hooks = [w for w in ours if w.get("topic") == topic]
        if not hooks:
            warnings.append(f"no {topic} webhook of the store delivers to ...{path}: orders wait for the scheduled "
                            "poll (register it: python -m officeguy_woocommerce.app.register_webhooks)")
        elif not any(w.get("status") == "active" for w in hooks):
            states = ", ".join(sorted({str(w.get("status")) for w in hooks}))
            warnings.append(f"the {topic} webhook is {states} (WooCommerce disables one after repeated failed "
                            "deliveries): orders wait for the scheduled poll until it is active again "
                            "(register_webhooks re-activates it)")
    return warnings
