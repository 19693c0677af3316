"""The item map (``item_map``): Woo id -> OfficeGuy item id, and the claim that makes sure the
orders flow creates a missing item card once. What our documents moved on those cards is in
``include/ledger_cards.py``."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from officeguy_woocommerce.include.ledger.engine import LedgerCore
from officeguy_woocommerce.include.ledger.models import ItemMap, utcnow
from officeguy_woocommerce.include.ledger.states import CardState


class ItemCards(LedgerCore):
    def item_map(self, store: str) -> dict[int, int]:
        with self.session() as s:
            rows = s.scalars(select(ItemMap).where(ItemMap.store == store, ItemMap.og_item_id.is_not(None)))
            return {r.woo_id: r.og_item_id for r in rows}

    def claim_card(self, store: str, woo_id: int, sku: str, *, lease_seconds: float = 900) -> ItemMap | None:
        """Claim the right to create the card for ``woo_id``; None when it exists or is being made.

        A returned row with ``needs_lookup`` set had an earlier try that may have reached OfficeGuy:
        look for the card (ExternalIdentifier = woo_id) before creating one.
        """
        now = utcnow()
        with self.session() as s, s.begin():
            row = s.get(ItemMap, (store, woo_id), with_for_update=True)
            if row is None:
                row = ItemMap(store=store, woo_id=woo_id, og_item_id=None, sku=sku, source="created",
                              state=CardState.CLAIMED, needs_lookup=False, updated_at=now)
                try:
                    with s.begin_nested():  # a concurrent run may claim it first
                        s.add(row)
                except IntegrityError:
                    return None
                return row
            updated = row.updated_at if row.updated_at.tzinfo else row.updated_at.replace(tzinfo=UTC)
            stale = row.state == CardState.CLAIMED and (now - updated).total_seconds() > lease_seconds
            if row.og_item_id is None and (row.state == CardState.FAILED or stale):
                row.state, row.needs_lookup, row.updated_at = CardState.CLAIMED, True, now
                return row
            return None

    def record_card(self, store: str, woo_id: int, og_item_id: int, *, sku: str = "", source: str = "created") -> None:
        now = utcnow()
        with self.session() as s, s.begin():
            row = s.get(ItemMap, (store, woo_id), with_for_update=True)
            if row is None:
                s.add(ItemMap(store=store, woo_id=woo_id, og_item_id=og_item_id, sku=sku, source=source,
                              state=CardState.MAPPED, needs_lookup=False, updated_at=now))
            else:
                row.og_item_id, row.state, row.needs_lookup, row.updated_at = og_item_id, CardState.MAPPED, False, now
                row.source = source if row.source != "created" else row.source

    def release_card(self, store: str, woo_id: int, *, ambiguous: bool) -> None:
        with self.session() as s, s.begin():
            row = s.get(ItemMap, (store, woo_id), with_for_update=True)
            if row is not None and row.og_item_id is None:
                row.state, row.updated_at = CardState.FAILED, utcnow()
                row.needs_lookup = row.needs_lookup or ambiguous
