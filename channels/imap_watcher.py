"""One watcher per persona mailbox: IDLE as a wake-up, UID SEARCH + FETCH as the truth.

The watcher only talks IMAP. What a message means is decided behind a ``MailboxSink``
(runners/tracker.py), which stores raw bytes and checkpoints; the watcher never deletes,
moves or flags a message (``BODY.PEEK[]`` only), since a person may use the mailbox too.

Per-folder state machine (INBOX, and the folder with the ``\\Junk`` role: a reply filed as
spam still counts), run for each folder on every pass over one connection::

        SELECT ──► UIDVALIDITY ──► CHECKPOINT ──► CATCH UP ──► CENSUS (when due) ──► done
                                       │             ▲  │
           sink.last_uid(folder, V):   │             │  └─ UID SEARCH UID last+1:*, FETCH in
           0 for a UIDVALIDITY never   └─────────────┘     batches; each batch handed to
           seen (new folder, or the                        sink.deliver() before the next is
           server renumbered it: the                       asked for (one batch read ahead);
           sink reconciles by hash and                     the sink stores raw bytes and moves
           Message-ID, nothing is                          the checkpoint in one transaction,
           counted twice)                                  and may go on processing the batch
                                                           while the next is fetched; the pass
                                                           ends with sink.settle()

Connection life::

    CONNECT ──► PASS (every folder) ──► WAIT ──► PASS ──► WAIT ...
       ▲            │                    │
       │            │                    └─ IDLE on INBOX until the server pushes something or
       │            │                       min(idle_timeout, poll_interval) passes (Junk is
       │            │                       polled on each wake-up); without IDLE, sleep
       │            │                       poll_interval
       └─ BACKOFF ◄─┴─ any error (connection lost, server BYE, timeout, login refused, a
                       database error behind the sink): the connection is dropped, we wait
                       base·2^n (capped, with jitter) and start again from the checkpoints

Nothing is lost across a crash or a restart: a UID is above the checkpoint until the batch that
holds it is stored. Nothing is counted twice: the sink's rows are unique on (persona, folder,
UIDVALIDITY, UID). The census (STATUS MESSAGES) compares the server's count with what is stored
and, when the server has more, fetches the UIDs that are missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from channels.imap_session import (
    FetchedMessage,
    ImapAccount,
    ImapAuthError,
    ImapError,
    ImapSession,
    ImapTemporaryError,
)

log = logging.getLogger("temoin.imap_watcher")

INBOX = "INBOX"


@dataclass(frozen=True, slots=True)
class WatchConfig:
    poll_interval: float = 60.0
    idle_timeout: float = 300.0
    census_interval: float = 3600.0
    fetch_batch: int = 200
    timeout: float = 60.0
    backoff_base: float = 5.0
    backoff_cap: float = 600.0
    watch_junk: bool = True


class MailboxSink(Protocol):
    """Where a watcher hands over what it reads. Every method may raise: the watcher backs off."""

    async def last_uid(self, folder: str, uidvalidity: int) -> int:
        """The checkpoint of (folder, UIDVALIDITY); 0 for a UIDVALIDITY never seen."""
        ...

    async def deliver(
        self, folder: str, uidvalidity: int, messages: Sequence[FetchedMessage], up_to: int
    ) -> None:
        """Store the batch (raw first) and move the checkpoint to at least ``up_to``; what
        follows (processing) may still run when it returns: see ``settle``."""
        ...

    async def settle(self) -> None:
        """Wait for the work ``deliver`` left running; raise its error."""
        ...

    async def census(self, folder: str, uidvalidity: int, server_count: int) -> int:
        """Record the server's count; return how many of the folder's messages are stored."""
        ...

    async def missing(self, folder: str, uidvalidity: int, uids: Sequence[int]) -> list[int]:
        """Of ``uids`` (all on the server), those not stored."""
        ...

    async def pending(self) -> None:
        """Finish messages stored raw but not processed (a crash between the two)."""
        ...


@dataclass
class WatchStats:
    passes: int = 0
    fetched: int = 0
    reconnects: int = 0
    census_gaps: int = 0
    last_error: str | None = None


class MailboxWatcher:
    def __init__(
        self,
        name: str,
        account: ImapAccount,
        sink: MailboxSink,
        config: WatchConfig | None = None,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self.name = name
        self.account = account
        self.sink = sink
        self.config = config or WatchConfig()
        self.rng = rng or random.Random()
        self.stats = WatchStats()
        self._census_due: dict[str, float] = {}

    # -- public ----------------------------------------------------------------------------

    async def sync_once(self, *, census: bool = False) -> None:
        """Connect, one pass over the folders, disconnect. Errors are raised."""
        async with ImapSession(self.account, timeout=self.config.timeout) as imap:
            await self.sink.pending()
            folders = await self._folders(imap)
            await self._pass(imap, folders, force_census=census)

    async def run(self, stop: asyncio.Event) -> None:
        """Watch until ``stop`` is set; never raises (errors are logged and backed off)."""
        failures = 0
        while not stop.is_set():
            try:
                await self._connected_loop(stop)
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure: drop the connection, back off, start again
                failures += 1
                self.stats.reconnects += 1
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                delay = self.backoff(failures, auth=isinstance(exc, ImapAuthError))
                level = logging.WARNING if isinstance(exc, ImapError) else logging.ERROR
                log.log(level, "watcher %s: %s; again in %.1f s", self.name, exc, delay,
                        exc_info=not isinstance(exc, ImapError))  # fmt: skip
                await _sleep_or_stop(stop, delay)

    def backoff(self, failures: int, *, auth: bool = False) -> float:
        """Capped exponential backoff with jitter; a refused login waits the cap."""
        cap = self.config.backoff_cap
        if auth:
            return cap * self.rng.uniform(0.8, 1.0)
        delay = min(cap, self.config.backoff_base * 2.0 ** min(failures - 1, 60))
        return float(delay * self.rng.uniform(0.5, 1.0))

    # -- the loop ----------------------------------------------------------------------------

    async def _connected_loop(self, stop: asyncio.Event) -> None:
        async with ImapSession(self.account, timeout=self.config.timeout) as imap:
            await self.sink.pending()
            folders = await self._folders(imap)
            idle = imap.has_idle()
            log.info("watcher %s: watching %s (%s)", self.name, ", ".join(folders),
                     "IDLE" if idle else "polling")  # fmt: skip
            while not stop.is_set():
                await self._pass(imap, folders)
                wait = self.config.idle_timeout if idle else self.config.poll_interval
                if len(folders) > 1:
                    wait = min(wait, self.config.poll_interval)
                if idle:
                    await self._idle(imap, stop, wait)
                else:
                    await _sleep_or_stop(stop, wait)

    async def _folders(self, imap: ImapSession) -> list[str]:
        folders = []
        if self.config.watch_junk:
            junk = (await imap.special_folders()).get("junk")
            if junk and junk.upper() != INBOX:
                folders.append(junk)
        folders.append(INBOX)  # last, so that it stays selected for IDLE
        return folders

    async def _idle(self, imap: ImapSession, stop: asyncio.Event, wait: float) -> None:
        idle = asyncio.ensure_future(imap.idle(wait))
        stopper = asyncio.ensure_future(stop.wait())
        try:
            while True:
                await asyncio.wait({idle, stopper}, timeout=1.0,
                                   return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
                if idle.done() or stopper.done():
                    break
                if _connection_closed(imap):
                    # aioimaplib does not wake an IDLE waiter when the server goes away
                    # (a restart, a NAT timeout): look every second instead of at the end.
                    raise ImapTemporaryError("IMAP connection lost during IDLE")
            if not idle.done():
                # Stopping: end IDLE the polite way (DONE), so that LOGOUT can follow.
                with contextlib.suppress(Exception):
                    await imap.client.stop_wait_server_push()
                await asyncio.wait({idle}, timeout=5)
        finally:
            stopper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stopper
            if not idle.done():
                idle.cancel()
            if idle.done() and not idle.cancelled():
                idle.result()  # raise what IDLE raised (a lost connection)
            else:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await idle

    async def _pass(
        self, imap: ImapSession, folders: Sequence[str], *, force_census: bool = False
    ) -> None:
        for folder in folders:
            state = await imap.select(folder)
            last = await self.sink.last_uid(folder, state.uidvalidity)
            if state.uidnext is None or state.uidnext > last + 1:
                uids = await imap.uids_above(last)
                await self._fetch_deliver(imap, folder, state.uidvalidity, uids)
            now = time.monotonic()
            if force_census or now >= self._census_due.get(folder, 0.0):
                await self._census(imap, folder, state.uidvalidity)
                self._census_due[folder] = now + self.config.census_interval
        self.stats.passes += 1

    async def _fetch_deliver(
        self, imap: ImapSession, folder: str, uidvalidity: int, uids: Sequence[int]
    ) -> None:
        """Fetch ``uids`` in batches, reading one batch ahead while the sink stores the last."""
        size = self.config.fetch_batch
        batches = [list(uids[i : i + size]) for i in range(0, len(uids), size)]
        if not batches:
            return
        ahead: asyncio.Future[list[FetchedMessage]] = asyncio.ensure_future(imap.fetch(batches[0]))
        try:
            for index, batch in enumerate(batches):
                fetched = await ahead
                if index + 1 < len(batches):
                    ahead = asyncio.ensure_future(imap.fetch(batches[index + 1]))
                if len(fetched) < len(batch):
                    got = {m.uid for m in fetched}
                    gone = [uid for uid in batch if uid not in got]
                    # Expunged between SEARCH and FETCH, or not readable: the census looks again.
                    log.warning("watcher %s: %s: UIDs %s not returned by FETCH", self.name,
                                folder, gone[:20])  # fmt: skip
                self.stats.fetched += len(fetched)
                await self.sink.deliver(folder, uidvalidity, fetched, max(batch))
            await self.sink.settle()
        finally:
            if not ahead.done():
                ahead.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await ahead
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.sink.settle()  # on an error: nothing left running behind us

    async def _census(self, imap: ImapSession, folder: str, uidvalidity: int) -> None:
        count, status_validity = await imap.count(folder)
        if status_validity and status_validity != uidvalidity:
            return  # renumbered since SELECT: the next pass reconciles first
        stored = await self.sink.census(folder, uidvalidity, count)
        if count <= stored:
            return
        self.stats.census_gaps += 1
        missing = await self.sink.missing(folder, uidvalidity, await imap.uids_above(0))
        log.warning("watcher %s: %s: server has %d messages, %d stored; fetching %d missing",
                    self.name, folder, count, stored, len(missing))  # fmt: skip
        await self._fetch_deliver(imap, folder, uidvalidity, missing)


def _connection_closed(imap: ImapSession) -> bool:
    try:
        transport = imap.client.protocol.transport
    except (AttributeError, ImapError):
        return True
    return transport is None or bool(transport.is_closing())


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
