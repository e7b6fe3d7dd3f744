"""An auditor's days, as the field plan fills them (``scenarios.field_plan``'s state).

``FieldScheduler`` holds, per auditor and local date, the day's appointments (booked
intervals, visits and calls, the département of its visits, their coordinates, which of
this plan's contacts it holds) and, per collectivity and service, the days its contacts
take, so that moving a contact keeps the daily cap and the lockout. ``place`` is the
greedy step (see ``scenarios.field_plan``); ``book``, ``take``, ``unbook`` and ``move_day``
are the moves ``scenarios.field_repair`` combines; ``shortfalls`` counts what is missing.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import UTC, date, datetime

from scenarios import geography
from scenarios.domain import Channel
from scenarios.placement import Dept, DeptLookup, Slots
from scenarios.plan_model import (
    FIELD,
    WRITTEN,
    AuditorInput,
    FieldShortfall,
    FixedContact,
    PlannedContact,
    Request,
    Rules,
    ServiceInput,
)

_FROM_TS = datetime.fromtimestamp


def _day_key(collectivity_id: int, day: date) -> int:
    return (collectivity_id << 24) | day.toordinal()  # ordinals stay below 2**24 to 9999


class AuditorDay:
    __slots__ = ("area", "booked", "calls", "members", "points", "visits")

    def __init__(self) -> None:
        self.visits = 0
        self.calls = 0
        self.area: str | None = None  # where the day's visits are (FieldScheduler.area_of)
        self.booked: list[tuple[int, int]] = []  # [start, end) in epoch seconds, sorted
        self.points: list[tuple[float, float]] = []  # coordinates of the day's visits
        self.members: list[int] = []  # this plan's contacts in the day (movable; kept ones not)


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


class FieldScheduler:
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
        self.days: dict[tuple[int, date], AuditorDay] = {}
        self.busy: set[tuple[int, date]] = set()  # auditor-days holding fixed contacts
        # (département, zone, auditor, channel) whose every day is full, unavailable or, for
        # visits, spent in another département: for good, as days only ever fill up
        self.exhausted: set[tuple[str, str, int, Channel]] = set()
        self.open_visit_days: dict[tuple[str, date], list[int]] = {}
        self.load: dict[Channel, dict[int, int]] = {
            ch: dict.fromkeys((a.id for a in self.pool), 0) for ch in FIELD
        }
        # contacts per collectivity and local date, keyed by ``_day_key`` (one integer, not
        # a tuple: a million-contact campaign has about as many keys)
        self.coll_count: dict[int, int] = {}
        self.svc_days: dict[int, list[int]] = {}
        self._written: dict[int, list[int]] | None = None  # by collectivity, when needed
        self.gap = rules.lockout_business_days + 1
        self.cap = {Channel.VISIT: rules.visits_per_auditor_day,
                    Channel.PHONE: rules.calls_per_auditor_day}  # fmt: skip
        self.length = {
            Channel.VISIT: (rules.visit_minutes + rules.travel_minutes) * 60,
            Channel.PHONE: rules.call_minutes * 60,
        }

    @staticmethod
    def area_of(svc: ServiceInput) -> str:
        """Where a day's visits must all be: the département, and the commune's clock where
        it has its own (a day in the Marquesas is not a day in Tahiti, 1,400 km away)."""
        zone = geography.COMMUNE_ZONES.get(svc.collectivity_code)
        return svc.departement if zone is None else f"{svc.departement} {zone}"

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
            key = _day_key(req.service.collectivity_id, dept.days[d])
            self.coll_count[key] = self.coll_count.get(key, 0) + 1
            self.svc_days.setdefault(req.service.id, []).append(d)
        for f in fixed:
            svc = services.get(f.service_id)
            dept = self.dept_of(svc) if svc is not None else None
            if svc is None or dept is None:
                continue
            local = dept.cal.local_date(f.at)
            key = _day_key(f.collectivity_id, local)
            self.coll_count[key] = self.coll_count.get(key, 0) + 1
            self.svc_days.setdefault(f.service_id, []).append(dept.index_of(local))
            if f.auditor_id is not None and f.channel in FIELD and f.auditor_id in self.off:
                start = int(f.at.timestamp())
                self.book(f.auditor_id, local, f.channel, svc, start)
                self.busy.add((f.auditor_id, local))

    # -- one contact -------------------------------------------------------------------

    def coll_ok(self, i: int, dept: Dept, d: int, mask: list[bool]) -> bool:
        d0 = self.days_of[i]
        if d == d0:
            return True
        svc = self.requests[i].service
        if not mask[d]:
            return False
        if self.coll_count.get(_day_key(svc.collectivity_id, dept.days[d]), 0) >= (
            self.rules.max_per_collectivity_per_day
        ):
            return False
        others = list(self.svc_days.get(svc.id, []))
        others.remove(d0)
        return all(abs(d - x) >= self.gap for x in others)

    def target(self, i: int, dept: Dept, d: int) -> int:
        if d == self.days_of[i]:
            return int(self.contacts[i].planned_at.timestamp())
        spans, total = self.slots.with_total(dept.cal, self.requests[i].profile, dept.days[d])
        pick = int(self.rng.random() * total)
        for start, end in spans:
            if pick < end - start:
                return start + pick
            pick -= end - start
        return spans[0][0]

    def written_at(self, k: int, dept: Dept, d: int) -> int:
        """A time for email or letter ``k`` on day ``d``, drawn as ``place_times`` does:
        uniform over the day's hours, never on a whole minute (the first opening without
        jitter)."""
        spans, total = self.slots.with_total(dept.cal, self.requests[k].profile, dept.days[d])
        if not self.rules.jitter:
            return spans[0][0]
        pick = int(self.rng.random() * total)
        at = spans[0][0]
        for start, end in spans:
            if pick < end - start:
                at = start + pick
                break
            pick -= end - start
        if at % 60 == 0:
            at += 1 + int(self.rng.random() * 59)
        return at

    def written_of(self, collectivity_id: int) -> list[int]:
        """This plan's emails and letters to the collectivity."""
        if self._written is None:
            self._written = {}
            for k, req in enumerate(self.requests):
                if req.channel in WRITTEN:
                    self._written.setdefault(req.service.collectivity_id, []).append(k)
        return self._written.get(collectivity_id, [])

    def try_at(self, i: int, dept: Dept, d: int, aid: int) -> int | None:
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
                if state.area is not None and state.area != self.area_of(req.service):
                    return None
            elif state.calls >= self.cap[channel]:
                return None
        elif self.cap[channel] < 1:
            return None
        spans = self.slots.on(dept.cal, req.profile, day)
        booked = state.booked if state is not None else []
        target = self.target(i, dept, d)
        nudge = 1 + int(self.rng.random() * 59) if self.rules.jitter else 0
        return fit(booked, spans, self.length[channel], target, nudge)

    def book(
        self,
        aid: int,
        day: date,
        channel: Channel,
        svc: ServiceInput,
        start: int,
        member: int | None = None,
    ) -> AuditorDay:
        state = self.days.get((aid, day))
        if state is None:
            state = self.days[aid, day] = AuditorDay()
        state.booked.append((start, start + self.length[channel]))
        state.booked.sort()
        if member is not None:
            state.members.append(member)
        self.load[channel][aid] = self.load[channel].get(aid, 0) + 1
        if channel is Channel.VISIT:
            state.visits += 1
            if state.area is None:
                state.area = self.area_of(svc)
                self.open_visit_days.setdefault((state.area, day), []).append(aid)
            if svc.latitude is not None and svc.longitude is not None:
                state.points.append((svc.latitude, svc.longitude))
        else:
            state.calls += 1
        return state

    def move_day(self, i: int, dept: Dept, d: int) -> None:
        """Contact ``i`` to day ``d``, for the collectivity's cap and the service's lockout."""
        svc = self.requests[i].service
        d0 = self.days_of[i]
        if d != d0:
            old = _day_key(svc.collectivity_id, dept.days[d0])
            new = _day_key(svc.collectivity_id, dept.days[d])
            self.coll_count[old] -= 1
            self.coll_count[new] = self.coll_count.get(new, 0) + 1
            mine = self.svc_days[svc.id]
            mine.remove(d0)
            mine.append(d)
            self.days_of[i] = d

    def take(self, i: int, dept: Dept, d: int, aid: int, start: int) -> None:
        req = self.requests[i]
        self.move_day(i, dept, d)
        self.book(aid, dept.days[d], req.channel, req.service, start, i)
        self.contacts[i] = self.contacts[i]._replace(
            auditor_id=aid, planned_at=_FROM_TS(start, UTC)
        )

    def unbook(self, i: int) -> None:
        """Take contact ``i`` out of its auditor's day (its day stays, for the caps)."""
        req = self.requests[i]
        svc, channel = req.service, req.channel
        dept = self.dept_of(svc)
        aid = self.contacts[i].auditor_id
        assert dept is not None and aid is not None
        day = dept.days[self.days_of[i]]
        state = self.days[aid, day]
        start = int(self.contacts[i].planned_at.timestamp())
        state.booked.remove((start, start + self.length[channel]))
        state.members.remove(i)
        self.load[channel][aid] -= 1
        if channel is Channel.VISIT:
            state.visits -= 1
            if svc.latitude is not None and svc.longitude is not None:
                state.points.remove((svc.latitude, svc.longitude))
            if state.visits == 0:
                self.open_visit_days[state.area or "", day].remove(aid)
                state.area = None
        else:
            state.calls -= 1
        self.contacts[i] = self.contacts[i]._replace(auditor_id=None)

    def _nearness(self, state: AuditorDay, svc: ServiceInput) -> float:
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
                open_days = self.open_visit_days.get((self.area_of(svc), dept.days[d]))
                if not open_days or not self.coll_ok(i, dept, d, mask):
                    continue
                best: tuple[float, int, int, int] | None = None
                for aid in open_days:
                    start = self.try_at(i, dept, d, aid)
                    if start is None:
                        continue
                    state = self.days[aid, dept.days[d]]
                    key = (self._nearness(state, svc), load[aid], aid, start)
                    if best is None or key < best:
                        best = key
                if best is not None:
                    self.take(i, dept, d, best[2], best[3])
                    return True
        # The auditor covering fewest départements first (those covering more are kept
        # for where they are the only ones), then the least loaded.
        zone = dept.cal.tz.key
        candidates = [
            a for a in self.eligible(svc.departement)
            if (svc.departement, zone, a.id, channel) not in self.exhausted
        ]  # fmt: skip
        for d in order:
            if not self.coll_ok(i, dept, d, mask):
                continue
            chosen: tuple[int, int, int, int] | None = None
            for a in candidates:
                rank = (self.breadth[a.id], load[a.id])
                if chosen is not None and rank >= chosen[:2]:
                    continue
                start = self.try_at(i, dept, d, a.id)
                if start is not None:
                    chosen = (*rank, a.id, start)
            if chosen is not None:
                self.take(i, dept, d, chosen[2], chosen[3])
                return True
        for a in candidates:
            if self._spent(a.id, dept, channel, self.area_of(svc)):
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
            elsewhere = sum(
                1 for a in self.eligible(code) for day in days
                if day not in self.off[a.id] and self._elsewhere(a.id, day, channel, code)
            )  # fmt: skip
            out.append(
                FieldShortfall(
                    channel, code, totals[channel, code], missing, need, have, busy, elsewhere
                )
            )
        return out

    def _elsewhere(self, aid: int, day: date, channel: Channel, code: str) -> bool:
        """Whether the auditor's day is taken, for ``channel``, by other départements:
        its visits are in another one, or its calls are all to others and it is full."""
        state = self.days.get((aid, day))
        if state is None:
            return False
        if channel is Channel.VISIT:
            return state.area is not None and state.area.split()[0] != code
        return state.calls >= self.cap[channel] and not any(
            self.requests[j].channel is channel and self.requests[j].service.departement == code
            for j in state.members
        )
