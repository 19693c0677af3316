"""The suite's own layout: pytest imports test modules by their file name (rootdir conftest, no
packages), so two test files with one name stop the whole run at collection ("import file mismatch"),
which a targeted run of one folder never shows. Twice so far (test_run_tries, test_webhooks)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_no_two_test_modules_share_a_file_name():
    names = Counter(p.name for p in TESTS.rglob("test_*.py") if "__pycache__" not in p.parts)
    assert not [n for n, k in names.items() if k > 1], sorted(
        str(p.relative_to(TESTS)) for p in TESTS.rglob("test_*.py") if names[p.name] > 1)
