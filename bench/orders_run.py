"""One orders DAG run in its own process: ``python -m bench.orders_run`` (environment from bench.run)."""

from __future__ import annotations

import importlib
import json
import time


def main() -> None:
    module = importlib.import_module("woocommerce_orders_to_officeguy")
    started = time.monotonic()
    dag_run = module.dag.test()
    state = str(getattr(dag_run.state, "value", dag_run.state))
    print("BENCH " + json.dumps({"state": state, "run_s": time.monotonic() - started}))


if __name__ == "__main__":
    main()
