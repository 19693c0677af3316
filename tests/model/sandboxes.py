"""Both sandboxes, started once and reset between histories (a fresh start costs more than a history).

A reset empties every table of both sandboxes' databases and loads the history's small catalogue
through the sandboxes' own loaders (``load_dataset`` / ``Store.load``), then re-adds the Woo API
keys, clears the faults and the call counters, and gives the WooCommerce store the history's
virtual clock. Nothing here changes how a sandbox answers: it only resets their state.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest import mock

from sandbox.common import catalogue as catalogue_module
from sandbox.common.catalogue import Catalogue


@contextlib.contextmanager
def shared_sandboxes(folder: Path) -> Iterator[tuple]:
    """The store over HTTPS (its own certificate): the model moves the store's clock hours back, and
    OAuth 1.0a, which plain HTTP needs, refuses timestamps that far from the server's clock."""
    from sandbox.officeguy.testing import og_sandbox
    from sandbox.woocommerce.testing import woo_sandbox

    with woo_sandbox(folder / "woo", tls=True) as woo, og_sandbox(folder / "og") as og:
        yield woo, og


def reset(woo, og, cat: Catalogue, clock: Callable[[], float]) -> None:
    """Both sandboxes back to ``cat`` only: no orders, documents, refunds, notes, faults or counts."""
    from sandbox.officeguy import store as og_store_module
    from sandbox.officeguy.store import Base
    from sandbox.woocommerce import app as woo_app
    from sandbox.woocommerce import store as woo_store_module
    from sandbox.woocommerce.products import load_dataset

    woo.clear_faults()
    og.clear_faults()
    woo.reset_stats()
    og.reset_stats()
    store = woo.app.state.store
    store.clock = clock
    with store.lock, store.engine.begin() as conn:
        for table in reversed(woo_store_module.metadata.sorted_tables):
            conn.execute(table.delete())
    with mock.patch.object(catalogue_module, "build", lambda _name: cat):
        load_dataset(store, "model")
    store.add_key(woo_app.SANDBOX_CONSUMER_KEY, woo_app.SANDBOX_CONSUMER_SECRET, "read_write")
    store.add_key(woo_app.READONLY_CONSUMER_KEY, woo_app.READONLY_CONSUMER_SECRET, "read")
    ostore = og.app.state.store
    with ostore.writing() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(table.delete())
    with mock.patch.object(og_store_module, "build", lambda _name: cat):
        ostore.load("model")
