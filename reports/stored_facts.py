"""The facts of a stored contact: what its timeline, grid answers and content checks say.

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

The delays are then made by ``reports.facts.delays_for`` (its docstring has the rules).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from reports.facts import DEFAULT_SKEW, ContactFacts, GridResult, delays_for
from scenarios import events as ev
from scenarios.calendar import BusinessCalendar
from scenarios.catalog import DEFAULT_TARGETS, Scenario
from scenarios.domain import Channel
from scenarios.grid import criterion_met, is_relevant

__all__ = [
    "EventLike",
    "FactsSource",
    "FieldFacts",
    "contact_facts",
    "content_checks",
    "field_facts",
    "grid_results",
]


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
    skew_tolerance: timedelta = DEFAULT_SKEW,
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
