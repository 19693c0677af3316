"""Test-suite set-up. Airflow reads its configuration at import, so the environment is set here,
before anything imports airflow (airflow-notes.md, "Testing gotchas")."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="stock-sync-airflow-"))
os.environ.update({
    "AIRFLOW_HOME": str(_AIRFLOW_HOME),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
    "AIRFLOW__CORE__PLUGINS_FOLDER": str(_AIRFLOW_HOME / "plugins"),  # none: the project is an installed provider
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}",
    "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
})

import pytest  # noqa: E402


def connection_env(conn_type: str, host: str, login: str, password: str, **extra) -> str:
    """An Airflow connection as the JSON an ``AIRFLOW_CONN_*`` variable holds."""
    return json.dumps({"conn_type": conn_type, "host": host, "login": login, "password": password, "extra": extra})


@pytest.fixture
def woo(tmp_path):
    """A WooCommerce sandbox over plain HTTP (OAuth 1.0a, as real WooCommerce requires there)."""
    from sandbox.woocommerce.testing import woo_sandbox

    with woo_sandbox(tmp_path / "woo") as sandbox:
        yield sandbox


@pytest.fixture
def woo_https(tmp_path):
    """A WooCommerce sandbox over HTTPS with its own self-signed certificate."""
    from sandbox.woocommerce.testing import woo_sandbox

    with woo_sandbox(tmp_path / "woo-tls", tls=True) as sandbox:
        yield sandbox


@pytest.fixture
def og(tmp_path):
    """An OfficeGuy sandbox with the rate limit off (tests that need it turn it on)."""
    from sandbox.officeguy.testing import og_sandbox

    with og_sandbox(tmp_path / "og") as sandbox:
        yield sandbox


@pytest.fixture
def woo_conn(monkeypatch):
    """Point ``woocommerce_default`` at a sandbox: ``woo_conn(sandbox, **extra)``."""

    def point(sandbox, conn_id: str = "woocommerce_default", *, key=None, secret=None, **extra) -> str:
        extra.setdefault("backoff_seconds", 0.01)
        if sandbox.cert_path:
            extra.setdefault("verify_ssl", str(sandbox.cert_path))
        monkeypatch.setenv(
            f"AIRFLOW_CONN_{conn_id.upper()}",
            connection_env("woocommerce", sandbox.url, key or sandbox.consumer_key,
                           secret or sandbox.consumer_secret, **extra),
        )
        return conn_id

    return point


@pytest.fixture
def og_conn(monkeypatch):
    """Point ``officeguy_default`` at a sandbox: ``og_conn(sandbox, **extra)``."""

    def point(sandbox, conn_id: str = "officeguy_default", *, company_id=None, api_key=None, **extra) -> str:
        extra.setdefault("backoff_seconds", 0.01)
        extra.setdefault("rate_limit_per_minute", 6000)
        monkeypatch.setenv(
            f"AIRFLOW_CONN_{conn_id.upper()}",
            connection_env("officeguy", sandbox.url, str(company_id or sandbox.company_id),
                           api_key or sandbox.api_key, **extra),
        )
        return conn_id

    return point


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh database on the machine's PostgreSQL (127.0.0.1:5432, trust auth), dropped afterwards.
    The ledger's schema is migrated into it, as the deploy step does (tasks only check it)."""
    import uuid

    import sqlalchemy as sa

    from officeguy_woocommerce.include.ledger import Ledger

    name = f"stock_sync_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine("postgresql://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        Ledger(f"postgresql://postgres@127.0.0.1:5432/{name}", migrate=True).engine.dispose()
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
