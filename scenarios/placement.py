"""Day and time placement: steps 2 and 3 of ``scenarios.planning.plan``.

    plan() --[Request]--> place_days --[day index per request]--> place_times --> [PlannedContact]

``Slots`` turns an hours profile (``WeeklyHours`` and a closing margin) into the allowed UTC
intervals of one local day, in epoch seconds, computed once per (time zone, profile, day):
local intervals are converted to UTC first, which is what makes times DST-correct. ``Dept``
holds one département's business days in the window and, per profile, which of them have
any allowed time (``DeptLookup`` finds a service's, on its commune's clock; None for an
unknown département).

``place_days`` works collectivity by collectivity, each with its own seeded generator so
adding one leaves the others' days alone: the feasibility checks first (the daily cap, then
the lockout per service; a failure becomes ``InfeasiblePlan`` naming the rule and the
shortfall), then the strategies of ``scenarios.day_fitting`` (spread, pack, search).
``place_times`` then draws a uniformly random second of the day's allowed time, never on a
whole minute (``Rules.jitter`` off: the first allowed second).
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from scenarios.calendar import BusinessCalendar
from scenarios.day_fitting import interleave, max_spaced, pack_days, search_days, spread_days
from scenarios.opening_hours import END_OF_DAY, WeeklyHours
from scenarios.plan_model import (
    FixedContact,
    InfeasiblePlan,
    PlannedContact,
    Request,
    Rules,
    ServiceInput,
    lockout_rule,
    per_day_rule,
)

# --------------------------------------------------------------------------------------
# Allowed hours per day, as UTC second intervals, computed once per (zone, profile, day)


class Slots:
    """Allowed UTC intervals ``(start, end)`` in epoch seconds, per profile and local day."""

    def __init__(self, not_before: datetime | None) -> None:
        self.profiles: list[tuple[WeeklyHours, int]] = []
        self._index: dict[tuple[WeeklyHours, int], int] = {}
        self._by_id: dict[tuple[int, int], int] = {}
        self._keep: list[WeeklyHours] = []
        self._totals: dict[tuple[str, int, date], tuple[tuple[tuple[int, int], ...], int]] = {}
        self._cache: dict[tuple[str, int, date], tuple[tuple[int, int], ...]] = {}
        self._floor = math.ceil(not_before.timestamp()) if not_before is not None else None

    def profile(self, hours: WeeklyHours, margin_s: int) -> int:
        # By identity first: hashing a WeeklyHours walks every interval, and services
        # usually share a handful of parsed objects.
        fast = (id(hours), margin_s)
        found = self._by_id.get(fast)
        if found is None:
            key = (hours, margin_s)
            found = self._index.get(key)
            if found is None:
                found = self._index[key] = len(self.profiles)
                self.profiles.append(key)
            self._by_id[fast] = found
            self._keep.append(hours)  # the id stays valid while we hold the object
        return found

    def on(self, cal: BusinessCalendar, profile: int, day: date) -> tuple[tuple[int, int], ...]:
        key = (cal.tz.key, profile, day)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._compute(cal, profile, day)
        return found

    def with_total(
        self, cal: BusinessCalendar, profile: int, day: date
    ) -> tuple[tuple[tuple[int, int], ...], int]:
        """``on`` and the total length of its spans, in seconds."""
        key = (cal.tz.key, profile, day)
        found = self._totals.get(key)
        if found is None:
            spans = self.on(cal, profile, day)
            found = self._totals[key] = (spans, sum(end - start for start, end in spans))
        return found

    def _compute(
        self, cal: BusinessCalendar, profile: int, day: date
    ) -> tuple[tuple[int, int], ...]:
        hours, margin_s = self.profiles[profile]
        spans: list[tuple[int, int]] = []
        for interval in hours.on(day.weekday()):
            start = int(cal.local_instant(day, interval.start).timestamp())
            if interval.end == END_OF_DAY:
                end_dt = cal.local_instant(day + timedelta(days=1), time(0, 0))
            else:
                end_dt = cal.local_instant(day, interval.end)
            end = int(end_dt.timestamp()) - margin_s
            if self._floor is not None:
                start = max(start, self._floor)
            if end > start:
                spans.append((start, end))
        return tuple(spans)


class Dept:
    """One département's business days in the window, with usable-day masks per profile."""

    def __init__(self, cal: BusinessCalendar, start: date, end: date, slots: Slots) -> None:
        self.cal = cal
        self.days = cal.business_days(start, end)
        self._slots = slots
        self._masks: dict[int, list[bool]] = {}
        self._unions: dict[tuple[int, ...], tuple[list[bool], int]] = {}

    def mask(self, profile: int) -> list[bool]:
        found = self._masks.get(profile)
        if found is None:
            found = [bool(self._slots.on(self.cal, profile, d)) for d in self.days]
            self._masks[profile] = found
        return found

    def union(self, profiles: tuple[int, ...]) -> tuple[list[bool], int]:
        """Days usable by any of ``profiles`` (sorted), and how many there are."""
        found = self._unions.get(profiles)
        if found is None:
            masks = [self.mask(p) for p in profiles]
            union = [any(col) for col in zip(*masks, strict=True)] if len(masks) > 1 else masks[0]
            found = self._unions[profiles] = (union, sum(union))
        return found

    def index_of(self, day: date) -> int:
        """Index of ``day``, or of the next business day when it is not one."""
        return bisect.bisect_left(self.days, day)


DeptLookup = Callable[[ServiceInput], "Dept | None"]


# --------------------------------------------------------------------------------------
# Days


def place_days(
    requests: list[Request],
    fixed: list[FixedContact],
    dept_of: DeptLookup,
    rules: Rules,
    seed: int,
) -> list[int]:
    """A business-day index (in the département's window days) for every request."""
    by_coll: dict[int, list[int]] = {}
    for i, req in enumerate(requests):
        by_coll.setdefault(req.service.collectivity_id, []).append(i)
    fixed_by_coll: dict[int, list[FixedContact]] = {}
    for f in fixed:
        fixed_by_coll.setdefault(f.collectivity_id, []).append(f)

    result = [0] * len(requests)
    problems: list[InfeasiblePlan] = []
    for coll_id, indices in by_coll.items():
        first = requests[indices[0]].service
        dept = dept_of(first)
        assert dept is not None  # services of unknown départements were skipped
        coll_rng = random.Random(f"{seed}:{first.collectivity_code}")
        placed, problem = _place_collectivity(
            [requests[i] for i in indices], fixed_by_coll.get(coll_id, []), dept, rules, coll_rng
        )
        if placed is None:
            assert problem is not None
            problems.append(problem)
            continue
        for i, day in zip(indices, placed, strict=True):
            result[i] = day
    if problems:
        worst, more = problems[0], len(problems) - 1
        tail = f" (and {more} other collectivit{'ies' if more > 1 else 'y'})" if more else ""
        raise InfeasiblePlan(
            f"{worst}{tail}", code=worst.code, params={**worst.params, "more": more}
        )
    return result


def _place_collectivity(
    reqs: list[Request],
    fixed: list[FixedContact],
    dept: Dept,
    rules: Rules,
    rng: random.Random,
) -> tuple[list[int] | None, InfeasiblePlan | None]:
    coll = reqs[0].service
    who = f"collectivity {coll.collectivity_code} {coll.collectivity_name}"
    whose = {"code": coll.collectivity_code, "name": coll.collectivity_name}
    n_days = len(dept.days)
    per_day = rules.max_per_collectivity_per_day
    gap = rules.lockout_business_days + 1
    cap = [per_day] * n_days
    fixed_days: dict[int, list[int]] = {}
    for f in fixed:
        local = dept.cal.local_date(f.at)
        at = dept.index_of(local)
        if at < n_days and dept.days[at] == local:
            cap[at] -= 1
        fixed_days.setdefault(f.service_id, []).append(at)

    masks = {r.profile: dept.mask(r.profile) for r in reqs}
    usable_any, _ = dept.union(tuple(sorted(masks)))
    usable = [d for d in range(n_days) if usable_any[d] and cap[d] > 0]
    free = sum(cap[d] for d in usable)
    if len(reqs) > free:
        need = math.ceil(len(reqs) / per_day)
        have = len(usable)
        left = " left" if fixed else ""
        short = max(1, need - have)
        return None, InfeasiblePlan(
            f"rule '{per_day_rule(per_day)}': {who} needs {need} days, the window has "
            f"{have} business days{left} (short by {short})",
            code="cap",
            params={**whose, "per_day": per_day, "need": need, "have": have, "short": short,
                    "left": bool(fixed)},
        )  # fmt: skip

    # Lockout, service by service: greedy earliest placement is optimal for one service.
    by_service: dict[int, list[Request]] = {}
    for r in reqs:
        by_service.setdefault(r.service.id, []).append(r)
    for sid, sreqs in by_service.items():
        taken = sorted(fixed_days.get(sid, []))
        mask, have = dept.union(tuple(sorted({r.profile: 0 for r in sreqs})))
        if not taken and have == n_days:
            count = (n_days - 1) // gap + 1 if n_days else 0
        else:
            count = max_spaced(mask, taken, gap)
        if count < len(sreqs):
            total = len(sreqs) + len(taken)
            need = (total - 1) * gap + 1
            svc = sreqs[0].service
            short = max(1, need - have)
            return None, InfeasiblePlan(
                f"rule '{lockout_rule(rules.lockout_business_days)}': service {svc.id} "
                f"({svc.kind}) of {who} needs a span of {need} business days for {total} "
                f"contacts, the window has {have} usable business days "
                f"(short by {short})",
                code="lockout",
                params={**whose, "lockout": rules.lockout_business_days, "service": svc.id,
                        "kind": svc.kind, "need": need, "total": total, "have": have,
                        "short": short},
            )  # fmt: skip

    order = interleave(reqs, rng)
    placed = spread_days(order, reqs, usable, cap, masks, fixed_days, gap, rng)
    if placed is None:
        placed = pack_days(reqs, cap, masks, fixed_days, gap)
    exhausted = False
    if placed is None:
        placed, exhausted = search_days(reqs, usable, cap, masks, fixed_days, gap)
    if placed is None:
        verdict = "no plan was found in the search budget" if exhausted else "they cannot all hold"
        return None, InfeasiblePlan(
            f"rules '{per_day_rule(per_day)}', '{lockout_rule(rules.lockout_business_days)}' "
            f"and the opening hours: {verdict} for {who} ({len(reqs)} contacts in "
            f"{len(usable)} business days)",
            code="fitting",
            params={**whose, "per_day": per_day, "lockout": rules.lockout_business_days,
                    "contacts": len(reqs), "days": len(usable), "exhausted": exhausted},
        )  # fmt: skip
    return placed, None


# --------------------------------------------------------------------------------------
# Times


def place_times(
    requests: list[Request],
    days_of: list[int],
    dept_of: DeptLookup,
    slots: Slots,
    rules: Rules,
    seed: int,
) -> list[PlannedContact]:
    contacts: list[PlannedContact] = []
    from_ts = datetime.fromtimestamp
    jitter = rules.jitter
    # Requests come collectivity by collectivity: one generator each, made when it changes.
    coll_id = -1
    rng = random.Random()
    dept: Dept | None = None
    for req, d in zip(requests, days_of, strict=True):
        svc = req.service
        if svc.collectivity_id != coll_id:
            coll_id = svc.collectivity_id
            rng = random.Random(f"{seed}:t:{svc.collectivity_code}")
            dept = dept_of(svc)
        assert dept is not None
        spans, total = slots.with_total(dept.cal, req.profile, dept.days[d])
        at = spans[0][0]
        if jitter:
            pick = int(rng.random() * total)
            for start, end in spans:
                if pick < end - start:
                    at = start + pick
                    break
                pick -= end - start
            if at % 60 == 0:
                # Never on a whole minute: the span ends on a whole minute after ``at``.
                at += 1 + int(rng.random() * 59)
        contacts.append(
            PlannedContact(
                svc.id,
                svc.collectivity_id,
                req.scenario_id,
                req.channel,
                req.wording,
                None,
                None,
                from_ts(at, UTC),
            )
        )
    return contacts
