"""The browser test's failure hook: a test of tests/e2e that fails leaves a screenshot of the page it
was on (``FAILED-<test>.png`` in the screenshots folder), beside the screenshots of the steps it passed."""

from __future__ import annotations

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        ui = getattr(item, "funcargs", {}).get("ui")
        if ui is not None:
            ui.failure_shot(item.name)
