"""The run-report pages on a real api-server (loopback, PostgreSQL) are behind Airflow's own auth:

* with the simple auth manager (users from ``[core] simple_auth_manager_users``, passwords file): no
  credentials -> 401; a logged-in user -> 200, by bearer token (``POST /auth/token``) and by the UI's
  ``_token`` session cookie holding that token;
* with the FAB auth manager (apache-airflow-providers-fab), whose roles can be limited to single DAGs:
  a role that may read only the stock DAG gets 403 for the orders DAG's report and an index without
  the orders DAG, while a Viewer reads both.

Only the api-server runs (no scheduler): the DAGs are put in the metadata database by
``airflow dags reserialize`` (FAB's per-DAG permissions need them), the reports are written into the
reports folder the way the report task writes them.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from officeguy_woocommerce.app.reports_app import KNOWN_DAG_IDS, URL_PREFIX
from officeguy_woocommerce.include.reports import render_orders_report, render_stock_report, write_report

pytestmark = [pytest.mark.airflow, pytest.mark.postgres]
ROOT = Path(__file__).resolve().parents[2]
STOCK_DAG, ORDERS_DAG = KNOWN_DAG_IDS
RUN_ID = "scheduled__2026-03-01T03:00:00+00:00"
FAB = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
SIMPLE = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
PASSWORD = "reports-test-password-1"
# Run in one process, as `airflow <argv>` would each (saves Airflow's start-up per command).
_CLI = """
import json, sys
from airflow.cli import cli_parser
parser = cli_parser.get_parser()
for argv in json.loads(sys.argv[1]):
    print("$ airflow", " ".join(argv), flush=True)
    args = parser.parse_args(argv)
    args.func(args)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """A migrated metadata database of its own on the machine's PostgreSQL (FAB's tables included),
    the project's DAGs serialized into it, FAB roles and users, and one report per DAG."""
    tmp = tmp_path_factory.mktemp("reports-auth")
    name = f"stock_sync_reports_auth_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine("postgresql://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    reports = tmp / "reports"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp / "airflow"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(tmp / "airflow" / "plugins"),  # none: the project is installed
        "AIRFLOW__CORE__AUTH_MANAGER": FAB,
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__SECRET_KEY": "reports-auth-test-secret-key",
        "AIRFLOW__API_AUTH__JWT_SECRET": "reports-auth-test-jwt-secret-" + "0123456789abcdef" * 4,
        "PYTHONPATH": str(ROOT),
        "STOCK_SYNC_HOME": str(tmp / "stock_sync"),
        "STOCK_SYNC_REPORTS_DIR": str(reports),
    }
    env.pop("AIRFLOW_CONN_STOCK_SYNC_DB", None)
    try:
        commands = [
            ["db", "migrate"],
            ["dags", "reserialize"],
            ["sync-perm", "--include-dags"],  # FAB's default roles and the DAG:<dag_id> resources
            ["roles", "create", "StockReports"],
            # reading one DAG's runs: the DAG Runs resource and that DAG, nothing else
            ["roles", "add-perms", "StockReports", "-r", "DAG Runs", f"DAG:{STOCK_DAG}", "-a", "can_read"],
            ["users", "create", "--username", "viewer", "--role", "Viewer", "--email", "viewer@example.com",
             "--firstname", "View", "--lastname", "Er", "--password", PASSWORD],
            ["users", "create", "--username", "stock_only", "--role", "StockReports", "--email",
             "stock@example.com", "--firstname", "Stock", "--lastname", "Only", "--password", PASSWORD],
        ]
        done = subprocess.run([sys.executable, "-c", _CLI, json.dumps(commands)], env=env, capture_output=True,
                              text=True, timeout=300, check=False)
        assert done.returncode == 0, f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
        engine = sa.create_engine(f"postgresql://postgres@127.0.0.1:5432/{name}")
        with engine.connect() as conn:
            dags = set(conn.execute(sa.text("SELECT dag_id FROM dag")).scalars())
        engine.dispose()
        assert set(KNOWN_DAG_IDS) <= dags, dags

        for dag_id, render in ((STOCK_DAG, render_stock_report), (ORDERS_DAG, render_orders_report)):
            write_report(reports, dag_id, RUN_ID, render({"dag_id": dag_id, "run_id": RUN_ID, "status": "succeeded"}))
        yield env, tmp
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _api_server(env: dict, log: Path):
    """Start ``airflow api-server`` on a free loopback port; returns (process, base URL, log file)."""
    port = _free_port()
    out = open(log, "w")  # noqa: SIM115 - closed by _stop
    proc = subprocess.Popen([sys.executable, "-m", "airflow", "api-server", "-H", "127.0.0.1", "-p", str(port)],
                            env={**env, "AIRFLOW__API__PORT": str(port)}, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if requests.get(f"{base}/api/v2/monitor/health", timeout=5).status_code == 200:
                return proc, base, out
        except requests.RequestException:
            pass
        time.sleep(0.5)
    _stop(proc, out)
    raise AssertionError(f"the api-server did not start:\n{log.read_text()[-4000:]}")


def _stop(proc, out) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)
    out.close()


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # loopback only: no proxy
    return session


def _token(base: str, username: str, password: str) -> str:
    answer = _session().post(f"{base}/auth/token", json={"username": username, "password": password}, timeout=30)
    assert answer.status_code == 201, answer.text
    return answer.json()["access_token"]


def _get(base: str, path: str, *, token: str | None = None, cookie: str | None = None) -> requests.Response:
    session = _session()
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    if cookie:
        session.cookies.set("_token", cookie)
    return session.get(base + URL_PREFIX + path, timeout=30, allow_redirects=False)


@pytest.fixture  # one api-server at a time
def simple_server(deployment):
    env, tmp = deployment
    passwords = tmp / "simple-passwords.json"
    passwords.write_text(json.dumps({"reader": PASSWORD}))
    env = {**env, "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE, "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "reader:viewer",
           "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
           "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False"}
    proc, base, out = _api_server(env, tmp / "api-server-simple.log")
    try:
        yield base
    finally:
        _stop(proc, out)


@pytest.fixture
def fab_server(deployment):
    env, tmp = deployment
    proc, base, out = _api_server(env, tmp / "api-server-fab.log")
    try:
        yield base
    finally:
        _stop(proc, out)


REPORT = f"/reports/{STOCK_DAG}/{RUN_ID}"


def test_simple_auth_manager_anonymous_401_bearer_and_cookie_200(simple_server):
    base = simple_server
    for path in ("/reports/", "/reports", REPORT, f"/reports/{ORDERS_DAG}/{RUN_ID}"):
        anonymous = _get(base, path)
        assert anonymous.status_code == 401, (path, anonymous.status_code, anonymous.text)
        assert RUN_ID not in anonymous.text
    token = _token(base, "reader", PASSWORD)
    by_bearer = _get(base, REPORT, token=token)
    by_cookie = _get(base, REPORT, cookie=token)  # the UI's login page keeps the token in this cookie
    assert by_bearer.status_code == by_cookie.status_code == 200, (by_bearer.text, by_cookie.text)
    assert "text/html" in by_cookie.headers["content-type"] and RUN_ID in by_cookie.text
    assert by_bearer.content == by_cookie.content
    index = _get(base, "/reports/", cookie=token)
    assert index.status_code == 200 and STOCK_DAG in index.text and ORDERS_DAG in index.text
    assert _get(base, "/reports/", token=token + "x").status_code in (401, 403)  # a token Airflow did not sign


def test_fab_role_limited_to_one_dag_gets_403_for_the_other(fab_server):
    base = fab_server
    assert _get(base, REPORT).status_code == 401
    assert _get(base, "/reports/").status_code == 401

    viewer = _token(base, "viewer", PASSWORD)
    for dag_id in KNOWN_DAG_IDS:
        page = _get(base, f"/reports/{dag_id}/{RUN_ID}", token=viewer)
        assert page.status_code == 200 and RUN_ID in page.text, (dag_id, page.text)
    index = _get(base, "/reports/", cookie=viewer)
    assert index.status_code == 200 and STOCK_DAG in index.text and ORDERS_DAG in index.text

    stock_only = _token(base, "stock_only", PASSWORD)
    assert _get(base, REPORT, token=stock_only).status_code == 200
    assert _get(base, REPORT, cookie=stock_only).status_code == 200
    refused = _get(base, f"/reports/{ORDERS_DAG}/{RUN_ID}", token=stock_only)
    assert refused.status_code == 403, refused.text
    assert RUN_ID not in refused.text
    index = _get(base, "/reports/", token=stock_only)
    assert index.status_code == 200, index.text
    assert STOCK_DAG in index.text and ORDERS_DAG not in index.text
