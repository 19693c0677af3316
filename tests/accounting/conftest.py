"""Fixtures of the accounting acceptance suite: the Airflow metadata database (once per session) and
one run of each store configuration (class scope: its sandboxes live while its scenarios are judged)."""

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


@pytest.fixture(scope="class")
def group_run(request, airflow_db, tmp_path_factory):
    """The class's `GROUP` run end to end; yields the sandboxes' state (see harness.GroupRun)."""
    from tests.accounting.harness import group_run as run_group

    group = request.cls.GROUP
    with run_group(group, tmp_path_factory.mktemp(f"accounting-{group.code}")) as result:
        yield result
