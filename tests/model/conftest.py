"""The model tests' fixtures: a migrated Airflow metadata database for the real DAG runs (as
tests/dags/conftest.py makes it)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def airflow_db():
    from airflow.models.pool import Pool
    from airflow.settings import engine
    from airflow.utils import db
    from airflow.utils.session import create_session
    from sqlalchemy import inspect

    if "dag_run" not in inspect(engine).get_table_names():  # tests/dags may have made it already
        db.resetdb()
    with create_session() as session:
        Pool.create_or_update_pool("stock_sync_writes", slots=1, description="stock sync writers",
                                   include_deferred=False, session=session)
    return True


@pytest.fixture(scope="package")
def model_world(tmp_path_factory):
    """One world for tests/model: both sandboxes (reset per history), the deployment's settings in the
    environment and the project's logs captured at DEBUG, both undone when tests/model is done."""
    from officeguy_woocommerce.app import ledger_connection as ledger_module
    from tests.model.sandboxes import shared_sandboxes
    from tests.model.world import World, capturing

    folder = tmp_path_factory.mktemp("model")
    patch = pytest.MonkeyPatch()
    with shared_sandboxes(folder) as (woo, og):
        world = World(woo, og, folder / "stock_sync")
        for name, value in world.environment().items():
            patch.setenv(name, value)
        patch.delenv("AIRFLOW_CONN_STOCK_SYNC_DB", raising=False)
        ledger_module._ledger.cache_clear()
        try:
            with capturing(world):
                yield world
        finally:
            patch.undo()
            ledger_module._ledger.cache_clear()


@pytest.fixture
def world(model_world):
    yield model_world
    model_world.clear_faults()
