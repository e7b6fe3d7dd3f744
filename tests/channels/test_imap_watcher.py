"""The watcher against the suite's real Dovecot: never missed, never counted twice.

Crashes are real: a watcher task cancelled in the middle of a fetch, Dovecot stopped and
started while a watcher is in IDLE, folders renumbered (new UIDVALIDITY) under our feet.
"""

from __future__ import annotations

import asyncio
import glob
import os
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, delete, func, select

from channels.imap_watcher import MailboxWatcher, WatchConfig
from runners.tracker import Tracker
from sim.dovecot import DovecotServer
from storage.db import Database, sync_url
from storage.models import Base, ContactEvent, MailboxCheckpoint, Message
from tests.conftest import DbTarget
from tests.mailworld import (
    PASSWORD_ENV,
    SENT,
    World,
    contact,
    count_messages,
    events,
    make_world,
    messages,
    reply,
    tracker,
)


@pytest.fixture(autouse=True)
def _imap_password(monkeypatch: pytest.MonkeyPatch, dovecot_server: DovecotServer) -> None:
    monkeypatch.setenv(PASSWORD_ENV, dovecot_server.password)


async def _watcher(t: Tracker) -> MailboxWatcher:
    [persona] = await t.personas()
    account = t.account(persona)
    assert account is not None
    return t.watcher(persona, account)


async def _until(check: Callable[[], Awaitable[bool]], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


def _answers(world: World, count: int) -> list[bytes]:
    """``count`` threaded answers and acknowledgements, spread over the four contacts."""
    names = sorted(world.message_ids)
    raws = []
    for n in range(count):
        name = names[n % len(names)]
        headers = {"Auto-Submitted": "auto-replied"} if n % 3 == 0 else None
        raws.append(
            reply(
                sender=world.services[name],
                to=world.persona_email,
                in_reply_to=world.message_ids[name],
                subject=f"Re: demande {n}",
                headers=headers,
                body=f"Bonjour,\nRéponse numéro {n}.\nCordialement\n",
            )
        )
    return raws


async def _assert_each_once(database: Database, world: World, expected: int) -> None:
    rows = await messages(database, world.persona_id)
    assert len(rows) == expected
    assert all(m.classification not in (None, "processing") for m in rows)
    keys = Counter((m.mailbox, m.uidvalidity, m.uid) for m in rows)
    assert max(keys.values()) == 1
    async with database.session() as s:
        per_message = Counter(
            e.detail["message"]
            for e in await s.scalars(select(ContactEvent).where(ContactEvent.kind.like("mail_%")))
            if e.detail
        )
    assert per_message and max(per_message.values()) == 1, "a message had effects twice"
    matched = [m for m in rows if m.contact_id is not None and m.match_method != "duplicate"]
    assert sum(per_message.values()) == len(matched)


# A watcher in a process of its own, killed (SIGKILL) in the middle of its work: a real crash.
CRASHING_WATCHER = """
import asyncio, sys
from storage.db import Database
from tests.mailworld import tracker

async def main():
    t = tracker(Database(sys.argv[1], schema=sys.argv[2] or None), fetch_batch=1)
    [persona] = await t.personas()
    await t.watcher(persona, t.account(persona)).run(asyncio.Event())

asyncio.run(main())
"""
ROOT = Path(__file__).resolve().parents[2]


async def test_killed_mid_fetch_then_run_twice(
    database: Database, db_target: DbTarget, dovecot_server: DovecotServer, mail_user: str
) -> None:
    world = await make_world(database, dovecot_server, mail_user)
    total = 40
    for n, raw in enumerate(_answers(world, total)):
        dovecot_server.append(mail_user, raw, when=SENT + timedelta(hours=1, minutes=n))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CRASHING_WATCHER, db_target.url, db_target.schema or "",
        cwd=ROOT, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip

    async def some_stored() -> bool:
        async with database.session() as s:
            last = await s.scalar(select(func.max(MailboxCheckpoint.last_uid)))
        return 0 < int(last or 0) < total

    try:
        await _until(some_stored, within=30)
    finally:
        process.kill()
        await process.wait()
    assert 0 < await count_messages(database, world.persona_id) < total

    for _ in range(2):  # restarted, then run again
        assert await tracker(database, fetch_batch=7).sync_all() == {}
    await _assert_each_once(database, world, total)
    acte = await contact(database, world.contacts["acte"])
    assert acte.status == "answered"
    assert acte.first_ack_at == SENT + timedelta(hours=1)  # answer 0 was an acknowledgement


async def test_new_uidvalidity_reconciled_without_duplicates(
    database: Database, dovecot_server: DovecotServer, mail_user: str
) -> None:
    world = await make_world(database, dovecot_server, mail_user)
    raws = _answers(world, 6)
    for n, raw in enumerate(raws):
        folder = "Junk" if n % 2 else "INBOX"
        dovecot_server.append(mail_user, raw, mailbox=folder, when=SENT + timedelta(hours=n))
    t = tracker(database)
    assert await t.sync_all() == {}
    before = {m.id: (m.mailbox, m.uidvalidity) for m in await messages(database, world.persona_id)}
    acte_before = await contact(database, world.contacts["acte"])

    # Junk deleted and recreated with the same messages; INBOX renumbered by losing its
    # uidlist (what a server migration or a repaired index does).
    conn = dovecot_server.imap(mail_user)
    try:
        assert conn.delete("Junk")[0] == "OK" and conn.create("Junk")[0] == "OK"
    finally:
        conn.logout()
    for n, raw in enumerate(raws):
        if n % 2:
            dovecot_server.append(mail_user, raw, mailbox="Junk", when=SENT + timedelta(hours=n))
    maildir = dovecot_server.root / "mail" / mail_user / "Maildir"
    for path in [
        maildir / "dovecot-uidlist",
        *map(str, glob.glob(str(maildir / "dovecot.index*"))),
    ]:
        os.remove(path)

    assert await t.sync_all() == {}
    rows = await messages(database, world.persona_id)
    assert sorted(m.id for m in rows) == sorted(before)  # nothing stored again
    for m in rows:
        assert m.uidvalidity != before[m.id][1], "every row moved to the new UIDVALIDITY"
        assert m.evidence is not None and m.evidence["relinked"]
    await _assert_each_once(database, world, 6)
    acte_after = await contact(database, world.contacts["acte"])
    assert (acte_after.first_ack_at, acte_after.first_answer_at) == (
        acte_before.first_ack_at,
        acte_before.first_answer_at,
    )
    assert len(await events(database, world.contacts["acte"])) == len(
        await events(database, acte_before.id)
    )


async def test_never_missed_while_down_in_junk_and_already_seen(
    database: Database, dovecot_server: DovecotServer, mail_user: str
) -> None:
    world = await make_world(database, dovecot_server, mail_user)
    raws = _answers(world, 4)
    # Long poll and IDLE intervals: only IDLE's push can make the first delivery quick.
    t = tracker(database, poll_interval=30, idle_timeout=30)
    stop = asyncio.Event()
    watcher = await _watcher(t)
    task = asyncio.create_task(watcher.run(stop))
    try:
        await _until(lambda: _passes(watcher, 1))
        started = time.monotonic()
        dovecot_server.deliver(mail_user, raws[0])  # LMTP, as a mail server would
        await _until(_stored(database, world, 1), within=10)
        assert time.monotonic() - started < 5, "IDLE should wake the watcher"
        stop.set()
        await asyncio.wait_for(task, 10)
        # While nobody watches: one in INBOX, one in Junk, one already read by another client.
        dovecot_server.deliver(mail_user, raws[1])
        dovecot_server.append(mail_user, raws[2], mailbox="Junk")
        dovecot_server.append(mail_user, raws[3], flags=r"(\Seen)")
        stop = asyncio.Event()
        task = asyncio.create_task((await _watcher(t)).run(stop))
        await _until(_stored(database, world, 4))
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 10)
    await _assert_each_once(database, world, 4)
    conn = dovecot_server.imap(mail_user)
    try:  # the watcher marked nothing: the unread ones are still unread
        conn.select("INBOX", readonly=True)
        unseen = conn.uid("SEARCH", "UNSEEN")[1][0].split()
        assert len(unseen) == 2
    finally:
        conn.logout()


async def test_dovecot_restarted_while_watching(
    tmp_path: Path, dovecot_server: DovecotServer, mail_user: str
) -> None:
    """On SQLite only: what is tested is the IMAP side, and it is slow (Dovecot keeps the old
    session for ~10 s after a restart before dropping it)."""
    target = DbTarget("sqlite", f"sqlite:///{tmp_path / 'restart.db'}", None)
    engine = create_engine(sync_url(target.url))
    Base.metadata.create_all(engine)
    engine.dispose()
    database = target.database()
    try:
        world = await make_world(database, dovecot_server, mail_user)
        raws = _answers(world, 3)
        t = tracker(database, poll_interval=30, idle_timeout=30)
        stop = asyncio.Event()
        watcher = await _watcher(t)
        task = asyncio.create_task(watcher.run(stop))
        try:
            await _until(lambda: _passes(watcher, 1))
            await asyncio.to_thread(dovecot_server.restart)  # the watcher is in IDLE
            dovecot_server.deliver(mail_user, raws[0])
            dovecot_server.append(mail_user, raws[1], mailbox="Junk")
            await _until(_stored(database, world, 2), within=30)
            await _until(lambda: _reconnected(watcher), within=30)
            dovecot_server.deliver(mail_user, raws[2])
            await _until(_stored(database, world, 3), within=30)
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 10)
        await _assert_each_once(database, world, 3)
    finally:
        await database.dispose()


def _stored(database: Database, world: World, n: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await count_messages(database, world.persona_id) >= n

    return check


async def _passes(watcher: MailboxWatcher, n: int) -> bool:
    return watcher.stats.passes >= n


async def _reconnected(watcher: MailboxWatcher) -> bool:
    return watcher.stats.reconnects >= 1 and watcher.stats.passes >= 1


async def test_census_finds_and_fetches_what_is_missing(
    database: Database, dovecot_server: DovecotServer, mail_user: str
) -> None:
    world = await make_world(database, dovecot_server, mail_user)
    for raw in _answers(world, 3):
        dovecot_server.append(mail_user, raw, when=SENT + timedelta(hours=2))
    t = tracker(database)
    assert await t.sync_all() == {}
    async with database.session() as s:  # a row lost behind the checkpoint
        lost = await s.scalar(select(func.min(Message.id)).where(Message.mailbox == "INBOX"))
        await s.execute(delete(Message).where(Message.id == lost))
    watcher = await _watcher(t)
    await watcher.sync_once(census=True)
    assert watcher.stats.census_gaps == 1
    assert await count_messages(database, world.persona_id) == 3
    async with database.session() as s:
        checkpoint = await s.scalar(
            select(MailboxCheckpoint).where(MailboxCheckpoint.mailbox == "INBOX")
        )
        assert checkpoint is not None and checkpoint.server_count == 3


def test_backoff_is_capped_with_jitter() -> None:
    from channels.imap_session import ImapAccount

    watcher = MailboxWatcher(
        "x",
        ImapAccount("127.0.0.1", 1, "none", "u", "p"),
        sink=None,  # type: ignore[arg-type]
        config=WatchConfig(backoff_base=2, backoff_cap=60),
    )
    delays = [watcher.backoff(n) for n in range(1, 12)]
    assert 1 <= delays[0] <= 2 and all(d <= 60 for d in delays)
    assert max(delays) > 30 and watcher.backoff(200) <= 60
    assert 48 <= watcher.backoff(1, auth=True) <= 60


_header = st.sampled_from(
    [
        b"From: ",
        b"To: ",
        b"Subject: ",
        b"Message-ID: ",
        b"In-Reply-To: ",
        b"Date: ",
        b"Content-Type: ",
        b"Content-Transfer-Encoding: ",
        b"MIME-Version: ",
        b"X-Spam-Flag: ",
    ]
)
_value = st.one_of(
    st.binary(max_size=60).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
    st.sampled_from(
        [
            b"multipart/mixed; boundary=x",
            b"base64",
            b"quoted-printable",
            b"=?utf-8?B?w6k=?=",
            b"=?bogus?Q?=ZZ?=",
            b"<a@b>",
            b"Mon, 99 Foo 2026",
            b"text/html; charset=nope",
            b"message/rfc822",
            b"YES",
        ]
    ),
)
_message = st.one_of(
    st.binary(min_size=1, max_size=300),
    st.builds(
        lambda headers, body: b"".join(h + v + b"\r\n" for h, v in headers) + b"\r\n" + body,
        st.lists(st.tuples(_header, _value), max_size=8),
        st.binary(max_size=400),
    ),
)


_fuzz_worlds: dict[str, World] = {}


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raws=st.lists(_message, min_size=1, max_size=5))
async def test_fuzzed_mime_never_crashes_and_nothing_is_lost(
    database: Database, dovecot_server: DovecotServer, mail_user: str, raws: list[bytes]
) -> None:
    if mail_user not in _fuzz_worlds:  # examples share the test's database and mailbox
        _fuzz_worlds[mail_user] = await make_world(database, dovecot_server, mail_user)
    world = _fuzz_worlds[mail_user]
    before = await count_messages(database, world.persona_id)
    appended = 0
    for raw in raws:
        try:
            dovecot_server.append(mail_user, raw, when=SENT + timedelta(days=1))
            appended += 1
        except Exception:  # refused by the server (empty, bare CR…): not in the mailbox
            continue
    assert await tracker(database).sync_all() == {}
    rows = await messages(database, world.persona_id)
    assert len(rows) == before + appended
    for m in rows:
        assert m.classification not in (None, "processing")
        if m.classification == "quarantined":
            assert m.quarantine_reason
