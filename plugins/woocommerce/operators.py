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
        hook = WooCommerceHook(self.woocommerce_conn_id)
        frame = woo_products_frame(hook.list_stock_items())
        path = Stage(config.load().home, self.dag_id, context["run_id"]).write("woo_products", frame)
        self.log.info("WooCommerce: %d products and variations in %d API calls, staged at %s",
                      len(frame), hook.calls, path)
        return {"path": path, "products": len(frame), "api_calls": hook.calls, "store": hook.base_url}


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
