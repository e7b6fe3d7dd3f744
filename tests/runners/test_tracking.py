"""Replies tracked through the whole pipeline (Dovecot -> watcher -> storage -> contacts),
on SQLite and PostgreSQL: matching, timing to the second, kinds of replies, own copies."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from runners.effects import delays
from scenarios.calendar import BusinessCalendar
from sim.dovecot import DovecotServer
from storage.db import Database
from tests.conftest import DbTarget
from tests.mailworld import (
    PASSWORD_ENV,
    SENT,
    contact,
    events,
    make_world,
    messages,
    reply,
    tracker,
)


@pytest.fixture(autouse=True)
def _imap_password(monkeypatch: pytest.MonkeyPatch, dovecot_server: DovecotServer) -> None:
    monkeypatch.setenv(PASSWORD_ENV, dovecot_server.password)


def _by_subject(rows: list, fragment: str):  # type: ignore[no-untyped-def]
    found = [m for m in rows if m.subject and m.subject.startswith(fragment)]
    assert len(found) == 1, [(m.subject, m.classification) for m in rows]
    return found[0]


async def test_threaded_reply_and_own_copy_timed_from_internaldate(
    database: Database, dovecot_server: DovecotServer, mail_user: str
) -> None:
    world = await make_world(database, dovecot_server, mail_user)
    # The provider's blind copy of what we sent: our Message-ID, from the persona.
    own = reply(
        sender=f"Claire Mercier <{world.persona_email}>",
        to=world.services["acte"],
        subject="Demande de copie intégrale d'acte de naissance",
        message_id=world.message_ids["acte"],
        date=SENT,
    )
    dovecot_server.append(mail_user, own, when=SENT + timedelta(seconds=2))
    received = datetime(2026, 3, 3, 12, 39, 7, tzinfo=UTC)  # Tuesday, 1 d 3 h 25 min 7 s later
    answer = reply(
        sender="Service État civil <etat-civil@mairie-saint-exemple.example>",
        to=world.persona_email,
        in_reply_to=world.message_ids["acte"],
        date=received - timedelta(hours=2),  # a sender's clock two hours behind
        body=(
            "Bonjour Madame,\n\nVous pouvez faire la demande en ligne sur service-public.fr ou "
            "par courrier. Indiquez la date de naissance et les noms des parents. La délivrance "
            "est gratuite.\nVoir https://www.service-public.fr/particuliers/vosdroits/F1427\n\n"
            "Bien cordialement,\n\n-- \nJulien Moreau\nService État civil\n"
            "1 place de la Mairie, 63000 Saint-Exemple\nTél. : 04 73 00 00 00\n"
        ),
    )
    dovecot_server.append(mail_user, answer, when=received)

    assert await tracker(database).sync_all() == {}

    c = await contact(database, world.contacts["acte"])
    assert c.status == "answered"
    assert c.first_answer_at == received  # INTERNALDATE, not the Date header
    assert c.first_ack_at is None
    [event] = await events(database, c.id, "mail_answer")
    assert event.at == received
    assert event.detail is not None
    assert event.detail["delay_seconds"] == 27 * 3600 + 25 * 60 + 7
    assert event.detail["business_days"] == 1
    assert event.detail["within_target"] is True and event.detail["first"] is True
    [skew] = await events(database, c.id, "date_skew")
    assert skew.detail is not None and skew.detail["skew_seconds"] == -7200

    rows = await messages(database, world.persona_id)
    mine = _by_subject(rows, "Demande de copie")
    assert mine.subject == "Demande de copie intégrale d'acte de naissance"
    assert (mine.classification, mine.direction, mine.contact_id, mine.match_method) == (
        "own_copy",
        "out",
        c.id,
        "own_copy",
    )
    assert not await events(database, c.id, "mail_own_copy")  # a copy is not a reply
    answered = _by_subject(rows, "Re:")
    assert (answered.classification, answered.match_method, answered.match_confidence) == (
        "answer",
        "thread",
        1.0,
    )
    assert answered.date_header == received - timedelta(hours=2)
    assert answered.evidence is not None and answered.evidence["date_skew_seconds"] == -7200
    assert answered.triage_state is None

    checks = c.checks
    assert checks is not None and checks["message"] == answered.id
    assert checks["expected"]["procedure"]["auto"] is True
    assert checks["expected"]["informations"]["auto"] is True
    assert checks["expected"]["gratuite"]["auto"] is True
    form = checks["form"]
    assert form["greeting"]["auto"] and form["closing"]["auto"]
    assert form["agent_name"]["found"] == "Julien Moreau"
    assert form["phone"]["auto"] and form["postal_address"]["auto"]
    assert form["right_service"]["auto"] is True
    assert checks["links"] == ["https://www.service-public.fr/particuliers/vosdroits/F1427"]


async def test_other_agent_same_domain_and_ambiguous_to_triage(
    database: Database, dovecot_server: DovecotServer, mail_user: str
) -> None:
    world = await make_world(database, dovecot_server, mail_user)
    at = SENT + timedelta(days=1)
    # Another agent of Saint-Exemple, no thread headers; two open contacts there (acte and
    # piscine): the subject tells them apart.
    dovecot_server.append(
        mail_user,
        reply(
            sender="Marie Durand <marie.durand@mairie-saint-exemple.example>",
            to=world.persona_email,
            subject="RE : Demande de copie intégrale d'acte de naissance",
        ),
        when=at,
    )
    # Autreville's CCAS answers from its address, but two contacts went there with the same
    # subject: never a guess.
    dovecot_server.append(
        mail_user,
        reply(
            sender="ccas@autreville.example",
            to=world.persona_email,
            subject="Re: Demande d'aide pour une facture d'électricité",
        ),
        when=at,
    )
    # A newsletter matches nothing.
    dovecot_server.append(
        mail_user,
        reply(
            sender="news@ailleurs.example",
            to=world.persona_email,
            subject="Nos offres",
        ),
        when=at,
    )

    assert await tracker(database).sync_all() == {}

    rows = await messages(database, world.persona_id)
    agent = _by_subject(rows, "RE : Demande de copie")
    assert (agent.contact_id, agent.match_method, agent.match_confidence) == (
        world.contacts["acte"],
        "domain_subject",
        0.7,
    )
    assert (await contact(database, world.contacts["acte"])).status == "answered"

    ccas = _by_subject(rows, "Re: Demande d'aide")
    assert (ccas.contact_id, ccas.triage_state) == (None, "pending")
    assert ccas.evidence is not None
    suggested = {s["contact"] for s in ccas.evidence["match"]["suggestions"]}
    assert suggested == {world.contacts["ccas_a"], world.contacts["ccas_b"]}
    for name in ("ccas_a", "ccas_b"):
        assert (await contact(database, world.contacts[name])).status == "sent"
    news = _by_subject(rows, "Nos offres")
    assert (news.contact_id, news.triage_state) == (None, "pending")

    # The coordinator decides: recorded as an automatic match would be.
    t = tracker(database)
    await t.match_manually(ccas.id, world.contacts["ccas_b"], actor="test")
    b = await contact(database, world.contacts["ccas_b"])
    assert (b.status, b.first_answer_at) == ("answered", at)
    assert b.checks is not None and b.checks["message"] == ccas.id


async def test_kinds_of_replies(
    database: Database, dovecot_server: DovecotServer, mail_user: str
) -> None:
    world = await make_world(database, dovecot_server, mail_user)
    day = SENT + timedelta(days=1)
    auto = {"Auto-Submitted": "auto-replied"}
    # acte: an automatic acknowledgement, then a soft bounce (not final), then the answer,
    # filed as spam by the provider (in Junk, flagged): it still counts.
    dovecot_server.append(
        mail_user,
        reply(
            sender=world.services["acte"],
            to=world.persona_email,
            headers=auto,
            subject="Accusé de réception",
            in_reply_to=world.message_ids["acte"],
            body="Nous avons bien reçu votre demande, elle sera traitée rapidement.\n",
        ),
        when=day,
    )
    dovecot_server.append(
        mail_user,
        bounce(world.message_ids["acte"], world.services["acte"], "4.2.2", world.persona_email),
        when=day + timedelta(hours=1),
    )
    dovecot_server.append(
        mail_user,
        reply(
            sender=world.services["acte"],
            to=world.persona_email,
            in_reply_to=world.message_ids["acte"],
            subject="[SPAM] Re: Demande",
            headers={"X-Spam-Flag": "YES"},
        ),
        mailbox="Junk",
        when=day + timedelta(hours=2),
    )
    # piscine: a hard bounce returning our message.
    dovecot_server.append(
        mail_user,
        bounce(
            world.message_ids["piscine"], world.services["piscine"], "5.1.1", world.persona_email
        ),
        when=day,
    )
    # ccas_a: a redirect, matched by the reply token of its To address.
    token_address = f"{mail_user}+{world.tokens['ccas_a']}@persona.example"
    dovecot_server.append(
        mail_user,
        reply(
            sender="ccas@autreville.example",
            to=token_address,
            subject="Votre message",
            body="Bonjour,\nCe n'est pas notre service : veuillez vous adresser au Département.\n"
            "Cordialement\n",
        ),
        when=day,
    )
    # ccas_b: an out-of-office, neither acknowledgement nor answer.
    dovecot_server.append(
        mail_user,
        reply(
            sender="ccas@autreville.example",
            to=world.persona_email,
            headers=auto,
            subject="Réponse automatique : absence",
            in_reply_to=world.message_ids["ccas_b"],
            body="Je suis absente jusqu'au 9 mars.\n",
        ),
        when=day,
    )

    assert await tracker(database).sync_all() == {}

    acte = await contact(database, world.contacts["acte"])
    assert (acte.status, acte.first_ack_at) == ("answered", day)
    assert acte.first_answer_at == day + timedelta(hours=2)
    [soft] = await events(database, acte.id, "mail_bounce")
    assert soft.detail is not None and soft.detail["severity"] == "soft"
    assert "final" not in soft.detail
    [ack] = await events(database, acte.id, "mail_acknowledgement")
    assert ack.detail is not None and ack.detail["delay_seconds"] == 86400
    junk = [m for m in await messages(database, world.persona_id) if m.mailbox == "Junk"]
    assert [(m.classification, m.contact_id) for m in junk] == [("answer", acte.id)]
    assert junk[0].evidence is not None and junk[0].evidence["spam_flagged"] is True

    piscine = await contact(database, world.contacts["piscine"])
    assert piscine.status == "undeliverable"
    assert piscine.outcome_reason is not None and "5.1.1" in piscine.outcome_reason

    redirected = await contact(database, world.contacts["ccas_a"])
    assert (redirected.status, redirected.first_answer_at) == ("answered", day)
    assert redirected.checks is not None
    assert redirected.checks["form"]["right_service"]["auto"] is False

    away = await contact(database, world.contacts["ccas_b"])
    assert (away.status, away.first_ack_at, away.first_answer_at) == ("sent", None, None)
    assert len(await events(database, away.id, "mail_out_of_office")) == 1


async def test_business_days_across_weekend_and_local_holidays(
    database: Database, dovecot_server: DovecotServer, mail_user: str
) -> None:
    # Moselle (57): Good Friday is a holiday there, not in Puy-de-Dôme (63).
    world = await make_world(database, dovecot_server, mail_user, departement="57")
    sent = datetime(2026, 4, 2, 14, 0, tzinfo=UTC)  # Thursday
    received = datetime(2026, 4, 7, 8, 30, 1, tzinfo=UTC)  # Tuesday after Easter Monday
    async with database.session() as s:
        from storage.models import Contact

        row = await s.get(Contact, world.contacts["acte"])
        assert row is not None
        row.sent_at = sent
    dovecot_server.append(
        mail_user,
        reply(
            sender=world.services["acte"],
            to=world.persona_email,
            in_reply_to=world.message_ids["acte"],
            date=received,
        ),
        when=received,
    )
    assert await tracker(database).sync_all() == {}
    [event] = await events(database, world.contacts["acte"], "mail_answer")
    assert event.detail is not None
    assert event.detail["delay_seconds"] == int((received - sent).total_seconds())
    assert event.detail["business_days"] == 1  # Fri 3 (Good Friday), Mon 6 (Easter Monday): off
    elsewhere = delays(sent, received, BusinessCalendar.for_departement("63"))
    assert elsewhere["business_days"] == 2  # Friday 3 April is worked in Puy-de-Dôme


async def test_temoin_worker_runs_the_watchers(
    database: Database,
    db_target: DbTarget,
    dovecot_server: DovecotServer,
    mail_user: str,
    tmp_path: Path,
) -> None:
    world = await make_world(database, dovecot_server, mail_user)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEMOIN_")}
    env |= db_target.env() | {PASSWORD_ENV: dovecot_server.password}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "temoin", "worker", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        received = datetime.now(UTC).replace(microsecond=0)
        dovecot_server.deliver(mail_user, reply(sender=world.services["acte"],
                                                to=world.persona_email,
                                                in_reply_to=world.message_ids["acte"]))  # fmt: skip
        deadline = time.monotonic() + 30
        while (await contact(database, world.contacts["acte"])).status != "answered":
            assert time.monotonic() < deadline, "the worker did not record the answer"
            await asyncio.sleep(0.2)
        answered = await contact(database, world.contacts["acte"])
        assert answered.first_answer_at is not None
        assert abs((answered.first_answer_at - received).total_seconds()) <= 5
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0


def bounce(original_id: str, recipient: str, status: str, persona: str) -> bytes:
    action = "failed" if status.startswith("5") else "delayed"
    return (
        "From: MAILER-DAEMON@mx.persona.example (Mail Delivery System)\r\n"
        f"To: {persona}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <bounce.{status}.{original_id.strip('<>')}>\r\n"
        "Date: Tue, 3 Mar 2026 10:15:33 +0100\r\nAuto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; {status[0]}50 {status} mailbox problem\r\n\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: {persona}\r\nTo: {recipient}\r\nMessage-ID: {original_id}\r\n"
        "Subject: Demande\r\n\r\n--B--\r\n"
    ).encode()
