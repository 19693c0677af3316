"""Rules 6 and 7: the OfficeGuy cards the orders flow creates, which are not synced like the others.

6. Service cards (shipping, fee, rounding, refund lines of the orders flow) are not products: an
   item whose ExternalIdentifier starts with "stock-sync:", one with no ExternalIdentifier, no SKU
   and a service label as its name, or one of the configured service item ids is left out before
   matching (never unmatched, written or braked on) and only counted (`service_cards`).
7. Opening stock: a card the orders flow created (`unopened_cards`: og id -> the net units this
   project's own documents moved on it) whose OfficeGuy stock is exactly that (within 1e-9) has
   seen no other movement: OfficeGuy does not know its stock yet, so it is skipped, "waiting for
   opening stock in OfficeGuy", and the store keeps its own quantity. Any other figure (a purchase
   order, a count, a fraction) opens it: it is synced from this run on and listed in
   `opened_cards`, for the caller to remember. A card in `unsettled_cards` (one of our documents
   may be in OfficeGuy but not yet in the ledger) keeps waiting and is decided on a later run.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import numpy as np
import pandas as pd

from officeguy_woocommerce.include.stock_plan.contract import OPENING_TOLERANCE, SERVICE_EXTERNAL_ID_PREFIX, Reason
from officeguy_woocommerce.include.stock_plan.options import PlanOptions
from officeguy_woocommerce.include.stock_plan.planning import _Skips


def _service_cards(og: pd.DataFrame, options: PlanOptions) -> pd.Series:
    """Rule 6: OfficeGuy items that carry the orders flow's non-product lines."""
    ext, sku = og["external_identifier"], og["sku"]
    return (
        ext.str.startswith(SERVICE_EXTERNAL_ID_PREFIX).astype(bool)
        | ((ext == "") & (sku == "") & og["name"].isin(options.service_labels))
        | og["og_item_id"].isin(options.service_item_ids)
    )


def _opening_state(
    og: pd.DataFrame, own_moves: pd.Series, unsettled: Collection[int]
) -> tuple[dict[int, str], tuple[int, ...]]:
    """Rule 7: {og id: skip detail} of the created cards still waiting, and the ids opened now."""
    if own_moves.empty:
        return {}, ()
    own = og["og_item_id"].map(own_moves)
    stock = og["stock"]
    known = own.notna() & np.isfinite(stock)  # a stock that is not a number is reported as such later
    same = known & ((stock - own).abs() <= OPENING_TOLERANCE)
    unsure = known & ~same & og["og_item_id"].isin([int(i) for i in unsettled])
    awaiting: dict[int, str] = {}
    for og_id, s, o in zip(og.loc[same, "og_item_id"], stock[same], own[same], strict=True):
        moved = "no document of ours moved it yet" if o == 0 else f"our own documents moved it by {o:+g}"
        awaiting[int(og_id)] = (
            f"the orders flow created OfficeGuy item {og_id}; its stock there is {s:g} and {moved}, so OfficeGuy "
            "does not know the real stock yet. Record it in OfficeGuy (a purchase order or a stock count); "
            "the next sync follows it from then on"
        )
    for og_id, s, o in zip(og.loc[unsure, "og_item_id"], stock[unsure], own[unsure], strict=True):
        awaiting[int(og_id)] = (
            f"the orders flow created OfficeGuy item {og_id}; its stock there is {s:g} against {o:+g} from our own "
            "documents, but one of our documents for it is still being recorded: decided on the next run"
        )
    opened = tuple(sorted(int(i) for i in og.loc[known & ~same & ~unsure, "og_item_id"]))
    return awaiting, opened


def _skip_awaiting_opening(matched: pd.DataFrame, awaiting: Mapping[int, str], skips: _Skips) -> None:
    if not awaiting:
        return
    waiting = matched["og_item_id"].isin(list(awaiting))
    skips.mark(
        waiting,
        Reason.AWAITING_OPENING_STOCK,
        (
            f"{name!r} (SKU {sku or '-'}): {awaiting[int(og_id)]}"
            for og_id, name, sku in zip(
                matched.loc[waiting, "og_item_id"], matched.loc[waiting, "row_name"], matched.loc[waiting, "row_sku"],
                strict=True,
            )
        ),
    )
