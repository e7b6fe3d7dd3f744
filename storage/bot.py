"""SQL of the auditors' bot: tasks, answers, events, reviews, photos, reminders, progress
(who the auditors are, their invites and their per-user state: ``storage.auditors``).

Every function runs inside the caller's unit of work (``async with database.session()``):
the bot loads what an update needs, decides (``bot.flows``, pure), writes the outcome and
commits before it replies, so a restart resumes exactly where the auditor was.

Ownership is checked here, in SQL: ``owned_task`` returns a contact only when it is assigned
to the auditor asking, so forged callback data reaches nothing else.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    Integer,
    Table,
    bindparam,
    case,
    delete,
    func,
    literal,
    null,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scenarios.clock import require_utc
from scenarios.domain import Channel, ContactStatus
from storage.models import (
    Auditor,
    Blob,
    BotReminder,
    BotState,
    Campaign,
    CampaignCoordinator,
    Collectivity,
    Contact,
    ContactEvent,
    Observation,
    Service,
)

# The tables themselves, for Core statements on the bot's hot path.
_CONTACT = cast(Table, Contact.__table__)
_EVENT = cast(Table, ContactEvent.__table__)
_OBSERVATION = cast(Table, Observation.__table__)
_STATE = cast(Table, BotState.__table__)

FIELD_OPEN = (ContactStatus.PLANNED, ContactStatus.ASSIGNED, ContactStatus.IN_PROGRESS)
LETTER_TO_POST = (ContactStatus.PLANNED, ContactStatus.PRINTED)
LETTER_WAITING = (ContactStatus.POSTED, ContactStatus.ACKNOWLEDGED)
OPEN_STATUSES = frozenset(s.value for s in (*FIELD_OPEN, *LETTER_TO_POST, *LETTER_WAITING))


# --------------------------------------------------------------------------- tasks


@dataclass(frozen=True, slots=True)
class TaskRow:
    """A contact as the bot shows it, with its service, collectivity and campaign."""

    id: int
    channel: str
    status: str
    scenario_id: str
    wording: int
    planned_at: datetime
    auditor_id: int | None
    campaign_name: str
    campaign_end: date
    service_name: str
    service_kind: str
    phone: str | None
    address: str | None
    postal_code: str | None
    city: str | None
    opening_hours: str | None
    latitude: float | None
    longitude: float | None
    collectivity_name: str
    departement: str


def task_columns() -> tuple[Any, ...]:
    """The columns of a ``TaskRow``, in order (from the contact and ``task_joins``'s tables)."""
    return (
        Contact.id,
        Contact.channel,
        Contact.status,
        Contact.scenario_id,
        Contact.wording,
        Contact.planned_at,
        Contact.auditor_id,
        Campaign.name,
        Campaign.window_end,
        Service.name,
        Service.kind,
        Service.phone,
        Service.address,
        Service.postal_code,
        Service.city,
        Service.opening_hours,
        Service.latitude,
        Service.longitude,
        Collectivity.name,
        Collectivity.departement,
    )


def task_joins(query: Any, *, outer: bool = False) -> Any:
    """``query`` (which has the contact) joined to its service, collectivity and campaign."""
    join = query.outerjoin if outer else query.join
    query = join(Service, Contact.service_id == Service.id)
    join = query.outerjoin if outer else query.join
    query = join(Collectivity, Contact.collectivity_id == Collectivity.id)
    join = query.outerjoin if outer else query.join
    return join(Campaign, Contact.campaign_id == Campaign.id)


def _task_query() -> Any:
    return task_joins(select(*task_columns()))


async def owned_task(session: AsyncSession, auditor_id: int, contact_id: int) -> TaskRow | None:
    """The contact when it is assigned to this auditor; None for anything else."""
    row = (
        await session.execute(
            _task_query().where(Contact.id == contact_id, Contact.auditor_id == auditor_id)
        )
    ).first()
    return None if row is None else TaskRow(*row)


async def open_tasks(session: AsyncSession, auditor_id: int) -> list[TaskRow]:
    """The auditor's calls and visits not done yet, and letters to post or awaiting a reply."""
    field = [Channel.PHONE.value, Channel.VISIT.value]
    letter_open = [s.value for s in (*LETTER_TO_POST, *LETTER_WAITING)]
    query = (
        _task_query()
        .where(Contact.auditor_id == auditor_id, Contact.closed_at.is_(None))
        .where(
            (Contact.channel.in_(field) & Contact.status.in_([s.value for s in FIELD_OPEN]))
            | ((Contact.channel == Channel.LETTER.value) & Contact.status.in_(letter_open))
        )
        .order_by(Contact.planned_at, Contact.id)
    )
    return [TaskRow(*row) for row in await session.execute(query)]


async def assign_contact(
    session: AsyncSession, contact_id: int, auditor_id: int, now: datetime
) -> Contact | None:
    contact = await session.get(Contact, contact_id)
    if contact is None:
        return None
    contact.auditor_id = auditor_id
    if contact.channel in (Channel.PHONE, Channel.VISIT) and contact.status == "planned":
        contact.status = ContactStatus.ASSIGNED.value
        contact.status_at = require_utc(now)
    await session.flush()
    return contact


async def set_status(
    session: AsyncSession,
    contact_id: int,
    status: str,
    now: datetime,
    *,
    first_answer_at: datetime | None = None,
    closed: bool = False,
) -> None:
    """Move the contact to ``status`` (``status_at`` only when it changes), closing it or
    stamping its first answer too, in one UPDATE.

    Core statements on the session's connection: the ORM's bulk UPDATE would also look for
    loaded contacts to synchronise, and the bot loads none (it reads ``TaskRow`` tuples)."""
    now = require_utc(now)
    values = {"contact": contact_id, "to": status, "at": now, "answered": first_answer_at}
    connection = await session.connection()
    await connection.execute(_set_status_statement(closed, first_answer_at is not None), values)


@functools.cache
def _set_status_statement(closed: bool, first_answer: bool) -> Any:
    """The UPDATE of ``set_status``, built once per shape; bound ``contact``, ``to``, ``at``
    and ``answered``. A change of status alone touches only a contact whose status
    differs; with more to write, ``status_at`` is kept when the status is the same (SET
    expressions read the row as it was)."""
    table = _CONTACT
    status, now = (
        bindparam("to", type_=table.c.status.type),
        bindparam("at", type_=table.c.status_at.type),
    )
    statement = update(table).where(table.c.id == bindparam("contact", type_=Integer))
    if not closed and not first_answer:
        return statement.where(table.c.status != status).values(status=status, status_at=now)
    values: dict[str, Any] = {
        "status": status,
        "status_at": case((table.c.status == status, table.c.status_at), else_=now),
    }
    if closed:
        values["closed_at"] = now
    if first_answer:
        answered = bindparam("answered", type_=table.c.first_answer_at.type)
        values["first_answer_at"] = func.coalesce(table.c.first_answer_at, answered)
    return statement.values(values)


# --------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class EventRow:
    id: int
    kind: str
    at: datetime
    detail: dict[str, Any]


async def events_of(session: AsyncSession, contact_id: int) -> list[EventRow]:
    rows = await session.execute(
        select(ContactEvent.id, ContactEvent.kind, ContactEvent.at, ContactEvent.detail)
        .where(ContactEvent.contact_id == contact_id)
        .order_by(ContactEvent.at, ContactEvent.id)
    )
    return [EventRow(id_, kind, at, detail or {}) for id_, kind, at, detail in rows]


async def add_event(
    session: AsyncSession,
    contact_id: int,
    kind: str,
    at: datetime,
    actor: str | None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        ContactEvent(
            contact_id=contact_id, kind=kind, at=require_utc(at), actor=actor, detail=detail
        )
    )


async def insert_event(
    session: AsyncSession,
    contact_id: int,
    kind: str,
    at: datetime,
    actor: str | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """``add_event`` as one Core INSERT on the session's connection, at once: no object for
    the identity map, no flush, no id read back (the bot's hot path; ``add_event`` is the
    reference in tests/bot/test_persist.py)."""
    connection = await session.connection()
    values = {"contact_id": contact_id, "kind": kind, "at": require_utc(at), "actor": actor,
              "detail": detail}  # fmt: skip
    await connection.execute(_insert_event_statement(), values)


async def insert_events(
    session: AsyncSession,
    contact_id: int,
    actor: str | None,
    events: Sequence[tuple[str, datetime, dict[str, Any] | None]],
) -> None:
    """``insert_event`` for several (kind, at, detail) at once: one execute of the same
    INSERT with a row of parameters each (a single hand-off to the driver), in order."""
    if not events:
        return
    connection = await session.connection()
    rows = [{"contact_id": contact_id, "kind": kind, "at": require_utc(at), "actor": actor,
             "detail": detail} for kind, at, detail in events]  # fmt: skip
    await connection.execute(_insert_event_statement(), rows)


@functools.cache
def _insert_event_statement() -> Any:
    table = _EVENT
    return table.insert().values(
        {table.c[name]: bindparam(name) for name in ("contact_id", "kind", "at", "actor", "detail")}
    )


async def update_event_detail(session: AsyncSession, event_id: int, detail: dict[str, Any]) -> None:
    event = await session.get(ContactEvent, event_id)
    assert event is not None
    event.detail = {**(event.detail or {}), **detail}


# --------------------------------------------------------------------------- answers


@dataclass(frozen=True, slots=True)
class AnswerRow:
    question_id: str
    value: Any
    review_state: str | None
    review_note: str | None
    photo_sha256: str | None


TaskHistory = tuple[TaskRow, dict[str, "AnswerRow"], list["EventRow"]]


def task_history_of(contact_id: Any) -> Any:
    """The events and answers of the contact ``contact_id`` (a bound parameter or an SQL
    expression), as one subquery: UNION ALL of the two, ``src`` 1 for events, 0 for answers."""
    events = select(
        literal(1).label("src"),
        ContactEvent.id.label("event_id"),
        ContactEvent.kind.label("name"),
        ContactEvent.at.label("at"),
        ContactEvent.detail.label("data"),
        null().label("review_state"),
        null().label("review_note"),
        null().label("photo_sha256"),
    ).where(ContactEvent.contact_id == contact_id)
    answers = select(
        literal(0),
        null(),
        Observation.question_id,
        null(),
        Observation.value,
        Observation.review_state,
        Observation.review_note,
        Observation.photo_sha256,
    ).where(Observation.contact_id == contact_id)
    return union_all(events, answers).subquery("history")


@functools.cache
def _task_with_history_query() -> Any:
    """The statement of ``owned_task_with_history``, built once: bound parameters
    ``contact_id`` and ``auditor_id`` (SQLAlchemy then keeps its cache key and compiled form
    instead of building a union and its subquery for every update)."""
    contact_id = bindparam("contact_id", type_=Integer)
    history = task_history_of(contact_id)
    return (
        _task_query()
        .add_columns(*history.c)
        .outerjoin(history, true())
        .where(
            Contact.id == contact_id, Contact.auditor_id == bindparam("auditor_id", type_=Integer)
        )
        .order_by(history.c.src, history.c.at, history.c.event_id)
    )


def task_with_history(rows: Sequence[Any], start: int = 0) -> TaskHistory | None:
    """Rows of the task's columns (from ``start``) then ``task_history_of``'s, read back;
    None when there is none or the task's id is NULL (an outer join that found nothing)."""
    width = len(TaskRow.__slots__)
    if not rows or rows[0][start] is None:
        return None
    task = TaskRow(*rows[0][start : start + width])
    found_answers: dict[str, AnswerRow] = {}
    found_events: list[EventRow] = []
    for row in rows:
        src, event_id, name, at, data, review_state, review_note, photo = row[start + width :]
        if src == 1:
            found_events.append(EventRow(event_id, name, at, data or {}))
        elif src == 0:
            found_answers[name] = AnswerRow(name, data, review_state, review_note, photo)
    return task, found_answers, found_events


# ``session.info`` key: a task read ahead with the user's state (``storage.auditors``'s
# ``identify``, same round trip), for the next ``owned_task_with_history`` of that task.
READ_AHEAD = "storage.bot.task_read_ahead"


async def owned_task_with_history(
    session: AsyncSession, auditor_id: int, contact_id: int
) -> TaskHistory | None:
    """``owned_task``, ``answers_of`` and ``events_of`` in one round trip (what every update
    of the bot reads): the task's columns beside each of its answers and events, UNION ALL
    of the two; ownership is checked in the same WHERE, so nothing of a contact that is not
    the auditor's comes back. None when the task is not theirs.

    When ``identify`` read this very task ahead in the same unit of work, and nothing was
    written since, its reading is used (once) instead of another round trip."""
    ahead = session.info.pop(READ_AHEAD, None)
    fresh = not session.dirty and not session.new
    if ahead is not None and ahead[0] == (auditor_id, contact_id) and fresh:
        return ahead[1]  # type: ignore[no-any-return]
    rows = (
        await session.execute(
            _task_with_history_query(), {"contact_id": contact_id, "auditor_id": auditor_id}
        )
    ).all()
    return task_with_history(rows)


async def answers_of(session: AsyncSession, contact_id: int) -> dict[str, AnswerRow]:
    rows = await session.execute(
        select(
            Observation.question_id,
            Observation.value,
            Observation.review_state,
            Observation.review_note,
            Observation.photo_sha256,
        ).where(Observation.contact_id == contact_id)
    )
    return {row[0]: AnswerRow(*row) for row in rows}


async def upsert_answer(
    session: AsyncSession,
    *,
    contact_id: int,
    question_id: str,
    value: Any,
    auditor_id: int,
    at: datetime,
    photo_sha256: str | None = None,
    review_state: str | None = None,
) -> None:
    """Store the answer, replacing an earlier one (one INSERT … ON CONFLICT statement)."""
    values: dict[str, Any] = {
        "contact_id": contact_id,
        "question_id": question_id,
        "value": value,
        "auditor_id": auditor_id,
        "answered_at": require_utc(at),
        "photo_sha256": photo_sha256,
    }
    if review_state is not None:
        values["review_state"] = review_state
    # On the session's connection, as a Core statement: through ``session.execute`` the ORM
    # treats an INSERT of a mapped table as a bulk insert of objects (a tenth of the bot's
    # CPU per update went there) and flushes the session first.
    connection = await session.connection()
    statement = _upsert_answer_statement(connection.dialect.name, review_state is not None)
    await connection.execute(statement, values)


@functools.cache
def _upsert_answer_statement(dialect: str, with_review_state: bool) -> Any:
    """INSERT … ON CONFLICT (contact, question) DO UPDATE, built once per dialect; the
    values are bound parameters named after the columns."""
    columns = ["value", "auditor_id", "answered_at", "photo_sha256"]
    if with_review_state:
        columns.append("review_state")
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = _OBSERVATION
    statement = insert(table).values(
        {table.c[name]: bindparam(name) for name in ["contact_id", "question_id", *columns]}
    )
    return statement.on_conflict_do_update(
        index_elements=["contact_id", "question_id"],
        set_={name: statement.excluded[name] for name in columns},
    )


async def save_state(
    session: AsyncSession,
    telegram_user_id: int,
    *,
    stage: str,
    contact_id: int | None,
    question_id: str | None,
    attempt: int,
    data: dict[str, Any] | None,
    updated_at: datetime,
) -> None:
    """Write the flow's part of the user's stored state row in one Core UPDATE (the bot
    reads that row as plain values: ``storage.auditors.StateRow``)."""
    values = {"stage": stage, "contact_id": contact_id, "question_id": question_id,
              "attempt": attempt, "data": data, "updated_at": require_utc(updated_at)}  # fmt: skip
    connection = await session.connection()
    await connection.execute(_save_state_statement(), {**values, "user": telegram_user_id})


@functools.cache
def _save_state_statement() -> Any:
    table = _STATE
    return (
        update(table)
        .where(table.c.telegram_user_id == bindparam("user"))
        .values({table.c[name]: bindparam(name) for name in STATE_COLUMNS})
    )


STATE_COLUMNS = ("stage", "contact_id", "question_id", "attempt", "data", "updated_at")


async def delete_answers(
    session: AsyncSession, contact_id: int, question_ids: Iterable[str]
) -> None:
    ids = list(question_ids)
    if ids:
        await session.execute(
            delete(Observation).where(
                Observation.contact_id == contact_id, Observation.question_id.in_(ids)
            )
        )


async def mark_to_fix(
    session: AsyncSession, contact_id: int, question_id: str, reason: str, now: datetime
) -> bool:
    """Ask for a correction; False when there is no such answer."""
    row = await session.scalar(
        select(Observation).where(
            Observation.contact_id == contact_id, Observation.question_id == question_id
        )
    )
    if row is None:
        return False
    row.review_state = "to_fix"
    row.review_note = reason
    await session.flush()
    return True


@dataclass(frozen=True, slots=True)
class FixRequest:
    event_id: int
    contact_id: int
    question_id: str
    reason: str
    auditor_id: int
    telegram_user_id: int
    language: str
    at: datetime


async def pending_fix_requests(session: AsyncSession) -> list[FixRequest]:
    """``review.to_fix`` events whose answer is still to fix, for bound active auditors."""
    rows = await session.execute(
        select(
            ContactEvent.id,
            ContactEvent.contact_id,
            ContactEvent.detail,
            Auditor.id,
            Auditor.telegram_user_id,
            Auditor.language,
            ContactEvent.at,
        )
        .join(Contact, ContactEvent.contact_id == Contact.id)
        .join(Auditor, Contact.auditor_id == Auditor.id)
        .join(
            Observation,
            (Observation.contact_id == Contact.id) & (Observation.review_state == "to_fix"),
        )
        .where(
            ContactEvent.kind == "review.to_fix",
            Auditor.active.is_(True),
            Auditor.telegram_user_id.is_not(None),
        )
        .order_by(ContactEvent.id)
    )
    found: dict[int, FixRequest] = {}
    for event_id, contact_id, detail, auditor_id, tg_id, language, at in rows:
        detail = detail or {}
        found[event_id] = FixRequest(
            event_id,
            contact_id,
            str(detail.get("question", "")),
            str(detail.get("reason", "")),
            auditor_id,
            int(tg_id or 0),
            language,
            at,
        )
    return list(found.values())


async def open_fixes(session: AsyncSession, auditor_id: int) -> list[tuple[int, str, str | None]]:
    """(contact id, question id, reason) of this auditor's answers to correct."""
    rows = await session.execute(
        select(Observation.contact_id, Observation.question_id, Observation.review_note)
        .join(Contact, Observation.contact_id == Contact.id)
        .where(Contact.auditor_id == auditor_id, Observation.review_state == "to_fix")
        .order_by(Observation.contact_id, Observation.id)
    )
    return [(cid, qid, note) for cid, qid, note in rows]


# --------------------------------------------------------------------------- blobs


async def store_blob(session: AsyncSession, data: bytes, now: datetime) -> str:
    """Keep ``data`` content-addressed; return its SHA-256 (stored once)."""
    digest = hashlib.sha256(data).hexdigest()
    if await session.get(Blob, digest) is None:
        session.add(Blob(sha256=digest, size=len(data), data=data, created_at=require_utc(now)))
        await session.flush()
    return digest


# --------------------------------------------------------------------------- reminders


@dataclass(frozen=True, slots=True)
class Recipient:
    auditor_id: int
    telegram_user_id: int
    name: str
    role: str
    language: str


async def bound_auditors(session: AsyncSession) -> list[Recipient]:
    rows = await session.execute(
        select(Auditor.id, Auditor.telegram_user_id, Auditor.name, Auditor.role, Auditor.language)
        .where(Auditor.active.is_(True), Auditor.telegram_user_id.is_not(None))
        .order_by(Auditor.id)
    )
    return [Recipient(a, int(t or 0), n, r, lang) for a, t, n, r, lang in rows]


async def claimed_reminders(session: AsyncSession, day: date) -> set[tuple[int, str]]:
    """(auditor id, slot) already claimed for ``day``: one query per reminder tick."""
    rows = await session.execute(
        select(BotReminder.auditor_id, BotReminder.slot).where(BotReminder.day == day)
    )
    return {(auditor_id, slot) for auditor_id, slot in rows}


async def claim_reminder(
    session: AsyncSession, auditor_id: int, slot: str, day: date, now: datetime
) -> bool:
    """Record that ``slot`` of ``day`` goes to the auditor; False when it already went."""
    found = await session.scalar(
        select(BotReminder.id).where(
            BotReminder.auditor_id == auditor_id, BotReminder.slot == slot, BotReminder.day == day
        )
    )
    if found is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(
                BotReminder(auditor_id=auditor_id, slot=slot, day=day, sent_at=require_utc(now))
            )
            await session.flush()
    except IntegrityError:
        return False
    return True


# --------------------------------------------------------------------------- progress


async def coordinated_progress(
    session: AsyncSession, auditor_id: int
) -> list[tuple[str, str, str, int]]:
    """(campaign, channel, status, count) for the campaigns this coordinator follows."""
    rows = await session.execute(
        select(Campaign.name, Contact.channel, Contact.status, func.count())
        .join(CampaignCoordinator, CampaignCoordinator.campaign_id == Campaign.id)
        .join(Contact, Contact.campaign_id == Campaign.id)
        .where(CampaignCoordinator.auditor_id == auditor_id)
        .group_by(Campaign.name, Contact.channel, Contact.status)
        .order_by(Campaign.name, Contact.channel, Contact.status)
    )
    return [(name, channel, status, int(count)) for name, channel, status, count in rows]


# --------------------------------------------------------------------------- CLI reading


async def contact_answers(
    session: AsyncSession, contact_ids: Sequence[int]
) -> dict[int, dict[str, Any]]:
    """Answers per contact (question id -> value), for ``campaign show``."""
    found: dict[int, dict[str, Any]] = {}
    if not contact_ids:
        return found
    rows = await session.execute(
        select(Observation.contact_id, Observation.question_id, Observation.value)
        .where(Observation.contact_id.in_(list(contact_ids)))
        .order_by(Observation.contact_id, Observation.id)
    )
    for contact_id, question_id, value in rows:
        found.setdefault(contact_id, {})[question_id] = value
    return found


async def done_field_contacts(
    session: AsyncSession, campaign_id: int
) -> list[tuple[int, str, str, str]]:
    """(contact id, channel, scenario id, service name) of the done calls and visits."""
    rows = await session.execute(
        select(Contact.id, Contact.channel, Contact.scenario_id, Service.name)
        .join(Service, Contact.service_id == Service.id)
        .where(Contact.campaign_id == campaign_id, Contact.status == ContactStatus.DONE.value)
        .order_by(Contact.id)
    )
    return [(cid, channel, scenario, name) for cid, channel, scenario, name in rows]
