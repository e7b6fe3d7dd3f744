"""The profiles' mail around a request: each kind at its share and its time, replayed exactly.

Besides the replies (tests/test_sim_profiles.py), a request brings mail that answers nothing
(a success report, the town's newsletter after a first contact, notifications, spam) and, when
the service's server is down for hours, a delay warning after which the service gets the
request late. Pure: no server.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from scenarios.calendar import BusinessCalendar
from sim.decisions import HUMAN_MIN_DELAY, Request, decide
from sim.profiles import DELAY_WARNING_HOURS, PROFILES, Outcome, Profile, request_rng

PARIS = BusinessCalendar.for_departement("75")
MONDAY = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # 10:00 in Paris
DRAWS = 3000


def _within(count: int, share: float, draws: int = DRAWS) -> bool:
    return abs(count / draws - share) <= 4 * math.sqrt(share * (1 - share) / draws) + 1e-9


def test_mail_that_answers_nothing_comes_at_its_share() -> None:
    profile = PROFILES["reactive"]
    forms: Counter[str] = Counter()
    first_issues = 0
    for i in range(DRAWS):
        request = Request(MONDAY, first_contact=True)
        reactions = decide(profile, request, PARIS, request_rng("shares", "s@m.example", str(i)))
        others = [r for r in reactions.reactions if r.kind == "other"]
        for form in {r.form for r in others}:
            forms[form] += 1
        letters = sorted(r.at for r in others if r.form == "newsletter")
        first_issues += bool(letters)
        low, high = profile.newsletter_issues
        assert not letters or low <= len(letters) <= high
        assert all(b - a >= timedelta(days=7) for a, b in itertools.pairwise(letters))
        assert all(r.automatic and not r.threaded for r in others)
    assert _within(forms["delivered"], profile.success_report_share)
    assert _within(forms["notification"], profile.notification_share)
    assert _within(forms["spam"], profile.spam_share)
    assert _within(first_issues, profile.newsletter_share)


def test_only_a_first_contact_subscribes_to_the_newsletter() -> None:
    profile = replace(PROFILES["reactive"], newsletter_share=1.0)
    first = decide(profile, Request(MONDAY, first_contact=True), PARIS, random.Random(1))
    again = decide(profile, Request(MONDAY, first_contact=False), PARIS, random.Random(1))
    assert any(r.form == "newsletter" for r in first.reactions)
    assert not any(r.form == "newsletter" for r in again.reactions)
    for issue in (r for r in first.reactions if r.form == "newsletter"):
        local = issue.at.astimezone(PARIS.tz)  # sent by the town's office, in office hours
        assert PARIS.is_business_day(local.date()) and 8 <= local.hour < 18


def test_a_delayed_request_warns_then_reaches_the_service_hours_later() -> None:
    profile = Profile("late", "late", outcomes=((Outcome.ANSWER, 1.0),), delayed_share=1.0)
    for i in range(200):
        decision = decide(profile, Request(MONDAY), PARIS, random.Random(i))
        warning = next(r for r in decision.reactions if r.kind == "bounce")
        assert warning.form == "delayed" and warning.automatic
        waited = warning.at - MONDAY
        assert (
            timedelta(hours=DELAY_WARNING_HOURS)
            <= waited
            <= timedelta(hours=DELAY_WARNING_HOURS, minutes=10)
        )
        low, high = profile.delay_hours
        late = decision.received_at - MONDAY
        assert timedelta(hours=low) <= late <= timedelta(hours=high)
        assert decision.received_at > warning.at
        [answer] = [r for r in decision.reactions if r.kind == "answer"]
        assert answer.at >= decision.received_at + HUMAN_MIN_DELAY


def test_absences_and_answers_take_their_forms_at_their_shares() -> None:
    away = Profile("away", "away", outcomes=((Outcome.OUT_OF_OFFICE_THEN_ANSWER, 1.0),),
                   client_rule_share=0.3, ticket_answer_share=0.6)  # fmt: skip
    forms: Counter[tuple[str, str]] = Counter()
    for i in range(DRAWS):
        for reaction in decide(away, Request(MONDAY), PARIS, random.Random(i)).reactions:
            if reaction.kind in ("out_of_office", "answer"):
                forms[(reaction.kind, reaction.form)] += 1
    assert forms[("out_of_office", "client_rule")] + forms[("out_of_office", "auto_reply")] == DRAWS
    assert _within(forms[("out_of_office", "client_rule")], 0.3)
    assert _within(forms[("answer", "ticket")], 0.6)
