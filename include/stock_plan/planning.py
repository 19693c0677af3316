"""Rules 2 and 3: the per-row rules that decide what each matched item writes, or why it writes nothing.

2. What gets written (woocommerce-api.md A2, I4):
   - managed product or variation: `stock_quantity = floor(OfficeGuy stock) - pending` (I3);
   - unmanaged product or variation: `stock_status` only (instock when that number is > 0), except
     that a merchant's `onbackorder` is kept;
   - a variation whose parent manages its stock (`stock_mode == "parent"`): the parent's quantity;
   - a variable parent without managed stock, grouped and external products: never written.
3. Only changed values are written; the rest are `unchanged`.

Every matched item is joined with its Woo row and the row that holds its stock (`_with_stock_holders`);
the `_skip_*` rules then give it a reason not to be written (`_Skips`: the first reason sticks), and
the rest become one planned value per stock holder (`_planned_values`).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from officeguy_woocommerce.include.stock_plan.contract import (
    CHANGE_COLUMNS,
    MAX_ABS_QUANTITY,
    NEVER_STOCKED_TYPES,
    WRITABLE_TYPES,
    Reason,
)
from officeguy_woocommerce.include.stock_plan.payloads import build_payloads


def _with_stock_holders(matched: pd.DataFrame, woo: pd.DataFrame, pending_by_holder: pd.Series) -> pd.DataFrame:
    """Matched items with the matched Woo row (row_*), the row that holds its stock (holder_*),
    and the target number."""
    matched = matched.reset_index(drop=True)
    matched["woo_id"] = matched["woo_id"].astype("int64")
    by_id = woo.set_index("woo_id")
    row = by_id.loc[matched["woo_id"]].reset_index(drop=True)
    for col in ("type", "sku", "name", "stock_mode", "opt_out"):
        matched[f"row_{col}"] = row[col].to_numpy()

    # The stock holder is the parent for a variation whose parent manages its stock (A2.3: writing
    # stock_quantity to such a variation is silently ignored; orders reduce the parent).
    matched["via_parent"] = (row["stock_mode"] == "parent").to_numpy()
    matched["holder_id"] = np.where(matched["via_parent"], row["parent_id"], matched["woo_id"])
    holder = by_id.reindex(matched["holder_id"]).reset_index(drop=True)
    for col in ("type", "parent_id", "sku", "name", "stock_mode", "stock_quantity", "stock_status"):
        matched[f"holder_{col}"] = holder[col].array
    matched["holder_live"] = holder["live"].fillna(False).astype(bool).to_numpy()
    matched["holder_opt_out"] = holder["opt_out"].fillna(False).astype(bool).to_numpy()
    matched["holder_bad_stock"] = holder["bad_stock"].to_numpy()

    # floor: a Woo quantity is an integer, never overstate a fractional stock (officeguy-api.md 7);
    # minus what Woo already sold that OfficeGuy has not documented yet (I3).
    matched["pending"] = matched["holder_id"].map(pending_by_holder).fillna(0).astype("int64")
    stock = matched["stock"].to_numpy()
    finite = np.isfinite(stock)
    matched["target"] = np.where(finite, np.floor(np.where(finite, stock, 0)), np.nan) - matched["pending"]
    return matched



class _Skips:
    """Why each matched item is not written. The first reason given to an item sticks."""

    def __init__(self, index: pd.Index) -> None:
        self.reason = pd.Series(None, index=index, dtype=object)
        self.detail = pd.Series(None, index=index, dtype=object)

    def mark(self, mask: pd.Series | np.ndarray, reason: Reason, details: str | Iterable[str]) -> None:
        """`details`: one text for all, or one per True row of `mask`, in order."""
        mask = np.asarray(mask, dtype=bool)
        if not isinstance(details, str):
            details = pd.Series(list(details), index=self.reason.index[mask], dtype=object)
        mask = mask & self.reason.isna().to_numpy()
        if mask.any():
            self.reason[mask] = str(reason)
            self.detail[mask] = details if isinstance(details, str) else details[self.reason.index[mask]]

    def unresolved(self) -> pd.Series:
        return self.reason.isna()


def _skip_unwritable(matched: pd.DataFrame, woo: pd.DataFrame, skips: _Skips) -> None:
    row_type = matched["row_type"]
    skips.mark(
        row_type.isin(NEVER_STOCKED_TYPES),
        Reason.NOT_STOCKED_TYPE,
        "grouped and external products are never written (A2.2)",
    )
    skips.mark(
        ~row_type.isin(WRITABLE_TYPES),
        Reason.UNSUPPORTED_TYPE,
        "only simple, variable and variation products are synced",
    )
    skips.mark(
        (row_type == "variable") & (matched["row_stock_mode"] != "managed"),
        Reason.VARIABLE_WITHOUT_STOCK,
        "its stock_status derives from its variations (A2.4); match the variations instead",
    )
    skips.mark(
        matched["via_parent"] & ((matched["holder_stock_mode"] != "managed") | ~matched["holder_live"]),
        Reason.PARENT_NOT_MANAGING,
        "the variation says its parent holds the stock, but the parent does not manage stock",
    )
    skips.mark(
        matched["row_opt_out"] | matched["holder_opt_out"],
        Reason.OPTED_OUT,
        "the merchant excluded this product from the sync",
    )
    bad = matched["holder_bad_stock"].notna()
    skips.mark(bad, Reason.WOO_STOCK_NOT_A_NUMBER,
               (f"WooCommerce sent {v}; fix the product in WooCommerce"
                for v in matched.loc[bad, "holder_bad_stock"]))


def _resolve_shared_parents(matched: pd.DataFrame, skips: _Skips) -> None:
    """Several items reaching one parent-held stock (one card per variation, as the plugin creates
    them, officeguy-api.md 2.1). The parent's own card wins: it names the stock holder itself.
    Otherwise the parent is written once, and only when every variation's item gives the same
    number: we never guess between them."""
    open_ = skips.unresolved()
    lost_to_direct = _skip_parent_set_directly(matched, open_, skips)
    candidates = open_ & matched["via_parent"] & ~lost_to_direct
    shared = candidates & matched["holder_id"].where(candidates).duplicated(keep=False)
    if shared.any():
        _write_shared_parent_once(matched, shared, skips)


def _skip_parent_set_directly(matched: pd.DataFrame, open_: pd.Series, skips: _Skips) -> pd.Series:
    """The variations (still `open_`) whose parent's own OfficeGuy item names it: that item sets it."""
    direct = open_ & ~matched["via_parent"]
    owner = matched.loc[direct].set_index("holder_id")["og_item_id"]  # claims are unique: one per holder
    lost_to_direct = open_ & matched["via_parent"] & matched["holder_id"].isin(owner.index)
    skips.mark(
        lost_to_direct,
        Reason.PARENT_SET_DIRECTLY,
        (
            f"Woo product {h} holds this variation's stock; OfficeGuy item {owner[h]} sets it"
            for h in matched.loc[lost_to_direct, "holder_id"]
        ),
    )
    return lost_to_direct


def _write_shared_parent_once(matched: pd.DataFrame, shared: pd.Series, skips: _Skips) -> None:
    """Variations `shared` by one parent-held stock: one writes it when all agree, none when not."""
    group = matched[shared].groupby("holder_id")["target"]
    # every target known (count == size) and all equal (nunique == 1)
    agree = (group.transform("count") == group.transform("size")) & (group.transform("nunique") == 1)
    agree = agree.reindex(matched.index, fill_value=False)
    writer = matched[shared & agree].groupby("holder_id")["og_item_id"].min()
    repeat = shared & agree & ~matched["og_item_id"].isin(writer)
    skips.mark(
        repeat,
        Reason.PARENT_SHARED,
        (f"Woo product {h} is written once, via OfficeGuy item {writer[h]}" for h in matched.loc[repeat, "holder_id"]),
    )
    # An item whose own stock is garbage is reported for that (later), its siblings for the conflict.
    conflict = shared & ~agree
    conflict_valid = conflict & matched["target"].notna()
    numbers = {
        h: ", ".join(
            f"item {i}: {'?' if pd.isna(t) else int(t)}" for i, t in zip(g["og_item_id"], g["target"], strict=True)
        )
        for h, g in matched[conflict].groupby("holder_id")
    }
    skips.mark(
        conflict_valid,
        Reason.PARENT_CONFLICT,
        (
            f"Woo product {h} holds the stock of several variations; {numbers[h]}"
            for h in matched.loc[conflict_valid, "holder_id"]
        ),
    )


def _skip_bad_stock(matched: pd.DataFrame, skips: _Skips) -> None:
    target = matched["target"]
    bad = target.isna()
    skips.mark(bad, Reason.STOCK_NOT_A_NUMBER, (f"OfficeGuy sent stock {s!r}" for s in matched.loc[bad, "stock_raw"]))
    huge = target.abs() > MAX_ABS_QUANTITY
    skips.mark(huge, Reason.STOCK_OUT_OF_RANGE, (f"OfficeGuy sent stock {s!r}" for s in matched.loc[huge, "stock_raw"]))
    # A merchant's onbackorder on an unmanaged product is a sales decision, not a stock level.
    skips.mark(
        (matched["holder_stock_mode"] != "managed") & (matched["holder_stock_status"] == "onbackorder"),
        Reason.ON_BACKORDER_KEPT,
        "stock_status onbackorder was set by the merchant and is not overwritten",
    )


def _planned_values(planned: pd.DataFrame) -> pd.DataFrame:
    """One row per stock holder to write (CHANGE_COLUMNS plus the SKUs the subset filter needs)."""
    managed = (planned["holder_stock_mode"] == "managed").to_numpy()
    target = planned["target"].to_numpy(dtype="int64")
    # Managed: write the number, Woo derives stock_status itself (A2.1 "How stock_status is computed").
    # Unmanaged: Woo keeps the stock_status we send, so that is all we write (A2.1).
    new = [int(t) if m else ("instock" if t > 0 else "outofstock") for m, t in zip(managed, target, strict=True)]
    old_quantity = planned["holder_stock_quantity"].astype(object).where(planned["holder_stock_quantity"].notna(), None)
    old = np.where(managed, old_quantity.to_numpy(), planned["holder_stock_status"].to_numpy())
    is_variation = (planned["holder_type"] == "variation").to_numpy()
    return pd.DataFrame(
        {
            "woo_id": planned["holder_id"].to_numpy(dtype="int64"),
            # variations are written through /products/{parent_id}/variations/batch (A4)
            "parent_id": np.where(is_variation, planned["holder_parent_id"], 0).astype("int64"),
            "target_kind": np.where(is_variation, "variation", "product").astype(object),
            "field": np.where(managed, "stock_quantity", "stock_status").astype(object),
            "old": pd.Series(old, dtype=object),
            "new": pd.Series(new, dtype=object),
            "og_item_id": planned["og_item_id"].to_numpy(dtype="int64"),
            "matched_by": planned["matched_by"].to_numpy(),
            "name": planned["holder_name"].to_numpy(),
            "sku": planned["holder_sku"].to_numpy(),
            "og_stock": planned["stock"].to_numpy(),
            "pending": planned["pending"].to_numpy(),
            "_og_sku": planned["sku"].to_numpy(),
            "_row_sku": planned["row_sku"].to_numpy(),
        }
    )


def _skipped_frame(matched: pd.DataFrame, skips: _Skips, woo: pd.DataFrame) -> pd.DataFrame:
    gone = skips.reason.notna()
    items = matched[gone]
    from_items = pd.DataFrame(
        {
            "woo_id": items["woo_id"].astype("Int64"),
            "og_item_id": items["og_item_id"].astype("Int64"),
            "name": items["row_name"],
            "sku": items["row_sku"],
            "reason": skips.reason[gone],
            "detail": skips.detail[gone],
            "_og_sku": items["sku"],
            "_row_sku": items["row_sku"],
        }
    )
    # Opted-out products are always listed, matched or not, so the report shows the exclusion.
    reached = set(matched["woo_id"]) | set(matched["holder_id"])
    lone = woo[woo["live"] & woo["opt_out"] & ~woo["woo_id"].isin(reached)]
    opted_out = pd.DataFrame(
        {
            "woo_id": lone["woo_id"].astype("Int64"),
            "og_item_id": pd.Series(pd.NA, index=lone.index, dtype="Int64"),
            "name": lone["name"],
            "sku": lone["sku"],
            "reason": str(Reason.OPTED_OUT),
            "detail": "the merchant excluded this product from the sync (no OfficeGuy item matched it)",
            "_og_sku": "",
            "_row_sku": lone["sku"],
        }
    )
    return pd.concat([from_items, opted_out], ignore_index=True)


def _is_stock_holder(woo: pd.DataFrame) -> pd.Series:
    """Live Woo rows whose stock this sync could write: what `unmatched_woo` is drawn from."""
    return (
        woo["live"]
        & ~woo["opt_out"]
        & woo["type"].isin(WRITABLE_TYPES)
        & (woo["stock_mode"] != "parent")
        & ~((woo["type"] == "variable") & (woo["stock_mode"] != "managed"))
    )


def _sorted_changes(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["target_kind", "parent_id", "woo_id"], kind="stable").reset_index(drop=True)[
        list(CHANGE_COLUMNS)
    ]


def _split_changes(planned: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rule 3: the changes to write and the values left unchanged, both in CHANGE_COLUMNS."""
    # Only changed values are written (I4); a null quantity on a managed product is a change.
    same = np.array([o is not None and o == n for o, n in zip(planned["old"], planned["new"], strict=True)], dtype=bool)
    changes = _sorted_changes(planned[~same])
    unchanged = _sorted_changes(planned[same])
    # Validate now too, not only in payloads(): a bad value is a bug and must fail the planning task.
    build_payloads(changes)
    return changes, unchanged
