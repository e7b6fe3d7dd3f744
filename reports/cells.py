"""Barometer cells as values: the figures of one group and their flat export row.

``reports.aggregate`` builds them; everything here is plain data. Rates are fractions in
[0, 1], scores are out of 100, delays are calendar hours or business days, phone and visit
durations are seconds. ``None`` means "no data" (or "not reached" for a KM median limit).

Row columns (``Cell.to_row()``; stable order, ``COLUMNS``)
----------------------------------------------------------
keys: ``channel scenario service_kind collectivity collectivity_name collectivity_kind
stratum departement region`` (``None`` for keys not grouped on; ``collectivity_name``
only when grouped by collectivity) · counts: ``planned sent undeliverable delivered
written_delivered pending`` · ``answered response_rate response_rate_low
response_rate_high`` · ``acknowledged ack_rate ack_rate_low ack_rate_high`` ·
``answered_within_target answered_within_target_n answered_within_target_rate _low _high``
and the same for ``acknowledged_within_target`` · for ``answer`` and ``ack``:
``<m>_censored`` then for unit ``hours`` and ``bdays``: ``<m>_<u>_median _p75 _p90
_km_median _km_median_low _km_median_high`` · phone: ``phone_calls phone_picked_up
phone_pickup_rate _low _high phone_rings_median phone_seconds_to_pickup_median
phone_transfers_mean phone_hold_seconds_median`` · visit: ``visits
visit_waiting_seconds_median visit_waiting_seconds_p90 visit_service_seconds_median`` ·
``score_email score_letter score_phone score_visit score small rank``.

Per-criterion rows (``Cell.criterion_rows()``): the key columns, then ``criterion_id
assessed met rate rate_low rate_high``.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Final

from reports.intervals import Proportion
from reports.survival import KaplanMeier, MedianEstimate, kaplan_meier

__all__ = [
    "CHANNELS",
    "COLUMNS",
    "GROUP_KEYS",
    "Cell",
    "CriterionSummary",
    "DelaySummary",
    "PhoneSummary",
    "RowValue",
    "VisitSummary",
]

RowValue = str | int | float | bool | None

CHANNELS: Final = ("email", "letter", "phone", "visit")
GROUP_KEYS: Final = (
    "channel",
    "scenario",
    "service_kind",
    "collectivity",
    "collectivity_kind",
    "stratum",
    "departement",
    "region",
)


def _delay_columns() -> list[str]:
    out: list[str] = []
    for metric in ("answer", "ack"):
        out.append(f"{metric}_censored")
        for unit in ("hours", "bdays"):
            stem = f"{metric}_{unit}"
            out += [f"{stem}_median", f"{stem}_p75", f"{stem}_p90"]
            out += [f"{stem}_km_median", f"{stem}_km_median_low", f"{stem}_km_median_high"]
    return out


def _prop_columns(count: str, rate: str, with_n: bool) -> list[str]:
    return [count, *([f"{count}_n"] if with_n else []), rate, f"{rate}_low", f"{rate}_high"]


COLUMNS: Final[tuple[str, ...]] = (
    "channel",
    "scenario",
    "service_kind",
    "collectivity",
    "collectivity_name",
    "collectivity_kind",
    "stratum",
    "departement",
    "region",
    "planned",
    "sent",
    "undeliverable",
    "delivered",
    "written_delivered",
    "pending",
    *_prop_columns("answered", "response_rate", False),
    *_prop_columns("acknowledged", "ack_rate", False),
    *_prop_columns("answered_within_target", "answered_within_target_rate", True),
    *_prop_columns("acknowledged_within_target", "acknowledged_within_target_rate", True),
    *_delay_columns(),
    "phone_calls",
    *_prop_columns("phone_picked_up", "phone_pickup_rate", False),
    "phone_rings_median",
    "phone_seconds_to_pickup_median",
    "phone_transfers_mean",
    "phone_hold_seconds_median",
    "visits",
    "visit_waiting_seconds_median",
    "visit_waiting_seconds_p90",
    "visit_service_seconds_median",
    *(f"score_{c}" for c in CHANNELS),
    "score",
    "small",
    "rank",
)


@dataclass(frozen=True, slots=True)
class DelaySummary:
    """Delays of one kind in one unit: observed quantiles and the KM median."""

    observed: int
    censored: int
    median: float | None
    p75: float | None
    p90: float | None
    km: MedianEstimate
    event_times: array[float] = field(compare=False, repr=False)
    censored_times: array[float] = field(compare=False, repr=False)

    def kaplan_meier(self, confidence: float = 0.95) -> KaplanMeier:
        """The whole curve (for charts) from the kept samples."""
        return kaplan_meier(self.event_times, self.censored_times, confidence=confidence)


@dataclass(frozen=True, slots=True)
class PhoneSummary:
    calls: int
    picked_up: Proportion
    rings_median: float | None
    seconds_to_pickup_median: float | None
    transfers_mean: float | None
    hold_seconds_median: float | None


@dataclass(frozen=True, slots=True)
class VisitSummary:
    visits: int
    waiting_seconds_median: float | None
    waiting_seconds_p90: float | None
    service_seconds_median: float | None


@dataclass(frozen=True, slots=True)
class CriterionSummary:
    criterion_id: str
    met: Proportion  # successes = met, n = assessed


@dataclass(frozen=True, slots=True)
class Cell:
    keys: tuple[tuple[str, str | None], ...]
    collectivity_name: str | None
    planned: int
    sent: int
    undeliverable: int
    delivered: int
    written_delivered: int
    pending: int
    response: Proportion
    acknowledgement: Proportion
    answered_within_target: Proportion
    acknowledged_within_target: Proportion
    answer_hours: DelaySummary
    answer_bdays: DelaySummary
    ack_hours: DelaySummary
    ack_bdays: DelaySummary
    phone: PhoneSummary
    visit: VisitSummary
    criteria: tuple[CriterionSummary, ...]
    channel_scores: tuple[tuple[str, float | None], ...]
    score: float | None
    small: bool
    rank: int | None = None

    def key(self, name: str) -> str | None:
        """The cell's value for grouping key ``name`` (``None`` if not grouped on it)."""
        return dict(self.keys).get(name)

    def channel_score(self, channel: str) -> float | None:
        return dict(self.channel_scores).get(channel)

    def _key_row(self) -> dict[str, RowValue]:
        keys = dict(self.keys)
        row: dict[str, RowValue] = {}
        for name in GROUP_KEYS:
            row[name] = keys.get(name)
            if name == "collectivity":
                row["collectivity_name"] = self.collectivity_name
        return row

    def to_row(self) -> dict[str, RowValue]:
        """Flat plain values under the documented ``COLUMNS`` names, in that order."""
        row = self._key_row()
        row.update(
            planned=self.planned,
            sent=self.sent,
            undeliverable=self.undeliverable,
            delivered=self.delivered,
            written_delivered=self.written_delivered,
            pending=self.pending,
        )
        _put_prop(row, "answered", "response_rate", self.response, False)
        _put_prop(row, "acknowledged", "ack_rate", self.acknowledgement, False)
        _put_prop(
            row,
            "answered_within_target",
            "answered_within_target_rate",
            self.answered_within_target,
            True,
        )
        _put_prop(
            row,
            "acknowledged_within_target",
            "acknowledged_within_target_rate",
            self.acknowledged_within_target,
            True,
        )
        for metric, hours, bdays in (
            ("answer", self.answer_hours, self.answer_bdays),
            ("ack", self.ack_hours, self.ack_bdays),
        ):
            row[f"{metric}_censored"] = hours.censored
            for unit, summary in (("hours", hours), ("bdays", bdays)):
                stem = f"{metric}_{unit}"
                row[f"{stem}_median"] = summary.median
                row[f"{stem}_p75"] = summary.p75
                row[f"{stem}_p90"] = summary.p90
                row[f"{stem}_km_median"] = summary.km.median
                row[f"{stem}_km_median_low"] = summary.km.low
                row[f"{stem}_km_median_high"] = summary.km.high
        row["phone_calls"] = self.phone.calls
        _put_prop(row, "phone_picked_up", "phone_pickup_rate", self.phone.picked_up, False)
        row["phone_rings_median"] = self.phone.rings_median
        row["phone_seconds_to_pickup_median"] = self.phone.seconds_to_pickup_median
        row["phone_transfers_mean"] = self.phone.transfers_mean
        row["phone_hold_seconds_median"] = self.phone.hold_seconds_median
        row["visits"] = self.visit.visits
        row["visit_waiting_seconds_median"] = self.visit.waiting_seconds_median
        row["visit_waiting_seconds_p90"] = self.visit.waiting_seconds_p90
        row["visit_service_seconds_median"] = self.visit.service_seconds_median
        scores = dict(self.channel_scores)
        for channel in CHANNELS:
            row[f"score_{channel}"] = scores.get(channel)
        row["score"] = self.score
        row["small"] = self.small
        row["rank"] = self.rank
        return row

    def criterion_rows(self) -> list[dict[str, RowValue]]:
        """One row per criterion (grid and timing): the key columns, then ``criterion_id
        assessed met rate rate_low rate_high``."""
        rows: list[dict[str, RowValue]] = []
        for criterion in self.criteria:
            row = self._key_row()
            p = criterion.met
            row.update(
                criterion_id=criterion.criterion_id,
                assessed=p.n,
                met=p.successes,
                rate=p.rate,
                rate_low=p.low,
                rate_high=p.high,
            )
            rows.append(row)
        return rows


def _put_prop(row: dict[str, RowValue], count: str, rate: str, p: Proportion, with_n: bool) -> None:
    row[count] = p.successes
    if with_n:
        row[f"{count}_n"] = p.n
    row[rate] = p.rate
    row[f"{rate}_low"] = p.low
    row[f"{rate}_high"] = p.high
