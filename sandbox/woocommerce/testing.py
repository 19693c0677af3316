"""Run the WooCommerce sandbox inside a test.

    from sandbox.woocommerce.testing import woo_sandbox

    def test_something(tmp_path):
        with woo_sandbox(tmp_path, dataset="demo", tls=True) as woo:
            requests.get(f"{woo.url}/wp-json/wc/v3/products",
                         auth=(woo.consumer_key, woo.consumer_secret), verify=woo.cert_path)

``woo_sandbox(tmp_path, dataset="empty", tls=False, **config)`` creates the app on
``tmp_path/"woo.sqlite"``, starts it on a free loopback port in a thread and yields a
``WooSandbox`` with:

- ``url``: the store's base URL, e.g. ``http://127.0.0.1:PORT`` (the API is under
  ``/wp-json/wc/v3``); it is also the store's ``home_url`` (what OAuth signatures must use).
- ``cert_path``: the self-signed certificate (pass as ``verify=``) when ``tls=True``, else None.
  Remember WooCommerce rules (woocommerce-api.md A1): Basic auth / query keys only over HTTPS,
  plain HTTP needs OAuth 1.0a.
- ``consumer_key``/``consumer_secret`` (read_write) and ``readonly_key``/``readonly_secret`` (read).
- ``app``: the FastAPI app (``app.state.store``, ``app.state.book``, ``app.state.config``).
- ``arm_fault(**spec)``: arm a fault, e.g. ``arm_fault(kind="status", status=503, path="/products")``
  or ``arm_fault(kind="drop", method="POST", path="/products/batch")`` (see
  ``sandbox/common/faults.py`` for kinds and matching); returns the fault's public dict.
- ``clear_faults()``, ``stats()`` (calls by kind, e.g. ``{"GET /products": 3}``),
  ``reset_stats()``.
- ``set_config(**kw)``: change runtime options (``write_delay_per_item``, ``batch_limit``,
  ``notify_no_stock_amount``, ``site_timezone``, ``home_url``, and the cost model's ``cost_model``,
  ``php_workers``, ``cost_*``: see cost.py; the webhook options ``webhook_delivery``,
  ``webhook_cron_interval``, ``webhook_cron_needs_traffic``, ``webhook_allow_any_port``,
  ``webhook_allow_local_hosts``, ``webhook_log_path``: see webhooks.py); unknown keys raise ``KeyError``.
- ``set_settings(**kw)``: change the store's settings (stored in its database, like
  ``PUT /settings/<group>/<id>``): ``calc_taxes``, ``prices_include_tax``, ``tax_round_at_subtotal``,
  ``calc_discounts_sequentially``, ``enable_coupons`` (True/False or "yes"/"no"),
  ``tax_based_on`` ("shipping"|"billing"|"base"), ``shipping_tax_class`` ("inherit", "" = standard,
  "reduced-rate", "zero-rate"), ``default_country`` ("IL"), ``store_postcode``, ``store_city``, or
  any full option name (``woocommerce_calc_taxes``). Returns all values. ``settings()`` reads them.
- ``add_tax_rate(**fields)``: a tax rate as ``POST /taxes`` takes it (``country``, ``state``,
  ``postcodes``, ``cities``, ``rate`` as a string, ``name``, ``priority``, ``compound``,
  ``shipping``, ``class``); returns the rate as the API shows it (its ``id`` is the rate id).
- ``add_coupon(**fields)``: a coupon as ``POST /coupons`` takes it (``code``, ``amount``,
  ``discount_type``, ...); returns its API view.
- webhooks (webhooks.py): ``run_webhooks()`` sends every queued delivery now (what the WP-Cron
  runner would do at its next minute) and returns how many ran; ``webhook_queue()`` lists the
  Action Scheduler rows; ``webhook_log()`` the delivery log entries (``text`` is what WooCommerce
  writes to ``webhooks-delivery``); ``webhook_pings()`` the pings; ``webhook_state(id)`` a
  webhook's stored row without its secret (``failure_count``, ``pending_delivery``, ...). Turn
  delivery on for a test with ``woo_sandbox(tmp_path, webhook_delivery="immediate",
  webhook_allow_any_port=True)`` (a receiver on an ephemeral loopback port), or keep "cron" and
  shorten ``webhook_cron_interval``.
- ``in_store(work)``: run ``work(conn)`` in one transaction on the store's database (e.g.
  ``woo.in_store(lambda conn: taxes.find_rates(conn, "IL", "", "88000", "", ""))``).

``**config`` passed to ``woo_sandbox`` is applied the same way before the server starts; setting
names among them (``woo_sandbox(tmp_path, calc_taxes=True, prices_include_tax=True)``) go to
``set_settings``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from sandbox.common.server import ThreadServer
from sandbox.common.tls import SelfSignedCert
from sandbox.woocommerce import coupons as C  # noqa: N812
from sandbox.woocommerce import settings as S  # noqa: N812
from sandbox.woocommerce import taxes as T  # noqa: N812
from sandbox.woocommerce import webhooks as W  # noqa: N812
from sandbox.woocommerce.app import (
    READONLY_CONSUMER_KEY,
    READONLY_CONSUMER_SECRET,
    SANDBOX_CONSUMER_KEY,
    SANDBOX_CONSUMER_SECRET,
    create_app,
)
from sandbox.woocommerce.products import Ctx


@dataclass
class WooSandbox:
    url: str
    cert_path: Path | None
    app: FastAPI
    consumer_key: str = SANDBOX_CONSUMER_KEY
    consumer_secret: str = SANDBOX_CONSUMER_SECRET
    readonly_key: str = READONLY_CONSUMER_KEY
    readonly_secret: str = READONLY_CONSUMER_SECRET

    @property
    def api(self) -> str:
        """``url + "/wp-json/wc/v3"``."""
        return f"{self.url}/wp-json/wc/v3"

    def arm_fault(self, **spec: Any) -> dict[str, Any]:
        return self.app.state.book.arm(spec).public()

    def clear_faults(self) -> None:
        self.app.state.book.clear()

    def stats(self) -> dict[str, int]:
        return self.app.state.book.stats()

    def reset_stats(self) -> None:
        self.app.state.book.reset_stats()

    def set_config(self, **changes: Any) -> dict[str, Any]:
        config = self.app.state.config
        unknown = set(changes) - set(config)
        if unknown:
            raise KeyError(f"unknown config keys {sorted(unknown)}; known: {sorted(config)}")
        config.update(changes)
        return dict(config)

    def in_store(self, work):
        """Run ``work(conn)`` in one transaction on the sandbox's database."""
        store = self.app.state.store
        with store.lock, store.engine.begin() as conn:
            return work(conn)

    def set_settings(self, **values: Any) -> dict[str, str]:
        return self.in_store(lambda conn: S.set_options(conn, **values))

    def settings(self) -> dict[str, str]:
        return self.in_store(S.load)

    def add_tax_rate(self, **fields: Any) -> dict[str, Any]:
        row = self.in_store(lambda conn: T.create_or_update(conn, {**T.TAX_CREATE_DEFAULTS, **fields}))
        return T.rate_view(self.api, row)

    def run_webhooks(self) -> int:
        return self.app.state.webhooks.run_queue()

    def webhook_queue(self) -> list[dict[str, Any]]:
        return self.app.state.webhooks.queue()

    def webhook_log(self) -> list[dict[str, Any]]:
        return list(self.app.state.webhooks.log)

    def webhook_pings(self) -> list[dict[str, Any]]:
        return list(self.app.state.webhooks.pings)

    def webhook_state(self, webhook_id: int) -> dict[str, Any] | None:
        row = self.in_store(lambda conn: W.get_webhook(conn, webhook_id))
        return None if row is None else {k: v for k, v in row.items() if k != "secret"}

    def add_coupon(self, **fields: Any) -> dict[str, Any]:
        ctx = Ctx(self.app.state.store, self.url)
        return self.in_store(lambda conn: C.coupon_view(ctx, C.create_coupon(ctx, conn, {"discount_type": "fixed_cart",
                                                                                     **fields})))


@contextmanager
def woo_sandbox(tmp_path: Path, dataset: str = "empty", tls: bool = False, **config: Any) -> Iterator[WooSandbox]:
    tmp_path = Path(tmp_path)
    tmp_path.mkdir(parents=True, exist_ok=True)
    app = create_app(f"sqlite:///{tmp_path / 'woo.sqlite'}", dataset=dataset)
    cert = SelfSignedCert(tmp_path / "tls") if tls else None
    sandbox = WooSandbox(url="", cert_path=cert.cert_path if cert else None, app=app)
    store_settings = {k: config.pop(k) for k in list(config) if k in S.ALIASES or k in S.DEFINITIONS}
    sandbox.set_config(**config)
    sandbox.set_settings(**store_settings)
    try:
        with ThreadServer(app, tls=cert) as server:
            sandbox.url = server.url
            yield sandbox
    finally:
        app.state.webhooks.stop()
