"""Per-contact facts in SQL: origin, window, clamped events, delays and business days.

One SELECT, the same on SQLite and PostgreSQL up to a few dialect words, that the
statistics (``storage.cell_stats``) group and the contact export streams
(``stream_facts``: a server-side cursor, partitions of rows)::

    contact ⋈ service ⋈ collectivity
      -> the timeline's instants and call outcome as the contact row keeps them (``ev_*``,
         maintained by triggers: ``storage.event_facts``), the rest of the instants as
         integer microseconds since 1970-01-01 UTC (``*_us``)
      -> window and clamps (the rules of ``reports.facts.delays_for``, restated below)
      ⟕ tmp_business_day ×4 (SQLite) / subscripts of three arrays (PostgreSQL)
         (``storage.business_days``: ordinal of sent, answer, ack, close)
      -> delays in µs and business days, within-target flags

The rules, mirrored from ``reports.facts`` and ``reports.stored_facts`` (module docstrings
there; the equivalence tests in ``tests/reports/`` hold the two together):

- origin ``sent_us``: the first ``letter.posted`` / ``call.started`` / ``visit.arrived``
  event of a letter / call / visit, else the contact's ``sent_at``; answer: the first
  ``letter.reply_received`` of a letter, else ``first_answer_at``.
- window end ``closed_us``: the contact's ``closed_at``, else the campaign's, else (sent,
  campaign open) ``max(as_of, sent)``.
- delivered = sent and status not ``undeliverable``; for delivered contacts only: the end is
  clamped up to ``sent``; an answer after the end is ignored; the acknowledgement is the
  earlier of ``first_ack_at`` and that answer, ignored after the end; event instants are
  clamped up to ``sent``; ``censor_*`` only without an answer.
- ``skew``: an end, answer or acknowledgement more than 120 s before ``sent`` — the Python
  rules refuse it with an error, so a caller seeing it hands over to them.
- calls (``storage.event_facts``): per attempt (``detail["attempt"]``), the first attempt
  picked up is the call (seconds to pick-up from its first start, its transfers; hold 0);
  else not picked up if an attempt ended in voicemail, no answer or busy; else unknown.
- ``detailed``: content checks, or (``ev_detailed``) grid answers or a call whose timeline
  the SQL does not read (a hold, an event without an integer attempt, a non-call event):
  what only the Python rules compute.

Targets come in as literals from the caller (``Targets``); strata bounds as parameters.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage.business_days import DAY_US, TABLE, DayArrays, day_arrays, epoch_us

__all__ = [
    "RANGE_ROWS",
    "SKEW_US",
    "Targets",
    "facts_sql",
    "stream_facts",
]

SKEW_US = 120_000_000

# A JSON column given Python's None holds the JSON text 'null' (SQLAlchemy's default),
# which is no checks at all.
_DETAILED_SQL = "((c.checks IS NOT NULL AND {checks_text} <> 'null') OR c.ev_detailed)"


@dataclass(frozen=True, slots=True)
class Targets:
    """Answer and acknowledgement targets (business days): per scenario id, and per channel
    for a scenario not listed."""

    scenarios: Mapping[str, tuple[int | None, int | None]] = field(default_factory=dict)
    channels: Mapping[str, tuple[int | None, int | None]] = field(default_factory=dict)


# Output columns copied from the stages as they are (the rest are computed at the end).
_PASSTHROUGH = (
    "id", "channel", "scenario_id", "status", "wording", "service_id", "service_kind",
    "service_name", "collectivity_id", "coll_code", "coll_name", "coll_kind", "population",
    "departement", "region", "stratum", "persona_id", "auditor_id",  # then planned_us
    "sent_us", "answer_us", "ack_us", "closed_us", "delivered", "written", "detailed",
    "answer_target", "ack_target",
)  # fmt: skip
_PASSTHROUGH_TAIL = (
    "waiting_us", "service_us", "picked", "pickup_us", "transfers", "phone_attempts", "skew",
)  # fmt: skip
# Base columns the stages read whatever the output.
_STAGE_INPUTS = frozenset(
    ("sent_us", "answer_us", "ack_us", "closed0_us", "status", "channel", "departement")
)


def _literal(value: int | None) -> str:
    return "NULL" if value is None else str(int(value))


def _targets(dialect: str, targets: Targets, params: dict[str, Any]) -> tuple[str, str, str, str]:
    """(CTE, join, answer target, ack target): on PostgreSQL a VALUES table of the
    scenarios' targets joined by scenario id (one hash lookup, not a CASE over every
    scenario); on SQLite, which scans such a table for every contact (no index on a CTE),
    a CASE over the scenario ids; the channel defaults for a scenario not listed."""

    def by_channel(index: int) -> str:
        whens = " ".join(
            f"WHEN '{_safe(ch)}' THEN {_literal(pair[index])}"
            for ch, pair in targets.channels.items()
        )
        return f"CASE c.channel {whens} END" if whens else "NULL"

    if not targets.scenarios:
        return "", "", by_channel(0), by_channel(1)
    if dialect == "sqlite":
        cases: list[list[str]] = [[], []]
        for i, (sid, pair) in enumerate(sorted(targets.scenarios.items())):
            params[f"sc{i}"] = sid
            for index in (0, 1):
                cases[index].append(f"WHEN :sc{i} THEN {_literal(pair[index])}")
        answer_sql, ack_sql = (
            f"(CASE c.scenario_id {' '.join(c)} ELSE {by_channel(i)} END)"
            for i, c in enumerate(cases)
        )
        return "", "", answer_sql, ack_sql
    rows = []
    for i, (sid, (answer, ack)) in enumerate(sorted(targets.scenarios.items())):
        params[f"sc{i}"] = sid
        rows.append(
            f"(CAST(:sc{i} AS VARCHAR(80)), CAST({_literal(answer)} AS INTEGER),"
            f" CAST({_literal(ack)} AS INTEGER))"
        )
    cte = f"tg (scenario_id, answer_days, ack_days) AS (VALUES {', '.join(rows)}),\n"
    return (
        cte,
        " LEFT JOIN tg ON tg.scenario_id = c.scenario_id",
        f"(CASE WHEN tg.scenario_id IS NOT NULL THEN tg.answer_days ELSE {by_channel(0)} END)",
        f"(CASE WHEN tg.scenario_id IS NOT NULL THEN tg.ack_days ELSE {by_channel(1)} END)",
    )


def _safe(word: str) -> str:
    if not word.replace("_", "").isalnum():
        raise ValueError(f"unexpected channel name {word!r}")
    return word


def _ord(instant: str, alias: str) -> str:
    return (
        f"(CASE WHEN ({instant} % {DAY_US}) >= {alias}.split_us"
        f" THEN {alias}.ord_after ELSE {alias}.ord_before END)"
    )


# The instants whose business-day ordinal the delays read: sent, answer, ack, censoring.
_ORD_INSTANTS = {"s": "sent_us", "a": "ans_at", "k": "ack_at", "c": "censor_at"}


def _ord_array(instant: str, days: DayArrays, guard: str) -> str:
    """PostgreSQL: the ordinal of ``instant`` from the ``DayArrays`` parameters (NULL for
    a département or a day they do not cover, as a missing row of the SQLite table)."""
    day = f"({instant} / {DAY_US})"
    first, stop = days.first_day, days.first_day + days.days
    index = f"((o.dept_n - 1) * {days.days} + {day} - {first} + 1)"
    return (
        f"(CASE WHEN {guard}{day} >= {first} AND {day} < {stop} THEN"
        f" CASE WHEN ({instant} % {DAY_US}) >= (CAST(:bd_split AS BIGINT[]))[{index}]"
        f" THEN (CAST(:bd_after AS INTEGER[]))[{index}]"
        f" ELSE (CAST(:bd_before AS INTEGER[]))[{index}] END END)"
    )


def facts_sql(
    dialect: str,
    *,
    campaign_id: int,
    as_of_us: int,
    campaign_closed_us: int | None,
    strata: Sequence[int],
    targets: Targets,
    with_planned: bool = False,
    channel: str | None = None,
    id_range: bool = False,
    columns: Sequence[str] | None = None,
    days: DayArrays | None = None,
) -> tuple[str, dict[str, Any]]:
    """The per-contact facts SELECT (a subquery's text) and its parameters.

    Columns: ``id channel scenario_id status wording service_id service_kind service_name
    collectivity_id coll_code coll_name coll_kind population departement region stratum
    persona_id auditor_id planned_us sent_us answer_us ack_us closed_us delivered written
    detailed answer_target ack_target ans_delay_us ans_bd ack_delay_us ack_bd censor_us
    censor_bd ans_within ack_within waiting_us service_us picked pickup_us transfers
    phone_attempts skew unmapped`` (``*_us``
    integers; ``*_bd`` business days; flags are booleans on PostgreSQL, 0/1 on SQLite).
    ``planned_us`` is NULL unless ``with_planned``; ``channel`` keeps only that channel;
    ``id_range`` only the contacts with ``:id_lo <= id < :id_hi`` (parameters the caller
    binds: ``stream_facts``), their events read by range too. ``columns``: only these
    output columns, in this order (and only the base columns they need computed).
    Business days: SQLite joins the session's temporary table, PostgreSQL subscripts
    ``days`` (required there; ``storage.business_days.day_arrays``).
    """

    def us(column: str) -> str:
        return epoch_us(dialect, column)

    big = "MAX" if dialect == "sqlite" else "GREATEST"
    sqlite = dialect == "sqlite"
    if not sqlite and days is None:
        raise ValueError("PostgreSQL reads the business days as arrays: pass days")
    # A fence keeps each stage's columns computed once per row: without it both planners
    # inline the stages and copy every expression into every use (exponential here).
    # PostgreSQL: a volatile column rather than OFFSET 0, which stops the planner from
    # handing the stage's rows up from parallel workers (a subquery with a volatile
    # output is not pulled up either, and clock_timestamp() is parallel safe).
    fence = "LIMIT -1 OFFSET 0" if sqlite else ""

    def vol(n: int) -> str:
        return "" if sqlite else f", clock_timestamp() AS fence{n}"

    params: dict[str, Any] = {
        "campaign": campaign_id,
        "as_of_us": as_of_us,
        "campaign_closed_us": campaign_closed_us,
    }
    strata_case = " ".join(f"WHEN k.population < :b{i} THEN {i}" for i in range(len(strata)))
    for i, bound in enumerate(strata):
        params[f"b{i}"] = int(bound)
    targets_cte, targets_join, answer_target, ack_target = _targets(dialect, targets, params)
    detailed = _DETAILED_SQL.format(
        checks_text="c.checks" if dialect == "sqlite" else "CAST(c.checks AS TEXT)"
    )
    closed_null = "CAST(:campaign_closed_us AS BIGINT)"
    # Stage expressions over the base columns (each base column is computed once, behind
    # a fence; these are plain integer arithmetic, cheap to repeat).
    closed = (
        "(CASE WHEN b.closed0_us IS NOT NULL THEN b.closed0_us WHEN b.sent_us IS NOT NULL"
        f" THEN {big}(CAST(:as_of_us AS BIGINT), b.sent_us) END)"
    )
    delivered = "(b.sent_us IS NOT NULL AND b.status <> 'undeliverable')"
    end = f"(CASE WHEN {delivered} THEN {big}({closed}, b.sent_us) END)"
    answer_in = f"(CASE WHEN b.answer_us <= {end} THEN b.answer_us END)"
    ack_in = (
        f"(CASE WHEN b.ack_us <= {end} AND (NOT COALESCE(b.answer_us <= {end}, FALSE)"
        f" OR b.ack_us < b.answer_us) THEN b.ack_us"
        f" WHEN b.answer_us <= {end} THEN b.answer_us END)"
    )
    if sqlite:
        ords = {a: _ord(f"t.{col}", f"b{a}") for a, col in _ORD_INSTANTS.items()}
        missing = {a: f"b{a}.departement IS NULL" for a in _ORD_INSTANTS}
        bd_joins = f"""
  LEFT JOIN {TABLE} bs ON t.end_us IS NOT NULL AND bs.departement = t.departement
    AND bs.utc_day = t.sent_us / {DAY_US}
  LEFT JOIN {TABLE} ba ON ba.departement = t.departement AND ba.utc_day = t.ans_at / {DAY_US}
  LEFT JOIN {TABLE} bk ON bk.departement = t.departement AND bk.utc_day = t.ack_at / {DAY_US}
  LEFT JOIN {TABLE} bc ON bc.departement = t.departement AND bc.utc_day = t.censor_at / {DAY_US}
"""
        dept_join = ""
        ord_stage = ""
    else:
        assert days is not None
        ords = {a: f"t.ord_{a}" for a in _ORD_INSTANTS}
        missing = {a: f"t.ord_{a} IS NULL" for a in _ORD_INSTANTS}
        bd_joins = ""
        params["bd_depts"] = list(days.departements)
        params["bd_split"] = list(days.split_us)
        params["bd_before"] = list(days.ord_before)
        params["bd_after"] = list(days.ord_after)
        dept_join = (
            "LEFT JOIN unnest(CAST(:bd_depts AS TEXT[])) WITH ORDINALITY"
            " bdd(departement, n) ON bdd.departement = k.departement"
        )
        guards = {"s": "o.end_us IS NOT NULL AND "}
        ord_stage = ", ".join(
            f"{_ord_array(f'o.{col}', days, guards.get(a, ''))} AS ord_{a}"
            for a, col in _ORD_INSTANTS.items()
        )
    ans_bd = f"({ords['a']} - {ords['s']})"
    ack_bd = f"({ords['k']} - {ords['s']})"
    censor_bd = f"({ords['c']} - {ords['s']})"
    planned = us("t.planned_at") if with_planned else "NULL"
    in_range = ""
    if id_range:
        in_range = " AND c.id >= CAST(:id_lo AS BIGINT) AND c.id < CAST(:id_hi AS BIGINT)"
    only_channel = ""
    if channel is not None:
        only_channel = " AND c.channel = :only_channel"
        params["only_channel"] = channel
    base_columns = {
        "id": "c.id",
        "channel": "c.channel",
        "scenario_id": "c.scenario_id",
        "status": "c.status",
        "wording": "c.wording",
        "service_id": "c.service_id",
        "service_kind": "s.kind",
        "service_name": "s.name",
        "collectivity_id": "c.collectivity_id",
        "coll_code": "k.insee_code",
        "coll_name": "k.name",
        "coll_kind": "k.kind",
        "population": "k.population",
        "departement": "k.departement",
        "region": "k.region",
        "stratum": f"CASE {strata_case} ELSE {len(strata)} END",
        "persona_id": "c.persona_id",
        "auditor_id": "c.auditor_id",
        "planned_at": "c.planned_at",
        "sent_us": f"COALESCE(c.ev_origin_us, {us('c.sent_at')})",
        "answer_us": f"COALESCE(c.ev_reply_us, {us('c.first_answer_at')})",
        "ack_us": us("c.first_ack_at"),
        "closed0_us": f"COALESCE({us('c.closed_at')}, {closed_null})",
        "waiting_us": "c.ev_waiting_us",
        "service_us": "c.ev_service_us",
        "picked": "c.ev_picked",
        "pickup_us": "c.ev_pickup_us",
        "transfers": "c.ev_transfers",
        "phone_attempts": "CASE WHEN c.channel = 'phone' THEN COALESCE(c.ev_attempts, 0) END",
        "answer_target": answer_target,
        "ack_target": ack_target,
        "detailed": detailed,
    }
    if not sqlite:
        base_columns["dept_n"] = "bdd.n"
    final_columns = {
        **{name: f"t.{name}" for name in _PASSTHROUGH[:18]},
        "planned_us": planned,
        **{name: f"t.{name}" for name in _PASSTHROUGH[18:]},
        "ans_delay_us": "t.ans_at - t.sent_us",
        "ans_bd": ans_bd,
        "ack_delay_us": "t.ack_at - t.sent_us",
        "ack_bd": ack_bd,
        "censor_us": "t.censor_at - t.sent_us",
        "censor_bd": censor_bd,
        "ans_within": f"""CASE WHEN t.answer_target IS NULL THEN NULL
       WHEN t.ans_at IS NOT NULL THEN {ans_bd} <= t.answer_target
       WHEN t.censor_at IS NOT NULL AND {censor_bd} > t.answer_target THEN FALSE
  END""",
        "ack_within": f"""CASE WHEN t.ack_target IS NULL THEN NULL
       WHEN t.ack_at IS NOT NULL THEN {ack_bd} <= t.ack_target
       WHEN t.censor_at IS NOT NULL AND {censor_bd} > t.ack_target THEN FALSE
  END""",
        **{name: f"t.{name}" for name in _PASSTHROUGH_TAIL},
        "unmapped": f"""(t.end_us IS NOT NULL AND ({missing["s"]}
    OR (t.ans_at IS NOT NULL AND {missing["a"]})
    OR (t.ack_at IS NOT NULL AND {missing["k"]})
    OR (t.censor_at IS NOT NULL AND {missing["c"]})))""",
    }
    if columns is not None:
        final_columns = {name: final_columns[name] for name in columns}
    # Only the base columns the stages or the chosen output read travel through the
    # fences (SQLite copies every column of a fenced subquery at each stage).
    used = " ".join(final_columns.values())
    base_columns = {
        name: expr
        for name, expr in base_columns.items()
        if name in _STAGE_INPUTS or name == "dept_n" or re.search(rf"\bt\.{name}\b", used)
    }
    base_select = ",\n    ".join(f"{expr} AS {name}" for name, expr in base_columns.items())
    final_select = ",\n  ".join(f"{expr} AS {name}" for name, expr in final_columns.items())
    service_join = (
        "LEFT JOIN service s ON s.id = c.service_id"
        if any(name.startswith("service_") for name in base_columns if name != "service_us")
        else ""
    )
    stages = f"""(
  SELECT a.*{vol(2)},
    CASE WHEN answer_in_us IS NOT NULL THEN {big}(answer_in_us, sent_us) END AS ans_at,
    CASE WHEN ack_in_us IS NOT NULL THEN {big}(ack_in_us, sent_us) END AS ack_at,
    CASE WHEN end_us IS NOT NULL AND answer_in_us IS NULL THEN end_us END AS censor_at,
    (end_us IS NOT NULL AND (closed_us < sent_us - {SKEW_US}
      OR answer_in_us < sent_us - {SKEW_US} OR ack_in_us < sent_us - {SKEW_US})) AS skew
  FROM (
    SELECT b.*{vol(1)}, {closed} AS closed_us, {end} AS end_us, {delivered} AS delivered,
      b.channel IN ('email', 'letter') AS written,
      {answer_in} AS answer_in_us, {ack_in} AS ack_in_us
    FROM (SELECT *{vol(0)} FROM base {fence}) b {fence}
  ) a {fence}
)"""
    if ord_stage:
        # the four ordinals once per contact (each is three subscripts)
        stages = f"(SELECT o.*{vol(3)}, {ord_stage} FROM {stages} o)"
    # SQLite: CROSS JOIN keeps the contacts as the outer loop (their campaign's index or a
    # scan, each collectivity then found by its rowid), as the baseline GROUP BY does; its
    # planner otherwise walked every collectivity and looked its contacts up through the
    # collectivity index, three times slower on a campaign of 200,000.
    sql = f"""
WITH {targets_cte}base AS (
  SELECT {base_select}
  FROM contact c
    {service_join}
    {"CROSS JOIN" if sqlite else "JOIN"} collectivity k ON k.id = c.collectivity_id
    {dept_join}
    {targets_join}
  WHERE c.campaign_id = :campaign{only_channel}{in_range}
)
SELECT {final_select}
FROM {stages} t{bd_joins}
"""
    return sql, params


# Contacts per range query of ``stream_facts``.
RANGE_ROWS = 50_000
_BOUNDS_SQL = """
SELECT id FROM (
  SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS n FROM contact WHERE campaign_id = :campaign
) r WHERE n % :step = 1 ORDER BY id
"""
_NO_END = 2**62  # past any contact id


async def stream_facts(
    session: AsyncSession,
    *,
    campaign_id: int,
    as_of_us: int,
    campaign_closed_us: int | None,
    strata: Sequence[int],
    targets: Targets,
    chunk: int = 5000,
    range_rows: int | None = None,
) -> AsyncGenerator[dict[str, tuple[Any, ...]], None]:
    """The facts of every contact (``planned_us`` included), by contact id, in partitions
    of ``chunk`` rows read from a server-side cursor, each partition column-wise: a tuple
    of values per facts column, by name. Needs the business-day table
    (``storage.business_days.load_business_days``) in the same session.

    One query per range of ``range_rows`` (default ``RANGE_ROWS``) consecutive contacts
    (by id; the bounds read first): the first rows come after one range's work, not the
    whole campaign's, and each range's joins stay small (at a million contacts on
    PostgreSQL, 20 ranges took a third of the time of the single query, whose hash of
    every contact outgrew the caches).

    On PostgreSQL the rows come from asyncpg's own cursor (``_asyncpg_ranges``): the same
    values as through SQLAlchemy, without a ``Row`` built per contact and without the
    adapter's buffering."""
    dialect = session.get_bind().dialect.name
    sql, params = facts_sql(
        dialect,
        campaign_id=campaign_id,
        as_of_us=as_of_us,
        campaign_closed_us=campaign_closed_us,
        strata=strata,
        targets=targets,
        with_planned=True,
        id_range=True,
        days=day_arrays(session),
    )
    if dialect == "postgresql":
        # A cursor is planned for its first 10 % of rows by default (nested loops), where
        # every row is read; each range is planned for its own bounds (a prepared
        # statement's generic plan, chosen after five runs, knows no bounds and scans
        # everything); a range's sort stays in memory (for this transaction only).
        await session.execute(text("SET LOCAL work_mem = '256MB'"))
        await session.execute(text("SET LOCAL cursor_tuple_fraction = 1.0"))
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    connection = await session.connection()
    bounds = list(
        (
            await connection.execute(
                text(_BOUNDS_SQL),
                {"campaign": campaign_id, "step": max(1, range_rows or RANGE_ROWS)},
            )
        ).scalars()
    )
    ranges = list(zip(bounds, [*bounds[1:], _NO_END], strict=True))
    query = text(f"{sql} ORDER BY t.id")
    if dialect == "postgresql":
        partitions = _asyncpg_ranges(connection, query, params, ranges, chunk)
    else:
        partitions = _sqlalchemy_ranges(connection, query, params, ranges, chunk)
    async with contextlib.aclosing(partitions):  # its cursor closed with this
        async for names, rows in partitions:
            # A column at a time, as tuples: the collector stops tracking a tuple of plain
            # values once it has seen it, where a list's items would be walked at every
            # collection while it lives.
            yield dict(zip(names, zip(*rows, strict=True), strict=True))


async def _sqlalchemy_ranges(
    connection: AsyncConnection,
    query: TextClause,
    params: dict[str, Any],
    ranges: Sequence[tuple[int, int]],
    chunk: int,
) -> AsyncGenerator[tuple[Sequence[str], Sequence[Sequence[Any]]], None]:
    """(column names, rows) of each partition of each range, through SQLAlchemy."""
    query = query.execution_options(yield_per=chunk)
    for lo, hi in ranges:
        result = await connection.stream(query, {**params, "id_lo": lo, "id_hi": hi})
        try:
            names = list(result.keys())
            async for partition in result.partitions(chunk):
                if partition:
                    yield names, partition
        finally:
            await result.close()


async def _asyncpg_ranges(
    connection: AsyncConnection,
    query: TextClause,
    params: dict[str, Any],
    ranges: Sequence[tuple[int, int]],
    chunk: int,
) -> AsyncGenerator[tuple[Sequence[str], Sequence[Sequence[Any]]], None]:
    """(column names, rows) of each partition of each range, from asyncpg's cursor on the
    session's connection, inside the transaction SQLAlchemy began: the statement compiled
    by SQLAlchemy's asyncpg dialect (``$n`` parameters), prepared once, run per range. The
    records are sequences of the values SQLAlchemy would hand over (no column here has a
    result processor: integers, texts, booleans)."""
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    if not driver.is_in_transaction():  # a cursor lives in a transaction
        raise RuntimeError("stream_facts needs the session's transaction begun")
    compiled = query.compile(dialect=connection.dialect)
    order = compiled.positiontup or ()
    statement = await driver.prepare(compiled.string)
    names = [attribute.name for attribute in statement.get_attributes()]
    for lo, hi in ranges:
        values = compiled.construct_params({**params, "id_lo": lo, "id_hi": hi})
        cursor = await statement.cursor(*(values[name] for name in order))
        while partition := await cursor.fetch(chunk):
            yield names, partition
