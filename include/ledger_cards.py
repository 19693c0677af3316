"""The item cards this project created, as the ledger knows them: what our own documents moved on
them, and whether OfficeGuy has seen any other stock movement on them yet ("opened").

A card the orders flow creates (``incomeitems/create``, item_map ``source = 'created'``) starts at
0 in OfficeGuy and our sale documents take it below zero. Until something else moves it (a
purchase order, a stock count), OfficeGuy does not know the product's stock, and the stock sync
leaves the store's quantity alone (include/stock_plan/, rule 7). Plain functions over a
``Ledger``; no Airflow, no HTTP.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import false, select, update

from officeguy_woocommerce.include.ledger import DocumentState, ItemMap, Ledger, OrderDocument

SALE = "sale"
CANCEL = "cancel"
REFUND_PREFIX = "refund:"
FINAL = DocumentState.DOCUMENTED  # our own documents, final in OfficeGuy ("recorded" ones are the official plugin's)
# A document in these states may exist in OfficeGuy without being recorded yet (claimed: between the
# call and its record; failed: after an unclear failure, until a later run looks it up).
IN_FLIGHT = (DocumentState.CLAIMED, DocumentState.FAILED)


def _sign(doc_key: str) -> int:
    """-1: the document takes stock out (a sale); +1: it puts stock back (a credit); 0: neither."""
    if doc_key == SALE:
        return -1
    if doc_key == CANCEL or doc_key.startswith(REFUND_PREFIX):
        return 1
    return 0


def _woo_id(entry: Any) -> int:
    if not isinstance(entry, dict):
        return 0
    try:
        return int(entry.get("variation_id") or 0) or int(entry.get("product_id") or 0)
    except (TypeError, ValueError):
        return 0


def _units(value: Any) -> int | float:
    """A line's quantity: a whole number in Woo; anything else is kept as it is (never rounded)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0
    return int(number) if number.is_integer() else number


def _card_of(ledger: Ledger, store: str) -> dict[int, int]:
    """Woo id -> OfficeGuy item id, every mapped row of the store."""
    return ledger.item_map(store)


def own_card_moves(ledger: Ledger, store: str) -> dict[int, int]:
    """og_item_id -> net units this project's own final documents moved on the card.

    A sale takes each of its lines' quantity out; a credit (``cancel``, ``refund:<id>``) puts back
    what its lines name (only the units returned to the card). Other rows move nothing. A line whose
    Woo id has no card in the item map moved nothing we can see.
    """
    card_of = _card_of(ledger, store)
    moves: dict[int, int] = defaultdict(int)
    with ledger.session() as s:
        rows = s.execute(select(OrderDocument.doc_key, OrderDocument.lines).where(
            OrderDocument.store == store, OrderDocument.state == FINAL))
        for doc_key, lines in rows:
            sign = _sign(doc_key)
            if not sign:
                continue
            for entry in lines or ():
                og_item_id = card_of.get(_woo_id(entry))
                if og_item_id is not None:
                    moves[og_item_id] += sign * _units(entry.get("quantity"))
    return dict(moves)


def unopened_created_cards(ledger: Ledger, store: str) -> dict[int, int]:
    """og_item_id -> woo_id of the cards the orders flow created and no stock run has seen opened."""
    with ledger.session() as s:
        rows = s.execute(select(ItemMap.og_item_id, ItemMap.woo_id).where(
            ItemMap.store == store, ItemMap.source == "created", ItemMap.opened == false(),
            ItemMap.og_item_id.is_not(None)))
        return {int(og_item_id): int(woo_id) for og_item_id, woo_id in rows}


def mark_cards_opened(ledger: Ledger, store: str, og_item_ids: Iterable[int]) -> int:
    """Remember that these cards moved in OfficeGuy by something else than our documents: from now
    on they are synced like any other card, whatever their stock. Returns the rows changed."""
    ids = sorted({int(i) for i in og_item_ids})
    if not ids:
        return 0
    with ledger.session() as s, s.begin():
        result = s.execute(update(ItemMap).where(
            ItemMap.store == store, ItemMap.og_item_id.in_(ids), ItemMap.opened == false(),
        ).values(opened=True, updated_at=datetime.now(UTC)))
        return result.rowcount


def cards_in_flight(ledger: Ledger, store: str) -> set[int]:
    """og_item_ids a document of ours may have moved in OfficeGuy without the ledger knowing yet.

    The rows claimed or failed, by their own lines and by their order's sale lines (a credit's
    lines may be written only when it is recorded, and it only returns what the sale took).
    """
    card_of = _card_of(ledger, store)
    with ledger.session() as s:
        rows = list(s.execute(select(OrderDocument.woo_order_id, OrderDocument.lines).where(
            OrderDocument.store == store, OrderDocument.state.in_(IN_FLIGHT))))
        if not rows:
            return set()
        orders = sorted({int(order_id) for order_id, _ in rows})
        sales = s.execute(select(OrderDocument.lines).where(
            OrderDocument.store == store, OrderDocument.doc_key == SALE, OrderDocument.woo_order_id.in_(orders)))
        all_lines = [lines for _, lines in rows] + [lines for (lines,) in sales]
    return {card_of[w] for lines in all_lines for w in map(_woo_id, lines or ()) if w in card_of}
