"""What the statistics read from the database: contacts with their service, collectivity,
timeline events and grid answers, streamed in constant memory.

    contact ⋈ service ⋈ collectivity  (one streamed query, ordered by contact id,
        |                               server-side cursor, ``yield_per`` rows at a time)
        +-- chunk of ``chunk`` contacts: ids lo..hi
              contact_event  WHERE contact_id BETWEEN lo AND hi (one query per chunk)
              observation    WHERE contact_id BETWEEN lo AND hi (one query per chunk)
        --> ContactRow, one per contact, in contact id order

Three queries per chunk whatever the number of contacts (no N+1); the side tables are read
by id range joined to the campaign, so no parameter list grows with the chunk. Everything
happens in the caller's session (one transaction: one consistent snapshot).

Rows are plain values: deriving facts and delays from them is ``reports.stored_facts``' job
(``contact_facts``); this module only reads. Persona and auditor appear by their key, never
by name. Photo evidence appears only as "there is a photo" (never its location metadata).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from scenarios import events as ev
from storage.models import (
    Auditor,
    Campaign,
    Collectivity,
    Contact,
    ContactEvent,
    Observation,
    Persona,
    Service,
)

__all__ = [
    "FIELD_EVENT_KINDS",
    "CampaignInfo",
    "CollectivityInfo",
    "ContactRow",
    "EventRow",
    "ServiceInfo",
    "actor_keys",
    "campaign_info",
    "campaign_infos",
    "collectivity_info",
    "collectivity_services",
    "stream_contact_rows",
]

# The timeline events statistics read (scenarios.events); the rest stay in the database.
FIELD_EVENT_KINDS: tuple[str, ...] = (ev.LETTER_PRINTED, *ev.FIELD_EVENTS)


@dataclass(frozen=True, slots=True)
class CampaignInfo:
    id: int
    name: str
    title: str | None
    window_start: date
    window_end: date
    state: str
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class CollectivityInfo:
    id: int
    insee_code: str
    name: str
    kind: str
    population: int
    departement: str
    region: str | None


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    id: int
    kind: str
    name: str


@dataclass(frozen=True, slots=True)
class EventRow:
    kind: str
    at: datetime
    attempt: int | None  # detail["attempt"] of phone events


@dataclass(slots=True)
class ContactRow:
    """One contact as stored, with its service and collectivity, events and grid answers.

    Not frozen: a million of them are built per report, and a frozen dataclass's
    ``__init__`` is several times slower. Treat it as read-only."""

    id: int
    channel: str
    scenario_id: str
    wording: int
    status: str
    planned_at: datetime
    sent_at: datetime | None
    first_ack_at: datetime | None
    first_answer_at: datetime | None
    closed_at: datetime | None
    checks: dict[str, Any] | None
    service_id: int
    service_kind: str
    service_name: str
    collectivity_id: int
    collectivity_code: str
    collectivity_name: str
    collectivity_kind: str
    population: int
    departement: str
    region: str | None
    persona_key: str | None
    auditor_key: str | None
    events: tuple[EventRow, ...] = ()
    answers: dict[str, Any] = field(default_factory=dict)
    photos: int = 0


def _campaign_select() -> Any:
    return select(
        Campaign.id,
        Campaign.name,
        Campaign.title,
        Campaign.window_start,
        Campaign.window_end,
        Campaign.state,
        Campaign.closed_at,
    )


async def campaign_infos(session: AsyncSession, *where: Any) -> list[CampaignInfo]:
    """The campaigns matching ``where`` (SQL conditions), the latest window first."""
    rows = await session.execute(
        _campaign_select().where(*where).order_by(Campaign.window_start.desc(), Campaign.id.desc())
    )
    return [CampaignInfo(*row) for row in rows.all()]


async def campaign_info(
    session: AsyncSession, name: str | None = None, *, campaign_id: int | None = None
) -> CampaignInfo | None:
    """One campaign, by name or by id."""
    where = Campaign.name == name if campaign_id is None else Campaign.id == campaign_id
    found = await campaign_infos(session, where)
    return found[0] if found else None


async def collectivity_info(
    session: AsyncSession, insee_code: str | None = None, *, collectivity_id: int | None = None
) -> CollectivityInfo | None:
    """One collectivity, by INSEE code or by id."""
    where = (
        Collectivity.insee_code == insee_code
        if collectivity_id is None
        else Collectivity.id == collectivity_id
    )
    found = (
        await session.execute(
            select(
                Collectivity.id,
                Collectivity.insee_code,
                Collectivity.name,
                Collectivity.kind,
                Collectivity.population,
                Collectivity.departement,
                Collectivity.region,
            ).where(where)
        )
    ).first()
    return None if found is None else CollectivityInfo(*found)


async def collectivity_services(session: AsyncSession, collectivity_id: int) -> list[ServiceInfo]:
    rows = await session.execute(
        select(Service.id, Service.kind, Service.name)
        .where(Service.collectivity_id == collectivity_id)
        .order_by(Service.id)
    )
    return [ServiceInfo(*row) for row in rows]


async def _keys(session: AsyncSession, model: type[Persona] | type[Auditor]) -> dict[int, str]:
    return {row[0]: row[1] for row in await session.execute(select(model.id, model.key))}


async def actor_keys(session: AsyncSession) -> tuple[dict[int, str], dict[int, str]]:
    """Persona id -> key and auditor id -> key (exports show keys, never names)."""
    return await _keys(session, Persona), await _keys(session, Auditor)


async def actor_names(session: AsyncSession) -> list[str]:
    """Every persona's and auditor's name: what a collectivity's report must never show
    (``reports.personal_findings.anonymise`` takes them out of the auditors' remarks)."""
    personas = await session.scalars(select(Persona.display_name))
    auditors = await session.scalars(select(Auditor.name))
    return sorted({*personas, *auditors})


def _attempt(detail: Any) -> int | None:
    if isinstance(detail, dict):
        value = detail.get("attempt")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


async def _side_tables(
    session: AsyncConnection,
    campaign_id: int,
    lo: int,
    hi: int,
    contact_ids: Sequence[int] | None = None,
    collectivity_ids: Sequence[int] | None = None,
) -> tuple[dict[int, list[EventRow]], dict[int, dict[str, Any]], dict[int, int]]:
    """Events, grid answers and photo counts of the campaign's contacts with ids lo..hi."""
    # The range is repeated on the side table's own contact_id so that its index is used.
    in_range = and_(Contact.campaign_id == campaign_id, Contact.id >= lo, Contact.id <= hi)
    if contact_ids is not None:
        in_range = and_(in_range, Contact.id.in_(list(contact_ids)))
    if collectivity_ids is not None:
        # a few collectivities' contacts spread over the whole id range: not every event
        in_range = and_(in_range, Contact.collectivity_id.in_(list(collectivity_ids)))
    events: dict[int, list[EventRow]] = {}
    rows = await session.execute(
        select(ContactEvent.contact_id, ContactEvent.kind, ContactEvent.at, ContactEvent.detail)
        .join(Contact, Contact.id == ContactEvent.contact_id)
        .where(
            in_range,
            ContactEvent.contact_id >= lo,
            ContactEvent.contact_id <= hi,
            ContactEvent.kind.in_(FIELD_EVENT_KINDS),
        )
        .order_by(ContactEvent.contact_id, ContactEvent.at, ContactEvent.id)
    )
    for contact_id, kind, at, detail in rows:
        events.setdefault(contact_id, []).append(EventRow(kind, at, _attempt(detail)))
    answers: dict[int, dict[str, Any]] = {}
    photos: dict[int, int] = {}
    rows = await session.execute(
        select(
            Observation.contact_id,
            Observation.question_id,
            Observation.value,
            Observation.photo_sha256.is_not(None),
        )
        .join(Contact, Contact.id == Observation.contact_id)
        .where(in_range, Observation.contact_id >= lo, Observation.contact_id <= hi)
        .order_by(Observation.contact_id, Observation.question_id)
    )
    for contact_id, question_id, value, has_photo in rows:
        answers.setdefault(contact_id, {})[question_id] = value
        if has_photo:
            photos[contact_id] = photos.get(contact_id, 0) + 1
    return events, answers, photos


_COLUMNS = (
    Contact.id,
    Contact.channel,
    Contact.scenario_id,
    Contact.wording,
    Contact.status,
    Contact.planned_at,
    Contact.sent_at,
    Contact.first_ack_at,
    Contact.first_answer_at,
    Contact.closed_at,
    Contact.checks,
    Contact.service_id,
    Service.kind,
    Service.name,
    Contact.collectivity_id,
    Collectivity.insee_code,
    Collectivity.name,
    Collectivity.kind,
    Collectivity.population,
    Collectivity.departement,
    Collectivity.region,
    Contact.persona_id,
    Contact.auditor_id,
)


# ``_COLUMNS[:21]`` are ``ContactRow``'s first 21 fields, in order (a test compares them).
_ROW: Any = ContactRow
_NO_ANSWERS: dict[str, Any] = {}


async def stream_contact_rows(
    session: AsyncSession,
    campaign_id: int,
    *,
    collectivity_ids: Sequence[int] | None = None,
    chunk: int = 5000,
    contact_ids: Sequence[int] | None = None,
) -> AsyncIterator[ContactRow]:
    """Every contact of the campaign (optionally of some collectivities), by contact id.

    ``contact_ids``: only those contacts (a few thousand at most: one parameter each), e.g.
    those the SQL statistics leave to ``reports.stored_facts`` (``storage.contact_facts``).
    Memory holds one chunk of contacts with their events and answers, whatever the size of
    the campaign.
    """
    personas = await _keys(session, Persona)
    auditors = await _keys(session, Auditor)
    stmt = (
        select(*_COLUMNS)
        .join(Service, Service.id == Contact.service_id)
        .join(Collectivity, Collectivity.id == Contact.collectivity_id)
        .where(Contact.campaign_id == campaign_id)
        .order_by(Contact.id)
        .execution_options(yield_per=chunk)
    )
    if collectivity_ids is not None:
        stmt = stmt.where(Contact.collectivity_id.in_(list(collectivity_ids)))
    if contact_ids is not None:
        stmt = stmt.where(Contact.id.in_(list(contact_ids)))
    # Core rows through the session's connection: same transaction, no ORM row loading.
    connection = await session.connection()
    result = await connection.stream(stmt)
    try:
        async for partition in result.partitions(chunk):
            if not partition:
                continue
            lo, hi = partition[0][0], partition[-1][0]
            events, answers, photos = await _side_tables(
                connection, campaign_id, lo, hi, contact_ids, collectivity_ids
            )
            make = _ROW  # positional: a third of the cost of 26 keyword arguments
            for row in partition:
                contact_id = row[0]
                persona_id, auditor_id = row[21], row[22]
                yield make(
                    *row[:21],
                    personas.get(persona_id) if persona_id is not None else None,
                    auditors.get(auditor_id) if auditor_id is not None else None,
                    tuple(events.get(contact_id, ())),
                    answers.get(contact_id, _NO_ANSWERS),
                    photos.get(contact_id, 0),
                )
    finally:
        await result.close()
