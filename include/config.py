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
| ``STOCK_SYNC_STORES`` | several stores: ``main,outlet,eu:officeguy_eu`` (name, optional OfficeGuy connection) | one store |
| ``STOCK_SYNC_ORDERS_EVERY`` | minutes between order runs: 5, 10, 15, 20, 30, 60, or ``none`` | ``15`` |
| ``STOCK_SYNC_GO_LIVE`` | the first day whose orders are documented (ISO date; the DAG's start) | ``2026-01-01`` |
| ``STOCK_SYNC_ORDER_STATUSES`` | Woo statuses that are documented, comma-separated | ``processing,completed`` |
| ``STOCK_SYNC_DOCUMENT_TYPE`` | ``invoice_receipt``, ``invoice``, ``receipt`` | ``invoice_receipt`` |
| ``STOCK_SYNC_CREDIT_TYPE`` | ``auto``, ``credit_invoice``, ``credit_invoice_receipt``, ``credit_receipt`` | ``auto`` |
| ``STOCK_SYNC_CUSTOM_DOCUMENT_DATES`` | ``true`` when the OfficeGuy company allows past dates | ``false`` |
| ``STOCK_SYNC_DOCUMENT_LANGUAGE`` | ``he``, ``en``, ``ar``, ``es`` | ``he`` |
| ``STOCK_SYNC_ORDER_NOTE`` | ``true``: add an order note in Woo naming the document | ``true`` |
| ``STOCK_SYNC_MAX_ATTEMPTS`` | tries before an order is parked | ``5`` |
| ``STOCK_SYNC_WINDOW_OVERLAP_MINUTES`` | how far each order window reaches back before its start | ``5`` |
| ``STOCK_SYNC_ALERT_RECIPIENTS`` | comma-separated addresses for low/out-of-stock e-mails (empty: none) | ``""`` |
| ``STOCK_SYNC_SMTP_CONN_ID`` | the Airflow SMTP connection the e-mails go through | ``smtp_default`` |
| ``STOCK_SYNC_LOW_STOCK_DEFAULT`` | the store-wide low-stock threshold (WooCommerce's default is 2) | ``2`` |
| ``STOCK_SYNC_REPORTS_DIR`` | where the HTML run reports are kept | ``$STOCK_SYNC_HOME/reports`` |
| ``STOCK_SYNC_STAGING_KEEP_DAYS`` | days a run's staging files are kept after its report (0: removed at once) | ``7`` |
| ``STOCK_SYNC_GATEWAY_RULES`` | document type per Woo payment method id, e.g. ``cod=invoice,bacs=invoice`` | ``cod=invoice`` |
| ``STOCK_SYNC_PAYMENT_KINDS`` | SUMIT payment kind per Woo payment method id, e.g. ``tranzila=credit_card`` | see README |
| ``STOCK_SYNC_SEND_DOCUMENT_EMAIL`` | ``true``: OfficeGuy e-mails each document to the billing address | ``true`` |
| ``STOCK_SYNC_CREDIT_SIGN`` | ``negative`` / ``positive``: how credit amounts are sent | ``negative`` |
| ``STOCK_SYNC_COMPANY_NUMBER_META`` | the order meta key with the buyer's company number (ח.פ. / ע.מ.) | ``og-citizenid`` |
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from officeguy_woocommerce.include.officeguy_codes import DocumentType, Language

SCHEDULES = {"12h": "0 */12 * * *", "24h": "0 3 * * *", "none": None}
ORDER_EVERY = {"5", "10", "15", "20", "30", "60", "none"}
# the settings' words for OfficeGuy's codes (include/officeguy_codes.py defines each code once)
DOCUMENT_TYPES = {"invoice": DocumentType.INVOICE, "invoice_receipt": DocumentType.INVOICE_AND_RECEIPT,
                  "receipt": DocumentType.RECEIPT}
CREDIT_TYPES = {"auto": None, "credit_invoice": DocumentType.CREDIT_INVOICE,
                "credit_invoice_receipt": DocumentType.CREDIT_INVOICE_AND_RECEIPT,
                "credit_receipt": DocumentType.CREDIT_RECEIPT}
LANGUAGES = {"he": Language.HEBREW, "en": Language.ENGLISH, "ar": Language.ARABIC, "es": Language.SPANISH}
WOO_ORDER_STATUSES = {"pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed"}
# Statuses of orders that are not paid (or no longer sold): documenting them would book a sale and a
# payment that did not happen.
UNPAID_STATUSES = {"pending", "failed", "cancelled", "refunded", "checkout-draft"}
PAYMENT_KINDS = {"general": 1, "cash": 2, "bank_transfer": 3, "cheque": 4, "credit_card": 5, "digital": 6,
                 "other": 8}
CREDIT_SIGNS = {"negative": -1, "positive": 1}
SCHEDULE_INTERVALS = {"12h": timedelta(hours=12), "24h": timedelta(hours=24)}


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Store:
    """One WooCommerce store: its connections and the one-slot pool its writers share (never two
    writers to one store; the stores' writers run side by side). The default store is today's
    single store: ``woocommerce_default``, ``officeguy_default``, the plain write pool."""

    name: str
    woocommerce_conn_id: str
    officeguy_conn_id: str
    write_pool: str

    @property
    def group(self) -> str | None:
        """The task group of its branch in the DAGs (None: the single store's tasks are top-level)."""
        return None if self.name == DEFAULT_STORE else self.name

    def run_key(self, run_id: str) -> str:
        """The run's name for this store's ledger row, report and staging folder (the run id itself
        for the single default store, as before)."""
        return run_id if self.name == DEFAULT_STORE else f"{run_id}~{self.name}"

    def task_id(self, task_id: str) -> str:
        """A task's id inside this store's branch (its task group)."""
        return task_id if self.group is None else f"{self.group}.{task_id}"


DEFAULT_STORE = "default"
STORE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def _stores(write_pool: str) -> tuple[Store, ...]:
    """``STOCK_SYNC_STORES``: ``name`` or ``name:officeguy_conn_id``, comma-separated. Unset: the one
    default store, exactly as before the setting existed (DAG ids, task ids, references)."""
    raw = os.environ.get("STOCK_SYNC_STORES", "").strip()
    if not raw:
        return (Store(DEFAULT_STORE, "woocommerce_default", "officeguy_default", write_pool),)
    stores: list[Store] = []
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        name, _, og = (x.strip() for x in part.partition(":"))
        if not STORE_NAME.match(name) or name == DEFAULT_STORE:
            raise ConfigError(f"STOCK_SYNC_STORES: {name!r} is not a store name: use lower-case letters, digits "
                              "and _ (starting with a letter, at most 40, not 'default'), e.g. main,outlet.")
        if og and not re.match(r"^[A-Za-z0-9_.-]+$", og):
            raise ConfigError(f"STOCK_SYNC_STORES: {og!r} (store {name!r}) is not an Airflow connection id.")
        if any(s.name == name for s in stores):
            raise ConfigError(f"STOCK_SYNC_STORES: store {name!r} is listed twice.")
        stores.append(Store(name, f"woocommerce_{name}", og or "officeguy_default", f"{write_pool}_{name}"))
    return tuple(stores)


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
    orders_every: int | None = 15
    go_live: date = date(2026, 1, 1)
    order_statuses: tuple[str, ...] = ("processing", "completed")
    document_type: int = 1
    credit_type: int | None = None
    custom_document_dates: bool = False
    document_language: int = 0
    order_note: bool = True
    max_attempts: int = 5
    window_overlap: timedelta = timedelta(minutes=5)
    alert_recipients: tuple[str, ...] = ()
    smtp_conn_id: str = "smtp_default"
    low_stock_default: int = 2
    reports_dir: Path | None = None
    staging_keep_days: int = 7
    gateway_rules: tuple[tuple[str, int], ...] = (("cod", 0),)
    payment_kinds: tuple[tuple[str, int], ...] = ()
    send_document_email: bool = True
    credit_sign: int = -1
    company_number_meta: str = "og-citizenid"
    stores: tuple[Store, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.stores:
            object.__setattr__(self, "stores", (Store(DEFAULT_STORE, "woocommerce_default", "officeguy_default",
                                                      self.write_pool),))

    def companies(self) -> dict[str, tuple[Store, ...]]:
        """The stores by the OfficeGuy connection (company) they share, in the listed order."""
        out: dict[str, tuple[Store, ...]] = {}
        for store in self.stores:
            out[store.officeguy_conn_id] = (*out.get(store.officeguy_conn_id, ()), store)
        return out

    def store_of_task(self, task_id: str) -> Store:
        """The store whose branch a task belongs to (its task group), the first store for a top-level task."""
        group = task_id.split(".", 1)[0] if "." in task_id else None
        return next((s for s in self.stores if s.group == group), self.stores[0])

    def store(self, name: str) -> Store:
        for store in self.stores:
            if store.name == name:
                return store
        raise ConfigError(f"Store {name!r} is not in STOCK_SYNC_STORES "
                          f"({', '.join(s.name for s in self.stores)}).")

    def document_settings(self):
        """The `DocumentSettings` these settings give (include/documents/)."""
        from officeguy_woocommerce.include.documents import DEFAULT_PAYMENT_KINDS, DocumentSettings

        return DocumentSettings(
            document_type=self.document_type, credit_type=self.credit_type, language=self.document_language,
            custom_dates_allowed=self.custom_document_dates, timezone=self.timezone,
            send_by_email=self.send_document_email, credit_sign=self.credit_sign,
            company_number_meta=self.company_number_meta, gateway_rules=dict(self.gateway_rules),
            payment_kinds={**DEFAULT_PAYMENT_KINDS, **dict(self.payment_kinds)})

    @property
    def stock_cron(self) -> str | None:
        return SCHEDULES[self.stock_schedule]

    @property
    def orders_cron(self) -> str | None:
        if self.orders_every is None:
            return None
        return "0 * * * *" if self.orders_every == 60 else f"*/{self.orders_every} * * * *"


def _timezone() -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    raw = os.environ.get("STOCK_SYNC_TIMEZONE", "Asia/Jerusalem").strip()
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"STOCK_SYNC_TIMEZONE={raw!r} is not an IANA time zone; use a name such as "
                          "Asia/Jerusalem or UTC.") from None
    return raw


def _go_live() -> date:
    raw = os.environ.get("STOCK_SYNC_GO_LIVE", "2026-01-01").strip()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ConfigError(f"STOCK_SYNC_GO_LIVE={raw!r} is not a date like 2026-01-01.") from None


def _statuses() -> tuple[str, ...]:
    raw = os.environ.get("STOCK_SYNC_ORDER_STATUSES", "processing,completed")
    statuses = tuple(s.strip().lower() for s in raw.split(",") if s.strip())
    unpaid = sorted(set(statuses) & UNPAID_STATUSES)
    if unpaid:
        raise ConfigError(f"STOCK_SYNC_ORDER_STATUSES={raw!r}: {', '.join(unpaid)} orders are not paid, and a "
                          "document would book a sale and a payment that did not happen; use paid statuses "
                          "such as processing, completed, on-hold.")
    unknown = set(statuses) - WOO_ORDER_STATUSES
    if not statuses or unknown:
        raise ConfigError(f"STOCK_SYNC_ORDER_STATUSES={raw!r}: use WooCommerce statuses from "
                          f"{', '.join(sorted(WOO_ORDER_STATUSES - UNPAID_STATUSES))}.")
    return statuses


def _pairs(name: str, default: str, values: dict[str, int]) -> tuple[tuple[str, int], ...]:
    """``gateway=value,gateway=value`` with values from ``values``; a clear error names the bad pair."""
    raw = os.environ.get(name, default)
    pairs = []
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        gateway, _, value = part.partition("=")
        gateway, value = gateway.strip(), value.strip().lower()
        if not gateway or value not in values:
            raise ConfigError(f"{name}: {part!r} is not <Woo payment method id>=<one of "
                              f"{', '.join(sorted(values))}>, e.g. cod={next(iter(values))}.")
        pairs.append((gateway, values[value]))
    return tuple(pairs)


def _positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number.") from None
    if value < 0:
        raise ConfigError(f"{name}={raw!r} must not be negative.")
    return value


def _home(airflow_home: Path) -> Path:
    """STOCK_SYNC_HOME, or ``$AIRFLOW_HOME/stock_sync``; set but blank is refused (it would be each
    process's working directory: a ledger per process would defeat the exactly-once guard)."""
    raw = os.environ.get("STOCK_SYNC_HOME")
    if raw is None:
        return airflow_home / "stock_sync"
    if not raw.strip():
        raise ConfigError(f"STOCK_SYNC_HOME={raw!r} is blank: set it to a folder every Airflow process shares "
                          f"(e.g. /opt/airflow/stock_sync), or unset it to use {airflow_home / 'stock_sync'}.")
    return Path(raw.strip())


def load() -> Settings:
    airflow_home = Path(os.environ.get("AIRFLOW_HOME", Path.home() / "airflow"))
    every = _choice("STOCK_SYNC_ORDERS_EVERY", "15", ORDER_EVERY)
    write_pool = os.environ.get("STOCK_SYNC_WRITE_POOL", "stock_sync_writes")
    return Settings(
        stock_schedule=_choice("STOCK_SYNC_SCHEDULE", "24h", set(SCHEDULES)),
        timezone=_timezone(),
        match_by_name=_bool("STOCK_SYNC_MATCH_BY_NAME", False),
        brake_share=_share("STOCK_SYNC_BRAKE_SHARE", 0.5),
        home=_home(airflow_home),
        write_pool=write_pool,
        stores=_stores(write_pool),
        orders_every=None if every == "none" else int(every),
        go_live=_go_live(),
        order_statuses=_statuses(),
        document_type=DOCUMENT_TYPES[_choice("STOCK_SYNC_DOCUMENT_TYPE", "invoice_receipt", set(DOCUMENT_TYPES))],
        credit_type=CREDIT_TYPES[_choice("STOCK_SYNC_CREDIT_TYPE", "auto", set(CREDIT_TYPES))],
        custom_document_dates=_bool("STOCK_SYNC_CUSTOM_DOCUMENT_DATES", False),
        document_language=LANGUAGES[_choice("STOCK_SYNC_DOCUMENT_LANGUAGE", "he", set(LANGUAGES))],
        order_note=_bool("STOCK_SYNC_ORDER_NOTE", True),
        max_attempts=max(1, _positive_int("STOCK_SYNC_MAX_ATTEMPTS", 5)),
        window_overlap=timedelta(minutes=_positive_int("STOCK_SYNC_WINDOW_OVERLAP_MINUTES", 5)),
        alert_recipients=tuple(a.strip() for a in os.environ.get("STOCK_SYNC_ALERT_RECIPIENTS", "").split(",")
                               if a.strip()),
        smtp_conn_id=os.environ.get("STOCK_SYNC_SMTP_CONN_ID", "smtp_default"),
        low_stock_default=_positive_int("STOCK_SYNC_LOW_STOCK_DEFAULT", 2),
        staging_keep_days=_positive_int("STOCK_SYNC_STAGING_KEEP_DAYS", 7),  # 0 allowed: removed at once
        reports_dir=Path(os.environ["STOCK_SYNC_REPORTS_DIR"]) if os.environ.get("STOCK_SYNC_REPORTS_DIR") else None,
        gateway_rules=tuple({**dict(_pairs("STOCK_SYNC_DEFAULT_GATEWAY_RULES", "cod=invoice", DOCUMENT_TYPES)),
                             **dict(_pairs("STOCK_SYNC_GATEWAY_RULES", "", DOCUMENT_TYPES))}.items()),
        payment_kinds=_pairs("STOCK_SYNC_PAYMENT_KINDS", "", PAYMENT_KINDS),
        send_document_email=_bool("STOCK_SYNC_SEND_DOCUMENT_EMAIL", True),
        credit_sign=CREDIT_SIGNS[_choice("STOCK_SYNC_CREDIT_SIGN", "negative", set(CREDIT_SIGNS))],
        company_number_meta=os.environ.get("STOCK_SYNC_COMPANY_NUMBER_META", "og-citizenid").strip(),
    )
