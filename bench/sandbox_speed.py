"""Sandbox speed the benchmarks rely on (run on demand: ``python -m pytest bench/sandbox_speed.py -s``;
not part of the test suite, timing belongs in bench/). The speed the benchmarks rely on (woocommerce-api.md A7 is the real store's; the sandbox must be
much faster than that with ``write_delay_per_item=0``, so that a configured delay is what counts)."""

from __future__ import annotations

import statistics
import time

import pytest
import requests

from sandbox.woocommerce.app import create_app
from sandbox.woocommerce.testing import woo_sandbox

FIELDS = "id,sku,name,type,manage_stock,stock_quantity,stock_status,backorders,low_stock_amount,parent_id,variations,date_modified_gmt"


def test_bench_dataset_loads_in_seconds(tmp_path):
    started = time.perf_counter()
    app = create_app(f"sqlite:///{tmp_path / 'bench.sqlite'}", dataset="bench:10000")
    elapsed = time.perf_counter() - started
    print(f"bench:10000 loaded in {elapsed:.2f} s")
    assert app.state.store.is_empty() is False


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    with woo_sandbox(tmp_path_factory.mktemp("bench"), dataset="bench:10000", tls=True) as woo:
        session = requests.Session()
        session.trust_env = False
        session.auth = (woo.consumer_key, woo.consumer_secret)
        session.verify = str(woo.cert_path)
        yield woo, session


def _median(samples: list[float]) -> float:
    return statistics.median(samples)


@pytest.mark.parametrize("fields", [None, FIELDS], ids=["full", "_fields"])
def test_list_page_under_50ms(bench, fields):
    woo, session = bench
    times = []
    for page in range(1, 21):
        params = {"per_page": 100, "page": page, "orderby": "id", "order": "asc"}
        if fields:
            params["_fields"] = fields
        started = time.perf_counter()
        response = session.get(f"{woo.api}/products", params=params)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200 and len(response.json()) == 100
    assert response.headers["X-WP-Total"] == "10000"  # 8,000 simple + 2,000 variable parents
    print(f"list page ({'full' if fields is None else '_fields'}): median {_median(times) * 1000:.1f} ms")


def test_batch_of_100_updates_under_half_a_second(bench):
    woo, session = bench
    ids = [p["id"] for p in session.get(f"{woo.api}/products", params={
        "per_page": 100, "type": "simple", "orderby": "id", "order": "asc", "_fields": "id"}).json()]
    times = []
    for round_ in range(3):
        started = time.perf_counter()
        response = session.post(f"{woo.api}/products/batch",
                                json={"update": [{"id": i, "stock_quantity": round_ + 1} for i in ids]})
        times.append(time.perf_counter() - started)
        assert [item["stock_quantity"] for item in response.json()["update"]] == [round_ + 1] * 100
    print(f"batch of 100 updates: median {_median(times):.3f} s")


def test_variations_of_a_parent_quickly(bench):
    woo, session = bench
    parents = session.get(f"{woo.api}/products", params={"type": "variable", "per_page": 20, "_fields": "id,variations"}).json()
    times = []
    for parent in parents:
        started = time.perf_counter()
        variations = session.get(f"{woo.api}/products/{parent['id']}/variations", params={"per_page": 100}).json()
        times.append(time.perf_counter() - started)
        assert sorted(v["id"] for v in variations) == sorted(parent["variations"]) and len(variations) == 4
