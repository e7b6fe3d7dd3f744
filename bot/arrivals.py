"""When each update reached us: stamped as it enters PTB's update queue, before any waiting.

A callback query (a button press) carries no date, and a press is a measured figure: « Appel
lancé », « Décroché », « Raccroché », « Arrivé »… are the times the barometer's delays are
computed from. Timed when a handler finally runs, a press would carry every wait of the bot
(the queue, the concurrency limit, the user's earlier updates, the SQLite writer): seconds
under load, for reasons that have nothing to do with the service. So every update is stamped
when it arrives: PTB's Updater puts each update of a ``getUpdates`` batch into the
application's queue as soon as the batch is read, and its webhook server puts each update as
its request is read; ``ArrivalQueue`` is that queue, and it stamps on the way in.

Update objects are frozen, so the stamps live beside them (update id -> aware UTC instant),
read by the handlers through ``Arrivals.of`` and bounded: an update nobody asks about is
forgotten once ``KEPT`` newer ones have arrived. The instant comes from the bot's ``Clock``,
so a simulated clock (tests, the demo) stamps simulated time.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from datetime import datetime

from telegram import Update

from scenarios.clock import Clock, require_utc

KEPT = 100_000  # far more than a bot's updates in flight; a few MB at most


class Arrivals:
    """Arrival instants of recent updates, by update id."""

    def __init__(self, clock: Clock, kept: int = KEPT) -> None:
        self._clock = clock
        self._kept = kept
        self._stamps: OrderedDict[int, datetime] = OrderedDict()

    def stamp(self, update: object) -> None:
        if not isinstance(update, Update):
            return  # the queue also carries whatever else an application puts there
        self._stamps[update.update_id] = require_utc(self._clock.now())
        while len(self._stamps) > self._kept:
            self._stamps.popitem(last=False)

    def of(self, update: object) -> datetime | None:
        """When ``update`` arrived; None for an update that did not come through the queue
        (one given to ``Application.process_update`` directly) or is long forgotten."""
        if not isinstance(update, Update):
            return None
        return self._stamps.get(update.update_id)

    def __len__(self) -> int:
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
