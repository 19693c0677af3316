"""The ledger: the pipeline's own database (SQLAlchemy 2; SQLite by default, PostgreSQL in production).

It keeps what Airflow's metadata database should not: one row per run with its counts, one row
per product change (old, new, outcome) as an audit trail, and the item map between Woo ids and
OfficeGuy item ids. The schema is owned by Alembic migrations in ``include/migrations``; the
models below mirror them (a test compares the two).
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
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
    event,
    false,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
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
    og_item_id: Mapped[int | None] = mapped_column(BigInteger)
    sku: Mapped[str] = mapped_column(String(200), server_default="")
    source: Mapped[str] = mapped_column(String(32))  # matched | created
    state: Mapped[str] = mapped_column(String(16), server_default="mapped")  # mapped | claimed
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
    # pending | claimed | documented | failed | parked | recorded (the official plugin made it) | skipped
    state: Mapped[str] = mapped_column(String(16))
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


OPEN_STATES = ("pending", "failed")  # may be claimed
DONE_STATES = ("documented", "recorded", "skipped")


def _engine_options(url: str) -> dict[str, Any]:
    # SQLite: wait for a concurrent writer (parallel tasks) instead of failing at once
    return {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.close()


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def sqlite_url(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def normalise_url(url: str) -> str:
    """SQLAlchemy 2 knows ``postgresql://``, not Airflow's ``postgres://``."""
    return "postgresql://" + url[len("postgres://"):] if url.startswith("postgres://") else url


class Ledger:
    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = normalise_url(url)
        self.engine: Engine = create_engine(self.url, pool_pre_ping=True, **_engine_options(self.url))
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        if migrate:
            self.migrate()

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to ``revision``. Several tasks may start at once on a new ledger (a
        backfill's runs), so migrations are serialised: an advisory lock on PostgreSQL, a file lock
        beside a SQLite file."""
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with _migration_lock(self.engine), self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(7270001)"))
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

    # ----------------------------------------------------------------- order documents (I1, I2)
    def ensure_documents(self, rows: Iterable[dict[str, Any]]) -> None:
        """Insert the rows that do not exist yet (state ``pending``); refresh status/modified of the others.

        Rows need store, woo_order_id, doc_key, external_reference; optional order_number,
        woo_status, order_modified_gmt, lines. A row parked for bad data is reopened when the order
        was modified since (the merchant may have fixed it).
        """
        now = _now()
        with self.session() as s, s.begin():
            for r in rows:
                key = (r["store"], int(r["woo_order_id"]), r["doc_key"])
                row = s.get(OrderDocument, key, with_for_update=True)
                if row is None:
                    new = OrderDocument(
                        store=key[0], woo_order_id=key[1], doc_key=key[2], order_number=str(r.get("order_number", "")),
                        woo_status=r.get("woo_status", ""), order_modified_gmt=r.get("order_modified_gmt", ""),
                        external_reference=r["external_reference"], state=r.get("state", "pending"),
                        lines=r.get("lines") or [], attempts=0, created_at=now, updated_at=now,
                        og_document_id=r.get("og_document_id"), og_document_number=r.get("og_document_number"),
                        last_error=r.get("last_error", ""),
                    )
                    try:
                        with s.begin_nested():  # a savepoint: a concurrent run may insert it first
                            s.add(new)
                    except IntegrityError:
                        pass
                    continue
                modified = r.get("order_modified_gmt", "")
                if r.get("reopen") is False:  # a marker row (e.g. "changed"): its state is the caller's
                    row.state, row.last_error = r.get("state", row.state), r.get("last_error", row.last_error)
                    row.order_modified_gmt, row.updated_at = modified or row.order_modified_gmt, now
                    continue
                if row.state == "parked" and modified and modified != row.order_modified_gmt:
                    row.state, row.attempts = "pending", 0
                row.woo_status = r.get("woo_status", row.woo_status)
                row.order_modified_gmt = modified or row.order_modified_gmt
                if r.get("lines") and row.state not in ("documented", "recorded"):
                    row.lines = r["lines"]  # a documented row keeps what it documented
                row.updated_at = now

    def claim_document(self, store: str, woo_order_id: int, doc_key: str, token: str, *,
                       lease_seconds: float = 900) -> OrderDocument | None:
        """Take the row for one OfficeGuy call, atomically; None when another run has it or it is done.

        One conditional UPDATE decides, so two overlapping runs (a schedule and a backfill, two
        workers) can never both win (I1). A claim older than the lease belongs to a task that died
        between claim and record: it may be taken over. The returned row's ``attempts`` counts this
        try; more than one means an earlier try may have reached OfficeGuy, so look before creating.
        """
        now = _now()
        stale = datetime.fromtimestamp(now.timestamp() - lease_seconds, UTC)
        stmt = (
            update(OrderDocument)
            .where(OrderDocument.store == store, OrderDocument.woo_order_id == woo_order_id,
                   OrderDocument.doc_key == doc_key,
                   or_(OrderDocument.state.in_(OPEN_STATES),
                       (OrderDocument.state == "claimed") & (OrderDocument.claimed_at < stale)))
            .values(state="claimed", claimed_by=token, claimed_at=now, attempts=OrderDocument.attempts + 1,
                    updated_at=now)
            .returning(OrderDocument.attempts)
        )
        with self.session() as s, s.begin():
            won = s.execute(stmt).first()
            if won is None:
                return None
            return s.get(OrderDocument, (store, woo_order_id, doc_key))

    def record_document(self, store: str, woo_order_id: int, doc_key: str, token: str, *, document_id: int,
                        document_number: int | None, customer_id: int | None = None, document_type: int | None = None,
                        document_date: str = "", state: str = "documented", amount: str = "",
                        order_total: str = "", lines: list[dict] | None = None) -> bool:
        """The call's result, kept only by the run that holds the claim.

        ``amount`` is the document's total; ``order_total`` the order's total it documented (a sale);
        ``lines`` the units the document moved per order line (kept as the documented record)."""
        now = _now()
        values: dict[str, Any] = dict(
            state=state, og_document_id=document_id, og_document_number=document_number,
            og_customer_id=customer_id, document_type=document_type, document_date=document_date,
            documented_at=now, last_error="", updated_at=now, amount=amount, order_total=order_total)
        if lines is not None:
            values["lines"] = lines
        stmt = (
            update(OrderDocument)
            .where(OrderDocument.store == store, OrderDocument.woo_order_id == woo_order_id,
                   OrderDocument.doc_key == doc_key, OrderDocument.claimed_by == token,
                   OrderDocument.state == "claimed")
            .values(**values)
        )
        with self.session() as s, s.begin():
            return s.execute(stmt).rowcount == 1

    def set_document_date(self, store: str, woo_order_id: int, doc_key: str, document_date: str) -> None:
        """Remember the date sent before the call, so a later look-up knows which days to search."""
        with self.session() as s, s.begin():
            s.execute(update(OrderDocument).where(
                OrderDocument.store == store, OrderDocument.woo_order_id == woo_order_id,
                OrderDocument.doc_key == doc_key).values(document_date=document_date))

    def release_document(self, store: str, woo_order_id: int, doc_key: str, token: str, *, error: str,
                         park: bool = False, max_attempts: int = 5) -> str:
        """A failed try: back to ``failed`` (retried by a later run), or ``parked`` with its reason
        when it cannot succeed or has failed ``max_attempts`` times. Returns the new state."""
        now = _now()
        with self.session() as s, s.begin():
            row = s.get(OrderDocument, (store, woo_order_id, doc_key), with_for_update=True)
            if row is None or row.claimed_by != token or row.state != "claimed":
                return row.state if row else "missing"
            row.state = "parked" if park or row.attempts >= max_attempts else "failed"
            row.last_error, row.updated_at = error[:4000], now
            return row.state

    def set_state(self, store: str, woo_order_id: int, doc_key: str, state: str, reason: str = "") -> None:
        with self.session() as s, s.begin():
            s.execute(update(OrderDocument).where(
                OrderDocument.store == store, OrderDocument.woo_order_id == woo_order_id,
                OrderDocument.doc_key == doc_key, OrderDocument.state.in_((*OPEN_STATES, "parked")))
                .values(state=state, last_error=reason, updated_at=_now()))

    def reopen_parked(self, store: str, order_ids: Iterable[int]) -> int:
        """Parked documents of these orders go back to ``pending`` (a person named the orders)."""
        with self.session() as s, s.begin():
            return s.execute(update(OrderDocument).where(
                OrderDocument.store == store, OrderDocument.woo_order_id.in_(list(order_ids)),
                OrderDocument.state == "parked", OrderDocument.doc_key != "changed")
                .values(state="pending", attempts=0, updated_at=_now())).rowcount

    def returned_units(self, store: str, order_ids: Iterable[int]) -> dict[int, dict[int, int]]:
        """Per order and order line, the units this project's documented credits put back on cards."""
        units: dict[int, dict[int, int]] = {}
        with self.session() as s:
            rows = s.scalars(select(OrderDocument).where(
                OrderDocument.store == store, OrderDocument.woo_order_id.in_(list(order_ids)),
                OrderDocument.state == "documented", OrderDocument.doc_key != "sale"))
            for row in rows:
                for line in row.lines or ():
                    if line.get("line_id"):
                        per_order = units.setdefault(row.woo_order_id, {})
                        per_order[int(line["line_id"])] = per_order.get(int(line["line_id"]), 0) + int(
                            line.get("quantity") or 0)
        return units

    def open_credit_order_ids(self, store: str) -> list[int]:
        """Orders with a refund or cancellation credit not documented yet (its stock is back in Woo)."""
        with self.session() as s:
            return sorted(set(s.scalars(select(OrderDocument.woo_order_id).where(
                OrderDocument.store == store, OrderDocument.doc_key.in_(("cancel",)) | OrderDocument.doc_key.like(
                    "refund:%"), OrderDocument.state.in_(("pending", "failed", "claimed", "parked"))))))

    def unwritten_order_ids(self, store: str) -> list[int]:
        """Orders with a document whose write-back to the store has not succeeded yet."""
        with self.session() as s:
            return sorted(set(s.scalars(select(OrderDocument.woo_order_id).where(
                OrderDocument.store == store, OrderDocument.state == "documented",
                OrderDocument.written_back.is_(False)))))

    def mark_written_back(self, store: str, woo_order_id: int, doc_key: str) -> None:
        with self.session() as s, s.begin():
            s.execute(update(OrderDocument).where(
                OrderDocument.store == store, OrderDocument.woo_order_id == woo_order_id,
                OrderDocument.doc_key == doc_key).values(written_back=True, updated_at=_now()))

    def documents(self, store: str, *, order_ids: Iterable[int] | None = None, states: Iterable[str] | None = None,
                  doc_key: str | None = None) -> list[OrderDocument]:
        with self.session() as s:
            query = select(OrderDocument).where(OrderDocument.store == store).order_by(
                OrderDocument.woo_order_id, OrderDocument.doc_key)
            if order_ids is not None:
                query = query.where(OrderDocument.woo_order_id.in_(list(order_ids)))
            if states is not None:
                query = query.where(OrderDocument.state.in_(list(states)))
            if doc_key is not None:
                query = query.where(OrderDocument.doc_key == doc_key)
            return list(s.scalars(query))

    # ----------------------------------------------------------------- item cards
    def item_map(self, store: str) -> dict[int, int]:
        with self.session() as s:
            rows = s.scalars(select(ItemMap).where(ItemMap.store == store, ItemMap.og_item_id.is_not(None)))
            return {r.woo_id: r.og_item_id for r in rows}

    def claim_card(self, store: str, woo_id: int, sku: str, *, lease_seconds: float = 900) -> ItemMap | None:
        """Claim the right to create the card for ``woo_id``; None when it exists or is being made.

        A returned row with ``needs_lookup`` set had an earlier try that may have reached OfficeGuy:
        look for the card (ExternalIdentifier = woo_id) before creating one.
        """
        now = _now()
        with self.session() as s, s.begin():
            row = s.get(ItemMap, (store, woo_id), with_for_update=True)
            if row is None:
                row = ItemMap(store=store, woo_id=woo_id, og_item_id=None, sku=sku, source="created",
                              state="claimed", needs_lookup=False, updated_at=now)
                try:
                    with s.begin_nested():  # a concurrent run may claim it first
                        s.add(row)
                except IntegrityError:
                    return None
                return row
            updated = row.updated_at if row.updated_at.tzinfo else row.updated_at.replace(tzinfo=UTC)
            stale = row.state == "claimed" and (now - updated).total_seconds() > lease_seconds
            if row.og_item_id is None and (row.state == "failed" or stale):
                row.state, row.needs_lookup, row.updated_at = "claimed", True, now
                return row
            return None

    def record_card(self, store: str, woo_id: int, og_item_id: int, *, sku: str = "", source: str = "created") -> None:
        now = _now()
        with self.session() as s, s.begin():
            row = s.get(ItemMap, (store, woo_id), with_for_update=True)
            if row is None:
                s.add(ItemMap(store=store, woo_id=woo_id, og_item_id=og_item_id, sku=sku, source=source,
                              state="mapped", needs_lookup=False, updated_at=now))
            else:
                row.og_item_id, row.state, row.needs_lookup, row.updated_at = og_item_id, "mapped", False, now
                row.source = source if row.source != "created" else row.source

    def release_card(self, store: str, woo_id: int, *, ambiguous: bool) -> None:
        with self.session() as s, s.begin():
            row = s.get(ItemMap, (store, woo_id), with_for_update=True)
            if row is not None and row.og_item_id is None:
                row.state, row.updated_at = "failed", _now()
                row.needs_lookup = row.needs_lookup or ambiguous

    # ----------------------------------------------------------------- watermarks
    def watermark(self, flow: str, store: str) -> datetime | None:
        with self.session() as s:
            row = s.get(Watermark, (flow, store))
            if row is None:
                return None
            value = row.value
            return value if value.tzinfo else value.replace(tzinfo=UTC)

    def move_watermark(self, flow: str, store: str, value: datetime) -> None:
        """Only forwards: a late or backfilled run never moves it back."""
        with self.session() as s, s.begin():
            row = s.get(Watermark, (flow, store), with_for_update=True)
            if row is None:
                s.add(Watermark(flow=flow, store=store, value=value, updated_at=_now()))
            else:
                current = row.value if row.value.tzinfo else row.value.replace(tzinfo=UTC)
                if value > current:
                    row.value, row.updated_at = value, _now()

    # ----------------------------------------------------------------- alert state
    def alert_levels(self, store: str) -> dict[int, str]:
        with self.session() as s:
            return {r.woo_id: r.level for r in s.scalars(select(StockAlert).where(StockAlert.store == store))}

    def set_alert_level(self, store: str, woo_id: int, level: str, *, quantity: int | None = None,
                        threshold: int | None = None, sent: bool = False) -> None:
        now = _now()
        with self.session() as s, s.begin():
            row = s.get(StockAlert, (store, woo_id), with_for_update=True)
            if row is None:
                row = StockAlert(store=store, woo_id=woo_id, level=level, updated_at=now)
                s.add(row)
            row.level, row.quantity, row.threshold, row.updated_at = level, quantity, threshold, now
            if sent:
                row.last_sent_at = now

    # ----------------------------------------------------------------- pending stock (I3)
    def undocumented_sales(self, store: str) -> list[OrderDocument]:
        """Sale rows without a document yet (their stock left Woo but not OfficeGuy)."""
        return self.documents(store, states=("pending", "claimed", "failed", "parked"), doc_key="sale")
