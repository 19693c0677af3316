"""The model-based test's world: both sandboxes, the project's two flows, a model of what must hold.

One ``World`` lives for a whole test session and runs many histories. Each history starts from a
small catalogue (``catalogue()``), a fresh ledger and a virtual clock a few hours in the past; the
state machine (``test_model.py``) then calls the actions below, and ``settle()`` + ``check()`` end
it. The flows run in-process through the same code the DAG tasks run (the operators' ``execute``
and the TaskFlow callables, with the real hooks over HTTP and a real SQLite ledger), or, for one
history in ten, as real DAG runs through ``dag.test()``.

What is checked comes from the sandboxes' own state (their databases, read directly), compared
with what the model knows it did: its purchase orders, its orders, refunds and edits.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import requests

from sandbox.common.catalogue import Catalogue, OgItem, WooProduct, WooVariation

ORDERS_DAG = "woocommerce_orders_to_officeguy"
STOCK_DAG = "officeguy_stock_to_woocommerce"
SALE_TYPES = (0, 1, 2)
CREDIT_TYPES = (5, 6, 7, 14)
STATUSES = ("processing", "completed")  # STOCK_SYNC_ORDER_STATUSES of the model's deployment
REDUCING = ("processing", "on-hold", "completed")
DAG_RUNS_PER_HISTORY = 1  # a real-DAG history's first flow run goes through dag.test(), and so does its settling
LEASE = timedelta(seconds=900)  # the claim lease the operators use (DocumentContext's default)


# ----------------------------------------------------------------------------- the catalogue
@dataclass(frozen=True)
class Sellable:
    """Something a customer can buy: a Woo product or variation, the Woo id holding its stock and
    the OfficeGuy card that must follow it (None: a product OfficeGuy has no card for yet)."""

    key: str
    product_id: int
    variation_id: int
    holder: int
    card: int | None
    price: str

    @property
    def woo_id(self) -> int:
        return self.variation_id or self.product_id


def catalogue(stock: list[int], fraction: bool) -> tuple[Catalogue, list[Sellable], dict[int, int]]:
    """The model's catalogue (the same shape every history; quantities from ``stock``, 7 numbers):

    - 10 simple, managed, card 1001 linked by ExternalIdentifier;
    - 11 simple, managed, card 1002 linked by SKU only;
    - 12 variable whose variations 13 and 14 manage their own stock (cards 1003, 1004);
    - 15 variable managing the stock of its variations 16 and 17 ("parent"), card 1005 on the parent;
    - 18 simple, managed, with no card in OfficeGuy (the orders flow creates one);
    - 19 simple, unmanaged (stock status only), card 1006.
    Returns the catalogue, what can be sold, and {card: Woo holder id} for the matched managed ones.
    """
    s = list(stock)
    og_extra = 0.5 if fraction else 0.0

    def simple(pid, sku, qty, managed=True):
        return WooProduct(id=pid, name=f"Model product {pid}", sku=sku, type="simple", price="20.00",
                          manage_stock=managed, stock_quantity=qty if managed else None,
                          stock_status="instock" if (not managed or qty > 0) else "outofstock")

    p10, p11 = simple(10, "MB-10", s[0]), simple(11, "MB-11", s[1])
    v12 = WooProduct(id=12, name="Model shirt", sku="MB-12", type="variable", price="30.00", manage_stock=False,
                     attribute="size", variations=[
                         WooVariation(id=13, sku="MB-12-S", option="S", price="30.00", manage_stock=True,
                                      stock_quantity=s[2], stock_status="instock" if s[2] > 0 else "outofstock"),
                         WooVariation(id=14, sku="MB-12-M", option="M", price="30.00", manage_stock=True,
                                      stock_quantity=s[3], stock_status="instock" if s[3] > 0 else "outofstock")])
    v12.stock_status = "instock" if s[2] > 0 or s[3] > 0 else "outofstock"
    v15 = WooProduct(id=15, name="Model hat", sku="MB-15", type="variable", price="15.00", manage_stock=True,
                     stock_quantity=s[4], stock_status="instock" if s[4] > 0 else "outofstock", attribute="size",
                     variations=[WooVariation(id=16, sku="MB-15-S", option="S", price="15.00", manage_stock=False),
                                 WooVariation(id=17, sku="MB-15-M", option="M", price="15.00", manage_stock=False)])
    p18, p19 = simple(18, "MB-18", s[5]), simple(19, "MB-19", 0, managed=False)
    cat = Catalogue("model", products=[p10, p11, v12, v15, p18, p19], items=[
        OgItem(1001, "Model product 10", "MB-10", 20.0, s[0] + og_extra, "10"),
        OgItem(1002, "Model product 11", "MB-11", 20.0, float(s[1]), ""),
        OgItem(1003, "Model shirt - S", "MB-12-S", 30.0, float(s[2]), "13"),
        OgItem(1004, "Model shirt - M", "MB-12-M", 30.0, float(s[3]), "14"),
        OgItem(1005, "Model hat", "MB-15", 15.0, float(s[4]), "15"),
        OgItem(1006, "Model product 19", "MB-19", 20.0, float(s[6]), "19"),
    ])
    sellables = [
        Sellable("simple-ext", 10, 0, 10, 1001, "20.00"),
        Sellable("simple-sku", 11, 0, 11, 1002, "20.00"),
        Sellable("variation-S", 12, 13, 13, 1003, "30.00"),
        Sellable("variation-M", 12, 14, 14, 1004, "30.00"),
        Sellable("parent-managed-S", 15, 16, 15, 1005, "15.00"),
        Sellable("parent-managed-M", 15, 17, 15, 1005, "15.00"),
        Sellable("no-card", 18, 0, 18, None, "20.00"),
    ]
    holders = {1001: 10, 1002: 11, 1003: 13, 1004: 14, 1005: 15}
    return cat, sellables, holders


# ----------------------------------------------------------------------------- log capture
class Capture(logging.Handler):
    """Every log record the project emits while a flow runs, formatted (with tracebacks)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[tuple[str, str]] = []
        self.active = False
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if not self.active:
            return
        try:
            self.lines.append((record.name, self.format(record)))
        except Exception as exc:  # noqa: BLE001 - a record that cannot be formatted is itself a finding
            self.lines.append((record.name, f"<unformattable record: {exc!r} {record.msg!r}>"))


NOISY = ("asyncio", "hypothesis", "filelock", "fsspec", "sqlalchemy", "alembic", "uvicorn", "multipart",
         "python_multipart", "matplotlib", "PIL")


# ----------------------------------------------------------------------------- model records
@dataclass
class OrderModel:
    id: int
    lines: dict[int, Sellable]  # Woo line id -> what it sells
    status: str
    versions: list[dict] = field(default_factory=list)  # {total, units{woo id: qty}} after each edit
    refunds: list[dict] = field(default_factory=list)  # {id, amount, restock, units{line id: qty}}
    edited: bool = False  # edited after it was paid: no money actions follow (the model keeps it simple)
    documented_version: int | None = None  # the version that was current when its sale appeared in OfficeGuy
    sale_id: int | None = None
    paid: bool = False  # reached a paid status at some point


@dataclass
class Violation:
    kind: str  # duplicate | lost | wrong_write | books | leak | crash
    detail: str
    known: str = ""  # the known defect it matches (a strict xfail names it), else ""

    def __str__(self) -> str:
        return f"[{self.kind}{'/' + self.known if self.known else ''}] {self.detail}"


class HistoryFailed(AssertionError):
    pass


class Killed(Exception):  # noqa: N818 - a worker's death
    """A task killed mid-way (SIGKILL, an OOM): nothing after this point of the task runs. Raised only at
    points the project does not catch generic exceptions around (the OfficeGuy create call, the ledger
    record), so it ends the task there, in-process and inside ``dag.test()`` alike."""


# ----------------------------------------------------------------------------- the world
class World:
    def __init__(self, woo, og, home: Path, *, real_dags: bool = False) -> None:
        self.woo, self.og, self.home = woo, og, home
        self.real_dags_available = real_dags
        self.capture = Capture()
        self.merchant = requests.Session()
        self.merchant.auth = (woo.consumer_key, woo.consumer_secret)
        self.merchant.verify = str(woo.cert_path)
        self.reset_stats()
        self.secrets = {"WooCommerce consumer secret": woo.consumer_secret,
                        "WooCommerce consumer key": woo.consumer_key, "OfficeGuy API key": og.api_key}
        self._operators: dict[str, Any] = {}
        self._run = 0

    def reset_stats(self) -> None:
        self.stats: dict[str, Any] = {"histories": 0, "real_dag_histories": 0, "steps": 0, "actions": Counter(),
                                      "faults": Counter(), "outcomes": Counter(), "known": Counter(),
                                      "runs": Counter(), "violations": []}

    # ------------------------------------------------------------------ set-up per history
    def environment(self, auth: str = "basic") -> dict[str, str]:
        """The deployment: connections to both sandboxes (the store with ``auth`` basic or query, both
        over HTTPS), short timeouts and retries so that faults cost little time."""
        from tests.conftest import connection_env

        return {
            "AIRFLOW_CONN_WOOCOMMERCE_DEFAULT": connection_env(
                "woocommerce", self.woo.url, self.woo.consumer_key, self.woo.consumer_secret, backoff_seconds=0.01,
                max_attempts=3, timeout=0.4, auth=auth, verify_ssl=str(self.woo.cert_path)),
            "AIRFLOW_CONN_OFFICEGUY_DEFAULT": connection_env(
                "officeguy", self.og.url, str(self.og.company_id), self.og.api_key, backoff_seconds=0.01,
                max_attempts=3, rate_limit_per_minute=60000, rate_limit_hold_seconds=0.01, timeout=0.4),
            "STOCK_SYNC_HOME": str(self.home),
            "STOCK_SYNC_ORDER_STATUSES": ",".join(STATUSES),
            "STOCK_SYNC_ALERT_RECIPIENTS": "",
            "STOCK_SYNC_SEND_DOCUMENT_EMAIL": "false",
            "STOCK_SYNC_GO_LIVE": "2026-01-01",
        }

    def start_history(self, *, stock: list[int], fraction: bool, real_dags: bool, auth: str = "basic") -> None:
        from tests.model.sandboxes import reset

        os.environ.update(self.environment(auth))

        self.real_dags = real_dags and self.real_dags_available
        self.dag_runs_left = DAG_RUNS_PER_HISTORY
        self.cat, self.sellables, self.holders = catalogue(stock, fraction)
        self.initial = {item.id: item.stock for item in self.cat.items}
        self.purchases: Counter[int] = Counter()
        self.orders: dict[int, OrderModel] = {}
        # The store's clock: virtual, starting 8 hours back and moved by tick(), so that windows, scheduled
        # intervals and backfills get exercised in a second of real time; a real-DAG history keeps the
        # real clock, since dag.test() runs at the real time and moves the watermark to it.
        self.real_clock = self.real_dags
        self._vnow = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=8)
        # minutes since the history's start by the model's own reckoning (the ticks), whichever clock the history
        # runs on: never the clock itself, which differs between two replays of one history
        self.model_minutes = 0.0
        self.start = self.now if not self.real_clock else self.now - timedelta(hours=2)
        self.violations: list[Violation] = []
        self.trace: list[str] = [f"start(stock={stock}, fraction={fraction}, real={real_dags}, auth={auth!r})"]
        self.fault_log: list[tuple[str, str, str]] = []  # (system, kind, where) of faults armed this history
        self.pending_faults: list[tuple[Any, dict, str]] = []
        self.local_faults: list[tuple[str, str]] = []  # killed tasks, ledger failures: (kind, where)
        self.patches: list[Any] = []
        self.xcoms: list[Any] = []
        self.capture.lines.clear()
        reset(self.woo, self.og, self.cat, clock=lambda: self.now.timestamp())
        self._fresh_ledger()
        self.stats["histories"] += 1
        self.stats["real_dag_histories"] += int(self.real_dags)

    def _fresh_ledger(self) -> None:
        """An empty ledger (tables emptied; the migrated schema and the cached engine are kept) and no
        staging files or reports; the watermark starts at the history's start, as if the orders DAG
        had run then (orders before it belong to earlier runs)."""
        import sqlalchemy as sa

        from officeguy_woocommerce.app.ledger_connection import get_ledger

        ledger = get_ledger()
        with ledger.engine.begin() as conn:
            for table in ("stock_changes", "sync_runs", "item_map", "order_documents", "watermarks", "stock_alerts"):
                conn.execute(sa.text(f"DELETE FROM {table}"))
        for folder in ("staging", "reports", "snapshots"):  # a new catalogue: no earlier read of it
            shutil.rmtree(self.home / folder, ignore_errors=True)
        ledger.move_watermark("orders", self.woo.url, self.now)
        self.ledger = ledger

    @property
    def now(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0) if self.real_clock else self._vnow

    def tick(self, minutes: float) -> None:
        self._vnow += timedelta(minutes=minutes)
        self.model_minutes += minutes

    # ------------------------------------------------------------------ the merchant and the supplier
    @contextlib.contextmanager
    def unfaulted(self, sandbox):
        """The model's own calls (the merchant, the supplier, the checks) never meet an armed fault."""
        book = sandbox.app.state.book
        with book._lock:
            saved, book.faults[:] = list(book.faults), []
        try:
            yield
        finally:
            with book._lock:
                book.faults[:] = saved + book.faults

    def woo_call(self, method: str, path: str, **kw) -> Any:
        with self.unfaulted(self.woo):
            return self._woo_call(method, path, **kw)

    def _woo_call(self, method: str, path: str, **kw) -> Any:
        resp = self.merchant.request(method, f"{self.woo.api}{path}", timeout=30, verify=str(self.woo.cert_path), **kw)
        if resp.status_code >= 400:
            raise AssertionError(f"merchant {method} {path} -> {resp.status_code}: {resp.text[:300]}")
        return resp.json()

    def purchase(self, card: int, quantity: int) -> None:
        """A purchase order in OfficeGuy (documents/create Type 11) raises the card's stock."""
        from tests.helpers import purchase_order

        with self.unfaulted(self.og):
            answer = self.og.call("/accounting/documents/create/", purchase_order(card, quantity, "model-po"))
        assert answer["Status"] == 0, answer
        self.purchases[card] += quantity

    def create_order(self, picks: list[tuple[Sellable, int]], status: str) -> int:
        body: dict[str, Any] = {"payment_method": "bacs", "payment_method_title": "Bank transfer", "currency": "ILS",
                                "billing": {"first_name": "Dana", "last_name": "Cohen", "email": "dana@example.com"},
                                "line_items": [{"product_id": s.product_id, "variation_id": s.variation_id,
                                                "quantity": q} for s, q in picks]}
        if status == "processing":
            body["set_paid"] = True
        else:
            body["status"] = status
        order = self.woo_call("POST", "/orders", json=body)
        lines = {line["id"]: next(s for s, _ in picks if s.woo_id == (line["variation_id"] or line["product_id"]))
                 for line in order["line_items"]}
        model = OrderModel(order["id"], lines, order["status"], paid=order["status"] in STATUSES)
        model.versions.append(self._version(order))
        self.orders[order["id"]] = model
        return order["id"]

    @staticmethod
    def _version(order: dict) -> dict:
        units: Counter[int] = Counter()
        for line in order["line_items"]:
            units[line["variation_id"] or line["product_id"]] += line["quantity"]
        return {"total": order["total"], "units": dict(units)}

    def set_status(self, oid: int, status: str) -> None:
        order = self.woo_call("PUT", f"/orders/{oid}", json={"status": status})
        self.orders[oid].status = order["status"]
        self.orders[oid].paid |= order["status"] in STATUSES

    def edit_order(self, oid: int, line_id: int, quantity: int) -> None:
        order = self.woo_call("PUT", f"/orders/{oid}", json={"line_items": [{"id": line_id, "quantity": quantity}]})
        model = self.orders[oid]
        model.versions.append(self._version(order))
        model.edited = True

    def refund(self, oid: int, *, full: bool, restock: bool, amount_only: bool) -> None:
        order = self.woo_call("GET", f"/orders/{oid}")
        refunded = sum(abs(float(r["total"])) for r in order["refunds"])
        remaining = round(float(order["total"]) - refunded, 2)
        if remaining <= 0:
            return
        body: dict[str, Any] = {"api_refund": False, "api_restock": restock, "reason": "model refund"}
        units: dict[int, int] = {}
        if amount_only:
            body["amount"] = f"{remaining if full else max(round(remaining / 3, 2), 0.01):.2f}"
        else:
            already = self._refunded_units(oid)
            lines = []
            total = 0.0
            for line in order["line_items"]:
                left = line["quantity"] - already.get(line["id"], 0)
                qty = left if full else min(left, 1)
                if qty <= 0:
                    continue
                value = round(float(line["total"]) / line["quantity"] * qty, 2)
                lines.append({"id": line["id"], "quantity": qty, "refund_total": f"{value:.2f}"})
                units[line["id"]] = qty
                total += value
                if not full:
                    break
            if not lines:
                return
            amount = remaining if full else min(round(total, 2), remaining)
            body.update(amount=f"{amount:.2f}", line_items=lines)
        refund = self.woo_call("POST", f"/orders/{oid}/refunds", json=body)
        self.orders[oid].refunds.append({"id": refund["id"], "amount": float(refund["amount"]), "restock": restock,
                                         "units": units})
        self.orders[oid].status = self.woo_call("GET", f"/orders/{oid}")["status"]

    def _refunded_units(self, oid: int) -> dict[int, int]:
        out: Counter[int] = Counter()
        for refund in self.orders[oid].refunds:
            out.update(refund["units"])
        return out

    def merchant_stock(self, sellable: Sellable, quantity: int) -> None:
        """The merchant types a quantity into the store (the next stock run puts OfficeGuy's back)."""
        if sellable.holder == sellable.variation_id:
            self.woo_call("PUT", f"/products/{sellable.product_id}/variations/{sellable.variation_id}",
                          json={"stock_quantity": quantity})
        else:
            self.woo_call("PUT", f"/products/{sellable.holder}", json={"stock_quantity": quantity})

    # ------------------------------------------------------------------ faults
    def arm(self, system: str, kind: str, path: str, *, times: int = 1, method: str | None = None,
            status: int | None = None, after: int = 0) -> None:
        spec: dict[str, Any] = {"kind": kind, "path": path, "times": times, "after": after}
        if method:
            spec["method"] = method
        if kind == "timeout":
            spec["seconds"] = 0.5  # longer than the connections' 0.4 s timeout
        if status is not None:
            spec["status"] = status
            if kind == "status":
                spec["body"] = "" if status == 403 else "Internal error"
        sandbox = self.woo if system == "woo" else self.og
        sandbox.arm_fault(**spec)
        label = f"{kind} {status}" if status and kind == "status" else kind
        self.pending_faults.append((sandbox, spec, f"{system}:{label}:{path}"))

    def count_fired(self) -> None:
        """Add the faults that fired to the history's fault log (a fault no request met is not counted)."""
        for sandbox, system in ((self.woo, "WooCommerce"), (self.og, "OfficeGuy")):
            for fault in sandbox.app.state.book.faults:
                kind = f"{fault.kind} {fault.status}" if fault.kind in ("status", "error_after") else fault.kind
                self.fault_log += [(system, kind, fault.path or "*")] * (fault.fired - getattr(fault, "counted", 0))
                fault.counted = fault.fired

    def armed(self) -> int:
        """Sandbox faults still waiting to fire."""
        return sum(1 for b in (self.woo, self.og) for f in b.app.state.book.faults if not f.times or f.fired < f.times)

    def fired_total(self) -> int:
        return sum(f.fired for s in (self.woo, self.og) for f in s.app.state.book.faults) + len(self.local_faults)

    def clear_faults(self) -> None:
        self.count_fired()
        self.woo.clear_faults()
        self.og.clear_faults()
        for undo in reversed(self.patches):
            undo()
        self.patches.clear()

    def fail_ledger_once(self, method: str) -> None:
        """The ledger's ``method`` raises once (the database went away for a moment)."""
        import sqlalchemy as sa

        from officeguy_woocommerce.include.ledger import Ledger

        original = getattr(Ledger, method)
        world = self

        def failing(self_, *args, **kwargs):
            setattr(Ledger, method, original)
            world.local_faults.append(("ledger write fails", f"Ledger.{method}"))
            raise sa.exc.OperationalError(f"ledger {method}", {}, Exception("database is locked (model fault)"))

        setattr(Ledger, method, failing)
        self.patches.append(lambda: setattr(Ledger, method, original))

    def kill_between_claim_and_record(self, after_call: bool) -> None:
        """The next document's task dies after its claim: before the OfficeGuy call, or after OfficeGuy
        committed and before the ledger recorded it. Its claim stays until the lease runs out."""
        from officeguy_woocommerce.include.ledger import Ledger

        world = self
        if after_call:
            original = Ledger.record_document

            def dying(self_, *args, **kwargs):
                Ledger.record_document = original
                world.local_faults.append(("task killed", "after documents/create, before the ledger record"))
                raise Killed("worker killed after OfficeGuy committed")

            Ledger.record_document = dying
            self.patches.append(lambda: setattr(Ledger, "record_document", original))
        else:
            from officeguy_woocommerce.officeguy.hooks import OfficeGuyHook

            original_create = OfficeGuyHook.create_document

            def dying_before(self_, *args, **kwargs):
                OfficeGuyHook.create_document = original_create
                world.local_faults.append(("task killed", "between the claim and documents/create"))
                raise Killed("worker killed before the OfficeGuy call")

            OfficeGuyHook.create_document = dying_before
            self.patches.append(lambda: setattr(OfficeGuyHook, "create_document", original_create))

    def drop_before_commit(self, system: str, path: str, times: int = 1) -> None:
        """The connection breaks after the request left and before the server read it (a proxy reset):
        nothing is committed, and the client cannot know. Injected in the transport (requests), since
        the sandboxes' faults all fire after the server has the request."""
        import re

        from requests.adapters import HTTPAdapter

        base = self.woo.url if system == "woo" else self.og.url
        pattern = re.compile(re.escape(base) + ".*" + path)
        original = HTTPAdapter.send
        world, left = self, [times]

        def send(self_, request, *args, **kwargs):
            if left[0] and pattern.search(request.url) and world.capture.active:
                left[0] -= 1
                world.local_faults.append(("drop before commit", f"{'WooCommerce' if system == 'woo' else 'OfficeGuy'} "
                                                                 f"{path}"))
                raise requests.ConnectionError("('Connection aborted.', RemoteDisconnected('Remote end closed "
                                               "connection without response'))")
            return original(self_, request, *args, **kwargs)

        HTTPAdapter.send = send
        self.patches.append(lambda: setattr(HTTPAdapter, "send", original))

    def lose_ledger(self) -> None:
        """The ledger is lost (a new volume, a restore from before go-live): no order rows, no item map,
        no watermark. What is already in OfficeGuy and in the orders' meta must keep it exactly once."""
        import sqlalchemy as sa

        with self.ledger.engine.begin() as conn:
            for table in ("order_documents", "item_map", "watermarks"):
                conn.execute(sa.text(f"DELETE FROM {table}"))
        self.local_faults.append(("ledger lost", "order_documents, item_map, watermarks"))

    def expire_leases(self) -> None:
        """Time passes beyond the claim lease: claims of dead tasks may be taken over."""
        import sqlalchemy as sa

        old = datetime.now(UTC) - LEASE - timedelta(minutes=1)
        with self.ledger.engine.begin() as conn:
            conn.execute(sa.text("UPDATE order_documents SET claimed_at = :t WHERE state = 'claimed'"), {"t": old})
            conn.execute(sa.text("UPDATE item_map SET updated_at = :t WHERE state = 'claimed'"), {"t": old})

    # ------------------------------------------------------------------ running the flows
    def _ops(self, ctx: dict) -> dict[str, Any]:
        """The DAGs' generic operators, with their templated paths rendered for this run (as Airflow would)."""
        from officeguy_woocommerce.include.staging import Stage, snapshot_path
        from officeguy_woocommerce.officeguy.operators import OfficeGuyStockExtractOperator
        from officeguy_woocommerce.woocommerce.operators import (
            WooCommerceOrdersExtractOperator,
            WooCommerceStockApplyOperator,
            WooCommerceStockExtractOperator,
        )

        stage = Stage(self.home, ctx["dag"].dag_id, ctx["run_id"])
        return {"og_stock": OfficeGuyStockExtractOperator(task_id="extract_officeguy_stock",
                                                          output_path=stage.path("og_stock")),
                # as the DAG wires it: a triggered run reads what the store saved since the last read
                "woo_stock": WooCommerceStockExtractOperator(
                    task_id="extract_woocommerce_products", output_path=stage.path("woo_products"),
                    snapshot_path=snapshot_path(self.home, "woocommerce_default"),
                    incremental=not ctx["params"].get("full_read")),
                "apply": WooCommerceStockApplyOperator(task_id="apply_stock", payloads_path=stage.path("payloads"),
                                                       output_path=stage.path("applied"),
                                                       dry_run=ctx["params"]["dry_run"]),
                "extract": lambda read: WooCommerceOrdersExtractOperator(
                    task_id="extract_orders", output_path=stage.path("orders"), modified_after=read["start"],
                    modified_before=read["end"], statuses=read["statuses"], order_ids=read["order_ids"])}

    def _context(self, dag_id: str, run_type: str, params: dict, interval: tuple | None,
                 run_after: datetime) -> dict:
        self._run += 1
        run_id = f"{run_type}__model_{self.stats['histories']}_{self._run}"
        return {"run_id": run_id, "params": params, "ti": SimpleNamespace(try_number=1),
                "dag_run": SimpleNamespace(run_type=run_type, run_after=run_after, run_id=run_id),
                "data_interval_start": interval[0] if interval else None,
                "data_interval_end": interval[1] if interval else None, "dag": SimpleNamespace(dag_id=dag_id)}

    def _step(self, name: str, fn, outputs: dict) -> Any:
        """One task: its return value is the XCom; an exception fails it (and is logged, as Airflow does)."""
        try:
            value = fn()
        except Killed:
            outputs[name] = None
            outputs.setdefault("_killed", name)
            return None
        except Exception as exc:  # noqa: BLE001 - a failed task, as Airflow sees it
            logging.getLogger("airflow.task").error("Task %s failed: %s\n%s", name, exc, traceback.format_exc())
            outputs[name] = None
            outputs.setdefault("_failed", []).append(f"{name}: {type(exc).__name__}: {exc}")
            return None
        outputs[name] = value
        self.xcoms.append(value)
        return value

    def run_stock(self, params: dict | None = None) -> dict:
        params = {"dry_run": False, "skus": [], "force": False, "full_read": False, **(params or {})}
        if self._real():
            return self._run_dag(STOCK_DAG, params)
        self.stats["runs"]["stock (in-process)"] += 1
        from officeguy_woocommerce.app.stock_tasks import plan_stock_run, report_stock_run, send_stock_alerts

        ctx = self._context(STOCK_DAG, "manual", params, (self.now, self.now), self.now)
        ops = self._ops(ctx)
        out: dict[str, Any] = {}
        self.capture.active = True
        try:
            og = self._step("extract_officeguy_stock", lambda: ops["og_stock"].execute(ctx), out)
            woo = self._step("extract_woocommerce_products", lambda: ops["woo_stock"].execute(ctx), out)
            planned = applied = alerts = None
            if og and woo:
                planned = self._step("plan", lambda: plan_stock_run(og, woo, dag_id=STOCK_DAG, run_id=ctx["run_id"],
                                                                    params=params), out)
            if planned:
                applied = self._step("apply_stock", lambda: ops["apply"].execute(ctx), out)
            if planned and applied and woo:
                alerts = self._step("alert_low_stock", lambda: send_stock_alerts(planned, applied, woo), out)
            self._step("report", lambda: report_stock_run(og, woo, planned, applied, dag_id=STOCK_DAG,
                                                          run_id=ctx["run_id"], dry_run=params["dry_run"],
                                                          alerts=alerts), out)
        finally:
            self.capture.active = False
        out["_run_id"] = ctx["run_id"]
        return out

    def run_orders(self, run_type: str = "manual", params: dict | None = None,
                   interval: tuple[datetime, datetime] | None = None) -> dict:
        """One orders run. ``manual``: Airflow's inferred interval [run_after - 15 min, run_after];
        ``scheduled``: the 15-minute slot that ended last; ``backfill``: ``interval``."""
        params = {"dry_run": False, "order_ids": [], **(params or {})}
        if run_type == "manual" and self._real():
            return self._run_dag(ORDERS_DAG, params)
        self.stats["runs"][f"orders {run_type} (in-process)"] += 1
        from officeguy_woocommerce.app.order_tasks import (
            create_documents,
            create_item_cards,
            orders_window,
            plan_order_documents,
            report_order_run,
            write_back_orders,
        )

        if run_type == "scheduled":
            end = self.now.replace(minute=self.now.minute - self.now.minute % 15, second=0)
            interval, run_after = (end - timedelta(minutes=15), end), end
        elif run_type == "manual":
            interval, run_after = (self.now - timedelta(minutes=15), self.now), self.now
        else:
            run_after = interval[1]
        ctx = self._context(ORDERS_DAG, run_type, params, interval, run_after)
        ops = self._ops(ctx)
        out: dict[str, Any] = {}
        self.capture.active = True
        try:
            read = self._step("orders_window", lambda: orders_window(ctx), out)
            extract = planned = cards = documents = written = None
            if read:
                extract = self._step("extract_orders", lambda: ops["extract"](read).execute(ctx), out)
            if extract:
                planned = self._step("plan_documents", lambda: plan_order_documents(
                    extract, dag_id=ORDERS_DAG, run_id=ctx["run_id"], params=params), out)
            run = {"dag_id": ORDERS_DAG, "run_id": ctx["run_id"], "params": params}
            if planned:
                cards = self._step("create_item_cards", lambda: create_item_cards(planned, **run), out)
            if cards:
                documents = self._step("create_documents", lambda: create_documents(
                    planned, cards, try_number=1, **run), out)
            if documents:
                written = self._step("write_back", lambda: write_back_orders(planned, params=params), out)
            self._step("report", lambda: report_order_run(
                extract, planned, cards, documents, written, dag_id=ORDERS_DAG, run_id=ctx["run_id"],
                run_type=run_type, dry_run=params["dry_run"], data_interval=interval, read=read), out)
        finally:
            self.capture.active = False
        out["_run_id"] = ctx["run_id"]
        self.note_documents()
        return out

    def _real(self) -> bool:
        if self.real_dags and self.dag_runs_left > 0:
            self.dag_runs_left -= 1
            return True
        return False

    def _run_dag(self, dag_id: str, params: dict) -> dict:
        """A real DAG run (``dag.test()``), as tests/dags run them."""
        from tests.helpers import run_dag, state

        self.stats["runs"][f"{dag_id} (dag.test)"] += 1
        conf = {k: v for k, v in params.items() if v not in (False, [], None)}
        self.capture.active = True
        try:
            dag_run = run_dag(dag_id, **conf)
        finally:
            self.capture.active = False
        self.xcoms.extend(self._dag_xcoms(dag_run))
        if dag_id == ORDERS_DAG:
            self.note_documents()
        return {"_state": state(dag_run), "_run_id": dag_run.run_id}

    @staticmethod
    def _dag_xcoms(dag_run) -> list[Any]:
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session

        with create_session() as session:
            rows = session.query(XComModel).filter(XComModel.dag_id == dag_run.dag_id,
                                                   XComModel.run_id == dag_run.run_id).all()
            return [{"task": r.task_id, "key": r.key, "value": r.value} for r in rows]

    # ------------------------------------------------------------------ what OfficeGuy holds
    def note_documents(self) -> None:
        """Sale documents that appeared since the last look: remember which version of the order they
        documented (edits happen only between runs, so it is the current one)."""
        for doc in self.og.documents():
            if doc["type"] not in SALE_TYPES or not doc["external_reference"]:
                continue
            oid = self._order_of(doc["external_reference"])
            model = self.orders.get(oid)
            if model is not None and model.sale_id is None:
                model.sale_id = doc["id"]
                model.documented_version = len(model.versions) - 1

    def _order_of(self, reference: str) -> int | None:
        from officeguy_woocommerce.include.documents import external_reference

        for oid in self.orders:
            if external_reference(self.woo.url, oid) == reference:
                return oid
        return None

    # ------------------------------------------------------------------ settling and checking
    def settle(self, max_rounds: int = 5) -> list[Violation]:
        """Faults cleared, dead tasks' leases run out, then both flows run until nothing is left to do:
        no open document, card or write-back in the ledger and a stock run that wrote all it planned (a
        person forces the stock run past the brake once they have looked, as README says)."""
        self.clear_faults()
        self.expire_leases()
        self.tick(20)
        # a real-DAG history settles through the real DAGs (one orders run and one stock run), the rest
        # in-process
        self.dag_runs_left = 2 if self.real_dags else 0
        stock: dict = {}
        for _ in range(max_rounds):
            before = self._orders_fingerprint()
            self.run_orders("manual")
            self.tick(1)
            changed = self._orders_fingerprint() != before
            if not changed and stock and not self._open_work(stock):
                return []
            stock = self.run_stock()
            if self._blocked(stock):
                stock = self.run_stock({"force": True})
            self.tick(1)
        return [Violation("lost", f"the flows did not settle in {max_rounds} rounds: {self._open_work(stock)}")]

    def _orders_fingerprint(self) -> tuple:
        import sqlalchemy as sa

        with self.ledger.engine.connect() as conn:
            rows = tuple(conn.execute(sa.text("SELECT woo_order_id, doc_key, state, written_back, attempts "
                                              "FROM order_documents ORDER BY 1, 2")).all())
            cards = tuple(conn.execute(sa.text("SELECT woo_id, og_item_id, state FROM item_map ORDER BY 1")).all())
        return rows, cards, len(self.og.documents())

    def _open_work(self, stock: dict) -> list[str]:
        """What a further round would still do."""
        import sqlalchemy as sa

        with self.ledger.engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT woo_order_id, doc_key, state FROM order_documents WHERE state IN ('pending', 'failed', "
                "'claimed') OR (state = 'documented' AND NOT written_back)")).all()
        # (a card claim that failed is open work only while an order needs it: that order's row is open)
        work = [f"order {r[0]} {r[1]} {r[2]}" for r in rows]
        if stock.get("_state", "success") != "success" or any(not f.startswith("report") for f in
                                                              stock.get("_failed", [])):
            work.append(f"stock run: {stock.get('_failed') or stock.get('_state')}")
        elif stock.get("_failed"):
            work.append(f"stock run: {stock['_failed']}")
        return work

    def _blocked(self, out: dict) -> bool:
        if out.get("_state"):
            return out["_state"] != "success" and any(r.status == "blocked" for r in self.ledger.runs("stock", 1))
        return any("safety brake" in f.lower() or "blocked" in f.lower() for f in out.get("_failed", []))

    def woo_products(self) -> dict[int, dict]:
        def read(conn):
            from sqlalchemy import select

            from sandbox.woocommerce.store import products

            return {r["id"]: dict(r) for r in conn.execute(select(products)).mappings()}

        return self.woo.in_store(read)

    def woo_orders(self) -> list[dict]:
        ids = sorted(self.orders)
        if not ids:
            return []
        out = []
        for start in range(0, len(ids), 100):
            out += self.woo_call("GET", "/orders", params={"include": ",".join(map(str, ids[start:start + 100])),
                                                           "per_page": 100})
        return out

    def woo_refunds(self, oid: int) -> list[dict]:
        return self.woo_call("GET", f"/orders/{oid}/refunds")

    # ------------------------------------------------------------------ the invariants
    def check(self) -> list[Violation]:
        """Everything that must hold once the system has settled (see the module docstring)."""
        from officeguy_woocommerce.include.documents import external_reference

        found: list[Violation] = []
        docs = self.og.documents()
        orders = {o["id"]: o for o in self.woo_orders()}
        sales: dict[str, list[dict]] = {}
        for doc in docs:
            if doc["type"] in SALE_TYPES and not doc["is_draft"] and doc["external_reference"]:
                sales.setdefault(doc["external_reference"], []).append(doc)
        rows = {(r.woo_order_id, r.doc_key): r for r in self.ledger.documents(self.woo.url)}
        expected = Counter({card: stock for card, stock in self.initial.items()})
        expected.update(self.purchases)
        for oid, model in sorted(self.orders.items()):
            order = orders[oid]
            ref = external_reference(self.woo.url, oid)
            mine = sales.get(ref, [])
            if len(mine) > 1:
                found.append(Violation("duplicate", f"order {oid} has {len(mine)} sale documents "
                                                    f"{[d['id'] for d in mine]} with reference {ref}"))
            if not mine:
                if order["status"] in STATUSES:
                    row = rows.get((oid, "sale"))
                    if row is None or row.state != "parked" or not self._still_true(row, order, model):
                        state = "no ledger row" if row is None else f"ledger {row.state}: {row.last_error[:300]!r}"
                        found.append(Violation("lost", f"order {oid} ({order['status']}, total {order['total']}) "
                                                       f"has no OfficeGuy document and is not parked for a "
                                                       f"reason that is still true ({state})"))
                credits = [d for d in docs if d["type"] in CREDIT_TYPES and (d["external_reference"] or "")
                           .startswith(ref + ":")]
                if credits:
                    found.append(Violation("wrong_write", f"order {oid} has credits {[d['id'] for d in credits]} "
                                                          "but no sale document"))
                continue
            sale = mine[0]
            if not model.paid:
                found.append(Violation("wrong_write", f"order {oid} was never in {'/'.join(STATUSES)} "
                                                      f"(now {order['status']}) but has sale document {sale['id']}"))
            found += self._check_sale(oid, model, order, sale, rows, expected)
        found += self._check_cards(expected)
        found += self._check_store(orders, sales)
        found += self.leaks()
        return found

    def _still_true(self, row, order: dict, model: OrderModel) -> bool:
        """A parked order's reason holds now: the model only makes orders that can be documented, so
        the only lasting reason is an edit after the document (its row is ``changed``, not ``sale``)."""
        return False

    def _check_sale(self, oid: int, model: OrderModel, order: dict, sale: dict, rows: dict,
                    expected: Counter) -> list[Violation]:
        found: list[Violation] = []
        version = model.versions[model.documented_version if model.documented_version is not None else -1]
        if abs(abs(sale["gross"]) - float(version["total"])) > 0.011:
            found.append(Violation("books", f"order {oid}: sale document {sale['id']} is {sale['gross']}, the order "
                                            f"was {version['total']} when documented"))
        moved: Counter[int] = Counter()
        for line in sale["lines"]:
            moved[line["item_id"]] += round(line["quantity"])
        want: Counter[int] = Counter()
        for woo_id, units in version["units"].items():
            card = self.card_of(woo_id)
            want[card if card is not None else -woo_id] += units
        for card, units in want.items():
            expected[card] -= units
        stock_moves = {c: u for c, u in moved.items() if c in self.initial or c in self.created_cards().values()}
        if stock_moves != {c: u for c, u in want.items() if u}:
            found.append(Violation("books", f"order {oid}: sale document {sale['id']} moves {stock_moves} "
                                            f"(card: units), WooCommerce sold {dict(want)} (by the card holding "
                                            f"the stock; negative = a Woo id with no card)"))
        meta = {m["key"]: m["value"] for m in order["meta_data"]}
        if meta.get("OfficeGuyDocumentID") != str(sale["id"]):
            found.append(Violation("lost", f"order {oid}: documented as {sale['id']} but its meta "
                                           f"OfficeGuyDocumentID is {meta.get('OfficeGuyDocumentID')!r} "
                                           "(write-back never done)"))
        current = model.versions[-1]
        if model.documented_version is not None and model.documented_version < len(model.versions) - 1 \
                and current != version:
            changed = rows.get((oid, "changed"))
            if changed is None or changed.state != "parked":
                row = rows.get((oid, "sale"))
                found.append(Violation("lost", f"order {oid} was edited after its document ({version['total']} -> "
                                               f"{current['total']}) and is not reported/parked as changed "
                                               f"(ledger: sale {row.state if row else None}, order_total "
                                               f"{row.order_total if row else None})"))
        refunds = self.woo_refunds(oid)
        credits = self.og.credits_of(sale["id"])
        woo_refunded = round(sum(float(r["amount"]) for r in refunds), 2)
        want_credit = abs(sale["gross"]) if order["status"] == "cancelled" else woo_refunded
        if abs(credits["credited_gross"] - want_credit) > 0.011:
            found.append(Violation("books", f"order {oid} ({order['status']}): credits {credits['credited_gross']} "
                                            f"(documents {credits['credit_ids']}), expected {want_credit} (Woo "
                                            f"refunds {[r['amount'] for r in refunds]}, sale {sale['gross']})"))
        back = self.returned_units(model, order)
        for woo_id, units in back.items():
            card = self.card_of(woo_id)
            expected[card if card is not None else -woo_id] += units
        return found

    def returned_units(self, model: OrderModel, order: dict) -> Counter:
        """Units WooCommerce put back in stock for this order, by Woo id: everything once it is cancelled,
        else what refunds restocked (the lines' ``_restock_refunded_items``)."""
        back: Counter[int] = Counter()
        for line in order["line_items"]:
            woo_id = line["variation_id"] or line["product_id"]
            meta = {m["key"]: m["value"] for m in line["meta_data"]}
            if order["status"] == "cancelled":
                version = model.versions[model.documented_version if model.documented_version is not None else -1]
                back[woo_id] = version["units"].get(woo_id, 0)
            else:
                back[woo_id] += int(meta.get("_restock_refunded_items") or 0)
        return back

    def card_of(self, woo_id: int) -> int | None:
        """The OfficeGuy card that must follow a Woo id's stock: the catalogue's, or the one the orders
        flow created for a product OfficeGuy did not know."""
        sellable = next(s for s in self.sellables if s.woo_id == woo_id)
        if sellable.card is not None:
            return sellable.card
        made = self.created_cards().get(woo_id)
        return made

    def holder_card(self, holder: int) -> int | None:
        """The card that follows the stock a Woo id holds."""
        return next((c for c, h in self.holders.items() if h == holder), None) or self.created_cards().get(holder)

    def created_cards(self) -> dict[int, int]:
        """Woo id -> the card the project created for it (ExternalIdentifier = the Woo id)."""
        from sqlalchemy import select

        from sandbox.officeguy.store import Item

        with self.og.app.state.store.reading() as session:
            items = session.scalars(select(Item).where(Item.id.notin_(list(self.initial)))).all()
            return {int(i.external_identifier): i.id for i in items
                    if i.external_identifier and i.external_identifier.isdigit()}

    def og_stock(self) -> dict[int, float]:
        from sqlalchemy import select

        from sandbox.officeguy.store import Item

        with self.og.app.state.store.reading() as session:
            return {i.id: i.stock for i in session.scalars(select(Item)).all()}

    def _check_cards(self, expected: Counter) -> list[Violation]:
        found = []
        stock = self.og_stock()
        made = self.created_cards()
        for woo_id, card in made.items():
            sellable = next((s for s in self.sellables if s.woo_id == woo_id), None)
            if sellable is None or sellable.card is not None:
                holder = sellable.holder if sellable else woo_id
                found.append(Violation("books", f"a new OfficeGuy card {card} was created for Woo id {woo_id}, which "
                                                f"already has card {self.holder_card(holder)} on "
                                                f"the product holding its stock (Woo id {holder}); its sales "
                                                f"moved card {card} instead"))
        for card, want in sorted(expected.items()):
            if card < 0:
                continue  # sales of a Woo id that has no card: reported above
            have = stock.get(card)
            if have is None or abs(have - want) > 1e-6:
                found.append(Violation("books", f"card {card}: OfficeGuy stock {have}, expected {want} (initial "
                                                f"{self.initial.get(card, 0)} + purchases {self.purchases[card]} "
                                                "- sold + restocked)"))
        return found

    def pending(self, orders: dict[int, dict], sales: dict[str, list[dict]], *, uncredited: bool) -> Counter:
        """Units the store holds back for orders OfficeGuy has no document for (by the Woo id holding the
        stock); with ``uncredited``, less the units Woo put back for documented orders whose credit
        OfficeGuy does not have yet (defect 5 of issue 9)."""
        from officeguy_woocommerce.include.documents import external_reference

        held: Counter[int] = Counter()
        for oid, order in orders.items():
            documented = bool(sales.get(external_reference(self.woo.url, oid)))
            for line in order["line_items"]:
                woo_id = line["variation_id"] or line["product_id"]
                holder = next(s.holder for s in self.sellables if s.woo_id == woo_id)
                meta = {m["key"]: m["value"] for m in line["meta_data"]}
                if not documented and order["status"] in REDUCING:
                    held[holder] += int(meta.get("_reduced_stock") or 0)
            if documented and uncredited:
                model = self.orders[oid]
                sale = sales[external_reference(self.woo.url, oid)][0]
                credited = self.og.credits_of(sale["id"])["credited_quantities"]
                back = self.returned_units(model, order)
                by_holder: Counter[int] = Counter()
                for woo_id, units in back.items():
                    by_holder[next(s.holder for s in self.sellables if s.woo_id == woo_id)] += units
                for holder, units in by_holder.items():
                    card = self.holder_card(holder)
                    held[holder] -= units - round(credited.get(card, 0))
        return held

    def _check_store(self, orders: dict[int, dict], sales: dict[str, list[dict]], *,
                     during: bool = False) -> list[Violation]:
        """Woo = floor(OfficeGuy) - pending for every matched managed item (and the stock status of the
        unmanaged one), pending counting the refunds and cancellations OfficeGuy has no credit for yet."""
        found = []
        products = self.woo_products()
        stock = self.og_stock()
        pending = self.pending(orders, sales, uncredited=True)
        holders = dict(self.holders)
        made = self.created_cards()
        if 18 in made and self.purchases[made[18]]:
            holders[made[18]] = 18  # opened by a purchase order: synced from then on
        for card, holder in sorted(holders.items()):
            floor = math.floor(stock[card])
            want = floor - pending[holder]
            have = products[holder]["stock_quantity"]
            if have != want:
                found.append(Violation("wrong_write", f"Woo {holder} has {have}, expected floor(OfficeGuy card "
                                                      f"{card} = {stock[card]}) - pending {pending[holder]} = {want}"
                                                      f"{' (during the history)' if during else ''}"))
        want_status = "instock" if stock[1006] - pending[19] > 0 else "outofstock"
        if products[19]["stock_status"] != want_status:
            found.append(Violation("wrong_write", f"Woo 19 (unmanaged) is {products[19]['stock_status']}, expected "
                                                  f"{want_status} (OfficeGuy {stock[1006]})"))
        return found

    def check_after_stock_run(self, out: dict, fired_before: int) -> list[Violation]:
        """After a stock run that met no fault and succeeded, what it left must be right (I3/I4): Woo =
        floor(OfficeGuy) - pending, refunds and cancellations not yet credited included."""
        if self.fired_total() != fired_before or out.get("_failed") or out.get("_killed") \
                or out.get("_state", "success") != "success":
            return []
        from officeguy_woocommerce.include.documents import external_reference

        orders = {o["id"]: o for o in self.woo_orders()}
        sales: dict[str, list[dict]] = {}
        for doc in self.og.documents():
            if doc["type"] in SALE_TYPES and doc["external_reference"]:
                sales.setdefault(doc["external_reference"], []).append(doc)
        del external_reference
        return self._check_store(orders, sales, during=True)

    # ------------------------------------------------------------------ secrets
    def leaks(self) -> list[Violation]:
        """No credential in the logs, the step outputs (XCom), the ledger, the reports or staging files."""
        places: dict[str, str] = {
            "logs": "\n".join(line for _, line in self.capture.lines),
            "XCom (step outputs)": json.dumps(self.xcoms, default=str),
            "ledger": self._ledger_dump(),
        }
        for folder in ("reports", "staging"):
            root = self.home / folder
            for path in sorted(root.rglob("*")) if root.exists() else ():
                if path.is_file():
                    places[f"{folder}/{path.relative_to(root)}"] = path.read_text(encoding="utf-8", errors="replace")
        found = []
        for where, text in places.items():
            for name, secret in self.secrets.items():
                if secret and secret in text:
                    at = text.index(secret)
                    found.append(Violation("leak", f"the {name} appears in {where}: "
                                                   f"...{text[max(at - 120, 0):at + 20]!r}..."))
        return found

    def _ledger_dump(self) -> str:
        import sqlalchemy as sa

        out = []
        with self.ledger.engine.connect() as conn:
            for table in sa.inspect(conn).get_table_names():
                out += [repr(tuple(row)) for row in conn.execute(sa.text(f'SELECT * FROM "{table}"'))]
        return "\n".join(out)


class capturing:  # noqa: N801 - a context manager used like a function
    """The world's log handler on the root logger at DEBUG (transport libraries included)."""

    def __init__(self, world: World) -> None:
        self.world = world

    def __enter__(self):
        root = logging.getLogger()
        self.level = root.level
        self.quiet = {name: logging.getLogger(name).level for name in NOISY}
        root.addHandler(self.world.capture)
        root.setLevel(logging.DEBUG)
        for name in NOISY:
            logging.getLogger(name).setLevel(logging.WARNING)
        return self

    def __exit__(self, *exc):
        root = logging.getLogger()
        root.removeHandler(self.world.capture)
        root.setLevel(self.level)
        for name, level in self.quiet.items():
            logging.getLogger(name).setLevel(level)


def stats_path() -> Path | None:
    value = os.environ.get("MODEL_STATS")
    return Path(value) if value else None
