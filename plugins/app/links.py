"""The "Run report" extra link and the URL of a run's report page: light enough for DAG files to import
(the pages themselves are served by ``officeguy_woocommerce.app.reports_app``)."""

from __future__ import annotations

from urllib.parse import quote

from airflow.sdk import BaseOperatorLink

URL_PREFIX = "/stock-sync"


def report_url(dag_id: str, run_id: str, base_url: str | None = None) -> str:
    """The URL of a run's report. ``base_url`` defaults to Airflow's ``[api] base_url``; when that is
    not configured the URL is site-relative (``/stock-sync/...``), which the UI opens fine."""
    if base_url is None:
        from airflow.configuration import conf

        base_url = conf.get("api", "base_url", fallback="") or ""
    # quote(safe="") encodes the run id's ":" and "+" (a "+" in a path is literal, but proxies and
    # people copying links disagree about that) and any "/" so it stays one path segment.
    return f"{base_url.rstrip('/')}{URL_PREFIX}/reports/{quote(dag_id, safe='')}/{quote(run_id, safe='')}"


class RunReportLink(BaseOperatorLink):
    """"Run report" on a task instance: the URL of its run's page, for whichever task carries it.

    Attach it to the operator of the report task (``operator_extra_links = (RunReportLink(),)``).
    The page is behind Airflow's login and DAG permissions: a click from the UI carries the session's
    ``_token`` cookie (the URL is under the UI's own base URL, the cookie's path), so a user who may
    read the DAG's runs sees it; anyone else gets 401 or 403.
    """

    name = "Run report"

    def get_link(self, operator, *, ti_key) -> str:
        return report_url(ti_key.dag_id, store_run_key(ti_key.run_id, ti_key.task_id))


def store_run_key(run_id: str, task_id: str) -> str:
    """The report's run name for a task of a store's branch (``main.report`` -> ``<run_id>~main``,
    include/config.Store.run_key); a top-level task (the single store) reports under the run id."""
    group = task_id.split(".", 1)[0] if "." in task_id else ""
    return f"{run_id}~{group}" if group else run_id
