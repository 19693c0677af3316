"""The stock DAG's application steps (plan, alerts, report), called from thin TaskFlow tasks in the DAG file.

They combine what the generic extract operators wrote (OfficeGuy's stock, the store's products) with
the orders that are not in OfficeGuy yet (read here, with the ledger's watermark) and the ledger; the
generic apply operator then writes the payloads ``plan_stock_run`` staged. Heavy imports (pandas, the
ledger) load when a step runs, never when a DAG file is parsed."""

from __future__ import annotations

import logging
import math
import os
from typing import Any

import pandas as pd
from airflow.sdk.exceptions import AirflowFailException

from officeguy_woocommerce.app.ledger_connection import get_ledger
from officeguy_woocommerce.include import config
from officeguy_woocommerce.include.ledger import Ledger, RunStatus
from officeguy_woocommerce.include.ledger_cards import (
    cards_in_flight,
    mark_cards_opened,
    own_card_moves,
    unopened_created_cards,
)
from officeguy_woocommerce.include.orders_sync import SALE
from officeguy_woocommerce.include.staging import Stage
from officeguy_woocommerce.include.stock_plan import PlanOptions, Reason, plan_stock

log = logging.getLogger(__name__)
FLOW = "stock"
SERVICE_IDS_VARIABLE = "STOCK_SYNC_SERVICE_ITEM_IDS"
_LABEL_FIELDS = ("shipping_label", "fee_label", "rounding_label", "refund_label")
_SERVICE_ID_FIELDS = ("shipping_item_id", "fee_item_id", "adjustment_item_id")


def service_labels(settings: Any) -> frozenset[str]:
    """The names of the orders flow's label-only service cards: the configured labels, else
    DocumentSettings' defaults (the names the orders flow gives them)."""
    from officeguy_woocommerce.include.documents import DocumentSettings

    defaults = DocumentSettings()
    return frozenset(str(getattr(settings, name, None) or getattr(defaults, name)).strip() for name in _LABEL_FIELDS)


def service_item_ids(settings: Any, environ: Any = None) -> frozenset[int]:
    """OfficeGuy ids configured as service cards: the configuration's own (if it has them), else
    ``STOCK_SYNC_SERVICE_ITEM_IDS`` (comma-separated), plus the cards configured for the
    orders flow's shipping, fee and adjustment lines."""
    ids = {int(v) for name in _SERVICE_ID_FIELDS if (v := getattr(settings, name, None))}
    configured = getattr(settings, "service_item_ids", None)
    if configured is not None:
        return frozenset(ids | {int(i) for i in configured})
    raw = (os.environ if environ is None else environ).get(SERVICE_IDS_VARIABLE, "")
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        if not part.isdigit() or int(part) <= 0:
            raise config.ConfigError(f"{SERVICE_IDS_VARIABLE}={raw!r}: {part!r} is not an OfficeGuy item id; use "
                                     "positive whole numbers separated by commas, e.g. 1001,1002.")
        ids.add(int(part))
    return frozenset(ids)


def opening_stock(ledger: Ledger, store: str, og_items: pd.DataFrame, og_hook: Any = None,
                  og_conn_id: str = "officeguy_default") -> tuple[pd.DataFrame, dict[int, int], set[int], int]:
    """What the planner needs for the cards the orders flow created (stock_plan rule 7).

    Returns the OfficeGuy frame with a fresh stock for those cards, their net units from our own
    documents, the ones whose comparison cannot be trusted this run, and the API calls made.
    The fresh read lies between two reads of our own moves, and the documents still in flight are
    read between them too: a document that lands in OfficeGuy or in the ledger meanwhile makes
    the card "unsettled" (kept waiting, decided next run) instead of opening it by mistake.
    """
    unopened = unopened_created_cards(ledger, store)
    if not unopened:
        return og_items, {}, set(), 0
    before = own_card_moves(ledger, store)
    fresh: dict[int, float] | None
    calls = 0
    try:
        if og_hook is None:
            from officeguy_woocommerce.officeguy.hooks import OfficeGuyHook

            og_hook = OfficeGuyHook(og_conn_id)
        fresh = {s.id: (math.nan if s.stock is None else float(s.stock))
                 for s in og_hook.list_stock(item_ids=sorted(unopened))}
        calls = getattr(og_hook, "calls", 1)
    except Exception as exc:  # the extract's figures still decide who waits; nothing opens this run
        log.warning("Could not re-read the stock of %d item cards this project created (%s); none of them is "
                    "opened this run", len(unopened), exc)
        fresh = None
    in_flight = cards_in_flight(ledger, store)
    after = own_card_moves(ledger, store)
    own = {og_id: after.get(og_id, 0) for og_id in unopened}
    unsettled = {og_id for og_id in unopened if fresh is None or og_id not in fresh or og_id in in_flight
                 or before.get(og_id, 0) != after.get(og_id, 0)}
    if fresh:
        og_items = og_items.copy()
        ids = og_items["og_item_id"]
        renewed = ids.isin(list(fresh))
        og_items.loc[renewed, "stock"] = ids[renewed].map(fresh).astype("float64")
    return og_items, own, unsettled, calls


def sales_found_in_officeguy(ledger: Ledger, store: str, og_hook: Any = None,
                             og_conn_id: str = "officeguy_default") -> set[int]:
    """Orders whose sale document OfficeGuy already has while the ledger has not recorded it (a task
    killed, or the ledger's write failing, after OfficeGuy committed): OfficeGuy's stock already
    shows those sales, so they are not pending (I3). Only sale rows that were tried are looked up,
    by their ExternalReference over the days they were sent: no call at all when there are none.
    OfficeGuy unreachable: none found (the store then shows less for a while, never more)."""
    from datetime import date, timedelta

    from officeguy_woocommerce.include.ledger_cards import IN_FLIGHT

    rows = [r for r in ledger.documents(store, states=IN_FLIGHT, doc_key=SALE) if r.attempts]
    if not rows:
        return set()
    today = date.today()
    days = [date.fromisoformat(r.document_date[:10]) for r in rows if r.document_date] or [today]
    try:
        if og_hook is None:
            from officeguy_woocommerce.officeguy.hooks import OfficeGuyHook

            og_hook = OfficeGuyHook(og_conn_id)
        found = {d.external_reference for d in og_hook.list_documents(
            min(days) - timedelta(days=1), max(*days, today) + timedelta(days=1))}
    except Exception as exc:  # noqa: BLE001 - any failure: count them as pending, as before
        log.warning("Could not look up %d sales that may already be in OfficeGuy (%s); their units stay "
                    "pending this run", len(rows), exc)
        return set()
    return {r.woo_order_id for r in rows if r.external_reference in found}


def orders_not_in_officeguy_yet(hook: Any, settings: Any, ledger: Ledger, store: str) -> list[dict]:
    """Orders that may have reduced Woo stock without an OfficeGuy document yet (I3): those
    modified since the orders flow's watermark (every earlier one has a ledger row), and those
    whose ledger row is still open."""
    from datetime import UTC, datetime

    from officeguy_woocommerce.include.documents import STOCK_REDUCING_STATUSES

    mark = ledger.watermark("orders", store)
    go_live = datetime(settings.go_live.year, settings.go_live.month, settings.go_live.day, tzinfo=UTC)
    since = max(go_live, mark - settings.window_overlap) if mark else go_live
    # cancelled/refunded too: their restored units wait for a credit in OfficeGuy (I3)
    orders = hook.list_orders(modified_after=since,
                              statuses=sorted({*STOCK_REDUCING_STATUSES, "cancelled", "refunded"}))
    seen = {o["id"] for o in orders}
    # Orders that reduced Woo stock in a status the orders flow does not document (on-hold by
    # default) have no ledger row: read them all, whatever their date, or they stop counting.
    waiting = sorted(set(STOCK_REDUCING_STATUSES) - set(settings.order_statuses))
    if waiting:
        extra = hook.list_orders(statuses=waiting)
        orders += [o for o in extra if o["id"] not in seen]
        seen |= {o["id"] for o in extra}
    open_ids = sorted(({r.woo_order_id for r in ledger.undocumented_sales(store)}
                       | set(ledger.open_credit_order_ids(store))) - seen)
    if open_ids:
        orders += hook.list_orders(include=open_ids)
    return orders


def pending_quantities(store: str, orders: list[dict], woo_products, og_conn_id: str = "officeguy_default"
                       ) -> dict[int, int]:
    """I3: units the store already deducted for orders OfficeGuy has no document for yet, by the
    Woo id that holds the stock (a parent-managed variation's parent)."""
    from officeguy_woocommerce.include.documents import pending_quantities as pending_of
    from officeguy_woocommerce.include.ledger import DocumentState
    from officeguy_woocommerce.include.orders_sync import DONE, PLUGIN_META_KEY

    ledger = get_ledger()
    documented = {r.woo_order_id for r in ledger.documents(store, states=DONE, doc_key=SALE)}
    documented |= sales_found_in_officeguy(ledger, store, og_conn_id=og_conn_id)
    # documented by the official plugin (or another tool) though not in our ledger
    documented |= {o["id"] for o in orders
                   if any(m.get("key") == PLUGIN_META_KEY and m.get("value") for m in o.get("meta_data") or [])}
    parent_managed = woo_products[woo_products["stock_mode"] == "parent"]
    holder_of = dict(zip(parent_managed["woo_id"].astype(int), parent_managed["parent_id"].astype(int), strict=True))
    ids = [o["id"] for o in orders]
    sold = {r.woo_order_id: {int(ln["line_id"]): int(ln.get("quantity") or 0) for ln in r.lines or () if ln.get("line_id")}
            for r in ledger.documents(store, order_ids=ids, states=(DocumentState.DOCUMENTED,), doc_key=SALE)}
    return pending_of(orders, documented, holder_of, ledger.returned_units(store, ids), sold)


def _with_rejected_rows(plan, rejected: list[dict]):
    """OfficeGuy stock rows the hook could not use (no ID, listed twice, not an object) join the
    plan's unmatched OfficeGuy items with their reason: reported, never written (I7)."""
    if not rejected:
        return plan
    import dataclasses

    import pandas as pd

    rows = pd.DataFrame([{"og_item_id": r.get("og_item_id"), "name": r.get("name") or "", "sku": "",
                          "external_identifier": "", "stock": r.get("raw"),
                          "reason": f"bad row in OfficeGuy's {r.get('list', 'stock')} list",
                          "detail": r.get("reason") or ""} for r in rejected])
    frame = rows if plan.unmatched_og.empty else pd.concat([plan.unmatched_og, rows], ignore_index=True)
    return dataclasses.replace(plan, unmatched_og=frame[list(plan.unmatched_og.columns)])


def plan_missing_skus(skus, woo_products) -> list[str]:
    """SKUs of the ``skus`` param that no product has (a typo would otherwise sync nothing, silently)."""
    known = set(woo_products["sku"].astype(str))
    return sorted(s for s in skus if s not in known)


def holders_by_card(og_items: pd.DataFrame, woo_products: pd.DataFrame, match_by_name: bool) -> dict[int, int]:
    """Each matched OfficeGuy card's Woo stock holder in this store (the parent for a variation whose
    parent manages the stock), by the plan's own matching rules."""
    from officeguy_woocommerce.include.stock_plan.matching import match_og_items

    items = match_og_items(og_items, woo_products, match_by_name=match_by_name).items
    items = items[items["woo_id"].notna()]
    if items.empty:
        return {}
    woo = woo_products.set_index("woo_id")
    out: dict[int, int] = {}
    for og_id, woo_id in zip(items["og_item_id"].astype(int), items["woo_id"].astype(int), strict=True):
        row = woo.loc[woo_id]
        out[og_id] = int(row["parent_id"]) if row["stock_mode"] == "parent" else woo_id
    return out


def pending_sales(og: dict, woo: dict, *, dag_id: str, run_id: str) -> dict:
    """Several stores on one OfficeGuy company: this store's units sold in WooCommerce and not yet in
    OfficeGuy (I3), by its stock holders (for its own plan) and by OfficeGuy card (for the plans of
    the other stores of the company, whose products draw on the same cards)."""
    from officeguy_woocommerce.include.stock_io import og_items_frame, woo_products_frame
    from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook

    settings = config.load()
    store = woo["store"]
    woo_products = woo_products_frame(Stage.read_json(woo["path"])["products"])
    with WooCommerceHook(woo["conn_id"]) as hook:
        orders = orders_not_in_officeguy_yet(hook, settings, get_ledger(), store)
    Stage(settings.home, dag_id, run_id).write_json(f"pending_orders_{_safe(woo['conn_id'])}", orders)
    by_holder = pending_quantities(store, orders, woo_products, og.get("conn_id") or "officeguy_default")
    og_rows = Stage.read_json(og["path"])
    card_of = {holder: card for card, holder in sorted(holders_by_card(
        og_items_frame(og_rows["stock"], og_rows["income_items"]), woo_products, settings.match_by_name).items())}
    by_card: dict[str, int] = {}
    for holder, units in by_holder.items():
        if holder in card_of:  # a holder several cards reach counts once, on its first card
            by_card[str(card_of[holder])] = by_card.get(str(card_of[holder]), 0) + units
    log.info("%s: %d units sold and not yet in OfficeGuy (on %d of its OfficeGuy cards)", store,
             sum(by_holder.values()), len(by_card))
    return {"store": store, "conn_id": woo["conn_id"], "by_holder": {str(k): v for k, v in by_holder.items()},
            "by_card": by_card, "api_calls": hook.calls}


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def _with_siblings(pending: dict[int, int], siblings: list[dict | None], holder_of_card: dict[int, int],
                   names: list[str]) -> tuple[dict[int, int], list[dict]]:
    """This store's pending units plus those the other stores of its company sold on the same cards;
    a store whose pending could not be read is reported (its sales count once they are documented)."""
    total = dict(pending)
    notes = []
    for name, sibling in zip(names, siblings, strict=True):
        if sibling is None:
            notes.append({"og_item_id": None, "woo_id": None, "reason": "another store's sales unknown",
                          "detail": f"store {name!r} shares this OfficeGuy company, but its pending sales could not "
                                    "be read this run: its undocumented sales are not subtracted here until "
                                    "its orders are documented (see that store's branch)"})
            continue
        for card, units in (sibling.get("by_card") or {}).items():
            holder = holder_of_card.get(int(card))
            if holder is not None:
                total[holder] = total.get(holder, 0) + int(units)
    return total, notes


def plan_stock_run(og: dict, woo: dict, *, dag_id: str, run_id: str, params: dict[str, Any],
                   pending: dict | None = None, siblings: list[dict | None] | None = None,
                   sibling_names: list[str] | None = None) -> dict:
    """Plan the run's writes (pandas, include/stock_plan/); stop here if the safety brake trips.

    One store: its pending sales are read here. Several (``pending``: this store's `pending_sales`):
    ``siblings`` are the other stores of the same OfficeGuy company, whose pending sales on the same
    cards are subtracted too (I3 over the company)."""
    if og is None or woo is None or (siblings is not None and pending is None):
        missing = "OfficeGuy's stock" if og is None else "the store's products" if woo is None else "its pending sales"
        raise AirflowFailException(f"{missing} could not be read this run (see the failed task upstream); "
                                   "nothing is planned or written for this store.")
    settings = config.load()
    ledger = get_ledger()
    store = woo["store"]
    og_conn_id = og.get("conn_id") or "officeguy_default"
    from officeguy_woocommerce.app.report_tasks import run_attempt

    run_pk = ledger.start_run(flow=FLOW, dag_id=dag_id, run_id=run_id, store=store, dry_run=bool(params.get("dry_run")),
                              attempt=run_attempt())  # this try's row: a cleared and re-run run gets its own
    try:
        service_ids = service_item_ids(settings)
    except config.ConfigError as exc:
        raise AirflowFailException(str(exc)) from None
    options = PlanOptions(match_by_name=settings.match_by_name, skus=frozenset(params.get("skus") or ()),
                          force=bool(params.get("force")), brake_share=settings.brake_share,
                          service_labels=service_labels(settings), service_item_ids=service_ids)
    from officeguy_woocommerce.include.stock_io import og_items_frame, woo_products_frame
    from officeguy_woocommerce.include.stock_plan import build_payloads
    from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook

    woo_products = woo_products_frame(Stage.read_json(woo["path"])["products"])
    stage = Stage(settings.home, dag_id, run_id)
    api_calls = 0
    if pending is None:
        with WooCommerceHook(woo.get("conn_id") or WooCommerceHook.default_conn_name) as hook:
            orders = orders_not_in_officeguy_yet(hook, settings, ledger, store)
        stage.write_json("pending_orders", orders)
        pending = pending_quantities(store, orders, woo_products, og_conn_id)
        api_calls += hook.calls
    else:
        pending = {int(k): int(v) for k, v in (pending.get("by_holder") or {}).items()}
    og_rows = Stage.read_json(og["path"])
    og_frame = og_items_frame(og_rows["stock"], og_rows["income_items"])
    sibling_notes: list[dict] = []
    if siblings:
        pending, sibling_notes = _with_siblings(pending, siblings, holders_by_card(og_frame, woo_products,
                                                                                   settings.match_by_name),
                                                sibling_names or [str(i) for i in range(len(siblings))])
    if pending:
        log.info("%d units on %d products are sold in WooCommerce but not yet documented in OfficeGuy; "
                 "they are kept out of the store's quantities (I3)", sum(pending.values()), len(pending))
    og_items, unopened, unsettled, calls = opening_stock(ledger, store, og_frame, og_conn_id=og_conn_id)
    api_calls += calls
    plan = plan_stock(og_items, woo_products, pending, options, unopened_cards=unopened, unsettled_cards=unsettled)
    plan = _with_rejected_rows(plan, og.get("rejected") or [])
    notes = sibling_notes + [{"og_item_id": None, "woo_id": r.get("woo_id"), "reason": "malformed WooCommerce product",
                              "detail": r["reason"]} for r in woo.get("rejected") or []]
    notes += [{"og_item_id": None, "woo_id": None, "reason": "unknown SKU in the skus param",
               "detail": f"no WooCommerce product has SKU {sku!r}: nothing is synced for it (SKUs match exactly)"}
              for sku in plan_missing_skus(options.skus, woo_products)]
    for note in notes:
        log.warning("%s: %s", note["reason"], note["detail"])
    if notes:
        import dataclasses

        import pandas as pd

        frame = pd.DataFrame(notes)
        warnings = frame if plan.warnings.empty else pd.concat([plan.warnings, frame], ignore_index=True)
        plan = dataclasses.replace(plan, warnings=warnings[list(plan.warnings.columns)])
    if plan.opened_cards:
        if params.get("dry_run"):
            log.info("Dry run: %d item cards this project created have moved in OfficeGuy and would be synced "
                     "from now on (not remembered): %s", len(plan.opened_cards), list(plan.opened_cards))
        else:
            mark_cards_opened(ledger, store, plan.opened_cards)
            log.info("%d item cards this project created have their opening stock in OfficeGuy and are synced "
                     "from now on: %s", len(plan.opened_cards), list(plan.opened_cards))
    for row in plan.skipped[plan.skipped["reason"] == Reason.AWAITING_OPENING_STOCK].itertuples():
        log.info("Waiting for opening stock in OfficeGuy: %s (SKU %s), OfficeGuy item %s; the store's quantity is "
                 "left as it is", row.name, row.sku or "-", row.og_item_id)
    paths = {name: stage.write(name, getattr(plan, name))
             for name in ("changes", "skipped", "unmatched_og", "unmatched_woo", "warnings")}
    # what the generic apply operator sends (validated, I4); its templated path names this file
    paths["payloads"] = stage.write_json("payloads", build_payloads(plan.changes))
    summary = plan.summary()
    if plan.brake:
        ledger.finish_run(run_pk, status=RunStatus.BLOCKED, counts=summary, message=plan.brake)
        raise AirflowFailException(plan.brake)
    if plan.brake_overridden:
        log.warning("Forced past the safety brake: %s", plan.brake_overridden)
    log.info("Plan: %d changes, %d unchanged, %d unmatched OfficeGuy items, %d skipped; service cards ignored: %d",
             summary["changed"], summary["unchanged"], summary["unmatched_og"], summary["skipped"],
             summary["service_cards"])
    return {"run_pk": run_pk, "store": store, "summary": summary, "api_calls": api_calls,
            **{f"{name}_path": path for name, path in paths.items()}}


def changes_done(plan: dict, applied: dict) -> list[dict]:
    """The plan's changes with the apply operator's outcome for each."""
    from officeguy_woocommerce.include.stock_io import applied_rows

    return applied_rows(Stage.read(plan["changes_path"]), Stage.read_json(applied["outcome_path"]))


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def send_stock_alerts(plan: dict, applied: dict, woo: dict) -> dict:
    """One e-mail per product the run moved to or below its low-stock threshold, or to zero
    (include/alerts.py): WooCommerce itself never mails for stock set through the API (A2)."""
    from officeguy_woocommerce.include.alerts import crossings

    settings = config.load()
    if applied.get("dry_run"):
        return {"sent": [], "failed": [], "pending": 0}
    ledger, store = get_ledger(), plan["store"]
    written = [r for r in changes_done(plan, applied) if r["outcome"] == "applied" and r["field"] == "stock_quantity"]
    products = {int(p["id"]): {"parent_id": p["parent_id"], "low_stock_amount": _whole(p.get("low_stock_amount"))}
                for p in Stage.read_json(woo["path"])["products"]}
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


def describe_read(read: dict | None) -> str:
    """How the run read the store, for its report (WooCommerceStockExtractOperator's ``read``)."""
    if not read:
        return ""
    if read.get("mode") == "incremental":
        return (f"only what the store saved since {read.get('since')} UTC: {read.get('changed')} products re-read, "
                f"{read.get('trashed')} trashed; the rest as the last read saw it")
    return f"the whole store ({read.get('reason') or 'a scheduled run'})"


def report_stock_run(og: dict | None, woo: dict | None, plan: dict | None, applied: dict | None, *,
                     dag_id: str, run_id: str, dry_run: bool, alerts: dict | None = None, attempt: int = 1) -> dict:
    """Write the run's report (HTML, and a summary in the log) and close its ledger row. Runs
    whatever happened upstream; fails the run when a step failed or a product could not be
    written, so that a red run means "look". One ledger row and one report per try of the run
    (``attempt``): the plan step's row when it ran in this try, else a row of this try's own."""
    from officeguy_woocommerce.app.report_tasks import history, timing, write_run_report

    ledger = get_ledger()
    store = (woo or {}).get("store", "")
    run_pk = ledger.start_run(flow=FLOW, dag_id=dag_id, run_id=run_id, store=store, dry_run=dry_run, attempt=attempt)
    summary = dict(plan["summary"]) if plan else {}
    summary["api_calls"] = sum((step or {}).get("api_calls", 0) for step in (og, woo, plan, applied))
    summary["drift"] = summary.get("changed", 0)  # matched products that differed from OfficeGuy before the run
    if applied and plan:
        summary.update(applied=applied["applied"], failed=applied["failed"], dry_run=applied["dry_run"])
        done = changes_done(plan, applied)
        ledger.record_changes(run_pk, plan["store"], done)  # the audit trail of every write, with this try
        changes = pd.DataFrame(done) if done else Stage.read(plan["changes_path"]).assign(outcome=[], error=[])
    else:
        changes = Stage.read(plan["changes_path"]) if plan else None
    summary["alerts_sent"] = len((alerts or {}).get("sent", []))
    summary["alerts_failed"] = len((alerts or {}).get("failed", []))

    existing = ledger.get_run(run_pk)
    failed_step = next((name for name, step in (("extract OfficeGuy stock", og), ("extract WooCommerce products", woo),
                                                ("plan", plan), ("apply", applied)) if step is None), None)
    if existing is not None and existing.status == RunStatus.BLOCKED:
        status, message = RunStatus.BLOCKED, existing.message
    elif failed_step:
        status, message = "failed", f"The step '{failed_step}' failed; nothing after it ran. Its task log says why."
    elif applied["failed"]:
        status = RunStatus.FAILED
        message = (f"{applied['failed']} of {applied['failed'] + applied['applied']} changes were not written "
                   "(see the apply task's log); the others were. The next run retries them.")
    else:
        status, message = (RunStatus.DRY_RUN if applied["dry_run"] else RunStatus.SUCCEEDED), ""
    ledger.finish_run(run_pk, status=status, counts=summary, message=message)

    def rows(name: str) -> list[dict]:
        path = (plan or {}).get(f"{name}_path")
        return _records(Stage.read(path)) if path else []

    write_run_report(FLOW, {
        "dag_id": dag_id, "run_id": run_id, "attempt": attempt, "status": status, "dry_run": dry_run,
        "message": message, **timing(ledger, run_pk), "counts": summary,
        "store_read": describe_read((woo or {}).get("read")),
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
                      alerts: dict | None, store: str = config.DEFAULT_STORE, **context) -> dict:
    """The report task's callable (RunReportOperator passes the Airflow context); one per store."""
    from officeguy_woocommerce.app.report_tasks import run_attempt

    run_id = config.load().store(store).run_key(context["run_id"])
    return report_stock_run(og, woo, plan, applied, dag_id=context["dag"].dag_id, run_id=run_id,
                            dry_run=bool(context["params"].get("dry_run")), alerts=alerts, attempt=run_attempt(context))
