"""Batched ingest stores what one-by-one ingest stores, on SQLite and PostgreSQL, real Dovecot.

One mailbox, two fresh databases seeded alike: the tracker ingests it in batches of 50 into
one and in batches of one message into the other; every stored message row, contact and event
must be equal (tests/ingest_outcomes.py). The mailbox holds what makes a batch's messages
depend on each other: a reply that closes a contact before a guess by sender or domain would
have picked it, our own sent copy whose subject a later message repeats, the same spam-flagged
message twice (the second is a duplicate of the first, even though the first waits in triage).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from channels.imap_watcher import WatchConfig
from runners.tracker import Tracker, TrackingConfig
from scenarios.catalog import load_catalog
from scenarios.clock import FixedClock
from sim.dovecot import DovecotServer
from storage.db import Database, sync_url
from storage.models import Base
from tests import factories
from tests.conftest import POSTGRES_URL, DbTarget
from tests.ingest_outcomes import stored_outcomes
from tests.mailworld import PASSWORD_ENV, reply

SENT = datetime(2026, 3, 2, 9, 14, 0, tzinfo=UTC)  # a Monday
PLAN = (  # contact, service, scenario
    ("acte", "etat-civil@mairie-saint-exemple.example", "email-acte-naissance"),
    ("piscine", "piscine@mairie-saint-exemple.example", "email-piscine-tarifs"),
    ("ccas_a", "ccas@autreville.example", "email-aide-ponctuelle"),
    ("ccas_b", "ccas@autreville.example", "email-aide-ponctuelle"),
)


def _mid(user: str, name: str) -> str:
    return f"<{user}.{name}@persona.example>"


async def _seed(database: Database, server: DovecotServer, user: str) -> None:
    async with database.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    now = SENT - timedelta(days=3)
    async with database.session() as s:
        persona = await factories.persona(
            s, now, key="claire", email=f"{user}@persona.example", imap_host=server.host,
            imap_port=server.imap_port, imap_security="none", username=user,
            password_ref=f"env:{PASSWORD_ENV}", subaddress_separator="+",
        )  # fmt: skip
        camp = await factories.campaign(s, now, name="barometre")
        saint = await factories.collectivity(s, now, name="Saint-Exemple", insee_code="63001")
        autre = await factories.collectivity(s, now, name="Autreville", insee_code="63002")
        services = {}
        for name, email, _scenario in PLAN:
            if email not in services:
                coll = autre if "autreville" in email else saint
                kind = name.split("_")[0].replace("acte", "etat_civil")
                services[email] = await factories.service(
                    s, now, coll, kind=kind, name=f"Service {kind}", email=email
                )
        for offset, (name, email, scenario) in enumerate(PLAN):
            await factories.contact(
                s, now, camp, services[email], planned_at=SENT, persona_id=persona.id,
                scenario_id=scenario, status="sent", message_id=_mid(user, name),
                reply_token=f"tok{offset}", sent_at=SENT + timedelta(minutes=offset),
            )  # fmt: skip


def _mailbox(user: str) -> list[bytes]:
    persona = f"{user}@persona.example"
    ccas, acte = "ccas@autreville.example", "etat-civil@mairie-saint-exemple.example"
    spam = reply(
        sender=acte, to=persona, in_reply_to="<elsewhere@mairie-saint-exemple.example>",
        subject="[SPAM] Re: votre demande", headers={"X-Spam-Flag": "YES"},
        message_id="<spam.1@mairie-saint-exemple.example>",
    )  # fmt: skip
    return [
        reply(
            sender=ccas,
            to=persona,
            in_reply_to=_mid(user, "ccas_a"),
            subject="Accusé",
            headers={"Auto-Submitted": "auto-replied"},
            body="Nous avons bien reçu votre demande.\n",
        ),
        reply(sender=ccas, to=persona, in_reply_to=_mid(user, "ccas_a"), subject="Re: aide"),
        # No thread: only ccas_b is still open at that address once ccas_a is answered.
        reply(sender=ccas, to=persona, subject="Re: demande d'aide"),
        # Our own copy of the piscine request, under a subject of its own ...
        reply(
            sender=persona,
            to="piscine@mairie-saint-exemple.example",
            subject="Tarifs de la piscine cet été",
            message_id=_mid(user, "piscine"),
        ),
        # ... which a later message repeats, from an address that says nothing.
        reply(sender="quelqu.un@gmail.com", to=persona, subject="RE: Tarifs de la piscine cet été"),
        spam,
        spam,  # the same bytes again: a duplicate of a message waiting in triage
        reply(sender=acte, to=persona, in_reply_to=_mid(user, "acte")),
        # No thread, from the domain: the piscine is the one contact still open there.
        reply(sender="agent@mairie-saint-exemple.example", to=persona),
    ]


@pytest.fixture
async def second_database(db_target: DbTarget, tmp_path: Path) -> AsyncIterator[Database]:
    """Another empty database on the same backend."""
    if db_target.backend == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'second.db'}")
        try:
            yield db
        finally:
            await db.dispose()
        return
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(sync_url(POSTGRES_URL))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    db = Database(POSTGRES_URL, schema=schema)
    try:
        yield db
    finally:
        await db.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


async def _ingest(database: Database, batch: int) -> None:
    config = TrackingConfig(watch=WatchConfig(fetch_batch=batch, timeout=10))
    tracker = Tracker(database, load_catalog(), FixedClock(SENT + timedelta(days=10)), config)
    try:
        assert await tracker.sync_all(census=False) == {}
    finally:
        tracker.close()


async def test_batched_ingest_stores_what_one_by_one_does(
    db_target: DbTarget,
    second_database: Database,
    dovecot_server: DovecotServer,
    mail_user: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, dovecot_server.users[mail_user])
    for n, raw in enumerate(_mailbox(mail_user)):
        dovecot_server.append(mail_user, raw, when=SENT + timedelta(hours=1, minutes=n))
    batched = db_target.database()
    try:
        # Drop the fixture's tables: both databases are created by the same code path.
        async with batched.engine.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all)
        for database in (batched, second_database):
            await _seed(database, dovecot_server, mail_user)
        await _ingest(batched, 50)
        await _ingest(second_database, 1)
        ours, one_by_one = await stored_outcomes(batched), await stored_outcomes(second_database)
    finally:
        await batched.dispose()
    for table in ("messages", "contacts", "events"):
        assert ours[table] == one_by_one[table], table
    # The mailbox did exercise what a batch must carry from one message to the next.
    found = [(row["contact_id"], row["match_method"]) for row in ours["messages"]]
    assert found[2] == (4, "sender_address")  # ccas_a answered just before
    assert found[3] == (2, "own_copy")
    assert found[5:7] == [(None, None), (None, "duplicate")]
    assert found[8] == (2, "sender_domain")  # acte answered just before
