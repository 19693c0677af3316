"""Airflow plugin ``stock_sync_reports``: serves the HTML run reports and links to them from the UI.

What it adds
------------
* A FastAPI app mounted by the api-server at ``/stock-sync``:
  ``GET /stock-sync/reports/`` lists the latest runs of both DAGs (newest first) and
  ``GET /stock-sync/reports/{dag_id}/{run_id}`` returns one run's page, as written by
  ``officeguy_woocommerce.include.reports.write_report``. Only the two DAG ids of this project and only files under the
  reports folder are served; every other method is refused (405).
* ``RunReportLink``, an operator extra link "Run report" pointing at that page. Airflow 3 computes
  extra links in the worker when the task ends (any end state) and stores them as XCom, so the
  link is there even when the run failed; the page itself exists once the report task wrote it.

The reports folder is ``$STOCK_SYNC_REPORTS_DIR`` when set, else ``officeguy_woocommerce.include.config.load().home /
"reports"`` (``$STOCK_SYNC_HOME/reports``). It is read on every request, so the api-server and the
workers only need to agree on the environment, not restart in a particular order.

Security: not behind Airflow's auth
-----------------------------------
Airflow does not put plugin FastAPI apps behind its authentication (airflow-notes.md, "UI"): anyone
who can reach the api-server's port can read these pages. They hold product names, SKUs,
quantities, order and document numbers — never credentials (the hooks keep those out of every
report) — but that is still business data. Where the api-server is reachable beyond a trusted
network, restrict ``/stock-sync/`` at the reverse proxy in front of it, for example with nginx::

    location /stock-sync/ {
        auth_basic "Stock sync reports";          # or allow/deny by address, or your SSO's auth_request
        auth_basic_user_file /etc/nginx/stock-sync.htpasswd;
        proxy_pass http://airflow-apiserver:8080;
    }

The pages carry a Content-Security-Policy that forbids scripts, so even a name that slipped past
escaping could not run code in a reader's browser.

Registration
------------
Through the distribution's ``airflow.plugins`` entry point (pyproject.toml), which every Airflow
process reads with the default settings (a ``plugins`` entry in the provider info is loaded only with
``[core] lazy_discover_providers = False``); the package is installed, not dropped in Airflow's
plugins folder, so nothing imports this module twice.
The "Run report" link and the URL rule live in the light module ``officeguy_woocommerce.app.links``,
which DAG files import (this module builds a FastAPI app at import).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from urllib.parse import quote

from airflow.plugins_manager import AirflowPlugin
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

from officeguy_woocommerce.app.links import URL_PREFIX, RunReportLink, report_url  # noqa: F401 - re-exported
from officeguy_woocommerce.include.reports import report_path, reports_dir, run_id_from_filename

KNOWN_DAG_IDS = ("officeguy_stock_to_woocommerce", "woocommerce_orders_to_officeguy")
INDEX_RUNS_PER_DAG = 100

# The pages are static, script-free HTML with inline styles and an inline SVG: allow exactly that.
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                               "frame-ancestors 'self'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # A retried report task rewrites the page: always revalidate.
    "Cache-Control": "no-cache",
}
_META = re.compile(r'<meta name="stock-sync-(run-id|status)" content="([^"]*)">')


def reports_folder() -> Path:
    """The folder reports are written to and served from, read at request time."""
    return reports_dir()  # settings loaded per call: a settings error fails a request, not the plugin's import


# --- the FastAPI app -----------------------------------------------------------------------------------

app = FastAPI(
    title="Stock sync run reports",
    # No interactive docs or schema: the app serves two read-only pages and nothing else.
    docs_url=None, redoc_url=None, openapi_url=None,
)


@app.middleware("http")
async def _only_get(request: Request, call_next):
    """Refuse every method but GET before routing: the app is read-only, and being outside Airflow's
    auth it must not grow a way to change anything."""
    if request.method != "GET":
        return PlainTextResponse("Only GET is allowed here.\n", status_code=405, headers={"Allow": "GET"})
    return await call_next(request)


def _not_found(message: str) -> PlainTextResponse:
    return PlainTextResponse(message + "\n", status_code=404, headers={"X-Content-Type-Options": "nosniff"})


@app.get("/reports")
def _index_without_slash() -> RedirectResponse:
    # Relative redirect: correct behind any proxy prefix, and the index's relative links need the slash.
    return RedirectResponse("reports/", status_code=307)


@app.get("/reports/")
def index() -> Response:
    folder = reports_folder()
    sections = []
    for dag_id in KNOWN_DAG_IDS:
        runs = _latest_runs(folder / dag_id)
        if runs:
            rows = "\n".join(
                f'<tr><td><a href="{escape(href)}">{escape(label)}</a></td><td>{escape(status)}</td>'
                f"<td>{escape(written)}</td></tr>"
                for href, label, status, written in runs)
            table = (f"<table><thead><tr><th>Run</th><th>Status</th><th>Report written (UTC)</th></tr></thead>"
                     f"<tbody>\n{rows}\n</tbody></table>")
        else:
            table = '<p class="empty">No reports yet.</p>'
        sections.append(f"<section><h2>{escape(dag_id)}</h2>\n{table}</section>")
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Stock sync run reports</title>'
        "<style>body{font-family:system-ui,Arial,sans-serif;margin:1.5rem;color:#222}"
        "table{border-collapse:collapse}th,td{border:1px solid #ddd;padding:.25rem .6rem;text-align:start}"
        "th{background:#eef0f3}.empty{color:#666;font-style:italic}</style></head><body>"
        f"<h1>Stock sync run reports</h1>\n<p>Newest first, at most {INDEX_RUNS_PER_DAG} runs per DAG.</p>\n"
        + "\n".join(sections) + "\n</body></html>\n"
    )
    return Response(page, media_type="text/html; charset=utf-8", headers=_SECURITY_HEADERS)


def _latest_runs(dag_folder: Path) -> list[tuple[str, str, str, str]]:
    """(href relative to the index, run id, status, written at) for the newest reports of one DAG."""
    if not dag_folder.is_dir():
        return []
    files = []
    for path in dag_folder.glob("*.html"):
        # Dot files are write_report's temp files; symlinks could point outside the folder.
        if path.name.startswith(".") or path.is_symlink() or not path.is_file():
            continue
        try:
            files.append((path.stat().st_mtime, path))
        except OSError:  # removed between the listing and the stat
            continue
    files.sort(key=lambda item: item[0], reverse=True)
    runs = []
    for mtime, path in files[:INDEX_RUNS_PER_DAG]:
        meta = _read_meta(path)
        # The file name gives the run id back, except for over-long ones stored under a hash.
        run_id = run_id_from_filename(path.name) or meta.get("run-id")
        if not run_id:
            continue
        written = datetime.fromtimestamp(mtime, UTC).strftime("%Y-%m-%d %H:%M:%S")
        href = f"{quote(dag_folder.name, safe='')}/{quote(run_id, safe='')}"
        runs.append((href, run_id, meta.get("status", ""), written))
    return runs


def _read_meta(path: Path) -> dict[str, str]:
    """The run id and status render_*_report put in the page's first lines (cheap: 4 kB read)."""
    from html import unescape

    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            head = handle.read(4096)
    except OSError:
        return {}
    return {key: unescape(value) for key, value in _META.findall(head)}


# ":path" lets a run id hold "/" (Airflow's allowed_run_id_pattern can be widened); report_path
# encodes it, so it cannot reach outside the folder.
@app.get("/reports/{dag_id}/{run_id:path}")
def report(dag_id: str, run_id: str) -> Response:
    if dag_id not in KNOWN_DAG_IDS:
        return _not_found(f"No reports for DAG {dag_id!r}: only {', '.join(KNOWN_DAG_IDS)}.")
    folder = reports_folder()
    try:
        path = report_path(folder, dag_id, run_id)
    except ValueError:
        return _not_found("No such report.")
    if not path.is_file():
        return _not_found(f"No report for run {run_id!r} of {dag_id} (yet): the report task writes it "
                          "at the end of the run.")
    try:
        content = path.read_bytes()
    except OSError:
        return _not_found("No such report.")
    return Response(content, media_type="text/html; charset=utf-8", headers=_SECURITY_HEADERS)


class StockSyncReportsPlugin(AirflowPlugin):
    name = "stock_sync_reports"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "Stock sync run reports"}]
    operator_extra_links = [RunReportLink()]
