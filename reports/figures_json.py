"""A campaign's figures (``reports.barometer.CampaignFigures``) as JSON, and back, bit for bit.

The portal keeps a closed campaign's national and peer figures in the database
(``reports.figures_store``) so that no page, web worker or restarted server reads the whole
campaign again. They are kept as JSON (never pickle: the database is not trusted to hold
code), every float written with ``repr`` (which Python reads back to the same bits) and every
sample of delays as the base64 of its little-endian IEEE 754 doubles (compact, exact, and a
hundred times faster to read than a JSON list of numbers). What is kept:

- the national cells (overall and per channel), with their delay samples (the national
  answer curve is drawn from them);
- who contributes to each figure (``reports.peers``) and each peer group's collectivity codes;
- each peer group's running totals (``reports.aggregate.Aggregator``, overall and per
  channel): a collectivity's peers are its group's totals without its own contacts, worked
  out when its page is asked.

``decode(encode(figures))`` gives figures whose every number, sample and cell equals the
original's (tests/web/test_stored_figures.py); ``FORMAT`` changes with this layout.
"""

from __future__ import annotations

import base64
import json
import sys
import zlib
from array import array
from datetime import datetime
from typing import Any, Final

from reports.aggregate import _Acc
from reports.barometer import CampaignFigures, Groupings, groupings
from reports.cells import (
    Cell,
    CriterionSummary,
    DelaySummary,
    PhoneSummary,
    VisitSummary,
)
from reports.intervals import Proportion
from reports.survival import MedianEstimate

__all__ = ["FORMAT", "decode", "encode"]

FORMAT: Final = 1
_LITTLE: Final = sys.byteorder == "little"

Json = Any


def _samples(values: array[float]) -> str:
    if not _LITTLE:  # pragma: no cover - every machine we run on is little-endian
        values = array("d", values)
        values.byteswap()
    return base64.b64encode(values.tobytes()).decode("ascii")


def _read_samples(text: str) -> array[float]:
    values = array("d")
    values.frombytes(base64.b64decode(text, validate=True))
    if not _LITTLE:  # pragma: no cover
        values.byteswap()
    return values


def _prop(p: Proportion) -> Json:
    return [p.successes, p.n, p.rate, p.low, p.high]


def _read_prop(v: Json) -> Proportion:
    successes, n, rate, low, high = v
    return Proportion(successes, n, rate, low, high)


def _delay(d: DelaySummary) -> Json:
    return [
        d.observed, d.censored, d.median, d.p75, d.p90, [d.km.median, d.km.low, d.km.high],
        _samples(d.event_times), _samples(d.censored_times),
    ]  # fmt: skip


def _read_delay(v: Json) -> DelaySummary:
    observed, censored, median, p75, p90, km, events, censored_times = v
    return DelaySummary(
        observed, censored, median, p75, p90, MedianEstimate(*km),
        _read_samples(events), _read_samples(censored_times),
    )  # fmt: skip


def _cell(c: Cell) -> Json:
    return {
        "keys": [list(pair) for pair in c.keys],
        "collectivity_name": c.collectivity_name,
        "counts": [c.planned, c.sent, c.undeliverable, c.delivered, c.written_delivered, c.pending],
        "response": _prop(c.response),
        "acknowledgement": _prop(c.acknowledgement),
        "answered_within_target": _prop(c.answered_within_target),
        "acknowledged_within_target": _prop(c.acknowledged_within_target),
        "answer_hours": _delay(c.answer_hours),
        "answer_bdays": _delay(c.answer_bdays),
        "ack_hours": _delay(c.ack_hours),
        "ack_bdays": _delay(c.ack_bdays),
        "phone": [
            c.phone.calls,
            _prop(c.phone.picked_up),
            c.phone.rings_median,
            c.phone.seconds_to_pickup_median,
            c.phone.transfers_mean,
            c.phone.hold_seconds_median,
        ],
        "visit": [
            c.visit.visits,
            c.visit.waiting_seconds_median,
            c.visit.waiting_seconds_p90,
            c.visit.service_seconds_median,
        ],
        "criteria": [[k.criterion_id, _prop(k.met)] for k in c.criteria],
        "channel_scores": [list(pair) for pair in c.channel_scores],
        "score": c.score,
        "small": c.small,
        "rank": c.rank,
    }


def _read_cell(v: Json) -> Cell:
    calls, picked_up, rings, pickup, transfers, hold = v["phone"]
    planned, sent, undeliverable, delivered, written_delivered, pending = v["counts"]
    return Cell(
        keys=tuple((name, value) for name, value in v["keys"]),
        collectivity_name=v["collectivity_name"],
        planned=planned,
        sent=sent,
        undeliverable=undeliverable,
        delivered=delivered,
        written_delivered=written_delivered,
        pending=pending,
        response=_read_prop(v["response"]),
        acknowledgement=_read_prop(v["acknowledgement"]),
        answered_within_target=_read_prop(v["answered_within_target"]),
        acknowledged_within_target=_read_prop(v["acknowledged_within_target"]),
        answer_hours=_read_delay(v["answer_hours"]),
        answer_bdays=_read_delay(v["answer_bdays"]),
        ack_hours=_read_delay(v["ack_hours"]),
        ack_bdays=_read_delay(v["ack_bdays"]),
        phone=PhoneSummary(calls, _read_prop(picked_up), rings, pickup, transfers, hold),
        visit=VisitSummary(*v["visit"]),
        criteria=tuple(CriterionSummary(cid, _read_prop(met)) for cid, met in v["criteria"]),
        channel_scores=tuple((channel, score) for channel, score in v["channel_scores"]),
        score=v["score"],
        small=v["small"],
        rank=v["rank"],
    )


def _acc(acc: _Acc) -> Json:
    out: dict[str, Json] = {}
    for name in _Acc.__slots__:
        value = getattr(acc, name)
        out[name] = _samples(value) if isinstance(value, array) else value
    return out


def _read_acc(v: Json) -> _Acc:
    acc = _Acc(v["collectivity_name"])
    for name in _Acc.__slots__:
        value = getattr(acc, name)
        if isinstance(value, array):
            setattr(acc, name, _read_samples(v[name]))
        elif name != "collectivity_name":
            setattr(acc, name, v[name])
    return acc


def _aggs(aggs: Groupings) -> Json:
    return {
        name: [[list(key), _acc(acc)] for key, acc in agg._cells.items()]
        for name, agg in aggs.items()
    }


def _read_aggs(v: Json, min_cell: int, strata: tuple[int, ...]) -> Groupings:
    aggs = groupings(min_cell, strata)
    if set(v) != set(aggs):
        raise ValueError(f"stored groupings {sorted(v)} differ from {sorted(aggs)}")
    for name, agg in aggs.items():
        agg._cells = {tuple(key): _read_acc(acc) for key, acc in v[name]}
    return aggs


def encode(figures: CampaignFigures) -> bytes:
    """The figures as compressed JSON (module docstring)."""
    document = {
        "format": FORMAT,
        "as_of": figures.as_of.isoformat(),
        "min_cell": figures.min_cell,
        "strata": list(figures.strata),
        "national": [[key, _cell(cell)] for key, cell in figures.national.items()],
        "contributors": [
            [channel, metric, sorted(codes)]
            for (channel, metric), codes in figures.contributors.items()
        ],
        "stratum_codes": {s: sorted(codes) for s, codes in figures.stratum_codes.items()},
        "strata_aggs": {s: _aggs(aggs) for s, aggs in figures._strata_aggs.items()},
    }
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=True)
    return zlib.compress(text.encode("utf-8"), 1)


def decode(data: bytes) -> CampaignFigures:
    """Figures from ``encode``'s bytes; ``ValueError`` if they are not of this ``FORMAT``."""
    document = json.loads(zlib.decompress(data).decode("utf-8"))
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError("stored figures of another format")
    min_cell = int(document["min_cell"])
    strata = tuple(int(bound) for bound in document["strata"])
    return CampaignFigures(
        as_of=datetime.fromisoformat(document["as_of"]),
        min_cell=min_cell,
        strata=strata,
        national={key: _read_cell(cell) for key, cell in document["national"]},
        contributors={
            (channel, metric): frozenset(codes)
            for channel, metric, codes in document["contributors"]
        },
        stratum_codes={s: frozenset(codes) for s, codes in document["stratum_codes"].items()},
        _strata_aggs={
            s: _read_aggs(aggs, min_cell, strata) for s, aggs in document["strata_aggs"].items()
        },
    )
