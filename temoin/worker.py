"""``temoin worker``: the scheduler that wakes the dispatcher, and the mailbox watchers.

APScheduler's ``AsyncIOScheduler`` runs in this process with an in-memory job store: several
worker processes share the work through the database (row claims), never through a shared job
store (APScheduler's FAQ: that gives duplicate or missed runs). Job settings are deliberate:
``max_instances=1`` (a slow batch is not overlapped by the next), ``coalesce=True`` (runs missed
while busy or suspended collapse into one) and no misfire grace limit (a late run still runs:
every job here is idempotent and catches up by itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from channels.imap_watcher import WatchConfig
from runners.analysis_pool import default_workers
from runners.dispatcher import DispatchConfig, Dispatcher, DispatchReport
from runners.tracker import Tracker, TrackingConfig
from scenarios.catalog import load_catalog
from scenarios.clock import Clock
from temoin.database import open_database
from temoin.settings import Settings

log = logging.getLogger("temoin.worker")

# On SIGTERM a dispatch run in progress may finish within this time (Docker waits 10 s).
STOP_GRACE_SECONDS = 8.0


def dispatch_config(settings: Settings) -> DispatchConfig:
    d = settings.dispatch
    return DispatchConfig(
        batch_size=d.batch_size,
        lease_seconds=d.lease_seconds,
        # Stop sending from a claim this close to its expiry: 30 s, less for short leases.
        lease_margin_seconds=min(30, d.lease_seconds // 3),
        per_persona_per_hour=d.per_persona_per_hour,
        per_domain_per_hour=d.per_domain_per_hour,
        retry_base_seconds=d.retry_base_seconds,
        retry_cap_seconds=d.retry_cap_seconds,
        max_attempts=d.max_attempts,
        outage_base_seconds=d.outage_base_seconds,
        outage_cap_seconds=d.outage_cap_seconds,
        refused_base_seconds=d.refused_base_seconds,
        refused_cap_seconds=d.refused_cap_seconds,
        smtp_timeout=d.smtp_timeout,
        imap_timeout=d.imap_timeout,
    )


def tracking_config(settings: Settings) -> TrackingConfig:
    t = settings.tracking
    return TrackingConfig(
        watch=WatchConfig(
            poll_interval=t.poll_interval_seconds,
            idle_timeout=t.idle_timeout_seconds,
            census_interval=t.census_interval_seconds,
            fetch_batch=t.fetch_batch,
            timeout=t.imap_timeout,
            backoff_base=t.backoff_base_seconds,
            backoff_cap=t.backoff_cap_seconds,
        ),
        match_threshold=t.match_threshold,
        persona_refresh_seconds=min(t.census_interval_seconds, 600.0),
        parse_workers=default_workers() if t.parse_workers is None else t.parse_workers,
    )


async def dispatch_job(
    dispatcher: Dispatcher, limit_seconds: float, hard_limit_seconds: float | None = None
) -> DispatchReport | None:
    """One scheduled dispatch, bounded in time.

    No new batch is claimed after ``limit_seconds`` (a backlog is worked off over several
    runs); a run still busy after ``hard_limit_seconds`` (a hung server) is cancelled and its
    unfinished claims are recovered after their lease, through the mailbox check.
    """
    hard = hard_limit_seconds if hard_limit_seconds is not None else 2 * limit_seconds
    try:
        report = await asyncio.wait_for(dispatcher.run_once(budget_seconds=limit_seconds), hard)
    except TimeoutError:
        log.error("dispatch run exceeded %.0f s; its claims will be recovered", hard)
        return None
    if report.claimed or report.copied:
        log.info("dispatch: %s", report.counts())
    # One line per provider and reason (held, retried), not one per contact.
    for line in report.lines():
        if " held " in line:
            log.warning("%s", line)
        else:
            log.info("%s", line)
    return report


async def run_worker(
    settings: Settings, clock: Clock, *, once: bool = False
) -> DispatchReport | None:
    database = open_database(settings)
    try:
        dispatcher = Dispatcher(database, load_catalog(), clock, dispatch_config(settings))
        d = settings.dispatch
        timeout = float(d.lease_seconds)
        hard_timeout = timeout + d.lease_seconds + d.smtp_timeout + d.imap_timeout
        if once:
            return await dispatch_job(dispatcher, timeout, hard_timeout)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        scheduler = AsyncIOScheduler(timezone=UTC)
        running: set[asyncio.Task[object]] = set()

        async def dispatch() -> None:
            task = asyncio.current_task()
            if task is not None:
                running.add(task)
            try:
                await dispatch_job(dispatcher, timeout, hard_timeout)
            finally:
                if task is not None:
                    running.discard(task)

        scheduler.add_job(
            dispatch,
            "interval",
            seconds=settings.dispatch.interval_seconds,
            id="dispatch",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            # The scheduler keeps real time whatever the domain clock says (a shifted or fast
            # clock here would make APScheduler enumerate every missed run since then).
            next_run_time=datetime.now(UTC),
        )
        scheduler.start()
        tracking: asyncio.Task[None] | None = None
        if settings.tracking.enabled:  # one watcher per persona mailbox
            tracker = Tracker(database, load_catalog(), clock, tracking_config(settings))
            tracking = asyncio.create_task(tracker.run(stop), name="tracking")
        log.info("worker %s started", dispatcher.owner)
        try:
            await stop.wait()
        finally:
            # No new run; the one in progress finishes its batch (its sends are recorded and
            # its connections closed) rather than being cancelled midway, up to a grace time.
            scheduler.pause()
            if running:
                await asyncio.wait(running, timeout=STOP_GRACE_SECONDS)
            scheduler.shutdown(wait=False)
            if tracking is not None:
                stop.set()
                await asyncio.gather(tracking, return_exceptions=True)
            log.info("worker %s stopping", dispatcher.owner)
        return None
    finally:
        await database.dispose()
