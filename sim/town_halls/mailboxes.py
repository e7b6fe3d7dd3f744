"""Putting the town halls' mail into the personas' mailboxes: IMAP APPEND over aioimaplib.

    async with Mailboxes(dovecot) as boxes:      # one pump
        kept = await boxes.append(user, "Junk", raw, at)
            first use of ``user``: an ImapSession (channels/imap_session.py), logged in, kept
            for the rest of the pump
            APPEND with INTERNALDATE ``at`` --> APPENDUID (UIDVALIDITY, UID)
            SELECT the mailbox, FETCH that UID --> the INTERNALDATE the server kept
    leaving the block logs every session out

The date is read back because a server may not keep it: Dovecot replaces an INTERNALDATE later
than its own clock with its own clock, and the truth records what the mailbox says. A server
without UIDPLUS (no APPENDUID) is an error: the truth needs the UID.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from channels.imap_session import ImapAccount, ImapCommandError, ImapSession
from sim.dovecot import DovecotServer


@dataclass(frozen=True)
class Kept:
    """Where a message landed, and the INTERNALDATE the server kept for it."""

    uidvalidity: int
    uid: int
    internal_date: datetime


class Mailboxes:
    """One IMAP session per Dovecot user, opened on first use and closed together."""

    def __init__(self, dovecot: DovecotServer, *, timeout: float = 10.0) -> None:
        self.dovecot = dovecot
        self.timeout = timeout
        self._sessions: dict[str, ImapSession] = {}

    async def __aenter__(self) -> Mailboxes:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            await session.close()  # never raises: a dead connection is just dropped

    async def _session(self, user: str) -> ImapSession:
        session = self._sessions.get(user)
        if session is None:
            account = ImapAccount(
                self.dovecot.host,
                self.dovecot.imap_port,
                "none",
                user,
                self.dovecot.users[user],
            )
            session = ImapSession(account, timeout=self.timeout)
            await session.connect()
            self._sessions[user] = session
        return session

    async def append(self, user: str, mailbox: str, raw: bytes, at: datetime) -> Kept:
        """APPEND ``raw`` to ``user``'s ``mailbox`` dated ``at``; what the server kept."""
        session = await self._session(user)
        appended = await session.append(mailbox, raw, when=at)
        if appended is None:
            raise ImapCommandError(f"APPEND to {user}/{mailbox}: no APPENDUID in the answer")
        uidvalidity, uid = appended
        await session.select(mailbox)
        fetched = [m for m in await session.fetch([uid]) if m.uid == uid]
        if not fetched:
            raise ImapCommandError(f"no INTERNALDATE for UID {uid} in {user}/{mailbox}")
        return Kept(uidvalidity, uid, fetched[0].internal_date)
