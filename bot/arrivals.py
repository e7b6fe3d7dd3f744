"""When each update reached us: stamped as it enters PTB's update queue, before any waiting.

A callback query (a button press) carries no date, and a press is a measured figure: « Appel
lancé », « Décroché », « Raccroché », « Arrivé »… are the times the barometer's delays are
computed from. Timed when a handler finally runs, a press would carry every wait of the bot
(the queue, the concurrency limit, the user's earlier updates, the SQLite writer): seconds
under load, for reasons that have nothing to do with the service. So every update is stamped
when it arrives:

- long polling (``bot.polling.ArrivalPoller``): a thread holds ``getUpdates`` and stamps
  every update of a batch the moment the batch is read, whatever the application's loop is
  busy with (``Arrivals.record``);
- webhook (``bot.webhook.ArrivalWebhook``): a server of its own, in threads, stamps each
  update the moment its request's headers are read, whatever the loop is busy with;
- anything else put in PTB's queue: ``ArrivalQueue`` is that queue, and it stamps on the way
  in (an update already stamped by the poller or the webhook keeps its stamp).

Update objects are frozen, so the stamps live beside them (update id -> aware UTC instant),
read by the handlers through ``Arrivals.of`` and bounded: an update nobody asks about is
forgotten once ``KEPT`` newer ones have arrived. The instant comes from the bot's ``Clock``,
so a simulated clock (tests, the demo) stamps simulated time.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from datetime import datetime
from typing import Any

from telegram import Update
from telegram.ext import Application

from scenarios.clock import Clock, require_utc

KEPT = 100_000  # far more than a bot's updates in flight; a few MB at most

App = Application[Any, Any, Any, Any, Any, Any]

log = logging.getLogger(__name__)


class Arrivals:
    """Arrival instants of recent updates, by update id; thread-safe (the poller's thread
    records, the application's loop reads)."""

    def __init__(self, clock: Clock, kept: int = KEPT) -> None:
        self._clock = clock
        self._kept = kept
        self._lock = threading.Lock()
        self._stamps: OrderedDict[int, datetime] = OrderedDict()

    def now(self) -> datetime:
        return require_utc(self._clock.now())

    def record(self, update_id: object, at: datetime) -> None:
        """``update_id`` arrived at ``at`` (the first record of an update wins)."""
        if not isinstance(update_id, int):
            return
        with self._lock:
            self._stamps.setdefault(update_id, require_utc(at))
            while len(self._stamps) > self._kept:
                self._stamps.popitem(last=False)

    def stamp(self, update: object) -> None:
        """``update`` arrives now (unless it was recorded already)."""
        if isinstance(update, Update):  # the queue may carry whatever else an app puts there
            self.record(update.update_id, self.now())

    def of(self, update: object) -> datetime | None:
        """When ``update`` arrived; None for an update that did not come through the queue
        (one given to ``Application.process_update`` directly) or is long forgotten."""
        if not isinstance(update, Update):
            return None
        with self._lock:
            return self._stamps.get(update.update_id)

    def __len__(self) -> int:
        with self._lock:
            return len(self._stamps)


class ArrivalQueue(asyncio.Queue[object]):
    """PTB's update queue, stamping each update as it is put (polling and webhook alike).

    ``asyncio.Queue.put`` ends in ``put_nowait``, so stamping there covers both; the queue is
    unbounded, as PTB's own, so nothing waits before the stamp."""

    def __init__(self, arrivals: Arrivals) -> None:
        super().__init__()
        self.arrivals = arrivals

    def put_nowait(self, item: object) -> None:
        self.arrivals.stamp(item)
        super().put_nowait(item)


def hand_over(app: App, batch: list[dict[str, Any]]) -> None:
    """On the application's loop: raw updates (stamped already) into PTB's queue, in order."""
    bot = app.bot
    for raw in batch:
        try:
            update = Update.de_json(raw, bot)
        except Exception:  # an update PTB cannot read must not stop the others
            log.exception("unreadable update %s", raw.get("update_id"))
            continue
        app.update_queue.put_nowait(update)
