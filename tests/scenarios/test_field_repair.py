"""Repairing field plans (``scenarios.field_repair``): what the team can hold is placed.

The property: with visits only, one per collectivity, a visit may take any business day
of the window, so the team can hold them exactly when the auditor-days can be shared out
between the départements, each day to one département, each département getting the days
its visits need at the daily capacity; Hall's condition over the sets of départements
says when (every set needs no more days than the auditors covering some of it have).
Then every visit must be placed, each rule of an auditor's day kept; otherwise the plan
is refused with the numbers.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from datetime import date, timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from scenarios.calendar import BusinessCalendar
from scenarios.domain import Channel
from scenarios.planning import (
    AuditorInput,
    ChannelQuota,
    InfeasiblePlan,
    PersonaInput,
    PlanRequest,
    Rules,
    ScenarioInput,
    ServiceInput,
    plan,
)
from scenarios.service_kinds import known_codes
from tests.scenarios.test_planning import check_plan

DEPTS = ("13", "31", "34", "44")  # national holidays only: one calendar for all
SCENARIOS = [ScenarioInput(f"{ch}-0", ch, tuple(known_codes()), 2) for ch in Channel]
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def services(per_dept: dict[str, int], kinds: int = 1) -> list[ServiceInput]:
    out = []
    coll = 0
    for dept, n in sorted(per_dept.items()):
        for _ in range(n):
            coll += 1
            out += [
                ServiceInput(len(out) + 1 + k, ("accueil_mairie", "etat_civil")[k], coll,
                             f"{dept}{coll:03d}", f"Commune {coll}", dept, True, True, True)
                for k in range(kinds)
            ]  # fmt: skip
    return out


def holds(
    per_dept: dict[str, int], auditors: list[AuditorInput], days: list[date], cap: int
) -> bool:
    """Hall's condition: every set of départements needs no more auditor-days than the
    auditors covering some of it have."""
    need = {d: math.ceil(n / cap) for d, n in per_dept.items() if n}
    have = {a.id: sum(1 for day in days if day not in a.unavailable) for a in auditors}
    for size in range(1, len(need) + 1):
        for group in itertools.combinations(need, size):
            cover = [a for a in auditors if not a.departements or set(group) & set(a.departements)]
            if sum(need[d] for d in group) > sum(have[a.id] for a in cover):
                return False
    return True


@st.composite
def teams(draw: st.DrawFn) -> tuple[PlanRequest, bool]:
    start = draw(st.dates(date(2027, 1, 4), date(2027, 11, 1)))
    length = draw(st.integers(2, 14))
    window = (start, start + timedelta(days=length))
    days = BusinessCalendar.for_departement("13").business_days(*window)
    cap = draw(st.integers(1, 4))
    per_dept = {d: draw(st.integers(0, 9)) for d in DEPTS}
    auditors = [
        AuditorInput(
            i,
            f"a{i}",
            tuple(sorted(draw(st.sets(st.sampled_from(DEPTS), min_size=1, max_size=3)))),
            tuple(sorted(draw(st.sets(st.sampled_from(days), max_size=3)))) if days else (),
        )
        for i in range(1, draw(st.integers(1, 4)) + 1)
    ]
    req = PlanRequest(
        services=services(per_dept),
        scenarios=SCENARIOS,
        quotas=[ChannelQuota(Channel.VISIT, 1)],
        window_start=window[0],
        window_end=window[1],
        seed=draw(st.integers(0, 2**32)),
        rules=Rules(visits_per_auditor_day=cap, regroup_business_days=draw(st.integers(0, 5))),
        auditors=auditors,
    )
    covered = {d: n for d, n in per_dept.items() if any(d in a.departements for a in auditors)}
    return req, bool(days) and holds(covered, auditors, days, cap)


@PROPERTY
@given(teams())
def test_visits_are_all_placed_whenever_the_team_can_hold_them(
    case: tuple[PlanRequest, bool],
) -> None:
    req, feasible = case
    try:
        result = plan(req)
    except InfeasiblePlan as exc:
        assert not feasible, str(exc)
        assert exc.shortfalls, str(exc)
        event("refused")
        return
    event("planned")
    check_plan(req, result)  # caps, no overlaps, one département a day, unavailable days
    uncovered = sum(result.uncovered.values())
    assert sum(1 for c in result.contacts if c.auditor_id is not None) + uncovered == len(
        result.contacts
    )


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32))
def test_a_visit_pinned_by_its_collectivity_trades_days_with_its_email(seed: int) -> None:
    """The demo's case: one auditor for two départements, two business days. Each
    commune gets an email and a visit on different days; when both visits fall on the
    same day, the auditor, who visits one département a day, can only take one of them,
    and the other visit can only move by trading its day with its commune's email."""
    req = PlanRequest(
        services=services({"13": 1, "34": 1}),
        scenarios=SCENARIOS,
        quotas=[ChannelQuota(Channel.EMAIL, 1), ChannelQuota(Channel.VISIT, 1)],
        window_start=date(2027, 3, 4),  # Thursday and Friday
        window_end=date(2027, 3, 5),
        seed=seed,
        rules=Rules(lockout_business_days=0),
        personas=[PersonaInput(1, "p", (Channel.EMAIL,))],
        auditors=[AuditorInput(1, "sud", ("13", "34"))],
    )
    result = plan(req)
    check_plan(req, result)
    visits = [c for c in result.contacts if c.channel is Channel.VISIT]
    assert len(visits) == 2
    assert len({c.planned_at.date() for c in visits}) == 2
    per_day = Counter((c.collectivity_id, c.planned_at.date()) for c in result.contacts)
    assert max(per_day.values()) == 1
