"""A campaign's figures (``reports.barometer.CampaignFigures``) as JSON, and back, bit for bit.

The portal keeps a closed campaign's national and peer figures in the database
(``reports.figures_store``) so that no page, web worker or restarted server reads the whole
campaign again. They are kept as JSON and numbers, never pickle (the database is not trusted to
hold code): the zlib-compressed bytes of a first line ``temoin-figures``, the length of a JSON
document (8 bytes, little-endian), that document, then every sample of delays as
little-endian IEEE 754 doubles, which the document points into as ``[first, count]`` (each
slice checked against the length). Every float of the document is written with ``repr``, which
Python reads back to the same bits; collectivity codes are written once, in ``codes``, and
referred to by their index (the sets of 20,000 codes are built from the same string objects,
hashed once). What is kept:

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

FORMAT: Final = 2
_MAGIC: Final = b"temoin-figures\n"
_DOUBLE: Final = 8
_LITTLE: Final = sys.byteorder == "little"

Json = Any


class _Out:
    """The binary part being written: every delay sample, one after the other."""

    def __init__(self) -> None:
        self.data = bytearray()

    def samples(self, values: array[float]) -> Json:
        if not _LITTLE:  # pragma: no cover - every machine we run on is little-endian
            values = array("d", values)
            values.byteswap()
        at = len(self.data) // _DOUBLE
        self.data += values.tobytes()
        return [at, len(values)]


class _In:
    """The binary part being read; each slice is checked against its length."""

    def __init__(self, data: memoryview) -> None:
        self.data = data
        self.count = len(data) // _DOUBLE

    def samples(self, where: Json) -> array[float]:
        at, n = where
        if not (isinstance(at, int) and isinstance(n, int) and 0 <= at <= at + n <= self.count):
            raise ValueError(f"samples out of the stored figures: {where!r}")
        values = array("d")
        values.frombytes(self.data[at * _DOUBLE : (at + n) * _DOUBLE])
        if not _LITTLE:  # pragma: no cover
            values.byteswap()
        return values


def _prop(p: Proportion) -> Json:
    return [p.successes, p.n, p.rate, p.low, p.high]


def _read_prop(v: Json) -> Proportion:
    successes, n, rate, low, high = v
    return Proportion(successes, n, rate, low, high)


def _delay(d: DelaySummary, out: _Out) -> Json:
    return [
        d.observed, d.censored, d.median, d.p75, d.p90, [d.km.median, d.km.low, d.km.high],
        out.samples(d.event_times), out.samples(d.censored_times),
    ]  # fmt: skip


def _read_delay(v: Json, src: _In) -> DelaySummary:
    observed, censored, median, p75, p90, km, events, censored_times = v
    return DelaySummary(
        observed, censored, median, p75, p90, MedianEstimate(*km),
        src.samples(events), src.samples(censored_times),
    )  # fmt: skip


def _cell(c: Cell, out: _Out) -> Json:
    return {
        "keys": [list(pair) for pair in c.keys],
        "collectivity_name": c.collectivity_name,
        "counts": [c.planned, c.sent, c.undeliverable, c.delivered, c.written_delivered, c.pending],
        "response": _prop(c.response),
        "acknowledgement": _prop(c.acknowledgement),
        "answered_within_target": _prop(c.answered_within_target),
        "acknowledged_within_target": _prop(c.acknowledged_within_target),
        "answer_hours": _delay(c.answer_hours, out),
        "answer_bdays": _delay(c.answer_bdays, out),
        "ack_hours": _delay(c.ack_hours, out),
        "ack_bdays": _delay(c.ack_bdays, out),
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


def _read_cell(v: Json, src: _In) -> Cell:
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
        answer_hours=_read_delay(v["answer_hours"], src),
        answer_bdays=_read_delay(v["answer_bdays"], src),
        ack_hours=_read_delay(v["ack_hours"], src),
        ack_bdays=_read_delay(v["ack_bdays"], src),
        phone=PhoneSummary(calls, _read_prop(picked_up), rings, pickup, transfers, hold),
        visit=VisitSummary(*v["visit"]),
        criteria=tuple(CriterionSummary(cid, _read_prop(met)) for cid, met in v["criteria"]),
        channel_scores=tuple((channel, score) for channel, score in v["channel_scores"]),
        score=v["score"],
        small=v["small"],
        rank=v["rank"],
    )


def _acc(acc: _Acc, out: _Out) -> Json:
    found: dict[str, Json] = {}
    for name in _Acc.__slots__:
        value = getattr(acc, name)
        found[name] = out.samples(value) if isinstance(value, array) else value
    return found


def _read_acc(v: Json, src: _In) -> _Acc:
    acc = _Acc(v["collectivity_name"])
    for name in _Acc.__slots__:
        value = getattr(acc, name)
        if isinstance(value, array):
            setattr(acc, name, src.samples(v[name]))
        elif name != "collectivity_name":
            setattr(acc, name, v[name])
    return acc


def _aggs(aggs: Groupings, out: _Out) -> Json:
    return {
        name: [[list(key), _acc(acc, out)] for key, acc in agg._cells.items()]
        for name, agg in aggs.items()
    }


def _read_aggs(v: Json, min_cell: int, strata: tuple[int, ...], src: _In) -> Groupings:
    aggs = groupings(min_cell, strata)
    if set(v) != set(aggs):
        raise ValueError(f"stored groupings {sorted(v)} differ from {sorted(aggs)}")
    for name, agg in aggs.items():
        agg._cells = {tuple(key): _read_acc(acc, src) for key, acc in v[name]}
    return aggs


def encode(figures: CampaignFigures) -> bytes:
    """The figures as bytes (module docstring)."""
    out = _Out()
    codes = sorted(set().union(*figures.stratum_codes.values(), *figures.contributors.values()))
    index = {code: i for i, code in enumerate(codes)}

    def indices(found: frozenset[str]) -> list[int]:
        return sorted(index[code] for code in found)

    document = {
        "format": FORMAT,
        "as_of": figures.as_of.isoformat(),
        "min_cell": figures.min_cell,
        "strata": list(figures.strata),
        "national": [[key, _cell(cell, out)] for key, cell in figures.national.items()],
        "codes": codes,
        "contributors": [
            [channel, metric, indices(found)]
            for (channel, metric), found in figures.contributors.items()
        ],
        "stratum_codes": {s: indices(found) for s, found in figures.stratum_codes.items()},
        "strata_aggs": {s: _aggs(aggs, out) for s, aggs in figures._strata_aggs.items()},
    }
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=True)
    head = text.encode("utf-8")
    return zlib.compress(_MAGIC + len(head).to_bytes(8, "little") + head + out.data, 1)


def decode(data: bytes) -> CampaignFigures:
    """Figures from ``encode``'s bytes; ``ValueError`` if they are not of this ``FORMAT``."""
    whole = memoryview(zlib.decompress(data))
    start = len(_MAGIC) + 8
    if len(whole) < start or bytes(whole[: len(_MAGIC)]) != _MAGIC:
        raise ValueError("stored figures of another format")
    size = int.from_bytes(whole[len(_MAGIC) : start], "little")
    if start + size > len(whole) or (len(whole) - start - size) % _DOUBLE:
        raise ValueError("stored figures cut short")
    document = json.loads(bytes(whole[start : start + size]).decode("utf-8"))
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError("stored figures of another format")
    src = _In(whole[start + size :])
    min_cell = int(document["min_cell"])
    strata = tuple(int(bound) for bound in document["strata"])
    codes: list[str] = document["codes"]
    if not all(isinstance(code, str) for code in codes):
        raise ValueError("stored figures: a collectivity code is not text")

    def codes_of(found: list[int]) -> frozenset[str]:
        return frozenset([codes[i] for i in found])  # the same str objects: hashed once

    return CampaignFigures(
        as_of=datetime.fromisoformat(document["as_of"]),
        min_cell=min_cell,
        strata=strata,
        national={key: _read_cell(cell, src) for key, cell in document["national"]},
        contributors={
            (channel, metric): codes_of(found)
            for channel, metric, found in document["contributors"]
        },
        stratum_codes={s: codes_of(found) for s, found in document["stratum_codes"].items()},
        _strata_aggs={
            s: _read_aggs(aggs, min_cell, strata, src)
            for s, aggs in document["strata_aggs"].items()
        },
    )
