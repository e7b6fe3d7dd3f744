"""Opening hours: a small documented text format, parsed into weekly intervals.

Format (French or English day abbreviations, case and accents ignored)::

    lu-ve 08:30-12:00,13:30-17:30; sa 09:00-12:00

- rules are separated by ``;``; a rule is ``DAYS TIMES``;
- ``DAYS`` is a day (``lu ma me je ve sa di`` or ``mo tu we th fr sa su``), a range ``lu-ve``
  or a list ``lu,me,ve``;
- ``TIMES`` is one or more ``HH:MM-HH:MM`` ranges separated by ``,``, in local time
  (Europe/Paris, or the collectivity's overseas time zone);
- a day named twice is an error; days not named are closed; an empty text means unknown.

``format_hours`` writes the canonical form back (French abbreviations).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import time

FR_DAYS = ("lu", "ma", "me", "je", "ve", "sa", "di")
EN_DAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
_DAY_INDEX: dict[str, int] = {}
for _i, (_fr, _en) in enumerate(zip(FR_DAYS, EN_DAYS, strict=True)):
    _DAY_INDEX[_fr] = _i
    _DAY_INDEX[_en] = _i
# "sa" is Saturday in both languages; "di"/"su" Sunday.
_TIME_RANGE = re.compile(r"^(\d{1,2})[:h](\d{2})\s*-\s*(\d{1,2})[:h](\d{2})$")


class OpeningHoursError(ValueError):
    """The text does not follow the documented opening-hours format."""


@dataclass(frozen=True, slots=True)
class Interval:
    start: time
    end: time


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """Opening intervals per weekday (0 = Monday), sorted and non-overlapping."""

    days: tuple[tuple[Interval, ...], ...]

    def on(self, weekday: int) -> tuple[Interval, ...]:
        return self.days[weekday]

    def is_open_day(self, weekday: int) -> bool:
        return bool(self.days[weekday])

    @property
    def is_empty(self) -> bool:
        return not any(self.days)


def _parse_time(hour: str, minute: str, text: str) -> time:
    h, m = int(hour), int(minute)
    if h == 24 and m == 0:
        return time(23, 59, 59)
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise OpeningHoursError(f"invalid time in {text!r}")
    return time(h, m)


def _parse_days(text: str) -> list[int]:
    days: list[int] = []
    for part in text.split(","):
        part = part.strip().lower().rstrip(".")
        if "-" in part:
            first, last = (p.strip() for p in part.split("-", 1))
            if first not in _DAY_INDEX or last not in _DAY_INDEX:
                raise OpeningHoursError(f"unknown day in {part!r} (use lu ma me je ve sa di)")
            a, b = _DAY_INDEX[first], _DAY_INDEX[last]
            if b < a:
                raise OpeningHoursError(f"day range {part!r} goes backwards")
            days.extend(range(a, b + 1))
        elif part in _DAY_INDEX:
            days.append(_DAY_INDEX[part])
        else:
            raise OpeningHoursError(f"unknown day {part!r} (use lu ma me je ve sa di)")
    return days


def parse_hours(text: str) -> WeeklyHours:
    """Parse the documented format; raise ``OpeningHoursError`` with a reason."""
    per_day: list[list[Interval]] = [[] for _ in range(7)]
    seen: set[int] = set()
    for rule in (r.strip() for r in text.split(";")):
        if not rule:
            continue
        match = re.match(r"^([a-zA-Z,\-\s.]+?)\s+(\d.*)$", rule)
        if match is None:
            raise OpeningHoursError(f"rule {rule!r} is not 'DAYS HH:MM-HH:MM'")
        days = _parse_days(match.group(1))
        intervals: list[Interval] = []
        for chunk in match.group(2).split(","):
            chunk = chunk.strip()
            tm = _TIME_RANGE.match(chunk)
            if tm is None:
                raise OpeningHoursError(f"time range {chunk!r} is not HH:MM-HH:MM")
            start = _parse_time(tm.group(1), tm.group(2), chunk)
            end = _parse_time(tm.group(3), tm.group(4), chunk)
            if end <= start:
                raise OpeningHoursError(f"time range {chunk!r} ends before it starts")
            intervals.append(Interval(start, end))
        intervals.sort(key=lambda iv: iv.start)
        for before, after in itertools.pairwise(intervals):
            if after.start < before.end:
                raise OpeningHoursError(f"time ranges overlap in {rule!r}")
        for day in days:
            if day in seen:
                raise OpeningHoursError(f"day {FR_DAYS[day]!r} is given twice")
            seen.add(day)
            per_day[day] = list(intervals)
    return WeeklyHours(tuple(tuple(d) for d in per_day))


def format_hours(hours: WeeklyHours) -> str:
    """Canonical text: consecutive days with identical intervals grouped (``lu-ve ...``)."""
    rules: list[str] = []
    day = 0
    while day < 7:
        intervals = hours.days[day]
        last = day
        while last + 1 < 7 and hours.days[last + 1] == intervals:
            last += 1
        if intervals:
            days = FR_DAYS[day] if last == day else f"{FR_DAYS[day]}-{FR_DAYS[last]}"
            times = ",".join(f"{iv.start:%H:%M}-{iv.end:%H:%M}" for iv in intervals)
            rules.append(f"{days} {times}")
        day = last + 1
    return "; ".join(rules)
