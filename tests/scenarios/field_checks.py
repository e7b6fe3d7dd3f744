"""The rules of an auditor's day, checked from the outside on any plan (a support module).

``check_field(request, plan)``: no auditor works on a date they are unavailable, nor past
their daily capacity of visits and calls, nor in two départements (or on two clocks, the
Marquesas and Tahiti) on one day's visits, and no two appointments of one person overlap
(a visit lasts ``visit_minutes`` plus ``travel_minutes``, a call ``call_minutes``), kept
contacts included.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, datetime, timedelta

from scenarios.calendar import BusinessCalendar
from scenarios.domain import Channel, ContactStatus
from scenarios.planning import Plan, PlanRequest, ServiceInput


def _calendar(service: ServiceInput) -> BusinessCalendar:
    return BusinessCalendar.for_commune(service.departement, service.collectivity_code)


def appointments(
    req: PlanRequest, result: Plan
) -> list[tuple[int, datetime, Channel, ServiceInput]]:
    """(auditor, start, channel, service) of every assigned call and visit, kept ones too."""
    services = {s.id: s for s in req.services}
    out = [
        (c.auditor_id, c.planned_at, c.channel, services[c.service_id])
        for c in result.contacts
        if c.auditor_id is not None
    ]
    out += [
        (f.auditor_id, f.at, f.channel, services[f.service_id])
        for f in req.fixed
        if f.auditor_id is not None
        and f.status != ContactStatus.CANCELLED
        and f.service_id in services
        and f.channel in (Channel.PHONE, Channel.VISIT)
    ]
    return out


def check_field(req: PlanRequest, result: Plan) -> Counter[tuple[int, date, Channel]]:
    """Assert every rule of an auditor's day; return the load per auditor, date, channel."""
    rules = req.rules
    off = {a.id: set(a.unavailable) for a in req.auditors}
    fresh = {(c.auditor_id, c.planned_at) for c in result.contacts if c.auditor_id is not None}
    load: Counter[tuple[int, date, Channel]] = Counter()
    areas: dict[tuple[int, date], set[str]] = {}
    spans: dict[int, list[tuple[datetime, datetime]]] = {}
    for aid, at, channel, service in appointments(req, result):
        day = _calendar(service).local_date(at)
        if (aid, at) in fresh:
            assert day not in off[aid], (aid, day)
        load[aid, day, channel] += 1
        minutes = rules.call_minutes
        if channel is Channel.VISIT:
            zone = _calendar(service).tz.key
            areas.setdefault((aid, day), set()).add(f"{service.departement} {zone}")
            minutes = rules.visit_minutes + rules.travel_minutes
        spans.setdefault(aid, []).append((at, at + timedelta(minutes=minutes)))
    for (aid, day, channel), n in load.items():
        cap = (
            rules.visits_per_auditor_day
            if channel is Channel.VISIT
            else (rules.calls_per_auditor_day)
        )
        assert n <= cap, (aid, day, channel, n)
    for key, departements in areas.items():
        assert len(departements) == 1, (key, departements)
    for aid, intervals in spans.items():
        intervals.sort()
        for (_, end), (start, _) in itertools.pairwise(intervals):
            assert start >= end, (aid, start, end)
    return load
