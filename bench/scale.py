"""The stock sync at scale, task by task (issue 11 §3): ``python -m bench.scale [--sizes 10000,100000]``.

For each catalogue size N (``bench:N``: 20 % variable products with 4 variations each), in one bench
run: start both sandboxes as their own processes, change 5 % of OfficeGuy's stock, and run the stock
DAG once (``dag.test()`` in a child process, ``bench.scale_run``), which records per task

- its wall time (the task instance's start and end in Airflow's metadata DB),
- the peak RSS of the process while it ran (``VmHWM``, reset at each task start through
  ``/proc/self/clear_refs``; ``dag.test()`` runs all tasks in that one process, so the figure includes
  what earlier tasks left allocated: an upper bound on the task's peak in a worker of its own),
- the CPU seconds of the task process and of each sandbox process meanwhile (``/proc/<pid>/stat``),
  which separates the project's time from the sandboxes'.

Calls are counted by kind against the per-parent floor (bench.run). Writes the "Stock sync at scale"
section of bench/RESULTS.md (its own section only) and prints it. Targets: the whole run at the largest
size ≤ 11× the smallest, peak RSS of every task ≤ 1 GB, calls at the per-parent floor.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import requests

from bench.run import _airflow_env, _connections, _planned_changes, _replace_section, change_og_stock, floors

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var" / "bench_scale"
TASKS = ("extract_officeguy_stock", "extract_woocommerce_products", "plan", "apply_stock", "alert_low_stock",
         "report")
RATIO_TARGET = 11
OG_RATE_PER_MINUTE = 90  # bench.run._connections: the OfficeGuy hook paces its calls at this rate
HEADING = "## Stock sync at scale, task by task"
WHATIF_HEADING = "## Stock sync at scale, what-if: OfficeGuy's duplicate-ID check counted once"
FINDINGS = """Where the time goes, and what grows faster than the catalogue (from this table; the load column says how
busy the machine was, and the ratio depends on it: the same 100,000 run measured 13.4× at a load of 5-7):

- **extract_woocommerce_products** is the one task that grows faster than the catalogue, and not by the project's
  work: its own CPU (OAuth signing, JSON) grows about linearly, the WooCommerce sandbox's CPU about 20× for 10×
  the products. 21,000 calls at 100,000 products (20,000 are one variation list per variable parent: wc/v3 cannot
  list all variations at once), read 4 at a time; on each of the 1,000 product pages the sandbox counts the whole
  table (`X-WP-Total`) and skips `OFFSET` rows, as real WooCommerce's SQL does (quadratic, store time).
- **extract_officeguy_stock** is its paced calls: 17 and 161 at 90 a minute (≥ 11 s and ≥ 107 s, the connection's
  `rate_limit_per_minute`) and a few seconds of CPU: linear. (Its duplicate-ID check, once `ids.count` per row and
  O(rows²), is one `collections.Counter` since the what-if section below was measured.)
- **plan**, **apply_stock** (one batch per 100 products and one per parent with changed variations), **alert_low_stock**
  and **report** are linear or below.
- Peak RSS stays under 1 GB: the largest is the plan (its frames over 180,000 Woo rows and 160,000 OfficeGuy rows),
  of which some 300 MB is what earlier tasks left in this one `dag.test()` process.
- Calls: exactly the per-parent floor, which counts the DAG's two pending-orders reads (the statuses the orders
  flow documents, and the on-hold ones that reduce stock without a ledger row; plugins/app/stock_tasks.py).
- `dag.test()` runs the two extracts one after the other; in production they run side by side, so the OfficeGuy
  pacing overlaps the Woo reads. These are scheduled (full) reads; a triggered run reads only what the store saved
  since the last read (README "What a run reads from the store").

The WooCommerce sandbox's `products` table has an index on (parent_id, type) (sandbox/woocommerce/store.py): without
it SQLite read a parent's variations through whichever single-column index SQLAlchemy happened to create first, and
in some starts every variation list scanned all 80,000 variations (~90 ms a call at 100,000 products)."""
WHATIF_FINDINGS = """With the duplicate check counted once, extract_officeguy_stock is its paced calls (161 at 90 a minute,
≥ 107 s) and a few seconds of CPU: linear. What is left above 10× is the WooCommerce sandbox's product pages
(a whole-table COUNT and an OFFSET scan on each of the 1,000 pages, ~40 s of its CPU at 100,000: quadratic, sandbox
time) and, on this shared machine, waiting for a core: at 100,000 the Woo extract's wall time is well above its
own and the sandbox's CPU together. In production the two extracts run side by side, so the OfficeGuy pacing
overlaps the Woo reads; `dag.test()` runs them one after the other."""
WHATIF_NOTE = ("What-if, not the code as it is: `OfficeGuyHook.list_stock` (plugins/officeguy/hooks.py) runs with its "
               "`ids.count(item_id)` per row replaced by one `collections.Counter(ids)`, in the measuring process only "
               "(bench/scale_run.py loads the file so patched; the file is unchanged). Same catalogue, same changes, "
               "same rejected rows.")
RSS_TARGET_MB = 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000", help="catalogue sizes; the ratio is last / first")
    parser.add_argument("--og-duplicate-check", choices=("as-is", "counter"), default="as-is",
                        help="what-if: 'counter' runs OfficeGuyHook.list_stock with its duplicate-ID check counted "
                             "once instead of per row (bench/scale_run.py; the file is not changed)")
    args = parser.parse_args()
    os.environ["BENCH_OG_DUPLICATE_CHECK"] = args.og_duplicate_check
    global VAR
    VAR = VAR / args.og_duplicate_check
    shutil.rmtree(VAR, ignore_errors=True)
    VAR.mkdir(parents=True)
    _airflow_env(VAR / "airflow")
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = [bench_scale(int(n)) for n in args.sizes.split(",")]
    write_scale_results(rows, " ".join(["python -m bench.scale", *sys.argv[1:]]), whatif=args.og_duplicate_check == "counter")


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _status_mb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def bench_scale(n: int) -> dict:
    from sandbox.common.server import ProcessServer

    work = VAR / f"stock-{n}"
    work.mkdir(parents=True)
    woo = ProcessServer("woocommerce", "--dataset", f"bench:{n}", "--db", str(work / "woo.sqlite"),
                        log_path=work / "woo.log")
    og = ProcessServer("officeguy", "--dataset", f"bench:{n}", "--db", str(work / "og.sqlite"),
                       "--rate-limit", "0", log_path=work / "og.log")
    started = time.monotonic()
    woo.start(timeout=1800)
    try:
        og.start(timeout=1800)
        try:
            load_s = time.monotonic() - started
            _connections(woo.url, og.url)
            started = time.monotonic()
            changed_items = change_og_stock(og.url, work)
            change_s = time.monotonic() - started
            for url in (woo.url, og.url):
                requests.delete(f"{url}/__sandbox/stats", timeout=10)
            os.environ["STOCK_SYNC_HOME"] = str(work / "stock_sync")
            os.environ["BENCH_SANDBOX_PIDS"] = f"woo={woo.proc.pid},og={og.proc.pid}"
            load_before = _load()
            started = time.monotonic()
            child = subprocess.run([sys.executable, "-m", "bench.scale_run"], cwd=ROOT, capture_output=True,
                                   text=True, check=False)
            wall = time.monotonic() - started
            load_after = _load()
            (work / "scale_run.log").write_text(child.stdout + child.stderr)
            report = next((json.loads(line[6:]) for line in child.stdout.splitlines() if line.startswith("BENCH ")),
                          None)
            if child.returncode or not report or report["state"] != "success":
                raise SystemExit(f"the stock DAG run failed for N={n}; see {work / 'scale_run.log'}")
            woo_calls = requests.get(f"{woo.url}/__sandbox/stats", timeout=10).json()
            og_calls = requests.get(f"{og.url}/__sandbox/stats", timeout=10).json()
            sandbox_rss = {"woo": _status_mb(woo.proc.pid, "VmHWM"), "og": _status_mb(og.proc.pid, "VmHWM")}
        finally:
            og.stop()
    finally:
        woo.stop()
    changes = _planned_changes(work / "stock_sync")
    issue_floor, true_floor, parents = floors(n, changes)
    return {
        "n": n, "changed_og_items": changed_items, "changes": len(changes), "parents_with_changes": parents,
        "calls": sum(woo_calls.values()) + sum(og_calls.values()), "true_floor": true_floor,
        "issue_floor": issue_floor, "woo_calls": woo_calls, "og_calls": og_calls, "wall_s": wall,
        "import_s": report["import_s"], "run_s": report["run_s"], "tasks": report["tasks"],
        "sandbox_load_s": load_s, "change_s": change_s, "sandbox_peak_rss_mb": sandbox_rss,
        "child_maxrss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "load": f"{load_before} → {load_after}", "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def write_scale_results(rows: list[dict], command: str, whatif: bool = False) -> None:
    first, last = rows[0], rows[-1]
    ratio = last["run_s"] / first["run_s"]
    heading = WHATIF_HEADING if whatif else HEADING
    lines = [
        f"{heading} (`{command}`)", "",
        *([WHATIF_NOTE, ""] if whatif else []),
        f"Measured {last.get('measured') or time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on this machine ({os.cpu_count()} cores, "
        "shared: load average (1, 5, 15 min) before → after each run in the table). Sandboxes as separate processes "
        "on loopback, no added latency, no cost model; one `dag.test()` run of `officeguy_stock_to_woocommerce` in "
        "a child process (`bench.scale_run`). Task time: the task instance's start to end in Airflow's metadata DB. "
        "Peak RSS: the task process's `VmHWM`, reset at each task's start (`/proc/self/clear_refs`); `dag.test()` "
        "runs every task in that one process, so it includes what the earlier tasks left allocated (an upper "
        "bound for a task in a worker of its own). CPU: the task process's, and the two sandbox processes' "
        "meanwhile (`/proc/<pid>/stat`).", "",
        "| products | Woo changes | API calls | per-parent floor | calls / floor | DAG run s | ratio to "
        f"{first['n']:,} | wall s (with start-up) | max task peak RSS MB | load |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        peak = max(t.get("peak_rss_mb", 0) for t in r["tasks"].values())
        lines.append(f"| {r['n']:,} | {r['changes']} | {r['calls']} | {r['true_floor']} | "
                     f"{r['calls'] / r['true_floor']:.2f} | {r['run_s']:.1f} | {r['run_s'] / first['run_s']:.2f}× | "
                     f"{r['wall_s']:.1f} | {peak:.0f} | {r['load']} |")
    lines += ["", "Per task (seconds; RSS in MB: at the task's start / peak while it ran; CPU seconds of the task "
              "process / the WooCommerce sandbox / the OfficeGuy sandbox):", "",
              "| task | " + " | ".join(f"{r['n']:,}: s | RSS start / peak | CPU task / Woo / OG" for r in rows)
              + " | s ratio |",
              "|---|" + "---|---|---|" * len(rows) + "---|"]
    for name in TASKS:
        cells = []
        for r in rows:
            t = r["tasks"].get(name, {})
            cells.append(f"{t.get('ti_s', float('nan')):.1f} | {t.get('rss_start_mb', 0):.0f} / "
                         f"{t.get('peak_rss_mb', 0):.0f} | {t.get('cpu_s', 0):.1f} / {t.get('woo_cpu_s', 0):.1f} / "
                         f"{t.get('og_cpu_s', 0):.1f}")
        a, b = first["tasks"].get(name, {}).get("ti_s"), last["tasks"].get(name, {}).get("ti_s")
        lines.append(f"| {name} | " + " | ".join(cells) + (f" | {b / a:.1f}× |" if a and b else " | |"))
    lines += ["", "Around the run: " + "; ".join(
        f"{r['n']:,} products: sandboxes built their catalogues in {r['sandbox_load_s']:.0f} s, the 5 % stock change "
        f"took {r['change_s']:.0f} s, sandbox peak RSS Woo {r['sandbox_peak_rss_mb']['woo']:.0f} MB / OG "
        f"{r['sandbox_peak_rss_mb']['og']:.0f} MB, DAG file import {r['import_s']:.1f} s, OfficeGuy calls paced at "
        f"{OG_RATE_PER_MINUTE} a minute hold the OfficeGuy extract ≥ "
        f"{(sum(r['og_calls'].values()) - 1) * 60 / OG_RATE_PER_MINUTE:.0f} s" for r in rows) + ".",
              "", "Calls by kind:", ""]
    for r in rows:
        kinds = {**{f"Woo {k}": v for k, v in r["woo_calls"].items()}, **{f"OG {k}": v for k, v in r["og_calls"].items()}}
        lines.append(f"- {r['n']:,} products: " + ", ".join(f"{k} × {v}" for k, v in sorted(kinds.items())))
    verdict = (f"Targets: run ratio {ratio:.2f}× (≤ {RATIO_TARGET}×: {'met' if ratio <= RATIO_TARGET else 'MISSED'}), "
               f"every task's peak RSS ≤ {RSS_TARGET_MB} MB: "
               + ("met" if all(t.get("peak_rss_mb", 0) <= RSS_TARGET_MB for r in rows for t in r["tasks"].values())
                  else "MISSED")
               + ", calls at the per-parent floor: "
               + ("met" if all(r["calls"] <= r["true_floor"] for r in rows) else "see the calls / floor column") + ".")
    lines += ["", verdict, "", WHATIF_FINDINGS if whatif else FINDINGS, ""]
    (VAR / "scale.json").write_text(json.dumps(rows, indent=1))
    _replace_section(heading, "\n".join(lines))


if __name__ == "__main__":
    main()
