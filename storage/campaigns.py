"""SQL of campaigns: create or re-plan one, bulk-insert its contacts, summarise it.

Everything runs inside the caller's unit of work (``async with database.session()``), so a
plan that fails half-way writes nothing. Contacts go in with Core ``insert()`` executemany
in chunks (no ORM object per contact): tens of thousands of rows take about a second.

Re-planning (``--replace``) deletes only the contacts whose status is in
``scenarios.domain.REPLACEABLE_STATUSES``; the others are returned by ``kept_contacts`` for
the planner to plan around, and are never touched.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from scenarios.campaign_file import AuditorSpec, PersonaSpec
from scenarios.clock import require_utc
from scenarios.domain import REPLACEABLE_STATUSES, Channel, ContactStatus
from scenarios.planning import PlannedContact
from storage.models import Auditor, Campaign, Collectivity, Contact, Persona, Service

_CHUNK = 5000
_REPLACEABLE = sorted(s.value for s in REPLACEABLE_STATUSES)


class PersonaConflict(ValueError):
    """A persona's email already belongs to another persona key (``key``, ``email``,
    ``other``: for the reader's words)."""

    def __init__(self, key: str, email: str, other: str) -> None:
        super().__init__(f"persona {key!r}: email {email} already belongs to persona {other!r}")
        self.key, self.email, self.other = key, email, other


@dataclass(frozen=True, slots=True)
class ServiceFilter:
    """The campaign's selection; every non-empty criterion must hold."""

    kinds: Sequence[str] = ()
    departements: Sequence[str] = ()
    population_ranges: Sequence[tuple[int, int | None]] = ()  # [low, high), high None: open
    insee_codes: Sequence[str] = ()


class ServiceRow(NamedTuple):
    """One selected service with its collectivity: whether it has an email address, a
    phone number and a whole postal address, not the texts (a million-contact campaign
    holds hundreds of thousands of these)."""

    id: int
    kind: str
    has_email: bool
    has_phone: bool
    has_address: bool
    opening_hours: str | None
    collectivity_id: int
    insee_code: str
    collectivity_name: str
    departement: str
    population: int
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class KeptContact:
    id: int
    service_id: int
    collectivity_id: int
    channel: Channel
    scenario_id: str
    wording: int
    persona_id: int | None
    auditor_id: int | None
    at: datetime  # sent_at when sent, else planned_at
    status: str


@dataclass(frozen=True, slots=True)
class CampaignRow:
    id: int
    name: str
    title: str | None
    window_start: date
    window_end: date
    seed: int
    state: str
    spec: dict[str, Any]
    created_at: datetime
    planned_at: datetime
    closed_at: datetime | None = None


async def find_campaign(session: AsyncSession, name: str) -> CampaignRow | None:
    found = await session.scalar(select(Campaign).where(Campaign.name == name))
    if found is None:
        return None
    return CampaignRow(
        id=found.id,
        name=found.name,
        title=found.title,
        window_start=found.window_start,
        window_end=found.window_end,
        seed=found.seed,
        state=found.state,
        spec=found.spec,
        created_at=found.created_at,
        planned_at=found.planned_at,
        closed_at=found.closed_at,
    )


async def campaign_names(session: AsyncSession) -> list[str]:
    return list(await session.scalars(select(Campaign.name).order_by(Campaign.name)))


async def save_campaign(
    session: AsyncSession,
    *,
    name: str,
    title: str | None,
    window_start: date,
    window_end: date,
    seed: int,
    spec: dict[str, Any],
    now: datetime,
) -> int:
    """Create the campaign, or update the one of that name (re-plan); return its id."""
    now = require_utc(now)
    found = await session.scalar(select(Campaign).where(Campaign.name == name))
    if found is None:
        found = Campaign(name=name, created_at=now, state="planned")
        session.add(found)
    found.title = title
    found.window_start = window_start
    found.window_end = window_end
    found.seed = seed
    found.spec = spec
    found.planned_at = now
    await session.flush()
    return found.id


async def upsert_personas(
    session: AsyncSession, personas: Sequence[PersonaSpec], now: datetime
) -> dict[str, int]:
    """Insert or update personas by key (identity and postal address only); key -> id.

    Mailbox settings (SMTP, IMAP, password reference) are left as they are.
    """
    now = require_utc(now)
    if not personas:
        return {}
    keys = [p.key for p in personas]
    emails = [p.email for p in personas]
    rows = await session.scalars(
        select(Persona).where(or_(Persona.key.in_(keys), Persona.email.in_(emails)))
    )
    by_key: dict[str, Persona] = {}
    by_email: dict[str, Persona] = {}
    for row in rows:
        by_key[row.key] = row
        by_email[row.email.casefold()] = row
    for spec in personas:
        other = by_email.get(spec.email.casefold())
        if other is not None and other.key != spec.key:
            raise PersonaConflict(spec.key, spec.email, other.key)
        persona = by_key.get(spec.key)
        if persona is None:
            persona = Persona(key=spec.key, created_at=now, active=True)
            session.add(persona)
            by_key[spec.key] = persona
        persona.display_name = spec.display_name
        persona.email = spec.email
        persona.address = spec.address
        persona.postal_code = spec.postal_code
        persona.city = spec.city
    await session.flush()
    return {key: by_key[key].id for key in keys}


async def upsert_auditors(
    session: AsyncSession, auditors: Sequence[AuditorSpec], now: datetime
) -> dict[str, int]:
    """Insert or update auditors by key (their name); key -> id. Telegram binding is kept."""
    now = require_utc(now)
    if not auditors:
        return {}
    keys = [a.key for a in auditors]
    rows = await session.scalars(select(Auditor).where(Auditor.key.in_(keys)))
    by_key = {row.key: row for row in rows}
    for spec in auditors:
        row = by_key.get(spec.key)
        if row is None:
            row = Auditor(key=spec.key, created_at=now, role="auditor", language="fr", active=True)
            session.add(row)
            by_key[spec.key] = row
        row.name = spec.name
    await session.flush()
    return {key: by_key[key].id for key in keys}


async def persona_ids(session: AsyncSession, keys: Sequence[str]) -> dict[str, int]:
    rows = await session.execute(select(Persona.key, Persona.id).where(Persona.key.in_(keys)))
    return {key: id_ for key, id_ in rows}


async def auditor_ids(session: AsyncSession, keys: Sequence[str]) -> dict[str, int]:
    rows = await session.execute(select(Auditor.key, Auditor.id).where(Auditor.key.in_(keys)))
    return {key: id_ for key, id_ in rows}


async def select_services(session: AsyncSession, selection: ServiceFilter) -> list[ServiceRow]:
    """The selected services with their collectivity, in one query, by code then id."""
    query = (
        select(
            Service.id,
            Service.kind,
            _given(Service.email),
            _given(Service.phone),
            and_(_given(Service.address), _given(Service.postal_code), _given(Service.city)),
            Service.opening_hours,
            Collectivity.id,
            Collectivity.insee_code,
            Collectivity.name,
            Collectivity.departement,
            Collectivity.population,
            Service.latitude,
            Service.longitude,
        )
        .join(Collectivity, Service.collectivity_id == Collectivity.id)
        .order_by(Collectivity.insee_code, Service.id)
    )
    if selection.kinds:
        query = query.where(Service.kind.in_(list(selection.kinds)))
    if selection.departements:
        query = query.where(Collectivity.departement.in_(list(selection.departements)))
    if selection.insee_codes:
        query = query.where(Collectivity.insee_code.in_(list(selection.insee_codes)))
    if selection.population_ranges:
        clauses = []
        for low, high in selection.population_ranges:
            if high is None:
                clauses.append(Collectivity.population >= low)
            else:
                clauses.append(and_(Collectivity.population >= low, Collectivity.population < high))
        query = query.where(or_(*clauses))
    result = await session.execute(query)
    return [
        ServiceRow(sid, kind, bool(email), bool(phone), bool(address), *rest)
        for sid, kind, email, phone, address, *rest in result
    ]


def _given(column: Any) -> Any:
    """True where the text column holds something (SQLite answers 1 or 0)."""
    return and_(column.is_not(None), column != "")


async def delete_replaceable(session: AsyncSession, campaign_id: int) -> int:
    """Delete the contacts nothing has happened to yet; return how many."""
    result = await session.execute(
        delete(Contact).where(Contact.campaign_id == campaign_id, Contact.status.in_(_REPLACEABLE))
    )
    count: int = result.rowcount  # type: ignore[attr-defined]
    return count


async def count_replaceable(session: AsyncSession, campaign_id: int) -> int:
    """How many contacts ``delete_replaceable`` would delete."""
    count = await session.scalar(
        select(func.count())
        .select_from(Contact)
        .where(Contact.campaign_id == campaign_id, Contact.status.in_(_REPLACEABLE))
    )
    return int(count or 0)


_KEPT_COLUMNS = (
    Contact.id,
    Contact.service_id,
    Contact.collectivity_id,
    Contact.channel,
    Contact.scenario_id,
    Contact.wording,
    Contact.persona_id,
    Contact.auditor_id,
    Contact.sent_at,
    Contact.planned_at,
    Contact.status,
)


def _kept(row: Any) -> KeptContact:
    sent_at, planned_at = row[8], row[9]
    return KeptContact(
        id=row[0],
        service_id=row[1],
        collectivity_id=row[2],
        channel=Channel(row[3]),
        scenario_id=row[4],
        wording=row[5],
        persona_id=row[6],
        auditor_id=row[7],
        at=sent_at if sent_at is not None else planned_at,
        status=row[10],
    )


async def kept_contacts(session: AsyncSession, campaign_id: int) -> list[KeptContact]:
    """The campaign's contacts a re-plan keeps (status not replaceable), by id."""
    rows = await session.execute(
        select(*_KEPT_COLUMNS)
        .where(Contact.campaign_id == campaign_id, Contact.status.not_in(_REPLACEABLE))
        .order_by(Contact.id)
    )
    return [_kept(row) for row in rows]


async def running_contacts(
    session: AsyncSession,
    campaign_id: int,
    start: datetime,
    end: datetime,
    collectivity_ids: Iterable[int],
) -> list[KeptContact]:
    """Contacts of the other campaigns not closed, to the given collectivities, sent or
    planned in ``[start, end)`` and not cancelled, by id: what the per-collectivity caps
    and lockouts of a new plan must see."""
    wanted = sorted(set(collectivity_ids))
    found: list[KeptContact] = []
    at = func.coalesce(Contact.sent_at, Contact.planned_at)
    for i in range(0, len(wanted), _CHUNK):
        rows = await session.execute(
            select(*_KEPT_COLUMNS)
            .join(Campaign, Campaign.id == Contact.campaign_id)
            .where(
                Contact.campaign_id != campaign_id,
                Campaign.state != "closed",
                Contact.status != ContactStatus.CANCELLED,
                Contact.collectivity_id.in_(wanted[i : i + _CHUNK]),
                at >= require_utc(start),
                at < require_utc(end),
            )
            .order_by(Contact.id)
        )
        found.extend(_kept(row) for row in rows)
    return found


async def insert_contacts(
    session: AsyncSession,
    campaign_id: int,
    contacts: Iterable[PlannedContact],
    now: datetime,
) -> int:
    """Bulk-insert planned contacts (Core executemany, in chunks); return how many.

    A phone or visit contact with an auditor starts ``assigned``, everything else
    ``planned``.
    """
    now = require_utc(now)
    table = cast(Table, Contact.__table__)
    planned, assigned = ContactStatus.PLANNED.value, ContactStatus.ASSIGNED.value
    count = 0
    it = iter(contacts)
    # Streamed: the parameters of one chunk at a time (as dicts they weigh several times
    # the contacts themselves).
    while chunk := list(itertools.islice(it, _CHUNK)):
        rows = [_contact_row(c, campaign_id, now, planned, assigned) for c in chunk]
        await session.execute(insert(table), rows)
        count += len(rows)
    return count


def _contact_row(
    c: PlannedContact, campaign_id: int, now: datetime, planned: str, assigned: str
) -> dict[str, Any]:
    return {
        "campaign_id": campaign_id,
        "service_id": c.service_id,
        "collectivity_id": c.collectivity_id,
        "scenario_id": c.scenario_id,
        "channel": c.channel.value,
        "wording": c.wording,
        "persona_id": c.persona_id,
        "auditor_id": c.auditor_id,
        "planned_at": c.planned_at,
        "status": planned if c.auditor_id is None else assigned,
        "status_at": now,
        "attempts": 0,
    }


# --------------------------------------------------------------------------------------
# Summaries for `campaign show`


async def counts_by_channel_status(
    session: AsyncSession, campaign_id: int
) -> list[tuple[str, str, int]]:
    rows = await session.execute(
        select(Contact.channel, Contact.status, func.count())
        .where(Contact.campaign_id == campaign_id)
        .group_by(Contact.channel, Contact.status)
        .order_by(Contact.channel, Contact.status)
    )
    return [(channel, status, count) for channel, status, count in rows]


async def planned_times(session: AsyncSession, campaign_id: int) -> list[tuple[str, datetime]]:
    """(channel, planned_at) of every contact: weeks are local, so grouped in Python."""
    rows = await session.execute(
        select(Contact.channel, Contact.planned_at).where(Contact.campaign_id == campaign_id)
    )
    return [(channel, at) for channel, at in rows]


async def counts_by_persona(session: AsyncSession, campaign_id: int) -> list[tuple[str, str, int]]:
    """(persona key, channel, count) for the campaign's written contacts."""
    rows = await session.execute(
        select(Persona.key, Contact.channel, func.count())
        .join(Persona, Contact.persona_id == Persona.id)
        .where(Contact.campaign_id == campaign_id)
        .group_by(Persona.key, Contact.channel)
        .order_by(Persona.key, Contact.channel)
    )
    return [(key, channel, count) for key, channel, count in rows]


async def counts_by_auditor(
    session: AsyncSession, campaign_id: int
) -> list[tuple[str | None, str, int]]:
    """(auditor key or None for unassigned, channel, count) for phone and visit contacts."""
    rows = await session.execute(
        select(Auditor.key, Contact.channel, func.count())
        .outerjoin(Auditor, Contact.auditor_id == Auditor.id)
        .where(
            Contact.campaign_id == campaign_id,
            Contact.channel.in_([Channel.PHONE.value, Channel.VISIT.value]),
        )
        .group_by(Auditor.key, Contact.channel)
        .order_by(Auditor.key, Contact.channel)
    )
    return [(key, channel, count) for key, channel, count in rows]


# Contacts still waiting for something when a campaign closes: they are censored at the
# close time (``closed_at``), not dropped. Their status is kept: it says how far they got.
OPEN_AT_CLOSE = (
    ContactStatus.PLANNED.value,
    ContactStatus.ASSIGNED.value,
    ContactStatus.SENDING.value,
    ContactStatus.SENT.value,
    ContactStatus.ACKNOWLEDGED.value,
    ContactStatus.PRINTED.value,
    ContactStatus.POSTED.value,
    ContactStatus.IN_PROGRESS.value,
)


@dataclass(frozen=True, slots=True)
class CloseResult:
    closed_at: datetime
    already_closed: bool
    censored: int  # contacts sent and still unanswered at the close
    never_sent: int  # contacts still planned: nothing reached the service
    tasks: int = 0  # auditors' tasks (calls, visits, letters) closed with the campaign


async def close_campaign(session: AsyncSession, campaign_id: int, at: datetime) -> CloseResult:
    """Close a campaign at ``at``; closing again keeps the first close time."""
    at = require_utc(at)
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise LookupError(f"no campaign with id {campaign_id}")
    already = campaign.closed_at is not None
    closed_at = campaign.closed_at if campaign.closed_at is not None else at
    campaign.closed_at = closed_at
    campaign.state = "closed"
    open_rows = and_(
        Contact.campaign_id == campaign_id,
        Contact.closed_at.is_(None),
        Contact.status.in_(OPEN_AT_CLOSE),
    )
    censored = await session.scalar(
        select(func.count())
        .select_from(Contact)
        .where(open_rows, Contact.status.in_(_SENT_NOT_ANSWERED))
    )
    never_sent = await session.scalar(
        select(func.count()).select_from(Contact).where(open_rows, Contact.status.in_(_NOT_STARTED))
    )
    tasks = await session.scalar(
        select(func.count()).select_from(Contact).where(open_rows, Contact.auditor_id.is_not(None))
    )
    # Setting ``closed_at`` closes the auditors' tasks too: the bot and ``auditors list``
    # count as open only the contacts of campaigns still running.
    await session.execute(update(Contact).where(open_rows).values(closed_at=closed_at))
    return CloseResult(
        closed_at, already, int(censored or 0), int(never_sent or 0), int(tasks or 0)
    )


_SENT_NOT_ANSWERED = (
    ContactStatus.SENT.value,
    ContactStatus.ACKNOWLEDGED.value,
    ContactStatus.POSTED.value,
)
_NOT_STARTED = (
    ContactStatus.PLANNED.value,
    ContactStatus.ASSIGNED.value,
    ContactStatus.PRINTED.value,
)
