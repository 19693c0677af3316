"""Table-driven tests for include/stock_plan/: one table per rule, bad input in every table."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from officeguy_woocommerce.include.stock_plan import (
    CHANGE_COLUMNS,
    OG_ITEM_COLUMNS,
    SKIPPED_COLUMNS,
    UNMATCHED_OG_COLUMNS,
    UNMATCHED_WOO_COLUMNS,
    WOO_PRODUCT_COLUMNS,
    InvalidPayloadError,
    PlanOptions,
    Reason,
    StockPlanBlocked,
    StockPlanInputError,
    build_payloads,
    match_og_items,
    plan_stock,
    validate_payload_item,
)

# --- builders ------------------------------------------------------------------------------------


def og_item(og_item_id, *, sku="", ext="", name=None, stock=5.0):
    return {
        "og_item_id": og_item_id,
        "name": f"item {og_item_id}" if name is None else name,
        "external_identifier": ext,
        "sku": sku,
        "stock": stock,
    }


def woo(
    woo_id,
    *,
    sku="",
    name=None,
    type="simple",
    status="publish",
    mode="managed",
    qty=5,
    stock_status=None,
    parent_id=0,
    opt_out=False,
    backorders="no",
):
    if mode != "managed" and mode != "parent":
        qty = None  # A2.1: Woo empties the quantity of an unmanaged product
    if stock_status is None:
        stock_status = "instock" if mode == "unmanaged" or (qty or 0) > 0 else "outofstock"
    return {
        "woo_id": woo_id,
        "parent_id": parent_id,
        "type": type,
        "status": status,
        "sku": sku,
        "name": f"product {woo_id}" if name is None else name,
        "stock_mode": mode,
        "stock_quantity": qty,
        "stock_status": stock_status,
        "backorders": backorders,
        "low_stock_amount": None,
        "opt_out": opt_out,
    }


def variation(woo_id, parent_id, **kw):
    return woo(woo_id, type="variation", parent_id=parent_id, **kw)


def og_frame(rows):
    return pd.DataFrame(rows, columns=list(OG_ITEM_COLUMNS))


def woo_frame(rows):
    frame = pd.DataFrame(rows, columns=list(WOO_PRODUCT_COLUMNS))
    frame["stock_quantity"] = frame["stock_quantity"].astype("Int64")
    frame["low_stock_amount"] = frame["low_stock_amount"].astype("Int64")
    frame["opt_out"] = frame["opt_out"].astype(bool)
    return frame


def plan(og_rows, woo_rows, pending=None, **options):
    return plan_stock(og_frame(og_rows), woo_frame(woo_rows), pending or {}, PlanOptions(**options))


def writes(p):
    """{woo_id: (field, old, new)} of the planned changes."""
    return {r.woo_id: (r.field, r.old, r.new) for r in p.changes.itertuples()}


def skipped_reasons(p):
    return {(r.og_item_id if not pd.isna(r.og_item_id) else None, r.woo_id): r.reason for r in p.skipped.itertuples()}


def unmatched_reasons(p):
    return {r.og_item_id: r.reason for r in p.unmatched_og.itertuples()}


def many_products(n, *, old=10, new=10, cut=0, zero=0):
    """n matched managed products at `old`; the first `zero` go to 0, the next `cut` go to old-1."""
    og_rows, woo_rows = [], []
    for i in range(1, n + 1):
        target = 0 if i <= zero else old - 1 if i <= zero + cut else new
        og_rows.append(og_item(i, sku=f"S{i}", stock=target))
        woo_rows.append(woo(1000 + i, sku=f"S{i}", qty=old))
    return og_rows, woo_rows


# --- 1. matching -------------------------------------------------------------------------------------

# (case id, OfficeGuy items, Woo rows, match_by_name, {og_item_id: (woo_id | None, matched_by | Reason)})
MATCHING_CASES = [
    ("external id", [og_item(1, ext="10")], [woo(10)], False, {1: (10, "external_identifier")}),
    ("external id trimmed", [og_item(1, ext=" 10 ")], [woo(10)], False, {1: (10, "external_identifier")}),
    (
        "external id beats sku elsewhere? no: same product",
        [og_item(1, ext="10", sku="A")],
        [woo(10, sku="A")],
        False,
        {1: (10, "external_identifier")},
    ),
    (
        "external id on a variation",
        [og_item(1, ext="21")],
        [woo(20, type="variable"), variation(21, 20)],
        False,
        {1: (21, "external_identifier")},
    ),
    (
        "external id not a number",
        [og_item(1, ext="abc", sku="A")],
        [woo(10, sku="A")],
        False,
        {1: (None, Reason.EXTERNAL_ID_NOT_A_NUMBER)},
    ),
    ("external id decimal", [og_item(1, ext="10.0")], [woo(10)], False, {1: (None, Reason.EXTERNAL_ID_NOT_A_NUMBER)}),
    ("external id negative", [og_item(1, ext="-10")], [woo(10)], False, {1: (None, Reason.EXTERNAL_ID_NOT_A_NUMBER)}),
    (
        "external id arabic digits",
        [og_item(1, ext="١٠")],
        [woo(10)],
        False,
        {1: (None, Reason.EXTERNAL_ID_NOT_A_NUMBER)},
    ),
    (
        "external id trashed, unique sku: fallback",
        [og_item(1, ext="10", sku="A")],
        [woo(10, status="trash"), woo(11, sku="A")],
        False,
        {1: (11, "sku")},
    ),
    (
        "external id unknown, unique sku: fallback",
        [og_item(1, ext="99", sku="A")],
        [woo(11, sku="A")],
        False,
        {1: (11, "sku")},
    ),
    (
        "external id huge, unique sku: fallback",
        [og_item(1, ext="9" * 30, sku="A")],
        [woo(11, sku="A")],
        False,
        {1: (11, "sku")},
    ),
    (
        "external id trashed, no sku",
        [og_item(1, ext="10")],
        [woo(10, status="trash")],
        False,
        {1: (None, Reason.EXTERNAL_ID_STALE)},
    ),
    (
        "external id trashed, sku missing",
        [og_item(1, ext="10", sku="A")],
        [woo(10, status="trash")],
        False,
        {1: (None, Reason.EXTERNAL_ID_STALE)},
    ),
    (
        "external id trashed, sku duplicated in woo",
        [og_item(1, ext="10", sku="A")],
        [woo(10, status="trash"), woo(11, sku="A"), woo(12, sku="A")],
        False,
        {1: (None, Reason.EXTERNAL_ID_STALE)},
    ),
    (
        "external id trashed, no name fallback",
        [og_item(1, ext="10", name="Mug")],
        [woo(10, status="trash"), woo(11, name="Mug")],
        True,
        {1: (None, Reason.EXTERNAL_ID_STALE)},
    ),
    (
        "variation of a trashed parent is gone",
        [og_item(1, ext="21")],
        [woo(20, type="variable", status="trash"), variation(21, 20)],
        False,
        {1: (None, Reason.EXTERNAL_ID_STALE)},
    ),
    (
        "external id and sku disagree",
        [og_item(1, ext="10", sku="A")],
        [woo(10, sku="B"), woo(11, sku="A")],
        False,
        {1: (None, Reason.EXTERNAL_ID_SKU_DISAGREE)},
    ),
    (
        "external id product has no sku, og sku is another product's",
        [og_item(1, ext="10", sku="A")],
        [woo(10), woo(11, sku="A")],
        False,
        {1: (None, Reason.EXTERNAL_ID_SKU_DISAGREE)},
    ),
    (
        "external id product has no sku, og sku unknown",
        [og_item(1, ext="10", sku="A")],
        [woo(10)],
        False,
        {1: (10, "external_identifier")},
    ),
    ("sku", [og_item(1, sku="A")], [woo(10, sku="A")], False, {1: (10, "sku")}),
    ("sku trimmed on both sides", [og_item(1, sku=" A ")], [woo(10, sku="A  ")], False, {1: (10, "sku")}),
    ("sku case-sensitive", [og_item(1, sku="a")], [woo(10, sku="A")], False, {1: (None, Reason.SKU_NOT_FOUND)}),
    (
        "sku on a variation",
        [og_item(1, sku="V")],
        [woo(20, type="variable"), variation(21, 20, sku="V")],
        False,
        {1: (21, "sku")},
    ),
    (
        "sku duplicated in woo",
        [og_item(1, sku="A")],
        [woo(10, sku="A"), woo(11, sku="A")],
        False,
        {1: (None, Reason.DUPLICATE_SKU_WOO)},
    ),
    (
        "sku duplicated with a trashed product",
        [og_item(1, sku="A")],
        [woo(10, sku="A", status="trash"), woo(11, sku="A")],
        False,
        {1: (11, "sku")},
    ),
    (
        "sku duplicated in officeguy",
        [og_item(1, sku="A"), og_item(2, sku="A")],
        [woo(10, sku="A")],
        False,
        {1: (None, Reason.DUPLICATE_SKU_OG), 2: (None, Reason.DUPLICATE_SKU_OG)},
    ),
    (
        "duplicate og sku, one item has an external id: that one still matches",
        [og_item(1, sku="A", ext="10"), og_item(2, sku="A")],
        [woo(10, sku="A")],
        False,
        {1: (10, "external_identifier"), 2: (None, Reason.DUPLICATE_SKU_OG)},
    ),
    ("no sku, no id", [og_item(1)], [woo(10)], False, {1: (None, Reason.NO_IDENTIFIER)}),
    (
        "no sku, no id, name equal but name matching off",
        [og_item(1, name="Mug")],
        [woo(10, name="Mug")],
        False,
        {1: (None, Reason.NO_IDENTIFIER)},
    ),
    ("hebrew name, name matching on", [og_item(1, name="ספל קפה")], [woo(10, name="ספל קפה")], True, {1: (10, "name")}),
    (
        "emoji name, name matching on",
        [og_item(1, name="Mug ☕🎉")],
        [woo(10, name="Mug ☕🎉")],
        True,
        {1: (10, "name")},
    ),
    (
        "emoji name, name matching off",
        [og_item(1, name="Mug ☕🎉")],
        [woo(10, name="Mug ☕🎉")],
        False,
        {1: (None, Reason.NO_IDENTIFIER)},
    ),
    (
        "name is exact: case differs",
        [og_item(1, name="mug")],
        [woo(10, name="Mug")],
        True,
        {1: (None, Reason.NAME_NOT_FOUND)},
    ),
    (
        "name is exact: hebrew differs by one letter",
        [og_item(1, name="ספל קפא")],
        [woo(10, name="ספל קפה")],
        True,
        {1: (None, Reason.NAME_NOT_FOUND)},
    ),
    ("sku not found, name found", [og_item(1, sku="Z", name="Mug")], [woo(10, name="Mug")], True, {1: (10, "name")}),
    (
        "sku duplicated: no name fallback",
        [og_item(1, sku="A", name="Mug")],
        [woo(10, sku="A"), woo(11, sku="A"), woo(12, name="Mug")],
        True,
        {1: (None, Reason.DUPLICATE_SKU_WOO)},
    ),
    (
        "name duplicated in woo",
        [og_item(1, name="Mug")],
        [woo(10, name="Mug"), woo(11, name="Mug")],
        True,
        {1: (None, Reason.DUPLICATE_NAME_WOO)},
    ),
    (
        "name duplicated in officeguy",
        [og_item(1, name="Mug"), og_item(2, name="Mug")],
        [woo(10, name="Mug")],
        True,
        {1: (None, Reason.DUPLICATE_NAME_OG), 2: (None, Reason.DUPLICATE_NAME_OG)},
    ),
    (
        "two items claim one product (id and sku)",
        [og_item(1, ext="10"), og_item(2, sku="A")],
        [woo(10, sku="A")],
        False,
        {1: (None, Reason.CLAIMED_TWICE), 2: (None, Reason.CLAIMED_TWICE)},
    ),
    (
        "two items claim one product (stale-id fallback and id)",
        [og_item(1, ext="99", sku="A"), og_item(2, ext="10")],
        [woo(10, sku="A")],
        False,
        {1: (None, Reason.CLAIMED_TWICE), 2: (None, Reason.CLAIMED_TWICE)},
    ),
    (
        "one bad item does not stop the others",
        [og_item(1, ext="x"), og_item(2, sku="B"), og_item(3)],
        [woo(10, sku="B")],
        False,
        {1: (None, Reason.EXTERNAL_ID_NOT_A_NUMBER), 2: (10, "sku"), 3: (None, Reason.NO_IDENTIFIER)},
    ),
]


@pytest.mark.parametrize(
    ("og_rows", "woo_rows", "by_name", "expected"), [c[1:] for c in MATCHING_CASES], ids=[c[0] for c in MATCHING_CASES]
)
def test_matching(og_rows, woo_rows, by_name, expected):
    items = match_og_items(og_frame(og_rows), woo_frame(woo_rows), match_by_name=by_name).items.set_index("og_item_id")
    for og_item_id, (woo_id, how) in expected.items():
        row = items.loc[og_item_id]
        if woo_id is None:
            assert pd.isna(row["woo_id"]) and row["matched_by"] is None
            assert row["reason"] == how
            assert row["detail"]  # every unmatched item says why, specifically
        else:
            assert (row["woo_id"], row["matched_by"], row["reason"]) == (woo_id, how, None)


@pytest.mark.parametrize(
    ("og_rows", "woo_rows", "expected_word"),
    [
        ([og_item(1, ext="10", sku="A")], [woo(10, status="trash"), woo(11, sku="A")], "trashed"),
        ([og_item(1, ext="99", sku="A")], [woo(11, sku="A")], "missing"),
    ],
    ids=["trashed", "unknown"],
)
def test_stale_external_identifier_is_reported_even_when_sku_matches(og_rows, woo_rows, expected_word):
    p = plan(og_rows, woo_rows)
    assert p.warnings[["og_item_id", "woo_id", "reason"]].values.tolist() == [
        [1, 11, Reason.STALE_EXTERNAL_ID_SKU_FALLBACK]
    ]
    assert expected_word in p.warnings.loc[0, "detail"]
    assert p.unchanged["woo_id"].tolist() == [11] and p.unmatched_og.empty


def test_unmatched_og_frame_carries_the_item():
    p = plan([og_item(1, ext="abc", sku="", stock="garbage")], [woo(10)])
    assert list(p.unmatched_og.columns) == list(UNMATCHED_OG_COLUMNS)
    row = p.unmatched_og.iloc[0]
    assert (row.og_item_id, row.external_identifier, row.stock, row.reason) == (
        1,
        "abc",
        "garbage",
        Reason.EXTERNAL_ID_NOT_A_NUMBER,
    )
    assert "'abc'" in row.detail


# --- 2. target values ---------------------------------------------------------------------------------

# (case id, OfficeGuy items, Woo rows, pending, {woo_id: (field, old, new)} of changes, unchanged woo ids)
VALUE_CASES = [
    (
        "managed: whole number",
        [og_item(1, sku="A", stock=7)],
        [woo(10, sku="A", qty=5)],
        {},
        {10: ("stock_quantity", 5, 7)},
        [],
    ),
    (
        "managed: fractional floors",
        [og_item(1, sku="A", stock=2.7)],
        [woo(10, sku="A", qty=5)],
        {},
        {10: ("stock_quantity", 5, 2)},
        [],
    ),
    (
        "managed: 0.999 floors to 0",
        [og_item(1, sku="A", stock=0.999)],
        [woo(10, sku="A", qty=5)],
        {},
        {10: ("stock_quantity", 5, 0)},
        [],
    ),
    (
        "managed: negative kept",
        [og_item(1, sku="A", stock=-3)],
        [woo(10, sku="A", qty=5)],
        {},
        {10: ("stock_quantity", 5, -3)},
        [],
    ),
    (
        "managed: negative fractional floors down",
        [og_item(1, sku="A", stock=-2.5)],
        [woo(10, sku="A", qty=5)],
        {},
        {10: ("stock_quantity", 5, -3)},
        [],
    ),
    (
        "managed: numeric string stock",
        [og_item(1, sku="A", stock="4")],
        [woo(10, sku="A", qty=5)],
        {},
        {10: ("stock_quantity", 5, 4)},
        [],
    ),
    (
        "managed: quantity was null",
        [og_item(1, sku="A", stock=3)],
        [woo(10, sku="A", qty=None)],
        {},
        {10: ("stock_quantity", None, 3)},
        [],
    ),
    (
        "managed: pending subtracted",
        [og_item(1, sku="A", stock=5)],
        [woo(10, sku="A", qty=5)],
        {10: 2},
        {10: ("stock_quantity", 5, 3)},
        [],
    ),
    (
        "managed: pending after floor",
        [og_item(1, sku="A", stock=5.9)],
        [woo(10, sku="A", qty=9)],
        {10: 2},
        {10: ("stock_quantity", 9, 3)},
        [],
    ),
    (
        "managed: pending below zero",
        [og_item(1, sku="A", stock=1)],
        [woo(10, sku="A", qty=0)],
        {10: 3},
        {10: ("stock_quantity", 0, -2)},
        [],
    ),
    (
        "managed: pending for another product ignored",
        [og_item(1, sku="A", stock=5)],
        [woo(10, sku="A", qty=5)],
        {99: 2},
        {},
        [10],
    ),
    ("managed: unchanged", [og_item(1, sku="A", stock=5)], [woo(10, sku="A", qty=5)], {}, {}, [10]),
    ("managed: unchanged after floor", [og_item(1, sku="A", stock=5.5)], [woo(10, sku="A", qty=5)], {}, {}, [10]),
    ("managed: unchanged after pending", [og_item(1, sku="A", stock=7)], [woo(10, sku="A", qty=5)], {10: 2}, {}, [10]),
    (
        "managed variation: written as a variation",
        [og_item(1, sku="V", stock=2)],
        [woo(20, type="variable", mode="unmanaged"), variation(21, 20, sku="V", qty=4)],
        {},
        {21: ("stock_quantity", 4, 2)},
        [],
    ),
    (
        "variable parent managing stock, matched itself",
        [og_item(1, sku="P", stock=8)],
        [woo(20, type="variable", sku="P", qty=3), variation(21, 20, mode="parent", qty=3)],
        {},
        {20: ("stock_quantity", 3, 8)},
        [],
    ),
    (
        "parent-managed variation writes the parent",
        [og_item(1, sku="V", stock=8)],
        [woo(20, type="variable", qty=3), variation(21, 20, sku="V", mode="parent", qty=3)],
        {},
        {20: ("stock_quantity", 3, 8)},
        [],
    ),
    (
        "parent-managed variation: pending keyed by the parent",
        [og_item(1, sku="V", stock=8)],
        [woo(20, type="variable", qty=3), variation(21, 20, sku="V", mode="parent", qty=3)],
        {20: 1, 21: 100},
        {20: ("stock_quantity", 3, 7)},
        [],
    ),
    (
        "unmanaged: in stock",
        [og_item(1, sku="A", stock=3)],
        [woo(10, sku="A", mode="unmanaged", stock_status="outofstock")],
        {},
        {10: ("stock_status", "outofstock", "instock")},
        [],
    ),
    (
        "unmanaged: zero is out of stock",
        [og_item(1, sku="A", stock=0)],
        [woo(10, sku="A", mode="unmanaged")],
        {},
        {10: ("stock_status", "instock", "outofstock")},
        [],
    ),
    (
        "unmanaged: 0.5 floors to out of stock",
        [og_item(1, sku="A", stock=0.5)],
        [woo(10, sku="A", mode="unmanaged")],
        {},
        {10: ("stock_status", "instock", "outofstock")},
        [],
    ),
    (
        "unmanaged: negative is out of stock",
        [og_item(1, sku="A", stock=-4)],
        [woo(10, sku="A", mode="unmanaged")],
        {},
        {10: ("stock_status", "instock", "outofstock")},
        [],
    ),
    (
        "unmanaged: pending takes it out",
        [og_item(1, sku="A", stock=2)],
        [woo(10, sku="A", mode="unmanaged")],
        {10: 2},
        {10: ("stock_status", "instock", "outofstock")},
        [],
    ),
    ("unmanaged: unchanged", [og_item(1, sku="A", stock=5)], [woo(10, sku="A", mode="unmanaged")], {}, {}, [10]),
    (
        "unmanaged: unchanged out of stock",
        [og_item(1, sku="A", stock=0)],
        [woo(10, sku="A", mode="unmanaged", stock_status="outofstock")],
        {},
        {},
        [10],
    ),
    (
        "unmanaged variation: status on the variation",
        [og_item(1, sku="V", stock=0)],
        [woo(20, type="variable", mode="unmanaged"), variation(21, 20, sku="V", mode="unmanaged")],
        {},
        {21: ("stock_status", "instock", "outofstock")},
        [],
    ),
    (
        "draft products are synced too",
        [og_item(1, sku="A", stock=1)],
        [woo(10, sku="A", status="draft")],
        {},
        {10: ("stock_quantity", 5, 1)},
        [],
    ),
]


@pytest.mark.parametrize(
    ("og_rows", "woo_rows", "pending", "expected", "unchanged"),
    [c[1:] for c in VALUE_CASES],
    ids=[c[0] for c in VALUE_CASES],
)
def test_target_values(og_rows, woo_rows, pending, expected, unchanged):
    p = plan(og_rows, woo_rows, pending)
    assert writes(p) == expected
    assert sorted(p.unchanged["woo_id"]) == unchanged
    assert p.unchanged_count == len(unchanged)
    assert p.skipped.empty and p.unmatched_og.empty
    for value in p.changes["new"]:
        assert type(value) in (int, str)  # never a numpy or float value on its way to Woo


def test_change_rows_say_where_a_variation_goes_and_why():
    p = plan(
        [og_item(1, sku="V", stock=2.7), og_item(2, ext="30", stock=1)],
        [
            woo(20, type="variable", mode="unmanaged"),
            variation(21, 20, sku="V", qty=9, name="Shirt - L"),
            woo(30, sku="S", qty=4),
        ],
        {21: 1},
    )
    assert list(p.changes.columns) == list(CHANGE_COLUMNS)
    by_id = p.changes.set_index("woo_id")
    assert by_id.loc[
        21, ["parent_id", "target_kind", "field", "old", "new", "og_item_id", "matched_by", "name", "sku"]
    ].tolist() == [
        20,
        "variation",
        "stock_quantity",
        9,
        1,
        1,
        "sku",
        "Shirt - L",
        "V",
    ]
    assert (by_id.loc[21, "og_stock"], by_id.loc[21, "pending"]) == (2.7, 1)
    assert by_id.loc[30, ["parent_id", "target_kind", "matched_by"]].tolist() == [0, "product", "external_identifier"]


# --- 3. skipped (matched but not written) ---------------------------------------------------------------

# (case id, OfficeGuy items, Woo rows, {(og_item_id | None, woo_id): Reason})
SKIP_CASES = [
    ("NaN stock", [og_item(1, sku="A", stock=float("nan"))], [woo(10, sku="A")], {(1, 10): Reason.STOCK_NOT_A_NUMBER}),
    ("None stock", [og_item(1, sku="A", stock=None)], [woo(10, sku="A")], {(1, 10): Reason.STOCK_NOT_A_NUMBER}),
    ("text stock", [og_item(1, sku="A", stock="abc")], [woo(10, sku="A")], {(1, 10): Reason.STOCK_NOT_A_NUMBER}),
    ("infinite stock", [og_item(1, sku="A", stock=math.inf)], [woo(10, sku="A")], {(1, 10): Reason.STOCK_NOT_A_NUMBER}),
    ("absurd stock", [og_item(1, sku="A", stock=1e12)], [woo(10, sku="A")], {(1, 10): Reason.STOCK_OUT_OF_RANGE}),
    (
        "grouped product",
        [og_item(1, sku="G")],
        [woo(10, sku="G", type="grouped", mode="unmanaged")],
        {(1, 10): Reason.NOT_STOCKED_TYPE},
    ),
    (
        "external product",
        [og_item(1, sku="E")],
        [woo(10, sku="E", type="external", mode="unmanaged")],
        {(1, 10): Reason.NOT_STOCKED_TYPE},
    ),
    (
        "plugin product type",
        [og_item(1, sku="S")],
        [woo(10, sku="S", type="subscription")],
        {(1, 10): Reason.UNSUPPORTED_TYPE},
    ),
    (
        "variable parent without managed stock",
        [og_item(1, sku="P")],
        [woo(20, sku="P", type="variable", mode="unmanaged"), variation(21, 20, qty=3)],
        {(1, 20): Reason.VARIABLE_WITHOUT_STOCK},
    ),
    (
        "unmanaged onbackorder kept",
        [og_item(1, sku="A", stock=0)],
        [woo(10, sku="A", mode="unmanaged", stock_status="onbackorder")],
        {(1, 10): Reason.ON_BACKORDER_KEPT},
    ),
    (
        "unmanaged onbackorder kept with stock",
        [og_item(1, sku="A", stock=9)],
        [woo(10, sku="A", mode="unmanaged", stock_status="onbackorder")],
        {(1, 10): Reason.ON_BACKORDER_KEPT},
    ),
    (
        "opted out and matched",
        [og_item(1, sku="A", stock=0)],
        [woo(10, sku="A", opt_out=True)],
        {(1, 10): Reason.OPTED_OUT},
    ),
    ("opted out, no item matched", [], [woo(10, sku="A", opt_out=True)], {(None, 10): Reason.OPTED_OUT}),
    (
        "parent opted out: its variations are not written",
        [og_item(1, sku="V", stock=0)],
        [woo(20, type="variable", opt_out=True), variation(21, 20, sku="V", mode="parent")],
        {(1, 21): Reason.OPTED_OUT},
    ),
    (
        "variation opted out, its parent holds the stock: not written",
        [og_item(1, sku="V", stock=0)],
        [woo(20, type="variable"), variation(21, 20, sku="V", mode="parent", opt_out=True)],
        {(1, 21): Reason.OPTED_OUT},
    ),
    (
        "parent-managed variation whose parent does not manage (inconsistent extract)",
        [og_item(1, sku="V", stock=0)],
        [woo(20, type="variable", mode="unmanaged"), variation(21, 20, sku="V", mode="parent")],
        {(1, 21): Reason.PARENT_NOT_MANAGING},
    ),
]


@pytest.mark.parametrize(
    ("og_rows", "woo_rows", "expected"), [c[1:] for c in SKIP_CASES], ids=[c[0] for c in SKIP_CASES]
)
def test_skipped(og_rows, woo_rows, expected):
    p = plan(og_rows, woo_rows)
    assert skipped_reasons(p) == expected
    assert p.changes.empty and p.unchanged.empty
    assert p.skipped["detail"].map(bool).all()
    assert list(p.skipped.columns) == list(SKIPPED_COLUMNS)


def test_bad_stock_on_one_item_does_not_stop_the_rest():
    p = plan([og_item(1, sku="A", stock="abc"), og_item(2, sku="B", stock=1)], [woo(10, sku="A"), woo(11, sku="B")])
    assert writes(p) == {11: ("stock_quantity", 5, 1)}
    assert skipped_reasons(p) == {(1, 10): Reason.STOCK_NOT_A_NUMBER}
    assert "'abc'" in p.skipped.loc[0, "detail"]


# --- 4. several items on one parent-held stock ---------------------------------------------------------

SHIRT = [
    woo(20, type="variable", sku="P", qty=3),
    variation(21, 20, sku="V1", mode="parent"),
    variation(22, 20, sku="V2", mode="parent"),
]

# (case id, OfficeGuy items, {woo_id: (field, old, new)}, {(og_item_id, woo_id): Reason})
PARENT_CASES = [
    (
        "variations agree: parent written once",
        [og_item(1, sku="V1", stock=6), og_item(2, sku="V2", stock=6.4)],
        {20: ("stock_quantity", 3, 6)},
        {(2, 22): Reason.PARENT_SHARED},
    ),
    (
        "variations disagree: parent not written",
        [og_item(1, sku="V1", stock=6), og_item(2, sku="V2", stock=4)],
        {},
        {(1, 21): Reason.PARENT_CONFLICT, (2, 22): Reason.PARENT_CONFLICT},
    ),
    (
        "one variation's stock is garbage: parent not written",
        [og_item(1, sku="V1", stock=6), og_item(2, sku="V2", stock="x")],
        {},
        {(1, 21): Reason.PARENT_CONFLICT, (2, 22): Reason.STOCK_NOT_A_NUMBER},
    ),
    (
        "the parent's own item wins over its variations'",
        [og_item(1, sku="P", stock=9), og_item(2, sku="V1", stock=6), og_item(3, sku="V2", stock=4)],
        {20: ("stock_quantity", 3, 9)},
        {(2, 21): Reason.PARENT_SET_DIRECTLY, (3, 22): Reason.PARENT_SET_DIRECTLY},
    ),
    (
        "the parent's own item wins even when its stock is garbage",
        [og_item(1, sku="P", stock=None), og_item(2, sku="V1", stock=6)],
        {},
        {(1, 20): Reason.STOCK_NOT_A_NUMBER, (2, 21): Reason.PARENT_SET_DIRECTLY},
    ),
]


@pytest.mark.parametrize(
    ("og_rows", "expected_writes", "expected_skips"), [c[1:] for c in PARENT_CASES], ids=[c[0] for c in PARENT_CASES]
)
def test_parent_managed_stock(og_rows, expected_writes, expected_skips):
    p = plan(og_rows, SHIRT)
    assert writes(p) == expected_writes
    assert skipped_reasons(p) == expected_skips
    assert p.unmatched_og.empty
    assert p.payloads()["variations"] == {}  # parent-held stock is never sent to a variation (A2.3)


# --- 5. unmatched Woo products ----------------------------------------------------------------------------


def test_unmatched_woo_lists_only_stock_holders():
    p = plan(
        [og_item(1, sku="A")],
        [
            woo(10, sku="A"),
            woo(11, sku="B"),  # managed, unmatched
            woo(12, mode="unmanaged"),  # unmanaged, unmatched
            woo(13, status="trash"),
            woo(14, type="grouped", mode="unmanaged"),
            woo(15, type="external", mode="unmanaged"),
            woo(16, opt_out=True),  # listed as skipped instead
            woo(20, type="variable", mode="unmanaged"),  # status derives from children
            variation(21, 20, qty=1),
            woo(30, type="variable", qty=2),  # holds the stock of 31
            variation(31, 30, mode="parent"),
        ],
    )
    assert p.unmatched_woo["woo_id"].tolist() == [11, 12, 21, 30]
    assert list(p.unmatched_woo.columns) == list(UNMATCHED_WOO_COLUMNS)


def test_a_parent_reached_through_a_variation_is_not_unmatched():
    p = plan([og_item(1, sku="V1", stock=3)], SHIRT)
    assert p.unmatched_woo.empty


# --- 6. SKU subset ----------------------------------------------------------------------------------------

SUBSET_OG = [
    og_item(1, sku="A", stock=1),
    og_item(2, sku="B", stock=1),
    og_item(3, ext="12", stock=1),  # no OfficeGuy SKU: in scope through the Woo SKU "C"
    og_item(4, sku="Z", stock=1),  # unmatched
    og_item(5, sku="D", stock="x"),  # skipped
    og_item(6, sku="V1", stock=1),  # writes the parent 20, whose own SKU is "P"
]
SUBSET_WOO = [woo(10, sku="A"), woo(11, sku="B"), woo(12, sku="C"), woo(13, sku="D"), woo(14, sku="E"), *SHIRT]

# (case id, skus, written woo ids, unmatched og ids, unmatched woo ids, skipped (og, woo))
SUBSET_CASES = [
    ("all", frozenset(), [10, 11, 12, 20], [4], [14], [(5, 13)]),
    ("one og sku", frozenset({"A"}), [10], [], [], []),
    ("trimmed", frozenset({" A "}), [10], [], [], []),
    ("woo sku of an item without sku", frozenset({"C"}), [12], [], [], []),
    ("variation sku writes the parent", frozenset({"V1"}), [20], [], [], []),
    ("unmatched og item in the subset", frozenset({"Z"}), [], [4], [], []),
    ("unmatched woo product in the subset", frozenset({"E"}), [], [], [14], []),
    ("skipped item in the subset", frozenset({"D"}), [], [], [], [(5, 13)]),
    ("unknown sku: nothing", frozenset({"nope"}), [], [], [], []),
]


@pytest.mark.parametrize(
    ("skus", "written", "unmatched_og", "unmatched_woo", "skipped"),
    [c[1:] for c in SUBSET_CASES],
    ids=[c[0] for c in SUBSET_CASES],
)
def test_sku_subset(skus, written, unmatched_og, unmatched_woo, skipped):
    p = plan(SUBSET_OG, SUBSET_WOO, skus=skus)
    assert p.summary()["matched"] == len(written) + len(skipped)
    assert sorted(p.changes["woo_id"]) == written
    assert p.unmatched_og["og_item_id"].tolist() == unmatched_og
    assert p.unmatched_woo["woo_id"].tolist() == unmatched_woo
    assert [(r.og_item_id, r.woo_id) for r in p.skipped.itertuples()] == skipped


# --- 7. safety brake ----------------------------------------------------------------------------------------

# (case id, OfficeGuy items, Woo rows, options, blocked?)
BLOCKED, PASSES, FORCED = "blocked", "passes", "forced through"

# (case id, OfficeGuy items, Woo rows, options, outcome)
BRAKE_CASES = [
    ("empty stock list", [], [woo(10, sku="A")], {}, BLOCKED),
    ("empty stock list and empty store", [], [], {}, BLOCKED),
    ("empty stock list, forced", [], [woo(10, sku="A")], {"force": True}, FORCED),
    ("mass zeroing 6 of 10", *many_products(10, zero=6), {}, BLOCKED),
    ("mass cut 6 of 10", *many_products(10, cut=6), {}, BLOCKED),
    ("mixed 3 zeroed + 3 cut of 10", *many_products(10, zero=3, cut=3), {}, BLOCKED),
    ("just under: 5 of 10 zeroed", *many_products(10, zero=5), {}, PASSES),
    ("just under: 5 of 10 cut", *many_products(10, cut=5), {}, PASSES),
    ("mass zeroing, forced", *many_products(10, zero=10), {"force": True}, FORCED),
    ("force on a harmless plan", *many_products(10), {"force": True}, PASSES),
    ("rises never brake", *many_products(10, old=1, new=50), {}, PASSES),
    ("custom share 0.2: 3 of 10", *many_products(10, cut=3), {"brake_share": 0.2}, BLOCKED),
    ("tiny store: 1 of 1 zeroed", *many_products(1, zero=1), {}, PASSES),
    ("tiny store: 2 of 2 zeroed", *many_products(2, zero=2), {}, PASSES),
    ("small store: 3 of 3 zeroed", *many_products(3, zero=3), {}, BLOCKED),
    ("small store: 3 of 4 cut", *many_products(4, cut=3), {}, BLOCKED),
    ("min affected lowered to 1: 1 of 1", *many_products(1, zero=1), {"brake_min_affected": 1}, BLOCKED),
    (
        "unmanaged products going out of stock count",
        [og_item(i, sku=f"S{i}", stock=0) for i in range(1, 5)],
        [woo(100 + i, sku=f"S{i}", mode="unmanaged") for i in range(1, 5)],
        {},
        BLOCKED,
    ),
]


@pytest.mark.parametrize(
    ("og_rows", "woo_rows", "options", "outcome"), [c[1:] for c in BRAKE_CASES], ids=[c[0] for c in BRAKE_CASES]
)
def test_safety_brake(og_rows, woo_rows, options, outcome):
    p = plan(og_rows, woo_rows, **options)
    assert p.summary()["brake"] == p.brake
    assert p.summary()["forced"] == (outcome == FORCED)
    if outcome == BLOCKED:
        assert "force = true" in p.brake and "officeguy_stock_to_woocommerce" in p.brake
        with pytest.raises(StockPlanBlocked):
            p.payloads()
    else:
        assert p.brake is None
        assert (p.brake_overridden is not None) == (outcome == FORCED)
        p.payloads()


def test_forced_plan_keeps_the_overridden_reason():
    p = plan(*many_products(10, zero=10), force=True)
    assert p.brake is None and "10 of the 10" in p.brake_overridden
    assert len(p.payloads()["products"]) == 10
    assert p.summary()["forced"] is True


def test_brake_message_counts():
    p = plan(*many_products(10, zero=4, cut=3))
    assert "cut 7 and take out of stock 4 of the 10 matched products" in p.brake


# --- 8. payload validation (I4) -------------------------------------------------------------------------------

BAD_PAYLOAD_ITEMS = [
    ("quantity as text", {"id": 10, "stock_quantity": "abc"}),
    ("quantity numeric text", {"id": 10, "stock_quantity": "4"}),
    ("quantity float", {"id": 10, "stock_quantity": 2.7}),
    ("quantity whole float", {"id": 10, "stock_quantity": 2.0}),
    ("quantity bool", {"id": 10, "stock_quantity": True}),
    ("quantity None", {"id": 10, "stock_quantity": None}),
    ("quantity too big", {"id": 10, "stock_quantity": 1_000_000_001}),
    ("quantity too small", {"id": 10, "stock_quantity": -1_000_000_001}),
    ("quantity numpy", {"id": 10, "stock_quantity": np.int64(3)}),
    ("status typo", {"id": 10, "stock_status": "instok"}),
    ("status None", {"id": 10, "stock_status": None}),
    ("id zero", {"id": 0, "stock_quantity": 1}),
    ("id negative", {"id": -3, "stock_quantity": 1}),
    ("id text", {"id": "10", "stock_quantity": 1}),
    ("id float", {"id": 10.0, "stock_quantity": 1}),
    ("no id", {"stock_quantity": 1}),
    ("two fields", {"id": 10, "stock_quantity": 1, "stock_status": "instock"}),
    ("extra field", {"id": 10, "stock_quantity": 1, "manage_stock": True}),
]


@pytest.mark.parametrize("item", [c[1] for c in BAD_PAYLOAD_ITEMS], ids=[c[0] for c in BAD_PAYLOAD_ITEMS])
def test_validate_payload_item_rejects(item):
    with pytest.raises(InvalidPayloadError):
        validate_payload_item(item)


@pytest.mark.parametrize(
    "item",
    [
        {"id": 1, "stock_quantity": 0},
        {"id": 1, "stock_quantity": -5},
        {"id": 1, "stock_quantity": 10**9},
        *({"id": 1, "stock_status": s} for s in ("instock", "outofstock", "onbackorder")),
    ],
)
def test_validate_payload_item_accepts(item):
    validate_payload_item(item)


def _one_change(**overrides):
    row = {
        "woo_id": 10,
        "parent_id": 0,
        "target_kind": "product",
        "field": "stock_quantity",
        "old": 1,
        "new": 2,
        "og_item_id": 1,
        "matched_by": "sku",
        "name": "x",
        "sku": "A",
        "og_stock": 2.0,
        "pending": 0,
    }
    row.update(overrides)
    return pd.DataFrame([row], columns=list(CHANGE_COLUMNS)).astype({"old": object, "new": object})


BAD_CHANGES = [
    ("quantity text", {"new": "abc"}),
    ("quantity float", {"new": 2.5}),
    ("status typo", {"field": "stock_status", "new": "instok"}),
    ("unknown field", {"field": "price"}),
    ("variation without parent", {"target_kind": "variation", "parent_id": 0}),
    ("product with a parent", {"parent_id": 20}),
    ("unknown kind", {"target_kind": "grouped"}),
    ("id zero", {"woo_id": 0}),
]


@pytest.mark.parametrize("overrides", [c[1] for c in BAD_CHANGES], ids=[c[0] for c in BAD_CHANGES])
def test_build_payloads_raises_on_a_bad_change(overrides):
    with pytest.raises(InvalidPayloadError):
        build_payloads(_one_change(**overrides))


def test_payloads_route_products_and_variations():
    p = plan(
        [
            og_item(1, sku="A", stock=1),
            og_item(2, sku="U", stock=0),
            og_item(3, sku="V", stock=2),
            og_item(4, sku="W", stock=0),
        ],
        [
            woo(10, sku="A"),
            woo(11, sku="U", mode="unmanaged"),
            woo(20, type="variable", mode="unmanaged"),
            variation(21, 20, sku="V"),
            variation(22, 20, sku="W", mode="unmanaged"),
        ],
        force=True,  # every one of them is a cut: the brake would stop it
    )
    payloads = p.payloads()
    assert payloads == {
        "products": [{"id": 10, "stock_quantity": 1}, {"id": 11, "stock_status": "outofstock"}],
        "variations": {20: [{"id": 21, "stock_quantity": 2}, {"id": 22, "stock_status": "outofstock"}]},
    }
    assert all(type(k) is int for k in payloads["variations"])
    json.dumps(payloads)


def test_build_payloads_raises_on_two_writes_to_one_product():
    changes = pd.concat([_one_change(), _one_change(new=3)], ignore_index=True)
    with pytest.raises(InvalidPayloadError, match="written twice"):
        build_payloads(changes)


def test_payloads_of_a_tampered_plan_raise():
    p = plan([og_item(1, sku="A", stock=1)], [woo(10, sku="A")])
    p.changes.loc[0, "new"] = "abc"
    with pytest.raises(InvalidPayloadError, match="stock_quantity"):
        p.payloads()


# --- 9. input contract ----------------------------------------------------------------------------------------


def _without(frame, column):
    return frame.drop(columns=[column])


BAD_INPUTS = [
    ("og column missing", lambda og, w: (_without(og, "sku"), w, {}), "og_items is missing columns \\['sku'\\]"),
    (
        "woo column missing",
        lambda og, w: (og, _without(w, "stock_mode"), {}),
        "woo_products is missing columns \\['stock_mode'\\]",
    ),
    ("og not a frame", lambda og, w: (og.to_dict("records"), w, {}), "og_items must be a pandas DataFrame"),
    ("og id not a number", lambda og, w: (og.assign(og_item_id=["x"]), w, {}), "og_item_id must be integers"),
    ("og id repeated", lambda og, w: (pd.concat([og, og]), w, {}), "repeated og_item_id"),
    ("woo id missing", lambda og, w: (og, w.assign(woo_id=[None]), {}), "woo_id must be integers"),
    ("woo id repeated", lambda og, w: (og, pd.concat([w, w]), {}), "repeated woo_id"),
    ("stock_mode unknown", lambda og, w: (og, w.assign(stock_mode=["yes"]), {}), "stock_mode must be one of"),
    (
        "stock_mode parent on a simple product",
        lambda og, w: (og, w.assign(stock_mode=["parent"]), {}),
        "only valid on variations",
    ),
    (
        "woo quantity fractional",
        lambda og, w: (og, w.assign(stock_quantity=[2.5]), {}),
        "stock_quantity must be integers",
    ),
    (
        "variation without a parent",
        lambda og, w: (og, w.assign(type=["variation"]), {}),
        "parent_id must be > 0 exactly on variations",
    ),
    (
        "product with a parent",
        lambda og, w: (og, w.assign(parent_id=[7]), {}),
        "parent_id must be > 0 exactly on variations",
    ),
    ("opt_out not a bool", lambda og, w: (og, w.assign(opt_out=["no"]), {}), "opt_out must be booleans"),
    ("pending value float", lambda og, w: (og, w, {10: 1.5}), "pending must map"),
    ("pending key text", lambda og, w: (og, w, {"10": 1}), "pending must map"),
]


@pytest.mark.parametrize(("mutate", "message"), [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS])
def test_input_contract(mutate, message):
    og, w, pending = mutate(og_frame([og_item(1, sku="A")]), woo_frame([woo(10, sku="A")]))
    with pytest.raises(StockPlanInputError, match=message):
        plan_stock(og, w, pending, PlanOptions())


@pytest.mark.parametrize(
    "kwargs",
    [{"brake_share": 1.5}, {"brake_share": -0.1}, {"brake_min_affected": 0}, {"skus": "ABC"}],
    ids=["share above 1", "share below 0", "min affected 0", "skus as one string"],
)
def test_plan_options_reject(kwargs):
    with pytest.raises(ValueError):
        PlanOptions(**kwargs)


def test_missing_text_values_are_empty_strings():
    og = og_frame([og_item(1, sku=None, ext=None, name=None)])
    og.loc[0, "name"] = None
    p = plan_stock(og, woo_frame([woo(10)]), {}, PlanOptions(match_by_name=True))
    assert unmatched_reasons(p) == {1: Reason.NO_IDENTIFIER}


# --- 10. summary -----------------------------------------------------------------------------------------------


def test_summary_counts_and_is_json_safe():
    p = plan(
        [
            og_item(1, sku="A", stock=1),
            og_item(2, sku="B", stock=5),
            og_item(3),
            og_item(4, sku="C", stock="x"),
            og_item(5, ext="q"),
        ],
        [woo(10, sku="A"), woo(11, sku="B"), woo(12, sku="C"), woo(13, sku="D"), woo(14, opt_out=True)],
    )
    summary = p.summary()
    assert summary == {
        "og_items": 5,
        "woo_products": 5,
        "matched": 3,
        "changed": 1,
        "unchanged": 1,
        "unmatched_og": 2,
        "unmatched_woo": 1,
        "skipped": 2,
        "warnings": 0,
        "service_cards": 0,
        "cards_opened": 0,
        "unmatched_og_by_reason": {Reason.EXTERNAL_ID_NOT_A_NUMBER: 1, Reason.NO_IDENTIFIER: 1},
        "skipped_by_reason": {Reason.STOCK_NOT_A_NUMBER: 1, Reason.OPTED_OUT: 1},
        "brake": None,
        "forced": False,
    }
    assert json.loads(json.dumps(summary)) == summary


# --- 11. a catalogue of 20,000 rows -----------------------------------------------------------------------------


def test_twenty_thousand_rows_spot_check():
    rng = np.random.default_rng(7)
    n_simple, n_parents, per_parent = 10_000, 2_000, 4  # 10,000 products + 2,000 parents + 8,000 variations
    woo_rows, og_rows = [], []
    for i in range(n_simple):
        woo_id = 100_000 + i
        woo_rows.append(
            woo(woo_id, sku=f"S{i}", qty=int(rng.integers(0, 50)), mode="unmanaged" if i % 10 == 0 else "managed")
        )
        og_rows.append(
            og_item(i + 1, sku=f"S{i}", ext=str(woo_id) if i % 2 else "", stock=float(rng.integers(0, 50)) + 0.5)
        )
    for p in range(n_parents):
        parent = 200_000 + p * 10
        parent_managed = p % 2 == 0
        woo_rows.append(
            woo(
                parent,
                type="variable",
                qty=7 if parent_managed else None,
                mode="managed" if parent_managed else "unmanaged",
            )
        )
        for v in range(1, per_parent + 1):
            woo_rows.append(
                variation(parent + v, parent, sku=f"P{p}V{v}", mode="parent" if parent_managed else "managed", qty=3)
            )
            og_rows.append(og_item(500_000 + p * 10 + v, sku=f"P{p}V{v}", stock=9 if parent_managed else v))
    og_rows[42]["stock"] = "garbage"  # og item 43
    og_rows[43]["sku"] = "S44"  # og item 44 (ExternalIdentifier 100043) now shares S44 with item 45
    pending = {100_007: 2, 200_000: 1}

    result = plan_stock(og_frame(og_rows), woo_frame(woo_rows), pending, PlanOptions())
    assert len(result.changes) + result.unchanged_count + len(result.skipped) + len(result.unmatched_og) == len(og_rows)
    by_id = pd.concat([result.changes, result.unchanged]).set_index("woo_id")
    spot = woo_frame(woo_rows).set_index("woo_id")
    # a managed simple product: floor(og) - pending
    og_7 = next(r for r in og_rows if r["sku"] == "S7")
    assert by_id.loc[100_007, "new"] == math.floor(og_7["stock"]) - 2
    assert by_id.loc[100_007, "old"] == spot.loc[100_007, "stock_quantity"]
    # an unmanaged one gets a status
    assert by_id.loc[100_010, "field"] == "stock_status"
    # a parent-held stock: all four variations agree on 9, minus pending 1 on the parent
    assert by_id.loc[200_000, ["new", "target_kind"]].tolist() == [8, "product"]
    assert (result.skipped["reason"] == Reason.PARENT_SHARED).sum() == (n_parents // 2) * (per_parent - 1)
    # variations managing their own stock go to their parent's batch
    assert by_id.loc[200_011, ["target_kind", "parent_id", "new"]].tolist() == ["variation", 200_010, 1]
    # the bad rows are reported, the rest goes on
    assert unmatched_reasons(result) == {44: Reason.EXTERNAL_ID_SKU_DISAGREE, 45: Reason.DUPLICATE_SKU_OG}
    assert result.skipped.set_index("og_item_id").loc[43, "reason"] == Reason.STOCK_NOT_A_NUMBER
    assert sorted(result.unmatched_woo["woo_id"]) == [100_043, 100_044]
    assert result.brake is None
    payloads = result.payloads()
    assert len(payloads["variations"]) == n_parents // 2


# --- 12. cards the orders flow created: waiting for opening stock (rule 7) ---------------------------------------

WAITING = Reason.AWAITING_OPENING_STOCK

# (case id, OfficeGuy stock of card 1 (ExternalIdentifier 10), unopened_cards, unsettled_cards,
#  expected write to Woo 10 or None, expected skip reason or None, opened now)
OPENING_CASES = [
    ("created, sold once: waiting", -1.0, {1: -1}, (), None, WAITING, ()),
    ("created, never sold: waiting", 0.0, {1: 0}, (), None, WAITING, ()),
    ("sold and credited back: waiting", 0.0, {1: 0}, (), None, WAITING, ()),
    ("within the tolerance: waiting", -1.0 + 1e-12, {1: -1}, (), None, WAITING, ()),
    ("a purchase order of 24 opens it", 23.0, {1: -1}, (), 23, None, (1,)),
    ("a count back to 0 opens it", 0.0, {1: -1}, (), 0, None, (1,)),
    ("a fractional stock is a movement", -0.5, {1: -1}, (), -1, None, (1,)),
    ("a fraction below the tolerance is not", -1.0 + 1e-10, {1: -1}, (), None, WAITING, ()),
    ("opened earlier: synced even at our own figure", -1.0, {}, (), -1, None, ()),
    ("moved, but a document of ours is in flight: waits", 23.0, {1: -1}, (1,), None, WAITING, ()),
    ("unsettled but equal: waits as usual", -1.0, {1: -1}, (1,), None, WAITING, ()),
    ("stock not a number: reported as such, not opened", "x", {1: 0}, (), None, Reason.STOCK_NOT_A_NUMBER, ()),
]


@pytest.mark.parametrize(
    ("stock", "unopened", "unsettled", "written", "reason", "opened"),
    [c[1:] for c in OPENING_CASES],
    ids=[c[0] for c in OPENING_CASES],
)
def test_created_cards_wait_for_their_opening_stock(stock, unopened, unsettled, written, reason, opened):
    og_rows = [og_item(1, ext="10", sku="NEW", stock=stock), og_item(2, ext="11", stock=-1.0)]
    woo_rows = [woo(10, sku="NEW", name="מוצר חדש", qty=4), woo(11, qty=4)]
    p = plan_stock(og_frame(og_rows), woo_frame(woo_rows), {}, PlanOptions(),
                   unopened_cards=unopened, unsettled_cards=unsettled)
    assert writes(p).get(10) == (None if written is None else ("stock_quantity", 4, written))
    assert skipped_reasons(p).get((1, 10)) == reason
    assert p.opened_cards == opened
    assert writes(p)[11] == ("stock_quantity", 4, -1)  # a card not created by us: the usual rule
    assert p.summary()["cards_opened"] == len(opened)


def test_a_waiting_card_names_the_product_and_sku_and_is_not_braked():
    og_rows = [og_item(i, ext=str(100 + i), stock=-1.0) for i in range(1, 6)]
    woo_rows = [woo(100 + i, sku=f"S{i}", name=f"product {i}", qty=5) for i in range(1, 6)]
    p = plan_stock(og_frame(og_rows), woo_frame(woo_rows), {}, PlanOptions(),
                   unopened_cards={i: -1 for i in range(1, 6)})
    assert p.brake is None and p.changes.empty and p.unchanged.empty
    row = p.skipped.set_index("og_item_id").loc[3]
    assert (row["name"], row["sku"], row["reason"]) == ("product 3", "S3", "waiting for opening stock in OfficeGuy")
    assert "'product 3' (SKU S3)" in row["detail"] and "purchase order" in row["detail"]
    assert p.summary()["skipped_by_reason"] == {WAITING: 5}


def test_waiting_keeps_pending_and_opt_out_rules_for_the_others():
    og_rows = [og_item(1, ext="10", stock=-2.0), og_item(2, ext="11", stock=7.0), og_item(3, ext="12", stock=-2.0)]
    woo_rows = [woo(10, qty=3), woo(11, qty=3), woo(12, qty=3, opt_out=True)]
    p = plan_stock(og_frame(og_rows), woo_frame(woo_rows), {11: 2, 10: 1}, PlanOptions(),
                   unopened_cards={1: -2, 3: -2})
    assert writes(p) == {11: ("stock_quantity", 3, 5)}  # I3 unchanged: 7 - 2
    assert skipped_reasons(p) == {(1, 10): WAITING, (3, 12): Reason.OPTED_OUT}  # the first reason sticks


def test_a_card_opened_while_unmatched_is_still_reported_opened():
    p = plan_stock(og_frame([og_item(1, ext="99", stock=5.0)]), woo_frame([woo(10)]), {}, PlanOptions(),
                   unopened_cards={1: -1})
    assert p.opened_cards == (1,) and unmatched_reasons(p) == {1: Reason.EXTERNAL_ID_STALE}


@pytest.mark.parametrize("unopened", [[1], {"1": 0}, {1: "0"}, {1: True}], ids=str)
def test_unopened_cards_contract(unopened):
    with pytest.raises(StockPlanInputError, match="unopened_cards"):
        plan_stock(og_frame([og_item(1)]), woo_frame([woo(10)]), {}, PlanOptions(), unopened_cards=unopened)


def test_the_report_names_the_same_reason():
    from officeguy_woocommerce.include.reports import WAITING_REASON

    assert WAITING_REASON == WAITING


# --- 13. service cards (rule 6) ----------------------------------------------------------------------------------

# (case id, OfficeGuy item 1, options, is a service card)
SERVICE_CASES = [
    ("prefix shipping", og_item(1, ext="stock-sync:shipping", name="משלוח"), {}, True),
    ("prefix fee", og_item(1, ext="stock-sync:fee", name="Fee"), {}, True),
    ("prefix with a SKU", og_item(1, ext="stock-sync:refund", sku="R"), {}, True),
    ("label Shipping", og_item(1, name="Shipping"), {}, True),
    ("label Rounding", og_item(1, name=" Rounding "), {}, True),
    ("label Refund", og_item(1, name="Refund"), {}, True),
    ("label with a SKU is a product", og_item(1, name="Shipping", sku="SHIP-1"), {}, False),
    ("label with a Woo id is a product", og_item(1, name="Shipping", ext="10"), {}, False),
    ("label in another case is not", og_item(1, name="shipping"), {}, False),
    ("a configured label", og_item(1, name="משלוח"), {"service_labels": {"משלוח", "Fee"}}, True),
    ("default label when labels are configured", og_item(1, name="Shipping"), {"service_labels": {"משלוח"}}, False),
    ("a configured id", og_item(1, sku="A", ext="10"), {"service_item_ids": {1}}, True),
    ("another configured id", og_item(1, name="Shipping", sku="A"), {"service_item_ids": {99}}, False),
    ("a prefix-like id is not", og_item(1, ext="stock-syncshipping"), {}, False),
]


@pytest.mark.parametrize(
    ("item", "options", "service"), [c[1:] for c in SERVICE_CASES], ids=[c[0] for c in SERVICE_CASES]
)
def test_service_cards(item, options, service):
    og_rows = [item, og_item(2, ext="11", stock=3.0)]
    woo_rows = [woo(10, sku="A", name="Shipping", qty=1), woo(11, qty=1)]
    p = plan(og_rows, woo_rows, **options)
    assert (1 in unmatched_reasons(p) or 1 in set(p.changes["og_item_id"]) | set(p.unchanged["og_item_id"])) != service
    assert p.summary()["service_cards"] == int(service)
    assert p.summary()["og_items"] == 2
    assert writes(p)[11] == ("stock_quantity", 1, 3)


def test_a_product_named_shipping_with_a_sku_is_synced():
    p = plan([og_item(1, name="Shipping", sku="SHIP-1", stock=9.0)], [woo(10, sku="SHIP-1", name="Shipping", qty=2)])
    assert writes(p) == {10: ("stock_quantity", 2, 9)} and p.summary()["service_cards"] == 0


def test_service_cards_never_match_by_name_nor_count_as_duplicates():
    og_rows = [og_item(1, name="Shipping", stock=-40.0), og_item(2, name="Shipping", stock=-3.0),
               og_item(3, name="מוצר", stock=2.0)]
    woo_rows = [woo(10, name="Shipping", qty=5), woo(11, name="מוצר", qty=5)]
    p = plan(og_rows, woo_rows, match_by_name=True)
    assert writes(p) == {11: ("stock_quantity", 5, 2)}
    assert p.unmatched_og.empty and list(p.unmatched_woo["woo_id"]) == [10]
    assert p.summary()["service_cards"] == 2


def test_service_cards_do_not_count_for_the_brake():
    og_rows, woo_rows = many_products(4, old=10, new=10, zero=1)
    og_rows += [og_item(100 + i, ext=f"stock-sync:{k}", stock=-50.0) for i, k in enumerate(("shipping", "fee"))]
    p = plan(og_rows, woo_rows)
    assert p.brake is None and p.summary()["service_cards"] == 2

    only_services = plan([og_item(1, name="Shipping", stock=-5.0)], [woo(10, sku="A")])
    assert only_services.brake is not None and "besides 1 service cards" in only_services.brake


@pytest.mark.parametrize("kwargs", [{"service_item_ids": {0}}, {"service_item_ids": {"12"}},
                                    {"service_item_ids": "12"}, {"service_labels": "Shipping"}], ids=str)
def test_service_options_reject(kwargs):
    with pytest.raises(ValueError, match="service"):
        PlanOptions(**kwargs)


def test_default_service_labels_are_the_orders_flow_labels():
    from officeguy_woocommerce.include.documents import DocumentSettings
    from officeguy_woocommerce.include.stock_plan import SERVICE_LABELS

    d = DocumentSettings()
    assert {d.shipping_label, d.fee_label, d.rounding_label, d.refund_label} == SERVICE_LABELS
