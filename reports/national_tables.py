"""The national barometer's tables: its figures as text, in the reader's language.

``Words`` joins the catalogue and ``scenarios.formatting.Formats``; the functions here turn
``Cell`` values into the rows ``reports.render_national`` hands to its template: results per
channel, service kind and collectivity kind (communes by size, then EPCI, départements and
régions as their own kinds), criteria met (pooled per channel, least met first), phone and
visit details, and the evolution since a previous campaign. Empty text where a cell has
nothing of that kind (no written request, no call, no visit).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from reports.aggregate import TIMING_PICKUP, WRITTEN
from reports.cells import CHANNELS, Cell
from reports.intervals import Proportion, proportion
from reports.personal_findings import finding_label
from reports.strata import stratum_labels
from scenarios.catalog import Catalog
from scenarios.formatting import Formats
from scenarios.i18n import Translator
from scenarios.typography import french

__all__ = [
    "KINDS",
    "Cells",
    "Words",
    "code_label",
    "criteria_rows",
    "evolution_blocks",
    "kind_rows",
    "km_median",
    "phone_rows",
    "row",
    "visit_rows",
]

KINDS: Final = ("commune", "epci", "departement", "region")

Cells = dict[str, list[Cell]]
_KIND_ORDER: Final = {kind: i for i, kind in enumerate(KINDS)}


@dataclass(frozen=True, slots=True)
class Words:
    """The catalogue and the formats of one reader."""

    t: Translator
    f: Formats

    def pct(self, p: Proportion | float | None) -> str:
        return self.f.percent(p.rate if isinstance(p, Proportion) else p)

    def interval(self, p: Proportion) -> str:
        if p.low is None or p.high is None:
            return self.t("report.not_available")
        return self.t("report.interval", low=self.f.percent(p.low), high=self.f.percent(p.high))

    def score(self, value: float | None) -> str:
        return self.f.number(value, 1) if value is not None else self.t("report.not_available")

    def days(self, value: float | None) -> str:
        """A median delay: « 3 » (whole days, as Kaplan–Meier medians of whole days are),
        « 2,5 », or « non atteint »."""
        if value is None:
            return self.t("national.not_reached")
        return self.f.number(value, 0 if float(value).is_integer() else 1)

    def number(self, value: float | None) -> str:
        return self.f.number(value, 1) if value is not None else self.t("report.not_available")

    def text(self, value: str) -> str:
        """Prose from elsewhere (a service kind label): French typography in French."""
        return french(value) if self.f.french else value


def km_median(cell: Cell) -> float | None:
    return cell.answer_bdays.km.median if cell.written_delivered else None


def row(cell: Cell, label: str, w: Words, *, sub: bool = False) -> dict[str, Any]:
    """One line of a results table: the figures of ``cell`` as text ('' where the cell has
    nothing of that kind: no written request, no call, no visit)."""
    written = cell.written_delivered > 0
    return {
        "label": label,
        "sub": sub,
        "contacts": w.f.number(cell.delivered),
        "response": w.pct(cell.response) if written else "",
        "interval": w.interval(cell.response) if written else "",
        "within": w.pct(cell.answered_within_target) if written else "",
        "km": w.days(km_median(cell)) if written else "",
        "pickup": w.pct(cell.phone.picked_up) if cell.phone.calls else "",
        "waiting": w.f.duration(cell.visit.waiting_seconds_median) if cell.visit.visits else "",
        "score": w.score(cell.score),
        "small": cell.small,
    }


def size_label(stratum: str | None, bounds: Sequence[int], w: Words) -> str:
    labels = stratum_labels(bounds)
    if stratum not in labels:
        return w.t("report.not_available")
    index = labels.index(stratum)
    if index == 0:
        return w.t("national.size_below", n=w.f.number(bounds[0]))
    if index == len(bounds):
        return w.t("national.size_above", n=w.f.number(bounds[-1]))
    return w.t(
        "national.size_between", low=w.f.number(bounds[index - 1]), high=w.f.number(bounds[index])
    )


def code_label(w: Words, prefix: str, code: str | None) -> str:
    key = f"{prefix}.{code}"
    return w.t(key) if code is not None and w.t.has(key) else w.text(code or "–")


def kind_rows(cells: Cells, bounds: Sequence[int], w: Words) -> list[dict[str, Any]]:
    """Each collectivity kind, communes first with one line per size under them."""
    rows: list[dict[str, Any]] = []
    for cell in sorted(
        cells["kind"],
        key=lambda c: (
            _KIND_ORDER.get(c.key("collectivity_kind") or "", 9),
            c.key("collectivity_kind") or "",
        ),
    ):
        kind = cell.key("collectivity_kind")
        rows.append(row(cell, code_label(w, "national.kind", kind), w))
        if kind == "commune":
            for sub in cells["kind_stratum"]:
                if sub.key("collectivity_kind") == "commune":
                    rows.append(row(sub, size_label(sub.key("stratum"), bounds, w), w, sub=True))
    return rows


# --------------------------------------------------------------------------- criteria


def criteria_rows(cell: Cell, catalog: Catalog, w: Words, min_cell: int) -> list[dict[str, str]]:
    """The criteria of one channel's cell, pooled: each named as the practice it looks for
    (``reports.personal_findings.finding_label``, as the personal report names them), the
    criteria of several scenarios with the same name counted together, and the expected
    elements of every scenario's answers as one line."""
    pools: dict[str, list[int]] = {}
    for criterion in cell.criteria:
        cid = criterion.criterion_id
        scenario_id, _, rest = cid.partition(".")
        if rest.startswith("content."):
            label = w.t("national.content_pooled")
        else:
            label = finding_label(cid, catalog.scenarios.get(scenario_id), w.t, w.f)
        counts = pools.setdefault(label, [0, 0])
        counts[0] += criterion.met.n
        counts[1] += criterion.met.successes
    rows = []
    for label, (assessed, met) in pools.items():
        share = proportion(met, assessed)
        rows.append((share.rate if share.rate is not None else 2.0, label, assessed, share))
    rows.sort(key=lambda r: (r[0], r[1]))
    return [
        {
            "label": w.text(label),
            "assessed": w.f.number(assessed),
            "met": w.pct(share),
            "small": w.t("national.small") if assessed < min_cell else "",
        }
        for _rate, label, assessed, share in rows
    ]


def _criterion_rate(cell: Cell, cid: str) -> Proportion | None:
    for criterion in cell.criteria:
        if criterion.criterion_id == cid:
            return criterion.met
    return None


def phone_rows(cell: Cell, w: Words) -> list[tuple[str, str]]:
    phone = cell.phone
    before = _criterion_rate(cell, TIMING_PICKUP)
    rings = phone.rings_median
    return [
        (w.t("national.calls"), w.f.number(phone.calls)),
        (w.t("national.picked_up"), f"{w.pct(phone.picked_up)} {w.interval(phone.picked_up)}"),
        (w.t("national.before_5th_ring"), w.pct(before) if before else w.t("report.not_available")),
        (w.t("national.rings_median"), w.f.number(rings, 1) if rings is not None else "–"),
        (w.t("national.pickup_delay"), w.f.duration(phone.seconds_to_pickup_median)),
        (
            w.t("national.transfers_mean"),
            w.f.number(phone.transfers_mean, 1) if phone.transfers_mean is not None else "–",
        ),
        (w.t("national.hold_median"), w.f.duration(phone.hold_seconds_median)),
    ]


def visit_rows(cell: Cell, w: Words) -> list[tuple[str, str]]:
    visit = cell.visit
    return [
        (w.t("national.visits"), w.f.number(visit.visits)),
        (w.t("report.waiting_median"), w.f.duration(visit.waiting_seconds_median)),
        (w.t("national.waiting_p90"), w.f.duration(visit.waiting_seconds_p90)),
        (w.t("national.service_median"), w.f.duration(visit.service_seconds_median)),
    ]


# --------------------------------------------------------------------------- evolution

Metric = tuple[str, Callable[[Cell], float | None], str]  # label key, value, kind of value


def _signed(value: float, text: Callable[[float], str]) -> str:
    if value == 0:
        return "±" + text(0.0)
    return ("+" if value > 0 else "−") + text(abs(value))


def _evolution_line(
    label: str, now: Cell, before: Cell | None, metric: Metric, w: Words
) -> dict[str, str]:
    key, get, kind = metric
    new = get(now)
    old = get(before) if before is not None else None
    change = None if new is None or old is None else new - old
    show: Callable[[float | None], str]
    if kind == "rate":
        show, delta = w.f.percent, w.f.points(change)
    elif kind == "score":
        show, delta = w.score, w.f.points(None if change is None else change / 100.0)
    else:
        show, unit = {
            "days": (w.days, w.f.days),
            "number": (w.number, w.number),
            "seconds": (w.f.duration, w.f.duration),
        }[kind]
        delta = "–" if change is None else _signed(change, unit)
    return {
        "label": f"{label} – {w.t(key)}",
        "before": show(old) if before is not None else w.t("report.not_available"),
        "now": show(new),
        "change": delta,
    }


_SCORE: Final[Metric] = ("report.score", lambda c: c.score, "score")
_BY_CHANNEL: Final[dict[str | None, tuple[Metric, ...]]] = {
    None: (_SCORE, ("report.response_rate", lambda c: c.response.rate, "rate")),
    "email": (
        _SCORE,
        ("report.response_rate", lambda c: c.response.rate, "rate"),
        ("report.within_target", lambda c: c.answered_within_target.rate, "rate"),
        ("report.km_median", km_median, "days"),
    ),
    "phone": (
        _SCORE,
        ("report.pickup_rate", lambda c: c.phone.picked_up.rate, "rate"),
        ("national.rings_median", lambda c: c.phone.rings_median, "number"),
    ),
    "visit": (
        _SCORE,
        ("report.waiting_median", lambda c: c.visit.waiting_seconds_median, "seconds"),
    ),
}


def evolution_blocks(now: Cells, before: Cells, w: Words) -> list[dict[str, Any]]:
    """Blocks of (label, before, now, change): overall and each channel with its own
    figures, then the score of every collectivity kind and service kind."""

    def index(cells: list[Cell], key: str | None) -> dict[str | None, Cell]:
        return {c.key(key) if key else None: c for c in cells}

    blocks: list[dict[str, Any]] = []
    overall_now, overall_before = index(now["overall"], None), index(before["overall"], None)
    channels_now, channels_before = (
        index(now["channel"], "channel"),
        index(before["channel"], "channel"),
    )
    rows = []
    for cell in overall_now.values():
        for metric in _BY_CHANNEL[None]:
            rows.append(
                _evolution_line(w.t("report.overall"), cell, overall_before.get(None), metric, w)
            )
    for channel in CHANNELS:
        found = channels_now.get(channel)
        if found is None:
            continue
        metrics = _BY_CHANNEL["email" if channel in WRITTEN else channel]
        for metric in metrics:
            rows.append(
                _evolution_line(
                    w.t(f"channel.{channel}"), found, channels_before.get(channel), metric, w
                )
            )
    blocks.append({"title": w.t("national.channels_title"), "rows": rows})
    for name, key, prefix, title in (
        ("kind", "collectivity_kind", "national.kind", "national.kinds_title"),
        ("service_kind", "service_kind", "national.service_kind", "national.service_kinds_title"),
    ):
        old = index(before[name], key)
        current = index(now[name], key)
        lines = [
            _evolution_line(code_label(w, prefix, code), current[code], old.get(code), _SCORE, w)
            for code in sorted(current, key=lambda c: (_KIND_ORDER.get(c or "", 9), c or ""))
        ]
        blocks.append({"title": w.t(title), "rows": lines})
    return blocks
