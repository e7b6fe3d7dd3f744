"""Statistics core of the barometer: one import for the pure computation layer.

Everything here is a pure function over plain values or ``ContactFacts`` rows; no
database, no I/O, no clock. The pieces, each documented where it is defined so that a
statistician can audit the choices:

- ``reports.intervals`` — ``wilson_interval`` (Wilson score interval, ``n = 0`` → ``None``),
  ``proportion``, ``quantile``/``quantiles`` (Hyndman–Fan type 7 = PostgreSQL
  ``percentile_cont`` = numpy default).
- ``reports.survival`` — ``kaplan_meier`` (steps with at risk, events, censored, S(t),
  Greenwood variance, log-log pointwise band; events before censorings at ties),
  ``KaplanMeier.median()`` / ``km_median`` (Brookmeyer–Crowley interval from the band),
  ``KaplanMeier.share_within(t)`` (``1 - S(t)``).
- ``reports.facts`` — ``ContactFacts`` (one contact, flattened), ``delays_for`` /
  ``with_delays`` (calendar seconds, business days, deadline-based "within target",
  censoring at ``closed_at``).
- ``reports.strata`` — ``population_stratum`` (French labels, sortable with
  ``stratum_index``).
- ``reports.aggregate`` — ``aggregate(facts, by=...)`` → ``Cell`` list (counts, rates with
  Wilson intervals, delay quantiles and KM medians, phone and visit figures, criteria,
  scores out of 100 — the scoring rules are in its docstring —, small-cell flag, rank).
- ``reports.cells`` — ``Cell`` and its parts; ``Cell.to_row()`` with ``COLUMNS`` (every
  export column documented there) and ``Cell.criterion_rows()``.

The same cells at database speed: ``reports.db_stats`` (counts, delays and business days
by SQL in ``storage.contact_facts`` / ``storage.cell_stats``; Wilson intervals, quantiles
and ``survival.km_median_counts`` here, over aggregates), checked equal to the functions
above, to the last bit, by ``tests/reports/test_db_stats.py``.
"""

from __future__ import annotations

from reports.aggregate import (
    TIMING_ACK,
    TIMING_ANSWER,
    TIMING_PICKUP,
    TIMING_WEIGHTS,
    aggregate,
)
from reports.cells import (
    CHANNELS,
    COLUMNS,
    GROUP_KEYS,
    Cell,
    CriterionSummary,
    DelaySummary,
    PhoneSummary,
    RowValue,
    VisitSummary,
)
from reports.facts import ContactFacts, Delays, GridResult, delays_for, with_delays
from reports.intervals import (
    Proportion,
    proportion,
    quantile,
    quantiles,
    quantiles_sorted,
    wilson_interval,
    z_value,
)
from reports.strata import DEFAULT_STRATA, population_stratum, stratum_index, stratum_labels
from reports.survival import (
    KaplanMeier,
    KMStep,
    MedianEstimate,
    ShareEstimate,
    kaplan_meier,
    kaplan_meier_pairs,
    km_median,
    loglog_band,
)

__all__ = [
    "CHANNELS",
    "COLUMNS",
    "DEFAULT_STRATA",
    "GROUP_KEYS",
    "TIMING_ACK",
    "TIMING_ANSWER",
    "TIMING_PICKUP",
    "TIMING_WEIGHTS",
    "Cell",
    "ContactFacts",
    "CriterionSummary",
    "DelaySummary",
    "Delays",
    "GridResult",
    "KMStep",
    "KaplanMeier",
    "MedianEstimate",
    "PhoneSummary",
    "Proportion",
    "RowValue",
    "ShareEstimate",
    "VisitSummary",
    "aggregate",
    "delays_for",
    "kaplan_meier",
    "kaplan_meier_pairs",
    "km_median",
    "loglog_band",
    "population_stratum",
    "proportion",
    "quantile",
    "quantiles",
    "quantiles_sorted",
    "stratum_index",
    "stratum_labels",
    "wilson_interval",
    "with_delays",
    "z_value",
]
