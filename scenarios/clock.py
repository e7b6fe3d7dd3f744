"""Clocks: every piece of code that needs "now" is handed one of these.

The real clock reads the system time; a ``FixedClock`` pins time to the second for
tests; a ``FastClock`` runs faster than real time. (The demo uses a stepped clock that only
moves when its orchestrator says so, temoin/sim/clock.py: exact to the second.)
All return aware UTC datetimes, and every datetime handed to them must be aware
(``require_utc`` refuses naive ones and converts the others to UTC).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant as an aware UTC datetime."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime) -> None:
        self._now = require_utc(start)

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = require_utc(instant)

    def advance(self, delta: timedelta) -> None:
        """Move the clock by ``delta`` (backwards when negative)."""
        self._now += delta


class FastClock:
    """Simulated time that starts at ``start`` and runs ``speed`` times faster than real time.

    Real time is measured with ``monotonic`` (``time.monotonic`` by default), so a change of
    the system clock does not make simulated time jump.
    """

    def __init__(
        self,
        start: datetime,
        speed: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be a positive finite number, not {speed!r}")
        self._start = require_utc(start)
        self._speed = speed
        self._monotonic = monotonic
        self._origin = monotonic()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> datetime:
        elapsed = (self._monotonic() - self._origin) * self._speed
        return self._start + timedelta(seconds=elapsed)


def require_utc(instant: datetime) -> datetime:
    """Return ``instant`` converted to UTC; refuse naive datetimes."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"naive datetime refused: {instant!r} (every time must be aware)")
    return instant.astimezone(UTC)
