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

A connection set up wrongly is a `ConnectionConfigError` (never retried, never a `BusinessError`):
each hook parses its connection once into a frozen `ConnectionSettings` subclass whose
``extra_field``s are the extras it reads, and owns one requests session (`ApiHookMixin`: the
hook is a context manager that closes it).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import Field, dataclass, field, fields
from functools import cached_property
from typing import Any, ClassVar, Self, TypeVar

import requests
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

T = TypeVar("T")
log = logging.getLogger(__name__)


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


# --------------------------------------------------------------------------- connections and sessions
def extra_field(key: str, default: Any, *, minimum: float | None = None, integer: bool = False) -> Any:
    """A settings field that comes from the connection's extra ``key``; a number when ``minimum`` is given.

    This one declaration drives the parsing (numbers by `extra_number`), the test that the connection
    form declares every extra a hook reads, and the form's defaults and minimums."""
    return field(metadata={"extra": key, "default": default, "minimum": minimum, "integer": integer})


def secret_field() -> Any:
    """A credential: out of repr (so of str, logs and XCom) and redacted from every message."""
    return field(repr=False, metadata={"secret": True})


@dataclass(frozen=True)
class ConnectionSettings:
    """An Airflow connection parsed once, as a hook's ``settings`` (frozen; credentials out of repr).

    A subclass adds its credentials and extras (`extra_field`) and parses what is not a plain number
    in ``_parse``; every problem is a `ConnectionConfigError` naming the connection and the field."""

    conn_id: str
    base_url: str
    scheme_assumed: bool  # the host had no scheme, so https:// was assumed (said when TLS then fails)

    system: ClassVar[str] = ""  # "OfficeGuy" or "WooCommerce", for the hook's errors
    default_url: ClassVar[str] = ""
    secret_attrs: ClassVar[tuple[str, ...]] = ("password",)  # registered with Airflow's masker first of all

    @classmethod
    def extras(cls) -> dict[str, Field]:
        """Extra key -> the field it fills: every extra this connection type reads."""
        return {f.metadata["extra"]: f for f in fields(cls) if "extra" in f.metadata}

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(str(getattr(self, f.name)) for f in fields(self) if f.metadata.get("secret") and getattr(self, f.name))

    @classmethod
    def from_connection(cls, conn: Any, conn_id: str) -> Self:
        register_secrets(*(getattr(conn, attr) for attr in cls.secret_attrs))
        extra = _extra_of(conn, conn_id)
        unknown = sorted(set(extra) - set(cls.extras()))
        if unknown:
            log.warning("Connection %r: extra %s not read by this connection type (known: %s); ignored.",
                        conn_id, ", ".join(map(repr, unknown)), ", ".join(sorted(cls.extras())))
        url = base_url(conn.host, conn.schema, conn.port, cls.default_url, conn_id=conn_id)
        specific = cls._parse(conn, extra, conn_id, url)
        numbers = {f.name: extra_number(extra, key, f.metadata["default"], conn_id, minimum=f.metadata["minimum"],
                                        integer=f.metadata["integer"])
                   for key, f in cls.extras().items() if f.metadata["minimum"] is not None}
        scheme_assumed = bool(conn.host) and "://" not in conn.host and not conn.schema
        return cls(conn_id=conn_id, base_url=url, scheme_assumed=scheme_assumed, **specific, **numbers)

    @classmethod
    def _parse(cls, conn: Any, extra: dict, conn_id: str, url: str) -> dict[str, Any]:
        """The credentials and the extras that are not plain numbers, as field name -> value."""
        raise NotImplementedError


def _extra_of(conn: Any, conn_id: str) -> dict:
    """The connection's extra as a dict; Airflow would turn malformed JSON into {} and go on silently."""
    raw = conn.extra
    if raw and str(raw).strip():
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise ConnectionConfigError(f"Connection {conn_id!r}: its extra is not a JSON object; fix it in "
                                        "Admin → Connections.")
    return conn.extra_dejson


class ApiHookMixin:
    """What both hooks share, after Airflow's HttpHook: the hook owns its connection, parsed once into
    frozen ``settings`` (a cached property, as DbApiHook's ``connection``), and one requests session
    (``get_conn``), closed by ``close()`` or on leaving ``with SomeHook(...) as hook:``.

    Put before ``BaseHook`` in the bases; the subclass names its ``settings_class`` and builds its
    session in ``_new_session``."""

    conn_name_attr: str
    settings_class: type[ConnectionSettings]
    backoff_cap: float = 30.0

    def __init__(self, conn_id: str, *, max_attempts: int | None = None, backoff: Backoff | None = None) -> None:
        super().__init__()
        setattr(self, self.conn_name_attr, conn_id)
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._session: requests.Session | None = None
        self._calls_lock = threading.Lock()
        self.calls = 0

    @cached_property
    def settings(self) -> Any:
        """The connection, fetched and parsed on first use only; raises `ConnectionConfigError`."""
        conn_id = getattr(self, self.conn_name_attr)
        return self.settings_class.from_connection(self.get_connection(conn_id), conn_id)  # type: ignore[attr-defined]

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    @property
    def timeout(self) -> float:
        return self.settings.timeout

    @property
    def max_attempts(self) -> int:
        return self._max_attempts or self.settings.max_attempts

    @cached_property
    def backoff(self) -> Backoff:
        return self._backoff or Backoff(base=self.settings.backoff_seconds, cap=self.backoff_cap)

    def get_conn(self) -> requests.Session:
        """The hook's requests session, made on first use (after the connection is parsed)."""
        if self._session is None:
            settings = self.settings
            guard_transport_logs()
            self._session = self._new_session(settings)
        return self._session

    def _new_session(self, settings: Any) -> requests.Session:
        raise NotImplementedError

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def test_connection(self) -> tuple[bool, str]:
        """The Airflow UI's Test button: one cheap read (``_probe``), or the error that says what to fix."""
        try:
            return True, self._probe()
        except ApiError as exc:
            return False, str(exc)

    def _probe(self) -> str:
        raise NotImplementedError

    def _count_call(self) -> None:
        with self._calls_lock:
            self.calls += 1

    def _retrying(self, once: Callable[[], T]) -> T:
        return with_retries(once, self.max_attempts, self.backoff)

    def _redact(self, text: str) -> str:
        return redact(text, self.settings.secrets)

    def _transport_error(self, exc: requests.RequestException, *, idempotent: bool, what: str) -> ApiError:
        """A requests exception as our class, with what to check about the connection, redacted."""
        err = classify_transport_error(exc, idempotent=idempotent, what=what, system=self.settings_class.system)
        s = self.settings
        err.args = (self._redact(f"{err} {connection_hint(exc, s.conn_id, s.base_url, s.scheme_assumed)}"),)
        return err
