"""The reports plugin: its FastAPI app as Airflow's api-server mounts it, behind Airflow's own auth, the
"Run report" link, and how Airflow finds the plugin (entry point once; the plugins-folder scan adds no
second copy).

The app is served by Airflow's real api-server application (``create_app``: plugins mounted by its
``init_plugins``, the configured auth manager and its ``/auth/token``, Airflow's middlewares) with the
simple auth manager, its users from ``[core] simple_auth_manager_users`` and a passwords file; the
tests log in with ``POST /auth/token`` like any client. Per-DAG roles are proven against the FAB auth
manager on a real api-server in tests/airflow/test_reports_auth.py."""

from __future__ import annotations

import importlib.metadata
import json
import os
import time
from pathlib import Path

import pytest
from airflow.models.taskinstancekey import TaskInstanceKey
from fastapi.testclient import TestClient

from officeguy_woocommerce.app import reports_app
from officeguy_woocommerce.app.reports_app import (
    KNOWN_DAG_IDS,
    OPEN_ROUTES,
    URL_PREFIX,
    RunReportLink,
    StockSyncReportsPlugin,
    reports_folder,
)
from officeguy_woocommerce.include.reports import render_orders_report, render_stock_report, report_path, write_report

STOCK_DAG, ORDERS_DAG = KNOWN_DAG_IDS
RUN_ID = "scheduled__2026-03-01T03:00:00+00:00"
# reader: Airflow's Viewer role (reads every DAG); nobody: a user with no role at all
PASSWORDS = {"reader": "reader-password-1", "nobody": "nobody-password-1"}


@pytest.fixture
def folder(tmp_path, monkeypatch):
    reports = tmp_path / "reports"
    monkeypatch.setenv("STOCK_SYNC_REPORTS_DIR", str(reports))
    monkeypatch.delenv("AIRFLOW__API__BASE_URL", raising=False)
    return reports


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """Airflow's api-server app (core API only) on the session's SQLite metadata database, with the
    simple auth manager and two users."""
    passwords = tmp_path_factory.mktemp("auth") / "passwords.json"
    passwords.write_text(json.dumps(PASSWORDS))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW__CORE__AUTH_MANAGER",
                     "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager")
        patch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "reader:viewer,nobody:")
        patch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", str(passwords))
        patch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "False")
        patch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "unit-test-jwt-secret-" + "0123456789abcdef" * 4)
        from airflow.api_fastapi.app import create_app, purge_cached_app
        from airflow.utils import db

        db.initdb()  # the security dependencies look DAGs' teams up in the metadata database
        purge_cached_app()  # a fresh auth manager, built from the settings above
        try:
            yield create_app(apps="core")
        finally:
            purge_cached_app()


def login(api, username: str) -> str:
    """A JWT from Airflow's ``POST /auth/token``, as a script or the UI's login page gets it."""
    answer = TestClient(api).post("/auth/token", json={"username": username, "password": PASSWORDS[username]})
    assert answer.status_code == 201, answer.text
    return answer.json()["access_token"]


@pytest.fixture(scope="module")
def tokens(api):
    return {name: login(api, name) for name in PASSWORDS}


@pytest.fixture
def anonymous(api):
    return TestClient(api)


@pytest.fixture
def client(api, tokens):
    """Logged in as ``reader`` (Viewer) with a bearer token."""
    return TestClient(api, headers={"Authorization": f"Bearer {tokens['reader']}"})


def write(folder: Path, dag_id: str, run_id: str, mtime: float | None = None, **data) -> Path:
    render = render_stock_report if dag_id == STOCK_DAG else render_orders_report
    path = write_report(folder, dag_id, run_id, render({"dag_id": dag_id, "run_id": run_id, **data}))
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def ti_key(dag_id: str, run_id: str) -> TaskInstanceKey:
    return TaskInstanceKey(dag_id=dag_id, task_id="report", run_id=run_id, try_number=1, map_index=-1)


def test_serves_a_written_report_with_a_script_free_policy(folder, client):
    write(folder, STOCK_DAG, RUN_ID, status="succeeded", changes=[{"name": "כוס קפה ☕", "sku": "C1"}])
    response = client.get(f"{URL_PREFIX}/reports/{STOCK_DAG}/{RUN_ID}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "כוס קפה ☕" in response.text
    assert "script-src" not in response.headers["content-security-policy"]
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    # Percent-encoded run ids (what the link produces) reach the same file.
    encoded = client.get(f"{URL_PREFIX}/reports/{STOCK_DAG}/scheduled__2026-03-01T03%3A00%3A00%2B00%3A00")
    assert encoded.status_code == 200 and encoded.content == response.content


def test_unknown_run_and_unknown_dag_are_404_with_a_plain_message(folder, client):
    write(folder, STOCK_DAG, RUN_ID)
    missing = client.get(f"{URL_PREFIX}/reports/{STOCK_DAG}/manual__2026-01-01T00:00:00+00:00")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/plain")
    assert "No report for run" in missing.text
    # A DAG id the plugin does not know, even with a file of that name in the folder.
    write_report(folder, "some_other_dag", RUN_ID, "<p>not ours</p>")
    other = client.get(f"{URL_PREFIX}/reports/some_other_dag/{RUN_ID}")
    assert other.status_code == 404 and "not ours" not in other.text


@pytest.mark.parametrize("path", [
    f"/reports/{STOCK_DAG}/..%2F..%2Fsecret",
    f"/reports/{STOCK_DAG}/%2E%2E%2F%2E%2E%2Fsecret.html",
    "/reports/..%2F..%2Fsecret/x",
    f"/reports/{STOCK_DAG}/%2E%2E",
    f"/reports/{STOCK_DAG}/..%5C..%5Csecret",
    f"/reports/{STOCK_DAG}/%2Fetc%2Fpasswd",
    f"/reports/{STOCK_DAG}/secret",  # the outside file's own name, via the symlink planted below
])
def test_traversal_attempts_are_404(folder, client, path):
    write(folder, STOCK_DAG, RUN_ID)
    (folder.parent / "secret.html").write_text("TOP SECRET")
    (folder.parent / "secret").write_text("TOP SECRET")
    (folder / STOCK_DAG / "secret.html").symlink_to(folder.parent / "secret.html")
    response = client.get(URL_PREFIX + path)
    assert response.status_code == 404
    assert "TOP SECRET" not in response.text


def test_only_get_is_allowed(folder, client):
    write(folder, STOCK_DAG, RUN_ID)
    for method in ("POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"):
        response = client.request(method, f"{URL_PREFIX}/reports/{STOCK_DAG}/{RUN_ID}")
        assert response.status_code == 405, method
        assert response.headers["allow"] == "GET"
    assert client.get(f"{URL_PREFIX}/docs").status_code == 404  # no interactive docs
    assert client.get(f"{URL_PREFIX}/openapi.json").status_code == 404


def test_index_lists_runs_newest_first_per_dag(folder, client):
    now = time.time()
    write(folder, STOCK_DAG, "scheduled__2026-03-01T03:00:00+00:00", mtime=now - 300, status="succeeded")
    write(folder, STOCK_DAG, "manual__2026-03-02T08:00:00+00:00", mtime=now - 10, status="failed")
    write(folder, STOCK_DAG, "scheduled__2026-02-28T03:00:00+00:00", mtime=now - 900, status="dry_run")
    long_run_id = "manual__" + "ש" * 240  # stored under a hashed name: the index reads the id from the page
    write(folder, ORDERS_DAG, long_run_id, mtime=now, status="succeeded")
    (folder / STOCK_DAG / ".tmp-half-written.html").write_text("partial")

    response = client.get(f"{URL_PREFIX}/reports/")
    assert response.status_code == 200
    page = response.text
    order = [page.index(r) for r in ("manual__2026-03-02T08:00:00+00:00", "scheduled__2026-03-01T03:00:00+00:00",
                                     "scheduled__2026-02-28T03:00:00+00:00")]
    assert order == sorted(order)
    assert "partial" not in page and ".tmp-" not in page
    assert page.index(STOCK_DAG) < page.index(ORDERS_DAG)
    assert "failed" in page and "dry_run" in page
    # Its links are relative to the index and resolve to the served reports.
    href = f'href="{STOCK_DAG}/manual__2026-03-02T08%3A00%3A00%2B00%3A00"'
    assert href in page
    assert client.get(f"{URL_PREFIX}/reports/{STOCK_DAG}/manual__2026-03-02T08%3A00%3A00%2B00%3A00").status_code == 200
    long_href = page.split(f'href="{ORDERS_DAG}/', 1)[1].split('"', 1)[0]
    served = client.get(f"{URL_PREFIX}/reports/{ORDERS_DAG}/{long_href}")
    assert served.status_code == 200 and "ש" * 240 in served.text


def test_index_without_reports_and_without_slash(folder, client):
    response = client.get(f"{URL_PREFIX}/reports/")
    assert response.status_code == 200 and response.text.count("No reports yet.") == 2
    redirect = client.get(f"{URL_PREFIX}/reports", follow_redirects=False)
    assert redirect.status_code == 307 and redirect.headers["location"] == "reports/"


def test_reports_folder_defaults_to_stock_sync_home(tmp_path, monkeypatch):
    monkeypatch.delenv("STOCK_SYNC_REPORTS_DIR", raising=False)
    monkeypatch.setenv("STOCK_SYNC_HOME", str(tmp_path / "home"))
    assert reports_folder() == tmp_path / "home" / "reports"
    monkeypatch.setenv("STOCK_SYNC_REPORTS_DIR", str(tmp_path / "elsewhere"))  # read per request
    assert reports_folder() == tmp_path / "elsewhere"


@pytest.mark.parametrize("run_id", [RUN_ID, "manual__2026-03-01T10:15:00.123456+00:00", "backfill__x y/z?#%"])
def test_link_url_is_the_served_path(folder, client, run_id):
    dag_id = ORDERS_DAG
    path = write(folder, dag_id, run_id, status="succeeded")
    url = RunReportLink().get_link(None, ti_key=ti_key(dag_id, run_id))
    assert url.startswith(f"{URL_PREFIX}/reports/{dag_id}/")  # site-relative without [api] base_url
    assert "+" not in url and ":" not in url and "?" not in url and "#" not in url
    response = client.get(url)
    assert response.status_code == 200
    assert response.content == path.read_bytes()
    assert path == report_path(folder, dag_id, run_id)


def test_link_uses_the_configured_base_url(folder, monkeypatch):
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example.co.il/airflow/")
    url = RunReportLink().get_link(None, ti_key=ti_key(STOCK_DAG, RUN_ID))
    assert url == ("https://airflow.example.co.il/airflow/stock-sync/reports/officeguy_stock_to_woocommerce/"
                   "scheduled__2026-03-01T03%3A00%3A00%2B00%3A00")
    assert RunReportLink.name == "Run report"


PAGES = ["/reports/", "/reports", f"/reports/{STOCK_DAG}/{RUN_ID}", f"/reports/{ORDERS_DAG}/{RUN_ID}",
         "/reports/some_other_dag/x"]


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_requests_are_401(folder, anonymous, path):
    write(folder, STOCK_DAG, RUN_ID, status="succeeded", changes=[{"name": "SECRET-PRODUCT", "sku": "C1"}])
    response = anonymous.get(URL_PREFIX + path, follow_redirects=False)
    assert response.status_code == 401, response.text
    assert "SECRET-PRODUCT" not in response.text and STOCK_DAG not in response.text


def test_bearer_token_and_the_ui_session_cookie_both_work(folder, api, tokens):
    write(folder, STOCK_DAG, RUN_ID, status="succeeded", changes=[{"name": "כוס קפה ☕", "sku": "C1"}])
    url = f"{URL_PREFIX}/reports/{STOCK_DAG}/{RUN_ID}"
    by_bearer = TestClient(api, headers={"Authorization": f"Bearer {tokens['reader']}"}).get(url)
    # the UI keeps the same JWT in its `_token` cookie and the browser sends it with the link's request
    by_cookie = TestClient(api, headers={"Cookie": f"_token={tokens['reader']}"}).get(url)
    assert by_bearer.status_code == by_cookie.status_code == 200
    assert by_bearer.content == by_cookie.content and "כוס קפה ☕" in by_cookie.text
    assert TestClient(api, headers={"Cookie": f"_token={tokens['reader']}"}).get(f"{URL_PREFIX}/reports/").status_code == 200
    # a token Airflow did not sign is refused (Airflow answers 403 "Invalid JWT token")
    forged = TestClient(api, headers={"Authorization": "Bearer " + tokens["reader"][:-4] + "AAAA"}).get(url)
    assert forged.status_code in (401, 403) and "כוס קפה" not in forged.text
    assert TestClient(api, headers={"Cookie": "_token=not-a-jwt"}).get(url).status_code in (401, 403)


@pytest.mark.parametrize("path", PAGES[:4])
def test_a_user_without_read_access_is_403(folder, api, tokens, path):
    write(folder, STOCK_DAG, RUN_ID, status="succeeded", changes=[{"name": "SECRET-PRODUCT", "sku": "C1"}])
    response = TestClient(api, headers={"Authorization": f"Bearer {tokens['nobody']}"}).get(
        URL_PREFIX + path, follow_redirects=False)
    assert response.status_code == 403, response.text
    assert "SECRET-PRODUCT" not in response.text


def test_the_auth_managers_answer_per_dag_decides_page_and_index(folder, api, client, monkeypatch):
    """Whatever the configured auth manager answers for one DAG is what the pages do: that DAG's report
    is 403 and the index leaves it out (the simple auth manager has no per-DAG roles, so its answer is
    narrowed here; the FAB auth manager's real per-DAG roles are in tests/airflow/test_reports_auth.py)."""
    from airflow.api_fastapi.app import get_auth_manager

    write(folder, STOCK_DAG, RUN_ID, status="succeeded")
    write(folder, ORDERS_DAG, RUN_ID, status="succeeded")
    manager = get_auth_manager()
    asked = []
    real = manager.is_authorized_dag

    def is_authorized_dag(*, method, user, access_entity=None, details=None):
        asked.append((method, access_entity, details.id if details else None, user.get_name()))
        if details is not None and details.id == ORDERS_DAG:
            return False
        return real(method=method, user=user, access_entity=access_entity, details=details)

    monkeypatch.setattr(manager, "is_authorized_dag", is_authorized_dag)
    assert client.get(f"{URL_PREFIX}/reports/{STOCK_DAG}/{RUN_ID}").status_code == 200
    assert client.get(f"{URL_PREFIX}/reports/{ORDERS_DAG}/{RUN_ID}").status_code == 403
    index = client.get(f"{URL_PREFIX}/reports/")
    assert index.status_code == 200
    assert STOCK_DAG in index.text and ORDERS_DAG not in index.text
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity

    # the report asked about reading that DAG's runs, as reader
    assert ("GET", DagAccessEntity.RUN, ORDERS_DAG, "reader") in asked


def test_every_route_is_behind_airflows_check_unless_declared_open():
    """A route added to the app without Airflow's check fails here, unless it is deliberately open
    (``OPEN_ROUTES``, e.g. the planned signed webhook)."""
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi.routing import APIRoute

    def calls(dependant):
        for dependency in dependant.dependencies:
            yield dependency.call
            yield from calls(dependency)

    routes = [route for route in reports_app.app.app.routes if isinstance(route, APIRoute)]
    assert {route.path for route in routes} >= {"/reports", "/reports/", "/reports/{dag_id}/{run_id:path}"}
    for route in routes:
        if route.path in OPEN_ROUTES:
            continue
        names = [getattr(call, "__qualname__", "") for call in calls(route.dependant)]
        assert any(name.startswith("requires_access_dag.") for name in names), route.path
        assert get_user in set(calls(route.dependant)), route.path
        assert route.methods == {"GET"}, route.path


def test_loading_the_plugin_imports_no_api_layer():
    """Every process that loads plugins (each task too) imports the plugin module: the API layer the
    pages need is imported on the api-server's first request, not there."""
    import subprocess
    import sys

    code = ("import sys, officeguy_woocommerce.app.reports_app as m; "
            "print(sorted(n for n in ('fastapi', 'airflow.api_fastapi.app', 'airflow.api_fastapi.core_api.security') "
            "if n in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_plugin_is_registered_once_by_its_entry_point():
    """Registered by the distribution's entry point, which Airflow reads with its default settings; the
    project is installed (not in a plugins folder), so no second copy can register it."""
    points = [ep for ep in importlib.metadata.entry_points(group="airflow.plugins") if ep.name == "stock_sync_reports"]
    assert [ep.value for ep in points] == ["officeguy_woocommerce.app.reports_app:StockSyncReportsPlugin"]
    plugin = points[0].load()
    assert plugin is StockSyncReportsPlugin and plugin.name == "stock_sync_reports"
    assert [type(link) for link in plugin.operator_extra_links] == [RunReportLink]
    assert [spec["url_prefix"] for spec in plugin.fastapi_apps] == [URL_PREFIX]

    from airflow.plugins_manager import _get_plugins

    loaded, errors = _get_plugins()
    assert [p.name for p in loaded].count("stock_sync_reports") == 1
    assert not errors
