"""include/ledger_cards.py over a real (SQLite) ledger: our own documents' moves per card, the
created cards not yet opened, and the documents still in flight."""

from __future__ import annotations

import pytest

from officeguy_woocommerce.include.ledger import Ledger, sqlite_url
from officeguy_woocommerce.include.ledger_cards import (
    cards_in_flight,
    mark_cards_opened,
    own_card_moves,
    unopened_created_cards,
)

STORE = "https://shop.example"


@pytest.fixture
def ledger(tmp_path):
    ledger = Ledger(sqlite_url(tmp_path / "ledger.sqlite"))
    ledger.record_card(STORE, 10, 1001, sku="A")  # created by the orders flow
    ledger.record_card(STORE, 11, 1002, sku="B", source="matched")
    ledger.record_card(STORE, 21, 1003, sku="C")  # a variation's card
    ledger.record_card("https://other.example", 10, 1001, sku="A")
    return ledger


def line(product_id, quantity, variation_id=0):
    return {"product_id": product_id, "variation_id": variation_id, "quantity": quantity}


def document(ledger, order_id, doc_key, lines, state="documented", store=STORE):
    ledger.ensure_documents([{"store": store, "woo_order_id": order_id, "doc_key": doc_key, "lines": lines,
                              "external_reference": f"woo:{order_id}:{doc_key}"}])
    if state != "pending":
        assert ledger.claim_document(store, order_id, doc_key, "t") is not None
    if state == "documented" or state == "recorded":
        ledger.record_document(store, order_id, doc_key, "t", document_id=order_id, document_number=1, state=state)
    elif state == "failed":
        ledger.release_document(store, order_id, doc_key, "t", error="timeout")


# (case id, documents [(order, doc_key, lines, state)], expected moves)
MOVES_CASES = [
    ("no documents", [], {}),
    ("a sale takes out", [(1, "sale", [line(10, 2), line(11, 1)], "documented")], {1001: -2, 1002: -1}),
    ("a variation by its own id", [(1, "sale", [line(20, 3, variation_id=21)], "documented")], {1003: -3}),
    ("refund and cancel put back", [(1, "sale", [line(10, 3)], "documented"),
                                    (1, "refund:7", [line(10, 1)], "documented"),
                                    (2, "sale", [line(10, 1)], "documented"),
                                    (2, "cancel", [line(10, 1)], "documented")], {1001: -2}),
    ("other keys move nothing", [(1, "receipt", [line(10, 5)], "documented")], {}),
    ("the plugin's documents are not ours", [(1, "sale", [line(10, 2)], "recorded")], {}),
    ("not final yet", [(1, "sale", [line(10, 2)], "pending"), (2, "sale", [line(10, 2)], "claimed"),
                       (3, "sale", [line(10, 2)], "failed")], {}),
    ("a product without a card", [(1, "sale", [line(99, 2), line(0, 1)], "documented")], {}),
    ("another store's documents", [(1, "sale", [line(10, 2)], "documented", "https://other.example")], {}),
]


@pytest.mark.parametrize("docs, expected", [c[1:] for c in MOVES_CASES], ids=[c[0] for c in MOVES_CASES])
def test_own_card_moves(ledger, docs, expected):
    for order_id, doc_key, lines, state, *store in docs:
        document(ledger, order_id, doc_key, lines, state, *(store or [STORE]))
    assert {k: v for k, v in own_card_moves(ledger, STORE).items() if v} == expected


def test_unopened_created_cards_and_marking_them_opened(ledger):
    ledger.claim_card(STORE, 30, "D")  # claimed, no card yet
    assert unopened_created_cards(ledger, STORE) == {1001: 10, 1003: 21}
    assert mark_cards_opened(ledger, STORE, [1001]) == 1
    assert mark_cards_opened(ledger, STORE, [1001]) == 0  # once
    assert mark_cards_opened(ledger, STORE, []) == 0
    assert unopened_created_cards(ledger, STORE) == {1003: 21}
    assert unopened_created_cards(ledger, "https://other.example") == {1001: 10}  # per store


def test_cards_in_flight(ledger):
    assert cards_in_flight(ledger, STORE) == set()
    document(ledger, 1, "sale", [line(10, 1)], "claimed")
    document(ledger, 2, "sale", [line(11, 1)], "failed")
    document(ledger, 3, "sale", [line(20, 1, variation_id=21)], "documented")
    document(ledger, 3, "refund:9", [], "claimed")  # a credit's lines may come only with its record
    document(ledger, 4, "sale", [line(10, 1)], "pending")  # never sent yet
    assert cards_in_flight(ledger, STORE) == {1001, 1002, 1003}


class _FakeOfficeGuy:
    """list_stock as OfficeGuy answers it, with something happening while it reads."""

    def __init__(self, stock, during=None):
        self.stock, self.during, self.calls = stock, during, 0

    def list_stock(self, item_ids=None):
        from types import SimpleNamespace

        self.calls += 1
        if self.during:
            self.during()
        return [SimpleNamespace(id=i, stock=s) for i, s in self.stock.items() if i in item_ids]


def _og_frame():
    import pandas as pd

    return pd.DataFrame({"og_item_id": [1001, 1002, 1003], "name": ["a", "b", "c"], "external_identifier": ["10", "11", "21"],
                         "sku": ["A", "B", "C"], "stock": [-1.0, 4.0, 0.0]})


def test_opening_stock_reads_officeguy_again_between_two_reads_of_the_ledger(ledger):
    from officeguy_woocommerce.app.stock_tasks import opening_stock

    document(ledger, 1, "sale", [line(10, 1)], "documented")
    frame, own, unsettled, calls = opening_stock(ledger, STORE, _og_frame(), _FakeOfficeGuy({1001: 23.0, 1003: 0.0}))
    assert own == {1001: -1, 1003: 0} and unsettled == set() and calls == 1
    assert frame.set_index("og_item_id")["stock"].to_dict() == {1001: 23.0, 1002: 4.0, 1003: 0.0}


@pytest.mark.parametrize("what", ["recorded meanwhile", "still claimed", "failed"])
def test_a_document_landing_during_the_read_leaves_the_card_unsettled(ledger, what):
    from officeguy_woocommerce.app.stock_tasks import opening_stock

    def meanwhile():
        document(ledger, 2, "sale", [line(21, 1, variation_id=21)], "documented")

    during = meanwhile if what == "recorded meanwhile" else None
    if what != "recorded meanwhile":
        document(ledger, 2, "sale", [line(21, 1, variation_id=21)], "claimed" if what == "still claimed" else "failed")
    _, own, unsettled, _ = opening_stock(ledger, STORE, _og_frame(), _FakeOfficeGuy({1001: -1.0, 1003: -1.0}, during))
    assert unsettled == {1003}


def test_without_a_fresh_read_nothing_opens(ledger):
    from officeguy_woocommerce.app.stock_tasks import opening_stock

    class Down:
        def list_stock(self, item_ids=None):
            raise ConnectionError("down")

    frame, own, unsettled, calls = opening_stock(ledger, STORE, _og_frame(), Down())
    assert unsettled == {1001, 1003} and calls == 0
    assert frame["stock"].tolist() == [-1.0, 4.0, 0.0]


def test_no_created_cards_no_call(tmp_path):
    from officeguy_woocommerce.app.stock_tasks import opening_stock

    empty = Ledger(sqlite_url(tmp_path / "empty.sqlite"))
    assert opening_stock(empty, STORE, _og_frame(), _FakeOfficeGuy({}))[1:] == ({}, set(), 0)
