"""Random campaigns written through the ORM, for comparing the SQL statistics and exports
with the Python rules (``reports.facts`` + ``reports.aggregate``).

Each seed gives a different campaign, aimed at the corners of the rules rather than at
realism: overseas départements (negative and positive UTC offsets), Alsace-Moselle (Good
Friday), the two DST changes, instants with microseconds, answers a few seconds before the
send (clock skew within tolerance) or after the close, acknowledgements after answers,
undeliverable and unsent requests, letters, visits and calls with their timeline events
(several attempts, holds), grid answers, content checks with overrides, per-contact close
instants, a scenario unknown to the catalogue, collectivities on the strata bounds, and an
open campaign (censored at the as-of instant).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scenarios import events as ev
from scenarios.catalog import Catalog
from scenarios.grid_model import QuestionType
from storage.models import (
    Campaign,
    Collectivity,
    Contact,
    ContactEvent,
    Observation,
    Service,
)

DEPARTEMENTS = ("75", "57", "67", "2A", "971", "972", "973", "974", "976", "33")
POPULATIONS = (0, 1999, 2000, 2001, 9999, 10000, 49999, 50000, 120000, 750)
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
# Windows around a DST change, Good Friday and Easter Monday, the October change.
STARTS = (
    datetime(2026, 3, 25, 6, 0, tzinfo=UTC),
    datetime(2026, 3, 30, 22, 30, tzinfo=UTC),
    datetime(2026, 10, 20, 5, 0, tzinfo=UTC),
)


def _instant(rnd: random.Random, start: datetime, days: float) -> datetime:
    return start + timedelta(microseconds=rnd.randrange(int(days * 86_400 * 1e6)))


def _around(rnd: random.Random, at: datetime) -> datetime:
    """An instant after ``at``: seconds to weeks later, sometimes slightly before it."""
    roll = rnd.random()
    if roll < 0.05:
        return at - timedelta(seconds=rnd.randrange(0, 121))  # skew within tolerance
    if roll < 0.15:
        return at + timedelta(seconds=rnd.randrange(0, 3600))
    if roll < 0.2:
        return at + timedelta(days=rnd.randrange(0, 20))  # same wall time: ties
    return at + timedelta(microseconds=rnd.randrange(int(25 * 86_400 * 1e6)))


def _answer(rnd: random.Random, question: Any) -> Any:
    kind = question.type
    if kind == QuestionType.YES_NO:
        return rnd.random() < 0.6
    if question.choices:
        return rnd.choice(question.choices).value
    if kind in (QuestionType.INTEGER, QuestionType.DURATION):
        return rnd.randrange(0, 12)
    return "ok"


async def random_campaign(
    session: AsyncSession,
    catalog: Catalog,
    seed: int,
    *,
    contacts: int = 60,
    window: tuple[date, date] = (date(2026, 1, 1), date(2026, 12, 31)),
) -> Campaign:
    rnd = random.Random(seed)
    start = STARTS[seed % len(STARTS)]
    closed = None if seed % 4 == 3 else start + timedelta(days=rnd.choice((9, 20, 40)))
    camp = Campaign(
        name=f"random-{seed}",
        window_start=window[0],
        window_end=window[1],
        seed=seed,
        spec={},
        state="closed" if closed else "running",
        created_at=NOW,
        planned_at=NOW,
        closed_at=closed,
    )
    session.add(camp)
    colls = []
    for i in range(rnd.randrange(3, 9)):
        colls.append(
            Collectivity(
                insee_code=f"{seed:03d}{i:05d}"[:9],
                name=f"Commune {seed}-{i}",
                kind=rnd.choice(("commune", "epci")),
                population=rnd.choice(POPULATIONS),
                departement=rnd.choice(DEPARTEMENTS),
                region=rnd.choice((None, "11", "44")),
                created_at=NOW,
                updated_at=NOW,
            )
        )
    session.add_all(colls)
    await session.flush()
    services = [
        Service(
            collectivity_id=c.id,
            kind=rnd.choice(("etat_civil", "ccas", "piscine")),
            name=f"Service {c.id}-{j}",
            created_at=NOW,
            updated_at=NOW,
        )
        for c in colls
        for j in range(rnd.randrange(1, 3))
    ]
    session.add_all(services)
    await session.flush()
    by_channel: dict[str, list[str]] = {}
    for sid, scenario in sorted(catalog.scenarios.items()):
        by_channel.setdefault(str(scenario.channel), []).append(sid)
    rows: list[tuple[Contact, str]] = []
    for _ in range(contacts):
        channel = rnd.choice(("email", "email", "email", "letter", "phone", "visit"))
        scenario_id = rnd.choice(by_channel[channel])
        if rnd.random() < 0.05:
            scenario_id = f"{channel}-retired-scenario"
        svc = rnd.choice(services)
        planned = _instant(rnd, start, 6)
        sent = planned if rnd.random() < 0.9 else None
        status = "sent" if sent else "planned"
        answer = ack = None
        if sent is not None and channel in ("email", "letter"):
            if rnd.random() < 0.08:
                status = "undeliverable"
            if rnd.random() < 0.6:
                answer = _around(rnd, sent)
            if rnd.random() < 0.4:
                ack = _around(rnd, sent)
        checks = None
        if channel == "email" and rnd.random() < 0.3:
            checks = {
                "expected": {
                    "piece": {"auto": rnd.choice((True, False, None))},
                    "delai": {"auto": False, "override": {"value": True}},
                },
                "form": {"greeting": {"auto": rnd.random() < 0.5}},
            }
        contact = Contact(
            campaign_id=camp.id,
            service_id=svc.id,
            collectivity_id=svc.collectivity_id,
            scenario_id=scenario_id,
            channel=channel,
            wording=rnd.randrange(3),
            planned_at=planned,
            status=status,
            status_at=NOW,
            sent_at=sent if channel == "email" or rnd.random() < 0.3 else None,
            first_ack_at=ack,
            first_answer_at=answer if channel == "email" or rnd.random() < 0.3 else None,
            closed_at=_around(rnd, planned) if rnd.random() < 0.1 else None,
            checks=checks,
        )
        session.add(contact)
        rows.append((contact, channel))
    await session.flush()
    events: list[ContactEvent] = []
    answers: list[Observation] = []
    for contact, channel in rows:
        t = contact.planned_at
        if channel == "letter" and rnd.random() < 0.8:
            events.append(_event(contact.id, ev.LETTER_POSTED, t))
            if rnd.random() < 0.6:
                events.append(_event(contact.id, ev.LETTER_REPLY_RECEIVED, _around(rnd, t)))
        elif channel == "visit" and rnd.random() < 0.85:
            events.append(_event(contact.id, ev.VISIT_ARRIVED, t))
            served = t + timedelta(
                seconds=rnd.randrange(-60, 1800), microseconds=rnd.randrange(10**6)
            )
            if rnd.random() < 0.85:
                events.append(_event(contact.id, ev.VISIT_SERVED, served))
            for _ in range(rnd.randrange(0, 3)):
                left = served + timedelta(seconds=rnd.randrange(-300, 900))
                events.append(_event(contact.id, ev.VISIT_LEFT, left))
        elif channel == "phone" and rnd.random() < 0.85:
            first = rnd.choice((1, 1, 1, 0, -1))
            for attempt in range(first, first + rnd.randrange(1, 4)):
                events += _call(rnd, contact.id, attempt, t)
                t += timedelta(hours=rnd.randrange(1, 30))
            if rnd.random() < 0.03:
                events.append(_event(contact.id, ev.VISIT_ARRIVED, t))  # not a call event
        found = catalog.scenarios.get(contact.scenario_id)
        if found is not None and channel in ("phone", "visit") and rnd.random() < 0.3:
            for question in found.grid:
                if rnd.random() < 0.85:
                    answers.append(
                        Observation(
                            contact_id=contact.id,
                            question_id=question.id,
                            value=_answer(rnd, question),
                            answered_at=t,
                        )
                    )
    session.add_all(events)
    session.add_all(answers)
    await session.flush()
    return camp


def _event(contact_id: int, kind: str, at: datetime, **detail: Any) -> ContactEvent:
    return ContactEvent(contact_id=contact_id, kind=kind, at=at, detail=detail or None)


def _call(rnd: random.Random, contact_id: int, attempt: int, at: datetime) -> list[ContactEvent]:
    """One attempt: started, an outcome, during a picked-up call maybe transfers and a
    hold; sometimes an event without its attempt number, or no start at all."""
    out = []
    if rnd.random() < 0.9:
        out.append(_event(contact_id, ev.CALL_STARTED, at, attempt=attempt))
    t = at + timedelta(seconds=rnd.randrange(2, 50), microseconds=rnd.randrange(10**6))
    outcome = rnd.choice((ev.CALL_PICKED_UP, ev.CALL_PICKED_UP, ev.CALL_NO_ANSWER, ev.CALL_BUSY))
    out.append(_event(contact_id, outcome, t, attempt=attempt))
    if outcome == ev.CALL_PICKED_UP:
        kinds = [ev.CALL_TRANSFERRED] * rnd.randrange(0, 3)
        if rnd.random() < 0.3:
            kinds += [ev.CALL_ON_HOLD, ev.CALL_RESUMED]
        for kind in kinds:
            t += timedelta(seconds=rnd.randrange(1, 90), microseconds=rnd.randrange(10**6))
            out.append(_event(contact_id, kind, t, attempt=attempt))
    hung_up = _event(contact_id, ev.CALL_HUNG_UP, t + timedelta(seconds=30), attempt=attempt)
    if rnd.random() < 0.05:
        hung_up.detail = None  # no attempt number: the Python rules place it
    out.append(hung_up)
    return out
