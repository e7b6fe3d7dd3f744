"""What every bot callback shares: the runtime, sending, writing an outcome, and the
identify-or-refuse step.

Each update is one short unit of work: the auditor is looked up from the Telegram user id,
the task is loaded only when it is assigned to them (``storage.bot.owned_task``: whatever
callback data a client forges), the flow decides (``bot.flows``), and the new state, events
and answers are committed before anything is sent. The session is never held across a
Telegram request.

``as_auditor`` (or the ``@for_auditors`` decorator) is the only way into a step for an
update of someone other than a stranger asking to enrol (``bot.handlers.start``): anyone who
is not an enrolled, active auditor gets one polite refusal and nothing more. A stranger
writes nothing to the database: the refusal is remembered in memory (the last
``STRANGERS_REMEMBERED``).
"""

from __future__ import annotations

import asyncio
import functools
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.ext import ContextTypes

from bot import callbacks as cb
from bot import flows
from bot.arrivals import Arrivals
from bot.flows import Outcome, Snapshot, State
from bot.views import Reply
from scenarios.catalog import Catalog, UnknownScenario
from scenarios.clock import Clock
from scenarios.i18n import Translator, pick_locale
from storage import auditors as auditor_repo
from storage import bot as repo
from storage.auditors import AuditorRow, StateRow
from storage.db import Database

STRANGERS_REMEMBERED = 10_000
MENU_KEYS = ("bot.menu.tasks", "bot.menu.progress", "bot.menu.help")


@dataclass
class Runtime:
    """What every callback needs; one per Application, in ``bot_data["runtime"]``."""

    database: Database
    clock: Clock
    catalog: Catalog
    tz: ZoneInfo
    # When each update reached us (stamped by the update queue); None: handling time.
    arrivals: Arrivals | None = None
    photo_max_bytes: int = 10_000_000
    flag_metres: float = 300.0
    morning_hour: int = 8
    evening_hour: int = 18
    digest_hour: int = 19
    # Units of work in progress at once (``bot.app.units_at_once``); the others queue here,
    # in order, before taking a connection. SQLite has one writer: one at a time, instead of
    # failing with "database is locked" when a read transaction tries to become a write one.
    unit_slots: asyncio.Semaphore | None = field(default=None)
    # Photos downloaded and decoded at once: with 64 concurrent updates, 64 large photos
    # would hold gigabytes; the others wait their turn.
    photo_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(2))
    # Strangers already refused (Telegram user id -> when), newest last, bounded.
    refused: OrderedDict[int, datetime] = field(default_factory=OrderedDict)

    @property
    def titles(self) -> dict[str, str]:
        """Scenario id -> title, for the task buttons."""
        return {sid: scenario.title for sid, scenario in self.catalog.scenarios.items()}

    def remember_refusal(self, user_id: int, now: datetime) -> None:
        self.refused[user_id] = now
        self.refused.move_to_end(user_id)
        while len(self.refused) > STRANGERS_REMEMBERED:
            self.refused.popitem(last=False)

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[AsyncSession]:
        if self.unit_slots is None:
            async with self.database.session() as session:
                yield session
            return
        async with self.unit_slots, self.database.session() as session:
            yield session


def runtime(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    found = context.bot_data["runtime"]
    assert isinstance(found, Runtime)
    return found


def translator(update: Update) -> Translator:
    user = update.effective_user
    return Translator(pick_locale(user.language_code if user else None))


# --------------------------------------------------------------------------- sending


def markup(reply: Reply, t: Translator) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    if reply.buttons:
        return InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(b.label, callback_data=b.data) for b in row]
                for row in reply.buttons
            ]
        )
    if reply.menu:
        labels = [t(key) for key in MENU_KEYS]
        return ReplyKeyboardMarkup(
            [[KeyboardButton(labels[0])], [KeyboardButton(labels[1]), KeyboardButton(labels[2])]],
            resize_keyboard=True,
            is_persistent=True,
        )
    return None


async def send(context: ContextTypes.DEFAULT_TYPE, chat_id: int, replies: list[Reply],
               t: Translator) -> None:  # fmt: skip
    for reply in replies:
        await context.bot.send_message(chat_id, reply.text, reply_markup=markup(reply, t))


# --------------------------------------------------------------------------- writing


def state_of(row: StateRow) -> State:
    return State(row.stage, row.contact_id, row.question_id, row.attempt, dict(row.data or {}))


async def persist(
    session: AsyncSession,
    row: StateRow,
    outcome: Outcome,
    auditor_id: int,
    contact_id: int | None,
    now: datetime,
) -> None:
    """Write the outcome of one update: state, events, answers, status (Core statements on
    the session's connection; ``row`` given the state as stored; tests/bot/test_persist.py
    holds the ORM version as the reference)."""
    new = outcome.state
    # Whatever this unit read ahead (``storage.bot.READ_AHEAD``) is stale from here on: the
    # ORM's « nothing dirty » test it relies on does not see Core statements.
    session.info.pop(repo.READ_AHEAD, None)
    data = new.data or None
    await repo.save_state(
        session, row.telegram_user_id, stage=new.stage, contact_id=new.contact_id,
        question_id=new.question_id, attempt=new.attempt, data=data, updated_at=now,
    )  # fmt: skip
    row.stage, row.contact_id, row.question_id = new.stage, new.contact_id, new.question_id
    row.attempt, row.data, row.updated_at = new.attempt, data, now
    if contact_id is None:
        return
    actor = f"auditor:{auditor_id}"
    events = [(event.kind, event.at, event.detail) for event in outcome.events]
    await repo.insert_events(session, contact_id, actor, events)
    for event_id, detail in outcome.event_updates:
        await repo.update_event_detail(session, event_id, detail)
    for answer in outcome.answers:
        await repo.upsert_answer(
            session,
            contact_id=contact_id,
            question_id=answer.question_id,
            value=answer.value,
            auditor_id=auditor_id,
            at=now,
            photo_sha256=answer.photo_sha256,
            review_state=answer.review_state,
        )
    await repo.delete_answers(session, contact_id, outcome.deleted)
    if outcome.status is not None:
        await repo.set_status(
            session,
            contact_id,
            outcome.status.status,
            now,
            first_answer_at=outcome.status.first_answer_at,
            closed=outcome.status.closed,
        )
    await session.flush()


async def snapshot(
    session: AsyncSession, rt: Runtime, auditor: AuditorRow, contact_id: int, now: datetime,
    t: Translator,
) -> Snapshot | None:  # fmt: skip
    """The task as its owner sees it; None when it is not this auditor's (or does not exist)."""
    found = await repo.owned_task_with_history(session, auditor.id, contact_id)
    if found is None:
        return None
    task, answers, events = found
    try:
        scenario = rt.catalog.get(task.scenario_id)
    except UnknownScenario:
        scenario = None
    return Snapshot(
        auditor_id=auditor.id,
        auditor_name=auditor.name,
        task=task,
        scenario=scenario,
        answers=answers,
        events=events,
        now=now,
        t=t,
        tz=rt.tz,
        flag_metres=rt.flag_metres,
    )


async def refusal(
    session: AsyncSession, rt: Runtime, row: StateRow, now: datetime, t: Translator
) -> list[Reply]:
    """One polite refusal per unknown Telegram user, then silence."""
    if row.refused_at is not None:
        return []
    row.refused_at = now
    if row.stored:  # a disabled auditor's row, or a stranger's counting wrong codes
        await auditor_repo.set_refused(session, row.telegram_user_id, now)
    rt.remember_refusal(row.telegram_user_id, now)
    return [Reply(t("bot.refused"))]


async def identify(
    session: AsyncSession, rt: Runtime, user_id: int, now: datetime, task: int | None = None
) -> tuple[AuditorRow | None, StateRow]:
    """The active auditor of this Telegram user and their state row, as plain values; for a
    user without a stored row (a stranger), a row marked not stored. The task ``task`` (by
    default the state row's) is read in the same round trip, for ``snapshot``."""
    auditor, row = await auditor_repo.identify(session, user_id, now, task=task)
    if row is None:
        row = StateRow(
            telegram_user_id=user_id, auditor_id=None, stage=flows.IDLE, contact_id=None,
            question_id=None, attempt=0, data=None, failed_codes=0, failed_since=None,
            refused_at=rt.refused.get(user_id), updated_at=now, stored=False,
        )  # fmt: skip
    return auditor, row


@dataclass
class Turn:
    """One update of an enrolled, active auditor, inside its unit of work."""

    update: Update
    context: ContextTypes.DEFAULT_TYPE
    rt: Runtime
    t: Translator
    session: AsyncSession
    auditor: AuditorRow
    row: StateRow  # the auditor's state row
    now: datetime  # the bot's clock when the update is handled
    arrived: datetime  # when the update reached us (``now`` when it was not stamped)
    toast: str | None = None  # the answer to a button press (shown briefly by the client)


Step = Callable[[Turn], Awaitable[list[Reply]]]
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


async def as_auditor(update: Update, context: ContextTypes.DEFAULT_TYPE, step: Step) -> None:
    """Identify the sender, or refuse: only an enrolled, active auditor reaches ``step``,
    which only ever sees that auditor (their tasks are loaded with ``owned_task``). The
    replies are sent after the unit of work is committed; a button press is answered (with
    ``Turn.toast``) while they are sent, a stranger's too, so the client stops its spinner."""
    user = update.effective_user
    if user is None:
        return
    rt, t = runtime(context), translator(update)
    now = rt.clock.now()
    arrived = (rt.arrivals.of(update) if rt.arrivals is not None else None) or now
    toast: str | None = None
    # A press names its task: read it with the user's state (else the state's task is).
    pressed = update.callback_query.data if update.callback_query is not None else None
    task = cb.parse(pressed).contact_id if pressed is not None else None
    async with rt.unit() as session:
        auditor, row = await identify(session, rt, user.id, now, task)
        if auditor is None:
            replies = await refusal(session, rt, row, now, t)
        else:
            turn = Turn(update, context, rt, t, session, auditor, row, now, arrived)
            replies = await step(turn)
            toast = turn.toast
    if update.callback_query is None:
        await send(context, user.id, replies, t)
        return
    # The press's answer and the replies at once: one Bot API round trip less before the
    # auditor reads the next question. A failure of either is raised once both are done.
    failures = [
        found
        for found in await asyncio.gather(
            update.callback_query.answer(toast),
            send(context, user.id, replies, t),
            return_exceptions=True,
        )
        if isinstance(found, BaseException)
    ]
    if failures:
        raise failures[0]


def for_auditors(step: Step) -> Handler:
    """``as_auditor`` as a decorator: the handler of an update only auditors may make."""

    @functools.wraps(step)
    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await as_auditor(update, context, step)

    return handler
