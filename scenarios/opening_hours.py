"""Opening hours: a small documented text format, parsed into weekly intervals.

Format (French or English days, case and accents ignored)::

    lu-ve 08:30-12:00,13:30-17:30; sa 09:00-12:00

- rules are separated by ``;``; a rule is ``DAYS TIMES``;
- ``DAYS`` is a day, a range ``lu-ve`` or a list ``lu,me,ve`` (ranges and single days can
  be mixed: ``lu-me,ve``). A day is written ``lu ma me je ve sa di`` or ``mo tu we th fr sa
  su``, or as a longer form: ``lun``/``lundi`` … ``dim``/``dimanche``, ``mon``/``monday`` …
  ``sun``/``sunday``; a trailing ``.`` is allowed (``lun.``). A range never wraps around
  the week (``sa-lu`` is an error);
- ``TIMES`` is one or more ranges ``HH:MM-HH:MM`` separated by ``,``, in local time
  (Europe/Paris, or the collectivity's overseas time zone). ``9h00``, ``9h30`` and ``9h``
  are accepted for ``09:00``, ``09:30`` and ``09:00``; ``24:00`` closes at midnight at the
  end of the day (and only ends a range). Ranges of one day must not overlap; ranges that
  touch (``09:00-12:00,12:00-14:00``) are kept as written;
- a day named twice is an error; days not named are closed; an empty text means unknown
  (an empty ``WeeklyHours``).

Errors raise ``OpeningHoursError`` whose message names the faulty part and says why.
``format_hours`` writes the canonical form back (French abbreviations, ``HH:MM``, days with
identical hours grouped into ranges, ``; `` between rules); ``parse_hours`` reads it back to
an equal ``WeeklyHours``.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from datetime import time

FR_DAYS = ("lu", "ma", "me", "je", "ve", "sa", "di")
EN_DAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
_LONG_DAYS = (
    ("lun", "lundi", "mon", "monday"),
    ("mar", "mardi", "tue", "tues", "tuesday"),
    ("mer", "mercredi", "wed", "wednesday"),
    ("jeu", "jeudi", "thu", "thur", "thurs", "thursday"),
    ("ven", "vendredi", "fri", "friday"),
    ("sam", "samedi", "sat", "saturday"),
    ("dim", "dimanche", "sun", "sunday"),
)
# "sa" is Saturday in both languages.
_DAY_INDEX: dict[str, int] = {
    name: index
    for index, names in enumerate(zip(FR_DAYS, EN_DAYS, strict=True))
    for name in (*names, *_LONG_DAYS[index])
}

END_OF_DAY = time.max
"""The end of a range written ``24:00`` (midnight at the end of the day)."""

_TIME = r"(\d{1,2})(?::(\d{2})|h(\d{2})?)"
_TIME_RANGE = re.compile(rf"^{_TIME}\s*-\s*{_TIME}$", re.ASCII)
_RULE = re.compile(r"^([a-z,\-\s.]+?)\s+(\d.*)$", re.ASCII | re.DOTALL)
_DASHES = str.maketrans({"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-",
                         "\u2014": "-", "\u2212": "-"})  # fmt: skip
_DAYS_HINT = "use lu ma me je ve sa di or mo tu we th fr sa su"


class OpeningHoursError(ValueError):
    """The text does not follow the documented opening-hours format.

    ``code`` and ``params`` name the case for a caller that says it in the reader's
    language (the directory import: ``directory.error.hours_<code>``); the message is
    English, for logs and programmers. An empty code: a programming error, not a text."""

    def __init__(self, message: str, code: str = "", /, **params: str) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


@dataclass(frozen=True, slots=True)
class Interval:
    """One opening range of a day, in local wall time; ``end`` may be ``END_OF_DAY``."""

    start: time
    end: time

    def __post_init__(self) -> None:
        for value in (self.start, self.end):
            if value.tzinfo is not None:
                raise OpeningHoursError(f"opening times are local wall times: {value!r}")
        if self.start == END_OF_DAY:
            raise OpeningHoursError("24:00 can only end a range")
        for value in (self.start, self.end):
            if value != END_OF_DAY and (value.second or value.microsecond):
                raise OpeningHoursError(f"opening times are whole minutes: {value!r}")
        if self.end <= self.start:
            raise OpeningHoursError(f"range {_format_interval(self)} does not end after it starts")


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """Opening intervals per weekday (0 = Monday), sorted and non-overlapping."""

    days: tuple[tuple[Interval, ...], ...]

    def __post_init__(self) -> None:
        if len(self.days) != 7:
            raise OpeningHoursError(f"a week has 7 days, not {len(self.days)}")
        for weekday, intervals in enumerate(self.days):
            for before, after in itertools.pairwise(intervals):
                if after.start < before.end:
                    raise OpeningHoursError(
                        f"{FR_DAYS[weekday]}: ranges {_format_interval(before)} and "
                        f"{_format_interval(after)} overlap or are not in order"
                    )

    def on(self, weekday: int) -> tuple[Interval, ...]:
        return self.days[weekday]

    def is_open_day(self, weekday: int) -> bool:
        return bool(self.days[weekday])

    @property
    def is_empty(self) -> bool:
        return not any(self.days)


def _format_time(value: time) -> str:
    return "24:00" if value == END_OF_DAY else f"{value:%H:%M}"


def _format_interval(interval: Interval) -> str:
    return f"{_format_time(interval.start)}-{_format_time(interval.end)}"


def _fold(text: str) -> str:
    """Lower case, accents removed, typographic dashes made ASCII."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_DASHES))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _parse_time(hour: str, minute: str | None, chunk: str) -> time:
    h, m = int(hour), int(minute or "0")
    if h == 24 and m == 0:
        return END_OF_DAY
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise OpeningHoursError(
            f"invalid time in {chunk!r} (hours 00-24, minutes 00-59)", "bad_time", chunk=chunk
        )
    return time(h, m)


def _day(name: str, part: str) -> int:
    index = _DAY_INDEX.get(name.strip().rstrip("."))
    if index is None:
        raise OpeningHoursError(
            f"unknown day {name.strip()!r} in {part!r} ({_DAYS_HINT})",
            "unknown_day",
            day=name.strip(),
            part=part,
        )
    return index


def _parse_days(text: str) -> list[int]:
    days: list[int] = []
    for raw in text.split(","):
        part = raw.strip()
        if "-" in part:
            first, last = part.split("-", 1)
            a, b = _day(first, part), _day(last, part)
            if b < a:
                raise OpeningHoursError(
                    f"day range {part!r} goes backwards (a range never wraps around the week)",
                    "backwards",
                    part=part,
                )
            days.extend(range(a, b + 1))
        else:
            days.append(_day(part, part))
    return days


def _parse_times(text: str, rule: str) -> list[Interval]:
    intervals: list[Interval] = []
    for raw in text.split(","):
        chunk = raw.strip()
        tm = _TIME_RANGE.match(chunk)
        if tm is None:
            raise OpeningHoursError(
                f"time range {chunk!r} in {rule!r} is not HH:MM-HH:MM",
                "not_range",
                chunk=chunk,
                rule=rule,
            )
        h1, m1a, m1b, h2, m2a, m2b = tm.groups()
        start = _parse_time(h1, m1a or m1b, chunk)
        end = _parse_time(h2, m2a or m2b, chunk)
        if start == END_OF_DAY:
            raise OpeningHoursError(
                f"time range {chunk!r}: 24:00 can only end a range", "midnight_start", chunk=chunk
            )
        if end <= start:
            raise OpeningHoursError(
                f"time range {chunk!r} does not end after it starts", "not_after", chunk=chunk
            )
        intervals.append(Interval(start, end))
    intervals.sort(key=lambda iv: iv.start)
    for before, after in itertools.pairwise(intervals):
        if after.start < before.end:
            first, second = _format_interval(before), _format_interval(after)
            raise OpeningHoursError(
                f"time ranges {first} and {second} overlap in {rule!r}",
                "overlap",
                first=first,
                second=second,
                rule=rule,
            )
    return intervals


def parse_hours(text: str) -> WeeklyHours:
    """Parse the documented format; raise ``OpeningHoursError`` with a reason."""
    per_day: list[tuple[Interval, ...]] = [() for _ in range(7)]
    seen: set[int] = set()
    for rule in (r.strip() for r in _fold(text).split(";")):
        if not rule:
            continue
        match = _RULE.match(rule)
        if match is None:
            raise OpeningHoursError(
                f"rule {rule!r} is not 'DAYS HH:MM-HH:MM[,HH:MM-HH:MM]'", "bad_rule", rule=rule
            )
        days = _parse_days(match.group(1))
        intervals = tuple(_parse_times(match.group(2), rule))
        for day in days:
            if day in seen:
                raise OpeningHoursError(
                    f"day {FR_DAYS[day]!r} is given twice (in {rule!r})",
                    "day_twice",
                    day=FR_DAYS[day],
                    rule=rule,
                )
            seen.add(day)
            per_day[day] = intervals
    return WeeklyHours(tuple(per_day))


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
            times = ",".join(_format_interval(iv) for iv in intervals)
            rules.append(f"{days} {times}")
        day = last + 1
    return "; ".join(rules)
