"""OfficeGuy -> WooCommerce stock sync. Wiring only: the logic is in include/ and plugins/."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, CronTriggerTimetable, Param, get_current_context, task

from include import config
from officeguy.operators import OfficeGuyStockExtractOperator
from stock_sync.run_report import RunReportOperator
from stock_sync.tasks import plan_stock_run, send_stock_alerts, stock_report_task
from woocommerce.operators import WooCommerceStockApplyOperator, WooCommerceStockExtractOperator

SETTINGS = config.load()  # environment variables only: no metadata-database access at parse time


def _schedule():
    if SETTINGS.stock_cron is None:
        return None
    return CronTriggerTimetable(SETTINGS.stock_cron, timezone=SETTINGS.timezone)


with DAG(
    dag_id="officeguy_stock_to_woocommerce",
    description="OfficeGuy's stock (the truth) to the WooCommerce store's products",
    schedule=_schedule(),
    start_date=pendulum.datetime(2026, 1, 1, tz=SETTINGS.timezone),
    catchup=False,
    max_active_runs=1,
    tags=["officeguy", "woocommerce", "stock"],
    doc_md=__doc__,
    params={
        "dry_run": Param(False, type="boolean", title="Dry run",
                         description="Plan and report, but write nothing to the store."),
        "skus": Param([], type="array", items={"type": "string"}, title="Only these SKUs",
                      description="Sync only products with these SKUs (one per line). Empty: every product."),
        "force": Param(False, type="boolean", title="Force past the safety brake",
                       description="Write even if the plan would zero or cut most products, or OfficeGuy "
                                   "returned no items. Use only after checking OfficeGuy's numbers."),
    },
) as dag:
    og = OfficeGuyStockExtractOperator(task_id="extract_officeguy_stock")
    woo = WooCommerceStockExtractOperator(task_id="extract_woocommerce_products")

    @task
    def plan(og_extract: dict, woo_extract: dict) -> dict:
        ctx = get_current_context()
        return plan_stock_run(og_extract, woo_extract, dag_id=ctx["dag"].dag_id, run_id=ctx["run_id"],
                              params=ctx["params"])

    planned = plan(og.output, woo.output)
    # One slot: a backfill or a second trigger never writes beside this run (airflow-notes.md).
    applied = WooCommerceStockApplyOperator(task_id="apply_stock", plan=planned, pool=SETTINGS.write_pool)

    @task
    def alert_low_stock(plan_result: dict, apply_result: dict, woo_extract: dict) -> dict:
        return send_stock_alerts(plan_result, apply_result, woo_extract)

    alerts = alert_low_stock(planned, applied.output, woo.output)

    # Runs whatever happened upstream: the HTML report (linked in the UI) and the ledger row.
    RunReportOperator(
        task_id="report", python_callable=stock_report_task, trigger_rule="all_done",
        op_kwargs={"og": og.output, "woo": woo.output, "plan": planned, "applied": applied.output, "alerts": alerts},
    )
