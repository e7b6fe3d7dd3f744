"""Business calendar of a collectivity: French public holidays of its département.

Holidays come from the ``holidays`` package, codes, subdivisions and time zones from
``scenarios.geography`` (the official list of départements and overseas collectivities).
The ``holidays`` subdivisions are not département codes: Bas-Rhin (67) and Haut-Rhin (68)
are ``6AE`` (Alsace), Moselle is ``57``, the overseas départements keep their codes (971
Guadeloupe, 972 Martinique, 973 Guyane, 974 La Réunion, 976 Mayotte) and the overseas
collectivities go by their ISO codes (975 ``PM``, 977 ``BL``, 978 ``MF``, 984 ``TF``, 986
``WF``, 987 ``PF``, 988 ``NC``); every other département has the national holidays only.
Alsace-Moselle adds Good Friday and 26 December; each overseas département adds its
abolition-of-slavery day (971: 27 May, 972: 22 May, 973: 10 June, 974: 20 December,
976: 27 April), plus what the ``holidays`` package lists for it (Guadeloupe: Good Friday
and Mi-Carême; Guadeloupe and Martinique: Victor Schoelcher day, 21 July); the
collectivities have their own (French Polynesia: Good Friday, Matāri'i, the arrival of the
Gospel; New Caledonia: Citizenship day; Wallis-et-Futuna: Territory day…).

Days are local dates in the collectivity's time zone (Europe/Paris in metropolitan France
and Corsica, the local zone overseas: Saint-Pierre-et-Miquelon keeps daylight saving time,
the others do not; a few Polynesian communes have their own, ``for_commune``). Instants
are aware datetimes (UTC by convention); a naive datetime is refused with ``ValueError``.
A business day is Monday to Friday and not a public holiday: Saturday and Sunday never are.
Where a day is expected, a ``datetime`` is refused with ``TypeError`` (convert it with
``local_date`` first).

Conventions, used by every delay we publish:
- ``business_days_between(a, b)`` counts the business days ``d`` with
  ``local_date(a) < d <= local_date(b)``: sent on Friday, answered on Monday = 1; same
  local day = 0; a holiday in between is not counted.
- ``deadline(a, n)`` is the end (24:00 local, i.e. 00:00 of the next local day) of the n-th
  business day after ``a``'s local date: an answer within n business days arrives before it.
  For any ``t < deadline(a, n)``, ``business_days_between(a, t) <= n``. The converse does
  not hold on non-business days: an answer on the Saturday after a Friday deadline is late
  by ``deadline`` but still counts ``n`` by ``business_days_between`` (a weekend day adds no
  business day). Statistics must say which of the two they use.
- ``business_time_between(a, b, hours)`` is the exact length of the part of [a, b] that
  falls on business days and, when ``hours`` is given, inside those opening hours (local
  wall times). It is DST-correct because every local interval is converted to UTC before it
  is measured, and additive: ``t(a, c) == t(a, b) + t(b, c)`` for ``a <= b <= c``.
  ``business_seconds_between`` is the same, floored to whole seconds (exactly additive for
  instants on whole seconds).
- Local wall times are resolved with ``fold=0``: a time inside the spring-forward gap moves
  forward by the gap (02:30 on the last Sunday of March in Paris is 03:30 CEST, 01:30 UTC);
  an ambiguous time at fall-back is its first occurrence (02:30 on the last Sunday of
  October in Paris is 02:30 CEST, 00:30 UTC).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holidays_lib

from scenarios import geography
from scenarios.opening_hours import END_OF_DAY, WeeklyHours

PARIS = ZoneInfo("Europe/Paris")

_MIDNIGHT = time(0, 0)
_ONE_DAY = timedelta(days=1)
_ONE_SECOND = timedelta(seconds=1)


class UnknownDepartement(ValueError):
    pass


def normalise_departement(code: str) -> str:
    """``"1"`` -> ``"01"``, ``"2a"`` -> ``"2A"``; raise ``UnknownDepartement`` otherwise.

    Valid codes are those of the official list (``scenarios.geography``): ``01``-``95``
    without ``20`` (Corsica is ``2A``/``2B``), ``971``-``974`` and ``976`` overseas, and the
    overseas collectivities ``975``, ``977``, ``978``, ``984``, ``986``-``989``.
    """
    text = code.strip().upper()
    if text.isascii() and text.isdigit() and len(text) == 1:
        text = "0" + text
    if geography.is_known(text):
        return text
    raise UnknownDepartement(f"unknown département code {code!r}")


def subdivision_for(departement: str) -> str | None:
    """The ``holidays`` subdivision of a département (None: national holidays only)."""
    return geography.holiday_subdivision(normalise_departement(departement))


def timezone_for(departement: str, insee_code: str | None = None) -> ZoneInfo:
    """The time zone of a département, or of one of its communes (``insee_code``)."""
    return ZoneInfo(geography.timezone_name(normalise_departement(departement), insee_code))


@lru_cache(maxsize=256)
def _holidays(subdivision: str | None, year: int) -> dict[date, str]:
    """Holidays of one subdivision and year (cached; callers must not mutate the result)."""
    found = holidays_lib.country_holidays("FR", years=year, subdiv=subdivision, language="fr")
    return dict(found.items())


def _require_aware(instant: datetime) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"naive datetime refused: {instant!r} (every time must be aware)")


class BusinessCalendar:
    """Business days (Monday to Friday, minus public holidays) of one département."""

    def __init__(self, departement: str, insee_code: str | None = None) -> None:
        self.departement = normalise_departement(departement)
        self.subdivision = geography.holiday_subdivision(self.departement)
        self.tz = timezone_for(self.departement, insee_code)
        # Per-instance view of the shared (subdivision, year) cache: a plain dict lookup
        # is cheaper than the lru_cache call on the planner's hot path.
        self._by_year: dict[int, dict[date, str]] = {}

    @classmethod
    @lru_cache(maxsize=256)
    def for_departement(cls, departement: str) -> BusinessCalendar:
        return cls(departement)

    @classmethod
    def for_commune(cls, departement: str, insee_code: str) -> BusinessCalendar:
        """The calendar of one commune: its département's, on the commune's own clock
        where it has one (the Marquesas and the Gambier in French Polynesia)."""
        code = normalise_departement(departement)
        if geography.timezone_name(code, insee_code) == geography.timezone_name(code):
            return cls.for_departement(code)
        return _commune_calendar(code, insee_code)

    def _year(self, year: int) -> dict[date, str]:
        found = self._by_year.get(year)
        if found is None:
            found = self._by_year[year] = _holidays(self.subdivision, year)
        return found

    def holiday_name(self, day: date) -> str | None:
        return self._year(day.year).get(_check_date(day))

    def holidays(self, year: int) -> dict[date, str]:
        return dict(self._year(year))

    def is_business_day(self, day: date) -> bool:
        if isinstance(day, datetime):
            _check_date(day)
        return day.weekday() < 5 and day not in self._year(day.year)

    def business_days(self, start: date, end: date) -> list[date]:
        """Business days from ``start`` to ``end`` inclusive (empty when ``end < start``)."""
        return [d for d in _days(start, end) if self.is_business_day(d)]

    def add_business_days(self, day: date, count: int) -> date:
        """The ``count``-th business day after ``day`` (before it when negative; 0: ``day``)."""
        step = _ONE_DAY if count >= 0 else -_ONE_DAY
        remaining = abs(count)
        current = _check_date(day)
        while remaining:
            current += step
            if self.is_business_day(current):
                remaining -= 1
        return current

    def local_date(self, instant: datetime) -> date:
        _require_aware(instant)
        return instant.astimezone(self.tz).date()

    def local_instant(self, day: date, at: time) -> datetime:
        """The UTC instant of local wall time ``at`` on ``day``.

        Resolved with ``at.fold`` (0 unless the caller set it): a wall time inside a
        spring-forward gap does not exist and moves forward by the gap, as a clock on the
        wall would show it; an ambiguous fall-back wall time is its first occurrence.
        """
        return datetime.combine(_check_date(day), at, tzinfo=self.tz).astimezone(UTC)

    def business_days_between(self, start: datetime, end: datetime) -> int:
        """Business days ``d`` with ``local_date(start) < d <= local_date(end)``."""
        a, b = self.local_date(start), self.local_date(end)
        if b <= a:
            return 0
        return len(self.business_days(a + _ONE_DAY, b))

    def deadline(self, start: datetime, business_days: int) -> datetime:
        """End of the ``business_days``-th business day after ``start``'s local date (UTC)."""
        if business_days < 0:
            raise ValueError(f"a deadline needs business_days >= 0, not {business_days}")
        last = self.add_business_days(self.local_date(start), business_days)
        return self.local_instant(last + _ONE_DAY, _MIDNIGHT)

    def business_time_between(
        self, start: datetime, end: datetime, hours: WeeklyHours | None = None
    ) -> timedelta:
        """Exact business time in [start, end] (zero when ``end <= start``)."""
        _require_aware(start)
        _require_aware(end)
        total = timedelta(0)
        if end <= start:
            return total
        for day in _days(self.local_date(start), self.local_date(end)):
            if not self.is_business_day(day):
                continue
            for open_at, close_at in self._open_spans(day, hours):
                lo, hi = max(open_at, start), min(close_at, end)
                if hi > lo:
                    total += hi - lo
        return total

    def business_seconds_between(
        self, start: datetime, end: datetime, hours: WeeklyHours | None = None
    ) -> int:
        """``business_time_between`` in whole seconds (floored)."""
        return self.business_time_between(start, end, hours) // _ONE_SECOND

    def _open_spans(
        self, day: date, hours: WeeklyHours | None
    ) -> Iterator[tuple[datetime, datetime]]:
        """Disjoint UTC spans, in order, when ``day`` (a local date) is open."""
        if hours is None:
            yield self.local_instant(day, _MIDNIGHT), self.local_instant(day + _ONE_DAY, _MIDNIGHT)
            return
        previous_close: datetime | None = None
        for interval in hours.on(day.weekday()):
            open_at = self.local_instant(day, interval.start)
            if interval.end == END_OF_DAY:
                close_at = self.local_instant(day + _ONE_DAY, _MIDNIGHT)
            else:
                close_at = self.local_instant(day, interval.end)
            # Around a spring-forward gap two wall-time intervals can map onto overlapping
            # UTC spans (a closing time moved forward past the next opening time): never
            # count the same second twice.
            if previous_close is not None and open_at < previous_close:
                open_at = previous_close
            if close_at > open_at:
                yield open_at, close_at
                previous_close = close_at


@lru_cache(maxsize=64)
def _commune_calendar(departement: str, insee_code: str) -> BusinessCalendar:
    return BusinessCalendar(departement, insee_code)


def _check_date(day: date) -> date:
    """Refuse a datetime where a local date is expected.

    A datetime is a ``date`` subclass but never equals a date key (every holiday would be
    silently missed), and its ``.date()`` is not the local date unless it is local time.
    """
    if isinstance(day, datetime):
        raise TypeError(f"a local date is expected, not a datetime: {day!r}")
    return day


def _days(start: date, end: date) -> Iterator[date]:
    current = start
    while current <= end:
        yield current
        current += _ONE_DAY
