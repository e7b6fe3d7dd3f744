"""The town halls' delivery into real Dovecot mailboxes (sim/town_halls/mailboxes.py).

One pump logs each mailbox user in once, however many messages it puts there; each APPEND gives
the UID the mailbox really holds and the INTERNALDATE it really kept, read back over IMAP.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from channels.imap_session import parse_internaldate
from sim.dovecot import DovecotServer
from sim.town_halls.mailboxes import Mailboxes

PAST = datetime(2025, 3, 3, 9, 15, 42, tzinfo=UTC)


def _raw(number: int) -> bytes:
    return (
        f"From: Mairie <accueil@mairie.example>\r\nSubject: Réponse {number}\r\n"
        f"Message-ID: <{number}@mairie.example>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "Bonjour,\r\n"
    ).encode()


def _logins(server: DovecotServer, user: str) -> int:
    return server.log().count(f"Login: user=<{user}>,")


def _stored(server: DovecotServer, user: str, mailbox: str) -> dict[int, datetime]:
    conn = server.imap(user)
    try:
        assert conn.select(mailbox, readonly=True)[0] == "OK"
        typ, data = conn.uid("FETCH", "1:*", "(UID INTERNALDATE)")
        assert typ == "OK"
        found: dict[int, datetime] = {}
        for line in data:
            assert isinstance(line, bytes)
            uid = re.search(rb"UID (\d+)", line)
            date = re.search(rb'INTERNALDATE "([^"]+)"', line)
            assert uid and date
            found[int(uid.group(1))] = parse_internaldate(date.group(1).decode())
        return found
    finally:
        conn.logout()


async def test_one_login_per_user_and_what_the_mailbox_kept(
    dovecot_server: DovecotServer, mail_user: str
) -> None:
    other = mail_user + "b"
    dovecot_server.add_user(other)
    future = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    async with Mailboxes(dovecot_server) as mailboxes:
        first = await mailboxes.append(mail_user, "INBOX", _raw(1), PAST)
        junk = await mailboxes.append(mail_user, "Junk", _raw(2), PAST + timedelta(seconds=1))
        second = await mailboxes.append(mail_user, "INBOX", _raw(3), future)
        elsewhere = await mailboxes.append(other, "INBOX", _raw(4), PAST)
    assert (_logins(dovecot_server, mail_user), _logins(dovecot_server, other)) == (1, 1)

    inbox = _stored(dovecot_server, mail_user, "INBOX")
    assert inbox == {first.uid: first.internal_date, second.uid: second.internal_date}
    assert _stored(dovecot_server, mail_user, "Junk") == {junk.uid: junk.internal_date}
    assert _stored(dovecot_server, other, "INBOX") == {elsewhere.uid: elsewhere.internal_date}
    assert first.internal_date == PAST and junk.internal_date == PAST + timedelta(seconds=1)
    assert first.uidvalidity == second.uidvalidity
    # Dovecot keeps no INTERNALDATE after its own clock: what it kept is what comes back.
    assert second.internal_date < future
