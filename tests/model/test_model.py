"""A model-based test of the whole system (issue 9): random histories over both sandboxes.

Hypothesis' ``RuleBasedStateMachine`` drives the supplier (purchase orders in OfficeGuy), the
store (paid, on-hold, completed, cancelled and edited orders of simple products, variations,
parent-managed variations and a product OfficeGuy has no card for; partial and full refunds with
and without restock; the merchant typing stock), the project (stock runs, scheduled and manual
orders runs with and without ``order_ids``, backfills over past windows) and faults (5xx, 429,
timeouts, drops before and after commit, OfficeGuy's 403 block, a task killed between claim and
record, a ledger write failing). At the end of every history the faults are cleared, the flows run
until quiet, and ``World.check`` compares the sandboxes' state with the model (tests/model/world.py).

CI: ``MODEL_HISTORIES`` (default 200) histories from a fixed seed (``MODEL_SEED``, default 9: the same
histories on every run, as hypothesis' seed), about every
tenth one through the real DAGs (``dag.test()``; which ones, a hash of the history's drawn start decides). ``make soak``: 2,000 with a fresh seed. A
violation that matches a known, strictly-xfailed defect (tests/model/test_regressions.py) is
counted, not raised; any other one fails the test with the shrunk history.
"""

from __future__ import annotations

import json
import os
import random
import sys
import zlib
from collections import Counter

import hypothesis.core as hypothesis_core
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule, run_state_machine_as_test

from tests.model.world import HistoryFailed, World, stats_path

HISTORIES = int(os.environ.get("MODEL_HISTORIES", "200"))
_SEED = os.environ.get("MODEL_SEED", "9")
SEED = random.SystemRandom().randrange(2**32) if _SEED == "random" else int(_SEED)
STEPS = int(os.environ.get("MODEL_STEPS", "9"))
REAL_DAG_SHARE = int(os.environ.get("MODEL_REAL_DAG_EVERY", "10"))  # one history in N runs the real DAGs
pytestmark = [pytest.mark.airflow, pytest.mark.timeout(max(1800, HISTORIES * 8))]
SHRINK = os.environ.get("MODEL_SHRINK", "1") != "0"
SURVEY = os.environ.get("MODEL_SURVEY") == "1"  # record every violation, raise none (to list what fails)

# Violations that the known defects explain: counted and reported, not raised, while their strict
# xfail regression test still fails (matched by the `known` tag World.check sets, or by
# KNOWN_MATCHERS below). Empty when the project has none: remove an entry when its xfail XPASSes.
KNOWN: dict[str, str] = {}  # every model finding so far (M1-M6) is fixed; see test_regressions.py

OG_PATHS = ["documents/create", "incomeitems/create", "stock/stock/list", "incomeitems/list", "documents/list"]
WOO_PATHS = [("GET", r"/products$"), ("GET", r"/variations$"), ("POST", r"/batch$"), ("GET", r"/orders$"),
             ("PUT", r"/orders/\d+$"), ("POST", r"/notes$"), ("GET", r"/refunds$"), ("GET", r"/settings/")]
OG_KINDS = [("status", 500), ("status", 503), ("status", 403), ("error_after", 502), ("drop", None),
            ("timeout", None)]
WOO_KINDS = [("status", 500), ("status", 503), ("status", 429), ("error_after", 502), ("drop", None),
             ("timeout", None)]
LEDGER_METHODS = ["record_document", "ensure_documents", "mark_written_back", "record_changes", "record_card",
                  "move_watermark", "finish_run"]

# Faults armed just before a run, on calls that run makes (the standalone fault rules may wait for a
# call that never comes): (system, kind, status, method, path, times); None: a clean run.
STOCK_RUN_FAULTS = [None,
                    ("og", "status", 503, None, "stock/stock/list", 1), ("og", "status", 403, None, "stock/stock/list", 2),
                    ("og", "timeout", None, None, "incomeitems/list", 1), ("og", "drop", None, None, "incomeitems/list", 1),
                    ("woo", "status", 500, "GET", r"/products$", 2), ("woo", "status", 429, "GET", r"/variations$", 1),
                    ("woo", "drop", None, "POST", r"/batch$", 1), ("woo", "error_after", 502, "POST", r"/batch$", 1),
                    ("woo", "status", 503, "GET", r"/orders$", 3)]
ORDERS_RUN_FAULTS = [None,
                     ("woo", "status", 503, "GET", r"/orders$", 1), ("woo", "drop", None, "GET", r"/orders$", 1),
                     ("woo", "status", 500, "GET", r"/settings/", 2), ("og", "drop", None, None, "documents/create", 1),
                     ("og", "timeout", None, None, "documents/create", 1),
                     ("og", "error_after", 502, None, "documents/create", 1),
                     ("og", "status", 403, None, "documents/create", 2), ("og", "status", 500, None, "documents/list", 1),
                     ("og", "error_after", 502, None, "incomeitems/create", 1),
                     ("woo", "status", 500, "PUT", r"/orders/\d+$", 3), ("woo", "drop", None, "POST", r"/notes$", 1),
                     ("woo", "status", 503, "GET", r"/refunds$", 2)]

WORLD: World | None = None


class History(RuleBasedStateMachine):
    """One history of the shop, OfficeGuy and the project; see the module docstring."""

    def __init__(self) -> None:
        super().__init__()
        self.w = WORLD
        self.arms_waiting = 0

    @initialize(stock=st.lists(st.integers(0, 20), min_size=7, max_size=7), fraction=st.booleans(),
                auth=st.sampled_from(["basic", "query"]))
    def start(self, stock, fraction, auth):
        # about one history in REAL_DAG_SHARE runs the real DAGs, chosen from the drawn start alone: never from
        # state outside the draws (such as how many histories ran before), or two replays of one history
        # would differ (hypothesis' FlakyStrategyDefinition, soaks of 38bf6b6 and 664ca86)
        real = REAL_DAG_SHARE > 0 and zlib.crc32(repr((stock, fraction, auth)).encode()) % REAL_DAG_SHARE == 0
        self.w.start_history(stock=stock, fraction=fraction, real_dags=real, auth=auth)
        self.since_orders_run = self.since_stock_run = 0
        self.orders_placed = self.ledger_was_lost = False
        # faults armed by the fault rules since the last flow run: the preconditions may read only the
        # model's own state (how many of them fired depends on timing and the writers' concurrency, and a
        # precondition on that makes hypothesis's replay differ: FlakyStrategyDefinition, soak of ae32d98)
        self.arms_waiting = 0

    def _arm_for_run(self, fault) -> None:
        if fault is not None:
            system, kind, status, method, path, times = fault
            self.w.stats["actions"]["fault armed for the next run"] += 1
            self.w.trace.append(f"  fault {system} {kind} {status or ''} {method or ''} {path} x{times}")
            self.w.arm(system, kind, path, times=times, status=status, method=method)

    def _step(self) -> None:
        """A rule that is not a flow run was chosen: the flows have something new to look at.

        Called first in such a rule, before anything that may make it a no-op, so that the flow runs'
        preconditions depend only on which rules hypothesis chose. Whether a rule had an effect can depend on
        run-time behaviour (a card the project created or not yet, after a timeout; the real clock of a
        real-DAG history); a precondition on that makes two replays of one prefix enable different rules:
        hypothesis' FlakyStrategyDefinition "while selecting a rule" (soak of 38bf6b6)."""
        self.since_orders_run += 1
        self.since_stock_run += 1

    def _act(self, name: str) -> None:
        """Count the action and add it to the history's trace (the rule and its arguments)."""
        self.w.stats["actions"][name] += 1
        self.w.stats["steps"] += 1
        caller = sys._getframe(1)
        args = {k: v for k, v in caller.f_locals.items() if k != "self" and isinstance(v, int | str | bool | list)}
        self.w.trace.append(f"{caller.f_code.co_name}({', '.join(f'{k}={v!r}' for k, v in args.items())})")

    # -------------------------------------------------------------- the supplier and the store
    @rule(card=st.sampled_from([1001, 1002, 1003, 1004, 1005, 1006, "new"]), quantity=st.integers(1, 12))
    def purchase_order(self, card, quantity):
        self._step()
        self.w.tick(3)  # before anything that may make the rule a no-op: the model's minutes decide backfills
        if card == "new":
            card = self.w.created_cards().get(18)  # whether the project made it yet depends on timing
            if card is None:
                return
        self._act("purchase order in OfficeGuy")
        self.w.purchase(card, quantity)

    _PICKS = st.lists(st.tuples(st.integers(0, 6), st.integers(1, 3)), min_size=1, max_size=2,
                      unique_by=lambda t: t[0])

    def _order(self, picks, status, minutes):
        self._step()
        self._act(f"new {status} order")
        self.orders_placed = True
        self.w.create_order([(self.w.sellables[i], q) for i, q in picks], status)
        self.w.tick(minutes)

    @rule(picks=_PICKS, minutes=st.integers(1, 20))
    def a_customer_pays(self, picks, minutes):
        self._order(picks, "processing", minutes)

    @rule(picks=_PICKS, minutes=st.integers(1, 20))
    def another_customer_pays(self, picks, minutes):
        self._order(picks, "processing", minutes)

    @rule(picks=_PICKS, minutes=st.integers(1, 20))
    def an_order_on_hold(self, picks, minutes):
        self._order(picks, "on-hold", minutes)

    def _pick(self, index: int, allowed) -> int | None:
        eligible = [oid for oid, m in sorted(self.w.orders.items()) if allowed(m)]
        return eligible[index % len(eligible)] if eligible else None

    @rule(index=st.integers(0, 50), to=st.sampled_from(["processing", "completed", "cancelled"]))
    def change_status(self, index, to):
        self._step()
        sources = {"processing": ("on-hold",), "completed": ("processing",),
                   "cancelled": ("processing", "on-hold", "completed")}[to]
        self.w.tick(2)
        oid = self._pick(index, lambda m: m.status in sources and not m.edited)
        if oid is None:
            return
        self._act(f"order -> {to}")
        self.w.set_status(oid, to)

    @rule(index=st.integers(0, 50), more=st.integers(1, 3))
    def edit(self, index, more):
        self._step()
        self.w.tick(2)
        oid = self._pick(index, lambda m: m.status in ("processing", "on-hold", "completed") and not m.edited
                         and not m.refunds)
        if oid is None:
            return
        self._act("order edited")
        line_id = min(self.w.orders[oid].lines)
        current = self.w.woo_call("GET", f"/orders/{oid}")["line_items"]
        quantity = next(li["quantity"] for li in current if li["id"] == line_id) + more
        self.w.edit_order(oid, line_id, quantity)

    @rule(index=st.integers(0, 50), full=st.booleans(), restock=st.booleans())
    def refund_of_lines(self, index, full, restock):
        self.refund(index, full, restock, False)

    @rule(index=st.integers(0, 50), full=st.booleans(), restock=st.booleans(), amount_only=st.booleans())
    def refund(self, index, full, restock, amount_only):
        self._step()
        self.w.tick(2)
        oid = self._pick(index, lambda m: m.status in ("processing", "completed") and not m.edited)
        if oid is None:
            return
        self._act(f"{'full' if full else 'partial'} refund{' (amount only)' if amount_only else ''}"
                  f"{' with restock' if restock and not amount_only else ''}")
        self.w.refund(oid, full=full, restock=restock, amount_only=amount_only)

    @rule(index=st.integers(0, 5), quantity=st.integers(0, 30))
    def merchant_edits_stock(self, index, quantity):
        self._step()
        self._act("merchant edits Woo stock")
        self.w.merchant_stock(self.w.sellables[index], quantity)
        self.w.tick(1)

    @rule(minutes=st.integers(5, 60))
    def time_passes(self, minutes):
        """Time passes; from 15 minutes on, the claims of tasks that died have run out of lease."""
        self.w.tick(minutes)
        if minutes >= 15:
            self._step()
            self._act("claim leases run out")
            self.w.expire_leases()

    # -------------------------------------------------------------- the project
    # A flow run only when something happened since the last one (hypothesis would otherwise spend
    # whole histories re-running the flows), and at most two faults of each sort waiting at once.
    @precondition(lambda self: self.since_stock_run > 0)
    @rule(force=st.booleans(), dry_run=st.sampled_from([False] * 5 + [True]),
          skus=st.sampled_from([[]] * 4 + [["MB-10", "MB-12-S"], ["MB-15"]]),
          fault=st.sampled_from(STOCK_RUN_FAULTS), full_read=st.sampled_from([False, False, True]))
    def stock_run(self, force, dry_run, skus, fault, full_read=False):
        self._act("stock run")
        self._arm_for_run(fault)
        before = self.w.fired_total()
        self.since_stock_run = 0
        self.arms_waiting = 0
        out = self.w.run_stock({"force": force, "dry_run": dry_run, "skus": skus, "full_read": full_read})
        if not dry_run and not skus:
            self._raise(self.w.check_after_stock_run(out, before))
        self.w.tick(2)

    @precondition(lambda self: self.since_orders_run > 0)
    @rule(fault=st.sampled_from(ORDERS_RUN_FAULTS))
    def scheduled_orders_run(self, fault=None):
        self._act("scheduled orders run")
        self._arm_for_run(fault)
        self.since_orders_run = 0
        self.arms_waiting = 0
        self.w.run_orders("scheduled")
        self.w.tick(2)

    @precondition(lambda self: self.since_orders_run > 0)
    @rule(minutes=st.integers(10, 30), fault=st.sampled_from(ORDERS_RUN_FAULTS))
    def next_scheduled_orders_run(self, minutes, fault):
        self.w.tick(minutes)
        self.scheduled_orders_run(fault)

    @precondition(lambda self: self.since_orders_run > 0)
    @rule(named=st.lists(st.integers(0, 50), max_size=2), fault=st.sampled_from(ORDERS_RUN_FAULTS))
    def manual_orders_run(self, named, fault):
        ids = sorted({sorted(self.w.orders)[i % len(self.w.orders)] for i in named}) if self.w.orders else []
        self._act("manual orders run" + (" with order_ids" if ids else ""))
        self._arm_for_run(fault)
        self.since_orders_run = 0
        self.arms_waiting = 0
        self.w.run_orders("manual", {"order_ids": ids})
        self.w.tick(2)

    @precondition(lambda self: self.since_orders_run > 0)
    @rule(slot=st.integers(0, 40), width=st.integers(1, 8))
    def backfill(self, slot, width):
        from datetime import timedelta

        # whether the window is in the past is decided on the model's minutes (the ticks), never on the clock
        # or on whether the history runs the real DAGs: see _step
        if 15 * slot >= self.w.model_minutes:
            return
        now = self.w.now.replace(second=0)
        # on the virtual clock the start is in the past already; a real-clock history started two hours back
        start = min(self.w.start + timedelta(minutes=15 * slot), now - timedelta(minutes=16))
        end = max(min(start + timedelta(minutes=15 * width), now), start + timedelta(minutes=1))
        self._act("backfill over a past window")
        self.since_orders_run = 0
        self.arms_waiting = 0
        self.w.run_orders("backfill", interval=(start, end))
        self.w.tick(1)

    # -------------------------------------------------------------- faults
    @precondition(lambda self: self.arms_waiting < 3)
    @rule(where=st.integers(0, len(OG_PATHS) - 1), kind=st.integers(0, len(OG_KINDS) - 1),
          times=st.sampled_from([1, 1, 2, 3, 0]))
    def officeguy_fault(self, where, kind, times):
        name, status = OG_KINDS[kind]
        if name == "timeout" and times in (0, 3):
            times = 1
        self._step()
        self._act("fault armed (OfficeGuy)")
        self.arms_waiting += 1
        self.w.arm("og", name, OG_PATHS[where], times=times, status=status)

    @precondition(lambda self: self.arms_waiting < 3)
    @rule(where=st.integers(0, len(WOO_PATHS) - 1), kind=st.integers(0, len(WOO_KINDS) - 1),
          times=st.sampled_from([1, 1, 2, 3, 0]))
    def woocommerce_fault(self, where, kind, times):
        name, status = WOO_KINDS[kind]
        if name == "timeout" and times in (0, 3):
            times = 1
        method, path = WOO_PATHS[where]
        self._step()
        self._act("fault armed (WooCommerce)")
        self.arms_waiting += 1
        self.w.arm("woo", name, path, times=times, status=status, method=method)

    @precondition(lambda self: self.arms_waiting < 3)
    @rule(where=st.integers(0, len(OG_PATHS) - 1), kind=st.integers(0, len(OG_KINDS) - 1),
          times=st.sampled_from([1, 2, 3, 0]))
    def another_officeguy_fault(self, where, kind, times):
        self.officeguy_fault(where, kind, times)

    @precondition(lambda self: self.arms_waiting < 3)
    @rule(where=st.integers(0, len(WOO_PATHS) - 1), kind=st.integers(0, len(WOO_KINDS) - 1),
          times=st.sampled_from([1, 2, 3, 0]))
    def another_woocommerce_fault(self, where, kind, times):
        self.woocommerce_fault(where, kind, times)

    def _run_now(self, then_run: bool, stock: bool) -> None:
        """A project fault waits for the call it breaks; ``then_run``: the run that makes it comes at once
        (else a later rule's run, or none: settling clears it)."""
        if not then_run:
            return
        if stock:
            self.since_stock_run = 1
            self.stock_run(force=False, dry_run=False, skus=[], fault=None)
        else:
            self.since_orders_run = 1
            self.manual_orders_run(named=[], fault=None)

    @precondition(lambda self: len(self.w.patches) < 2)
    @rule(where=st.sampled_from(OG_PATHS[:3] + [r"/orders/\d+$", "/batch$"]), times=st.integers(1, 3),
          then_run=st.booleans())
    def connection_drops_before_commit(self, where, times, then_run):
        self._step()
        self._act("connection dropped before commit")
        self.w.drop_before_commit("woo" if where.startswith("/") else "og", where, times)
        self._run_now(then_run, stock=where in ("stock/stock/list", "/batch$"))

    @precondition(lambda self: len(self.w.patches) < 2)
    @rule(after_call=st.booleans(), then_run=st.booleans())
    def task_killed(self, after_call, then_run):
        self._step()
        self._act("task killed between claim and record")
        self.w.kill_between_claim_and_record(after_call)
        self._run_now(then_run, stock=False)

    @precondition(lambda self: len(self.w.patches) < 2)
    @rule(method=st.sampled_from(LEDGER_METHODS), then_run=st.booleans())
    def ledger_write_fails(self, method, then_run):
        self._step()
        self._act("ledger write fails once")
        self.w.fail_ledger_once(method)
        self._run_now(then_run, stock=method == "record_changes")

    @precondition(lambda self: self.orders_placed and not self.ledger_was_lost)
    @rule(then_scheduled=st.booleans())
    def ledger_lost(self, then_scheduled):
        """The ledger is lost once in a history (a new volume, an old backup); the next orders run may be a
        scheduled one or a manual one."""
        self._step()
        self.ledger_was_lost = True
        self._act("ledger lost")
        self.w.lose_ledger()
        if then_scheduled:
            self.since_orders_run = 1
            self.scheduled_orders_run()

    # -------------------------------------------------------------- the end of a history
    def _raise(self, violations) -> None:
        for v in violations:
            v.known = v.known if all(k in KNOWN for k in v.known.split("+") if k) else ""
            if not v.known:
                v.known = next((k for k, match in KNOWN_MATCHERS.items() if k in KNOWN and match(v, self.w)), "")
        self.w.violations += violations
        new = [v for v in violations if not v.known]
        if new and not SURVEY:
            raise HistoryFailed("\n".join(map(str, new)))

    def teardown(self):
        w = self.w
        if w is None or not hasattr(w, "cat"):
            return
        try:
            self._raise(w.settle() + w.check())
        finally:
            w.clear_faults()
            record(w)


KNOWN_MATCHERS: dict = {}  # name -> predicate(violation, world), for a known defect's violations


def record(w: World) -> None:
    """Add the history's figures to the run's totals."""
    for system, kind, where in w.fault_log:
        w.stats["faults"][f"{system} | {kind} | {where}"] += 1
    for kind, where in w.local_faults:
        w.stats["faults"][f"project | {kind} | {where}"] += 1
    w.fault_log.clear()
    w.local_faults.clear()
    seen = set()
    for v in w.violations:
        if (v.kind, v.detail) in seen:
            continue
        seen.add((v.kind, v.detail))
        w.stats["outcomes"][v.kind] += 1
        if v.known:
            w.stats["known"][v.known] += 1
        if len(w.stats["violations"]) < 200:
            w.stats["violations"].append(str(v))
        if not v.known and len(w.stats.setdefault("traces", [])) < 40:
            w.stats["traces"].append({"violation": str(v), "history": list(w.trace)})
    w.violations.clear()
    w.stats["paid_orders"] = w.stats.get("paid_orders", 0) + sum(1 for m in w.orders.values() if m.paid)
    w.stats["orders"] = w.stats.get("orders", 0) + len(w.orders)


def test_model_histories(model_world, airflow_db):
    """CI: ``MODEL_HISTORIES`` histories (>= 200) from a fixed seed; see the module docstring."""
    global WORLD
    world = model_world
    world.real_dags_available = REAL_DAG_SHARE > 0
    world.reset_stats()
    WORLD = world
    forced = hypothesis_core.global_force_seed
    hypothesis_core.global_force_seed = SEED  # the same histories on every run with this seed
    try:
        run_state_machine_as_test(History, settings=settings(
            max_examples=HISTORIES, stateful_step_count=STEPS, derandomize=False, database=None,
            deadline=None, suppress_health_check=list(HealthCheck), print_blob=True,
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target] + ([Phase.shrink] if SHRINK else [])),
            _min_steps=STEPS // 2)
    finally:
        hypothesis_core.global_force_seed = forced
        WORLD = None
        write_stats(world, "model")
    assert world.stats["histories"] >= HISTORIES
    assert sum(world.stats["faults"].values()) >= 200 or HISTORIES < 200, world.stats["faults"]


def write_stats(world: World, name: str) -> None:
    path = stats_path()
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(path.read_text()) if path.exists() else {}
    stats = world.stats
    data[name] = {
        "seed": SEED, "seed_setting": _SEED, "max_examples": HISTORIES, "steps_per_history": STEPS,
        "histories": stats["histories"], "real_dag_histories": stats["real_dag_histories"], "steps": stats["steps"],
        "orders": stats.get("orders", 0), "paid_orders": stats.get("paid_orders", 0),
        "actions": dict(Counter(stats["actions"]).most_common()), "runs": dict(stats["runs"]),
        "faults": dict(Counter(stats["faults"]).most_common()), "outcomes": dict(stats["outcomes"]),
        "known": dict(stats["known"]), "violations": stats["violations"], "traces": stats.get("traces", []),
    }
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False))




