"""The pipeline's settings: environment variables, read once and validated against a whitelist.

DAG files read them at parse time, so they must be cheap and never touch the metadata database
(airflow-notes.md: a Variable at the top of a DAG file runs on every parse). Every setting has a
safe default; a wrong value fails the DAG import with a message naming the variable.

| variable | values | default |
|---|---|---|
| ``STOCK_SYNC_SCHEDULE`` | ``12h``, ``24h``, ``none`` | ``24h`` |
| ``STOCK_SYNC_TIMEZONE`` | an IANA zone, for the schedule | ``Asia/Jerusalem`` |
| ``STOCK_SYNC_MATCH_BY_NAME`` | ``true`` / ``false`` | ``false`` |
| ``STOCK_SYNC_BRAKE_SHARE`` | share of matched managed products a run may zero or cut | ``0.5`` |
| ``STOCK_SYNC_HOME`` | folder for the default SQLite ledger and run staging files | ``$AIRFLOW_HOME/stock_sync`` |
| ``STOCK_SYNC_WRITE_POOL`` | the one-slot pool the writing tasks run in | ``stock_sync_writes`` |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

SCHEDULES = {"12h": "0 */12 * * *", "24h": "0 3 * * *", "none": None}
SCHEDULE_INTERVALS = {"12h": timedelta(hours=12), "24h": timedelta(hours=24)}


class ConfigError(ValueError):
    pass


def _choice(name: str, default: str, allowed: set[str]) -> str:
    value = os.environ.get(name, default).strip().lower()
    if value not in allowed:
        raise ConfigError(f"{name}={value!r} is not valid; use one of {', '.join(sorted(allowed))}.")
    return value


def _bool(name: str, default: bool) -> bool:
    return _choice(name, "true" if default else "false", {"true", "false", "1", "0", "yes", "no"}) in {
        "true", "1", "yes"}


def _share(name: str, default: float) -> float:
    raw = os.environ.get(name, str(default))
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number between 0 and 1.") from None
    if not 0 < value <= 1:
        raise ConfigError(f"{name}={raw!r} must be more than 0 and at most 1.")
    return value


@dataclass(frozen=True)
class Settings:
    stock_schedule: str
    timezone: str
    match_by_name: bool
    brake_share: float
    home: Path
    write_pool: str

    @property
    def stock_cron(self) -> str | None:
        return SCHEDULES[self.stock_schedule]


def load() -> Settings:
    airflow_home = Path(os.environ.get("AIRFLOW_HOME", Path.home() / "airflow"))
    return Settings(
        stock_schedule=_choice("STOCK_SYNC_SCHEDULE", "24h", set(SCHEDULES)),
        timezone=os.environ.get("STOCK_SYNC_TIMEZONE", "Asia/Jerusalem"),
        match_by_name=_bool("STOCK_SYNC_MATCH_BY_NAME", False),
        brake_share=_share("STOCK_SYNC_BRAKE_SHARE", 0.5),
        home=Path(os.environ.get("STOCK_SYNC_HOME", airflow_home / "stock_sync")),
        write_pool=os.environ.get("STOCK_SYNC_WRITE_POOL", "stock_sync_writes"),
    )
