"""OfficeGuy -> WooCommerce stock sync. Wiring only: the logic is in include/ and plugins/."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import timedelta

import pendulum
from airflow.sdk import DAG, CronTriggerTimetable, Param, TaskGroup, get_current_context, task

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
        "full_read": Param(False, type="boolean", title="Read the whole store",
                           description="A triggered run re-reads only the products the store saved since the "
                                       "last run (fast on a large store); tick this to read every product, as "
                                       "the scheduled runs do, e.g. after restoring the store from a backup."),
    },
) as dag:
    # One OfficeGuy read per company (connection), shared by its stores; one branch per store (README
    # "Several stores"): its own pool, so the stores write side by side but never two writers to one.
    companies = SETTINGS.companies()
    single = len(SETTINGS.stores) == 1
    og_read = {conn: OfficeGuyStockExtractOperator(
        task_id="extract_officeguy_stock" if len(companies) == 1 else f"extract_officeguy_stock_{conn}",
        officeguy_conn_id=conn, output_path=staging.path_template(SETTINGS.home, f"og_stock_{conn}"
                                                                  if len(companies) > 1 else "og_stock"))
        for conn in companies}

    # (the steps import the app's task module when they run: pandas and the ledger stay out of parsing)
    @task(multiple_outputs=False)
    def pending_sales(og_extract: dict, woo_extract: dict, store: str) -> dict:
        from officeguy_woocommerce.app.stock_tasks import pending_sales as read

        ctx = get_current_context()
        return read(og_extract, woo_extract, dag_id=ctx["dag"].dag_id,
                    run_id=SETTINGS.store(store).run_key(ctx["run_id"]))

    @task(multiple_outputs=False)
    def plan(og_extract: dict, woo_extract: dict, store: str, pending: dict | None = None,
             siblings: list | None = None, sibling_names: list | None = None) -> dict:
        from officeguy_woocommerce.app.stock_tasks import plan_stock_run

        ctx = get_current_context()
        return plan_stock_run(og_extract, woo_extract, dag_id=ctx["dag"].dag_id,
                              run_id=SETTINGS.store(store).run_key(ctx["run_id"]), params=ctx["params"],
                              pending=pending, siblings=siblings, sibling_names=sibling_names)

    @task(multiple_outputs=False)
    def alert_low_stock(plan_result: dict, apply_result: dict, woo_extract: dict) -> dict:
        from officeguy_woocommerce.app.stock_tasks import send_stock_alerts

        return send_stock_alerts(plan_result, apply_result, woo_extract)

    woo_read, pending = {}, {}
    groups = {s.name: TaskGroup(s.group) if s.group else nullcontext() for s in SETTINGS.stores}
    for store in SETTINGS.stores:
        with groups[store.name]:
            # a triggered run reads what the store saved since the last read; the scheduled ones read it all
            woo_read[store.name] = WooCommerceStockExtractOperator(
                task_id="extract_woocommerce_products", woocommerce_conn_id=store.woocommerce_conn_id,
                output_path=staging.path_template(SETTINGS.home, "woo_products", store.group),
                snapshot_path=staging.snapshot_path(SETTINGS.home, store.woocommerce_conn_id),
                incremental="{{ dag_run.run_type == 'manual' and not params.full_read }}")
            if not single:
                pending[store.name] = pending_sales(og_read[store.officeguy_conn_id].output,
                                                    woo_read[store.name].output, store.name)

    for store in SETTINGS.stores:
        og = og_read[store.officeguy_conn_id]
        siblings = [s for s in companies[store.officeguy_conn_id] if s.name != store.name]
        with groups[store.name]:
            if single:
                planned = plan(og.output, woo_read[store.name].output, store.name)
            else:  # runs when another store's pending read failed (reported), not when its own inputs did
                planned = plan.override(trigger_rule="all_done")(
                    og.output, woo_read[store.name].output, store.name, pending[store.name],
                    [pending[s.name] for s in siblings], [s.name for s in siblings])
            # One slot per store: a backfill or a second trigger never writes beside this run (airflow-notes.md).
            applied = WooCommerceStockApplyOperator(
                task_id="apply_stock", woocommerce_conn_id=store.woocommerce_conn_id,
                payloads_path=staging.path_template(SETTINGS.home, "payloads", store.group),
                output_path=staging.path_template(SETTINGS.home, "applied", store.group),
                dry_run="{{ params.dry_run }}", pool=store.write_pool,
                retries=1, retry_delay=timedelta(seconds=5))  # a killed worker's try again
            planned >> applied
            alerts = alert_low_stock(planned, applied.output, woo_read[store.name].output)

            # Runs whatever happened upstream: the HTML report (linked in the UI) and the ledger row.
            RunReportOperator(
                task_id="report", python_callable=run_report, trigger_rule="all_done",
                op_kwargs={"flow": "stock", "store": store.name, "og": og.output, "woo": woo_read[store.name].output,
                           "plan": planned, "applied": applied.output, "alerts": alerts},
            )
