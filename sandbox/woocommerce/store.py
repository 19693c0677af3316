"""The sandbox's persistent state: SQLite through SQLAlchemy 2 Core.

WordPress keeps products, variations, orders and refunds in ``wp_posts``, so they share one id
sequence (counter ``post``); order notes are comments (counter ``comment``, which starts at 2 because
WordPress ships comment 1); order items have their own table and sequence (rec 71: items 1, 2;
rec 84: the refund's item is 4), and so has order item meta (``item_meta``). Coupons are posts too;
tax rates have their own sequence (``tax_rates.id``) and the store's settings are ``options`` rows.
Webhooks (``wp_wc_webhooks``) have their own sequence (counter ``webhook``) and so have the queued
deliveries (Action Scheduler's actions, counter ``action``).
Filtered columns are real, indexed columns; the rest of an object lives in a JSON blob.

Dates are stored twice as ``YYYY-MM-DD HH:MM:SS`` strings, UTC and site-local, like
``post_modified_gmt`` / ``post_modified``: the date filters compare against one or the other
(woocommerce-api.md A3) and the strings sort chronologically.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection

from sandbox.common import catalogue

metadata = MetaData()

products = Table(
    "products", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("parent_id", Integer, nullable=False, index=True),
    Column("type", String, nullable=False, index=True),  # simple|grouped|external|variable|variation
    Column("status", String, nullable=False, index=True),
    Column("sku", String, nullable=False, index=True),
    Column("name", String, nullable=False),
    Column("slug", String, nullable=False, index=True),
    Column("manage_stock", Boolean, nullable=False),
    Column("stock_quantity", Integer),
    Column("stock_status", String, nullable=False, index=True),
    Column("backorders", String, nullable=False),
    Column("low_stock_amount", Integer),
    Column("regular_price", String, nullable=False),
    Column("sale_price", String, nullable=False),
    Column("price", String, nullable=False),  # the effective price (_price meta); min of children for variable
    Column("menu_order", Integer, nullable=False),
    Column("total_sales", Integer, nullable=False),
    Column("created_gmt", String, nullable=False, index=True),
    Column("created_local", String, nullable=False, index=True),
    Column("modified_gmt", String, nullable=False, index=True),
    Column("modified_local", String, nullable=False, index=True),
    Column("extra", JSON, nullable=False),  # everything else, only where it differs from the defaults
    # A parent's variations (parent_id = ? AND type = 'variation'): without it SQLite reads them through
    # the type index, every variation of the store for each list, O(catalogue) a call (bench/scale.py).
    Index("ix_products_parent_type", "parent_id", "type"),
)

orders = Table(
    "orders", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("parent_id", Integer, nullable=False, index=True),
    Column("status", String, nullable=False, index=True),
    Column("customer_id", Integer, nullable=False, index=True),
    Column("stock_reduced", Boolean, nullable=False),  # the _order_stock_reduced flag (A5)
    Column("created_gmt", String, nullable=False, index=True),
    Column("created_local", String, nullable=False, index=True),
    Column("modified_gmt", String, nullable=False, index=True),
    Column("modified_local", String, nullable=False, index=True),
    Column("data", JSON, nullable=False),  # addresses, line items, totals, meta_data, ...
)

refunds = Table(
    "refunds", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("order_id", Integer, nullable=False, index=True),
    Column("created_gmt", String, nullable=False),
    Column("created_local", String, nullable=False),
    Column("data", JSON, nullable=False),
)

notes = Table(
    "notes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("order_id", Integer, nullable=False, index=True),
    Column("author", String, nullable=False),
    Column("note", String, nullable=False),
    Column("customer_note", Boolean, nullable=False),
    Column("created_gmt", String, nullable=False),
    Column("created_local", String, nullable=False),
)

api_keys = Table(
    "api_keys", metadata,
    # wc_api_hash(ck) = hmac-sha256(ck, "wc-api"), as in wp_woocommerce_api_keys (A1)
    Column("consumer_key_hash", String, primary_key=True),
    Column("consumer_secret", String, nullable=False),
    Column("permissions", String, nullable=False),  # read | write | read_write
    Column("nonces", JSON, nullable=False),  # {timestamp: nonce}, as WooCommerce keeps them
)

options = Table(
    "options", metadata,
    # wp_options rows the sandbox knows (settings.py): woocommerce_calc_taxes, ... A missing row
    # means the setting's default.
    Column("name", String, primary_key=True),
    Column("value", String, nullable=False),
)

tax_rates = Table(
    "tax_rates", metadata,
    # wp_woocommerce_tax_rates with its locations (postcodes, cities) folded in, as lists in the
    # order they were saved.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("country", String, nullable=False),
    Column("state", String, nullable=False),
    Column("rate", String, nullable=False),  # "18.0000"
    Column("name", String, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("compound", Boolean, nullable=False),
    Column("shipping", Boolean, nullable=False),
    Column("rate_order", Integer, nullable=False),
    Column("rate_class", String, nullable=False, index=True),  # "" = standard
    Column("postcodes", JSON, nullable=False),
    Column("cities", JSON, nullable=False),
)

coupons = Table(
    "coupons", metadata,
    # shop_coupon posts: their ids come from the post sequence like products and orders.
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("code", String, nullable=False, index=True),  # wc_format_coupon_code: lower case
    Column("status", String, nullable=False, index=True),
    Column("created_gmt", String, nullable=False, index=True),
    Column("created_local", String, nullable=False),
    Column("modified_gmt", String, nullable=False, index=True),
    Column("modified_local", String, nullable=False),
    Column("data", JSON, nullable=False),
)

webhooks = Table(
    "webhooks", metadata,
    # wp_wc_webhooks (its own id sequence, counter ``webhook``); the secret is stored, never shown.
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("status", String, nullable=False, index=True),  # active | paused | disabled
    Column("name", String, nullable=False),
    Column("user_id", Integer, nullable=False),
    Column("delivery_url", String, nullable=False),
    Column("secret", String, nullable=False),
    Column("topic", String, nullable=False),
    Column("created_gmt", String, nullable=False, index=True),
    Column("created_local", String, nullable=False),
    Column("modified_gmt", String),  # NULL until the first update (rec 01: date_modified null)
    Column("modified_local", String),
    Column("api_version", Integer, nullable=False),  # 3 for a webhook made through wc/v3
    Column("failure_count", Integer, nullable=False),
    Column("pending_delivery", Boolean, nullable=False),
)

webhook_actions = Table(
    "webhook_actions", metadata,
    # Action Scheduler's queue (wp_actionscheduler_actions) for woocommerce_deliver_webhook_async
    # (db-actionscheduler-and-webhooks.tsv): one row per (webhook_id, arg) waiting to be sent.
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("hook", String, nullable=False),
    Column("status", String, nullable=False, index=True),  # pending | in-progress | complete
    Column("scheduled_gmt", String, nullable=False),
    Column("last_attempt_gmt", String),
    Column("webhook_id", Integer, nullable=False, index=True),
    Column("arg", JSON),
)

counters = Table(
    "counters", metadata,
    Column("name", String, primary_key=True),
    Column("value", Integer, nullable=False),  # the next id to hand out
)

FIRST_IDS = {"post": catalogue.FIRST_WOO_ID, "comment": 2, "order_item": 1, "item_meta": 1, "meta": 1, "webhook": 1,
             "action": 1}


def wc_api_hash(consumer_key: str) -> str:
    return hmac.new(b"wc-api", consumer_key.encode(), hashlib.sha256).hexdigest()


def fmt(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def iso(stored: str | None) -> str | None:
    """A stored date as the API shows it: ``YYYY-MM-DDTHH:MM:SS``, no zone suffix (A2, A6)."""
    return stored.replace(" ", "T") if stored else None


class Store:
    """Engine, clock, site timezone and id sequences of one sandbox."""

    def __init__(self, db_url: str, config: dict[str, Any], clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        connect_args = {"check_same_thread": False} if db_url.startswith("sqlite") else {}
        # hide_parameters: a failing statement's message must not carry a webhook secret into a log
        self.engine = create_engine(db_url, connect_args=connect_args, hide_parameters=True)
        if db_url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        metadata.create_all(self.engine)
        # One writer at a time, like a PHP request holding its row locks; also keeps SQLite happy.
        self.lock = threading.RLock()
        self.webhooks: Any = None  # the WebhookRuntime (webhooks.py), set by create_app

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.config["site_timezone"])

    def now(self) -> tuple[str, str]:
        """(gmt, site-local) of this second."""
        moment = dt.datetime.fromtimestamp(int(self.clock()), dt.UTC)
        return fmt(moment), fmt(moment.astimezone(self.tz))

    def local_of(self, gmt: str) -> str:
        moment = dt.datetime.strptime(gmt, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
        return fmt(moment.astimezone(self.tz))

    def next_id(self, conn: Connection, name: str) -> int:
        value = conn.execute(select(counters.c.value).where(counters.c.name == name)).scalar()
        if value is None:
            value = FIRST_IDS[name]
            conn.execute(insert(counters).values(name=name, value=value + 1))
        else:
            conn.execute(update(counters).where(counters.c.name == name).values(value=value + 1))
        return value

    def is_empty(self) -> bool:
        with self.engine.connect() as conn:
            return not conn.execute(select(func.count()).select_from(counters)).scalar()

    def add_key(self, consumer_key: str, consumer_secret: str, permissions: str) -> None:
        with self.engine.begin() as conn:
            key_hash = wc_api_hash(consumer_key)
            exists = conn.execute(select(api_keys.c.permissions).where(api_keys.c.consumer_key_hash == key_hash)).first()
            if exists is None:
                conn.execute(insert(api_keys).values(
                    consumer_key_hash=key_hash, consumer_secret=consumer_secret, permissions=permissions, nonces={},
                ))


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
