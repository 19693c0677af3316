"""The stock sync benchmark: ``make bench`` (``python -m bench.run [--sizes 1000,10000]``).

For each catalogue size N (20 % variable products with 4 variations each): start both sandboxes
as their own processes, change 5 % of OfficeGuy's stock (purchase orders raise, delivery notes
lower), run the stock DAG once (``dag.test()`` in a child process), and count the API calls by
kind against the floor. Then a naive writer PUTs each changed product once, for the ratio.
Writes bench/RESULTS.md (the stock section) and prints the same table.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var" / "bench"
RESULTS = ROOT / "bench" / "RESULTS.md"
CHANGE_SHARE = 0.05


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000", help="catalogue sizes for the stock sync ('' to skip)")
    parser.add_argument("--orders", type=int, default=1000, help="orders for the orders benchmark (0 to skip)")
    parser.add_argument("--rate-limit", type=int, default=600, help="the OfficeGuy sandbox's calls a minute")
    parser.add_argument("--cost-model", action="store_true",
                        help="the WooCommerce sandbox costs what a real 9.4.3 store does (sandbox/woocommerce/cost.py); "
                             "the stock run is measured against the sequential call floor in seconds")
    args = parser.parse_args()
    shutil.rmtree(VAR, ignore_errors=True)
    VAR.mkdir(parents=True)
    _airflow_env()
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if args.sizes and args.cost_model:
        write_cost_results([bench_stock(int(n), cost_model=True) for n in args.sizes.split(",")])
    elif args.sizes:
        write_results([bench_stock(int(n)) for n in args.sizes.split(",")])
    if args.orders:
        write_orders_results(bench_orders(args.orders, args.rate_limit))


def bench_stock(n: int, cost_model: bool = False) -> dict:
    from sandbox.common.server import ProcessServer

    work = VAR / f"stock-{n}{'-cost' if cost_model else ''}"
    work.mkdir(parents=True)
    woo = ProcessServer("woocommerce", "--dataset", f"bench:{n}", "--db", str(work / "woo.sqlite"),
                        *(["--cost-model"] if cost_model else []), log_path=work / "woo.log")
    og = ProcessServer("officeguy", "--dataset", f"bench:{n}", "--db", str(work / "og.sqlite"),
                       "--rate-limit", "0", log_path=work / "og.log")
    with woo, og:
        _connections(woo.url, og.url)
        changed_items = change_og_stock(og.url, work)
        for url in (woo.url, og.url):
            requests.delete(f"{url}/__sandbox/stats", timeout=10)
        os.environ["STOCK_SYNC_HOME"] = str(work / "stock_sync")

        started = time.monotonic()
        child = subprocess.run([sys.executable, "-m", "bench.stock_run"], cwd=ROOT, capture_output=True, text=True,
                               check=False)
        wall = time.monotonic() - started
        peak_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        report = next((json.loads(line[6:]) for line in child.stdout.splitlines() if line.startswith("BENCH ")), None)
        if child.returncode or not report or report["state"] != "success":
            (work / "stock_run.log").write_text(child.stdout + child.stderr)
            raise SystemExit(f"the stock DAG run failed for N={n}; see {work / 'stock_run.log'}")
        woo_calls = requests.get(f"{woo.url}/__sandbox/stats", timeout=10).json()
        og_calls = requests.get(f"{og.url}/__sandbox/stats", timeout=10).json()
        changes = _planned_changes(work / "stock_sync")
        naive = naive_writer(changes)

    variable = int(n * 0.2)
    issue_floor, true_floor, parents_with_changes = floors(n, changes)
    calls = sum(woo_calls.values()) + sum(og_calls.values())
    return {
        "n": n, "changed_og_items": changed_items, "changes": len(changes), "calls": calls,
        "woo_calls": woo_calls, "og_calls": og_calls, "issue_floor": issue_floor, "true_floor": true_floor,
        "parents_with_changes": parents_with_changes, "wall_s": wall, "dag_run_s": report["run_s"],
        "peak_rss_mb": peak_rss_mb, "naive_calls": naive["calls"], "naive_s": naive["seconds"],
        "write_calls": sum(v for k, v in woo_calls.items() if "batch" in k),
        "floor_s": _sequential_floor_s(n, variable, changes) if cost_model else None,
    }


def floors(n: int, changes: list[dict]) -> tuple[int, int, int]:
    """The issue's floor, the per-parent floor, and the parents with changed variations, for a bench:n
    catalogue (20 % variable) and the run's planned changes."""
    products_total = n
    variable = int(n * 0.2)
    parents_with_changes = len({c["parent_id"] for c in changes if c["target_kind"] == "variation"})
    product_changes = sum(1 for c in changes if c["target_kind"] == "product")
    og_floor = 1 + math.ceil(1.6 * n / 1000)  # one stock list + income item pages of 1,000
    # the pending-orders reads (I3): one page of the orders modified since the watermark, one of the on-hold
    # orders (they reduce Woo stock without being documented, whatever their date)
    orders_floor = 2
    issue_floor = math.ceil(products_total / 100) + variable + math.ceil(len(changes) / 100) + og_floor + orders_floor
    # Variations can only be written through their own parent's batch endpoint (woocommerce-api.md A4):
    true_floor = (math.ceil(products_total / 100) + variable + math.ceil(product_changes / 100)
                  + parents_with_changes + og_floor + orders_floor)
    return issue_floor, true_floor, parents_with_changes


def _sequential_floor_s(n: int, variable: int, changes: list[dict]) -> float:
    """What the store's floor calls cost one after another on the cost model (a real 9.4.3 store):
    every products page, every variation list, the pending-orders page, and the writes (one batch per
    100 product changes, one per parent with changed variations, plus the per-item save)."""
    from sandbox.woocommerce.cost import COST_DEFAULTS as c

    products = [x for x in changes if x["target_kind"] == "product"]
    parents = {x["parent_id"] for x in changes if x["target_kind"] == "variation"}
    batches = math.ceil(len(products) / 100) + len(parents)
    return (math.ceil(n / 100) * c["cost_list"] + variable * c["cost_variations"] + c["cost_list_full"]
            + batches * c["cost_batch"] + len(changes) * c["cost_batch_item"])


def write_cost_results(rows: list[dict]) -> None:
    lines = [
        "## Cost-modelled store: the stock run against the sequential floor (`python -m bench.run --cost-model "
        "--sizes 10000 --orders 0`)", "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on this machine ({os.cpu_count()} cores). "
        "The WooCommerce sandbox costs what a real 9.4.3 store does (a products page 0.19 s, a variation list "
        "0.06 s, a batch 0.17 s + 35 ms per product, 4 PHP workers; sandbox/woocommerce/cost.py). The floor is "
        "what the floor calls cost one after another; the run is the `dag.test()` run without Python and "
        "Airflow start-up. Target: ≤ 0.8× the floor, with variation lists read 4 at a time "
        "(`read_concurrency`) and stock batches sent 2 at a time (`write_concurrency`).", "",
        "| products | Woo changes | API calls | per-parent floor calls | sequential floor s | stock run s | run / floor |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['n']:,} | {r['changes']} | {r['calls']} | {r['true_floor']} | {r['floor_s']:.1f} | "
                     f"{r['dag_run_s']:.1f} | {r['dag_run_s'] / r['floor_s']:.2f} |")
    lines += ["", "Calls by kind:", ""]
    for r in rows:
        kinds = {**{f"Woo {k}": v for k, v in r["woo_calls"].items()}, **{f"OG {k}": v for k, v in r["og_calls"].items()}}
        lines.append(f"- {r['n']:,} products: " + ", ".join(f"{k} × {v}" for k, v in sorted(kinds.items())))
    _replace_section("## Cost-modelled store", "\n".join(lines) + "\n")


def change_og_stock(og_url: str, work: Path) -> int:
    """Change 5 % of OfficeGuy's items: half up with purchase orders (type 11), half down with
    delivery notes (type 9), 500 lines a document."""
    from sandbox.officeguy.app import SANDBOX_API_KEY, SANDBOX_COMPANY_ID

    creds = {"CompanyID": SANDBOX_COMPANY_ID, "APIKey": SANDBOX_API_KEY}
    stock = requests.post(f"{og_url}/stock/stock/list/", json={"Credentials": creds}, timeout=60).json()["Data"]["Stock"]
    rnd = random.Random(5)
    chosen = rnd.sample(stock, int(len(stock) * CHANGE_SHARE))
    up = [{"Quantity": rnd.randint(1, 20), "UnitPrice": 1, "Item": {"ID": s["ID"]}} for s in chosen[::2]]
    down = [{"Quantity": min(s["Stock"], rnd.randint(1, 5)) or 1, "UnitPrice": 1, "Item": {"ID": s["ID"]}}
            for s in chosen[1::2] if s["Stock"] >= 1]
    for doc_type, lines in ((11, up), (9, down)):
        for start in range(0, len(lines), 500):
            answer = requests.post(f"{og_url}/accounting/documents/create/", timeout=120, json={
                "Credentials": creds, "Details": {"Type": doc_type, "Customer": {"Name": "bench"}},
                "Items": lines[start:start + 500], "VATIncluded": True}).json()
            if answer["Status"] != 0:
                raise SystemExit(f"could not change OfficeGuy stock: {answer['UserErrorMessage']}")
    return len(up) + len(down)


def _planned_changes(home: Path) -> list[dict]:
    from officeguy_woocommerce.include.staging import Stage

    path = next(home.glob("staging/*/*/changes.json"))
    return Stage.read(str(path)).to_dict("records")


def naive_writer(changes: list[dict]) -> dict:
    """What a one-PUT-per-product writer would cost for the same changes."""
    from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook

    hook = WooCommerceHook()
    started = time.monotonic()
    for c in changes:
        path = (f"/products/{c['woo_id']}" if c["target_kind"] == "product"
                else f"/products/{c['parent_id']}/variations/{c['woo_id']}")
        hook.request("PUT", path, json={c["field"]: c["new"]})
    return {"calls": hook.calls, "seconds": time.monotonic() - started}


def write_results(rows: list[dict]) -> None:
    lines = [
        "## Stock sync (`make bench`)", "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on this machine ({os.cpu_count()} cores), "
        "sandboxes as separate processes on loopback with no added latency, one `dag.test()` run of "
        "`officeguy_stock_to_woocommerce` in a child process (wall time includes its Python and Airflow start-up).",
        "",
        "| products | OG items changed | Woo changes | API calls | floor (issue) | calls / floor | floor (per-parent) "
        "| calls / that floor | wall s | DAG run s | peak RSS MB | naive PUT calls | naive s | naive / batched write calls |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']:,} | {r['changed_og_items']} | {r['changes']} | {r['calls']} | {r['issue_floor']} | "
            f"{r['calls'] / r['issue_floor']:.2f} | {r['true_floor']} | {r['calls'] / r['true_floor']:.2f} | "
            f"{r['wall_s']:.1f} | {r['dag_run_s']:.1f} | {r['peak_rss_mb']:.0f} | {r['naive_calls']} | "
            f"{r['naive_s']:.1f} | {r['naive_calls'] / max(1, r['write_calls']):.1f}x |")
    lines += [
        "",
        "The issue's floor counts ⌈C/100⌉ batch writes, as if all changes could share batches. WooCommerce",
        "writes a variation only through its own parent's endpoint (`/products/{id}/variations/batch`,",
        "woocommerce-api.md A4), so every parent with a changed variation costs one call: that floor is",
        "the per-parent column, and the sync meets it exactly. Against the issue's floor the target",
        "(≤ 1.05) is missed by the number of parents with changed variations: "
        + ", ".join(f"{r['calls'] / r['issue_floor'] - 1:.0%} more calls at {r['n']:,} products" for r in rows) + ".",
        "Both floors include the one order list the stock DAG reads for pending stock (I3). Variation",
        "lists are read four at a time (`read_concurrency`); the naive writer PUTs each change on its own.",
    ]
    lines += ["", "Calls by kind:", ""]
    for r in rows:
        kinds = {**{f"Woo {k}": v for k, v in r["woo_calls"].items()}, **{f"OG {k}": v for k, v in r["og_calls"].items()}}
        lines.append(f"- {r['n']:,} products: " + ", ".join(f"{k} × {v}" for k, v in sorted(kinds.items())))
    _replace_section("## Stock sync (`make bench`)", "\n".join(lines) + "\n")


def bench_orders(n: int, rate_limit: int) -> dict:
    """Push ``n`` paid orders through the orders DAG against an OfficeGuy sandbox limited to
    ``rate_limit`` calls a minute; the hook paces itself at 95 % of it."""
    from sandbox.common.server import ProcessServer

    work = VAR / f"orders-{n}"
    work.mkdir(parents=True)
    woo = ProcessServer("woocommerce", "--dataset", "bench:1000", "--db", str(work / "woo.sqlite"), log_path=work / "woo.log")
    og = ProcessServer("officeguy", "--dataset", "bench:1000", "--db", str(work / "og.sqlite"),
                       "--rate-limit", str(rate_limit), log_path=work / "og.log")
    with woo, og:
        _connections(woo.url, og.url, og_rate=int(rate_limit * 0.95))
        os.environ["STOCK_SYNC_HOME"] = str(work / "stock_sync")
        make_orders(n)
        requests.patch(f"{og.url}/__sandbox/config", json={"block_seconds": 60}, timeout=10)
        requests.delete(f"{og.url}/__sandbox/stats", timeout=10)
        started = time.monotonic()
        child = subprocess.run([sys.executable, "-m", "bench.orders_run"], cwd=ROOT, capture_output=True, text=True,
                               check=False)
        wall = time.monotonic() - started
        report = next((json.loads(line[6:]) for line in child.stdout.splitlines() if line.startswith("BENCH ")), None)
        (work / "orders_run.log").write_text(child.stdout + child.stderr)
        if child.returncode or not report:
            raise SystemExit(f"the orders DAG run failed; see {work / 'orders_run.log'}")
        og_calls = requests.get(f"{og.url}/__sandbox/stats", timeout=10).json()
        from sandbox.officeguy.app import SANDBOX_API_KEY, SANDBOX_COMPANY_ID

        creds = {"CompanyID": SANDBOX_COMPANY_ID, "APIKey": SANDBOX_API_KEY}
        refs: list[str] = []
        start = 0
        while True:
            page = requests.post(f"{og.url}/accounting/documents/list/", timeout=60, json={
                "Credentials": creds, "DocumentTypes": [1], "DateFrom": "2000-01-01", "DateTo": "2100-01-01",
                "Paging": {"StartIndex": start, "PageSize": 1000}}).json()["Data"]
            refs += [d["ExternalReference"] for d in page["Documents"]]
            start += len(page["Documents"])
            if not page["HasNextPage"]:
                break
    from officeguy_woocommerce.include.ledger import Ledger, sqlite_url

    rows = [r for r in Ledger(sqlite_url(work / "stock_sync" / "ledger.sqlite")).documents(woo.url.rstrip("/"))
            if r.documented_at is not None]
    times = sorted(r.documented_at for r in rows)
    span = (times[-1] - times[0]).total_seconds() if len(times) > 1 else 0
    per_minute = (len(times) - 1) / span * 60 if span else 0
    return {
        "orders": n, "state": report["state"], "documents": len(refs), "distinct": len(set(refs)),
        "duplicates": len(refs) - len(set(refs)), "rate_limit": rate_limit, "per_minute": per_minute,
        "share": per_minute / rate_limit, "blocks_403": _count_403(work / "orders_run.log"),
        "og_calls": og_calls, "wall_s": wall, "create_span_s": span,
    }


def make_orders(n: int) -> None:
    """n paid orders of 1-3 lines each over the bench catalogue's simple products, 100 a batch."""
    from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook

    hook = WooCommerceHook()
    products = [p for p in hook.list_products(type="simple") if p.manage_stock is True]
    rnd = random.Random(9)
    for start in range(0, n, 100):
        batch = [{"set_paid": True, "payment_method": "bacs", "payment_method_title": "Bank transfer",
                  "billing": {"first_name": "Bench", "last_name": f"Customer {start + i}"},
                  "line_items": [{"product_id": p.id, "quantity": rnd.randint(1, 3)}
                                 for p in rnd.sample(products, rnd.randint(1, 3))]}
                 for i in range(min(100, n - start))]
        result = hook.batch("/orders", create=batch)
        if result.errors:
            raise SystemExit(f"could not create bench orders: {result.errors[:3]}")


def _count_403(log_path: Path) -> int:
    return log_path.read_text().count("rate limit (HTTP 403)")


def write_orders_results(r: dict) -> None:
    section = "\n".join([
        "## Orders to documents (`make bench`)", "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {r['orders']:,} paid orders (1-3 lines) "
        f"pushed by one `dag.test()` run of `woocommerce_orders_to_officeguy` against the OfficeGuy sandbox limited "
        f"to {r['rate_limit']} calls a minute (empty 403 and a 60 s block past it); the hook paces at 95 % of it.",
        "",
        "| orders | run state | documents | duplicates | documents / minute | share of the limit | 403 blocks met "
        "| wall s | OfficeGuy calls |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {r['orders']:,} | {r['state']} | {r['documents']} | {r['duplicates']} | {r['per_minute']:.0f} | "
        f"{r['share']:.0%} | {r['blocks_403']} | {r['wall_s']:.0f} | "
        + ", ".join(f"{k} × {v}" for k, v in sorted(r["og_calls"].items())) + " |",
        "",
    ])
    _replace_section("## Orders to documents", section)


def _replace_section(heading: str, section: str) -> None:
    """Rewrite the section under ``heading`` in RESULTS.md (the command that measured owns it)."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\n"
    start = text.find(heading)
    if start >= 0:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1:] if end >= 0 else "")
    else:
        text = text.rstrip() + "\n\n" + section
    RESULTS.write_text(text)
    print(section)


def _airflow_env(home: Path | None = None) -> None:
    home = home or VAR / "airflow"
    os.environ.update({
        "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"), "AIRFLOW__CORE__PLUGINS_FOLDER": str(home / "plugins"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING", "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "dags")]),
    })


def _connections(woo_url: str, og_url: str, og_rate: int = 90) -> None:
    from sandbox.officeguy.app import SANDBOX_API_KEY, SANDBOX_COMPANY_ID
    from sandbox.woocommerce.app import SANDBOX_CONSUMER_KEY, SANDBOX_CONSUMER_SECRET

    os.environ["AIRFLOW_CONN_WOOCOMMERCE_DEFAULT"] = json.dumps({
        "conn_type": "woocommerce", "host": woo_url, "login": SANDBOX_CONSUMER_KEY,
        "password": SANDBOX_CONSUMER_SECRET, "extra": {"auth": "oauth1"}})
    os.environ["AIRFLOW_CONN_OFFICEGUY_DEFAULT"] = json.dumps({
        "conn_type": "officeguy", "host": og_url, "login": str(SANDBOX_COMPANY_ID), "password": SANDBOX_API_KEY,
        "extra": {"rate_limit_per_minute": og_rate}})


if __name__ == "__main__":
    main()
