"""Fixtures for real DAG runs: a migrated Airflow metadata database (once per session), both
sandboxes with the same catalogue, and the connections and settings pointing at them."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def airflow_db():
    from airflow.models.pool import Pool
    from airflow.utils import db
    from airflow.utils.session import create_session

    db.resetdb()
    with create_session() as session:
        Pool.create_or_update_pool("stock_sync_writes", slots=1, description="stock sync writers",
                                   include_deferred=False, session=session)
    return True


@pytest.fixture
def sync_home(tmp_path, monkeypatch):
    home = tmp_path / "stock_sync"
    monkeypatch.setenv("STOCK_SYNC_HOME", str(home))
    monkeypatch.delenv("AIRFLOW_CONN_STOCK_SYNC_DB", raising=False)
    from officeguy_woocommerce.app import ledger_connection as ledger_module

    ledger_module._ledger.cache_clear()
    return home


@pytest.fixture
def stores(tmp_path, woo_conn, og_conn, sync_home, request):
    """Both sandboxes loaded with one catalogue (``@pytest.mark.parametrize('stores', [...], indirect=True)``
    picks it; default ``demo``) and the default connections pointing at them."""
    from sandbox.officeguy.testing import og_sandbox
    from sandbox.woocommerce.testing import woo_sandbox

    dataset = getattr(request, "param", "demo")
    with woo_sandbox(tmp_path / "woo", dataset=dataset) as woo, og_sandbox(tmp_path / "og", dataset=dataset) as og:
        woo_conn(woo)
        og_conn(og)
        yield woo, og
