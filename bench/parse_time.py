"""How long each DAG file takes to import, and what it loads, in a fresh interpreter that has already
imported ``airflow.sdk`` (what Airflow's dag-processor and every task process pay per parse).

    .venv/bin/python -m bench.parse_time      # writes the "DAG file parse time" section of bench/RESULTS.md

The budget (issue 10): ≤ 0.5 s per DAG file, and no pandas, Alembic, FastAPI or ledger models loaded.
``tests/unit/test_parse_time.py`` holds the same budget (with CPU time, which a busy machine does not
inflate); this command records wall and CPU time, best of ``--repeat`` fresh interpreters.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DAGS = sorted((ROOT / "dags").glob("*.py"))
BUDGET_S = 0.5
# top-level packages a DAG file must not load, and our own modules that would mean the same
FORBIDDEN = ("pandas", "numpy", "alembic", "fastapi", "starlette", "uvicorn")
FORBIDDEN_OWN = ("officeguy_woocommerce.include.ledger", "officeguy_woocommerce.app.reports_app",
                 "officeguy_woocommerce.include.stock_plan")

_PROBE = r"""
import importlib.util, json, sys, time
import airflow.sdk  # noqa: F401 - Airflow's own share, paid before the DAG file
before = set(sys.modules)
wall, cpu = time.perf_counter(), time.process_time()
spec = importlib.util.spec_from_file_location("dag_under_test", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
print(json.dumps({"wall": wall, "cpu": cpu, "modules": sorted(set(sys.modules) - before)}))
"""


def measure(dag_file: Path, repeat: int = 3) -> dict:
    """Best of ``repeat`` fresh interpreters: wall and CPU seconds, and the modules the file loaded."""
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", _PROBE, str(dag_file)], capture_output=True, text=True,
                             check=True, cwd=ROOT, timeout=300)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    modules = runs[0]["modules"]
    return {"file": dag_file.name, "wall": min(r["wall"] for r in runs), "cpu": min(r["cpu"] for r in runs),
            "modules": len(modules), "heavy": heavy_modules(modules)}


def heavy_modules(modules: list[str]) -> list[str]:
    tops = {m.split(".")[0] for m in modules}
    own = {m for m in modules if m.startswith(FORBIDDEN_OWN)}
    return sorted((tops & set(FORBIDDEN)) | own)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from bench.run import _replace_section

    rows = [measure(f, args.repeat) for f in DAGS]
    lines = ["## DAG file parse time (`python -m bench.parse_time`)", "",
             f"Fresh interpreter with `airflow.sdk` already imported; best of {args.repeat}. Budget: "
             f"≤ {BUDGET_S} s per file and none of {', '.join(FORBIDDEN)} nor the ledger models loaded.", "",
             "| DAG file | wall (s) | CPU (s) | modules loaded | heavy modules loaded |", "|---|---:|---:|---:|---|"]
    lines += [f"| {r['file']} | {r['wall']:.3f} | {r['cpu']:.3f} | {r['modules']} | {', '.join(r['heavy']) or 'none'} |"
              for r in rows]
    _replace_section("## DAG file parse time", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
