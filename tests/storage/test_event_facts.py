"""The contact columns kept from the timeline (``storage.event_facts``) by the triggers.

Oracle: ``event_facts_select``, the same rules computed afresh from the events and grid
answers. After a random campaign (letters, visits, calls with several attempts and holds,
grid answers), and after every other kind of write a timeline gets (events deleted,
changed, moved to another contact; grid answers removed and added), no contact's stored
columns differ from it, and the statistics still equal the Python rules. The backfill of
migration 0006 gives the same columns from scratch.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, text, update

from reports.campaign_stats import compute_stats_reference, shipped_catalog
from reports.db_stats import compute_stats_db
from scenarios import events as ev
from storage.db import Database
from storage.event_facts import EVENT_COLUMNS, backfill_sql, stale_contacts
from storage.models import Contact, ContactEvent, Observation
from storage.stats import campaign_info
from tests.reports.random_campaigns import random_campaign

AS_OF = datetime(2026, 4, 14, 12, 0, tzinfo=UTC)


async def _snapshot(database: Database) -> dict[int, tuple[Any, ...]]:
    async with database.session() as s:
        columns = [getattr(Contact, c) for c in EVENT_COLUMNS]
        rows = (await s.execute(select(Contact.id, *columns))).all()
    return {row[0]: tuple(row[1:]) for row in rows}


async def _stale(database: Database) -> list[tuple[Any, ...]]:
    async with database.session() as s:
        return await stale_contacts(s)


async def _stats_equal_reference(database: Database, name: str) -> None:
    catalog = shipped_catalog()
    groupings = ((), ("channel",), ("collectivity",))
    async with database.session() as s:
        info = await campaign_info(s, name)
        assert info is not None
        fast = await compute_stats_db(s, info, groupings, as_of=AS_OF, catalog=catalog)
        slow = await compute_stats_reference(s, info, groupings, as_of=AS_OF, catalog=catalog)
    assert fast is not None and fast == slow


async def test_the_columns_follow_every_kind_of_write(database: Database) -> None:
    async with database.session() as s:
        await random_campaign(s, shipped_catalog(), 3, contacts=120)
    assert await _stale(database) == []
    first = await _snapshot(database)
    # not vacuous: every column holds values, both call outcomes and some detailed contacts
    for i, name in enumerate(EVENT_COLUMNS):
        assert any(v[i] is not None for v in first.values()), name
    assert {v[EVENT_COLUMNS.index("ev_picked")] for v in first.values()} >= {0, 1}
    assert any(v[EVENT_COLUMNS.index("ev_detailed")] for v in first.values())
    await _stats_equal_reference(database, "random-3")

    rnd = random.Random(5)
    async with database.session() as s:
        ids = list((await s.scalars(select(ContactEvent.id).order_by(ContactEvent.id))).all())
        contact_ids = list((await s.scalars(select(Contact.id).order_by(Contact.id))).all())
        gone = rnd.sample(ids, len(ids) // 4)
        await s.execute(delete(ContactEvent).where(ContactEvent.id.in_(gone)))
        left = [i for i in ids if i not in set(gone)]
        for event_id in rnd.sample(left, 15):
            at = await s.scalar(select(ContactEvent.at).where(ContactEvent.id == event_id))
            assert at is not None
            await s.execute(
                update(ContactEvent)
                .where(ContactEvent.id == event_id)
                .values(at=at - timedelta(hours=rnd.randrange(1, 300)))
            )
        await s.execute(
            update(ContactEvent)
            .where(ContactEvent.kind == ev.CALL_PICKED_UP, ContactEvent.id.in_(left[::3]))
            .values(kind=ev.CALL_NO_ANSWER)
        )
        for event_id in rnd.sample(left, 10):  # an event moved to another contact
            await s.execute(
                update(ContactEvent)
                .where(ContactEvent.id == event_id)
                .values(contact_id=rnd.choice(contact_ids))
            )
    assert await _stale(database) == []
    second = await _snapshot(database)
    assert second != first

    async with database.session() as s:
        answered = list((await s.scalars(select(Observation.contact_id).distinct())).all())
        await s.execute(delete(Observation).where(Observation.contact_id.in_(answered[::2])))
        bare = [c for c in contact_ids if c not in set(answered)][:5]
        s.add_all(
            Observation(contact_id=c, question_id="q", value=True, answered_at=AS_OF) for c in bare
        )
        # events written in bulk, as a batch insert, on contacts of every channel
        await s.execute(
            ContactEvent.__table__.insert(),
            [
                {
                    "contact_id": c,
                    "kind": rnd.choice((ev.LETTER_POSTED, ev.CALL_STARTED, ev.VISIT_SERVED)),
                    "at": AS_OF - timedelta(days=rnd.randrange(1, 30)),
                    "detail": {"attempt": rnd.randrange(1, 3)},
                }
                for c in rnd.sample(contact_ids, 20)
            ],
        )
    assert await _stale(database) == []
    assert await _snapshot(database) != second
    await _stats_equal_reference(database, "random-3")


async def test_the_backfill_gives_what_the_triggers_kept(database: Database) -> None:
    async with database.session() as s:
        await random_campaign(s, shipped_catalog(), 7, contacts=80)
        await random_campaign(s, shipped_catalog(), 8, contacts=40)
    kept = await _snapshot(database)
    async with database.session() as s:
        wipe = {c: None for c in EVENT_COLUMNS if c != "ev_detailed"}
        await s.execute(update(Contact).values(ev_detailed=False, **wipe))
    assert len(await _stale(database)) > 10
    async with database.session() as s:
        dialect = s.get_bind().dialect.name
        campaign = await s.scalar(select(func.min(Contact.campaign_id)))
        await s.execute(text(backfill_sql(dialect, campaign=True)), {"campaign": campaign})
        stale = await stale_contacts(s)
        others = set(
            (await s.scalars(select(Contact.id).where(Contact.campaign_id != campaign))).all()
        )
        assert stale and {row[0] for row in stale} <= others
        await s.execute(text(backfill_sql(dialect)))
    assert await _stale(database) == []
    assert await _snapshot(database) == kept
