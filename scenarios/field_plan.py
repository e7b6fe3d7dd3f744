"""Field plans a person can follow: which auditor calls or visits, on which day, at what time.

Step 4 of ``scenarios.planning.plan`` for phone calls and visits, after the days and times
of ``scenarios.placement``::

    [Request], day per request, [PlannedContact] --schedule_field--> auditor_id, and a day
    and time moved where the auditor's day requires it; or InfeasiblePlan with the numbers

An auditor's day is finite (``Rules``): at most ``visits_per_auditor_day`` visits and
``calls_per_auditor_day`` calls per local date, none of them on a date the auditor is
``unavailable``, no two appointments of one person overlapping (a visit takes
``visit_minutes`` plus ``travel_minutes`` to get to the next one, a call ``call_minutes``),
and a day's visits all in one département (and on one clock: the Marquesas and the Gambier
are not visited on a day in Tahiti), nearest first where the services' coordinates are
known. The collectivity's rules still hold when a contact moves: the daily cap per
collectivity, the lockout between two contacts to a service, business days, the service's
hours.

Contacts are taken most constrained first (fewest auditors covering the département), then
by day. A visit first joins a day an auditor already spends in its département, on its own
day or up to ``regroup_business_days`` away (nearest day first, then nearest visits, then
the auditor with fewest visits); else it opens a new auditor-day, on its own day if any
auditor is free, else on the nearest day one is; a call likewise. Among free auditors, the
one covering fewest départements is taken first (one who covers more is kept for where
nobody else can go), then the one with fewest contacts of the channel. Each takes its planned
time when it is free in the auditor's day, else the free time nearest to it within the
service's hours (the greedy pass: ``FieldScheduler.place`` in ``scenarios.field_days``).
What finds no place there is repaired where the team has room (``scenarios.field_repair``:
another day's contacts make way, or the contact trades days with an email or letter of its
collectivity). What still finds no place makes the plan infeasible, and the message says,
per département and channel, how many auditor-days the contacts need and how many the
auditors covering it have. With no auditors at all, field contacts stay unassigned; those
of a département no auditor covers are counted in ``Plan.uncovered``.

    field_days (state, greedy) <- field_repair <- field_plan
"""

from __future__ import annotations

from collections.abc import Sequence

from scenarios.domain import Channel
from scenarios.field_days import FieldScheduler
from scenarios.field_repair import repair_all
from scenarios.placement import DeptLookup, Slots
from scenarios.plan_model import (
    FIELD,
    AuditorInput,
    FieldShortfall,
    FixedContact,
    InfeasiblePlan,
    PlannedContact,
    Request,
    Rules,
    ServiceInput,
)


def schedule_field(
    requests: list[Request],
    days_of: list[int],
    contacts: list[PlannedContact],
    dept_of: DeptLookup,
    slots: Slots,
    rules: Rules,
    auditors: Sequence[AuditorInput],
    fixed: Sequence[FixedContact],
    services: Sequence[ServiceInput],
    seed: int,
) -> dict[tuple[Channel, str], int]:
    """Give every call and visit an auditor and a time in that auditor's day (see the
    module docstring); ``contacts`` and ``days_of`` are parallel to ``requests`` and are
    updated in place. Returns the field contacts left unassigned for want of any auditor
    covering their département; raises ``InfeasiblePlan`` when the auditors' days cannot
    hold them."""
    uncovered: dict[tuple[Channel, str], int] = {}
    if not auditors:
        return uncovered
    sched = FieldScheduler(requests, days_of, contacts, dept_of, slots, rules, auditors, seed)
    sched.count_existing(fixed, {s.id: s for s in services})
    field = [i for i, r in enumerate(requests) if r.channel in FIELD]

    def most_constrained(i: int) -> int:
        # (auditors covering the département, day, request order) as one integer, not a
        # tuple per contact; the requests come by collectivity code and service already
        req = requests[i]
        dept = dept_of(req.service)
        assert dept is not None
        eligible = len(sched.eligible(req.service.departement))
        return (eligible << 64) | (dept.days[days_of[i]].toordinal() << 32) | i

    field.sort(key=most_constrained)
    unplaced: list[int] = []
    for i in field:
        req = requests[i]
        if not sched.eligible(req.service.departement):
            key = (req.channel, req.service.departement)
            uncovered[key] = uncovered.get(key, 0) + 1
        elif not sched.place(i):
            unplaced.append(i)
    unplaced = repair_all(sched, unplaced)
    left: dict[tuple[Channel, str], int] = {}
    for i in unplaced:
        key = (requests[i].channel, requests[i].service.departement)
        left[key] = left.get(key, 0) + 1
    if left:
        shortfalls = sched.shortfalls(left)
        raise InfeasiblePlan(_explain(shortfalls, rules), shortfalls)
    return uncovered


def _explain(shortfalls: Sequence[FieldShortfall], rules: Rules) -> str:
    parts = []
    for s in shortfalls:
        what = "visits" if s.channel is Channel.VISIT else "calls"
        per_day = (
            rules.visits_per_auditor_day
            if s.channel is Channel.VISIT
            else (rules.calls_per_auditor_day)
        )
        parts.append(
            f"{s.contacts} {what} in département {s.departement} need {s.days_needed} "
            f"auditor-days at {per_day} a day, the auditors covering it have "
            f"{s.days_available} in the window"
            + (f", {s.days_busy} of them already busy" if s.days_busy else "")
            + (f", {s.days_elsewhere} taken by other départements" if s.days_elsewhere else "")
            + f" ({s.left_out} found no place)"
        )
    head = "; ".join(parts[:5])
    more = f" (and {len(parts) - 5} more)" if len(parts) > 5 else ""
    return f"rule 'an auditor's day is finite': {head}{more}"
