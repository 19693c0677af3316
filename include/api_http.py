"""What both hooks share about talking HTTP: the error classes, the one retry rule, redaction.

Errors are classified once (the Singer SDK's idea): a ``TransientError`` is retried with backoff;
an ``AmbiguousWriteError`` means a write may have been committed although no answer came back
(timeout, dropped connection, 5xx after sending), so it is never blindly retried: the caller looks
the result up first (invariant I1); a ``BusinessError`` is the remote system refusing the request
(OfficeGuy Status 1, a WooCommerce 4xx) and is never retried; an ``AuthError`` is a refused
credential, never retried (OfficeGuy blocks an IP after repeated bad credentials, section 1.6).

Secrets never reach messages: every message passes through ``redact`` and exceptions are raised
``from None`` so that a library's own exception text (which may hold a URL with query-string keys)
is not chained into logs.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

import requests
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

T = TypeVar("T")


class ApiError(Exception):
    """An API call failed. ``system`` is "OfficeGuy" or "WooCommerce"; the message says what to do."""

    def __init__(self, message: str, *, system: str = "", status: int | None = None, code: str = "") -> None:
        super().__init__(message)
        self.system = system
        self.status = status
        self.code = code


class TransientError(ApiError):
    """Worth retrying: nothing was done, or the call is idempotent."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class AmbiguousWriteError(ApiError):
    """A non-idempotent write got no clear answer: it may or may not have been committed."""


class BusinessError(ApiError):
    """The remote system refused the request; retrying will not help."""


class AuthError(BusinessError):
    """The credentials were refused."""


_QUERY_SECRET_RE = re.compile(r"((?:consumer_key|consumer_secret|oauth_signature|oauth_consumer_key|APIKey)=)[^&\s'\"]+")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without any of ``secrets`` and without secret-looking query parameters."""
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, "***")
    return _QUERY_SECRET_RE.sub(r"\1***", text)


def base_url(host: str | None, schema: str | None, port: int | None, default: str = "") -> str:
    """A connection's base URL: the host field may hold a whole URL or just a host name."""
    url = (host or default).strip().rstrip("/")
    if url and "://" not in url:
        url = f"{schema or 'https'}://{url}" + (f":{port}" if port else "")
    return url


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP-date: fall back to our own backoff


class Backoff:
    """Exponential backoff with a cap, honouring a server's Retry-After when it gave one."""

    def __init__(self, base: float = 0.5, cap: float = 30.0) -> None:
        self.base = base
        self.cap = cap

    def __call__(self, retry_state) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        hinted = getattr(exc, "retry_after", None)
        if hinted is not None:
            return min(hinted, self.cap * 4)
        return min(self.cap, self.base * (2 ** (retry_state.attempt_number - 1)))


def with_retries(fn: Callable[[], T], attempts: int, backoff: Backoff) -> T:
    """Run ``fn``; retry it on ``TransientError`` only (the one retry rule of both hooks)."""
    for attempt in Retrying(
        stop=stop_after_attempt(attempts),
        wait=backoff,
        retry=retry_if_exception_type(TransientError),
        reraise=True,
    ):
        with attempt:
            return fn()
    raise AssertionError("unreachable")  # pragma: no cover


def classify_transport_error(exc: requests.RequestException, *, idempotent: bool, what: str, system: str) -> ApiError:
    """Turn a requests exception into our class. Connect failures never reached the server."""
    if isinstance(exc, requests.ConnectTimeout | requests.exceptions.SSLError):
        kind = "TLS verification failed" if isinstance(exc, requests.exceptions.SSLError) else "connect timeout"
        if isinstance(exc, requests.exceptions.SSLError):
            return BusinessError(
                f"{system}: {what}: {kind}. Check the connection's verify_ssl (a CA bundle path for a "
                "self-signed certificate).", system=system)
        return TransientError(f"{system}: {what}: {kind}", system=system)
    if isinstance(exc, requests.ConnectionError) and _never_sent(exc):
        return TransientError(f"{system}: {what}: cannot connect ({type(exc).__name__})", system=system)
    if isinstance(exc, requests.Timeout):
        msg = f"{system}: {what}: no answer within the timeout"
    else:
        msg = f"{system}: {what}: the connection broke before the answer arrived ({type(exc).__name__})"
    if idempotent:
        return TransientError(msg, system=system)
    return AmbiguousWriteError(msg + "; the change may have been made", system=system)


def _never_sent(exc: requests.ConnectionError) -> bool:
    """True when the request never reached the server (refused, DNS): safe to resend any call."""
    text = repr(exc.args)
    return any(s in text for s in ("NewConnectionError", "Connection refused", "NameResolutionError"))


class Pacer:
    """Spaces call starts so that at most ``per_minute`` begin in any 60 s (OfficeGuy's limit).

    One pacer per key (e.g. company) per process, shared by every hook instance.
    """

    _instances: dict[str, Pacer] = {}
    _guard = threading.Lock()

    def __init__(self, per_minute: float) -> None:
        self.interval = 60.0 / per_minute if per_minute > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    @classmethod
    def for_key(cls, key: str, per_minute: float) -> Pacer:
        with cls._guard:
            pacer = cls._instances.get(key)
            if pacer is None or pacer.interval != (60.0 / per_minute if per_minute > 0 else 0.0):
                pacer = cls._instances[key] = cls(per_minute)
            return pacer

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)

    def hold_off(self, seconds: float) -> None:
        """After a rate-limit answer: no call starts for ``seconds``."""
        with self._lock:
            self._next = max(self._next, time.monotonic() + seconds)
