"""Generic WooCommerce operators: hook calls with their inputs as templated arguments, large data in files.

They import only their own hook and Airflow. Which orders a run reads, what a stock plan writes and what
the ledger records are decided by the application package (officeguy_woocommerce.app); these operators
read and write what they are given.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import Context

import officeguy_woocommerce.woocommerce.snapshot as snapshot
from officeguy_woocommerce.common.file_output import FileOutputOperator
from officeguy_woocommerce.woocommerce.hooks import STOCK_FIELDS, WooCommerceHook


def _items(value: Any) -> list[str]:
    """A templated list: a sequence, or comma-separated text (what a Jinja template renders)."""
    if value is None:
        return []
    parts = value.split(",") if isinstance(value, str) else value
    return [str(p).strip() for p in parts if str(p).strip()]


def _flag(value: Any) -> bool:
    """A templated boolean: True, or text such as "True" / "true" / "1" (what a Jinja template renders)."""
    return value is True or str(value).strip().lower() in ("true", "1", "yes")


def _moment(value: Any) -> datetime | None:
    """A templated time: a datetime, an ISO 8601 text, or empty (None)."""
    if value in (None, "", "None"):
        return None
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


class WooCommerceStockExtractOperator(FileOutputOperator):
    """Every product and variation, stock fields only, into ``output_path`` as JSON:
    ``{"products": [...], "rejected": [...], "read": {...}}`` (a malformed product is left out with its reason).

    ``snapshot_path`` (templated, optional): where the last complete read of this store is kept for the next
    run. ``incremental`` (templated bool): read only what changed in the store since that snapshot, the
    products saved since its cursor, the variation lists of the variable ones among them and the products
    trashed since, and take the rest from it (plugins/woocommerce/snapshot.py says why that is complete).
    Without a usable snapshot (none, another store, older than ``snapshot_max_age_hours``) the whole store is
    read, and ``read.reason`` says why."""

    template_fields: Sequence[str] = ("woocommerce_conn_id", "output_path", "snapshot_path", "incremental")

    def __init__(self, *, woocommerce_conn_id: str = WooCommerceHook.default_conn_name,
                 snapshot_path: str | None = None, incremental: bool | str = False,
                 snapshot_max_age_hours: float = 24, **kwargs) -> None:
        super().__init__(**kwargs)
        self.woocommerce_conn_id = woocommerce_conn_id
        self.snapshot_path = snapshot_path
        self.incremental = incremental
        self.snapshot_max_age_hours = snapshot_max_age_hours

    def execute(self, context: Context) -> dict:
        now = datetime.now(UTC)
        with WooCommerceHook(self.woocommerce_conn_id) as hook:
            reason = "a full read was asked for"
            if _flag(self.incremental):
                base = snapshot.load(self.snapshot_path)
                reason = snapshot.why_not_usable(base, store=hook.base_url, fields=STOCK_FIELDS, now=now,
                                                 max_age=timedelta(hours=self.snapshot_max_age_hours))
            if reason:
                rows = [dataclasses.asdict(p) for p in hook.list_stock_items()]
                rejected, read = hook.rejected_products, {"mode": "full", "reason": reason}
            else:
                rows, rejected, read = self._changes(hook, base)
            read["cursor"] = snapshot.cursor_of(hook.first_server_date)
        doc = snapshot.document(store=hook.base_url, fields=STOCK_FIELDS, rows=rows, rejected=rejected, read=read,
                                now=now)
        for row in hook.rejected_products:
            self.log.warning("%s", row["reason"])
        path = self.write_output(doc)
        if self.snapshot_path:  # the next run's starting point: a copy, replaced atomically
            target = Path(self.snapshot_path)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, f"{target}.tmp")
            Path(f"{target}.tmp").replace(target)
        if read["mode"] == "full":
            self.log.info("WooCommerce: read the whole store (%s): %d products and variations in %d API calls, "
                          "written to %s", read["reason"], len(rows), hook.calls, path)
        else:
            self.log.info("WooCommerce: %d products saved and %d trashed since %s UTC re-read (%d variation lists), "
                          "the other %d products and variations from the read of %s; %d API calls, written to %s",
                          read["changed"], read["trashed"], read["since"], read["variation_lists"],
                          len(rows) - read["changed"] - read["variations"], read["based_on"], hook.calls, path)
        return {"path": path, "products": len(rows), "api_calls": hook.calls, "store": hook.base_url,
                "conn_id": self.woocommerce_conn_id, "rejected": rejected,
                "read": {k: v for k, v in read.items() if k in ("mode", "reason", "since", "changed", "trashed")}}

    @staticmethod
    def _changes(hook: WooCommerceHook, base: dict) -> tuple[list[dict], list[dict], dict]:
        since = base["read"]["cursor"]
        changed = hook.list_products(modified_after=since, dates_are_gmt=True)
        trashed = hook.list_products(modified_after=since, dates_are_gmt=True, status="trash", fields="id")
        parents = [p.id for p in changed if p.type == "variable" and p.variation_ids]
        variations = hook.list_variations_of(parents)
        rows, rejected = snapshot.merge(
            base.get("products") or [], base.get("rejected") or [], changed=[dataclasses.asdict(p) for p in changed],
            variations=[dataclasses.asdict(v) for v in variations], gone=[p.id for p in trashed],
            new_rejected=hook.rejected_products)
        return rows, rejected, {"mode": "incremental", "reason": "", "since": since, "changed": len(changed),
                                "trashed": len(trashed), "variation_lists": len(parents), "variations": len(variations),
                                "based_on": base["read"].get("saved_at", "?")}


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
        dry_run = _flag(self.dry_run)
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
