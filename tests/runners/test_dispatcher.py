"""The dispatcher against aiosmtpd (the persona's provider) and Dovecot (its mailbox).

Every test runs on SQLite and on PostgreSQL, with a clock pinned to the second.
"""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email.policy import default as default_policy

import pytest

from channels.outgoing import Sender, build_email
from channels.smtp_sender import SmtpAccount, SmtpSession
from storage.models import Contact
from tests.runners.dispatchworld import MONDAY_10H, World


async def test_due_email_goes_out_once_with_stored_message_id(world: World) -> None:
    cid = await world.contact()
    report = await world.dispatcher().run_once()
    assert (report.sent, report.retried, report.undeliverable) == (1, 0, 0)
    row = await world.get(cid)
    assert row.status == "sent"
    assert row.sent_at == MONDAY_10H
    assert row.attempts == 1
    assert row.server_reply is not None and row.server_reply.startswith("2.0.0")
    [received] = world.provider.received
    parsed = email.message_from_bytes(received.raw, policy=default_policy)
    assert parsed["Message-ID"] == row.message_id
    assert parsed["To"] == received.recipients[0]
    assert received.recipients[1] == world.persona_email  # the blind copy to oneself
    assert row.reply_token and row.reply_token in str(parsed["Reply-To"])
    assert "Claire Mercier" in str(parsed["From"])
    assert parsed["Subject"] == "Demande de copie intégrale d'acte de naissance"
    assert "acte de naissance" in parsed.get_content()
    # Follow-up due 7 business days later, at the end of that local day.
    assert row.followup_due_at == datetime(2026, 3, 11, 23, 0, tzinfo=UTC)
    # As a mail client would: a copy in Sent; the provider filed the blind copy in INBOX.
    assert world.mailbox_ids("Sent") == [row.message_id]
    assert world.mailbox_ids("INBOX") == [row.message_id]
    # Running again sends nothing more.
    again = await world.dispatcher().run_once()
    assert again.claimed == 0 and len(world.provider.received) == 1


async def test_temporary_refusal_then_success_sends_once(world: World) -> None:
    cid = await world.contact()
    # Postgrey's words: a temporary refusal that names the recipient, so it is counted.
    greylisted = "450 4.2.0 <{}>: Recipient address rejected: Greylisted, see later"
    world.provider.rules.append(
        lambda stage, addr, n: (
            greylisted.format(addr)
            if stage == "RCPT" and n == 1 and addr != world.persona_email
            else None
        )
    )
    first = await world.dispatcher().run_once()
    assert first.retried == 1 and first.sent == 0
    row = await world.get(cid)
    assert row.status == "planned" and row.attempts == 1
    assert row.last_error is not None and row.last_error.startswith("retry (recipient")
    assert "450 4.2.0" in row.last_error
    assert row.next_attempt_at is not None
    # Backoff: base 60 s for the first failure, jittered by ±20 %.
    assert timedelta(seconds=48) <= row.next_attempt_at - MONDAY_10H <= timedelta(seconds=72)
    assert (await world.dispatcher().run_once()).claimed == 0  # not before its time
    world.clock.set(row.next_attempt_at + timedelta(seconds=1))
    second = await world.dispatcher().run_once()
    assert second.sent == 1
    row = await world.get(cid)
    assert row.status == "sent" and row.attempts == 2
    assert len(world.provider.received) == 1
    assert await world.events(cid) == ["send_failed", "sent", "sent_copy"]


async def test_permanent_refusal_makes_the_contact_undeliverable(world: World) -> None:
    cid = await world.contact()
    world.provider.rules.append(
        lambda stage, addr, n: "550 5.1.1 <x>: Recipient address rejected: User unknown"
        if stage == "RCPT" and addr != world.persona_email else None
    )  # fmt: skip
    report = await world.dispatcher().run_once()
    assert report.undeliverable == 1
    row = await world.get(cid)
    assert row.status == "undeliverable"
    assert row.outcome_reason is not None and "550 5.1.1" in row.outcome_reason
    assert world.provider.received == []
    assert world.mailbox_ids("INBOX") == []  # no self copy of a message that went nowhere


async def test_nothing_goes_out_at_night_late_contacts_wait_for_the_morning(world: World) -> None:
    # Planned Monday 10:00, but the worker only runs at 21:30 (an outage all afternoon).
    night = datetime(2026, 3, 2, 20, 30, tzinfo=UTC)
    world.clock.set(night)
    ids = [await world.contact(planned_at=MONDAY_10H) for _ in range(3)]
    report = await world.dispatcher().run_once()
    assert report.deferred == 3 and report.sent == 0
    opening = datetime(2026, 3, 3, 7, 30, tzinfo=UTC)  # Tuesday 08:30 in Paris
    for cid in ids:
        row = await world.get(cid)
        assert row.status == "planned"
        assert row.next_attempt_at is not None
        assert opening <= row.next_attempt_at <= opening + timedelta(hours=1)
    world.clock.set(opening + timedelta(hours=1, seconds=1))
    morning = await world.dispatcher().run_once()
    assert morning.sent == 3
    for cid in ids:
        sent_at = (await world.get(cid)).sent_at
        assert sent_at is not None and sent_at >= opening


async def test_rate_limit_per_persona_spreads_the_backlog(world: World) -> None:
    ids = [await world.contact() for _ in range(5)]
    report = await world.dispatcher(per_persona_per_hour=2).run_once()
    assert report.sent == 2 and report.deferred == 3
    deferred = [await world.get(cid) for cid in ids]
    waits = sorted(r.next_attempt_at - MONDAY_10H for r in deferred if r.next_attempt_at)  # type: ignore[operator]
    assert len(waits) == 3
    assert all(w >= timedelta(minutes=30) for w in waits)  # 3600 s / 2 per hour, at least


async def test_crash_after_acceptance_is_recovered_from_the_mailbox(world: World) -> None:
    """A worker claimed the contact and the provider accepted the email, then the worker died
    before recording it. The next worker finds the blind copy and does not send again."""
    cid = await world.contact()
    dead = world.dispatcher(lease_seconds=60)
    from storage import dispatch as repo

    async with world.database.session() as s:
        [claimed] = await repo.claim_batch(
            s, step=repo.FIRST, now=world.clock.now(), owner="dead-worker",
            lease_until=world.clock.now() + timedelta(seconds=60), limit=10,
            new_ids=dead._new_ids, skip_locked=not world.database.is_sqlite,
        )  # fmt: skip
    message = build_email(sender=Sender("Claire Mercier", world.persona_email),
                          to=claimed.service_email, subject="Demande", body="Bonjour",
                          message_id=claimed.message_id, date=world.clock.now())  # fmt: skip
    account = SmtpAccount("127.0.0.1", world.provider.port, "none", world.user,
                          world.dovecot.users[world.user], world.persona_email)  # fmt: skip
    async with SmtpSession(account) as smtp:
        await smtp.send(message, claimed.service_email)
    # Before the lease expires nobody touches it.
    assert (await world.dispatcher().run_once()).claimed == 0
    world.clock.advance(timedelta(seconds=61))
    report = await world.dispatcher().run_once()
    assert report.recovered == 1 and report.sent == 0
    row = await world.get(cid)
    assert row.status == "sent" and row.message_id == claimed.message_id
    # The time recorded is the server's INTERNALDATE of the copy (real clock of Dovecot).
    assert row.sent_at is not None
    assert world.sink_ids().count(claimed.message_id) == 1


async def test_crash_before_acceptance_is_sent_after_verification(world: World) -> None:
    cid = await world.contact()
    from storage import dispatch as repo

    async with world.database.session() as s:
        await repo.claim_batch(
            s, step=repo.FIRST, now=world.clock.now(), owner="dead-worker",
            lease_until=world.clock.now() + timedelta(seconds=60), limit=10,
            new_ids=world.dispatcher()._new_ids, skip_locked=not world.database.is_sqlite,
        )  # fmt: skip
    world.clock.advance(timedelta(seconds=61))
    report = await world.dispatcher().run_once()
    assert report.sent == 1 and report.recovered == 0
    row = await world.get(cid)
    assert row.status == "sent"
    assert world.sink_ids() == [row.message_id]


async def test_followup_in_the_same_thread_when_no_answer(world: World) -> None:
    cid = await world.contact()
    await world.dispatcher().run_once()
    first = await world.get(cid)
    assert first.followup_due_at is not None
    world.clock.set(first.followup_due_at - timedelta(hours=1))
    assert (await world.dispatcher().run_once()).claimed == 0
    # Thursday 12 March 08:30 Paris is the first dispatch opening after the due time.
    world.clock.set(datetime(2026, 3, 12, 8, 0, 0, tzinfo=UTC))
    report = await world.dispatcher().run_once()
    assert report.sent == 1
    row = await world.get(cid)
    assert row.followup_sent_at == world.clock.now()
    follow = [m for m in world.provider.received if m.message_id == row.followup_message_id]
    assert len(follow) == 1
    parsed = email.message_from_bytes(follow[0].raw, policy=default_policy)
    assert parsed["In-Reply-To"] == first.message_id
    assert parsed["References"] == first.message_id
    assert parsed["Subject"] == "Relance : Demande de copie intégrale d'acte de naissance"
    assert "courriel du 2 mars 2026" in parsed.get_content()
    assert (await world.dispatcher().run_once()).claimed == 0


async def test_no_followup_once_answered(world: World) -> None:
    cid = await world.contact()
    await world.dispatcher().run_once()
    async with world.database.session() as s:
        row = await s.get(Contact, cid)
        assert row is not None
        row.status = "answered"
        row.first_answer_at = MONDAY_10H + timedelta(days=1)
    world.clock.set(datetime(2026, 3, 12, 8, 0, 0, tzinfo=UTC))
    assert (await world.dispatcher().run_once()).claimed == 0


async def test_missing_password_is_our_problem_and_retried(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = await world.contact()
    monkeypatch.delenv("TEMOIN_TEST_PERSONA_PASSWORD")
    report = await world.dispatcher().run_once()
    assert report.held == 1 and report.retried == 0
    row = await world.get(cid)
    assert row.status == "planned" and row.attempts == 0
    assert "TEMOIN_TEST_PERSONA_PASSWORD" in (row.last_error or "")
    assert (row.last_error or "").startswith("held (our setup, setup)")
    assert world.provider.received == []


async def test_a_reply_recorded_during_recovery_is_kept(world: World) -> None:
    """The worker died after the provider accepted; the reply was tracked meanwhile
    (status still ``sending``). Recording the recovered send must not move it back."""
    cid = await world.contact()
    from storage import dispatch as repo

    async with world.database.session() as s:
        [claimed] = await repo.claim_batch(
            s, step=repo.FIRST, now=world.clock.now(), owner="dead-worker",
            lease_until=world.clock.now() + timedelta(seconds=60), limit=10,
            new_ids=world.dispatcher()._new_ids, skip_locked=not world.database.is_sqlite,
        )  # fmt: skip
    message = build_email(
        sender=Sender("Claire Mercier", world.persona_email), to=claimed.service_email,
        subject="Demande", body="Bonjour", message_id=claimed.message_id, date=world.clock.now(),
    )  # fmt: skip
    account = SmtpAccount("127.0.0.1", world.provider.port, "none", world.user,
                          world.dovecot.users[world.user], world.persona_email)  # fmt: skip
    async with SmtpSession(account) as smtp:
        await smtp.send(message, claimed.service_email)
    answered = MONDAY_10H + timedelta(seconds=40)
    async with world.database.session() as s:
        row = await s.get(Contact, cid)
        assert row is not None and row.status == "sending"
        row.first_answer_at = answered
    world.clock.advance(timedelta(seconds=61))
    report = await world.dispatcher().run_once()
    assert report.recovered == 1
    row = await world.get(cid)
    assert row.status == "answered"
    assert row.first_answer_at == answered and row.sent_at is not None
    assert world.sink_ids().count(claimed.message_id) == 1


async def test_a_closed_campaign_sends_nothing_new(world: World) -> None:
    cid = await world.contact()
    async with world.database.session() as s:
        row = await s.get(Contact, cid)
        assert row is not None
        row.closed_at = MONDAY_10H - timedelta(minutes=1)
    report = await world.dispatcher().run_once()
    assert report.claimed == 0
    assert world.provider.received == []
    assert (await world.get(cid)).status == "planned"
