"""A triggered stock run reads only what the store saved since the last read (plugins/woocommerce/snapshot.py).
The class of cases: under any history of store changes, an incremental read gives exactly what a full read
of the store gives at that moment. A hypothesis state machine drives the WooCommerce sandbox over HTTPS
(new simple and variable products, stock and setting edits of products and variations, variations added,
paid orders and restocking refunds, products trashed and restored) on a store clock that jumps by 0 s to an
hour, so that saves land in the same second as a read, inside the cursor's margin and far past it; after
each step it may read both ways and compare every row."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook
from officeguy_woocommerce.woocommerce.operators import WooCommerceStockExtractOperator

SHOP: dict = {}


def _rows(result: dict) -> list[dict]:
    return sorted(json.loads(Path(result["path"]).read_text(encoding="utf-8"))["products"], key=lambda r: r["id"])


class StoreHistory(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.hook = WooCommerceHook()
        self.folder: Path = SHOP["folder"] / f"history-{SHOP['count']}"
        SHOP["count"] += 1
        self.products: list[int] = []  # ids this history made (simple and variable), trashed ones included
        self.variable: list[int] = []
        self.trashed: set[int] = set()
        self.reads = 0

    def _extract(self, incremental: bool) -> dict:
        self.reads += 1
        return WooCommerceStockExtractOperator(
            task_id="t", output_path=str(self.folder / f"{self.reads}.json"), incremental=incremental,
            snapshot_path=str(self.folder / ("snapshot.json" if incremental else "unused.json"))).execute({})

    def _tick(self, seconds: int) -> None:
        SHOP["clock"][0] += seconds

    @initialize()
    def first_full_read(self):
        self.last = self._extract(incremental=True)  # no snapshot yet: a full read, which becomes it
        assert self.last["read"]["mode"] == "full"

    # ------------------------------------------------------------------ the store
    @rule(stock=st.integers(0, 30), managed=st.booleans())
    def new_simple(self, stock, managed):
        made = self.hook.request("POST", "/products", json={"name": "S", "regular_price": "10", "manage_stock": managed,
                                                              "stock_quantity": stock}).json()
        self.products.append(made["id"])

    @rule(sizes=st.lists(st.integers(0, 9), min_size=1, max_size=3), parent_managed=st.booleans())
    def new_variable(self, sizes, parent_managed):
        parent = self.hook.request("POST", "/products", json={
            "name": "V", "type": "variable", "manage_stock": parent_managed, "stock_quantity": 5 if parent_managed else None,
            "attributes": [{"name": "Size", "variation": True, "options": [f"O{i}" for i in range(len(sizes))]}]}).json()
        self.hook.batch(f"/products/{parent['id']}/variations", create=[
            {"regular_price": "12", "manage_stock": not parent_managed, "stock_quantity": None if parent_managed else s,
             "attributes": [{"name": "Size", "option": f"O{i}"}]} for i, s in enumerate(sizes)])
        self.products.append(parent["id"])
        self.variable.append(parent["id"])

    def _live(self, index: int, pool: list[int]) -> int | None:
        live = [p for p in pool if p not in self.trashed]
        return live[index % len(live)] if live else None

    @precondition(lambda self: self.products)
    @rule(index=st.integers(0, 30), stock=st.integers(-3, 40), backorders=st.sampled_from([None, "no", "notify"]))
    def edit_product(self, index, stock, backorders):
        pid = self._live(index, self.products)
        if pid is not None:
            body = {"stock_quantity": stock} | ({"backorders": backorders} if backorders else {})
            self.hook.request("PUT", f"/products/{pid}", json=body)

    def _variations(self, parent: int) -> list[dict]:
        return self.hook.list_all(f"/products/{parent}/variations", {"_fields": "id,manage_stock,stock_quantity"})

    @precondition(lambda self: self.variable)
    @rule(index=st.integers(0, 30), which=st.integers(0, 9), stock=st.integers(0, 40), managed=st.booleans())
    def edit_variation(self, index, which, stock, managed):
        parent = self._live(index, self.variable)
        variations = self._variations(parent) if parent is not None else []
        if variations:
            vid = variations[which % len(variations)]["id"]
            self.hook.request("PUT", f"/products/{parent}/variations/{vid}",
                              json={"manage_stock": managed, "stock_quantity": stock if managed else None})

    @precondition(lambda self: self.variable)
    @rule(index=st.integers(0, 30), stock=st.integers(0, 9))
    def add_variation(self, index, stock):
        parent = self._live(index, self.variable)
        if parent is not None:
            self.hook.request("POST", f"/products/{parent}/variations",
                              json={"regular_price": "9", "manage_stock": True, "stock_quantity": stock})

    @precondition(lambda self: self.products)
    @rule(index=st.integers(0, 30), which=st.integers(0, 9), quantity=st.integers(1, 3), refund=st.booleans())
    def a_paid_order(self, index, which, quantity, refund):
        pid = self._live(index, self.products)
        if pid is None:
            return
        line = {"product_id": pid, "quantity": quantity}
        if pid in self.variable:
            variations = self._variations(pid)
            if not variations:
                return
            line["variation_id"] = variations[which % len(variations)]["id"]
        order = self.hook.request("POST", "/orders", json={"set_paid": True, "line_items": [line]}).json()
        if refund:  # a restocking refund puts the units back
            item = order["line_items"][0]
            self.hook.request("POST", f"/orders/{order['id']}/refunds", json={
                "amount": item["total"], "api_refund": False, "api_restock": True,
                "line_items": [{"id": item["id"], "quantity": quantity, "refund_total": item["total"]}]})

    @precondition(lambda self: self.products)
    @rule(index=st.integers(0, 30))
    def trash_or_restore(self, index):
        pid = self.products[index % len(self.products)]
        if pid in self.trashed:
            self.hook.request("PUT", f"/products/{pid}", json={"status": "publish"})
            self.trashed.discard(pid)
        else:
            self.hook.request("DELETE", f"/products/{pid}")
            self.trashed.add(pid)

    @rule(seconds=st.sampled_from([0, 0, 1, 2, 30, 59, 61, 90, 600, 3600]))
    def time_passes(self, seconds):
        self._tick(seconds)

    @precondition(lambda self: self.products)
    @rule(index=st.integers(0, 30))
    def trash_or_restore_another(self, index):  # a second rule: trashing is drawn as often as an edit is
        self.trash_or_restore(index)

    # ------------------------------------------------------------------ the project
    @rule(seconds=st.sampled_from([0, 1, 61, 120]))
    def triggered_run_reads_what_a_full_read_reads(self, seconds):
        incremental = self._extract(incremental=True)
        full = self._extract(incremental=False)
        assert incremental["read"]["mode"] == "incremental", incremental["read"]
        assert _rows(incremental) == _rows(full)
        assert sorted(r["woo_id"] for r in incremental["rejected"]) == sorted(r["woo_id"] for r in full["rejected"])
        self._tick(seconds)

    @rule(seconds=st.sampled_from([0, 1, 61, 120]))
    def another_triggered_run(self, seconds):  # reads drawn as often as changes, so each change meets one
        self.triggered_run_reads_what_a_full_read_reads(seconds)

    @invariant()
    def snapshot_names_the_store(self):
        snap = json.loads((self.folder / "snapshot.json").read_text(encoding="utf-8"))
        assert snap["store"] == self.hook.base_url and snap["read"]["cursor"]


@pytest.mark.parametrize("examples", [40])
def test_an_incremental_read_equals_a_full_read_under_any_store_history(woo_https, woo_conn, tmp_path, examples):
    base = time.time()
    clock = [0.0]
    woo_https.app.state.store.clock = lambda: base + clock[0]
    woo_conn(woo_https)
    SHOP.update(folder=tmp_path, count=0, clock=clock)
    run_state_machine_as_test(StoreHistory, settings=settings(
        max_examples=examples, stateful_step_count=14, deadline=None, database=None, derandomize=True,
        suppress_health_check=list(HealthCheck)))
    assert SHOP["count"] >= examples
