"""Field plans a person can follow: which auditor calls or visits, on which day, at what time.

Step 4 of ``scenarios.planning.plan`` for phone calls and visits, after the days and times
of ``scenarios.placement``::

    [Request], day per request, [PlannedContact] --schedule_field--> auditor_id, and a day
    and time moved where the auditor's day requires it; or InfeasiblePlan with the numbers

An auditor's day is finite (``Rules``): at most ``visits_per_auditor_day`` visits and
``calls_per_auditor_day`` calls per local date, none of them on a date the auditor is
``unavailable``, no two appointments of one person overlapping (a visit takes
``visit_minutes`` plus ``travel_minutes`` to get to the next one, a call ``call_minutes``),
and a day's visits all in one département, nearest first where the services' coordinates
are known. The collectivity's rules still hold when a contact moves: the daily cap per
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
service's hours. What finds no place makes the plan infeasible, and the message says, per
département and channel, how many auditor-days the contacts need and how many the
auditors covering it have. With no auditors at all, field contacts stay unassigned; those
of a département no auditor covers are counted in ``Plan.uncovered``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import UTC, date, datetime

from scenarios.domain import Channel
from scenarios.placement import Dept, DeptLookup, Slots
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

_FROM_TS = datetime.fromtimestamp


class _AuditorDay:
    __slots__ = ("area", "booked", "calls", "points", "visits")

    def __init__(self) -> None:
        self.visits = 0
        self.calls = 0
        self.area: str | None = None  # the département of the day's visits
        self.booked: list[tuple[int, int]] = []  # [start, end) in epoch seconds, sorted
        self.points: list[tuple[float, float]] = []  # coordinates of the day's visits


def fit(
    booked: Sequence[tuple[int, int]],
    spans: Sequence[tuple[int, int]],
    length: int,
    target: int,
    nudge: int = 0,
) -> int | None:
    """The start nearest ``target`` inside ``spans`` whose ``[start, start + length)`` meets
    no booked interval; None when there is none. A day that has appointments is packed:
    the new one goes right after or right before another one (or at an opening), so that
    the free time stays in one piece for the next. ``nudge`` (1 to 59) keeps starts off
    whole minutes: a whole-minute candidate is moved that many seconds either way."""
    if booked:
        base = [*(s for s, _ in spans), *(e for _, e in booked), *(b - length for b, _ in booked)]
    else:
        base = [target, *(s for s, _ in spans)]
    candidates = base
    if nudge:
        candidates = []
        for c in base:
            candidates.extend((c + nudge, c - nudge) if c % 60 == 0 else (c,))
    best: int | None = None
    for start in candidates:
        if not any(lo <= start < hi for lo, hi in spans):
            continue
        end = start + length
        if any(start < b1 and b0 < end for b0, b1 in booked):
            continue
        if best is None or abs(start - target) < abs(best - target):
            best = start
    return best


def _distance2(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Squared equirectangular distance: enough to rank nearness."""
    mean_lat = math.radians((a[0] + b[0]) / 2)
    dx = math.radians(b[1] - a[1]) * math.cos(mean_lat)
    dy = math.radians(b[0] - a[0])
    return dx * dx + dy * dy


class _Scheduler:
    def __init__(
        self,
        requests: list[Request],
        days_of: list[int],
        contacts: list[PlannedContact],
        dept_of: DeptLookup,
        slots: Slots,
        rules: Rules,
        auditors: Sequence[AuditorInput],
        seed: int,
    ) -> None:
        self.requests, self.days_of, self.contacts = requests, days_of, contacts
        self.dept_of, self.slots, self.rules = dept_of, slots, rules
        self.rng = random.Random(f"{seed}:field")
        self.pool = sorted(auditors, key=lambda a: a.key)
        self.off = {a.id: frozenset(a.unavailable) for a in self.pool}
        self.breadth = {a.id: len(a.departements) or 1_000 for a in self.pool}
        self._eligible: dict[str, list[AuditorInput]] = {}
        self.days: dict[tuple[int, date], _AuditorDay] = {}
        self.busy: set[tuple[int, date]] = set()  # auditor-days holding fixed contacts
        # (département, zone, auditor, channel) whose every day is full, unavailable or, for
        # visits, spent in another département: for good, as days only ever fill up
        self.exhausted: set[tuple[str, str, int, Channel]] = set()
        self.open_visit_days: dict[tuple[str, date], list[int]] = {}
        self.load: dict[Channel, dict[int, int]] = {
            ch: dict.fromkeys((a.id for a in self.pool), 0) for ch in FIELD
        }
        self.coll_count: dict[tuple[int, date], int] = {}
        self.svc_days: dict[int, list[int]] = {}
        self.gap = rules.lockout_business_days + 1
        self.cap = {Channel.VISIT: rules.visits_per_auditor_day,
                    Channel.PHONE: rules.calls_per_auditor_day}  # fmt: skip
        self.length = {
            Channel.VISIT: (rules.visit_minutes + rules.travel_minutes) * 60,
            Channel.PHONE: rules.call_minutes * 60,
        }

    def eligible(self, dept: str) -> list[AuditorInput]:
        found = self._eligible.get(dept)
        if found is None:
            found = [a for a in self.pool if not a.departements or dept in a.departements]
            self._eligible[dept] = found
        return found

    # -- what exists already -----------------------------------------------------------

    def count_existing(
        self, fixed: Sequence[FixedContact], services: dict[int, ServiceInput]
    ) -> None:
        for req, d in zip(self.requests, self.days_of, strict=True):
            dept = self.dept_of(req.service)
            assert dept is not None
            key = (req.service.collectivity_id, dept.days[d])
            self.coll_count[key] = self.coll_count.get(key, 0) + 1
            self.svc_days.setdefault(req.service.id, []).append(d)
        for f in fixed:
            svc = services.get(f.service_id)
            dept = self.dept_of(svc) if svc is not None else None
            if svc is None or dept is None:
                continue
            local = dept.cal.local_date(f.at)
            key = (f.collectivity_id, local)
            self.coll_count[key] = self.coll_count.get(key, 0) + 1
            self.svc_days.setdefault(f.service_id, []).append(dept.index_of(local))
            if f.auditor_id is not None and f.channel in FIELD and f.auditor_id in self.off:
                start = int(f.at.timestamp())
                self._book(f.auditor_id, local, f.channel, svc, start)
                self.busy.add((f.auditor_id, local))

    # -- one contact -------------------------------------------------------------------

    def _coll_ok(self, i: int, dept: Dept, d: int, mask: list[bool]) -> bool:
        d0 = self.days_of[i]
        if d == d0:
            return True
        svc = self.requests[i].service
        if not mask[d]:
            return False
        if self.coll_count.get((svc.collectivity_id, dept.days[d]), 0) >= (
            self.rules.max_per_collectivity_per_day
        ):
            return False
        others = list(self.svc_days.get(svc.id, []))
        others.remove(d0)
        return all(abs(d - x) >= self.gap for x in others)

    def _target(self, i: int, dept: Dept, d: int) -> int:
        if d == self.days_of[i]:
            return int(self.contacts[i].planned_at.timestamp())
        spans, total = self.slots.with_total(dept.cal, self.requests[i].profile, dept.days[d])
        pick = int(self.rng.random() * total)
        for start, end in spans:
            if pick < end - start:
                return start + pick
            pick -= end - start
        return spans[0][0]

    def _try(self, i: int, dept: Dept, d: int, aid: int) -> int | None:
        """The start time auditor ``aid`` could take contact ``i`` at on day ``d``."""
        req = self.requests[i]
        day = dept.days[d]
        if day in self.off[aid]:
            return None
        state = self.days.get((aid, day))
        channel = req.channel
        if state is not None:
            if channel is Channel.VISIT:
                if state.visits >= self.cap[channel]:
                    return None
                if state.area is not None and state.area != req.service.departement:
                    return None
            elif state.calls >= self.cap[channel]:
                return None
        elif self.cap[channel] < 1:
            return None
        spans = self.slots.on(dept.cal, req.profile, day)
        booked = state.booked if state is not None else []
        target = self._target(i, dept, d)
        nudge = 1 + int(self.rng.random() * 59) if self.rules.jitter else 0
        return fit(booked, spans, self.length[channel], target, nudge)

    def _book(
        self, aid: int, day: date, channel: Channel, svc: ServiceInput, start: int
    ) -> _AuditorDay:
        state = self.days.get((aid, day))
        if state is None:
            state = self.days[aid, day] = _AuditorDay()
        state.booked.append((start, start + self.length[channel]))
        state.booked.sort()
        self.load[channel][aid] = self.load[channel].get(aid, 0) + 1
        if channel is Channel.VISIT:
            state.visits += 1
            if state.area is None:
                state.area = svc.departement
                self.open_visit_days.setdefault((svc.departement, day), []).append(aid)
            if svc.latitude is not None and svc.longitude is not None:
                state.points.append((svc.latitude, svc.longitude))
        else:
            state.calls += 1
        return state

    def _take(self, i: int, dept: Dept, d: int, aid: int, start: int) -> None:
        req = self.requests[i]
        svc = req.service
        d0 = self.days_of[i]
        if d != d0:
            old, new = (svc.collectivity_id, dept.days[d0]), (svc.collectivity_id, dept.days[d])
            self.coll_count[old] -= 1
            self.coll_count[new] = self.coll_count.get(new, 0) + 1
            mine = self.svc_days[svc.id]
            mine.remove(d0)
            mine.append(d)
            self.days_of[i] = d
        self._book(aid, dept.days[d], req.channel, svc, start)
        self.contacts[i] = self.contacts[i]._replace(
            auditor_id=aid, planned_at=_FROM_TS(start, UTC)
        )

    def _nearness(self, state: _AuditorDay, svc: ServiceInput) -> float:
        if svc.latitude is None or svc.longitude is None or not state.points:
            return 0.0
        here = (svc.latitude, svc.longitude)
        return min(_distance2(here, p) for p in state.points)

    def place(self, i: int) -> bool:
        req = self.requests[i]
        svc = req.service
        dept = self.dept_of(svc)
        assert dept is not None
        mask = dept.mask(req.profile)
        d0 = self.days_of[i]
        n = len(dept.days)
        order = sorted(range(n), key=lambda d: (abs(d - d0), d))
        channel = req.channel
        load = self.load[channel]
        if channel is Channel.VISIT:
            # Join a day an auditor already spends in the département.
            for d in order:
                if abs(d - d0) > self.rules.regroup_business_days:
                    break
                open_days = self.open_visit_days.get((svc.departement, dept.days[d]))
                if not open_days or not self._coll_ok(i, dept, d, mask):
                    continue
                best: tuple[float, int, int, int] | None = None
                for aid in open_days:
                    start = self._try(i, dept, d, aid)
                    if start is None:
                        continue
                    state = self.days[aid, dept.days[d]]
                    key = (self._nearness(state, svc), load[aid], aid, start)
                    if best is None or key < best:
                        best = key
                if best is not None:
                    self._take(i, dept, d, best[2], best[3])
                    return True
        # The auditor covering fewest départements first (those covering more are kept
        # for where they are the only ones), then the least loaded.
        zone = dept.cal.tz.key
        candidates = [
            a for a in self.eligible(svc.departement)
            if (svc.departement, zone, a.id, channel) not in self.exhausted
        ]  # fmt: skip
        for d in order:
            if not self._coll_ok(i, dept, d, mask):
                continue
            chosen: tuple[int, int, int, int] | None = None
            for a in candidates:
                rank = (self.breadth[a.id], load[a.id])
                if chosen is not None and rank >= chosen[:2]:
                    continue
                start = self._try(i, dept, d, a.id)
                if start is not None:
                    chosen = (*rank, a.id, start)
            if chosen is not None:
                self._take(i, dept, d, chosen[2], chosen[3])
                return True
        for a in candidates:
            if self._spent(a.id, dept, channel, svc.departement):
                self.exhausted.add((svc.departement, zone, a.id, channel))
        return False

    def _spent(self, aid: int, dept: Dept, channel: Channel, area: str) -> bool:
        """Whether no day of ``dept``'s window can ever take one more such contact of
        ``aid``: each is unavailable, full, or (visits) spent in another département."""
        cap = self.cap[channel]
        for day in dept.days:
            if day in self.off[aid]:
                continue
            state = self.days.get((aid, day))
            if state is None:
                return False
            if channel is Channel.VISIT:
                if state.visits < cap and state.area in (None, area):
                    return False
            elif state.calls < cap:
                return False
        return True

    # -- when it does not hold ---------------------------------------------------------

    def shortfalls(self, left: dict[tuple[Channel, str], int]) -> list[FieldShortfall]:
        totals: dict[tuple[Channel, str], int] = {}
        depts: dict[str, Dept] = {}
        for req in self.requests:
            if req.channel in FIELD:
                key = (req.channel, req.service.departement)
                totals[key] = totals.get(key, 0) + 1
                dept = self.dept_of(req.service)
                assert dept is not None
                depts.setdefault(req.service.departement, dept)
        out = []
        for (channel, code), missing in sorted(left.items()):
            days = depts[code].days
            have = sum(
                sum(1 for day in days if day not in self.off[a.id]) for a in self.eligible(code)
            )
            need = math.ceil(totals[channel, code] / max(1, self.cap[channel]))
            window = set(days)
            busy = sum(
                1 for a in self.eligible(code) for aid, day in self.busy
                if aid == a.id and day in window and day not in self.off[a.id]
            )  # fmt: skip
            out.append(
                FieldShortfall(channel, code, totals[channel, code], missing, need, have, busy)
            )
        return out


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
    sched = _Scheduler(requests, days_of, contacts, dept_of, slots, rules, auditors, seed)
    sched.count_existing(fixed, {s.id: s for s in services})
    field = [i for i, r in enumerate(requests) if r.channel in FIELD]

    def most_constrained(i: int) -> tuple[int, date, str, int, int]:
        req = requests[i]
        dept = dept_of(req.service)
        assert dept is not None
        return (
            len(sched.eligible(req.service.departement)),
            dept.days[days_of[i]],
            req.service.collectivity_code,
            req.service.id,
            i,
        )

    field.sort(key=most_constrained)
    left: dict[tuple[Channel, str], int] = {}
    for i in field:
        req = requests[i]
        key = (req.channel, req.service.departement)
        if not sched.eligible(req.service.departement):
            uncovered[key] = uncovered.get(key, 0) + 1
        elif not sched.place(i):
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
            + f" ({s.left_out} found no place)"
        )
    head = "; ".join(parts[:5])
    more = f" (and {len(parts) - 5} more)" if len(parts) > 5 else ""
    return f"rule 'an auditor's day is finite': {head}{more}"
