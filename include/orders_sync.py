"""The orders flow's steps: WooCommerce orders -> OfficeGuy documents, exactly once (I1), nothing lost (I2).

Plain Python around the ledger and two API clients (the hooks, or anything with the same
methods), so that every step can be tested without Airflow. The operators call these.

The protocol per document (a sale, a refund's credit, a cancellation's credit):
1. ``plan``: a ledger row per needed document, keyed by (store, Woo order id, doc_key).
2. ``ensure_cards``: a product with no OfficeGuy card gets one through ``incomeitems/create``,
   claimed in the item map first, so it is created once (and looked up after an unclear failure).
3. ``create_documents``: claim the row (one conditional UPDATE: overlapping runs cannot both win),
   look the document up by its ``ExternalReference`` when an earlier try may have reached
   OfficeGuy, else create it; record the answer. An unclear failure (timeout, dropped connection,
   5xx) is looked up at once and, if not found, left for the next run, which looks again first.
4. ``write_back``: order meta (``OfficeGuyDocumentID``, the official plugin's key, so the plugin
   never documents the order again) and an order note.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from include.api_http import AmbiguousWriteError, ApiError, BusinessError
from include.ledger import Ledger
from include.order_documents import (
    DocumentRequest,
    DocumentSettings,
    Parked,
    build_credit_document,
    build_document,
    credit_reference,
    external_reference,
    resolve_lines,
)

log = logging.getLogger(__name__)

PLUGIN_META_KEY = "OfficeGuyDocumentID"  # the official plugin's de-duplication key (officeguy-api.md 2.2)
NUMBER_META_KEY = "OfficeGuyDocumentNumber"
SALE = "sale"
DOC_TYPE_NAMES = {0: "Invoice", 1: "InvoiceAndReceipt", 2: "Receipt", 5: "CreditInvoice",
                  6: "CreditInvoiceAndReceipt", 7: "CreditReceipt"}


class OfficeGuyClient(Protocol):
    def create_document(self, payload: dict, *, what: str = ...) -> Any: ...
    def list_documents(self, date_from: date, date_to: date, *, types: list[int] | None = ...,
                       include_drafts: bool = ...) -> list[Any]: ...
    def create_income_item(self, *, name: str, sku: str = ..., external_identifier: str = ...,
                           price: float | None = ..., currency: str = ...) -> int: ...
    def list_income_items(self) -> list[Any]: ...


class WooClient(Protocol):
    def update_order(self, order_id: int, payload: dict) -> dict: ...
    def add_order_note(self, order_id: int, note: str) -> dict: ...
    def list_refunds(self, order_id: int) -> list[dict]: ...


@dataclass
class StepReport:
    """What a step did, small enough for XCom and the log."""

    created: list[dict] = field(default_factory=list)  # {order, doc_key, document_id, number}
    found: list[dict] = field(default_factory=list)  # documents found by ExternalReference, not created again
    parked: list[dict] = field(default_factory=list)  # {order, doc_key, reason}
    failed: list[dict] = field(default_factory=list)  # {order, doc_key, error}: retried by a later run
    skipped: list[dict] = field(default_factory=list)  # {order, reason}
    cards: list[dict] = field(default_factory=list)  # {woo_id, og_item_id, name}

    def as_dict(self) -> dict[str, list[dict]]:
        return {k: v for k, v in self.__dict__.items()}


def doc_key_for_refund(refund_id: int) -> str:
    return f"refund:{refund_id}"


# ----------------------------------------------------------------------------- 1. plan
def plan(orders: Iterable[dict], ledger: Ledger, store: str, *, statuses: Iterable[str]) -> StepReport:
    """A ledger row for every document the orders need; orders the plugin documented are recorded."""
    report = StepReport()
    statuses = set(statuses)
    orders = list(orders)
    existing = {(r.woo_order_id, r.doc_key): r for r in ledger.documents(store, order_ids=[o["id"] for o in orders])}
    rows: list[dict] = []
    for order in orders:
        oid = int(order["id"])
        base = {"store": store, "woo_order_id": oid, "order_number": str(order.get("number") or oid),
                "woo_status": order.get("status", ""), "order_modified_gmt": order.get("date_modified_gmt") or ""}
        sale = existing.get((oid, SALE))
        documented = sale is not None and sale.state in ("documented", "recorded")
        plugin_doc = _meta(order, PLUGIN_META_KEY)
        if not documented and plugin_doc and str(plugin_doc).isdigit():
            # Documented by the official plugin (or by us, with the ledger lost): record, never again.
            rows.append({**base, "doc_key": SALE, "external_reference": external_reference(store, oid),
                         "state": "recorded", "og_document_id": int(plugin_doc),
                         "og_document_number": _int(_meta(order, NUMBER_META_KEY))})
            if sale is None:
                report.skipped.append({"order": oid, "reason": f"already documented in OfficeGuy "
                                       f"(order meta {PLUGIN_META_KEY}={plugin_doc}); recorded"})
            continue
        status = order.get("status", "")
        if status in statuses:
            rows.append({**base, "doc_key": SALE, "external_reference": external_reference(store, oid),
                         "lines": _line_quantities(order)})
        elif (status in ("cancelled", "refunded", "failed") and not documented and sale is not None
              and sale.state in ("pending", "failed", "parked")):
            ledger.set_state(store, oid, SALE, "skipped", f"{status} before it was documented")
            report.skipped.append({"order": oid, "reason": f"{status} before it was documented"})
        if documented:
            for refund in order.get("refunds") or []:
                rid = int(refund["id"])
                rows.append({**base, "doc_key": doc_key_for_refund(rid),
                             "external_reference": credit_reference(store, oid, rid)})
            if status == "cancelled" and not order.get("refunds"):
                rows.append({**base, "doc_key": "cancel", "external_reference": credit_reference(store, oid, "cancel")})
    ledger.ensure_documents(rows)
    return report


# ----------------------------------------------------------------------------- 2. item cards
def ensure_cards(orders: Iterable[dict], ledger: Ledger, store: str, og: OfficeGuyClient,
                 og_items: list[Any]) -> tuple[dict[int, int], StepReport]:
    """Every sold Woo id -> its OfficeGuy item id; cards are created once for the missing ones."""
    report = StepReport()
    item_map = ledger.item_map(store)
    wanted: dict[int, Any] = {}
    found: dict[int, int] = {}
    for order in orders:
        resolution = resolve_lines(order, item_map, og_items)
        found.update(resolution.og_item_ids)
        for card in resolution.needs_card:
            wanted.setdefault(card.woo_id, card)
    for woo_id, og_item_id in found.items():
        if item_map.get(woo_id) != og_item_id:
            ledger.record_card(store, woo_id, og_item_id, source="matched")
    refreshed = False
    for woo_id, card in wanted.items():
        claim = ledger.claim_card(store, woo_id, card.sku)
        if claim is None:
            continue  # made by another run (or being made): the next run picks it up from the map
        if claim.needs_lookup:
            if not refreshed:
                og_items, refreshed = og.list_income_items(), True
            existing = sorted(i.id for i in og_items if i.external_identifier == str(woo_id))
            if existing:
                ledger.record_card(store, woo_id, existing[0], sku=card.sku)
                found[woo_id] = existing[0]
                continue
        try:
            og_item_id = og.create_income_item(name=card.name, sku=card.sku, external_identifier=card.external_identifier,
                                               price=card.price, currency=card.currency)
        except AmbiguousWriteError as exc:
            ledger.release_card(store, woo_id, ambiguous=True)
            report.failed.append({"woo_id": woo_id, "error": str(exc)})
            continue
        except ApiError as exc:
            ledger.release_card(store, woo_id, ambiguous=False)
            report.failed.append({"woo_id": woo_id, "error": str(exc)})
            continue
        ledger.record_card(store, woo_id, og_item_id, sku=card.sku)
        found[woo_id] = og_item_id
        report.cards.append({"woo_id": woo_id, "og_item_id": og_item_id, "name": card.name, "sku": card.sku})
    return {**ledger.item_map(store), **found}, report


# ----------------------------------------------------------------------------- 3. documents
@dataclass
class DocumentContext:
    ledger: Ledger
    store: str
    og: OfficeGuyClient
    woo: WooClient | None
    settings: DocumentSettings
    token: str
    today: date
    max_attempts: int = 5
    lease_seconds: float = 900


def create_documents(orders: Iterable[dict], item_ids: Mapping[int, int], ctx: DocumentContext) -> StepReport:
    """Create every open document of these orders, exactly once each."""
    report = StepReport()
    by_id = {int(o["id"]): o for o in orders}
    rows = ctx.ledger.documents(ctx.store, order_ids=list(by_id), states=("pending", "failed", "claimed"))
    # sales first: a credit needs its original's document id
    for row in sorted(rows, key=lambda r: (r.doc_key != SALE, r.woo_order_id)):
        _one_document(by_id[row.woo_order_id], row.doc_key, item_ids, ctx, report)
    return report


def _one_document(order: dict, doc_key: str, item_ids: Mapping[int, int], ctx: DocumentContext,
                  report: StepReport) -> None:
    oid = int(order["id"])
    original = None
    if doc_key != SALE:
        sale = ctx.ledger.documents(ctx.store, order_ids=[oid], doc_key=SALE)
        original = sale[0] if sale and sale[0].og_document_id else None
        if original is None:
            return  # nothing to credit yet
    claim = ctx.ledger.claim_document(ctx.store, oid, doc_key, ctx.token, lease_seconds=ctx.lease_seconds)
    if claim is None:
        return  # another run holds it, or it is done
    request = _build(order, doc_key, item_ids, ctx, original)
    if isinstance(request, Parked):
        ctx.ledger.release_document(ctx.store, oid, doc_key, ctx.token, error=request.reason, park=True)
        report.parked.append({"order": oid, "doc_key": doc_key, "reason": request.reason})
        return
    doc_date = request.payload["Details"].get("Date") or ctx.today.isoformat()
    if claim.attempts > 1 and _look_up(request, claim.document_date or doc_date, ctx, report, doc_key):
        return
    ctx.ledger.set_document_date(ctx.store, oid, doc_key, doc_date)
    what = f"create {DOC_TYPE_NAMES.get(request.payload['Details']['Type'], 'document')} for order #{order.get('number', oid)}"
    try:
        created = ctx.og.create_document(request.payload, what=what)
    except AmbiguousWriteError as exc:
        # It may exist: look now; if it does not show, the next run looks again before creating.
        if _look_up(request, doc_date, ctx, report, doc_key):
            return
        state = ctx.ledger.release_document(ctx.store, oid, doc_key, ctx.token, error=str(exc),
                                            max_attempts=ctx.max_attempts)
        _failed(report, oid, doc_key, str(exc), state)
        return
    except BusinessError as exc:
        state = ctx.ledger.release_document(ctx.store, oid, doc_key, ctx.token, error=str(exc),
                                            max_attempts=ctx.max_attempts)
        _failed(report, oid, doc_key, str(exc), state)
        return
    except ApiError as exc:  # transient, retries exhausted: nothing was created
        state = ctx.ledger.release_document(ctx.store, oid, doc_key, ctx.token, error=str(exc),
                                            max_attempts=ctx.max_attempts)
        _failed(report, oid, doc_key, str(exc), state)
        return
    ctx.ledger.record_document(ctx.store, oid, doc_key, ctx.token, document_id=created.document_id,
                               document_number=created.document_number, customer_id=created.customer_id,
                               document_type=request.payload["Details"]["Type"], document_date=doc_date)
    report.created.append({"order": oid, "number": order.get("number"), "doc_key": doc_key,
                           "document_id": created.document_id, "document_number": created.document_number,
                           "date_replaced": request.date_replaced})


def _build(order: dict, doc_key: str, item_ids: Mapping[int, int], ctx: DocumentContext,
           original) -> DocumentRequest | Parked:
    if doc_key == SALE:
        return build_document(order, store=ctx.store, settings=ctx.settings, og_item_ids=item_ids, today=ctx.today)
    refund = None
    if doc_key.startswith("refund:"):
        rid = int(doc_key.split(":", 1)[1])
        refund = next((r for r in _refunds(order, ctx) if int(r["id"]) == rid), None)
        if refund is None:
            return Parked(int(order["id"]), f"refund {rid} is no longer in WooCommerce; check the order's refunds")
    return build_credit_document(order, store=ctx.store, settings=ctx.settings,
                                 original_document_id=original.og_document_id, refund=refund,
                                 og_item_ids=item_ids, today=ctx.today)


def _refunds(order: dict, ctx: DocumentContext) -> list[dict]:
    """The order's full refund objects (the order lists only id/reason/total)."""
    cache = order.setdefault("_refund_objects", None)
    if cache is None:
        cache = ctx.woo.list_refunds(int(order["id"])) if ctx.woo is not None else []
        order["_refund_objects"] = cache
    return cache


def _look_up(request: DocumentRequest, doc_date: str, ctx: DocumentContext, report: StepReport, doc_key: str) -> bool:
    """Find the document by its ExternalReference over a window around its date (documents/list
    cannot filter by it, officeguy-api.md 1.5d); record it when found."""
    day = date.fromisoformat(doc_date)
    start, end = min(day, ctx.today) - timedelta(days=1), max(day, ctx.today) + timedelta(days=1)
    doc_type = request.payload["Details"]["Type"]
    matches = [d for d in ctx.og.list_documents(start, end, types=[doc_type])
               if d.external_reference == request.external_reference]
    if not matches:
        return False
    doc = matches[0]
    ctx.ledger.record_document(ctx.store, request.order_id, doc_key, ctx.token, document_id=doc.document_id,
                               document_number=doc.document_number, document_type=doc_type, document_date=doc.date[:10])
    report.found.append({"order": request.order_id, "doc_key": doc_key, "document_id": doc.document_id,
                         "document_number": doc.document_number})
    if len(matches) > 1:
        log.error("Order %s has %d OfficeGuy documents with reference %s (%s): cancel the extra ones in OfficeGuy.",
                  request.order_id, len(matches), request.external_reference, [d.document_id for d in matches])
    return True


def _failed(report: StepReport, oid: int, doc_key: str, error: str, state: str) -> None:
    entry = {"order": oid, "doc_key": doc_key, "error": error}
    if state == "parked":
        report.parked.append({"order": oid, "doc_key": doc_key, "reason": error})
    else:
        report.failed.append(entry)


# ----------------------------------------------------------------------------- 4. write-back
def write_back(ledger: Ledger, store: str, woo: WooClient, *, add_note: bool, order_ids: Iterable[int]) -> StepReport:
    """Tell the store which document each order got: meta (the plugin's key) and a note."""
    report = StepReport()
    rows = ledger.documents(store, order_ids=list(order_ids), states=("documented",))
    for row in rows:
        if row.written_back:
            continue
        kind = DOC_TYPE_NAMES.get(row.document_type or 1, "document")
        try:
            if row.doc_key == SALE:
                woo.update_order(row.woo_order_id, {"meta_data": [
                    {"key": PLUGIN_META_KEY, "value": str(row.og_document_id)},
                    {"key": NUMBER_META_KEY, "value": str(row.og_document_number or "")},
                ]})
            if add_note:
                woo.add_order_note(row.woo_order_id, f"OfficeGuy {kind} #{row.og_document_number} created "
                                   f"(document id {row.og_document_id}) by the stock sync.")
        except ApiError as exc:
            report.failed.append({"order": row.woo_order_id, "doc_key": row.doc_key,
                                  "error": f"write-back to WooCommerce failed: {exc}; retried next run"})
            continue
        ledger.mark_written_back(store, row.woo_order_id, row.doc_key)
    return report


# ----------------------------------------------------------------------------- helpers
def _meta(order: dict, key: str) -> Any:
    for m in order.get("meta_data") or []:
        if m.get("key") == key:
            return m.get("value")
    return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _line_quantities(order: dict) -> list[dict]:
    return [{"product_id": int(li.get("product_id") or 0), "variation_id": int(li.get("variation_id") or 0),
             "quantity": li.get("quantity") or 0} for li in order.get("line_items") or []]


def before_go_live(data_interval: tuple[datetime | None, datetime | None] | None, go_live: date) -> str | None:
    """The refusal for a run (a backfill) whose whole window lies before the go-live date, else None.

    Airflow creates backfill runs before a DAG's start date, so the DAG refuses them itself: orders
    from before go-live were documented some other way (often by the official plugin)."""
    if not data_interval or not data_interval[1]:
        return None
    go_live_start = datetime(go_live.year, go_live.month, go_live.day, tzinfo=UTC)
    if data_interval[1] > go_live_start:
        return None
    return (f"Refused: this run covers {data_interval[0]:%Y-%m-%d %H:%M} to {data_interval[1]:%Y-%m-%d %H:%M} UTC, "
            f"before the go-live date {go_live} (STOCK_SYNC_GO_LIVE). Orders from before go-live are not documented "
            "by this pipeline; back-fill only ranges after it, or move the go-live date if you really mean it.")


def window(data_interval: tuple[datetime, datetime] | None, *, watermark: datetime | None, run_after: datetime,
           go_live: date, overlap: timedelta) -> tuple[datetime, datetime]:
    """The modified-time window a run reads: its data interval (scheduled runs and backfills), else
    from the stored watermark (manual runs have no interval, airflow-notes.md) to ``run_after``;
    always reaching back by ``overlap`` and never before go-live."""
    go_live_start = datetime(go_live.year, go_live.month, go_live.day, tzinfo=UTC)
    if data_interval and data_interval[0] and data_interval[1] and data_interval[1] > data_interval[0]:
        start, end = data_interval
    else:
        start, end = (watermark or go_live_start), run_after
    return max(go_live_start, start - overlap), end

