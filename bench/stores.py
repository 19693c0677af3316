"""Three stores against one: ``python -m bench.stores [--products 10000] [--change-items 500]``.

Three cost-modelled WooCommerce sandboxes (``--cost-model``: what a real 9.4.3 store costs) with the
``bench:N`` catalogue and one OfficeGuy sandbox (one company, no rate limit), on a running Airflow
(tests/stack.py: api-server, scheduler, dag-processor; LocalExecutor, parallelism 8; PostgreSQL).
First the stock DAG for one store (``woocommerce_default`` = store a), then, on a second Airflow with
``STOCK_SYNC_STORES=a,b,c`` (one task group and one write pool per store, one OfficeGuy read), the same
DAG for all three. Before each run a purchase order raises ``--change-items`` OfficeGuy items. The wall
time of each run (the DAG run's start to end) and their ratio go to bench/RESULTS.md (target ≤ 1.5×:
the stores' reads and writes run side by side).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import requests

from bench.latency import _append_section, _shell, raise_og_stock

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "var" / "bench" / "stores"
DAG_ID = "officeguy_stock_to_woocommerce"
STORES = ("a", "b", "c")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stores", description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=10000)
    parser.add_argument("--change-items", type=int, default=500)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    command = " ".join(["python -m bench.stores", *sys.argv[1:]])
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    from sandbox.common.server import ProcessServer

    woos = {s: ProcessServer("woocommerce", "--dataset", f"bench:{args.products}", "--db", str(WORK / f"woo-{s}.sqlite"),
                             "--cost-model", log_path=WORK / f"woo-{s}.log") for s in STORES}
    og = ProcessServer("officeguy", "--dataset", f"bench:{args.products}", "--db", str(WORK / "og.sqlite"),
                       "--rate-limit", "0", log_path=WORK / "og.log")
    started_at, load_before = _shell("date -u"), _shell("uptime")
    try:
        for server in (*woos.values(), og):
            server.start(timeout=900)
        raise_og_stock(og.url, args.change_items, seed=1)
        one = run_stock(woos, og, ("a",), WORK / "one")
        raise_og_stock(og.url, args.change_items, seed=2)
        three = run_stock(woos, og, STORES, WORK / "three")
    finally:
        for server in (*woos.values(), og):
            server.stop()
    section = render(command, started_at, load_before, _shell("uptime"), args, one, three)
    print(section)  # noqa: T201
    if not args.no_record:
        _append_section(section)


def run_stock(woos: dict, og, stores: tuple[str, ...], work: Path) -> dict:
    from sandbox.officeguy.app import SANDBOX_API_KEY, SANDBOX_COMPANY_ID
    from sandbox.woocommerce.app import SANDBOX_CONSUMER_KEY, SANDBOX_CONSUMER_SECRET
    from tests.stack import AirflowStack, connection_env

    single = len(stores) == 1
    env = {
        "STOCK_SYNC_HOME": str(work / "stock_sync"), "STOCK_SYNC_SCHEDULE": "none", "STOCK_SYNC_ORDERS_EVERY": "none",
        "AIRFLOW_CONN_OFFICEGUY_DEFAULT": connection_env("officeguy", og.url, str(SANDBOX_COMPANY_ID), SANDBOX_API_KEY,
                                                         rate_limit_per_minute=6000),
    }
    if not single:
        env["STOCK_SYNC_STORES"] = ",".join(stores)
    for s in stores:
        conn = "woocommerce_default" if single else f"woocommerce_{s}"
        env[f"AIRFLOW_CONN_{conn.upper()}"] = connection_env("woocommerce", woos[s].url, SANDBOX_CONSUMER_KEY,
                                                             SANDBOX_CONSUMER_SECRET, auth="oauth1")
    pools = {"stock_sync_writes": 1} if single else {f"stock_sync_writes_{s}": 1 for s in stores}
    with AirflowStack(work, env=env, dag_ids=[DAG_ID], pools=pools, parallelism=8,
                      db_prefix=f"bench_stores_{len(stores)}") as stack:
        stack.cli("dags", "unpause", DAG_ID)
        run_id = stack.trigger(DAG_ID)
        state = stack.wait_run(DAG_ID, run_id, timeout=1800, every=0.5)
        (start, end), = stack.rows("SELECT start_date, end_date FROM dag_run WHERE dag_id = :d AND run_id = :r",
                                   d=DAG_ID, r=run_id)
        tasks = stack.rows("SELECT task_id, start_date, end_date, state FROM task_instance WHERE dag_id = :d "
                           "AND run_id = :r ORDER BY start_date", d=DAG_ID, r=run_id)
    written = {s: requests.get(f"{woos[s].url}/__sandbox/stats", timeout=30).json() for s in stores}
    return {"stores": stores, "state": state, "wall_s": (end - start).total_seconds(),
            "tasks": [(t.task_id, (t.end_date - t.start_date).total_seconds() if t.end_date and t.start_date else None,
                       t.state) for t in tasks],
            "batches": {s: sum(v for k, v in written[s].items() if "batch" in k) for s in stores}}


def render(command: str, started_at: str, load_before: str, load_after: str, args, one: dict, three: dict) -> str:
    ratio = three["wall_s"] / one["wall_s"] if one["wall_s"] else float("nan")
    lines = [
        f"## `{command}`", "",
        f"Run started {started_at} on this machine (2 cores). {__doc__.split(chr(10) + chr(10))[1]}", "",
        "| run | stores | state | wall s | ratio to one store | target |", "|---|---|---|---|---|---|",
        f"| one store | a | {one['state']} | {one['wall_s']:.1f} | 1.00 | |",
        f"| three stores, one company | a, b, c | {three['state']} | {three['wall_s']:.1f} | {ratio:.2f} | "
        f"≤ 1.5: {'met' if ratio <= 1.5 else 'missed'} |", "",
        f"Load (`uptime`) before → after: {load_before.split('load average:')[-1].strip()} → "
        f"{load_after.split('load average:')[-1].strip()}. Store a is in sync from the first run, so it has "
        f"{args.change_items} changes in the second; b and c were never synced and have both raises "
        f"(batch calls each store's sandbox received, both runs together: {three['batches']}).", "",
        "Tasks of the three-store run (s):", "", "| task | s | state |", "|---|---|---|",
        *[f"| {t} | {d:.1f} | {s} |" if d is not None else f"| {t} | – | {s} |" for t, d, s in three["tasks"]], "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
