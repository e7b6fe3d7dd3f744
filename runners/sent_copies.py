"""Every sent message in the persona's Sent folder, exactly once, crashes included.

Two ways a copy gets there (channels/sent_folder.py does the IMAP):

1. **Right after sending**, in the background while the next batch is sent, as a mail client
   does: the exact bytes given to DATA, APPENDed ``\\Seen`` with the acceptance time as
   INTERNALDATE. The dispatcher kept the contact's lease when it recorded the send
   (``Accepted.keep_lease``), so nobody else files this copy meanwhile; the copy and its
   ``sent_copy`` event are recorded, then the lease is released. Sends recovered from the
   mailbox after a crash go the same way, without bytes (see 2).
2. **The sweep**, at the end of every dispatch run: contacts sent in the last
   ``sent_copy_days`` with no copy recorded and a free or expired lease (their worker died
   before the copy, or during it) are claimed under a lease, looked for in Sent (a copy
   that went through before the crash is recorded, not filed again), else copied from the
   persona's blind copy in INBOX, trace fields removed, the bytes sent.

Exactly once in Sent rests on the lease, as sending does: a copy is filed only by the lease's
owner, and never after ``lease_margin_seconds`` before its end (``may_write``). A worker frozen
longer than that margin in the middle of an APPEND is the one way to a second copy.
A mailbox that cannot be reached leaves the contact to a later sweep (``verify_retry_seconds``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError

from channels.imap_session import ImapAccount, ImapError
from channels.sent_folder import CopyRequest, file_copies
from runners import accounts
from runners.dispatch_report import DispatchReport
from runners.secrets import SecretError
from scenarios.clock import Clock
from storage import sent_copies as repo
from storage.db import Database

log = logging.getLogger("temoin.dispatcher")


class CopyConfig(Protocol):
    @property
    def batch_size(self) -> int: ...
    @property
    def lease_seconds(self) -> int: ...
    @property
    def lease_margin_seconds(self) -> int: ...
    @property
    def imap_timeout(self) -> float: ...
    @property
    def verify_retry_seconds(self) -> int: ...
    @property
    def sent_copy_days(self) -> int: ...


@dataclass(frozen=True, slots=True)
class CopyJob:
    contact_id: int
    step: str
    message_id: str
    accepted_at: datetime
    raw: bytes | None  # None: take it from the mailbox


class SentCopies:
    def __init__(self, database: Database, clock: Clock, config: CopyConfig, owner: str) -> None:
        self.database = database
        self.clock = clock
        self.config = config
        self.owner = owner
        self._task: asyncio.Task[DispatchReport] | None = None

    async def start(
        self,
        account: ImapAccount,
        jobs: list[CopyJob],
        lease_until: datetime,
        report: DispatchReport,
    ) -> None:
        """File ``jobs`` in the background (after the copies still running, at most one
        batch's, counted in ``report``: the next batch is sent meanwhile)."""
        await self.wait(report)
        self._task = asyncio.create_task(self._file(account, jobs, lease_until))

    async def wait(self, report: DispatchReport | None) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        try:
            done = await task
        except Exception as exc:  # a copy is a courtesy: the emails went out regardless
            log.exception("copy to Sent failed")
            done = DispatchReport(errors=[f"copy to Sent failed: {exc!r}"])
        if report is not None:
            report.add(done)

    async def sweep(self, report: DispatchReport) -> None:
        """File the copies missing for contacts sent recently (their worker died)."""
        await self.wait(report)
        now = self.clock.now()
        lease_until = now + timedelta(seconds=self.config.lease_seconds)
        try:
            async with self.database.session() as session:
                due = await repo.claim_missing(
                    session,
                    now=now,
                    since=now - timedelta(days=self.config.sent_copy_days),
                    owner=self.owner,
                    lease_until=lease_until,
                    limit=self.config.batch_size,
                    skip_locked=not self.database.is_sqlite,
                )
        except SQLAlchemyError as exc:
            report.errors.append(f"Sent-copy sweep: {exc}")
            return
        by_persona: dict[int, list[repo.CopyDue]] = defaultdict(list)
        for item in due:
            by_persona[item.persona.id].append(item)
        for items in by_persona.values():
            persona = items[0].persona
            jobs = [CopyJob(i.contact_id, i.step, i.message_id, i.accepted_at, None) for i in items]
            try:
                account = accounts.imap_account(persona, accounts.password(persona))
            except SecretError as exc:
                account = None
                report.errors.append(f"persona {persona.key}: {exc}")
            if account is None:
                await self._record([], [j.contact_id for j in jobs], report)
                continue
            report.add(await self._file(account, jobs, lease_until))
        if due:
            report.event(f"Sent-folder sweep: {len(due)} copies looked after", "swept",
                         n=len(due))  # fmt: skip

    async def _file(
        self, account: ImapAccount, jobs: list[CopyJob], lease_until: datetime
    ) -> DispatchReport:
        report = DispatchReport()
        deadline = lease_until - timedelta(seconds=self.config.lease_margin_seconds)
        requests = [CopyRequest(j.message_id, j.accepted_at, j.raw) for j in jobs]
        try:
            results = await file_copies(
                account,
                requests,
                imap_timeout=self.config.imap_timeout,
                may_write=lambda: self.clock.now() < deadline,
            )
        except ImapError as exc:
            log.warning("copy to Sent failed for %s: %s", account.username, exc)
            report.errors.append(f"copy to Sent failed for {account.username}: {exc}")
            await self._record([], [j.contact_id for j in jobs], report)
            return report
        done: list[repo.CopyDone] = []
        failed: list[int] = []
        now = self.clock.now()
        for job, result in zip(jobs, results, strict=True):
            if result.how in ("appended", "from_inbox", "already"):
                done.append(
                    repo.CopyDone(job.contact_id, job.step, job.message_id, result.how, now)
                )
                report.copied += result.how != "already"
            elif result.how == "missing":
                failed.append(job.contact_id)
                report.errors.append(
                    f"contact {job.contact_id}: no copy of {job.message_id} "
                    "in the mailbox yet to file in Sent"
                )
            # "skipped": our lease is nearly over; left to expire, then to the sweep
        await self._record(done, failed, report)
        return report

    async def _record(
        self, done: list[repo.CopyDone], failed: list[int], report: DispatchReport
    ) -> None:
        retry_at = self.clock.now() + timedelta(seconds=self.config.verify_retry_seconds)
        try:
            async with self.database.session() as session:
                await repo.record_copies(
                    session, owner=self.owner, done=done, failed=failed, retry_at=retry_at
                )
        except SQLAlchemyError as exc:
            # The copies are in Sent; unrecorded, the sweep finds them there after the lease.
            report.errors.append(f"recording {len(done)} Sent copies failed: {exc}")
