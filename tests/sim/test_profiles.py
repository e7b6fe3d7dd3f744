"""Behaviour profiles of the simulated services: deterministic, faithful to their shares, and
timed in business days and office hours of the right département."""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scenarios.calendar import BusinessCalendar
from sim.decisions import HUMAN_MIN_DELAY, Request, decide
from sim.profiles import (
    DEFAULT_MIX,
    DEFAULT_OFFICE_HOURS,
    PROFILES,
    DeadAddress,
    Outcome,
    Profile,
    ProfileMix,
    ServiceEntry,
    request_rng,
    simulated_services,
)

PARIS = BusinessCalendar.for_departement("75")
ELEMENTS = ("procedure", "informations", "parente", "gratuite", "delai")
# Monday 1 March 2027, 10:00 in Paris
MONDAY = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


# The mail around a request that answers nothing, switched off where a test is about replies.
NOTHING_ELSE = {
    "delayed_share": 0.0,
    "success_report_share": 0.0,
    "newsletter_share": 0.0,
    "notification_share": 0.0,
    "spam_share": 0.0,
}


def _replies_only(profile: Profile) -> Profile:
    return replace(profile, **NOTHING_ELSE)  # type: ignore[arg-type]


def _request(at: datetime = MONDAY) -> Request:
    return Request(received_at=at, elements=ELEMENTS)


def _in_office(calendar: BusinessCalendar, instant: datetime) -> bool:
    local = instant.astimezone(calendar.tz)
    return calendar.is_business_day(local.date()) and any(
        start <= local.time().replace(tzinfo=None) < end for start, end in DEFAULT_OFFICE_HOURS
    )


def test_a_decision_is_the_same_for_the_same_seed_and_differs_between_seeds() -> None:
    profile = PROFILES["reactive"]
    first = [
        decide(profile, _request(), PARIS, request_rng(7, "a@m.example", f"<{i}@p>"))
        for i in range(30)
    ]
    again = [
        decide(profile, _request(), PARIS, request_rng(7, "A@M.example", f"<{i}@p>"))
        for i in range(30)
    ]
    other = [
        decide(profile, _request(), PARIS, request_rng(8, "a@m.example", f"<{i}@p>"))
        for i in range(30)
    ]
    assert first == again
    assert first != other


@pytest.mark.parametrize("key", [k for k, p in PROFILES.items() if p.dead is None])
def test_outcomes_and_element_omissions_keep_their_shares(key: str) -> None:
    profile = PROFILES[key]
    draws = 3000
    outcomes: Counter[Outcome] = Counter()
    kept = offered = junk = written = 0
    for i in range(draws):
        decision = decide(profile, _request(), PARIS, request_rng("shares", key, str(i)))
        assert decision.outcome is not None
        outcomes[decision.outcome] += 1
        for reaction in decision.reactions:
            if reaction.kind == "answer":
                offered += len(ELEMENTS)
                kept += len(reaction.included)
                assert set(reaction.included) | set(reaction.omitted) == set(ELEMENTS)
                assert not set(reaction.included) & set(reaction.omitted)
            if reaction.kind not in ("bounce", "other"):  # replies: spam has a filter of its own
                written += 1
                junk += reaction.mailbox == "Junk"
    for outcome in Outcome:
        share = profile.share(outcome)
        sigma = math.sqrt(share * (1 - share) / draws)
        assert abs(outcomes[outcome] / draws - share) <= 4 * sigma + 1e-9, outcome
    if offered:
        share = 1 - profile.omit_share
        assert abs(kept / offered - share) <= 4 * math.sqrt(share * (1 - share) / offered)
    if written:
        share = profile.junk_share
        assert abs(junk / written - share) <= 4 * math.sqrt(share * (1 - share) / written) + 1e-9


def test_reactions_are_whole_seconds_people_in_office_hours_machines_within_seconds() -> None:
    calendar = BusinessCalendar.for_departement("57")
    start = datetime(2027, 3, 22, 16, 55, tzinfo=UTC)  # Monday before Holy Week, 17:55 local
    for key, with_everything in PROFILES.items():
        profile = _replies_only(with_everything)
        for i in range(300):
            received = start + timedelta(hours=7 * i, seconds=0.25)  # every hour of the week
            rng = request_rng("timing", key, str(i))
            reactions = decide(profile, _request(received), calendar, rng).reactions
            previous = received
            for reaction in reactions:
                assert reaction.at.tzinfo is UTC and reaction.at.microsecond == 0
                assert reaction.at > previous
                previous = reaction.at
                if reaction.automatic:
                    low, high = (
                        profile.bounce_seconds
                        if reaction.kind == "bounce"
                        else profile.auto_reply_seconds
                    )
                    waited = (reaction.at - received).total_seconds()
                    assert low <= waited <= high + 1
                else:
                    assert _in_office(calendar, reaction.at), (key, received, reaction)
                    assert reaction.at - received >= HUMAN_MIN_DELAY


def _exactly(days: int) -> Profile:
    weights = tuple(1.0 if d == days else 0.0 for d in range(days + 1))
    return Profile("test", "test", outcomes=((Outcome.ANSWER, 1.0),), answer_days=weights,
                   **NOTHING_ELSE)  # type: ignore[arg-type]  # fmt: skip


def test_one_business_day_after_maundy_thursday_differs_in_moselle_and_paris() -> None:
    # Thursday 25 March 2027, 10:00 in Paris; Good Friday 26 March is a holiday in Moselle
    # only, Easter Monday 29 March everywhere.
    received = datetime(2027, 3, 25, 9, 0, tzinfo=UTC)
    answered = {}
    for code in ("75", "57"):
        calendar = BusinessCalendar.for_departement(code)
        decision = decide(_exactly(1), _request(received), calendar, random.Random(1))
        [answer] = decision.reactions
        assert _in_office(calendar, answer.at)
        answered[code] = calendar.local_date(answer.at)
    assert answered == {"75": date(2027, 3, 26), "57": date(2027, 3, 30)}


def test_an_overseas_service_answers_in_its_own_time_zone_and_holidays() -> None:
    # Friday 17 December 2027; 20 December (Monday) is the abolition day in La Réunion.
    received = datetime(2027, 12, 17, 8, 0, tzinfo=UTC)
    reunion = BusinessCalendar.for_departement("974")
    assert reunion.tz == ZoneInfo("Indian/Reunion")
    answers = []
    for i in range(200):
        [answer] = decide(_exactly(1), _request(received), reunion, random.Random(i)).reactions
        local = answer.at.astimezone(reunion.tz)
        assert local.date() == date(2027, 12, 21)
        assert _in_office(reunion, answer.at)
        answers.append(local.time())
    # spread over the whole local office day, which in Paris time starts at 05:30
    assert min(answers) < time(9, 0) and max(answers) > time(16, 30)
    [paris] = decide(_exactly(1), _request(received), PARIS, random.Random(0)).reactions
    assert PARIS.local_date(paris.at) == date(2027, 12, 20)


def test_same_day_answers_move_to_the_next_business_morning_when_the_office_is_closed() -> None:
    friday_evening = datetime(2027, 3, 5, 16, 45, tzinfo=UTC)  # 17:45 in Paris
    for i in range(100):
        [answer] = decide(_exactly(0), _request(friday_evening), PARIS, random.Random(i)).reactions
        assert PARIS.local_date(answer.at) == date(2027, 3, 8)  # Monday


def test_acknowledgement_comes_before_the_answer_and_absence_before_the_return() -> None:
    acks = _replies_only(Profile("t", "t", outcomes=((Outcome.ACK_THEN_ANSWER, 1.0),)))
    away = _replies_only(Profile("t", "t", outcomes=((Outcome.OUT_OF_OFFICE_THEN_ANSWER, 1.0),)))
    for i in range(200):
        ack, answer = decide(acks, _request(), PARIS, random.Random(i)).reactions
        assert (ack.kind, answer.kind) == ("acknowledgement", "answer")
        assert answer.at >= ack.at + timedelta(minutes=5)
        absence, late = decide(away, _request(), PARIS, random.Random(i)).reactions
        assert absence.kind == "out_of_office" and absence.automatic
        assert absence.back_on is not None and PARIS.is_business_day(absence.back_on)
        assert PARIS.local_date(late.at) >= absence.back_on


def test_dead_addresses_bounce_by_dsn_or_are_refused_before_any_reaction() -> None:
    dsn = decide(PROFILES["adresse-morte"], _request(), PARIS, random.Random(3))
    [bounce] = dsn.reactions
    assert dsn.outcome is None and bounce.kind == "bounce" and bounce.automatic
    assert 1 <= (bounce.at - MONDAY).total_seconds() <= 240
    assert PROFILES["adresse-refusee"].dead is DeadAddress.RCPT
    assert decide(PROFILES["adresse-refusee"], _request(), PARIS, random.Random(3)).reactions == ()
    assert PROFILES["adresse-morte"].share(Outcome.ANSWER) == 0.0


def test_threading_and_other_agents_follow_their_shares() -> None:
    profile = Profile(
        "t",
        "t",
        outcomes=((Outcome.ANSWER, 1.0),),
        other_agent_share=0.3,
        other_agent_unthreaded_share=0.5,
        unthreaded_share=0.1,
        **NOTHING_ELSE,  # type: ignore[arg-type]
    )
    draws = 4000
    counts: Counter[tuple[bool, bool]] = Counter()
    for i in range(draws):
        [answer] = decide(profile, _request(), PARIS, random.Random(i)).reactions
        counts[(answer.other_agent, answer.threaded)] += 1
    expected = {
        (True, True): 0.15,
        (True, False): 0.15,
        (False, True): 0.63,
        (False, False): 0.07,
    }
    for key, share in expected.items():
        assert abs(counts[key] / draws - share) <= 4 * math.sqrt(share * (1 - share) / draws)


def test_a_mix_assigns_exact_quotas_deterministically_whatever_the_order() -> None:
    addresses = [f"service{i}@commune{i % 13}.example" for i in range(100)]
    first = DEFAULT_MIX.assign(addresses, 2027)
    again = DEFAULT_MIX.assign(list(reversed([a.upper() for a in addresses])), 2027)
    assert first == again
    assert first != DEFAULT_MIX.assign(addresses, 2028)
    counts = Counter(profile.key for profile in first.values())
    assert counts == Counter(DEFAULT_MIX.quotas(100))
    assert sum(DEFAULT_MIX.quotas(7).values()) == 7
    total = sum(w for _, w in DEFAULT_MIX.weights)
    for key, weight in DEFAULT_MIX.weights:
        assert abs(counts[key] - 100 * weight / total) < 1


def test_the_catalogue_names_the_profiles_a_campaign_needs() -> None:
    names = {profile.name for profile in PROFILES.values()}
    assert {"réactive", "lente", "muette", "automatique seulement", "adresse morte",
            "redirige"} <= names  # fmt: skip
    assert PROFILES["automatique"].share(Outcome.ACK_ONLY) > 0.8
    assert PROFILES["muette"].share(Outcome.SILENT) >= 0.9
    assert PROFILES["redirige"].share(Outcome.REDIRECT) >= 0.5


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"omit_share": 1.5}, "omit_share"),
        ({"outcomes": ((Outcome.ANSWER, -1.0),)}, "outcomes"),
        ({"outcomes": ((Outcome.ANSWER, 1.0), (Outcome.ANSWER, 1.0))}, "twice"),
        ({"answer_days": ()}, "answer_days"),
        ({"office_hours": ((time(14), time(12)),)}, "office hours"),
        ({"office_hours": ((time(8), time(12)), (time(11), time(17)))}, "office hours"),
        ({"auto_reply_seconds": (0, 5)}, "at least one second"),
    ],
)
def test_a_broken_profile_is_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Profile("broken", "cassée", **changes)  # type: ignore[arg-type]


def test_a_mix_refuses_unknown_profiles() -> None:
    with pytest.raises(ValueError, match="unknown profiles"):
        ProfileMix((("reactive", 1), ("paresseuse", 1)))


def test_the_directory_becomes_simulated_services_one_per_address() -> None:
    entries = [
        ServiceEntry("Mairie@Lavernay.example", "21", "Lavernay", "Secrétariat", "accueil_mairie"),
        ServiceEntry("mairie@lavernay.example", "21", "Lavernay", "Élections", "elections"),
        ServiceEntry("etat-civil@mornealianes.example", "972", "Le Morne-aux-Lianes"),
    ]
    services = simulated_services(entries, seed=5)
    assert sorted(services) == ["etat-civil@mornealianes.example", "mairie@lavernay.example"]
    lavernay = services["mairie@lavernay.example"]
    assert (lavernay.name, lavernay.kind, lavernay.departement) == (
        "Secrétariat",
        "accueil_mairie",
        "21",
    )
    assert services["etat-civil@mornealianes.example"].calendar.tz == ZoneInfo("America/Martinique")
    assert (
        simulated_services(reversed(entries), seed=5)["etat-civil@mornealianes.example"]
        == (services["etat-civil@mornealianes.example"])
    )
