"""Writing a run's HTML report (include/reports/) and the report tasks' operator with its UI link."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from airflow.providers.standard.operators.python import PythonOperator

from officeguy_woocommerce.app.links import RunReportLink
from officeguy_woocommerce.include import config
from officeguy_woocommerce.include.reports import (
    render_orders_report,
    render_stock_report,
    report_name,
    reports_dir,
    text_summary,
    write_report,
)

log = logging.getLogger(__name__)


class RunReportOperator(PythonOperator):
    """A report task: runs whatever happened upstream and links its HTML page in the Airflow UI."""

    operator_extra_links = (RunReportLink(),)


def run_report(flow: str, **kwargs: Any) -> dict:
    """The report tasks' callable: the flow's report step, imported when the task runs (DAG files stay
    light to parse: the steps load pandas and the ledger)."""
    if flow == "stock":
        from officeguy_woocommerce.app.stock_tasks import stock_report_task as report
    elif flow == "orders":
        from officeguy_woocommerce.app.order_tasks import orders_report_task as report
    else:
        raise ValueError(f"unknown flow {flow!r}")
    try:
        return report(**kwargs)
    finally:  # the run's files are read: runs older than the retention go (this one too with 0 days)
        from officeguy_woocommerce.include.staging import remove_old_runs

        settings = config.load()
        removed = remove_old_runs(settings.home, settings.staging_keep_days)
        if removed:
            log.info("Removed the staging files of %d runs older than %d days (STOCK_SYNC_STAGING_KEEP_DAYS)",
                     len(removed), settings.staging_keep_days)


def reports_folder() -> Path:
    return reports_dir(config.load())


def run_attempt(context: Any = None) -> int:
    """This try of the DAG run: its ``clear_number`` + 1 (1 for a first run; a run cleared and run again,
    as ``airflow backfill create --reprocess-behavior completed`` does to a completed run, counts up).
    ``context`` is the task's Airflow context; without one the current task's is used, and outside a
    task (unit tests) it is 1."""
    if context is None:
        try:
            from airflow.sdk import get_current_context

            context = get_current_context()
        except Exception:  # noqa: BLE001 - not inside a running task
            return 1
    dag_run = context.get("dag_run") if hasattr(context, "get") else None
    clear_number = getattr(dag_run, "clear_number", None)
    return int(clear_number) + 1 if isinstance(clear_number, int) and clear_number >= 0 else 1


def write_run_report(flow: str, data: dict[str, Any]) -> Path:
    """Render and keep the page, one per try of the run (``data["attempt"]``: the first try's under the
    run key, the n-th's under ``<run key>#<n>``, include/reports/storage.report_name); the task log gets
    the short text version."""
    render = render_stock_report if flow == "stock" else render_orders_report
    name = report_name(data["run_id"], data.get("attempt"))
    path = write_report(reports_folder(), data["dag_id"], name, render(data))
    log.info("%s\nReport: %s", text_summary(data), path)
    return path


def history(ledger, flow: str, keys: tuple[str, ...], limit: int = 30) -> list[dict]:
    """The last tries' counts for the report's trend chart, oldest first (a run run twice shows twice)."""
    runs = ledger.runs(flow=flow, limit=limit)
    return [{"run_id": report_name(r.run_id, r.attempt), "started_at": r.started_at,
             **{k: (r.counts or {}).get(k, 0) for k in keys}} for r in reversed(runs)]


def timing(ledger, run_pk: int) -> dict[str, Any]:
    run = ledger.get_run(run_pk)
    started = run.started_at if run.started_at.tzinfo else run.started_at.replace(tzinfo=UTC)
    now = datetime.now(UTC)
    return {"started_at": started, "finished_at": now, "duration_s": (now - started).total_seconds()}
