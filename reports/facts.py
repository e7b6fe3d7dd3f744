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
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import pairwise

from scenarios.calendar import BusinessCalendar

__all__ = [
    "DEFAULT_STRATA",
    "ContactFacts",
    "Delays",
    "GridResult",
    "delays_for",
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


def _within(
    calendar: BusinessCalendar,
    sent_at: datetime,
    event_at: datetime | None,
    closed_at: datetime | None,
    target: int | None,
) -> bool | None:
    if target is None:
        return None
    if event_at is not None:
        return calendar.business_days_between(sent_at, event_at) <= target
    if closed_at is not None and calendar.business_days_between(sent_at, closed_at) > target:
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
        acknowledged_within_target=_within(calendar, sent_at, ack_at, closed_at, ack_target_days),
        answered_within_target=_within(calendar, sent_at, answer_at, closed_at, answer_target_days),
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
