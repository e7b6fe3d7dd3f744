"""Durations as French auditors type them, and as they are shown back.

    « 2 min 30 », « 2'30 », « 1:30 », « 1 h 05 » --parse_duration--> 150, 150, 90, 3900 (seconds)
    3900 --format_duration--> « 1 h 05 min » (no-break spaces, as French typography wants)

``parse_duration`` refuses (None) rather than guesses: a bare number has no unit, and units
must go down (« 30 s 2 min » is not a duration). ``scenarios.grid`` uses both for ``duration``
questions and re-exports them.
"""

from __future__ import annotations

import re

from scenarios.text import NBSP, NNBSP

_UNIT_SECONDS = {"h": 3600, "min": 60, "s": 1}
_UNIT_WORDS = {
    "h": "h",
    "hr": "h",
    "hrs": "h",
    "heure": "h",
    "heures": "h",
    "min": "min",
    "mins": "min",
    "minute": "min",
    "minutes": "min",
    "mn": "min",
    "m": "min",
    "'": "min",
    "’": "min",
    "s": "s",
    "sec": "s",
    "secs": "s",
    "seconde": "s",
    "secondes": "s",
    '"': "s",
    "″": "s",
    "''": "s",
}
_NEXT_UNIT = {"h": "min", "min": "s"}
_DURATION_TOKEN = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(heures?|hrs?|h|minutes?|mins?|mn|m|secondes?|secs?|s|''|'|’|\"|″)?\s*"
)
_CLOCK = re.compile(r"^(\d+):([0-5]\d)(?::([0-5]\d))?$")


def parse_duration(text: str) -> int | None:
    """Seconds in a French-typed duration, or None when it cannot be read.

    Accepted: « 45 s », « 2 min 30 », « 2 min 30 s », « 2'30 », « 1 h 05 », « 1h05min »,
    « 1:30 » (min:s), « 1:02:03 » (h:min:s), « 1,5 min ». A bare number is refused because
    its unit would be a guess. A number after the last unit counts in the next smaller unit.
    """
    cleaned = " ".join(text.replace(NBSP, " ").replace(NNBSP, " ").split()).casefold()
    cleaned = cleaned.replace(" et ", " ")
    if not cleaned:
        return None
    clock = _CLOCK.match(cleaned.replace(" ", ""))
    if clock:
        first, second, third = clock.groups()
        if third is None:
            return int(first) * 60 + int(second)
        return int(first) * 3600 + int(second) * 60 + int(third)
    position = 0
    total = 0.0
    last_unit: str | None = None
    while position < len(cleaned):
        token = _DURATION_TOKEN.match(cleaned, position)
        if token is None or token.end() == position:
            return None
        number, unit_word = token.groups()
        amount = float(number.replace(",", "."))
        if unit_word is None:
            # a trailing bare number after a unit: « 2 min 30 », « 1 h 05 »
            if last_unit is None or token.end() != len(cleaned) or last_unit not in _NEXT_UNIT:
                return None
            unit = _NEXT_UNIT[last_unit]
        else:
            unit = _UNIT_WORDS[unit_word]
            if last_unit is not None and _UNIT_SECONDS[unit] >= _UNIT_SECONDS[last_unit]:
                return None  # units must go down: « 30 s 2 min » is not a duration
        total += amount * _UNIT_SECONDS[unit]
        last_unit = unit
        position = token.end()
    return round(total)


def format_duration(seconds: float) -> str:
    """« 45 s », « 2 min 30 s », « 1 h 05 min » (French, as the auditor would write it)."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        if secs:
            return f"{hours}{NBSP}h{NBSP}{minutes:02d}{NBSP}min{NBSP}{secs:02d}{NBSP}s"
        return f"{hours}{NBSP}h{NBSP}{minutes:02d}{NBSP}min" if minutes else f"{hours}{NBSP}h"
    if minutes:
        return f"{minutes}{NBSP}min{NBSP}{secs:02d}{NBSP}s" if secs else f"{minutes}{NBSP}min"
    return f"{secs}{NBSP}s"
