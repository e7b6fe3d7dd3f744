"""Statistics core: Wilson intervals, type 7 quantiles, Kaplan–Meier, delays, aggregation.

Every expected value is either published (cited) or computed by hand in the comments;
z = Φ⁻¹(0.975) = 1.959964, z² = 3.841459 throughout.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.stats import (
    COLUMNS,
    TIMING_ACK,
    TIMING_ANSWER,
    TIMING_PICKUP,
    Cell,
    ContactFacts,
    aggregate,
    delays_for,
    kaplan_meier,
    kaplan_meier_pairs,
    km_median,
    population_stratum,
    quantile,
    quantiles,
    stratum_index,
    stratum_labels,
    wilson_interval,
    with_delays,
    z_value,
)
from scenarios.calendar import BusinessCalendar

PARIS = ZoneInfo("Europe/Paris")

# --------------------------------------------------------------------------- Wilson


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


# --------------------------------------------------------------------------- Kaplan–Meier

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


# --------------------------------------------------------------------------- strata


def test_population_strata() -> None:
    cases = {
        0: "moins de 2 000 hab.",
        1999: "moins de 2 000 hab.",
        2000: "2 000 à 10 000 hab.",
        9999: "2 000 à 10 000 hab.",
        10000: "10 000 à 50 000 hab.",
        49999: "10 000 à 50 000 hab.",
        50000: "50 000 hab. et plus",
        2_113_705: "50 000 hab. et plus",
    }
    for population, label in cases.items():
        assert population_stratum(population) == label
    labels = stratum_labels()
    assert labels == (
        "moins de 2 000 hab.",
        "2 000 à 10 000 hab.",
        "10 000 à 50 000 hab.",
        "50 000 hab. et plus",
    )
    assert sorted(labels) != list(labels)  # why a separate sort key is needed
    assert [stratum_index(p) for p in (5, 2000, 12000, 10**6)] == [0, 1, 2, 3]
    assert population_stratum(700, (500, 3500)) == "500 à 3 500 hab."
    assert stratum_labels((500, 3500))[-1] == "3 500 hab. et plus"
    for bad in ((), (0, 10), (10, 10), (10, 5)):
        with pytest.raises(ValueError):
            stratum_labels(bad)
    with pytest.raises(ValueError):
        population_stratum(-1)


# --------------------------------------------------------------------------- delays


def paris(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, second, tzinfo=PARIS).astimezone(UTC)


CAL75 = BusinessCalendar.for_departement("75")


def test_delays_answered() -> None:
    # Sent Monday 3 March 2025 09:00 Paris (CET), auto-ack 30 s later, answer Wednesday
    # 5 March 15:00: 2 days 6 h = 54 h = 194 400 s; business days Tue 4, Wed 5 = 2.
    d = delays_for(
        CAL75,
        sent_at=paris(3, 3, 9),
        first_ack_at=paris(3, 3, 9, 0, 30),
        first_answer_at=paris(3, 5, 15),
        closed_at=paris(3, 17, 18),
        ack_target_days=0,
        answer_target_days=2,
    )
    assert (d.answer_seconds, d.answer_business_days) == (194_400.0, 2)
    assert (d.ack_seconds, d.ack_business_days) == (30.0, 0)
    assert (d.censor_seconds, d.censor_business_days) == (None, None)
    # deadline(Mon, 2) = end of Wed 5 March > 15:00; deadline(Mon, 0) = end of Monday
    assert d.answered_within_target is True
    assert d.acknowledged_within_target is True
    late = delays_for(
        CAL75, sent_at=paris(3, 3, 9), first_answer_at=paris(3, 5, 15), answer_target_days=1
    )
    assert late.answered_within_target is False  # deadline end of Tuesday 4 March
    # no separate acknowledgement: the answer acknowledges
    assert (late.ack_seconds, late.ack_business_days) == (194_400.0, 2)


def test_delays_weekend_answer_after_the_last_working_day_is_on_time() -> None:
    # Target 4 business days from Monday 3 March. Answer Saturday 8 March 10:00: the business
    # days elapsed are Tue-Fri = 4, so on time ("4 jours ouvrés" counts working days). The
    # same answer on Monday 10 March has taken 5 working days: late. Kaplan-Meier's share
    # within target counts the same way.
    d = delays_for(
        CAL75, sent_at=paris(3, 3, 9), first_answer_at=paris(3, 8, 10), answer_target_days=4
    )
    assert d.answer_business_days == 4
    assert d.answered_within_target is True
    monday = delays_for(
        CAL75, sent_at=paris(3, 3, 9), first_answer_at=paris(3, 10, 8), answer_target_days=4
    )
    assert monday.answer_business_days == 5
    assert monday.answered_within_target is False


def test_delays_follow_the_departement_holidays() -> None:
    # Sent Thursday 17 April 2025 10:00, answered Tuesday 22 April 10:00 (120 h).
    # Paris: Fri 18 counts, Easter Monday 21 is a holiday, Tue 22 counts -> 2.
    # Bas-Rhin (67): Good Friday 18 April is also a holiday -> 1.
    sent, answer = paris(4, 17, 10), paris(4, 22, 10)
    paris_d = delays_for(CAL75, sent_at=sent, first_answer_at=answer)
    alsace = delays_for(
        BusinessCalendar.for_departement("67"), sent_at=sent, first_answer_at=answer
    )
    assert paris_d.answer_seconds == alsace.answer_seconds == 120 * 3600.0
    assert (paris_d.answer_business_days, alsace.answer_business_days) == (2, 1)


def test_delays_censored_and_window() -> None:
    sent, close = paris(3, 3, 9), paris(3, 17, 18)
    # no answer: censored at close. 14 days 9 h = 345 h; business days Tue 4 .. Mon 17 = 10
    d = delays_for(CAL75, sent_at=sent, closed_at=close, answer_target_days=5, ack_target_days=2)
    assert (d.censor_seconds, d.censor_business_days) == (345 * 3600.0, 10)
    assert (d.answer_seconds, d.ack_seconds) == (None, None)
    assert d.answered_within_target is False and d.acknowledged_within_target is False
    # closed before the deadline (end of Mon 10 March): cannot tell yet
    early = delays_for(CAL75, sent_at=sent, closed_at=paris(3, 7, 12), answer_target_days=5)
    assert early.answered_within_target is None
    # still open, no close: nothing to censor, nothing to tell
    open_ = delays_for(CAL75, sent_at=sent, answer_target_days=5)
    assert (open_.censor_seconds, open_.answered_within_target) == (None, None)
    # an answer after close is outside the window: censored at close
    after = delays_for(
        CAL75, sent_at=sent, first_answer_at=paris(3, 18, 9), closed_at=close, answer_target_days=5
    )
    assert after.answer_seconds is None and after.censor_seconds == 345 * 3600.0
    assert after.answered_within_target is False
    # an acknowledgement inside the window still counts when the answer is outside it
    acked = delays_for(
        CAL75, sent_at=sent, first_ack_at=paris(3, 3, 10), first_answer_at=paris(3, 18, 9),
        closed_at=close,
    )  # fmt: skip
    assert (acked.ack_seconds, acked.answer_seconds) == (3600.0, None)


def test_delays_not_reached_skew_and_naive() -> None:
    sent = paris(3, 3, 9)
    assert delays_for(CAL75, sent_at=None, answer_target_days=5).answered_within_target is None
    bounced = delays_for(
        CAL75, sent_at=sent, undeliverable=True, closed_at=paris(3, 17, 18), answer_target_days=5
    )
    assert bounced == type(bounced)()
    # 30 s before sent (IMAP INTERNALDATE vs our clock): zero delay
    skew = delays_for(CAL75, sent_at=sent, first_ack_at=sent - timedelta(seconds=30))
    assert (skew.ack_seconds, skew.ack_business_days) == (0.0, 0)
    with pytest.raises(ValueError):
        delays_for(CAL75, sent_at=sent, first_answer_at=sent - timedelta(minutes=10))
    with pytest.raises(ValueError):
        delays_for(CAL75, sent_at=datetime(2025, 3, 3, 9))


# --------------------------------------------------------------------------- aggregate
#
# Fixture: 15 contacts, all in département 75, two collectivities.
#   A = Paris (75056), 2 113 705 inhabitants -> "50 000 hab. et plus"
#   B = Petiteville (75999), 1 500 inhabitants -> "moins de 2 000 hab."
# Written requests sent Monday 3 March 2025 09:00 Paris, campaign closed Monday 17 March
# 18:00 (censoring: 345 h, 10 business days). Targets: answer 5 business days (deadline
# end of Monday 10 March), acknowledgement 2 (emails; deadline end of Wednesday 5 March).
#
#  id  coll ch      ack          answer            ans h/bd  ack h/bd     ans≤5 ack≤2 grid
#  E1  A    email   Mon 09:00:30 Tue 4 11:00       26 / 1    1/120 / 0    T     T     complete T(2)
#  E2  A    email   -            Thu 6 09:00       72 / 3    72 / 3       T     F     complete F(2)
#  E3  A    email   Mon 09:01    Wed 12 09:00      216 / 7   1/60 / 0     F     T     complete T(2)
#  E4  A    email   Mon 10:00    -  (cens.)        345c/10c  1 / 0        F     T     complete None
#  E5  B    email   -            -  (cens.)        345c/10c  345c/10c     F     F
#  E6  B    email   undeliverable
#  E7  B    email   never sent
#  E8  B    email   -            Mon 3 17:00       8 / 0     8 / 0        T     T
#  L1  A    letter  -            Mon 10 09:00      168 / 5   168 / 5      T     -
#  L2  B    letter  -            -  (cens.)        345c/10c  345c/10c     F     -
#  P1  A    phone   picked up, 3 rings, 12 s, 1 transfer, hold 30 s;  greeting T, named F
#  P2  A    phone   picked up, 6 rings, 25 s, 0 transfer, hold 0 s;   greeting T, named T
#  P3  B    phone   not picked up;                                     greeting None
#  V1  A    visit   waiting 300 s, service 600 s;  greeting T(1), accessible F(2)
#  V2  B    visit   waiting 900 s, service -;      greeting F(1), accessible T(2)

SENT = paris(3, 3, 9)
CLOSE = paris(3, 17, 18)
COLL = {
    "A": ("75056", "Paris", 2_113_705),
    "B": ("75999", "Petiteville", 1_500),
}


def fact(cid: int, coll: str, channel: str, **kw: object) -> ContactFacts:
    code, name, population = COLL[coll]
    written = channel in ("email", "letter")
    base: dict[str, object] = {
        "channel": channel,
        "scenario_id": f"{channel}-demande",
        "service_kind": "accueil_mairie",
        "collectivity_code": code,
        "collectivity_name": name,
        "collectivity_kind": "commune",
        "population": population,
        "departement": "75",
        "region": "11",
        "status": "done",
        "planned_at": SENT - timedelta(days=7),
        "contact_id": cid,
        "sent_at": SENT if written else paris(3, 3, 10),
        "closed_at": CLOSE if written else None,
        "answer_target_days": 5 if written else None,
        "ack_target_days": 2 if channel == "email" else None,
    }
    base.update(kw)
    return with_delays(ContactFacts(**base))  # type: ignore[arg-type]


def fixture() -> list[ContactFacts]:
    return [
        fact(1, "A", "email", first_ack_at=paris(3, 3, 9, 0, 30),
             first_answer_at=paris(3, 4, 11), grid=(("complete", 2.0, True),)),
        fact(2, "A", "email", first_answer_at=paris(3, 6, 9), grid=(("complete", 2.0, False),)),
        fact(3, "A", "email", first_ack_at=paris(3, 3, 9, 1),
             first_answer_at=paris(3, 12, 9), grid=(("complete", 2.0, True),)),
        fact(4, "A", "email", first_ack_at=paris(3, 3, 10), grid=(("complete", 2.0, None),)),
        fact(5, "B", "email"),
        fact(6, "B", "email", undeliverable=True, status="undeliverable"),
        fact(7, "B", "email", sent_at=None, closed_at=None, status="cancelled"),
        fact(8, "B", "email", first_answer_at=paris(3, 3, 17)),
        fact(9, "A", "letter", first_answer_at=paris(3, 10, 9)),
        fact(10, "B", "letter"),
        fact(11, "A", "phone", picked_up=True, rings=3, seconds_to_pickup=12.0, transfers=1,
             hold_seconds=30.0, grid=(("greeting", 1.0, True), ("named", 1.0, False))),
        fact(12, "A", "phone", picked_up=True, rings=6, seconds_to_pickup=25.0, transfers=0,
             hold_seconds=0.0, grid=(("greeting", 1.0, True), ("named", 1.0, True))),
        fact(13, "B", "phone", picked_up=False, grid=(("greeting", 1.0, None),)),
        fact(14, "A", "visit", waiting_seconds=300.0, service_seconds=600.0,
             grid=(("greeting", 1.0, True), ("accessible", 2.0, False))),
        fact(15, "B", "visit", waiting_seconds=900.0,
             grid=(("greeting", 1.0, False), ("accessible", 2.0, True))),
    ]  # fmt: skip


def test_fixture_delays_by_hand() -> None:
    facts = {f.contact_id: f for f in fixture()}
    answers = {i: (facts[i].answer_seconds, facts[i].answer_business_days) for i in (1, 2, 3, 8, 9)}
    assert answers == {
        1: (26 * 3600.0, 1),  # Mon 09:00 -> Tue 11:00
        2: (72 * 3600.0, 3),  # -> Thu 09:00
        3: (216 * 3600.0, 7),  # -> Wed 12 09:00: Tue-Fri (4) + Mon-Wed (3)
        8: (8 * 3600.0, 0),  # -> Mon 17:00, same day
        9: (168 * 3600.0, 5),  # -> Mon 10 09:00
    }
    assert (facts[4].ack_seconds, facts[4].censor_seconds) == (3600.0, 345 * 3600.0)
    assert facts[2].acknowledged_within_target is False  # Thursday > end of Wednesday
    assert facts[9].acknowledged_within_target is None  # letters: no ack target


def near(
    actual: tuple[float | None, ...], expected: tuple[float | None, ...], tol: float = 1e-6
) -> bool:
    """Element-wise |a - e| <= tol (None only matches None)."""
    return len(actual) == len(expected) and all(
        (a is None and e is None) or (a is not None and e is not None and abs(a - e) <= tol)
        for a, e in zip(actual, expected, strict=True)
    )


def one(cells: list[Cell]) -> Cell:
    assert len(cells) == 1
    return cells[0]


def test_aggregate_overall_by_hand() -> None:
    cell = one(aggregate(fixture()))
    assert cell.keys == ()
    # counts: 15 planned, E7 never sent -> 14 sent, E6 bounced -> 13 delivered;
    # written delivered: E1-E5, E8, L1, L2 = 8; nothing pending (all closed)
    assert (cell.planned, cell.sent, cell.undeliverable, cell.delivered) == (15, 14, 1, 13)
    assert (cell.written_delivered, cell.pending) == (8, 0)
    # answered E1 E2 E3 E8 L1 = 5/8; Wilson: z²/n = .480182,
    # centre = (.625 + .240091)/1.480182 = .584449,
    # half = 1.959964/1.480182 * sqrt(.625*.375/8 + 3.841459/256) = .278707
    r = cell.response
    assert (r.successes, r.n, r.rate) == (5, 8, 0.625)
    assert near((r.low, r.high), (0.305742, 0.863156))
    # acknowledged (ack or answer): E1 E2 E3 E4 E8 L1 = 6/8; centre (.75 + .240091)/1.480182
    # = .668898, half = 1.324138 * sqrt(.75*.25/8 + .015006) = .259623
    a = cell.acknowledgement
    assert (a.successes, a.n) == (6, 8)
    assert near((a.low, a.high), (0.409275, 0.928521))
    # within 5 business days: E1 E2 E8 L1 of 8 -> centre .5, half .284784
    w = cell.answered_within_target
    assert (w.successes, w.n) == (4, 8)
    assert near((w.low, w.high), (0.215216, 0.784784))
    # ack within 2 (emails): E1 E3 E4 E8 of E1-E5, E8 -> 4/6; z²/n = .640243,
    # centre = (.666667 + .320122)/1.640243 = .601611, half = 1.194921 * sqrt(.037037 + .026674)
    # = .301618
    k = cell.acknowledged_within_target
    assert (k.successes, k.n) == (4, 6)
    assert near((k.low, k.high), (0.299993, 0.903229))

    # answer delays, observed [8, 26, 72, 168, 216] h: median 72, p75 (h = 3) 168,
    # p90 (h = 3.6) 168 + .6*48 = 196.8; business days [0, 1, 3, 5, 7]: 3, 5, 5 + .6*2 = 6.2
    ah, ab = cell.answer_hours, cell.answer_bdays
    assert (ah.observed, ah.censored) == (5, 3)
    assert near((ah.median, ah.p75, ah.p90), (72, 168, 196.8))
    assert near((ab.median, ab.p75, ab.p90), (3, 5, 6.2))
    # KM, n = 8, censored 3 at 345 h: S = 7/8, 6/8, 5/8, 4/8 at 8, 26, 72, 168 h -> median
    # 168 (S = .5 exactly; R would average with the next event time, we take the infimum).
    # lower band at 8 h: .387 <= .5 -> low = 8; upper band .981 .931 .861 .775 .674 stays
    # above .5 -> high not reached.
    assert (ah.km.median, ah.km.low, ah.km.high) == (168, 8, None)
    assert (ab.km.median, ab.km.low, ab.km.high) == (5, 0, None)
    # ack delays, observed [1/120, 1/60, 1, 8, 72, 168] h: median (h = 2.5) 1 + .5*7 = 4.5,
    # p75 (h = 3.75) 8 + .75*64 = 56, p90 (h = 4.5) 72 + .5*96 = 120; censored E5 L2.
    kh, kb = cell.ack_hours, cell.ack_bdays
    assert (kh.observed, kh.censored) == (6, 2)
    assert near((kh.median, kh.p75, kh.p90), (4.5, 56, 120))
    # KM: 7/8, 6/8, 5/8, 4/8 at 1/120, 1/60, 1, 8 h -> median 8; low 1/120; upper band
    # ends at .558 (t = 168) -> not reached
    assert near((kh.km.median, kh.km.low, kh.km.high), (8, 1 / 120, None))
    # business days [0, 0, 0, 0, 3, 5]: median 0, p75 (h = 3.75) 0 + .75*3 = 2.25,
    # p90 (h = 4.5) 3 + .5*2 = 4; KM: 4 events at 0 of 8 -> S = .5 -> median 0
    assert (kb.median, kb.p75, kb.p90) == (0, 2.25, 4)
    assert (kb.km.median, kb.km.low, kb.km.high) == (0, 0, None)

    # phone: 3 calls, 2 picked up (Wilson 2/3: z²/n = 1.280486, centre .573084,
    # half .365424); rings [3, 6] -> 4.5; seconds [12, 25] -> 18.5; transfers (1 + 0)/2;
    # hold [30, 0] -> 15
    ph = cell.phone
    assert (ph.calls, ph.picked_up.successes, ph.picked_up.n) == (3, 2, 3)
    assert ph.picked_up.low == pytest.approx(0.207660, abs=1e-6)
    assert ph.picked_up.high == pytest.approx(0.938508, abs=1e-6)
    assert (ph.rings_median, ph.seconds_to_pickup_median) == (4.5, 18.5)
    assert (ph.transfers_mean, ph.hold_seconds_median) == (0.5, 15)
    # visits: waiting [300, 900] -> median 600, p90 300 + .9*600 = 840; service [600]
    v = cell.visit
    assert (v.visits, v.waiting_seconds_median, v.waiting_seconds_p90) == (2, 600, 840)
    assert v.service_seconds_median == 600

    crit = {c.criterion_id: (c.met.successes, c.met.n) for c in cell.criteria}
    assert crit == {
        TIMING_ANSWER: (4, 8),
        TIMING_ACK: (4, 6),
        TIMING_PICKUP: (1, 3),  # P1 3 rings yes; P2 6 rings no; P3 not picked up no
        "complete": (2, 3),  # E1 E3 of E1-E3 (E4 not assessed)
        "greeting": (3, 4),  # P1 P2 V1 of P1 P2 V1 V2 (P3 not assessed)
        "named": (1, 2),
        "accessible": (1, 2),
    }

    # scores, weights: answer 2, ack 1, pick-up 1, grid as given
    # email: E1 (2+1+2)/5, E2 (2+0+0)/5, E3 (0+1+2)/5, E4 (0+1)/3, E5 0/3, E8 (2+1)/3
    #   = 14/24 -> 58.3333 (6 contacts)
    # letter: L1 2/2, L2 0/2 -> 50 (2); phone: P1 (1+1+0)/3, P2 (0+1+1)/3, P3 0/1 -> 4/7
    #   = 57.142857 (3); visit: V1 1/3, V2 2/3 -> 3/6 = 50 (2)
    # overall = (6*1400/24 + 2*50 + 3*400/7 + 2*50)/13 = (350 + 100 + 1200/7 + 100)/13
    #   = 5050/91 = 55.494505
    scores = dict(cell.channel_scores)
    assert scores == {
        "email": pytest.approx(1400 / 24),
        "letter": 50.0,
        "phone": pytest.approx(400 / 7),
        "visit": 50.0,
    }
    assert cell.score == pytest.approx(5050 / 91)
    assert cell.small is False and cell.rank == 1


def test_aggregate_by_channel_small_cells_have_no_rank() -> None:
    cells = aggregate(fixture(), by=("channel",))
    assert [c.key("channel") for c in cells] == ["email", "letter", "phone", "visit"]
    # delivered: email 6 (E1-E5, E8), letter 2, phone 3, visit 2; min_cell 5
    assert [c.delivered for c in cells] == [6, 2, 3, 2]
    assert [c.small for c in cells] == [False, True, True, True]
    assert [c.rank for c in cells] == [1, None, None, None]
    email = cells[0]
    assert (email.planned, email.sent, email.undeliverable) == (8, 7, 1)
    assert (email.response.successes, email.response.n) == (4, 6)  # E1 E2 E3 E8
    assert email.score == pytest.approx(1400 / 24)
    assert email.phone.calls == 0 and email.phone.picked_up.rate is None
    # min_cell 2: all ranked; scores 58.33, 50, 57.14, 50 -> 1, 3, 2, 3 (ties share)
    ranked = aggregate(fixture(), by=("channel",), min_cell=2)
    assert [c.rank for c in ranked] == [1, 3, 2, 3]
    # ranking on another column, lower is better: KM median answer hours
    # email: [8, 26, 72, 216] answered + E4 E5 censored (n = 6): S 5/6, 4/6, 3/6 -> 72;
    # letter: [168] + 1 censored: S = 1/2 at 168 -> 168; phone and visit: no written -> None
    by_delay = aggregate(
        fixture(), by=("channel",), min_cell=2, rank_by="answer_hours_km_median",
        higher_is_better=False,
    )  # fmt: skip
    assert [c.answer_hours.km.median for c in by_delay] == [72, 168, None, None]
    assert [c.rank for c in by_delay] == [1, 2, None, None]


def test_aggregate_by_stratum_sorted_by_population() -> None:
    cells = aggregate(fixture(), by=("stratum",))
    assert [c.key("stratum") for c in cells] == ["moins de 2 000 hab.", "50 000 hab. et plus"]
    small_town, city = cells
    # B: E5 E6 E7 E8 L2 P3 V2 planned 7, sent 6 (E7), delivered 5 (E6 bounced)
    assert (small_town.planned, small_town.sent, small_town.delivered) == (7, 6, 5)
    assert (city.planned, city.delivered) == (8, 8)
    # B: email E5 0/3 + E8 3/3 -> 50 (2 contacts); letter L2 0/2 -> 0 (1); phone P3 0/1
    #   -> 0 (1); visit V2 2/3 -> 66.667 (1); overall (2*50 + 0 + 0 + 200/3)/5 = 100/3
    assert small_town.score == pytest.approx(100 / 3)
    # A: email (5 + 2 + 3 + 1)/(5 + 5 + 5 + 3) = 11/18 (4); letter 100 (1); phone 4/6 (2);
    #   visit 1/3 (1): (4*1100/18 + 100 + 2*200/3 + 100/3)/8 = (4600/9)/8 = 575/9
    assert city.score == pytest.approx(575 / 9)
    assert (city.rank, small_town.rank) == (1, 2)


def test_aggregate_by_collectivity_rows() -> None:
    cells = aggregate(fixture(), by=("collectivity", "channel"))
    assert [(c.key("collectivity"), c.key("channel")) for c in cells] == [
        ("75056", "email"), ("75056", "letter"), ("75056", "phone"), ("75056", "visit"),
        ("75999", "email"), ("75999", "letter"), ("75999", "phone"), ("75999", "visit"),
    ]  # fmt: skip
    row = cells[0].to_row()
    assert list(row) == list(COLUMNS)
    assert row["collectivity"] == "75056" and row["collectivity_name"] == "Paris"
    assert row["channel"] == "email" and row["stratum"] is None
    # Paris emails E1-E4: answered E1 E2 E3 = 3/4
    assert (row["answered"], row["written_delivered"], row["response_rate"]) == (3, 4, 0.75)
    assert row["small"] is True and row["rank"] is None
    json.dumps(row)  # plain values only
    overall = aggregate(fixture())[0].to_row()
    assert overall["collectivity_name"] is None
    assert overall["answer_hours_km_median"] == 168
    assert overall["answer_hours_km_median_high"] is None
    criteria = aggregate(fixture())[0].criterion_rows()
    greeting = next(r for r in criteria if r["criterion_id"] == "greeting")
    assert (greeting["assessed"], greeting["met"], greeting["rate"]) == (4, 3, 0.75)


def test_aggregate_pending_and_errors() -> None:
    # open campaign: no closed_at -> no censoring time, counted as pending
    open_fact = fact(1, "A", "email", closed_at=None)
    cell = one(aggregate([open_fact]))
    assert (cell.pending, cell.answer_hours.censored, cell.response.rate) == (1, 0, 0.0)
    assert cell.answered_within_target.n == 0 and cell.small is True and cell.rank is None
    # delays not filled
    raw = ContactFacts(
        channel="email", scenario_id="s", service_kind="ccas", collectivity_code="1",
        collectivity_name="X", collectivity_kind="commune", population=10, departement="75",
        region=None, status="answered", planned_at=SENT, sent_at=SENT,
        first_answer_at=SENT + timedelta(hours=1),
    )  # fmt: skip
    with pytest.raises(ValueError, match="with_delays"):
        aggregate([raw])
    with pytest.raises(ValueError, match="grouping key"):
        aggregate([], by=("colour",))
    with pytest.raises(ValueError):
        aggregate([], rank_by="nope")
    with pytest.raises(ValueError, match="channel"):
        aggregate([dataclasses.replace(open_fact, channel="fax")])
    with pytest.raises(ValueError, match="negative weight"):
        aggregate([dataclasses.replace(open_fact, grid=(("x", -1.0, True),))])
    assert aggregate([]) == []


def test_aggregate_streams_a_generator() -> None:
    # 2 000 contacts from a generator, read once: every 4th answered after 10 h, rest
    # censored at 345 h -> response 500/2000, KM S = 1 - 500/2000 = .75 > .5: not reached
    def gen() -> Iterator[ContactFacts]:
        for i in range(2000):
            answer = paris(3, 3, 19) if i % 4 == 0 else None
            yield fact(i, "A" if i % 2 else "B", "email", first_answer_at=answer)

    cells = aggregate(gen(), by=("stratum",))
    assert sum(c.planned for c in cells) == 2000
    overall = one(aggregate(gen()))
    assert (overall.response.successes, overall.response.n) == (500, 2000)
    assert overall.answer_hours.km.median is None
    assert overall.answer_hours.median == 10.0
