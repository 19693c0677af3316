"""WooCommerce paid orders -> OfficeGuy documents, exactly once. Wiring only.

Scheduled runs read the orders modified in their data interval; ``airflow backfill create`` over
any range after the go-live date recovers missed orders without duplicates; manual runs read from
the stored watermark to now, or just the ``order_ids`` given.
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import timedelta

import pendulum
from airflow.sdk import (
    DAG,
    Asset,
    AssetAny,
    AssetOrTimeSchedule,
    CronTriggerTimetable,
    Param,
    TaskGroup,
    get_current_context,
    task,
)

from officeguy_woocommerce.app.report_tasks import RunReportOperator, run_report
from officeguy_woocommerce.include import config, staging
from officeguy_woocommerce.include.webhooks import orders_asset_name, orders_asset_uri
from officeguy_woocommerce.woocommerce.operators import (
    WooCommerceOrdersExtractOperator,
)

SETTINGS = config.load()  # environment variables only: no metadata-database access at parse time
WRITE_RETRIES = {"retries": 1, "retry_delay": timedelta(seconds=5)}  # a killed worker's try runs again


# Each store's webhook deliveries are asset events (plugins/app/webhooks.py): a run starts at once and
# documents just those orders; the cron poll stays and catches every order a webhook missed.
ASSETS = {s.name: Asset(name=orders_asset_name(s.name), uri=orders_asset_uri(s.name)) for s in SETTINGS.stores}


def _schedule():
    assets = list(ASSETS.values())
    if SETTINGS.orders_cron is None:
        return assets
    # A plain cron string gives a zero-width interval; each run needs a real window (airflow-notes.md).
    return AssetOrTimeSchedule(
        timetable=CronTriggerTimetable(SETTINGS.orders_cron, timezone="UTC",
                                       interval=timedelta(minutes=SETTINGS.orders_every)),
        assets=assets[0] if len(assets) == 1 else AssetAny(*assets))


with DAG(
    dag_id="woocommerce_orders_to_officeguy",
    description="Every paid WooCommerce order becomes an OfficeGuy document (invoice-receipt by default), once",
    schedule=_schedule(),
    start_date=pendulum.datetime(SETTINGS.go_live.year, SETTINGS.go_live.month, SETTINGS.go_live.day, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["officeguy", "woocommerce", "orders"],
    doc_md=__doc__,
    user_defined_filters=staging.JINJA_FILTERS,  # the extract's templated path names the run's staging folder
    params={
        "dry_run": Param(False, type="boolean", title="Dry run",
                         description="Read and plan, but create no item cards or documents and write nothing back."),
        "order_ids": Param([], type="array", items={"type": "integer"}, title="Only these orders",
                           description="WooCommerce order ids to document now, whatever their date, as a JSON "
                                       "list such as [1234, 1235]. "
                                       "Empty: the orders modified since the last run."),
    },
) as dag:
    # The app's steps import their module when they run: the ledger stays out of parsing.
    @task(multiple_outputs=False)
    def orders_window(store: str) -> dict:
        from officeguy_woocommerce.app.order_tasks import orders_window as decide

        return decide(get_current_context(), store)

    @task(multiple_outputs=False)
    def plan_documents(extracted: dict, store: str) -> dict:
        from officeguy_woocommerce.app.order_tasks import plan_order_documents

        ctx = get_current_context()
        return plan_order_documents(extracted, dag_id=ctx["dag"].dag_id, params=ctx["params"], store_name=store,
                                    run_id=SETTINGS.store(store).run_key(ctx["run_id"]))

    # Every task that writes to OfficeGuy runs in its store's one-slot pool: a backfill beside a scheduled
    # run waits, the stores write side by side. A try whose worker died is retried once: the retry takes
    # over its claims and looks up before creating.
    @task(multiple_outputs=False, **WRITE_RETRIES)
    def create_item_cards(planned: dict, store: str) -> dict:
        from officeguy_woocommerce.app.order_tasks import create_item_cards as create

        ctx = get_current_context()
        return create(planned, dag_id=ctx["dag"].dag_id, run_id=SETTINGS.store(store).run_key(ctx["run_id"]),
                      params=ctx["params"])

    @task(multiple_outputs=False, **WRITE_RETRIES)
    def create_documents(planned: dict, cards: dict, store: str) -> dict:
        from officeguy_woocommerce.app.order_tasks import create_documents as create

        ctx = get_current_context()
        return create(planned, cards, dag_id=ctx["dag"].dag_id, run_id=SETTINGS.store(store).run_key(ctx["run_id"]),
                      try_number=ctx["ti"].try_number, params=ctx["params"])

    @task(multiple_outputs=False, **WRITE_RETRIES)
    def write_back(planned: dict, documents: dict) -> dict:
        from officeguy_woocommerce.app.order_tasks import write_back_orders

        return write_back_orders(planned, params=get_current_context()["params"])

    for store in SETTINGS.stores:  # one branch per store (README "Several stores")
        with TaskGroup(store.group) if store.group else nullcontext():
            # its inlet: the store's recent webhook events, also those Airflow left out of the run (README)
            read = orders_window.override(inlets=[ASSETS[store.name]])(store.name)
            _read = f"ti.xcom_pull(task_ids='{store.task_id('orders_window')}')"
            extract = WooCommerceOrdersExtractOperator(
                task_id="extract_orders", woocommerce_conn_id=store.woocommerce_conn_id,
                output_path=staging.path_template(SETTINGS.home, "orders", store.group),
                modified_after=f"{{{{ {_read}['start'] or '' }}}}", modified_before=f"{{{{ {_read}['end'] or '' }}}}",
                statuses=f"{{{{ {_read}['statuses'] | join(',') }}}}",
                order_ids=f"{{{{ {_read}['order_ids'] | join(',') }}}}")
            read >> extract
            planned = plan_documents(extract.output, store.name)
            cards = create_item_cards.override(pool=store.write_pool)(planned, store.name)
            documents = create_documents.override(pool=store.write_pool)(planned, cards, store.name)
            written = write_back(planned, documents)

            # Runs whatever happened upstream: the HTML report (linked in the UI), the ledger row, the watermark.
            RunReportOperator(
                task_id="report", python_callable=run_report, trigger_rule="all_done",
                op_kwargs={"flow": "orders", "store": store.name, "read": read, "extract": extract.output,
                           "planned": planned, "cards": cards, "documents": documents, "written": written},
            )
