"""The suite's own Dovecot behaves as the mail tests assume (INTERNALDATE, folders, restart)."""

from datetime import UTC, datetime

from sim.dovecot import DovecotServer

RAW = (
    b"From: etat-civil@mairie.example\r\nTo: p@persona.example\r\nSubject: Re: acte\r\n"
    b"Message-ID: <1@mairie.example>\r\n\r\nBonjour\r\n"
)


def test_append_keeps_internaldate_and_lmtp_delivers(
    dovecot_server: DovecotServer, mail_user: str
) -> None:
    when = datetime(2026, 3, 2, 9, 15, 7, tzinfo=UTC)
    uidvalidity, uid = dovecot_server.append(mail_user, RAW, when=when)
    dovecot_server.deliver(mail_user, RAW)
    conn = dovecot_server.imap(mail_user)
    try:
        conn.select("INBOX", readonly=True)
        typ, data = conn.uid("FETCH", "1:*", "(INTERNALDATE)")
        assert typ == "OK"
        lines = [d.decode() for d in data if isinstance(d, bytes)]
        assert f'UID {uid} INTERNALDATE "02-Mar-2026 09:15:07 +0000"' in lines[0]
        assert len(lines) == 2
        typ, folders = conn.list()
        names = b" ".join(f for f in folders if isinstance(f, bytes))
        assert b"\\Junk" in names and b"\\Sent" in names
    finally:
        conn.logout()
    assert uidvalidity > 0
