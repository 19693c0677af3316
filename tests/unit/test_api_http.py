"""plugins/common/http.py on its own: the error classes, the one retry rule, backoff, pacing, redaction.

Real HTTP only: requests talks to a small `http.server` on 127.0.0.1 (answers, dropped connections,
slow answers, a refused port, TLS spoken to a plain-HTTP port, a malformed header). The two library
exceptions that loopback cannot produce on demand (a connect timeout, a DNS failure) are built as
requests builds them. Nothing of ours is mocked; pacing is measured in real time with lower bounds
(a sleep never ends early on the monotonic clock) and only generous upper bounds.
"""

from __future__ import annotations

import base64
import logging
import socket
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth1
from tenacity import RetryCallState, Retrying

from officeguy_woocommerce.common.http import (
    AmbiguousWriteError,
    ApiError,
    AuthError,
    Backoff,
    BusinessError,
    ConnectionConfigError,
    Pacer,
    TransientError,
    UrlCredentialsError,
    base_url,
    classify_transport_error,
    connection_hint,
    extra_number,
    guard_transport_logs,
    parse_retry_after,
    redact,
    with_retries,
)

CK = "ck_4f1e2d3c4b5a69788796a5b4c3d2e1f0aa11bb22"
CS = "cs_0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b"
SECRET_QUERY = {"consumer_key": CK, "consumer_secret": CS}
FAST = Backoff(base=0.01, cap=0.05)
READ_TIMEOUT = (5, 0.2)  # connect at leisure (loopback), give up reading after 0.2 s


# --------------------------------------------------------------------------- the local server
class _Handler(BaseHTTPRequestHandler):
    """Routes: /ok, /status/<code>, /flaky/<n>/<tag> (503 n times, then 200), /drop (reads the request,
    closes without answering), /slow (answers when released), /partial (promises 100 bytes, sends 3),
    /badheader (a header line without a colon)."""

    server: _Server

    def log_message(self, *args) -> None:  # keep the test output quiet
        pass

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _answer(self, status: int, body: bytes = b'{"ok": true}', headers: dict | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        path = urlsplit(self.path).path
        with self.server.lock:
            self.server.hits.append((self.command, self.path, dict(self.headers)))
            count = sum(1 for _, p, _ in self.server.hits if urlsplit(p).path == path)
        parts = path.strip("/").split("/")
        if parts[0] == "ok":
            self._answer(200)
        elif parts[0] == "status":
            self._answer(int(parts[1]), b'{"code": "x"}')
        elif parts[0] == "flaky":
            self._answer(503 if count <= int(parts[1]) else 200)
        elif parts[0] == "drop":
            self.close_connection = True  # nothing written: the client sees the connection close
        elif parts[0] == "slow":
            self.server.release.wait(10)
            self._answer(200)
        elif parts[0] == "partial":
            self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\nabc")
            self.close_connection = True
        elif parts[0] == "badheader":
            self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\nthis is not a header\r\n\r\nok")
            self.close_connection = True
        else:
            self._answer(404)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hits: list[tuple[str, str, dict]] = []
        self.lock = threading.Lock()
        self.release = threading.Event()

    def handle_error(self, request, client_address) -> None:  # a client gone after a timeout is expected
        pass

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def count(self, path: str, *, at_least: int = 0) -> int:
        """Requests seen for ``path``; waits (up to 5 s) until ``at_least`` have been recorded, for a client
        that gave up before the handler thread got to record its request."""
        deadline = time.monotonic() + 5
        while True:
            with self.lock:
                seen = sum(1 for _, p, _ in self.hits if urlsplit(p).path == path)
            if seen >= at_least or time.monotonic() > deadline:
                return seen
            time.sleep(0.01)


@pytest.fixture(scope="module")
def _running_server():
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.release.set()
        srv.shutdown()
        srv.server_close()


@pytest.fixture
def server(_running_server):
    """The module's server with its hit list emptied; a slow answer still waiting is released at the end."""
    with _running_server.lock:
        _running_server.hits.clear()
    _running_server.release.clear()
    yield _running_server
    _running_server.release.set()


@pytest.fixture
def refused_url():
    """A loopback port that is bound but not listening: every connect is refused at once."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


def _call(method: str, url: str, *, idempotent: bool, timeout: float | tuple[float, float] = 5.0, what: str = "create order",
          **kw) -> requests.Response:
    """A caller shaped like the hooks' ``once``: transport failures go through classify_transport_error
    and are raised ``from None``; 429/5xx are transient for reads and ambiguous for writes."""
    try:
        resp = requests.request(method, url, timeout=timeout, **kw)
    except requests.RequestException as exc:
        raise classify_transport_error(exc, idempotent=idempotent, what=what, system="WooCommerce") from None
    if resp.status_code == 429 or resp.status_code >= 500:
        if resp.status_code >= 500 and not idempotent:
            raise AmbiguousWriteError(f"answered {resp.status_code}", system="WooCommerce", status=resp.status_code)
        raise TransientError(f"answered {resp.status_code}", system="WooCommerce", status=resp.status_code,
                             retry_after=parse_retry_after(resp.headers.get("Retry-After")))
    if resp.status_code in (401, 403):
        raise AuthError(f"answered {resp.status_code}", system="WooCommerce", status=resp.status_code)
    if resp.status_code >= 400:
        raise BusinessError(f"answered {resp.status_code}", system="WooCommerce", status=resp.status_code)
    return resp


def _raise(exc: BaseException):
    raise exc


def _transport_exception(fn) -> requests.RequestException:
    with pytest.raises(requests.RequestException) as caught:
        fn()
    return caught.value


# --------------------------------------------------------------------------- error classes
def test_the_error_classes_form_the_documented_hierarchy():
    assert issubclass(ApiError, Exception)
    for cls in (TransientError, AmbiguousWriteError, BusinessError, ConnectionConfigError):
        assert issubclass(cls, ApiError)
    assert issubclass(AuthError, BusinessError)
    assert issubclass(UrlCredentialsError, ConnectionConfigError)
    # An ambiguous write is never a transient error: the one retry rule must not resend it.
    assert not issubclass(AmbiguousWriteError, TransientError)
    for never_retried in (BusinessError, AuthError, ConnectionConfigError, UrlCredentialsError):
        assert not issubclass(never_retried, TransientError)


def test_an_api_error_carries_system_status_and_code():
    err = ApiError("do this", system="OfficeGuy", status=502, code="rest_bad")
    assert (str(err), err.system, err.status, err.code) == ("do this", "OfficeGuy", 502, "rest_bad")
    bare = ApiError("m")
    assert (bare.system, bare.status, bare.code) == ("", None, "")
    transient = TransientError("slow down", retry_after=7.5, system="WooCommerce", status=429, code="c")
    assert (transient.retry_after, transient.system, transient.status, transient.code) == (7.5, "WooCommerce", 429, "c")
    assert TransientError("x").retry_after is None
    for cls in (AmbiguousWriteError, BusinessError, AuthError, ConnectionConfigError, UrlCredentialsError):
        err = cls("m", system="S", status=500, code="k")
        assert (err.system, err.status, err.code) == ("S", 500, "k")


# --------------------------------------------------------------------------- classify_transport_error
def test_a_refused_connection_is_transient_even_for_a_write(refused_url):
    exc = _transport_exception(lambda: requests.post(f"{refused_url}/orders", json={}, timeout=5))
    for idempotent in (True, False):
        err = classify_transport_error(exc, idempotent=idempotent, what="create order", system="WooCommerce")
        assert type(err) is TransientError
        assert str(err) == "WooCommerce: create order: cannot connect (ConnectionError)"
        assert err.system == "WooCommerce"


def test_a_dns_failure_is_transient_even_for_a_write():
    # Loopback cannot fail a name lookup on demand; this is the text requests carries for one.
    exc = requests.ConnectionError("HTTPSConnectionPool(host='shop.invalid', port=443): Max retries exceeded "
                                   "(Caused by NameResolutionError(\"Failed to resolve 'shop.invalid'\"))")
    err = classify_transport_error(exc, idempotent=False, what="create order", system="WooCommerce")
    assert type(err) is TransientError and "cannot connect" in str(err)


def test_a_connect_timeout_is_transient_even_for_a_write():
    # A connect timeout needs an address that swallows SYNs; requests raises this class for it.
    exc = requests.ConnectTimeout("connect timed out")
    for idempotent in (True, False):
        err = classify_transport_error(exc, idempotent=idempotent, what="create document", system="OfficeGuy")
        assert type(err) is TransientError
        assert str(err) == "OfficeGuy: create document: connect timeout"


def test_tls_failure_is_a_business_error_naming_verify_ssl(server):
    exc = _transport_exception(lambda: requests.get(server.url.replace("http://", "https://") + "/ok", timeout=5))
    assert isinstance(exc, requests.exceptions.SSLError)
    for idempotent in (True, False):
        err = classify_transport_error(exc, idempotent=idempotent, what="list products", system="WooCommerce")
        assert type(err) is BusinessError
        assert "TLS verification failed" in str(err) and "verify_ssl" in str(err)


@pytest.mark.parametrize("idempotent, cls, tail", [
    (True, TransientError, "no answer within the timeout"),
    (False, AmbiguousWriteError, "no answer within the timeout; the change may have been made"),
])
def test_a_read_timeout_is_transient_for_reads_and_ambiguous_for_writes(server, idempotent, cls, tail):
    exc = _transport_exception(lambda: requests.post(f"{server.url}/slow", json={"a": 1}, timeout=READ_TIMEOUT))
    assert isinstance(exc, requests.ReadTimeout)
    assert server.count("/slow", at_least=1) == 1  # the request did reach the server
    err = classify_transport_error(exc, idempotent=idempotent, what="update order", system="WooCommerce")
    assert type(err) is cls
    assert str(err) == f"WooCommerce: update order: {tail}"


@pytest.mark.parametrize("route, exc_type", [("drop", requests.ConnectionError),
                                             ("partial", requests.exceptions.ChunkedEncodingError)])
def test_a_connection_broken_after_sending_is_ambiguous_for_writes(server, route, exc_type):
    exc = _transport_exception(lambda: requests.post(f"{server.url}/{route}", json={"a": 1}, timeout=5).content)
    assert isinstance(exc, exc_type)
    write = classify_transport_error(exc, idempotent=False, what="create order", system="WooCommerce")
    assert type(write) is AmbiguousWriteError
    assert str(write) == (f"WooCommerce: create order: the connection broke before the answer arrived "
                          f"({type(exc).__name__}); the change may have been made")
    read = classify_transport_error(exc, idempotent=True, what="create order", system="WooCommerce")
    assert type(read) is TransientError and "the change may have been made" not in str(read)


# --------------------------------------------------------------------------- with_retries: the one retry rule
def test_a_transient_failure_is_retried_until_it_succeeds(server):
    resp = with_retries(lambda: _call("GET", f"{server.url}/flaky/2/a", idempotent=True), 5, FAST)
    assert resp.status_code == 200
    assert server.count("/flaky/2/a") == 3


def test_retries_stop_after_the_given_attempts_and_reraise_the_last_error(server):
    with pytest.raises(TransientError) as caught:
        with_retries(lambda: _call("GET", f"{server.url}/status/503", idempotent=True), 3, FAST)
    assert caught.value.status == 503  # our own error, not tenacity's RetryError
    assert server.count("/status/503") == 3


def test_one_attempt_means_no_retry(server):
    with pytest.raises(TransientError):
        with_retries(lambda: _call("GET", f"{server.url}/status/429", idempotent=True), 1, FAST)
    assert server.count("/status/429") == 1


@pytest.mark.parametrize("status, cls", [(400, BusinessError), (404, BusinessError), (401, AuthError),
                                         (403, AuthError)])
def test_business_and_auth_errors_are_never_retried(server, status, cls):
    with pytest.raises(cls):
        with_retries(lambda: _call("GET", f"{server.url}/status/{status}", idempotent=True), 5, FAST)
    assert server.count(f"/status/{status}") == 1


def test_a_write_answered_with_5xx_is_ambiguous_and_sent_once(server):
    with pytest.raises(AmbiguousWriteError):
        with_retries(lambda: _call("POST", f"{server.url}/status/502", idempotent=False, json={}), 5, FAST)
    assert server.count("/status/502") == 1


def test_a_write_whose_connection_broke_is_ambiguous_and_sent_once(server):
    with pytest.raises(AmbiguousWriteError) as caught:
        with_retries(lambda: _call("POST", f"{server.url}/drop", idempotent=False, json={"a": 1}), 5, FAST)
    assert "may have been made" in str(caught.value)
    assert server.count("/drop") == 1


def test_a_write_that_timed_out_is_ambiguous_and_sent_once(server):
    with pytest.raises(AmbiguousWriteError):
        with_retries(lambda: _call("POST", f"{server.url}/slow", idempotent=False, json={}, timeout=READ_TIMEOUT), 5, FAST)
    assert server.count("/slow", at_least=1) == 1


def test_a_read_whose_connection_broke_is_retried(server):
    with pytest.raises(TransientError):
        with_retries(lambda: _call("GET", f"{server.url}/drop", idempotent=True), 3, FAST)
    assert server.count("/drop") == 3


def test_a_write_that_never_reached_the_server_is_retried(refused_url, server):
    calls = []

    def once():
        calls.append(1)
        url = refused_url if len(calls) < 3 else server.url  # the server "comes back" on the third try
        return _call("POST", f"{url}/ok", idempotent=False, json={})

    assert with_retries(once, 5, FAST).status_code == 200
    assert len(calls) == 3 and server.count("/ok") == 1


@pytest.mark.parametrize("exc", [ValueError("bug"), ConnectionConfigError("bad extra"), KeyError("x"),
                                 UrlCredentialsError("user:pw@")])
def test_other_exceptions_are_never_retried(exc):
    calls = []

    def once():
        calls.append(1)
        raise exc

    with pytest.raises(type(exc)):
        with_retries(once, 5, FAST)
    assert len(calls) == 1


# --------------------------------------------------------------------------- backoff
def _state(attempt: int, exc: BaseException | None) -> RetryCallState:
    state = RetryCallState(Retrying(), None, (), {})
    state.attempt_number = attempt
    if exc is not None:
        state.set_exception((type(exc), exc, None))
    return state


def test_backoff_doubles_from_the_base_up_to_the_cap():
    backoff = Backoff(base=0.5, cap=30.0)
    waits = [backoff(_state(n, TransientError("x"))) for n in range(1, 10)]
    assert waits == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert Backoff()(_state(1, None)) == 0.5  # no outcome yet: still the base
    assert Backoff(base=2, cap=5)(_state(3, ValueError("no hint"))) == 5


@pytest.mark.parametrize("retry_after, expected", [(7.0, 7.0), (0.0, 0.0), (119.0, 119.0), (500.0, 120.0)])
def test_backoff_honours_retry_after_up_to_four_caps(retry_after, expected):
    backoff = Backoff(base=0.5, cap=30.0)
    assert backoff(_state(5, TransientError("429", retry_after=retry_after))) == expected


@pytest.mark.parametrize("value, expected", [(None, None), ("", None), ("5", 5.0), (" 2.5 ", 2.5), ("0", 0.0),
                                             ("-3", 0.0), ("Wed, 21 Oct 2015 07:28:00 GMT", None)])
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value) == expected


def test_with_retries_waits_the_backoff_between_attempts():
    started = time.monotonic()
    with pytest.raises(TransientError):
        with_retries(lambda: _raise(TransientError("x")), 3, Backoff(base=0.1, cap=10))
    assert 0.3 <= time.monotonic() - started < 10  # 0.1 + 0.2 between three attempts


def test_with_retries_waits_the_servers_retry_after():
    hits = []

    def once():
        hits.append(time.monotonic())
        if len(hits) == 1:
            raise TransientError("rate limited", retry_after=0.3)
        return "done"

    assert with_retries(once, 3, Backoff(base=0.001, cap=10)) == "done"
    assert hits[1] - hits[0] >= 0.3


def test_with_retries_respects_the_cap_however_large_the_base_or_hint():
    started = time.monotonic()
    with pytest.raises(TransientError):
        with_retries(lambda: _raise(TransientError("x")), 3, Backoff(base=100, cap=0.05))
    with pytest.raises(TransientError):
        with_retries(lambda: _raise(TransientError("x", retry_after=1000)), 2, Backoff(cap=0.05))
    assert time.monotonic() - started < 10  # uncapped this would be 100 + 200 + 1000 s


# --------------------------------------------------------------------------- pacing
def test_pacer_interval_follows_the_rate():
    assert Pacer(90).interval == pytest.approx(60 / 90)
    assert Pacer(60).interval == 1.0
    assert Pacer(0).interval == 0.0 and Pacer(-5).interval == 0.0


def test_the_first_call_starts_at_once():
    pacer = Pacer(1)  # one call a minute: a wrongly paced first call would sleep 60 s
    started = time.monotonic()
    pacer.wait()
    assert time.monotonic() - started < 30


def test_calls_are_spaced_by_the_interval():
    pacer = Pacer(1200)  # 0.05 s apart
    started = time.monotonic()
    stamps = []
    for _ in range(6):
        pacer.wait()
        stamps.append(time.monotonic())
    for k, stamp in enumerate(stamps):
        assert stamp - started >= k * 0.05 - 1e-6
    assert stamps[-1] - started < 10


def test_calls_from_many_threads_share_the_spacing():
    pacer = Pacer(1200)
    stamps: list[float] = []
    lock = threading.Lock()

    def worker():
        for _ in range(3):
            pacer.wait()
            with lock:
                stamps.append(time.monotonic())

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    stamps.sort()
    assert len(stamps) == 12
    # The k-th call to start cannot start before k intervals: at most per_minute begin in any minute.
    for k, stamp in enumerate(stamps):
        assert stamp - started >= k * 0.05 - 1e-6


def test_no_rate_means_no_pacing():
    pacer = Pacer(0)
    started = time.monotonic()
    for _ in range(1000):
        pacer.wait()
    assert time.monotonic() - started < 5


def test_hold_off_delays_the_next_call_and_is_never_shortened():
    pacer = Pacer(1200)
    pacer.wait()
    started = time.monotonic()
    pacer.hold_off(0.3)
    pacer.hold_off(0.01)  # a shorter hold does not cut the longer one
    pacer.wait()
    assert time.monotonic() - started >= 0.3
    pacer.wait()  # and the spacing continues after the hold
    assert time.monotonic() - started >= 0.35 - 1e-6


def test_hold_off_holds_a_pacer_without_a_rate_too():
    pacer = Pacer(0)
    started = time.monotonic()
    pacer.hold_off(0.3)
    pacer.wait()
    assert time.monotonic() - started >= 0.3


def test_one_pacer_per_key_and_rate():
    key = f"https://api.example|{uuid.uuid4()}"
    first = Pacer.for_key(key, 90)
    assert Pacer.for_key(key, 90) is first  # every hook instance of a company shares it
    assert Pacer.for_key(f"{key}-other", 90) is not first
    changed = Pacer.for_key(key, 30)
    assert changed is not first and changed.interval == 2.0
    assert Pacer.for_key(key, 30) is changed


# --------------------------------------------------------------------------- redaction
def test_redact_removes_given_secrets_everywhere():
    text = f"key {CK} and secret {CS}; again {CS}"
    assert redact(text, [CK, CS]) == "key *** and secret ***; again ***"
    assert redact(text, [None, "", CS]).count("***") == 2  # None and "" are skipped


def test_redact_leaves_one_and_two_character_secrets_alone():
    assert redact("a 1 ab", ["a", "1", "ab"]) == "a 1 ab"


@pytest.mark.parametrize("param", ["consumer_key", "consumer_secret", "oauth_signature", "oauth_consumer_key",
                                   "oauth_nonce", "APIKey"])
def test_redact_hides_secret_looking_query_parameters(param):
    value = "Zq9xSECRETvalue%3D"
    for text in (f"GET /x?{param}={value}&page=2 HTTP/1.1", f"url='/x?a=1&{param}={value}'",
                 f'"{param}={value}"', f"{param}={value}"):
        cleaned = redact(text)
        assert value not in cleaned and f"{param}=***" in cleaned
    assert redact("GET /x?page=2&per_page=100") == "GET /x?page=2&per_page=100"


@pytest.mark.parametrize("url", ["https://ck_user:cs_pass@shop.example/wp-json", "http://user@host:8080/x",
                                 "see https://a:b@h.example and ftp://u:p@f.example/"])
def test_redact_hides_user_info_in_urls(url):
    cleaned = redact(url)
    for secret in ("ck_user", "cs_pass", "user@", "a:b", "u:p"):
        assert secret not in cleaned
    assert "***@" in cleaned


def _leaks(text: str, secrets) -> list[str]:
    return [s for s in secrets if s in text]


@pytest.mark.parametrize("case", ["refused", "tls", "drop", "timeout", "partial"])
def test_classified_transport_errors_never_carry_the_url_or_its_secrets(server, refused_url, case):
    base = {"refused": refused_url, "tls": server.url.replace("http://", "https://")}.get(case, server.url)
    route = {"drop": "drop", "timeout": "slow", "partial": "partial"}.get(case, "ok")
    url = f"{base}/{route}"
    with pytest.raises(ApiError) as caught:
        _call("POST", url, idempotent=False, params=SECRET_QUERY, timeout=READ_TIMEOUT, json={"k": 1})
    err = caught.value
    shown = "".join(traceback.format_exception(err)) + str(err) + repr(err) + repr(err.args)
    assert _leaks(shown, [CK, CS]) == []
    assert err.__suppress_context__ and err.__cause__ is None


def test_the_library_errors_do_carry_the_secrets_which_is_why_they_are_not_chained(refused_url):
    exc = _transport_exception(lambda: requests.get(f"{refused_url}/x", params=SECRET_QUERY, timeout=5))
    assert CS in str(exc)  # the check above is not vacuous
    assert CS not in str(classify_transport_error(exc, idempotent=True, what="list", system="WooCommerce"))


@pytest.fixture
def debug_logs(caplog):
    guard_transport_logs()
    caplog.set_level(logging.DEBUG)
    return caplog


def _all_text(caplog) -> str:
    parts = []
    for record in caplog.records:
        parts += [record.getMessage(), str(record.msg), repr(record.args), record.exc_text or ""]
        if record.exc_info and record.exc_info[1] is not None:
            parts.append("".join(traceback.format_exception(record.exc_info[1])))
    return "\n".join(parts)


def test_query_auth_secrets_never_reach_the_transport_logs(server, debug_logs):
    assert requests.get(f"{server.url}/ok", params={**SECRET_QUERY, "page": 2}, timeout=5).status_code == 200
    text = _all_text(debug_logs)
    assert "consumer_secret=***" in text and "page=2" in text  # urllib3 did log the request line
    assert _leaks(text, [CK, CS]) == []


def test_basic_auth_header_never_reaches_the_transport_logs(server, debug_logs):
    requests.get(f"{server.url}/ok", auth=HTTPBasicAuth(CK, CS), timeout=5)
    sent = server.hits[-1][2]["Authorization"]
    assert sent == "Basic " + base64.b64encode(f"{CK}:{CS}".encode()).decode()
    assert _leaks(_all_text(debug_logs), [CK, CS, sent.split()[1]]) == []


def test_oauth1_signing_never_reaches_the_transport_logs(server, debug_logs):
    auth = OAuth1(CK, CS, signature_method="HMAC-SHA256", signature_type="query")
    requests.get(f"{server.url}/ok", params={"per_page": 100}, auth=auth, timeout=5)
    raw_query = urlsplit(server.hits[-1][1]).query
    query = parse_qs(raw_query)
    signature, nonce = query["oauth_signature"][0], query["oauth_nonce"][0]
    encoded = dict(part.split("=", 1) for part in raw_query.split("&"))["oauth_signature"]
    text = _all_text(debug_logs)
    assert "oauth_signature=***" in text  # the request line was logged, redacted
    # oauthlib / requests_oauthlib print base strings, keys and signatures at DEBUG: those records go.
    assert not [r for r in debug_logs.records if r.name.startswith(("oauthlib", "requests_oauthlib"))]
    assert _leaks(text, [CK, CS, signature, encoded, nonce]) == []


def test_oauth_library_records_at_info_and_above_are_kept_but_redacted(debug_logs):
    logging.getLogger("requests_oauthlib").info("signed /x?oauth_signature=abcdef")
    logging.getLogger("oauthlib.oauth1").debug("base string with %s", CS)
    logging.getLogger("urllib3.connectionpool").debug("bad record %d", "not a number")  # malformed: dropped
    messages = [r.getMessage() for r in debug_logs.records]
    assert messages == ["signed /x?oauth_signature=***"]


def test_guard_transport_logs_is_idempotent():
    guard_transport_logs()
    names = ("urllib3", "urllib3.connectionpool", "requests", "oauthlib", "requests_oauthlib")
    before = [len(logging.getLogger(n).filters) for n in names]
    guard_transport_logs()
    assert [len(logging.getLogger(n).filters) for n in names] == before


def test_a_malformed_answer_header_does_not_leak_the_query_secrets_into_logs(server, debug_logs):
    assert requests.get(f"{server.url}/badheader", params=SECRET_QUERY, timeout=5).status_code == 200
    assert _leaks(_all_text(debug_logs), [CK, CS]) == []


# --------------------------------------------------------------------------- connection helpers
@pytest.mark.parametrize("host, schema, port, default, expected", [
    ("shop.example.co.il", None, None, "", "https://shop.example.co.il"),
    ("shop.example.co.il", "http", 8080, "", "http://shop.example.co.il:8080"),
    ("https://shop.example.co.il/", None, None, "", "https://shop.example.co.il"),
    ("  https://shop.example.co.il/wp-json/wc/v3/ ", None, None, "", "https://shop.example.co.il"),
    ("https://shop.example.co.il/store/wp-json", None, None, "", "https://shop.example.co.il/store"),
    (None, None, None, "https://api.sumit.co.il", "https://api.sumit.co.il"),
    ("", None, None, "", ""),
])
def test_base_url(host, schema, port, default, expected):
    assert base_url(host, schema, port, default, conn_id="c") == expected


@pytest.mark.parametrize("host", [f"https://{CK}:{CS}@shop.example", f"{CK}:{CS}@shop.example",
                                  f"http://{CK}@shop.example/wp-json"])
def test_base_url_refuses_user_info_without_repeating_it(host):
    with pytest.raises(UrlCredentialsError) as caught:
        base_url(host, None, None, conn_id="woocommerce_default")
    message = str(caught.value) + repr(caught.value)
    assert "woocommerce_default" in message and "login and password" in message
    assert _leaks(message, [CK, CS]) == []
    assert isinstance(caught.value, ConnectionConfigError)


def test_an_at_sign_in_the_path_is_not_user_info():
    assert base_url("https://shop.example/@brand", None, None) == "https://shop.example/@brand"


@pytest.mark.parametrize("extra, kw, expected", [
    ({}, {}, 60.0), ({"timeout": None}, {}, 60.0), ({"timeout": ""}, {}, 60.0), ({"timeout": 30}, {}, 30.0),
    ({"timeout": " 2.5 "}, {}, 2.5), ({"timeout": "0"}, {}, 0.0),
    ({"timeout": "7"}, {"integer": True}, 7), ({"timeout": "3"}, {"minimum": 3}, 3.0),
])
def test_extra_number_reads_numbers_and_defaults(extra, kw, expected):
    value = extra_number(extra, "timeout", 60, "officeguy_default", **kw)
    assert value == expected
    assert isinstance(value, int) if kw.get("integer") else True


@pytest.mark.parametrize("raw, kw, words", [
    ("fast", {}, "not a number"), (True, {}, "not a number"), ([1], {}, "not a number"),
    ("2.5", {"integer": True}, "not a whole number"), ("-1", {}, "at least 0"), ("0", {"minimum": 1}, "at least 1"),
    ("nan", {}, "not a finite number"), ("-inf", {}, "not a finite number"),
])
def test_extra_number_refuses_bad_values_naming_connection_and_field(raw, kw, words):
    with pytest.raises(ConnectionConfigError) as caught:
        extra_number({"max_attempts": raw}, "max_attempts", 5, "officeguy_default", **kw)
    message = str(caught.value)
    assert "'officeguy_default'" in message and "'max_attempts'" in message and words in message


@pytest.mark.parametrize("raw", ["inf", "1e999"])
def test_extra_number_refuses_infinity(raw):
    with pytest.raises(ConnectionConfigError):
        extra_number({"timeout": raw}, "timeout", 60, "woocommerce_default", minimum=0.001)


def test_connection_hint_names_the_connection_and_url(server, refused_url):
    tls = _transport_exception(lambda: requests.get(server.url.replace("http://", "https://"), timeout=5))
    url = "https://127.0.0.1:1"
    assumed = connection_hint(tls, "woocommerce_default", url, True)
    assert "'woocommerce_default'" in assumed and url in assumed and "http://" in assumed
    assert connection_hint(tls, "woocommerce_default", url, False) == f"Connection 'woocommerce_default': {url}."
    refused = _transport_exception(lambda: requests.get(refused_url, timeout=5))
    timeout = _transport_exception(lambda: requests.get(f"{server.url}/slow", timeout=READ_TIMEOUT))
    for exc in (refused, timeout):
        hint = connection_hint(exc, "officeguy_default", url, False)
        assert "'officeguy_default'" in hint and url in hint and "reachable" in hint
    assert connection_hint(ValueError("x"), "c", url, False) == ""
