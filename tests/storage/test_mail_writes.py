"""The tracker's writes (storage/mail.py ``save_results``, ``save_contacts``, ``add_events``)
as Core executemany statements store exactly what the ORM bulk statements they replaced
stored (the reference here), column by column read back as text, SQL NULL told apart from
JSON null: random results and contact changes, with NULs, lone surrogates, long strings."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, insert, select, text, update

from storage import mail
from storage.db import Database
from storage.mail import ContactView, EventRow, MessageResult
from storage.models import Blob, Contact, ContactEvent, Message
from tests import factories

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
N = 40


def _text(rng: random.Random) -> str | None:
    return rng.choice(
        [None, "", "plain", "nul\x00inside", "lone \ud800 surrogate", "é" * 300, "x" * 260,
         "<id@example>", "«  guillemets »"]
    )  # fmt: skip


def _json(rng: random.Random) -> dict[str, Any] | None:
    return rng.choice(
        [None, {}, {"match": {"method": "thread", "confidence": 1.0, "suggestions": []}},
         {"k\x00": ["v\x00", 1, None]}, {"s": "\ud800", "n": 2.5}, {"1": ("t", True)}]
    )  # fmt: skip


def _result(rng: random.Random, id_: int, contact_ids: list[int]) -> MessageResult:
    return MessageResult(
        id=id_, classification=rng.choice(["answer", "bounce", "other", "x" * 30]),
        direction=rng.choice(["in", "out"]), message_id=_text(rng), in_reply_to=_text(rng),
        references=_text(rng), subject=_text(rng), from_address=_text(rng),
        to_addresses=_text(rng), date_header=rng.choice([None, NOW - timedelta(hours=3)]),
        text=_text(rng), new_text=_text(rng), html_sanitised=_text(rng),
        attachments=_json(rng), evidence=_json(rng),
        contact_id=rng.choice([None, *contact_ids]), match_method=_text(rng),
        match_confidence=rng.choice([None, 0.0, 0.7123456789, 1.0]),
        triage_state=rng.choice([None, "pending", "y" * 25]), quarantine_reason=_text(rng),
    )  # fmt: skip


def _changed(rng: random.Random, view: ContactView) -> ContactView:
    changes: dict[str, Any] = {}
    if rng.random() < 0.5:
        changes["status"] = rng.choice(["answered", "acknowledged", "bounced"])
        changes["status_at"] = NOW + timedelta(seconds=rng.randrange(10_000))
    if rng.random() < 0.4:
        changes["first_answer_at"] = rng.choice([None, NOW + timedelta(minutes=5)])
    if rng.random() < 0.3:
        changes["outcome_reason"] = rng.choice([None, "", "no answer", "é" * 40])
    if rng.random() < 0.5:
        changes["checks"] = _json(rng)
    return mail.with_changes(view, **changes)


async def _as_text(
    database: Database, table: Table, ids: list[int], columns: tuple[str, ...] = ()
) -> list[tuple[Any, ...]]:
    """The columns (all but the key by default) as the database holds them: NULL or text."""
    cast = "CAST({0} AS TEXT)" if database.engine.dialect.name == "postgresql" else "{0}"
    names = columns or tuple(c.name for c in table.columns if c.name != "id")
    shown = ", ".join(f'"{c}" IS NULL, {cast.format(chr(34) + c + chr(34))}' for c in names)
    async with database.session() as s:
        listed = ",".join(map(str, ids))
        rows = await s.execute(
            text(f"SELECT {shown} FROM {table.name} WHERE id IN ({listed}) ORDER BY id")
        )
        return [tuple(row) for row in rows.all()]


async def _contacts(database: Database, count: int) -> list[int]:
    async with database.session() as s:
        persona = await factories.persona(s, NOW, email="writes@persona.example")
        camp = await factories.campaign(s, NOW, name="writes")
        coll = await factories.collectivity(s, NOW, departement="63", name="Saint-Exemple")
        service = await factories.service(s, NOW, coll, kind="etat_civil", email="ec@m.example")
        ids = []
        for n in range(count):
            contact = await factories.contact(
                s, NOW, camp, service, planned_at=NOW, persona_id=persona.id, status="sent",
                scenario_id="email-acte-naissance", message_id=f"<c{n}@persona.example>",
                sent_at=NOW,
            )  # fmt: skip
            ids.append(contact.id)
        return ids


async def test_results_stored_as_by_the_orm_bulk_update(database: Database) -> None:
    rng = random.Random(17)
    contact_ids = await _contacts(database, 3)
    async with database.session() as s:
        s.add(Blob(sha256="0" * 64, size=1, data=b"x", created_at=NOW))
        await s.flush()
        rows = [{"direction": "in", "raw_sha256": "0" * 64, "created_at": NOW}] * (2 * N)
        await s.execute(insert(Message), rows)
        ids = list(await s.scalars(select(Message.id).order_by(Message.id)))
    ours, theirs = ids[:N], ids[N:]
    results = [_result(rng, id_, contact_ids) for id_ in ours]
    async with database.session() as s:
        await mail.save_results(s, results)
    async with database.session() as s:  # the reference: ORM bulk UPDATE by primary key
        reference = []
        for id_, result in zip(theirs, results, strict=True):
            values = mail._row_values(result)
            del values["_id"]
            reference.append({"id": id_, **values})
        await s.execute(update(Message), reference)
    table = Message.__table__
    assert isinstance(table, Table)
    assert await _as_text(database, table, ours) == await _as_text(database, table, theirs)


async def test_contacts_and_events_stored_as_by_the_orm(database: Database) -> None:
    rng = random.Random(3)
    ids = await _contacts(database, 2 * N)
    ours, theirs = ids[:N], ids[N:]
    async with database.session() as s:
        views = await mail.lock_contacts(s, ids)
    changed = {n: _changed(rng, views[ours[n]]) for n in range(N)}
    async with database.session() as s:
        await mail.save_contacts(
            s, {ours[n]: views[ours[n]] for n in range(N)}, {ours[n]: changed[n] for n in range(N)}
        )
        await mail.add_events(
            s, [EventRow(ours[n], "reply", NOW, _json(random.Random(n)) or {}) for n in range(N)]
        )
    async with database.session() as s:  # the reference: ORM bulk UPDATE and INSERT
        for n in range(N):
            old, new = views[theirs[n]], changed[n]
            values = {
                name: getattr(new, name)
                for name in mail._WRITABLE
                if getattr(new, name) != getattr(old, name)
            }
            if values:
                if values.get("checks") is not None:
                    values["checks"] = mail.clean_json(values["checks"])
                await s.execute(update(Contact), [{"id": theirs[n], **values}])
        await s.execute(
            insert(ContactEvent),
            [{"contact_id": theirs[n], "kind": "reply", "at": NOW, "actor": "tracker",
              "detail": mail.clean_json(_json(random.Random(n)) or {})} for n in range(N)],
        )  # fmt: skip
    contacts = Contact.__table__
    assert isinstance(contacts, Table)
    mine = await _as_text(database, contacts, ours, mail._WRITABLE)
    assert mine == await _as_text(database, contacts, theirs, mail._WRITABLE)
    async with database.session() as s:
        columns = (ContactEvent.contact_id, ContactEvent.kind, ContactEvent.at,
                   ContactEvent.actor, ContactEvent.detail)  # fmt: skip
        events = (await s.execute(select(*columns).order_by(ContactEvent.id))).all()
    written = [tuple(e[1:]) for e in events if e[0] in ours]
    reference = [tuple(e[1:]) for e in events if e[0] in theirs]
    assert written == reference and len(written) == N


async def test_among_selects_what_in_selects(database: Database) -> None:
    """``among``/``not_among`` (one array parameter on PostgreSQL) against IN / NOT IN."""
    rng = random.Random(5)
    async with database.session() as s:
        s.add(Blob(sha256="1" * 64, size=1, data=b"y", created_at=NOW))
        await s.flush()
        rows = [{"direction": "in", "raw_sha256": "1" * 64, "created_at": NOW, "uid": n,
                 "message_id": f"<m{n % 7}@x>"} for n in range(60)]  # fmt: skip
        await s.execute(insert(Message), rows)
        ids = list(await s.scalars(select(Message.id)))
        pools: list[tuple[Any, list[Any]]] = [
            (Message.id, ids),
            (Message.uid, list(range(90))),
            (Message.message_id, [f"<m{n}@x>" for n in range(9)]),
        ]
        for _ in range(20):
            for column, pool in pools:
                values = rng.sample(pool, rng.randrange(1, len(pool)))
                pairs = (
                    (mail.among(s, column, values), column.in_(values)),
                    (mail.not_among(s, column, values), column.not_in(values)),
                )
                for ours, theirs in pairs:
                    query = select(Message.id).order_by(Message.id)
                    found = list(await s.scalars(query.where(ours)))
                    assert found == list(await s.scalars(query.where(theirs)))
