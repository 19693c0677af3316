"""The driver: `plan_stock` runs the rules in order over the two frames and returns a `StockPlan`.

Normalise both frames (`normalise`), leave the service cards out and find the cards waiting for
their opening stock (`cards`, rules 6 and 7), match (`matching`, rule 1), decide each matched
item's write (`planning`, rules 2 and 3), keep a SKU subset when asked, then brake (`brake`,
rule 4). `StockPlan.payloads()` builds the validated batch bodies (`payloads`, rule 5).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from officeguy_woocommerce.include.stock_plan.brake import _safety_brake
from officeguy_woocommerce.include.stock_plan.cards import _opening_state, _service_cards, _skip_awaiting_opening
from officeguy_woocommerce.include.stock_plan.contract import (
    SKIPPED_COLUMNS,
    UNMATCHED_OG_COLUMNS,
    UNMATCHED_WOO_COLUMNS,
    StockPlanBlocked,
)
from officeguy_woocommerce.include.stock_plan.matching import _match
from officeguy_woocommerce.include.stock_plan.normalise import (
    _normalise_og,
    _normalise_pending,
    _normalise_unopened,
    _normalise_woo,
)
from officeguy_woocommerce.include.stock_plan.options import PlanOptions
from officeguy_woocommerce.include.stock_plan.payloads import build_payloads
from officeguy_woocommerce.include.stock_plan.planning import (
    _is_stock_holder,
    _planned_values,
    _resolve_shared_parents,
    _skip_bad_stock,
    _skip_unwritable,
    _skipped_frame,
    _Skips,
    _split_changes,
    _with_stock_holders,
)


@dataclass(frozen=True, eq=False)
class StockPlan:
    """The result of `plan_stock`. Frames use the *_COLUMNS constants of `contract`."""

    changes: pd.DataFrame
    unchanged: pd.DataFrame
    skipped: pd.DataFrame
    unmatched_og: pd.DataFrame
    unmatched_woo: pd.DataFrame
    warnings: pd.DataFrame
    brake: str | None
    # The brake message a forced run overrode, kept for the report and the log.
    brake_overridden: str | None = None
    matched: int = 0
    og_item_count: int = 0
    woo_product_count: int = 0
    # OfficeGuy items left out as service cards (rule 6), and created cards opened this run (rule 7).
    service_cards: int = 0
    opened_cards: tuple[int, ...] = ()

    @property
    def unchanged_count(self) -> int:
        return len(self.unchanged)

    def payloads(self) -> dict[str, Any]:
        """Batch bodies' `update` lists: products go to /products/batch, variations to
        /products/{parent_id}/variations/batch (woocommerce-api.md A4). Validated (I4)."""
        if self.brake is not None:
            raise StockPlanBlocked(self.brake)
        return build_payloads(self.changes)

    def summary(self) -> dict[str, Any]:
        """Small, JSON-safe counts for XCom and the log. `matched`: OfficeGuy items linked to a Woo
        product or variation, whether then changed, unchanged or skipped."""
        return {
            "og_items": int(self.og_item_count),
            "woo_products": int(self.woo_product_count),
            "matched": int(self.matched),
            "changed": len(self.changes),
            "unchanged": len(self.unchanged),
            "unmatched_og": len(self.unmatched_og),
            "unmatched_woo": len(self.unmatched_woo),
            "skipped": len(self.skipped),
            "warnings": len(self.warnings),
            "service_cards": int(self.service_cards),
            "cards_opened": len(self.opened_cards),
            "unmatched_og_by_reason": _count_by_reason(self.unmatched_og),
            "skipped_by_reason": _count_by_reason(self.skipped),
            "brake": self.brake,
            "forced": self.brake_overridden is not None,
        }


def _count_by_reason(frame: pd.DataFrame) -> dict[str, int]:
    return {str(k): int(v) for k, v in frame["reason"].value_counts().sort_index().items()}


def plan_stock(
    og_items: pd.DataFrame,
    woo_products: pd.DataFrame,
    pending: Mapping[int, int] | None = None,
    options: PlanOptions | None = None,
    *,
    unopened_cards: Mapping[int, float] | None = None,
    unsettled_cards: Collection[int] = (),
) -> StockPlan:
    """Plan every stock write for one run. Pure: same frames in, same plan out.

    `pending`: woo stock-holder id -> quantity Woo already sold that OfficeGuy has not documented
    yet (I3); the stock holder is the parent for a parent-managed variation.
    `unopened_cards`: og item id -> net units this project's own final documents moved on it, for
    the cards the orders flow created and no run has seen opened yet (rule 7).
    `unsettled_cards`: og item ids of those whose comparison cannot be trusted this run.
    """
    options = options or PlanOptions()
    og_all = _normalise_og(og_items)
    woo = _normalise_woo(woo_products)
    pending_by_holder = _normalise_pending(pending)

    service = _service_cards(og_all, options)
    og = og_all[~service].reset_index(drop=True)
    awaiting, opened = _opening_state(og, _normalise_unopened(unopened_cards), unsettled_cards)

    scope = _plan_items(og, woo, pending_by_holder, awaiting, options)
    changes, unchanged = _split_changes(scope.planned)

    brake = _safety_brake(og, changes, unchanged, options, service_cards=int(service.sum()))
    return StockPlan(
        changes=changes,
        unchanged=unchanged,
        skipped=scope.skipped.sort_values(["reason", "woo_id", "og_item_id"], kind="stable").reset_index(drop=True)[
            list(SKIPPED_COLUMNS)
        ],
        unmatched_og=scope.unmatched_og.sort_values("og_item_id").reset_index(drop=True)[list(UNMATCHED_OG_COLUMNS)],
        unmatched_woo=scope.unmatched_woo.sort_values("woo_id").reset_index(drop=True),
        warnings=scope.warnings.sort_values("og_item_id").reset_index(drop=True),
        brake=None if options.force else brake,
        brake_overridden=brake if options.force else None,
        matched=scope.matched,
        og_item_count=len(og_all),
        woo_product_count=len(woo),
        service_cards=int(service.sum()),
        opened_cards=opened,
    )


@dataclass(frozen=True, eq=False)
class _Scope:
    """What a run plans and reports, unsorted: `planned` values (before rule 3 splits them), the
    other frames of `StockPlan`, and the count of matched items."""

    planned: pd.DataFrame
    skipped: pd.DataFrame
    unmatched_og: pd.DataFrame
    unmatched_woo: pd.DataFrame
    warnings: pd.DataFrame
    matched: int


def _plan_items(
    og: pd.DataFrame,
    woo: pd.DataFrame,
    pending_by_holder: pd.Series,
    awaiting: Mapping[int, str],
    options: PlanOptions,
) -> _Scope:
    """Match the items (rule 1), give each matched one its skip or its value (rules 2 and 7; the skips
    run in the order below and the first reason given sticks), and keep the SKU subset when asked."""
    matching = _match(og, woo, options.match_by_name)
    items = og.join(matching.items[["woo_id", "matched_by", "reason", "detail"]])
    unmatched_og = items.loc[
        items["woo_id"].isna(), ["og_item_id", "name", "sku", "external_identifier", "stock_raw", "reason", "detail"]
    ]
    unmatched_og = unmatched_og.rename(columns={"stock_raw": "stock"})

    matched = _with_stock_holders(items[items["woo_id"].notna()], woo, pending_by_holder)
    skips = _Skips(matched.index)
    _skip_unwritable(matched, woo, skips)
    _skip_awaiting_opening(matched, awaiting, skips)
    _resolve_shared_parents(matched, skips)
    _skip_bad_stock(matched, skips)
    reached = set(matched["woo_id"]) | set(matched["holder_id"])
    scope = _Scope(
        planned=_planned_values(matched[skips.reason.isna()]),
        skipped=_skipped_frame(matched, skips, woo),
        unmatched_og=unmatched_og,
        unmatched_woo=woo.loc[_is_stock_holder(woo) & ~woo["woo_id"].isin(reached), list(UNMATCHED_WOO_COLUMNS)],
        warnings=matching.warnings,
        matched=len(matched),
    )
    return _within_skus(scope, matched, options.skus) if options.skus else scope


def _within_skus(scope: _Scope, matched: pd.DataFrame, skus: frozenset[str]) -> _Scope:
    """SKU subset (a manual run on a few products): planned and reported only inside it. Matching
    still saw the whole catalogue, so duplicates and claims outside the subset still count."""
    planned, skipped = scope.planned, scope.skipped
    in_scope = matched["sku"].isin(skus) | matched["row_sku"].isin(skus) | matched["holder_sku"].isin(skus)
    return _Scope(
        planned=planned[planned["_og_sku"].isin(skus) | planned["_row_sku"].isin(skus) | planned["sku"].isin(skus)],
        skipped=skipped[skipped["_og_sku"].isin(skus) | skipped["_row_sku"].isin(skus)],
        unmatched_og=scope.unmatched_og[scope.unmatched_og["sku"].isin(skus)],
        unmatched_woo=scope.unmatched_woo[scope.unmatched_woo["sku"].isin(skus)],
        warnings=scope.warnings[scope.warnings["og_item_id"].isin(matched.loc[in_scope, "og_item_id"])],
        matched=int(in_scope.sum()),
    )
