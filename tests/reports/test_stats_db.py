"""Facts from the database (storage.stats + reports.stored_facts.contact_facts), on both backends.

The fixture campaign ``build_campaign`` lives in tests/reports/statsworld.py, shared with
test_exports and test_reports. Every expected value is worked out by hand in the comments.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from reports.aggregate import aggregate
from reports.campaign_stats import compute_stats, contact_records
from reports.facts import ContactFacts, CountingCalendar, delays_for
from reports.stored_facts import content_checks
from scenarios.calendar import BusinessCalendar
from storage.db import Database
from storage.stats import ContactRow
from tests.reports.statsworld import (
    ANSWERS,
    CLOSE,
    SENT,
    Fixture,
    build_campaign,
)


async def _facts(
    database: Database, fx: Fixture, as_of: datetime = CLOSE
) -> dict[int, tuple[ContactRow, ContactFacts]]:
    out: dict[int, tuple[ContactRow, ContactFacts]] = {}
    async with database.session() as s:
        async for row, facts in contact_records(s, fx.campaign, as_of=as_of):
            out[row.id] = (row, facts)
    return out


async def test_facts_from_the_database(database: Database) -> None:
    fx = await build_campaign(database)
    facts = await _facts(database, fx)
    assert list(facts) == sorted(facts)  # streamed in contact id order
    assert len(facts) == 12  # 8 emails, 1 bounced, phone, visit, letter

    _row, first = facts[fx.contact_ids["email0"]]
    assert first.answer_seconds == 25 * 3600.0
    assert first.answer_business_days == 1
    assert first.answered_within_target is True
    assert first.collectivity_code == "63901"
    assert first.closed_at == CLOSE
    # content checks: procedure (auto yes), gratuite (override yes), delai (no); form greeting
    grid = {cid: met for cid, _w, met in first.grid}
    assert grid == {
        "email-acte-naissance.content.delai": False,
        "email-acte-naissance.content.gratuite": True,
        "email-acte-naissance.content.procedure": True,
        "form.greeting": True,
    }
    _row, late = facts[fx.contact_ids["email3"]]
    assert (late.answer_business_days, late.answered_within_target) == (6, False)
    _row, on_time = facts[fx.contact_ids["email2"]]
    assert (on_time.answer_business_days, on_time.answered_within_target) == (5, True)
    _row, silent = facts[fx.contact_ids["email5"]]
    # censored at close: business days 3..31 March = 21; acknowledged after 5 minutes
    assert silent.answer_seconds is None
    assert silent.censor_business_days == 21
    assert silent.censor_seconds == (CLOSE - SENT).total_seconds()
    assert silent.answered_within_target is False
    assert (silent.ack_seconds, silent.ack_business_days) == (300.0, 0)
    assert facts[fx.contact_ids["bounced"]][1].undeliverable is True

    row, phone = facts[fx.contact_ids["phone"]]
    assert phone.sent_at == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)  # first attempt
    assert phone.picked_up is True
    assert phone.seconds_to_pickup == 12.0
    assert phone.hold_seconds == 90.0
    assert phone.transfers == 1
    assert phone.rings == 3
    assert row.answers["courtesy"] == "aimable"
    phone_grid = {cid.removeprefix("phone-listes-electorales."): met for cid, _w, met in phone.grid}
    assert phone_grid["picked_up"] is True
    assert phone_grid["documents_given"] is False
    assert phone_grid["no_answer"] is None  # not relevant once picked up
    assert phone_grid["callback_offered"] is False  # relevant: outcome is "partielle"

    _row, visit = facts[fx.contact_ids["visit"]]
    assert (visit.waiting_seconds, visit.service_seconds) == (450.0, 450.0)
    assert visit.sent_at == datetime(2026, 3, 4, 9, 0, tzinfo=UTC)

    _row, letter = facts[fx.contact_ids["letter"]]
    assert letter.sent_at == datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
    assert letter.first_answer_at == datetime(2026, 3, 12, 10, 0, tzinfo=UTC)
    assert letter.answer_business_days == 8
    assert (letter.answer_target_days, letter.answered_within_target) == (15, True)


async def test_statistics_by_channel(database: Database) -> None:
    fx = await build_campaign(database)
    async with database.session() as s:
        tables = await compute_stats(s, fx.campaign, [("channel",), ()], as_of=CLOSE)
    by_channel = {cell.key("channel"): cell for cell in tables[0][1]}
    email = by_channel["email"]
    # 9 emails sent, 1 undeliverable: 8 delivered, 5 answered
    assert (email.planned, email.sent, email.undeliverable, email.delivered) == (9, 9, 1, 8)
    assert (email.response.successes, email.response.n) == (5, 8)
    assert email.response.rate == 0.625
    # within 5 business days: 1, 4, 5 and 2 bd -> 4 of 8 (the 3 unanswered are late)
    assert (email.answered_within_target.successes, email.answered_within_target.n) == (4, 8)
    # acknowledged: the 5 answered + the one with an automatic acknowledgement
    assert email.acknowledgement.successes == 6
    assert email.answer_bdays.censored == 3
    # observed median of 1, 2, 4, 5, 6 business days
    assert email.answer_bdays.median == 4.0
    # KM: 8 at risk; S drops to 7/8, 6/8, 5/8, 4/8 = 0.5 at 5 bd -> median 5
    assert email.answer_bdays.km.median == 5.0
    phone = by_channel["phone"]
    assert (phone.phone.calls, phone.phone.picked_up.successes) == (1, 1)
    assert by_channel["visit"].visit.waiting_seconds_median == 450.0
    letter = by_channel["letter"]
    assert (letter.response.successes, letter.response.n) == (1, 1)
    overall = tables[1][1][0]
    assert overall.planned == 12


async def test_open_campaign_is_censored_at_the_report_time(database: Database) -> None:
    fx = await build_campaign(database, closed=False)
    as_of = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)  # Friday 6 March
    facts = await _facts(database, fx, as_of=as_of)
    _row, silent = facts[fx.contact_ids["email5"]]
    assert silent.closed_at == as_of
    assert silent.censor_business_days == 4  # 3, 4, 5, 6 March
    assert silent.answered_within_target is None  # 4 <= 5: cannot be told yet
    _row, late = facts[fx.contact_ids["email3"]]
    # answered on 10 March, after the as-of instant: not an answer yet
    assert late.answer_seconds is None


async def test_stream_chunks_give_the_same_rows(database: Database) -> None:
    """Chunks of 2 contacts (side tables read per id range) give the same facts."""
    from storage.stats import stream_contact_rows

    fx = await build_campaign(database)
    async with database.session() as s:
        whole = [r async for r in stream_contact_rows(s, fx.campaign.id)]
        small = [r async for r in stream_contact_rows(s, fx.campaign.id, chunk=2)]
    assert whole == small
    assert sum(len(r.events) for r in whole) == 8 + 3 + 3
    assert sum(len(r.answers) for r in whole) == 12


def test_counting_calendar_equals_the_plain_calendar() -> None:
    rnd = random.Random(20260302)
    base = datetime(2023, 12, 1, tzinfo=UTC)
    for departement in ("63", "57", "67", "974", "971", "2A"):
        fast = CountingCalendar(departement)
        plain = BusinessCalendar(departement)
        for _ in range(3000):
            a = base + timedelta(seconds=rnd.randrange(0, 3 * 365 * 86400))
            b = a + timedelta(seconds=rnd.randrange(-5 * 86400, 500 * 86400))
            assert fast.business_days_between(a, b) == plain.business_days_between(a, b)
            kwargs = {
                "sent_at": a,
                "first_ack_at": a + timedelta(seconds=rnd.randrange(0, 9 * 86400)),
                "first_answer_at": max(a, b) if rnd.random() < 0.6 else None,
                "closed_at": a + timedelta(days=40),
                "ack_target_days": 5,
                "answer_target_days": 15,
            }
            assert delays_for(fast, **kwargs) == delays_for(plain, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        CountingCalendar("63").business_days_between(datetime(2026, 3, 2), SENT)


def test_content_checks_reads_what_tracking_writes() -> None:
    checks = {
        "expected": {
            "a": {"auto": True},
            "b": {"auto": True, "override": {"value": False, "note": "faux positif"}},
            "c": {"auto": None},
        },
        "form": {"greeting": {"auto": False}},
        "links": ["https://example.org"],
    }
    assert content_checks(checks) == {"content.a": True, "content.b": False, "form.greeting": False}
    assert content_checks(None) == {}
    assert content_checks({"expected": "garbage"}) == {}


def test_aggregate_of_facts_is_unchanged_by_the_aggregator_refactor() -> None:
    """``aggregate`` and an ``Aggregator`` fed one by one give equal cells."""
    from reports.aggregate import Aggregator

    cal = BusinessCalendar("63")
    facts = []
    for index, answer in enumerate(ANSWERS):
        d = delays_for(
            cal, sent_at=SENT, first_answer_at=answer, closed_at=CLOSE, answer_target_days=5
        )
        facts.append(
            ContactFacts(
                channel="email", scenario_id="s", service_kind="etat_civil",
                collectivity_code=str(index), collectivity_name=str(index),
                collectivity_kind="commune",
                population=1000 * (index + 1), departement="63", region=None, status="sent",
                planned_at=SENT, sent_at=SENT, first_answer_at=answer, closed_at=CLOSE,
                answer_seconds=d.answer_seconds, answer_business_days=d.answer_business_days,
                censor_seconds=d.censor_seconds, censor_business_days=d.censor_business_days,
                answered_within_target=d.answered_within_target,
            )
        )  # fmt: skip
    pushed = Aggregator(("stratum",))
    for fact in facts:
        pushed.add(fact)
    assert pushed.cells() == aggregate(facts, by=("stratum",))


def test_stream_columns_match_the_row_fields() -> None:
    """``stream_contact_rows`` builds ``ContactRow`` positionally from ``_COLUMNS``."""
    import dataclasses

    from storage.stats import _COLUMNS

    pairs = [
        (f"{column.table.name}.{column.key}", field.name)
        for column, field in zip(_COLUMNS[:21], dataclasses.fields(ContactRow), strict=False)
    ]
    for source, target in pairs:
        table, name = source.split(".")
        expected = {
            ("service", "kind"): "service_kind",
            ("service", "name"): "service_name",
            ("collectivity", "insee_code"): "collectivity_code",
            ("collectivity", "name"): "collectivity_name",
            ("collectivity", "kind"): "collectivity_kind",
        }.get((table, name), name)
        assert target == expected, (source, target)
