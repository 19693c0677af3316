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
  ``notify_no_stock_amount``, ``site_timezone``, ``home_url``); unknown keys raise ``KeyError``.

``**config`` passed to ``woo_sandbox`` is applied the same way before the server starts.
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
from sandbox.woocommerce.app import (
    READONLY_CONSUMER_KEY,
    READONLY_CONSUMER_SECRET,
    SANDBOX_CONSUMER_KEY,
    SANDBOX_CONSUMER_SECRET,
    create_app,
)


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


@contextmanager
def woo_sandbox(tmp_path: Path, dataset: str = "empty", tls: bool = False, **config: Any) -> Iterator[WooSandbox]:
    tmp_path = Path(tmp_path)
    tmp_path.mkdir(parents=True, exist_ok=True)
    app = create_app(f"sqlite:///{tmp_path / 'woo.sqlite'}", dataset=dataset)
    cert = SelfSignedCert(tmp_path / "tls") if tls else None
    sandbox = WooSandbox(url="", cert_path=cert.cert_path if cert else None, app=app)
    sandbox.set_config(**config)
    with ThreadServer(app, tls=cert) as server:
        sandbox.url = server.url
        yield sandbox
