"""Our side's failures are held, never findings, and an outage of our provider costs seconds.

The dispatcher against the simulated provider (aiosmtpd) and Dovecot, on SQLite and
PostgreSQL, with a clock pinned to the second (the world of tests/test_dispatcher.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from scenarios.i18n import Translator
from scenarios.typography import violations
from sim.dovecot import free_port
from sim.smtp_provider import SmtpProvider
from storage.models import Campaign, ContactEvent
from temoin.cli.campaign_show import gather_show
from temoin.cli.waiting import waiting_lines
from temoin.cli.words import Words
from temoin.cli.worker import report_lines
from tests.runners.dispatchworld import MONDAY_10H, World

PROVIDER_500 = "500 Error: (ConnectionRefusedError) [Errno 111] Connection refused"


async def events(world: World, contact_id: int, kind: str) -> list[dict[str, Any]]:
    async with world.database.session() as s:
        rows = await s.scalars(
            select(ContactEvent.detail)
            .where(ContactEvent.contact_id == contact_id, ContactEvent.kind == kind)
            .order_by(ContactEvent.id)
        )
        return [dict(d or {}) for d in rows]


def refuse_data(world: World, reply: str, times: int) -> list[int]:
    """The provider answers ``reply`` after DATA to the next ``times`` messages."""
    seen = [0]

    def rule(stage: str, address: str, _n: int) -> str | None:
        if stage != "DATA" or address == world.persona_email:
            return None
        seen[0] += 1
        return reply if seen[0] <= times else None

    world.provider.rules.append(rule)
    return seen


async def test_5xx_after_data_from_our_provider_is_held_not_a_finding(world: World) -> None:
    """The audit's case: the provider could not file our blind copy and said 500 after DATA.
    That says nothing about the town hall: held, never undeliverable, then sent once."""
    cid = await world.contact()
    refuse_data(world, PROVIDER_500, times=1)
    report = await world.dispatcher().run_once()
    assert (report.held, report.undeliverable, report.retried) == (1, 0, 0)
    row = await world.get(cid)
    assert row.status == "planned" and row.attempts == 0 and row.outcome_reason is None
    assert row.last_error == f"held (error at our provider, data): {PROVIDER_500}"
    [held] = await events(world, cid, "held")
    assert held["decision"] == "held" and held["about"] == "provider"
    assert held["stage"] == "data" and held["reply"] == PROVIDER_500 and held["code"] == 500
    assert world.provider.received == []
    # Held, not lost: once the provider accepts, it goes out, once.
    assert row.next_attempt_at is not None
    world.clock.set(row.next_attempt_at)
    again = await world.dispatcher().run_once()
    assert again.sent == 1
    row = await world.get(cid)
    assert row.status == "sent" and row.attempts == 1
    assert world.sink_ids() == [row.message_id]


async def test_provider_whose_mailbox_store_is_down_answers_451_and_is_retried_in_seconds(
    world: World,
) -> None:
    """For real: the provider's LMTP target refuses connections (a Dovecot restart)."""
    cid = await world.contact()
    target = world.provider.local_mailboxes[world.persona_email]
    world.provider.local_mailboxes[world.persona_email] = (world.user, free_port())
    report = await world.dispatcher().run_once()
    assert report.held == 1 and report.undeliverable == 0
    row = await world.get(cid)
    assert row.attempts == 0 and "451 4.3.0" in (row.last_error or "")
    assert row.next_attempt_at is not None
    assert row.next_attempt_at - MONDAY_10H <= timedelta(seconds=5)
    world.provider.local_mailboxes[world.persona_email] = target
    world.clock.set(row.next_attempt_at)
    assert (await world.dispatcher().run_once()).sent == 1
    assert world.sink_ids() == [(await world.get(cid)).message_id]


async def test_a_provider_down_for_20_seconds_delays_the_sends_by_seconds(world: World) -> None:
    ids = [await world.contact() for _ in range(5)]
    port = world.provider.port
    world.provider.stop()
    dispatcher = world.dispatcher()  # one worker process: its breaker remembers
    t0 = world.clock.now()
    first = await dispatcher.run_once()
    assert (first.held, first.retried, first.undeliverable) == (5, 0, 0)
    for cid in ids:
        row = await world.get(cid)
        assert row.status == "planned" and row.attempts == 0
        assert row.next_attempt_at == t0 + timedelta(seconds=5)  # not 20 minutes
        assert (row.last_error or "").startswith("held (provider unreachable, connect): ")
    # One line for the provider, not one per contact.
    [line] = first.lines()
    assert line.startswith(f"127.0.0.1:{port}: 5 contacts held until 09:00:12Z — provider ")
    assert "(connection refused)" in line
    # As `temoin worker --once` shows it to a coordinator: French by default, English with en.
    [french] = first.lines(Translator("fr"))
    assert french.startswith(
        f"127.0.0.1:{port}\u202f: 5 contacts en attente jusqu’à 09:00:12Z — fournisseur "
        "injoignable depuis 09:00:07Z (connection refused)"
    ), french
    assert not violations(french), french
    assert first.lines(Translator("en")) == [line]
    shown = report_lines(first, Words("fr"))  # all `temoin worker --once` prints
    assert "5 retenus" in shown[0] and shown[1] == f"  {french}", shown
    lead = f"  contact {ids[0]}\u202f: en attente (fournisseur injoignable, connexion)\u202f: "
    assert any(line.startswith(lead) for line in shown), shown
    english = report_lines(first, Words("en"))
    assert [s.strip() for s in english[2:]] == first.errors
    # Still down at the probes: 5 s, then 10 s further.
    world.clock.set(t0 + timedelta(seconds=5))
    assert (await dispatcher.run_once()).held == 5
    assert (await world.get(ids[0])).next_attempt_at == t0 + timedelta(seconds=15)
    world.clock.set(t0 + timedelta(seconds=15))
    assert (await dispatcher.run_once()).held == 5
    probe = (await world.get(ids[0])).next_attempt_at
    assert probe == t0 + timedelta(seconds=35)
    [held] = (await events(world, ids[0], "held"))[-1:]
    assert held["probe"] == 3 and held["since"] == t0.isoformat()
    assert held["provider"] == f"127.0.0.1:{port}" and held["cause"] == "connection refused"
    # Back after 20 s: the next probe sends everything, in one run.
    restarted = SmtpProvider.start(credentials=world.provider.credentials, port=port)
    restarted.local_mailboxes.update(world.provider.local_mailboxes)
    try:
        world.clock.set(t0 + timedelta(seconds=20))
        assert (await dispatcher.run_once()).claimed == 0  # held to the probe, not knocking
        world.clock.set(probe)
        back = await dispatcher.run_once()
        assert back.sent == 5 and back.held == 0
        sent = [(await world.get(cid)).sent_at for cid in ids]
        assert all(at == probe for at in sent)
        mids = sorted([(await world.get(cid)).message_id or "" for cid in ids])
        to_services = [m for m in restarted.received if m.recipients[0] != world.persona_email]
        assert sorted(m.message_id or "" for m in to_services) == mids and len(mids) == 5
    finally:
        restarted.stop()


async def test_a_refused_login_holds_the_account_with_one_attempt_per_probe(
    world: World,
) -> None:
    ids = [await world.contact() for _ in range(3)]
    right = world.provider.credentials[world.user]
    world.provider.credentials[world.user] = "not-the-password"
    dispatcher = world.dispatcher()
    report = await dispatcher.run_once()
    assert report.held == 3 and report.undeliverable == 0
    # One session tried (aiosmtplib offers each mechanism the server lists: PLAIN, LOGIN).
    tried = len(world.provider.logins)
    assert tried >= 1 and not any(ok for _, ok in world.provider.logins)
    row = await world.get(ids[0])
    assert (row.last_error or "").startswith("held (authentication refused, auth): 535")
    [held] = await events(world, ids[0], "held")
    assert held["about"] == "account"
    # A contact that comes due meanwhile is held too, without another login.
    late = await world.contact(planned_at=MONDAY_10H + timedelta(seconds=10))
    world.clock.advance(timedelta(seconds=30))
    assert (await dispatcher.run_once()).held == 1
    assert len(world.provider.logins) == tried
    assert (await world.get(late)).next_attempt_at == row.next_attempt_at
    # The operator fixes the password: at the probe, everything goes.
    world.provider.credentials[world.user] = right
    assert row.next_attempt_at is not None
    world.clock.set(row.next_attempt_at)
    assert (await dispatcher.run_once()).sent == 4
    assert [ok for _, ok in world.provider.logins[tried:]] == [True]


async def test_only_the_recipients_own_temporary_refusals_count_towards_undeliverable(
    world: World,
) -> None:
    theirs = await world.contact(service={"email": "accueil@mairie-greylist.example"})
    ours = await world.contact(service={"email": "accueil@mairie-patiente.example"})
    world.provider.rules.append(
        lambda stage, address, _n: (
            "450 4.2.0 Recipient address rejected: Greylisted"
            if stage == "RCPT" and address == "accueil@mairie-greylist.example"
            else "451 4.3.0 Local error in processing"
            if stage == "DATA" and address == "accueil@mairie-patiente.example"
            else None
        )
    )
    dispatcher = world.dispatcher(max_attempts=3)
    for _ in range(6):
        await dispatcher.run_once()
        world.clock.advance(timedelta(minutes=20))  # past each backoff, before lunch
    given_up, held = await world.get(theirs), await world.get(ours)
    assert given_up.status == "undeliverable" and given_up.attempts == 3
    assert (given_up.outcome_reason or "").startswith("gave up after 3 attempts: retry (recipient")
    assert held.status == "planned" and held.attempts == 0
    assert "451 4.3.0" in (held.last_error or "")
    assert world.provider.received == []


async def test_when_the_provider_accepts_again_what_its_breaker_held_goes_out_at_once(
    world: World,
) -> None:
    """Three 500s in a row open the breaker: the first two were held for 20 minutes on their
    own, the rest of the batch to the probe. The probe's success releases them all."""
    ids = [await world.contact() for _ in range(5)]
    refuse_data(world, PROVIDER_500, times=3)
    dispatcher = world.dispatcher()
    first = await dispatcher.run_once()
    assert first.held == 5 and world.provider.received == []
    waits = [(await world.get(cid)).next_attempt_at for cid in ids]
    probe = MONDAY_10H + timedelta(seconds=60)
    assert waits[:2] == [MONDAY_10H + timedelta(seconds=1200)] * 2
    assert waits[2:] == [probe] * 3
    world.clock.set(probe)
    back = await dispatcher.run_once()
    # The probe's batch, then the two released, claimed again in the same run or the next.
    if back.sent < 5:
        back.add(await dispatcher.run_once())
    assert back.sent == 5
    assert any("accepts again after 60 s" in line and "2 held contacts released" in line
               for line in back.lines())  # fmt: skip
    assert any("accepte de nouveau après 60 s (erreur chez notre fournisseur depuis" in line
               and "\u202f; 2 contacts retenus libérés" in line
               for line in back.lines(Translator("fr")))  # fmt: skip
    assert sorted(world.sink_ids()) == sorted([(await world.get(c)).message_id for c in ids])


async def test_campaign_show_says_why_emails_wait_in_french_and_english(world: World) -> None:
    for _ in range(3):
        await world.contact()
    greylisted = await world.contact(service={"email": "accueil@mairie-greylist.example"})
    world.provider.rules.append(
        lambda stage, address, _n: (
            "450 4.2.0 Greylisted" if address == "accueil@mairie-greylist.example" else None
        )
    )
    dispatcher = world.dispatcher()
    await dispatcher.run_once()  # the greylisted one is refused, the other three go out
    port = world.provider.port
    world.provider.stop()
    for _ in range(2):
        await world.contact()
    world.clock.advance(timedelta(seconds=30))
    await dispatcher.run_once()  # the provider is down: held (the greylisted one not due)
    async with world.database.session() as s:
        name = (await s.scalars(select(Campaign.name))).one()
    paris = ZoneInfo("Europe/Paris")
    data = await gather_show(world.database, name, paris)
    by_reason = {entry["reason"]: entry for entry in data["waiting"]}
    assert set(by_reason) == {"provider_unreachable", "recipient_retry"}
    down = by_reason["provider_unreachable"]
    assert down["contacts"] == 2 and down["provider"] == f"127.0.0.1:{port}"
    assert down["cause"] == "connection refused" and "Errno 111" in down["reply"]
    assert down["since"] == "2026-03-02T09:00:37+00:00"
    assert down["next_attempt"] == "2026-03-02T09:00:42+00:00"
    assert by_reason["recipient_retry"]["contacts"] == 1
    now = world.clock.now()
    fr = waiting_lines(data["waiting"], "fr", paris, now)
    assert (
        f"2 contacts — en attente\u202f: fournisseur injoignable depuis 10\xa0h\xa000 "
        f"(connection refused)\u202f; prochain essai à 10\xa0h\xa000 — 127.0.0.1:{port}"
    ) in fr
    assert any(line.startswith("1 contact — en attente\u202f: refus temporaire du destinataire")
               for line in fr)  # fmt: skip
    en = waiting_lines(data["waiting"], "en", paris, now)
    assert (
        "2 contacts — waiting: provider unreachable since 10:00 (connection refused); "
        f"next try at 10:00 — 127.0.0.1:{port}"
    ) in en
    assert (await world.get(greylisted)).status == "planned"
