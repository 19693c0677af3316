"""The orders flow's read window and go-live refusal (include/orders_sync.py ``window``, ``before_go_live``).

A table of the run kinds Airflow gives the orders DAG (scheduled, manual, backfill, asset-triggered),
then properties over any interval, watermark and trigger time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from officeguy_woocommerce.include.orders_sync import before_go_live, window

GO_LIVE = date(2026, 1, 1)
GO_LIVE_START = datetime(2026, 1, 1, tzinfo=UTC)
FIVE = timedelta(minutes=5)


def t(text: str) -> datetime:
    """A UTC instant from 'YYYY-MM-DD HH:MM[:SS]'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


INTERVAL = (t("2026-03-10 10:00"), t("2026-03-10 10:15"))
RUN_AFTER = t("2026-03-10 12:34")

CASES = [
    # id, run_type, interval, watermark, run_after, overlap, expected (start, end)
    ("scheduled, no watermark (first run, ledger lost or replaced): from go-live",
     "scheduled", INTERVAL, None, t("2026-03-10 10:15"), FIVE, (GO_LIVE_START, t("2026-03-10 10:15"))),
    ("scheduled, older watermark (scheduler was down): from the watermark",
     "scheduled", INTERVAL, t("2026-03-10 08:00"), t("2026-03-10 10:15"), FIVE,
     (t("2026-03-10 07:55"), t("2026-03-10 10:15"))),
    ("scheduled, watermark inside the interval: the interval start",
     "scheduled", INTERVAL, t("2026-03-10 10:10"), t("2026-03-10 10:15"), FIVE,
     (t("2026-03-10 09:55"), t("2026-03-10 10:15"))),
    ("scheduled, watermark after the interval (a manual run went first): the interval still",
     "scheduled", INTERVAL, t("2026-03-10 11:00"), t("2026-03-10 11:01"), FIVE,
     (t("2026-03-10 09:55"), t("2026-03-10 10:15"))),
    ("scheduled, watermark equal to the interval start",
     "scheduled", INTERVAL, t("2026-03-10 10:00"), t("2026-03-10 10:15"), FIVE,
     (t("2026-03-10 09:55"), t("2026-03-10 10:15"))),
    ("scheduled, no overlap: exactly the interval",
     "scheduled", INTERVAL, t("2026-03-10 10:00"), t("2026-03-10 10:15"), timedelta(0), INTERVAL),
    ("manual with watermark: watermark to the trigger, its inferred interval ignored",
     "manual", INTERVAL, t("2026-03-10 08:00"), RUN_AFTER, FIVE, (t("2026-03-10 07:55"), RUN_AFTER)),
    ("manual with a watermark newer than the interval",
     "manual", INTERVAL, t("2026-03-10 12:00"), RUN_AFTER, FIVE, (t("2026-03-10 11:55"), RUN_AFTER)),
    ("manual without watermark: from go-live (the overlap clamped away)",
     "manual", INTERVAL, None, RUN_AFTER, FIVE, (GO_LIVE_START, RUN_AFTER)),
    ("manual without an interval",
     "manual", None, t("2026-03-10 08:00"), RUN_AFTER, FIVE, (t("2026-03-10 07:55"), RUN_AFTER)),
    ("backfill: exactly its interval, even with an older watermark",
     "backfill", INTERVAL, t("2026-02-01 00:00"), RUN_AFTER, FIVE, (t("2026-03-10 09:55"), t("2026-03-10 10:15"))),
    ("backfill: exactly its interval, even with a newer watermark",
     "backfill", INTERVAL, t("2026-04-01 00:00"), RUN_AFTER, FIVE, (t("2026-03-10 09:55"), t("2026-03-10 10:15"))),
    ("backfill straddling go-live: clamped to go-live",
     "backfill", (t("2025-12-31 23:50"), t("2026-01-01 00:05")), None, RUN_AFTER, FIVE,
     (GO_LIVE_START, t("2026-01-01 00:05"))),
    ("asset-triggered with watermark: like a manual run",
     "asset_triggered", INTERVAL, t("2026-03-10 08:00"), RUN_AFTER, FIVE, (t("2026-03-10 07:55"), RUN_AFTER)),
    ("asset-triggered without watermark: from go-live",
     "asset_triggered", None, None, RUN_AFTER, FIVE, (GO_LIVE_START, RUN_AFTER)),
    ("scheduled, zero-width interval: read as a manual run (watermark to run_after)",
     "scheduled", (t("2026-03-10 10:00"), t("2026-03-10 10:00")), t("2026-03-10 09:00"), t("2026-03-10 10:00:05"),
     FIVE, (t("2026-03-10 08:55"), t("2026-03-10 10:00:05"))),
    ("scheduled, zero-width interval and no watermark: from go-live",
     "scheduled", (t("2026-03-10 10:00"), t("2026-03-10 10:00")), None, t("2026-03-10 10:00"), FIVE,
     (GO_LIVE_START, t("2026-03-10 10:00"))),
    ("backfill, zero-width interval: read as a manual run",
     "backfill", (t("2026-03-10 10:00"), t("2026-03-10 10:00")), t("2026-03-10 09:00"), RUN_AFTER, FIVE,
     (t("2026-03-10 08:55"), RUN_AFTER)),
    ("scheduled, interval ending before it starts: no interval",
     "scheduled", (t("2026-03-10 10:15"), t("2026-03-10 10:00")), t("2026-03-10 09:00"), RUN_AFTER, FIVE,
     (t("2026-03-10 08:55"), RUN_AFTER)),
    ("scheduled, interval with a missing start: no interval",
     "scheduled", (None, t("2026-03-10 10:15")), None, RUN_AFTER, FIVE, (GO_LIVE_START, RUN_AFTER)),
    ("scheduled, first interval of go-live day: clamped to go-live",
     "scheduled", (t("2026-01-01 00:00"), t("2026-01-01 00:15")), None, t("2026-01-01 00:15"), FIVE,
     (GO_LIVE_START, t("2026-01-01 00:15"))),
    ("scheduled, watermark before go-live: clamped to go-live",
     "scheduled", INTERVAL, t("2025-06-01 00:00"), t("2026-03-10 10:15"), FIVE,
     (GO_LIVE_START, t("2026-03-10 10:15"))),
    ("manual, watermark four minutes after go-live: the overlap clamped to go-live",
     "manual", None, t("2026-01-01 00:04"), RUN_AFTER, FIVE, (GO_LIVE_START, RUN_AFTER)),
    ("scheduled, a long overlap reaches back an hour",
     "scheduled", INTERVAL, t("2026-03-10 10:05"), t("2026-03-10 10:15"), timedelta(minutes=60),
     (t("2026-03-10 09:00"), t("2026-03-10 10:15"))),
    ("an unknown run type is read like a manual run",
     "operator", INTERVAL, t("2026-03-10 08:00"), RUN_AFTER, FIVE, (t("2026-03-10 07:55"), RUN_AFTER)),
]


@pytest.mark.parametrize("run_type, interval, watermark, run_after, overlap, expected",
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_window(run_type, interval, watermark, run_after, overlap, expected):
    got = window(interval, watermark=watermark, run_after=run_after, go_live=GO_LIVE, overlap=overlap,
                 run_type=run_type)
    assert got == expected


def test_the_default_run_type_is_scheduled():
    assert window(INTERVAL, watermark=t("2026-03-10 08:00"), run_after=RUN_AFTER, go_live=GO_LIVE, overlap=FIVE) \
        == (t("2026-03-10 07:55"), t("2026-03-10 10:15"))


def test_intervals_in_another_zone_give_the_same_instants():
    jerusalem = ZoneInfo("Asia/Jerusalem")
    local = tuple(x.astimezone(jerusalem) for x in INTERVAL)
    start, end = window(local, watermark=t("2026-03-10 10:00"), run_after=RUN_AFTER, go_live=GO_LIVE, overlap=FIVE)
    assert (start, end) == (t("2026-03-10 09:55"), t("2026-03-10 10:15"))


# --------------------------------------------------------------------------- properties
RUN_TYPES = ("scheduled", "manual", "backfill", "asset_triggered")
instants = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31),
                        timezones=st.just(UTC))
widths = st.one_of(st.just(timedelta(0)), st.timedeltas(min_value=-timedelta(hours=1), max_value=timedelta(days=2)))
intervals = st.one_of(st.none(), st.builds(lambda start, width: (start, start + width), instants, widths))
go_lives = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31))
overlaps = st.one_of(st.just(timedelta(0)), st.integers(0, 180).map(lambda m: timedelta(minutes=m)))


def _has_interval(interval) -> bool:
    return bool(interval and interval[0] and interval[1] and interval[1] > interval[0])


@settings(max_examples=400, deadline=None)
@given(interval=intervals, watermark=st.one_of(st.none(), instants), run_after=instants, go_live=go_lives,
       overlap=overlaps, run_type=st.sampled_from(RUN_TYPES))
def test_window_properties(interval, watermark, run_after, go_live, overlap, run_type):
    go_live_start = datetime(go_live.year, go_live.month, go_live.day, tzinfo=UTC)
    start, end = window(interval, watermark=watermark, run_after=run_after, go_live=go_live, overlap=overlap,
                        run_type=run_type)
    # Never before go-live.
    assert start >= go_live_start
    # Ends at the interval's end (scheduled runs and backfills with an interval) or at run_after.
    uses_interval = run_type in ("scheduled", "backfill") and _has_interval(interval)
    assert end == (interval[1] if uses_interval else run_after)
    # Scheduled and manual runs never skip what came after the watermark: they start no later than the
    # watermark less the overlap (or go-live, when that is later).
    if watermark is not None and run_type in ("scheduled", "manual"):
        assert start <= max(go_live_start, watermark - overlap)
    # A window with an interval always reaches back by the overlap (unless go-live is later).
    if uses_interval:
        assert start <= max(go_live_start, interval[0] - overlap)
        # ... and is never empty unless it lies wholly before go-live (a run before_go_live refuses).
        assert (start < end) == (before_go_live(interval, go_live) is None)
    # A scheduled run with no watermark at all (first run, a ledger lost or replaced) reads from go-live.
    if run_type == "scheduled" and uses_interval and watermark is None:
        assert start == go_live_start
    # A backfill reads exactly its interval: the watermark changes nothing.
    if run_type == "backfill" and uses_interval:
        assert start == max(go_live_start, interval[0] - overlap)
    # Manual and asset-triggered runs read from the watermark (or go-live) to the trigger.
    if run_type in ("manual", "asset_triggered"):
        assert start == max(go_live_start, (watermark or go_live_start) - overlap)


@settings(max_examples=200, deadline=None)
@given(interval=intervals, older=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)),
       watermark=instants, run_after=instants, overlap=overlaps)
def test_an_older_watermark_never_narrows_a_scheduled_window(interval, older, watermark, run_after, overlap):
    newer = window(interval, watermark=watermark, run_after=run_after, go_live=GO_LIVE, overlap=overlap)
    widened = window(interval, watermark=watermark - older, run_after=run_after, go_live=GO_LIVE, overlap=overlap)
    assert widened[0] <= newer[0] and widened[1] == newer[1]


# --------------------------------------------------------------------------- before_go_live
@pytest.mark.parametrize("interval", [
    None, (), (None, None), (t("2025-06-01 00:00"), None),
    (t("2025-12-31 23:45"), t("2026-01-01 00:00:01")),  # ends after go-live: allowed
    (t("2026-03-10 10:00"), t("2026-03-10 10:15")),
])
def test_runs_reaching_past_go_live_are_not_refused(interval):
    assert before_go_live(interval, GO_LIVE) is None


@pytest.mark.parametrize("interval", [
    (t("2025-12-31 23:45"), t("2026-01-01 00:00")),  # ends exactly at go-live: nothing after it
    (t("2025-06-01 00:00"), t("2025-06-02 00:00")),
])
def test_runs_wholly_before_go_live_are_refused_with_what_to_do(interval):
    message = before_go_live(interval, GO_LIVE)
    assert message is not None and message.startswith("Refused")
    assert f"{interval[0]:%Y-%m-%d %H:%M}" in message and f"{interval[1]:%Y-%m-%d %H:%M}" in message
    assert "2026-01-01" in message and "STOCK_SYNC_GO_LIVE" in message
    assert "back-fill only ranges after it" in message and "move the go-live date" in message


def test_a_later_go_live_refuses_what_an_earlier_one_allows():
    interval = (t("2026-03-10 10:00"), t("2026-03-10 10:15"))
    assert before_go_live(interval, date(2026, 3, 10)) is None
    assert before_go_live(interval, date(2026, 3, 11)) is not None


@settings(max_examples=300, deadline=None)
@given(start=instants, width=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)), go_live=go_lives,
       overlap=overlaps, watermark=st.one_of(st.none(), instants))
def test_a_run_that_is_not_refused_has_a_window_after_go_live(start, width, go_live, overlap, watermark):
    """before_go_live and window agree: a backfill is refused exactly when its window would be empty."""
    interval = (start, start + width)
    go_live_start = datetime(go_live.year, go_live.month, go_live.day, tzinfo=UTC)
    refused = before_go_live(interval, go_live) is not None
    assert refused == (interval[1] <= go_live_start)
    if not refused and width:
        lo, hi = window(interval, watermark=watermark, run_after=interval[1], go_live=go_live, overlap=overlap,
                        run_type="backfill")
        assert go_live_start <= lo < hi


def test_a_refusal_with_an_unknown_start_still_refuses():
    message = before_go_live((None, t("2025-06-01 00:00")), GO_LIVE)
    assert message is not None and "STOCK_SYNC_GO_LIVE" in message
