"""The orders DAG's plan and report steps, called from thin TaskFlow tasks in the DAG file."""

from __future__ import annotations

import logging
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from include import config
from include.orders_sync import before_go_live, plan
from include.stock_sync import Stage
from stock_sync.ledger import get_ledger

log = logging.getLogger(__name__)
FLOW = "orders"


def plan_order_documents(extract: dict, *, dag_id: str, run_id: str, params: dict[str, Any]) -> dict:
    """A ledger row for every document the run's orders need (sale, refunds, cancellation)."""
    ledger = get_ledger()
    store = extract["store"]
    run_pk = ledger.start_run(flow=FLOW, dag_id=dag_id, run_id=run_id, store=store, dry_run=bool(params.get("dry_run")))
    orders = Stage.read_json(extract["path"])
    settings = config.load()
    named = [int(i) for i in params.get("order_ids") or []]
    if named and not params.get("dry_run"):
        reopened = ledger.reopen_parked(store, named)
        if reopened:
            log.info("%d parked documents of the named orders are tried again", reopened)
    report = plan(orders, ledger, store, statuses=settings.order_statuses, settings=settings.document_settings())
    open_rows = ledger.documents(store, order_ids=[o["id"] for o in orders], states=("pending", "failed", "claimed"))
    for item in report.skipped:
        log.info("Order %s: %s", item["order"], item["reason"])
    for item in report.parked:
        log.error("Order %s parked [%s]: %s", item["order"], item["doc_key"], item["reason"])
    log.info("%d orders; %d documents to create", len(orders), len(open_rows))
    return {"run_pk": run_pk, "orders": len(orders), "to_create": len(open_rows), "skipped": report.skipped,
            "parked": report.parked}


def report_order_run(extract: dict | None, planned: dict | None, cards: dict | None, documents: dict | None,
                     written: dict | None, *, dag_id: str, run_id: str, run_type: str, dry_run: bool,
                     data_interval: tuple | None = None) -> dict:
    """Log the run's summary, close its ledger row, move the watermark after a complete scheduled or
    manual window (never for a backfill), and fail the run when a step failed or an order waits."""
    ledger = get_ledger()
    store = (extract or {}).get("store", "")
    run_pk = planned["run_pk"] if planned else ledger.start_run(flow=FLOW, dag_id=dag_id, run_id=run_id, store=store,
                                                                dry_run=dry_run)
    docs = documents or {}
    counts = {
        "orders": (extract or {}).get("orders", 0),
        "created": len(docs.get("created", [])), "found": len(docs.get("found", [])),
        "parked": len(docs.get("parked", [])) + len((planned or {}).get("parked", [])),
        # a document waiting for a retry, a card not made, a write-back to the store that failed
        "failed": len(docs.get("failed", [])) + len((cards or {}).get("failed", [])) + len(
            (written or {}).get("failed", [])),
        "cards": len((cards or {}).get("cards", [])),
        "skipped": len((planned or {}).get("skipped", [])) + len(docs.get("skipped", [])),
        "api_calls": sum((step or {}).get("api_calls", 0) for step in (extract, cards, documents, written)),
        "window": (extract or {}).get("window"),
    }
    failed_step = next((name for name, step in (("extract orders", extract), ("plan documents", planned),
                                                ("create item cards", cards), ("create documents", documents),
                                                ("write back", written)) if step is None), None)
    window = (extract or {}).get("window")
    if failed_step:
        status = "failed"
        message = (before_go_live(data_interval, config.load().go_live) if extract is None else None) or (
            f"The step '{failed_step}' failed; the orders it did not reach are read again next run.")
    elif counts["failed"] or counts["parked"]:
        status = "failed"
        message = (f"{counts['parked']} orders parked and {counts['failed']} waiting for a retry: see the report; "
                   "parked orders need a person (fix the order in WooCommerce and it is retried).")
    else:
        status, message = ("dry_run" if dry_run else "succeeded"), ""
        if window and not dry_run and run_type in ("scheduled", "manual"):
            from datetime import datetime

            ledger.move_watermark(FLOW, store, datetime.fromisoformat(window[1]))
    ledger.finish_run(run_pk, status=status, counts=counts, message=message)

    from stock_sync.run_report import history, timing, write_run_report

    write_run_report(FLOW, {
        "dag_id": dag_id, "run_id": run_id, "status": status, "dry_run": dry_run, "message": message,
        **timing(ledger, run_pk), "window": window, "counts": counts,
        "created": docs.get("created", []), "found": docs.get("found", []),
        "parked": (planned or {}).get("parked", []) + docs.get("parked", []),
        "failed": docs.get("failed", []) + (cards or {}).get("failed", []) + (written or {}).get("failed", []),
        "cards": (cards or {}).get("cards", []),
        "skipped": (planned or {}).get("skipped", []) + docs.get("skipped", []) + [
            {"order": i, "reason": "named in order_ids, but the store has no such order (or not in a status this "
                                   "sync reads): nothing was done"} for i in (extract or {}).get("unknown_order_ids", [])],
        "history": history(ledger, FLOW, ("created", "parked", "failed")),
    })
    if status == "failed":
        raise AirflowFailException(message)
    return counts


def orders_report_task(extract: dict | None, planned: dict | None, cards: dict | None, documents: dict | None,
                       written: dict | None, **context) -> dict:
    """The report task's callable (RunReportOperator passes the Airflow context)."""
    run_type = context["dag_run"].run_type
    return report_order_run(extract, planned, cards, documents, written, dag_id=context["dag"].dag_id,
                            run_id=context["run_id"], run_type=str(getattr(run_type, "value", run_type)),
                            dry_run=bool(context["params"].get("dry_run")),
                            data_interval=(context.get("data_interval_start"), context.get("data_interval_end")))
