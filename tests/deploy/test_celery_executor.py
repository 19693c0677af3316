"""Airflow with the CeleryExecutor, for real: api-server, scheduler, dag-processor, triggerer and TWO
``airflow celery worker`` processes on loopback, PostgreSQL as the metadata database (and Celery's result
backend), Redis as the broker, the project installed as users install it, the sandboxes as the two systems.

Both DAGs are triggered through Airflow's REST API (what the UI's Trigger button does), the orders DAG
also runs on its schedule (unpausing it creates its latest scheduled run) and a backfill over two missed
windows runs at the same time. Checked afterwards: every run succeeded; exactly one document per paid
order; the writing tasks never overlapped (the one-slot pool holds across workers, from the task
instances' start and end times); both workers took tasks; and a last stock run finds nothing to change
(the store equals OfficeGuy).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from tests.airflow.test_backfill_real_airflow import _create_order, _free_port, _scalar, _wait
from tests.conftest import connection_env

pytestmark = [pytest.mark.airflow, pytest.mark.postgres, pytest.mark.timeout(1200)]
ROOT = Path(__file__).resolve().parents[2]
ORDERS, STOCK = "woocommerce_orders_to_officeguy", "officeguy_stock_to_woocommerce"
WRITE_TASKS = ("create_item_cards", "create_documents", "apply_stock")
REDIS = "127.0.0.1:6379"


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(f"redis://{REDIS}/0", socket_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def shop(tmp_path):
    """Both sandboxes (demo catalogue): three orders paid yesterday 10:00-10:30 UTC (missed while Airflow
    was down) and two paid now."""
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
        orders += [_create_order(woo, time.time()) for _ in range(2)]
        yield woo, og, orders, yesterday


@pytest.fixture
def fresh_postgres():
    """A database of its own (Airflow's metadata, Celery's results and the ledger), dropped afterwards."""
    import uuid

    from officeguy_woocommerce.include.ledger import Ledger

    name = f"stock_sync_celery_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine("postgresql://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    try:
        Ledger(url, migrate=True).engine.dispose()  # the deploy step (compose's airflow-init does the same)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def stack_env() -> dict:
    """Settings a test changes (parametrize ``stack_env`` to override)."""
    return {}


@pytest.fixture
def celery_stack(tmp_path, fresh_postgres, shop, stack_env):
    postgres_url = fresh_postgres
    if not _redis_up():
        pytest.fail(f"Redis is not running on {REDIS}: start it as .ci/run does (redis-server --daemonize yes ...)")
    woo, og, orders, yesterday = shop
    home, logs = tmp_path / "airflow", tmp_path / "logs"
    logs.mkdir()
    port = _free_port()
    broker_db = random.randint(1, 15)  # noqa: S311 - a free Redis database for this run, not a secret
    metadata = postgres_url.replace("postgresql://", "postgresql+psycopg2://")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata,
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": f"redis://{REDIS}/{broker_db}",
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + postgres_url,
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        "AIRFLOW__CORE__PARALLELISM": "8",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(home / "plugins"),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API_AUTH__JWT_SECRET": "test-jwt-secret-for-this-run-only",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        # a killed worker's task is noticed within seconds here (compose: a minute), then retried
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(_free_port()),
        "PYTHONPATH": str(ROOT),  # the sandboxes; the project itself is installed
        "STOCK_SYNC_HOME": str(tmp_path / "stock_sync"),  # shared by both workers, as a volume would be
        "STOCK_SYNC_GO_LIVE": (yesterday - timedelta(days=2)).date().isoformat(),
        "STOCK_SYNC_ORDERS_EVERY": "15",
        "STOCK_SYNC_SCHEDULE": "none",
        "AIRFLOW_CONN_WOOCOMMERCE_DEFAULT": connection_env("woocommerce", woo.url, woo.consumer_key, woo.consumer_secret),
        "AIRFLOW_CONN_OFFICEGUY_DEFAULT": connection_env("officeguy", og.url, str(og.company_id), og.api_key,
                                                         rate_limit_per_minute=6000),
        # the ledger on PostgreSQL too: several workers share it
        "AIRFLOW_CONN_STOCK_SYNC_DB": postgres_url,
        **stack_env,
    }

    def cli(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "airflow", *args], env=env, capture_output=True, text=True,
                              timeout=300, check=False)
        if done.returncode:
            raise AssertionError(f"airflow {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done.stdout

    cli("db", "migrate")
    cli("pools", "set", "stock_sync_writes", "1", "stock sync writers")
    components = [("api-server", ["api-server", "-H", "127.0.0.1", "-p", str(port)]), ("scheduler", ["scheduler"]),
                  ("dag-processor", ["dag-processor"]), ("triggerer", ["triggerer"])]
    components += [(f"worker-{n}", ["celery", "worker", "--celery-hostname", f"worker{n}@%h", "--concurrency", "2"])
                   for n in (1, 2)]
    procs = []
    for name, args in components:
        out = open(logs / f"{name}.log", "w")  # noqa: SIM115 - closed below
        penv = {**env, "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port())}
        procs.append((subprocess.Popen([sys.executable, "-m", "airflow", *args], env=penv, stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True), out))
    engine = sa.create_engine(postgres_url)
    try:
        _wait(lambda: _scalar(engine, "SELECT count(*) FROM dag WHERE dag_id IN (:a, :b)", a=ORDERS, b=STOCK) == 2,
              240, "the dag-processor never parsed both DAGs", logs)
        workers = {name: proc for (name, _args), (proc, _out) in zip(components, procs, strict=True)
                   if name.startswith("worker")}
        yield cli, engine, woo, og, orders, yesterday, logs, f"http://127.0.0.1:{port}", workers
    finally:
        for proc, _out in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc, out in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            out.close()
        engine.dispose()


def _trigger(api: str, dag_id: str, conf: dict | None = None) -> str:
    """What the UI's Trigger button does: POST a DAG run through the REST API."""
    answer = requests.post(f"{api}/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf or {}},
                           timeout=60)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()["dag_run_id"]


def _all_done(engine) -> bool:
    running = _scalar(engine, "SELECT count(*) FROM dag_run WHERE state NOT IN ('success', 'failed')")
    backfills = _scalar(engine, "SELECT count(*) FROM backfill WHERE completed_at IS NULL")
    return running == 0 and backfills == 0


def test_two_celery_workers_run_both_dags_exactly_once(celery_stack):
    cli, engine, woo, og, orders, yesterday, logs, api, _workers = celery_stack
    for dag_id in (ORDERS, STOCK):
        cli("dags", "unpause", dag_id)  # the orders DAG's latest scheduled run starts now (catchup off)
    manual = [_trigger(api, ORDERS), _trigger(api, STOCK)]
    start, end = yesterday.isoformat(), (yesterday + timedelta(minutes=30)).isoformat()
    cli("backfill", "create", "--dag-id", ORDERS, "--from-date", start, "--to-date", end)  # two missed windows
    _wait(lambda: _scalar(engine, "SELECT count(*) FROM dag_run WHERE run_type = 'backfill'") >= 2, 120,
          "the backfill made no runs", logs)
    _wait(lambda: _all_done(engine), 900, "the runs did not finish", logs)

    with engine.connect() as conn:
        runs = conn.execute(sa.text("SELECT dag_id, run_id, run_type, state FROM dag_run")).all()
        tis = conn.execute(sa.text("SELECT task_id, run_id, hostname, start_date, end_date, state FROM task_instance "
                                   "WHERE state IS NOT NULL")).all()
    assert {r.state for r in runs} == {"success"}, [tuple(r) for r in runs if r.state != "success"]
    assert {r.run_type for r in runs if r.dag_id == ORDERS} >= {"manual", "scheduled", "backfill"}
    assert set(manual) <= {r.run_id for r in runs}

    # exactly one sale document per paid order, across every run and worker
    from officeguy_woocommerce.officeguy.hooks import OfficeGuyHook

    os.environ["AIRFLOW_CONN_OFFICEGUY_DEFAULT"] = connection_env("officeguy", og.url, str(og.company_id), og.api_key,
                                                                  rate_limit_per_minute=6000)
    try:
        with OfficeGuyHook() as hook:
            docs = hook.list_documents(yesterday.date() - timedelta(days=1), datetime.now(UTC).date() + timedelta(days=1),
                                       types=[1])
    finally:
        os.environ.pop("AIRFLOW_CONN_OFFICEGUY_DEFAULT", None)
    refs = sorted(d.external_reference for d in docs)
    assert len(refs) == len(set(refs)) == len(orders)
    assert {int(r.rsplit(":", 1)[1]) for r in refs} == {o["id"] for o in orders}

    # the one-slot pool held across both workers: no two writing tasks overlapped
    writes = sorted((t for t in tis if t.task_id in WRITE_TASKS and t.start_date), key=lambda t: t.start_date)
    assert len(writes) >= 3
    for before, after in zip(writes, writes[1:], strict=False):
        assert after.start_date >= before.end_date, (f"{before.task_id} ({before.run_id}) and {after.task_id} "
                                                     f"({after.run_id}) overlapped")
    for n in (1, 2):  # both workers took tasks (Celery logs each task it receives)
        assert " received" in (logs / f"worker-{n}.log").read_text(), f"worker {n} ran no task"

    # the store equals OfficeGuy: a last stock run finds nothing left to change
    last = _trigger(api, STOCK, {"dry_run": True})
    _wait(lambda: _all_done(engine), 300, "the last stock run did not finish", logs)
    from officeguy_woocommerce.include.ledger import Ledger

    ledger = Ledger(engine.url.render_as_string(hide_password=False), migrate=False)
    final = next(r for r in ledger.runs(flow="stock", limit=20) if r.run_id == last)
    assert final.status == "dry_run" and (final.counts or {}).get("changed") == 0, final.counts


def _worker_running(ti_pid: int, workers: dict) -> str:
    """Which worker's process tree holds the task's process (walking up its parents)."""
    pid = ti_pid
    for _ in range(20):
        for name, proc in workers.items():
            if pid == proc.pid:
                return name
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            break
        pid = int(stat.rsplit(")", 1)[1].split()[1])  # the parent's pid
    raise AssertionError(f"no worker holds process {ti_pid}")


@pytest.mark.parametrize("stack_env", [{"STOCK_SYNC_ORDERS_EVERY": "none"}])  # only the run the test triggers
def test_a_worker_killed_while_create_documents_sends_leaves_one_document(celery_stack):
    """SIGKILL the worker while OfficeGuy holds its answer (the document is already committed): Airflow
    notices the dead task, the other worker runs the retry, which takes over the claim, finds the
    document by its reference, and records it. One document; the run succeeds; the report names it."""
    cli, engine, woo, og, orders, yesterday, logs, api, workers = celery_stack
    og.arm_fault(kind="timeout", path="documents/create", seconds=90, times=1)  # committed, answered late
    cli("dags", "unpause", ORDERS)
    run_id = _trigger(api, ORDERS, {"order_ids": [orders[-1]["id"]]})
    query = ("SELECT pid, state, try_number FROM task_instance WHERE dag_id = :d AND run_id = :r "
             "AND task_id = 'create_documents'")

    def sending() -> bool:
        with engine.connect() as conn:
            row = conn.execute(sa.text(query), {"d": ORDERS, "r": run_id}).first()
        return bool(row and row.state == "running" and row.pid
                    and any("documents/create" in key for key in og.stats()))

    _wait(sending, 300, "create_documents never reached OfficeGuy", logs)
    with engine.connect() as conn:
        pid = conn.execute(sa.text(query), {"d": ORDERS, "r": run_id}).first().pid
    victim = _worker_running(pid, workers)
    os.killpg(workers[victim].pid, signal.SIGKILL)
    _wait(lambda: _scalar(engine, "SELECT state FROM dag_run WHERE dag_id = :d AND run_id = :r", d=ORDERS,
                          r=run_id) in ("success", "failed"), 600, "the run did not finish after the kill", logs)

    with engine.connect() as conn:
        run_state = conn.execute(sa.text("SELECT state FROM dag_run WHERE run_id = :r"), {"r": run_id}).scalar()
        tries = conn.execute(sa.text(query), {"d": ORDERS, "r": run_id}).first().try_number
    assert run_state == "success" and tries == 2
    sales = [d for d in og.documents() if d["external_reference"].endswith(f":{orders[-1]['id']}")]
    assert len(sales) == 1, sales  # the first try's document, found by the retry, not made again
    page = requests.get(f"{api}/stock-sync/reports/{ORDERS}/{requests.utils.quote(run_id, safe='')}", timeout=30)
    assert page.status_code == 200 and "Found already in OfficeGuy" in page.text
    assert str(orders[-1]["number"]) in page.text


@pytest.mark.parametrize("stack_env", [{"STOCK_SYNC_ORDERS_EVERY": "none"}])
def test_a_worker_killed_while_apply_stock_writes_leaves_the_store_equal_to_officeguy(celery_stack):
    """SIGKILL the worker while the store holds its answer to a stock batch (the batch is committed):
    the retry on the other worker sends the same planned quantities again; afterwards a stock run finds
    nothing to change, and each product is recorded once for the run (no second, stale write)."""
    from tests.helpers import purchase_order

    cli, engine, woo, og, orders, yesterday, logs, api, workers = celery_stack
    stock = og.call("/stock/stock/list/", {})["Data"]["Stock"]
    raised = [row["ID"] for row in stock if str(row.get("ExternalIdentifier") or "").strip()][:3]
    for item_id in raised:  # a purchase order in OfficeGuy: the store must follow
        assert og.call("/accounting/documents/create/", purchase_order(item_id, 5))["Status"] == 0
    woo.arm_fault(kind="timeout", method="POST", path="/batch$", seconds=90, times=1)
    cli("dags", "unpause", STOCK)
    run_id = _trigger(api, STOCK)
    query = ("SELECT pid, state, try_number FROM task_instance WHERE dag_id = :d AND run_id = :r "
             "AND task_id = 'apply_stock'")

    def writing() -> bool:
        with engine.connect() as conn:
            row = conn.execute(sa.text(query), {"d": STOCK, "r": run_id}).first()
        return bool(row and row.state == "running" and row.pid and any("batch" in key for key in woo.stats()))

    _wait(writing, 300, "apply_stock never wrote to the store", logs)
    with engine.connect() as conn:
        pid = conn.execute(sa.text(query), {"d": STOCK, "r": run_id}).first().pid
    os.killpg(workers[_worker_running(pid, workers)].pid, signal.SIGKILL)
    _wait(lambda: _scalar(engine, "SELECT state FROM dag_run WHERE dag_id = :d AND run_id = :r", d=STOCK,
                          r=run_id) in ("success", "failed"), 600, "the stock run did not finish after the kill", logs)
    with engine.connect() as conn:
        run_state = conn.execute(sa.text("SELECT state FROM dag_run WHERE run_id = :r"), {"r": run_id}).scalar()
        tries = conn.execute(sa.text(query), {"d": STOCK, "r": run_id}).first().try_number
    assert run_state == "success" and tries == 2

    from officeguy_woocommerce.include.ledger import Ledger

    ledger = Ledger(engine.url.render_as_string(hide_password=False), migrate=False)
    run = next(r for r in ledger.runs(flow="stock", limit=5) if r.run_id == run_id)
    with engine.connect() as conn:
        written = conn.execute(sa.text("SELECT woo_id, count(*) FROM stock_changes WHERE run_pk = :p "
                                       "GROUP BY woo_id"), {"p": run.id}).all()
    assert written and all(n == 1 for _woo_id, n in written), written  # each product recorded once
    last = _trigger(api, STOCK, {"dry_run": True})
    _wait(lambda: _all_done(engine), 300, "the last stock run did not finish", logs)
    final = next(r for r in ledger.runs(flow="stock", limit=5) if r.run_id == last)
    assert final.status == "dry_run" and (final.counts or {}).get("changed") == 0, final.counts
