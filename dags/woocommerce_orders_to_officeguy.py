"""WooCommerce paid orders -> OfficeGuy documents, exactly once. Wiring only.

Scheduled runs read the orders modified in their data interval; ``airflow backfill create`` over
any range after the go-live date recovers missed orders without duplicates; manual runs read from
the stored watermark to now, or just the ``order_ids`` given.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, CronTriggerTimetable, Param, get_current_context, task

from include import config
from officeguy.operators import OfficeGuyDocumentsOperator, OfficeGuyItemCardsOperator
from stock_sync.order_tasks import orders_report_task, plan_order_documents
from stock_sync.run_report import RunReportOperator
from woocommerce.operators import WooCommerceOrdersExtractOperator, WooCommerceOrderWriteBackOperator

SETTINGS = config.load()  # environment variables only: no metadata-database access at parse time


def _schedule():
    if SETTINGS.orders_cron is None:
        return None
    # A plain cron string gives a zero-width interval; each run needs a real window (airflow-notes.md).
    return CronTriggerTimetable(SETTINGS.orders_cron, timezone="UTC", interval=timedelta(minutes=SETTINGS.orders_every))


with DAG(
    dag_id="woocommerce_orders_to_officeguy",
    description="Every paid WooCommerce order becomes an OfficeGuy document (invoice-receipt by default), once",
    schedule=_schedule(),
    start_date=pendulum.datetime(SETTINGS.go_live.year, SETTINGS.go_live.month, SETTINGS.go_live.day, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["officeguy", "woocommerce", "orders"],
    doc_md=__doc__,
    params={
        "dry_run": Param(False, type="boolean", title="Dry run",
                         description="Read and plan, but create no item cards or documents and write nothing back."),
        "order_ids": Param([], type="array", items={"type": "integer"}, title="Only these orders",
                           description="WooCommerce order ids to document now, whatever their date. "
                                       "Empty: the orders modified since the last run."),
    },
) as dag:
    extract = WooCommerceOrdersExtractOperator(task_id="extract_orders")

    @task
    def plan_documents(extracted: dict) -> dict:
        ctx = get_current_context()
        return plan_order_documents(extracted, dag_id=ctx["dag"].dag_id, run_id=ctx["run_id"], params=ctx["params"])

    planned = plan_documents(extract.output)
    # One slot for every task that writes to OfficeGuy: a backfill beside a scheduled run waits.
    cards = OfficeGuyItemCardsOperator(task_id="create_item_cards", orders=extract.output, pool=SETTINGS.write_pool)
    documents = OfficeGuyDocumentsOperator(task_id="create_documents", orders=extract.output, cards=cards.output,
                                           pool=SETTINGS.write_pool)
    written = WooCommerceOrderWriteBackOperator(task_id="write_back", orders=extract.output)
    planned >> cards
    documents >> written

    # Runs whatever happened upstream: the HTML report (linked in the UI), the ledger row, the watermark.
    RunReportOperator(
        task_id="report", python_callable=orders_report_task, trigger_rule="all_done",
        op_kwargs={"extract": extract.output, "planned": planned, "cards": cards.output,
                   "documents": documents.output, "written": written.output},
    )
