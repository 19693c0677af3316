"""The ledger: the pipeline's own database (SQLAlchemy 2; SQLite by default, PostgreSQL in production).

It keeps what Airflow's metadata database should not: one row per run with its counts, one row
per product change (old, new, outcome) as an audit trail, and the item map between Woo ids and
OfficeGuy item ids. The schema is owned by Alembic migrations in ``include/migrations``; the
models below mirror them (a test compares the two).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
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
    create_engine,
    false,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

MIGRATIONS = Path(__file__).with_name("migrations")


def _now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class SyncRun(Base):
    __tablename__ = "sync_runs"
    __table_args__ = (UniqueConstraint("dag_id", "run_id", name="uq_sync_runs_dag_run"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flow: Mapped[str] = mapped_column(String(32))
    dag_id: Mapped[str] = mapped_column(String(250))
    run_id: Mapped[str] = mapped_column(String(250))
    store: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(32))
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
    og_item_id: Mapped[int] = mapped_column(BigInteger)
    sku: Mapped[str] = mapped_column(String(200), server_default="")
    source: Mapped[str] = mapped_column(String(32))  # matched | created
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def sqlite_url(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def normalise_url(url: str) -> str:
    """SQLAlchemy 2 knows ``postgresql://``, not Airflow's ``postgres://``."""
    return "postgresql://" + url[len("postgres://"):] if url.startswith("postgres://") else url


class Ledger:
    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = normalise_url(url)
        self.engine: Engine = create_engine(self.url, pool_pre_ping=True)
        if migrate:
            self.migrate()

    def migrate(self, revision: str = "head") -> None:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    # ----------------------------------------------------------------- runs
    def start_run(self, *, flow: str, dag_id: str, run_id: str, store: str, dry_run: bool) -> int:
        """The run's row; a retried task finds the row its first try made."""
        with self.session() as s, s.begin():
            run = s.scalar(select(SyncRun).where(SyncRun.dag_id == dag_id, SyncRun.run_id == run_id))
            if run is None:
                run = SyncRun(flow=flow, dag_id=dag_id, run_id=run_id, store=store, status="running",
                              dry_run=dry_run, started_at=_now(), counts={}, message="")
                s.add(run)
                s.flush()
            return run.id

    def finish_run(self, run_pk: int, *, status: str, counts: dict[str, Any], message: str = "") -> None:
        with self.session() as s, s.begin():
            run = s.get(SyncRun, run_pk)
            run.status, run.counts, run.message, run.finished_at = status, counts, message, _now()

    def get_run(self, run_pk: int) -> SyncRun | None:
        with self.session() as s:
            return s.get(SyncRun, run_pk)

    def runs(self, flow: str | None = None, limit: int = 50) -> list[SyncRun]:
        with self.session() as s:
            query = select(SyncRun).order_by(SyncRun.id.desc()).limit(limit)
            if flow:
                query = query.where(SyncRun.flow == flow)
            return list(s.scalars(query))

    # ----------------------------------------------------------------- stock changes
    def record_changes(self, run_pk: int, store: str, rows: Iterable[dict[str, Any]]) -> int:
        """Append audit rows: dicts with woo_id, parent_id, field, old, new, og_item_id, matched_by,
        sku, name, outcome, error."""
        now = _now()
        objs = [StockChange(
            run_pk=run_pk, store=store, woo_id=int(r["woo_id"]), parent_id=int(r.get("parent_id") or 0),
            field=r["field"], old_value=None if r.get("old") is None else str(r["old"]), new_value=str(r["new"]),
            og_item_id=None if r.get("og_item_id") is None else int(r["og_item_id"]),
            matched_by=r.get("matched_by") or "", sku=r.get("sku") or "", name=(r.get("name") or "")[:500],
            outcome=r["outcome"], error=r.get("error") or "", recorded_at=now,
        ) for r in rows]
        with self.session() as s, s.begin():
            s.add_all(objs)
        return len(objs)

    def changes(self, *, run_pk: int | None = None, store: str | None = None, woo_id: int | None = None) -> list[StockChange]:
        with self.session() as s:
            query = select(StockChange).order_by(StockChange.id)
            if run_pk is not None:
                query = query.where(StockChange.run_pk == run_pk)
            if store is not None:
                query = query.where(StockChange.store == store)
            if woo_id is not None:
                query = query.where(StockChange.woo_id == woo_id)
            return list(s.scalars(query))

    # ----------------------------------------------------------------- pending stock (I3)
    def pending_quantities(self, store: str) -> dict[int, int]:
        """Quantities Woo already deducted for orders OfficeGuy has no document for yet, by the Woo
        id that holds the stock. The orders flow (a later issue) fills this; until then nothing
        is pending."""
        return {}
