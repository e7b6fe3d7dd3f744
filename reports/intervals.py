"""Proportions with Wilson score intervals, and sample quantiles (Hyndman–Fan type 7).

Pure functions over plain numbers; standard library only.

Wilson score interval
---------------------
For ``x`` successes out of ``n`` trials, ``p = x / n`` and ``z`` the two-sided normal
quantile ``Φ⁻¹(1 - (1 - confidence) / 2)`` (``statistics.NormalDist``; 1.959964 for 95 %),
the interval is (Wilson 1927; Newcombe 1998, method 3, no continuity correction)::

    centre    = (p + z² / 2n) / (1 + z² / n)
    halfwidth = z / (1 + z² / n) * sqrt(p (1 - p) / n + z² / 4n²)
    (low, high) = (centre - halfwidth, centre + halfwidth)

It never leaves [0, 1], is never degenerate (0/n still gets a positive upper bound, n/n a
lower bound below 1) and keeps close to its nominal coverage for small n, which is why a
barometer with small cells uses it rather than the Wald interval. The bounds are clamped to
[0, 1] and pinned to exactly 0 for ``x = 0`` and exactly 1 for ``x = n`` (where the algebra
gives them up to rounding). ``n = 0`` gives ``None``: there is no proportion to bound.

Quantiles
---------
``quantile(values, q)`` is Hyndman & Fan (1996) definition 7, the default of R's
``quantile``, numpy's ``percentile`` and PostgreSQL's ``percentile_cont``: with the ``n``
values sorted ascending as ``x[0] <= … <= x[n-1]``, ``h = (n - 1) q``, ``lo = floor(h)``,
``hi = ceil(h)``::

    Q(q) = x[lo] + (h - lo) * (x[hi] - x[lo])

computed in that order, which is exactly what PostgreSQL's ``percentile_cont`` does
(``first + (second - first) * proportion``), so figures match the database to the last bit
for the same float inputs. An empty sample has no quantile (``None``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import NormalDist

__all__ = [
    "Proportion",
    "proportion",
    "quantile",
    "quantiles",
    "quantiles_sorted",
    "wilson_interval",
    "z_value",
]


def z_value(confidence: float = 0.95) -> float:
    """Two-sided standard normal quantile for ``confidence`` (0.95 -> 1.959963984540054)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    return NormalDist().inv_cdf(1.0 - (1.0 - confidence) / 2.0)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float] | None:
    """Wilson score interval for ``successes`` out of ``n`` (see module docstring).

    Returns ``(low, high)`` with ``0 <= low <= successes/n <= high <= 1``, or ``None`` when
    ``n == 0``. Raises ``ValueError`` unless ``0 <= successes <= n``.
    """
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"need 0 <= successes <= n, got {successes}/{n}")
    if n == 0:
        return None
    z = z_value(confidence)
    p = successes / n
    z2n = z * z / n
    denominator = 1.0 + z2n
    centre = (p + z2n / 2.0) / denominator
    halfwidth = z / denominator * math.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n))
    low = 0.0 if successes == 0 else max(0.0, centre - halfwidth)
    high = 1.0 if successes == n else min(1.0, centre + halfwidth)
    return (low, high)


@dataclass(frozen=True, slots=True)
class Proportion:
    """``successes`` out of ``n``, its rate and Wilson interval (all ``None`` when n = 0)."""

    successes: int
    n: int
    rate: float | None
    low: float | None
    high: float | None


def proportion(successes: int, n: int, confidence: float = 0.95) -> Proportion:
    bounds = wilson_interval(successes, n, confidence)
    if bounds is None:
        return Proportion(successes, n, None, None, None)
    return Proportion(successes, n, successes / n, bounds[0], bounds[1])


def quantiles_sorted(ordered: Sequence[float], qs: Iterable[float]) -> list[float | None]:
    """Type 7 quantiles of an already ascending sequence (not checked), one per ``q``."""
    out: list[float | None] = []
    n = len(ordered)
    for q in qs:
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"quantile level must be in [0, 1], got {q!r}")
        if n == 0:
            out.append(None)
            continue
        h = (n - 1) * q
        lo = math.floor(h)
        hi = math.ceil(h)
        first = ordered[lo]
        out.append(first + (ordered[hi] - first) * (h - lo))
    return out


def quantiles(values: Iterable[float], qs: Iterable[float]) -> list[float | None]:
    """Type 7 quantiles of ``values`` (any order; sorted once), one per level in ``qs``."""
    return quantiles_sorted(sorted(values), qs)


def quantile(values: Iterable[float], q: float) -> float | None:
    """Type 7 quantile (``percentile_cont(q)``) of ``values``; ``None`` when empty."""
    return quantiles(values, (q,))[0]
