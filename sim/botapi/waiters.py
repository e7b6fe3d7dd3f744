"""Async waiters woken from the server's threads.

A coroutine waiting for a change (a simulated user waiting for the bot's next message, a test
waiting until ``api.active_polls == 1``) parks a future in a :class:`Waiters`; the server thread
that changes the state wakes them all through each future's own event loop.
"""

from __future__ import annotations

import asyncio
import contextlib


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Waiters:
    """Futures of coroutines waiting for a state change; guarded by the API lock."""

    def __init__(self) -> None:
        self._items: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def add(self) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._items.append((loop, future))
        return future

    def discard(self, future: asyncio.Future[None]) -> None:
        self._items = [item for item in self._items if item[1] is not future]

    def wake_all(self) -> None:
        items, self._items = self._items, []
        for loop, future in items:
            # RuntimeError: that loop is closed, nobody waits there any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_wake, future)
