"""What the dispatcher writes after each attempt: the outcome, sorted, kept, said once.

``Recorder`` turns what happened to a claimed step into its record, fenced by the lease:

- accepted → ``sent`` (storage/dispatch.py ``mark_sent_many``), the lease kept for the Sent copy;
- refused naming the service → ``undeliverable``, the decision in the event;
- temporary about the recipient → retried with capped exponential backoff, *counted*;
- ours → ``held`` until the provider's or account's breaker probes again (runners/breaker.py),
  or ``held_retry_seconds`` for a message refused on its own or our setup; never counted;
- deferred (dispatch hours, rate limits), or held for a mailbox check (ambiguous send).

Each decision goes into the contact's event (verdict, about whom, reason, stage, raw reply)
and ``last_error``, and into the run's report as one line per provider and reason.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from channels.smtp_outcomes import About, Outcome, Verdict, short_cause
from runners import accounts
from runners.breaker import REFUSED, UNREACHABLE, Breakers, Hold, Recovery
from runners.dispatch_config import DispatchConfig
from runners.dispatch_report import DispatchReport, hhmmss
from runners.sent_copies import CopyJob
from scenarios.calendar import BusinessCalendar
from scenarios.catalog import Catalog, Scenario, UnknownScenario
from scenarios.clock import Clock
from storage import dispatch as repo
from storage.db import Database

log = logging.getLogger("temoin.dispatcher")


@dataclass(frozen=True, slots=True)
class Accepted:
    """A step the server accepted (or that was found in the mailbox), not yet recorded."""

    item: repo.Claimed
    accepted_at: datetime
    reply: str
    recovered: bool
    scenario: Scenario | None = None
    calendar: BusinessCalendar | None = None
    raw: bytes | None = None  # the bytes sent (None: recovered, take the mailbox's copy)


@dataclass(frozen=True, slots=True)
class Route:
    """Where a persona's batch goes: its provider, and its account on it (breaker keys)."""

    provider: str  # "host:port", as logged and shown
    provider_key: str
    account_key: str

    @classmethod
    def of(cls, persona: Any) -> Route:
        endpoint = accounts.smtp_endpoint(persona)
        if endpoint is None:
            name = f"persona {persona.key} (no SMTP server)"
            return cls(name, f"none:{persona.key}", f"none:{persona.key}")
        return cls(str(endpoint), f"smtp:{endpoint}", f"smtp:{endpoint}/{endpoint.login}")


def decision(outcome: Outcome) -> dict[str, Any]:
    """The decision as kept in a contact's event: what, about whom, why, and the raw reply."""
    return {
        "decision": outcome.verdict.value,
        "about": outcome.about.value,
        "why": outcome.reason,
        "stage": outcome.stage.value,
        "reply": outcome.reply,
        "code": outcome.code,
        "enhanced": outcome.enhanced,
    }


class Recorder:
    def __init__(
        self,
        database: Database,
        catalog: Catalog,
        clock: Clock,
        config: DispatchConfig,
        owner: str,
        breakers: Breakers,
        rng: random.Random,
    ) -> None:
        self.database = database
        self.catalog = catalog
        self.clock = clock
        self.config = config
        self.owner = owner
        self.breakers = breakers
        self.rng = rng

    def breaker_of(self, route: Route, outcome: Outcome) -> tuple[str, str]:
        key = route.account_key if outcome.about is About.ACCOUNT else route.provider_key
        return key, (UNREACHABLE if outcome.verdict is Verdict.RETRY else REFUSED)

    def mark_handled(self, item: repo.Claimed, report: DispatchReport) -> None:
        report.handled.add(item.contact_id)

    async def record_accepted(
        self,
        accepted: list[Accepted],
        report: DispatchReport,
        copies: list[CopyJob],
        *,
        keep: bool,
    ) -> None:
        """Record accepted steps in one transaction, each fenced by our lease; those recorded
        keep the lease for their Sent copy (``keep``), queued in ``copies``."""
        if not accepted:
            return
        rows = [
            repo.Accepted(
                done.item,
                done.accepted_at,
                done.reply,
                self.followup_due(done),
                done.recovered,
                keep_lease=keep,
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
            self.mark_handled(done.item, report)
            if not ok:
                report.lost_lease += 1
                log.warning(
                    "contact %s: lease lost before recording its send", done.item.contact_id
                )
                continue
            if done.recovered:
                report.recovered += 1
            else:
                report.sent += 1
            if keep:
                item = done.item
                copies.append(
                    CopyJob(item.contact_id, item.step, item.message_id, done.accepted_at, done.raw)
                )

    def followup_due(self, done: Accepted) -> datetime | None:
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

    def backoff(self, attempts: int) -> timedelta:
        base = self.config.retry_base_seconds * (2 ** max(attempts - 1, 0))
        capped = min(float(base), float(self.config.retry_cap_seconds))
        return timedelta(seconds=capped * self.rng.uniform(0.8, 1.2))

    async def failed(
        self, item: repo.Claimed, outcome: Outcome, report: DispatchReport, route: Route
    ) -> None:
        """A refusal or a lost connection for this message, sorted (smtp_outcomes.py)."""
        now = self.clock.now()
        if outcome.verdict is Verdict.UNDELIVERABLE:
            await self.undeliverable(item, outcome.summary(), report, outcome)
            return
        if outcome.counts:  # temporary, about the recipient
            attempts = item.attempts + 1
            if attempts >= self.config.max_attempts:
                reason = f"gave up after {attempts} attempts: {outcome.summary()}"
                await self.undeliverable(item, reason, report, outcome)
                return
            when = now + self.backoff(attempts)
            async with self.database.session() as session:
                ok = await repo.mark_retry(
                    session,
                    item,
                    owner=self.owner,
                    now=now,
                    next_attempt_at=when,
                    error=outcome.summary(),
                    count_attempt=True,
                    detail=decision(outcome),
                )
            self.mark_handled(item, report)
            report.retried += 1
            report.lost_lease += not ok
            report.error(
                f"contact {item.contact_id}: {outcome.summary()}", "contact",
                contact=item.contact_id, decision=outcome.verdict.value, reason=outcome.reason,
                stage=outcome.stage.value, reply=outcome.reply,
            )  # fmt: skip
            report.note(
                route.provider,
                f"retry:{outcome.reason}",
                f"to retry (attempt {attempts}) — {outcome.reason}: {outcome.reply}",
                "retry", attempt=attempts, reason=outcome.reason, reply=outcome.reply,
            )  # fmt: skip
            return
        # Ours: the provider's or the account's breaker decides when to try again.
        key, kind = self.breaker_of(route, outcome)
        hold: Hold | None
        if outcome.session_wide or outcome.code is None:  # every message would meet it
            hold = self.breakers.trip(key, kind, outcome, now)
        else:
            hold = self.breakers.strike(key, kind, outcome, now)
        if hold is not None:
            await self.hold(
                item, outcome, hold.until, hold.since, hold.failures, report, route, key
            )
            return
        wait = (
            self.config.outage_base_seconds
            if kind == UNREACHABLE
            else self.config.held_retry_seconds
        )
        await self.hold(item, outcome, now + timedelta(seconds=wait), now, 0, report, route, key)

    async def hold_for(
        self,
        item: repo.Claimed,
        outcome: Outcome,
        seconds: float,
        report: DispatchReport,
        route: Route | None,
    ) -> None:
        now = self.clock.now()
        await self.hold(
            item, outcome, now + timedelta(seconds=seconds), now, 0, report, route, None
        )

    async def hold(
        self,
        item: repo.Claimed,
        outcome: Outcome,
        until: datetime,
        since: datetime,
        probe: int,
        report: DispatchReport,
        route: Route | None,
        key: str | None,
    ) -> None:
        """Our side stops this step: back to its queue until ``until``, nothing counted, the
        decision kept (event ``held``, ``last_error``) and said once per provider and run."""
        now = self.clock.now()
        cause = short_cause(outcome.reply)
        detail = decision(outcome) | {"since": since.isoformat(), "cause": cause}
        if route is not None:
            detail["provider"] = route.provider
        if probe:
            detail["probe"] = probe
        async with self.database.session() as session:
            ok = await repo.mark_retry(
                session,
                item,
                owner=self.owner,
                now=now,
                next_attempt_at=until,
                error=outcome.summary("held"),
                count_attempt=False,
                event="held",
                detail=detail,
            )
        if key is not None:
            self.breakers.remember(key, item.contact_id, until)
        self.mark_handled(item, report)
        report.held += 1
        report.lost_lease += not ok
        report.error(
            f"contact {item.contact_id}: {outcome.summary('held')}", "contact",
            contact=item.contact_id, decision="held", reason=outcome.reason,
            stage=outcome.stage.value, reply=outcome.reply,
        )  # fmt: skip
        where = route.provider if route is not None else item.persona.key
        probing = f", probe {probe}" if probe else ""
        report.note(
            where,
            f"held:{outcome.reason}",
            f"held until {hhmmss(until)} — {outcome.reason} since {hhmmss(since)} "
            f"({cause}){probing}",
            "held_probe" if probe else "held",
            until=hhmmss(until), reason=outcome.reason, since=hhmmss(since), cause=cause,
            probe=probe,
        )  # fmt: skip

    async def recovered(self, recovery: Recovery, route: Route, report: DispatchReport) -> None:
        """A breaker closed: what it held goes out now (at the next claim, in hours)."""
        now = self.clock.now()
        released: list[int] = []
        if recovery.held:
            async with self.database.session() as session:
                released = await repo.release_held(session, recovery.held, now=now)
        seconds = (now - recovery.since).total_seconds()
        report.event(
            f"{route.provider}: accepts again after {seconds:.0f} s ({recovery.cause.reason} "
            f"since {hhmmss(recovery.since)}); {len(released)} held contacts released",
            "recovered", provider=route.provider, seconds=round(seconds),
            reason=recovery.cause.reason, since=hhmmss(recovery.since), released=len(released),
        )  # fmt: skip

    async def defer(
        self, item: repo.Claimed, when: datetime, why: str, report: DispatchReport
    ) -> None:
        now = self.clock.now()
        async with self.database.session() as session:
            await repo.mark_retry(
                session,
                item,
                owner=self.owner,
                now=now,
                next_attempt_at=when,
                error=None,
                count_attempt=False,
                event="deferred",
                reason=why,
            )
        self.mark_handled(item, report)
        report.deferred += 1

    async def give_back(self, item: repo.Claimed, report: DispatchReport) -> None:
        """Give back a claim we did not get to before the lease margin."""
        await self.defer(item, self.clock.now(), "lease margin", report)

    async def defer_verification(
        self, item: repo.Claimed, error: str, report: DispatchReport
    ) -> None:
        now = self.clock.now()
        async with self.database.session() as session:
            await repo.hold_for_verification(
                session,
                item,
                owner=self.owner,
                now=now,
                retry_at=now + timedelta(seconds=self.config.verify_retry_seconds),
                error=error,
            )
        self.mark_handled(item, report)
        report.retried += 1
        report.errors.append(f"contact {item.contact_id}: {error}")

    async def undeliverable(
        self, item: repo.Claimed, reason: str, report: DispatchReport, outcome: Outcome
    ) -> None:
        async with self.database.session() as session:
            ok = await repo.mark_undeliverable(
                session,
                item,
                owner=self.owner,
                now=self.clock.now(),
                reason=reason,
                detail=decision(outcome),
            )
        self.mark_handled(item, report)
        report.undeliverable += 1
        report.lost_lease += not ok
