"""Every sent message ends up in the Sent folder once, with the bytes sent, crashes included.

The world of tests/test_dispatcher.py: aiosmtpd as the provider (it files the blind copy in
INBOX over LMTP before answering 250), Dovecot as the mailbox, SQLite and PostgreSQL.
"""

from __future__ import annotations

import email
from datetime import timedelta

from sqlalchemy import select

from channels.outgoing import Sender, build_email
from channels.sent_folder import strip_trace
from channels.smtp_sender import SmtpAccount, SmtpSession
from storage import dispatch as repo
from storage.models import ContactEvent
from tests.runners.dispatchworld import World


def folder(world: World, name: str) -> dict[str, list[bytes]]:
    """Message-ID -> the raw copies in ``name``."""
    conn = world.dovecot.imap(world.user)
    try:
        conn.select(name, readonly=True)
        _typ, data = conn.uid("FETCH", "1:*", "(BODY.PEEK[])")
        found: dict[str, list[bytes]] = {}
        for part in data:
            if isinstance(part, tuple):
                mid = email.message_from_bytes(part[1])["Message-ID"]
                found.setdefault(mid, []).append(part[1])
        return found
    finally:
        conn.logout()


def sent_bytes(world: World, message_id: str) -> bytes:
    """The bytes the provider received for the service (what was sent)."""
    [raw] = [m.raw for m in world.provider.received if m.message_id == message_id]
    return raw


async def copy_events(world: World, contact_id: int) -> list[str]:
    async with world.database.session() as s:
        rows = await s.scalars(
            select(ContactEvent.detail).where(
                ContactEvent.contact_id == contact_id, ContactEvent.kind == "sent_copy"
            )
        )
        return [str((d or {}).get("how")) for d in rows]


async def dead_worker_sends(world: World, *, record: bool) -> repo.Claimed:
    """A worker claims, sends (the provider files the blind copy) and, if ``record``,
    records the send keeping its lease for the copy; then it dies."""
    await world.contact()
    async with world.database.session() as s:
        [claimed] = await repo.claim_batch(
            s, step=repo.FIRST, now=world.clock.now(), owner="dead-worker",
            lease_until=world.clock.now() + timedelta(seconds=60), limit=10,
            new_ids=world.dispatcher()._new_ids, skip_locked=not world.database.is_sqlite,
        )  # fmt: skip
    message = build_email(sender=Sender("Claire Mercier", world.persona_email),
                          to=claimed.service_email, subject="Demande", body="Bonjour",
                          message_id=claimed.message_id, date=world.clock.now())  # fmt: skip
    account = SmtpAccount("127.0.0.1", world.provider.port, "none", world.user,
                          world.dovecot.users[world.user], world.persona_email)  # fmt: skip
    async with SmtpSession(account, clock=world.clock) as smtp:
        result = await smtp.send(message, claimed.service_email)
    if record:
        async with world.database.session() as s:
            accepted = repo.Accepted(claimed, result.accepted_at, result.reply, None,
                                     keep_lease=True)  # fmt: skip
            assert await repo.mark_sent_many(s, [accepted], owner="dead-worker") == [True]
    return claimed


async def test_a_send_gets_a_copy_of_the_exact_bytes_sent(world: World) -> None:
    cid = await world.contact()
    assert (await world.dispatcher().run_once()).copied == 1
    row = await world.get(cid)
    assert row.lease_owner is None and row.lease_expires_at is None  # released after the copy
    [copy] = folder(world, "Sent")[str(row.message_id)]
    assert copy == sent_bytes(world, str(row.message_id))
    assert await copy_events(world, cid) == ["appended"]


async def test_a_send_recovered_after_a_crash_gets_its_copy_from_the_blind_copy(
    world: World,
) -> None:
    claimed = await dead_worker_sends(world, record=False)
    world.clock.advance(timedelta(seconds=61))
    report = await world.dispatcher().run_once()
    assert report.recovered == 1 and report.copied == 1
    [inbox] = folder(world, "INBOX")[claimed.message_id]
    [copy] = folder(world, "Sent")[claimed.message_id]
    assert inbox != copy and inbox.endswith(copy)  # delivery prepended its trace fields
    assert copy == strip_trace(inbox) == sent_bytes(world, claimed.message_id)
    assert await copy_events(world, claimed.contact_id) == ["from_inbox"]
    assert (await world.dispatcher().run_once()).copied == 0
    assert len(folder(world, "Sent")[claimed.message_id]) == 1


async def test_a_copy_a_dead_worker_left_is_filed_by_the_sweep_once_its_lease_ends(
    world: World,
) -> None:
    claimed = await dead_worker_sends(world, record=True)
    assert (await world.dispatcher().run_once()).copied == 0  # its lease still holds
    assert claimed.message_id not in folder(world, "Sent")
    world.clock.advance(timedelta(seconds=61))
    assert (await world.dispatcher().run_once()).copied == 1
    [copy] = folder(world, "Sent")[claimed.message_id]
    assert copy == sent_bytes(world, claimed.message_id)
    row = await world.get(claimed.contact_id)
    assert row.status == "sent" and row.lease_owner is None
    assert (await world.dispatcher().run_once()).copied == 0


async def test_a_copy_already_in_sent_is_recorded_not_filed_twice(world: World) -> None:
    """The worker died after its APPEND went through and before it recorded it."""
    claimed = await dead_worker_sends(world, record=True)
    world.dovecot.append(world.user, sent_bytes(world, claimed.message_id), mailbox="Sent")
    world.clock.advance(timedelta(seconds=61))
    assert (await world.dispatcher().run_once()).copied == 0
    assert len(folder(world, "Sent")[claimed.message_id]) == 1
    assert await copy_events(world, claimed.contact_id) == ["already"]
