"""Simulated collectivities end to end: a real SMTP provider, a real Dovecot, simulated time.

Personas send requests with aiosmtplib as the dispatcher would; the simulator decides, writes
and delivers its reactions into the persona mailboxes; the test reads them back over IMAP and
checks them against the truth, and checks that our own parser and classifier read them as the
truth says (a check of realism).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosmtplib
import pytest

from channels.classify import classify
from channels.content import check_expected
from channels.imap_session import parse_internaldate
from channels.mime import parse_message
from channels.outgoing import Sender, build_email, make_message_id
from scenarios.calendar import BusinessCalendar
from scenarios.catalog import load_catalog
from scenarios.clock import FastClock, FixedClock
from scenarios.render import CollectivityView, PersonaView, ServiceView, render_wording
from sim.dovecot import DovecotServer
from sim.profiles import DEFAULT_OFFICE_HOURS, PROFILES, Outcome, Profile, SimulatedService
from sim.smtp_provider import SmtpProvider
from sim.town_halls.platforms import TICKET_SYSTEMS
from sim.town_halls.simulator import ContactInfo, SimulatedCollectivities
from sim.truth.journal import Truth

CATALOG = load_catalog()
# Monday, 09:00 in Paris. In the past: Dovecot replaces an INTERNALDATE later than its own
# clock with its own clock.
T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
PASSWORD = "secret"


# None of the mail that answers nothing: drawn from a request's random Message-ID, it would make
# the number of reactions of a one-request test vary from run to run.
QUIET = dict(newsletter_share=0.0, notification_share=0.0, spam_share=0.0,
             success_report_share=0.0, delayed_share=0.0)  # fmt: skip


def _forced(key: str, outcome: Outcome, **changes: object) -> Profile:
    return Profile(key, key, outcomes=((outcome, 1.0),), **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class _Case:
    service: SimulatedService
    scenario: str
    requests: int


def _cases() -> list[_Case]:
    def service(
        address: str, dept: str, city: str, kind: str, profile: Profile
    ) -> SimulatedService:
        return SimulatedService(address, dept, profile, collectivity=city, kind=kind)

    return [
        _Case(service("etat-civil@mairie-eschwiller.example", "67", "Eschwiller", "etat_civil",
                      _forced("answers", Outcome.ANSWER, omit_share=0.4, other_agent_share=0.0,
                              unthreaded_share=0.0, junk_share=0.0)),
              "email-acte-naissance", 3),
        _Case(service("accueil@mairie-portu-bellu.example", "2A", "Portu-Bellu", "accueil_mairie",
                      _forced("ack-then-other-agent", Outcome.ACK_THEN_ANSWER,
                              automatic_ack_share=1.0, other_agent_share=1.0,
                              other_agent_unthreaded_share=1.0, junk_share=0.0)),
              "email-inscription-listes-electorales", 2),
        _Case(service("police@mairie-lavernay.example", "21", "Lavernay", "police_municipale",
                      PROFILES["adresse-morte"]), "email-bruit-voisinage", 2),
        _Case(service("urbanisme@kergoat-plage.example", "29", "Kergoat-Plage", "urbanisme",
                      PROFILES["adresse-refusee"]), "email-cloture-declaration-prealable", 1),
        _Case(service("accueil@serignac-le-vieux.example", "34", "Sérignac-le-Vieux",
                      "accueil_mairie", _forced("redirects", Outcome.REDIRECT, junk_share=0.0)),
              "email-aide-ponctuelle", 2),
        _Case(service("etat-civil@mornealianes.example", "972", "Le Morne-aux-Lianes",
                      "etat_civil", _forced("away", Outcome.OUT_OF_OFFICE_THEN_ANSWER,
                                            junk_share=0.0)),
              "email-acte-naissance", 2),
        _Case(service("mediatheque@villeneuve-la-sabliere.example", "44",
                      "Villeneuve-la-Sablière", "bibliotheque",
                      _forced("junk-human-ack", Outcome.ACK_ONLY, automatic_ack_share=0.0,
                              junk_share=1.0)), "email-carte-bibliotheque", 2),
        _Case(service("accueil@mairie-saint-aubin-des-pres.example", "35",
                      "Saint-Aubin-des-Prés", "accueil_mairie", PROFILES["muette"]),
              "email-inscription-scolaire", 1),
        _Case(service("piscine@kergoat-plage.example", "29", "Kergoat-Plage", "piscine",
                      PROFILES["reactive"]), "email-piscine-tarifs", 4),
        _Case(service("ccas@serignac-le-vieux.example", "34", "Sérignac-le-Vieux", "ccas",
                      PROFILES["lente"]), "email-apa-parent", 4),
    ]  # fmt: skip


PERSONAS = (
    PersonaView("Claire Martin", "Claire", "Martin", "claire.martin@temoin.example",
                "12 rue des Lilas", "57000", "Metz"),
    PersonaView("Karim Benali", "Karim", "Benali", "karim.benali@temoin.example",
                "4 impasse des Tilleuls", "31000", "Toulouse"),
)  # fmt: skip


@dataclass(frozen=True)
class _Sent:
    message_id: str
    persona: PersonaView
    case: _Case
    refused: bool


@dataclass(frozen=True)
class _Stored:
    uid: int
    internaldate: datetime
    raw: bytes


def _mailbox(server: DovecotServer, user: str, mailbox: str) -> dict[str, _Stored]:
    """Every message of ``mailbox``, by Message-ID, read with imaplib."""
    conn = server.imap(user)
    try:
        typ, _ = conn.select(mailbox, readonly=True)
        assert typ == "OK"
        typ, data = conn.uid("FETCH", "1:*", "(UID INTERNALDATE BODY.PEEK[])")
        assert typ == "OK"
        found: dict[str, _Stored] = {}
        for item in data:
            if not isinstance(item, tuple):
                continue
            head, raw = item
            uid = int(re.search(rb"UID (\d+)", head).group(1))  # type: ignore[union-attr]
            date = re.search(rb'INTERNALDATE "([^"]+)"', head).group(1)  # type: ignore[union-attr]
            message_id = parse_message(raw).message_id
            assert message_id is not None
            found[message_id] = _Stored(uid, parse_internaldate(date.decode()), raw)
        return found
    finally:
        conn.logout()


async def test_a_campaign_of_requests_gets_its_reactions_in_the_persona_mailboxes(
    smtp_provider: SmtpProvider,
    dovecot_server: DovecotServer,
    mail_user: str,
    tmp_path: Path,
) -> None:
    second_user = mail_user + "b"
    dovecot_server.add_user(second_user)
    users = {PERSONAS[0].email: mail_user, PERSONAS[1].email: second_user}
    for persona in PERSONAS:
        smtp_provider.add_account(persona.email, PASSWORD)
    cases = _cases()
    clock = FixedClock(T0)
    truth = Truth(tmp_path / "truth.jsonl")
    known: dict[str, ContactInfo] = {}
    simulator = SimulatedCollectivities(
        smtp_provider,
        dovecot_server,
        clock,
        {case.service.address: case.service for case in cases},
        users,
        CATALOG,
        seed=2027,
        resolve=known.get,
        truth=truth,
    )
    try:
        # The first persona's scenarios are recognised from the wording; the second
        # persona's are known to the demo (the resolver) and it uses sub-addressing.
        sent = await _send_as(smtp_provider, clock, cases, PERSONAS[0], None)
        sent += await _send_as(smtp_provider, clock, cases, PERSONAS[1], known)

        # A few simulated minutes later only machines have answered.
        sent_done = clock.now()
        early = simulator.pump(sent_done + timedelta(minutes=5))
        assert any(d.reaction.automatic for d in early)
        for delivery in early:
            assert delivery.reaction.delivered_at is not None
            assert delivery.reaction.delivered_at <= sent_done + timedelta(minutes=5)
        next_due = simulator.next_due()
        assert next_due is not None and next_due > sent_done + timedelta(minutes=5)
        assert simulator.pending > 0

        # A follow-up in the thread of a request gets no new reaction.
        first = next(s for s in sent if not s.refused and s.case.service.profile.key == "answers")
        followup = build_email(
            sender=Sender(first.persona.display_name, first.persona.email),
            to=first.case.service.address,
            subject="Relance : demande",
            body="Bonjour,\n\nJe me permets de vous relancer.\n\nClaire Martin\n",
            message_id=make_message_id(first.persona.email),
            date=clock.now(),
            in_reply_to=first.message_id,
        )
        async with aiosmtplib.SMTP(
            hostname=smtp_provider.host, port=smtp_provider.port, timeout=10
        ) as smtp:
            await smtp.login(first.persona.email, PASSWORD)
            await smtp.send_message(followup)

        clock.advance(timedelta(days=60))
        later = simulator.pump()
        assert simulator.pending == 0 and simulator.next_due() is None
        assert simulator.followups == [str(followup["Message-ID"])]
    finally:
        simulator.detach()
    assert smtp_provider.on_message is None and smtp_provider.rules == []

    delivered = early + later
    reactions = truth.reactions
    assert Truth.load(tmp_path / "truth.jsonl").reactions == reactions

    # Every accepted request is in the truth once per planned reaction, with its scenario.
    accepted = [s for s in sent if not s.refused]
    for request in accepted:
        own = truth.for_contact(request.message_id)
        assert own, request
        assert {r.scenario_id for r in own} == {request.case.scenario}
        assert {r.service for r in own} == {request.case.service.address}
        if request.persona is PERSONAS[1]:
            assert {r.contact_id for r in own} == {f"contact-{request.message_id}"}
    refused = [s for s in sent if s.refused]
    assert len(refused) == 2 and {s.case.service.profile.key for s in refused} == {
        "adresse-refusee"
    }
    assert [r.service for r in truth.refusals] == ["urbanisme@kergoat-plage.example"] * 2
    assert not any(r.contact_message_id in {s.message_id for s in refused} for r in reactions)
    kinds = {r.kind for r in reactions}
    assert kinds == {
        "answer", "acknowledgement", "out_of_office", "bounce", "redirect", "other", "none"
    }  # fmt: skip

    # Read both mailboxes back: every delivery is there, as the truth says.
    stored = {
        (user, box): _mailbox(dovecot_server, user, box)
        for user in users.values()
        for box in ("INBOX", "Junk")
    }
    assert sum(len(messages) for messages in stored.values()) == len(delivered)
    assert {d.reaction.reaction_id for d in delivered} == {r.reaction_id for r in reactions
                                                           if r.delivered}  # fmt: skip
    junk = 0
    for delivery in delivered:
        reaction = delivery.reaction
        assert reaction.mailbox_user is not None and reaction.mailbox is not None
        junk += reaction.mailbox == "Junk"
        message = stored[(reaction.mailbox_user, reaction.mailbox)][
            str(reaction.reaction_message_id)
        ]
        assert message.internaldate == reaction.delivered_at
        assert message.uid == reaction.uid
        parsed = parse_message(message.raw)
        assert parsed.from_ is not None and parsed.from_.address == reaction.sender
        if reaction.threaded:
            assert parsed.in_reply_to == reaction.contact_message_id
            assert parsed.references[-1] == reaction.contact_message_id
        else:  # no thread, or a ticket system's own
            assert reaction.contact_message_id not in (parsed.in_reply_to, *parsed.references)
        if reaction.other_agent:
            assert reaction.sender is not None
            assert reaction.sender.split("@")[1] == reaction.service.split("@")[1]
            # from the agent's own address, unless the ticket system sent it
            assert reaction.sender != reaction.service or reaction.form in TICKET_SYSTEMS
        if not reaction.automatic:  # people write in office hours of their département
            calendar = BusinessCalendar.for_departement(
                next(c.service.departement for c in cases if c.service.address == reaction.service)
            )
            local = message.internaldate.astimezone(calendar.tz)
            assert calendar.is_business_day(local.date())
            assert any(a <= local.time() < b for a, b in DEFAULT_OFFICE_HOURS)
        result = classify(parsed)
        if reaction.kind == "bounce":
            assert parsed.report_type == "delivery-status"
            assert result.bounce is not None
            assert result.bounce.original_message_id == reaction.contact_message_id
            assert result.bounce.recipient == reaction.service
            assert result.bounce.severity == ("hard" if reaction.undeliverable else "soft")
        # Realism check: our classifier reads every simulated message as the truth says.
        assert result.kind == reaction.kind, (reaction.kind, result, parsed.new_text)
        if reaction.kind == "answer":
            own_text = f"{parsed.new_text}\n{parsed.signature}"
            scenario = CATALOG.get(str(reaction.scenario_id))
            hits = check_expected(own_text, scenario.expected_elements)
            assert {h.id for h in hits if h.found} == set(reaction.included)
            assert set(reaction.included) | set(reaction.omitted) == {
                e.id for e in scenario.expected_elements
            }
    assert junk >= 4  # the human acknowledgements filed as spam
    assert simulator.clamped_dates == 0
    # Replies go where the persona asked: its Reply-To token when it gave one.
    tokens = [r for r in reactions if r.recipient and "+tok" in r.recipient]
    assert tokens and all(r.mailbox_user == second_user for r in tokens)


async def _send_as(
    provider: SmtpProvider,
    clock: FixedClock,
    cases: list[_Case],
    persona: PersonaView,
    known: dict[str, ContactInfo] | None,
) -> list[_Sent]:
    """Send every case's requests as ``persona``, as the dispatcher would (one connection)."""
    sent: list[_Sent] = []
    async with aiosmtplib.SMTP(hostname=provider.host, port=provider.port, timeout=10) as smtp:
        await smtp.login(persona.email, PASSWORD)
        for case in cases:
            scenario = CATALOG.get(case.scenario)
            service = case.service
            view = ServiceView.of_kind(service.name or "Service", service.kind,
                                       service.collectivity)  # fmt: skip
            for index in range(case.requests):
                wording = scenario.wordings[(index + len(sent)) % len(scenario.wordings)]
                rendered = render_wording(
                    wording, persona, view, CollectivityView(service.collectivity)
                )
                local, domain = persona.email.split("@")
                # as make_message_id would, but the same every run: decisions are seeded by it
                message_id = f"<{len(sent):04d}.{local}.{case.service.profile.key}@{domain}>"
                reply_to = None
                if known is not None:
                    known[message_id] = ContactInfo(case.scenario, f"contact-{message_id}")
                    reply_to = f"{local}+tok{len(sent)}xyz@{domain}"
                message = build_email(
                    sender=Sender(persona.display_name, persona.email),
                    to=service.address,
                    subject=rendered.subject or "",
                    body=rendered.body,
                    message_id=message_id,
                    date=clock.now(),
                    reply_to=reply_to,
                )
                refused = False
                try:
                    await smtp.send_message(message)
                except aiosmtplib.SMTPRecipientsRefused as exc:
                    assert [r.code for r in exc.recipients] == [550]
                    refused = True
                sent.append(_Sent(message_id, persona, case, refused))
                clock.advance(timedelta(seconds=37))
    return sent


async def test_run_delivers_in_fast_simulated_time(
    smtp_provider: SmtpProvider, dovecot_server: DovecotServer, mail_user: str
) -> None:
    persona = PERSONAS[0]
    smtp_provider.add_account(persona.email, PASSWORD)
    clock = FastClock(T0, speed=3600.0)  # a simulated hour per real second
    service = SimulatedService(
        "etat-civil@mairie-eschwiller.example",
        "67",
        _forced("ack", Outcome.ACK_ONLY, automatic_ack_share=1.0, junk_share=0.0, **QUIET),
        collectivity="Eschwiller",
        kind="etat_civil",
    )
    simulator = SimulatedCollectivities(
        smtp_provider,
        dovecot_server,
        clock,
        {service.address: service},
        {persona.email: mail_user},
        CATALOG,
        seed="fast",
    )
    stop = asyncio.Event()
    runner = asyncio.create_task(simulator.run(stop, interval=0.02))
    try:
        scenario = CATALOG.get("email-acte-naissance")
        rendered = render_wording(
            scenario.wordings[0],
            persona,
            ServiceView.of_kind("État civil", "etat_civil", "Eschwiller"),
            CollectivityView("Eschwiller"),
        )
        message_id = make_message_id(persona.email)
        message = build_email(
            sender=Sender(persona.display_name, persona.email),
            to=service.address,
            subject=rendered.subject or "",
            body=rendered.body,
            message_id=message_id,
            date=clock.now(),
        )
        async with aiosmtplib.SMTP(
            hostname=smtp_provider.host, port=smtp_provider.port, timeout=10
        ) as smtp:
            await smtp.login(persona.email, PASSWORD)
            await smtp.send_message(message)
        for _ in range(200):
            if any(r.delivered for r in simulator.truth.reactions):
                break
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.wait_for(runner, timeout=10)
        simulator.detach()
    [ack] = simulator.truth.reactions
    assert ack.kind == "acknowledgement" and ack.delivered
    assert ack.scenario_id == "email-acte-naissance"  # recognised from the wording
    assert ack.delivered_at is not None and ack.planned_at == ack.delivered_at
    assert T0 < ack.delivered_at < clock.now()
    [stored] = _mailbox(dovecot_server, mail_user, "INBOX").values()
    assert stored.internaldate == ack.delivered_at
    assert classify(parse_message(stored.raw)).kind == "acknowledgement"


async def test_a_date_the_server_does_not_keep_is_recorded_as_stored_and_counted(
    smtp_provider: SmtpProvider,
    dovecot_server: DovecotServer,
    mail_user: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    persona = PERSONAS[0]
    smtp_provider.add_account(persona.email, PASSWORD)
    future = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    clock = FixedClock(future)
    service = SimulatedService(
        "accueil@lavernay.example",
        "21",
        _forced("ack", Outcome.ACK_ONLY, automatic_ack_share=1.0, junk_share=0.0, **QUIET),
        collectivity="Lavernay",
    )
    simulator = SimulatedCollectivities(
        smtp_provider,
        dovecot_server,
        clock,
        {service.address: service},
        {persona.email: mail_user},
        CATALOG,
        seed=1,
    )
    try:
        message = build_email(
            sender=Sender(persona.display_name, persona.email),
            to=service.address,
            subject="Renseignement",
            body="Bonjour,\n\nQuels sont vos horaires ?\n\nClaire Martin\n",
            message_id=make_message_id(persona.email),
            date=clock.now(),
        )
        async with aiosmtplib.SMTP(
            hostname=smtp_provider.host, port=smtp_provider.port, timeout=10
        ) as smtp:
            await smtp.login(persona.email, PASSWORD)
            await smtp.send_message(message)
        [delivery] = simulator.pump(future + timedelta(hours=1))
    finally:
        simulator.detach()
    ack = delivery.reaction
    assert ack.scenario_id is None  # nothing in the catalogue reads like this
    assert ack.planned_at is not None and ack.planned_at > future
    assert ack.delivered_at is not None and ack.delivered_at < future
    assert simulator.clamped_dates == 1
    assert "simulate a period in the past" in caplog.text
    [stored] = _mailbox(dovecot_server, mail_user, "INBOX").values()
    assert stored.internaldate == ack.delivered_at


def _plain(body: str) -> bytes:
    return (
        "From: Service État civil <etat-civil@mairie.example>\r\n"
        "To: Claire Martin <claire.martin@temoin.example>\r\n"
        "Subject: RE : Demande de copie intégrale d'acte de naissance\r\n"
        "Message-ID: <1@mairie.example>\r\n"
        "In-Reply-To: <A@temoin.example>\r\n"
        "Date: Tue, 02 Mar 2027 10:12:38 +0100\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n" + body.replace("\n", "\r\n")
    ).encode()


def test_a_short_human_receipt_after_a_greeting_is_an_acknowledgement() -> None:
    raw = _plain(
        "Bonjour,\n\nBien reçu, je reviens vers vous dès que possible.\n\n"
        "Cordialement,\nSophie Lambert\n"
    )
    assert classify(parse_message(raw)).kind == "acknowledgement"


def test_a_short_answer_that_opens_with_a_receipt_is_an_answer() -> None:
    raw = _plain(
        "Bonjour Madame,\n\nNous avons bien reçu votre demande et vous en remercions.\n\n"
        "La délivrance des actes d'état civil est gratuite. La copie vous sera envoyée par "
        "voie postale, en général sous huitaine.\n\nBien cordialement,\nJulien Moreau\n"
    )
    assert classify(parse_message(raw)).kind == "answer"
