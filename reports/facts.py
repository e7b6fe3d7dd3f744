"""Per-contact facts, the plain rows every statistic reads, and how their delays are made.

``ContactFacts`` is one mystery contact flattened: who was asked (collectivity, service,
strata), through which channel and scenario, what happened and when, and the delays
derived from those instants. The repository layer builds them from queries; statistics
never see the database.

Delays (``delays_for`` / ``with_delays``), for a statistician to audit
----------------------------------------------------------------------
All instants are aware datetimes (UTC by convention); naive ones are refused.

- Origin: ``sent_at`` — when the request reached the service's side (email accepted by the
  SMTP server, letter posted, call placed, visitor arrived). No ``sent_at``, no delay.
- Observation window: from ``sent_at`` to ``closed_at`` (the censoring instant, normally
  campaign close; ``None`` while the contact is still open). An answer or acknowledgement
  recorded *after* ``closed_at`` is outside the window and is ignored (the contact is
  censored at ``closed_at``), so a barometer does not change when it is recomputed later.
- Answer: the first human answer (``first_answer_at``).
- Acknowledgement: the first sign of life, i.e. the earlier of ``first_ack_at`` (automatic
  or manual acknowledgement) and ``first_answer_at`` — an answer acknowledges the request
  too, so "acknowledged within N days" is never worse than "answered within N days".
- Calendar delay: exact elapsed seconds (float).
- Business-day delay: ``BusinessCalendar.business_days_between(sent_at, at)``, the calendar's
  published convention (business days ``d`` with ``local(sent) < d <= local(at)``; sent
  Friday, answered Monday = 1; same local day = 0) in the collectivity's département.
- Within target (``answered_within_target``, ``acknowledged_within_target``): the event's
  business-day delay is at most the target (``business_days_between(sent_at, at) <= target``),
  the same measure the Kaplan–Meier "share within target" uses, so the two figures can never
  disagree. (An answer on the Saturday after a Friday deadline has taken exactly the target's
  number of working days: on time, as "5 jours ouvrés" is counted.) ``False`` when there was no
  event and the window closed after more than ``target`` business days; ``None`` when it cannot
  be told yet (no event and the window closed earlier or is still open), when there is no
  target, or when the request never reached the service (not sent or undeliverable).
- Censoring delays (``censor_seconds``, ``censor_business_days``): ``sent_at`` to
  ``closed_at``, filled only when there is something to censor (no answer in the window).
- Clock skew: ``sent_at`` comes from our SMTP submission, replies from the IMAP server's
  INTERNALDATE (whole seconds, another host). An event up to ``skew_tolerance`` (default
  120 s) before ``sent_at`` is taken as a zero delay; earlier than that is a matching or
  data error and raises ``ValueError``.

Speed: ``CountingCalendar`` is a ``BusinessCalendar`` whose ``business_days_between`` is two
lookups in a per-year cumulative count of business days instead of a walk over the days in
between (the statistics of a million contacts call it several times per contact); a test
checks it against the plain calendar on random instants.

Facts of a stored contact (``contact_facts``)
---------------------------------------------
From a contact row with its timeline events and grid answers (``storage.stats.ContactRow``
fits ``FactsSource``):

- Email: ``sent_at`` (SMTP acceptance), ``first_ack_at``, ``first_answer_at`` (IMAP
  INTERNALDATE) as stored; ``undeliverable`` is the status ``undeliverable``.
- Letter: sent at the first ``letter.posted`` event (the auditor's posting time), answered at
  the first ``letter.reply_received``; the contact's own columns when those events are absent.
- Phone (``field_facts``): sent at the first ``call.started``. Picked up when some attempt
  has ``call.picked_up``; not picked up when attempts ended only in voicemail, no answer or
  busy; unknown without outcome events (then the grid answer ``picked_up`` is used, if any).
  On the first picked-up attempt: seconds to pick-up = picked_up - started, transfers = its
  ``call.transferred`` events, hold = the sum of ``call.resumed - call.on_hold`` pairs (an
  unpaired hold ends at ``call.hung_up``, else is not counted). Rings = grid answer ``rings``.
  Events carry ``attempt``; one without it belongs to the latest started attempt.
- Visit: sent at ``visit.arrived``; waiting = first ``visit.served`` - arrived; service =
  first ``visit.left`` after it - served.
- Censoring instant: the contact's ``closed_at``, else the campaign's, else (campaign still
  open) the report's as-of instant ("now"), never earlier than ``sent_at``.
- Targets: the scenario's ``answer_days`` / ``acknowledgement_days`` (written channels), the
  channel defaults for a scenario missing from the catalogue.
- Grid (``grid_results``): each criterion question of the scenario's grid (``met_when``) as
  ``("<scenario>.<question>", weight, met)``; ``met`` is ``None`` when the question is not
  relevant given the other answers or was not answered.
- Content checks of written answers (``content_checks``): the contact's ``checks`` JSON as
  ``channels.content_checks`` stores it; a coordinator's override wins over the automatic
  value. Each expected element becomes ``("<scenario>.content.<element>", 1.0, found)`` and
  each form item (greeting, closing, agent name…) ``("form.<item>", 1.0, found)``; items
  without a value are not assessed. No checks yet is not an error.

Population strata
-----------------
``population_stratum(p, bounds)`` with ``bounds = (b_1 < … < b_k)`` gives one of ``k + 1``
French labels; every lower bound is inclusive and every upper bound exclusive:
``p < b_1`` → "moins de 2 000 hab.", ``b_i <= p < b_{i+1}`` → "2 000 à 10 000 hab.",
``p >= b_k`` → "50 000 hab. et plus" (numbers grouped by thousands with a space).
Labels do not sort alphabetically in their natural order: use ``stratum_index`` (or the
order of ``stratum_labels``).
"""

from __future__ import annotations

import dataclasses
from array import array
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import Any, Protocol

from scenarios import events as ev
from scenarios.calendar import BusinessCalendar
from scenarios.catalog import DEFAULT_TARGETS, Scenario
from scenarios.domain import Channel
from scenarios.grid import criterion_met, is_relevant

__all__ = [
    "DEFAULT_STRATA",
    "ContactFacts",
    "CountingCalendar",
    "Delays",
    "FactsSource",
    "FieldFacts",
    "GridResult",
    "contact_facts",
    "content_checks",
    "delays_for",
    "field_facts",
    "grid_results",
    "population_stratum",
    "stratum_index",
    "stratum_labels",
    "with_delays",
]

DEFAULT_STRATA: tuple[int, ...] = (2000, 10000, 50000)

GridResult = tuple[str, float, bool | None]
"""One audit-grid criterion for one contact: (criterion id, weight, met); ``met`` is
``None`` when the criterion does not apply or was not assessed."""


@dataclass(frozen=True, slots=True)
class ContactFacts:
    """One contact, flattened. Fields after ``planned_at`` are optional.

    Delay fields are computed by the caller (``with_delays``); ``reports.aggregate`` reads
    the delay fields and the ``*_within_target`` flags, never the raw instants.
    Durations are seconds; business-day counts are integers.
    """

    channel: str
    scenario_id: str
    service_kind: str
    collectivity_code: str
    collectivity_name: str
    collectivity_kind: str
    population: int
    departement: str
    region: str | None
    status: str
    planned_at: datetime
    contact_id: int | None = None
    sent_at: datetime | None = None
    first_ack_at: datetime | None = None
    first_answer_at: datetime | None = None
    closed_at: datetime | None = None  # censoring instant (campaign close)
    undeliverable: bool = False
    # derived delays (see module docstring)
    ack_seconds: float | None = None
    ack_business_days: int | None = None
    answer_seconds: float | None = None
    answer_business_days: int | None = None
    censor_seconds: float | None = None
    censor_business_days: int | None = None
    ack_target_days: int | None = None
    answer_target_days: int | None = None
    acknowledged_within_target: bool | None = None
    answered_within_target: bool | None = None
    # phone
    picked_up: bool | None = None
    rings: int | None = None
    seconds_to_pickup: float | None = None
    transfers: int | None = None
    hold_seconds: float | None = None
    # visit
    waiting_seconds: float | None = None
    service_seconds: float | None = None
    # audit grid
    grid: tuple[GridResult, ...] = ()

    @property
    def delivered(self) -> bool:
        """The request reached the service: sent and not undeliverable."""
        return self.sent_at is not None and not self.undeliverable


@dataclass(frozen=True, slots=True)
class Delays:
    """The derived fields of ``ContactFacts`` (same names), as ``delays_for`` computes them."""

    ack_seconds: float | None = None
    ack_business_days: int | None = None
    answer_seconds: float | None = None
    answer_business_days: int | None = None
    censor_seconds: float | None = None
    censor_business_days: int | None = None
    acknowledged_within_target: bool | None = None
    answered_within_target: bool | None = None


_DEFAULT_SKEW = timedelta(seconds=120)


def _aware(name: str, value: datetime | None) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {value!r}")


def _offset(
    name: str, sent_at: datetime, at: datetime, tolerance: timedelta
) -> tuple[datetime, float]:
    """``at`` clamped to ``sent_at`` within the skew tolerance, and its delay in seconds."""
    if at < sent_at:
        if sent_at - at > tolerance:
            raise ValueError(f"{name} {at.isoformat()} is before sent_at {sent_at.isoformat()}")
        return sent_at, 0.0
    return at, (at - sent_at).total_seconds()


def _within(event_days: int | None, closed_days: int | None, target: int | None) -> bool | None:
    """The within-target flag from the event's and the window's business-day delays."""
    if target is None:
        return None
    if event_days is not None:
        return event_days <= target
    if closed_days is not None and closed_days > target:
        return False
    return None


def delays_for(
    calendar: BusinessCalendar,
    *,
    sent_at: datetime | None,
    first_ack_at: datetime | None = None,
    first_answer_at: datetime | None = None,
    closed_at: datetime | None = None,
    undeliverable: bool = False,
    ack_target_days: int | None = None,
    answer_target_days: int | None = None,
    skew_tolerance: timedelta = _DEFAULT_SKEW,
) -> Delays:
    """Delays of one contact in calendar seconds and business days (module docstring).

    ``calendar`` is the collectivity's (``BusinessCalendar.for_departement(code)``).
    Returns all-``None`` delays when the request never reached the service.
    """
    for name, value in (
        ("sent_at", sent_at),
        ("first_ack_at", first_ack_at),
        ("first_answer_at", first_answer_at),
        ("closed_at", closed_at),
    ):
        _aware(name, value)
    if sent_at is None or undeliverable:
        return Delays()
    censor = 0.0
    if closed_at is not None:
        closed_at, censor = _offset("closed_at", sent_at, closed_at, skew_tolerance)
    answer_at = first_answer_at
    if answer_at is not None and closed_at is not None and answer_at > closed_at:
        answer_at = None
    ack_at = min((a for a in (first_ack_at, answer_at) if a is not None), default=None)
    if ack_at is not None and closed_at is not None and ack_at > closed_at:
        ack_at = None

    answer_seconds: float | None = None
    answer_days: int | None = None
    if answer_at is not None:
        answer_at, answer_seconds = _offset("first_answer_at", sent_at, answer_at, skew_tolerance)
        answer_days = calendar.business_days_between(sent_at, answer_at)
    ack_seconds: float | None = None
    ack_days: int | None = None
    if ack_at is not None:
        ack_at, ack_seconds = _offset("first_ack_at", sent_at, ack_at, skew_tolerance)
        ack_days = calendar.business_days_between(sent_at, ack_at)
    # The window's delay matters only without an answer (then there may be no
    # acknowledgement either; with an answer there always is one): computed at most once.
    censor_seconds: float | None = None
    censor_days: int | None = None
    if answer_at is None and closed_at is not None:
        censor_seconds = censor
        censor_days = calendar.business_days_between(sent_at, closed_at)
    return Delays(
        ack_seconds=ack_seconds,
        ack_business_days=ack_days,
        answer_seconds=answer_seconds,
        answer_business_days=answer_days,
        censor_seconds=censor_seconds,
        censor_business_days=censor_days,
        acknowledged_within_target=_within(ack_days, censor_days, ack_target_days),
        answered_within_target=_within(answer_days, censor_days, answer_target_days),
    )


def with_delays(
    facts: ContactFacts,
    calendar: BusinessCalendar | None = None,
    *,
    skew_tolerance: timedelta = _DEFAULT_SKEW,
) -> ContactFacts:
    """``facts`` with its derived delay fields filled from its own instants and targets.

    ``calendar`` defaults to ``BusinessCalendar.for_departement(facts.departement)``.
    """
    cal = calendar or BusinessCalendar.for_departement(facts.departement)
    delays = delays_for(
        cal,
        sent_at=facts.sent_at,
        first_ack_at=facts.first_ack_at,
        first_answer_at=facts.first_answer_at,
        closed_at=facts.closed_at,
        undeliverable=facts.undeliverable,
        ack_target_days=facts.ack_target_days,
        answer_target_days=facts.answer_target_days,
        skew_tolerance=skew_tolerance,
    )
    changes = {f.name: getattr(delays, f.name) for f in dataclasses.fields(Delays)}
    return dataclasses.replace(facts, **changes)


class CountingCalendar(BusinessCalendar):
    """``BusinessCalendar`` with ``business_days_between`` answered from cumulative counts.

    Over a contiguous range of local days (whole years, grown on demand), ``_cum[i]`` is the
    number of business days from the first day of the range to day ``first + i`` inclusive,
    built once from the plain calendar's ``is_business_day``. The count of business days
    ``d`` with ``local(a) < d <= local(b)`` is then ``cum(b) - cum(a)``. Same results as the
    plain calendar by construction; get one with ``CountingCalendar.for_departement``.
    """

    def __init__(self, departement: str) -> None:
        super().__init__(departement)
        self._first = 0  # ordinal of the first local day covered
        self._cum: array[int] = array("i")

    def _cover(self, first_year: int, last_year: int) -> None:
        if self._cum:
            first_year = min(first_year, date.fromordinal(self._first).year)
            last_year = max(last_year, date.fromordinal(self._first + len(self._cum) - 1).year)
        day = date(first_year, 1, 1)
        self._first = day.toordinal()
        counts = array("i")
        total = 0
        while day.year <= last_year:
            if self.is_business_day(day):
                total += 1
            counts.append(total)
            day += _ONE_DAY
        self._cum = counts

    def business_days_between(self, start: datetime, end: datetime) -> int:
        """Business days ``d`` with ``local_date(start) < d <= local_date(end)``."""
        if start.tzinfo is None or end.tzinfo is None:
            return super().business_days_between(start, end)  # its error for naive times
        tz = self.tz
        a = start.astimezone(tz).toordinal() - self._first
        b = end.astimezone(tz).toordinal() - self._first
        if b <= a:
            return 0
        cum = self._cum
        if a < 0 or b >= len(cum):
            self._cover(self.local_date(start).year, self.local_date(end).year)
            return self.business_days_between(start, end)
        return cum[b] - cum[a]


_ONE_DAY = timedelta(days=1)


def _check_bounds(bounds: Sequence[int]) -> None:
    if not bounds or any(b <= 0 for b in bounds):
        raise ValueError(f"strata bounds must be positive, got {tuple(bounds)!r}")
    if any(a >= b for a, b in pairwise(bounds)):
        raise ValueError(f"strata bounds must increase strictly, got {tuple(bounds)!r}")


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def stratum_labels(bounds: Sequence[int] = DEFAULT_STRATA) -> tuple[str, ...]:
    """All labels for ``bounds``, smallest population first."""
    return _labels(tuple(bounds))


@lru_cache(maxsize=32)
def _labels(bounds: tuple[int, ...]) -> tuple[str, ...]:
    _check_bounds(bounds)
    labels = [f"moins de {_thousands(bounds[0])} hab."]
    labels += [f"{_thousands(a)} à {_thousands(b)} hab." for a, b in pairwise(bounds)]
    labels.append(f"{_thousands(bounds[-1])} hab. et plus")
    return tuple(labels)


def stratum_index(population: int, bounds: Sequence[int] = DEFAULT_STRATA) -> int:
    """0 for the smallest stratum … ``len(bounds)`` for the largest (the sort key)."""
    if population < 0:
        raise ValueError(f"population must be >= 0, got {population}")
    return bisect_right(bounds, population)


def population_stratum(population: int, bounds: Sequence[int] = DEFAULT_STRATA) -> str:
    """French label of the population stratum (lower bounds inclusive; see module doc)."""
    return _labels(tuple(bounds))[stratum_index(population, bounds)]


# --------------------------------------------------------------------------- stored contacts


class EventLike(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def attempt(self) -> int | None: ...


class FactsSource(Protocol):
    """What ``contact_facts`` reads of a stored contact (``storage.stats.ContactRow``)."""

    @property
    def id(self) -> int: ...
    @property
    def channel(self) -> str: ...
    @property
    def scenario_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def planned_at(self) -> datetime: ...
    @property
    def sent_at(self) -> datetime | None: ...
    @property
    def first_ack_at(self) -> datetime | None: ...
    @property
    def first_answer_at(self) -> datetime | None: ...
    @property
    def closed_at(self) -> datetime | None: ...
    @property
    def checks(self) -> Mapping[str, Any] | None: ...
    @property
    def service_kind(self) -> str: ...
    @property
    def collectivity_code(self) -> str: ...
    @property
    def collectivity_name(self) -> str: ...
    @property
    def collectivity_kind(self) -> str: ...
    @property
    def population(self) -> int: ...
    @property
    def departement(self) -> str: ...
    @property
    def region(self) -> str | None: ...
    @property
    def events(self) -> Sequence[EventLike]: ...
    @property
    def answers(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class FieldFacts:
    """What the timeline says (module docstring): origin, answer and field durations."""

    sent_at: datetime | None = None
    first_answer_at: datetime | None = None
    attempts: int = 0
    picked_up: bool | None = None
    seconds_to_pickup: float | None = None
    transfers: int | None = None
    hold_seconds: float | None = None
    waiting_seconds: float | None = None
    service_seconds: float | None = None


_NOT_PICKED_UP = frozenset({ev.CALL_VOICEMAIL, ev.CALL_NO_ANSWER, ev.CALL_BUSY})


def _phone(events: Sequence[EventLike]) -> FieldFacts:
    attempts: dict[int, list[EventLike]] = {}
    current = 0
    for event in events:
        number = event.attempt
        if event.kind == ev.CALL_STARTED:
            current = number if number is not None else max(attempts, default=0) + 1
            number = current
        elif number is None:
            number = current
        attempts.setdefault(number, []).append(event)
    started = [e.at for e in events if e.kind == ev.CALL_STARTED]
    picked: bool | None = None
    for number in sorted(attempts):
        kinds = {e.kind for e in attempts[number]}
        if ev.CALL_PICKED_UP in kinds:
            return _picked_up_call(attempts[number], started[0] if started else None, len(attempts))
        if kinds & _NOT_PICKED_UP:
            picked = False
    return FieldFacts(
        sent_at=started[0] if started else None,
        attempts=sum(1 for n in attempts if n > 0) or len(started),
        picked_up=picked,
    )


def _picked_up_call(call: list[EventLike], first_start: datetime | None, tries: int) -> FieldFacts:
    start = next((e.at for e in call if e.kind == ev.CALL_STARTED), None)
    pick = next(e.at for e in call if e.kind == ev.CALL_PICKED_UP)
    hung_up = next((e.at for e in call if e.kind == ev.CALL_HUNG_UP), None)
    hold = 0.0
    on_hold: datetime | None = None
    for event in call:
        if event.kind == ev.CALL_ON_HOLD and on_hold is None:
            on_hold = event.at
        elif event.kind == ev.CALL_RESUMED and on_hold is not None:
            hold += (event.at - on_hold).total_seconds()
            on_hold = None
    if on_hold is not None and hung_up is not None and hung_up >= on_hold:
        hold += (hung_up - on_hold).total_seconds()
    return FieldFacts(
        sent_at=first_start if first_start is not None else start,
        attempts=tries,
        picked_up=True,
        seconds_to_pickup=(pick - start).total_seconds() if start is not None else None,
        transfers=sum(1 for e in call if e.kind == ev.CALL_TRANSFERRED),
        hold_seconds=hold,
    )


def _visit(events: Sequence[EventLike]) -> FieldFacts:
    arrived = next((e.at for e in events if e.kind == ev.VISIT_ARRIVED), None)
    served = next((e.at for e in events if e.kind == ev.VISIT_SERVED), None)
    left = next(
        (e.at for e in events if e.kind == ev.VISIT_LEFT and (served is None or e.at >= served)),
        None,
    )
    return FieldFacts(
        sent_at=arrived,
        waiting_seconds=(
            (served - arrived).total_seconds()
            if arrived is not None and served is not None
            else None
        ),
        service_seconds=(
            (left - served).total_seconds() if served is not None and left is not None else None
        ),
    )


def _letter(events: Sequence[EventLike]) -> FieldFacts:
    return FieldFacts(
        sent_at=next((e.at for e in events if e.kind == ev.LETTER_POSTED), None),
        first_answer_at=next((e.at for e in events if e.kind == ev.LETTER_REPLY_RECEIVED), None),
    )


_NOTHING = FieldFacts()


def field_facts(channel: str, events: Sequence[EventLike]) -> FieldFacts:
    """What the timeline events (in time order) say for a contact of ``channel``."""
    if channel == Channel.PHONE:
        return _phone(events)
    if channel == Channel.VISIT:
        return _visit(events)
    if channel == Channel.LETTER:
        return _letter(events)
    return _NOTHING


def _unassessed(scenario: Scenario) -> tuple[GridResult, ...]:
    """Every criterion of the grid, none assessed (no answer yet), cached per scenario."""
    found = _UNASSESSED.get(scenario.id)
    if found is None or found[0] is not scenario:
        criteria = tuple(
            (f"{scenario.id}.{q.id}", q.criterion_weight, None)
            for q in scenario.grid
            if q.is_criterion
        )
        found = _UNASSESSED[scenario.id] = (scenario, criteria)
    return found[1]


_UNASSESSED: dict[str, tuple[Scenario, tuple[GridResult, ...]]] = {}


def grid_results(scenario: Scenario | None, answers: Mapping[str, Any]) -> tuple[GridResult, ...]:
    """One ``GridResult`` per criterion question of the scenario's grid (module docstring)."""
    if scenario is None or not scenario.grid:
        return ()
    if not answers:
        return _unassessed(scenario)
    out: list[GridResult] = []
    for question in scenario.grid:
        if not question.is_criterion:
            continue
        met: bool | None = None
        if is_relevant(question, answers):
            met = criterion_met(question, answers.get(question.id))
        out.append((f"{scenario.id}.{question.id}", question.criterion_weight, met))
    return tuple(out)


def _effective(entry: Any) -> bool | None:
    """A coordinator's override when there is one, else the automatic value."""
    if not isinstance(entry, Mapping):
        return None
    reviewed = entry.get("override")
    if isinstance(reviewed, Mapping) and isinstance(reviewed.get("value"), bool):
        return bool(reviewed["value"])
    auto = entry.get("auto")
    return auto if isinstance(auto, bool) else None


def content_checks(checks: Mapping[str, Any] | None) -> dict[str, bool]:
    """``"content.<element>"`` / ``"form.<item>"`` -> met, overrides applied, sorted.

    Reads ``Contact.checks`` as ``channels.content_checks`` writes it (``expected`` and
    ``form`` groups of ``{"auto": bool | None, "override": {"value": bool}}``); items with
    no value yet, and anything else, are left out.
    """
    if not isinstance(checks, Mapping):
        return {}
    out: dict[str, bool] = {}
    for group, prefix in (("expected", "content"), ("form", "form")):
        items = checks.get(group)
        if not isinstance(items, Mapping):
            continue
        for name, entry in items.items():
            value = _effective(entry)
            if value is not None:
                out[f"{prefix}.{name}"] = value
    return dict(sorted(out.items()))


def _targets(channel: str, scenario: Scenario | None) -> tuple[int | None, int | None]:
    key = (channel, scenario.id if scenario is not None else None)
    found = _TARGETS.get(key)
    if found is None or found[0] is not scenario:
        found = _TARGETS[key] = (scenario, _find_targets(channel, scenario))
    return found[1]


_TARGETS: dict[tuple[str, str | None], tuple[Scenario | None, tuple[int | None, int | None]]] = {}


def _find_targets(channel: str, scenario: Scenario | None) -> tuple[int | None, int | None]:
    if scenario is not None:
        return scenario.targets.answer_days, scenario.targets.acknowledgement_days
    try:
        defaults = DEFAULT_TARGETS[Channel(channel)]
    except ValueError:
        return None, None
    return defaults.get("answer_days"), defaults.get("acknowledgement_days")


def contact_facts(
    row: FactsSource,
    *,
    scenario: Scenario | None,
    calendar: BusinessCalendar,
    campaign_closed_at: datetime | None,
    as_of: datetime,
    skew_tolerance: timedelta = _DEFAULT_SKEW,
) -> ContactFacts:
    """The ``ContactFacts`` of a stored contact, delays filled (module docstring)."""
    channel = row.channel
    found = field_facts(channel, row.events)
    sent_at = found.sent_at or row.sent_at
    answer_at = found.first_answer_at or row.first_answer_at
    closed_at = row.closed_at or campaign_closed_at
    if closed_at is None and sent_at is not None:
        closed_at = max(as_of, sent_at)
    picked_up = found.picked_up
    answers = row.answers
    if picked_up is None and channel == Channel.PHONE:
        answer = answers.get("picked_up")
        picked_up = answer if isinstance(answer, bool) else None
    rings = answers.get("rings") if channel == Channel.PHONE else None
    answer_target, ack_target = _targets(channel, scenario)
    undeliverable = row.status == "undeliverable"
    delays = delays_for(
        calendar,
        sent_at=sent_at,
        first_ack_at=row.first_ack_at,
        first_answer_at=answer_at,
        closed_at=closed_at,
        undeliverable=undeliverable,
        ack_target_days=ack_target,
        answer_target_days=answer_target,
        skew_tolerance=skew_tolerance,
    )
    grid = grid_results(scenario, answers)
    checks = content_checks(row.checks)
    if checks:
        grid += tuple(
            (f"{row.scenario_id}.{key}" if key.startswith("content.") else key, 1.0, value)
            for key, value in checks.items()
        )
    return ContactFacts(
        channel=channel,
        scenario_id=row.scenario_id,
        service_kind=row.service_kind,
        collectivity_code=row.collectivity_code,
        collectivity_name=row.collectivity_name,
        collectivity_kind=row.collectivity_kind,
        population=row.population,
        departement=row.departement,
        region=row.region,
        status=row.status,
        planned_at=row.planned_at,
        contact_id=row.id,
        sent_at=sent_at,
        first_ack_at=row.first_ack_at,
        first_answer_at=answer_at,
        closed_at=closed_at,
        undeliverable=undeliverable,
        ack_seconds=delays.ack_seconds,
        ack_business_days=delays.ack_business_days,
        answer_seconds=delays.answer_seconds,
        answer_business_days=delays.answer_business_days,
        censor_seconds=delays.censor_seconds,
        censor_business_days=delays.censor_business_days,
        ack_target_days=ack_target,
        answer_target_days=answer_target,
        acknowledged_within_target=delays.acknowledged_within_target,
        answered_within_target=delays.answered_within_target,
        picked_up=picked_up,
        rings=rings if isinstance(rings, int) and not isinstance(rings, bool) else None,
        seconds_to_pickup=found.seconds_to_pickup,
        transfers=found.transfers,
        hold_seconds=found.hold_seconds,
        waiting_seconds=found.waiting_seconds,
        service_seconds=found.service_seconds,
        grid=grid,
    )
