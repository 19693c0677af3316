"""OfficeGuy's call budget is shared by every process (plugins/common/rate_limit.py): several processes
taking call slots at once never start two calls closer than the interval, on one host (a locked file)
and across hosts (a row in PostgreSQL, whose clock decides). Real processes, real locks, a real database."""

from __future__ import annotations

import multiprocessing as mp
import time

import pytest

from officeguy_woocommerce.common.rate_limit import HostPacer, SqlPacer

PER_MINUTE = 600.0  # a slot every 0.1 s
INTERVAL = 60.0 / PER_MINUTE


def _take_slots(kind: str, where: str, account: str, calls: int, out) -> None:
    pacer = HostPacer(account, PER_MINUTE, folder=where) if kind == "host" else SqlPacer(where, account, PER_MINUTE)
    starts = []
    for _ in range(calls):
        pacer.wait()
        starts.append(time.time())
    out.put(starts)


def _starts_of(kind: str, where: str, account: str, processes: int = 4, calls: int = 8) -> list[float]:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_take_slots, args=(kind, where, account, calls, out)) for _ in range(processes)]
    for p in procs:
        p.start()
    starts = sorted(t for _ in procs for t in out.get(timeout=60))
    for p in procs:
        p.join(timeout=10)
        assert p.exitcode == 0
    return starts


def _assert_paced(starts: list[float], expected: int) -> None:
    """What OfficeGuy counts: calls in any window. Slots are INTERVAL apart, so any 1 s holds at most
    1 / INTERVAL of them (+1 for a process woken late by a loaded machine beside one woken on time);
    processes pacing alone would start all their calls at once."""
    assert len(starts) == expected
    per_second = round(1 / INTERVAL)
    busiest = max(sum(1 for t in starts if s <= t < s + 1.0) for s in starts)
    assert busiest <= per_second + 1, f"{busiest} calls within one second; the budget allows {per_second}"
    # and the budget is used: the calls take about what the slots do, not much more
    assert starts[-1] - starts[0] <= (expected - 1) * INTERVAL + 3.0


def test_processes_of_one_host_share_one_budget(tmp_path):
    _assert_paced(_starts_of("host", str(tmp_path), "https://api.example|1001|600"), 32)


@pytest.mark.postgres
def test_workers_sharing_a_database_share_one_budget(postgres_url):
    _assert_paced(_starts_of("sql", postgres_url, "https://api.example|1001|600"), 32)


def test_a_hold_off_after_a_403_holds_every_process_back(tmp_path):
    account = "https://api.example|1002|600"
    HostPacer(account, PER_MINUTE, folder=tmp_path).hold_off(1.0)
    began = time.time()
    HostPacer(account, PER_MINUTE, folder=tmp_path).wait()  # another process's pacer: the same file
    assert time.time() - began >= 0.95


@pytest.mark.postgres
def test_a_hold_off_in_the_database_holds_every_worker_back(postgres_url):
    account = "https://api.example|1003|600"
    SqlPacer(postgres_url, account, PER_MINUTE).hold_off(1.0)
    began = time.time()
    SqlPacer(postgres_url, account, PER_MINUTE).wait()
    assert time.time() - began >= 0.95


def test_two_companies_do_not_share_a_budget(tmp_path):
    first, second = HostPacer("a|1|600", PER_MINUTE, folder=tmp_path), HostPacer("a|2|600", PER_MINUTE,
                                                                                    folder=tmp_path)
    first.hold_off(5.0)
    began = time.time()
    second.wait()
    assert time.time() - began < 0.5
