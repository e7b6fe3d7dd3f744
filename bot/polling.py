"""Long polling in a thread of its own, so an update is stamped when its batch comes back.

PTB's own Updater polls on the application's event loop: when the bot is busy (64 updates
being handled, each a few database round trips), the answer to ``getUpdates`` waits for its
turn on that loop, and a press would be stamped hundreds of milliseconds after it reached us.
Here a thread does nothing but hold ``getUpdates`` (plain HTTP, the standard library's
``http.client`` on one kept-alive connection: httpx cost this thread nine tenths of its CPU,
a tenth of the whole bot's under load, with the GIL held): the moment a batch
is read, every update in it is stamped (``Arrivals.record``), then the batch is handed to the
application's loop, which builds the ``Update`` objects and puts them in its queue; from there
on, PTB dispatches as usual. The thread only needs the GIL for a moment, which Python hands
over every few milliseconds whatever the loop is doing.

Telegram's semantics are kept: a batch is confirmed by the next call's ``offset`` (and by one
last call when stopping, as PTB does), so updates not yet read are not lost; a newer
``getUpdates`` ends a held one (409 Conflict), which is also how ``stop`` ends the thread's
long poll at once.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import threading
from typing import Any
from urllib.parse import urlencode, urlsplit

from telegram import Update
from telegram.error import TelegramError

from bot.arrivals import App, Arrivals, hand_over

log = logging.getLogger(__name__)

MAX_BACKOFF = 30.0  # seconds between attempts while Telegram cannot be reached
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class ArrivalPoller:
    """``getUpdates`` in a thread; ``start`` and ``stop`` from the application's loop."""

    def __init__(self, app: App, arrivals: Arrivals, *, timeout: int = 10) -> None:
        self._app = app
        self._arrivals = arrivals
        self._timeout = timeout
        self._url = f"{app.bot.base_url}/getUpdates"
        self._offset = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._undelivered = 0  # batches read, not yet in the application's queue
        self._count_lock = threading.Lock()

    @property
    def undelivered(self) -> int:
        """Batches read (and so confirmed by the next call) not yet in the update queue."""
        with self._count_lock:
            return self._undelivered

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    async def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the poller is already running")
        await self._app.bot.delete_webhook()  # getUpdates is refused while a webhook is set
        self._loop = asyncio.get_running_loop()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="telegram-getUpdates", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        """End the thread (a newer ``getUpdates`` ends its held one) and confirm what it read."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stopping.set()
        try:
            await self._app.bot.get_updates(offset=self._offset or None, timeout=0)
        except TelegramError as exc:  # the updates read will come again: handled twice at worst
            log.warning("could not confirm the last updates: %s", exc.__class__.__name__)
        await asyncio.to_thread(thread.join, self._timeout + 10)

    # ------------------------------------------------------------------ the thread

    def _connection(self) -> http.client.HTTPConnection:
        """A connection to the Bot API (HTTPS with the system's certificates, as Telegram
        is), its socket timeout longer than the long poll it holds."""
        parts = urlsplit(self._url)
        timeout = self._timeout + 10.0
        if parts.scheme == "https":
            return http.client.HTTPSConnection(parts.hostname or "", parts.port, timeout=timeout)
        return http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)

    def _run(self) -> None:
        backoff = 0.0
        parts = urlsplit(self._url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection: http.client.HTTPConnection | None = None
        try:
            while not self._stopping.is_set():
                if backoff:
                    self._stopping.wait(backoff)
                    if self._stopping.is_set():
                        return
                reused = connection is not None
                try:
                    if connection is None:
                        connection = self._connection()
                    connection.request("POST", path, urlencode(self._params()).encode(), FORM)
                    body = connection.getresponse().read()
                    # Stamped as soon as the batch is read, before anything else is done.
                    at = self._arrivals.now()
                    payload = json.loads(body)
                except (OSError, http.client.HTTPException, ValueError) as exc:
                    if connection is not None:
                        connection.close()
                        connection = None  # a fresh one next time: this one may be half-read
                    if reused and not backoff:
                        continue  # the server closed a kept-alive connection: again at once
                    backoff = min(max(backoff * 2, 1.0), MAX_BACKOFF)
                    log.warning("getUpdates failed (%s); again in %.0f s", type(exc).__name__,
                                backoff)  # fmt: skip
                    continue
                if not isinstance(payload, dict) or not payload.get("ok"):
                    backoff = self._backoff_after(payload, backoff)
                    continue
                backoff = 0.0
                batch = [u for u in payload.get("result") or [] if isinstance(u, dict)]
                if not batch:
                    continue
                for raw in batch:
                    self._arrivals.record(raw.get("update_id"), at)
                self._offset = max(int(u.get("update_id", 0)) for u in batch) + 1
                assert self._loop is not None
                with self._count_lock:
                    self._undelivered += 1
                try:
                    self._loop.call_soon_threadsafe(self._deliver, batch)
                except RuntimeError:  # the loop is closed: the application is gone
                    return
        finally:
            if connection is not None:
                connection.close()

    def _params(self) -> dict[str, str]:
        params = {
            "timeout": str(self._timeout),
            "allowed_updates": json.dumps(Update.ALL_TYPES),
        }
        if self._offset:
            params["offset"] = str(self._offset)
        return params

    def _backoff_after(self, payload: object, backoff: float) -> float:
        """The pause after an error answer (409 when ``stop`` ends the held call)."""
        found = payload if isinstance(payload, dict) else {}
        code = found.get("error_code")
        if code == 409 and self._stopping.is_set():
            return 0.0
        retry_after = (found.get("parameters") or {}).get("retry_after")
        if isinstance(retry_after, int | float) and retry_after > 0:
            return float(retry_after)
        log.warning("getUpdates refused (%s)", code)
        return min(max(backoff * 2, 1.0), MAX_BACKOFF)

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        """On the application's loop: the updates into PTB's queue, in order."""
        hand_over(self._app, batch)
        with self._count_lock:
            self._undelivered -= 1
