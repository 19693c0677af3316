"""Input normalisation: the two frames (and the two mappings) the planner is given, checked and cleaned.

A frame that breaks the input contract (missing columns, ids that are not integers, repeated ids,
an unknown stock_mode, ...) is a bug upstream and raises `StockPlanInputError`. OfficeGuy's own
data is not our contract: a stock that is not a real number becomes NaN here and is reported per
item later (I7). Texts are trimmed, None/NaN become "" (Woo trims SKUs on save). A Woo row in the
trash, or a variation whose parent is trashed or missing, is not `live`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from officeguy_woocommerce.include.stock_plan.contract import (
    OG_ITEM_COLUMNS,
    STOCK_MODES,
    WOO_PRODUCT_COLUMNS,
    StockPlanInputError,
    _is_int,
)


def _require_columns(frame: pd.DataFrame, expected: Iterable[str], frame_name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise StockPlanInputError(f"{frame_name} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        raise StockPlanInputError(f"{frame_name} is missing columns {missing}; expected at least {list(expected)}")


def _text(col: pd.Series) -> pd.Series:
    """Strings with None/NaN as "" and outer blanks trimmed (Woo trims SKUs on save)."""
    return pd.Series(
        [
            v.strip() if isinstance(v, str) else "" if v is None or v != v else str(v).strip()
            for v in col.to_numpy(dtype=object)
        ],
        index=col.index,
        dtype=object,
    )


def _integers(col: pd.Series, what: str, *, allow_null: bool = False) -> pd.Series:
    numbers = pd.to_numeric(col, errors="coerce")
    bad = (numbers.isna() & col.notna()) | (numbers.notna() & (numbers % 1 != 0))
    if not allow_null:
        bad |= col.isna()
    if bad.any():
        examples = col[bad].head(5).tolist()
        raise StockPlanInputError(f"{what} must be integers; bad values: {examples}")
    return numbers.astype("Int64") if allow_null else numbers.astype("int64")


def _normalise_og(og_items: pd.DataFrame) -> pd.DataFrame:
    _require_columns(og_items, OG_ITEM_COLUMNS, "og_items")
    og = pd.DataFrame(
        {
            "og_item_id": _integers(og_items["og_item_id"], "og_items.og_item_id"),
            "name": _text(og_items["name"]),
            "external_identifier": _text(og_items["external_identifier"]),
            "sku": _text(og_items["sku"]),
            # OfficeGuy data, not our contract: anything but a real number (true, "5", {}) becomes NaN
            # and is reported per item with the raw value (I7); never `true` as 1.
            "stock": og_items["stock"].map(_real_number).astype("float64"),
            "stock_raw": og_items["stock"].astype(object),
        }
    ).reset_index(drop=True)
    duplicated = og["og_item_id"].duplicated()
    if duplicated.any():
        raise StockPlanInputError(
            f"og_items has repeated og_item_id: {og.loc[duplicated, 'og_item_id'].head(5).tolist()}"
        )
    return og


def _normalise_woo(woo_products: pd.DataFrame) -> pd.DataFrame:
    _require_columns(woo_products, WOO_PRODUCT_COLUMNS, "woo_products")
    w = woo_products
    woo = pd.DataFrame(
        {
            "woo_id": _integers(w["woo_id"], "woo_products.woo_id"),
            "parent_id": _integers(w["parent_id"].fillna(0), "woo_products.parent_id"),
            "type": _text(w["type"]),
            "status": _text(w["status"]),
            "sku": _text(w["sku"]),
            "name": _text(w["name"]),
            "stock_mode": _text(w["stock_mode"]),
            "stock_quantity": _integers(w["stock_quantity"], "woo_products.stock_quantity", allow_null=True),
            "stock_status": _text(w["stock_status"]),
            "backorders": _text(w["backorders"]),
            "opt_out": w["opt_out"],
            # optional: what WooCommerce sent as stock_quantity when it was not a whole number ("5", 5.5)
            "bad_stock": w.get("bad_stock", None),
        }
    ).reset_index(drop=True)
    _check_woo(woo)
    woo["opt_out"] = woo["opt_out"].astype(bool)
    # A product in the trash is gone for the sync (Woo's own SKU uniqueness check ignores trashed
    # posts); so is a variation whose parent is trashed or missing.
    not_trashed = woo["status"] != "trash"
    product_ids = woo.loc[not_trashed & (woo["parent_id"] == 0), "woo_id"]
    woo["live"] = not_trashed & ((woo["parent_id"] == 0) | woo["parent_id"].isin(product_ids))
    return woo


def _check_woo(woo: pd.DataFrame) -> None:
    """The Woo frame's ids, stock modes, parents and opt-outs against the input contract."""
    if (woo["woo_id"] <= 0).any():
        raise StockPlanInputError("woo_products.woo_id must be positive")
    duplicated = woo["woo_id"].duplicated()
    if duplicated.any():
        raise StockPlanInputError(
            f"woo_products has repeated woo_id: {woo.loc[duplicated, 'woo_id'].head(5).tolist()}"
        )
    bad_mode = ~woo["stock_mode"].isin(STOCK_MODES)
    if bad_mode.any():
        raise StockPlanInputError(
            f"woo_products.stock_mode must be one of {sorted(STOCK_MODES)}; "
            f"got {woo.loc[bad_mode, 'stock_mode'].unique()[:5].tolist()}"
        )
    bad_parent_id = (woo["type"] == "variation") != (woo["parent_id"] > 0)
    if bad_parent_id.any():
        raise StockPlanInputError(
            "woo_products.parent_id must be > 0 exactly on variations; "
            f"woo_id {woo.loc[bad_parent_id, 'woo_id'].head(5).tolist()}"
        )
    # Woo reports manage_stock "parent" only on variations (A2.3).
    bad_parent = (woo["stock_mode"] == "parent") & ((woo["type"] != "variation") | (woo["parent_id"] <= 0))
    if bad_parent.any():
        raise StockPlanInputError(
            "stock_mode 'parent' is only valid on variations with a parent_id; "
            f"woo_id {woo.loc[bad_parent, 'woo_id'].head(5).tolist()}"
        )
    if woo["opt_out"].dtype != bool and not woo["opt_out"].map(lambda v: isinstance(v, bool | np.bool_)).all():
        raise StockPlanInputError("woo_products.opt_out must be booleans")


def _normalise_pending(pending: Mapping[int, int] | None) -> pd.Series:
    if not pending:
        return pd.Series(dtype="int64")
    if not isinstance(pending, Mapping):
        raise StockPlanInputError(f"pending must be a mapping woo_id -> quantity, got {type(pending).__name__}")
    for woo_id, quantity in pending.items():
        if not _is_int(woo_id) or woo_id <= 0 or not _is_int(quantity):
            raise StockPlanInputError(
                f"pending must map positive int woo ids to int quantities; got {woo_id!r}: {quantity!r}"
            )
    return pd.Series({int(k): int(v) for k, v in pending.items()}, dtype="int64")


def _real_number(value: object) -> float:
    """A number, or a string holding one ("4"); booleans and anything else are not stock figures."""
    if isinstance(value, bool | np.bool_):
        return math.nan
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return math.nan
        return number if math.isfinite(number) else math.nan
    return math.nan



def _normalise_unopened(unopened: Mapping[int, float] | None) -> pd.Series:
    if not unopened:
        return pd.Series(dtype="float64")
    if not isinstance(unopened, Mapping):
        raise StockPlanInputError(
            f"unopened_cards must be a mapping og_item_id -> units, got {type(unopened).__name__}"
        )
    for og_id, units in unopened.items():
        if not _is_int(og_id) or isinstance(units, bool | np.bool_) or not isinstance(units, int | float | np.number):
            raise StockPlanInputError(
                f"unopened_cards must map int og item ids to numbers of units; got {og_id!r}: {units!r}"
            )
    return pd.Series({int(k): float(v) for k, v in unopened.items()}, dtype="float64")

