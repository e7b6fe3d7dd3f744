"""Statistics cells computed by the database, finished in Python over aggregates.

    business_day_rows ──> storage.business_days (one row per département/day: a temporary
        table on SQLite, arrays on PostgreSQL)
    storage.cell_stats.cell_aggregates, per grouping ──> counts, visit quantiles, score parts,
        packed delay samples (one GROUP BY per grouping)
    storage.stats.stream_contact_rows(the detailed ids) ──reports.facts──> _Acc per cell:
        audit-grid and content criteria, irregular calls, their scores (what SQL leaves)
    ──> Cell: Wilson intervals, delay quantiles and Kaplan–Meier medians (numpy over the
        cell's samples), scores, small flag, rank (``reports.aggregate._rank``)

Same figures as ``reports.aggregate.aggregate`` over ``reports.campaign_stats.contact_records``,
to the last bit (``tests/reports/test_db_stats.py`` compares the two on random campaigns on
both backends). The reasons, piece by piece:

- counts and within-target flags follow the same rules (``storage.contact_facts``);
- delays: the database returns integer microseconds and business days; hours are
  ``us / 1e6 / 3600.0`` here, the same two correctly rounded divisions as
  ``timedelta.total_seconds() / 3600.0``;
- quantiles: type 7 on the sorted samples (``reports.intervals.quantiles_sorted``); KM:
  ``reports.survival.km_median_counts`` over the distinct values;
- scores: sums of weights are exact in any order when every weight is an integer, which
  ``supported`` checks (the shipped catalogue's are); otherwise, and whenever the database
  reports something the Python rules refuse with an error (clock skew beyond tolerance,
  unknown channel, negative population) or a day outside the calendar table,
  ``compute_stats_db`` returns ``None`` and the caller uses the Python path.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.ext.asyncio import AsyncSession

from reports.aggregate import (
    TIMING_ACK,
    TIMING_ANSWER,
    TIMING_PICKUP,
    TIMING_WEIGHTS,
    _Acc,
    _key_getter,
    _rank,
)
from reports.cells import (
    CHANNELS,
    Cell,
    CriterionSummary,
    DelaySummary,
    PhoneSummary,
    VisitSummary,
)
from reports.facts import CountingCalendar
from reports.intervals import proportion, quantiles_sorted
from reports.stored_facts import contact_facts
from reports.strata import DEFAULT_STRATA, stratum_labels
from reports.survival import km_median_counts
from scenarios.calendar import BusinessCalendar
from scenarios.catalog import DEFAULT_TARGETS, Catalog
from storage.business_days import (
    DAY_US,
    BusinessDayRow,
    all_departements,
    drop_business_days,
    instant_span,
    load_business_days,
)
from storage.cell_stats import CellAggregate, cell_aggregates
from storage.contact_facts import Targets
from storage.stats import CampaignInfo, stream_contact_rows

__all__ = ["business_day_rows", "compute_stats_db", "load_calendar", "supported", "targets_of"]

_LEVELS = (0.5, 0.75, 0.9)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_us(at: datetime) -> int:
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def supported(catalog: Catalog, timing_weights: Mapping[str, float]) -> bool:
    """Every weight a whole number >= 0 (sums then exact in any order, see module doc)."""
    weights = [*timing_weights.values()]
    for scenario in catalog.scenarios.values():
        weights += [q.criterion_weight for q in scenario.grid if q.is_criterion]
    return all(math.isfinite(w) and w >= 0 and w == int(w) and w < 2**30 for w in weights)


def targets_of(catalog: Catalog) -> Targets:
    """The targets ``reports.stored_facts._targets`` gives, as data for the SQL."""
    scenarios = {
        sid: (s.targets.answer_days, s.targets.acknowledgement_days)
        for sid, s in catalog.scenarios.items()
    }
    channels = {
        str(ch.value): (d.get("answer_days"), d.get("acknowledgement_days"))
        for ch, d in DEFAULT_TARGETS.items()
    }
    return Targets(scenarios=scenarios, channels=channels)


def business_day_rows(
    departements: Sequence[str], first: datetime, last: datetime
) -> list[BusinessDayRow]:
    """One row per département and UTC day from ``first`` to ``last`` (a day of margin
    each side): where the local date changes inside the day and its business-day ordinals."""
    first_day = (first - _EPOCH).days - 2
    last_day = (last - _EPOCH).days + 2
    rows: list[BusinessDayRow] = []
    for dept in departements:
        calendar = BusinessCalendar.for_departement(dept)
        tz = calendar.tz
        base = (_EPOCH + timedelta(days=first_day)).astimezone(tz).date() - timedelta(days=1)
        ordinals: dict[date, int] = {}
        total = 0
        day = base
        end = (_EPOCH + timedelta(days=last_day + 1)).astimezone(tz).date() + timedelta(days=1)
        while day <= end:
            total += calendar.is_business_day(day)
            ordinals[day] = total
            day += timedelta(days=1)
        for utc_day in range(first_day, last_day + 1):
            start = _EPOCH + timedelta(days=utc_day)
            local = start.astimezone(tz).date()
            following = local + timedelta(days=1)
            midnight = datetime.combine(following, time(0), tzinfo=tz).astimezone(UTC)
            split = epoch_us(midnight) - utc_day * DAY_US
            if split >= DAY_US:
                split = DAY_US
            last_local = (start + timedelta(microseconds=DAY_US - 1)).astimezone(tz).date()
            if split <= 0 or last_local != (local if split == DAY_US else following):
                raise ValueError(f"time zone {tz} changes date twice on UTC day {utc_day}")
            rows.append(BusinessDayRow(dept, utc_day, split, ordinals[local], ordinals[following]))
    return rows


def _sort_key(
    names: Sequence[str], key: tuple[str | None, ...], order: Mapping[str, int]
) -> tuple[tuple[int, int, str], ...]:
    parts = []
    for name, value in zip(names, key, strict=True):
        if value is None:
            parts.append((1, 0, ""))
        elif name == "stratum":
            parts.append((0, order[value], ""))
        else:
            parts.append((0, 0, value))
    return tuple(parts)


def _hours(us: NDArray[np.int64]) -> NDArray[np.float64]:
    return us.astype(np.float64) / 1e6 / 3600.0


def _as_array(values: NDArray[np.float64]) -> array[float]:
    out = array("d")
    out.frombytes(np.ascontiguousarray(values, dtype=np.float64).tobytes())
    return out


def _delay(
    events: NDArray[np.float64], censored: NDArray[np.float64], confidence: float
) -> DelaySummary:
    ordered = np.sort(events)
    median, p75, p90 = (
        None if v is None else float(v)
        for v in quantiles_sorted(ordered, _LEVELS)  # type: ignore[arg-type]
    )
    # Distinct times and their counts per sample, then merged (no argsort of every value
    # for an inverse: the few distinct times are placed by a binary search).
    times_e, n_e = np.unique(ordered, return_counts=True)
    times_c, n_c = np.unique(censored, return_counts=True)
    times = np.union1d(times_e, times_c)
    counts_e = np.zeros(len(times), dtype=np.int64)
    counts_c = np.zeros(len(times), dtype=np.int64)
    counts_e[np.searchsorted(times, times_e)] = n_e
    counts_c[np.searchsorted(times, times_c)] = n_c
    km = km_median_counts(times, counts_e, counts_c, confidence=confidence)
    return DelaySummary(
        len(events),
        len(censored),
        median,
        p75,
        p90,
        km,
        _as_array(ordered),
        _as_array(np.sort(censored)),
    )


def _seconds_quantiles(us: NDArray[np.int64], levels: Sequence[float]) -> list[float | None]:
    """Type 7 quantiles of durations in µs, as seconds: the values ``timedelta.total_seconds``
    gives (one correctly rounded division of an exact double), the arithmetic of
    ``quantiles_sorted`` on Python floats."""
    seconds: list[float] = np.sort(us.astype(np.float64) / 1e6).tolist()
    return quantiles_sorted(seconds, levels)


def _median(values: Sequence[float]) -> float | None:
    return quantiles_sorted(sorted(values), (0.5,))[0]


def _cell(
    names: tuple[str, ...],
    agg: CellAggregate,
    key: tuple[str | None, ...],
    detail: _Acc,
    weights: Mapping[str, float],
    *,
    min_cell: int,
    confidence: float,
) -> Cell:
    n = agg.counts
    s = agg.samples
    criteria: dict[str, tuple[int, int]] = {}
    if n["answer_n"]:
        criteria[TIMING_ANSWER] = (n["answer_n"], n["answer_within"])
    if n["ack_n"]:
        criteria[TIMING_ACK] = (n["ack_n"], n["ack_within"])
    for cid, (assessed, met) in detail.criteria.items():
        if cid not in (TIMING_ANSWER, TIMING_ACK):
            criteria[cid] = (assessed, met)
    # Calls the database read: not picked up = the pick-up criterion not met (picked up, the
    # rings are unknown without grid answers: not assessed); hold 0 for each picked call.
    missed = n["phone_calls"] - n["phone_picked"]
    if missed:
        assessed, met = criteria.get(TIMING_PICKUP, (0, 0))
        criteria[TIMING_PICKUP] = (assessed + missed, met)
    calls = detail.phone_calls + n["phone_calls"]
    picked = detail.picked_up + n["phone_picked"]
    pickup = [*detail.pickup_seconds, *(s["pickup"] / 1_000_000).tolist()]
    hold = [*detail.hold, *([0.0] * n["phone_picked"])]
    transfers_n = detail.transfers_n + n["phone_picked"]
    transfers_sum = detail.transfers_sum + n["transfers_sum"]
    w_ans, w_ack = weights[TIMING_ANSWER], weights[TIMING_ACK]
    waiting = _seconds_quantiles(s["waiting"], (0.5, 0.9))
    scores: list[tuple[str, float | None]] = []
    weighted = 0.0
    contacts = 0
    for channel in CHANNELS:
        num = detail.score_num.get(channel, 0.0)
        den = detail.score_den.get(channel, 0.0)
        scored = detail.score_contacts.get(channel, 0)
        if channel in agg.score_parts:
            ans_n, ans_met, ack_n, ack_met, sql_scored = agg.score_parts[channel]
            num += w_ans * ans_met + w_ack * ack_met
            den += w_ans * ans_n + w_ack * ack_n
            scored += sql_scored
        elif channel == "phone" and missed:
            den += weights[TIMING_PICKUP] * missed
            scored += missed if weights[TIMING_PICKUP] > 0 else 0
        if den > 0:
            value = 100.0 * num / den
            scores.append((channel, value))
            weighted += scored * value
            contacts += scored
        else:
            scores.append((channel, None))
    return Cell(
        keys=tuple(zip(names, key, strict=True)),
        collectivity_name=agg.collectivity_name,
        planned=n["planned"],
        sent=n["sent"],
        undeliverable=n["undeliverable"],
        delivered=n["delivered"],
        written_delivered=n["written_delivered"],
        pending=n["pending"],
        response=proportion(n["answered"], n["written_delivered"], confidence),
        acknowledgement=proportion(n["acknowledged"], n["written_delivered"], confidence),
        answered_within_target=proportion(n["answer_within"], n["answer_n"], confidence),
        acknowledged_within_target=proportion(n["ack_within"], n["ack_n"], confidence),
        answer_hours=_delay(_hours(s["ans_h_e"]), _hours(s["ans_h_c"]), confidence),
        answer_bdays=_delay(
            s["ans_bd_e"].astype(np.float64), s["ans_bd_c"].astype(np.float64), confidence
        ),
        ack_hours=_delay(_hours(s["ack_h_e"]), _hours(s["ack_h_c"]), confidence),
        ack_bdays=_delay(
            s["ack_bd_e"].astype(np.float64), s["ack_bd_c"].astype(np.float64), confidence
        ),
        phone=PhoneSummary(
            calls=calls,
            picked_up=proportion(picked, calls, confidence),
            rings_median=_median(detail.rings),
            seconds_to_pickup_median=_median(pickup),
            transfers_mean=transfers_sum / transfers_n if transfers_n else None,
            hold_seconds_median=_median(hold),
        ),
        visit=VisitSummary(
            visits=n["visits"],
            waiting_seconds_median=waiting[0],
            waiting_seconds_p90=waiting[1],
            service_seconds_median=_seconds_quantiles(s["service"], (0.5,))[0],
        ),
        criteria=tuple(
            CriterionSummary(cid, proportion(met, assessed, confidence))
            for cid, (assessed, met) in sorted(criteria.items())
        ),
        channel_scores=tuple(scores),
        score=weighted / contacts if contacts else None,
        small=n["delivered"] < min_cell,
    )


async def compute_stats_db(
    session: AsyncSession,
    campaign: CampaignInfo,
    groupings: Sequence[Sequence[str]],
    *,
    as_of: datetime,
    catalog: Catalog,
    min_cell: int = 5,
    strata: Sequence[int] = DEFAULT_STRATA,
    confidence: float = 0.95,
    timing_weights: Mapping[str, float] = TIMING_WEIGHTS,
) -> list[tuple[tuple[str, ...], list[Cell]]] | None:
    """The cells of every grouping (as ``reports.campaign_stats.compute_stats``), or ``None`` when
    the Python rules must decide (module docstring)."""
    weights = {**TIMING_WEIGHTS, **timing_weights}
    if not supported(catalog, weights):
        return None
    bounds = tuple(strata)
    labels = stratum_labels(bounds)
    tables = None
    try:
        for exact in (False, True):
            # The usual span first; an instant outside it (flagged unmapped): the exact one.
            await load_calendar(session, campaign, as_of, exact=exact)
            tables = await _aggregates(
                session, campaign, groupings, as_of, catalog, bounds, weights
            )
            if tables is not None:
                break
    except _HandOver:
        return None
    finally:
        await drop_business_days(session)
    if tables is None:
        return None
    details = await _details(
        session,
        campaign,
        tables,
        as_of=as_of,
        catalog=catalog,
        bounds=bounds,
        labels=labels,
        weights=weights,
    )
    order = {label: i for i, label in enumerate(labels)}
    out: list[tuple[tuple[str, ...], list[Cell]]] = []
    for (names, aggs), detail in zip(tables, details, strict=True):
        keyed = []
        for agg in aggs:
            key = tuple(
                labels[int(v)] if name == "stratum" else v
                for name, v in zip(names, agg.keys, strict=True)
            )
            keyed.append((key, agg))
        keyed.sort(key=lambda item: _sort_key(names, item[0], order))
        cells = [
            _cell(
                names,
                agg,
                key,
                detail.get(key) or _Acc(None),
                weights,
                min_cell=min_cell,
                confidence=confidence,
            )
            for key, agg in keyed
        ]
        out.append((names, _rank(cells, "score", True)))
    return out


async def load_calendar(
    session: AsyncSession, campaign: CampaignInfo, as_of: datetime, *, exact: bool = False
) -> None:
    """Fill the business-day table for the campaign's delays.

    Usually over the campaign window, from a month before it to a month after the latest of
    its end, its close and ``as_of``, for every département of the directory (no scan of
    the contacts); ``exact``: over the campaign's stored instants (``instant_span``), for
    the rare campaign with an instant outside that span (the query flags it ``unmapped``).
    """
    rows: list[BusinessDayRow] = []
    closed = [campaign.closed_at] if campaign.closed_at else []
    if exact:
        first, last, departements = await instant_span(session, campaign.id)
        if first is not None and last is not None:
            rows = business_day_rows(departements, first, max([last, as_of, *closed]))
    else:
        start = datetime.combine(campaign.window_start, time(0), tzinfo=UTC)
        end = datetime.combine(campaign.window_end, time(0), tzinfo=UTC) + timedelta(days=1)
        rows = business_day_rows(
            await all_departements(session),
            start - timedelta(days=31),
            max([end, as_of, *closed]) + timedelta(days=31),
        )
    await load_business_days(session, rows)


class _HandOver(Exception):
    """The Python rules must decide (they raise on what the database flagged)."""


async def _aggregates(
    session: AsyncSession,
    campaign: CampaignInfo,
    groupings: Sequence[Sequence[str]],
    as_of: datetime,
    catalog: Catalog,
    bounds: tuple[int, ...],
    weights: Mapping[str, float],
) -> list[tuple[tuple[str, ...], list[CellAggregate]]] | None:
    """The database's cells of every grouping; None when an instant fell outside the
    business-day table; ``_HandOver`` on what the Python rules refuse."""
    tables: list[tuple[tuple[str, ...], list[CellAggregate]]] = []
    for by in groupings:
        names = tuple(by)
        aggs = await cell_aggregates(
            session,
            campaign_id=campaign.id,
            by=names,
            as_of_us=epoch_us(as_of),
            campaign_closed_us=epoch_us(campaign.closed_at) if campaign.closed_at else None,
            strata=bounds,
            targets=targets_of(catalog),
            timing_weights=(weights[TIMING_ANSWER], weights[TIMING_ACK]),
        )
        if any(a.counts["skew"] or a.counts["odd"] for a in aggs):
            raise _HandOver
        if any(a.counts["unmapped"] for a in aggs):
            return None
        tables.append((names, [a for a in aggs if a.counts["planned"]]))
    return tables


async def _details(
    session: AsyncSession,
    campaign: CampaignInfo,
    tables: Sequence[tuple[tuple[str, ...], Any]],
    *,
    as_of: datetime,
    catalog: Catalog,
    bounds: tuple[int, ...],
    labels: tuple[str, ...],
    weights: Mapping[str, float],
) -> list[dict[tuple[str | None, ...], _Acc]]:
    """Per grouping, the ``_Acc`` of each cell over the detailed contacts only."""
    getters = [[_key_getter(name, labels, bounds) for name in names] for names, _ in tables]
    accs: list[dict[tuple[str | None, ...], _Acc]] = [{} for _ in tables]
    calendars: dict[str, CountingCalendar] = {}
    scenarios = catalog.scenarios
    ids = _detailed_ids(tables)
    for start in range(0, len(ids), _ID_CHUNK):
        chunk = ids[start : start + _ID_CHUNK].tolist()
        async for row in stream_contact_rows(session, campaign.id, contact_ids=chunk):
            calendar = calendars.get(row.departement)
            if calendar is None:
                calendar = calendars[row.departement] = CountingCalendar(row.departement)
            facts = contact_facts(
                row,
                scenario=scenarios.get(row.scenario_id),
                calendar=calendar,
                campaign_closed_at=campaign.closed_at,
                as_of=as_of,
            )
            for getter, cells in zip(getters, accs, strict=True):
                key = tuple(get(facts) for get in getter)
                acc = cells.get(key)
                if acc is None:
                    acc = cells[key] = _Acc(None)
                acc.add(facts, weights)
    return accs


_ID_CHUNK = 5000


def _detailed_ids(tables: Sequence[tuple[tuple[str, ...], Any]]) -> NDArray[np.int64]:
    """The ids the database left to the Python rules (each grouping has them all)."""
    parts = [agg.samples["detailed_ids"] for agg in tables[0][1]] if tables else []
    return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
