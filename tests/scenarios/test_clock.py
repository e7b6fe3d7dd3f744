"""Clocks: fixed, fast (simulated) and system; every instant aware UTC."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest

from scenarios.clock import Clock, FastClock, FixedClock, SystemClock, require_utc

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
PLUS_TWO = timezone(timedelta(hours=2))


def read(clock: Clock) -> datetime:
    return clock.now()


class NoOffset(tzinfo):
    """A tzinfo that does not know its offset: the datetime is naive in practice."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


# --- require_utc ----------------------------------------------------------------------------


def test_require_utc_refuses_naive() -> None:
    with pytest.raises(ValueError, match="naive"):
        require_utc(datetime(2026, 6, 1, 12, 0))
    with pytest.raises(ValueError, match="naive"):
        require_utc(datetime(2026, 6, 1, 12, 0, tzinfo=NoOffset()))


def test_require_utc_converts_offsets() -> None:
    got = require_utc(datetime(2026, 6, 1, 12, 0, tzinfo=PLUS_TWO))
    assert got == datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    assert got.tzinfo is UTC
    assert (got.hour, got.minute) == (10, 0)
    paris_winter = datetime(2026, 1, 15, 9, 30, tzinfo=ZoneInfo("Europe/Paris"))
    assert require_utc(paris_winter).hour == 8
    assert require_utc(START) == START
    assert require_utc(START).tzinfo is UTC


# --- FixedClock -----------------------------------------------------------------------------


def test_fixed_clock_only_moves_when_told() -> None:
    clock = FixedClock(START)
    assert read(clock) == START
    assert read(clock) == START
    clock.advance(timedelta(minutes=90))
    assert clock.now() == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    clock.advance(timedelta(days=1, seconds=1))
    assert clock.now() == datetime(2026, 3, 3, 9, 30, 1, tzinfo=UTC)
    clock.advance(timedelta(seconds=-1))
    assert clock.now() == datetime(2026, 3, 3, 9, 30, tzinfo=UTC)
    clock.set(datetime(2026, 6, 1, 12, 0, tzinfo=PLUS_TWO))
    assert clock.now() == datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    assert clock.now().tzinfo is UTC


def test_fixed_clock_converts_and_refuses_naive() -> None:
    clock = FixedClock(datetime(2026, 6, 1, 12, 0, tzinfo=PLUS_TWO))
    assert clock.now().tzinfo is UTC
    assert clock.now().hour == 10
    with pytest.raises(ValueError, match="naive"):
        FixedClock(datetime(2026, 6, 1, 12, 0))
    with pytest.raises(ValueError, match="naive"):
        clock.set(datetime(2026, 6, 1, 12, 0))
    assert clock.now() == datetime(2026, 6, 1, 10, 0, tzinfo=UTC)  # unchanged by the refusal


def test_fixed_clock_advance_crosses_dst_in_utc() -> None:
    # Paris switches on 29 March 2026 at 01:00 UTC; UTC time just adds up.
    clock = FixedClock(datetime(2026, 3, 29, 0, 30, tzinfo=UTC))
    clock.advance(timedelta(hours=1))
    assert clock.now() == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert clock.now().astimezone(ZoneInfo("Europe/Paris")).hour == 3


# --- FastClock ------------------------------------------------------------------------------


def test_fast_clock_runs_speed_times_faster_with_a_real_sleep() -> None:
    speed = 3600.0  # one real second is one simulated hour
    before = time.monotonic()
    clock = FastClock(START, speed)
    after_start = time.monotonic()
    time.sleep(0.05)
    before_read = time.monotonic()
    now = clock.now()
    after_read = time.monotonic()
    elapsed = now - START
    # The clock's own origin and reading lie inside these windows.
    slack = timedelta(microseconds=2)
    assert elapsed >= timedelta(seconds=(before_read - after_start) * speed) - slack
    assert elapsed <= timedelta(seconds=(after_read - before) * speed) + slack
    assert elapsed >= timedelta(seconds=0.05 * speed) - slack  # sleep lasts at least 50 ms
    assert now.tzinfo is UTC


def test_fast_clock_with_a_given_monotonic_source() -> None:
    ticks = iter([100.0, 100.5, 102.0, 102.0])
    clock = FastClock(START, 60, monotonic=lambda: next(ticks))
    assert clock.speed == 60
    assert clock.now() == START + timedelta(seconds=30)
    assert clock.now() == START + timedelta(seconds=120)
    assert clock.now() == START + timedelta(seconds=120)


def test_fast_clock_starts_at_its_start_in_utc() -> None:
    clock = FastClock(datetime(2026, 6, 1, 12, 0, tzinfo=PLUS_TWO), 1.0, monotonic=lambda: 5.0)
    assert clock.now() == datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    assert clock.now().tzinfo is UTC


@pytest.mark.parametrize("speed", [0.0, -1.0, float("nan"), float("inf")])
def test_fast_clock_refuses_bad_speeds(speed: float) -> None:
    with pytest.raises(ValueError, match="speed"):
        FastClock(START, speed)


def test_fast_clock_refuses_naive_start() -> None:
    with pytest.raises(ValueError, match="naive"):
        FastClock(datetime(2026, 3, 2, 8, 0), 10)


# --- SystemClock ----------------------------------------------------------------------------


def test_system_clock_is_aware_utc_now() -> None:
    before = time.time()
    now = read(SystemClock())
    after = time.time()
    assert now.tzinfo is UTC
    assert before - 0.001 <= now.timestamp() <= after + 0.001
