"""Business calendar of a collectivity: French public holidays of its département.

Holidays come from the ``holidays`` package. Its French subdivisions are not département
codes: Bas-Rhin (67) and Haut-Rhin (68) are ``6AE`` (Alsace), Moselle is ``57``, the
overseas départements keep their codes (971 Guadeloupe, 972 Martinique, 973 Guyane,
974 La Réunion, 976 Mayotte); every other département has the national holidays only.
Alsace-Moselle adds Good Friday and 26 December; each overseas département adds its
abolition-of-slavery day.

Days are local dates in the collectivity's time zone (Europe/Paris in metropolitan France
and Corsica, the local zone overseas). Instants are aware UTC datetimes.

Conventions, used by every delay we publish:
- ``business_days_between(a, b)`` counts the business days ``d`` with
  ``local_date(a) < d <= local_date(b)``: sent on Friday, answered on Monday = 1.
- ``deadline(a, n)`` is the end (24:00 local) of the n-th business day after ``a``'s local
  date: an answer within n business days arrives before it.
- ``business_seconds_between(a, b, hours)`` counts the seconds of [a, b] that fall on
  business days and, when ``hours`` is given, inside those opening hours; DST-correct
  because every local interval is converted to UTC before it is measured.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holidays_lib

from scenarios.opening_hours import WeeklyHours

PARIS = ZoneInfo("Europe/Paris")

_SUBDIVISION = {"57": "57", "67": "6AE", "68": "6AE", "971": "971", "972": "972",
                "973": "973", "974": "974", "976": "976"}  # fmt: skip
_ZONES = {
    "971": "America/Guadeloupe",
    "972": "America/Martinique",
    "973": "America/Cayenne",
    "974": "Indian/Reunion",
    "976": "Indian/Mayotte",
}


class UnknownDepartement(ValueError):
    pass


def normalise_departement(code: str) -> str:
    """``"1"`` -> ``"01"``, ``"2a"`` -> ``"2A"``; raise ``UnknownDepartement`` otherwise."""
    text = code.strip().upper()
    if text.isdigit() and len(text) == 1:
        text = "0" + text
    if text in ("2A", "2B"):
        return text
    if text.isdigit() and len(text) == 2 and 1 <= int(text) <= 95 and text != "20":
        return text
    if text in _ZONES:
        return text
    raise UnknownDepartement(f"unknown département code {code!r}")


def subdivision_for(departement: str) -> str | None:
    return _SUBDIVISION.get(normalise_departement(departement))


def timezone_for(departement: str) -> ZoneInfo:
    zone = _ZONES.get(normalise_departement(departement))
    return ZoneInfo(zone) if zone else PARIS


@lru_cache(maxsize=256)
def _holidays(subdivision: str | None, year: int) -> dict[date, str]:
    found = holidays_lib.country_holidays("FR", years=year, subdiv=subdivision, language="fr")
    return dict(found.items())


class BusinessCalendar:
    """Business days (Monday to Friday, minus public holidays) of one département."""

    def __init__(self, departement: str) -> None:
        self.departement = normalise_departement(departement)
        self.subdivision = _SUBDIVISION.get(self.departement)
        self.tz = timezone_for(self.departement)

    @classmethod
    @lru_cache(maxsize=256)
    def for_departement(cls, departement: str) -> BusinessCalendar:
        return cls(departement)

    def holiday_name(self, day: date) -> str | None:
        return _holidays(self.subdivision, day.year).get(day)

    def holidays(self, year: int) -> dict[date, str]:
        return dict(_holidays(self.subdivision, year))

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in _holidays(self.subdivision, day.year)

    def business_days(self, start: date, end: date) -> list[date]:
        """Business days from ``start`` to ``end`` inclusive."""
        return [d for d in _days(start, end) if self.is_business_day(d)]

    def add_business_days(self, day: date, count: int) -> date:
        """The ``count``-th business day after ``day`` (before it when negative)."""
        step = 1 if count >= 0 else -1
        remaining = abs(count)
        current = day
        while remaining:
            current += timedelta(days=step)
            if self.is_business_day(current):
                remaining -= 1
        return current

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.tz).date()

    def local_instant(self, day: date, at: time) -> datetime:
        """The UTC instant of local wall time ``at`` on ``day`` (DST gaps resolved forward)."""
        local = datetime.combine(day, at, tzinfo=self.tz)
        # A wall time inside a spring-forward gap does not exist; round-tripping through
        # UTC moves it forward by the gap, which is what a clock on the wall would show.
        return local.astimezone(UTC).astimezone(self.tz).astimezone(UTC)

    def business_days_between(self, start: datetime, end: datetime) -> int:
        a, b = self.local_date(start), self.local_date(end)
        if b <= a:
            return 0
        return len(self.business_days(a + timedelta(days=1), b))

    def deadline(self, start: datetime, business_days: int) -> datetime:
        """End of the ``business_days``-th business day after ``start``'s local date."""
        last = self.add_business_days(self.local_date(start), business_days)
        return self.local_instant(last + timedelta(days=1), time(0, 0))

    def business_seconds_between(
        self, start: datetime, end: datetime, hours: WeeklyHours | None = None
    ) -> int:
        if end <= start:
            return 0
        total = 0.0
        for day in _days(self.local_date(start), self.local_date(end)):
            if not self.is_business_day(day):
                continue
            for open_at, close_at in self._open_spans(day, hours):
                lo, hi = max(open_at, start), min(close_at, end)
                if hi > lo:
                    total += (hi - lo).total_seconds()
        return int(total)

    def _open_spans(
        self, day: date, hours: WeeklyHours | None
    ) -> Iterator[tuple[datetime, datetime]]:
        if hours is None:
            yield (
                self.local_instant(day, time(0, 0)),
                self.local_instant(day + timedelta(days=1), time(0, 0)),
            )
            return
        for interval in hours.on(day.weekday()):
            yield self.local_instant(day, interval.start), self.local_instant(day, interval.end)


def _days(start: date, end: date) -> Iterator[date]:
    current = start
    while current <= end:
        yield current
        current += timedelta(days=1)
