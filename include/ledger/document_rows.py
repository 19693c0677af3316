"""The order documents (``order_documents``): one row per OfficeGuy document a Woo order needs
(``sale``, ``refund:<id>``, ``cancel``), claimed before the OfficeGuy call and recorded after, so
that each is created once (I1, I2)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from officeguy_woocommerce.include.ledger.engine import LedgerCore
from officeguy_woocommerce.include.ledger.models import OrderDocument, utcnow
from officeguy_woocommerce.include.ledger.states import OPEN_STATES, OUTSTANDING_STATES, DocumentState


class OrderDocuments(LedgerCore):
    def ensure_documents(self, rows: Iterable[dict[str, Any]]) -> None:
        """Insert the rows that do not exist yet (state ``pending``); refresh status/modified of the others.

        Rows need store, woo_order_id, doc_key, external_reference; optional order_number,
        woo_status, order_modified_gmt, lines. A row parked for bad data is reopened when the order
        was modified since (the merchant may have fixed it).
        """
        now = utcnow()
        with self.session() as s, s.begin():
            for r in rows:
                key = (r["store"], int(r["woo_order_id"]), r["doc_key"])
                row = s.get(OrderDocument, key, with_for_update=True)
                if row is None:
                    new = OrderDocument(
                        store=key[0], woo_order_id=key[1], doc_key=key[2], order_number=str(r.get("order_number", "")),
                        woo_status=r.get("woo_status", ""), order_modified_gmt=r.get("order_modified_gmt", ""),
                        external_reference=r["external_reference"], state=r.get("state", DocumentState.PENDING),
                        lines=r.get("lines") or [], attempts=0, created_at=now, updated_at=now,
                        og_document_id=r.get("og_document_id"), og_document_number=r.get("og_document_number"),
                        last_error=r.get("last_error", ""),
                    )
                    try:
                        with s.begin_nested():  # a savepoint: a concurrent run may insert it first
                            s.add(new)
                    except IntegrityError:
                        pass
                    continue
                modified = r.get("order_modified_gmt", "")
                if r.get("reopen") is False:  # a marker row (e.g. "changed"): its state is the caller's
                    row.state, row.last_error = r.get("state", row.state), r.get("last_error", row.last_error)
                    row.order_modified_gmt, row.updated_at = modified or row.order_modified_gmt, now
                    continue
                if row.state == DocumentState.PARKED and modified and modified != row.order_modified_gmt:
                    row.state, row.attempts = DocumentState.PENDING, 0
                row.woo_status = r.get("woo_status", row.woo_status)
                row.order_modified_gmt = modified or row.order_modified_gmt
                if r.get("lines") and row.state not in (DocumentState.DOCUMENTED, DocumentState.RECORDED):
                    row.lines = r["lines"]  # a documented row keeps what it documented
                row.updated_at = now

    def claim_document(self, store: str, woo_order_id: int, doc_key: str, token: str, *,
                       lease_seconds: float = 900, earlier_tries: str = "") -> OrderDocument | None:
        """Take the row for one OfficeGuy call, atomically; None when another run has it or it is done.

        One conditional UPDATE decides, so two overlapping runs (a schedule and a backfill, two
        workers) can never both win (I1). A claim older than the lease belongs to a task that died
        between claim and record: it may be taken over. So may, at once, a claim whose holder starts
        with ``earlier_tries`` (the same task instance's earlier try: Airflow runs one try at a time,
        so when a retry runs, the try that claimed is dead, e.g. its worker was killed). The returned
        row's ``attempts`` counts this try; more than one means an earlier try may have reached
        OfficeGuy, so look before creating.
        """
        now = utcnow()
        stale = datetime.fromtimestamp(now.timestamp() - lease_seconds, UTC)
        dead = OrderDocument.claimed_at < stale
        if earlier_tries:
            dead = dead | (OrderDocument.claimed_by.startswith(earlier_tries, autoescape=True)
                           & (OrderDocument.claimed_by != token))
        stmt = (
            update(OrderDocument)
            .where(OrderDocument.store == store, OrderDocument.woo_order_id == woo_order_id,
                   OrderDocument.doc_key == doc_key,
                   or_(OrderDocument.state.in_(OPEN_STATES), (OrderDocument.state == DocumentState.CLAIMED) & dead))
            .values(state=DocumentState.CLAIMED, claimed_by=token, claimed_at=now,
                    attempts=OrderDocument.attempts + 1, updated_at=now)
            .returning(OrderDocument.attempts)
        )
        with self.session() as s, s.begin():
            won = s.execute(stmt).first()
            if won is None:
                return None
            return s.get(OrderDocument, (store, woo_order_id, doc_key))

    def record_document(self, store: str, woo_order_id: int, doc_key: str, token: str, *, document_id: int,
                        document_number: int | None, customer_id: int | None = None, document_type: int | None = None,
                        document_date: str = "", state: str = DocumentState.DOCUMENTED, amount: str = "",
                        order_total: str = "", lines: list[dict] | None = None) -> bool:
        """The call's result, kept only by the run that holds the claim.

        ``amount`` is the document's total; ``order_total`` the order's total it documented (a sale);
        ``lines`` the units the document moved per order line (kept as the documented record)."""
        now = utcnow()
        values: dict[str, Any] = dict(
            state=state, og_document_id=document_id, og_document_number=document_number,
            og_customer_id=customer_id, document_type=document_type, document_date=document_date,
            documented_at=now, last_error="", updated_at=now, amount=amount, order_total=order_total)
        if lines is not None:
            values["lines"] = lines
        stmt = (
            update(OrderDocument)
            .where(OrderDocument.store == store, OrderDocument.woo_order_id == woo_order_id,
                   OrderDocument.doc_key == doc_key, OrderDocument.claimed_by == token,
                   OrderDocument.state == DocumentState.CLAIMED)
            .values(**values)
        )
        with self.session() as s, s.begin():
            return s.execute(stmt).rowcount == 1

    def set_recorded_total(self, store: str, woo_order_id: int, doc_key: str, total: str) -> bool:
        """The total of a document recorded without one (found through the order's meta), set once."""
        with self.session() as s, s.begin():
            return s.execute(update(OrderDocument).where(
                OrderDocument.store == store, OrderDocument.woo_order_id == woo_order_id,
                OrderDocument.doc_key == doc_key, OrderDocument.state == DocumentState.RECORDED,
                OrderDocument.order_total == "").values(order_total=total, amount=total,
                                                       updated_at=utcnow())).rowcount == 1

    def set_document_date(self, store: str, woo_order_id: int, doc_key: str, document_date: str) -> None:
        """Remember the date sent before the call, so a later look-up knows which days to search."""
        with self.session() as s, s.begin():
            s.execute(update(OrderDocument).where(
                OrderDocument.store == store, OrderDocument.woo_order_id == woo_order_id,
                OrderDocument.doc_key == doc_key).values(document_date=document_date))

    def release_document(self, store: str, woo_order_id: int, doc_key: str, token: str, *, error: str,
                         park: bool = False, max_attempts: int = 5) -> str:
        """A failed try: back to ``failed`` (retried by a later run), or ``parked`` with its reason
        when it cannot succeed or has failed ``max_attempts`` times. Returns the new state (``missing``
        when there is no such row)."""
        now = utcnow()
        with self.session() as s, s.begin():
            row = s.get(OrderDocument, (store, woo_order_id, doc_key), with_for_update=True)
            if row is None or row.claimed_by != token or row.state != DocumentState.CLAIMED:
                return row.state if row else "missing"
            row.state = DocumentState.PARKED if park or row.attempts >= max_attempts else DocumentState.FAILED
            row.last_error, row.updated_at = error[:4000], now
            return row.state

    def set_state(self, store: str, woo_order_id: int, doc_key: str, state: str, reason: str = "") -> None:
        with self.session() as s, s.begin():
            s.execute(update(OrderDocument).where(
                OrderDocument.store == store, OrderDocument.woo_order_id == woo_order_id,
                OrderDocument.doc_key == doc_key, OrderDocument.state.in_((*OPEN_STATES, DocumentState.PARKED)))
                .values(state=state, last_error=reason, updated_at=utcnow()))

    def reopen_parked(self, store: str, order_ids: Iterable[int]) -> int:
        """Parked documents of these orders go back to ``pending`` (a person named the orders)."""
        with self.session() as s, s.begin():
            return s.execute(update(OrderDocument).where(
                OrderDocument.store == store, OrderDocument.woo_order_id.in_(list(order_ids)),
                OrderDocument.state == DocumentState.PARKED, OrderDocument.doc_key != "changed")
                .values(state=DocumentState.PENDING, attempts=0, updated_at=utcnow())).rowcount

    def returned_units(self, store: str, order_ids: Iterable[int]) -> dict[int, dict[int, int]]:
        """Per order and order line, the units this project's documented credits put back on cards."""
        units: dict[int, dict[int, int]] = {}
        with self.session() as s:
            rows = s.scalars(select(OrderDocument).where(
                OrderDocument.store == store, OrderDocument.woo_order_id.in_(list(order_ids)),
                OrderDocument.state == DocumentState.DOCUMENTED, OrderDocument.doc_key != "sale"))
            for row in rows:
                for line in row.lines or ():
                    if line.get("line_id"):
                        per_order = units.setdefault(row.woo_order_id, {})
                        per_order[int(line["line_id"])] = per_order.get(int(line["line_id"]), 0) + int(
                            line.get("quantity") or 0)
        return units

    def open_credit_order_ids(self, store: str) -> list[int]:
        """Orders with a refund or cancellation credit not documented yet (its stock is back in Woo)."""
        with self.session() as s:
            return sorted(set(s.scalars(select(OrderDocument.woo_order_id).where(
                OrderDocument.store == store, OrderDocument.doc_key.in_(("cancel",)) | OrderDocument.doc_key.like(
                    "refund:%"), OrderDocument.state.in_(OUTSTANDING_STATES)))))

    def unwritten_order_ids(self, store: str) -> list[int]:
        """Orders with a document whose write-back to the store has not succeeded yet."""
        with self.session() as s:
            return sorted(set(s.scalars(select(OrderDocument.woo_order_id).where(
                OrderDocument.store == store, OrderDocument.state == DocumentState.DOCUMENTED,
                OrderDocument.written_back.is_(False)))))

    def mark_written_back(self, store: str, woo_order_id: int, doc_key: str) -> None:
        with self.session() as s, s.begin():
            s.execute(update(OrderDocument).where(
                OrderDocument.store == store, OrderDocument.woo_order_id == woo_order_id,
                OrderDocument.doc_key == doc_key).values(written_back=True, updated_at=utcnow()))

    def documents(self, store: str, *, order_ids: Iterable[int] | None = None, states: Iterable[str] | None = None,
                  doc_key: str | None = None) -> list[OrderDocument]:
        with self.session() as s:
            query = select(OrderDocument).where(OrderDocument.store == store).order_by(
                OrderDocument.woo_order_id, OrderDocument.doc_key)
            if order_ids is not None:
                query = query.where(OrderDocument.woo_order_id.in_(list(order_ids)))
            if states is not None:
                query = query.where(OrderDocument.state.in_(list(states)))
            if doc_key is not None:
                query = query.where(OrderDocument.doc_key == doc_key)
            return list(s.scalars(query))

    # ----------------------------------------------------------------- pending stock (I3)
    def undocumented_sales(self, store: str) -> list[OrderDocument]:
        """Sale rows without a document yet (their stock left Woo but not OfficeGuy)."""
        return self.documents(store, states=OUTSTANDING_STATES, doc_key="sale")
