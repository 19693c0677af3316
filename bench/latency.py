"""Manual trigger -> first changed product written in the store, on a running Airflow:
``python -m bench.latency [--executor local|celery|both] [--triggers 10] [--products 10000]``.

Both sandboxes run as their own processes (the WooCommerce one with ``--cost-model``: it costs what a
real 9.4.3 store does, sandbox/woocommerce/cost.py; catalogue ``bench:N``, 20 % variable). For each
executor a fresh Airflow (tests/stack.py: api-server, scheduler, dag-processor on PostgreSQL; with
Celery also a triggerer and two ``airflow celery worker`` processes on Redis) is started, and then, per
trigger:

1. a purchase order in OfficeGuy raises the stock of ``--change-items`` random items (something to write);
2. the stock DAG is triggered through the REST API with a token from ``POST /auth/token`` (what the UI's
   Trigger button does); the clock starts just before that POST;
3. an observer polls, every ``--poll`` seconds, (a) the store's SQLite database (read only, WAL mode)
   for the first product or variation whose stock differs from a snapshot taken before the trigger:
   that is "first changed product written" (a batch item is committed on its own, so this is the
   first item of the first batch, seen at most one poll late), and (b) the sandbox's call counters
   (``GET /__sandbox/stats``, free: no PHP worker, no cost) for when each kind of call first and last
   arrived: product pages, variation lists, batches;
4. when the run is over, the task instances' queued/start/end times come from the metadata database.

Before the measured triggers, one more trigger reads the whole store (there is no earlier read yet): what
a merchant's scheduled run has done before anyone presses Trigger. Its figures are shown on their own;
the measured triggers read only what the store saved since the last read (README "What a run reads").

Per trigger: trigger -> first write, trigger -> run success, how the store was read, and where the time
went. The medians and worst go to bench/RESULTS.md in a section titled with the command (``--no-record``:
print only).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "var" / "bench" / "latency"
RESULTS = ROOT / "bench" / "RESULTS.md"
DAG_ID = "officeguy_stock_to_woocommerce"
TASKS = ("extract_officeguy_stock", "extract_woocommerce_products", "plan", "apply_stock", "alert_low_stock",
         "report")
TARGET_S = 30.0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.latency", description=__doc__.split("\n\n")[0])
    parser.add_argument("--executor", choices=("local", "celery", "both"), default="both")
    parser.add_argument("--triggers", type=int, default=10)
    parser.add_argument("--products", type=int, default=10000)
    parser.add_argument("--change-items", type=int, default=0,
                        help="OfficeGuy items raised before each trigger (default: 1 %% of the products)")
    parser.add_argument("--poll", type=float, default=0.1, help="seconds between the observer's looks")
    parser.add_argument("--run-timeout", type=float, default=420,
                        help="seconds a run may take; a run still going then is recorded as a timeout and failed")
    parser.add_argument("--no-record", action="store_true", help="do not write bench/RESULTS.md")
    args = parser.parse_args()
    command = "python -m bench.latency " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    change_items = args.change_items or max(1, args.products // 100)
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)

    from sandbox.common.server import ProcessServer

    woo = ProcessServer("woocommerce", "--dataset", f"bench:{args.products}", "--db", str(WORK / "woo.sqlite"),
                        "--cost-model", log_path=WORK / "woo.log")
    og = ProcessServer("officeguy", "--dataset", f"bench:{args.products}", "--db", str(WORK / "og.sqlite"),
                       "--rate-limit", "0", log_path=WORK / "og.log")
    results = []
    started_at = _shell("date -u")
    try:
        woo.start(timeout=600)
        og.start(timeout=600)
        config = requests.get(f"{woo.url}/__sandbox/config", timeout=10).json()
        executors = ("local", "celery") if args.executor == "both" else (args.executor,)
        for executor in executors:
            results.append(bench_executor(executor, woo, og, args.triggers, change_items, args.poll, config,
                                          args.run_timeout))
    finally:
        woo.stop()
        og.stop()
    if results:
        section = render(command, started_at, args.products, change_items, config, results)
        print(section)
        if not args.no_record:
            _append_section(section)


# --------------------------------------------------------------------------------------------- a stack
def bench_executor(executor: str, woo, og, triggers: int, change_items: int, poll: float, woo_config: dict,
                   run_timeout: float) -> dict:
    from sandbox.officeguy.app import SANDBOX_API_KEY, SANDBOX_COMPANY_ID
    from sandbox.woocommerce.app import SANDBOX_CONSUMER_KEY, SANDBOX_CONSUMER_SECRET
    from tests.stack import AirflowStack, connection_env

    work = WORK / executor
    env = {
        "STOCK_SYNC_HOME": str(work / "stock_sync"),  # shared by every task process, as a volume would be
        "STOCK_SYNC_SCHEDULE": "none", "STOCK_SYNC_ORDERS_EVERY": "none",  # only the runs triggered here
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "AIRFLOW_CONN_WOOCOMMERCE_DEFAULT": connection_env("woocommerce", woo.url, SANDBOX_CONSUMER_KEY,
                                                           SANDBOX_CONSUMER_SECRET, auth="oauth1"),
        "AIRFLOW_CONN_OFFICEGUY_DEFAULT": connection_env("officeguy", og.url, str(SANDBOX_COMPANY_ID),
                                                         SANDBOX_API_KEY, rate_limit_per_minute=6000),
    }
    rows: list[dict] = []
    print(f"[{executor}] starting Airflow ...", flush=True)
    with AirflowStack(work, executor=executor, env=env, dag_ids=[DAG_ID], db_prefix=f"bench_latency_{executor}") as stack:
        stack.cli("dags", "unpause", DAG_ID)
        print(f"[{executor}] first run: the whole store is read (no earlier read) ...", flush=True)
        first = one_trigger(stack, woo, og, 0, change_items, poll, seed=999 + (1000 if executor == "celery" else 0),
                            run_timeout=max(run_timeout, 900), home=work / "stock_sync")
        print(f"[{executor}] first run: first write {_f(first['first_write_s'])} s, success {_f(first['success_s'])} s "
              f"({first['read']})", flush=True)
        load_before = _shell("uptime")
        measured_at = _shell("date -u")
        for n in range(1, triggers + 1):
            row = one_trigger(stack, woo, og, n, change_items, poll, seed=n + (1000 if executor == "celery" else 0),
                              run_timeout=run_timeout, home=work / "stock_sync")
            rows.append(row)
            (WORK / f"rows-{executor}.json").write_text(json.dumps(rows, indent=1, default=str))
            print(f"[{executor}] trigger {n}: first write {_f(row['first_write_s'])} s, success {_f(row['success_s'])} s"
                  f" ({row['state']}, {row['written']} rows written, {row['batches']} batches)", flush=True)
        load_after = _shell("uptime")
        versions = {"workers": stack.workers, "parallelism": stack.parallelism}
    return {"executor": executor, "rows": rows, "first": first, "load_before": load_before, "load_after": load_after,
            "measured_at": measured_at, "finished_at": _shell("date -u"), **versions, "woo_config": woo_config}


def one_trigger(stack, woo, og, n: int, change_items: int, poll: float, seed: int, run_timeout: float,
                home: Path) -> dict:
    raise_og_stock(og.url, change_items, seed)
    requests.delete(f"{woo.url}/__sandbox/stats", timeout=10)
    observer = Observer(WORK / "woo.sqlite", woo.url, poll)
    observer.start()
    try:
        stack.token()  # signed in before the click, as a UI user is
        clicked = time.time()
        run_id = stack.trigger(DAG_ID)
        posted = time.time()
        try:
            state = stack.wait_run(DAG_ID, run_id, timeout=run_timeout, every=0.5)
        except RuntimeError as exc:  # still going: fail it, so the next trigger is not held by max_active_runs
            if any(p.poll() is not None for p in stack.procs.values()):
                raise
            state = f"timeout ({stack.run_state(DAG_ID, run_id)})"
            print(f"run {run_id} did not finish in {run_timeout:.0f} s: marked failed ({str(exc).splitlines()[0][:200]})", flush=True)
            requests.patch(f"{stack.api}/api/v2/dags/{DAG_ID}/dagRuns/{run_id}", json={"state": "failed"},
                           headers={"Authorization": f"Bearer {stack.token()}"}, timeout=60)
            stack.wait(lambda: stack.scalar("SELECT count(*) FROM task_instance WHERE dag_id = :d AND run_id = :r "
                                            "AND state IN ('running', 'queued', 'scheduled')", d=DAG_ID, r=run_id) == 0,
                       120, "the failed run's tasks did not stop")
        seen_done = time.time()
    finally:
        observer.stop()
    written = observer.written()
    observer.close()
    tis = {r.task_id: r for r in stack.rows(
        "SELECT task_id, state, queued_dttm, start_date, end_date, try_number, hostname FROM task_instance "
        "WHERE dag_id = :d AND run_id = :r", d=DAG_ID, r=run_id)}
    run = stack.rows("SELECT queued_at, start_date, end_date FROM dag_run WHERE dag_id = :d AND run_id = :r",
                     d=DAG_ID, r=run_id)[0]

    def rel(moment: datetime | None) -> float | None:
        return None if moment is None else moment.timestamp() - clicked

    tasks = {t: {"state": r.state, "queued": rel(r.queued_dttm), "start": rel(r.start_date), "end": rel(r.end_date),
                 "try": r.try_number, "host": r.hostname} for t, r in tis.items()}
    kinds = observer.kinds
    return {
        "n": n, "run_id": run_id, "state": state, "post_s": posted - clicked,
        "first_write_s": None if observer.first_write is None else observer.first_write - clicked,
        "first_batch_call_s": _first(kinds, "batch", clicked),
        "success_s": rel(run.end_date) if state == "success" else None, "seen_done_s": seen_done - clicked,
        "run_start_s": rel(run.start_date), "tasks": tasks,
        "pages_first_s": _first(kinds, "GET /products", clicked, exact=True),
        "pages_last_s": _last(kinds, "GET /products", clicked, exact=True),
        "variations_first_s": _first(kinds, "GET /products/{id}/variations", clicked, exact=True),
        "variations_last_s": _last(kinds, "GET /products/{id}/variations", clicked, exact=True),
        "counts": {k: v["count"] for k, v in kinds.items()},
        "batches": sum(v["count"] for k, v in kinds.items() if "batch" in k),
        "written": written, "read": _store_read(home, run_id),
    }


def _store_read(home: Path, run_id: str) -> str:
    """How the run's Woo extract read the store: "full" or "incremental: N re-read" (its staged output)."""
    from officeguy_woocommerce.include.staging import Stage

    try:
        read = json.loads(Path(Stage(home, DAG_ID, run_id).path("woo_products")).read_text(encoding="utf-8"))["read"]
    except (OSError, ValueError, KeyError):
        return "?"
    return f"incremental: {read['changed']} re-read" if read["mode"] == "incremental" else "full"


def _first(kinds: dict, key: str, clicked: float, exact: bool = False) -> float | None:
    hits = [v["first"] for k, v in kinds.items() if (k == key if exact else key in k)]
    return min(hits) - clicked if hits else None


def _last(kinds: dict, key: str, clicked: float, exact: bool = False) -> float | None:
    hits = [v["last"] for k, v in kinds.items() if (k == key if exact else key in k)]
    return max(hits) - clicked if hits else None


def raise_og_stock(og_url: str, count: int, seed: int) -> None:
    """One purchase order (type 11) in OfficeGuy raising ``count`` random items by 1-20."""
    from sandbox.officeguy.app import SANDBOX_API_KEY, SANDBOX_COMPANY_ID

    creds = {"CompanyID": SANDBOX_COMPANY_ID, "APIKey": SANDBOX_API_KEY}
    stock = requests.post(f"{og_url}/stock/stock/list/", json={"Credentials": creds}, timeout=120).json()["Data"]["Stock"]
    rnd = random.Random(seed)
    lines = [{"Quantity": rnd.randint(1, 20), "UnitPrice": 1, "Item": {"ID": s["ID"]}}
             for s in rnd.sample(stock, min(count, len(stock)))]
    for start in range(0, len(lines), 500):
        answer = requests.post(f"{og_url}/accounting/documents/create/", timeout=120, json={
            "Credentials": creds, "Details": {"Type": 11, "Customer": {"Name": "bench latency"}},
            "Items": lines[start:start + 500], "VATIncluded": True}).json()
        if answer["Status"] != 0:
            raise SystemExit(f"could not raise OfficeGuy stock: {answer['UserErrorMessage']}")


class Observer:
    """Polls the store's database and call counters from a thread; see the module docstring."""

    def __init__(self, db_path: Path, woo_url: str, poll: float) -> None:
        self.db = sqlite3.connect(str(db_path), timeout=5, check_same_thread=False)
        self.woo_url = woo_url
        self.poll = poll
        rows = self.db.execute("SELECT id, stock_quantity, modified_gmt FROM products").fetchall()
        self.snapshot = {r[0]: (r[1], r[2]) for r in rows}
        self.since = max((r[2] for r in rows), default="")
        self.first_write: float | None = None
        self.first_written_id: int | None = None
        self.kinds: dict[str, dict] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._session = requests.Session()
        self._session.trust_env = False

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._session.close()

    def close(self) -> None:
        self.db.close()

    def _changed(self) -> list[int]:
        rows = self.db.execute("SELECT id, stock_quantity, modified_gmt FROM products WHERE modified_gmt >= ?",
                               (self.since,)).fetchall()
        return [r[0] for r in rows if self.snapshot.get(r[0], (None, None))[0] != r[1]]

    def written(self) -> int:
        return len(self._changed())

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.time()
            if self.first_write is None:
                try:
                    changed = self._changed()
                except sqlite3.OperationalError:
                    changed = []
                if changed:
                    self.first_write, self.first_written_id = now, changed[0]
            try:
                stats = self._session.get(f"{self.woo_url}/__sandbox/stats", timeout=5).json()
            except (requests.RequestException, ValueError):
                stats = {}
            for kind, count in stats.items():
                seen = self.kinds.setdefault(kind, {"first": now, "last": now, "count": count})
                if count != seen["count"]:
                    seen["last"], seen["count"] = now, count
            self._stop.wait(self.poll)


# --------------------------------------------------------------------------------------------- report
def _f(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _med(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def _worst(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return max(vals) if vals else None


def phases(row: dict) -> list[tuple[str, float | None]]:
    """Consecutive stretches of one run from the click to the first write, then to the end."""
    t = row["tasks"]

    def at(task: str, key: str) -> float | None:
        return (t.get(task) or {}).get(key)

    og_end, woo_end = at("extract_officeguy_stock", "end"), at("extract_woocommerce_products", "end")
    both_end = max(og_end, woo_end) if og_end is not None and woo_end is not None else None
    first_extract_start = min(v for v in (at("extract_officeguy_stock", "start"),
                                          at("extract_woocommerce_products", "start"), 1e9) if v is not None)
    return [
        ("click → run started (scheduler)", row["run_start_s"]),
        ("run started → first extract task started (queue, executor, task process start)",
         _d(first_extract_start, row["run_start_s"])),
        ("Woo extract: task start → first products page asked", _d(row["pages_first_s"], at("extract_woocommerce_products", "start"))),
        ("Woo extract: products pages (sequential)", _d(row["variations_first_s"], row["pages_first_s"])),
        ("Woo extract: variation lists", _d(row["variations_last_s"], row["variations_first_s"])),
        ("Woo extract: last variation list → task end (parse, write JSON)", _d(woo_end, row["variations_last_s"])),
        ("(OfficeGuy extract, in parallel: task duration)", _d(og_end, at("extract_officeguy_stock", "start"))),
        ("both extracts done → plan started (scheduling gap)", _d(at("plan", "start"), both_end)),
        ("plan (task duration)", _d(at("plan", "end"), at("plan", "start"))),
        ("plan done → apply_stock started (scheduling gap)", _d(at("apply_stock", "start"), at("plan", "end"))),
        ("apply_stock started → first write seen", _d(row["first_write_s"], at("apply_stock", "start"))),
        ("first write → apply_stock done", _d(at("apply_stock", "end"), row["first_write_s"])),
        ("apply_stock done → run success (alerts, report, gaps)", _d(row["success_s"], at("apply_stock", "end"))),
    ]


def _d(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def render(command: str, started_at: str, products: int, change_items: int, woo_config: dict, results: list[dict]) -> str:
    c = woo_config
    variable = int(products * 0.2)
    lines = [f"## `{command}`", "",
             f"Run started {started_at}. Manual trigger → first changed product written in the store, on a running "
             f"Airflow 3.3 (tests/stack.py: api-server, scheduler, dag-processor on PostgreSQL 127.0.0.1:5432, all on "
             f"loopback; CeleryExecutor adds a triggerer and two `airflow celery worker` processes, concurrency 2, "
             f"Redis 127.0.0.1:6379). {products:,} products ({variable:,} variable with 4 variations each) on the "
             f"cost-modelled WooCommerce sandbox ({c['php_workers']} PHP workers; products page {c['cost_list']} s, "
             f"variation list {c['cost_variations']} s, batch {c['cost_batch']} s + {c['cost_batch_item']} s an item), "
             f"OfficeGuy sandbox without rate limit. Before each trigger a purchase order raises {change_items} random "
             f"OfficeGuy items; the trigger is `POST /api/v2/dags/{DAG_ID}/dagRuns` with a token from "
             f"`POST /auth/token` (the clock starts just before the POST). First write = the first product or "
             f"variation whose stock in the store's database differs from before the trigger (polled every 0.1 s, "
             f"so up to 0.1 s late). Connection defaults: `read_concurrency` 4, `write_concurrency` 2. "
             f"Target: ≤ {TARGET_S:.0f} s median to the first write. Before the measured triggers one more run "
             f"reads the whole store, as there is no earlier read yet (what the scheduled run has done before anyone "
             f"presses Trigger; row \"first\", not in the medians); each measured trigger reads only what the store "
             f"saved since the last read (README \"What a run reads from the store\").", ""]
    lines += ["| executor | triggers | first write median s | first write worst s | run success median s | "
              "run success worst s | target ≤ 30 s median | measured (UTC) | load (`uptime`) before → after |",
              "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        fw = [x["first_write_s"] for x in r["rows"]]
        ok = [x["success_s"] for x in r["rows"]]
        med = _med(fw)
        lines.append(f"| {r['executor']} | {len(r['rows'])} ({sum(x['state'] == 'success' for x in r['rows'])} success) | "
                     f"{_f(med)} | {_f(_worst(fw))} | {_f(_med(ok))} | {_f(_worst(ok))} | "
                     f"{'met' if med is not None and med <= TARGET_S else 'missed'} | {r['measured_at']} – "
                     f"{r['finished_at'].split()[3] if len(r['finished_at'].split()) > 3 else r['finished_at']} | "
                     f"{_load(r['load_before'])} → {_load(r['load_after'])} |")
    for r in results:
        lines += ["", f"Per trigger, {r['executor']} executor (s from the click; batches = batch calls of the run; "
                      "written = store rows whose stock changed):", "",
                  "| # | POST answered | run started | first batch call | first write | run success | state | written | batches | store read |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for x in [r["first"], *r["rows"]]:
            n = "first (not counted)" if x is r["first"] else x["n"]
            lines.append(f"| {n} | {_f(x['post_s'], 2)} | {_f(x['run_start_s'])} | {_f(x['first_batch_call_s'])} | "
                         f"{_f(x['first_write_s'])} | {_f(x['success_s'])} | {x['state']} | {x['written']} | {x['batches']} | "
                         f"{x['read']} |")
        lines += ["", f"Where the time goes, {r['executor']} executor (median over the triggers of each stretch, s):", "",
                  "| stretch | median s | min s | max s |", "|---|---|---|---|"]
        per = [phases(x) for x in r["rows"]]
        for i, (name, _v) in enumerate(per[0]):
            vals = [p[i][1] for p in per if p[i][1] is not None]
            lines.append(f"| {name} | {_f(_med(vals))} | {_f(min(vals) if vals else None)} | {_f(_worst(vals))} |")
        lines += ["", f"Task instances, {r['executor']} executor (median s from the click: queued / started / ended):", "",
                  "| task | queued | started | ended | duration |", "|---|---|---|---|---|"]
        for task in TASKS:
            q = _med([x["tasks"].get(task, {}).get("queued") for x in r["rows"]])
            s = _med([x["tasks"].get(task, {}).get("start") for x in r["rows"]])
            e = _med([x["tasks"].get(task, {}).get("end") for x in r["rows"]])
            d = _med([_d(x["tasks"].get(task, {}).get("end"), x["tasks"].get(task, {}).get("start")) for x in r["rows"]])
            lines.append(f"| {task} | {_f(q)} | {_f(s)} | {_f(e)} | {_f(d)} |")
        counts = r["rows"][-1]["counts"]
        lines += ["", "Store calls of the last run: " + ", ".join(f"{k} × {v}" for k, v in sorted(counts.items())) + "."]
    return "\n".join(lines) + "\n"


def _load(uptime: str) -> str:
    return uptime.split("load average:")[-1].strip() if "load average" in uptime else uptime


def _shell(cmd: str) -> str:
    return subprocess.run(cmd, shell=True, capture_output=True, text=True, check=False).stdout.strip()  # noqa: S602


def _append_section(section: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    RESULTS.write_text(text.rstrip() + "\n\n" + section)


if __name__ == "__main__":
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    main()
