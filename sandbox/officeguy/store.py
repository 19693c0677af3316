"""The OfficeGuy sandbox's persistent state: item cards with their stock, customers, documents.

SQLite through SQLAlchemy 2. Reads run concurrently (WAL); every write holds one lock so
that the per-type document numbers and the ID counters stay gap-free and unique, as a real
accounting system's sequences are.

IDs live in separate ranges (items from 1001 as the catalogue numbers them, customers from
50,000,001, documents from 80,000,001) so that a client that mixes up a DocumentID with a
DocumentNumber (10001, 10002, ... per type) or with an item ID fails loudly.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import JSON, ForeignKey, Index, create_engine, event, func, insert, inspect, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker

from sandbox.common.catalogue import build

FIRST_ITEM_ID = 1001
FIRST_CUSTOMER_ID = 50_000_001
FIRST_DOCUMENT_ID = 80_000_001
FIRST_DOCUMENT_NUMBER = 10001


class Base(DeclarativeBase):
    pass


class Item(Base):
    """An income item card (product or service) and its on-hand stock (section 7)."""

    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(index=True)
    description: Mapped[str | None] = mapped_column(index=True)
    sku: Mapped[str | None] = mapped_column(index=True)
    external_identifier: Mapped[str | None] = mapped_column(index=True)
    price: Mapped[float] = mapped_column(default=0.0)
    cost: Mapped[float | None]
    currency: Mapped[int] = mapped_column(default=0)
    stock: Mapped[float] = mapped_column(default=0.0)


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(index=True)
    email_address: Mapped[str | None] = mapped_column(index=True)
    phone: Mapped[str | None] = mapped_column(index=True)
    city: Mapped[str | None]
    address: Mapped[str | None]
    zip_code: Mapped[str | None]
    company_number: Mapped[str | None] = mapped_column(index=True)
    external_identifier: Mapped[str | None] = mapped_column(index=True)
    no_vat: Mapped[bool | None]  # Customer.NoVAT when the card was made


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_type_number", "type", "number", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    type: Mapped[int]
    number: Mapped[int | None]  # drafts take no number from the sequence
    is_draft: Mapped[bool]
    date: Mapped[dt.date] = mapped_column(index=True)
    due_date: Mapped[dt.date | None]
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    currency: Mapped[int]
    language: Mapped[int]
    description: Mapped[str | None]
    external_reference: Mapped[str | None]
    vat_included: Mapped[bool]
    vat_rate: Mapped[float]  # the rate applied (0 for a NoVAT customer; 0 and unused with VATPerItem)
    document_value: Mapped[float]  # gross, in the document's currency; negative on credits
    company_value: Mapped[float]  # the same in ILS
    original_document_id: Mapped[int | None]
    # Added later: columns a database from an older sandbox gets as NULL (see _add_missing_columns).
    vat_per_item: Mapped[bool | None]
    vat_value: Mapped[float | None]  # the document's VAT, document currency, negative on credits
    net_value: Mapped[float | None]  # gross - VAT
    exchange_rate: Mapped[float | None]  # ILS per unit of the document currency
    no_vat: Mapped[bool | None]  # Customer.NoVAT as it applied to this document
    company_number: Mapped[str | None]  # Customer.CompanyNumber as sent, else the card's
    send_by_email: Mapped[dict | None] = mapped_column(JSON)  # {EmailAddress, Original, SendAsPaymentRequest}
    customer: Mapped[Customer] = relationship(lazy="joined")
    lines: Mapped[list[DocumentLine]] = relationship(order_by="DocumentLine.position")
    payments: Mapped[list[Payment]] = relationship(order_by="Payment.position")


class DocumentLine(Base):
    __tablename__ = "document_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    position: Mapped[int]
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    description: Mapped[str | None]
    quantity: Mapped[float]  # as sent on sales; |quantity| on credits
    unit_price: Mapped[float]  # document currency, as sent (gross with VATIncluded); negative on credits
    total_price: Mapped[float]
    vat: Mapped[float | None]  # the line's VAT (given with VATPerItem, else its share of the document's)
    item: Mapped[Item] = relationship(lazy="joined")


class Payment(Base):
    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    position: Mapped[int]
    amount: Mapped[float]  # document currency; negative on credits
    method: Mapped[str]  # e.g. "Details_Other"
    details: Mapped[dict] = mapped_column(JSON)
    kind: Mapped[str | None]  # the resolved payment type name, e.g. "Other"


class Store:
    def __init__(self, db_url: str) -> None:
        sqlite = db_url.startswith("sqlite")
        self.engine = create_engine(db_url, connect_args={"check_same_thread": False} if sqlite else {})
        if sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        Base.metadata.create_all(self.engine)
        _add_missing_columns(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock = threading.Lock()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with self._sessions() as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """One transaction, committed on success, with all other writers kept out."""
        with self._write_lock, self._sessions.begin() as session:
            yield session

    def load(self, dataset: str) -> None:
        """Load ``dataset``'s item cards into an empty database; a used one is left alone."""
        with self.writing() as session:
            if session.scalar(select(func.count(Item.id))) or session.scalar(select(func.count(Document.id))):
                return
            rows = [
                {
                    "id": it.id, "name": it.name, "sku": it.sku or None, "price": it.price, "stock": it.stock,
                    "external_identifier": it.external_identifier or None, "currency": 0,
                }
                for it in build(dataset).items
            ]
            if rows:
                session.execute(insert(Item), rows)

    def dispose(self) -> None:
        self.engine.dispose()


def next_id(session: Session, column, first: int) -> int:
    """The next free ID of a table (callers hold the write lock)."""
    current = session.scalar(select(func.max(column)))
    return first if current is None else max(first, current + 1)


def _add_missing_columns(engine) -> None:
    """A database left by an older sandbox (the compose volume) gets the newer columns, as NULL."""
    existing = inspect(engine)
    with engine.begin() as connection:
        for table in Base.metadata.sorted_tables:
            present = {column["name"] for column in existing.get_columns(table.name)}
            for column in table.columns:
                if column.name not in present:
                    kind = column.type.compile(engine.dialect)
                    connection.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'))


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
