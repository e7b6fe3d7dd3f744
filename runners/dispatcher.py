"""The email dispatcher: claim due contacts, render, send, record. Never twice, never lost.

One ``run_once()``:

1. **Claim** (short transaction, storage/dispatch.py): due contacts get a lease and, if they
   have none yet, a Message-ID generated here and stored *before* any SMTP traffic.
2. **Verify** contacts whose previous owner died (lease expired while ``sending``) or whose
   last attempt was ambiguous: look for their Message-ID in the persona's mailbox (INBOX, where
   the provider files our own blind copy, and Sent). Found: the server accepted it; record it
   as sent at the copy's INTERNALDATE (the server's clock). Not found: send. Mailbox
   unreachable: do not send; look again later.
3. **Gate**: only inside the campaign's dispatch hours on a business day of the collectivity
   (a contact missed during an outage goes out at the next opening, spread out, not in a
   burst at night); not while the persona's provider or account is held by its circuit
   breaker (runners/breaker.py: the contact waits for the breaker's next probe); and within
   the rate limits per persona and per recipient domain.
4. **Send**, one SMTP connection per persona per batch, each message with the persona's own
   address as a second envelope recipient (the proof used in step 2).
5. **Record** the outcomes, fenced by the lease owner, sorted by what the reply says about
   whom (channels/smtp_outcomes.py; the decision, its reason and the raw reply go into the
   event and ``last_error``):
   - 250 → ``sent`` with the acceptance time, written ``record_every`` at a time in one short
     transaction (the guarantee does not rest on that write: a crash before it leaves those
     contacts ``sending``, and step 2 finds them in the mailbox);
   - a refusal naming the service's address (RCPT 5.1.x…) → ``undeliverable``: a finding;
   - a temporary refusal naming the recipient (4.1.x, 4.2.x, 450, 5.2.2) → retried after
     ``retry_base_seconds`` doubling up to ``retry_cap_seconds``, with jitter; these are the
     only failures *counted* (``attempts``), and after ``max_attempts`` the contact is given up
     as ``undeliverable``;
   - anything about our side → ``held``, never counted, never a finding, retried when it can
     succeed: no connection, TLS, 421, a connection lost, any other 4xx (provider breaker:
     5 s doubling to 5 minutes); authentication, our sender or own address, relay, policy,
     quota, any 5xx after DATA (account or provider breaker, opened at once for a session
     refusal and after ``breaker_threshold`` refusals in a row otherwise: 1 minute doubling
     to 30; a message refused on its own waits ``held_retry_seconds``); no password, no SMTP
     server, a template error (``held_retry_seconds``). When a breaker's probe gets a message
     accepted, the contacts it held go out at once.
   The copies go to the Sent folder (runners/sent_copies.py) in the background while the
   next batch is sent, under the lease kept for it; a sweep at the end of each run files
   those a dead worker left, from the persona's blind copy.

Only a step known not to have reached the server goes back to ``planned`` (a refusal, no
connection, not attempted); a connection lost during DATA is held for step 2. So holds and
breakers change *when* a message is tried, never whether a message the server accepted is
sent again.

The remaining window: a message accepted by the provider whose blind copy is not yet in the
mailbox when another worker verifies it, i.e. a provider queue slower than the lease
(``lease_seconds``, default 5 minutes). Providers file local copies in seconds; a lease that
expires before is the only way to get a second email, and it is logged as such. The same
holds for a worker frozen (suspended machine, SIGSTOP, swap storm) for longer than
``lease_margin_seconds`` between its last lease check and the end of a DATA: its lease
expires, another worker finds nothing in the mailbox and sends, then the frozen one
completes its send. A worker that merely dies (kill -9, crash, power loss) never causes a
second email: whatever the server accepted is found in the mailbox.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from jinja2 import TemplateError

from channels.imap_session import ImapAccount, ImapError
from channels.outgoing import make_message_id, make_reply_token
from channels.sent_folder import find_sent
from channels.smtp_outcomes import (
    Outcome,
    Stage,
    setup_problem,
    sort_transport,
)
from channels.smtp_sender import SendError, SmtpSession
from runners import accounts
from runners.breaker import REFUSED, UNREACHABLE, Breakers, Hold, Schedule
from runners.compose import dispatch_hours, next_opening, render_step
from runners.dispatch_config import DispatchConfig
from runners.dispatch_outcomes import Accepted, Recorder, Route
from runners.dispatch_report import DispatchReport
from runners.secrets import SecretError
from runners.sent_copies import CopyJob, SentCopies
from scenarios.calendar import BusinessCalendar
from scenarios.catalog import Catalog, UnknownScenario
from scenarios.clock import Clock
from storage import dispatch as repo
from storage.db import Database

__all__ = ["DispatchConfig", "DispatchReport", "Dispatcher", "dispatch_hours", "next_opening"]

log = logging.getLogger("temoin.dispatcher")


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{random.randrange(16**6):06x}"


class Dispatcher:
    def __init__(
        self,
        database: Database,
        catalog: Catalog,
        clock: Clock,
        config: DispatchConfig | None = None,
        *,
        owner: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.database = database
        self.catalog = catalog
        self.clock = clock
        self.config = config or DispatchConfig()
        self.owner = owner or worker_id()
        self.rng = rng or random.Random()
        c = self.config
        self.breakers = Breakers(
            {
                UNREACHABLE: Schedule(c.outage_base_seconds, c.outage_cap_seconds),
                REFUSED: Schedule(c.refused_base_seconds, c.refused_cap_seconds),
            },
            threshold=c.breaker_threshold,
        )
        self.copies = SentCopies(database, clock, self.config, self.owner)
        self.record = Recorder(
            database, catalog, clock, self.config, self.owner, self.breakers, self.rng
        )

    async def run_once(self, *, budget_seconds: float | None = None) -> DispatchReport:
        """Work off what is due, batch after batch. With ``budget_seconds``, a step claims no
        further batch once that much time has passed (the rest waits for the next run); each
        step still gets one batch, so a backlog of first sends does not starve follow-ups.
        Then the Sent-folder sweep."""
        report = DispatchReport()
        started = time.monotonic()
        try:
            for step in (repo.FIRST, repo.FOLLOWUP):
                while True:
                    batch = await self._run_step(step)
                    report.add(batch)
                    if batch.claimed < self.config.batch_size:
                        break
                    if budget_seconds is not None and time.monotonic() - started >= budget_seconds:
                        break
        finally:
            await self.copies.wait(report)
        if self.config.sent_copy:
            await self.copies.sweep(report)
        return report

    async def _run_step(self, step: str) -> DispatchReport:
        report = DispatchReport()
        now = self.clock.now()
        lease_until = now + timedelta(seconds=self.config.lease_seconds)
        async with self.database.session() as session:
            claimed = await repo.claim_batch(
                session,
                step=step,
                now=now,
                owner=self.owner,
                lease_until=lease_until,
                limit=self.config.batch_size,
                new_ids=self._new_ids,
                skip_locked=not self.database.is_sqlite,
            )
        report.claimed = len(claimed)
        if not claimed:
            return report
        by_persona: dict[int, list[repo.Claimed]] = defaultdict(list)
        for item in claimed:
            by_persona[item.persona.id].append(item)
        counts = await self._recent_counts(now)
        for items in by_persona.values():
            await self._persona_batch(items, lease_until, counts, report)
        return report

    def _new_ids(self, persona_email: str) -> tuple[str, str | None]:
        return make_message_id(persona_email), make_reply_token()

    async def _recent_counts(self, now: datetime) -> tuple[dict[int, int], dict[str, int]]:
        if not (self.config.per_persona_per_hour or self.config.per_domain_per_hour):
            return {}, {}
        async with self.database.session() as session:
            return await repo.recent_send_counts(session, now - timedelta(hours=1))

    # -- one persona's share of a batch -------------------------------------------------

    async def _persona_batch(
        self,
        items: list[repo.Claimed],
        lease_until: datetime,
        counts: tuple[dict[int, int], dict[str, int]],
        report: DispatchReport,
    ) -> None:
        persona = items[0].persona
        route = Route.of(persona)
        try:
            password = accounts.password(persona)
        except SecretError as exc:
            problem = setup_problem(f"persona {persona.key}: {exc}")
            await self._gate_and_hold(items, problem, counts, report, route)
            return
        imap_account = accounts.imap_account(persona, password)
        keep = self.config.sent_copy and imap_account is not None
        copies: list[CopyJob] = []
        to_send: list[repo.Claimed] = []
        unverified = [item for item in items if item.recovering]
        found: dict[str, datetime] = {}
        if unverified:
            try:
                found = await self._find_in_mailbox(
                    imap_account, [i.message_id for i in unverified]
                )
            except (ImapError, ValueError) as exc:
                for item in unverified:
                    await self.record.defer_verification(
                        item, f"mailbox check failed: {exc}", report
                    )
                items = [item for item in items if not item.recovering]
        recovered: list[Accepted] = []
        for item in items:
            if item.recovering and item.message_id in found:
                reply = "found in mailbox after restart"
                recovered.append(Accepted(item, found[item.message_id], reply, recovered=True))
                self.record.mark_handled(item, report)
            else:
                to_send.append(item)
        await self.record.record_accepted(recovered, report, copies, keep=keep)
        account = accounts.smtp_account(persona, password)
        if account is None:
            problem = setup_problem(
                f"persona {persona.key} has no SMTP server (temoin personas add KEY --smtp-host)"
            )
            await self._gate_and_hold(to_send, problem, counts, report, route)
            to_send = []
        else:
            to_send = await self._gate(to_send, counts, report, route)
        accepted: list[Accepted] = []
        try:
            if to_send:
                assert account is not None
                await self._send_batch(
                    account, to_send, lease_until, route, report, accepted, copies, keep
                )
        finally:
            await self.record.record_accepted(accepted, report, copies, keep=keep)
        if copies and imap_account is not None:
            await self.copies.start(imap_account, copies, lease_until, report)

    async def _send_batch(
        self,
        account: Any,
        to_send: list[repo.Claimed],
        lease_until: datetime,
        route: Route,
        report: DispatchReport,
        accepted: list[Accepted],
        copies: list[CopyJob],
        keep: bool,
    ) -> None:
        try:
            async with SmtpSession(
                account, timeout=self.config.smtp_timeout, clock=self.clock
            ) as smtp:
                for position, item in enumerate(to_send):
                    now = self.clock.now()
                    if now >= lease_until - timedelta(seconds=self.config.lease_margin_seconds):
                        for late in to_send[position:]:
                            await self.record.give_back(late, report)
                        break
                    hold = self._holding(route, now)
                    if hold is None and not smtp.connected:
                        lost = sort_transport(Stage.MAIL, "SMTP connection lost")
                        hold = self.breakers.trip(route.provider_key, UNREACHABLE, lost, now)
                    if hold is not None:  # the breaker opened during this batch
                        for rest in to_send[position:]:
                            await self.record.hold(
                                rest,
                                hold.cause,
                                hold.until,
                                hold.since,
                                hold.failures,
                                report,
                                route,
                                hold.key,
                            )
                        break
                    await self._send_one(smtp, item, report, accepted, route)
                    if len(accepted) >= self.config.record_every:
                        await self.record.record_accepted(accepted, report, copies, keep=keep)
                        accepted.clear()
        except SendError as exc:  # the session itself could not be opened (or closed badly)
            # Our provider is down, busy or refuses our login: nothing to do with the services,
            # so no attempt is counted against them (an outage of a day must not make its
            # contacts undeliverable); they wait for the breaker's next probe.
            key, kind = self.record.breaker_of(route, exc.outcome)
            hold = self.breakers.trip(key, kind, exc.outcome, self.clock.now())
            for item in to_send:
                if not self._done(item, report):
                    await self.record.hold(
                        item, exc.outcome, hold.until, hold.since, hold.failures, report, route, key
                    )

    def _holding(self, route: Route, now: datetime) -> Hold | None:
        return self.breakers.holding(route.provider_key, now) or self.breakers.holding(
            route.account_key, now
        )

    def _done(self, item: repo.Claimed, report: DispatchReport) -> bool:
        return item.contact_id in report.handled

    async def _send_one(
        self,
        smtp: SmtpSession,
        item: repo.Claimed,
        report: DispatchReport,
        accepted: list[Accepted],
        route: Route,
    ) -> None:
        try:
            message, scenario, calendar = render_step(item, self.catalog, self.clock.now())
        except (UnknownScenario, TemplateError, KeyError, ValueError) as exc:
            problem = setup_problem(f"cannot render scenario {item.scenario_id}: {exc}")
            await self.record.hold_for(item, problem, self.config.held_retry_seconds, report, route)
            return
        try:
            result = await smtp.send(message, item.service_email, self_copy=self.config.self_copy)
        except SendError as exc:
            if exc.ambiguous:
                # The server may have accepted it: look in the mailbox before any resend. The
                # connection is gone: the provider's breaker holds the rest of the batch.
                self.breakers.trip(route.provider_key, UNREACHABLE, exc.outcome, self.clock.now())
                await self.record.defer_verification(item, exc.outcome.summary(), report)
            else:
                await self.record.failed(item, exc.outcome, report, route)
            return
        self.record.mark_handled(item, report)
        for key in (route.provider_key, route.account_key):
            recovery = self.breakers.success(key)
            if recovery is not None:
                await self.record.recovered(recovery, route, report)
        accepted.append(
            Accepted(
                item,
                result.accepted_at,
                result.reply,
                recovered=False,
                scenario=scenario,
                calendar=calendar,
                raw=result.raw,
            )
        )

    async def _gate(
        self,
        items: list[repo.Claimed],
        counts: tuple[dict[int, int], dict[str, int]],
        report: DispatchReport,
        route: Route,
    ) -> list[repo.Claimed]:
        """Keep what may go now; defer the rest to the next opening, hold it for the
        breaker's next probe, or defer it to the next free slot of the rate limits."""
        now = self.clock.now()
        hold = self._holding(route, now)
        per_persona, per_domain = counts
        allowed: list[repo.Claimed] = []
        for item in items:
            if not await self._in_hours(item, now, report):
                continue
            if hold is not None:
                await self.record.hold(
                    item, hold.cause, hold.until, hold.since, hold.failures, report, route, hold.key
                )
                continue
            domain = item.service_email.rsplit("@", 1)[-1].lower()
            persona_count = per_persona.get(item.persona.id, 0)
            domain_count = per_domain.get(domain, 0)
            limit_p, limit_d = self.config.per_persona_per_hour, self.config.per_domain_per_hour
            if (limit_p and persona_count >= limit_p) or (limit_d and domain_count >= limit_d):
                over = max(
                    persona_count - limit_p + 1 if limit_p else 0,
                    domain_count - limit_d + 1 if limit_d else 0,
                )
                rate = min(x for x in (limit_p, limit_d) if x)
                when = now + timedelta(seconds=3600.0 / rate * over * self.rng.uniform(1.0, 1.3))
                per_persona[item.persona.id] = persona_count + 1
                per_domain[domain] = domain_count + 1
                await self.record.defer(item, when, "rate limit", report)
                continue
            per_persona[item.persona.id] = persona_count + 1
            per_domain[domain] = domain_count + 1
            allowed.append(item)
        return allowed

    async def _in_hours(self, item: repo.Claimed, now: datetime, report: DispatchReport) -> bool:
        """Inside the dispatch hours now; else deferred to the next opening (False)."""
        calendar = BusinessCalendar.for_departement(item.departement)
        span = next_opening(now, calendar, dispatch_hours(item.campaign_spec))
        if span is None:
            problem = setup_problem("no dispatch hours in the next 60 days")
            await self.record.hold_for(item, problem, self.config.held_retry_seconds, report, None)
            return False
        start, end = span
        if start > now:
            # Closed now: go out at the next opening, spread over its first hour.
            spread = min((end - start).total_seconds(), 3600.0)
            when = start + timedelta(seconds=self.rng.uniform(0, spread))
            await self.record.defer(item, when, "outside dispatch hours", report)
            return False
        return True

    async def _gate_and_hold(
        self,
        items: list[repo.Claimed],
        problem: Outcome,
        counts: tuple[dict[int, int], dict[str, int]],
        report: DispatchReport,
        route: Route,
    ) -> None:
        """Our setup stops these: held (in hours; outside, deferred to the opening)."""
        now = self.clock.now()
        for item in items:
            if await self._in_hours(item, now, report):
                await self.record.hold_for(
                    item, problem, self.config.held_retry_seconds, report, route
                )

    # -- mailbox -------------------------------------------------------------------------

    async def _find_in_mailbox(
        self, account: ImapAccount | None, message_ids: list[str]
    ) -> dict[str, datetime]:
        """Message-IDs found in INBOX or Sent, with the INTERNALDATE of the copy found."""
        if account is None:
            raise ValueError("the persona has no IMAP account to verify a send")
        return await find_sent(account, message_ids, imap_timeout=self.config.imap_timeout)
