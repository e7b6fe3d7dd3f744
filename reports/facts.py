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

A stored contact's facts are read from its row by ``reports.stored_facts.contact_facts``;
population strata are ``reports.strata``.
"""

from __future__ import annotations

import dataclasses
from array import array
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from scenarios.calendar import BusinessCalendar

__all__ = [
    "DEFAULT_SKEW",
    "ContactFacts",
    "CountingCalendar",
    "Delays",
    "GridResult",
    "delays_for",
    "with_delays",
]

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


DEFAULT_SKEW = timedelta(seconds=120)
"""Clock skew tolerated between our SMTP submission and the IMAP server (module docstring)."""


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
    skew_tolerance: timedelta = DEFAULT_SKEW,
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
    skew_tolerance: timedelta = DEFAULT_SKEW,
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
