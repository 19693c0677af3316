"""Where the ledger lives: the optional Airflow connection ``stock_sync_db``, else a SQLite file.

The connection may be of any SQL type (postgres, mysql, sqlite); its URI is used as the
SQLAlchemy URL, or the extra ``sqlalchemy_url`` when given (e.g. to pick a driver).
"""

from __future__ import annotations

from functools import cache

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException

from include import config
from include.ledger import Ledger, sqlite_url

LEDGER_CONN_ID = "stock_sync_db"


def ledger_url(conn_id: str = LEDGER_CONN_ID) -> str:
    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return sqlite_url(config.load().home / "ledger.sqlite")
    return conn.extra_dejson.get("sqlalchemy_url") or conn.get_uri()


@cache
def _ledger(url: str) -> Ledger:
    return Ledger(url)  # migrates to the newest schema once per process


def get_ledger(conn_id: str = LEDGER_CONN_ID) -> Ledger:
    return _ledger(ledger_url(conn_id))
