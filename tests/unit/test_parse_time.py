"""The DAG files' import budget (issue 10): ≤ 0.5 s each after ``airflow.sdk``, with no pandas, Alembic,
FastAPI or ledger models loaded. CPU time of the best of three fresh interpreters, so a busy CI machine
does not make it flaky; ``python -m bench.parse_time`` records the wall times in bench/RESULTS.md."""

from __future__ import annotations

import pytest

from bench.parse_time import BUDGET_S, DAGS, heavy_modules, measure


@pytest.mark.parametrize("dag_file", DAGS, ids=lambda p: p.name)
def test_a_dag_file_imports_within_the_budget_and_loads_nothing_heavy(dag_file):
    result = measure(dag_file, repeat=3)
    assert result["heavy"] == [], f"{dag_file.name} loads {result['heavy']} at parse time: import them in the task"
    assert result["cpu"] <= BUDGET_S, f"{dag_file.name} takes {result['cpu']:.2f} s of CPU to import"


def test_the_heavy_module_check_sees_what_it_must():
    """The check itself: pandas, a ledger model module or the reports app count as heavy."""
    assert heavy_modules(["pandas.core", "json", "officeguy_woocommerce.include.ledger.models",
                          "officeguy_woocommerce.app.reports_app", "officeguy_woocommerce.include.config"]) == [
        "officeguy_woocommerce.app.reports_app", "officeguy_woocommerce.include.ledger.models", "pandas"]
