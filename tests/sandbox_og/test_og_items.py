"""Item cards and stock: stock/list, incomeitems/list and incomeitems/create (officeguy-api.md 1.5a-b,
section 7)."""

from __future__ import annotations

import time

import pytest
from og_helpers import new_item

from sandbox.common.catalogue import build
from sandbox.officeguy.testing import og_sandbox


def test_stock_list_returns_every_card_in_one_answer(demo):
    catalogue = build("demo").items
    stock = demo.call("/stock/stock/list/", {})["Data"]["Stock"]
    assert len(stock) == len(catalogue) > 400
    assert set(stock[0]) == {"ID", "Name", "ExternalIdentifier", "Stock"}
    by_id = {row["ID"]: row for row in stock}
    for item in catalogue:
        row = by_id[item.id]
        assert (row["Name"], row["Stock"]) == (item.name, item.stock)
        assert row["ExternalIdentifier"] == (item.external_identifier or None)
    assert any(row["Stock"] % 1 for row in stock)  # fractional stock exists (weighed goods)
    assert any(row["ExternalIdentifier"] is None for row in stock)


def test_stock_list_filters_by_item_ids_and_zero_stock(demo):
    stock = demo.call("/stock/stock/list/", {})["Data"]["Stock"]
    zero = [row["ID"] for row in stock if row["Stock"] == 0]
    assert zero
    wanted = [stock[0]["ID"], stock[5]["ID"], 999_999]
    picked = demo.call("/stock/stock/list/", {"ItemIDs": wanted})["Data"]["Stock"]
    assert [row["ID"] for row in picked] == wanted[:2]
    nonzero = demo.call("/stock/stock/list/", {"ExcludeZeroStock": True})["Data"]["Stock"]
    assert len(nonzero) == len(stock) - len(zero)
    assert all(row["Stock"] != 0 for row in nonzero)


def test_income_items_page_through_everything_in_id_order(demo):
    expected = [row["ID"] for row in demo.call("/stock/stock/list/", {})["Data"]["Stock"]]
    seen, start, pages = [], 0, 0
    while True:
        data = demo.call("/accounting/incomeitems/list/", {"Paging": {"StartIndex": start, "PageSize": 100}})["Data"]
        seen += [item["ID"] for item in data["IncomeItems"]]
        pages += 1
        if not data["HasNextPage"]:
            break
        assert len(data["IncomeItems"]) == 100
        start += 100
    assert seen == sorted(expected)
    assert pages == -(-len(expected) // 100)
    first = demo.call("/accounting/incomeitems/list/", {"Paging": {"StartIndex": 0, "PageSize": 10}})
    item = first["Data"]["IncomeItems"][0]
    assert set(item) >= {"ID", "Name", "Description", "Price", "Cost", "Currency", "SKU", "ExternalIdentifier"}
    assert item["SKU"] == "SKU-00001"


def test_income_items_page_size_defaults_to_10(demo):
    data = demo.call("/accounting/incomeitems/list/", {})["Data"]
    assert len(data["IncomeItems"]) == 10 and data["HasNextPage"] is True


def test_has_next_page_is_false_on_an_exactly_full_last_page(og):
    for n in range(10):
        new_item(og, f"Item {n}")
    data = og.call("/accounting/incomeitems/list/", {"Paging": {"StartIndex": 0, "PageSize": 10}})["Data"]
    assert len(data["IncomeItems"]) == 10 and data["HasNextPage"] is False


@pytest.mark.parametrize("paging", [{"PageSize": 9}, {"PageSize": 1001}, {"PageSize": 0}, {"StartIndex": -1},
                                    {"PageSize": "ten"}])
def test_income_items_paging_out_of_bounds_is_refused(og, paging):
    answer = og.call("/accounting/incomeitems/list/", {"Paging": paging})
    assert answer["Status"] == 1 and answer["Data"] is None


def test_page_size_bounds_are_inclusive(og):
    for size in (10, 1000):
        assert og.call("/accounting/incomeitems/list/", {"Paging": {"PageSize": size}})["Status"] == 0


def test_created_item_appears_in_the_list_and_in_stock_with_zero(og):
    spec = {"Name": "כוס קפה", "Price": "12.50", "Cost": 4, "Currency": "ILS", "SKU": "MUG-1",
            "ExternalIdentifier": "77", "Description": "Ceramic"}
    item_id = og.call("/accounting/incomeitems/create/", {"IncomeItem": spec})["Data"]["EntityID"]
    assert isinstance(item_id, int)
    (listed,) = og.call("/accounting/incomeitems/list/", {})["Data"]["IncomeItems"]
    assert listed == {"ID": item_id, "Name": "כוס קפה", "Description": "Ceramic", "Price": 12.5, "Cost": 4.0,
                      "Currency": 0, "SKU": "MUG-1", "ExternalIdentifier": "77"}
    assert og.call("/stock/stock/list/", {})["Data"]["Stock"] == [
        {"ID": item_id, "Name": "כוס קפה", "ExternalIdentifier": "77", "Stock": 0.0}]


def test_sku_and_external_identifier_are_not_unique(og):
    first = new_item(og, SKU="DUP", ExternalIdentifier="5")
    second = new_item(og, SKU="DUP", ExternalIdentifier="5")
    assert first != second
    assert len(og.call("/stock/stock/list/", {})["Data"]["Stock"]) == 2


def test_create_with_an_explicit_search_mode_finds_the_existing_card(og):
    first = new_item(og, SKU="S-1")
    answer = og.call("/accounting/incomeitems/create/", {"IncomeItem": {"Name": "Other", "SKU": "S-1", "SearchMode": 4}})
    assert answer["Data"]["EntityID"] == first
    answer = og.call("/accounting/incomeitems/create/", {"IncomeItem": {"Name": "New", "SKU": "S-2", "SearchMode": 4}})
    assert answer["Data"]["EntityID"] != first


@pytest.mark.parametrize("spec", [{}, {"Price": 3}, {"Name": ""}, {"Name": "X", "Price": "abc"},
                                  {"Name": "X", "Currency": "XYZ"}])
def test_create_refuses_bad_cards(og, spec):
    answer = og.call("/accounting/incomeitems/create/", {"IncomeItem": spec})
    assert answer["Status"] == 1
    assert og.call("/stock/stock/list/", {})["Data"]["Stock"] == []


def test_bench_dataset_loads_fast_and_lists_16000_items_fast(tmp_path):
    started = time.perf_counter()
    with og_sandbox(tmp_path, dataset="bench:10000") as og:
        assert time.perf_counter() - started < 5
        started = time.perf_counter()
        stock = og.call("/stock/stock/list/", {})["Data"]["Stock"]
        assert time.perf_counter() - started < 1
    assert len(stock) == len(build("bench:10000").items) == 16000
