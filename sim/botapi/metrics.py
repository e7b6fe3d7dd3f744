"""Metrics of the local Bot API: requests per method and the bot's handling latency.

The server counts every request (failed and unauthorized ones too) and every update the
simulated users produce. A :class:`LatencySample` is taken when the bot makes its first request
for a chat after an update of that chat was made available: the time the bot took to react.
An :class:`Availability` records when each update was made available (wall clock), so what
the bot stored as an update's time can be compared with it.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class LatencySample:
    """Time from an update being made available to the bot's next request for that chat.

    ``update_id`` is the oldest update of the chat that no bot request had followed yet;
    ``method`` the request that ended the wait.
    """

    chat_id: int
    update_id: int
    method: str
    seconds: float


@dataclass(frozen=True)
class Availability:
    """An update made available to the bot: when (``at``, seconds since the epoch on the
    server's clock: the wall clock unless one was given), whose chat, what kind, and a
    button's callback data."""

    update_id: int
    chat_id: int
    kind: str
    at: float
    data: str | None = None


class BotApiMetrics:
    """Request counts per method and handling latencies; thread-safe.

    ``latency_hook``, when set, is called with every :class:`LatencySample` from a server
    thread: it must be thread-safe and quick.
    """

    def __init__(self, latency_hook: Callable[[LatencySample], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._latencies: list[LatencySample] = []
        self._updates_created = 0
        self._available: list[Availability] = []
        self._delivered: dict[int, float] = {}
        self.latency_hook = latency_hook

    @property
    def updates_created(self) -> int:
        """Updates the simulated users produced (including ones filtered by allowed_updates)."""
        with self._lock:
            return self._updates_created

    def requests(self) -> dict[str, int]:
        """Requests received per method name (including failed and unauthorized ones)."""
        with self._lock:
            return dict(self._requests)

    def request_count(self, method: str) -> int:
        with self._lock:
            return self._requests[method]

    @property
    def total_requests(self) -> int:
        with self._lock:
            return sum(self._requests.values())

    def latencies(self) -> list[LatencySample]:
        with self._lock:
            return list(self._latencies)

    def availabilities(self) -> list[Availability]:
        """When each update was made available, oldest first."""
        with self._lock:
            return list(self._available)

    def deliveries(self) -> dict[int, float]:
        """When each update was first handed to the bot (a ``getUpdates`` answer holding it
        was ready to be sent; same clock as ``Availability.at``), by update id."""
        with self._lock:
            return dict(self._delivered)

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._latencies.clear()
            self._available.clear()
            self._delivered.clear()
            self._updates_created = 0

    def _made_available(self, availability: Availability) -> None:
        with self._lock:
            self._available.append(availability)

    def _handed_over(self, update_ids: list[int], at: float) -> None:
        with self._lock:
            for update_id in update_ids:
                self._delivered.setdefault(update_id, at)

    def _count_update(self) -> None:
        with self._lock:
            self._updates_created += 1

    def _count(self, method: str) -> None:
        with self._lock:
            self._requests[method] += 1

    def _record(self, sample: LatencySample) -> None:
        with self._lock:
            self._latencies.append(sample)
        hook = self.latency_hook
        if hook is not None:
            try:
                hook(sample)
            except Exception:
                _LOG.exception("latency hook failed")
