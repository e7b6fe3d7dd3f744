"""``storage.auditors.identify`` (one Core statement read into plain values) reads exactly
what its ORM version read (kept here as the reference): the active auditor, the user's state
row and the task read ahead with its answers and events, for random states, bindings, active
flags and pressed tasks, on SQLite and PostgreSQL. Ownership stays in the statement: a task
of another auditor, or of nobody, is never read ahead."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Integer, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import auditors as auditor_repo
from storage import bot as task_bot
from storage.db import Database
from storage.models import Auditor, BotState, Contact
from tests.bot.support import NOW, seed

STAGES = ("idle", "task", "grid", "summary", "fix", "letter_date")


def reference_query() -> Any:
    """The ORM statement ``identify`` used (``BotState`` and ``Auditor`` entities)."""
    user = bindparam("telegram_user_id", type_=BigInteger)
    asked = bindparam("contact_id", type_=Integer)
    target = func.coalesce(
        asked,
        select(BotState.contact_id).where(BotState.telegram_user_id == user).scalar_subquery(),
    )
    history = task_bot.task_history_of(target)
    query = (
        select(BotState, Auditor, *task_bot.task_columns(), *history.c)
        .outerjoin(
            Auditor,
            (Auditor.telegram_user_id == BotState.telegram_user_id) & Auditor.active.is_(True),
        )
        .outerjoin(
            Contact,
            (Contact.id == func.coalesce(asked, BotState.contact_id))
            & (Contact.auditor_id == Auditor.id),
        )
    )
    return (
        task_bot.task_joins(query, outer=True)
        .outerjoin(history, Contact.id.is_not(None))
        .where(BotState.telegram_user_id == user)
        .order_by(history.c.src, history.c.at, history.c.event_id)
    )


async def reference_identify(
    session: AsyncSession, telegram_user_id: int, now: datetime, *, task: int | None = None
) -> tuple[Auditor | None, BotState | None]:
    """``identify`` as it was, through the ORM (the reference)."""
    rows = (
        await session.execute(
            reference_query(), {"telegram_user_id": telegram_user_id, "contact_id": task}
        )
    ).all()
    if rows:
        state, auditor = rows[0][0], rows[0][1]
        contact_id = task if task is not None else state.contact_id
        if auditor is not None and contact_id is not None:
            session.info[task_bot.READ_AHEAD] = (
                (auditor.id, contact_id),
                task_bot.task_with_history(rows, start=2),
            )
        return auditor, state
    auditor = await auditor_repo.auditor_by_telegram(session, telegram_user_id)
    if auditor is None:
        return None, None
    return auditor, await auditor_repo.load_state(session, telegram_user_id, now)


async def read(
    database: Database, user_id: int, now: datetime, task: int | None, *, reference: bool
) -> tuple[Any, Any, Any]:
    """What one version reads, as plain values; its unit of work is rolled back (a first
    contact creates the state row)."""
    async with database.sessions() as s:
        if reference:
            auditor, state = await reference_identify(s, user_id, now, task=task)
            found: tuple[Any, Any] = (
                None if auditor is None else auditor_repo.auditor_values(auditor),
                None if state is None else auditor_repo.state_values(state),
            )
        else:
            found = await auditor_repo.identify(s, user_id, now, task=task)
        ahead = s.info.get(task_bot.READ_AHEAD)
        await s.rollback()
    return found[0], found[1], ahead


async def test_core_identify_reads_what_the_orm_version_read(database: Database) -> None:
    world = await seed(database)
    keys = ("paul", "lea", "cora")
    users = {key: 7001 + i for i, key in enumerate(keys)}  # cora is sometimes unbound
    stranger = 7999
    tasks = [*world.contacts.values(), 999_999, None]
    async with database.session() as s:
        for key, user_id in users.items():
            await s.execute(
                update(Auditor)
                .where(Auditor.id == world.auditors[key])
                .values(telegram_user_id=user_id)
            )
        for contact_id in world.contacts.values():  # some history to read ahead
            await task_bot.insert_event(s, contact_id, "call.started", NOW, "test", {"n": 1})
            await task_bot.upsert_answer(
                s, contact_id=contact_id, question_id="q1", value={"v": contact_id},
                auditor_id=world.auditors["paul"], at=NOW,
            )  # fmt: skip
    rng = random.Random(17)
    seen = {"auditor": 0, "refused": 0, "ahead": 0, "no_row": 0, "first_contact": 0}
    for step in range(80):
        now = NOW + timedelta(seconds=step)
        user_id = rng.choice([*users.values(), stranger])
        async with database.session() as s:
            await s.execute(
                update(Auditor)
                .where(Auditor.id == world.auditors[rng.choice(keys)])
                .values(active=rng.random() < 0.7)
            )
            await s.execute(delete(BotState).where(BotState.telegram_user_id == user_id))
            if rng.random() < 0.8:
                data = {"k": rng.randint(0, 9), "l": [1, "é"]} if rng.random() < 0.5 else None
                s.add(
                    BotState(
                        telegram_user_id=user_id,
                        auditor_id=rng.choice([None, *world.auditors.values()]),
                        stage=rng.choice(STAGES),
                        contact_id=rng.choice([None, *world.contacts.values()]),
                        question_id=rng.choice([None, "q1", "q2"]),
                        attempt=rng.randint(0, 3),
                        data=data,
                        failed_codes=rng.randint(0, 6),
                        failed_since=rng.choice([None, now - timedelta(minutes=5)]),
                        refused_at=rng.choice([None, now - timedelta(hours=1)]),
                        updated_at=now - timedelta(microseconds=rng.randint(0, 10**6)),
                    )
                )
        task = rng.choice(tasks)
        reference = await read(database, user_id, now, task, reference=True)
        core = await read(database, user_id, now, task, reference=False)
        assert core == reference, f"step {step}"
        auditor, state, ahead = core
        seen["auditor"] += auditor is not None
        seen["refused"] += auditor is None and state is not None
        seen["no_row"] += state is None
        seen["first_contact"] += state is not None and state.updated_at == now
        if ahead is not None and ahead[1] is not None:
            seen["ahead"] += 1
            assert auditor is not None
            assert ahead[1][0].auditor_id == auditor.id  # only ever one's own task
    assert all(seen.values()), seen
