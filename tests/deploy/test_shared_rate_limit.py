"""OfficeGuy's rate limit holds across Celery workers and stores (issue 11 §2).

Two ``airflow celery worker`` processes (one task at a time each) document the paid orders of two
stores that share one OfficeGuy company, at the same time. OfficeGuy (the sandbox) allows LIMIT calls a
minute per company and then answers an empty 403 and blocks. The OfficeGuy connection paces at 95 % of
that and shares its budget through the ledger's PostgreSQL database (``rate_limit_conn_id``): while both
stores' ``create_documents`` run side by side, OfficeGuy sees no 403 and at least 90 % of its limit used.
A per-process pacer would have let each worker spend the whole budget: blocked within seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.stack import AirflowStack, connection_env, redis_up

ORDERS = "woocommerce_orders_to_officeguy"
LIMIT = 120  # OfficeGuy's calls a minute per company (the sandbox's; the real one is about 100)
PER_STORE = 30
pytestmark = [pytest.mark.airflow, pytest.mark.postgres, pytest.mark.timeout(1500)]


def _paid_orders(woo, count: int) -> None:
    from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook

    with WooCommerceHook() as hook:
        product = next(p for p in hook.list_stock_items() if p.type == "simple" and p.manage_stock is True
                       and (p.stock_quantity or 0) > count)
        for _ in range(count):
            hook.request("POST", "/orders", json={
                "set_paid": True, "payment_method": "bacs", "payment_method_title": "Bank transfer",
                "billing": {"first_name": "Dana", "last_name": "Cohen", "email": "dana@example.com"},
                "line_items": [{"product_id": product.id, "quantity": 1}]})


def test_two_workers_documenting_two_stores_of_one_company_share_its_rate_limit(tmp_path, monkeypatch, woo_conn):
    from sandbox.officeguy.testing import og_sandbox
    from sandbox.woocommerce.testing import woo_sandbox

    assert redis_up(), "Redis must run on 127.0.0.1:6379 (.ci/run starts it)"
    with woo_sandbox(tmp_path / "main", dataset="demo") as main, woo_sandbox(tmp_path / "outlet", dataset="demo") as outlet, \
            og_sandbox(tmp_path / "og", dataset="demo", rate_limit_per_minute=LIMIT, block_seconds=30) as og:
        for woo in (main, outlet):
            woo_conn(woo)  # the test process's own connection, to place the orders
            _paid_orders(woo, PER_STORE)
        env = {
            "STOCK_SYNC_STORES": "main,outlet",
            **{f"AIRFLOW_CONN_WOOCOMMERCE_{name.upper()}": connection_env(
                "woocommerce", woo.url, woo.consumer_key, woo.consumer_secret, backoff_seconds=0.01)
               for name, woo in (("main", main), ("outlet", outlet))},
            "AIRFLOW_CONN_OFFICEGUY_DEFAULT": connection_env(
                "officeguy", og.url, str(og.company_id), og.api_key, backoff_seconds=0.01,
                rate_limit_per_minute=LIMIT * 0.95, rate_limit_conn_id="stock_sync_db", rate_limit_hold_seconds=31),
            "STOCK_SYNC_HOME": str(tmp_path / "stock_sync"),
            "STOCK_SYNC_GO_LIVE": (datetime.now(UTC) - timedelta(days=1)).date().isoformat(),
            "STOCK_SYNC_ORDERS_EVERY": "none", "STOCK_SYNC_SCHEDULE": "none",
        }
        pools = {"stock_sync_writes_main": 1, "stock_sync_writes_outlet": 1}
        with AirflowStack(tmp_path / "airflow", executor="celery", workers=2, worker_concurrency=1, env=env,
                          dag_ids=[ORDERS], pools=pools) as stack:
            stack.cli("dags", "unpause", ORDERS)
            run_id = stack.trigger(ORDERS)
            assert stack.wait_run(ORDERS, run_id, timeout=900) == "success", stack.log_tails()
            tis = {r.task_id: r for r in stack.rows(
                "SELECT task_id, start_date, end_date FROM task_instance WHERE dag_id = :d AND run_id = :r "
                "AND task_id LIKE '%.create_documents'", d=ORDERS, r=run_id)}

        # every order of both stores documented once, each under its store's reference
        refs = [d["external_reference"] for d in og.documents() if d["type"] == 1]
        assert len(refs) == len(set(refs)) == 2 * PER_STORE
        for woo in (main, outlet):
            assert sum(1 for r in refs if woo.url.split("://", 1)[1] in r) == PER_STORE

        seen = requests.get(f"{og.url}/__sandbox/rate-limit", timeout=30).json()  # what OfficeGuy's limit saw
    assert seen["refused"] == 0, f"OfficeGuy answered {seen['refused']} empty 403s (its rate limit)"
    start = max(t.start_date for t in tis.values()).timestamp()
    end = min(t.end_date for t in tis.values()).timestamp()
    assert end - start >= 10, f"the two stores' create_documents overlapped only {end - start:.1f} s: {tis}"
    calls = [t for t in seen["admitted"] if start <= t <= end]
    rate = len(calls) / (end - start) * 60
    print(f"both stores documenting at once for {end - start:.1f} s: {rate:.1f} calls/min, limit {LIMIT}")  # noqa: T201
    assert rate >= 0.9 * LIMIT, f"{rate:.1f} calls a minute while both documented: under 90 % of {LIMIT}"
    assert rate <= LIMIT, rate
