"""The WooCommerce sandbox's cost model (sandbox/woocommerce/cost.py): off, it changes nothing; on,
each wc/v3 request costs what it costs a real WooCommerce 9.4.3 store, on at most ``php_workers``
workers at a time, and the ``/__sandbox`` routes stay free.

Timing bounds: a lower bound is safe (a sleep never ends early); upper bounds are loose, for a busy
2-core machine, yet tight enough to tell the modelled cases apart."""

from __future__ import annotations

import statistics
import threading
import time

import pytest
import requests

from sandbox import __main__ as cli
from sandbox.woocommerce.cost import COST_DEFAULTS
from sandbox.woocommerce.testing import WooSandbox, woo_sandbox

FIELDS = "id,sku,name,type,manage_stock,stock_quantity,stock_status,backorders,low_stock_amount,parent_id,variations,date_modified_gmt"
EPS = 0.02  # timer granularity: asyncio may wake a sleeper a hair early


def _session(woo: WooSandbox) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.auth = (woo.consumer_key, woo.consumer_secret)
    session.verify = str(woo.cert_path)
    return session


def _timed(call, *args, **kwargs) -> tuple[float, requests.Response]:
    started = time.perf_counter()
    response = call(*args, **kwargs)
    return time.perf_counter() - started, response


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One HTTPS sandbox with 150 products (120 simple, 30 variable); tests switch the model."""
    with woo_sandbox(tmp_path_factory.mktemp("cost"), dataset="bench:150", tls=True) as woo:
        session = _session(woo)
        yield woo, session
        session.close()


@pytest.fixture
def woo(store):
    woo, session = store
    yield woo, session
    woo.set_config(**COST_DEFAULTS)  # off again, default costs


def _page(session, woo, **extra):
    return session.get(f"{woo.api}/products", params={"per_page": 100, "orderby": "id", "order": "asc", **extra})


def _simple_ids(session, woo, n: int) -> list[int]:
    got = session.get(f"{woo.api}/products", params={"per_page": n, "type": "simple", "orderby": "id", "order": "asc",
                                                     "_fields": "id"}).json()
    assert len(got) == n
    return [p["id"] for p in got]


def _variable_id(session, woo) -> int:
    return session.get(f"{woo.api}/products", params={"type": "variable", "per_page": 1, "_fields": "id"}).json()[0]["id"]


def test_off_by_default_and_as_fast_as_before(woo):
    woo, session = woo
    assert woo.app.state.config["cost_model"] is False
    _page(session, woo, _fields=FIELDS)  # warm up
    times = []
    for _ in range(5):
        elapsed, response = _timed(_page, session, woo, _fields=FIELDS)
        assert response.status_code == 200 and len(response.json()) == 100
        times.append(elapsed)
    ids = _simple_ids(session, woo, 3)
    write, response = _timed(session.post, f"{woo.api}/products/batch",
                             json={"update": [{"id": i, "stock_quantity": 5} for i in ids]})
    assert response.status_code == 200
    print(f"model off: page of 100 median {statistics.median(times) * 1000:.0f} ms, batch of 3 {write * 1000:.0f} ms")
    assert statistics.median(times) < 0.1
    assert write < 0.15


def test_each_kind_of_request_costs_its_option(woo):
    woo, session = woo
    costs = {"cost_list": 0.25, "cost_list_full": 0.4, "cost_variations": 0.1, "cost_read": 0.15, "cost_write": 0.2,
             "cost_batch": 0.1, "cost_batch_item": 0.05, "cost_batch_create_item": 0.12}
    ids = _simple_ids(session, woo, 4)
    parent = _variable_id(session, woo)
    woo.set_config(cost_model=True, **costs)
    calls = [
        ("cost_list", lambda: _page(session, woo, _fields=FIELDS)),
        ("cost_list_full", lambda: _page(session, woo)),
        ("cost_variations", lambda: session.get(f"{woo.api}/products/{parent}/variations")),
        ("cost_read", lambda: session.get(f"{woo.api}/products/{ids[0]}")),
        ("cost_read", lambda: session.get(f"{woo.api}/products/999999")),  # a 404 costs too
        ("cost_write", lambda: session.put(f"{woo.api}/products/{ids[0]}", json={"stock_quantity": 7})),
    ]
    for key, call in calls:
        elapsed, response = _timed(call)
        assert response.status_code in {200, 404}
        assert costs[key] - EPS <= elapsed < costs[key] * 3 + 0.3, (key, elapsed)
    expected = costs["cost_batch"] + 4 * costs["cost_batch_item"] + 2 * costs["cost_batch_create_item"]  # 0.54
    elapsed, response = _timed(session.post, f"{woo.api}/products/batch", json={
        "create": [{"name": "Cost A"}, {"name": "Cost B"}],
        "update": [{"id": i, "stock_quantity": 3} for i in ids],
    })
    assert response.status_code == 200 and len(response.json()["update"]) == 4
    assert expected - EPS <= elapsed < expected * 3, elapsed


def test_control_routes_are_free_while_the_workers_are_busy(woo):
    woo, session = woo
    ids = _simple_ids(session, woo, 1)
    woo.set_config(cost_model=True, php_workers=1, cost_read=1.0)
    busy = threading.Thread(target=lambda: requests.get(f"{woo.api}/products/{ids[0]}", auth=session.auth,
                                                        verify=session.verify, timeout=10))
    busy.start()
    time.sleep(0.2)  # the only worker is taken
    control, response = _timed(requests.get, f"{woo.url}/__sandbox/config", verify=session.verify, timeout=10)
    busy.join()
    assert response.status_code == 200 and response.json()["php_workers"] == 1
    assert control < 0.5


def _concurrent(woo, session, n: int, url: str) -> tuple[float, list[float]]:
    """``n`` GETs of ``url`` from ``n`` threads started together: (wall time, each one's time)."""
    barrier = threading.Barrier(n + 1)
    times: list[float] = [0.0] * n
    errors: list[BaseException] = []

    def one(i: int) -> None:
        with requests.Session() as s:
            s.trust_env, s.auth, s.verify = False, session.auth, session.verify
            try:
                barrier.wait(timeout=10)
                times[i], response = _timed(s.get, url, timeout=30)
                assert response.status_code == 200
            except BaseException as exc:  # noqa: BLE001 - reported by the test thread
                errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    barrier.wait(timeout=10)
    started = time.perf_counter()
    for t in threads:
        t.join()
    assert not errors, errors
    return time.perf_counter() - started, sorted(times)


def test_php_workers_serve_that_many_requests_at_once_the_rest_queue(woo):
    woo, session = woo
    c = 0.6
    url = f"{woo.api}/products/{_simple_ids(session, woo, 1)[0]}"
    woo.set_config(cost_model=True, php_workers=2, cost_read=c)
    wall, times = _concurrent(woo, session, 4, url)
    print(f"php_workers=2, cost {c}: 4 requests in {wall:.2f} s, each {[round(t, 2) for t in times]}")
    assert 2 * c - EPS <= wall < 3.5 * c  # two rounds: not c (all at once), not 4c (one at a time)
    assert times[1] >= c - EPS and times[2] >= 2 * c - EPS  # two were served, two waited for a worker

    woo.set_config(php_workers=4)
    wall, times = _concurrent(woo, session, 4, url)
    print(f"php_workers=4, cost {c}: 4 requests in {wall:.2f} s")
    assert c - EPS <= wall < 1.8 * c  # all at once


def test_default_costs_are_the_real_stores(woo):
    """The measured figures of a real WooCommerce 9.4.3 store (woocommerce-api.md A7)."""
    woo, session = woo
    config = woo.app.state.config
    assert config["php_workers"] == 4
    assert 3.3 <= config["cost_batch"] + 100 * config["cost_batch_item"] <= 4.4
    ids = _simple_ids(session, woo, 100)
    woo.set_config(cost_model=True)

    page, response = _timed(_page, session, woo, _fields=FIELDS)
    assert response.status_code == 200 and len(response.json()) == 100
    one, response = _timed(session.put, f"{woo.api}/products/{ids[0]}", json={"stock_quantity": 11})
    assert response.status_code == 200
    batch, response = _timed(session.post, f"{woo.api}/products/batch",
                             json={"update": [{"id": i, "stock_quantity": 12} for i in ids]})
    assert response.status_code == 200 and len(response.json()["update"]) == 100
    print(f"default costs: page of 100 (_fields) {page:.2f} s, one PUT {one:.2f} s, batch of 100 updates {batch:.2f} s")
    assert 0.19 - EPS <= page < 0.6
    assert 0.17 - EPS <= one < 0.6
    assert 3.3 <= batch < 4.4 + 1.5  # the sandbox's own work on 100 saves comes on top


def test_cli_flags(tmp_path, monkeypatch):
    served = {}
    monkeypatch.setattr(cli, "serve_forever", lambda app, port, tls, host: served.setdefault("app", app))
    cli.main(["woocommerce", "--db", str(tmp_path / "woo.sqlite"), "--cost-model", "--php-workers", "6"])
    config = served["app"].state.config
    assert (config["cost_model"], config["php_workers"], config["cost_list"]) == (True, 6, 0.19)
    served.clear()
    cli.main(["woocommerce", "--db", str(tmp_path / "woo2.sqlite")])
    assert served["app"].state.config["cost_model"] is False
