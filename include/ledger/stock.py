"""The stock flow's tables: ``stock_changes`` (one audit row per product change: old, new,
outcome) and ``stock_alerts`` (the level each product was last alerted or re-armed at)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from officeguy_woocommerce.include.ledger.engine import LedgerCore
from officeguy_woocommerce.include.ledger.models import StockAlert, StockChange, utcnow


class StockRecords(LedgerCore):
    # ----------------------------------------------------------------- stock changes
    def record_changes(self, run_pk: int, store: str, rows: Iterable[dict[str, Any]]) -> int:
        """Append audit rows: dicts with woo_id, parent_id, field, old, new, og_item_id, matched_by,
        sku, name, outcome, error."""
        now = utcnow()
        objs = [StockChange(
            run_pk=run_pk, store=store, woo_id=int(r["woo_id"]), parent_id=int(r.get("parent_id") or 0),
            field=r["field"], old_value=None if r.get("old") is None else str(r["old"]), new_value=str(r["new"]),
            og_item_id=None if r.get("og_item_id") is None else int(r["og_item_id"]),
            matched_by=r.get("matched_by") or "", sku=r.get("sku") or "", name=(r.get("name") or "")[:500],
            outcome=r["outcome"], error=r.get("error") or "", recorded_at=now,
        ) for r in rows]
        with self.session() as s, s.begin():
            s.add_all(objs)
        return len(objs)

    def changes(self, *, run_pk: int | None = None, store: str | None = None, woo_id: int | None = None) -> list[StockChange]:
        with self.session() as s:
            query = select(StockChange).order_by(StockChange.id)
            if run_pk is not None:
                query = query.where(StockChange.run_pk == run_pk)
            if store is not None:
                query = query.where(StockChange.store == store)
            if woo_id is not None:
                query = query.where(StockChange.woo_id == woo_id)
            return list(s.scalars(query))

    # ----------------------------------------------------------------- alert state
    def alert_levels(self, store: str) -> dict[int, str]:
        with self.session() as s:
            return {r.woo_id: r.level for r in s.scalars(select(StockAlert).where(StockAlert.store == store))}

    def set_alert_level(self, store: str, woo_id: int, level: str, *, quantity: int | None = None,
                        threshold: int | None = None, sent: bool = False) -> None:
        now = utcnow()
        with self.session() as s, s.begin():
            row = s.get(StockAlert, (store, woo_id), with_for_update=True)
            if row is None:
                row = StockAlert(store=store, woo_id=woo_id, level=level, updated_at=now)
                s.add(row)
            row.level, row.quantity, row.threshold, row.updated_at = level, quantity, threshold, now
            if sent:
                row.last_sent_at = now
