"""The IMAP seam against the suite's real Dovecot."""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime

import aioimaplib
import pytest

from channels.imap_session import (
    LIBRARY_WAIT_DATA,
    ImapAccount,
    ImapAuthError,
    ImapSession,
    ImapTemporaryError,
    parse_internaldate,
)
from sim.dovecot import DovecotServer, free_port


def _raw(n: int) -> bytes:
    return (
        f"From: accueil@mairie.example\r\nTo: p@persona.example\r\nSubject: R\u00e9ponse {n}\r\n"
        f"Message-ID: <{n}.reply@mairie.example>\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"\r\nBonjour, voici la r\u00e9ponse {n}.\r\n"
    ).encode()


def _account(server: DovecotServer, user: str, password: str | None = None) -> ImapAccount:
    return ImapAccount("127.0.0.1", server.imap_port, "none", user, password or server.users[user])


def test_parse_internaldate() -> None:
    assert parse_internaldate("02-Mar-2026 10:15:07 +0100") == datetime(
        2026, 3, 2, 9, 15, 7, tzinfo=UTC
    )
    assert parse_internaldate(" 2-Nov-2026 00:00:01 -0400") == datetime(
        2026, 11, 2, 4, 0, 1, tzinfo=UTC
    )


async def test_incremental_fetch_wait_data_answers_as_aioimaplib_does() -> None:
    # Our running count replaces aioimaplib's rescan of the whole response after every line;
    # random FETCH responses (literals, nested and split parentheses, stray lines), asked
    # after every line, must get the library's own answer each time.
    rng = random.Random(7)
    pieces = [b"(", b")", b"UID 4", b"FLAGS (\\Seen)", b"BODY[] {12}", b" ", b"x"]
    checked = 0
    for _ in range(200):
        command = aioimaplib.FetchCommand("A1", "1:*", "(BODY[])")
        for _ in range(rng.randrange(1, 40)):
            roll = rng.random()
            if roll < 0.2:
                line: bytes | bytearray = f"{rng.randrange(1, 99)} FETCH (UID 3".encode()
            elif roll < 0.35:
                line = bytearray(b"literal (((")
            else:
                line = b"".join(rng.choice(pieces) for _ in range(rng.randrange(0, 5)))
            command.append_to_resp(line)
            assert command.wait_data() == LIBRARY_WAIT_DATA(command)
            checked += command.wait_data()
    assert checked > 100  # open responses were seen, not only balanced ones


async def test_fetch_new_returns_raw_and_internaldate_without_marking_seen(
    dovecot_server: DovecotServer, mail_user: str
) -> None:
    when = datetime(2026, 3, 3, 14, 2, 9, tzinfo=UTC)
    for n in range(1, 4):
        dovecot_server.append(mail_user, _raw(n), when=when)
    async with ImapSession(_account(dovecot_server, mail_user)) as imap:
        state = await imap.select("INBOX")
        assert state.exists == 3 and state.uidvalidity > 0
        got = [m async for m in imap.fetch_new(1, batch=1)]
        assert [m.uid for m in got] == [2, 3]
        assert all(m.internal_date == when for m in got)
        assert got[0].raw == _raw(2)
        # "UID 4:*" answers the highest UID even though it is below 4: we filter it out.
        assert await imap.uids_above(3) == []
        assert await imap.search_message_id("<2.reply@mairie.example>") == [2]
        roles = await imap.special_folders()
        assert roles == {"sent": "Sent", "junk": "Junk"}
        appended = await imap.append("Sent", _raw(9), flags=r"(\Seen)")
        assert appended is not None
        assert await imap.count("Sent") == (1, appended[0])
    conn = dovecot_server.imap(mail_user)
    try:
        conn.select("INBOX", readonly=True)
        _typ, data = conn.uid("SEARCH", "UNSEEN")
        assert data[0].split() == [b"1", b"2", b"3"], "BODY.PEEK must leave messages unread"
    finally:
        conn.logout()


async def test_a_large_batch_spanning_many_reads_comes_back_whole(
    dovecot_server: DovecotServer, mail_user: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Our data_received and wait_data replace aioimaplib's: one FETCH of messages whose
    # bodies hold parentheses and literal-like "{12}" lines, hundreds of reads in all.
    folder = "Batch"
    conn = dovecot_server.imap(mail_user)
    try:
        conn.create(folder)
        raws = []
        for n in range(25):
            body = (f"(ligne {n}) {{12}}\r\n) ((\r\n" * (2_000 + 300 * n)).encode()
            raws.append(_raw(n).replace(b"\r\n\r\n", b"\r\n\r\n" + body, 1))
            conn.append(folder, None, None, raws[-1])
    finally:
        conn.logout()
    caplog.set_level(logging.DEBUG, logger="aioimaplib")
    async with ImapSession(_account(dovecot_server, mail_user)) as imap:
        await imap.select(folder)
        got = [m async for m in imap.fetch_new(0, batch=25)]
    assert [m.raw for m in got] == raws
    assert sum(len(r) for r in raws) > 3_000_000
    # Debug logging of what is read still works when asked for.
    assert any(r.getMessage().startswith("Received : ") for r in caplog.records)


async def test_wrong_password_and_dead_server(
    dovecot_server: DovecotServer, mail_user: str
) -> None:
    with pytest.raises(ImapAuthError):
        async with ImapSession(_account(dovecot_server, mail_user, "wrong")):
            pass
    dead = ImapAccount("127.0.0.1", free_port(), "none", "x", "y")
    with pytest.raises(ImapTemporaryError):
        async with ImapSession(dead, timeout=2):
            pass


async def test_idle_wakes_up_when_the_connection_drops(
    dovecot_server: DovecotServer, mail_user: str
) -> None:
    import asyncio
    import time

    async with ImapSession(_account(dovecot_server, mail_user)) as imap:
        await imap.select("INBOX")
        waiting = asyncio.create_task(imap.idle(30))
        await asyncio.sleep(0.3)
        started = time.monotonic()
        imap.client.protocol.transport.close()  # the network goes away under IDLE
        with pytest.raises(ImapTemporaryError):
            await asyncio.wait_for(waiting, 10)
        assert time.monotonic() - started < 5, "IDLE must not wait out its 30 s"


async def test_implicit_tls(dovecot_server: DovecotServer, mail_user: str) -> None:
    """The production default: IMAP over TLS (port 993), the certificate verified."""
    import ssl

    assert dovecot_server.imaps_port is not None and dovecot_server.certificate is not None
    context = ssl.create_default_context(cafile=str(dovecot_server.certificate))
    account = ImapAccount(
        "127.0.0.1", dovecot_server.imaps_port, "tls", mail_user, dovecot_server.password
    )
    dovecot_server.append(mail_user, _raw(1))
    async with ImapSession(account, tls_context=context) as imap:
        state = await imap.select("INBOX")
        assert state.exists == 1
        [fetched] = await imap.fetch([1])
        assert fetched.raw == _raw(1)
    # An unknown certificate is refused, never silently accepted.
    with pytest.raises(ImapTemporaryError):
        async with ImapSession(account, timeout=5):
            pass
