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

Security: behind Airflow's own auth
-----------------------------------
Airflow does not put plugin FastAPI apps behind its authentication by itself (airflow-notes.md, "UI"),
so every route of this app declares Airflow's security dependencies
(``airflow.api_fastapi.core_api.security``), the same ones the REST API uses, asking whatever auth
manager the deployment configured (simple, FAB, Keycloak...):

* who: ``get_user`` takes the ``Authorization: Bearer <JWT>`` header (``POST /auth/token``) or the UI's
  ``_token`` session cookie; neither, or an expired token, is 401;
* what: ``requires_access_dag("GET", DagAccessEntity.RUN)`` for the ``dag_id`` in the path: the user must
  be allowed to read that DAG's runs (403 otherwise). The index, which has no ``dag_id``, needs the
  right to list DAG runs at all and then shows only the DAGs the auth manager's
  ``filter_authorized_dag_ids`` lets this user read.

The pages hold product names, SKUs, quantities, order and document numbers, never credentials (the
hooks keep those out of every report). They carry a Content-Security-Policy that forbids scripts, so
even a name that slipped past escaping could not run code in a reader's browser.

The checks are per route, not an app-wide middleware: the pages' routes live on ``reports_router``
(in ``create_app``), whose router-level dependency is the check. A route that must stay open (the
planned WooCommerce webhook, ``POST /stock-sync/webhooks/woocommerce/{store}``, authenticated by its
HMAC signature) goes on a router of its own, without that dependency and with its signature check as
its dependency, and its path is added to ``OPEN_ROUTES``; the tests fail for any other route that
lacks Airflow's check. Nothing app-wide refuses methods either: each route declares its own (405
otherwise), so a POST route can be added beside the GET-only pages.

Registration
------------
Through the distribution's ``airflow.plugins`` entry point (pyproject.toml), which every Airflow
process reads with the default settings (a ``plugins`` entry in the provider info is loaded only with
``[core] lazy_discover_providers = False``); the package is installed, not dropped in Airflow's
plugins folder, so nothing imports this module twice.
The "Run report" link and the URL rule live in the light module ``officeguy_woocommerce.app.links``,
which DAG files import. Every process that loads plugins (scheduler, dag-processor, each task) imports
this module, so it imports neither FastAPI nor Airflow's API layer: ``app`` builds the FastAPI app
(``create_app``) on the api-server's first request to it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from airflow.plugins_manager import AirflowPlugin

from officeguy_woocommerce.app.links import URL_PREFIX, RunReportLink, report_url  # noqa: F401 - re-exported
from officeguy_woocommerce.include.reports import report_path, reports_dir, run_id_from_filename

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.responses import Response

KNOWN_DAG_IDS = ("officeguy_stock_to_woocommerce", "woocommerce_orders_to_officeguy")
INDEX_RUNS_PER_DAG = 100

# Paths (as mounted under URL_PREFIX's app, e.g. "/webhooks/woocommerce/{store}") of the routes that
# are deliberately NOT behind Airflow's auth. Each must authenticate its caller itself (the planned
# webhook: its HMAC signature) and live on a router of its own, without ``reports_router``'s
# dependency. The tests fail for any route that is neither listed here nor behind the check.
OPEN_ROUTES: frozenset[str] = frozenset({"/webhooks/woocommerce/{store}"})

# The pages are static, script-free HTML with inline styles and an inline SVG: allow exactly that.
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                               "frame-ancestors 'self'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # A retried report task rewrites the page: always revalidate. The pages are behind a login (and
    # the index differs per user): no shared cache may keep them.
    "Cache-Control": "private, no-cache",
    "Vary": "Cookie, Authorization",
}
_META = re.compile(r'<meta name="stock-sync-(run-id|status)" content="([^"]*)">')


def reports_folder() -> Path:
    """The folder reports are written to and served from, read at request time."""
    return reports_dir()  # settings loaded per call: a settings error fails a request, not the plugin's import


# --- the FastAPI app -----------------------------------------------------------------------------------

def create_app() -> FastAPI:
    """The plugin's FastAPI app. Built on the first request (see ``_BuiltOnFirstUse``): Airflow's API
    security modules import its whole REST layer, which the scheduler, the dag-processor and every
    task process (they all load plugins) should not pay for."""
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
    from airflow.api_fastapi.core_api.security import get_user, requires_access_dag
    from fastapi import APIRouter, Depends, FastAPI
    from fastapi.responses import RedirectResponse

    fastapi_app = FastAPI(
        title="Stock sync run reports",
        # No interactive docs or schema: the app serves read-only pages and nothing else.
        docs_url=None, redoc_url=None, openapi_url=None,
    )

    # Every route on this router needs an Airflow user (bearer token or the UI's ``_token`` cookie:
    # 401 without a valid one) allowed to read the runs of the DAG in its path (``dag_id``), or, for a
    # route without one (the index), allowed to list DAG runs at all (403 otherwise): Airflow's own
    # dependency, asking the configured auth manager. Each route declares its one method; routing
    # refuses any other (405, ``Allow: GET``) before the check.
    # (No annotations FastAPI would have to resolve on these inner functions: with postponed annotations
    # it looks names up in the module's globals, where these lazily imported ones are not.)
    reports_router = APIRouter(prefix="/reports",
                               dependencies=[Depends(requires_access_dag("GET", DagAccessEntity.RUN))])

    @reports_router.get("", response_model=None)
    def index_without_slash():
        # Relative redirect: correct behind any proxy prefix, and the index's relative links need the slash.
        return RedirectResponse("reports/", status_code=307)

    the_user = Depends(get_user)  # the user the router's check resolved: FastAPI caches it per request

    @reports_router.get("/", response_model=None)
    def index(user=the_user):
        return index_page(readable_dag_ids(user))

    # ":path" lets a run id hold "/" (Airflow's allowed_run_id_pattern can be widened); report_path
    # encodes it, so it cannot reach outside the folder.
    @reports_router.get("/{dag_id}/{run_id:path}", response_model=None)
    def report(dag_id: str, run_id: str):
        return report_page(dag_id, run_id)

    fastapi_app.include_router(reports_router)
    # The WooCommerce webhook: outside Airflow's login, authenticated by its HMAC signature
    # (plugins/app/webhooks.py); its path is in OPEN_ROUTES.
    from officeguy_woocommerce.app.webhooks import create_router

    fastapi_app.include_router(create_router())
    return fastapi_app


class _BuiltOnFirstUse:
    """An ASGI app that builds ``create_app()`` on its first request and hands every request to it."""

    def __init__(self, factory) -> None:
        self._factory = factory
        self._app: FastAPI | None = None

    @property
    def app(self) -> FastAPI:
        if self._app is None:  # built synchronously within one event-loop step: no two builds
            self._app = self._factory()
        return self._app

    async def __call__(self, scope, receive, send) -> None:
        await self.app(scope, receive, send)


app = _BuiltOnFirstUse(create_app)


def readable_dag_ids(user) -> set[str]:
    """This project's DAG ids that ``user`` may read, as the configured auth manager decides (its
    batch filter; in multi-team mode asked per team, as Airflow's own ``get_authorized_dag_ids`` does)."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.models.dag import DagModel

    teams = DagModel.get_dag_id_to_team_name_mapping(list(KNOWN_DAG_IDS))
    by_team: dict[str | None, set[str]] = {}
    for dag_id in KNOWN_DAG_IDS:
        by_team.setdefault(teams.get(dag_id), set()).add(dag_id)
    auth_manager = get_auth_manager()
    readable: set[str] = set()
    for team_name, dag_ids in by_team.items():
        readable |= auth_manager.filter_authorized_dag_ids(dag_ids=dag_ids, user=user, method="GET",
                                                           team_name=team_name)
    return readable


def _not_found(message: str) -> Response:
    from fastapi.responses import PlainTextResponse

    return PlainTextResponse(message + "\n", status_code=404, headers={"X-Content-Type-Options": "nosniff"})


def index_page(readable: set[str]) -> Response:
    """The index: the newest reports of each of this project's DAGs in ``readable``; the others are
    left out altogether (not even their names)."""
    from fastapi.responses import Response

    folder = reports_folder()
    sections = []
    for dag_id in KNOWN_DAG_IDS:
        if dag_id not in readable:
            continue
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
    if not sections:
        sections.append('<p class="empty">You may not read the runs of these DAGs.</p>')
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
    """(href relative to the index, run id, status, written at) for the newest reports of one DAG. A run
    cleared and run again has a report per try (``<run id>#<n>``): each is listed, labelled with its try."""
    from officeguy_woocommerce.include.reports import split_report_name

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
        run_key, attempt = split_report_name(run_id)
        label = f"{run_key} (try {attempt})" if attempt > 1 else run_id
        runs.append((href, label, meta.get("status", ""), written))
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


def report_page(dag_id: str, run_id: str) -> Response:
    """One run's page, or a plain 404: only this project's DAG ids, only files under the folder."""
    from fastapi.responses import Response

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
