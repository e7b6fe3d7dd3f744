"""Field plans a person can follow (``scenarios.field_plan``), on the official list of communes.

Every plan is checked from the outside by ``check_field``: daily capacities, unavailable
dates, one département per day of visits, no overlapping appointments.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from datetime import UTC, date, time
from zoneinfo import ZoneInfo

import pytest

from scenarios.calendar import BusinessCalendar
from scenarios.domain import Channel
from scenarios.planning import (
    AuditorInput,
    ChannelQuota,
    FieldShortfall,
    FixedContact,
    InfeasiblePlan,
    PersonaInput,
    PlanRequest,
    Rules,
    ScenarioInput,
    ServiceInput,
    plan,
)
from scenarios.service_kinds import known_codes
from tests.geodata.communes import Commune, current_communes
from tests.scenarios.field_checks import check_field

SCENARIOS = [ScenarioInput(f"{ch}-0", ch, tuple(known_codes()), 2) for ch in Channel]
WINDOW = (date(2027, 3, 1), date(2027, 3, 31))  # Easter Monday on the 29th


def business_days(departement: str) -> list[date]:
    return BusinessCalendar.for_departement(departement).business_days(*WINDOW)


def services_of(communes: list[Commune]) -> list[ServiceInput]:
    return [
        ServiceInput(
            id=i,
            kind="accueil_mairie",
            collectivity_id=i,
            collectivity_code=c.code,
            collectivity_name=c.name,
            departement=c.departement,
            has_email=True,
            has_phone=True,
            has_address=True,
        )
        for i, c in enumerate(communes, start=1)
    ]


def in_departements(*codes: str) -> list[Commune]:
    return [c for c in current_communes() if c.departement in codes]


def request(
    communes: list[Commune], auditors: list[AuditorInput], rules: Rules, *channels: Channel
) -> PlanRequest:
    return PlanRequest(
        services=services_of(communes),
        scenarios=SCENARIOS,
        quotas=[ChannelQuota(ch, 1) for ch in channels],
        window_start=WINDOW[0],
        window_end=WINDOW[1],
        seed=11,
        rules=rules,
        auditors=auditors,
    )


def test_one_auditor_for_all_of_france_is_refused_with_the_numbers() -> None:
    """The issue's plan: one auditor covering every département got 1,085 visits a day."""
    communes = in_departements("57", "2A", "987")
    req = request(communes, [AuditorInput(1, "partout")], Rules(), Channel.VISIT)
    with pytest.raises(InfeasiblePlan) as caught:
        plan(req)
    by_dep = {s.departement: s for s in caught.value.shortfalls}
    moselle = by_dep["57"]
    n_moselle = sum(1 for c in communes if c.departement == "57")
    assert moselle.channel is Channel.VISIT
    assert moselle.contacts == n_moselle
    assert moselle.days_needed == math.ceil(n_moselle / 6)
    # Good Friday (26 March) is a holiday in Moselle too: 21 days, not 22
    assert moselle.days_available == len(business_days("57")) == 21
    assert moselle.left_out > 0
    message = str(caught.value)
    assert (
        f"{n_moselle} visits in département 57 need {moselle.days_needed} auditor-days" in message
    )
    assert "have 21 in the window" in message


def test_a_team_sized_for_the_work_gets_days_a_person_can_follow() -> None:
    communes = in_departements("2A", "2B", "90")  # Corsica and the Territoire de Belfort
    auditors = [
        AuditorInput(1, "ajaccio", ("2A",)),
        AuditorInput(2, "bastia", ("2B",), unavailable=(date(2027, 3, 10), date(2027, 3, 11))),
        AuditorInput(3, "corse", ("2A", "2B")),
        AuditorInput(4, "belfort", ("90",)),
        AuditorInput(5, "volant", ()),
    ]
    rules = Rules(visits_per_auditor_day=5, calls_per_auditor_day=20)
    req = request(communes, auditors, rules, Channel.VISIT, Channel.PHONE)
    result = plan(req)
    load = check_field(req, result)
    assert all(c.auditor_id is not None for c in result.contacts)
    visits = Counter(c.channel for c in result.contacts)
    assert visits == {Channel.VISIT: len(communes), Channel.PHONE: len(communes)}
    busiest = max(n for (_, _, ch), n in load.items() if ch is Channel.VISIT)
    assert busiest <= 5
    # Regrouped: a département's visits fill days rather than scatter one a day. Two visit
    # days of one auditor in one département are either full or further apart than the
    # regrouping reach, which bounds how many there can be.
    per_area: Counter[tuple[int, str]] = Counter()
    services = {s.id: s for s in req.services}
    days: dict[tuple[int, str], set[date]] = {}
    for c in result.contacts:
        if c.channel is Channel.VISIT and c.auditor_id is not None:
            dep = services[c.service_id].departement
            per_area[c.auditor_id, dep] += 1
            days.setdefault((c.auditor_id, dep), set()).add(c.planned_at.date())
    reach = rules.regroup_business_days + 1
    for key, n in per_area.items():
        span = len(business_days(key[1]))
        assert len(days[key]) <= math.ceil(n / 5) + math.ceil(span / reach), (key, n, days[key])


def test_unavailable_days_and_small_caps_hold_on_every_plan() -> None:
    communes = in_departements("90")
    off = tuple(date(2027, 3, d) for d in (1, 2, 3, 4, 5, 15, 16))
    auditors = [AuditorInput(1, "seule", ("90",), unavailable=off)]
    rules = Rules(visits_per_auditor_day=3, visit_minutes=60, travel_minutes=45,
                  calls_per_auditor_day=8, call_minutes=20)  # fmt: skip
    req = request(communes, auditors, rules, Channel.VISIT)
    needed = math.ceil(len(communes) / 3)
    available = len(set(business_days("90")) - set(off))
    if needed > available:
        with pytest.raises(InfeasiblePlan) as caught:
            plan(req)
        (shortfall,) = caught.value.shortfalls
        assert shortfall == FieldShortfall(
            Channel.VISIT, "90", len(communes), shortfall.left_out, needed, available
        )
        return
    result = plan(req)
    check_field(req, result)
    assert not any(c.planned_at.date() in off for c in result.contacts)


def test_overseas_auditors_work_on_their_local_days() -> None:
    communes = in_departements("987", "988", "975")
    auditors = [AuditorInput(1, "tahiti", ("987",)), AuditorInput(2, "noumea", ("988",)),
                AuditorInput(3, "miquelon", ("975",))]  # fmt: skip
    req = request(communes, auditors, Rules(visits_per_auditor_day=4), Channel.VISIT)
    result = plan(req)
    load = check_field(req, result)
    assert max(load.values()) <= 4
    assert {c.auditor_id for c in result.contacts} == {1, 2, 3}


def test_other_campaigns_count_for_caps_and_auditors_not_for_quotas() -> None:
    communes = in_departements("90")[:20]
    auditors = [AuditorInput(1, "belfort", ("90",))]
    rules = Rules(visits_per_auditor_day=4)
    first_req = dataclasses.replace(
        request(communes, auditors, rules, Channel.VISIT, Channel.EMAIL),
        personas=[PersonaInput(1, "p", (Channel.EMAIL,))],
    )
    first = plan(first_req)
    others = [
        FixedContact(c.service_id, c.collectivity_id, c.channel, c.scenario_id, c.wording,
                     c.persona_id, c.auditor_id, c.planned_at, own=False)
        for c in first.contacts
    ]  # fmt: skip
    second_req = dataclasses.replace(first_req, seed=12, fixed=others)
    second = plan(second_req)
    # quotas are this campaign's own: every service gets its email and visit again
    assert Counter(c.channel for c in second.contacts) == {
        Channel.VISIT: len(communes),
        Channel.EMAIL: len(communes),
    }
    services = {s.id: s for s in second_req.services}
    cal = BusinessCalendar.for_departement("90")
    per_day = Counter(
        (c.collectivity_id, cal.local_date(c.planned_at))
        for c in [*first.contacts, *second.contacts]
    )
    assert max(per_day.values()) == 1
    # the auditor's days hold both campaigns' visits
    check_field(second_req, second)
    assert all(services[c.service_id].departement == "90" for c in second.contacts)


def test_the_marquesas_and_the_gambier_are_visited_on_their_own_clock() -> None:
    """French Polynesia spans three time zones: Tahiti (UTC-10), the Marquesas (UTC-9:30)
    and the Gambier (UTC-9). Each commune's calls and visits fall in the service's hours on
    its own clock, and no auditor-day mixes Tahiti's visits with the Marquesas'."""
    communes = in_departements("987")
    zones = {c.code: BusinessCalendar.for_commune("987", c.code).tz.key for c in communes}
    assert Counter(zones.values()) == {"Pacific/Tahiti": 41, "Pacific/Marquesas": 6,
                                       "Pacific/Gambier": 1}  # fmt: skip
    auditors = [AuditorInput(1, "papeete", ("987",)), AuditorInput(2, "hiva-oa", ("987",))]
    rules = Rules(visits_per_auditor_day=3, field_margin_minutes=0, jitter=False)
    req = request(communes, auditors, rules, Channel.VISIT, Channel.PHONE)
    result = plan(req)
    check_field(req, result)  # one clock per day of visits among the rest
    services = {s.id: s for s in req.services}
    hours = rules.default_service_hours
    for c in result.contacts:
        code = services[c.service_id].collectivity_code
        local = c.planned_at.astimezone(ZoneInfo(zones[code]))
        assert any(i.start <= local.time() < i.end for i in hours.on(local.weekday())), (
            code,
            zones[code],
            local,
        )
    # without jitter, the first appointments of a day start at the opening, 9:00 local:
    # 19:00 UTC in Tahiti, 18:30 in the Marquesas, 18:00 in the Gambier
    starts = {
        (zones[services[c.service_id].collectivity_code], c.planned_at.astimezone(UTC).time())
        for c in result.contacts
    }
    assert ("Pacific/Marquesas", time(18, 30)) in starts
    assert ("Pacific/Gambier", time(18, 0)) in starts
