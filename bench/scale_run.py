"""One stock DAG run in its own process, measured task by task: ``python -m bench.scale_run``
(started by ``bench.scale``; the environment, AIRFLOW_HOME and connections, comes from there).

``dag.test()`` runs every task in this one process, one after the other (``_run_task`` in
airflow/sdk/definitions/dag.py). Around each task this wrapper:

- resets the process's peak RSS (writing ``5`` to ``/proc/self/clear_refs`` resets ``VmHWM``), so the
  ``VmHWM`` read when the task ends is this process's peak while that task ran (what the earlier
  tasks left allocated included: an upper bound on the task's own peak in a worker process of its
  own), and records the RSS when the task starts;
- reads this process's CPU seconds and the sandboxes' (``/proc/<pid>/stat``, pids in
  ``BENCH_SANDBOX_PIDS``), so the sandboxes' share of a task's time shows;
- times the call.

After the run the task instances' start and end come from Airflow's metadata DB. Prints one
``BENCH {json}`` line.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import resource
import time
from pathlib import Path

_HWM = re.compile(r"VmHWM:\s+(\d+) kB")
_RSS = re.compile(r"VmRSS:\s+(\d+) kB")
_TICK = os.sysconf("SC_CLK_TCK")


def _status(pattern: re.Pattern, pid: str = "self") -> float:
    """MB from /proc/<pid>/status."""
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        return int(pattern.search(f.read()).group(1)) / 1024


def _cpu(pid: str) -> float:
    """User + system CPU seconds of a process (all its threads)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# What-if (``BENCH_OG_DUPLICATE_CHECK=counter``): OfficeGuyHook.list_stock finds an item listed twice with
# ``ids.count(item_id)`` for every row, O(rows²); this loads plugins/officeguy/hooks.py with that check
# counted once (collections.Counter) instead, in this process only (the file is not changed), to measure
# what the one-line fix would give. The default measures the code as it is.
_SLOW_CHECK = "ids.count(item_id)"
_FAST_CHECK = "_id_counts[item_id]"
_COUNT_ONCE = "ids = [_whole(row.get(\"ID\")) if isinstance(row, dict) else None for row in rows]\n"


def load_og_hook_with_counter() -> None:
    import importlib.util
    import sys

    name = "officeguy_woocommerce.officeguy.hooks"
    spec = importlib.util.find_spec(name)
    source = Path(spec.origin).read_text(encoding="utf-8")
    if source.count(_COUNT_ONCE) != 1 or _SLOW_CHECK not in source:
        raise SystemExit("BENCH_OG_DUPLICATE_CHECK=counter: plugins/officeguy/hooks.py has changed; no what-if")
    indent = source.split(_COUNT_ONCE)[0].rsplit("\n", 1)[1]
    source = source.replace(_COUNT_ONCE, _COUNT_ONCE + f"{indent}_id_counts = __import__('collections').Counter(ids)\n")
    source = source.replace(_SLOW_CHECK, _FAST_CHECK)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    exec(compile(source, spec.origin, "exec"), module.__dict__)  # noqa: S102 - the project's own file


def main() -> None:
    if os.environ.get("BENCH_OG_DUPLICATE_CHECK") == "counter":
        load_og_hook_with_counter()
    from airflow.sdk.definitions import dag as dag_module

    sandboxes = dict(part.split("=") for part in os.environ.get("BENCH_SANDBOX_PIDS", "").split(",") if part)
    tasks: dict[str, dict] = {}
    original = dag_module._run_task

    def measured(*, ti, task, run_triggerer=False):
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")  # VmHWM := VmRSS
        rss_start = _status(_RSS)
        cpu, sandbox_cpu = _own_cpu(), {name: _cpu(pid) for name, pid in sandboxes.items()}
        started = time.monotonic()
        try:
            return original(ti=ti, task=task, run_triggerer=run_triggerer)
        finally:
            tasks[ti.task_id] = {
                "wrapper_s": time.monotonic() - started, "rss_start_mb": rss_start, "peak_rss_mb": _status(_HWM),
                "cpu_s": _own_cpu() - cpu,
                **{f"{name}_cpu_s": _cpu(pid) - sandbox_cpu[name] for name, pid in sandboxes.items()},
            }

    dag_module._run_task = measured
    started = time.monotonic()
    module = importlib.import_module("officeguy_stock_to_woocommerce")
    imported = time.monotonic()
    dag_run = module.dag.test()
    finished = time.monotonic()
    state = str(getattr(dag_run.state, "value", dag_run.state))

    from airflow.models import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        for ti in session.query(TaskInstance).filter(TaskInstance.dag_id == dag_run.dag_id,
                                                     TaskInstance.run_id == dag_run.run_id):
            row = tasks.setdefault(ti.task_id, {})
            row["state"] = str(getattr(ti.state, "value", ti.state))
            if ti.start_date and ti.end_date:
                row["ti_s"] = (ti.end_date - ti.start_date).total_seconds()
    print("BENCH " + json.dumps({"state": state, "import_s": imported - started, "run_s": finished - imported,
                                 "tasks": tasks, "process_peak_rss_mb": _status(_HWM)}))


if __name__ == "__main__":
    main()
