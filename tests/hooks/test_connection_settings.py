"""Each hook reads its Airflow connection once into frozen settings, and owns (and closes) its session.

Connections are real Airflow connections from ``AIRFLOW_CONN_<ID>`` variables (JSON form). Parsing
needs no server, so most connections here point at addresses nobody answers on; the tests that make
calls use the sandboxes. Nothing of ours is mocked: the one spy wraps Airflow's own
``BaseHook.get_connection`` to count how often a connection is fetched.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest
from airflow.providers_manager import ProvidersManager
from airflow.sdk import BaseHook

from officeguy_woocommerce.common.http import BusinessError, ConnectionConfigError, UrlCredentialsError
from officeguy_woocommerce.officeguy.hooks import OfficeGuyHook, OfficeGuySettings
from officeguy_woocommerce.provider_info import get_provider_info
from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook, WooCommerceSettings

README = Path(__file__).resolve().parents[2] / "README.md"
API_KEY = "og-key-Zq81xT0pLm44sRr9"
COMPANY_ID = "98765432"
CONSUMER_KEY = "ck_5e1d2c3b4a5f60718293a4b5c6d7e8f9a0b1c2d3"
CONSUMER_SECRET = "cs_9f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6"
HOOKS = {"officeguy": OfficeGuyHook, "woocommerce": WooCommerceHook}


def _connect(monkeypatch, conn_type: str, conn_id: str, *, extra=None, **fields) -> str:
    """Define connection ``conn_id`` in the environment; returns the id. ``extra`` may be a raw string."""
    spec = {
        "officeguy": {"host": "https://127.0.0.1:9", "login": COMPANY_ID, "password": API_KEY},
        "woocommerce": {"host": "https://127.0.0.1:9", "login": CONSUMER_KEY, "password": CONSUMER_SECRET},
    }[conn_type]
    payload = {"conn_type": conn_type, **spec, **fields, "extra": {} if extra is None else extra}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(payload))
    return conn_id


@pytest.fixture
def fetched(monkeypatch) -> list[str]:
    """The connection ids Airflow's ``BaseHook.get_connection`` was asked for (the real lookup still runs)."""
    calls: list[str] = []
    original = BaseHook.get_connection.__func__

    def counting(cls, conn_id: str):
        calls.append(conn_id)
        return original(cls, conn_id)

    monkeypatch.setattr(BaseHook, "get_connection", classmethod(counting))
    return calls


WEBHOOK_SECRET = "whsec-0123456789abcdef"

# ----------------------------------------------------------------------------- parsed once
def test_officeguy_reads_its_connection_once(og, og_conn, fetched):
    hook = OfficeGuyHook(og_conn(og, timeout=30))
    for _ in range(3):
        assert hook.settings.timeout == 30
    assert (hook.base_url, hook.timeout, hook.max_attempts) == (og.url, 30, 6)
    assert hook.rate_limit_hold == 15.0 and hook.backoff.base == 0.01 and hook.backoff.cap == 60.0
    hook.list_stock()
    hook.list_stock()
    hook.get_company()
    assert hook.settings is hook.settings
    assert fetched == ["officeguy_default"]
    assert hook.calls == 3


def test_woocommerce_reads_its_connection_once(woo, woo_conn, fetched):
    hook = WooCommerceHook(woo_conn(woo, read_concurrency=2))
    for _ in range(3):
        assert hook.settings.read_concurrency == 2
    assert (hook.base_url, hook.auth_mode, hook.verify, hook.read_concurrency) == (woo.url, "oauth1", True, 2)
    assert (hook.timeout, hook.max_attempts, hook.backoff.base, hook.backoff.cap) == (60, 5, 0.01, 30.0)
    hook.list_products()
    hook.list_stock_items()
    assert fetched == ["woocommerce_default"]


@pytest.mark.parametrize("conn_type", HOOKS)
def test_a_changed_connection_reaches_new_hooks_only(monkeypatch, conn_type):
    conn_id = _connect(monkeypatch, conn_type, "changing", extra={"timeout": 5})
    hook = HOOKS[conn_type](conn_id)
    before = hook.settings
    _connect(monkeypatch, conn_type, conn_id, extra={"timeout": 7})
    assert hook.settings is before and hook.timeout == 5  # parsed once: this hook keeps what it read
    assert HOOKS[conn_type](conn_id).timeout == 7


def test_no_connection_is_read_until_it_is_needed(fetched):
    with OfficeGuyHook("no_such_connection") as og, WooCommerceHook("no_such_connection") as woo:
        assert og.calls == woo.calls == 0
    assert fetched == []


def test_constructor_arguments_still_override_the_connection(monkeypatch):
    conn_id = _connect(monkeypatch, "officeguy", "og_override", extra={"max_attempts": 4})
    hook = OfficeGuyHook(conn_id, max_attempts=2)
    assert hook.max_attempts == 2 and hook.settings.max_attempts == 4


# ----------------------------------------------------------------------------- frozen, no secrets shown
@pytest.mark.parametrize("conn_type, secrets", [
    ("officeguy", (API_KEY, COMPANY_ID)), ("woocommerce", (CONSUMER_KEY, CONSUMER_SECRET, WEBHOOK_SECRET)),
])
def test_settings_are_frozen_and_show_no_credentials(monkeypatch, conn_type, secrets):
    extra = {"webhook_secret": WEBHOOK_SECRET} if conn_type == "woocommerce" else {}
    conn_id = _connect(monkeypatch, conn_type, f"{conn_type}_shown", extra=extra)
    settings = HOOKS[conn_type](conn_id).settings
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.timeout = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.base_url = "https://elsewhere.example"  # type: ignore[misc]
    for text in (repr(settings), str(settings), f"{settings}", f"{settings!r}"):
        assert conn_id in text and "https://127.0.0.1:9" in text
        for secret in secrets:
            assert secret not in text
    assert set(settings.secrets) == set(secrets) - {COMPANY_ID}  # what messages are redacted of


def test_officeguy_settings_hold_every_field_of_the_connection(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_OG_FIELDS_BUDGET", "postgresql://127.0.0.1:5432/test")
    conn_id = _connect(monkeypatch, "officeguy", "og_fields", host="api.example.co.il", extra={
        "rate_limit_per_minute": "45", "rate_limit_hold_seconds": 3, "timeout": "12.5", "max_attempts": 2,
        "backoff_seconds": 0, "language": " HE ", "rate_limit_conn_id": " og_fields_budget "})
    assert OfficeGuyHook(conn_id).settings == OfficeGuySettings(
        conn_id=conn_id, base_url="https://api.example.co.il", scheme_assumed=True, company_id=int(COMPANY_ID),
        api_key=API_KEY, timeout=12.5, max_attempts=2, backoff_seconds=0, rate_limit_per_minute=45.0,
        rate_limit_hold_seconds=3, language="he", rate_limit_conn_id="og_fields_budget")


def test_woocommerce_settings_hold_every_field_of_the_connection(monkeypatch, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    conn_id = _connect(monkeypatch, "woocommerce", "woo_fields", host="https://shop.example.co.il/wp-json/wc/v3/",
                       extra={"auth": "Query", "verify_ssl": str(bundle), "timeout": 9, "max_attempts": "3",
                              "backoff_seconds": 0.25, "read_concurrency": 1, "write_concurrency": "3"})
    assert WooCommerceHook(conn_id).settings == WooCommerceSettings(
        conn_id=conn_id, base_url="https://shop.example.co.il", scheme_assumed=False, consumer_key=CONSUMER_KEY,
        consumer_secret=CONSUMER_SECRET, auth_mode="query", verify=str(bundle), timeout=9, max_attempts=3,
        backoff_seconds=0.25, read_concurrency=1, write_concurrency=3)


# ----------------------------------------------------------------------------- bad connections
BAD_EXTRAS = {
    "officeguy": {
        "timeout": ["abc", "0", -1, "nan", True],
        "max_attempts": ["many", 0, "2.5"],
        "backoff_seconds": ["soon", "-1"],
        "rate_limit_per_minute": ["fast", 0, "inf"],
        "rate_limit_hold_seconds": ["later", -5],
        "language": ["fr", 7],
        "rate_limit_conn_id": [7, "no_such_connection"],
    },
    "woocommerce": {
        "auth": ["digest", "bearer"],
        "verify_ssl": ["/no/such/ca-bundle.pem"],
        "timeout": ["abc", 0, "-inf", False],
        "max_attempts": ["x", "0", 1.5],
        "backoff_seconds": ["soon", -0.5],
        "read_concurrency": ["two", 0],
        "write_concurrency": ["many", 0, 1.5],
        "webhook_secret": ["short", 12345678901234567890],
    },
}


@pytest.mark.parametrize("conn_type", HOOKS)
def test_every_extra_a_hook_reads_has_a_bad_value_case(conn_type):
    assert set(BAD_EXTRAS[conn_type]) == set(HOOKS[conn_type].settings_class.extras())


@pytest.mark.parametrize("conn_type, key, value", [
    (conn_type, key, value) for conn_type, cases in BAD_EXTRAS.items() for key, values in cases.items()
    for value in values
])
def test_a_bad_extra_is_a_configuration_error_naming_the_connection_and_the_extra(monkeypatch, conn_type, key,
                                                                                   value):
    conn_id = _connect(monkeypatch, conn_type, f"{conn_type}_bad_extra", extra={key: value})
    hook = HOOKS[conn_type](conn_id)
    with pytest.raises(ConnectionConfigError) as caught:
        hook.settings  # noqa: B018 - reading it parses the connection
    message = str(caught.value)
    assert not isinstance(caught.value, BusinessError)
    assert f"'{conn_id}'" in message and key in message
    for secret in (API_KEY, CONSUMER_KEY, CONSUMER_SECRET):
        assert secret not in message
    with pytest.raises(ConnectionConfigError):
        hook.get_conn()  # no session without a good connection


@pytest.mark.parametrize("conn_type, fields, words", [
    ("woocommerce", {"host": ""}, "has no Store URL (host)"),
    ("woocommerce", {"host": "https://admin:hunter2secret@shop.example.co.il"}, "login and password"),
    ("officeguy", {"host": "https://admin:hunter2secret@api.sumit.co.il"}, "login and password"),
    ("officeguy", {"login": "acme"}, "the Company ID (login) must be a number"),
    ("officeguy", {"login": ""}, "the Company ID (login) must be a number"),
    ("officeguy", {"password": ""}, "has no API key (password)"),
    ("woocommerce", {"password": ""}, "needs the consumer key (login) and consumer secret (password)"),
    ("woocommerce", {"login": ""}, "needs the consumer key (login) and consumer secret (password)"),
    ("woocommerce", {"host": "http://shop.example.co.il", "extra": {"auth": "basic"}}, "only over HTTPS"),
    ("woocommerce", {"host": "http://shop.example.co.il", "extra": {"auth": "query"}}, "only over HTTPS"),
    ("woocommerce", {"extra": "timeout=5"}, "its extra is not a JSON object"),
    ("officeguy", {"extra": "[1, 2]"}, "its extra is not a JSON object"),
])
def test_a_badly_set_up_connection_is_a_configuration_error(monkeypatch, conn_type, fields, words):
    conn_id = _connect(monkeypatch, conn_type, f"{conn_type}_bad", **fields)
    with pytest.raises(ConnectionConfigError) as caught:
        HOOKS[conn_type](conn_id).get_conn()
    message = str(caught.value)
    assert not isinstance(caught.value, BusinessError)
    assert f"'{conn_id}'" in message and words in message
    assert "hunter2secret" not in message and API_KEY not in message and CONSUMER_SECRET not in message
    if "@" in fields.get("host", ""):
        assert isinstance(caught.value, UrlCredentialsError)


def test_the_ui_test_button_reports_a_bad_connection(monkeypatch):
    conn_id = _connect(monkeypatch, "officeguy", "og_button", login="acme")
    ok, message = OfficeGuyHook(conn_id).test_connection()
    assert not ok and "Company ID" in message and API_KEY not in message


def test_an_extra_no_hook_reads_is_named_in_a_warning(monkeypatch, caplog):
    conn_id = _connect(monkeypatch, "woocommerce", "woo_typo", extra={"timout": 5, "timeout": 6})
    with caplog.at_level(logging.WARNING, logger="officeguy_woocommerce.common.http"):
        assert WooCommerceHook(conn_id).timeout == 6
    assert any("'timout'" in r.getMessage() and conn_id in r.getMessage() for r in caplog.records)


# ----------------------------------------------------------------------------- context manager
def _pools(session, url: str) -> int:
    return len(session.get_adapter(url).poolmanager.pools)


def test_the_officeguy_hook_closes_its_session_on_leaving_the_with_block(og, og_conn):
    hook = OfficeGuyHook(og_conn(og))
    with hook as entered:
        assert entered is hook
        session = hook.get_conn()
        hook.list_stock()
        assert hook.get_conn() is session and _pools(session, og.url) == 1
    assert _pools(session, og.url) == 0  # its connections are closed
    assert hook.get_conn() is not session  # used again, the hook opens a new one
    hook.close()
    hook.close()  # closing twice is harmless


def test_the_woocommerce_hook_closes_its_session_even_when_the_block_raises(woo, woo_conn):
    hook = WooCommerceHook(woo_conn(woo))
    with pytest.raises(RuntimeError, match="boom"), hook as entered:
        assert entered is hook
        session = hook.get_conn()
        hook.list_products()
        assert _pools(session, woo.url) == 1
        raise RuntimeError("boom")  # not swallowed by __exit__
    assert _pools(session, woo.url) == 0
    with WooCommerceHook(woo_conn(woo)) as again:
        assert again.list_products() == []


# ----------------------------------------------------------------------------- the form and the README
def _conn_fields(conn_type: str) -> dict:
    [config] = [c for c in get_provider_info()["connection-types"] if c["connection-type"] == conn_type]
    return config["conn-fields"]


@pytest.mark.parametrize("conn_type", HOOKS)
def test_the_connection_form_declares_exactly_the_extras_the_hook_reads(conn_type):
    reads = HOOKS[conn_type].settings_class.extras()
    declared = _conn_fields(conn_type)
    assert set(declared) == set(reads)
    for key, field in reads.items():
        spec = field.metadata
        schema = declared[key]["schema"]
        assert declared[key]["label"] and declared[key]["description"], key
        assert schema.get("default") == spec["default"], key  # the form's default is the hook's
        if spec["minimum"] is not None:
            assert schema["minimum"] == spec["minimum"], key
            assert schema["type"] == ["integer" if spec["integer"] else "number", "null"], key
    widgets = ProvidersManager().connection_form_widgets
    assert {f"extra__{conn_type}__{key}" for key in reads} <= set(widgets)


def test_the_connection_forms_are_valid_for_airflow():
    schema = json.loads((files("airflow") / "provider.yaml.schema.json").read_text())
    conn_fields_schema = schema["properties"]["connection-types"]["items"]["properties"]["conn-fields"]
    for conn_type in HOOKS:
        jsonschema.validate(_conn_fields(conn_type), conn_fields_schema)


@pytest.mark.parametrize("conn_type", HOOKS)
def test_the_form_defaults_give_the_same_settings_as_an_empty_extra(monkeypatch, conn_type):
    """What the UI saves for an untouched form is what the hook assumes when an extra is missing."""
    defaults = {key: f["schema"].get("default") for key, f in _conn_fields(conn_type).items()}
    conn_id = _connect(monkeypatch, conn_type, "form_defaults", extra=defaults)
    from_form = HOOKS[conn_type](conn_id).settings
    _connect(monkeypatch, conn_type, conn_id, extra={})
    assert HOOKS[conn_type](conn_id).settings == from_form


@pytest.mark.parametrize("conn_type", HOOKS)
def test_the_readme_lists_every_extra_with_its_default(conn_type):
    section = README.read_text().split("## Connections", 1)[1].split("\n## ", 1)[0]
    table = section.split(f"`{conn_type}` extras:", 1)[1].split("\n\n", 2)[1]
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `(\w+)` \|.*\| (.+) \|$", table, re.M)}
    reads = HOOKS[conn_type].settings_class.extras()
    assert set(rows) == set(reads)
    for key, field in reads.items():
        default = field.metadata["default"]
        if isinstance(default, bool) or not isinstance(default, int | float):
            expected = str(default).lower()  # True -> true, "en"
        else:
            expected = f"{default:g}"  # 15.0 -> 15
        if default is not None:  # auth: its default depends on the URL's scheme
            assert rows[key].strip("`") == expected, key
