"""The planner, pure: every rule holds for random campaigns; same seed, same plan."""

from __future__ import annotations

import bisect
import dataclasses
import itertools
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from scenarios.calendar import BusinessCalendar
from scenarios.domain import Channel, ContactStatus
from scenarios.opening_hours import END_OF_DAY, WeeklyHours, parse_hours
from scenarios.planning import (
    FIELD,
    WRITTEN,
    AuditorInput,
    ChannelQuota,
    FixedContact,
    InfeasiblePlan,
    PersonaInput,
    Plan,
    PlanRequest,
    Rules,
    ScenarioInput,
    ServiceInput,
    SkipReason,
    plan,
)
from scenarios.service_kinds import known_codes
from tests.scenarios.field_checks import check_field

KINDS = ("accueil_mairie", "etat_civil", "ccas", "bibliotheque", "piscine")
ALL_KINDS = tuple(known_codes())
DEPTS = ("57", "67", "2A", "2B", "974", "971", "976", "75", "13", "33")
HOURS = (
    None,
    "lu-ve 08:30-12:00,13:30-17:30",
    "lu,me,ve 14:00-17:30",
    "ma-sa 10:00-12:30,13:30-19:00",
    "lu-ve 09:00-09:15",  # shorter than most margins
    "sa 09:00-12:00",  # never open on a business day
    "lu-di 00:00-24:00",
)
DISPATCH = ("lu-ve 08:30-12:00,13:30-18:00", "lu-je 09:00-11:00", "lu-ve 07:00-24:00")


def svc(
    sid: int,
    coll: int,
    dept: str = "75",
    kind: str = "accueil_mairie",
    hours: str | None = None,
    email: bool = True,
    phone: bool = True,
    address: bool = True,
) -> ServiceInput:
    return ServiceInput(
        id=sid,
        kind=kind,
        collectivity_id=coll,
        collectivity_code=f"{coll:05d}",
        collectivity_name=f"Commune {coll}",
        departement=dept,
        has_email=email,
        has_phone=phone,
        has_address=address,
        opening_hours=parse_hours(hours) if hours else None,
    )


def scenarios_all(n_wordings: int = 3) -> list[ScenarioInput]:
    return [
        ScenarioInput(f"{ch}-{i}", ch, ALL_KINDS, n_wordings) for ch in Channel for i in range(2)
    ]


PERSONAS = [
    PersonaInput(1, "alice", (Channel.EMAIL, Channel.LETTER)),
    PersonaInput(2, "bruno", (Channel.EMAIL,)),
    PersonaInput(3, "chloe", (Channel.EMAIL, Channel.LETTER)),
]


# --------------------------------------------------------------------------------------
# The checker: every rule of the planner, verified from the outside


def _in_hours(hours: WeeklyHours, local: datetime, margin_s: int) -> bool:
    t = local.time().replace(tzinfo=None)
    for iv in hours.on(local.weekday()):
        end = iv.end
        end_s = 86400 if end == END_OF_DAY else end.hour * 3600 + end.minute * 60
        t_s = t.hour * 3600 + t.minute * 60 + t.second
        start_s = iv.start.hour * 3600 + iv.start.minute * 60
        if start_s <= t_s < end_s - margin_s:
            return True
    return False


def check_plan(req: PlanRequest, result: Plan) -> None:
    rules = req.rules
    services = {s.id: s for s in req.services}
    scenarios = {s.id: s for s in req.scenarios}
    personas = {p.id: p for p in req.personas}
    auditors = {a.id: a for a in req.auditors}
    margin = rules.field_margin_minutes * 60
    kept = [f for f in req.fixed if f.status != ContactStatus.CANCELLED]
    per_day: Counter[tuple[int, date]] = Counter()
    by_service: dict[int, list[date]] = {}

    for f in kept:
        s = services.get(f.service_id)
        if s is None:
            continue
        cal = BusinessCalendar.for_departement(s.departement)
        per_day[s.collectivity_id, cal.local_date(f.at)] += 1
        by_service.setdefault(s.id, []).append(cal.local_date(f.at))

    for c in result.contacts:
        s = services[c.service_id]
        assert c.collectivity_id == s.collectivity_id
        cal = BusinessCalendar.for_departement(s.departement)
        assert c.planned_at.tzinfo is UTC
        local = c.planned_at.astimezone(cal.tz)
        day = local.date()
        assert req.window_start <= day <= req.window_end, c
        assert cal.is_business_day(day), c
        if req.not_before is not None:
            assert c.planned_at >= req.not_before
        if c.channel in WRITTEN:
            assert _in_hours(rules.dispatch_hours, local, 0), (c, local)
            assert c.persona_id is not None and c.channel in personas[c.persona_id].channels
            assert c.auditor_id is None
        else:
            hours = s.opening_hours
            if hours is None or hours.is_empty:
                hours = rules.default_service_hours
            assert _in_hours(hours, local, margin), (c, local)
            assert c.persona_id is None
            if c.auditor_id is not None:
                cover = auditors[c.auditor_id].departements
                assert not cover or s.departement in cover
        if rules.jitter:
            assert c.planned_at.second != 0, c
        scenario = scenarios[c.scenario_id]
        assert scenario.channel is c.channel and scenario.fits(s.kind)
        assert 0 <= c.wording < scenario.n_wordings
        per_day[s.collectivity_id, day] += 1
        by_service.setdefault(s.id, []).append(day)

    assert max(per_day.values(), default=0) <= rules.max_per_collectivity_per_day
    for sid, days in by_service.items():
        cal = BusinessCalendar.for_departement(services[sid].departement)
        lo = min(min(days), req.window_start)
        hi = max(max(days), req.window_end)
        business = cal.business_days(lo, hi)
        indices = sorted(bisect.bisect_left(business, d) for d in days)
        for a, b in itertools.pairwise(indices):
            assert b - a >= rules.lockout_business_days + 1, (sid, sorted(days))

    # Quotas: what was asked, minus what is kept, unless skipped with a reason.
    skipped = {(k.service_id, k.channel) for k in result.skipped}
    got = Counter((c.service_id, c.channel) for c in result.contacts)
    have = Counter((f.service_id, f.channel) for f in kept)
    for s in req.services:
        for q in req.quotas:
            if q.per_service == 0:
                continue
            want = max(0, q.per_service - have[s.id, q.channel])
            if (s.id, q.channel) in skipped:
                assert got[s.id, q.channel] == 0
            else:
                assert got[s.id, q.channel] == want, (s, q)

    if req.auditors:
        for c in result.contacts:
            if c.channel in FIELD and c.auditor_id is None:
                dept = services[c.service_id].departement
                assert (c.channel, dept) in result.uncovered
    check_field(req, result)


def check_balance(req: PlanRequest, result: Plan) -> None:
    """Fresh plans: per channel, persona counts differ by at most 1; same for auditors'
    calls when every auditor covers every département."""
    for ch in WRITTEN:
        pool = [p.id for p in req.personas if ch in p.channels]
        counts = Counter(c.persona_id for c in result.contacts if c.channel is ch)
        if counts:
            values = [counts[p] for p in pool]
            assert max(values) - min(values) <= 1, (ch, values)
    # Calls likewise while no auditor is ever unavailable or full. Visits are not balanced
    # one by one: they fill an auditor's day in a département first (field_plan).
    calls = [c for c in result.contacts if c.channel is Channel.PHONE]
    if (
        req.auditors
        and all(not a.departements and not a.unavailable for a in req.auditors)
        and req.rules.calls_per_auditor_day >= len(calls)
    ):
        counts = Counter(c.auditor_id for c in calls)
        if counts:
            values = [counts[a.id] for a in req.auditors]
            assert max(values) - min(values) <= 1, values


# --------------------------------------------------------------------------------------
# Random campaigns


MOSTLY = st.sampled_from([True, True, True, False])


@st.composite
def campaigns(draw: st.DrawFn, ample: bool = False) -> PlanRequest:
    n_coll = draw(st.integers(1, 5))
    services: list[ServiceInput] = []
    sid = 0
    for coll in range(1, n_coll + 1):
        dept = draw(st.sampled_from(DEPTS))
        for kind in draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=3, unique=True)):
            sid += 1
            services.append(
                svc(
                    sid,
                    coll,
                    dept,
                    kind,
                    hours=draw(st.sampled_from(HOURS[:4] if ample else HOURS)),
                    email=ample or draw(MOSTLY),
                    phone=ample or draw(MOSTLY),
                    address=ample or draw(MOSTLY),
                )
            )
    scenarios = [
        ScenarioInput(
            f"s{i}",
            draw(st.sampled_from(list(Channel))),
            tuple(draw(st.lists(st.sampled_from(KINDS), max_size=3, unique=True))),
            draw(st.integers(1, 3)),
        )
        for i in range(draw(st.integers(0, 6)))
    ]
    scenarios += [ScenarioInput(f"any-{ch}", ch, KINDS, 2) for ch in Channel if draw(MOSTLY)]
    quotas = [ChannelQuota(ch, draw(st.integers(0, 2))) for ch in Channel]
    lockout = draw(st.integers(0, 4))
    per_day = draw(st.integers(1, 3))
    if ample:
        contacts = sum(q.per_service for q in quotas) * 3
        length = max(20, contacts * (lockout + 2) * 2)
    else:
        length = draw(st.integers(0, 90))
    start = draw(st.dates(date(2025, 1, 1), date(2027, 11, 30)))
    rules = Rules(
        dispatch_hours=parse_hours(draw(st.sampled_from(DISPATCH[:1] if ample else DISPATCH))),
        max_per_collectivity_per_day=per_day,
        lockout_business_days=lockout,
        jitter=draw(st.booleans()),
        field_margin_minutes=draw(st.sampled_from([0, 10, 30])),
        # an auditor's day: ample campaigns keep the defaults
        visits_per_auditor_day=6 if ample else draw(st.integers(1, 4)),
        calls_per_auditor_day=30 if ample else draw(st.integers(1, 6)),
        visit_minutes=30 if ample else draw(st.sampled_from([15, 30, 90])),
        call_minutes=10 if ample else draw(st.sampled_from([5, 20])),
        travel_minutes=30 if ample else draw(st.sampled_from([0, 30, 60])),
        regroup_business_days=draw(st.integers(0, 10)),
    )
    personas = [
        PersonaInput(i, f"p{i}", tuple(draw(st.sampled_from([WRITTEN, WRITTEN[:1], WRITTEN[1:]]))))
        for i in range(1, draw(st.integers(1, 4)) + 1)
    ]
    for ch in WRITTEN:
        if not any(ch in p.channels for p in personas):
            personas.append(PersonaInput(10 + len(personas), f"x{ch}", (ch,)))
    days = st.dates(start, start + timedelta(days=max(0, length)))
    auditors = [
        AuditorInput(
            i,
            f"a{i}",
            tuple(draw(st.lists(st.sampled_from(DEPTS), max_size=3, unique=True))),
            () if ample else tuple(draw(st.lists(days, max_size=5, unique=True))),
        )
        for i in range(1, draw(st.integers(0, 3)) + 1)
    ]
    not_before = None
    if not ample and draw(st.booleans()):
        offset = draw(st.integers(0, max(0, length) * 86400))
        not_before = datetime.combine(start, time(6), tzinfo=UTC) + timedelta(seconds=offset)
    return PlanRequest(
        services=services,
        scenarios=scenarios,
        quotas=quotas,
        window_start=start,
        window_end=start + timedelta(days=length),
        seed=draw(st.integers(0, 2**32)),
        rules=rules,
        personas=personas,
        auditors=auditors,
        not_before=not_before,
    )


PROPERTY = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(campaigns())
def test_every_rule_holds_or_the_plan_is_refused_with_a_reason(req: PlanRequest) -> None:
    try:
        result = plan(req)
    except InfeasiblePlan as exc:
        assert "rule" in str(exc) or "window" in str(exc), str(exc)
        event("refused: " + str(exc).split("'")[1])
        return
    event(f"planned: {'some' if result.contacts else 'no'} contacts")
    check_plan(req, result)
    check_balance(req, result)
    assert plan(req) == result  # same seed, same plan


@PROPERTY
@given(campaigns(ample=True))
def test_ample_windows_are_always_planned(req: PlanRequest) -> None:
    result = plan(req)
    check_plan(req, result)
    check_balance(req, result)


@PROPERTY
@given(campaigns(), st.data())
def test_replanning_around_kept_contacts_keeps_every_rule(
    req: PlanRequest, data: st.DataObject
) -> None:
    try:
        first = plan(req)
    except InfeasiblePlan:
        return
    assume(first.contacts)
    kept = data.draw(st.lists(st.sampled_from(first.contacts), unique=True, max_size=10))
    statuses = st.sampled_from([ContactStatus.SENT, ContactStatus.DONE, ContactStatus.CANCELLED])
    fixed = [
        FixedContact(
            c.service_id,
            c.collectivity_id,
            c.channel,
            c.scenario_id,
            c.wording,
            c.persona_id,
            c.auditor_id,
            c.planned_at,
            data.draw(statuses),
        )
        for c in kept
    ]
    again = dataclasses.replace(req, fixed=fixed)
    result = plan(again)  # what fitted before still fits around a subset of it
    check_plan(again, result)


# --------------------------------------------------------------------------------------
# Worked examples


def email_only(services: list[ServiceInput], per_service: int = 1, **rules: object) -> PlanRequest:
    return PlanRequest(
        services=services,
        scenarios=scenarios_all(),
        quotas=[ChannelQuota(Channel.EMAIL, per_service)],
        window_start=date(2026, 3, 2),
        window_end=date(2026, 3, 17),  # 12 business days
        seed=7,
        rules=Rules(**rules),  # type: ignore[arg-type]
        personas=PERSONAS,
    )


def test_daily_cap_shortfall_is_explained() -> None:
    services = [
        dataclasses.replace(
            svc(i, 1, "57"), collectivity_code="57463", collectivity_name="Morhange-les-Bois"
        )
        for i in range(1, 17)
    ]
    with pytest.raises(InfeasiblePlan) as info:
        plan(email_only(services))
    assert str(info.value) == (
        "rule 'at most 1 contact per collectivity per day': collectivity 57463 "
        "Morhange-les-Bois needs 16 days, the window has 12 business days (short by 4)"
    )
    # Two a day fit.
    check_plan(
        email_only(services, max_per_collectivity_per_day=2),
        plan(email_only(services, max_per_collectivity_per_day=2)),
    )


def test_lockout_shortfall_is_explained() -> None:
    req = email_only([svc(1, 1, "75")], per_service=4)
    with pytest.raises(InfeasiblePlan) as info:
        plan(req)
    assert str(info.value) == (
        "rule 'lockout of 3 business days between contacts to the same service': service 1 "
        "(accueil_mairie) of collectivity 00001 Commune 1 needs a span of 13 business days "
        "for 4 contacts, the window has 12 usable business days (short by 1)"
    )
    ok = email_only([svc(1, 1, "75")], per_service=4, lockout_business_days=2)
    result = plan(ok)
    check_plan(ok, result)
    days = sorted(c.planned_at.date() for c in result.contacts)
    assert len(days) == 4


def test_other_collectivities_short_too_are_counted() -> None:
    services = [svc(i * 10 + j, i, "75") for i in range(1, 4) for j in range(13)]
    with pytest.raises(InfeasiblePlan, match=r"short by 1\) \(and 2 other collectivities\)"):
        plan(email_only(services))


def test_holidays_follow_the_departement() -> None:
    # Good Friday 3 April 2026 is a holiday in Moselle, not in Paris.
    services = [svc(i, i, "57" if i % 2 else "75") for i in range(1, 201)]
    req = PlanRequest(
        services=services,
        scenarios=scenarios_all(),
        quotas=[ChannelQuota(Channel.EMAIL, 1)],
        window_start=date(2026, 4, 2),
        window_end=date(2026, 4, 7),
        seed=3,
        personas=PERSONAS,
    )
    result = plan(req)
    check_plan(req, result)
    days = Counter(
        (services[c.service_id - 1].departement, c.planned_at.astimezone(UTC).date())
        for c in result.contacts
    )
    assert days["57", date(2026, 4, 3)] == 0
    assert days["75", date(2026, 4, 3)] > 0
    assert days["75", date(2026, 4, 6)] == days["57", date(2026, 4, 6)] == 0  # Easter Monday


@pytest.mark.parametrize(
    ("day", "dept", "expected_utc"),
    [
        (date(2026, 3, 27), "75", datetime(2026, 3, 27, 7, 30, tzinfo=UTC)),  # CET
        (date(2026, 3, 30), "75", datetime(2026, 3, 30, 6, 30, tzinfo=UTC)),  # CEST
        (date(2026, 10, 26), "2A", datetime(2026, 10, 26, 7, 30, tzinfo=UTC)),  # CET again
        (date(2026, 3, 30), "974", datetime(2026, 3, 30, 4, 30, tzinfo=UTC)),  # UTC+4
        (date(2026, 3, 30), "971", datetime(2026, 3, 30, 12, 30, tzinfo=UTC)),  # UTC-4
    ],
)
def test_local_hours_across_dst_and_overseas(day: date, dept: str, expected_utc: datetime) -> None:
    req = PlanRequest(
        services=[svc(1, 1, dept)],
        scenarios=scenarios_all(),
        quotas=[ChannelQuota(Channel.EMAIL, 1)],
        window_start=day,
        window_end=day,
        seed=1,
        rules=Rules(jitter=False),
        personas=PERSONAS,
    )
    [contact] = plan(req).contacts
    assert contact.planned_at == expected_utc


def test_field_contacts_use_the_service_hours_with_a_margin() -> None:
    req = PlanRequest(
        services=[svc(i, i, "75", hours="me 14:00-15:00") for i in range(1, 41)],
        scenarios=scenarios_all(),
        quotas=[ChannelQuota(Channel.PHONE, 1), ChannelQuota(Channel.VISIT, 1)],
        window_start=date(2026, 3, 2),
        window_end=date(2026, 4, 30),
        seed=5,
        rules=Rules(field_margin_minutes=30, lockout_business_days=1),
    )
    result = plan(req)
    check_plan(req, result)
    assert len(result.contacts) == 80
    for c in result.contacts:
        local = c.planned_at.astimezone(BusinessCalendar.for_departement("75").tz)
        assert local.weekday() == 2
        assert time(14, 0) <= local.time() < time(14, 30)


def test_services_that_cannot_take_a_channel_are_skipped_with_the_reason() -> None:
    services = [
        svc(1, 1, email=False),
        svc(2, 2, phone=False),
        svc(3, 3, address=False),
        svc(4, 4, hours="sa 09:00-12:00"),
        svc(5, 5, kind="piscine"),
        svc(6, 6, dept="99"),
    ]
    scenarios = [
        ScenarioInput("e", Channel.EMAIL, ("accueil_mairie",)),
        ScenarioInput("l", Channel.LETTER, ("accueil_mairie",)),
        ScenarioInput("p", Channel.PHONE, ("accueil_mairie",)),
        ScenarioInput("v", Channel.VISIT, ("accueil_mairie",)),
    ]
    req = PlanRequest(
        services=services,
        scenarios=scenarios,
        quotas=[ChannelQuota(ch, 1) for ch in Channel],
        window_start=date(2026, 3, 2),
        window_end=date(2026, 4, 30),
        seed=5,
        personas=PERSONAS,
    )
    result = plan(req)
    check_plan(req, result)
    skipped = {(k.service_id, k.channel): k.reason for k in result.skipped}
    assert skipped == {
        (1, Channel.EMAIL): SkipReason.NO_EMAIL,
        (2, Channel.PHONE): SkipReason.NO_PHONE,
        (3, Channel.LETTER): SkipReason.NO_ADDRESS,
        (3, Channel.VISIT): SkipReason.NO_ADDRESS,
        (4, Channel.PHONE): SkipReason.NEVER_OPEN,
        (4, Channel.VISIT): SkipReason.NEVER_OPEN,
        **{(5, ch): SkipReason.NO_SCENARIO for ch in Channel},
        **{(6, ch): SkipReason.UNKNOWN_DEPARTEMENT for ch in Channel},
    }
    assert len(result.contacts) == 4 * 4 - 6


def test_contacts_are_spread_over_the_whole_window() -> None:
    start, end = date(2026, 9, 7), date(2026, 11, 27)  # 59 business days (1 and 11 Nov off)
    n_business = len(BusinessCalendar.for_departement("75").business_days(start, end))
    for seed in range(5):
        req = PlanRequest(
            services=[svc(j, 1, "75", kind=KINDS[j % 5]) for j in range(1, 6)],
            scenarios=scenarios_all(),
            quotas=[ChannelQuota(Channel.EMAIL, 1), ChannelQuota(Channel.PHONE, 1)],
            window_start=start,
            window_end=end,
            seed=seed,
            personas=PERSONAS,
        )
        result = plan(req)
        check_plan(req, result)
        business = BusinessCalendar.for_departement("75").business_days(start, end)
        idx = sorted(business.index(c.planned_at.date()) for c in result.contacts)
        # 10 contacts over 59 days: about one every 6 business days, from start to end.
        assert idx[0] < 8 and idx[-1] > n_business - 9, idx
        assert max(b - a for a, b in itertools.pairwise(idx)) <= 9, idx


def test_the_campaign_as_a_whole_is_flat_week_by_week() -> None:
    req = PlanRequest(
        services=[svc(i, i, DEPTS[i % len(DEPTS)]) for i in range(1, 1001)],
        scenarios=scenarios_all(),
        quotas=[ChannelQuota(Channel.EMAIL, 2)],
        window_start=date(2026, 1, 5),
        window_end=date(2026, 3, 27),  # 12 full weeks
        seed=11,
        personas=PERSONAS,
    )
    result = plan(req)
    check_plan(req, result)
    weeks = Counter(c.planned_at.isocalendar().week for c in result.contacts)
    mean = len(result.contacts) / 12
    assert sorted(weeks) == list(range(2, 14))
    assert all(0.8 * mean <= n <= 1.2 * mean for n in weeks.values()), weeks


def test_scenarios_follow_the_weights_and_differ_per_service() -> None:
    scenarios = [
        ScenarioInput("a", Channel.EMAIL, KINDS, 3),
        ScenarioInput("b", Channel.EMAIL, KINDS, 3),
        ScenarioInput("c", Channel.EMAIL, ("ccas",), 1),
    ]
    req = PlanRequest(
        services=[svc(i, i, "75") for i in range(1, 301)],
        scenarios=scenarios,
        quotas=[ChannelQuota(Channel.EMAIL, 1, (("a", 3.0), ("b", 1.0), ("c", 5.0)))],
        window_start=date(2026, 3, 2),
        window_end=date(2026, 4, 30),
        seed=2,
        personas=PERSONAS,
    )
    result = plan(req)
    check_plan(req, result)
    assert Counter(c.scenario_id for c in result.contacts) == {"a": 225, "b": 75}
    assert Counter(c.wording for c in result.contacts if c.scenario_id == "a") == {
        0: 75,
        1: 75,
        2: 75,
    }

    two = dataclasses.replace(req, quotas=[ChannelQuota(Channel.EMAIL, 2)])
    result = plan(two)
    check_plan(two, result)
    per_service: dict[int, list[str]] = {}
    for c in result.contacts:
        per_service.setdefault(c.service_id, []).append(c.scenario_id)
    assert all(sorted(v) == ["a", "b"] for v in per_service.values())


def test_personas_are_balanced_and_do_not_write_twice_to_a_service() -> None:
    req = PlanRequest(
        services=[svc(i, i, "13") for i in range(1, 101)],
        scenarios=scenarios_all(),
        quotas=[ChannelQuota(Channel.EMAIL, 3), ChannelQuota(Channel.LETTER, 1)],
        window_start=date(2026, 3, 2),
        window_end=date(2026, 5, 29),
        seed=9,
        personas=PERSONAS,
    )
    result = plan(req)
    check_plan(req, result)
    check_balance(req, result)
    emails: dict[int, list[int | None]] = {}
    for c in result.contacts:
        if c.channel is Channel.EMAIL:
            emails.setdefault(c.service_id, []).append(c.persona_id)
    assert all(sorted(v) == [1, 2, 3] for v in emails.values())  # type: ignore[type-var]
    letters = Counter(c.persona_id for c in result.contacts if c.channel is Channel.LETTER)
    assert letters == {1: 50, 3: 50}  # bruno writes no letters


def test_auditors_cover_their_departements_and_stay_balanced() -> None:
    services = [svc(i, i, ("57", "67", "974")[i % 3]) for i in range(1, 91)]
    auditors = [
        AuditorInput(1, "est", ("57", "67")),
        AuditorInput(2, "moselle", ("57",)),
        AuditorInput(3, "partout", ()),
    ]
    req = PlanRequest(
        services=services,
        scenarios=scenarios_all(),
        quotas=[ChannelQuota(Channel.PHONE, 1)],
        window_start=date(2026, 3, 2),
        window_end=date(2026, 5, 29),
        seed=4,
        auditors=auditors,
    )
    result = plan(req)
    check_plan(req, result)
    assert Counter(c.auditor_id for c in result.contacts) == {1: 30, 2: 30, 3: 30}
    only_moselle = dataclasses.replace(req, auditors=[AuditorInput(2, "moselle", ("57",))])
    result = plan(only_moselle)
    check_plan(only_moselle, result)
    assert result.uncovered == {(Channel.PHONE, "67"): 30, (Channel.PHONE, "974"): 30}
    nobody = plan(dataclasses.replace(req, auditors=[]))
    assert all(c.auditor_id is None for c in nobody.contacts) and not nobody.uncovered


def test_same_seed_same_plan_whatever_the_input_order() -> None:
    services = [svc(i, i // 3 + 1, DEPTS[i % len(DEPTS)], KINDS[i % 5]) for i in range(1, 61)]
    req = PlanRequest(
        services=services,
        scenarios=scenarios_all(),
        quotas=[ChannelQuota(ch, 1) for ch in Channel],
        window_start=date(2026, 3, 2),
        window_end=date(2026, 6, 30),
        seed=99,
        personas=PERSONAS,
        auditors=[AuditorInput(1, "a", ()), AuditorInput(2, "b", ())],
    )
    first = plan(req)
    shuffled = dataclasses.replace(
        req, services=services[::-1], personas=PERSONAS[::-1], scenarios=scenarios_all()[::-1]
    )
    assert plan(shuffled) == first
    assert plan(dataclasses.replace(req, seed=100)).contacts != first.contacts


def test_nothing_is_planned_before_now_and_kept_contacts_count() -> None:
    services = [svc(i, i, "75") for i in range(1, 21)]
    now = datetime(2026, 3, 16, 10, 17, 3, tzinfo=UTC)
    sent = FixedContact(1, 1, Channel.EMAIL, "email-0", 0, 1, None, now - timedelta(days=3), "sent")
    cancelled = FixedContact(2, 2, Channel.EMAIL, "email-0", 0, 1, None, now, "cancelled")
    req = PlanRequest(
        services=services,
        scenarios=scenarios_all(),
        quotas=[ChannelQuota(Channel.EMAIL, 2)],
        window_start=date(2026, 3, 2),
        window_end=date(2026, 4, 30),
        seed=1,
        personas=PERSONAS,
        fixed=[sent, cancelled],
        not_before=now,
    )
    result = plan(req)
    check_plan(req, result)
    assert all(c.planned_at >= now for c in result.contacts)
    per_service = Counter(c.service_id for c in result.contacts)
    assert per_service[1] == 1 and per_service[2] == 2 and per_service[3] == 2
    [again] = [c for c in result.contacts if c.service_id == 1]
    lockout_end = BusinessCalendar.for_departement("75").add_business_days(sent.at.date(), 4)
    assert again.planned_at.date() >= lockout_end


@pytest.mark.parametrize("seed", range(6))
def test_windows_that_fit_exactly_are_still_planned(seed: int) -> None:
    # 4 contacts, 3 clear business days between each: 13 business days, all needed.
    req = PlanRequest(
        services=[svc(1, 1, "75")],
        scenarios=scenarios_all(),
        quotas=[ChannelQuota(Channel.EMAIL, 4)],
        window_start=date(2026, 3, 2),
        window_end=date(2026, 3, 18),
        seed=seed,
        personas=PERSONAS,
    )
    result = plan(req)
    check_plan(req, result)
    days = sorted(c.planned_at.date() for c in result.contacts)
    assert days == [date(2026, 3, 2), date(2026, 3, 6), date(2026, 3, 12), date(2026, 3, 18)]
    # 3 services x 3 contacts, one a day, 2 clear days between: 9 contacts in 9 days.
    tight = PlanRequest(
        services=[svc(i, 1, "75") for i in (1, 2, 3)],
        scenarios=scenarios_all(),
        quotas=[ChannelQuota(Channel.EMAIL, 3)],
        window_start=date(2026, 3, 2),
        window_end=date(2026, 3, 12),
        seed=seed,
        rules=Rules(lockout_business_days=2),
        personas=PERSONAS,
    )
    result = plan(tight)
    check_plan(tight, result)
    assert len({c.planned_at.date() for c in result.contacts}) == 9


@pytest.mark.parametrize("seed", range(4))
def test_a_unique_fit_between_opening_days_and_lockout_is_found(seed: int) -> None:
    # 9 contacts, 9 business days, one a day, one clear day between contacts to a service;
    # service 1 answers the phone on Wednesdays only, service 3 on Mondays only. One plan
    # fits (up to swapping service 2's days), which the greedy passes do not find.
    req = PlanRequest(
        services=[
            svc(1, 1, "75", hours="me 09:00-12:00"),
            svc(2, 1, "75", hours="lu-ve 09:00-12:00"),
            svc(3, 1, "75", hours="lu 09:00-12:00"),
        ],
        scenarios=scenarios_all(),
        quotas=[ChannelQuota(Channel.EMAIL, 1), ChannelQuota(Channel.PHONE, 2)],
        window_start=date(2026, 3, 2),
        window_end=date(2026, 3, 12),
        seed=seed,
        rules=Rules(lockout_business_days=1),
        personas=PERSONAS,
    )
    result = plan(req)
    check_plan(req, result)
    days = {
        (c.service_id, c.channel): sorted(
            d.planned_at.date()
            for d in result.contacts
            if (d.service_id, d.channel) == (c.service_id, c.channel)
        )
        for c in result.contacts
    }
    assert days[1, Channel.PHONE] == [date(2026, 3, 4), date(2026, 3, 11)]
    assert days[1, Channel.EMAIL] == [date(2026, 3, 6)]
    assert days[3, Channel.PHONE] == [date(2026, 3, 2), date(2026, 3, 9)]
    assert days[3, Channel.EMAIL] == [date(2026, 3, 5)]
