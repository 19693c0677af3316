"""Provider info for Airflow: the ``officeguy`` and ``woocommerce`` connection types.

Airflow reads this through the ``apache_airflow_provider`` entry point in pyproject.toml. The
form fields are declared here as data (``conn-fields`` / ``ui-field-behaviour``), the way
Airflow >= 3.2 wants them, instead of the deprecated hook methods.
"""

from __future__ import annotations

DISTRIBUTION = "airflow-provider-officeguy-woocommerce"


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
            {"integration-name": "OfficeGuy (SUMIT)", "python-modules": ["officeguy.hooks"]},
            {"integration-name": "WooCommerce", "python-modules": ["woocommerce.hooks"]},
        ],
        "connection-types": [
            {
                "connection-type": "officeguy",
                "hook-class-name": "officeguy.hooks.OfficeGuyHook",
                "hook-name": "OfficeGuy (SUMIT)",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "extra"],
                    "relabeling": {"host": "API base URL", "login": "Company ID", "password": "API key"},
                    "placeholders": {
                        "host": "https://api.sumit.co.il",
                        "login": "12345678 (app.sumit.co.il/developers/keys/)",
                        "password": "the company's private API key",
                    },
                },
                "conn-fields": {
                    "rate_limit_per_minute": {
                        "label": "Calls per minute",
                        "description": "Pace calls below OfficeGuy's limit (about 100 a minute; past it the API "
                        "answers 403 and blocks for a while).",
                        "schema": {"type": ["integer", "null"], "default": 90, "minimum": 1},
                    },
                    "timeout": {
                        "label": "Timeout (seconds)",
                        "schema": {"type": ["number", "null"], "default": 60},
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
                "hook-class-name": "woocommerce.hooks.WooCommerceHook",
                "hook-name": "WooCommerce",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "extra"],
                    "relabeling": {"host": "Store URL", "login": "Consumer key", "password": "Consumer secret"},
                    "placeholders": {
                        "host": "https://shop.example.co.il",
                        "login": "ck_... (WooCommerce > Settings > Advanced > REST API)",
                        "password": "cs_...",
                    },
                },
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
                    "timeout": {
                        "label": "Timeout (seconds)",
                        "description": "A 100-product batch costs a real store about 4-5 s; keep room.",
                        "schema": {"type": ["number", "null"], "default": 60},
                    },
                },
            },
        ],
    }
