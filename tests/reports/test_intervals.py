"""Wilson score intervals and type 7 quantiles (``reports.intervals``).

Every expected value is either published (cited) or computed by hand in the comments;
z = Φ⁻¹(0.975) = 1.959964, z² = 3.841459 throughout.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.stats import quantile, quantiles, wilson_interval, z_value


def test_z_value() -> None:
    assert z_value(0.95) == pytest.approx(1.959964, abs=1e-6)
    assert z_value(0.90) == pytest.approx(1.644854, abs=1e-6)
    with pytest.raises(ValueError):
        z_value(1.0)


@pytest.mark.parametrize(
    ("x", "n", "low", "high"),
    [
        # Newcombe (1998), Stat Med 17:857-872, Table II, method 3 (score, no CC).
        # Recomputed: 81/263: p = 0.307985, z²/n = 0.014606,
        #   centre = (0.307985 + 0.007303) / 1.014606 = 0.310749,
        #   half = 1.959964 / 1.014606 * sqrt(0.307985 * 0.692015 / 263 + 3.841459 / (4 * 263²))
        #        = 1.931748 * sqrt(0.00081043 + 0.00001388) = 0.055461 -> (0.2553, 0.3662)
        (81, 263, 0.2553, 0.3662),
        # 15/148: p = 0.101351, z²/n = 0.025956, centre = (0.101351 + 0.012978) / 1.025956
        #   = 0.111437, half = 1.910385 * sqrt(0.00061498 + 0.00004384) = 0.049024
        #   -> (0.0624, 0.1605)
        (15, 148, 0.0624, 0.1605),
        # 0/20: low = 0, high = z² / (n + z²) = 3.841459 / 23.841459 = 0.1611
        (0, 20, 0.0, 0.1611),
        # 1/29: p = 0.034483, z²/n = 0.132464, centre = (0.034483 + 0.066232) / 1.132464
        #   = 0.088934, half = 1.730709 * sqrt(0.00114812 + 0.00114186) = 0.082820
        #   -> (0.0061, 0.1718)
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_newcombe_1998(x: int, n: int, low: float, high: float) -> None:
    bounds = wilson_interval(x, n)
    assert bounds is not None
    assert bounds[0] == pytest.approx(low, abs=5e-5)
    assert bounds[1] == pytest.approx(high, abs=5e-5)


def test_wilson_edges() -> None:
    assert wilson_interval(0, 0) is None
    # 0/n: exactly 0 below, z²/(n + z²) above; n/n mirrors it: n/(n + z²) below, exactly 1.
    zero = wilson_interval(0, 20)
    full = wilson_interval(20, 20)
    assert zero is not None and full is not None
    assert zero[0] == 0.0
    assert zero[1] == pytest.approx(3.8414588 / 23.8414588, rel=1e-7)
    assert full[1] == 1.0
    assert full[0] == pytest.approx(20 / 23.8414588, rel=1e-7)
    # 90 %: z = 1.644854, z² = 2.705543; 0/10 -> high = 2.705543 / 12.705543 = 0.212941
    ninety = wilson_interval(0, 10, confidence=0.90)
    assert ninety is not None
    assert ninety[1] == pytest.approx(0.212941, abs=1e-6)
    for bad in ((-1, 5), (6, 5), (0, -1)):
        with pytest.raises(ValueError):
            wilson_interval(*bad)


@settings(max_examples=100, deadline=None)
@given(
    st.integers(min_value=1, max_value=2000).flatmap(
        lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
    )
)
def test_wilson_contains_estimate_and_is_symmetric(xn: tuple[int, int]) -> None:
    x, n = xn
    bounds = wilson_interval(x, n)
    mirror = wilson_interval(n - x, n)
    assert bounds is not None and mirror is not None
    low, high = bounds
    assert 0.0 <= low <= x / n <= high <= 1.0
    assert low == pytest.approx(1.0 - mirror[1], abs=1e-12)
    assert high == pytest.approx(1.0 - mirror[0], abs=1e-12)


# --------------------------------------------------------------------------- quantiles


def test_quantile_type7_hand_examples() -> None:
    # [1, 2, 3, 4]: h = 3q. q=.5: h=1.5 -> 2 + .5*1 = 2.5 (percentile_cont(0.5) = 2.5);
    # q=.75: h=2.25 -> 3 + .25 = 3.25; q=.9: h=2.7 -> 3 + .7 = 3.7
    assert quantiles([4, 1, 3, 2], (0.5, 0.75, 0.9)) == pytest.approx([2.5, 3.25, 3.7])
    # Wikipedia "Percentile", linear interpolation C = 1 (= type 7) on 15, 20, 35, 40, 50:
    # the 40th percentile is 29 (h = .4 * 4 = 1.6 -> 20 + .6 * (35 - 20) = 29).
    assert quantile([15, 20, 35, 40, 50], 0.4) == pytest.approx(29.0)
    # [8, 26, 72, 168, 216]: p90 h = 3.6 -> 168 + .6 * 48 = 196.8
    assert quantile([216, 8, 72, 26, 168], 0.9) == pytest.approx(196.8)
    assert quantile([7.5], 0.9) == 7.5
    assert quantile([3, 1, 2], 0.0) == 1
    assert quantile([3, 1, 2], 1.0) == 3
    assert quantile([], 0.5) is None
    with pytest.raises(ValueError):
        quantile([1, 2], 1.5)
