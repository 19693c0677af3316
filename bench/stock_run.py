"""One stock DAG run in its own process (so its wall time and peak RSS can be measured):
``python -m bench.stock_run``. The environment (AIRFLOW_HOME, connections) comes from bench.run."""

from __future__ import annotations

import importlib
import json
import time


def main() -> None:
    started = time.monotonic()
    module = importlib.import_module("officeguy_stock_to_woocommerce")
    imported = time.monotonic()
    dag_run = module.dag.test()
    finished = time.monotonic()
    state = str(getattr(dag_run.state, "value", dag_run.state))
    print("BENCH " + json.dumps({"state": state, "import_s": imported - started, "run_s": finished - imported}))


if __name__ == "__main__":
    main()
