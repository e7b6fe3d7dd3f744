"""Barometer cells: per-group counts, rates with Wilson intervals, delays, scores, ranks.

``aggregate(facts, by=(...))`` reads ``ContactFacts`` once (a generator is fine: one pass,
constant memory per cell except the delay samples, kept as ``array('d')``) and returns one
``Cell`` per combination of grouping keys, sorted by those keys. An ``Aggregator`` does the
same fed one fact at a time, so that several groupings share one pass over a stream.

Grouping keys
-------------
``channel``, ``scenario`` (scenario id), ``service_kind``, ``collectivity`` (its code; the
name is carried along), ``collectivity_kind``, ``stratum`` (population stratum label,
``strata`` bounds, sorted by population), ``departement``, ``region``. ``by=()`` gives a
single overall cell.

Populations, for a statistician to audit
----------------------------------------
- ``planned``: every contact in the cell; ``sent``: those with ``sent_at``;
  ``undeliverable``: sent but bounced; ``delivered``: sent and not undeliverable — the
  cell's sample size ``n``, compared with ``min_cell``.
- Written-request figures (response, acknowledgement, delays, within target) count only
  the *written* channels (email, letter). ``written_delivered`` is their denominator.
  Undeliverable and never-sent requests are outside it (they were never asked).
- ``answered`` / ``acknowledged``: an answer / a first sign of life (acknowledgement or
  answer) inside the observation window (``reports.facts``). ``pending``: written,
  delivered, unanswered and without a censoring instant (campaign still open) — counted
  as unanswered in the rates, left out of Kaplan–Meier (no follow-up time). To report
  mid-campaign, set ``closed_at`` to the as-of instant for open contacts.
- Within target: the per-contact ``*_within_target`` flags (deadline-based, see
  ``reports.facts``); the denominator is the contacts where the flag is known (``*_n``),
  which is ``written_delivered`` once every window has closed past its deadline.
- Rates are fractions in [0, 1] with Wilson score intervals (``reports.intervals``).
- Delays, in calendar hours and in business days: ``median``/``p75``/``p90`` are type 7
  quantiles of the *observed* delays (answered contacts only — biased low when many are
  unanswered, hence the KM columns); ``km_median`` and its interval come from the
  Kaplan–Meier curve where unanswered contacts are right-censored at ``closed_at``
  (``reports.survival``; ``None`` = not reached). The whole curve is
  ``DelaySummary.kaplan_meier()``; its ``share_within(t)`` is the KM-estimated share
  answered within ``t`` on the *delay* scale (business days ``<= t``), which can differ
  from the deadline-based within-target flag for answers sent on a non-business day
  right after the deadline (``reports.facts``).
- Phone: ``phone_calls`` = delivered phone contacts (``sent_at``: the call was placed)
  whose outcome is known (``picked_up`` not None); pick-up rate with Wilson interval;
  medians of rings and seconds to pick-up, mean transfers and median hold seconds over
  picked-up calls where known.
- Visit: ``visits`` = visit contacts carried out (``sent_at`` set); median and p90 waiting
  seconds, median service seconds where known.

Scoring (out of 100)
--------------------
For every delivered contact, the *assessed criteria* are its grid results whose ``met``
is not ``None`` plus these timing criteria, with weights from ``timing_weights``
(defaults in ``TIMING_WEIGHTS``):

- ``timing.answered_within_target`` (email, letter; weight 2): the answer flag above;
- ``timing.acknowledged_within_target`` (email, letter; weight 1);
- ``timing.picked_up_before_5th_ring`` (phone; weight 1): met when the call was picked up
  after at most 4 rings, not met when it was not picked up or took 5 rings or more,
  unknown when ``picked_up`` is unknown or the rings were not counted.

Channel score = ``100 · Σ weight · met / Σ weight`` over every assessed criterion of every
contact of that channel in the cell (a pooled weighted share of criteria met: contacts
with more assessed criteria weigh more). Overall ``score`` = mean of the channel scores
weighted by the number of contacts of each channel that had at least one assessed
criterion. ``None`` when nothing was assessed. Per-criterion rates (unweighted share met
among contacts where assessed, Wilson interval) come out of ``Cell.criterion_rows()``.

Small cells and ranks
---------------------
``small`` is ``delivered < min_cell``. ``rank`` (1 = best) is given only to cells that are
not small and have a value in the ``rank_by`` column (default ``score``, higher is
better); ties share the best rank ("1, 2, 2, 4"). Small cells are still computed (their
counts feed higher levels) but must be published as not ranked.

The cells themselves and their export columns: ``reports.cells``.
"""

from __future__ import annotations

import copy
import dataclasses
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Final

import numpy as np

from reports.cells import (
    CHANNELS,
    COLUMNS,
    GROUP_KEYS,
    Cell,
    CriterionSummary,
    DelaySummary,
    PhoneSummary,
    VisitSummary,
)
from reports.facts import ContactFacts
from reports.intervals import proportion, quantiles_sorted
from reports.strata import DEFAULT_STRATA, stratum_index, stratum_labels
from reports.survival import MedianEstimate, km_median, km_median_counts

__all__ = [
    "MAX_RINGS_ON_TIME",
    "TIMING_ACK",
    "TIMING_ANSWER",
    "TIMING_PICKUP",
    "TIMING_WEIGHTS",
    "WRITTEN",
    "Aggregator",
    "aggregate",
]

WRITTEN: Final = frozenset({"email", "letter"})
TIMING_ANSWER: Final = "timing.answered_within_target"
TIMING_ACK: Final = "timing.acknowledged_within_target"
TIMING_PICKUP: Final = "timing.picked_up_before_5th_ring"
TIMING_WEIGHTS: Final[Mapping[str, float]] = {
    TIMING_ANSWER: 2.0,
    TIMING_ACK: 1.0,
    TIMING_PICKUP: 1.0,
}
MAX_RINGS_ON_TIME: Final = 4

_LEVELS = (0.5, 0.75, 0.9)


def _samples() -> array[float]:
    return array("d")


class _Acc:
    """Running totals of one cell (one pass; only delay samples are kept)."""

    __slots__ = (
        "ack_bd_c",
        "ack_bd_e",
        "ack_h_c",
        "ack_h_e",
        "ack_n",
        "ack_within",
        "acknowledged",
        "ans_bd_c",
        "ans_bd_e",
        "ans_h_c",
        "ans_h_e",
        "answer_n",
        "answer_within",
        "answered",
        "collectivity_name",
        "criteria",
        "delivered",
        "hold",
        "pending",
        "phone_calls",
        "picked_up",
        "pickup_seconds",
        "planned",
        "rings",
        "score_contacts",
        "score_den",
        "score_num",
        "sent",
        "service",
        "transfers_n",
        "transfers_sum",
        "undeliverable",
        "visits",
        "waiting",
        "written_delivered",
    )

    def __init__(self, collectivity_name: str | None) -> None:
        self.collectivity_name = collectivity_name
        self.planned = self.sent = self.undeliverable = self.delivered = 0
        self.written_delivered = self.pending = self.answered = self.acknowledged = 0
        self.answer_n = self.answer_within = self.ack_n = self.ack_within = 0
        self.ans_h_e, self.ans_h_c, self.ans_bd_e, self.ans_bd_c = (
            _samples(),
            _samples(),
            _samples(),
            _samples(),
        )
        self.ack_h_e, self.ack_h_c, self.ack_bd_e, self.ack_bd_c = (
            _samples(),
            _samples(),
            _samples(),
            _samples(),
        )
        self.phone_calls = self.picked_up = self.transfers_n = self.transfers_sum = 0
        self.rings, self.pickup_seconds, self.hold = _samples(), _samples(), _samples()
        self.visits = 0
        self.waiting, self.service = _samples(), _samples()
        self.criteria: dict[str, list[int]] = {}
        self.score_num: dict[str, float] = {}
        self.score_den: dict[str, float] = {}
        self.score_contacts: dict[str, int] = {}

    def criterion(self, cid: str, met: bool) -> None:
        counts = self.criteria.get(cid)
        if counts is None:
            counts = self.criteria[cid] = [0, 0]
        counts[0] += 1
        if met:
            counts[1] += 1

    def add(self, f: ContactFacts, timing_weights: Mapping[str, float]) -> None:
        self.planned += 1
        if f.sent_at is None:
            return
        self.sent += 1
        if f.undeliverable:
            self.undeliverable += 1
            return
        self.delivered += 1
        channel = f.channel
        num = 0.0
        den = 0.0
        if channel in WRITTEN:
            self._add_written(f)
            for cid, flag in (
                (TIMING_ANSWER, f.answered_within_target),
                (TIMING_ACK, f.acknowledged_within_target),
            ):
                if flag is not None:
                    self.criterion(cid, flag)
                    weight = timing_weights[cid]
                    den += weight
                    if flag:
                        num += weight
        elif channel == "phone":
            on_time = self._add_phone(f)
            if on_time is not None:
                self.criterion(TIMING_PICKUP, on_time)
                weight = timing_weights[TIMING_PICKUP]
                den += weight
                if on_time:
                    num += weight
        elif channel == "visit":
            self.visits += 1
            if f.waiting_seconds is not None:
                self.waiting.append(f.waiting_seconds)
            if f.service_seconds is not None:
                self.service.append(f.service_seconds)
        for cid, weight, met in f.grid:
            if met is None:
                continue
            if weight < 0:
                raise ValueError(f"criterion {cid!r} has a negative weight {weight!r}")
            self.criterion(cid, met)
            den += weight
            if met:
                num += weight
        if den > 0:
            self.score_num[channel] = self.score_num.get(channel, 0.0) + num
            self.score_den[channel] = self.score_den.get(channel, 0.0) + den
            self.score_contacts[channel] = self.score_contacts.get(channel, 0) + 1

    def _add_written(self, f: ContactFacts) -> None:
        self.written_delivered += 1
        if f.answer_seconds is not None and f.answer_business_days is not None:
            self.answered += 1
            self.ans_h_e.append(f.answer_seconds / 3600.0)
            self.ans_bd_e.append(f.answer_business_days)
        elif f.censor_seconds is not None and f.censor_business_days is not None:
            self.ans_h_c.append(f.censor_seconds / 3600.0)
            self.ans_bd_c.append(f.censor_business_days)
        else:
            if f.first_answer_at is not None or f.closed_at is not None:
                # delays_for always fills one of the two when either instant is known
                raise ValueError(
                    f"contact {f.contact_id!r} has no answer or censoring delay: "
                    "fill the delays with reports.facts.with_delays()"
                )
            self.pending += 1
        if f.ack_seconds is not None and f.ack_business_days is not None:
            self.acknowledged += 1
            self.ack_h_e.append(f.ack_seconds / 3600.0)
            self.ack_bd_e.append(f.ack_business_days)
        elif f.censor_seconds is not None and f.censor_business_days is not None:
            self.ack_h_c.append(f.censor_seconds / 3600.0)
            self.ack_bd_c.append(f.censor_business_days)
        if f.answered_within_target is not None:
            self.answer_n += 1
            self.answer_within += f.answered_within_target
        if f.acknowledged_within_target is not None:
            self.ack_n += 1
            self.ack_within += f.acknowledged_within_target

    def _add_phone(self, f: ContactFacts) -> bool | None:
        """Record the call; return the pick-up-before-5th-ring criterion."""
        if f.picked_up is None:
            return None
        self.phone_calls += 1
        if not f.picked_up:
            return False
        self.picked_up += 1
        if f.rings is not None:
            self.rings.append(f.rings)
        if f.seconds_to_pickup is not None:
            self.pickup_seconds.append(f.seconds_to_pickup)
        if f.transfers is not None:
            self.transfers_n += 1
            self.transfers_sum += f.transfers
        if f.hold_seconds is not None:
            self.hold.append(f.hold_seconds)
        if f.rings is None:
            return None
        return f.rings <= MAX_RINGS_ON_TIME


def _minus(acc: _Acc, other: _Acc) -> _Acc:
    """The totals of ``acc`` without the contacts ``other`` holds (all of them in ``acc``).

    Counts are subtracted; each delay sample of ``other`` is taken out of ``acc``'s once (the
    same fact gives the same float, and every figure sorts its samples); criteria and score
    totals of channels left with no contact go, as if never added. Score sums are sums of
    weights: exact for the usual weights (whole numbers, halves)."""
    out = _Acc(acc.collectivity_name)
    for name in _Acc.__slots__:
        mine, theirs = getattr(acc, name), getattr(other, name)
        if name == "collectivity_name":
            continue
        if isinstance(mine, int):
            setattr(out, name, mine - theirs)
        elif isinstance(mine, array):
            kept = array("d", mine)
            for value in theirs:
                kept.remove(value)
            setattr(out, name, kept)
    out.criteria = {cid: list(counts) for cid, counts in acc.criteria.items()}
    for cid, (assessed, met) in other.criteria.items():
        counts = out.criteria[cid]
        counts[0] -= assessed
        counts[1] -= met
        if counts[0] == 0:
            del out.criteria[cid]
    out.score_num, out.score_den = dict(acc.score_num), dict(acc.score_den)
    out.score_contacts = dict(acc.score_contacts)
    for channel, contacts in other.score_contacts.items():
        out.score_contacts[channel] -= contacts
        out.score_num[channel] -= other.score_num[channel]
        out.score_den[channel] -= other.score_den[channel]
        if out.score_contacts[channel] == 0:
            for totals in (out.score_contacts, out.score_num, out.score_den):
                del totals[channel]
    return out


# From this many samples the KM median is taken over the distinct times with numpy
# (``km_median_counts``: the same numbers to the last bit; tests/reports/test_km_counts.py).
_KM_COUNTS_FROM = 256


def _km(events: array[float], censored: array[float], confidence: float) -> MedianEstimate:
    if len(events) + len(censored) < _KM_COUNTS_FROM:
        return km_median(events, censored, confidence=confidence)
    observed = np.frombuffer(events, dtype=np.float64)
    both = np.concatenate((observed, np.frombuffer(censored, dtype=np.float64)))
    if not bool(np.all(np.isfinite(both) & (both >= 0.0))):
        return km_median(events, censored, confidence=confidence)  # which says why not
    times, inverse = np.unique(both, return_inverse=True)
    counts_e = np.bincount(inverse[: len(observed)], minlength=len(times))
    counts_c = np.bincount(inverse[len(observed) :], minlength=len(times))
    return km_median_counts(times, counts_e, counts_c, confidence=confidence)


def _delay(events: array[float], censored: array[float], confidence: float) -> DelaySummary:
    median, p75, p90 = quantiles_sorted(sorted(events), _LEVELS)
    km = _km(events, censored, confidence)
    return DelaySummary(len(events), len(censored), median, p75, p90, km, events, censored)


def _median(values: array[float]) -> float | None:
    return quantiles_sorted(sorted(values), (0.5,))[0]


def _finish(
    keys: tuple[tuple[str, str | None], ...],
    acc: _Acc,
    *,
    min_cell: int,
    confidence: float,
) -> Cell:
    waiting_median, waiting_p90 = quantiles_sorted(sorted(acc.waiting), (0.5, 0.9))
    scores: list[tuple[str, float | None]] = []
    weighted = 0.0
    contacts = 0
    for channel in CHANNELS:
        den = acc.score_den.get(channel, 0.0)
        if den > 0:
            value = 100.0 * acc.score_num[channel] / den
            scores.append((channel, value))
            weighted += acc.score_contacts[channel] * value
            contacts += acc.score_contacts[channel]
        else:
            scores.append((channel, None))
    return Cell(
        keys=keys,
        collectivity_name=acc.collectivity_name,
        planned=acc.planned,
        sent=acc.sent,
        undeliverable=acc.undeliverable,
        delivered=acc.delivered,
        written_delivered=acc.written_delivered,
        pending=acc.pending,
        response=proportion(acc.answered, acc.written_delivered, confidence),
        acknowledgement=proportion(acc.acknowledged, acc.written_delivered, confidence),
        answered_within_target=proportion(acc.answer_within, acc.answer_n, confidence),
        acknowledged_within_target=proportion(acc.ack_within, acc.ack_n, confidence),
        answer_hours=_delay(acc.ans_h_e, acc.ans_h_c, confidence),
        answer_bdays=_delay(acc.ans_bd_e, acc.ans_bd_c, confidence),
        ack_hours=_delay(acc.ack_h_e, acc.ack_h_c, confidence),
        ack_bdays=_delay(acc.ack_bd_e, acc.ack_bd_c, confidence),
        phone=PhoneSummary(
            calls=acc.phone_calls,
            picked_up=proportion(acc.picked_up, acc.phone_calls, confidence),
            rings_median=_median(acc.rings),
            seconds_to_pickup_median=_median(acc.pickup_seconds),
            transfers_mean=acc.transfers_sum / acc.transfers_n if acc.transfers_n else None,
            hold_seconds_median=_median(acc.hold),
        ),
        visit=VisitSummary(
            visits=acc.visits,
            waiting_seconds_median=waiting_median,
            waiting_seconds_p90=waiting_p90,
            service_seconds_median=_median(acc.service),
        ),
        criteria=tuple(
            CriterionSummary(cid, proportion(met, assessed, confidence))
            for cid, (assessed, met) in sorted(acc.criteria.items())
        ),
        channel_scores=tuple(scores),
        score=weighted / contacts if contacts else None,
        small=acc.delivered < min_cell,
    )


def _key_getter(
    name: str, labels: tuple[str, ...], bounds: tuple[int, ...]
) -> Callable[[ContactFacts], str | None]:
    if name == "channel":
        return lambda f: f.channel
    if name == "scenario":
        return lambda f: f.scenario_id
    if name == "service_kind":
        return lambda f: f.service_kind
    if name == "collectivity":
        return lambda f: f.collectivity_code
    if name == "collectivity_kind":
        return lambda f: f.collectivity_kind
    if name == "stratum":
        return lambda f: labels[stratum_index(f.population, bounds)]
    if name == "departement":
        return lambda f: f.departement
    if name == "region":
        return lambda f: f.region
    raise ValueError(f"unknown grouping key {name!r}; known: {', '.join(GROUP_KEYS)}")


def _rank(cells: list[Cell], rank_by: str, higher_is_better: bool) -> list[Cell]:
    values: list[tuple[float, int]] = []
    for index, cell in enumerate(cells):
        if cell.small:
            continue
        value = cell.to_row()[rank_by]
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        values.append((float(value), index))
    values.sort(key=lambda vi: -vi[0] if higher_is_better else vi[0])
    ranks: dict[int, int] = {}
    previous: float | None = None
    rank = 0
    for position, (value, index) in enumerate(values, start=1):
        if value != previous:
            rank = position
            previous = value
        ranks[index] = rank
    return [
        dataclasses.replace(cell, rank=ranks[i]) if i in ranks else cell
        for i, cell in enumerate(cells)
    ]


class Aggregator:
    """``aggregate`` fed one fact at a time: several groupings share one pass over a stream.

    ``add`` each fact, then ``cells()`` once. Same arguments and results as ``aggregate``.
    """

    def __init__(
        self,
        by: Sequence[str] = (),
        *,
        min_cell: int = 5,
        strata: Sequence[int] = DEFAULT_STRATA,
        confidence: float = 0.95,
        rank_by: str = "score",
        higher_is_better: bool = True,
        timing_weights: Mapping[str, float] = TIMING_WEIGHTS,
    ) -> None:
        if len(set(by)) != len(by):
            raise ValueError(f"grouping keys repeat: {tuple(by)!r}")
        if rank_by not in COLUMNS:
            raise ValueError(f"unknown rank_by column {rank_by!r}")
        weights = {**TIMING_WEIGHTS, **timing_weights}
        if any(w < 0 for w in weights.values()):
            raise ValueError("timing weights must be >= 0")
        self._weights = weights
        self._bounds = tuple(strata)
        self._labels = stratum_labels(self._bounds)
        self._names = tuple(by)
        self._getters = [_key_getter(name, self._labels, self._bounds) for name in self._names]
        self._by_collectivity = "collectivity" in self._names
        self._min_cell = min_cell
        self._confidence = confidence
        self._rank_by = rank_by
        self._higher_is_better = higher_is_better
        self._cells: dict[tuple[str | None, ...], _Acc] = {}

    @property
    def by(self) -> tuple[str, ...]:
        return self._names

    def add(self, fact: ContactFacts) -> None:
        if fact.channel not in _KNOWN_CHANNELS:
            raise ValueError(f"unknown channel {fact.channel!r}")
        key = tuple(get(fact) for get in self._getters)
        acc = self._cells.get(key)
        if acc is None:
            acc = self._cells[key] = _Acc(fact.collectivity_name if self._by_collectivity else None)
        acc.add(fact, self._weights)

    def without(self, other: Aggregator) -> Aggregator:
        """A copy of this aggregator as if ``other``'s facts (all added here too, with the
        same keys) had never been: a leave-one-out cell (a stratum without one of its
        collectivities) at the cost of the one left out, not of the whole stratum."""
        if other.by != self.by:
            raise ValueError(f"grouping keys differ: {self.by!r} and {other.by!r}")
        out = copy.copy(self)
        out._cells = dict(self._cells)
        for key, acc in other._cells.items():
            if key not in out._cells:
                raise ValueError(f"cell {key!r} is not in this aggregator")
            left = _minus(out._cells[key], acc)
            if left.planned:
                out._cells[key] = left
            else:
                del out._cells[key]
        return out

    def cells(self) -> list[Cell]:
        order = {label: i for i, label in enumerate(self._labels)}
        names = self._names

        def sort_key(key: tuple[str | None, ...]) -> tuple[tuple[int, int, str], ...]:
            parts = []
            for name, value in zip(names, key, strict=True):
                if value is None:
                    parts.append((1, 0, ""))
                elif name == "stratum":
                    parts.append((0, order[value], ""))
                else:
                    parts.append((0, 0, value))
            return tuple(parts)

        finished = [
            _finish(
                tuple(zip(names, key, strict=True)),
                self._cells[key],
                min_cell=self._min_cell,
                confidence=self._confidence,
            )
            for key in sorted(self._cells, key=sort_key)
        ]
        return _rank(finished, self._rank_by, self._higher_is_better)


_KNOWN_CHANNELS: Final = frozenset(CHANNELS)


def aggregate(
    facts: Iterable[ContactFacts],
    by: Sequence[str] = (),
    *,
    min_cell: int = 5,
    strata: Sequence[int] = DEFAULT_STRATA,
    confidence: float = 0.95,
    rank_by: str = "score",
    higher_is_better: bool = True,
    timing_weights: Mapping[str, float] = TIMING_WEIGHTS,
) -> list[Cell]:
    """One ``Cell`` per combination of ``by`` keys (module docstring for every figure).

    ``facts`` is read once. Cells come sorted by their keys in ``by`` order (strata by
    population, ``None`` last). Raises ``ValueError`` on an unknown key, channel or
    ``rank_by`` column, a negative weight, or a contact whose answer delay was not filled.
    """
    aggregator = Aggregator(
        by,
        min_cell=min_cell,
        strata=strata,
        confidence=confidence,
        rank_by=rank_by,
        higher_is_better=higher_is_better,
        timing_weights=timing_weights,
    )
    for fact in facts:
        aggregator.add(fact)
    return aggregator.cells()
