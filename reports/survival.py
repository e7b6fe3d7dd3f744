"""Kaplan–Meier estimation of time to acknowledgement / answer, with censoring.

Pure functions over two samples of non-negative, finite times (any unit, e.g. calendar
hours or business days): the *event* times (the contact was answered after that long)
and the *censoring* times (the contact was still unanswered when observation stopped,
i.e. at campaign close). Which contacts enter the risk set is the caller's business; the
barometer (``reports.aggregate``) puts there every request that reached the service
(sent and not undeliverable) and nothing else: an undeliverable email was never asked,
so it can neither be answered nor "survive".

Definitions, for a statistician to audit
----------------------------------------
Let ``t_1 < t_2 < …`` be the distinct times (events and censorings together). At each
``t_i``: ``n_i`` = at risk (times ``>= t_i``), ``d_i`` = events at ``t_i``, ``c_i`` =
censorings at ``t_i``. **Ties: events come first** — a contact censored at ``t_i`` is still
at risk at ``t_i`` (it was observed unanswered at ``t_i``), the usual convention (Kaplan &
Meier 1958; R ``survival``).

- Survival: ``S(t) = Π_{t_i <= t} (n_i - d_i) / n_i``, a right-continuous step function,
  ``S(t) = 1`` before the first event.
- Greenwood variance: ``Var S(t) = S(t)² · Σ_{t_i <= t} d_i / (n_i (n_i - d_i))``. When
  the last ``n_i`` all have the event, ``S = 0`` and the sum is infinite: the variance is
  then reported as ``None`` (R reports NaN).
- Pointwise confidence band, **log-log transform** (Kalbfleisch & Prentice 2002; R
  ``conf.type = "log-log"``): with ``G = Σ d_i / (n_i (n_i - d_i))`` and
  ``σ = sqrt(G) / |log S|`` (delta-method s.e. of ``log(-log S)``)::

      low  = S ** exp(+z σ)        high = S ** exp(-z σ)

  It stays inside (0, 1) and is asymmetric near 0 and 1, unlike the plain Greenwood
  interval ``S ± z sqrt(Var)``. Degenerate points are pinned to the estimate: ``[1, 1]``
  where ``S = 1`` (no event yet, ``G = 0``) and ``[0, 0]`` where ``S = 0``.
- Median: ``inf{t : S(t) <= 0.5}``, the first event time where the curve reaches 0.5 or
  less; ``None`` ("not reached") if it never does within follow-up. ``S`` is a product of
  floats, so a value that is exactly 0.5 in exact arithmetic (common with tied business-day
  delays: 8/10 · 6/8 · 5/6) may come out as 0.5000000000000001; every comparison with 0.5
  here therefore treats values within ``HALF_TOLERANCE`` (√machine-ε ≈ 1.5e-8, the
  tolerance R's ``quantile.survfit`` uses) of 0.5 as equal to it. When ``S`` equals 0.5
  exactly on a flat stretch, R averages that time with the next event time; we do not (the
  definition is the plain infimum; such exact ties are rare in continuous time).
  Without censoring this is the empirical median of type 1 (``inf{t : F_n(t) >= 0.5}``),
  not the type 7 median of observed delays: the two are different published columns.
- Median confidence interval (Brookmeyer & Crowley 1982, with the band above, as R's
  ``quantile.survfit`` does): the times where the confidence band contains 0.5.

  * ``low`` = the first time the lower band is ``<= 0.5``;
  * ``high`` = the time from which the upper band stays ``< 0.5`` to the end of follow-up
    (the step right after the last step whose upper band is ``>= 0.5``); ``None`` ("not
    reached", unbounded above) when the upper band is still ``>= 0.5`` at the last
    observed time.

  While both bands are non-increasing in time (the usual case: a random search over
  thousands of small data sets found no exception) this is exactly the closure of
  ``{t : low(t) <= 0.5 <= high(t)}`` and equals R's first-crossing rule; should the upper
  band ever rise back above 0.5 (monotonicity is not guaranteed in general), taking its
  *last* crossing makes the interval wider, never narrower. Both limits are observed
  event times.
- Share reached within ``t`` (e.g. answered within a target): ``1 - S(t)`` with band
  ``(1 - high(t), 1 - low(t))``. ``S`` is known up to the last observed time ``t_max``;
  beyond it, it is known only if ``S(t_max) = 0`` — otherwise the share is ``None``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from reports.intervals import z_value

__all__ = [
    "HALF_TOLERANCE",
    "KMStep",
    "KaplanMeier",
    "MedianEstimate",
    "ShareEstimate",
    "kaplan_meier",
    "kaplan_meier_pairs",
    "km_median",
    "km_median_counts",
    "loglog_band",
]

HALF_TOLERANCE = math.sqrt(sys.float_info.epsilon)
_HALF_HIGH = 0.5 + HALF_TOLERANCE  # "<= 0.5" up to rounding
_HALF_LOW = 0.5 - HALF_TOLERANCE  # "< 0.5" beyond rounding


@dataclass(frozen=True, slots=True)
class KMStep:
    """One distinct time of the curve; ``survival`` and the band hold from ``time`` on."""

    time: float
    at_risk: int
    events: int
    censored: int
    survival: float
    variance: float | None  # Greenwood; None where S = 0 (undefined)
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class MedianEstimate:
    """KM median and its confidence interval; ``None`` means "not reached"."""

    median: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True, slots=True)
class ShareEstimate:
    """``1 - S(t)``: the share that had the event by ``t``, with its pointwise band."""

    share: float
    low: float
    high: float


def loglog_band(survival: float, greenwood_sum: float, z: float) -> tuple[float, float]:
    """Pointwise log-log band ``(low, high)`` for ``S`` with Greenwood sum ``G``."""
    if survival >= 1.0:
        return (1.0, 1.0)
    if survival <= 0.0:
        return (0.0, 0.0)
    sigma = math.sqrt(greenwood_sum) / -math.log(survival)
    spread = z * sigma
    low = 0.0 if spread > 700.0 else survival ** math.exp(spread)
    return (low, survival ** math.exp(-spread))


def _checked_sorted(times: Iterable[float], what: str) -> list[float]:
    values = sorted(map(float, times))
    if values and not (values[0] >= 0.0 and values[-1] < math.inf):
        raise ValueError(f"{what} times must be finite and >= 0")
    # NaN sorts anywhere; catch it explicitly.
    if any(map(math.isnan, values)):
        raise ValueError(f"{what} times must not be NaN")
    return values


def _km_iter(
    events: list[float], censored: list[float]
) -> Iterator[tuple[float, int, int, int, float, float]]:
    """(time, at risk, events, censored, S, Greenwood sum) at each distinct time."""
    at_risk = len(events) + len(censored)
    i = j = 0
    ne, nc = len(events), len(censored)
    survival = 1.0
    greenwood = 0.0
    while i < ne or j < nc:
        t = events[i] if j >= nc or (i < ne and events[i] <= censored[j]) else censored[j]
        d = 0
        while i < ne and events[i] == t:
            d += 1
            i += 1
        c = 0
        while j < nc and censored[j] == t:
            c += 1
            j += 1
        if d:
            survival *= (at_risk - d) / at_risk
            greenwood += d / (at_risk * (at_risk - d)) if at_risk > d else math.inf
        yield t, at_risk, d, c, survival, greenwood
        at_risk -= d + c


@dataclass(frozen=True, slots=True)
class KaplanMeier:
    """A fitted Kaplan–Meier curve (see the module docstring for every definition)."""

    steps: tuple[KMStep, ...]
    n: int
    events: int
    censored: int
    confidence: float

    def _index_at(self, t: float) -> int | None:
        """Index of the last step with ``time <= t`` (-1 before the first), or None if
        ``t`` is beyond follow-up and S is not known there."""
        steps = self.steps
        if steps and t > steps[-1].time and steps[-1].survival > 0.0:
            return None
        lo, hi = 0, len(steps)
        while lo < hi:
            mid = (lo + hi) // 2
            if steps[mid].time <= t:
                lo = mid + 1
            else:
                hi = mid
        return lo - 1

    def survival_at(self, t: float) -> float | None:
        """``S(t)``; 1 before the first time; ``None`` beyond follow-up (unless S hit 0)."""
        index = self._index_at(t)
        if index is None:
            return None
        return 1.0 if index < 0 else self.steps[index].survival

    def share_within(self, t: float) -> ShareEstimate | None:
        """KM-estimated share with the event by ``t`` (``1 - S(t)``) and its band."""
        index = self._index_at(t)
        if index is None:
            return None
        if index < 0:
            return ShareEstimate(0.0, 0.0, 0.0)
        step = self.steps[index]
        return ShareEstimate(1.0 - step.survival, 1.0 - step.high, 1.0 - step.low)

    def median(self) -> MedianEstimate:
        return _median((s.time, s.events, s.survival, s.low, s.high) for s in self.steps)


def _median(
    steps: Iterable[tuple[float, int, float, float, float]],
) -> MedianEstimate:
    median: float | None = None
    lower: float | None = None
    upper: float | None = None
    above = True  # the upper band of the latest step is still >= 0.5
    for t, _events, survival, low, high in steps:
        if lower is None and low <= _HALF_HIGH:
            lower = t
        if median is None and survival <= _HALF_HIGH:
            median = t
        if high >= _HALF_LOW:
            above = True
        elif above:
            above = False
            upper = t
    return MedianEstimate(median, lower, None if above else upper)


def kaplan_meier(
    event_times: Iterable[float],
    censored_times: Iterable[float] = (),
    *,
    confidence: float = 0.95,
) -> KaplanMeier:
    """Fit the Kaplan–Meier curve of ``event_times`` with right-censored ``censored_times``.

    Times must be finite and ``>= 0`` (``ValueError`` otherwise). The result lists every
    distinct time, censoring-only times included (their survival and band are those of
    the previous event time), like R's ``summary(survfit(...), censored = TRUE)``.
    """
    z = z_value(confidence)
    events = _checked_sorted(event_times, "event")
    censored = _checked_sorted(censored_times, "censoring")
    steps: list[KMStep] = []
    for t, at_risk, d, c, survival, greenwood in _km_iter(events, censored):
        low, high = loglog_band(survival, greenwood, z)
        variance = None if survival <= 0.0 else survival * survival * greenwood
        steps.append(KMStep(t, at_risk, d, c, survival, variance, low, high))
    return KaplanMeier(
        tuple(steps), len(events) + len(censored), len(events), len(censored), confidence
    )


def kaplan_meier_pairs(
    observations: Iterable[tuple[float, bool]], *, confidence: float = 0.95
) -> KaplanMeier:
    """Same as ``kaplan_meier`` from ``(time, event)`` pairs (``event=False``: censored)."""
    events: list[float] = []
    censored: list[float] = []
    for time, event in observations:
        (events if event else censored).append(time)
    return kaplan_meier(events, censored, confidence=confidence)


def km_median(
    event_times: Iterable[float],
    censored_times: Iterable[float] = (),
    *,
    confidence: float = 0.95,
) -> MedianEstimate:
    """KM median and Brookmeyer–Crowley interval without materialising the curve.

    Same numbers as ``kaplan_meier(...).median()``, in O(n log n) time and without one
    object per distinct time (what ``reports.aggregate`` uses on large cells).
    """
    z = z_value(confidence)
    events = _checked_sorted(event_times, "event")
    censored = _checked_sorted(censored_times, "censoring")

    def rows() -> Iterator[tuple[float, int, float, float, float]]:
        for t, _at_risk, d, _c, survival, greenwood in _km_iter(events, censored):
            low, high = loglog_band(survival, greenwood, z)
            yield t, d, survival, low, high

    return _median(rows())


def km_median_counts(
    times: NDArray[np.float64],
    events: NDArray[np.int64],
    censored: NDArray[np.int64],
    *,
    confidence: float = 0.95,
) -> MedianEstimate:
    """``km_median`` from the distinct times (ascending) and the events and censorings at
    each, with arrays: the same numbers, to the last bit, at a fraction of the cost.

    Why the numbers are the same: the at-risk counts are integers; each factor
    ``(n - d) / n`` and Greenwood term ``d / (n (n - d))`` is one correctly rounded division
    of the same integers (below 2**53) as in ``_km_iter``; ``cumprod`` and ``cumsum`` are
    sequential (numpy's ``accumulate``, unlike its reductions, does not pair), and a step
    without events multiplies by exactly 1.0 and adds exactly 0.0. The band needs ``log``,
    ``exp`` and ``**``, whose numpy versions may differ from ``math`` in the last bit: numpy
    only screens the steps (with a margin a million times wider than such a difference) and
    the steps that decide a limit are recomputed with ``loglog_band`` itself.
    """
    z = z_value(confidence)
    k = len(times)
    if k == 0:
        return MedianEstimate(None, None, None)
    if not (times[0] >= 0.0 and times[-1] < math.inf):
        raise ValueError("times must be finite and >= 0")
    d = events.astype(np.int64)
    total = int(d.sum() + censored.sum())
    removed = np.cumsum(d + censored.astype(np.int64))
    at_risk = total - np.concatenate((np.zeros(1, dtype=np.int64), removed[:-1]))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        survival = np.cumprod(np.where(d > 0, (at_risk - d) / at_risk, 1.0))
        terms = np.where(at_risk > d, d / (at_risk * (at_risk - d)), np.inf)
        greenwood = np.cumsum(np.where(d > 0, terms, 0.0))
        inside = (survival < 1.0) & (survival > 0.0)
        safe = np.where(inside, survival, 0.5)
        spread = z * np.sqrt(np.where(inside, greenwood, 0.0)) / -np.log(safe)
        low = np.where(inside, np.where(spread > 700.0, 0.0, safe ** np.exp(spread)), 0.0)
        high = np.where(inside, safe ** np.exp(-spread), 0.0)
    low = np.where(survival >= 1.0, 1.0, low)
    high = np.where(survival >= 1.0, 1.0, high)
    margin = 1e-9

    def band(i: int) -> tuple[float, float]:
        return loglog_band(float(survival[i]), float(greenwood[i]), z)

    reached = np.flatnonzero(survival <= _HALF_HIGH)
    median = float(times[reached[0]]) if reached.size else None
    lower: float | None = None
    for i in np.flatnonzero(low <= _HALF_HIGH + margin).tolist():
        if band(i)[0] <= _HALF_HIGH:
            lower = float(times[i])
            break
    last_above = -1
    for i in reversed(np.flatnonzero(high >= _HALF_LOW - margin).tolist()):
        if band(i)[1] >= _HALF_LOW:
            last_above = i
            break
    upper = None if last_above == k - 1 else float(times[last_above + 1])
    return MedianEstimate(median, lower, upper)
