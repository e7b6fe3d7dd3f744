"""``km_median_counts`` (numpy over counts per distinct time) equals ``km_median``.

Random samples chosen for the corners: heavy ties (business days), continuous times
(hours), all censored, none censored, the curve reaching 0, a single time, large samples
where the median's band crosses 0.5 many steps from the start.
"""

from __future__ import annotations

import random

import numpy as np

from reports.survival import km_median, km_median_counts


def _counts(events: list[float], censored: list[float]) -> tuple[np.ndarray, ...]:
    times, inverse = np.unique(np.array(events + censored, dtype=np.float64), return_inverse=True)
    d = np.bincount(inverse[: len(events)], minlength=len(times))
    c = np.bincount(inverse[len(events) :], minlength=len(times))
    return times, d, c


def test_counts_give_the_same_median_and_interval() -> None:
    rnd = random.Random(17)
    for case in range(3000):
        n = rnd.choice((0, 1, 2, 3, 5, 8, 20, 60, 300))
        tied = case % 2 == 0
        events, censored = [], []
        for _ in range(n):
            t = float(rnd.randrange(0, 12)) if tied else rnd.expovariate(0.1)
            (events if rnd.random() < rnd.choice((0.0, 0.3, 0.7, 1.0)) else censored).append(t)
        for confidence in (0.95, 0.8):
            want = km_median(events, censored, confidence=confidence)
            times, d, c = _counts(events, censored)
            got = km_median_counts(times, d, c, confidence=confidence)
            assert got == want, (case, events, censored)


def test_large_samples() -> None:
    rnd = random.Random(5)
    for _ in range(20):
        events = [float(rnd.randrange(0, 40)) for _ in range(rnd.randrange(1000, 5000))]
        censored = [float(rnd.randrange(0, 40)) for _ in range(rnd.randrange(0, 3000))]
        times, d, c = _counts(events, censored)
        assert km_median_counts(times, d, c) == km_median(events, censored)
