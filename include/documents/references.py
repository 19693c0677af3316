"""`Details.ExternalReference`: the deterministic reference that makes a document findable after an
ambiguous failure (a timeout, a lost answer), so that it is never created twice.

- The sale document: `woo:<host/path>:<order_id>` (`external_reference`); a refund's credit
  `...:refund:<refund_id>`, a cancellation's `...:cancel` (`credit_reference`); the Receipt for cash
  collected after an Invoice `...:receipt` (`receipt_reference`).
- The store key is the store's scheme-less host[:port] + path, lower-case, so that the same store
  always gives the same key; its API URL (`/wp-json/...`, `/index.php`) names the same store. A key
  longer than `MAX_STORE_KEY_LENGTH` is hashed, so every reference stays within `MAX_REFERENCE_LENGTH`.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import urlsplit

from officeguy_woocommerce.include.documents.codes import MAX_STORE_KEY_LENGTH


def _store_key(store: str) -> str:
    """Scheme-less host[:port] + path, lower-case: the same store always gives the same key."""
    text = str(store or "").strip()
    if not text:
        raise ValueError("store must be the store's base URL, e.g. https://shop.example.com")
    parts = urlsplit(text if "://" in text else f"//{text}")
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError(f"store {store!r} has no host name")
    port = parts.port
    scheme = parts.scheme.lower()
    if port and not (port == 443 and scheme in ("https", "")) and not (port == 80 and scheme == "http"):
        host = f"{host}:{port}"
    path = parts.path.lower()
    # The API URL of the same store names the same store (A1: /wp-json/wc/v3, ?rest_route=).
    path = re.split(r"/wp-json(?:/|$)|/index\.php(?:/|$)", path, maxsplit=1)[0]
    path = re.sub(r"/+", "/", path).rstrip("/")
    key = host + path
    if len(key) > MAX_STORE_KEY_LENGTH:
        key = "h" + hashlib.sha256(key.encode()).hexdigest()[:24]
    return key


def _positive_id(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a positive whole number, not {value!r}")
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a positive whole number, not {value!r}") from None
    if number <= 0:
        raise ValueError(f"{what} must be a positive whole number, not {value!r}")
    return number


def external_reference(store: str, order_id: int) -> str:
    """`woo:<host/path>:<order_id>`, the `Details.ExternalReference` of the order's sale document."""
    return f"woo:{_store_key(store)}:{_positive_id(order_id, 'order_id')}"


def credit_reference(store: str, order_id: int, refund_id: int | str) -> str:
    """`woo:<host/path>:<order_id>:refund:<refund_id>`, or `...:cancel` for a cancellation."""
    base = external_reference(store, order_id)
    if isinstance(refund_id, str) and refund_id.strip().lower() == "cancel":
        return f"{base}:cancel"
    return f"{base}:refund:{_positive_id(refund_id, 'refund_id')}"


def receipt_reference(store: str, order_id: int) -> str:
    """`woo:<host/path>:<order_id>:receipt`: the Receipt for cash collected after an Invoice."""
    return f"{external_reference(store, order_id)}:receipt"
