"""The stock sync's steps around the plan: build the input frames, stage them between tasks,
apply a plan through a writer, and summarise a run. Plain Python: the operators call these.

Large data does not travel through XCom (airflow-notes.md): each task writes its frame to the
run's staging folder and passes the path.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from include.stock_plan import OG_ITEM_COLUMNS, WOO_PRODUCT_COLUMNS

# A product the merchant keeps out of the sync: this meta key with a true value.
OPT_OUT_META_KEY = "_stock_sync_exclude"
_TRUE = {"1", "yes", "true", "on"}


# ----------------------------------------------------------------------------- input frames
def og_items_frame(stock: Iterable[Any], income_items: Iterable[Any]) -> pd.DataFrame:
    """OfficeGuy's stock list joined with its item cards for the SKU (the stock list has none, 1.5a)."""
    sku_by_id = {item.id: item.sku for item in income_items}
    rows = [{
        "og_item_id": row.id, "name": row.name, "external_identifier": row.external_identifier,
        "sku": sku_by_id.get(row.id, ""), "stock": _stock_cell(row.stock),
    } for row in stock]
    frame = pd.DataFrame(rows, columns=list(OG_ITEM_COLUMNS)).astype({"og_item_id": "int64"})
    if frame["stock"].map(lambda v: isinstance(v, float)).all():
        frame = frame.astype({"stock": "float64"})
    return frame  # otherwise the raw values stay: the plan skips those items and shows what was sent


def _stock_cell(value: Any) -> Any:
    if value is None:
        return math.nan
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


def woo_products_frame(products: Iterable[Any]) -> pd.DataFrame:
    """Products and variations as the planner reads them (``stock_mode`` from ``manage_stock``)."""
    rows = []
    for p in products:
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


# ----------------------------------------------------------------------------- staging
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class Stage:
    """The run's staging folder: ``<home>/staging/<dag_id>/<run_id>/``."""

    def __init__(self, home: Path, dag_id: str, run_id: str) -> None:
        self.dir = Path(home) / "staging" / _SAFE.sub("_", dag_id) / _SAFE.sub("_", run_id)

    def write(self, name: str, frame: pd.DataFrame) -> str:
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / f"{name}.json"
        payload = {"columns": list(frame.columns), "dtypes": {c: str(t) for c, t in frame.dtypes.items()},
                   "rows": json.loads(frame.to_json(orient="values", force_ascii=False))}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)
        return str(path)

    def write_json(self, name: str, value: Any) -> str:
        """Plain JSON (orders, id maps) for the next task."""
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / f"{name}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)
        return str(path)

    @staticmethod
    def read_json(path: str) -> Any:
        return json.loads(Path(path).read_text(encoding="utf-8"))

    @staticmethod
    def read(path: str) -> pd.DataFrame:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
        frame = pd.DataFrame(payload["rows"], columns=payload["columns"])
        dtypes = {c: t for c, t in payload["dtypes"].items() if t in {"int64", "float64", "Int64", "bool"}}
        return frame.astype(dtypes) if dtypes else frame


# ----------------------------------------------------------------------------- apply
class StockWriter(Protocol):
    def update_products(self, updates: list[dict]) -> Any: ...
    def update_variations(self, parent_id: int, updates: list[dict]) -> Any: ...


@dataclass
class ApplyResult:
    rows: list[dict] = field(default_factory=list)  # one per planned change, with outcome and error

    @property
    def applied(self) -> int:
        return sum(1 for r in self.rows if r["outcome"] == "applied")

    @property
    def failed(self) -> list[dict]:
        return [r for r in self.rows if r["outcome"] == "failed"]


def apply_changes(changes: pd.DataFrame, writer: StockWriter, *, dry_run: bool) -> ApplyResult:
    """Send the planned changes in batches and check what the store kept, item by item.

    A failed item never stops the others (I7). An item the store answered for but with another
    value than the one sent (a parent-managed variation ignores a quantity, A2.3) counts as failed.
    """
    from include.stock_plan import build_payloads

    result = ApplyResult()
    records = changes.to_dict("records")
    if dry_run:
        result.rows = [{**r, "outcome": "dry_run", "error": ""} for r in records]
        return result
    by_id = {int(r["woo_id"]): r for r in records}
    payloads = build_payloads(changes)  # validated (I4)
    groups: list[tuple[str, int, list[dict]]] = [("products", 0, payloads["products"])]
    groups += [("variations", int(pid), items) for pid, items in payloads["variations"].items()]
    for kind, parent_id, items in groups:
        if not items:
            continue
        try:
            batch = writer.update_products(items) if kind == "products" else writer.update_variations(parent_id, items)
        except Exception as exc:  # the whole call failed after the hook's retries: these items are not written
            for item in items:
                result.rows.append({**by_id[int(item["id"])], "outcome": "failed", "error": str(exc)})
            continue
        answered = {int(u["id"]): u for u in batch.updated}
        errors = {int(e.id): e for e in batch.errors if e.id is not None}
        for item in items:
            row = by_id[int(item["id"])]
            field_name = row["field"]
            if item["id"] in errors:
                err = errors[item["id"]]
                result.rows.append({**row, "outcome": "failed", "error": f"{err.code}: {err.message}"})
            elif item["id"] not in answered:
                result.rows.append({**row, "outcome": "failed", "error": "the store did not answer for this item"})
            elif answered[item["id"]].get(field_name) != item[field_name]:
                kept = answered[item["id"]].get(field_name)
                result.rows.append({**row, "outcome": "failed",
                                    "error": f"the store kept {field_name}={kept!r} instead of {item[field_name]!r}"})
            else:
                result.rows.append({**row, "outcome": "applied", "error": ""})
    return result
