"""The orders DAG's application steps, called from thin TaskFlow tasks in the DAG file.

``orders_window`` decides what the generic extract operator reads (include/orders_sync.orders_to_read);
``plan_order_documents`` adds what the documents need from the store (its tax settings, which sold
variations sell from their parent's stock) and plans the ledger rows; ``create_item_cards``,
``create_documents`` and ``write_back_orders`` combine both systems and the ledger (exactly once, I1);
the report closes the run. Heavy imports load when a step runs, never when a DAG file is parsed."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from officeguy_woocommerce.app.ledger_connection import get_ledger
from officeguy_woocommerce.include import config
from officeguy_woocommerce.include.ledger import RunStatus
from officeguy_woocommerce.include.orders_sync import OPEN_OR_CLAIMED, before_go_live, plan
from officeguy_woocommerce.include.staging import Stage

log = logging.getLogger(__name__)
FLOW = "orders"
RECENT_EVENTS = timedelta(minutes=10)  # webhook events an asset-triggered run also looks at


def _store(name: str) -> config.Store:
    return config.load().store(name)


def _woo_hook(store: str = config.DEFAULT_STORE):
    from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook

    return WooCommerceHook(_store(store).woocommerce_conn_id)


def _og_hook(store: str = config.DEFAULT_STORE):
    from officeguy_woocommerce.officeguy.hooks import OfficeGuyHook

    return OfficeGuyHook(_store(store).officeguy_conn_id)


def orders_window(context: dict[str, Any], store_name: str = config.DEFAULT_STORE) -> dict:
    """What this run reads (include/orders_sync.orders_to_read): refused before go-live (a backfill over
    a range before it), the named orders, or the run's window and the orders still open in the ledger."""
    from officeguy_woocommerce.include.orders_sync import orders_to_read

    settings = config.load()
    interval = (context.get("data_interval_start"), context.get("data_interval_end"))
    refusal = before_go_live(interval, settings.go_live)
    if refusal:
        raise AirflowFailException(refusal)
    with _woo_hook(store_name) as hook:
        store = hook.base_url
        webhook_warnings = _webhook_health(hook, store_name)
    ledger = get_ledger()
    run_type = str(getattr(context["dag_run"].run_type, "value", context["dag_run"].run_type))
    open_ids = ({r.woo_order_id for r in ledger.documents(store, states=OPEN_OR_CLAIMED)}
                | set(ledger.unwritten_order_ids(store)))
    named = context["params"].get("order_ids") or []
    webhook_ids = webhook_order_ids(context, store_name) if run_type == "asset_triggered" else []
    if webhook_ids and not named:
        log.info("Started by the store's webhooks: orders %s", ", ".join(map(str, webhook_ids)))
        named = webhook_ids
    return {"store": store, "webhook_orders": webhook_ids, "warnings": webhook_warnings, **orders_to_read(
        named=named, data_interval=interval,
        run_type=run_type, run_after=context["dag_run"].run_after,
        watermark=ledger.watermark(FLOW, store), go_live=settings.go_live, overlap=settings.window_overlap,
        statuses=settings.order_statuses, open_ids=open_ids)}


def _webhook_health(hook: Any, store_name: str) -> list[str]:
    """A store that uses webhooks (its connection has a secret): warn when one is missing or disabled
    (WooCommerce sends no retries and disables a webhook after repeated failures)."""
    from officeguy_woocommerce.include.webhooks import webhook_warnings

    if not hook.settings.webhook_secret:
        return []
    try:
        warnings = webhook_warnings(hook.list_webhooks(), store_name)
    except Exception as exc:  # noqa: BLE001 - the check never stops the run: the poll goes on
        warnings = [f"could not read the store's webhooks ({exc}); the scheduled poll goes on"]
    for warning in warnings:
        log.warning("Webhooks: %s", warning)
    return warnings


def webhook_order_ids(context: dict[str, Any], store_name: str) -> list[int]:
    """The orders this store's webhook deliveries named (the asset events that started the run)."""
    from officeguy_woocommerce.include.webhooks import order_ids_of, orders_asset_name

    name = orders_asset_name(store_name)
    extras = []
    for events in (context.get("triggering_asset_events") or {}).values():
        for event in events:
            asset = getattr(event, "asset", None)
            if getattr(asset, "name", None) == name:
                extras.append(dict(getattr(event, "extra", None) or {}))
    # Airflow 3.3 can leave events recorded in the same instant as the run's first one unconsumed until
    # the next event comes (a WP-Cron burst: bench/RESULTS.md, webhooks): the store's events of the last
    # minutes are read too (the task's inlet). An order already documented costs a re-read, nothing more.
    try:
        since = (datetime.now(UTC) - RECENT_EVENTS).isoformat()
        extras += [dict(getattr(e, "extra", None) or {}) for e in context["inlet_events"][0].after(since).limit(500)]
    except Exception as exc:  # noqa: BLE001 - the run's own events are enough; the poll covers the rest
        log.warning("Could not read the store's recent webhook events (%s); documenting the run's own", exc)
    return order_ids_of(extras)


def _store_facts(orders: list[dict], store_name: str) -> dict:
    """What the documents need from the store beyond the orders: its tax settings (how each document
    states VAT; read once per run) and which sold variations sell from their parent's stock (they are
    documented on the parent's card). The orders are marked in place."""
    from officeguy_woocommerce.include.orders_sync import mark_stock_holders, stock_holder_parents

    if not orders:
        return {"store_tax": {}, "api_calls": 0}
    with _woo_hook(store_name) as hook:
        parent_managed: dict[int, int] = {}
        for parent, variations in stock_holder_parents(orders).items():
            # a read that fails fails the step (retried): a guess could move the wrong card
            parent_managed.update(hook.parent_managed_variations(parent, variations))
        tax = {"calc_taxes": hook.get_setting("general", "woocommerce_calc_taxes") == "yes",
               "prices_include_tax": hook.get_setting("tax", "woocommerce_prices_include_tax") == "yes"}
    if parent_managed:
        log.info("%d order lines sell variations whose parent manages the stock: documented on the parent's card",
                 mark_stock_holders(orders, parent_managed))
    return {"store_tax": tax, "api_calls": hook.calls}


def plan_order_documents(extract: dict, *, dag_id: str, run_id: str, params: dict[str, Any],
                         store_name: str = config.DEFAULT_STORE) -> dict:
    """A ledger row for every document the run's orders need (sale, refunds, cancellation)."""
    from officeguy_woocommerce.app.report_tasks import run_attempt

    ledger = get_ledger()
    store = extract["store"]
    run_pk = ledger.start_run(flow=FLOW, dag_id=dag_id, run_id=run_id, store=store, dry_run=bool(params.get("dry_run")),
                              attempt=run_attempt())  # this try's row: a cleared and re-run run gets its own
    orders = Stage.read_json(extract["path"])
    facts = _store_facts(orders, store_name)
    settings = config.load()
    orders_path = Stage(settings.home, dag_id, run_id).write_json("orders_planned", orders)
    named = [int(i) for i in params.get("order_ids") or []]
    if named and not params.get("dry_run"):
        reopened = ledger.reopen_parked(store, named)
        if reopened:
            log.info("%d parked documents of the named orders are tried again", reopened)
    report = plan(orders, ledger, store, statuses=settings.order_statuses, settings=settings.document_settings())
    open_rows = ledger.documents(store, order_ids=[o["id"] for o in orders], states=OPEN_OR_CLAIMED)
    for item in report.skipped:
        log.info("Order %s: %s", item["order"], item["reason"])
    for item in report.parked:
        log.error("Order %s parked [%s]: %s", item["order"], item["doc_key"], item["reason"])
    log.info("%d orders; %d documents to create; %d already documented before this run", len(orders), len(open_rows),
             len(report.already_documented))
    return {"run_pk": run_pk, "store": store, "store_name": store_name, "orders": len(orders), "to_create": len(open_rows),
            "skipped": report.skipped, "parked": report.parked, "already_documented": report.already_documented,
            "orders_path": orders_path,
            "store_tax": facts["store_tax"], "api_calls": facts["api_calls"]}


def create_item_cards(planned: dict, *, dag_id: str, run_id: str, params: dict[str, Any]) -> dict:
    """Every sold product gets an OfficeGuy item card (created once; recorded in the item map)."""
    from officeguy_woocommerce.include.orders_sync import ensure_cards

    if params.get("dry_run"):
        log.info("Dry run: no item cards are created.")
        return {"cards": [], "failed": [], "api_calls": 0, "item_ids_path": None}
    orders = Stage.read_json(planned["orders_path"])
    with _og_hook(planned.get("store_name", config.DEFAULT_STORE)) as hook:
        item_ids, report = ensure_cards(orders, get_ledger(), planned["store"], hook, hook.list_income_items())
    for card in report.cards:
        log.info("New OfficeGuy item card %s for Woo product %s (%s, SKU %s)", card["og_item_id"], card["woo_id"],
                 card["name"], card["sku"] or "-")
    for failure in report.failed:
        log.error("No card for Woo product %s: %s. Its orders wait for the next run.", failure["woo_id"],
                  failure["error"])
    path = Stage(config.load().home, dag_id, run_id).write_json("item_ids", {str(k): v for k, v in item_ids.items()})
    return {"cards": report.cards, "failed": report.failed, "api_calls": hook.calls, "item_ids_path": path}


def create_documents(planned: dict, cards: dict, *, dag_id: str, run_id: str, try_number: int,
                     params: dict[str, Any]) -> dict:
    """The open OfficeGuy documents of the run's orders, exactly once each (claim, look up, create)."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from officeguy_woocommerce.include.documents import StoreTax
    from officeguy_woocommerce.include.orders_sync import DocumentContext
    from officeguy_woocommerce.include.orders_sync import create_documents as create

    if params.get("dry_run"):
        log.info("Dry run: no documents are created.")
        return {"created": [], "found": [], "parked": [], "failed": [], "api_calls": 0}
    settings = config.load()
    name = planned.get("store_name", config.DEFAULT_STORE)
    with _og_hook(name) as og, _woo_hook(name) as woo:
        ctx = DocumentContext(
            ledger=get_ledger(), store=planned["store"], og=og, woo=woo, settings=settings.document_settings(),
            store_tax=StoreTax(**(planned.get("store_tax") or {})), token=f"{dag_id}/{run_id}/{try_number}",
            earlier_tries=f"{dag_id}/{run_id}/",  # a retry takes over the claims of its dead earlier try
            today=datetime.now(UTC).astimezone(ZoneInfo(settings.timezone)).date(), max_attempts=settings.max_attempts)
        item_ids = {int(k): v for k, v in Stage.read_json(cards["item_ids_path"]).items()}
        report = create(Stage.read_json(planned["orders_path"]), item_ids, ctx)
    for doc in report.created:
        log.info("Order %s: OfficeGuy document #%s (id %s) created [%s]", doc["number"], doc["document_number"],
                 doc["document_id"], doc["doc_key"])
    for doc in report.found:
        log.warning("Order %s: document %s already existed in OfficeGuy (an earlier try reached it); recorded, not "
                    "created again", doc["order"], doc["document_id"])
    for item in report.parked:
        log.error("Order %s parked [%s]: %s", item["order"], item["doc_key"], item["reason"])
    for item in report.failed:
        log.error("Order %s not documented yet [%s]: %s. The next run retries it.", item["order"], item["doc_key"],
                  item["error"])
    return {**report.as_dict(), "api_calls": og.calls + woo.calls}


def write_back_orders(planned: dict, *, params: dict[str, Any]) -> dict:
    """Each new document's id and number into its order (meta) and an order note."""
    from officeguy_woocommerce.include.orders_sync import write_back

    if params.get("dry_run"):
        return {"failed": [], "api_calls": 0}
    order_ids = [o["id"] for o in Stage.read_json(planned["orders_path"])]
    with _woo_hook(planned.get("store_name", config.DEFAULT_STORE)) as hook:
        report = write_back(get_ledger(), planned["store"], hook, add_note=config.load().order_note,
                            order_ids=order_ids)
    for item in report.failed:
        log.error("Order %s: %s", item["order"], item["error"])
    return {"failed": report.failed, "api_calls": hook.calls}


def report_order_run(extract: dict | None, planned: dict | None, cards: dict | None, documents: dict | None,
                     written: dict | None, *, dag_id: str, run_id: str, run_type: str, dry_run: bool,
                     data_interval: tuple | None = None, read: dict | None = None, attempt: int = 1) -> dict:
    """Log the run's summary, close its ledger row, move the watermark after a complete scheduled or
    manual window (never for a backfill), and fail the run when a step failed or an order waits.

    Every input may be None (its task failed or never ran, e.g. a run refused before go-live). One
    ledger row and one report per try of the run (``attempt``): the plan step's row when it ran in this
    try, else a row of this try's own; an earlier try's row and report are left as they were."""
    ledger = get_ledger()
    store = (extract or planned or read or {}).get("store", "")
    run_pk = ledger.start_run(flow=FLOW, dag_id=dag_id, run_id=run_id, store=store, dry_run=dry_run, attempt=attempt)
    docs = documents or {}
    already = (planned or {}).get("already_documented", [])
    counts = {
        "orders": (extract or {}).get("orders", 0),
        "created": len(docs.get("created", [])), "already_documented": len(already),
        "found": len(docs.get("found", [])),
        "parked": len(docs.get("parked", [])) + len((planned or {}).get("parked", [])),
        # a document waiting for a retry, a card not made, a write-back to the store that failed
        "failed": len(docs.get("failed", [])) + len((cards or {}).get("failed", [])) + len(
            (written or {}).get("failed", [])),
        "cards": len((cards or {}).get("cards", [])),
        "skipped": len((planned or {}).get("skipped", [])) + len(docs.get("skipped", [])),
        "api_calls": sum((step or {}).get("api_calls", 0) for step in (extract, planned, cards, documents, written)),
        "window": (extract or {}).get("window"),
    }
    failed_step = next((name for name, step in (("extract orders", extract), ("plan documents", planned),
                                                ("create item cards", cards), ("create documents", documents),
                                                ("write back", written)) if step is None), None)
    window = (extract or {}).get("window")
    if failed_step:
        status = RunStatus.FAILED
        message = (before_go_live(data_interval, config.load().go_live) if extract is None else None) or (
            f"The step '{failed_step}' failed; the orders it did not reach are read again next run.")
    elif counts["failed"] or counts["parked"]:
        status = RunStatus.FAILED
        message = (f"{counts['parked']} orders parked and {counts['failed']} waiting for a retry: see the report; "
                   "parked orders need a person (fix the order in WooCommerce and it is retried).")
    else:
        status, message = (RunStatus.DRY_RUN if dry_run else RunStatus.SUCCEEDED), ""
        if window and not dry_run and run_type in ("scheduled", "manual"):
            from datetime import datetime

            ledger.move_watermark(FLOW, store, datetime.fromisoformat(window[1]))
    ledger.finish_run(run_pk, status=status, counts=counts, message=message)

    from officeguy_woocommerce.app.report_tasks import history, timing, write_run_report

    write_run_report(FLOW, {
        "dag_id": dag_id, "run_id": run_id, "attempt": attempt, "status": status, "dry_run": dry_run,
        "message": message, **timing(ledger, run_pk), "window": window, "counts": counts,
        "created": docs.get("created", []), "already_documented": already, "found": docs.get("found", []),
        "parked": (planned or {}).get("parked", []) + docs.get("parked", []),
        "failed": docs.get("failed", []) + (cards or {}).get("failed", []) + (written or {}).get("failed", []),
        "cards": (cards or {}).get("cards", []),
        "skipped": (planned or {}).get("skipped", []) + docs.get("skipped", []) + [
            {"order": i, "reason": "named in order_ids, but the store has no such order (or not in a status this "
                                   "sync reads): nothing was done"} for i in (extract or {}).get("unknown_order_ids", [])
            if i in (read or {}).get("named", [])],
        "history": history(ledger, FLOW, ("created", "parked", "failed")),
        "webhook_warnings": (read or {}).get("warnings", []),
    })
    if status == RunStatus.FAILED:
        # after the report and the ledger row are written (a run refused before go-live too): the report
        # is the DAG's leaf, so it decides the run's colour; a refused or failed run must stay red
        raise AirflowFailException(message)
    return counts


def orders_report_task(extract: dict | None, planned: dict | None, cards: dict | None, documents: dict | None,
                       written: dict | None, read: dict | None = None, store: str = config.DEFAULT_STORE,
                       **context) -> dict:
    """The report task's callable (RunReportOperator passes the Airflow context); one per store."""
    from officeguy_woocommerce.app.report_tasks import run_attempt

    run_type = context["dag_run"].run_type
    return report_order_run(extract, planned, cards, documents, written, dag_id=context["dag"].dag_id,
                            run_id=_store(store).run_key(context["run_id"]), run_type=str(getattr(run_type, "value", run_type)),
                            dry_run=bool(context["params"].get("dry_run")),
                            data_interval=(context.get("data_interval_start"), context.get("data_interval_end")),
                            read=read, attempt=run_attempt(context))
