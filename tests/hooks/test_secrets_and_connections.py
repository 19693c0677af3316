"""Credentials never reach a log line, at any level, and a badly set-up connection says what to fix.

Issue 9 (defects 7 and 10): a Store URL with ``user:pass@`` put the password into XCom, the task log
and the ledger; at DEBUG level urllib3 printed the consumer secret (``auth=query``) and oauthlib the
OAuth signature; bad extras raised bare ``ValueError``/``OSError``.
"""

from __future__ import annotations

import json
import logging

import pytest

from officeguy_woocommerce.common.http import ConnectionConfigError, UrlCredentialsError, base_url, redact


@pytest.mark.parametrize("host", [
    "https://shop:s3cr3t-pass@shop.example.co.il",
    "http://key@127.0.0.1:8080",
    "shop:s3cr3t-pass@shop.example.co.il",
])
def test_a_url_with_credentials_is_refused_without_repeating_them(host):
    with pytest.raises(UrlCredentialsError) as caught:
        base_url(host, None, None, conn_id="woocommerce_default")
    message = str(caught.value)
    assert "s3cr3t" not in message and "key@" not in message
    assert "woocommerce_default" in message and "login and password" in message


@pytest.mark.parametrize("host, expected", [
    ("https://shop.example.co.il/wp-json/wc/v3", "https://shop.example.co.il"),
    ("https://shop.example.co.il/wp-json", "https://shop.example.co.il"),
    ("https://shop.example.co.il/store/wp-json/wc/v3/", "https://shop.example.co.il/store"),
    ("shop.example.co.il", "https://shop.example.co.il"),
])
def test_an_api_url_pasted_as_the_store_url_is_the_store(host, expected):
    assert base_url(host, None, None) == expected


def test_redact_hides_url_userinfo_and_query_credentials():
    text = "GET https://u:pw@h/x?consumer_key=ck_1&consumer_secret=cs_2&oauth_signature=abc%3D&page=2"
    cleaned = redact(text)
    for secret in ("pw", "ck_1", "cs_2", "abc%3D"):
        assert secret not in cleaned
    assert "page=2" in cleaned


def _woo_hook(monkeypatch, sandbox, **extra):
    from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook

    payload = {"conn_type": "woocommerce", "host": sandbox.url, "login": sandbox.consumer_key,
               "password": sandbox.consumer_secret, "extra": {"backoff_seconds": 0.01, **extra}}
    if sandbox.cert_path and "verify_ssl" not in extra:
        payload["extra"]["verify_ssl"] = str(sandbox.cert_path)
    monkeypatch.setenv("AIRFLOW_CONN_WOO_SECRETS", json.dumps(payload))
    return WooCommerceHook("woo_secrets")


@pytest.mark.parametrize("auth, fixture", [("query", "woo_https"), ("basic", "woo_https"), ("oauth1", "woo")])
def test_transport_logs_hold_no_credentials_at_debug_level(auth, fixture, request, monkeypatch):
    sandbox = request.getfixturevalue(fixture)
    hook = _woo_hook(monkeypatch, sandbox, auth=auth)
    hook.get_conn()  # loads Airflow's logging set-up first, so the capture below is not replaced

    class Capture(logging.Handler):
        records: list[logging.LogRecord] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.records.append(record)

    capture = Capture(level=logging.DEBUG)
    names = ("urllib3.connectionpool", "oauthlib.oauth1.rfc5849", "oauthlib.oauth1.rfc5849.signature",
             "requests_oauthlib.oauth1_auth")
    saved = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
        logging.getLogger(name).addHandler(capture)
    try:
        products = hook.list_products()
    finally:
        for name in names:
            logging.getLogger(name).removeHandler(capture)
            logging.getLogger(name).setLevel(saved[name])
    assert isinstance(products, list)
    text = "\n".join(record.getMessage() for record in capture.records)
    assert "/wp-json/wc/v3/products" in text  # the transport did log its request lines
    assert sandbox.consumer_secret not in text
    assert sandbox.consumer_key not in text
    assert "oauth_signature=" not in text.replace("oauth_signature=***", "")


def test_every_secret_is_registered_with_airflows_masker(woo_https, monkeypatch):
    from airflow.sdk._shared.secrets_masker.secrets_masker import _secrets_masker
    from airflow.sdk._shared.secrets_masker.secrets_masker import redact as airflow_redact
    from airflow.sdk.log import mask_secret  # noqa: F401 - the masker the hooks register with

    hook = _woo_hook(monkeypatch, woo_https)
    hook.get_conn()
    masker = _secrets_masker()
    line = f"something printed {woo_https.consumer_secret} and {woo_https.consumer_key}"
    assert woo_https.consumer_secret not in str(airflow_redact(line))
    assert masker is not None


@pytest.mark.parametrize("extra, field", [
    ({"timeout": "abc"}, "timeout"),
    ({"max_attempts": "many"}, "max_attempts"),
    ({"backoff_seconds": "-1"}, "backoff_seconds"),
    ({"read_concurrency": "0"}, "read_concurrency"),
    ({"verify_ssl": "/no/such/ca-bundle.pem"}, "verify_ssl"),
])
def test_bad_extras_name_the_connection_and_the_field(woo_https, monkeypatch, extra, field):
    hook = _woo_hook(monkeypatch, woo_https, **extra)
    with pytest.raises(ConnectionConfigError) as caught:
        hook.get_conn()
    assert "woo_secrets" in str(caught.value) and field in str(caught.value)
    assert woo_https.consumer_secret not in str(caught.value)


def test_a_store_url_without_scheme_hints_at_http_when_tls_fails(woo, monkeypatch):
    from officeguy_woocommerce.common.http import ApiError
    from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook

    host = woo.url.split("://", 1)[1]  # an http-only store given without its scheme
    monkeypatch.setenv("AIRFLOW_CONN_WOO_NOSCHEME", json.dumps({
        "conn_type": "woocommerce", "host": host, "login": woo.consumer_key, "password": woo.consumer_secret,
        "extra": {"backoff_seconds": 0.01, "max_attempts": 1, "auth": "basic"}}))
    with pytest.raises(ApiError) as caught:
        WooCommerceHook("woo_noscheme").list_products()
    assert "http://" in str(caught.value) and "no scheme" in str(caught.value)
