"""``bot.runtime.persist`` (Core statements on the session's connection) writes exactly what
its ORM version wrote (kept here as the reference): the state row, events, event details,
answers, deleted answers and status, for random outcomes applied to two twin auditors, one
through each, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.flow_state import NewAnswer, NewEvent, Outcome, State, StatusChange
from bot.runtime import persist
from storage import auditors as auditor_repo
from storage import bot as repo
from storage.db import Database
from storage.models import Auditor, BotState, Contact, ContactEvent, Observation
from tests.bot.support import NOW, seed

STAGES = ("idle", "task", "grid", "summary", "fix", "letter_date")
QUESTIONS = ("q1", "q2", "q3", "q4", "q5")
STATUSES = ("assigned", "in_progress", "done")


async def reference_persist(
    session: AsyncSession,
    row: BotState,
    outcome: Outcome,
    auditor_id: int,
    contact_id: int | None,
    now: datetime,
) -> None:
    """``persist`` as it was, through the ORM (the reference)."""
    new = outcome.state
    row.stage, row.contact_id, row.question_id = new.stage, new.contact_id, new.question_id
    row.attempt, row.data, row.updated_at = new.attempt, new.data or None, now
    if contact_id is None:
        return
    actor = f"auditor:{auditor_id}"
    for event in outcome.events:
        await repo.add_event(session, contact_id, event.kind, event.at, actor, event.detail)
    for event_id, detail in outcome.event_updates:
        await repo.update_event_detail(session, event_id, detail)
    for answer in outcome.answers:
        values: dict[str, Any] = {
            "contact_id": contact_id,
            "question_id": answer.question_id,
            "value": answer.value,
            "auditor_id": auditor_id,
            "answered_at": now,
            "photo_sha256": answer.photo_sha256,
        }
        if answer.review_state is not None:
            values["review_state"] = answer.review_state
        found = await session.scalar(
            select(Observation).where(
                Observation.contact_id == contact_id,
                Observation.question_id == answer.question_id,
            )
        )
        if found is None:
            session.add(Observation(**values))
        else:
            for name, value in values.items():
                setattr(found, name, value)
        await session.flush()
    await repo.delete_answers(session, contact_id, outcome.deleted)
    if outcome.status is not None:
        contact = await session.get(Contact, contact_id)
        assert contact is not None
        if contact.status != outcome.status.status:
            contact.status, contact.status_at = outcome.status.status, now
        if outcome.status.closed:
            contact.closed_at = now
        if outcome.status.first_answer_at is not None and contact.first_answer_at is None:
            contact.first_answer_at = outcome.status.first_answer_at
    await session.flush()


def random_value(rng: random.Random) -> Any:
    return rng.choice(
        [
            rng.randint(-5, 500),
            f"réponse « {rng.randint(0, 99)} »",
            [rng.randint(0, 9) for _ in range(rng.randint(0, 3))],
            {"min": rng.randint(0, 9), "note": "ok"},
            2.5,
            True,
        ]
    )


def random_outcome(
    rng: random.Random, contact_id: int, events: int, now: datetime, blob: str
) -> tuple[Outcome, list[tuple[int, dict[str, Any]]]]:
    """An outcome for ``contact_id`` and its event updates as (index among the contact's
    events, detail): each twin maps the index to its own event ids."""
    data = {"k": rng.randint(0, 9), "list": [1, "é"]} if rng.random() < 0.5 else {}
    state = State(
        rng.choice(STAGES),
        rng.choice([contact_id, None]),
        rng.choice([*QUESTIONS, None]),
        rng.randint(0, 3),
        data,
    )
    outcome = Outcome(state)
    for _ in range(rng.randint(0, 2)):
        detail = {"n": rng.randint(0, 9)} if rng.random() < 0.5 else None
        at = now - timedelta(microseconds=rng.randint(0, 10**7))
        outcome.events.append(NewEvent(rng.choice(["call.started", "call.up"]), at, detail))
    for _ in range(rng.randint(0, 3)):
        outcome.answers.append(
            NewAnswer(
                rng.choice(QUESTIONS),
                random_value(rng),
                photo_sha256=blob if rng.random() < 0.2 else None,
                review_state=rng.choice([None, None, "accepted"]),
            )
        )
    if rng.random() < 0.3:
        outcome.deleted = rng.sample(QUESTIONS, rng.randint(1, 2))
    if rng.random() < 0.4:
        outcome.status = StatusChange(
            rng.choice(STATUSES),
            first_answer_at=now if rng.random() < 0.5 else None,
            closed=rng.random() < 0.3,
        )
    updates = []
    if events and rng.random() < 0.3:
        updates.append((rng.randrange(events), {"fixed": rng.randint(0, 9)}))
    return outcome, updates


async def stored(database: Database, user_id: int, contact_id: int) -> dict[str, Any]:
    """Everything ``persist`` writes for this user and task, ids and owners left out."""
    async with database.session() as s:
        state = await s.get(BotState, user_id)
        assert state is not None
        contact = await s.get(Contact, contact_id)
        assert contact is not None
        events = await s.execute(
            select(ContactEvent.kind, ContactEvent.at, ContactEvent.detail)
            .where(ContactEvent.contact_id == contact_id)
            .order_by(ContactEvent.id)
        )
        answers = await s.execute(
            select(
                Observation.question_id,
                Observation.value,
                Observation.answered_at,
                Observation.photo_sha256,
                Observation.review_state,
                Observation.review_note,
            )
            .where(Observation.contact_id == contact_id)
            .order_by(Observation.question_id)
        )
        twin = state.contact_id is not None and state.contact_id != contact_id
        kept = (state.stage, twin, state.question_id, state.attempt, state.data,
                state.updated_at, state.refused_at, state.failed_codes)  # fmt: skip
        status = (contact.status, contact.status_at, contact.first_answer_at,
                  contact.closed_at)  # fmt: skip
        return {
            "state": kept,
            "contact": status,
            "events": [tuple(e) for e in events],
            "answers": [tuple(a) for a in answers],
        }


async def event_ids(session: AsyncSession, contact_id: int) -> list[int]:
    found = await session.scalars(
        select(ContactEvent.id)
        .where(ContactEvent.contact_id == contact_id)
        .order_by(ContactEvent.id)
    )
    return list(found)


async def test_core_persist_writes_what_the_orm_version_wrote(database: Database) -> None:
    world = await seed(database)
    twins = {  # Telegram user -> (auditor, task): one through persist, one through the reference
        501: (world.auditors["paul"], world.contacts["phone"]),
        502: (world.auditors["lea"], world.contacts["lea_phone"]),
    }
    async with database.session() as s:
        for user_id, (auditor_id, _) in twins.items():
            auditor = await s.get(Auditor, auditor_id)
            assert auditor is not None
            auditor.telegram_user_id = user_id
        blob = await repo.store_blob(s, b"photo", NOW)
    rng = random.Random(17)
    for step in range(60):
        now = NOW + timedelta(seconds=step, microseconds=rng.randint(0, 999_999))
        contact_new, contact_ref = twins[501][1], twins[502][1]
        async with database.session() as s:
            events = len(await event_ids(s, contact_new))
        outcome, updates = random_outcome(rng, contact_new, events, now, blob)
        touches_task = rng.random() < 0.9  # else persist is told of no task (``/annuler``)
        twin_state = State(**{**outcome.state.__dict__})
        if twin_state.contact_id is not None:
            twin_state.contact_id = contact_ref
        for user_id, writer in ((501, persist), (502, reference_persist)):
            auditor_id, contact_id = twins[user_id]
            async with database.session() as s:
                ids = await event_ids(s, contact_id)
                mine = Outcome(
                    outcome.state if user_id == 501 else twin_state,
                    events=outcome.events,
                    answers=outcome.answers,
                    deleted=outcome.deleted,
                    status=outcome.status,
                    event_updates=[(ids[i], detail) for i, detail in updates],
                )
                auditor, row = await auditor_repo.identify(s, user_id, now, task=contact_id)
                assert auditor is not None and row is not None
                task = contact_id if touches_task else None
                if writer is reference_persist:  # the ORM's own state row
                    orm_row = await s.get(BotState, user_id)
                    assert orm_row is not None
                    await reference_persist(s, orm_row, mine, auditor_id, task, now)
                    continue
                await persist(s, row, mine, auditor_id, task, now)
                assert (row.stage, row.attempt) == (mine.state.stage, mine.state.attempt)
                # The task read afterwards in the same unit of work is what was written:
                # what ``identify`` read ahead is not served stale. (The ORM version would
                # have served it: its final flush left the session clean. The bot never
                # reads after writing; this keeps it safe if it ever does.)
                found = await repo.owned_task_with_history(s, auditor_id, contact_id)
                assert found is not None
                written = {qid: a.value for qid, a in found[1].items()}
                direct = await repo.answers_of(s, contact_id)
                assert written == {qid: a.value for qid, a in direct.items()}
        assert await stored(database, 501, contact_new) == await stored(
            database, 502, contact_ref
        ), f"step {step}"
    # The random outcomes did reach every kind of write.
    final = await stored(database, 501, twins[501][1])
    assert final["events"] and final["answers"]
    assert any(detail and "fixed" in detail for _, _, detail in final["events"])
