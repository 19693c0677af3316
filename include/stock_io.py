"""The stock sync's data around the plan: the planner's input frames from what the extract operators
wrote, and the plan's changes joined with what the store did to them. Plain Python (pandas).

The frames accept the extract files' rows (mappings) or the hooks' dataclasses alike. Staging files:
``officeguy_woocommerce.include.staging``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from officeguy_woocommerce.include.stock_plan import OG_ITEM_COLUMNS, WOO_PRODUCT_COLUMNS

# A product the merchant keeps out of the sync: this meta key with a true value.
OPT_OUT_META_KEY = "_stock_sync_exclude"
_TRUE = {"1", "yes", "true", "on"}


# ----------------------------------------------------------------------------- input frames
def og_items_frame(stock: Iterable[Any], income_items: Iterable[Any]) -> pd.DataFrame:
    """OfficeGuy's stock list joined with its item cards for the SKU (the stock list has none, 1.5a)."""
    stock, income_items = map(_records, (stock, income_items))
    sku_by_id = {item.id: item.sku for item in income_items}
    rows = [{
        "og_item_id": row.id, "name": row.name, "external_identifier": row.external_identifier,
        "sku": sku_by_id.get(row.id, ""), "stock": _stock_cell(row.stock),
    } for row in stock]
    frame = pd.DataFrame(rows, columns=list(OG_ITEM_COLUMNS)).astype({"og_item_id": "int64"})
    if frame["stock"].map(lambda v: isinstance(v, float)).all():
        frame = frame.astype({"stock": "float64"})
    return frame  # otherwise the raw values stay: the plan skips those items and shows what was sent


def _records(rows: Iterable[Any]) -> list[Any]:
    """Rows as objects with attributes: an extract file's mappings, or the hooks' dataclasses as they are."""
    from types import SimpleNamespace

    return [SimpleNamespace(**r) if isinstance(r, Mapping) else r for r in rows]


def _stock_cell(value: Any) -> Any:
    if value is None:
        return math.nan
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


def woo_products_frame(products: Iterable[Any]) -> pd.DataFrame:
    """Products and variations as the planner reads them (``stock_mode`` from ``manage_stock``)."""
    rows = []
    for p in _records(products):
        mode = "parent" if p.manage_stock == "parent" else ("managed" if p.manage_stock is True else "unmanaged")
        quantity, bad = _whole_or_raw(p.stock_quantity)
        bad = f"stock_quantity {bad}" if bad else None
        if p.manage_stock not in (True, False, "parent"):
            bad = f"manage_stock {p.manage_stock!r}"
        low, _ = _whole_or_raw(p.low_stock_amount)
        rows.append({
            "woo_id": p.id, "parent_id": p.parent_id, "type": p.type, "status": p.status, "sku": p.sku,
            "name": p.name, "stock_mode": mode, "stock_quantity": quantity, "stock_status": p.stock_status,
            "backorders": p.backorders, "low_stock_amount": low, "opt_out": is_opted_out(p.meta_data),
            "bad_stock": bad,
        })
    frame = pd.DataFrame(rows, columns=[*WOO_PRODUCT_COLUMNS, "bad_stock"])
    return frame.astype({"woo_id": "int64", "parent_id": "int64", "stock_quantity": "Int64",
                         "low_stock_amount": "Int64", "opt_out": "bool"})


def _whole_or_raw(value: Any) -> tuple[int | None, str | None]:
    """WooCommerce's integer, or (None, the raw value as text) when it sent something else ("5", 5.5)."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value, None
    return None, repr(value)


def is_opted_out(meta_data: Iterable[dict]) -> bool:
    return any(m.get("key") == OPT_OUT_META_KEY and str(m.get("value")).strip().lower() in _TRUE
               for m in meta_data or ())


# ----------------------------------------------------------------------------- applied rows
def applied_rows(changes: pd.DataFrame, outcomes: Iterable[dict]) -> list[dict]:
    """The plan's changes with what the store did to each (the apply operator's outcome per Woo id):
    ``outcome`` applied / failed / dry_run, and ``error``. A change the writer has no outcome for (the
    apply task died before it) is ``failed`` with that reason, so the ledger and report never claim it."""
    by_id = {int(o["id"]): o for o in outcomes}
    rows = []
    for change in changes.to_dict("records"):
        got = by_id.get(int(change["woo_id"]))
        rows.append({**change, "outcome": got["outcome"] if got else "failed",
                     "error": got.get("error", "") if got else "no outcome: the apply task did not reach it"})
    return rows
