"""The ledger's database: its URL, the SQLAlchemy engine, and the schema's Alembic revision.

The schema is owned by the Alembic migrations in ``include/migrations``. A server database
(PostgreSQL in production) is brought to the newest revision by a deploy step,
``python -m officeguy_woocommerce.app.migrate_ledger``; task processes never run Alembic on it, they
check its revision with one query and name that command when it is behind. The embedded SQLite
ledger (one file on one machine, the default without a ``stock_sync_db`` connection) is still
created and migrated on first use, so that the one-command demo needs no deploy step.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
VERSION_TABLE = "ledger_version"  # Alembic's version table, as include/migrations/env.py names it
MIGRATE_COMMAND = "python -m officeguy_woocommerce.app.migrate_ledger"


class LedgerNotMigrated(RuntimeError):
    """The ledger's schema is not at the revision this code needs; the message says what to run."""

    def __init__(self, current: str | None, head: str) -> None:
        self.current, self.head = current, head
        found = f"at revision {current}" if current else f"not migrated (no {VERSION_TABLE} table)"
        super().__init__(
            f"The ledger's schema is {found}; this code needs revision {head}. Migrate it once per deploy: "
            f"run `{MIGRATE_COMMAND}` (docker-compose's airflow-init does; it migrates the ledger of the "
            "`stock_sync_db` connection, or the one whose URL it is given).")


def normalise_url(url: str) -> str:
    """SQLAlchemy 2 knows ``postgresql://``, not Airflow's ``postgres://``."""
    return "postgresql://" + url[len("postgres://"):] if url.startswith("postgres://") else url


def sqlite_url(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def _engine_options(url: str) -> dict[str, Any]:
    # SQLite: wait for a concurrent writer (parallel tasks) instead of failing at once
    return {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.close()


def create_ledger_engine(url: str) -> Engine:
    engine = create_engine(url, pool_pre_ping=True, **_engine_options(url))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


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


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``. Several processes may start at once on a new ledger, so
    migrations are serialised: an advisory lock on PostgreSQL, a file lock beside a SQLite file."""
    cfg = _alembic_config()
    with _migration_lock(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(7270001)"))
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


@cache
def head_revision() -> str:
    """The newest revision in ``include/migrations`` (read from the files, once per process)."""
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def schema_revision(engine: Engine) -> str | None:
    """The database's revision, by one query; None when it was never migrated."""
    with engine.connect() as connection:  # a connection failure is raised here, as it is
        try:
            return connection.scalar(text(f"SELECT version_num FROM {VERSION_TABLE}"))
        except (ProgrammingError, OperationalError) as exc:  # no such table: ProgrammingError, SQLite's Operational
            if isinstance(exc, OperationalError) and engine.dialect.name != "sqlite":
                raise  # the server went away: not a schema question
            return None


def check_schema(engine: Engine) -> str:
    """The schema's revision when it is the newest; else :class:`LedgerNotMigrated`."""
    current, head = schema_revision(engine), head_revision()
    if current != head:
        raise LedgerNotMigrated(current, head)
    return current


class LedgerCore:
    """The ledger's URL, engine and sessions; the table families' mixins build on it."""

    def __init__(self, url: str, *, migrate: bool | None = None) -> None:
        """Open the ledger at ``url``.

        ``migrate=None`` (the default, what task processes get through ``get_ledger()``): an
        embedded SQLite ledger is created or migrated here, on first use; any other database is only
        checked (one query) and :class:`LedgerNotMigrated` names the deploy command when it is
        behind. ``migrate=True`` runs the migrations whatever the database (the deploy command,
        tests); ``migrate=False`` neither migrates nor checks.
        """
        self.url = normalise_url(url)
        self.engine: Engine = create_ledger_engine(self.url)
        if migrate or (migrate is None and self.embedded):
            self.migrate()
        elif migrate is None:
            check_schema(self.engine)

    @property
    def embedded(self) -> bool:
        """A SQLite ledger: one file beside the tasks, migrated on first use."""
        return self.engine.dialect.name == "sqlite"

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` (the deploy step; see :func:`upgrade`)."""
        upgrade(self.engine, revision)

    def schema_revision(self) -> str | None:
        return schema_revision(self.engine)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)
