"""The reports plugin: its FastAPI app as the api-server mounts it, the "Run report" link, and how
Airflow finds the plugin (entry point once; the plugins-folder scan adds no second copy)."""

from __future__ import annotations

import importlib.metadata
import os
import time
from pathlib import Path

import pytest
from airflow.models.taskinstancekey import TaskInstanceKey
from fastapi import FastAPI
from fastapi.testclient import TestClient

from officeguy_woocommerce.app.reports_app import (
    KNOWN_DAG_IDS,
    URL_PREFIX,
    RunReportLink,
    StockSyncReportsPlugin,
    reports_folder,
)
from officeguy_woocommerce.include.reports import render_orders_report, render_stock_report, report_path, write_report

STOCK_DAG, ORDERS_DAG = KNOWN_DAG_IDS
RUN_ID = "scheduled__2026-03-01T03:00:00+00:00"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    reports = tmp_path / "reports"
    monkeypatch.setenv("STOCK_SYNC_REPORTS_DIR", str(reports))
    monkeypatch.delenv("AIRFLOW__API__BASE_URL", raising=False)
    return reports


@pytest.fixture
def client():
    # Mount the plugin's app the way the api-server's init_plugins does: app.mount(url_prefix, app).
    root = FastAPI()
    for spec in StockSyncReportsPlugin.fastapi_apps:
        root.mount(spec["url_prefix"], spec["app"])
    with TestClient(root) as test_client:
        yield test_client


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
