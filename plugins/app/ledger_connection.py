"""Where the ledger lives: the optional Airflow connection ``stock_sync_db``, else a SQLite file.

The connection may be of any SQL type (postgres, mysql, sqlite); its URI is used as the
SQLAlchemy URL, or the extra ``sqlalchemy_url`` when given (e.g. to pick a driver).

Task processes never run the ledger's migrations on a server database: ``get_ledger()`` checks
that its schema is at the newest revision (one query) and otherwise raises ``LedgerNotMigrated``
naming the deploy step, ``python -m officeguy_woocommerce.app.migrate_ledger``. The embedded
default, a SQLite file (no ``stock_sync_db`` connection, or one that names SQLite), is still
created and migrated on first use, so that the one-command demo needs no deploy step.
"""

from __future__ import annotations

from functools import cache

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException

from officeguy_woocommerce.include import config
from officeguy_woocommerce.include.ledger import Ledger, sqlite_url

LEDGER_CONN_ID = "stock_sync_db"


def ledger_url(conn_id: str = LEDGER_CONN_ID) -> str:
    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return sqlite_url(config.load().home / "ledger.sqlite")
    return conn.extra_dejson.get("sqlalchemy_url") or conn.get_uri()


@cache
def _ledger(url: str) -> Ledger:
    return Ledger(url)  # once per process: SQLite is migrated, a server database only checked


def get_ledger(conn_id: str = LEDGER_CONN_ID) -> Ledger:
    return _ledger(ledger_url(conn_id))
