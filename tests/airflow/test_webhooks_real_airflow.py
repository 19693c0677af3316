"""Paid -> document through the store's webhook, on a running Airflow (api-server, scheduler,
dag-processor; LocalExecutor on PostgreSQL) and a WooCommerce sandbox that delivers the way
WooCommerce 9.4.3 does (signed, asynchronous; here sent at once, as with a system cron).

- ``register_webhooks`` registers both order topics in the store (idempotent), and the store's ping
  reaches the api-server's endpoint;
- a paid order's delivery becomes an asset event, the orders DAG runs on it and documents just that
  order, once;
- a bad signature is 401 and records nothing; a repeated delivery is one event; a ping is 200;
- a disabled webhook is warned about by the next run (the poll still documents the orders).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.stack import AirflowStack, connection_env

ORDERS = "woocommerce_orders_to_officeguy"
SECRET = "whsec-0123456789abcdef-test"
pytestmark = [pytest.mark.airflow, pytest.mark.postgres, pytest.mark.timeout(900)]


@pytest.fixture
def live(tmp_path, monkeypatch):
    from sandbox.officeguy.testing import og_sandbox
    from sandbox.woocommerce.testing import woo_sandbox

    with woo_sandbox(tmp_path / "woo", dataset="demo", webhook_delivery="immediate", webhook_allow_any_port=True) as woo, \
            og_sandbox(tmp_path / "og", dataset="demo") as og:
        env = {
            "AIRFLOW_CONN_WOOCOMMERCE_DEFAULT": connection_env("woocommerce", woo.url, woo.consumer_key,
                                                               woo.consumer_secret, backoff_seconds=0.01,
                                                               webhook_secret=SECRET),
            "AIRFLOW_CONN_OFFICEGUY_DEFAULT": connection_env("officeguy", og.url, str(og.company_id), og.api_key,
                                                             backoff_seconds=0.01, rate_limit_per_minute=6000),
            "STOCK_SYNC_HOME": str(tmp_path / "stock_sync"),
            "STOCK_SYNC_GO_LIVE": (datetime.now(UTC) - timedelta(days=1)).date().isoformat(),
            "STOCK_SYNC_ORDERS_EVERY": "60",  # the poll is the safety net; the webhook drives the runs here
            "STOCK_SYNC_SCHEDULE": "none",
        }
        monkeypatch.setenv("AIRFLOW_CONN_WOOCOMMERCE_DEFAULT", env["AIRFLOW_CONN_WOOCOMMERCE_DEFAULT"])
        with AirflowStack(tmp_path / "airflow", env=env, dag_ids=[ORDERS]) as stack:
            stack.cli("dags", "unpause", ORDERS)
            yield stack, woo, og


def _store():
    from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook

    return WooCommerceHook()


def _sale_references(og) -> list[str]:
    return [d["external_reference"] for d in og.documents() if d["type"] == 1 and d.get("external_reference")]


def _events(stack) -> int:
    return stack.scalar("SELECT count(*) FROM asset_event e JOIN asset a ON a.id = e.asset_id WHERE a.name = :n",
                        n="woocommerce_orders_default")


def _register(stack) -> str:
    done = subprocess.run([sys.executable, "-m", "officeguy_woocommerce.app.register_webhooks", "--url", stack.api],
                          env=stack.env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _signed(body: bytes) -> dict[str, str]:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).digest()
    return {"Content-Type": "application/json", "X-WC-Webhook-Topic": "order.updated",
            "X-WC-Webhook-Signature": base64.b64encode(digest).decode(), "X-WC-Webhook-ID": "1",
            "X-WC-Webhook-Delivery-ID": "0123456789abcdef0123456789abcdef"}


def _pay(product_id: int) -> dict:
    with _store() as hook:
        return hook.request("POST", "/orders", json={
            "set_paid": True, "payment_method": "bacs", "payment_method_title": "Bank transfer",
            "billing": {"first_name": "Dana", "last_name": "Cohen", "email": "dana@example.com"},
            "line_items": [{"product_id": product_id, "quantity": 1}]}).json()


def _product_id() -> int:
    with _store() as hook:
        return next(p.id for p in hook.list_stock_items() if p.type == "simple" and p.manage_stock is True
                    and (p.stock_quantity or 0) > 2)


def test_a_paid_orders_webhook_documents_it_through_an_asset_event(live):
    stack, woo, og = live
    first = _register(stack)
    assert first.count(" created, ") == 2, first
    again = _register(stack)  # idempotent: nothing new, both active
    assert again.count(" created, ") == 0 and again.count(" active ") == 2, again
    with _store() as hook:
        assert len(hook.list_webhooks()) == 2
    pings = woo.webhook_pings()
    assert pings and all(p["ok"] for p in pings), pings  # the store's ping reached the endpoint: 200

    endpoint = f"{stack.api}/stock-sync/webhooks/woocommerce/default"
    # a ping (form-encoded, unsigned) is 200 and records nothing; a forged delivery is 401 and records nothing
    assert requests.post(endpoint, data={"webhook_id": "9"}, timeout=30).status_code == 200
    forged = requests.post(endpoint, data=json.dumps({"id": 1}), timeout=30,
                           headers={**_signed(b"something else"), "Content-Type": "application/json"})
    assert forged.status_code == 401
    assert requests.post(f"{stack.api}/stock-sync/webhooks/woocommerce/nosuchstore", data=b"{}", timeout=30
                         ).status_code == 404
    assert _events(stack) == 0
    assert stack.scalar("SELECT count(*) FROM asset WHERE name = 'woocommerce_orders_default'") == 1

    paid_at = time.monotonic()
    order = _pay(_product_id())
    reference = f":{order['id']}"
    stack.wait(lambda: any(r.endswith(reference) for r in _sale_references(og)), 180,
               "the paid order's webhook never became a document")
    print(f"payment -> document through the webhook: {time.monotonic() - paid_at:.1f} s")  # noqa: T201
    assert woo.webhook_log() and all(e["success"] for e in woo.webhook_log())
    stack.wait(lambda: all(r.state in ("success", "failed") for r in stack.rows(
        "SELECT state FROM dag_run WHERE dag_id = :d", d=ORDERS)), 240, "the asset-triggered runs never ended")
    runs = stack.rows("SELECT run_type, state FROM dag_run WHERE dag_id = :d", d=ORDERS)
    # (unpausing also runs the latest hourly poll slot: catchup is off)
    assert "asset_triggered" in {r.run_type for r in runs} and {r.state for r in runs} == {"success"}, runs
    assert [r for r in _sale_references(og) if r.endswith(reference)] == [_sale_references(og)[-1]]

    # one delivery sent twice (a proxy's retry): one event; the run it starts finds the order documented
    events = _events(stack)
    body = json.dumps({"id": order["id"], "status": "processing"}).encode()
    answers = [requests.post(endpoint, data=body, headers=_signed(body), timeout=30) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    assert [a.json()["queued"] for a in answers] == [True, False]
    assert _events(stack) == events + 1
    stack.wait(lambda: len(stack.rows("SELECT 1 FROM dag_run WHERE dag_id = :d", d=ORDERS)) > len(runs), 120,
               "the repeated delivery's event started no run")
    stack.wait(lambda: all(r.state in ("success", "failed") for r in stack.rows(
        "SELECT state FROM dag_run WHERE dag_id = :d", d=ORDERS)), 240, "the run never ended")
    assert len([r for r in _sale_references(og) if r.endswith(reference)]) == 1  # still one document


def test_a_disabled_webhook_is_warned_about_and_the_poll_still_documents(live):
    stack, woo, og = live
    _register(stack)
    with _store() as hook:
        for webhook in hook.list_webhooks():  # WooCommerce disabled both after failed deliveries
            hook.update_webhook(webhook["id"], {"status": "disabled"})
    order = _pay(_product_id())  # no webhook tells Airflow about this one
    time.sleep(3)
    assert _events(stack) == 0
    run_id = stack.trigger(ORDERS)  # the poll (a manual run reads from the watermark, as a scheduled one)
    assert stack.wait_run(ORDERS, run_id, timeout=300) == "success"
    assert len([r for r in _sale_references(og) if r.endswith(f":{order['id']}")]) == 1  # the poll documented it
    texts = "\n".join(p.read_text(errors="replace") for p in (stack.home / "logs").rglob("*")
                      if p.is_file() and "orders_window" in str(p))
    assert "order.updated webhook is disabled" in texts, texts[-2000:]
    from officeguy_woocommerce.include.reports import report_path

    page = report_path(stack.workdir.parent / "stock_sync" / "reports", ORDERS, run_id).read_text()
    assert "order.updated webhook is disabled" in page  # the run's report says it too
