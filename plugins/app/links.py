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

    Each try of a run has its own report (include/reports/storage.report_name: the run key for the first
    try, ``<run key>#<n>`` for the n-th, a run cleared and run again). Airflow computes the link in the
    worker when the report task ends, with that task instance: the link names the try of the DAG run it
    ran in (``dag_run.clear_number`` + 1), so it opens the report that task just wrote, the newest. The
    first try's URL is the one it always was, and each try's URL stays valid (a later try never
    overwrites it). Given only a task-instance key (no running task), it names the newest try whose
    report is in the reports folder.

    Attach it to the operator of the report task (``operator_extra_links = (RunReportLink(),)``).
    The page is behind Airflow's login and DAG permissions: a click from the UI carries the session's
    ``_token`` cookie (the URL is under the UI's own base URL, the cookie's path), so a user who may
    read the DAG's runs sees it; anyone else gets 401 or 403.
    """

    name = "Run report"

    def get_link(self, operator, *, ti_key) -> str:
        from officeguy_woocommerce.include.reports.storage import report_name

        run_key = store_run_key(ti_key.run_id, ti_key.task_id)
        return report_url(ti_key.dag_id, report_name(run_key, _run_try(ti_key, run_key)))


def _run_try(ti, run_key: str) -> int:
    """The try of the DAG run a task instance ran in (its ``clear_number`` + 1), else the newest try
    with a report in the folder."""
    try:
        clear_number = ti.get_template_context()["dag_run"].clear_number
    except Exception:  # noqa: BLE001 - a plain TaskInstanceKey, or no run context
        clear_number = None
    if isinstance(clear_number, int) and clear_number >= 0:
        return clear_number + 1
    try:
        from officeguy_woocommerce.include.reports.storage import latest_try, reports_dir

        return latest_try(reports_dir(), ti.dag_id, run_key)
    except Exception:  # noqa: BLE001 - settings not loadable: the first try's link
        return 1


def store_run_key(run_id: str, task_id: str) -> str:
    """The report's run name for a task of a store's branch (``main.report`` -> ``<run_id>~main``,
    include/config.Store.run_key); a top-level task (the single store) reports under the run id."""
    group = task_id.split(".", 1)[0] if "." in task_id else ""
    return f"{run_id}~{group}" if group else run_id
