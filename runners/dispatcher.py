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
   burst at night), and within the rate limits per persona and per recipient domain.
4. **Send**, one SMTP connection per persona per batch, each message with the persona's own
   address as a second envelope recipient (the proof used in step 2).
5. **Record** the outcomes, fenced by the lease owner: 250 → ``sent`` with the acceptance
   time, written ``record_every`` at a time in one short transaction (the guarantee does not
   rest on that write: a crash before it leaves those contacts ``sending``, and step 2 finds
   them in the mailbox); 5xx → ``undeliverable`` with the server's words; 4xx or a lost
   connection → retry with capped exponential backoff and jitter; a problem on our side
   (password, TLS, template, our provider down) → retry without blaming the service, error
   kept for the coordinator. The copies go to the Sent folder over IMAP APPEND, as a mail
   client does, in the background while the next batch is sent.

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

import asyncio
import logging
import os
import random
import socket
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from jinja2 import TemplateError
from sqlalchemy.exc import SQLAlchemyError

from channels.imap_session import ImapAccount, ImapError
from channels.outgoing import (
    Sender,
    build_email,
    make_message_id,
    make_reply_token,
    subaddress,
)
from channels.sent_folder import copy_to_sent, find_sent
from channels.smtp_sender import (
    AccountFailure,
    RecipientRejected,
    SendError,
    SmtpSession,
    TemporaryFailure,
)
from runners import accounts
from runners.secrets import SecretError
from scenarios.calendar import BusinessCalendar
from scenarios.catalog import Catalog, Scenario, UnknownScenario
from scenarios.clock import Clock
from scenarios.opening_hours import OpeningHoursError, WeeklyHours, parse_hours
from scenarios.render import (
    CollectivityView,
    PersonaView,
    RequestView,
    ServiceView,
    render_wording,
)
from storage import dispatch as repo
from storage.db import Database

log = logging.getLogger("temoin.dispatcher")

DEFAULT_DISPATCH_HOURS = "lu-ve 08:30-12:00,13:30-18:00"
FRENCH_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
                 "septembre", "octobre", "novembre", "décembre")  # fmt: skip


@dataclass(frozen=True)
class DispatchConfig:
    batch_size: int = 50
    lease_seconds: int = 300
    lease_margin_seconds: int = 30  # stop sending from a claim this close to its expiry
    per_persona_per_hour: int = 0  # 0 = no limit
    per_domain_per_hour: int = 0
    retry_base_seconds: int = 300
    retry_cap_seconds: int = 6 * 3600
    max_attempts: int = 8  # temporary failures before a contact is given up as undeliverable
    smtp_timeout: float = 30.0
    imap_timeout: float = 30.0
    self_copy: bool = True
    sent_copy: bool = True
    verify_retry_seconds: int = 120
    # Outcomes "accepted by the server" are written this many at a time, in one transaction
    # (a crash before the write leaves them to the mailbox check, like any crash after 250).
    record_every: int = 25


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    recovered: int = 0
    deferred: int = 0
    retried: int = 0
    undeliverable: int = 0
    lost_lease: int = 0
    errors: list[str] = field(default_factory=list)
    handled: set[int] = field(default_factory=set, repr=False)

    def add(self, other: DispatchReport) -> None:
        for name in ("claimed", "sent", "recovered", "deferred", "retried", "undeliverable",
                     "lost_lease"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)
        self.handled |= other.handled


@dataclass(frozen=True, slots=True)
class _Accepted:
    """A step the server accepted (or that was found in the mailbox), not yet recorded."""

    item: repo.Claimed
    accepted_at: datetime
    reply: str
    recovered: bool
    scenario: Scenario | None = None
    calendar: BusinessCalendar | None = None


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{random.randrange(16**6):06x}"


def french_date(instant: datetime, calendar: BusinessCalendar) -> str:
    local = instant.astimezone(calendar.tz)
    day = "1er" if local.day == 1 else str(local.day)
    return f"{day} {FRENCH_MONTHS[local.month - 1]} {local.year}"


def dispatch_hours(spec: dict[str, Any]) -> WeeklyHours:
    """The campaign's sending hours (local time of each collectivity).

    The campaign file keeps them as ``rules.dispatch_hours`` (scenarios/campaign_file.py);
    ``dispatch.hours`` is read too for specs stored before that format.
    """
    text = None
    if isinstance(spec, dict):
        for group, key in (("rules", "dispatch_hours"), ("dispatch", "hours")):
            table = spec.get(group)
            if isinstance(table, dict) and table.get(key):
                text = table[key]
                break
    try:
        return parse_hours(str(text or DEFAULT_DISPATCH_HOURS))
    except OpeningHoursError:
        log.warning("campaign dispatch hours %r unreadable; using the default", text)
        return parse_hours(DEFAULT_DISPATCH_HOURS)


def next_opening(
    now: datetime, calendar: BusinessCalendar, hours: WeeklyHours
) -> tuple[datetime, datetime] | None:
    """The open span containing ``now``, or else the next one, within 60 days."""
    day = calendar.local_date(now)
    for offset in range(60):
        current = day + timedelta(days=offset)
        if not calendar.is_business_day(current):
            continue
        for interval in hours.on(current.weekday()):
            start = calendar.local_instant(current, interval.start)
            end = calendar.local_instant(current, interval.end)
            if end > now:
                return start, end
    return None


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
        self._copying: asyncio.Task[list[str]] | None = None

    async def run_once(self, *, budget_seconds: float | None = None) -> DispatchReport:
        """Work off what is due, batch after batch. With ``budget_seconds``, a step claims no
        further batch once that much time has passed (the rest waits for the next run); each
        step still gets one batch, so a backlog of first sends does not starve follow-ups."""
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
            await self._wait_for_copies(report)
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
        try:
            password = accounts.password(persona)
        except SecretError as exc:
            for item in items:
                await self._retry(item, f"persona {persona.key}: {exc}", report, ours=True)
            return
        imap_account = accounts.imap_account(persona, password)
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
                    await self._defer_verification(item, f"mailbox check failed: {exc}", report)
                items = [item for item in items if not item.recovering]
        recovered: list[_Accepted] = []
        for item in items:
            if item.recovering and item.message_id in found:
                reply = "found in mailbox after restart"
                recovered.append(_Accepted(item, found[item.message_id], reply, recovered=True))
                self._mark_handled(item, report)
            else:
                to_send.append(item)
        await self._record_accepted(recovered, report)
        to_send = await self._gate(to_send, counts, report)
        if not to_send:
            return
        account = accounts.smtp_account(persona, password)
        if account is None:
            why = f"persona {persona.key} has no SMTP server (temoin personas add KEY --smtp-host)"
            for item in to_send:
                await self._retry(item, why, report, ours=True)
            return
        sent_copies: list[tuple[EmailMessage, datetime]] = []
        accepted: list[_Accepted] = []
        try:
            async with SmtpSession(
                account, timeout=self.config.smtp_timeout, clock=self.clock
            ) as smtp:
                for position, item in enumerate(to_send):
                    if self.clock.now() >= lease_until - timedelta(
                        seconds=self.config.lease_margin_seconds
                    ):
                        for late in to_send[position:]:
                            await self._release(late, report)
                        break
                    if not smtp.connected:
                        for rest in to_send[position:]:
                            await self._retry(rest, "SMTP connection lost", report, ours=False)
                        break
                    await self._send_one(smtp, item, report, sent_copies, accepted)
                    if len(accepted) >= self.config.record_every:
                        await self._record_accepted(accepted, report)
                        accepted = []
        except SendError as exc:  # the session itself could not be opened
            # Our provider is down, busy or refuses our login: nothing to do with the services,
            # so no attempt is counted against them (an outage of a day must not make its
            # contacts undeliverable); they go out at the next opening once it is back.
            for item in to_send:
                if not self._done(item, report):
                    await self._retry(item, str(exc), report, ours=True)
        finally:
            await self._record_accepted(accepted, report)
        if sent_copies and self.config.sent_copy and imap_account is not None:
            # As a mail client does, in the background: the next batch is sent meanwhile.
            await self._wait_for_copies(report)
            self._copying = asyncio.create_task(self._copy_to_sent(imap_account, sent_copies))

    def _done(self, item: repo.Claimed, report: DispatchReport) -> bool:
        return item.contact_id in report.handled

    def _mark_handled(self, item: repo.Claimed, report: DispatchReport) -> None:
        report.handled.add(item.contact_id)

    async def _send_one(
        self,
        smtp: SmtpSession,
        item: repo.Claimed,
        report: DispatchReport,
        sent_copies: list[tuple[EmailMessage, datetime]],
        accepted: list[_Accepted],
    ) -> None:
        try:
            message, scenario, calendar = self._render(item)
        except (UnknownScenario, TemplateError, KeyError, ValueError) as exc:
            await self._retry(
                item, f"cannot render scenario {item.scenario_id}: {exc}", report, ours=True
            )
            return
        try:
            result = await smtp.send(message, item.service_email, self_copy=self.config.self_copy)
        except RecipientRejected as exc:
            await self._undeliverable(item, str(exc), report)
            return
        except TemporaryFailure as exc:
            if exc.ambiguous:
                await self._defer_verification(item, str(exc), report)
            else:
                await self._retry(item, str(exc), report, ours=False)
            return
        except AccountFailure as exc:
            await self._retry(item, str(exc), report, ours=True)
            return
        self._mark_handled(item, report)
        accepted.append(_Accepted(item, result.accepted_at, result.reply, recovered=False,
                                  scenario=scenario, calendar=calendar))  # fmt: skip
        sent_copies.append((message, result.accepted_at))

    def _render(self, item: repo.Claimed) -> tuple[EmailMessage, Scenario, BusinessCalendar]:
        scenario = self.catalog.get(item.scenario_id)
        calendar = BusinessCalendar.for_departement(item.departement)
        persona = item.persona
        first, _, last = persona.display_name.partition(" ")
        persona_view = PersonaView(
            display_name=persona.display_name,
            first_name=first,
            last_name=last or first,
            email=persona.email,
            address=persona.address or "",
            postal_code=persona.postal_code or "",
            city=persona.city or "",
        )
        service_view = ServiceView.of_kind(
            item.service_name, item.service_kind, item.service_city or ""
        )
        collectivity_view = CollectivityView(name=item.collectivity_name)
        wording = scenario.wordings[item.wording % len(scenario.wordings)]
        first_message = render_wording(wording, persona_view, service_view, collectivity_view)
        subject = first_message.subject or scenario.title
        sender = Sender(persona.display_name, persona.email)
        reply_to = None
        if persona.subaddress_separator and item.reply_token:
            reply_to = subaddress(persona.email, persona.subaddress_separator, item.reply_token)
        now = self.clock.now()
        if item.step == repo.FIRST:
            message = build_email(sender=sender, to=item.service_email, subject=subject,
                                  body=first_message.body, message_id=item.message_id, date=now,
                                  reply_to=reply_to, tz=calendar.tz)  # fmt: skip
            return message, scenario, calendar
        if scenario.followup is None or item.first_message_id is None or item.sent_at is None:
            raise ValueError("no follow-up wording or no first message")
        request = RequestView(subject=subject, sent_on=french_date(item.sent_at, calendar))
        followup = render_wording(
            scenario.followup, persona_view, service_view, collectivity_view, request
        )
        follow_subject = followup.subject or f"Re: {subject}"
        message = build_email(sender=sender, to=item.service_email, subject=follow_subject,
                              body=followup.body, message_id=item.message_id, date=now,
                              reply_to=reply_to, in_reply_to=item.first_message_id,
                              references=(item.first_message_id,), tz=calendar.tz)  # fmt: skip
        return message, scenario, calendar

    async def _gate(
        self,
        items: list[repo.Claimed],
        counts: tuple[dict[int, int], dict[str, int]],
        report: DispatchReport,
    ) -> list[repo.Claimed]:
        """Keep what may go now; defer the rest to the next opening or the next free slot."""
        now = self.clock.now()
        per_persona, per_domain = counts
        allowed: list[repo.Claimed] = []
        for item in items:
            calendar = BusinessCalendar.for_departement(item.departement)
            span = next_opening(now, calendar, dispatch_hours(item.campaign_spec))
            if span is None:
                await self._retry(item, "no dispatch hours in the next 60 days", report, ours=True)
                continue
            start, end = span
            if start > now:
                # Closed now: go out at the next opening, spread over its first hour.
                spread = min((end - start).total_seconds(), 3600.0)
                when = start + timedelta(seconds=self.rng.uniform(0, spread))
                await self._defer(item, when, "outside dispatch hours", report)
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
                await self._defer(item, when, "rate limit", report)
                continue
            per_persona[item.persona.id] = persona_count + 1
            per_domain[domain] = domain_count + 1
            allowed.append(item)
        return allowed

    # -- mailbox -------------------------------------------------------------------------

    async def _find_in_mailbox(
        self, account: ImapAccount | None, message_ids: list[str]
    ) -> dict[str, datetime]:
        """Message-IDs found in INBOX or Sent, with the INTERNALDATE of the copy found."""
        if account is None:
            raise ValueError("the persona has no IMAP account to verify a send")
        return await find_sent(account, message_ids, imap_timeout=self.config.imap_timeout)

    async def _copy_to_sent(
        self, account: ImapAccount, copies: list[tuple[EmailMessage, datetime]]
    ) -> list[str]:
        return await copy_to_sent(account, copies, imap_timeout=self.config.imap_timeout)

    async def _wait_for_copies(self, report: DispatchReport) -> None:
        """Wait for the Sent copies still being appended (at most one batch's)."""
        copying, self._copying = self._copying, None
        if copying is None:
            return
        try:
            report.errors.extend(await copying)
        except Exception as exc:  # a copy is a courtesy: the emails went out regardless
            log.exception("copy to Sent failed")
            report.errors.append(f"copy to Sent failed: {exc!r}")

    # -- outcomes ------------------------------------------------------------------------

    async def _record_accepted(self, accepted: list[_Accepted], report: DispatchReport) -> None:
        """Record accepted steps in one transaction, each fenced by our lease."""
        if not accepted:
            return
        rows = [
            repo.Accepted(
                done.item, done.accepted_at, done.reply, self._followup_due(done), done.recovered
            )
            for done in accepted
        ]
        try:
            async with self.database.session() as session:
                results = await repo.mark_sent_many(session, rows, owner=self.owner)
        except SQLAlchemyError as exc:
            # Nothing recorded: the steps stay "sending" under our lease; once it expires the
            # mailbox check finds them and records them. Nothing is sent twice.
            ids = [done.item.contact_id for done in accepted]
            report.errors.append(f"contacts {ids}: recording the sends failed: {exc}")
            log.error("recording %d sends failed (the mailbox check will): %s", len(ids), exc)
            return
        for done, ok in zip(accepted, results, strict=True):
            self._mark_handled(done.item, report)
            if not ok:
                report.lost_lease += 1
                log.warning("contact %s: lease lost before recording its send",
                            done.item.contact_id)  # fmt: skip
            elif done.recovered:
                report.recovered += 1
            else:
                report.sent += 1

    def _followup_due(self, done: _Accepted) -> datetime | None:
        """When a first email unanswered calls for a follow-up (None: never)."""
        item = done.item
        if item.step != repo.FIRST:
            return None
        scenario = done.scenario
        if scenario is None:
            try:
                scenario = self.catalog.get(item.scenario_id)
            except UnknownScenario:
                return None
        days = scenario.targets.followup_after_days
        if scenario.followup is None or not days:
            return None
        calendar = done.calendar or BusinessCalendar.for_departement(item.departement)
        return calendar.deadline(done.accepted_at, days)

    def _backoff(self, attempts: int) -> timedelta:
        base = self.config.retry_base_seconds * (2 ** max(attempts - 1, 0))
        capped = min(float(base), float(self.config.retry_cap_seconds))
        return timedelta(seconds=capped * self.rng.uniform(0.8, 1.2))

    async def _retry(
        self, item: repo.Claimed, error: str, report: DispatchReport, *, ours: bool
    ) -> None:
        now = self.clock.now()
        attempts = item.attempts + (0 if ours else 1)
        if not ours and attempts >= self.config.max_attempts:
            await self._undeliverable(item, f"gave up after {attempts} attempts: {error}", report)
            return
        delay = self._backoff(attempts if not ours else 3)
        async with self.database.session() as session:
            ok = await repo.mark_retry(session, item, owner=self.owner, now=now,
                                       next_attempt_at=now + delay, error=error,
                                       count_attempt=not ours)  # fmt: skip
        self._mark_handled(item, report)
        report.retried += 1
        report.errors.append(f"contact {item.contact_id}: {error}")
        if not ok:
            report.lost_lease += 1

    async def _defer(
        self, item: repo.Claimed, when: datetime, why: str, report: DispatchReport
    ) -> None:
        now = self.clock.now()
        async with self.database.session() as session:
            await repo.mark_retry(session, item, owner=self.owner, now=now, next_attempt_at=when,
                                  error=None, count_attempt=False, event="deferred",
                                  reason=why)  # fmt: skip
        self._mark_handled(item, report)
        report.deferred += 1

    async def _release(self, item: repo.Claimed, report: DispatchReport) -> None:
        """Give back a claim we did not get to before the lease margin."""
        await self._defer(item, self.clock.now(), "lease margin", report)

    async def _defer_verification(
        self, item: repo.Claimed, error: str, report: DispatchReport
    ) -> None:
        now = self.clock.now()
        async with self.database.session() as session:
            await repo.hold_for_verification(
                session, item, owner=self.owner, now=now,
                retry_at=now + timedelta(seconds=self.config.verify_retry_seconds), error=error,
            )  # fmt: skip
        self._mark_handled(item, report)
        report.retried += 1
        report.errors.append(f"contact {item.contact_id}: {error}")

    async def _undeliverable(self, item: repo.Claimed, reason: str, report: DispatchReport) -> None:
        async with self.database.session() as session:
            ok = await repo.mark_undeliverable(
                session, item, owner=self.owner, now=self.clock.now(), reason=reason
            )
        self._mark_handled(item, report)
        report.undeliverable += 1
        if not ok:
            report.lost_lease += 1
