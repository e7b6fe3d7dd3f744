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
   contacts go to auditors covering the département, in days a person can follow
   (``scenarios.field_plan``: daily capacity, no overlapping appointments, a day's visits
   in one département, unavailable dates), which may move them to another day or time;
   when the team is too small, ``InfeasiblePlan`` says how many auditor-days are missing.
   With no auditor at all they stay unassigned, and with auditors none of whom covers the
   département they are counted in ``Plan.uncovered``.

Cancelled kept contacts count for nothing (their quota is planned again); every other
kept contact counts for the quota, the daily cap (on the day it was sent, else planned),
the lockout and the balance of people. Contacts of other running campaigns
(``FixedContact.own`` false) count for the daily cap, the lockout and their auditor's day
only: two campaigns together never write twice to a collectivity on one day.

Rules, as checked by the tests: every planned time lies in the window, on a business day
of the collectivity's département, inside the allowed hours; at most
``max_per_collectivity_per_day`` contacts per collectivity per local day and, between two
contacts to the same service, at least ``lockout_business_days`` business days in between
(with 3: Monday, then Friday at the earliest) — kept contacts included in both counts.

Modules: this one keeps ``plan()`` (the demand step and the wiring of the others) and
re-exports the vocabulary of ``scenarios.plan_model`` (inputs, outputs, ``Rules``,
``InfeasiblePlan``), so ``from scenarios.planning import PlanRequest`` is the path to use.
Step 1's scenario and wording choice and step 4's personas live in ``scenarios.assignment``;
steps 2 and 3 in ``scenarios.placement``, with the day strategies in
``scenarios.day_fitting``; step 4's auditors in ``scenarios.field_plan`` (with
``field_days`` and ``field_repair``)::

    plan_model <- day_fitting <- placement <- field_plan <- planning
    plan_model <- assignment  <---------------------------- planning
"""

from __future__ import annotations

import random
from datetime import datetime

from scenarios import geography
from scenarios.assignment import ScenarioChooser, assign_personas
from scenarios.calendar import BusinessCalendar, UnknownDepartement
from scenarios.domain import Channel, ContactStatus
from scenarios.field_plan import schedule_field
from scenarios.placement import Dept, Slots, place_days, place_times
from scenarios.plan_model import (
    CHANNEL_ORDER,
    DEFAULT_DISPATCH_HOURS,
    DEFAULT_SERVICE_HOURS,
    FIELD,
    WRITTEN,
    AuditorInput,
    ChannelQuota,
    FieldShortfall,
    FixedContact,
    InfeasiblePlan,
    PersonaInput,
    Plan,
    PlannedContact,
    PlanRequest,
    Request,
    Rules,
    ScenarioInput,
    ServiceInput,
    Skip,
    SkipReason,
    lockout_rule,
    per_day_rule,
)

__all__ = [
    "CHANNEL_ORDER",
    "DEFAULT_DISPATCH_HOURS",
    "DEFAULT_SERVICE_HOURS",
    "FIELD",
    "WRITTEN",
    "AuditorInput",
    "ChannelQuota",
    "FieldShortfall",
    "FixedContact",
    "InfeasiblePlan",
    "PersonaInput",
    "Plan",
    "PlanRequest",
    "PlannedContact",
    "Rules",
    "ScenarioInput",
    "ServiceInput",
    "Skip",
    "SkipReason",
    "lockout_rule",
    "per_day_rule",
    "plan",
]


def plan(request: PlanRequest) -> Plan:
    """Plan the contacts of a campaign; raise ``InfeasiblePlan`` when the rules cannot hold."""
    rules = request.rules
    if request.window_end < request.window_start:
        raise InfeasiblePlan("the window ends before it starts", code="window")
    if rules.max_per_collectivity_per_day < 1:
        raise InfeasiblePlan(
            "at most 0 contacts per collectivity per day: nothing can be planned",
            code="no_capacity",
        )
    rng = random.Random(request.seed)
    slots = Slots(request.not_before)
    dispatch = slots.profile(rules.dispatch_hours, 0)
    margin = rules.field_margin_minutes * 60
    depts: dict[tuple[str, str], Dept | None] = {}

    def dept_of(svc: ServiceInput) -> Dept | None:
        # A département's calendar, on the commune's clock where it has its own (the
        # Marquesas): keyed by the zone so that a département's communes share one Dept.
        key = (svc.departement, geography.timezone_name(svc.departement, svc.collectivity_code))
        if key not in depts:
            try:
                cal = BusinessCalendar.for_commune(svc.departement, svc.collectivity_code)
            except UnknownDepartement:
                depts[key] = None
            else:
                depts[key] = Dept(cal, request.window_start, request.window_end, slots)
        return depts[key]

    services = sorted(request.services, key=lambda s: (s.collectivity_code, s.id))
    fixed = sorted(
        request.fixed,
        key=lambda f: (f.at, f.service_id, f.channel, f.scenario_id),
    )
    counted = [f for f in fixed if f.status != ContactStatus.CANCELLED]
    own = [f for f in counted if f.own]  # other campaigns' count only for caps and people
    kept: dict[tuple[int, Channel], int] = {}
    for f in own:
        kept[f.service_id, f.channel] = kept.get((f.service_id, f.channel), 0) + 1

    chooser = ScenarioChooser(request.scenarios, own)
    skipped: list[Skip] = []
    requests: list[Request] = []
    quotas = sorted(
        (q for q in request.quotas if q.per_service > 0),
        key=lambda q: CHANNEL_ORDER.index(q.channel),
    )
    for n, svc in enumerate(services):
        dept = dept_of(svc)
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
                requests.append(Request(svc, quota.channel, profile, scenario.id, wording))
        last = n + 1 == len(services) or services[n + 1].collectivity_id != svc.collectivity_id
        chooser.done(svc, last)

    days_of = place_days(requests, counted, dept_of, rules, request.seed)
    contacts = place_times(requests, days_of, dept_of, slots, rules, request.seed)
    uncovered = schedule_field(
        requests, days_of, contacts, dept_of, slots, rules, request.auditors, counted,
        services, request.seed,
    )  # fmt: skip
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
    assign_personas(contacts, order, request.personas, own, rng)
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
