"""Clocks: every piece of code that needs "now" is handed one of these.

The real clock reads the system time; a ``FixedClock`` pins time to the second for
tests; a ``FastClock`` runs a simulated campaign faster than real time (the demo).
All return aware UTC datetimes.
"""

from __future__ import annotations

import time
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
        self._now += delta


class FastClock:
    """Simulated time that starts at ``start`` and runs ``speed`` times faster than real time."""

    def __init__(self, start: datetime, speed: float) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._start = require_utc(start)
        self._speed = speed
        self._origin = time.monotonic()

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._origin) * self._speed
        return self._start + timedelta(seconds=elapsed)


def require_utc(instant: datetime) -> datetime:
    """Return ``instant`` converted to UTC; refuse naive datetimes."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"naive datetime refused: {instant!r} (every time must be aware)")
    return instant.astimezone(UTC)
