"""The cost model: make the sandbox cost what a real WooCommerce 9.4.3 store costs (off by default).

Off (``cost_model=False``, the default) the sandbox answers as fast as it can and nothing here
applies. On, every wc/v3 request (never the ``/__sandbox`` control routes) first takes one of
``php_workers`` PHP workers (an ``asyncio.Semaphore``: further requests queue until a worker is
free, as PHP-FPM's queue does), then holds it while it waits its cost (``asyncio.sleep``, so other
requests go on) and while the handler runs. The runtime options (``create_app(..., cost_model=True)``,
``woo_sandbox(tmp_path, cost_model=True, php_workers=6)``, ``PATCH /__sandbox/config`` or
``python -m sandbox woocommerce --cost-model --php-workers 4``), all in seconds but the first two:

==========================  =======  ==============================================================
option                      default  what costs that much
==========================  =======  ==============================================================
``cost_model``              False    the switch
``php_workers``             4        requests served at once (the real store ran 4-6 PHP workers)
``cost_list``               0.19     a collection page asked with ``_fields`` (100 products: 0.19 s)
``cost_list_full``          0.34     a collection page without ``_fields`` (100 full products)
``cost_variations``         0.06     a variation list (``GET /products/<id>/variations``)
``cost_read``               0.17     any other read: one object, a settings group, OPTIONS, a 404
``cost_write``              0.17     one object created, changed or deleted outside a batch
``cost_batch``              0.17     the fixed part of a ``.../batch`` request
``cost_batch_item``         0.035    each item a batch updates or deletes (100 updates: 3.67 s)
``cost_batch_create_item``  0.09     each item a batch creates (100 creations: 9.17 s)
==========================  =======  ==============================================================

The figures were measured on a real WooCommerce 9.4.3 store (woocommerce-api.md A7: 2 cores,
PHP-FPM, nginx, MariaDB, HTTPS, Basic auth): a page of 100 products with ``_fields`` 0.19 s
(0.34 s full; 0.08-0.09 s on a second day), a variation list about 0.06 s, a batch of 100 stock
updates 3.3-4.4 s (2.6-3.4 s on the second day; about 35-45 ms per product saved), a batch creating
100 products 9.2 s, one ``PUT /products/<id>`` 0.17 s (a single read is taken to cost the same),
24 parallel requests in about 2 s with 6 PHP workers. The batch split (0.17 s + 35 ms an item)
puts 100 updates at 3.67 s, about 3.9 s with the sandbox's own work: inside 3.3-4.4 s. Change the
defaults only with a new measurement of a real store.

Simplifications: a page costs the same whatever its size and whatever the resource (orders,
coupons, taxes cost like products); the fixed cost is waited before the handler runs, a batch
item's cost before that item is saved (so a reader sees a running batch's items land one by one,
as on the real store); an error answer (401, 404, 400) costs like the request would have.
``write_delay_per_item`` is an older, separate knob and adds to these costs: leave it 0 with the
model on. A changed ``php_workers`` applies to requests that arrive after the change.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

COST_DEFAULTS: dict[str, Any] = {
    "cost_model": False,
    "php_workers": 4,
    "cost_list": 0.19,
    "cost_list_full": 0.34,
    "cost_variations": 0.06,
    "cost_read": 0.17,
    "cost_write": 0.17,
    "cost_batch": 0.17,
    "cost_batch_item": 0.035,
    "cost_batch_create_item": 0.09,
}

_READS = {"GET", "HEAD", "OPTIONS"}


def request_cost(config: dict[str, Any], method: str, kind: str | None, pattern: str | None,
                 query: list[tuple[str, str]]) -> float:
    """The fixed cost of one request: ``kind``/``pattern`` are its route's (None: no route matched)."""
    if method in _READS:
        if kind != "collection" or method == "OPTIONS":
            key = "cost_read"
        elif pattern is not None and pattern.endswith("/variations"):
            key = "cost_variations"
        elif any(k.split("[", 1)[0] == "_fields" for k, _ in query):
            key = "cost_list"
        else:
            key = "cost_list_full"
    elif kind == "batch":
        key = "cost_batch"
    elif kind is None:
        key = "cost_read"  # no such route: WordPress still boots to say so
    else:
        key = "cost_write"
    return float(config[key])


def item_cost(config: dict[str, Any], action: str) -> float:
    """The cost of one batch item (``create``, ``update`` or ``delete``); 0 with the model off."""
    if not config.get("cost_model"):
        return 0.0
    return float(config["cost_batch_create_item" if action == "create" else "cost_batch_item"])


class Workers:
    """The PHP workers: a semaphore of ``php_workers`` on the serving event loop.

    Made lazily (the app is built before its loop runs) and again when the loop or the number
    changes; requests holding a worker of the old semaphore give it back there."""

    def __init__(self) -> None:
        self._semaphore: asyncio.Semaphore | None = None
        self._key: tuple[Any, int] | None = None

    def _get(self, count: int) -> asyncio.Semaphore:
        key = (asyncio.get_running_loop(), count)
        if self._semaphore is None or self._key != key:
            self._semaphore, self._key = asyncio.Semaphore(count), key
        return self._semaphore

    @asynccontextmanager
    async def hold(self, count: int, seconds: float) -> AsyncIterator[None]:
        """Take a worker (queue until one is free), wait ``seconds`` on it, keep it until the end."""
        async with self._get(max(1, int(count))):
            if seconds > 0:
                await asyncio.sleep(seconds)
            yield
