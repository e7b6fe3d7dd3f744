"""SQL of the auditors themselves: invites and enrolment, coordination, and the bot's
per-user state row (``identify`` is the first query of every update).

Every function runs inside the caller's unit of work (``async with database.session()``).
Only an invite code's hash is stored.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Integer,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scenarios.clock import require_utc
from storage import bot as task_bot
from storage import contact_status
from storage.bot import OPEN_STATUSES
from storage.models import (
    Auditor,
    BotState,
    Campaign,
    CampaignCoordinator,
    Contact,
    InviteCode,
    Observation,
)


def hash_code(code: str) -> str:
    """What is stored of an invite code: SHA-256 of its normalised text."""
    return hashlib.sha256(code.strip().upper().encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- auditors


async def auditor_by_telegram(session: AsyncSession, telegram_user_id: int) -> Auditor | None:
    """The active auditor bound to this Telegram user, or None."""
    return await session.scalar(
        select(Auditor).where(
            Auditor.telegram_user_id == telegram_user_id, Auditor.active.is_(True)
        )
    )


async def find_auditor(session: AsyncSession, ref: str) -> Auditor | None:
    """An auditor by key, or by id when ``ref`` is a number."""
    found = await session.scalar(select(Auditor).where(Auditor.key == ref))
    if found is None and ref.isdigit() and len(ref) < 10:  # an id fits a 32-bit integer
        found = await session.get(Auditor, int(ref))
    return found


async def list_auditors(session: AsyncSession) -> list[tuple[Auditor, int]]:
    """Every auditor with the number of open tasks assigned to them, by key."""
    open_count = (
        select(func.count())
        .where(
            Contact.auditor_id == Auditor.id,
            Contact.status.in_(sorted(OPEN_STATUSES)),
            Contact.closed_at.is_(None),  # a closed campaign's tasks are closed with it
        )
        .correlate(Auditor)
        .scalar_subquery()
    )
    rows = await session.execute(select(Auditor, open_count).order_by(Auditor.key))
    return [(auditor, int(count)) for auditor, count in rows]


async def create_invite(
    session: AsyncSession,
    *,
    key: str,
    name: str,
    role: str,
    code_hash: str,
    now: datetime,
    expires_at: datetime,
) -> tuple[Auditor, bool]:
    """An invite for the auditor ``key`` (created when new; name and role updated).

    Returns the auditor and whether it was created. Only the code's hash is stored.
    """
    now = require_utc(now)
    auditor = await session.scalar(select(Auditor).where(Auditor.key == key))
    created = auditor is None
    if auditor is None:
        auditor = Auditor(key=key, name=name, role=role, language="fr", active=True, created_at=now)
        session.add(auditor)
    else:
        auditor.name = name
        auditor.role = role
    await session.flush()
    session.add(
        InviteCode(
            code_hash=code_hash,
            auditor_id=auditor.id,
            created_at=now,
            expires_at=require_utc(expires_at),
        )
    )
    await session.flush()
    return auditor, created


async def add_coordination(session: AsyncSession, auditor_id: int, campaign_id: int) -> None:
    exists = await session.scalar(
        select(CampaignCoordinator.id).where(
            CampaignCoordinator.auditor_id == auditor_id,
            CampaignCoordinator.campaign_id == campaign_id,
        )
    )
    if exists is None:
        session.add(CampaignCoordinator(auditor_id=auditor_id, campaign_id=campaign_id))
        await session.flush()


async def find_campaign_id(session: AsyncSession, name: str) -> int | None:
    return await session.scalar(select(Campaign.id).where(Campaign.name == name))


@dataclass(frozen=True, slots=True)
class Redeemed:
    """The outcome of ``/start CODE``: ``auditor`` when bound, else why not."""

    auditor: Auditor | None
    reason: str | None  # unknown | used | expired | taken (the user is someone else already)


async def redeem_invite(
    session: AsyncSession, code_hash: str, telegram_user_id: int, now: datetime
) -> Redeemed:
    """Bind the Telegram user to the invite's auditor, once; the code is spent."""
    invite = await session.scalar(
        select(InviteCode).where(InviteCode.code_hash == code_hash).with_for_update()
    )
    if invite is None:
        return Redeemed(None, "unknown")
    if invite.used_at is not None:
        return Redeemed(None, "used")
    if invite.expires_at <= now:
        return Redeemed(None, "expired")
    auditor = await session.get(Auditor, invite.auditor_id)
    if auditor is None or not auditor.active:
        return Redeemed(None, "unknown")
    other = await session.scalar(
        select(Auditor).where(
            Auditor.telegram_user_id == telegram_user_id, Auditor.id != auditor.id
        )
    )
    if other is not None:
        return Redeemed(None, "taken")
    claimed = await session.execute(
        update(InviteCode)
        .where(InviteCode.id == invite.id, InviteCode.used_at.is_(None))
        .values(used_at=now, used_by=telegram_user_id)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return Redeemed(None, "used")
    auditor.telegram_user_id = telegram_user_id
    await session.flush()
    return Redeemed(auditor, None)


# --------------------------------------------------------------------------- state


@dataclass(frozen=True, slots=True)
class AuditorRow:
    """The active auditor of an update, as plain values (what the bot's steps read)."""

    id: int
    key: str
    name: str
    role: str
    language: str


AUDITOR_COLUMNS = tuple(AuditorRow.__slots__)


@dataclass(slots=True)
class StateRow:
    """A user's ``bot_state`` row as plain values; ``stored`` False for a stranger's row
    that was never written (``bot.runtime.identify`` makes one). The bot writes it back
    with Core statements (``storage.bot.save_state``, ``set_refused``), never the ORM."""

    telegram_user_id: int
    auditor_id: int | None
    stage: str
    contact_id: int | None
    question_id: str | None
    attempt: int
    data: dict[str, Any] | None
    failed_codes: int
    failed_since: datetime | None
    refused_at: datetime | None
    updated_at: datetime
    stored: bool = True


STATE_COLUMNS = tuple(name for name in StateRow.__slots__ if name != "stored")
_AUDITOR = cast(Table, Auditor.__table__)
_STATE = cast(Table, BotState.__table__)


def auditor_values(auditor: Auditor) -> AuditorRow:
    return AuditorRow(*(getattr(auditor, name) for name in AUDITOR_COLUMNS))


def state_values(state: BotState) -> StateRow:
    return StateRow(*(getattr(state, name) for name in STATE_COLUMNS))


@functools.cache
def _identify_query() -> Any:
    """The user's state row, its active auditor and, in the same round trip, the task an
    update is about (``storage.bot.owned_task_with_history``'s reading): the contact
    ``contact_id`` or, when that is NULL, the one of the state row, only if it is that
    auditor's. Columns only (a Core statement, read into plain values); built once; bound
    ``telegram_user_id`` and ``contact_id``."""
    user = bindparam("telegram_user_id", type_=BigInteger)
    asked = bindparam("contact_id", type_=Integer)
    state, auditor = _STATE, _AUDITOR
    # The derived table of the history cannot see the state row (no LATERAL in SQLite): it
    # reads the state's contact with a scalar subquery.
    target = func.coalesce(
        asked,
        select(state.c.contact_id).where(state.c.telegram_user_id == user).scalar_subquery(),
    )
    history = task_bot.task_history_of(target)
    query = (
        select(
            *(state.c[name] for name in STATE_COLUMNS),
            *(auditor.c[name] for name in AUDITOR_COLUMNS),
            *task_bot.task_columns(),
            *history.c,
        )
        .select_from(state)
        .outerjoin(
            auditor,
            (auditor.c.telegram_user_id == state.c.telegram_user_id) & auditor.c.active.is_(True),
        )
        .outerjoin(
            Contact,
            (Contact.id == func.coalesce(asked, state.c.contact_id))
            & (Contact.auditor_id == auditor.c.id),
        )
    )
    return (
        task_bot.task_joins(query, outer=True)
        .outerjoin(history, Contact.id.is_not(None))
        .where(state.c.telegram_user_id == user)
        .order_by(history.c.src, history.c.at, history.c.event_id)
    )


async def identify(
    session: AsyncSession, telegram_user_id: int, now: datetime, *, task: int | None = None
) -> tuple[AuditorRow | None, StateRow | None]:
    """The active auditor bound to this Telegram user (or None) and the user's state row,
    as plain values, in one Core statement for a known user. A user with neither gets no
    row (a stranger writes nothing: ``stranger_state`` makes one when it must count wrong
    codes); an auditor gets one on first contact.

    The same statement reads the task ``task`` (or, when None, the state row's task) with
    its answers and events, if it is the auditor's: the next ``owned_task_with_history`` of
    that task in this unit of work takes that reading instead of another round trip.
    (tests/bot/test_identify.py keeps the ORM version as the reference.)"""
    connection = await session.connection()
    rows = (
        await connection.execute(
            _identify_query(), {"telegram_user_id": telegram_user_id, "contact_id": task}
        )
    ).all()
    if rows:
        first = rows[0]
        width = len(STATE_COLUMNS)
        state = StateRow(*first[:width])
        auditor = None
        if first[width] is not None:
            auditor = AuditorRow(*first[width : width + len(AUDITOR_COLUMNS)])
        contact_id = task if task is not None else state.contact_id
        if auditor is not None and contact_id is not None:
            session.info[task_bot.READ_AHEAD] = (
                (auditor.id, contact_id),
                task_bot.task_with_history(rows, start=width + len(AUDITOR_COLUMNS)),
            )
        return auditor, state
    found = await auditor_by_telegram(session, telegram_user_id)
    if found is None:
        return None, None
    return auditor_values(found), state_values(await load_state(session, telegram_user_id, now))


async def set_refused(session: AsyncSession, telegram_user_id: int, at: datetime) -> None:
    """Remember on the stored state row that this user was refused (one Core UPDATE)."""
    connection = await session.connection()
    await connection.execute(
        update(_STATE)
        .where(_STATE.c.telegram_user_id == telegram_user_id)
        .values(refused_at=require_utc(at))
    )


async def stranger_state(
    session: AsyncSession, telegram_user_id: int, now: datetime, *, stale_before: datetime
) -> BotState:
    """The state row of a user who is no auditor, for counting wrong invite codes; the rows
    of other such users whose count window ended before ``stale_before`` go first."""
    await session.execute(
        delete(BotState).where(
            BotState.auditor_id.is_(None),
            BotState.telegram_user_id != telegram_user_id,
            or_(BotState.failed_since.is_(None), BotState.failed_since < stale_before),
            ~select(Auditor.id)
            .where(Auditor.telegram_user_id == BotState.telegram_user_id)
            .exists(),
        )
    )
    return await load_state(session, telegram_user_id, now)


async def load_state(session: AsyncSession, telegram_user_id: int, now: datetime) -> BotState:
    """The user's state row, created (idle) on first contact."""
    state = await session.get(BotState, telegram_user_id)
    if state is None:
        state = BotState(
            telegram_user_id=telegram_user_id,
            stage="idle",
            attempt=0,
            failed_codes=0,
            updated_at=require_utc(now),
        )
        session.add(state)
        try:
            async with session.begin_nested():
                await session.flush()
        except IntegrityError:  # created by a concurrent update of the same user
            state = await session.get(BotState, telegram_user_id, populate_existing=True)
            assert state is not None
    return state


@dataclass(frozen=True, slots=True)
class AuditorLoad:
    """One auditor and their tasks (contacts assigned to them), for the back office."""

    id: int
    key: str
    name: str
    region: str | None
    active: bool
    bound: bool  # enrolled in the bot
    open: int  # still to do (campaign not closed)
    late: int  # of those, planned more than a day ago
    done: int  # carried out, posted or answered
    failed: int
    to_fix: int  # answers sent back to them, not corrected yet


async def auditor_loads(session: AsyncSession, now: datetime) -> list[AuditorLoad]:
    """Every auditor with their load, counted by the database, by key."""

    def count(*conditions: Any) -> Any:
        return func.coalesce(func.sum(case((and_(*conditions), 1), else_=0)), 0)

    is_open = and_(Contact.status.in_(sorted(OPEN_STATUSES)), Contact.closed_at.is_(None))
    tasks = (
        select(
            Contact.auditor_id.label("auditor_id"),
            count(is_open).label("open"),
            count(is_open, Contact.planned_at <= now - contact_status.LATE_AFTER).label("late"),
            count(Contact.status.in_(contact_status.REACHED)).label("done"),
            count(Contact.status.in_(contact_status.FAILED)).label("failed"),
        )
        .where(Contact.auditor_id.is_not(None))
        .group_by(Contact.auditor_id)
        .subquery()
    )
    fixes = (
        select(Contact.auditor_id.label("auditor_id"), func.count().label("to_fix"))
        .join(Observation, Observation.contact_id == Contact.id)
        .where(Observation.review_state == "to_fix")
        .group_by(Contact.auditor_id)
        .subquery()
    )
    rows = await session.execute(
        select(
            Auditor.id,
            Auditor.key,
            Auditor.name,
            Auditor.region,
            Auditor.active,
            Auditor.telegram_user_id.is_not(None),
            *(func.coalesce(tasks.c[name], 0) for name in ("open", "late", "done", "failed")),
            func.coalesce(fixes.c.to_fix, 0),
        )
        .outerjoin(tasks, tasks.c.auditor_id == Auditor.id)
        .outerjoin(fixes, fixes.c.auditor_id == Auditor.id)
        .order_by(Auditor.key)
    )
    return [
        AuditorLoad(aid, key, name, region, bool(active), bool(bound), *(int(n) for n in counts))
        for aid, key, name, region, active, bound, *counts in rows.all()
    ]
