"""What quantity will each WooCommerce product get? The stock plan, OfficeGuy -> WooCommerce.

This is the functional core of the stock DAG (`officeguy_stock_to_woocommerce`): plain functions
over pandas frames, no HTTP, no Airflow, no database. The extract tasks build the two input
frames; the apply task sends `StockPlan.payloads()` to Woo's batch endpoints; the report and the
ledger read the other frames.

The rules, in the order they run (the tests in tests/unit/test_stock_plan.py have one table each):

1. Matching, per OfficeGuy item (design.md "Matching"; officeguy-api.md 2.1):
   ExternalIdentifier (the Woo id, as the official plugin stores it), then SKU (exact, trimmed,
   case-sensitive), then exact name when `match_by_name`. Nothing is guessed: every item that
   cannot be matched for sure is reported in `unmatched_og` with a reason, and the rest go on (I7).
   - An ExternalIdentifier that is not a number leaves the item unmatched.
   - An ExternalIdentifier naming a trashed or unknown Woo product is *stale*: the item falls back
     to its SKU only when that SKU is unique on both sides, and the stale id is reported in
     `warnings` either way. There is no name fallback after a stale id.
   - An ExternalIdentifier and a SKU that name different Woo products leave the item unmatched.
   - Two OfficeGuy items reaching the same Woo product (by any route) both stay unmatched.
2. What gets written (woocommerce-api.md A2, I4):
   - managed product or variation: `stock_quantity = floor(OfficeGuy stock) - pending` (I3);
   - unmanaged product or variation: `stock_status` only (instock when that number is > 0), except
     that a merchant's `onbackorder` is kept;
   - a variation whose parent manages its stock (`stock_mode == "parent"`): the parent's quantity;
   - a variable parent without managed stock, grouped and external products: never written.
3. Only changed values are written; the rest are `unchanged`.
4. Safety brake (I5): no OfficeGuy items at all, or most planned products cut, blocks the plan
   unless `force`.
5. Every payload is validated before it leaves this module (I4; Woo's batch endpoint turns
   `"abc"` into 0, woocommerce-api.md A4).
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

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

STOCK_DAG_ID = "officeguy_stock_to_woocommerce"

# --- Input contract (built by the extract tasks) -----------------------------------------------

OG_ITEM_COLUMNS = ("og_item_id", "name", "external_identifier", "sku", "stock")
WOO_PRODUCT_COLUMNS = (
    "woo_id",
    "parent_id",
    "type",
    "status",
    "sku",
    "name",
    "stock_mode",
    "stock_quantity",
    "stock_status",
    "backorders",
    "low_stock_amount",
    "opt_out",
)

STOCK_MODES = frozenset({"managed", "unmanaged", "parent"})
STOCK_STATUSES = frozenset({"instock", "outofstock", "onbackorder"})  # A2 stock_status enum
# Types whose stock this sync may write; plugins add others (subscriptions, bundles) that we
# do not understand, so they are skipped with a reason rather than written blindly.
WRITABLE_TYPES = frozenset({"simple", "variable", "variation"})
NEVER_STOCKED_TYPES = frozenset({"grouped", "external"})  # A2.2: grouped forced unmanaged, external forced instock

# A Woo quantity is stored as a PHP int; we refuse anything beyond this as bad input / a bug.
MAX_ABS_QUANTITY = 1_000_000_000

# Service cards: the orders flow puts shipping, fee, rounding and refund lines on OfficeGuy cards
# that are not products. It names new ones "stock-sync:<kind>"; older ones carry only a label
# (DocumentSettings' shipping_label, fee_label, rounding_label, refund_label; these are its defaults).
SERVICE_EXTERNAL_ID_PREFIX = "stock-sync:"
SERVICE_LABELS = frozenset({"Shipping", "Fee", "Rounding", "Refund"})
# OfficeGuy stock equal to our own documents' net units, within this, means "no other movement".
OPENING_TOLERANCE = 1e-9

# --- Output contract -----------------------------------------------------------------------------

CHANGE_COLUMNS = (
    "woo_id",
    "parent_id",
    "target_kind",
    "field",
    "old",
    "new",
    "og_item_id",
    "matched_by",
    "name",
    "sku",
    "og_stock",
    "pending",
)
SKIPPED_COLUMNS = ("woo_id", "og_item_id", "name", "sku", "reason", "detail")
UNMATCHED_OG_COLUMNS = ("og_item_id", "name", "sku", "external_identifier", "stock", "reason", "detail")
UNMATCHED_WOO_COLUMNS = ("woo_id", "parent_id", "type", "name", "sku", "stock_mode")
WARNING_COLUMNS = ("og_item_id", "woo_id", "reason", "detail")


class Reason(StrEnum):
    """Stable, short reasons: `summary()` counts by them, `detail` carries the specifics."""

    # unmatched OfficeGuy items
    NO_IDENTIFIER = "no SKU and no ExternalIdentifier"
    EXTERNAL_ID_NOT_A_NUMBER = "ExternalIdentifier is not a number"
    EXTERNAL_ID_STALE = "ExternalIdentifier names no live Woo product"
    EXTERNAL_ID_SKU_DISAGREE = "ExternalIdentifier and SKU name different Woo products"
    SKU_NOT_FOUND = "SKU not found in WooCommerce"
    DUPLICATE_SKU_WOO = "duplicate SKU in WooCommerce"
    DUPLICATE_SKU_OG = "duplicate SKU in OfficeGuy"
    NAME_NOT_FOUND = "name not found in WooCommerce"
    DUPLICATE_NAME_WOO = "duplicate name in WooCommerce"
    DUPLICATE_NAME_OG = "duplicate name in OfficeGuy"
    CLAIMED_TWICE = "Woo product claimed by several OfficeGuy items"
    # skipped (matched, but not written)
    OPTED_OUT = "opted out"
    WOO_STOCK_NOT_A_NUMBER = "WooCommerce sent an invalid stock field"
    AWAITING_OPENING_STOCK = "waiting for opening stock in OfficeGuy"
    NOT_STOCKED_TYPE = "grouped/external product holds no stock"
    UNSUPPORTED_TYPE = "product type not synced"
    VARIABLE_WITHOUT_STOCK = "variable product without managed stock"
    PARENT_NOT_MANAGING = "parent-managed variation whose parent does not manage stock"
    STOCK_NOT_A_NUMBER = "OfficeGuy stock is not a number"
    STOCK_OUT_OF_RANGE = "OfficeGuy stock out of range"
    ON_BACKORDER_KEPT = "unmanaged and on backorder: kept"
    PARENT_SET_DIRECTLY = "parent stock set by the parent's own OfficeGuy item"
    PARENT_SHARED = "parent stock written once for several variations"
    PARENT_CONFLICT = "variations disagree on their parent's stock"
    # warnings (the item was still matched)
    STALE_EXTERNAL_ID_SKU_FALLBACK = "stale ExternalIdentifier, matched by SKU"


class StockPlanInputError(ValueError):
    """The extract handed over frames that break the input contract (a bug upstream, not bad data)."""


class InvalidPayloadError(ValueError):
    """A write that Woo would misread (I4). Never expected: raising stops a bug before it writes."""


class StockPlanBlocked(RuntimeError):
    """payloads() was asked for a plan the safety brake stopped."""


@dataclass(frozen=True)
class PlanOptions:
    """What the DAG params and the configuration decide.

    brake_share: the plan is blocked when *strictly more* than this share of the planned products
        would be cut. brake_min_affected: and at least this many of them; below it a share says
        little (1 of 1 product selling out is 100 %) and the harm is bounded to a couple of products.
    """

    match_by_name: bool = False
    skus: frozenset[str] = frozenset()  # empty: every product
    force: bool = False
    brake_share: float = 0.5
    brake_min_affected: int = 3
    # Service cards (rule 6): names of label-only cards, and ids configured as service cards.
    service_labels: frozenset[str] = SERVICE_LABELS
    service_item_ids: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if not 0 <= self.brake_share <= 1:
            raise ValueError(f"brake_share must be between 0 and 1, got {self.brake_share!r}")
        if self.brake_min_affected < 1:
            raise ValueError(f"brake_min_affected must be at least 1, got {self.brake_min_affected!r}")
        if isinstance(self.skus, str):  # a lone "ABC" would otherwise become {"A", "B", "C"}
            raise ValueError("skus must be a collection of SKUs, not a single string")
        object.__setattr__(self, "skus", frozenset(str(s).strip() for s in self.skus if str(s).strip()))
        if isinstance(self.service_labels, str) or isinstance(self.service_item_ids, str):
            raise ValueError("service_labels and service_item_ids must be collections, not a single string")
        object.__setattr__(
            self, "service_labels", frozenset(str(s).strip() for s in self.service_labels if str(s).strip())
        )
        if not all(_is_int(i) and i > 0 for i in self.service_item_ids):
            raise ValueError(f"service_item_ids must be positive integers, got {sorted(self.service_item_ids, key=str)!r}")
        object.__setattr__(self, "service_item_ids", frozenset(int(i) for i in self.service_item_ids))


@dataclass(frozen=True, eq=False)
class StockPlan:
    """The result of `plan_stock`. Frames use the *_COLUMNS constants above."""

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


# --- Input normalisation -------------------------------------------------------------------------


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
    if (woo["woo_id"] <= 0).any():
        raise StockPlanInputError("woo_products.woo_id must be positive")
    duplicated = woo["woo_id"].duplicated()
    if duplicated.any():
        raise StockPlanInputError(f"woo_products has repeated woo_id: {woo.loc[duplicated, 'woo_id'].head(5).tolist()}")
    bad_mode = ~woo["stock_mode"].isin(STOCK_MODES)
    if bad_mode.any():
        raise StockPlanInputError(
            f"woo_products.stock_mode must be one of {sorted(STOCK_MODES)}; got {woo.loc[bad_mode, 'stock_mode'].unique()[:5].tolist()}"
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
            f"stock_mode 'parent' is only valid on variations with a parent_id; woo_id {woo.loc[bad_parent, 'woo_id'].head(5).tolist()}"
        )
    if woo["opt_out"].dtype != bool and not woo["opt_out"].map(lambda v: isinstance(v, bool | np.bool_)).all():
        raise StockPlanInputError("woo_products.opt_out must be booleans")
    woo["opt_out"] = woo["opt_out"].astype(bool)
    # A product in the trash is gone for the sync (Woo's own SKU uniqueness check ignores trashed
    # posts); so is a variation whose parent is trashed or missing.
    not_trashed = woo["status"] != "trash"
    product_ids = woo.loc[not_trashed & (woo["parent_id"] == 0), "woo_id"]
    woo["live"] = not_trashed & ((woo["parent_id"] == 0) | woo["parent_id"].isin(product_ids))
    return woo


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


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


# --- Matching --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Matching:
    """One row per OfficeGuy item: `woo_id` (Int64, <NA> when unmatched), `matched_by`, `reason`,
    `detail`; plus `warnings` about items that were matched anyway."""

    items: pd.DataFrame
    warnings: pd.DataFrame


def match_og_items(og_items: pd.DataFrame, woo_products: pd.DataFrame, *, match_by_name: bool = False) -> Matching:
    """Match each OfficeGuy item to at most one live Woo product or variation (rules at the top)."""
    return _match(_normalise_og(og_items), _normalise_woo(woo_products), match_by_name)


def _lookup(keys: pd.Series, table: pd.DataFrame, key: str, key_og_counts: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """State of each key ("none", "dup_woo", "dup_og", "found", "not_found") and the Woo id found."""
    table = table.loc[table[key] != "", [key, "woo_id"]]
    woo_counts = table[key].value_counts()
    unique = table[table[key].map(woo_counts) == 1].set_index(key)["woo_id"]
    n_woo = keys.map(woo_counts).fillna(0).to_numpy()
    n_og = keys.map(key_og_counts).fillna(0).to_numpy()
    state = np.select(
        [keys.to_numpy() == "", n_woo > 1, n_og > 1, n_woo == 1],
        ["none", "dup_woo", "dup_og", "found"],
        "not_found",
    )
    return state, keys.map(unique).astype("Int64")


def _match(og: pd.DataFrame, woo: pd.DataFrame, match_by_name: bool) -> Matching:
    live = woo[woo["live"]]
    live_sku_by_id = live.set_index("woo_id")["sku"]

    # 1. ExternalIdentifier: the plugin stores the Woo post id there (officeguy-api.md 2.1).
    ext = og["external_identifier"]
    ext_digits = ext.str.fullmatch(r"[0-9]+").fillna(False).astype(bool).to_numpy()
    # more digits than an int64 holds: no Woo product can have that id, so it is simply stale
    ext_fits = ext_digits & (ext.str.len() <= 18).to_numpy()
    ext_id = pd.Series(pd.NA, index=og.index, dtype="Int64")
    ext_id[ext_fits] = ext[ext_fits].astype("int64")
    ext_live = ext_id.isin(live["woo_id"]).to_numpy(dtype=bool, na_value=False)
    ext_known = ext_id.isin(woo["woo_id"]).to_numpy(dtype=bool, na_value=False)
    ext_empty = (ext == "").to_numpy()

    # 2. SKU (the stock list has none; the extract joins income items, officeguy-api.md 1.5a).
    og_sku_counts = og.loc[og["sku"] != "", "sku"].value_counts()
    sku_state, sku_id = _lookup(og["sku"], live, "sku", og_sku_counts)

    # 3. Exact name, only when configured (the official plugin's only fallback, 2.1).
    if match_by_name:
        og_name_counts = og.loc[og["name"] != "", "name"].value_counts()
        name_state, name_id = _lookup(og["name"], live, "name", og_name_counts)
    else:
        name_state, name_id = np.full(len(og), "off"), pd.Series(pd.NA, index=og.index, dtype="Int64")

    # An id and a SKU that point at two different products: one of them is wrong, and we cannot
    # tell which (a foreign id, e.g. copied from another store, would overwrite the wrong post).
    id_sku = ext_id.map(live_sku_by_id).astype(object)
    id_sku = id_sku.where(id_sku.notna(), "")
    og_sku = og["sku"]
    og_sku_is_elsewhere = (sku_state != "not_found") & (sku_state != "none")
    disagree = (
        ext_live
        & (og_sku != "").to_numpy()
        & (id_sku != og_sku).to_numpy()
        & ((id_sku != "").to_numpy() | og_sku_is_elsewhere)
    )

    outcome = np.select(
        [
            ~ext_empty & ~ext_digits,
            ext_live & disagree,
            ext_live,
            ~ext_empty & (sku_state == "found"),  # stale id, unique SKU: fall back, warn below
            ~ext_empty,
            sku_state == "found",
            sku_state == "dup_woo",
            sku_state == "dup_og",
            name_state == "found",
            name_state == "dup_woo",
            name_state == "dup_og",
            sku_state == "not_found",
            name_state == "not_found",
        ],
        [
            Reason.EXTERNAL_ID_NOT_A_NUMBER,
            Reason.EXTERNAL_ID_SKU_DISAGREE,
            "external_identifier",
            "sku",
            Reason.EXTERNAL_ID_STALE,
            "sku",
            Reason.DUPLICATE_SKU_WOO,
            Reason.DUPLICATE_SKU_OG,
            "name",
            Reason.DUPLICATE_NAME_WOO,
            Reason.DUPLICATE_NAME_OG,
            Reason.SKU_NOT_FOUND,
            Reason.NAME_NOT_FOUND,
        ],
        Reason.NO_IDENTIFIER.value,
    ).astype(object)
    outcome = np.array([str(o) for o in outcome], dtype=object)

    woo_id = pd.Series(pd.NA, index=og.index, dtype="Int64")
    for route, ids in (("external_identifier", ext_id), ("sku", sku_id), ("name", name_id)):
        woo_id = woo_id.mask(outcome == route, ids)
    matched = woo_id.notna().to_numpy()

    items = pd.DataFrame(
        {
            "og_item_id": og["og_item_id"],
            "woo_id": woo_id,
            "matched_by": pd.Series(np.where(matched, outcome, None), index=og.index, dtype=object),
            "reason": pd.Series(np.where(matched, None, outcome), index=og.index, dtype=object),
            "detail": pd.Series(None, index=og.index, dtype=object),
        }
    )

    # Details only for the (usually few) unmatched items.
    unmatched = ~matched
    if unmatched.any():
        items.loc[unmatched, "detail"] = [
            _unmatched_detail(reason, og_row, ext_known_row, id_sku_row, sku_st, name_st)
            for reason, og_row, ext_known_row, id_sku_row, sku_st, name_st in zip(
                outcome[unmatched],
                og.loc[unmatched, ["og_item_id", "name", "sku", "external_identifier"]].itertuples(index=False),
                ext_known[unmatched],
                id_sku[unmatched],
                sku_state[unmatched],
                name_state[unmatched],
                strict=True,
            )
        ]

    stale_fallback = ~ext_empty & ext_digits & ~ext_live & (outcome == "sku")
    warnings = pd.DataFrame(
        {
            "og_item_id": og.loc[stale_fallback, "og_item_id"],
            "woo_id": woo_id[stale_fallback],
            "reason": str(Reason.STALE_EXTERNAL_ID_SKU_FALLBACK),
            "detail": [
                f"ExternalIdentifier {e} names a {'trashed' if k else 'missing'} Woo product; its SKU {s!r} "
                f"names Woo product {w}; fix the item card's ExternalIdentifier in OfficeGuy"
                for e, k, s, w in zip(
                    ext[stale_fallback],
                    ext_known[stale_fallback],
                    og_sku[stale_fallback],
                    woo_id[stale_fallback],
                    strict=True,
                )
            ],
        },
        columns=list(WARNING_COLUMNS),
    )

    # Two OfficeGuy items on one Woo product: which stock is right? Neither is written (never guess).
    claimed = items["woo_id"].notna() & items["woo_id"].duplicated(keep=False)
    if claimed.any():
        claimants = items[claimed].groupby("woo_id")["og_item_id"].agg(lambda ids: ", ".join(map(str, sorted(ids))))
        items.loc[claimed, "detail"] = [
            f"Woo product {w} is claimed by OfficeGuy items {claimants[w]} (each by {m})"
            for w, m in zip(items.loc[claimed, "woo_id"], items.loc[claimed, "matched_by"], strict=True)
        ]
        items.loc[claimed, "reason"] = str(Reason.CLAIMED_TWICE)
        items.loc[claimed, "matched_by"] = None
        items.loc[claimed, "woo_id"] = pd.NA
    return Matching(items=items, warnings=warnings)


def _unmatched_detail(reason: str, og_row: Any, ext_known: bool, id_sku: str, sku_state: str, name_state: str) -> str:
    _, name, sku, ext = og_row
    if reason == Reason.EXTERNAL_ID_NOT_A_NUMBER:
        return f"ExternalIdentifier {ext!r} is not a Woo product id; put the Woo id there or clear it in OfficeGuy"
    if reason == Reason.EXTERNAL_ID_SKU_DISAGREE:
        where = f"Woo product {ext} has SKU {id_sku!r}" if id_sku else f"SKU {sku!r} belongs to another Woo product"
        return f"ExternalIdentifier {ext} and SKU {sku!r} disagree ({where}); correct one of them in OfficeGuy"
    if reason == Reason.EXTERNAL_ID_STALE:
        gone = "is in the trash (or its parent is)" if ext_known else "does not exist"
        sku_note = {
            "none": "the item has no SKU to fall back on",
            "not_found": f"SKU {sku!r} is not in WooCommerce either",
            "dup_woo": f"SKU {sku!r} is on several Woo products",
            "dup_og": f"SKU {sku!r} is on several OfficeGuy items",
        }[sku_state]
        return f"ExternalIdentifier {ext}: that Woo product {gone}; {sku_note}"
    if reason in (Reason.DUPLICATE_SKU_WOO, Reason.SKU_NOT_FOUND):
        tail = f" and no Woo product is named {name!r}" if name_state == "not_found" else ""
        many = "is on several Woo products" if reason == Reason.DUPLICATE_SKU_WOO else "matches no Woo product"
        return f"SKU {sku!r} {many}{tail}"
    if reason == Reason.DUPLICATE_SKU_OG:
        return f"SKU {sku!r} is on several OfficeGuy items; give each item card its own SKU"
    if reason == Reason.NAME_NOT_FOUND:
        return f"no SKU, no ExternalIdentifier, and no Woo product is named exactly {name!r}"
    if reason == Reason.DUPLICATE_NAME_WOO:
        return f"several Woo products are named {name!r}"
    if reason == Reason.DUPLICATE_NAME_OG:
        return f"several OfficeGuy items are named {name!r}"
    hint = "" if name_state != "off" else " (matching by name is off)"
    return f"the item card has neither a SKU nor an ExternalIdentifier{hint}"


# --- Planning ----------------------------------------------------------------------------------------


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
    planned = _planned_values(matched[skips.reason.isna()])
    skipped = _skipped_frame(matched, skips, woo)
    reached = set(matched["woo_id"]) | set(matched["holder_id"])
    unmatched_woo = woo.loc[_is_stock_holder(woo) & ~woo["woo_id"].isin(reached), list(UNMATCHED_WOO_COLUMNS)]
    warnings = matching.warnings
    matched_count = len(matched)

    # SKU subset (a manual run on a few products): planned and reported only inside it. Matching
    # above still saw the whole catalogue, so duplicates and claims outside the subset still count.
    if options.skus:
        skus = options.skus
        planned = planned[planned["_og_sku"].isin(skus) | planned["_row_sku"].isin(skus) | planned["sku"].isin(skus)]
        skipped = skipped[skipped["_og_sku"].isin(skus) | skipped["_row_sku"].isin(skus)]
        unmatched_og = unmatched_og[unmatched_og["sku"].isin(skus)]
        unmatched_woo = unmatched_woo[unmatched_woo["sku"].isin(skus)]
        in_scope = matched["sku"].isin(skus) | matched["row_sku"].isin(skus) | matched["holder_sku"].isin(skus)
        warnings = warnings[warnings["og_item_id"].isin(matched.loc[in_scope, "og_item_id"])]
        matched_count = int(in_scope.sum())

    # Only changed values are written (I4); a null quantity on a managed product is a change.
    same = np.array([o is not None and o == n for o, n in zip(planned["old"], planned["new"], strict=True)], dtype=bool)
    changes = _sorted_changes(planned[~same])
    unchanged = _sorted_changes(planned[same])
    # Validate now too, not only in payloads(): a bad value is a bug and must fail the planning task.
    build_payloads(changes)

    brake = _safety_brake(og, changes, unchanged, options, service_cards=int(service.sum()))
    return StockPlan(
        changes=changes,
        unchanged=unchanged,
        skipped=skipped.sort_values(["reason", "woo_id", "og_item_id"], kind="stable").reset_index(drop=True)[
            list(SKIPPED_COLUMNS)
        ],
        unmatched_og=unmatched_og.sort_values("og_item_id").reset_index(drop=True)[list(UNMATCHED_OG_COLUMNS)],
        unmatched_woo=unmatched_woo.sort_values("woo_id").reset_index(drop=True),
        warnings=warnings.sort_values("og_item_id").reset_index(drop=True),
        brake=None if options.force else brake,
        brake_overridden=brake if options.force else None,
        matched=matched_count,
        og_item_count=len(og_all),
        woo_product_count=len(woo),
        service_cards=int(service.sum()),
        opened_cards=opened,
    )


def _service_cards(og: pd.DataFrame, options: PlanOptions) -> pd.Series:
    """Rule 6: OfficeGuy items that carry the orders flow's non-product lines."""
    ext, sku = og["external_identifier"], og["sku"]
    return (
        ext.str.startswith(SERVICE_EXTERNAL_ID_PREFIX).astype(bool)
        | ((ext == "") & (sku == "") & og["name"].isin(options.service_labels))
        | og["og_item_id"].isin(options.service_item_ids)
    )


def _normalise_unopened(unopened: Mapping[int, float] | None) -> pd.Series:
    if not unopened:
        return pd.Series(dtype="float64")
    if not isinstance(unopened, Mapping):
        raise StockPlanInputError(f"unopened_cards must be a mapping og_item_id -> units, got {type(unopened).__name__}")
    for og_id, units in unopened.items():
        if not _is_int(og_id) or isinstance(units, bool | np.bool_) or not isinstance(units, int | float | np.number):
            raise StockPlanInputError(
                f"unopened_cards must map int og item ids to numbers of units; got {og_id!r}: {units!r}"
            )
    return pd.Series({int(k): float(v) for k, v in unopened.items()}, dtype="float64")


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

    candidates = open_ & matched["via_parent"] & ~lost_to_direct
    shared = candidates & matched["holder_id"].where(candidates).duplicated(keep=False)
    if not shared.any():
        return
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


# --- Safety brake (I5) -------------------------------------------------------------------------------

_FORCE_HINT = (
    f"Nothing was written. If OfficeGuy's numbers are right, trigger the DAG '{STOCK_DAG_ID}' again "
    'with the param force = true (Trigger DAG w/ config: {"force": true}).'
)


def _safety_brake(
    og: pd.DataFrame, changes: pd.DataFrame, unchanged: pd.DataFrame, options: PlanOptions, *, service_cards: int = 0
) -> str | None:
    """The message that stops the run, or None.

    A product is *cut* when its quantity goes down, or its unmanaged stock_status goes from instock
    to outofstock (the same harm for a shop that does not count stock); *zeroed* when it leaves
    stock (quantity > 0 to <= 0, or instock to outofstock). The share is over every planned
    product, unchanged ones included, and must be exceeded strictly.
    """
    if og.empty:
        only = f" besides {service_cards} service cards" if service_cards else " at all"
        return f"Safety brake: OfficeGuy returned no stock items{only} (is the stock module on?). {_FORCE_HINT}"
    total = len(changes) + len(unchanged)
    if total == 0:
        return None
    quantity = changes["field"] == "stock_quantity"
    old_q = pd.to_numeric(changes["old"].where(quantity), errors="coerce")
    new_q = pd.to_numeric(changes["new"].where(quantity), errors="coerce")
    status_out = ~quantity & (changes["old"] == "instock") & (changes["new"] == "outofstock")
    cut = int(((new_q < old_q) | status_out).sum())
    zeroed = int((((old_q > 0) & (new_q <= 0)) | status_out).sum())
    worst = max(cut, zeroed)  # a zeroed product is also a cut one; both are named in the message
    if worst <= options.brake_share * total or worst < options.brake_min_affected:
        return None
    return (
        f"Safety brake: this run would cut {cut} and take out of stock {zeroed} of the {total} matched "
        f"products, more than the allowed {options.brake_share:.0%}. {_FORCE_HINT}"
    )


# --- Payloads (I4) -------------------------------------------------------------------------------------


def validate_payload_item(item: Mapping[str, Any]) -> None:
    """Raise InvalidPayloadError unless `item` is exactly {"id": int, "stock_quantity": int} or
    {"id": int, "stock_status": enum}. Woo's batch endpoint skips schema validation (A4)."""
    keys = set(item)
    if keys not in ({"id", "stock_quantity"}, {"id", "stock_status"}):
        raise InvalidPayloadError(f"payload must be id + stock_quantity or id + stock_status, got keys {sorted(keys)}")
    if type(item["id"]) is not int or item["id"] <= 0:
        raise InvalidPayloadError(f"payload id must be a positive int, got {item['id']!r}")
    if "stock_quantity" in item:
        q = item["stock_quantity"]
        if type(q) is not int or abs(q) > MAX_ABS_QUANTITY:
            raise InvalidPayloadError(
                f"stock_quantity for {item['id']} must be an int within ±{MAX_ABS_QUANTITY}, got {q!r}"
            )
    elif type(item["stock_status"]) is not str or item["stock_status"] not in STOCK_STATUSES:
        raise InvalidPayloadError(
            f"stock_status for {item['id']} must be one of {sorted(STOCK_STATUSES)}, got {item['stock_status']!r}"
        )


def _plain(value: Any) -> Any:
    # numpy scalars are converted, never floats or strings: int("4") or int(2.7) would hide a bug.
    return int(value) if isinstance(value, np.integer) and not isinstance(value, np.bool_) else value


def build_payloads(changes: pd.DataFrame) -> dict[str, Any]:
    """{"products": [...], "variations": {parent_id: [...]}} from a changes frame, validated."""
    products: list[dict[str, Any]] = []
    variations: dict[int, list[dict[str, Any]]] = {}
    seen: set[int] = set()
    for woo_id, parent_id, kind, field_name, new in zip(
        changes["woo_id"], changes["parent_id"], changes["target_kind"], changes["field"], changes["new"], strict=True
    ):
        if field_name not in ("stock_quantity", "stock_status"):
            raise InvalidPayloadError(f"unknown field {field_name!r} for {woo_id}")
        item = {"id": _plain(woo_id), field_name: _plain(new)}
        validate_payload_item(item)
        if item["id"] in seen:  # two writes to one product: the plan contradicts itself
            raise InvalidPayloadError(f"Woo product {woo_id} is written twice")
        seen.add(item["id"])
        parent_id = _plain(parent_id)
        if kind == "product":
            if parent_id != 0:
                raise InvalidPayloadError(f"product {woo_id} has parent_id {parent_id!r}")
            products.append(item)
        elif kind == "variation":
            if type(parent_id) is not int or parent_id <= 0:
                raise InvalidPayloadError(f"variation {woo_id} needs a positive parent_id, got {parent_id!r}")
            variations.setdefault(parent_id, []).append(item)
        else:
            raise InvalidPayloadError(f"target_kind must be product or variation, got {kind!r}")
    return {"products": products, "variations": variations}
