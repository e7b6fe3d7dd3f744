"""Campaign planning: which service gets which scenario, from whom, and when.

``plan(PlanRequest) -> Plan`` is a pure function over the plain dataclasses below (no
database, no clock: "now" arrives as ``not_before``). Same request, same plan: every random
choice comes from ``random.Random`` seeded with the campaign seed (one generator per
collectivity for its days and times, so adding a collectivity leaves the others' days
alone), and every loop runs over a sorted list, never a set.

Flow:

1. **Demand.** For each service (sorted by collectivity code, then id) and each channel of
   the mix: skip the service for that channel when it cannot take it (no email address, no
   phone, no postal address, no fitting scenario, never open on a business day of the
   window), else ask for ``per_service`` contacts minus the ones already kept (``fixed``,
   cancelled ones excepted). Scenarios are picked per service, different ones first, then
   by weight (the scenario whose count/weight is lowest wins, so the mix follows the
   weights closely); wordings go to the least-used one, avoiding a wording the same
   collectivity already receives for that scenario.
2. **Days.** Per collectivity, in business-day indices of its département's calendar:
   the feasibility checks first (the daily cap, then the lockout per service), which raise
   ``InfeasiblePlan`` naming the rule and the shortfall; then the contacts, interleaved
   service by service, get evenly spaced targets over the whole window (random offset) and
   each takes the usable day nearest its target that keeps the daily cap, the lockout and
   the channel's hours. Should that greedy pass fail where the checks passed (tight
   windows), a second pass packs day by day, most remaining contacts first.
3. **Times.** A uniformly random second of the day's allowed hours (in the collectivity's
   time zone, DST-correct because local intervals are converted to UTC first), never on
   a whole minute; emails and letters in the dispatch hours, phone calls and visits in the
   service's opening hours (or the default), ending ``field_margin_minutes`` before closing.
4. **People.** Service by service (services in a shuffled order, so nobody's contacts
   bunch up in time), each email or letter contact goes to the persona serving that
   channel with the fewest contacts in it (ties: one that has not written to this service,
   then not to this collectivity, then round the pool). Taking a service's contacts of a
   channel in a row is what makes "fewest first" also give them different personas: the
   counts per channel never differ by more than one, and a service asking for no more
   contacts than there are personas gets each from a different one. Phone and visit
   contacts go to the auditors likewise, restricted to those covering the département,
   most constrained contacts first; with no auditor at all they stay unassigned, and with
   auditors none of whom covers the département they are counted in ``Plan.uncovered``.

Cancelled kept contacts count for nothing (their quota is planned again); every other
kept contact counts for the quota, the daily cap (on the day it was sent, else planned),
the lockout and the balance of people.

Rules, as checked by the tests: every planned time lies in the window, on a business day
of the collectivity's département, inside the allowed hours; at most
``max_per_collectivity_per_day`` contacts per collectivity per local day and, between two
contacts to the same service, at least ``lockout_business_days`` business days in between
(with 3: Monday, then Friday at the earliest) — kept contacts included in both counts.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import NamedTuple

from scenarios.calendar import BusinessCalendar, UnknownDepartement
from scenarios.domain import Channel, ContactStatus
from scenarios.opening_hours import END_OF_DAY, WeeklyHours, parse_hours

DEFAULT_DISPATCH_HOURS = "lu-ve 08:30-12:00,13:30-18:00"
DEFAULT_SERVICE_HOURS = "lu-ve 09:00-12:00,14:00-17:00"
CHANNEL_ORDER: tuple[Channel, ...] = (Channel.EMAIL, Channel.LETTER, Channel.PHONE, Channel.VISIT)
WRITTEN: tuple[Channel, ...] = (Channel.EMAIL, Channel.LETTER)
FIELD: tuple[Channel, ...] = (Channel.PHONE, Channel.VISIT)


class InfeasiblePlan(ValueError):
    """The rules cannot be met; the message names the rule and the shortfall."""


class SkipReason(StrEnum):
    NO_EMAIL = "no email address"
    NO_PHONE = "no phone number"
    NO_ADDRESS = "no postal address"
    NO_SCENARIO = "no scenario fits the service kind"
    NEVER_OPEN = "not open on any business day of the window"
    UNKNOWN_DEPARTEMENT = "unknown département"


@dataclass(frozen=True, slots=True)
class ServiceInput:
    id: int
    kind: str
    collectivity_id: int
    collectivity_code: str
    collectivity_name: str
    departement: str
    has_email: bool
    has_phone: bool
    has_address: bool
    opening_hours: WeeklyHours | None = None  # None or empty: unknown, the default applies


@dataclass(frozen=True, slots=True)
class ScenarioInput:
    id: str
    channel: Channel
    service_kinds: tuple[str, ...]
    n_wordings: int = 1

    def fits(self, kind: str) -> bool:
        return kind in self.service_kinds


@dataclass(frozen=True, slots=True)
class PersonaInput:
    id: int
    key: str
    channels: tuple[Channel, ...]


@dataclass(frozen=True, slots=True)
class AuditorInput:
    id: int
    key: str
    departements: tuple[str, ...] = ()  # empty: covers every département


@dataclass(frozen=True, slots=True)
class ChannelQuota:
    channel: Channel
    per_service: int
    scenarios: tuple[tuple[str, float], ...] = ()  # (id, weight); empty: all that fit, weight 1


def _default_dispatch() -> WeeklyHours:
    return parse_hours(DEFAULT_DISPATCH_HOURS)


def _default_service() -> WeeklyHours:
    return parse_hours(DEFAULT_SERVICE_HOURS)


@dataclass(frozen=True, slots=True)
class Rules:
    dispatch_hours: WeeklyHours = field(default_factory=_default_dispatch)
    default_service_hours: WeeklyHours = field(default_factory=_default_service)
    max_per_collectivity_per_day: int = 1
    lockout_business_days: int = 3
    jitter: bool = True
    field_margin_minutes: int = 20


@dataclass(frozen=True, slots=True)
class FixedContact:
    """A contact that exists and is kept: it counts for the quota, the cap and the lockout."""

    service_id: int
    collectivity_id: int
    channel: Channel
    scenario_id: str
    wording: int
    persona_id: int | None
    auditor_id: int | None
    at: datetime  # when it happened (sent) or is planned
    status: str = ContactStatus.PLANNED


@dataclass(frozen=True, slots=True)
class PlanRequest:
    services: Sequence[ServiceInput]
    scenarios: Sequence[ScenarioInput]
    quotas: Sequence[ChannelQuota]
    window_start: date
    window_end: date
    seed: int
    rules: Rules = field(default_factory=Rules)
    personas: Sequence[PersonaInput] = ()
    auditors: Sequence[AuditorInput] = ()
    fixed: Sequence[FixedContact] = ()
    not_before: datetime | None = None  # nothing is planned before this instant


class PlannedContact(NamedTuple):
    service_id: int
    collectivity_id: int
    scenario_id: str
    channel: Channel
    wording: int
    persona_id: int | None
    auditor_id: int | None
    planned_at: datetime


@dataclass(frozen=True, slots=True)
class Skip:
    service_id: int
    channel: Channel
    reason: SkipReason


@dataclass
class Plan:
    contacts: list[PlannedContact]
    skipped: list[Skip]
    # field contacts left without an auditor although auditors were given, per (channel, dept)
    uncovered: dict[tuple[Channel, str], int]


def per_day_rule(n: int) -> str:
    return f"at most {n} contact{'s' if n > 1 else ''} per collectivity per day"


def lockout_rule(n: int) -> str:
    return (
        f"lockout of {n} business day{'' if n == 1 else 's'} between contacts to the same service"
    )


# --------------------------------------------------------------------------------------
# Allowed hours per day, as UTC second intervals, computed once per (zone, profile, day)


class _Slots:
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


class _Dept:
    """One département's business days in the window, with usable-day masks per profile."""

    def __init__(self, cal: BusinessCalendar, start: date, end: date, slots: _Slots) -> None:
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


_DeptLookup = Callable[[str], "_Dept | None"]


class _Request(NamedTuple):
    service: ServiceInput
    channel: Channel
    profile: int
    scenario_id: str
    wording: int


# --------------------------------------------------------------------------------------


def plan(request: PlanRequest) -> Plan:
    """Plan the contacts of a campaign; raise ``InfeasiblePlan`` when the rules cannot hold."""
    rules = request.rules
    if request.window_end < request.window_start:
        raise InfeasiblePlan("the window ends before it starts")
    if rules.max_per_collectivity_per_day < 1:
        raise InfeasiblePlan("at most 0 contacts per collectivity per day: nothing can be planned")
    rng = random.Random(request.seed)
    slots = _Slots(request.not_before)
    dispatch = slots.profile(rules.dispatch_hours, 0)
    margin = rules.field_margin_minutes * 60
    depts: dict[str, _Dept | None] = {}

    def dept_of(code: str) -> _Dept | None:
        if code not in depts:
            try:
                cal = BusinessCalendar.for_departement(code)
            except UnknownDepartement:
                depts[code] = None
            else:
                depts[code] = _Dept(cal, request.window_start, request.window_end, slots)
        return depts[code]

    services = sorted(request.services, key=lambda s: (s.collectivity_code, s.id))
    fixed = sorted(
        request.fixed,
        key=lambda f: (f.at, f.service_id, f.channel, f.scenario_id),
    )
    counted = [f for f in fixed if f.status != ContactStatus.CANCELLED]
    kept: dict[tuple[int, Channel], int] = {}
    for f in counted:
        kept[f.service_id, f.channel] = kept.get((f.service_id, f.channel), 0) + 1

    chooser = _ScenarioChooser(request.scenarios, counted)
    skipped: list[Skip] = []
    requests: list[_Request] = []
    quotas = sorted(
        (q for q in request.quotas if q.per_service > 0),
        key=lambda q: CHANNEL_ORDER.index(q.channel),
    )
    for svc in services:
        dept = dept_of(svc.departement)
        for q_index, quota in enumerate(quotas):
            reason = _cannot_take(svc, quota.channel)
            if reason is None and dept is None:
                reason = SkipReason.UNKNOWN_DEPARTEMENT
            candidates = chooser.candidates(svc.kind, q_index, quota)
            if reason is None and not candidates:
                reason = SkipReason.NO_SCENARIO
            profile = dispatch
            if quota.channel in FIELD:
                hours = svc.opening_hours
                if hours is None or hours.is_empty:
                    hours = rules.default_service_hours
                profile = slots.profile(hours, margin)
            if reason is None and dept is not None and not dept.union((profile,))[1]:
                reason = SkipReason.NEVER_OPEN
            if reason is not None:
                skipped.append(Skip(svc.id, quota.channel, reason))
                continue
            need = quota.per_service - kept.get((svc.id, quota.channel), 0)
            for _ in range(max(0, need)):
                scenario = chooser.choose(svc, candidates)
                wording = chooser.wording(svc.collectivity_id, scenario)
                requests.append(_Request(svc, quota.channel, profile, scenario.id, wording))

    days_of = _place_days(requests, counted, dept_of, rules, request.seed)
    contacts = _place_times(requests, days_of, dept_of, slots, rules, request.seed)
    contacts.sort(key=_planned_at)  # stable: ties keep the (deterministic) request order
    # People are assigned service by service (a service's contacts of one channel in a row
    # is what lets the least-used rule also avoid writing twice to the same service), the
    # services in a shuffled order so that nobody's contacts bunch up in time.
    ranked = [s.id for s in services]
    rng.shuffle(ranked)
    rank = {sid: i * 4 for i, sid in enumerate(ranked)}
    channel_rank = {ch: i for i, ch in enumerate(CHANNEL_ORDER)}
    order = sorted(
        range(len(contacts)),
        key=lambda i: rank[contacts[i].service_id] + channel_rank[contacts[i].channel],
    )
    _assign_personas(contacts, order, request.personas, counted, rng)
    uncovered = _assign_auditors(contacts, order, request.auditors, counted, services, rng)
    return Plan(contacts=contacts, skipped=skipped, uncovered=uncovered)


def _planned_at(contact: PlannedContact) -> datetime:
    return contact.planned_at


def _cannot_take(svc: ServiceInput, channel: Channel) -> SkipReason | None:
    if channel is Channel.EMAIL and not svc.has_email:
        return SkipReason.NO_EMAIL
    if channel is Channel.PHONE and not svc.has_phone:
        return SkipReason.NO_PHONE
    if channel in (Channel.LETTER, Channel.VISIT) and not svc.has_address:
        return SkipReason.NO_ADDRESS
    return None


class _ScenarioChooser:
    """Scenario per contact (different ones per service first, then by weight) and wording."""

    def __init__(self, scenarios: Sequence[ScenarioInput], fixed: Sequence[FixedContact]) -> None:
        self.by_id = {s.id: s for s in sorted(scenarios, key=lambda s: s.id)}
        self.by_channel: dict[Channel, list[ScenarioInput]] = {c: [] for c in CHANNEL_ORDER}
        for s in self.by_id.values():
            self.by_channel[s.channel].append(s)
        self.count: dict[str, int] = dict.fromkeys(self.by_id, 0)
        self.wordings: dict[str, list[int]] = {s.id: [0] * max(1, s.n_wordings) for s in scenarios}
        self.used_by_service: dict[int, list[str]] = {}
        self.wordings_by_coll: dict[tuple[int, str], list[int]] = {}
        self._cache: dict[tuple[str, int], list[tuple[ScenarioInput, float]]] = {}
        for f in fixed:
            if f.scenario_id in self.count:
                self.count[f.scenario_id] += 1
                counts = self.wordings[f.scenario_id]
                if 0 <= f.wording < len(counts):
                    counts[f.wording] += 1
            self.used_by_service.setdefault(f.service_id, []).append(f.scenario_id)
            self.wordings_by_coll.setdefault((f.collectivity_id, f.scenario_id), []).append(
                f.wording
            )

    def candidates(
        self, kind: str, q_index: int, quota: ChannelQuota
    ) -> list[tuple[ScenarioInput, float]]:
        """Scenarios of the quota's channel fitting ``kind``, with weights, by id."""
        key = (kind, q_index)
        found = self._cache.get(key)
        if found is None:
            if quota.scenarios:
                pairs = [(self.by_id[i], w) for i, w in quota.scenarios if i in self.by_id]
            else:
                pairs = [(s, 1.0) for s in self.by_channel[quota.channel]]
            found = sorted(
                ((s, w) for s, w in pairs if s.channel is quota.channel and w > 0 and s.fits(kind)),
                key=lambda sw: sw[0].id,
            )
            self._cache[key] = found
        return found

    def choose(
        self, svc: ServiceInput, candidates: list[tuple[ScenarioInput, float]]
    ) -> ScenarioInput:
        used = self.used_by_service.setdefault(svc.id, [])
        count = self.count
        best = candidates[0][0]
        best_key: tuple[bool, float] | None = None
        for scenario, weight in candidates:  # by id: the first of equals wins
            key = (scenario.id in used, count[scenario.id] / weight)
            if best_key is None or key < best_key:
                best, best_key = scenario, key
        count[best.id] += 1
        used.append(best.id)
        return best

    def wording(self, collectivity_id: int, scenario: ScenarioInput) -> int:
        counts = self.wordings[scenario.id]
        used = self.wordings_by_coll.setdefault((collectivity_id, scenario.id), [])
        best, best_key = 0, -1
        for w, n in enumerate(counts):
            key = 2 * n + (w in used)
            if best_key < 0 or key < best_key:
                best, best_key = w, key
        counts[best] += 1
        used.append(best)
        return best


# --------------------------------------------------------------------------------------
# Days


def _place_days(
    requests: list[_Request],
    fixed: list[FixedContact],
    dept_of: _DeptLookup,
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
    problems: list[str] = []
    for coll_id, indices in by_coll.items():
        first = requests[indices[0]].service
        dept = dept_of(first.departement)
        assert dept is not None  # services of unknown départements were skipped
        coll_rng = random.Random(f"{seed}:{first.collectivity_code}")
        placed, problem = _place_collectivity(
            [requests[i] for i in indices], fixed_by_coll.get(coll_id, []), dept, rules, coll_rng
        )
        if placed is None:
            problems.append(problem)
            continue
        for i, day in zip(indices, placed, strict=True):
            result[i] = day
    if problems:
        more = len(problems) - 1
        tail = f" (and {more} other collectivit{'ies' if more > 1 else 'y'})" if more else ""
        raise InfeasiblePlan(problems[0] + tail)
    return result


def _place_collectivity(
    reqs: list[_Request],
    fixed: list[FixedContact],
    dept: _Dept,
    rules: Rules,
    rng: random.Random,
) -> tuple[list[int] | None, str]:
    coll = reqs[0].service
    who = f"collectivity {coll.collectivity_code} {coll.collectivity_name}"
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
        return None, (
            f"rule '{per_day_rule(per_day)}': {who} needs {need} days, the window has "
            f"{have} business days{left} (short by {max(1, need - have)})"
        )

    # Lockout, service by service: greedy earliest placement is optimal for one service.
    by_service: dict[int, list[_Request]] = {}
    for r in reqs:
        by_service.setdefault(r.service.id, []).append(r)
    for sid, sreqs in by_service.items():
        taken = sorted(fixed_days.get(sid, []))
        mask, have = dept.union(tuple(sorted({r.profile: 0 for r in sreqs})))
        if not taken and have == n_days:
            count = (n_days - 1) // gap + 1 if n_days else 0
        else:
            count = _max_spaced(mask, taken, gap)
        if count < len(sreqs):
            total = len(sreqs) + len(taken)
            need = (total - 1) * gap + 1
            svc = sreqs[0].service
            return None, (
                f"rule '{lockout_rule(rules.lockout_business_days)}': service {svc.id} "
                f"({svc.kind}) of {who} needs a span of {need} business days for {total} "
                f"contacts, the window has {have} usable business days "
                f"(short by {max(1, need - have)})"
            )

    order = _interleave(reqs, rng)
    placed = _spread(order, reqs, usable, cap, masks, fixed_days, gap, rng)
    if placed is None:
        placed = _pack(reqs, cap, masks, fixed_days, gap)
    exhausted = False
    if placed is None:
        placed, exhausted = _search(reqs, usable, cap, masks, fixed_days, gap)
    if placed is None:
        verdict = "no plan was found in the search budget" if exhausted else "they cannot all hold"
        return None, (
            f"rules '{per_day_rule(per_day)}', '{lockout_rule(rules.lockout_business_days)}' "
            f"and the opening hours: {verdict} for {who} ({len(reqs)} contacts in "
            f"{len(usable)} business days)"
        )
    return placed, ""


def _max_spaced(mask: list[bool], taken: list[int], gap: int) -> int:
    """How many new days fit on ``mask`` at least ``gap`` apart from each other and ``taken``."""
    count = 0
    last = -(10**9)
    for d, ok in enumerate(mask):
        if not ok or d - last < gap:
            continue
        j = bisect.bisect_left(taken, d - gap + 1)
        if j < len(taken) and taken[j] < d + gap:
            continue
        count += 1
        last = d
    return count


def _interleave(reqs: list[_Request], rng: random.Random) -> list[int]:
    """Request positions, one per service in turn, so a service's contacts are far apart."""
    groups: dict[int, list[int]] = {}
    for i, r in enumerate(reqs):
        groups.setdefault(r.service.id, []).append(i)
    lists = list(groups.values())
    rng.shuffle(lists)
    for group in lists:
        rng.shuffle(group)
    order: list[int] = []
    depth = max(len(g) for g in lists)
    for k in range(depth):
        order.extend(g[k] for g in lists if k < len(g))
    return order


def _spread(
    order: list[int],
    reqs: list[_Request],
    usable: list[int],
    cap: list[int],
    masks: dict[int, list[bool]],
    fixed_days: dict[int, list[int]],
    gap: int,
    rng: random.Random,
) -> list[int] | None:
    """Evenly spaced targets over the usable days; each request takes the nearest fit."""
    n_usable = len(usable)
    cap = list(cap)
    result = [-1] * len(reqs)
    days_of: dict[int, list[int]] = {sid: list(ds) for sid, ds in fixed_days.items()}
    offset = rng.random()
    k_total = len(order)
    for k, i in enumerate(order):
        r = reqs[i]
        mask = masks[r.profile]
        mine = days_of.setdefault(r.service.id, [])
        target = int((k + offset) * n_usable / k_total)
        step = 1 if rng.random() < 0.5 else -1
        found = -1
        for delta in range(2 * n_usable + 1):
            pos = target + (delta + 1) // 2 * (step if delta % 2 else -step)
            if not 0 <= pos < n_usable:
                continue
            d = usable[pos]
            if cap[d] > 0 and mask[d] and all(abs(d - x) >= gap for x in mine):
                found = d
                break
        if found < 0:
            return None
        cap[found] -= 1
        mine.append(found)
        result[i] = found
    return result


def _pack(
    reqs: list[_Request],
    cap: list[int],
    masks: dict[int, list[bool]],
    fixed_days: dict[int, list[int]],
    gap: int,
) -> list[int] | None:
    """Day by day from the start, most remaining contacts of a service first."""
    remaining: dict[int, list[int]] = {}
    for i, r in enumerate(reqs):
        remaining.setdefault(r.service.id, []).append(i)
    days_of: dict[int, list[int]] = {sid: list(ds) for sid, ds in fixed_days.items()}
    result = [-1] * len(reqs)
    for d in range(len(cap)):
        room = cap[d]
        while room > 0:
            best: tuple[int, int] | None = None
            for sid, pending in remaining.items():
                if not pending:
                    continue
                if any(abs(d - x) < gap for x in days_of.get(sid, [])):
                    continue
                fits = [i for i in pending if masks[reqs[i].profile][d]]
                if fits and (best is None or len(pending) > len(remaining[best[0]])):
                    best = (sid, fits[0])
            if best is None:
                break
            sid, i = best
            remaining[sid].remove(i)
            days_of.setdefault(sid, []).append(d)
            result[i] = d
            room -= 1
    if any(remaining.values()):
        return None
    return result


class _Budget(Exception):
    pass


SEARCH_BUDGET = 20_000


def _search(
    reqs: list[_Request],
    usable: list[int],
    cap: list[int],
    masks: dict[int, list[bool]],
    fixed_days: dict[int, list[int]],
    gap: int,
) -> tuple[list[int] | None, bool]:
    """Last resort for tight windows: depth-first search, the request with the fewest
    possible days first. Exhaustive within ``SEARCH_BUDGET`` tries; returns the days (or
    None) and whether the budget ran out before the search could conclude."""
    cap = list(cap)
    days_of: dict[int, list[int]] = {sid: list(ds) for sid, ds in fixed_days.items()}
    domains = [[d for d in usable if masks[r.profile][d]] for r in reqs]
    result = [-1] * len(reqs)
    tries = 0

    def options(i: int) -> list[int]:
        mine = days_of.get(reqs[i].service.id, [])
        return [d for d in domains[i] if cap[d] > 0 and all(abs(d - x) >= gap for x in mine)]

    def solve(remaining: list[int]) -> bool:
        nonlocal tries
        if not remaining:
            return True
        best, best_opts = -1, list[int]()
        for i in remaining:
            opts = options(i)
            if not opts:
                return False
            if best < 0 or len(opts) < len(best_opts):
                best, best_opts = i, opts
        rest = [i for i in remaining if i != best]
        mine = days_of.setdefault(reqs[best].service.id, [])
        for d in best_opts:
            tries += 1
            if tries > SEARCH_BUDGET:
                raise _Budget
            cap[d] -= 1
            mine.append(d)
            result[best] = d
            if solve(rest):
                return True
            cap[d] += 1
            mine.pop()
        return False

    try:
        return (result if solve(list(range(len(reqs)))) else None), False
    except _Budget:
        return None, True


# --------------------------------------------------------------------------------------
# Times


def _place_times(
    requests: list[_Request],
    days_of: list[int],
    dept_of: _DeptLookup,
    slots: _Slots,
    rules: Rules,
    seed: int,
) -> list[PlannedContact]:
    contacts: list[PlannedContact] = []
    from_ts = datetime.fromtimestamp
    jitter = rules.jitter
    # Requests come collectivity by collectivity: one generator each, made when it changes.
    coll_id = -1
    rng = random.Random()
    dept: _Dept | None = None
    for req, d in zip(requests, days_of, strict=True):
        svc = req.service
        if svc.collectivity_id != coll_id:
            coll_id = svc.collectivity_id
            rng = random.Random(f"{seed}:t:{svc.collectivity_code}")
            dept = dept_of(svc.departement)
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


# --------------------------------------------------------------------------------------
# People


def _assign_personas(
    contacts: list[PlannedContact],
    order: list[int],
    personas: Sequence[PersonaInput],
    fixed: list[FixedContact],
    rng: random.Random,
) -> None:
    pool: dict[Channel, list[PersonaInput]] = {ch: [] for ch in WRITTEN}
    for p in sorted(personas, key=lambda p: p.key):
        for ch in WRITTEN:
            if ch in p.channels:
                pool[ch].append(p)
    for ch in WRITTEN:
        rng.shuffle(pool[ch])
    counts: dict[Channel, dict[int, int]] = {
        ch: dict.fromkeys((p.id for p in pool[ch]), 0) for ch in WRITTEN
    }
    by_service: dict[int, list[int]] = {}
    by_coll: dict[int, list[int]] = {}
    for f in fixed:
        if f.persona_id is None:
            continue
        if f.channel in WRITTEN and f.persona_id in counts[f.channel]:
            counts[f.channel][f.persona_id] += 1
        by_service.setdefault(f.service_id, []).append(f.persona_id)
        by_coll.setdefault(f.collectivity_id, []).append(f.persona_id)
    turn = 0
    for i in order:
        c = contacts[i]
        if c.channel not in WRITTEN:
            continue
        candidates = pool[c.channel]
        if not candidates:
            raise InfeasiblePlan(f"no persona writes {c.channel}s, and the mix asks for some")
        tally = counts[c.channel]
        on_service = by_service.setdefault(c.service_id, [])
        on_coll = by_coll.setdefault(c.collectivity_id, [])
        # Least used, then not yet on this service, then not on this collectivity; ties go
        # round the pool from a moving start (strictly-less keeps the first of equals).
        size = len(candidates)
        chosen, best_key = 0, -1
        for j in range(size):
            pid = candidates[(turn + j) % size].id
            key = 4 * tally[pid] + 2 * (pid in on_service) + (pid in on_coll)
            if best_key < 0 or key < best_key:
                chosen, best_key = pid, key
        turn += 1
        tally[chosen] += 1
        on_service.append(chosen)
        on_coll.append(chosen)
        contacts[i] = c._replace(persona_id=chosen)


def _assign_auditors(
    contacts: list[PlannedContact],
    order: list[int],
    auditors: Sequence[AuditorInput],
    fixed: list[FixedContact],
    services: list[ServiceInput],
    rng: random.Random,
) -> dict[tuple[Channel, str], int]:
    uncovered: dict[tuple[Channel, str], int] = {}
    if not auditors:
        return uncovered
    pool = sorted(auditors, key=lambda a: a.key)
    rng.shuffle(pool)
    dept_by_service = {s.id: s.departement for s in services}
    eligible_cache: dict[str, list[AuditorInput]] = {}

    def eligible(dept: str) -> list[AuditorInput]:
        found = eligible_cache.get(dept)
        if found is None:
            found = [a for a in pool if not a.departements or dept in a.departements]
            eligible_cache[dept] = found
        return found

    counts: dict[Channel, dict[int, int]] = {
        c: dict.fromkeys((a.id for a in pool), 0) for c in FIELD
    }
    by_service: dict[int, list[int]] = {}
    for f in fixed:
        if f.auditor_id is None:
            continue
        if f.channel in FIELD and f.auditor_id in counts[f.channel]:
            counts[f.channel][f.auditor_id] += 1
        by_service.setdefault(f.service_id, []).append(f.auditor_id)
    # Most constrained first (fewest eligible auditors), then service by service.
    field_positions = sorted(
        (i for i in order if contacts[i].channel in FIELD),
        key=lambda i: len(eligible(dept_by_service[contacts[i].service_id])),
    )
    turn = 0
    for i in field_positions:
        c = contacts[i]
        dept = dept_by_service[c.service_id]
        candidates = eligible(dept)
        if not candidates:
            uncovered[c.channel, dept] = uncovered.get((c.channel, dept), 0) + 1
            continue
        tally = counts[c.channel]
        on_service = by_service.setdefault(c.service_id, [])
        size = len(candidates)
        chosen, best_key = 0, -1
        for j in range(size):
            aid = candidates[(turn + j) % size].id
            key = 2 * tally[aid] + (aid in on_service)
            if best_key < 0 or key < best_key:
                chosen, best_key = aid, key
        turn += 1
        tally[chosen] += 1
        on_service.append(chosen)
        contacts[i] = c._replace(auditor_id=chosen)
    return uncovered
