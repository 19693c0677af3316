"""Paid order -> OfficeGuy document through the store's webhooks, on a running Airflow:
``python -m bench.webhooks [--orders 20] [--mode immediate|cron|both]``.

Per mode, a fresh Airflow (tests/stack.py ``AirflowStack``: api-server, scheduler, dag-processor and
triggerer; LocalExecutor; fresh PostgreSQL database) with the orders DAG unpaused as shipped (its cron
poll, ``STOCK_SYNC_ORDERS_EVERY`` default 15 minutes, beside the store's asset), and two sandboxes in
this process: WooCommerce (dataset ``demo``) delivering webhooks as 9.4.3 does, and OfficeGuy (dataset
``demo``, 600 calls a minute as the real API). ``register_webhooks --url <api-server>`` registers the
two order webhooks; the poll run that unpausing starts is waited out; then:

- a *storefront* thread sends ``GET /`` to the store every ``--traffic-every`` seconds (5): the
  site traffic WP-Cron needs (the DAG's own REST calls reach the store too, as they would);
- ``--orders`` orders (1-2 lines of in-stock simple products) are paid one after another
  (``POST /orders`` with ``set_paid``), paced by a uniform random gap of ``--pace-min``..``--pace-max``
  seconds (10-20, seeded);
- an observer reads the OfficeGuy sandbox's documents every ``--poll`` seconds (0.2) and notes when a
  document whose ExternalReference ends in ``:<order id>`` first exists (so up to 0.2 s late);
- every delivery the store makes is taken from its delivery log as it is written (a handler on the
  sandbox's ``sandbox.woocommerce.webhooks`` logger, called right after the endpoint answered; the
  log's ``Duration`` gives when the request was sent). The endpoint's own record is the asset event's
  ``timestamp`` in Airflow's database (written by the api-server when it accepts the delivery).

Modes: ``immediate`` (a store with a system cron / synchronous delivery: sent right after the request
that paid the order) gives figure (a), webhook received -> document; ``cron`` (WooCommerce's default:
queued, sent by WP-Cron at most once a minute and only when a request reaches the site) gives figure
(b), payment -> document end to end. Both figures are computed in both modes.

Nothing in plugins/, include/ or dags/ is changed or instrumented. Results go to bench/RESULTS.md
in a section titled with the command (``--no-record``: print only).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from bench.latency import _append_section, _shell  # one writer of RESULTS.md sections

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "var" / "bench" / "webhooks"
ORDERS = "woocommerce_orders_to_officeguy"
SECRET = "whsec-bench-0123456789abcdef"  # noqa: S105 - the bench store's webhook secret
TASKS = ("orders_window", "extract_orders", "plan_documents", "create_item_cards", "create_documents",
         "write_back", "report")
TARGET_A_MEDIAN = 15.0
TARGET_B_MEDIAN, TARGET_B_WORST = 60.0, 90.0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--mode", choices=("immediate", "cron", "both"), default="both")
    parser.add_argument("--pace-min", type=float, default=10.0, help="least seconds between two payments")
    parser.add_argument("--pace-max", type=float, default=20.0, help="most seconds between two payments")
    parser.add_argument("--traffic-every", type=float, default=5.0, help="seconds between storefront requests")
    parser.add_argument("--poll", type=float, default=0.2, help="seconds between looks at OfficeGuy's documents")
    parser.add_argument("--drain-timeout", type=float, default=420.0,
                        help="seconds after the last payment to wait for the last document")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--no-record", action="store_true", help="do not write bench/RESULTS.md")
    args = parser.parse_args()
    command = "python -m bench.webhooks " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    started_at = _shell("date -u")
    modes = ("immediate", "cron") if args.mode == "both" else (args.mode,)
    results = []
    for mode in modes:
        result = bench_mode(mode, args)
        results.append(result)
        (WORK / f"result-{mode}.json").write_text(json.dumps(result, indent=1, default=str))
    section = render(command, started_at, args, results)
    print(section)
    if not args.no_record:
        _append_section(section)


# --------------------------------------------------------------------------------------------- one mode
class DeliveryLog(logging.Handler):
    """Every delivery the store logs (WooCommerce's ``webhooks-delivery`` log), as it is logged."""

    BODY_ID = re.compile(r'\[Body\] => \{\\"id\\":(\d+)')
    DURATION = re.compile(r"\[Duration\] => ([0-9.eE-]+)")

    def __init__(self, runtime) -> None:
        super().__init__(logging.INFO)
        self.runtime = runtime
        self.rows: list[dict] = []
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            entry = self.runtime.log[-1]  # appended just before this line was logged, in the same thread
            text = entry["text"]
            oid = self.BODY_ID.search(text)
            dur = self.DURATION.search(text)
            duration = float(dur.group(1)) if dur else 0.0
            with self._lock:
                self.rows.append({"order_id": int(oid.group(1)) if oid else None, "topic": entry["topic"],
                                  "code": entry["code"], "success": entry["success"],
                                  "answered": record.created, "sent": record.created - duration})
        except Exception:  # noqa: BLE001 - a bench observer must not break the store's runner
            self.handleError(record)


class Storefront(threading.Thread):
    """A visitor's page load every ``every`` seconds: what spawns WP-Cron on a store without a system cron."""

    def __init__(self, url: str, every: float) -> None:
        super().__init__(daemon=True, name="storefront")
        self.url, self.every = url, every
        self.stop_event = threading.Event()
        self.count = 0

    def run(self) -> None:
        with requests.Session() as session:
            session.trust_env = False
            while not self.stop_event.is_set():
                try:
                    session.get(self.url + "/", timeout=10)
                    self.count += 1
                except requests.RequestException:
                    pass
                self.stop_event.wait(self.every)

    def stop(self) -> None:
        self.stop_event.set()
        self.join(timeout=15)


class DocumentWatch(threading.Thread):
    """Notes when a document with ExternalReference ending in ``:<order id>`` first exists in OfficeGuy."""

    def __init__(self, og, poll: float) -> None:
        super().__init__(daemon=True, name="og-watch")
        self.og, self.poll = og, poll
        self.seen: dict[str, float] = {}  # external reference -> first seen
        self.stop_event = threading.Event()

    def run(self) -> None:
        from sqlalchemy import select

        from sandbox.officeguy.store import Document

        while not self.stop_event.is_set():
            now = time.time()
            try:
                with self.og.app.state.store.reading() as session:
                    refs = session.execute(select(Document.external_reference).where(
                        Document.external_reference.is_not(None))).scalars().all()
                for ref in refs:
                    self.seen.setdefault(ref, now)
            except Exception:  # noqa: BLE001 - a busy SQLite: look again
                pass
            self.stop_event.wait(self.poll)

    def first(self, order_id: int) -> float | None:
        hits = [t for ref, t in list(self.seen.items()) if ref.endswith(f":{order_id}")]
        return min(hits) if hits else None

    def stop(self) -> None:
        self.stop_event.set()
        self.join(timeout=15)


def bench_mode(mode: str, args) -> dict:
    from sandbox.officeguy.testing import og_sandbox
    from sandbox.woocommerce.testing import woo_sandbox
    from tests.stack import AirflowStack, connection_env

    work = WORK / mode
    work.mkdir(parents=True)
    rng = random.Random(args.seed)
    woo_options = {"webhook_delivery": mode, "webhook_allow_any_port": True,
                   "webhook_log_path": str(work / "webhooks-delivery.log")}
    if mode == "cron":
        woo_options.update(webhook_cron_interval=60.0, webhook_cron_needs_traffic=True)
    print(f"[{mode}] sandboxes and Airflow starting ...", flush=True)
    with woo_sandbox(work / "woo", dataset="demo", **woo_options) as woo, \
            og_sandbox(work / "og", dataset="demo", rate_limit_per_minute=600) as og:
        env = {
            "AIRFLOW_CONN_WOOCOMMERCE_DEFAULT": connection_env("woocommerce", woo.url, woo.consumer_key,
                                                               woo.consumer_secret, webhook_secret=SECRET),
            "AIRFLOW_CONN_OFFICEGUY_DEFAULT": connection_env("officeguy", og.url, str(og.company_id), og.api_key),
            "STOCK_SYNC_HOME": str(work / "stock_sync"),
            "STOCK_SYNC_GO_LIVE": (datetime.now(UTC) - timedelta(days=1)).date().isoformat(),
            "STOCK_SYNC_SCHEDULE": "none",  # the stock DAG stays out of it; the orders DAG keeps its default poll
        }
        os.environ["AIRFLOW_CONN_WOOCOMMERCE_DEFAULT"] = env["AIRFLOW_CONN_WOOCOMMERCE_DEFAULT"]  # this process pays
        deliveries = DeliveryLog(woo.app.state.webhooks)
        wlog = logging.getLogger("sandbox.woocommerce.webhooks")
        wlog.setLevel(logging.INFO)
        wlog.propagate = False  # the entries are long: keep them in the delivery log file, not on the console
        wlog.addHandler(deliveries)
        storefront = Storefront(woo.url, args.traffic_every)
        watch = DocumentWatch(og, args.poll)
        try:
            with AirflowStack(work / "airflow", env=env, dag_ids=[ORDERS], triggerer=True,
                              db_prefix=f"bench_webhooks_{mode}") as stack:
                stack.cli("dags", "unpause", ORDERS)
                registered = subprocess.run(
                    [sys.executable, "-m", "officeguy_woocommerce.app.register_webhooks", "--url", stack.api],
                    env=stack.env, capture_output=True, text=True, timeout=180, check=False)
                if registered.returncode:
                    raise RuntimeError(f"register_webhooks failed: {registered.stderr[-2000:]}")
                print(f"[{mode}] {registered.stdout.strip()}", flush=True)
                # unpausing runs the latest poll slot (catchup off): let it finish first (it is the warm-up)
                try:
                    stack.wait(lambda: stack.scalar("SELECT count(*) FROM dag_run WHERE dag_id = :d", d=ORDERS) > 0,
                               90, "no poll run after unpausing")
                except RuntimeError as exc:
                    if any(p.poll() is not None for p in stack.procs.values()):
                        raise
                    print(f"[{mode}] {str(exc)[:100]} (going on)", flush=True)
                _wait_runs_done(stack, 300)
                products = _products()
                storefront.start()
                watch.start()
                t0 = time.time()
                load_before, measured_at = _shell("uptime"), _shell("date -u")
                orders = []
                for n in range(args.orders):
                    if n:
                        time.sleep(rng.uniform(args.pace_min, args.pace_max))
                    lines = [{"product_id": p, "quantity": 1} for p in rng.sample(products, rng.choice((1, 1, 2)))]
                    paid = time.time()
                    order = _pay(lines)
                    orders.append({"n": n + 1, "order_id": order["id"], "paid": paid, "answered": time.time(),
                                   "lines": len(lines)})
                    print(f"[{mode}] {time.time() - t0:6.1f} s: paid order {order['id']} ({len(lines)} lines)",
                          flush=True)
                last_paid = time.time()
                deadline = last_paid + args.drain_timeout
                while time.time() < deadline and any(watch.first(o["order_id"]) is None for o in orders):
                    if any(p.poll() is not None for p in stack.procs.values()):
                        raise RuntimeError(f"an Airflow component exited\n{stack.log_tails()}")
                    time.sleep(1)
                missing = [o["order_id"] for o in orders if watch.first(o["order_id"]) is None]
                print(f"[{mode}] {time.time() - t0:6.1f} s: all documented" if not missing else
                      f"[{mode}] not documented after {args.drain_timeout:.0f} s: {missing}", flush=True)
                _wait_runs_done(stack, 300)
                load_after, finished_at = _shell("uptime"), _shell("date -u")
                storefront.stop()
                watch.stop()
                db = _collect(stack, t0)
                cron_runs = woo.app.state.webhooks.runs
                shutil.copy(work / "airflow" / "logs" / "api-server.log", work / "api-server.log")
        finally:
            storefront.stop() if storefront.is_alive() else None
            watch.stop() if watch.is_alive() else None
            wlog.removeHandler(deliveries)
            wlog.propagate = True
    for o in orders:
        o["doc_seen"] = watch.first(o["order_id"])
    return {"mode": mode, "t0": t0, "orders": orders, "deliveries": deliveries.rows, "db": db,
            "storefront_requests": storefront.count, "queue_runs": cron_runs, "load_before": load_before,
            "load_after": load_after, "measured_at": measured_at, "finished_at": finished_at,
            "woo_options": {k: v for k, v in woo_options.items() if k != "webhook_log_path"}}


def _wait_runs_done(stack, seconds: float) -> None:
    stack.wait(lambda: stack.scalar("SELECT count(*) FROM dag_run WHERE dag_id = :d AND state NOT IN "
                                    "('success', 'failed')", d=ORDERS) == 0, seconds, "runs still going")


def _store():
    from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook

    return WooCommerceHook()


def _products() -> list[int]:
    with _store() as hook:
        return [p.id for p in hook.list_stock_items() if p.type == "simple" and p.manage_stock is True
                and (p.stock_quantity or 0) >= 10]


def _pay(lines: list[dict]) -> dict:
    with _store() as hook:
        return hook.request("POST", "/orders", json={
            "set_paid": True, "payment_method": "bacs", "payment_method_title": "Bank transfer",
            "billing": {"first_name": "Dana", "last_name": "Cohen", "email": "dana@example.com"},
            "line_items": lines}).json()


def _ts(value) -> float | None:
    return None if value is None else value.timestamp()


def _collect(stack, t0: float) -> dict:
    """The orders DAG's runs, task instances and the asset events (each with the run that took it)."""
    events = [{"id": r.id, "ts": _ts(r.timestamp), "extra": r.extra if isinstance(r.extra, dict) else
               json.loads(r.extra or "{}"), "run_id": r.run_id}
              for r in stack.rows("SELECT e.id, e.timestamp, e.extra, dr.run_id FROM asset_event e "
                                  "JOIN asset a ON a.id = e.asset_id LEFT JOIN dagrun_asset_event j ON j.event_id = e.id "
                                  "LEFT JOIN dag_run dr ON dr.id = j.dag_run_id WHERE a.name = 'woocommerce_orders_default' "
                                  "ORDER BY e.timestamp")]
    runs = [{"run_id": r.run_id, "run_type": r.run_type, "state": r.state, "created": _ts(r.created_at),
             "queued": _ts(r.queued_at), "start": _ts(r.start_date), "end": _ts(r.end_date)}
            for r in stack.rows("SELECT run_id, run_type, state, created_at, queued_at, start_date, end_date "
                                "FROM dag_run WHERE dag_id = :d ORDER BY created_at", d=ORDERS)]
    tis: dict[str, dict] = {}
    for r in stack.rows("SELECT run_id, task_id, state, try_number, scheduled_dttm, queued_dttm, start_date, end_date "
                        "FROM task_instance WHERE dag_id = :d", d=ORDERS):
        tis.setdefault(r.run_id, {})[r.task_id] = {
            "state": r.state, "try": r.try_number, "scheduled": _ts(r.scheduled_dttm), "queued": _ts(r.queued_dttm),
            "start": _ts(r.start_date), "end": _ts(r.end_date)}
    for run in runs:
        run["tasks"] = tis.get(run["run_id"], {})
        run["events"] = [e for e in events if e["run_id"] == run["run_id"]]
        run["in_bench"] = (run["created"] or 0) >= t0 - 1
    return {"events": events, "runs": runs}


# --------------------------------------------------------------------------------------------- analysis
def analyse(result: dict) -> dict:
    db, deliveries = result["db"], result["deliveries"]
    runs = [r for r in db["runs"] if r["in_bench"]]
    rows = []
    for o in result["orders"]:
        oid = o["order_id"]
        sent = sorted(d["sent"] for d in deliveries if d["order_id"] == oid)
        answered = sorted(d["answered"] for d in deliveries if d["order_id"] == oid)
        ev = sorted(e["ts"] for e in db["events"] if e["extra"].get("order_id") == oid)
        doc = o.get("doc_seen")
        by = _documenting_run(runs, doc)
        rows.append({
            **o, "deliveries": len(sent), "first_sent": sent[0] if sent else None,
            "first_answered": answered[0] if answered else None, "first_event": ev[0] if ev else None,
            "events": len(ev), "by": by,
            "a": _d(doc, sent[0] if sent else None), "a_event": _d(doc, ev[0] if ev else None),
            "b": _d(doc, o["paid"]), "queue": _d(sent[0] if sent else None, o["paid"]),
            "endpoint": _d(ev[0] if ev else None, sent[0] if sent else None),
        })
    run_rows = []
    for r in runs:
        tasks = r["tasks"]
        durations = {t: _d(v["end"], v["start"]) for t, v in tasks.items()}
        busy = sum(v for v in durations.values() if v is not None)
        first_ev = min((e["ts"] for e in r["events"]), default=None)
        order_ids = sorted({e["extra"].get("order_id") for e in r["events"]} - {None})
        docs = [x for x in rows if x["by"] == r["run_id"]]
        run_rows.append({
            "run_id": r["run_id"], "type": r["run_type"], "state": r["state"], "events": len(r["events"]),
            "orders": order_ids, "documented": len(docs), "first_event_to_created": _d(r["created"], first_ev),
            "created_to_start": _d(r["start"], r["created"]), "run": _d(r["end"], r["start"]), "tasks": busy,
            "gaps": (_d(r["end"], r["start"]) or 0) - busy if r["end"] and r["start"] else None,
            "durations": durations, "created": r["created"], "start": r["start"], "end": r["end"],
        })
    return {"orders": rows, "runs": run_rows}


def _documenting_run(runs: list[dict], seen: float | None) -> str | None:
    """The run whose create_documents was going when the document appeared (the watch sees it ≤ poll late)."""
    if seen is None:
        return None
    for r in runs:
        cd = r["tasks"].get("create_documents") or {}
        if cd.get("start") and cd.get("end") and cd["start"] - 0.5 <= seen <= cd["end"] + 1.0:
            return r["run_id"]
    return None


# --------------------------------------------------------------------------------------------- report
def _f(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _d(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _med(values) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def _worst(values) -> float | None:
    vals = [v for v in values if v is not None]
    return max(vals) if vals else None


def _min(values) -> float | None:
    vals = [v for v in values if v is not None]
    return min(vals) if vals else None


def _load(uptime: str) -> str:
    return uptime.split("load average:")[-1].strip() if "load average" in uptime else uptime


def _short_run(run_id: str | None) -> str:
    if not run_id:
        return "—"
    kind, _, stamp = run_id.partition("__")
    return f"{kind} {stamp[11:19]}" if len(stamp) >= 19 else run_id


def render(command: str, started_at: str, args, results: list[dict]) -> str:
    lines = [f"## `{command}`", "",
             f"Run started {started_at} on this machine: **2 cores shared with other work** (other benches and an "
             f"install were running meanwhile: see the load averages). A running Airflow 3.3 per mode (tests/stack.py "
             f"`AirflowStack`: api-server, scheduler, dag-processor, triggerer; LocalExecutor, parallelism 4; fresh "
             f"PostgreSQL 127.0.0.1:5432; all on loopback), the orders DAG unpaused as shipped (asset events plus its "
             f"default 15-minute poll; `max_active_runs` 1), connections at their defaults plus `webhook_secret`. "
             f"WooCommerce and OfficeGuy sandboxes (dataset `demo`; OfficeGuy limited to 600 calls a minute) run in "
             f"the bench's process; `register_webhooks --url <api-server>` registers `order.created` and "
             f"`order.updated`, so each paid order is two deliveries. After the poll run that unpausing starts has "
             f"finished, {args.orders} orders (1-2 lines of in-stock simple products, 1 each) are paid one after "
             f"another with `POST /orders` `set_paid`, a uniform random {args.pace_min:.0f}–{args.pace_max:.0f} s "
             f"apart (seed {args.seed}); a storefront request (`GET /`) reaches the store every "
             f"{args.traffic_every:.0f} s throughout (simulated site traffic; the DAG's own REST calls count as "
             f"traffic too, as on a real site).", "",
             "How each time is taken (one clock, one machine):", "",
             "- **payment**: just before the bench sends `POST /orders`;",
             "- **webhook received**: when the store sent the order's *first* delivery, from its delivery log "
             "(a handler on the sandbox's `webhooks-delivery` logger records the moment the entry is written, right "
             "after the endpoint answered, minus the entry's `Duration`); the endpoint's own record, the asset "
             "event's `timestamp` written by the api-server, is shown beside it (\"endpoint\" column: sent → event "
             "recorded);",
             f"- **document**: the first time the OfficeGuy sandbox holds a document whose ExternalReference ends in "
             f"`:<order id>` (its database read every {args.poll} s: up to {args.poll} s late);",
             "- runs and tasks: `dag_run` (`created_at`, `start_date`, `end_date`) and `task_instance` "
             "(`start_date`, `end_date`), the events each run took from `dagrun_asset_event`.", ""]
    analysed = {r["mode"]: analyse(r) for r in results}
    lines += ["| mode | orders documented | (a) webhook received → document: median / worst s | (a) target ≤ 15 s median | "
              "(b) payment → document: median / worst s | (b) target ≤ 60 s median, ≤ 90 s worst | payment → first "
              "delivery: median / worst s | orders runs (asset / poll) | measured (UTC) | load (`uptime`) before → after |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        an = analysed[r["mode"]]
        o = an["orders"]
        a, b, q = [x["a"] for x in o], [x["b"] for x in o], [x["queue"] for x in o]
        ma, mb, wb = _med(a), _med(b), _worst(b)
        types = [x["type"] for x in an["runs"]]
        ok_a = "met" if ma is not None and ma <= TARGET_A_MEDIAN else "missed"
        ok_b = ("met" if mb is not None and wb is not None and mb <= TARGET_B_MEDIAN and wb <= TARGET_B_WORST
                and all(x["b"] is not None for x in o) else "missed")
        mode = r["mode"] + (" (WP-Cron once a minute, needs traffic)" if r["mode"] == "cron" else
                            " (sent right after the paying request)")
        lines.append(f"| {mode} | {sum(x['doc_seen'] is not None for x in o)} / {len(o)} | {_f(ma)} / {_f(_worst(a))} | "
                     f"{ok_a if r['mode'] == 'immediate' else '(' + ok_a + ')'} | {_f(mb)} / {_f(wb)} | "
                     f"{ok_b if r['mode'] == 'cron' else '(' + ok_b + ')'} | {_f(_med(q))} / {_f(_worst(q))} | "
                     f"{types.count('asset_triggered')} / {types.count('scheduled')} | "
                     f"{r['measured_at']} – {_clock(r['finished_at'])} | {_load(r['load_before'])} → "
                     f"{_load(r['load_after'])} |")
    lines += ["", "Figure (a) is read in the `immediate` mode and figure (b) in the `cron` mode (WooCommerce's default); "
                  "the bracketed verdicts are the same figure in the other mode, for comparison.", ""]
    for r in results:
        an = analysed[r["mode"]]
        t0 = r["t0"]
        lines += [f"### {r['mode']} mode: per order", "",
                  f"Seconds from the first payment. Store queue runs: {r['queue_runs']}; storefront requests: "
                  f"{r['storefront_requests']}; deliveries logged: {len(r['deliveries'])} "
                  f"({sum(d['success'] for d in r['deliveries'])} answered 2xx; by topic: "
                  f"{', '.join(f'{t} × {n}' for t, n in sorted(_topics(r['deliveries']).items()))}).", "",
                  "| # | order | paid at | first delivery sent | endpoint (sent → event) s | deliveries | document at | "
                  "(a) received → document s | (b) payment → document s | documented by run |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for x in an["orders"]:
            lines.append(f"| {x['n']} | {x['order_id']} | {_f(_d(x['paid'], t0))} | {_f(_d(x['first_sent'], t0))} | "
                         f"{_f(x['endpoint'], 2)} | {x['deliveries']} | {_f(_d(x['doc_seen'], t0))} | {_f(x['a'])} | {_f(x['b'])} | "
                         f"{_short_run(x['by'])} |")
        lines += ["", f"### {r['mode']} mode: per run (queued gaps vs tasks)", "",
                  "Seconds. *Event → run created*: the run's first asset event to the scheduler creating the run; "
                  "*created → started*: waiting to start (the previous run still going: `max_active_runs` 1); "
                  "*tasks*: the sum of its task instances' start → end (they run one after another); *gaps*: the run's "
                  "start → end less that sum (scheduling each task, queueing it on the LocalExecutor, starting its "
                  "process).", "",
                  "| run | type | events | orders named | documented | event → run created | created → started | "
                  "run start → end | tasks | gaps | state |", "|---|---|---|---|---|---|---|---|---|---|---|"]
        for x in an["runs"]:
            named = ", ".join(map(str, x["orders"])) if x["orders"] else "(window)"
            lines.append(f"| {_short_run(x['run_id'])} | {x['type']} | {x['events']} | {named} | {x['documented']} | "
                         f"{_f(x['first_event_to_created'])} | {_f(x['created_to_start'])} | {_f(x['run'])} | "
                         f"{_f(x['tasks'])} | {_f(x['gaps'])} | {x['state']} |")
        asset_runs = [x for x in an["runs"] if x["type"] == "asset_triggered"]
        if asset_runs:
            lines += ["", f"Task durations over the {len(asset_runs)} asset-triggered runs (s, median / max), and the gap "
                          "before each task (previous task's end, or the run's start, → this task's start):", "",
                      "| task | duration median | duration max | gap before median | gap before max |", "|---|---|---|---|---|"]
            for task in TASKS:
                durs = [x["durations"].get(task) for x in asset_runs]
                gaps = [_gap_before(r, x, task) for x in asset_runs]
                lines.append(f"| {task} | {_f(_med(durs))} | {_f(_worst(durs))} | {_f(_med(gaps))} | {_f(_worst(gaps))} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def _gap_before(result: dict, run_row: dict, task: str) -> float | None:
    run = next(r for r in result["db"]["runs"] if r["run_id"] == run_row["run_id"])
    tasks = run["tasks"]
    if task not in tasks or tasks[task]["start"] is None:
        return None
    earlier = [v["end"] for t, v in tasks.items() if t != task and v["end"] is not None and v["end"] <= tasks[task]["start"]]
    return tasks[task]["start"] - (max(earlier) if earlier else run["start"])


def _topics(deliveries: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for d in deliveries:
        counts[d["topic"]] = counts.get(d["topic"], 0) + 1
    return counts


def _clock(date_u: str) -> str:
    parts = date_u.split()
    return parts[3] if len(parts) > 3 else date_u


if __name__ == "__main__":
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    main()
