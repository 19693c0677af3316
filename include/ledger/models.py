"""The ledger's tables as SQLAlchemy 2 models.

The schema is owned by the Alembic migrations in ``include/migrations``; these models mirror them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from officeguy_woocommerce.include.ledger.states import CardState


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class SyncRun(Base):
    __tablename__ = "sync_runs"
    """One try of one DAG run for one store (``run_id`` is the store's run key, ``<run_id>~<store>`` for
    a named store). A DAG run cleared and run again (``airflow backfill create --reprocess-behavior
    completed`` does that to a completed run) is a new try with a row of its own: ``attempt`` is the
    DAG run's ``clear_number`` + 1 (migration 0005)."""

    __table_args__ = (UniqueConstraint("dag_id", "run_id", "attempt", name="uq_sync_runs_dag_run_attempt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flow: Mapped[str] = mapped_column(String(32))
    dag_id: Mapped[str] = mapped_column(String(250))
    run_id: Mapped[str] = mapped_column(String(250))
    attempt: Mapped[int] = mapped_column(Integer, server_default="1")  # the DAG run's try, 1 first
    store: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(32))  # a RunStatus
    dry_run: Mapped[bool] = mapped_column(Boolean, server_default=false())
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    counts: Mapped[dict] = mapped_column(JSON)
    message: Mapped[str] = mapped_column(Text, server_default="")


class StockChange(Base):
    __tablename__ = "stock_changes"
    __table_args__ = (
        Index("ix_stock_changes_product", "store", "woo_id"),
        Index("ix_stock_changes_run", "run_pk"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_pk: Mapped[int] = mapped_column(Integer, ForeignKey("sync_runs.id", ondelete="CASCADE"))
    store: Mapped[str] = mapped_column(String(500))
    woo_id: Mapped[int] = mapped_column(BigInteger)
    parent_id: Mapped[int] = mapped_column(BigInteger)
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(String(64))
    new_value: Mapped[str] = mapped_column(String(64))
    og_item_id: Mapped[int | None] = mapped_column(BigInteger)
    matched_by: Mapped[str] = mapped_column(String(32))
    sku: Mapped[str] = mapped_column(String(200), server_default="")
    name: Mapped[str] = mapped_column(String(500), server_default="")
    outcome: Mapped[str] = mapped_column(String(16))  # applied | failed | dry_run
    error: Mapped[str] = mapped_column(Text, server_default="")
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ItemMap(Base):
    __tablename__ = "item_map"

    store: Mapped[str] = mapped_column(String(500), primary_key=True)
    woo_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    og_item_id: Mapped[int | None] = mapped_column(BigInteger)
    sku: Mapped[str] = mapped_column(String(200), server_default="")
    source: Mapped[str] = mapped_column(String(32))  # matched | created
    state: Mapped[str] = mapped_column(String(16), server_default=CardState.MAPPED.value)  # a CardState
    needs_lookup: Mapped[bool] = mapped_column(Boolean, server_default=false())
    opened: Mapped[bool] = mapped_column(Boolean, server_default=false())  # see migration 0004
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OrderDocument(Base):
    """One OfficeGuy document a Woo order needs (doc_key ``sale``, ``refund:<id>`` or ``cancel``)."""

    __tablename__ = "order_documents"
    __table_args__ = (Index("ix_order_documents_state", "store", "state"),)

    store: Mapped[str] = mapped_column(String(500), primary_key=True)
    woo_order_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    doc_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_number: Mapped[str] = mapped_column(String(64), server_default="")
    woo_status: Mapped[str] = mapped_column(String(32), server_default="")
    order_modified_gmt: Mapped[str] = mapped_column(String(32), server_default="")
    external_reference: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))  # a DocumentState
    og_document_id: Mapped[int | None] = mapped_column(BigInteger)
    og_document_number: Mapped[int | None] = mapped_column(BigInteger)
    og_customer_id: Mapped[int | None] = mapped_column(BigInteger)
    document_type: Mapped[int | None] = mapped_column(Integer)
    document_date: Mapped[str] = mapped_column(String(10), server_default="")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    last_error: Mapped[str] = mapped_column(Text, server_default="")
    claimed_by: Mapped[str] = mapped_column(String(250), server_default="")
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    documented_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    written_back: Mapped[bool] = mapped_column(Boolean, server_default=false())
    lines: Mapped[list] = mapped_column(JSON)
    amount: Mapped[str] = mapped_column(String(32), server_default="")  # the document's total as sent
    order_total: Mapped[str] = mapped_column(String(32), server_default="")  # the order's total when documented
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Watermark(Base):
    __tablename__ = "watermarks"

    flow: Mapped[str] = mapped_column(String(32), primary_key=True)
    store: Mapped[str] = mapped_column(String(500), primary_key=True)
    value: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StockAlert(Base):
    __tablename__ = "stock_alerts"

    store: Mapped[str] = mapped_column(String(500), primary_key=True)
    woo_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    level: Mapped[str] = mapped_column(String(8))  # ok | low | out
    quantity: Mapped[int | None] = mapped_column(BigInteger)
    threshold: Mapped[int | None] = mapped_column(Integer)
    last_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
