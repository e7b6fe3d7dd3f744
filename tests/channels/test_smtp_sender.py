"""The SMTP seam against a real aiosmtpd server and a real Dovecot for the self copy."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email.policy import default as default_policy

import pytest

from channels.outgoing import Sender, build_email, make_message_id
from channels.smtp_sender import (
    AccountFailure,
    RecipientRejected,
    SmtpAccount,
    SmtpSession,
    TemporaryFailure,
)
from scenarios.clock import FixedClock
from sim.dovecot import DovecotServer, free_port
from sim.smtp_provider import SmtpProvider

PERSONA = "claire.mercier@persona.example"
SERVICE = "etat-civil@mairie-saint-aubin.example"
NOW = datetime(2026, 3, 2, 8, 15, 42, tzinfo=UTC)


def _account(provider: SmtpProvider, password: str = "pw") -> SmtpAccount:
    provider.add_account("claire", "pw")
    return SmtpAccount("127.0.0.1", provider.port, "none", "claire", password, PERSONA)


def _message(
    subject: str = "Demande de copie d'acte de naissance",
) -> tuple[str, email.message.EmailMessage]:
    mid = make_message_id(PERSONA)
    msg = build_email(
        sender=Sender("Claire Mercier", PERSONA),
        to=SERVICE,
        subject=subject,
        body="Bonjour,\n\nJe souhaiterais recevoir une copie intégrale de mon acte de naissance."
        "\n\n"
        "Bien cordialement,\nClaire Mercier",
        message_id=mid,
        date=NOW,
    )
    return mid, msg


async def test_accepted_message_arrives_intact_with_self_copy(
    smtp_provider: SmtpProvider, dovecot_server: DovecotServer, mail_user: str
) -> None:
    smtp_provider.add_local_mailbox(PERSONA, mail_user, dovecot_server.lmtp_port)
    mid, msg = _message("Acte de naissance — été 2026")
    async with SmtpSession(_account(smtp_provider), clock=FixedClock(NOW)) as smtp:
        result = await smtp.send(msg, SERVICE)
    assert result.accepted_at == NOW
    assert result.reply.startswith("2.0.0 Ok")
    [received] = smtp_provider.received
    assert received.recipients == (SERVICE, PERSONA)
    parsed = email.message_from_bytes(received.raw, policy=default_policy)
    assert parsed["Message-ID"] == mid
    assert parsed["Subject"] == "Acte de naissance — été 2026"
    assert str(parsed["From"]) == "Claire Mercier <claire.mercier@persona.example>"
    assert parsed["Date"] == "Mon, 02 Mar 2026 09:15:42 +0100"
    assert "copie intégrale" in parsed.get_content()
    for header in ("X-Mailer", "User-Agent", "X-Campaign"):
        assert header not in parsed
    # The self copy sits in the persona's own mailbox, findable by Message-ID.
    imap = dovecot_server.imap(mail_user)
    try:
        imap.select("INBOX", readonly=True)
        typ, data = imap.uid("SEARCH", "HEADER", "Message-ID", mid)
        assert typ == "OK" and data[0].split() == [b"1"]
    finally:
        imap.logout()


@pytest.mark.parametrize(
    ("stage", "reply", "error"),
    [
        (
            "RCPT",
            "550 5.1.1 <etat-civil@mairie-saint-aubin.example>: user unknown",
            RecipientRejected,
        ),
        ("RCPT", "451 4.3.0 greylisted, try again later", TemporaryFailure),
        ("RCPT", "554 5.7.1 Relay access denied", AccountFailure),
        # After DATA a refusal names neither recipient: ours, held, never a finding.
        ("DATA", "554 5.7.1 message refused", AccountFailure),
        ("DATA", "452 4.3.1 insufficient storage", TemporaryFailure),
    ],
)
async def test_refusals_are_sorted(
    smtp_provider: SmtpProvider, stage: str, reply: str, error: type[Exception]
) -> None:
    smtp_provider.rules.append(
        lambda s, addr, _n: reply if s == stage and addr == SERVICE else None
    )
    _, msg = _message()
    async with SmtpSession(_account(smtp_provider)) as smtp:
        with pytest.raises(error) as info:
            await smtp.send(msg, SERVICE)
    assert str(reply.split()[0]) in str(info.value) or info.value.code == int(reply[:3])  # type: ignore[attr-defined]
    assert info.value.outcome.reply == reply  # type: ignore[attr-defined]
    assert smtp_provider.received == []


async def test_wrong_password_is_our_problem_not_the_services(smtp_provider: SmtpProvider) -> None:
    with pytest.raises(AccountFailure, match="authentication refused"):
        async with SmtpSession(_account(smtp_provider, password="wrong")):
            pass


async def test_server_down_is_temporary() -> None:
    account = SmtpAccount("127.0.0.1", free_port(), "none", None, None, PERSONA)
    with pytest.raises(TemporaryFailure, match="cannot connect"):
        async with SmtpSession(account, timeout=2):
            pass


async def test_one_connection_sends_a_batch(smtp_provider: SmtpProvider) -> None:
    ids = []
    async with SmtpSession(_account(smtp_provider)) as smtp:
        for _ in range(5):
            mid, msg = _message()
            await smtp.send(msg, SERVICE, self_copy=False)
            ids.append(mid)
    assert smtp_provider.message_ids() == ids
