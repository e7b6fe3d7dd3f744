"""How an export's values are written for its readers: a spreadsheet, or a script.

Two profiles (``PROFILES``):

- ``excel`` (the default when the locale is ``fr``): what French Excel opens with a
  double-click. CSV: ``;`` between fields, UTF-8 with a byte-order mark (Excel otherwise
  reads UTF-8 as Windows-1252: « dÃ©chets »), headers from the catalogue
  (``report.header.*``, « Envoyé le »), channels as words (« Courriel »), booleans « oui » /
  « non », dates ``JJ/MM/AAAA HH:MM`` at the Paris wall clock (Excel reads them as dates),
  decimal commas, numbers rounded for reading (seconds to the second, scores and delays to
  a tenth, rates as percentages to a tenth). In English: ``,``, decimal points, « yes » /
  « no », ``DD/MM/YYYY HH:MM``. XLSX: the same headers; the values stay Excel numbers and
  dates, only shown through number formats.
- ``raw``: for scripts. ``,``, UTF-8 without BOM, snake_case headers, codes, ISO 8601
  instants with their offset, ``true``/``false``, full-precision floats (``repr``).

``column_format`` gives the way one column is shown: the CSV text converter of the excel
profile and the XLSX number format. Conversions are chosen once per column, so a row costs
one call per converted value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from scenarios.i18n import Translator

__all__ = [
    "PROFILES",
    "Profile",
    "Shown",
    "column_format",
    "converters",
    "default_profile",
    "float_fields",
    "header",
    "local_text",
    "local_texts",
    "sheet_title",
]

PARIS: Final = ZoneInfo("Europe/Paris")
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_HOUR_US: Final = 3_600_000_000


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    readable: bool  # headers, labels and local formats for a person (excel)

    def delimiter(self, locale: str) -> str:
        # French Excel splits on its list separator, ";" (the comma is the decimal mark)
        return ";" if self.readable and locale == "fr" else ","

    def encoding(self) -> str:
        return "utf-8-sig" if self.readable else "utf-8"


PROFILES: Final[dict[str, Profile]] = {
    "excel": Profile("excel", readable=True),
    "raw": Profile("raw", readable=False),
}


def default_profile(locale: str) -> str:
    """``excel`` for French readers, ``raw`` otherwise."""
    return "excel" if locale == "fr" else "raw"


# --------------------------------------------------------------------------- headers

_STATS: Final = ("median", "p75", "p90", "km_median_low", "km_median_high", "km_median")


def header(name: str, t: Translator, level: str = "stats") -> str:
    """The column's short heading in the reader's language (``report.header.*``; at the
    contact level ``report.header.contact.*`` first, where a count is a flag)."""
    if level == "contacts" and t.has(f"report.header.contact.{name}"):
        return t(f"report.header.contact.{name}")
    if name.startswith(("previous_", "change_")) and t.has(f"report.evolution.header.{name}"):
        return t(f"report.evolution.header.{name}")
    key = f"report.header.{name}"
    if t.has(key):
        return t(key)
    for suffix in ("_low", "_high"):
        if name.endswith(f"_rate{suffix}"):
            base = header(name.removesuffix(suffix), t)
            return t(f"report.header.bound{suffix}", column=base)
    for metric in ("answer", "ack"):
        for unit in ("hours", "bdays"):
            stem = f"{metric}_{unit}_"
            if name.startswith(stem) and name.removeprefix(stem) in _STATS:
                return t(
                    "report.header.delay",
                    metric=t(f"report.header.metric.{metric}"),
                    stat=t(f"report.header.stat.{name.removeprefix(stem)}"),
                    unit=t(f"report.header.unit.{unit}"),
                )
    if name.startswith("score_"):
        return t("report.header.score_channel", channel=t(f"channel.{name.removeprefix('score_')}"))
    raise KeyError(f"no header for column {name!r}")


# --------------------------------------------------------------------------- values

_STATUSES: Final = [
    "planned",
    "sending",
    "sent",
    "acknowledged",
    "answered",
    "undeliverable",
    "printed",
    "posted",
    "assigned",
    "in_progress",
    "done",
    "failed",
    "cancelled",
    "closed",
]


def _labels(name: str, t: Translator) -> dict[str, str] | None:
    """Codes as words: channels and contact states from the catalogue, service kinds from
    ``scenarios.service_kinds`` (French labels; codes kept in English)."""
    if name == "channel":
        return {key: t(f"channel.{key}") for key in ("email", "letter", "phone", "visit")}
    if name == "status":
        return {key: t(f"cli.status.{key}") for key in _STATUSES if t.has(f"cli.status.{key}")}
    if name == "service_kind" and t.locale == "fr":
        from scenarios.service_kinds import SERVICE_KINDS

        return {kind.code: kind.label_fr for kind in SERVICE_KINDS}
    return None


_LOCAL: dict[int, str] = {}
_MM: Final = tuple(f"{m:02d}" for m in range(60))


def _hour(hour: int) -> str:
    """``DD/MM/YYYY HH:`` of UTC hour ``hour`` in Paris; ``""`` when Paris's offset then
    was not a whole number of hours (before 1911), where only zoneinfo will do."""
    local = (_EPOCH + timedelta(microseconds=hour * _HOUR_US)).astimezone(PARIS)
    offset = local.utcoffset()
    whole = offset is not None and offset.total_seconds() % 3600 == 0
    if len(_LOCAL) > 200_000:
        _LOCAL.clear()
    prefix = _LOCAL[hour] = local.strftime("%d/%m/%Y %H:") if whole else ""
    return prefix


def local_text(us: int) -> str:
    """The instant ``us`` (µs since the epoch, UTC) at the Paris wall clock, to the minute:
    ``02/03/2026 10:15``. Cached per UTC hour: Paris changes its offset on whole hours."""
    hour, rest = divmod(us, _HOUR_US)
    prefix = _LOCAL.get(hour)
    if prefix is None:
        prefix = _hour(hour)
    if prefix:
        return prefix + _MM[rest // 60_000_000]
    return (_EPOCH + timedelta(microseconds=us)).astimezone(PARIS).strftime("%d/%m/%Y %H:%M")


# Texts of the UTC minutes already seen (whole-hour offsets only), ``_SEEN_MINUTES`` at most.
_MINUTES: dict[int, str] = {}
_SEEN_MINUTES: Final = 200_000


def local_texts(values: Sequence[int | None]) -> list[str]:
    """``local_text`` of every instant of a column, ``""`` for ``None``."""
    seen = _MINUTES
    # instants of a minute already seen: one lookup per value; the others after
    texts: list[str | None] = ["" if us is None else seen.get(us // 60_000_000) for us in values]
    if None in texts:
        if len(seen) > _SEEN_MINUTES:
            seen.clear()
        for index, text in enumerate(texts):
            if text is None:
                us: int = values[index]  # type: ignore[assignment]
                text = texts[index] = local_text(us)
                # a whole-hour offset: the same text for the whole UTC minute
                if _LOCAL.get(us // _HOUR_US):
                    seen[us // 60_000_000] = text
    return texts  # type: ignore[return-value]


def _instant_text(value: int | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = (value - _EPOCH) // timedelta(microseconds=1)
    return local_text(value)


def _digits(name: str) -> tuple[int, float]:
    """(decimals, factor) for a float column shown to a person."""
    if name.endswith(("rate", "rate_low", "rate_high")):
        return 1, 100.0  # percentage points
    if "seconds" in name:
        return 0, 1.0
    return 1, 1.0  # scores on 100, hours, business days, means


def _float_text(spec: str, factor: float, comma: bool) -> Callable[[Any], str]:
    def text(value: float | None) -> str:
        if value is None:
            return ""
        shown = format(value * factor, spec)
        return shown.replace(".", ",") if comma else shown

    return text


def float_fields(name: str, t: Translator) -> Callable[[Sequence[Any]], list[str]]:
    """``column_format(name, "float", t).text`` of every value of a column at once (the
    excel CSV): one format per value, the decimal commas of the whole column put in by
    one replace (the texts hold no newline)."""
    decimals, factor = _digits(name)
    spec = f".{decimals}f"
    comma = t.locale == "fr"

    def fields(values: Sequence[Any]) -> list[str]:
        texts = ["" if v is None else format(v * factor, spec) for v in values]
        if comma and texts:
            return "\n".join(texts).replace(".", ",").split("\n")
        return texts

    return fields


@dataclass(frozen=True, slots=True)
class Shown:
    """How one column is shown: ``text`` for the excel CSV (``None``: written as it is),
    ``number_format`` for XLSX (``None``: Excel's general format)."""

    text: Callable[[Any], str] | None
    number_format: str | None
    width: float


def column_format(name: str, kind: str, t: Translator) -> Shown:
    """The excel profile's rendering of column ``name`` of ``kind`` (module docstring)."""
    french = t.locale == "fr"
    width = max(10.0, min(40.0, len(header(name, t)) * 0.9 + 2))
    if kind == "bool":
        yes, no = t("report.value.yes"), t("report.value.no")
        return Shown(lambda v: "" if v is None else yes if v else no, None, width)
    if kind == "datetime":
        return Shown(_instant_text, "dd/mm/yyyy hh:mm", max(width, 17.0))
    if kind == "float":
        decimals, factor = _digits(name)
        text = _float_text(f".{decimals}f", factor, french)
        if factor != 1.0:
            # a change of a rate reads as signed percentage points
            signed = name.startswith("change_")
            return Shown(text, "+0.0%;-0.0%;0.0%" if signed else "0.0%", width)
        return Shown(text, "#,##0" if decimals == 0 else "#,##0.0", width)
    if kind == "int":
        return Shown(None, "0" if name.endswith("_id") else "#,##0", width)
    if name == "grouping":
        names: dict[str, str] = {}

        def grouping(value: str) -> str:
            text = names.get(value)
            if text is None:
                keys = value.split(",") if value != "overall" else []
                text = names[value] = " + ".join(header(k, t) for k in keys) or t(
                    "report.header.overall"
                )
            return text

        return Shown(grouping, None, 24.0)
    labels = _labels(name, t)
    if labels is not None:
        return Shown(lambda v: labels.get(v, v), None, max(width, 16.0))
    wide = name.endswith("_name") or name in ("criteria_missed", "content_found", "content_missing")
    return Shown(None, None, max(width, 30.0 if wide else 14.0))


def sheet_title(by: Sequence[str], t: Translator, readable: bool) -> str:
    """A stats sheet's title: its grouping keys (headings for a person), at most 31
    characters, as Excel allows."""
    if not readable:
        return ("+".join(by) or "overall")[:31]
    return (" + ".join(header(k, t) for k in by) or t("report.header.overall"))[:31]


def converters(
    columns: Sequence[tuple[str, str]], t: Translator
) -> list[tuple[int, Callable[[Any], str]]]:
    """(index, text converter) of every column the excel CSV rewrites."""
    out = []
    for index, (name, kind) in enumerate(columns):
        shown = column_format(name, kind, t)
        if shown.text is not None:
            out.append((index, shown.text))
    return out
