"""Fixtures for the OfficeGuy sandbox's contract tests: a live server per test, over real HTTP."""

from __future__ import annotations

import pytest
from og_helpers import TODAY

from sandbox.officeguy.testing import og_sandbox


@pytest.fixture
def og(tmp_path):
    with og_sandbox(tmp_path, dataset="empty", today=TODAY) as sandbox:
        yield sandbox


@pytest.fixture
def demo(tmp_path):
    with og_sandbox(tmp_path, dataset="demo", today=TODAY) as sandbox:
        yield sandbox

