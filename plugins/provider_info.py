"""Provider info for Airflow: the ``officeguy`` and ``woocommerce`` connection types.

Airflow reads this through the ``apache_airflow_provider`` entry point in pyproject.toml. (The
run-report plugin is registered by the ``airflow.plugins`` entry point instead of a ``plugins`` entry
here: Airflow 3.3 loads provider-info plugins only with ``[core] lazy_discover_providers = False``,
which is not the default.) The
form fields are declared here as data (``conn-fields`` / ``ui-field-behaviour``), the way
Airflow >= 3.2 wants them, instead of the deprecated hook methods.
"""

from __future__ import annotations

DISTRIBUTION = "airflow-provider-officeguy-woocommerce"


def _form(host: tuple[str, str], login: tuple[str, str], password: tuple[str, str]) -> dict:
    """The standard fields as (label, placeholder); schema, port and the raw extra box are hidden: every
    extra the hook reads is a field of its own (``conn-fields``)."""
    standard = {"host": host, "login": login, "password": password}
    return {"hidden-fields": ["schema", "port", "extra"],
            "relabeling": {name: label for name, (label, _) in standard.items()},
            "placeholders": {name: placeholder for name, (_, placeholder) in standard.items()}}


def _number(label: str, description: str, default: float, minimum: float, *, integer: bool = False) -> dict:
    """A numeric connection field (its extra key is the field name); empty means ``default``."""
    return {"label": label, "description": description,
            "schema": {"type": ["integer" if integer else "number", "null"], "default": default, "minimum": minimum}}


def _call_fields(system: str, *, max_attempts: int, backoff_seconds: float, timeout_note: str = "") -> dict:
    """The extras both connection types read alike: timeout, and how failed calls are retried."""
    return {
        "timeout": _number("Timeout (seconds)", f"How long one call waits for {system}'s answer. {timeout_note}".strip(),
                           60, 0.001),
        "max_attempts": _number(
            "Attempts per call", f"How often a call is tried, the first time included, when {system} cannot be "
            "reached, times out or is busy. A refusal, and a write that may have happened, are never retried.",
            max_attempts, 1, integer=True),
        "backoff_seconds": _number(
            "Retry backoff (seconds)", "The first wait between attempts; it doubles each time (capped), and a "
            "Retry-After header wins.", backoff_seconds, 0),
    }


def get_provider_info() -> dict:
    return {
        # must equal the distribution's name, or provider discovery raises
        "package-name": DISTRIBUTION,
        "name": "OfficeGuy (SUMIT) and WooCommerce",
        "description": "Hooks and operators that keep a WooCommerce store and OfficeGuy (SUMIT) in stock sync.",
        "versions": ["0.1.0"],
        "integrations": [
            {"integration-name": "OfficeGuy (SUMIT)", "external-doc-url": "https://app.sumit.co.il/developers/api/"},
            {"integration-name": "WooCommerce", "external-doc-url": "https://woocommerce.github.io/woocommerce-rest-api-docs/"},
        ],
        "hooks": [
            {"integration-name": "OfficeGuy (SUMIT)", "python-modules": ["officeguy_woocommerce.officeguy.hooks"]},
            {"integration-name": "WooCommerce", "python-modules": ["officeguy_woocommerce.woocommerce.hooks"]},
        ],
        "connection-types": [
            {
                "connection-type": "officeguy",
                "hook-class-name": "officeguy_woocommerce.officeguy.hooks.OfficeGuyHook",
                "hook-name": "OfficeGuy (SUMIT)",
                "ui-field-behaviour": _form(("API base URL", "https://api.sumit.co.il"),
                                            ("Company ID", "12345678 (app.sumit.co.il/developers/keys/)"),
                                            ("API key", "the company's private API key")),
                # every extra OfficeGuySettings reads (tests/hooks/test_connection_settings.py checks it)
                "conn-fields": {
                    "rate_limit_per_minute": _number(
                        "Calls per minute", "Pace calls below OfficeGuy's limit (about 100 a minute; past it the "
                        "API answers 403 and blocks for a while).", 90, 1),
                    "rate_limit_hold_seconds": _number(
                        "Hold after a rate-limit answer (seconds)", "After OfficeGuy's empty HTTP 403 (its rate "
                        "limit) no call starts for this long; then the call is retried.", 15.0, 0),
                    **_call_fields("OfficeGuy", max_attempts=6, backoff_seconds=1.0),
                    "rate_limit_conn_id": {
                        "label": "Shared rate budget (SQL connection)",
                        "description": "Workers on several hosts: an Airflow connection to a database all of "
                        "them reach (e.g. stock_sync_db on PostgreSQL) where the calls-per-minute budget is "
                        "shared. Empty: shared by the processes of this host.",
                        "schema": {"type": ["string", "null"], "default": ""},
                    },
                    "language": {
                        "label": "Error message language",
                        "description": "Content-Language of OfficeGuy's error messages: en or he.",
                        "schema": {"type": ["string", "null"], "default": "en", "enum": ["en", "he"]},
                    },
                },
            },
            {
                "connection-type": "woocommerce",
                "hook-class-name": "officeguy_woocommerce.woocommerce.hooks.WooCommerceHook",
                "hook-name": "WooCommerce",
                "ui-field-behaviour": _form(("Store URL", "https://shop.example.co.il"),
                                            ("Consumer key", "ck_... (WooCommerce > Settings > Advanced > REST API)"),
                                            ("Consumer secret", "cs_...")),
                # every extra WooCommerceSettings reads (tests/hooks/test_connection_settings.py checks it)
                "conn-fields": {
                    "auth": {
                        "label": "Authentication",
                        "description": "basic or query over HTTPS; oauth1 over plain HTTP (WooCommerce ignores "
                        "keys sent over HTTP any other way). Empty: basic for https, oauth1 for http.",
                        "schema": {"type": ["string", "null"], "enum": ["basic", "query", "oauth1", None]},
                    },
                    "verify_ssl": {
                        "label": "Verify TLS",
                        "description": "true, false, or the path of a CA bundle (e.g. a self-signed store).",
                        "schema": {"type": ["string", "boolean", "null"], "default": True},
                    },
                    **_call_fields("WooCommerce", timeout_note="A 100-product batch costs a real store about "
                                   "4-5 s; keep room.", max_attempts=5, backoff_seconds=0.5),
                    "read_concurrency": _number(
                        "Parallel variation reads", "How many variable products' variation lists are read at "
                        "once (1: one after another).", 4, 1, integer=True),
                    "webhook_secret": {
                        "label": "Webhook secret",
                        "description": "The secret the store's order webhooks sign with (at least 16 characters); "
                        "register_webhooks sets it in the store. Empty: no webhooks, the scheduled poll only.",
                        # no default: Airflow masks the default of a field named *secret*, and the form
                        # would save the mask ("***") as the secret
                        "schema": {"type": ["string", "null"], "format": "password"},
                    },
                    "write_concurrency": _number(
                        "Parallel stock batches", "How many stock batches (up to 100 products each) are sent at "
                        "once; a shared host serves 4-6 requests at a time (1: one after another).", 2, 1,
                        integer=True),
                },
            },
        ],
    }
