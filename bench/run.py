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
    parser.add_argument("--sizes", default="1000,10000")
    args = parser.parse_args()
    shutil.rmtree(VAR, ignore_errors=True)
    VAR.mkdir(parents=True)
    _airflow_env()
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = [bench_stock(int(n)) for n in args.sizes.split(",")]
    write_results(rows)


def bench_stock(n: int) -> dict:
    from sandbox.common.server import ProcessServer

    work = VAR / f"stock-{n}"
    work.mkdir(parents=True)
    woo = ProcessServer("woocommerce", "--dataset", f"bench:{n}", "--db", str(work / "woo.sqlite"),
                        log_path=work / "woo.log")
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

    products_total = n
    variable = int(n * 0.2)
    parents_with_changes = len({c["parent_id"] for c in changes if c["target_kind"] == "variation"})
    product_changes = sum(1 for c in changes if c["target_kind"] == "product")
    og_floor = 1 + math.ceil(1.6 * n / 1000)  # one stock list + income item pages of 1,000
    issue_floor = math.ceil(products_total / 100) + variable + math.ceil(len(changes) / 100) + og_floor
    # Variations can only be written through their own parent's batch endpoint (woocommerce-api.md A4):
    true_floor = (math.ceil(products_total / 100) + variable + math.ceil(product_changes / 100)
                  + parents_with_changes + og_floor)
    calls = sum(woo_calls.values()) + sum(og_calls.values())
    return {
        "n": n, "changed_og_items": changed_items, "changes": len(changes), "calls": calls,
        "woo_calls": woo_calls, "og_calls": og_calls, "issue_floor": issue_floor, "true_floor": true_floor,
        "parents_with_changes": parents_with_changes, "wall_s": wall, "dag_run_s": report["run_s"],
        "peak_rss_mb": peak_rss_mb, "naive_calls": naive["calls"], "naive_s": naive["seconds"],
        "write_calls": sum(v for k, v in woo_calls.items() if "batch" in k),
    }


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
    from include.stock_sync import Stage

    path = next(home.glob("staging/*/*/changes.json"))
    return Stage.read(str(path)).to_dict("records")


def naive_writer(changes: list[dict]) -> dict:
    """What a one-PUT-per-product writer would cost for the same changes."""
    from woocommerce.hooks import WooCommerceHook

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
    lines += ["", "Calls by kind:", ""]
    for r in rows:
        kinds = {**{f"Woo {k}": v for k, v in r["woo_calls"].items()}, **{f"OG {k}": v for k, v in r["og_calls"].items()}}
        lines.append(f"- {r['n']:,} products: " + ", ".join(f"{k} × {v}" for k, v in sorted(kinds.items())))
    section = "\n".join(lines) + "\n"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\n"
    start = text.find("## Stock sync")
    if start >= 0:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1:] if end >= 0 else "")
    else:
        text = text.rstrip() + "\n\n" + section
    RESULTS.write_text(text)
    print(section)


def _airflow_env() -> None:
    home = VAR / "airflow"
    os.environ.update({
        "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"), "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING", "PYTHONPATH": os.pathsep.join([str(ROOT / "dags"), str(ROOT)]),
    })


def _connections(woo_url: str, og_url: str) -> None:
    from sandbox.officeguy.app import SANDBOX_API_KEY, SANDBOX_COMPANY_ID
    from sandbox.woocommerce.app import SANDBOX_CONSUMER_KEY, SANDBOX_CONSUMER_SECRET

    os.environ["AIRFLOW_CONN_WOOCOMMERCE_DEFAULT"] = json.dumps({
        "conn_type": "woocommerce", "host": woo_url, "login": SANDBOX_CONSUMER_KEY,
        "password": SANDBOX_CONSUMER_SECRET, "extra": {"auth": "oauth1"}})
    os.environ["AIRFLOW_CONN_OFFICEGUY_DEFAULT"] = json.dumps({
        "conn_type": "officeguy", "host": og_url, "login": str(SANDBOX_COMPANY_ID), "password": SANDBOX_API_KEY,
        "extra": {"rate_limit_per_minute": 90}})


if __name__ == "__main__":
    main()
