"""Repairing a field plan: a place for the calls and visits the greedy pass left over.

The greedy pass of ``scenarios.field_plan`` takes contacts one by one and never undoes a
choice, so a visit can find every auditor-day of its one possible date already spent in
another département (the demo's: a visit to Hérault on 2 April, both auditors covering it
visiting elsewhere that day) although the team has room. ``repair_all`` then tries, for
each contact left, from its own day outwards:

1. **eject**: on a day the contact may take, an auditor-day whose own contacts block it
   (every visit of a day spent in another département, or one contact of a full day)
   gives its place once those contacts have found another day or auditor (the greedy
   ``place``), else everything is put back as it was;
2. **trade**: a day the contact could not take for its collectivity's rules is taken by
   trading days with an email or letter of the same collectivity planned on it (the
   collectivity keeps one contact a day; the services' lockouts are checked; the written
   contact gets a new time on its new day), then the contact is placed there, plainly or
   by ejecting.

Every move keeps the rules of an auditor's day and of the collectivity. It is bounded:
``REPAIR_SWAPS`` attempts per contact left, ``REPAIR_BUDGET`` in all, and none when the
auditors who could take the contacts have fewer free places in all than there are
contacts (an undersized team is refused at once).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime

from scenarios.domain import Channel
from scenarios.field_days import AuditorDay, FieldScheduler
from scenarios.placement import Dept
from scenarios.plan_model import PlannedContact

REPAIR_SWAPS = 200  # attempts per contact the greedy pass left without a place
REPAIR_BUDGET = 20_000  # and in all


def repair_all(sched: FieldScheduler, unplaced: list[int]) -> list[int]:
    """Place what can be of ``unplaced``; return the contacts still without a place."""
    if not unplaced or not room_for(sched, unplaced):
        return unplaced
    budget = [min(REPAIR_BUDGET, REPAIR_SWAPS * len(unplaced))]
    return [i for i in unplaced if not (sched.place(i) or repair(sched, i, budget))]


def room_for(sched: FieldScheduler, unplaced: Sequence[int]) -> bool:
    """Whether the team has, in all, as many free places of each channel in the window as
    there are ``unplaced`` contacts of it (those of other départements may move to them)."""
    wanted = Counter(sched.requests[i].channel for i in unplaced)
    depts = (sched.dept_of(sched.requests[i].service) for i in unplaced)
    days: set[date] = set()
    for dept in {id(d): d for d in depts if d is not None}.values():
        days.update(dept.days)
    for channel, n in wanted.items():
        free = 0
        for a in sched.pool:
            for day in days:
                if day in sched.off[a.id]:
                    continue
                state = sched.days.get((a.id, day))
                used = 0
                if state is not None:
                    used = state.visits if channel is Channel.VISIT else state.calls
                free += max(0, sched.cap[channel] - used)
        if free < n:
            return False
    return True


def repair(sched: FieldScheduler, i: int, budget: list[int]) -> bool:
    """Place contact ``i`` by ejecting, then by trading days (module docstring)."""
    req = sched.requests[i]
    dept = sched.dept_of(req.service)
    assert dept is not None
    mask = dept.mask(req.profile)
    d0 = sched.days_of[i]
    order = sorted(range(len(dept.days)), key=lambda d: (abs(d - d0), d))
    for d in order:
        if sched.coll_ok(i, dept, d, mask) and _eject(sched, i, dept, d, budget):
            return True
        if budget[0] <= 0:
            return False
    for d in order:
        for k in _traders(sched, i, dept, d, mask):
            if budget[0] <= 0:
                return False
            budget[0] -= 1
            undo = _trade(sched, i, k, dept)
            if sched.place(i) or _eject(sched, i, dept, sched.days_of[i], budget):
                return True
            _untrade(sched, i, k, undo)
    return False


# -- eject ------------------------------------------------------------------------------


def _eject(sched: FieldScheduler, i: int, dept: Dept, d: int, budget: list[int]) -> bool:
    req = sched.requests[i]
    day = dept.days[d]
    for a in sched.eligible(req.service.departement):
        state = sched.days.get((a.id, day))
        if state is None or day in sched.off[a.id]:
            continue
        for movers in _blockers(sched, state, req.channel, sched.area_of(req.service)):
            if budget[0] <= 0:
                return False
            budget[0] -= 1
            if _swap(sched, i, dept, d, a.id, movers):
                return True
    return False


def _blockers(
    sched: FieldScheduler, state: AuditorDay, channel: Channel, area: str
) -> list[list[int]]:
    """The sets of the day's contacts whose leaving could let one more ``channel``
    contact of ``area`` in: every visit when the day's visits are elsewhere, else each
    one contact of the channel when the day is full."""
    mine = [j for j in state.members if sched.requests[j].channel is channel]
    if channel is Channel.VISIT and state.area not in (None, area):
        return [mine] if len(mine) == state.visits else []  # kept visits never move
    full = state.visits if channel is Channel.VISIT else state.calls
    return [[j] for j in mine] if full >= sched.cap[channel] else []


def _swap(sched: FieldScheduler, i: int, dept: Dept, d: int, aid: int, movers: list[int]) -> bool:
    """``i`` into auditor ``aid``'s day ``d`` once ``movers`` have left it for other
    places; else everything as it was."""
    before = [(j, sched.contacts[j], sched.days_of[j]) for j in movers]
    exhausted = set(sched.exhausted)
    for j in movers:
        sched.unbook(j)
    start = sched.try_at(i, dept, d, aid)
    moved: list[int] = []
    if start is not None:
        d_i, contact_i = sched.days_of[i], sched.contacts[i]
        sched.take(i, dept, d, aid, start)
        for j in movers:
            if not sched.place(j):
                break
            moved.append(j)
        else:
            sched.exhausted.clear()  # a day changed hands: what was spent may not be
            return True
        sched.unbook(i)
        sched.move_day(i, dept, d_i)
        sched.contacts[i] = contact_i
    for j in moved:
        sched.unbook(j)
    for j, contact, d_j in before:
        svc = sched.requests[j].service
        dept_j = sched.dept_of(svc)
        assert dept_j is not None and contact.auditor_id is not None
        sched.move_day(j, dept_j, d_j)
        start_j = int(contact.planned_at.timestamp())
        sched.book(contact.auditor_id, dept_j.days[d_j], contact.channel, svc, start_j, j)
        sched.contacts[j] = contact
    sched.exhausted = exhausted
    return False


# -- trade ------------------------------------------------------------------------------


def _traders(sched: FieldScheduler, i: int, dept: Dept, d: int, mask: list[bool]) -> list[int]:
    """The emails and letters of ``i``'s collectivity on day ``d`` that could trade days
    with ``i``: both open on their new day, both services' lockouts kept."""
    d0 = sched.days_of[i]
    if d == d0 or not mask[d]:
        return []
    svc = sched.requests[i].service
    out = []
    for k in sched.written_of(svc.collectivity_id):
        if sched.days_of[k] != d:
            continue
        other = sched.requests[k]
        if not dept.mask(other.profile)[d0]:
            continue
        if other.service.id != svc.id and not (
            _spaced(sched, svc.id, d0, d) and _spaced(sched, other.service.id, d, d0)
        ):
            continue
        out.append(k)
    return out


def _spaced(sched: FieldScheduler, service_id: int, old: int, new: int) -> bool:
    """Whether a contact of the service may move from day ``old`` to ``new`` (lockout)."""
    others = list(sched.svc_days.get(service_id, []))
    others.remove(old)
    return all(abs(new - x) >= sched.gap for x in others)


def _trade(
    sched: FieldScheduler, i: int, k: int, dept: Dept
) -> tuple[PlannedContact, PlannedContact]:
    """Days of ``i`` (not placed) and ``k`` (written) traded; returns what to put back."""
    d_i, d_k = sched.days_of[i], sched.days_of[k]
    undo = (sched.contacts[i], sched.contacts[k])
    at_i, at_k = sched.target(i, dept, d_k), sched.written_at(k, dept, d_i)
    _move(sched, i, d_i, d_k)
    _move(sched, k, d_k, d_i)
    sched.contacts[i] = sched.contacts[i]._replace(planned_at=datetime.fromtimestamp(at_i, UTC))
    sched.contacts[k] = sched.contacts[k]._replace(planned_at=datetime.fromtimestamp(at_k, UTC))
    return undo


def _untrade(
    sched: FieldScheduler, i: int, k: int, undo: tuple[PlannedContact, PlannedContact]
) -> None:
    d_i, d_k = sched.days_of[i], sched.days_of[k]
    _move(sched, i, d_i, d_k)
    _move(sched, k, d_k, d_i)
    sched.contacts[i], sched.contacts[k] = undo


def _move(sched: FieldScheduler, i: int, old: int, new: int) -> None:
    """Day of ``i`` changed for its service's lockout only: a trade leaves the
    collectivity's count per day as it was."""
    mine = sched.svc_days[sched.requests[i].service.id]
    mine.remove(old)
    mine.append(new)
    sched.days_of[i] = new
