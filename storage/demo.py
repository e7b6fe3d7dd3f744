"""SQL of ``temoin demo``: what its discrete-event loop and its truth check read.

The demo moves simulated time from one due instant to the next; ``email_steps`` says when
each open email step (a first send, a retry, a follow-up, a lease to recover) becomes due,
with the rules of ``storage.dispatch`` (``claim_batch``). The rest reads back what the
worker, the tracker and the bot recorded, for the comparison with the simulators' truth
(``sim.demo.check``). Reads only, in the caller's unit of work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from scenarios.domain import Channel, ContactStatus
from storage.models import (
    Auditor,
    Campaign,
    Collectivity,
    Contact,
    ContactEvent,
    Message,
    Observation,
    Persona,
    Service,
)


async def campaign_id(session: AsyncSession, name: str) -> int | None:
    found: int | None = await session.scalar(select(Campaign.id).where(Campaign.name == name))
    return found


# -- the loop --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EmailStep:
    """An email step not done yet: when it becomes claimable, and whether a worker holds it."""

    contact_id: int
    due_at: datetime | None  # None: nothing will make it due (held by a live lease)
    leased: bool


def _latest(*instants: datetime | None) -> datetime | None:
    known = [i for i in instants if i is not None]
    return max(known) if known else None


async def email_steps(session: AsyncSession, campaign: int) -> list[EmailStep]:
    """Every open email step of ``campaign`` (see ``storage.dispatch._first_due`` and
    ``_followup_due``): planned first sends, sends whose lease may expire, follow-ups."""
    rows = await session.execute(
        select(
            Contact.id,
            Contact.status,
            Contact.planned_at,
            Contact.next_attempt_at,
            Contact.lease_owner,
            Contact.lease_expires_at,
            Contact.first_answer_at,
            Contact.followup_due_at,
            Contact.followup_sent_at,
        ).where(
            Contact.campaign_id == campaign,
            Contact.channel == Channel.EMAIL.value,
            Contact.closed_at.is_(None),
            Contact.status.in_(
                (
                    ContactStatus.PLANNED.value,
                    ContactStatus.SENDING.value,
                    ContactStatus.SENT.value,
                    ContactStatus.ACKNOWLEDGED.value,
                )
            ),
        )
    )
    steps: list[EmailStep] = []
    for cid, status, planned, retry, owner, lease, answered, f_due, f_sent in rows:
        leased = owner is not None
        if status == ContactStatus.PLANNED.value:
            steps.append(EmailStep(cid, _latest(planned, retry), leased))
        elif status == ContactStatus.SENDING.value:
            steps.append(EmailStep(cid, lease, leased))
        elif answered is None and f_due is not None and f_sent is None:
            # claimable once its lease (a live one, or a hold for a mailbox check) is over
            steps.append(EmailStep(cid, _latest(f_due, retry, lease), leased))
        elif leased:
            steps.append(EmailStep(cid, None, True))
    return steps


async def request_index(session: AsyncSession, campaign: int) -> dict[str, tuple[str, int]]:
    """Message-ID of every request sent (or being sent) -> (scenario id, contact id)."""
    rows = await session.execute(
        select(Contact.message_id, Contact.scenario_id, Contact.id).where(
            Contact.campaign_id == campaign, Contact.message_id.is_not(None)
        )
    )
    return {str(mid): (scenario, cid) for mid, scenario, cid in rows}


async def stored_message_ids(session: AsyncSession, message_ids: Sequence[str]) -> set[str]:
    """Which of these Message-IDs are stored *and processed* (classified or quarantined)."""
    found: set[str] = set()
    for start in range(0, len(message_ids), 500):
        chunk = list(message_ids[start : start + 500])
        rows = await session.execute(
            select(Message.message_id).where(
                Message.message_id.in_(chunk),
                (Message.classification.is_not(None)) | (Message.quarantine_reason.is_not(None)),
            )
        )
        found.update(str(mid) for (mid,) in rows)
    return found


@dataclass(frozen=True, slots=True)
class TaskRow:
    """A call, visit or letter of the campaign as the simulated auditors need it."""

    contact_id: int
    channel: str
    status: str
    scenario_id: str
    planned_at: datetime
    auditor_id: int | None
    auditor_key: str | None
    departement: str
    latitude: float | None
    longitude: float | None


async def auditor_tasks(session: AsyncSession, campaign: int) -> list[TaskRow]:
    rows = await session.execute(
        select(
            Contact.id,
            Contact.channel,
            Contact.status,
            Contact.scenario_id,
            Contact.planned_at,
            Contact.auditor_id,
            Auditor.key,
            Collectivity.departement,
            Service.latitude,
            Service.longitude,
        )
        .join(Service, Service.id == Contact.service_id)
        .join(Collectivity, Collectivity.id == Contact.collectivity_id)
        .outerjoin(Auditor, Auditor.id == Contact.auditor_id)
        .where(
            Contact.campaign_id == campaign,
            Contact.channel.in_((Channel.PHONE.value, Channel.VISIT.value, Channel.LETTER.value)),
        )
        .order_by(Contact.planned_at, Contact.id)
    )
    return [
        TaskRow(cid, channel, status, scenario, planned, auditor, key, dept, lat, lon)
        for cid, channel, status, scenario, planned, auditor, key, dept, lat, lon in rows
    ]


# -- measured facts ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EmailFact:
    contact_id: int
    message_id: str | None
    followup_message_id: str | None
    service_email: str
    status: str
    sent_at: datetime | None
    followup_sent_at: datetime | None
    first_ack_at: datetime | None
    first_answer_at: datetime | None
    closed_at: datetime | None
    checks: dict[str, Any] | None


async def email_facts(session: AsyncSession, campaign: int) -> list[EmailFact]:
    rows = await session.execute(
        select(
            Contact.id,
            Contact.message_id,
            Contact.followup_message_id,
            Service.email,
            Contact.status,
            Contact.sent_at,
            Contact.followup_sent_at,
            Contact.first_ack_at,
            Contact.first_answer_at,
            Contact.closed_at,
            Contact.checks,
        )
        .join(Service, Service.id == Contact.service_id)
        .where(Contact.campaign_id == campaign, Contact.channel == Channel.EMAIL.value)
        .order_by(Contact.id)
    )
    return [
        EmailFact(
            cid, mid, fmid, str(email or ""), status, sent, fsent, ack, answer, closed, checks
        )
        for cid, mid, fmid, email, status, sent, fsent, ack, answer, closed, checks in rows
    ]


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A stored incoming message, with the request it was matched to (None: triage)."""

    message_id: str | None
    classification: str | None
    matched_request: str | None
    match_method: str | None
    triage_state: str | None
    internal_date: datetime | None
    quarantined: bool
    # The class the rules gave, before a coordinator set another in triage (else the same).
    classified_by_rules: str | None = None


async def inbound_messages(session: AsyncSession) -> list[InboundMessage]:
    """Every message the tracker stored as received (our own copies left out)."""
    matched = aliased(Contact)
    rows = await session.execute(
        select(
            Message.message_id,
            Message.classification,
            matched.message_id,
            Message.match_method,
            Message.triage_state,
            Message.internal_date,
            Message.quarantine_reason,
            Message.evidence,
        )
        .outerjoin(matched, matched.id == Message.contact_id)
        .where(Message.direction == "in")
        .order_by(Message.id)
    )
    found = []
    for mid, kind, request, method, triage, internal, quarantine, evidence in rows:
        rules = _rules_class(kind, evidence)
        found.append(InboundMessage(mid, kind, request, method, triage, internal,
                                    quarantine is not None, rules))  # fmt: skip
    return found


def _rules_class(stored: str | None, evidence: Any) -> str | None:
    triage = evidence.get("triage") if isinstance(evidence, dict) else None
    said = triage.get("classifier_said") if isinstance(triage, dict) else None
    return said if isinstance(said, str) else stored


@dataclass(frozen=True, slots=True)
class FieldFact:
    """A call, visit or letter as recorded: its status, timeline and grid answers."""

    contact_id: int
    channel: str
    status: str
    first_answer_at: datetime | None
    closed_at: datetime | None
    events: tuple[tuple[str, datetime], ...] = ()
    answers: dict[str, Any] = field(default_factory=dict)


async def field_facts(
    session: AsyncSession, campaign: int, event_kinds: Iterable[str]
) -> list[FieldFact]:
    contacts = (
        await session.execute(
            select(
                Contact.id,
                Contact.channel,
                Contact.status,
                Contact.first_answer_at,
                Contact.closed_at,
            )
            .where(
                Contact.campaign_id == campaign,
                Contact.channel.in_(
                    (Channel.PHONE.value, Channel.VISIT.value, Channel.LETTER.value)
                ),
            )
            .order_by(Contact.id)
        )
    ).all()
    ids = [row[0] for row in contacts]
    events: dict[int, list[tuple[str, datetime]]] = {cid: [] for cid in ids}
    answers: dict[int, dict[str, Any]] = {cid: {} for cid in ids}
    kinds = list(event_kinds)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for cid, kind, at in await session.execute(
            select(ContactEvent.contact_id, ContactEvent.kind, ContactEvent.at)
            .where(ContactEvent.contact_id.in_(chunk), ContactEvent.kind.in_(kinds))
            .order_by(ContactEvent.contact_id, ContactEvent.at, ContactEvent.id)
        ):
            events[cid].append((kind, at))
        for cid, question, value, photo in await session.execute(
            select(
                Observation.contact_id,
                Observation.question_id,
                Observation.value,
                Observation.photo_sha256,
            ).where(Observation.contact_id.in_(chunk))
        ):
            answers[cid][question] = value if photo is None else {"photo": photo}
    return [
        FieldFact(cid, channel, status, answered, closed, tuple(events[cid]), answers[cid])
        for cid, channel, status, answered, closed in contacts
    ]


async def status_counts(session: AsyncSession, campaign: int) -> dict[tuple[str, str], int]:
    rows = await session.execute(
        select(Contact.channel, Contact.status, func.count())
        .where(Contact.campaign_id == campaign)
        .group_by(Contact.channel, Contact.status)
    )
    return {(channel, status): int(count) for channel, status, count in rows}


async def inbound_count(session: AsyncSession) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(Message).where(Message.direction == "in")
        )
        or 0
    )


async def busiest_collectivity(session: AsyncSession, campaign: int) -> str | None:
    """The INSEE code of the collectivity with the most contacts (its report is shown)."""
    row = (
        await session.execute(
            select(Collectivity.insee_code, func.count(Contact.id).label("n"))
            .join(Contact, Contact.collectivity_id == Collectivity.id)
            .where(Contact.campaign_id == campaign)
            .group_by(Collectivity.insee_code)
            .order_by(func.count(Contact.id).desc(), Collectivity.insee_code)
            .limit(1)
        )
    ).first()
    return None if row is None else str(row[0])


async def pending_triage(session: AsyncSession) -> list[tuple[int, str | None, str | None]]:
    """(stored message id, Message-ID header, class) of every message waiting in triage."""
    rows = await session.execute(
        select(Message.id, Message.message_id, Message.classification)
        .where(Message.triage_state == "pending")
        .order_by(Message.internal_date, Message.id)
    )
    return [(int(mid), header, kind) for mid, header, kind in rows]


async def preassign_message_ids(
    session: AsyncSession, campaign: int, make: Callable[[int, str], tuple[str, str]]
) -> int:
    """Give every email contact not claimed yet its Message-ID and reply token, from
    ``make(contact id, persona email)``. The dispatcher keeps an ID a contact already has
    (as for a contact retried after a refusal), so the demo's IDs, and with them every
    reaction the simulated services draw, follow from the campaign's seed."""
    rows = (
        await session.execute(
            select(Contact.id, Persona.email)
            .join(Persona, Persona.id == Contact.persona_id)
            .where(
                Contact.campaign_id == campaign,
                Contact.channel == Channel.EMAIL.value,
                Contact.status == ContactStatus.PLANNED.value,
                Contact.message_id.is_(None),
            )
        )
    ).all()
    for contact_id, email in rows:
        message_id, token = make(contact_id, email)
        await session.execute(
            update(Contact)
            .where(Contact.id == contact_id, Contact.message_id.is_(None))
            .values(message_id=message_id, reply_token=token)
        )
    return len(rows)
