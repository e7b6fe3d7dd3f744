"""Kaplan–Meier estimates, their log-log band and medians (``reports.survival``).

Every expected value is either published (cited) or computed by hand in the comments;
z = Φ⁻¹(0.975) = 1.959964, z² = 3.841459 throughout.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.stats import kaplan_meier, kaplan_meier_pairs, km_median

# Hand example, times (E = answered, C = censored):
#   1E  2E 2E 2C  3C  4E  5C  6E        n = 8
# t  n  d  c   S = Π (n-d)/n                 G = Σ d/(n(n-d))         Var = S² G
# 1  8  1  0   7/8 = 0.875                   1/56 = 0.017857           0.765625/56 = 0.013671875
# 2  7  2  1   .875 * 5/7 = 0.625            + 2/35 -> 21/280 = 0.075  0.390625*0.075 = 0.029296875
#    (the censoring at 2 is still at risk at 2: events first)
# 3  4  0  1   0.625                         0.075                     0.029296875
# 4  3  1  0   .625 * 2/3 = 5/12 = 0.416667  + 1/6 -> 29/120           (25/144)(29/120) = 725/17280
#                                                                      = 0.0419560185
# 5  2  0  1   5/12
# 6  1  1  0   0                             inf                       undefined -> None
HAND_EVENTS = [1, 2, 2, 4, 6]
HAND_CENSORED = [2, 3, 5]


def test_kaplan_meier_hand_example() -> None:
    km = kaplan_meier(HAND_EVENTS, HAND_CENSORED)
    table = [(s.time, s.at_risk, s.events, s.censored) for s in km.steps]
    assert table == [(1, 8, 1, 0), (2, 7, 2, 1), (3, 4, 0, 1), (4, 3, 1, 0), (5, 2, 0, 1),
                     (6, 1, 1, 0)]  # fmt: skip
    assert [s.survival for s in km.steps] == pytest.approx(
        [0.875, 0.625, 0.625, 5 / 12, 5 / 12, 0.0]
    )
    variances = [s.variance for s in km.steps]
    assert variances[:5] == pytest.approx(
        [0.013671875, 0.029296875, 0.029296875, 725 / 17280, 725 / 17280]
    )
    assert variances[5] is None
    assert (km.n, km.events, km.censored) == (8, 5, 3)


def test_kaplan_meier_loglog_band_by_hand() -> None:
    km = kaplan_meier(HAND_EVENTS, HAND_CENSORED)
    # t = 1: S = .875, log S = -0.1335314, sqrt(G) = sqrt(1/56) = 0.1336306,
    # σ = 0.1336306 / 0.1335314 = 1.000743, zσ = 1.961421, e^{zσ} = 7.108360;
    # low = .875^7.108360 = exp(-0.949207) = 0.387000,
    # high = .875^(1/7.108360) = exp(-0.0187851) = 0.981393
    first = km.steps[0]
    assert first.low == pytest.approx(0.387000, abs=2e-6)
    assert first.high == pytest.approx(0.981393, abs=2e-6)
    # t = 4: S = 5/12, log S = -0.875469, sqrt(G) = sqrt(29/120) = 0.491596, σ = 0.561525,
    # zσ = 1.100569, e^{zσ} = 3.005843 -> low = exp(-0.875469*3.005843) = exp(-2.631522)
    # = 0.071968; high = exp(-0.875469/3.005843) = exp(-0.291256) = 0.747326
    fourth = km.steps[3]
    assert fourth.low == pytest.approx(0.071967, abs=2e-6)
    assert fourth.high == pytest.approx(0.747326, abs=2e-6)
    # S = 0 pins the band to [0, 0]
    assert (km.steps[5].low, km.steps[5].high) == (0.0, 0.0)
    for step in km.steps:
        assert step.low <= step.survival <= step.high


def test_kaplan_meier_median_by_hand() -> None:
    km = kaplan_meier(HAND_EVENTS, HAND_CENSORED)
    # median: first t with S <= .5 -> t = 4 (S = 5/12)
    # low: first t with lower band <= .5 -> t = 1 (0.387)
    # high: upper band .981, .861, .747 (>= .5) then 0 at t = 6 -> 6
    median = km.median()
    assert (median.median, median.low, median.high) == (4, 1, 6)
    assert km_median(HAND_EVENTS, HAND_CENSORED) == median


def test_kaplan_meier_survival_and_share_within() -> None:
    km = kaplan_meier(HAND_EVENTS, HAND_CENSORED)
    assert km.survival_at(0.5) == 1.0  # before the first event
    assert km.survival_at(2) == pytest.approx(0.625)
    assert km.survival_at(3.9) == pytest.approx(0.625)
    assert km.survival_at(6) == 0.0
    assert km.survival_at(99) == 0.0  # S reached 0: known beyond follow-up
    share = km.share_within(2.5)
    assert share is not None
    # 1 - S = .375, band (1 - .860698, 1 - .229333) from the t = 2 step
    assert share.share == pytest.approx(0.375)
    assert share.low == pytest.approx(1 - 0.860698, abs=2e-6)
    assert share.high == pytest.approx(1 - 0.229333, abs=2e-6)
    zero = km.share_within(0)
    assert zero is not None and zero.share == 0.0
    # last observation censored, S > 0: unknown beyond it
    open_ended = kaplan_meier([1, 2], [5])
    assert open_ended.survival_at(5) == pytest.approx(1 / 3)
    assert open_ended.survival_at(5.1) is None
    assert open_ended.share_within(6) is None


def test_kaplan_meier_tie_event_before_censoring() -> None:
    # 2E 2C 3E: at t = 2, n = 3 (the censored one is at risk), d = 1 -> S = 2/3;
    # at t = 3, n = 1, d = 1 -> S = 0. Censoring first would give 1/2 at t = 2.
    km = kaplan_meier_pairs([(2, True), (2, False), (3, True)])
    assert [(s.time, s.at_risk, s.events, s.censored) for s in km.steps] == [
        (2, 3, 1, 1),
        (3, 1, 1, 0),
    ]
    assert km.steps[0].survival == pytest.approx(2 / 3)


def test_kaplan_meier_all_censored_median_not_reached() -> None:
    km = kaplan_meier([], [5, 5, 7])
    assert [s.survival for s in km.steps] == [1.0, 1.0]
    assert [(s.low, s.high) for s in km.steps] == [(1.0, 1.0), (1.0, 1.0)]
    assert [s.variance for s in km.steps] == [0.0, 0.0]
    median = km.median()
    assert (median.median, median.low, median.high) == (None, None, None)
    empty = kaplan_meier([])
    assert empty.steps == () and empty.median().median is None


def test_kaplan_meier_median_when_s_is_exactly_one_half() -> None:
    # 0 0 1 1 2 3 3 3 3 3 (no censoring): S = 8/10, then .8 * 6/8 = .6, then .6 * 5/6 = .5
    # at t = 2 — in floats 0.5000000000000001. Median = 2 (the 5th of 10 sorted values,
    # inf{t : F_n(t) >= 1/2}), not 3.
    km = kaplan_meier([0, 0, 1, 1, 2, 3, 3, 3, 3, 3])
    assert km.steps[2].survival == pytest.approx(0.5)
    assert km.median().median == 2
    assert km_median([0, 0, 1, 1, 2, 3, 3, 3, 3, 3]).median == 2


def test_kaplan_meier_single_event() -> None:
    # n = 1: S drops from 1 to 0 at t = 3; the band jumps [1,1] -> [0,0]; median 3, CI [3, 3]
    median = kaplan_meier([3]).median()
    assert (median.median, median.low, median.high) == (3, 3, 3)


def test_kaplan_meier_rejects_bad_times() -> None:
    for events, censored in (([-1.0], []), ([1.0], [math.nan]), ([math.inf], [])):
        with pytest.raises(ValueError):
            kaplan_meier(events, censored)


# Freireich et al. (1963) 6-MP arm (Gehan 1965), remission weeks, + = censored:
# 6 6 6 6+ 7 9+ 10 10+ 11+ 13 16 17+ 19+ 20+ 22 23 25+ 32+ 32+ 34+ 35+.
# Published (Kleinbaum & Klein, "Survival Analysis", ch. 2; R survival::survfit with
# conf.type = "log-log"):
#   time n.risk n.event survival std.err lower upper
#      6     21       3    0.857  0.0764 0.620 0.952
#      7     17       1    0.807  0.0869 0.563 0.923
#     10     15       1    0.753  0.0963 0.503 0.889
#     13     12       1    0.690  0.1068 0.432 0.849
#     16     11       1    0.627  0.1141 0.368 0.805
#     22      7       1    0.538  0.1282 0.268 0.747
#     23      6       1    0.448  0.1346 0.188 0.680
# median 23, 95 % CI (13, NA). Check of the first row by hand: S = 18/21 = 0.857143,
# G = 3/(21*18) = 0.0079365, std.err = S sqrt(G) = 0.857143 * 0.089087 = 0.076360.
MP6_EVENTS = [6, 6, 6, 7, 10, 13, 16, 22, 23]
MP6_CENSORED = [6, 9, 10, 11, 17, 19, 20, 25, 32, 32, 34, 35]
MP6_TABLE = [
    (6, 21, 3, 0.857, 0.0764, 0.620, 0.952),
    (7, 17, 1, 0.807, 0.0869, 0.563, 0.923),
    (10, 15, 1, 0.753, 0.0963, 0.503, 0.889),
    (13, 12, 1, 0.690, 0.1068, 0.432, 0.849),
    (16, 11, 1, 0.627, 0.1141, 0.368, 0.805),
    (22, 7, 1, 0.538, 0.1282, 0.268, 0.747),
    (23, 6, 1, 0.448, 0.1346, 0.188, 0.680),
]


def test_kaplan_meier_freireich_6mp() -> None:
    km = kaplan_meier(MP6_EVENTS, MP6_CENSORED)
    event_steps = [s for s in km.steps if s.events]
    assert len(event_steps) == len(MP6_TABLE)
    for step, (t, n, d, surv, se, low, high) in zip(event_steps, MP6_TABLE, strict=True):
        assert (step.time, step.at_risk, step.events) == (t, n, d)
        assert step.survival == pytest.approx(surv, abs=5e-4)
        assert step.variance is not None
        assert math.sqrt(step.variance) == pytest.approx(se, abs=5e-5)
        assert step.low == pytest.approx(low, abs=5e-4)
        assert step.high == pytest.approx(high, abs=5e-4)
    median = km.median()
    assert (median.median, median.low, median.high) == (23, 13, None)


times = st.integers(min_value=0, max_value=15)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(times, st.booleans()), max_size=40))
def test_kaplan_meier_properties(observations: list[tuple[int, bool]]) -> None:
    km = kaplan_meier_pairs(observations)
    previous = 1.0
    for step in km.steps:
        assert 0.0 <= step.survival <= previous + 1e-12
        assert 0.0 <= step.low <= step.survival <= step.high <= 1.0
        previous = step.survival
    events = [t for t, e in observations if e]
    censored = [t for t, e in observations if not e]
    assert km_median(events, censored) == km.median()


@settings(max_examples=150, deadline=None)
@given(st.lists(times, min_size=1, max_size=40))
def test_kaplan_meier_without_censoring_is_empirical_survival(events: list[int]) -> None:
    km = kaplan_meier(events)
    n = len(events)
    for step in km.steps:
        assert step.survival == pytest.approx(sum(1 for e in events if e > step.time) / n)
    # median = inf{t : F_n(t) >= 1/2}: the ceil(n/2)-th smallest value (type 1)
    assert km.median().median == sorted(events)[math.ceil(n / 2) - 1]
