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

import logging
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


_QUERY_SECRET_RE = re.compile(
    r"((?:consumer_key|consumer_secret|oauth_signature|oauth_consumer_key|oauth_nonce|APIKey)=)[^&\s'\"]+")
_URL_USERINFO_RE = re.compile(r"(\w+://)[^/@\s]+@")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without any of ``secrets`` and without secret-looking query parameters."""
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, "***")
    text = _URL_USERINFO_RE.sub(r"\1***@", text)
    return _QUERY_SECRET_RE.sub(r"\1***", text)


class ConnectionConfigError(ApiError):
    """An Airflow connection is set up wrongly (a bad URL, extra or file); the message names the
    connection and the field to fix. Never retried."""


class UrlCredentialsError(ConnectionConfigError):
    """A connection's URL carries ``user:password@``: refused, so the secret never travels further."""


def extra_number(extra: dict, key: str, default: float, conn_id: str, *, minimum: float = 0,
                 integer: bool = False) -> float:
    """A numeric field of a connection's extra, or a `ConnectionConfigError` naming it."""
    raw = extra.get(key)
    if raw is None or raw == "":
        return default
    try:
        if isinstance(raw, bool):
            raise ValueError
        value = int(str(raw).strip()) if integer else float(str(raw).strip())
    except ValueError:
        raise ConnectionConfigError(
            f"Connection {conn_id!r}: extra {key!r} is {raw!r}, not a {'whole ' if integer else ''}number; "
            f"fix it in Admin → Connections (default {default:g}).") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ConnectionConfigError(f"Connection {conn_id!r}: extra {key!r} is {raw!r}, not a finite number; "
                                    f"fix it in Admin → Connections (default {default:g}).")
    if value < minimum:
        raise ConnectionConfigError(f"Connection {conn_id!r}: extra {key!r} must be at least {minimum:g}, not {raw!r}.")
    return value


def base_url(host: str | None, schema: str | None, port: int | None, default: str = "", *,
             conn_id: str = "") -> str:
    """A connection's base URL: the host field may hold a whole URL or just a host name.

    A URL with ``user:password@`` is refused (the message never repeats it): the base URL goes into
    XCom, logs, the ledger and reports, and the credentials belong in the connection's login and
    password fields."""
    url = (host or default).strip().rstrip("/")
    if url and "://" not in url:
        url = f"{schema or 'https'}://{url}" + (f":{port}" if port else "")
    # The store's address, not its API's: a pasted ".../wp-json/wc/v3" would double the API path.
    url = re.sub(r"/wp-json(/wc/v\d+)?$", "", url)
    authority = url.split("://", 1)[-1].split("/", 1)[0]
    if "@" in authority:
        raise UrlCredentialsError(
            f"Connection {conn_id!r}: its URL contains a user name or password (user:password@host). Remove "
            "them from the URL and put the credentials in the connection's login and password fields.")
    return url


def register_secrets(*secrets: str | None) -> None:
    """Tell Airflow's secrets masker about every credential, so no task log line can show it."""
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # pragma: no cover - outside Airflow
        return
    for secret in secrets:
        if secret and len(secret) >= 3:
            mask_secret(secret)


class _TransportLogFilter(logging.Filter):
    """Keeps credentials out of the HTTP libraries' own log lines at every level: urllib3 prints each
    request line (with ``consumer_secret=`` under query auth, ``oauth_signature=`` under OAuth 1.0a);
    oauthlib and requests-oauthlib print base strings and signatures at DEBUG, so those records go."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith(("oauthlib", "requests_oauthlib")) and record.levelno < logging.INFO:
            return False
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is dropped rather than printed raw
            return False
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


# A logger's filters do not apply to its children's records, so every module logger these libraries
# use is named (urllib3 logs a whole request URL, with the query's secrets, from several of them).
_TRANSPORT_LOGGERS = ("urllib3", "urllib3.connection", "urllib3.connectionpool", "urllib3.poolmanager",
                      "urllib3.response", "urllib3.util", "urllib3.util.retry", "urllib3.util.ssl_",
                      "urllib3.contrib", "urllib3.http2", "requests", "requests.packages.urllib3", "oauthlib",
                      "oauthlib.oauth1", "oauthlib.oauth1.rfc5849", "oauthlib.oauth1.rfc5849.signature",
                      "oauthlib.oauth1.rfc5849.endpoints", "requests_oauthlib", "requests_oauthlib.oauth1_auth",
                      "requests_oauthlib.oauth1_session")
_FILTER = _TransportLogFilter()


def guard_transport_logs() -> None:
    """Install the filter on the transport loggers, and on any child logger they have made (idempotent)."""
    names = set(_TRANSPORT_LOGGERS) | {name for name in logging.Logger.manager.loggerDict
                                       if name.split(".")[0] in ("urllib3", "requests", "oauthlib", "requests_oauthlib")}
    for name in sorted(names):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


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


def connection_hint(exc: Exception, conn_id: str, url: str, scheme_assumed: bool) -> str:
    """What to check, naming the connection and its URL (never credentials: the URL has none)."""
    if isinstance(exc, requests.exceptions.SSLError):
        if scheme_assumed:
            return (f"The URL of connection {conn_id!r} ({url}) has no scheme, so https:// was assumed; write "
                    "http:// in front if the server has no TLS.")
        return f"Connection {conn_id!r}: {url}."
    if isinstance(exc, requests.ConnectionError | requests.Timeout):
        return (f"Check that connection {conn_id!r} points at the right address ({url}) and that it is reachable "
                "from this worker.")
    return ""


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
        """Block until this call may start (no pacing with rate 0, but a hold-off is still honoured)."""
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
