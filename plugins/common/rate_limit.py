"""A call-rate budget shared by every process that calls one API account (OfficeGuy's ~100 calls a
minute per company, then an empty 403 and a block: officeguy-api.md 1.6).

`Pacer` (http.py) spaces the calls of one process. Airflow runs each task in its own process, and
the CeleryExecutor on several hosts, so the budget must live outside the process:

- `HostPacer` (the default): a small file per account in the system's temp folder, locked with
  ``flock``: every process on this host shares it (LocalExecutor, or Celery workers on one host).
- `SqlPacer`: a row per account in a SQL database every worker reaches (the connection named by the
  OfficeGuy connection's extra ``rate_limit_conn_id``, e.g. the ledger's ``stock_sync_db`` on
  PostgreSQL): workers on several hosts share it. The row is locked (``SELECT ... FOR UPDATE``) while
  a call takes its slot, and PostgreSQL's clock decides, so the hosts' clocks need not agree.

Both hand out start times ``interval`` apart: a process takes the next free slot, sleeps until it,
and calls. A 403 pushes the next free slot past the hold-off for everyone. Why not an Airflow pool:
a pool caps tasks at once, not calls a minute, and one task makes hundreds of calls.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import struct
import tempfile
import threading
import time
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa

_TABLE = sa.Table(
    "api_rate_limits", sa.MetaData(),
    sa.Column("account", sa.String(200), primary_key=True),
    sa.Column("next_start", sa.Float, nullable=False),
)


def _interval(per_minute: float) -> float:
    return 60.0 / per_minute if per_minute > 0 else 0.0


class _SharedSlots:
    """Hands out call starts ``interval`` apart; ``_take`` keeps the next free start where every
    process sees it, and returns how long this call waits (or, with ``hold``, pushes the next start)."""

    def _take(self, hold: float | None) -> float:
        raise NotImplementedError

    def wait(self) -> None:
        """Block until this call may start."""
        delay = self._take(None)
        if delay > 0:
            time.sleep(delay)

    def hold_off(self, seconds: float) -> None:
        """After a rate-limit answer: no call of any process starts for ``seconds``."""
        self._take(seconds)


class HostPacer(_SharedSlots):
    """Call starts ``60 / per_minute`` s apart across every process of this host (one locked file)."""

    def __init__(self, account: str, per_minute: float, folder: Path | None = None) -> None:
        self.interval = _interval(per_minute)
        digest = hashlib.sha256(account.encode()).hexdigest()[:24]  # the file name never shows the account
        self.path = Path(folder or tempfile.gettempdir()) / f"officeguy-woocommerce-rate-{digest}"
        self._lock = threading.Lock()

    def _take(self, hold: float | None) -> float:
        """Under the file's lock: the start this call gets (or, with ``hold``, push the next start)."""
        with self._lock:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                raw = os.pread(fd, 8, 0)
                nxt = struct.unpack("<d", raw)[0] if len(raw) == 8 else 0.0
                now = time.time()
                if hold is not None:
                    start, nxt = now, max(nxt, now + hold)
                else:
                    start = max(now, nxt)
                    nxt = start + self.interval
                os.pwrite(fd, struct.pack("<d", nxt), 0)
                return start - now
            finally:
                os.close(fd)  # closing releases the lock



@cache
def _engine(url: str) -> sa.Engine:
    engine = sa.create_engine(url, pool_pre_ping=True)
    try:
        _TABLE.create(engine, checkfirst=True)
    except sa.exc.DatabaseError:  # another worker created it at the same moment
        if not sa.inspect(engine).has_table(_TABLE.name):
            raise
    return engine


class SqlPacer(_SharedSlots):
    """Call starts ``60 / per_minute`` s apart across every worker that reaches one SQL database."""

    def __init__(self, url: str, account: str, per_minute: float) -> None:
        self.interval = _interval(per_minute)
        self.account = hashlib.sha256(account.encode()).hexdigest()[:40]
        self._url = url

    @property
    def engine(self) -> sa.Engine:
        return _engine(self._url)

    def _now(self, conn: Any) -> float:
        if conn.dialect.name == "postgresql":  # one clock for every host
            return float(conn.execute(sa.text("SELECT EXTRACT(EPOCH FROM clock_timestamp())")).scalar_one())
        return time.time()

    def _take(self, hold: float | None) -> float:
        row = _TABLE.c
        with self.engine.begin() as conn:
            # the UPDATE first: it locks the row (PostgreSQL, MySQL) or the database (SQLite) at once,
            # so two workers never read the same next start
            found = conn.execute(_TABLE.update().where(row.account == self.account)
                                 .values(next_start=row.next_start)).rowcount
            if not found:
                try:
                    with conn.begin_nested():
                        conn.execute(_TABLE.insert().values(account=self.account, next_start=0.0))
                except sa.exc.IntegrityError:
                    pass
            nxt = conn.execute(sa.select(row.next_start).where(row.account == self.account)
                               .with_for_update()).scalar_one()
            now = self._now(conn)
            if hold is not None:
                start, nxt = now, max(nxt, now + hold)
            else:
                start = max(now, nxt)
                nxt = start + self.interval
            conn.execute(_TABLE.update().where(row.account == self.account).values(next_start=nxt))
        return start - now

