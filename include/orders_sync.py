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

from officeguy_woocommerce.common.http import AmbiguousWriteError, ApiError, BusinessError
from officeguy_woocommerce.include.documents import (
    DocumentRequest,
    DocumentSettings,
    NotCredited,
    Parked,
    StoreTax,
    build_credit_document,
    build_document,
    build_receipt_document,
    credit_reference,
    external_reference,
    receipt_reference,
    resolve_lines,
)
from officeguy_woocommerce.include.ledger import DocumentState, Ledger
from officeguy_woocommerce.include.officeguy_codes import DOCUMENT_TYPE_NAMES, DocumentType

log = logging.getLogger(__name__)

PLUGIN_META_KEY = "OfficeGuyDocumentID"  # the official plugin's de-duplication key (officeguy-api.md 2.2)
NUMBER_META_KEY = "OfficeGuyDocumentNumber"
SALE = "sale"
RECEIPT = "receipt"  # the Receipt for cash collected on an order invoiced at payment (gateway rule)
CANCEL = "cancel"
CHANGED = "changed"  # a parked marker: the order was edited after its sale document
DOC_TYPE_NAMES = DOCUMENT_TYPE_NAMES
DONE = (DocumentState.DOCUMENTED, DocumentState.RECORDED)
OPEN_OR_CLAIMED = (DocumentState.PENDING, DocumentState.FAILED, DocumentState.CLAIMED)  # a run may act on these
NEVER_PARK = 10**9  # passing causes (outages, a card not made yet) are retried every run, never parked
UNPAID_NOW = ("cancelled", "refunded", "failed")  # a sale is never created for an order in these


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
    # plan: orders whose sale the ledger had as documented or recorded before this run (not documented again)
    already_documented: list[dict] = field(default_factory=list)  # {order, number, document_number, state}

    def as_dict(self) -> dict[str, list[dict]]:
        return {k: v for k, v in self.__dict__.items()}


def doc_key_for_refund(refund_id: int) -> str:
    return f"refund:{refund_id}"


# ----------------------------------------------------------------------------- 1. plan
def plan(orders: Iterable[dict], ledger: Ledger, store: str, *, statuses: Iterable[str],
         settings: DocumentSettings | None = None) -> StepReport:
    """A ledger row for every document the orders need; orders the plugin documented are recorded.

    Per order: the sale (paid statuses), a Receipt when an order invoiced under a gateway rule is
    completed, a credit per refund and one for a cancellation once the sale is documented. An order
    whose total or lines changed after its sale document is reported and parked (``changed``): a
    second sale document is never issued (I8)."""
    settings = settings or DocumentSettings()
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
        documented = sale is not None and sale.state in DONE
        if documented:
            report.already_documented.append({"order": oid, "number": base["order_number"],
                                              "document_number": sale.og_document_number, "state": str(sale.state)})
        plugin_doc = _meta(order, PLUGIN_META_KEY)
        status = order.get("status", "")
        if not documented and plugin_doc and str(plugin_doc).isdigit():
            # Documented by the official plugin (or by us, with the ledger lost): record, never again.
            rows.append({**base, "doc_key": SALE, "external_reference": external_reference(store, oid),
                         "state": DocumentState.RECORDED, "og_document_id": int(plugin_doc),
                         "og_document_number": _int(_meta(order, NUMBER_META_KEY)), "lines": _line_quantities(order)})
            if sale is None:
                report.skipped.append({"order": oid, "reason": f"already documented in OfficeGuy "
                                       f"(order meta {PLUGIN_META_KEY}={plugin_doc}); recorded"})
            documented = True
        elif status in statuses:
            rows.append({**base, "doc_key": SALE, "external_reference": external_reference(store, oid),
                         "lines": _line_quantities(order)})
        elif status in UNPAID_NOW and not documented:
            if sale is None or (sale.state in (DocumentState.FAILED, DocumentState.CLAIMED) and sale.attempts):
                # Its sale may be in OfficeGuy though neither the ledger nor the order says so (a try
                # that may have reached OfficeGuy; a ledger lost while a write-back had failed): the
                # documents step looks the reference up once, records it if found, else skips it.
                rows.append({**base, "doc_key": SALE, "external_reference": external_reference(store, oid),
                             "lines": _line_quantities(order)})
            elif sale.state in (DocumentState.PENDING, DocumentState.FAILED, DocumentState.PARKED):
                ledger.set_state(store, oid, SALE, DocumentState.SKIPPED, f"{status} before it was documented")
                report.skipped.append({"order": oid, "reason": f"{status} before it was documented"})
        if not documented:
            continue
        if sale is not None and sale.state in DONE:
            _check_unchanged(order, sale, existing.get((oid, CHANGED)), base, rows, report)
        sale_type = sale.document_type if sale is not None and sale.document_type is not None else None
        if (status == "completed" and sale_type == DocumentType.INVOICE
                and settings.sale_type_for(order) == DocumentType.INVOICE
                and _text(order.get("payment_method")) in settings.gateway_rules):
            rows.append({**base, "doc_key": RECEIPT, "external_reference": receipt_reference(store, oid)})
        for refund in order.get("refunds") or []:
            rid = int(refund["id"])
            rows.append({**base, "doc_key": doc_key_for_refund(rid),
                         "external_reference": credit_reference(store, oid, rid)})
        if status == "cancelled":
            rows.append({**base, "doc_key": CANCEL, "external_reference": credit_reference(store, oid, "cancel")})
    ledger.ensure_documents(rows)
    return report


def _check_unchanged(order: dict, sale: Any, marker: Any, base: dict, rows: list[dict], report: StepReport) -> None:
    """Report and park an order whose total or lines differ from what its sale document recorded."""
    if not sale.order_total:
        return  # documented before the ledger kept totals: nothing to compare with
    before, now = str(sale.order_total), str(order.get("total") or "")
    changes = []
    if _decimal(before) != _decimal(now):
        changes.append(f"total {before} when documented, {now} now")
    if _units(sale.lines) != _units(_line_quantities(order)):
        changes.append("its lines or quantities differ")
    if not changes:
        return
    if marker is not None and marker.state == DocumentState.PARKED and marker.order_modified_gmt == base["order_modified_gmt"]:
        return  # already reported for this version of the order
    reason = (f"changed after it was documented (OfficeGuy document #{sale.og_document_number}): "
              f"{'; '.join(changes)}. A second sale document is never issued: issue a credit or a new "
              "document by hand in OfficeGuy, or undo the edit in WooCommerce")
    rows.append({**base, "doc_key": CHANGED, "external_reference": external_reference(base["store"],
                                                                                     base["woo_order_id"]),
                 "state": DocumentState.PARKED, "last_error": reason, "reopen": False})
    report.parked.append({"order": base["woo_order_id"], "doc_key": CHANGED, "reason": reason})


def _decimal(value: Any) -> Any:
    from decimal import Decimal, InvalidOperation

    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return str(value)


def _units(lines: Iterable[dict] | None) -> dict[tuple[int, int], int]:
    units: dict[tuple[int, int], int] = {}
    for line in lines or ():
        key = (int(line.get("product_id") or 0), int(line.get("variation_id") or 0))
        quantity = int(line.get("quantity") or 0)
        if quantity > 0:
            units[key] = units.get(key, 0) + quantity
    return units


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


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
                _serve(ledger, store, card, existing[0], found)
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
        _serve(ledger, store, card, og_item_id, found)
        report.cards.append({"woo_id": woo_id, "og_item_id": og_item_id, "name": card.name, "sku": card.sku})
    return {**ledger.item_map(store), **found}, report


def _serve(ledger: Ledger, store: str, card: Any, og_item_id: int, found: dict[int, int]) -> None:
    """The variations whose parent holds their stock use the parent's new card (recorded in the map)."""
    for variation_id in getattr(card, "serves", ()):
        ledger.record_card(store, variation_id, og_item_id, source="matched")
        found[variation_id] = og_item_id


def stock_holder_parents(orders: Iterable[dict]) -> dict[int, list[int]]:
    """Parent id -> the variation ids sold in these orders: the variations whose stock mode must be
    read (a variation whose parent manages its stock sells from the parent's stock)."""
    parents: dict[int, list[int]] = {}
    for order in orders:
        for line in order.get("line_items") or ():
            parent, variation = _int(line.get("product_id")) or 0, _int(line.get("variation_id")) or 0
            if parent and variation and variation not in parents.setdefault(parent, []):
                parents[parent].append(variation)
    return parents


def mark_stock_holders(orders: Iterable[dict], parent_managed: Mapping[int, int]) -> int:
    """Mark each line of a variation whose parent manages its stock (``parent_managed``: variation id
    -> parent id) with the parent's id, the Woo id that holds its stock (resolve_lines uses the
    parent's card). Returns the lines marked."""
    from officeguy_woocommerce.include.documents import STOCK_HOLDER_KEY

    marked = 0
    for order in orders:
        for line in order.get("line_items") or ():
            parent = parent_managed.get(_int(line.get("variation_id")) or 0)
            if parent:
                line[STOCK_HOLDER_KEY] = int(parent)
                marked += 1
    return marked


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
    store_tax: StoreTax = field(default_factory=StoreTax)
    # claims held by this prefix are this task instance's earlier (dead) tries: taken over at once
    earlier_tries: str = ""
    known_references: _KnownReferences = field(default_factory=lambda: _KnownReferences())


def _doc_order(doc_key: str, order: dict | None = None, rows: Iterable[Any] = (),
               ctx: DocumentContext | None = None) -> tuple[int, str, int]:
    """Sale first (a credit needs its original); the refunds by id and the receipt in the order they
    happened (a refund before the cash was collected is credited before the Receipt, so the Receipt
    collects what was left and the credit pays back no cash); the cancellation last (it credits what
    the refunds left)."""
    if doc_key == SALE:
        return 0, "", 0
    if doc_key == CANCEL:
        return 2, "", 0
    if doc_key == RECEIPT:
        # on a tie (the same second) the refund goes first: the cash collected is what it left
        return 1, str((order or {}).get("date_completed_gmt") or "9999"), 1 << 62
    refund_id = int(doc_key.split(":", 1)[1])
    when = ""
    if order is not None and ctx is not None and any(r.doc_key == RECEIPT for r in rows
                                                     if r.woo_order_id == int(order["id"])):
        when = next((str(r.get("date_created_gmt") or "") for r in _refunds(order, ctx)
                     if int(r["id"]) == refund_id), "")
    return 1, when, refund_id


def create_documents(orders: Iterable[dict], item_ids: Mapping[int, int], ctx: DocumentContext) -> StepReport:
    """Create every open document of these orders, exactly once each."""
    report = StepReport()
    by_id = {int(o["id"]): o for o in orders}
    _total_recorded_sales(by_id, ctx, report)
    rows = ctx.ledger.documents(ctx.store, order_ids=list(by_id), states=OPEN_OR_CLAIMED)
    for row in sorted(rows, key=lambda r: (r.woo_order_id, _doc_order(r.doc_key, by_id[r.woo_order_id], rows, ctx))):
        if row.doc_key == CHANGED:
            continue
        _one_document(by_id[row.woo_order_id], row.doc_key, item_ids, ctx, report)
    return report


def _total_recorded_sales(by_id: Mapping[int, dict], ctx: DocumentContext, report: StepReport) -> None:
    """Sales recorded from the order's ``OfficeGuyDocumentID`` meta (the ledger lost, or the official
    plugin documented them) get the total OfficeGuy holds, read from the run's reference scan (the
    order's current total when OfficeGuy has no document under our reference: the plugin's own). An
    order edited before it was recorded is reported as changed now; one edited later, by the next
    run's plan (I8: a second sale document is never issued)."""
    rows = [r for r in ctx.ledger.documents(ctx.store, order_ids=list(by_id), states=[DocumentState.RECORDED])
            if r.doc_key == SALE and not r.order_total]
    for row in rows:
        order = by_id[row.woo_order_id]
        try:
            known = ctx.known_references.find(row.external_reference, _order_day(order) or ctx.today, ctx)
        except ApiError as exc:
            log.warning("Order %s: could not read its OfficeGuy document's total (%s); the order's current total "
                        "is kept as the documented one", row.woo_order_id, exc)
            known = None
        value = _value(known) if known is not None and known.document_id == row.og_document_id else None
        total = f"{value:.2f}" if value is not None else f"{_decimal(order.get('total') or 0)}"
        if not ctx.ledger.set_recorded_total(ctx.store, row.woo_order_id, SALE, total):
            continue  # a concurrent run set it first
        row.order_total = total
        base = {"store": ctx.store, "woo_order_id": row.woo_order_id, "order_number": row.order_number,
                "woo_status": order.get("status", ""), "order_modified_gmt": order.get("date_modified_gmt") or ""}
        marker_rows: list[dict] = []
        _check_unchanged(order, row, None, base, marker_rows, report)
        ctx.ledger.ensure_documents(marker_rows)


class _KnownReferences:
    """Every ExternalReference OfficeGuy holds around the run's document dates, read once per run.

    A document whose ledger row is new may still exist in OfficeGuy: the ledger was lost or
    restored from a backup while a write-back had failed, so the order carries no
    ``OfficeGuyDocumentID`` either. Before the first try of any document, its reference is
    looked up here (one ``documents/list`` scan per run, not one per order)."""

    def __init__(self) -> None:
        self._span: tuple[date, date] | None = None
        self._found: dict[str, Any] = {}

    def find(self, reference: str, doc_date: date, ctx: DocumentContext) -> Any:
        start, end = min(doc_date, ctx.today) - timedelta(days=1), max(doc_date, ctx.today) + timedelta(days=1)
        if self._span is None or start < self._span[0] or end > self._span[1]:
            start = min(start, self._span[0]) if self._span else start
            end = max(end, self._span[1]) if self._span else end
            self._found = {d.external_reference: d for d in ctx.og.list_documents(start, end)
                           if getattr(d, "external_reference", None)}
            self._span = (start, end)
        return self._found.get(reference)


def _one_document(order: dict, doc_key: str, item_ids: Mapping[int, int], ctx: DocumentContext,
                  report: StepReport) -> None:
    oid = int(order["id"])
    history = {r.doc_key: r for r in ctx.ledger.documents(ctx.store, order_ids=[oid])}
    sale = history.get(SALE)
    if doc_key != SALE and (sale is None or sale.state not in DONE or not sale.og_document_id):
        return  # nothing to credit or collect yet
    claim = ctx.ledger.claim_document(ctx.store, oid, doc_key, ctx.token, lease_seconds=ctx.lease_seconds,
                                      earlier_tries=ctx.earlier_tries)
    if claim is None:
        return  # another run holds it, or it is done
    if doc_key == SALE and str(order.get("status") or "") in UNPAID_NOW:
        _recover_or_skip(order, ctx, report)
        return
    waiting = _cards_missing(order, item_ids) if doc_key in (SALE, CANCEL) or doc_key.startswith("refund:") else []
    if waiting:
        # The card could not be made this run (OfficeGuy down, a 5xx): a passing cause, never parked.
        error = (f"waiting for the OfficeGuy item card of Woo product(s) {', '.join(map(str, waiting))}; "
                 "its creation is retried next run")
        ctx.ledger.release_document(ctx.store, oid, doc_key, ctx.token, error=error, max_attempts=NEVER_PARK)
        report.failed.append({"order": oid, "doc_key": doc_key, "error": error})
        return
    try:
        request = _build(order, doc_key, item_ids, ctx, history)
    except ApiError as exc:  # e.g. the order's refunds could not be read: this order waits, the others go on
        error = f"could not read what the document needs from WooCommerce: {exc}; retried next run"
        ctx.ledger.release_document(ctx.store, oid, doc_key, ctx.token, error=error, max_attempts=NEVER_PARK)
        report.failed.append({"order": oid, "doc_key": doc_key, "error": error})
        return
    if isinstance(request, NotCredited):
        ctx.ledger.release_document(ctx.store, oid, doc_key, ctx.token, error=request.reason, park=True)
        ctx.ledger.set_state(ctx.store, oid, doc_key, DocumentState.SKIPPED, request.reason)
        report.skipped.append({"order": oid, "doc_key": doc_key, "reason": request.reason})
        return
    if isinstance(request, Parked):
        ctx.ledger.release_document(ctx.store, oid, doc_key, ctx.token, error=request.reason, park=True)
        report.parked.append({"order": oid, "doc_key": doc_key, "reason": request.reason})
        return
    doc_date = request.payload["Details"].get("Date") or ctx.today.isoformat()
    if claim.attempts > 1 and _look_up(request, claim.document_date or doc_date, ctx, report, doc_key):
        return
    if claim.attempts == 1:
        since = min(date.fromisoformat(doc_date), _order_day(order) or ctx.today)
        known = ctx.known_references.find(request.external_reference, since, ctx)
        if known is not None:
            _record(request, doc_key, ctx, known.document_id, known.document_number,
                    getattr(known, "customer_id", None), str(known.date)[:10], found_value=_value(known))
            report.found.append({"order": oid, "doc_key": doc_key, "document_id": known.document_id,
                                 "document_number": known.document_number})
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
                                            max_attempts=NEVER_PARK)
        _failed(report, oid, doc_key, str(exc), state)
        return
    except BusinessError as exc:  # OfficeGuy refused it: parked after max_attempts refusals
        state = ctx.ledger.release_document(ctx.store, oid, doc_key, ctx.token, error=str(exc),
                                            max_attempts=ctx.max_attempts)
        _failed(report, oid, doc_key, str(exc), state)
        return
    except ApiError as exc:  # transient, retries exhausted (an outage): nothing was created; never parked
        state = ctx.ledger.release_document(ctx.store, oid, doc_key, ctx.token, error=str(exc),
                                            max_attempts=NEVER_PARK)
        _failed(report, oid, doc_key, str(exc), state)
        return
    _record(request, doc_key, ctx, created.document_id, created.document_number, created.customer_id,
            doc_date)
    report.created.append({"order": oid, "number": order.get("number"), "doc_key": doc_key,
                           "document_id": created.document_id, "document_number": created.document_number,
                           "date_replaced": request.date_replaced, "total": request.total, "vat": request.vat})


def _recover_or_skip(order: dict, ctx: DocumentContext, report: StepReport) -> None:
    """A cancelled, refunded or failed order gets no sale document; but one may already be in OfficeGuy
    (made by an earlier try whose record or write-back was lost). Found by its reference: recorded,
    so the cancellation or refund is credited. Not found: skipped, for good."""
    oid, status = int(order["id"]), str(order.get("status") or "")
    reference = external_reference(ctx.store, oid)
    try:
        known = ctx.known_references.find(reference, _order_day(order) or ctx.today, ctx)
    except ApiError as exc:  # OfficeGuy unreachable: look again next run
        error = f"order is {status}; could not check OfficeGuy for an earlier sale document: {exc}; retried next run"
        ctx.ledger.release_document(ctx.store, oid, SALE, ctx.token, error=error, max_attempts=NEVER_PARK)
        report.failed.append({"order": oid, "doc_key": SALE, "error": error})
        return
    if known is None:
        reason = f"{status} before it was documented"
        ctx.ledger.release_document(ctx.store, oid, SALE, ctx.token, error=reason, park=True)
        ctx.ledger.set_state(ctx.store, oid, SALE, DocumentState.SKIPPED, reason)
        report.skipped.append({"order": oid, "reason": reason})
        return
    value = f"{_value(known):.2f}" if _value(known) is not None else ""
    ctx.ledger.record_document(
        ctx.store, oid, SALE, ctx.token, document_id=known.document_id, document_number=known.document_number,
        customer_id=getattr(known, "customer_id", None), document_type=known.type, document_date=str(known.date)[:10],
        amount=value, order_total=value, lines=_stock_lines(order))
    report.found.append({"order": oid, "doc_key": SALE, "document_id": known.document_id,
                         "document_number": known.document_number})


def _stock_lines(order: dict) -> list[dict]:
    """The units per order line, as a sale document records them (lines with a product and units)."""
    lines = []
    for li in order.get("line_items") or ():
        quantity = _int(li.get("quantity")) or 0
        if int(li.get("product_id") or 0) and quantity > 0:
            lines.append({"line_id": int(li.get("id") or 0), "product_id": int(li.get("product_id") or 0),
                          "variation_id": int(li.get("variation_id") or 0), "quantity": quantity})
    return lines


def _order_day(order: dict) -> date | None:
    """The UTC day the order was paid (else created): a document for it is dated no earlier."""
    for key in ("date_paid_gmt", "date_created_gmt"):
        try:
            return datetime.fromisoformat(str(order.get(key) or "")[:19]).date()
        except ValueError:
            continue
    return None


def _cards_missing(order: dict, item_ids: Mapping[int, int]) -> list[int]:
    """Woo ids of the order's product lines that have no OfficeGuy card (yet)."""
    known = {int(k) for k in item_ids}
    missing = []
    for line in order.get("line_items") or ():
        if not int(line.get("product_id") or 0):
            continue  # no product at all: the builder parks that, a person must fix it
        woo_id = int(line.get("variation_id") or 0) or int(line["product_id"])
        if woo_id not in known and woo_id not in missing:
            missing.append(woo_id)
    return missing


def _record(request: DocumentRequest, doc_key: str, ctx: DocumentContext, document_id: int,
            number: int | None, customer_id: int | None, doc_date: str, *, found_value: float | None = None) -> None:
    """Keep the document in the ledger. A document found by its reference (``found_value``: its total
    in OfficeGuy) is recorded with OfficeGuy's total, not the order's current one: an order edited
    between the lost record and the look-up is then reported as changed (its sale amount also caps
    the credits, I8)."""
    total = f"{found_value if found_value is not None else request.total:.2f}"
    ctx.ledger.record_document(
        ctx.store, request.order_id, doc_key, ctx.token, document_id=document_id, document_number=number,
        customer_id=customer_id, document_type=request.payload["Details"]["Type"], document_date=doc_date,
        amount=total, order_total=total if doc_key == SALE else "",
        lines=[dict(line) for line in request.stock_lines])


def _build(order: dict, doc_key: str, item_ids: Mapping[int, int], ctx: DocumentContext,
           history: Mapping[str, Any]) -> DocumentRequest | Parked | NotCredited:
    if doc_key == SALE:
        return build_document(order, store=ctx.store, settings=ctx.settings, og_item_ids=item_ids, today=ctx.today,
                              store_tax=ctx.store_tax)
    sale = history[SALE]
    credits = [r for key, r in history.items() if (key == CANCEL or key.startswith("refund:")) and r.state in DONE]
    credited = sum((float(r.amount or 0) for r in credits), 0.0)
    if doc_key == RECEIPT:
        return build_receipt_document(order, store=ctx.store, settings=ctx.settings,
                                      original_document_id=sale.og_document_id, customer_id=sale.og_customer_id,
                                      today=ctx.today, credited=f"{credited:.2f}")
    refund = None
    if doc_key.startswith("refund:"):
        rid = int(doc_key.split(":", 1)[1])
        refund = next((r for r in _refunds(order, ctx) if int(r["id"]) == rid), None)
        if refund is None:
            return Parked(int(order["id"]), f"refund {rid} is no longer in WooCommerce; check the order's refunds")
    returned: dict[int, int] = {}
    for row in credits:
        for line in row.lines or ():
            if line.get("line_id"):
                returned[int(line["line_id"])] = returned.get(int(line["line_id"]), 0) + int(line.get("quantity") or 0)
    credited_refunds = {int(key.split(":", 1)[1]) for key, r in history.items()
                        if key.startswith("refund:") and r.state in DONE}
    prior = [r for r in _refunds(order, ctx) if int(r["id"]) in credited_refunds] if refund is None else []
    receipt = history.get(RECEIPT)
    original_type = sale.document_type
    if original_type == DocumentType.INVOICE and receipt is not None and receipt.state in DONE:
        original_type = DocumentType.INVOICE_AND_RECEIPT  # the cash was collected: the credit pays it back
    cancel = history.get(CANCEL)
    return build_credit_document(
        order, store=ctx.store, settings=ctx.settings, original_document_id=sale.og_document_id, refund=refund,
        og_item_ids=item_ids, today=ctx.today, original_type=original_type if original_type in (0, 1, 2) else None,
        prior_refunds=prior, store_tax=ctx.store_tax, customer_id=sale.og_customer_id,
        sale_amount=sale.amount or None, credited=f"{credited:.2f}", returned_units=returned,
        cancellation_credited=cancel is not None and cancel.state in DONE,
        sold_units={int(ln["line_id"]): int(ln.get("quantity") or 0) for ln in sale.lines or () if ln.get("line_id")}
        if sale.state == DocumentState.DOCUMENTED else None)


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
    _record(request, doc_key, ctx, doc.document_id, doc.document_number, getattr(doc, "customer_id", None),
            doc.date[:10], found_value=_value(doc))
    report.found.append({"order": request.order_id, "doc_key": doc_key, "document_id": doc.document_id,
                         "document_number": doc.document_number})
    if len(matches) > 1:
        log.error("Order %s has %d OfficeGuy documents with reference %s (%s): cancel the extra ones in OfficeGuy.",
                  request.order_id, len(matches), request.external_reference, [d.document_id for d in matches])
    return True


def _value(doc: Any) -> float | None:
    """A found document's total as OfficeGuy keeps it (credits are stored negative): its size."""
    value = getattr(doc, "value", None)
    return abs(float(value)) if isinstance(value, int | float) else None


def _failed(report: StepReport, oid: int, doc_key: str, error: str, state: str) -> None:
    entry = {"order": oid, "doc_key": doc_key, "error": error}
    if state == DocumentState.PARKED:
        report.parked.append({"order": oid, "doc_key": doc_key, "reason": error})
    else:
        report.failed.append(entry)


# ----------------------------------------------------------------------------- 4. write-back
def write_back(ledger: Ledger, store: str, woo: WooClient, *, add_note: bool, order_ids: Iterable[int]) -> StepReport:
    """Tell the store which document each order got: meta (the plugin's key) and a note."""
    report = StepReport()
    rows = ledger.documents(store, order_ids=list(order_ids), states=(DocumentState.DOCUMENTED,))
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
    begin = f"{data_interval[0].astimezone(UTC):%Y-%m-%d %H:%M}" if data_interval[0] else "the beginning"
    return (f"Refused: this run covers {begin} to {data_interval[1].astimezone(UTC):%Y-%m-%d %H:%M} UTC, "
            f"before the go-live date {go_live} (STOCK_SYNC_GO_LIVE). Orders from before go-live are not documented "
            "by this pipeline; back-fill only ranges after it, or move the go-live date if you really mean it.")


def orders_to_read(*, named: Iterable[int], data_interval: tuple[datetime | None, datetime | None] | None,
                   run_type: str, run_after: datetime, watermark: datetime | None, go_live: date,
                   overlap: timedelta, statuses: Iterable[str], open_ids: Iterable[int]) -> dict[str, Any]:
    """What an orders run reads, for the generic extract operator's templated arguments.

    Named orders (the ``order_ids`` param): just those, whatever their date. Otherwise the run's
    modified-time ``window`` in the configured statuses plus ``cancelled`` and ``refunded`` (their
    credits), and the orders whose documents are still open in the ledger or not written back (I2),
    whatever their date. Times as ISO 8601 text (XCom and templates carry text)."""
    named = sorted({int(i) for i in named})
    if named:
        return {"start": None, "end": None, "statuses": [], "order_ids": named, "named": named}
    start, end = window(data_interval, watermark=watermark, run_after=run_after, go_live=go_live, overlap=overlap,
                        run_type=run_type)
    return {"start": start.isoformat(), "end": end.isoformat(), "statuses": sorted({*statuses, "cancelled", "refunded"}),
            "order_ids": sorted({int(i) for i in open_ids}), "named": []}


def window(data_interval: tuple[datetime, datetime] | None, *, watermark: datetime | None, run_after: datetime,
           go_live: date, overlap: timedelta, run_type: str = "scheduled") -> tuple[datetime, datetime]:
    """The modified-time window a run reads, always reaching back by ``overlap``, never before go-live.

    - A backfill reads exactly its data interval.
    - A scheduled run reads its interval, and from the watermark on when the watermark is older (a
      scheduler that was down, a failed run: nothing in the gap is skipped); with no watermark at all
      (the first run, or a ledger lost or replaced), from go-live.
    - A manual (or asset-triggered) run reads from the watermark to ``run_after``: Airflow gives
      such runs an inferred interval ending at the trigger, which says nothing about what was read.
    """
    go_live_start = datetime(go_live.year, go_live.month, go_live.day, tzinfo=UTC)
    has_interval = bool(data_interval and data_interval[0] and data_interval[1] and data_interval[1] > data_interval[0])
    if run_type == "backfill" and has_interval:
        start, end = data_interval
    elif run_type == "scheduled" and has_interval:
        start, end = data_interval
        if watermark is None or watermark < start:
            start = go_live_start if watermark is None else watermark
    else:
        start, end = (watermark or go_live_start), run_after
    return max(go_live_start, start - overlap), end

