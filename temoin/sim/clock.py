"""Simulated time shared by every process of the demo: it moves only when told to.

The demo runs a campaign as a discrete-event simulation: an orchestrator jumps the clock
to the next instant where something is due (a planned contact, a reply a collectivity
decided to send, an auditor's next button), waits until every process has done what was
due, then jumps again. Every recorded time is therefore exact to the second, however fast
the machine runs through weeks of simulated time: a continuously running fast clock would
turn each real millisecond of scheduling noise into simulated seconds.

``SteppedClock`` is the orchestrator's; ``FileClock`` reads the same time from a file in
other processes (``temoin worker --clock-file PATH``): one small read per call.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from scenarios.clock import require_utc


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
