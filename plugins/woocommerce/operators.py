"""Operators that read from and write to WooCommerce. Thin: hook calls and include/ functions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from airflow.sdk import BaseOperator, Context

from include import config
from include.stock_sync import Stage, apply_changes, woo_products_frame
from stock_sync.ledger import get_ledger
from woocommerce.hooks import WooCommerceHook


class WooCommerceStockExtractOperator(BaseOperator):
    """Extract every product and variation (stock fields only) to the run's staging folder."""

    template_fields: Sequence[str] = ("woocommerce_conn_id",)

    def __init__(self, *, woocommerce_conn_id: str = WooCommerceHook.default_conn_name, **kwargs) -> None:
        super().__init__(**kwargs)
        self.woocommerce_conn_id = woocommerce_conn_id

    def execute(self, context: Context) -> dict:
        settings = config.load()
        hook = WooCommerceHook(self.woocommerce_conn_id)
        frame = woo_products_frame(hook.list_stock_items())
        stage = Stage(settings.home, self.dag_id, context["run_id"])
        path = stage.write("woo_products", frame)
        orders = self._orders_not_in_officeguy_yet(hook, settings)
        orders_path = stage.write_json("pending_orders", orders)
        for row in hook.rejected_products:
            self.log.warning("%s", row["reason"])
        self.log.info("WooCommerce: %d products and variations, %d recent orders in %d API calls",
                      len(frame), len(orders), hook.calls)
        return {"path": path, "products": len(frame), "api_calls": hook.calls, "store": hook.base_url,
                "orders_path": orders_path, "rejected": hook.rejected_products}

    @staticmethod
    def _orders_not_in_officeguy_yet(hook: WooCommerceHook, settings) -> list[dict]:
        """Orders that may have reduced Woo stock without an OfficeGuy document yet (I3): those
        modified since the orders flow's watermark (every earlier one has a ledger row), and those
        whose ledger row is still open."""
        from datetime import UTC, datetime

        from include.order_documents import STOCK_REDUCING_STATUSES

        ledger, store = get_ledger(), hook.base_url
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


class WooCommerceStockApplyOperator(BaseOperator):
    """Write a stock plan's changes to the store in batches and record each one in the ledger."""

    template_fields: Sequence[str] = ("woocommerce_conn_id", "plan")

    def __init__(self, *, plan: Any, woocommerce_conn_id: str = WooCommerceHook.default_conn_name,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.plan = plan
        self.woocommerce_conn_id = woocommerce_conn_id

    def execute(self, context: Context) -> dict:
        plan = self.plan
        dry_run = bool(context["params"].get("dry_run"))
        changes = Stage.read(plan["changes_path"])
        hook = WooCommerceHook(self.woocommerce_conn_id)
        result = apply_changes(changes, hook, dry_run=dry_run)
        get_ledger().record_changes(plan["run_pk"], plan["store"], result.rows)
        outcome_path = Stage(config.load().home, self.dag_id, context["run_id"]).write(
            "applied", pd.DataFrame(result.rows, columns=[*changes.columns, "outcome", "error"]))
        for row in result.failed:
            self.log.error("Not written: %s (Woo id %s, SKU %s) %s -> %s: %s. The next run tries again; "
                           "if it keeps failing, check the product in WooCommerce.",
                           row["name"], row["woo_id"], row["sku"] or "-", row["old"], row["new"], row["error"])
        self.log.info("%s %d of %d changes in %d API calls", "Dry run: would write" if dry_run else "Wrote",
                      len(result.rows) - len(result.failed), len(result.rows), hook.calls)
        return {"applied": result.applied, "failed": len(result.failed), "dry_run": dry_run,
                "api_calls": hook.calls, "outcome_path": outcome_path}


class WooCommerceOrdersExtractOperator(BaseOperator):
    """Extract the orders modified in the run's window (or the ``order_ids`` param) to staging.

    Window: the data interval for scheduled runs and backfills, else the stored watermark to the
    run's time (manual runs have no interval); reaching back by the configured overlap. Orders
    whose documents are still open in the ledger are read again too, whatever their window (I2).
    """

    template_fields: Sequence[str] = ("woocommerce_conn_id",)

    def __init__(self, *, woocommerce_conn_id: str = WooCommerceHook.default_conn_name, **kwargs) -> None:
        super().__init__(**kwargs)
        self.woocommerce_conn_id = woocommerce_conn_id

    def execute(self, context: Context) -> dict:
        from airflow.sdk.exceptions import AirflowFailException

        from include.orders_sync import before_go_live, window

        settings = config.load()
        refusal = before_go_live((context.get("data_interval_start"), context.get("data_interval_end")),
                                 settings.go_live)
        if refusal:
            raise AirflowFailException(refusal)
        hook = WooCommerceHook(self.woocommerce_conn_id)
        hook.get_conn()
        store, ledger = hook.base_url, get_ledger()
        order_ids = [int(i) for i in context["params"].get("order_ids") or []]
        statuses = sorted({*settings.order_statuses, "cancelled", "refunded"})
        span = None
        unknown: list[int] = []
        if order_ids:
            orders = hook.list_orders(include=order_ids)
            unknown = sorted(set(order_ids) - {int(o["id"]) for o in orders})
            for order_id in unknown:
                self.log.warning("order_ids names order %s, which store %s does not have (or not in a status this "
                                 "sync reads): nothing is done for it.", order_id, store)
        else:
            interval = (context.get("data_interval_start"), context.get("data_interval_end"))
            run_type = context["dag_run"].run_type
            start, end = window(interval, watermark=ledger.watermark("orders", store),
                                run_after=context["dag_run"].run_after, go_live=settings.go_live,
                                overlap=settings.window_overlap, run_type=str(getattr(run_type, "value", run_type)))
            span = [start.isoformat(), end.isoformat()]
            orders = hook.list_orders(modified_after=start, modified_before=end, statuses=statuses) if end > start else []
            seen = {o["id"] for o in orders}
            open_ids = sorted(({r.woo_order_id for r in ledger.documents(store, states=("pending", "failed", "claimed"))}
                               | set(ledger.unwritten_order_ids(store))) - seen)
            if open_ids:
                orders += hook.list_orders(include=open_ids)
        unique = list({o["id"]: o for o in orders}.values())
        self._mark_stock_holders(hook, unique)
        path = Stage(settings.home, self.dag_id, context["run_id"]).write_json("orders", unique)
        # The store's tax settings decide how each document states VAT: read once per run.
        tax = {"calc_taxes": hook.get_setting("general", "woocommerce_calc_taxes") == "yes",
               "prices_include_tax": hook.get_setting("tax", "woocommerce_prices_include_tax") == "yes"} \
            if unique else {}
        self.log.info("WooCommerce: %d orders (window %s) in %d API calls; taxes %s", len(unique),
                      span or order_ids, hook.calls, tax or "not read (no orders)")
        return {"path": path, "orders": len(unique), "store": store, "window": span, "api_calls": hook.calls,
                "store_tax": tax, "unknown_order_ids": unknown}


    def _mark_stock_holders(self, hook: WooCommerceHook, orders: list[dict]) -> None:
        """A sold variation whose parent manages its stock sells from the parent's card (include/orders_sync)."""
        from include.orders_sync import mark_stock_holders, stock_holder_parents

        parent_managed: dict[int, int] = {}
        for parent, variations in stock_holder_parents(orders).items():
            # a read that fails fails the extract (retried): a guess could move the wrong card
            parent_managed.update(hook.parent_managed_variations(parent, variations))
        if parent_managed:
            self.log.info("%d order lines sell variations whose parent manages the stock: documented on the "
                          "parent's card", mark_stock_holders(orders, parent_managed))


class WooCommerceOrderWriteBackOperator(BaseOperator):
    """Write each new document's id and number into its order (meta) and add an order note."""

    template_fields: Sequence[str] = ("woocommerce_conn_id", "orders")

    def __init__(self, *, orders: Any, woocommerce_conn_id: str = WooCommerceHook.default_conn_name,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.orders = orders
        self.woocommerce_conn_id = woocommerce_conn_id

    def execute(self, context: Context) -> dict:
        from include.orders_sync import write_back

        if context["params"].get("dry_run"):
            return {"failed": [], "api_calls": 0}
        hook = WooCommerceHook(self.woocommerce_conn_id)
        order_ids = [o["id"] for o in Stage.read_json(self.orders["path"])]
        report = write_back(get_ledger(), self.orders["store"], hook, add_note=config.load().order_note,
                            order_ids=order_ids)
        for item in report.failed:
            self.log.error("Order %s: %s", item["order"], item["error"])
        return {"failed": report.failed, "api_calls": hook.calls}
