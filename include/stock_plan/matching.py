"""Rule 1, matching, per OfficeGuy item (design.md "Matching"; officeguy-api.md 2.1).

ExternalIdentifier (the Woo id, as the official plugin stores it), then SKU (exact, trimmed,
case-sensitive), then exact name when `match_by_name`. Nothing is guessed: every item that
cannot be matched for sure is reported in `unmatched_og` with a reason, and the rest go on (I7).
- An ExternalIdentifier that is not a number leaves the item unmatched.
- An ExternalIdentifier naming a trashed or unknown Woo product is *stale*: the item falls back
  to its SKU only when that SKU is unique on both sides, and the stale id is reported in
  `warnings` either way. There is no name fallback after a stale id.
- An ExternalIdentifier and a SKU that name different Woo products leave the item unmatched.
- Two OfficeGuy items reaching the same Woo product (by any route) both stay unmatched.

One function per key (`_by_external_identifier`, `_by_sku`, `_by_name`) says what that key finds
for every item; `_outcome` then picks, per item, the route that matched it or the reason it did not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from officeguy_woocommerce.include.stock_plan.contract import WARNING_COLUMNS, Reason
from officeguy_woocommerce.include.stock_plan.normalise import _normalise_og, _normalise_woo


@dataclass(frozen=True, eq=False)
class Matching:
    """One row per OfficeGuy item: `woo_id` (Int64, <NA> when unmatched), `matched_by`, `reason`,
    `detail`; plus `warnings` about items that were matched anyway."""

    items: pd.DataFrame
    warnings: pd.DataFrame


def match_og_items(og_items: pd.DataFrame, woo_products: pd.DataFrame, *, match_by_name: bool = False) -> Matching:
    """Match each OfficeGuy item to at most one live Woo product or variation (rules at the top)."""
    return _match(_normalise_og(og_items), _normalise_woo(woo_products), match_by_name)


@dataclass(frozen=True, eq=False)
class _ExternalIds:
    """Each item's ExternalIdentifier read as a Woo post id (one entry per OfficeGuy item)."""

    text: pd.Series  # the ExternalIdentifier as OfficeGuy has it (trimmed)
    empty: np.ndarray  # no ExternalIdentifier at all
    digits: np.ndarray  # only digits: a Woo id, whether or not that product exists
    woo_id: pd.Series  # Int64; <NA> unless only digits and small enough for an int64
    live: np.ndarray  # names a live Woo product or variation
    known: np.ndarray  # names a Woo row, live or trashed


@dataclass(frozen=True, eq=False)
class _Found:
    """What each key found, one entry per OfficeGuy item. States are `_lookup`'s; `name_state` is
    "off" when matching by name is off."""

    ext: _ExternalIds
    sku_state: np.ndarray
    sku_id: pd.Series
    name_state: np.ndarray
    name_id: pd.Series
    id_sku: pd.Series  # the SKU of the live Woo product the ExternalIdentifier names ("" when none)
    disagree: np.ndarray  # the ExternalIdentifier and the SKU name different Woo products


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
    """Rule 1: what each key finds, the outcome per item, then the Woo products claimed twice."""
    live = woo[woo["live"]]
    ext = _by_external_identifier(og, woo, live)
    sku_state, sku_id = _by_sku(og, live)
    name_state, name_id = _by_name(og, live, match_by_name)
    id_sku, disagree = _id_sku_disagreement(og["sku"], ext, sku_state, live)
    found = _Found(ext, sku_state, sku_id, name_state, name_id, id_sku, disagree)
    outcome = _outcome(found)
    items = _matched_items(og, found, outcome)
    warnings = _stale_fallback_warnings(og, ext, outcome, items["woo_id"])
    _unclaim_shared(items)
    return Matching(items=items, warnings=warnings)


def _by_external_identifier(og: pd.DataFrame, woo: pd.DataFrame, live: pd.DataFrame) -> _ExternalIds:
    """Key 1, ExternalIdentifier: the plugin stores the Woo post id there (officeguy-api.md 2.1)."""
    ext = og["external_identifier"]
    digits = ext.str.fullmatch(r"[0-9]+").fillna(False).astype(bool).to_numpy()
    # more digits than an int64 holds: no Woo product can have that id, so it is simply stale
    fits = digits & (ext.str.len() <= 18).to_numpy()
    woo_id = pd.Series(pd.NA, index=og.index, dtype="Int64")
    woo_id[fits] = ext[fits].astype("int64")
    return _ExternalIds(
        text=ext,
        empty=(ext == "").to_numpy(),
        digits=digits,
        woo_id=woo_id,
        live=woo_id.isin(live["woo_id"]).to_numpy(dtype=bool, na_value=False),
        known=woo_id.isin(woo["woo_id"]).to_numpy(dtype=bool, na_value=False),
    )


def _by_sku(og: pd.DataFrame, live: pd.DataFrame) -> tuple[np.ndarray, pd.Series]:
    """Key 2, SKU (the stock list has none; the extract joins income items, officeguy-api.md 1.5a)."""
    return _by_key(og, live, "sku")


def _by_name(og: pd.DataFrame, live: pd.DataFrame, match_by_name: bool) -> tuple[np.ndarray, pd.Series]:
    """Key 3, exact name, only when configured (the official plugin's only fallback, 2.1)."""
    if match_by_name:
        return _by_key(og, live, "name")
    return np.full(len(og), "off"), pd.Series(pd.NA, index=og.index, dtype="Int64")


def _by_key(og: pd.DataFrame, live: pd.DataFrame, key: str) -> tuple[np.ndarray, pd.Series]:
    og_counts = og.loc[og[key] != "", key].value_counts()
    return _lookup(og[key], live, key, og_counts)


def _id_sku_disagreement(
    og_sku: pd.Series, ext: _ExternalIds, sku_state: np.ndarray, live: pd.DataFrame
) -> tuple[pd.Series, np.ndarray]:
    """An id and a SKU that point at two different products: one of them is wrong, and we cannot
    tell which (a foreign id, e.g. copied from another store, would overwrite the wrong post).
    The SKU of the live product the id names ("" when none), and where the two disagree."""
    id_sku = ext.woo_id.map(live.set_index("woo_id")["sku"]).astype(object)
    id_sku = id_sku.where(id_sku.notna(), "")
    og_sku_is_elsewhere = (sku_state != "not_found") & (sku_state != "none")
    disagree = (
        ext.live
        & (og_sku != "").to_numpy()
        & (id_sku != og_sku).to_numpy()
        & ((id_sku != "").to_numpy() | og_sku_is_elsewhere)
    )
    return id_sku, disagree


def _outcome(found: _Found) -> np.ndarray:
    """Per item, the route that matched it ("external_identifier", "sku", "name") or why none did."""
    ext, sku_state, name_state = found.ext, found.sku_state, found.name_state
    outcome = np.select(
        [
            ~ext.empty & ~ext.digits,
            ext.live & found.disagree,
            ext.live,
            ~ext.empty & (sku_state == "found"),  # stale id, unique SKU: fall back, warn below
            ~ext.empty,
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
    return np.array([str(o) for o in outcome], dtype=object)


def _matched_items(og: pd.DataFrame, found: _Found, outcome: np.ndarray) -> pd.DataFrame:
    """Matching.items: the Woo id each item's route found, or the reason and details why none."""
    woo_id = pd.Series(pd.NA, index=og.index, dtype="Int64")
    for route, ids in (("external_identifier", found.ext.woo_id), ("sku", found.sku_id), ("name", found.name_id)):
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
                found.ext.known[unmatched],
                found.id_sku[unmatched],
                found.sku_state[unmatched],
                found.name_state[unmatched],
                strict=True,
            )
        ]
    return items


def _stale_fallback_warnings(
    og: pd.DataFrame, ext: _ExternalIds, outcome: np.ndarray, woo_id: pd.Series
) -> pd.DataFrame:
    """Items matched by SKU although their ExternalIdentifier names no live Woo product."""
    stale_fallback = ~ext.empty & ext.digits & ~ext.live & (outcome == "sku")
    return pd.DataFrame(
        {
            "og_item_id": og.loc[stale_fallback, "og_item_id"],
            "woo_id": woo_id[stale_fallback],
            "reason": str(Reason.STALE_EXTERNAL_ID_SKU_FALLBACK),
            "detail": [
                f"ExternalIdentifier {e} names a {'trashed' if k else 'missing'} Woo product; its SKU {s!r} "
                f"names Woo product {w}; fix the item card's ExternalIdentifier in OfficeGuy"
                for e, k, s, w in zip(
                    ext.text[stale_fallback],
                    ext.known[stale_fallback],
                    og["sku"][stale_fallback],
                    woo_id[stale_fallback],
                    strict=True,
                )
            ],
        },
        columns=list(WARNING_COLUMNS),
    )


def _unclaim_shared(items: pd.DataFrame) -> None:
    """Two OfficeGuy items on one Woo product: which stock is right? Neither is written (never guess)."""
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

