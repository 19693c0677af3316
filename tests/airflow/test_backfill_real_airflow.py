"""A real Airflow (api-server, scheduler, dag-processor; LocalExecutor on PostgreSQL, loopback only)
recovers orders missed while it was down, with ``airflow backfill create``, as an operator would.

Orders are made in the WooCommerce sandbox with its clock set back to yesterday morning: orders
placed while nothing was running. A backfill over that range documents each once; a second
backfill over the same range creates nothing; a range before the go-live date is refused.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import connection_env

pytestmark = [pytest.mark.airflow, pytest.mark.postgres]
DAG_ID = "woocommerce_orders_to_officeguy"
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def missed_orders(tmp_path):
    """Both sandboxes (demo catalogue) and three orders paid yesterday between 10:00 and 10:30 UTC."""
    from sandbox.officeguy.testing import og_sandbox
    from sandbox.woocommerce.testing import woo_sandbox

    yesterday = (datetime.now(UTC) - timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    with woo_sandbox(tmp_path / "woo", dataset="demo") as woo, og_sandbox(tmp_path / "og", dataset="demo") as og:
        store = woo.app.state.store
        real_clock = store.clock
        orders = []
        for minute in (2, 7, 20):
            moment = (yesterday + timedelta(minutes=minute)).timestamp()
            store.clock = lambda at=moment: at
            orders.append(_create_order(woo, moment))
        store.clock = real_clock
        yield woo, og, orders, yesterday


def _create_order(woo, moment: float) -> dict:
    import requests

    session = requests.Session()
    session.trust_env = False
    from requests_oauthlib import OAuth1

    # signed at the sandbox's (moved) time: OAuth timestamps must be within 15 minutes of it (A1)
    session.auth = OAuth1(woo.consumer_key, woo.consumer_secret, signature_method="HMAC-SHA256",
                          signature_type="query", timestamp=str(int(moment)))
    answer = session.post(f"{woo.url}/wp-json/wc/v3/orders", json={
        "set_paid": True, "line_items": [{"product_id": 10, "quantity": 1}]}, timeout=30)
    answer.raise_for_status()
    return answer.json()


@pytest.fixture
def airflow_stack(tmp_path, postgres_url, missed_orders):
    """Airflow's own components as separate processes, on PostgreSQL, bound to 127.0.0.1."""
    woo, og, orders, yesterday = missed_orders
    home = tmp_path / "airflow"
    port = _free_port()
    metadata = postgres_url.replace("postgresql://", "postgresql+psycopg2://")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata,
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(home / "plugins"),  # none: the project is an installed provider
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API_AUTH__JWT_SECRET": "test-jwt-secret-for-this-run-only",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(_free_port()),
        "PYTHONPATH": str(ROOT),  # the sandboxes; the project itself is installed
        "STOCK_SYNC_HOME": str(tmp_path / "stock_sync"),
        "STOCK_SYNC_GO_LIVE": (yesterday - timedelta(days=2)).date().isoformat(),
        "STOCK_SYNC_ORDERS_EVERY": "15",
        "AIRFLOW_CONN_WOOCOMMERCE_DEFAULT": connection_env("woocommerce", woo.url, woo.consumer_key, woo.consumer_secret),
        "AIRFLOW_CONN_OFFICEGUY_DEFAULT": connection_env("officeguy", og.url, str(og.company_id), og.api_key,
                                                         rate_limit_per_minute=6000),
    }
    env.pop("AIRFLOW_CONN_STOCK_SYNC_DB", None)
    logs = tmp_path / "logs"
    logs.mkdir()

    def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-m", "airflow", *args], env=env, capture_output=True, text=True,
                              timeout=300, check=False)
        if check and done.returncode:
            raise AssertionError(f"airflow {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done

    cli("db", "migrate")
    cli("pools", "set", "stock_sync_writes", "1", "stock sync writers")
    procs = []
    for name, args in (("api-server", ["api-server", "-H", "127.0.0.1", "-p", str(port)]),
                       ("scheduler", ["scheduler"]), ("dag-processor", ["dag-processor"])):
        out = open(logs / f"{name}.log", "w")  # noqa: SIM115 - closed below
        procs.append((subprocess.Popen([sys.executable, "-m", "airflow", *args], env=env, stdout=out,
                                       stderr=subprocess.STDOUT), out))
    engine = sa.create_engine(postgres_url)
    try:
        _wait(lambda: _scalar(engine, "SELECT count(*) FROM dag WHERE dag_id = :d", d=DAG_ID) == 1, 180,
              "the dag-processor never parsed the orders DAG", logs)
        yield cli, engine, woo, og, orders, yesterday, logs, port
    finally:
        for proc, _out in procs:
            proc.terminate()
        for proc, out in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            out.close()
        engine.dispose()


def _scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def _wait(predicate, seconds: float, message: str, logs: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except sa.exc.SQLAlchemyError:
            pass
        time.sleep(2)
    tails = "\n".join(f"--- {p.name}\n{p.read_text()[-2500:]}" for p in sorted(logs.glob("*.log")))
    raise AssertionError(f"{message}\n{tails}")


def _backfill_done(engine) -> bool:
    open_backfills = _scalar(engine, "SELECT count(*) FROM backfill WHERE dag_id = :d AND completed_at IS NULL", d=DAG_ID)
    unfinished = _scalar(engine, "SELECT count(*) FROM dag_run WHERE dag_id = :d AND run_type = 'backfill' "
                         "AND state NOT IN ('success', 'failed')", d=DAG_ID)
    return open_backfills == 0 and unfinished == 0


def test_a_backfill_recovers_missed_orders_once(airflow_stack):
    cli, engine, woo, og, orders, yesterday, logs, port = airflow_stack
    from officeguy_woocommerce.officeguy.hooks import OfficeGuyHook

    fmt = "%Y-%m-%dT%H:%M:%S+00:00"
    start, end = yesterday.strftime(fmt), (yesterday + timedelta(minutes=30)).strftime(fmt)

    cli("dags", "unpause", DAG_ID)  # the scheduler runs no run, backfill or not, of a paused DAG
    cli("backfill", "create", "--dag-id", DAG_ID, "--from-date", start, "--to-date", end)
    _wait(lambda: _backfill_done(engine) and _scalar(
        engine, "SELECT count(*) FROM dag_run WHERE dag_id = :d AND run_type = 'backfill'", d=DAG_ID) >= 2,
        420, "the backfill did not finish", logs)

    states = _scalar(engine, "SELECT string_agg(state, ',' ORDER BY logical_date) FROM dag_run "
                     "WHERE dag_id = :d AND run_type = 'backfill'", d=DAG_ID)
    assert set(states.split(",")) == {"success"}, states
    os.environ["AIRFLOW_CONN_OFFICEGUY_DEFAULT"] = connection_env("officeguy", og.url, str(og.company_id), og.api_key,
                                                                  rate_limit_per_minute=6000)
    try:
        hook = OfficeGuyHook()
        today = datetime.now(UTC).date()
        docs = hook.list_documents(yesterday.date() - timedelta(days=1), today + timedelta(days=1), types=[1])
    finally:
        os.environ.pop("AIRFLOW_CONN_OFFICEGUY_DEFAULT", None)
    refs = sorted(d.external_reference for d in docs)
    assert len(refs) == 3 == len(set(refs))
    assert {int(r.rsplit(":", 1)[1]) for r in refs} == {o["id"] for o in orders}

    # each run's report opens from the report task's "Run report" link, served by the api-server
    import requests

    api = f"http://127.0.0.1:{port}"
    run_id = _scalar(engine, "SELECT run_id FROM dag_run WHERE dag_id = :d AND run_type = 'backfill' "
                     "ORDER BY logical_date LIMIT 1", d=DAG_ID)
    links = requests.get(f"{api}/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/report/links", timeout=30)
    assert links.status_code == 200, links.text
    url = (links.json().get("extra_links") or links.json()).get("Run report")
    assert url, links.text
    page = requests.get(url if url.startswith("http") else api + url, timeout=30)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert run_id in page.text and "Documents created" in page.text

    # the same range again, reprocessing completed runs: still one document per order
    cli("backfill", "create", "--dag-id", DAG_ID, "--from-date", start, "--to-date", end,
        "--reprocess-behavior", "completed")
    _wait(lambda: _backfill_done(engine) and _scalar(
        engine, "SELECT count(*) FROM backfill WHERE dag_id = :d", d=DAG_ID) == 2, 420,
        "the second backfill did not finish", logs)
    os.environ["AIRFLOW_CONN_OFFICEGUY_DEFAULT"] = connection_env("officeguy", og.url, str(og.company_id), og.api_key,
                                                                  rate_limit_per_minute=6000)
    try:
        docs_again = OfficeGuyHook().list_documents(yesterday.date() - timedelta(days=1),
                                                    datetime.now(UTC).date() + timedelta(days=1), types=[1])
    finally:
        os.environ.pop("AIRFLOW_CONN_OFFICEGUY_DEFAULT", None)
    assert sorted(d.external_reference for d in docs_again) == refs

    # before go-live: Airflow creates the runs, the DAG refuses them with the reason; nothing is created
    before = yesterday - timedelta(days=10)
    cli("backfill", "create", "--dag-id", DAG_ID, "--from-date", before.strftime(fmt),
        "--to-date", (before + timedelta(minutes=15)).strftime(fmt))
    _wait(lambda: _backfill_done(engine) and _scalar(
        engine, "SELECT count(*) FROM backfill WHERE dag_id = :d", d=DAG_ID) == 3, 420,
        "the refused backfill did not finish", logs)
    refused = _scalar(engine, "SELECT string_agg(state, ',') FROM dag_run WHERE dag_id = :d AND run_type = 'backfill' "
                      "AND logical_date < :t", d=DAG_ID, t=yesterday - timedelta(days=5))
    assert refused and set(refused.split(",")) == {"failed"}
    from officeguy_woocommerce.include.ledger import Ledger, sqlite_url

    runs = Ledger(sqlite_url(logs.parent / "stock_sync" / "ledger.sqlite")).runs(flow="orders")
    assert any("before the go-live date" in r.message for r in runs if r.status == "failed"), [r.message for r in runs]
