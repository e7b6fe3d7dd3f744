"""Clocks: every piece of code that needs "now" is handed one of these.

The real clock reads the system time; a ``FixedClock`` pins time to the second for
tests; a ``FastClock`` runs faster than real time; an ``OffsetClock`` is the system clock
shifted by a fixed offset (a rehearsal "as if it were Monday"). The demo runs in simulated time:
a ``SteppedClock`` moves only when its orchestrator says so (exact to the second), and other
processes read the same time through a ``FileClock``.
All return aware UTC datetimes, and every datetime handed to them must be aware
(``require_utc`` refuses naive ones and converts the others to UTC).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
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


class OffsetClock:
    """The system clock shifted by a fixed offset (rehearsals and tests: "as if it were Monday").

    Every process given the same offset shares one timeline, so leases stay comparable
    between workers."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


# -- the demo's simulated time ---------------------------------------------------------------
# Simulated time shared by every process of the demo: it moves only when told to.
#
# The demo runs a campaign as a discrete-event simulation: an orchestrator jumps the clock
# to the next instant where something is due (a planned contact, a reply a collectivity
# decided to send, an auditor's next button), waits until every process has done what was
# due, then jumps again. Every recorded time is therefore exact to the second, however fast
# the machine runs through weeks of simulated time: a continuously running fast clock would
# turn each real millisecond of scheduling noise into simulated seconds.
#
# ``SteppedClock`` is the orchestrator's; ``FileClock`` reads the same time from a file in
# other processes (``temoin worker --clock-file PATH``): one small read per call.


class SteppedClock:
    """A clock the orchestrator sets; optionally mirrored to a file for other processes."""

    def __init__(self, start: datetime, path: Path | None = None) -> None:
        self.path = path
        self._now = require_utc(start)
        self._publish()

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        instant = require_utc(instant)
        if instant < self._now:
            raise ValueError(f"simulated time cannot go back ({instant} < {self._now})")
        self._now = instant
        self._publish()

    def _publish(self) -> None:
        if self.path is None:
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(f"{self._now.timestamp():.6f}\n")
        os.replace(tmp, self.path)


class FileClock:
    """The time a ``SteppedClock`` published in ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def now(self) -> datetime:
        try:
            text = self.path.read_text().strip()
        except OSError as exc:
            raise RuntimeError(f"simulated clock file {self.path} unreadable: {exc}") from exc
        return datetime.fromtimestamp(float(text), UTC)


def require_utc(instant: datetime) -> datetime:
    """Return ``instant`` converted to UTC; refuse naive datetimes."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"naive datetime refused: {instant!r} (every time must be aware)")
    return instant.astimezone(UTC)
