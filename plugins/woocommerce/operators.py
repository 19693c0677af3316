"""Generic WooCommerce operators: hook calls with their inputs as templated arguments, large data in files.

They import only their own hook and Airflow. Which orders a run reads, what a stock plan writes and what
the ledger records are decided by the application package (officeguy_woocommerce.app); these operators
read and write what they are given.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.sdk import Context

from officeguy_woocommerce.common.file_output import FileOutputOperator
from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook


def _items(value: Any) -> list[str]:
    """A templated list: a sequence, or comma-separated text (what a Jinja template renders)."""
    if value is None:
        return []
    parts = value.split(",") if isinstance(value, str) else value
    return [str(p).strip() for p in parts if str(p).strip()]


def _moment(value: Any) -> datetime | None:
    """A templated time: a datetime, an ISO 8601 text, or empty (None)."""
    if value in (None, "", "None"):
        return None
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


class WooCommerceStockExtractOperator(FileOutputOperator):
    """Every product and variation, stock fields only, into ``output_path`` as JSON:
    ``{"products": [...], "rejected": [...]}`` (a malformed product is left out with its reason)."""

    template_fields: Sequence[str] = ("woocommerce_conn_id", "output_path")

    def __init__(self, *, woocommerce_conn_id: str = WooCommerceHook.default_conn_name, **kwargs) -> None:
        super().__init__(**kwargs)
        self.woocommerce_conn_id = woocommerce_conn_id

    def execute(self, context: Context) -> dict:
        with WooCommerceHook(self.woocommerce_conn_id) as hook:
            products = hook.list_stock_items()
        for row in hook.rejected_products:
            self.log.warning("%s", row["reason"])
        path = self.write_output({"products": [dataclasses.asdict(p) for p in products],
                                              "rejected": hook.rejected_products})
        self.log.info("WooCommerce: %d products and variations in %d API calls, written to %s", len(products),
                      hook.calls, path)
        return {"path": path, "products": len(products), "api_calls": hook.calls, "store": hook.base_url,
                "conn_id": self.woocommerce_conn_id, "rejected": hook.rejected_products}


class WooCommerceOrdersExtractOperator(FileOutputOperator):
    """Orders into ``output_path`` as a JSON list: those modified in ``[modified_after, modified_before]``
    in ``statuses`` (when a window is given), plus the orders ``order_ids`` names, whatever their date.
    Ids the store does not have are returned as ``unknown_order_ids`` (``order_ids`` only)."""

    template_fields: Sequence[str] = ("woocommerce_conn_id", "output_path", "modified_after", "modified_before",
                                      "statuses", "order_ids")

    def __init__(self, *, modified_after: Any = None, modified_before: Any = None,
                 statuses: Sequence[str] | str = (), order_ids: Sequence[int] | str = (),
                 woocommerce_conn_id: str = WooCommerceHook.default_conn_name, **kwargs) -> None:
        super().__init__(**kwargs)
        self.modified_after = modified_after
        self.modified_before = modified_before
        self.statuses = statuses
        self.order_ids = order_ids
        self.woocommerce_conn_id = woocommerce_conn_id

    def execute(self, context: Context) -> dict:
        after, before = _moment(self.modified_after), _moment(self.modified_before)
        ids = sorted({int(i) for i in _items(self.order_ids)})
        orders: list[dict] = []
        with WooCommerceHook(self.woocommerce_conn_id) as hook:
            if after is not None and before is not None and before > after:
                orders = hook.list_orders(modified_after=after, modified_before=before, statuses=_items(self.statuses))
            seen = {int(o["id"]) for o in orders}
            if ids:
                orders += [o for o in hook.list_orders(include=ids) if int(o["id"]) not in seen]
        unknown = sorted(set(ids) - {int(o["id"]) for o in orders})
        for order_id in unknown:
            self.log.warning("Order %s is not in store %s (or not in a status the store lists): nothing is done "
                             "for it.", order_id, hook.base_url)
        path = self.write_output(orders)
        window = [after.isoformat(), before.isoformat()] if after and before else None
        self.log.info("WooCommerce: %d orders (window %s, %d named) in %d API calls", len(orders), window, len(ids),
                      hook.calls)
        return {"path": path, "orders": len(orders), "store": hook.base_url, "window": window,
                "api_calls": hook.calls, "unknown_order_ids": unknown}


class WooCommerceStockApplyOperator(FileOutputOperator):
    """Write stock fields in batches of at most 100 (variations through their parent's batch endpoint),
    ``write_concurrency`` batches at once (the connection's extra, default 2), and check what the store
    kept, item by item.

    ``payloads_path``: JSON ``{"products": [{"id", <field>: <value>}], "variations": {"<parent id>": [...]}}``.
    The outcome of each item goes to ``output_path`` as a JSON list of ``{"id", "parent_id", "outcome":
    "applied" | "failed" | "dry_run", "error"}``. A failed item never stops the others; an item the store
    answered for with another value than the one sent (a parent-managed variation ignores a quantity)
    counts as failed."""

    template_fields: Sequence[str] = ("woocommerce_conn_id", "payloads_path", "output_path", "dry_run")

    def __init__(self, *, payloads_path: str, dry_run: bool | str = False,
                 woocommerce_conn_id: str = WooCommerceHook.default_conn_name, **kwargs) -> None:
        super().__init__(**kwargs)
        self.payloads_path = payloads_path
        self.dry_run = dry_run
        self.woocommerce_conn_id = woocommerce_conn_id

    def execute(self, context: Context) -> dict:
        payloads = json.loads(Path(self.payloads_path).read_text(encoding="utf-8"))
        groups = [(0, payloads.get("products") or [])]
        groups += [(int(parent), items) for parent, items in (payloads.get("variations") or {}).items()]
        dry_run = str(self.dry_run).strip().lower() in ("true", "1", "yes")
        outcomes: list[dict] = []
        calls = 0
        if dry_run:
            outcomes = [{"id": int(i["id"]), "parent_id": p, "outcome": "dry_run", "error": ""}
                        for p, items in groups for i in items]
        else:
            with WooCommerceHook(self.woocommerce_conn_id) as hook:
                # batches of different parents are independent: a few at once (write_concurrency)
                chunks = [(parent_id, items[i:i + 100]) for parent_id, items in groups
                          for i in range(0, len(items), 100)]
                with ThreadPoolExecutor(max_workers=max(1, hook.write_concurrency)) as pool:
                    for sent in pool.map(lambda chunk: self._send(hook, *chunk), chunks):
                        outcomes += sent
                calls = hook.calls
        failed = [o for o in outcomes if o["outcome"] == "failed"]
        for row in failed:
            self.log.error("Not written: Woo id %s: %s. The next run tries again; if it keeps failing, check the "
                           "product in WooCommerce.", row["id"], row["error"])
        path = self.write_output(outcomes)
        applied = sum(1 for o in outcomes if o["outcome"] == "applied")
        self.log.info("%s %d of %d items in %d API calls", "Dry run: would write" if dry_run else "Wrote",
                      len(outcomes) - len(failed), len(outcomes), calls)
        return {"applied": applied, "failed": len(failed), "dry_run": dry_run, "api_calls": calls,
                "outcome_path": path}

    @staticmethod
    def _send(hook: WooCommerceHook, parent_id: int, items: list[dict]) -> list[dict]:
        def outcome(item: dict, error: str = "") -> dict:
            return {"id": int(item["id"]), "parent_id": parent_id, "outcome": "failed" if error else "applied",
                    "error": error}

        try:
            batch = hook.update_variations(parent_id, items) if parent_id else hook.update_products(items)
        except Exception as exc:  # the whole call failed after the hook's retries: these items are not written
            return [outcome(item, str(exc) or type(exc).__name__) for item in items]
        answered = {int(u["id"]): u for u in batch.updated}
        errors = {int(e.id): e for e in batch.errors if e.id is not None}
        results = []
        for item in items:
            item_id = int(item["id"])
            if item_id in errors:
                results.append(outcome(item, f"{errors[item_id].code}: {errors[item_id].message}"))
            elif item_id not in answered:
                results.append(outcome(item, "the store did not answer for this item"))
            else:
                kept = {k: answered[item_id].get(k) for k in item if k != "id"}
                wrong = {k: v for k, v in kept.items() if v != item[k]}
                results.append(outcome(item, "; ".join(f"the store kept {k}={v!r} instead of {item[k]!r}"
                                                       for k, v in wrong.items())))
        return results
