"""Numbers, percentages, dates and durations as the reader writes them, in one place.

``Formats("fr")`` gives « 1 046 000 », « 62,1 % », « 24/04/2026 », « 24/04/2026 18 h 00 »,
« 13 min 07 s »; ``Formats("en")`` gives "1,046,000", "62.1%", "24 Apr 2026",
"24 Apr 2026 18:00", "13 min 07 s". Numbers follow the CLDR data of Babel (the French group
separator is the narrow no-break space U+202F, as the Imprimerie nationale wants); a space that
must not break (before « % », « h », units) is U+202F too, so that a number never wraps away
from its unit. Every figure a coordinator, an auditor or a collectivity reads goes through here
(the command line, exports, reports, the bot, the web pages), so they all agree.

Instants are aware datetimes shown in ``tz`` (the display zone, Europe/Paris by default, or a
collectivity's overseas zone); a naive one is refused, as everywhere in Témoin.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_decimal

from scenarios.i18n import DEFAULT_LOCALE, SUPPORTED

NNBSP = "\u202f"  # narrow no-break space: thousands, before % and units, in « »
MINUS = "\u2212"  # a real minus sign, not a hyphen

Day = date  # the type, for annotations inside the class (its methods are named date)
Instant = datetime

_BABEL_LOCALE = {"fr": "fr_FR", "en": "en_GB"}


class Formats:
    """The reader's formats for one language and one display time zone."""

    def __init__(self, locale: str = DEFAULT_LOCALE, tz: str | ZoneInfo = "Europe/Paris") -> None:
        self.locale = locale if locale in SUPPORTED else DEFAULT_LOCALE
        self.tz = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        self._babel = _BABEL_LOCALE[self.locale]
        self.french = self.locale == "fr"

    # -- numbers ---------------------------------------------------------------------------

    def number(self, value: float | int, digits: int = 0) -> str:
        """``1046000`` -> « 1 046 000 »; ``66.666`` with ``digits=1`` -> « 66,7 »."""
        if isinstance(value, float) and not math.isfinite(value):
            return "–"
        pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
        text = format_decimal(value, format=pattern, locale=self._babel)
        return text.replace("-", MINUS) if self.french else text

    def percent(self, ratio: float | None, digits: int = 1) -> str:
        """``0.6206`` -> « 62,1 % » (« 62.1% » in English); ``None`` -> « – »."""
        if ratio is None or not math.isfinite(ratio):
            return "–"
        figure = self.number(100.0 * ratio, digits)
        return f"{figure}{NNBSP}%" if self.french else f"{figure}%"

    def points(self, change: float | None, digits: int = 1) -> str:
        """A change of a rate, in percentage points, signed: « +3,2 pts », « −1,0 pt »."""
        if change is None or not math.isfinite(change):
            return "–"
        figure = self.number(abs(100.0 * change), digits)
        sign = "+" if change > 0 else (MINUS if change < 0 else "±")
        unit = ("pt" if abs(100.0 * change) < 2 else "pts") if self.french else "pts"
        return f"{sign}{figure}{NNBSP}{unit}"

    # -- dates and times -------------------------------------------------------------------

    def local(self, instant: Instant) -> Instant:
        if instant.tzinfo is None:
            raise ValueError(f"naive datetime refused: {instant!r}")
        return instant.astimezone(self.tz)

    def date(self, day: Day | Instant) -> str:
        """« 24/04/2026 » (French, what spreadsheets and forms use) or "24 Apr 2026"."""
        if isinstance(day, Instant):
            day = self.local(day).date()
        if self.french:
            return day.strftime("%d/%m/%Y")
        return format_date(day, "d MMM yyyy", locale=self._babel)

    def long_date(self, day: Day | Instant) -> str:
        """« 24 avril 2026 » / "24 April 2026"; « 1er » for the first of the month."""
        if isinstance(day, Instant):
            day = self.local(day).date()
        text = format_date(day, "d MMMM yyyy", locale=self._babel)
        return f"1er{text[1:]}" if self.french and day.day == 1 else text

    def time(self, instant: Instant) -> str:
        """« 18 h 00 » (French typography) or "18:00"."""
        local = self.local(instant)
        if self.french:
            return f"{local.hour}{NNBSP}h{NNBSP}{local.minute:02d}"
        return f"{local.hour:02d}:{local.minute:02d}"

    def datetime(self, instant: Instant) -> str:
        """« 24/04/2026 18 h 00 » / "24 Apr 2026 18:00"."""
        return f"{self.date(instant)} {self.time(instant)}"

    def duration(self, seconds: float | timedelta | None) -> str:
        """« 13 min 07 s », « 2 h 05 min », « 45 s »: what a stopwatch would say."""
        if seconds is None:
            return "–"
        total = seconds.total_seconds() if isinstance(seconds, timedelta) else float(seconds)
        if not math.isfinite(total) or total < 0:
            return "–"
        whole = round(total)
        hours, rest = divmod(whole, 3600)
        mins, secs = divmod(rest, 60)
        if hours:
            return f"{hours}{NNBSP}h{NNBSP}{mins:02d}{NNBSP}min"
        if mins:
            return f"{mins}{NNBSP}min{NNBSP}{secs:02d}{NNBSP}s"
        return f"{secs}{NNBSP}s"

    def days(self, value: float | None, digits: int = 1) -> str:
        """A delay in (business) days: « 3,5 j » / "3.5 d"."""
        if value is None or not math.isfinite(value):
            return "–"
        unit = "j" if self.french else "d"
        return f"{self.number(value, digits)}{NNBSP}{unit}"
