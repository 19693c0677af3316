"""OfficeGuy -> WooCommerce stock sync. Wiring only: the logic is in include/ and plugins/."""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, CronTriggerTimetable, Param, get_current_context, task

from officeguy_woocommerce.app.report_tasks import RunReportOperator, run_report
from officeguy_woocommerce.include import config, staging
from officeguy_woocommerce.officeguy.operators import OfficeGuyStockExtractOperator
from officeguy_woocommerce.woocommerce.operators import WooCommerceStockApplyOperator, WooCommerceStockExtractOperator

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
    user_defined_filters=staging.JINJA_FILTERS,  # the operators' templated paths name the run's staging folder
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
    og = OfficeGuyStockExtractOperator(task_id="extract_officeguy_stock",
                                       output_path=staging.path_template(SETTINGS.home, "og_stock"))
    woo = WooCommerceStockExtractOperator(task_id="extract_woocommerce_products",
                                          output_path=staging.path_template(SETTINGS.home, "woo_products"))

    # (the steps import the app's task module when they run: pandas and the ledger stay out of parsing)
    @task(multiple_outputs=False)
    def plan(og_extract: dict, woo_extract: dict) -> dict:
        from officeguy_woocommerce.app.stock_tasks import plan_stock_run

        ctx = get_current_context()
        return plan_stock_run(og_extract, woo_extract, dag_id=ctx["dag"].dag_id, run_id=ctx["run_id"],
                              params=ctx["params"])

    planned = plan(og.output, woo.output)
    # One slot: a backfill or a second trigger never writes beside this run (airflow-notes.md).
    applied = WooCommerceStockApplyOperator(
        task_id="apply_stock", payloads_path=staging.path_template(SETTINGS.home, "payloads"),
        output_path=staging.path_template(SETTINGS.home, "applied"), dry_run="{{ params.dry_run }}",
        pool=SETTINGS.write_pool, retries=1, retry_delay=timedelta(seconds=5))  # a killed worker's try again
    planned >> applied

    @task(multiple_outputs=False)
    def alert_low_stock(plan_result: dict, apply_result: dict, woo_extract: dict) -> dict:
        from officeguy_woocommerce.app.stock_tasks import send_stock_alerts

        return send_stock_alerts(plan_result, apply_result, woo_extract)

    alerts = alert_low_stock(planned, applied.output, woo.output)

    # Runs whatever happened upstream: the HTML report (linked in the UI) and the ledger row.
    RunReportOperator(
        task_id="report", python_callable=run_report, trigger_rule="all_done",
        op_kwargs={"flow": "stock", "og": og.output, "woo": woo.output, "plan": planned, "applied": applied.output,
                   "alerts": alerts},
    )
