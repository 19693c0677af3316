"""The stock DAG's plan and report steps, called from thin TaskFlow tasks in the DAG file."""

from __future__ import annotations

import logging
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from include import config
from include.stock_plan import PlanOptions, plan_stock
from include.stock_sync import Stage
from stock_sync.ledger import get_ledger

log = logging.getLogger(__name__)
FLOW = "stock"


def pending_quantities(store: str, orders: list[dict], woo_products) -> dict[int, int]:
    """I3: units the store already deducted for orders OfficeGuy has no document for yet, by the
    Woo id that holds the stock (a parent-managed variation's parent)."""
    from include.order_documents import pending_quantities as pending_of
    from include.orders_sync import PLUGIN_META_KEY

    ledger = get_ledger()
    documented = {r.woo_order_id for r in ledger.documents(store, states=("documented", "recorded"), doc_key="sale")}
    # documented by the official plugin (or another tool) though not in our ledger
    documented |= {o["id"] for o in orders
                   if any(m.get("key") == PLUGIN_META_KEY and m.get("value") for m in o.get("meta_data") or [])}
    parent_managed = woo_products[woo_products["stock_mode"] == "parent"]
    holder_of = dict(zip(parent_managed["woo_id"].astype(int), parent_managed["parent_id"].astype(int), strict=True))
    return pending_of(orders, documented, holder_of)


def plan_stock_run(og: dict, woo: dict, *, dag_id: str, run_id: str, params: dict[str, Any]) -> dict:
    """Plan the run's writes (pandas, include/stock_plan.py); stop here if the safety brake trips."""
    settings = config.load()
    ledger = get_ledger()
    store = woo["store"]
    run_pk = ledger.start_run(flow=FLOW, dag_id=dag_id, run_id=run_id, store=store,
                              dry_run=bool(params.get("dry_run")))
    options = PlanOptions(match_by_name=settings.match_by_name, skus=frozenset(params.get("skus") or ()),
                          force=bool(params.get("force")), brake_share=settings.brake_share)
    woo_products = Stage.read(woo["path"])
    pending = pending_quantities(store, Stage.read_json(woo["orders_path"]), woo_products)
    if pending:
        log.info("%d units on %d products are sold in WooCommerce but not yet documented in OfficeGuy; "
                 "they are kept out of the store's quantities (I3)", sum(pending.values()), len(pending))
    plan = plan_stock(Stage.read(og["path"]), woo_products, pending, options)
    stage = Stage(settings.home, dag_id, run_id)
    paths = {name: stage.write(name, getattr(plan, name))
             for name in ("changes", "skipped", "unmatched_og", "unmatched_woo", "warnings")}
    summary = plan.summary()
    if plan.brake:
        ledger.finish_run(run_pk, status="blocked", counts=summary, message=plan.brake)
        raise AirflowFailException(plan.brake)
    if plan.brake_overridden:
        log.warning("Forced past the safety brake: %s", plan.brake_overridden)
    log.info("Plan: %d changes, %d unchanged, %d unmatched OfficeGuy items, %d skipped",
             summary["changed"], summary["unchanged"], summary["unmatched_og"], summary["skipped"])
    return {"run_pk": run_pk, "store": store, "summary": summary,
            **{f"{name}_path": path for name, path in paths.items()}}


def send_stock_alerts(plan: dict, applied: dict, woo: dict) -> dict:
    """One e-mail per product the run moved to or below its low-stock threshold, or to zero
    (include/alerts.py): WooCommerce itself never mails for stock set through the API (A2)."""
    from include.alerts import crossings

    settings = config.load()
    if applied.get("dry_run"):
        return {"sent": [], "failed": [], "pending": 0}
    ledger, store = get_ledger(), plan["store"]
    done = Stage.read(applied["outcome_path"])
    written = done[(done["outcome"] == "applied") & (done["field"] == "stock_quantity")].to_dict("records")
    products = Stage.read(woo["path"]).set_index("woo_id")[["parent_id", "low_stock_amount"]]
    products = {int(k): {"parent_id": v["parent_id"], "low_stock_amount": None if v["low_stock_amount"] is None
                         or v["low_stock_amount"] != v["low_stock_amount"] else int(v["low_stock_amount"])}
                for k, v in products.to_dict("index").items()}
    alerts, levels = crossings(written, products, ledger.alert_levels(store), store_default=settings.low_stock_default)
    for woo_id, level in levels.items():
        ledger.set_alert_level(store, woo_id, level)
    sent, failed = [], []
    if alerts and not settings.alert_recipients:
        log.warning("%d products crossed their low-stock line but STOCK_SYNC_ALERT_RECIPIENTS is empty: no e-mail",
                    len(alerts))
        for alert in alerts:
            ledger.set_alert_level(store, alert.woo_id, alert.kind, quantity=alert.quantity, threshold=alert.threshold)
        return {"sent": [], "failed": [], "pending": 0, "unsent": [a.as_dict() for a in alerts]}
    if alerts:
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        try:
            with SmtpHook(smtp_conn_id=settings.smtp_conn_id) as smtp:
                for alert in alerts:
                    try:
                        smtp.send_email_smtp(to=list(settings.alert_recipients), subject=alert.subject(),
                                             html_content=alert.html())
                    except Exception as exc:  # one bad send never stops the others
                        failed.append({**alert.as_dict(), "error": str(exc)})
                        continue
                    ledger.set_alert_level(store, alert.woo_id, alert.kind, quantity=alert.quantity,
                                           threshold=alert.threshold, sent=True)
                    sent.append(alert.as_dict())
        except Exception as exc:  # the SMTP server is unreachable: every alert waits for the next run
            failed += [{**a.as_dict(), "error": str(exc)} for a in alerts if a.as_dict() not in sent]
    for item in failed:
        log.error("Stock alert for %s (SKU %s) not sent: %s. The next run tries again; check the SMTP connection "
                  "%r.", item["name"], item["sku"] or "-", item["error"], settings.smtp_conn_id)
    for item in sent:
        log.info("Stock alert sent: %s (SKU %s) %s, quantity %s, threshold %s", item["name"], item["sku"] or "-",
                 item["kind"], item["quantity"], item["threshold"])
    return {"sent": sent, "failed": failed, "pending": len(failed)}


def report_stock_run(og: dict | None, woo: dict | None, plan: dict | None, applied: dict | None, *,
                     dag_id: str, run_id: str, dry_run: bool, alerts: dict | None = None) -> dict:
    """Write the run's report (HTML, and a summary in the log) and close its ledger row. Runs
    whatever happened upstream; fails the run when a step failed or a product could not be
    written, so that a red run means "look"."""
    from stock_sync.run_report import history, timing, write_run_report

    ledger = get_ledger()
    store = (woo or {}).get("store", "")
    run_pk = plan["run_pk"] if plan else ledger.start_run(flow=FLOW, dag_id=dag_id, run_id=run_id, store=store,
                                                          dry_run=dry_run)
    summary = dict(plan["summary"]) if plan else {}
    summary["api_calls"] = sum((step or {}).get("api_calls", 0) for step in (og, woo, applied))
    summary["drift"] = summary.get("changed", 0)  # matched products that differed from OfficeGuy before the run
    if applied:
        summary.update(applied=applied["applied"], failed=applied["failed"], dry_run=applied["dry_run"])
        changes = Stage.read(applied["outcome_path"])
    else:
        changes = Stage.read(plan["changes_path"]) if plan else None
    summary["alerts_sent"] = len((alerts or {}).get("sent", []))
    summary["alerts_failed"] = len((alerts or {}).get("failed", []))

    existing = ledger.get_run(run_pk)
    failed_step = next((name for name, step in (("extract OfficeGuy stock", og), ("extract WooCommerce products", woo),
                                                ("plan", plan), ("apply", applied)) if step is None), None)
    if existing is not None and existing.status == "blocked":
        status, message = "blocked", existing.message
    elif failed_step:
        status, message = "failed", f"The step '{failed_step}' failed; nothing after it ran. Its task log says why."
    elif applied["failed"]:
        status = "failed"
        message = (f"{applied['failed']} of {applied['failed'] + applied['applied']} changes were not written "
                   "(see the apply task's log); the others were. The next run retries them.")
    else:
        status, message = ("dry_run" if applied["dry_run"] else "succeeded"), ""
    ledger.finish_run(run_pk, status=status, counts=summary, message=message)

    def rows(name: str) -> list[dict]:
        path = (plan or {}).get(f"{name}_path")
        return _records(Stage.read(path)) if path else []

    write_run_report(FLOW, {
        "dag_id": dag_id, "run_id": run_id, "status": status, "dry_run": dry_run, "message": message,
        **timing(ledger, run_pk), "counts": summary,
        "changes": _records(changes) if changes is not None else [],
        "skipped": rows("skipped"), "unmatched_og": rows("unmatched_og"), "unmatched_woo": rows("unmatched_woo"),
        "alerts": (alerts or {}).get("sent", []) + (alerts or {}).get("failed", []),
        "history": history(ledger, FLOW, ("changed", "skipped", "drift")),
    })
    if status in ("blocked", "failed"):
        raise AirflowFailException(message)
    return {"run_pk": run_pk, **{k: summary.get(k) for k in ("changed", "applied", "failed", "api_calls")}}


def _records(frame) -> list[dict]:
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def stock_report_task(og: dict | None, woo: dict | None, plan: dict | None, applied: dict | None,
                      alerts: dict | None, **context) -> dict:
    """The report task's callable (RunReportOperator passes the Airflow context)."""
    return report_stock_run(og, woo, plan, applied, dag_id=context["dag"].dag_id, run_id=context["run_id"],
                            dry_run=bool(context["params"].get("dry_run")), alerts=alerts)
