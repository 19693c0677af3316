"""The ledger: the pipeline's own database (SQLAlchemy 2; SQLite by default, PostgreSQL in production).

It keeps what Airflow's metadata database should not: one row per run with its counts, one row
per product change (old, new, outcome) as an audit trail, the item map between Woo ids and
OfficeGuy item ids, and the order documents. The schema is owned by Alembic migrations in
``include/migrations``; ``models`` mirrors them.

One home per rule: ``models`` (the tables), ``states`` (the states stored in them), ``engine`` (URL,
engine, migrations and the schema check: a server database is migrated by the deploy step
``python -m officeguy_woocommerce.app.migrate_ledger``, never by a task), and one module per table
family, each a mixin of :class:`Ledger`: ``runs`` (runs, watermarks), ``stock`` (stock changes,
alerts), ``documents`` (order documents), ``cards`` (the item map).
"""

from __future__ import annotations

from officeguy_woocommerce.include.ledger.document_rows import OrderDocuments
from officeguy_woocommerce.include.ledger.engine import (
    MIGRATE_COMMAND,
    MIGRATIONS,
    LedgerNotMigrated,
    head_revision,
    normalise_url,
    sqlite_url,
)
from officeguy_woocommerce.include.ledger.item_cards import ItemCards
from officeguy_woocommerce.include.ledger.models import (
    Base,
    ItemMap,
    OrderDocument,
    StockAlert,
    StockChange,
    SyncRun,
    Watermark,
)
from officeguy_woocommerce.include.ledger.runs import RunsAndWatermarks
from officeguy_woocommerce.include.ledger.states import (
    DONE_STATES,
    OPEN_STATES,
    OUTSTANDING_STATES,
    CardState,
    DocumentState,
    RunStatus,
)
from officeguy_woocommerce.include.ledger.stock import StockRecords


class Ledger(RunsAndWatermarks, StockRecords, OrderDocuments, ItemCards):
    """The ledger at one URL: ``Ledger(url)`` opens it (see ``LedgerCore.__init__`` for when it
    migrates), ``migrate()`` brings its schema to the newest revision, ``session()`` is a SQLAlchemy
    session; the rest are the table families' methods."""


__all__ = [
    "DONE_STATES", "MIGRATE_COMMAND", "MIGRATIONS", "OPEN_STATES", "OUTSTANDING_STATES", "Base", "CardState",
    "DocumentState", "ItemMap", "Ledger", "LedgerNotMigrated", "OrderDocument", "RunStatus", "StockAlert",
    "StockChange", "SyncRun", "Watermark", "head_revision", "normalise_url", "sqlite_url",
]
