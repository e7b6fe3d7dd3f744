"""Statistics cells by GROUP BY over the per-contact facts (``storage.contact_facts``).

    facts_sql ──GROUP BY the grouping's keys──> one row per cell:
        counts (planned … within target), score parts of the contacts not ``detailed``,
        and each delay and visit-duration sample of the cell packed in one value
        (PostgreSQL: int8send/int4send bytes; SQLite: group_concat text)

The delay samples travel whole because the Kaplan–Meier median needs every distinct time of
the cell (``reports.db_stats`` counts them per distinct value); they are never turned into
one Python object per contact: ``numpy`` reads the packed bytes or text at once.

The visit durations travel the same way, for their type 7 quantiles in ``reports.db_stats``.
An ordered-set aggregate (``percentile_cont``) in this query would force PostgreSQL to sort
every contact's facts by the grouping keys (no hash aggregation with ``WITHIN GROUP``), and
SQLite, which has none, needed a second pass over the facts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.contact_facts import Targets, facts_sql

__all__ = [
    "KEY_COLUMNS",
    "CellAggregate",
    "cell_aggregates",
]

# Grouping key -> column of the facts SELECT.
KEY_COLUMNS: Final[dict[str, str]] = {
    "channel": "channel",
    "scenario": "scenario_id",
    "service_kind": "service_kind",
    "collectivity": "coll_code",
    "collectivity_kind": "coll_kind",
    "stratum": "stratum",
    "departement": "departement",
    "region": "region",
}

_COUNTS: Final = (
    ("planned", "TRUE"),
    ("sent", "sent_us IS NOT NULL"),
    ("undeliverable", "sent_us IS NOT NULL AND status = 'undeliverable'"),
    ("delivered", "delivered"),
    ("written_delivered", "delivered AND written"),
    ("pending", "delivered AND written AND ans_delay_us IS NULL AND censor_us IS NULL"),
    ("answered", "delivered AND written AND ans_delay_us IS NOT NULL"),
    ("acknowledged", "delivered AND written AND ack_delay_us IS NOT NULL"),
    ("answer_n", "delivered AND written AND ans_within IS NOT NULL"),
    ("answer_within", "delivered AND written AND ans_within"),
    ("ack_n", "delivered AND written AND ack_within IS NOT NULL"),
    ("ack_within", "delivered AND written AND ack_within"),
    ("visits", "delivered AND channel = 'visit'"),
    ("phone_calls", "delivered AND channel = 'phone' AND NOT detailed AND picked IS NOT NULL"),
    ("phone_picked", "delivered AND channel = 'phone' AND NOT detailed AND picked = 1"),
    ("skew", "skew"),
    ("unmapped", "unmapped"),
    ("odd", "channel NOT IN ('email', 'letter', 'phone', 'visit') OR population < 0"),
)

_PICKED = "delivered AND channel = 'phone' AND NOT detailed AND picked = 1"
_ANS_E = "delivered AND written AND ans_delay_us IS NOT NULL"
_ANS_C = "delivered AND written AND ans_delay_us IS NULL AND censor_us IS NOT NULL"
_ACK_E = "delivered AND written AND ack_delay_us IS NOT NULL"
_ACK_C = "delivered AND written AND ack_delay_us IS NULL AND censor_us IS NOT NULL"
# Packed samples: name -> (value column, filter). Business days are 4-byte integers.
_SAMPLES: Final = (
    ("ans_h_e", "ans_delay_us", _ANS_E),
    ("ans_h_c", "censor_us", _ANS_C),
    ("ans_bd_e", "ans_bd", _ANS_E),
    ("ans_bd_c", "censor_bd", _ANS_C),
    ("ack_h_e", "ack_delay_us", _ACK_E),
    ("ack_h_c", "censor_us", _ACK_C),
    ("ack_bd_e", "ack_bd", _ACK_E),
    ("ack_bd_c", "censor_bd", _ACK_C),
    ("pickup", "pickup_us", f"{_PICKED} AND pickup_us IS NOT NULL"),
    ("detailed_ids", "id", "detailed"),
    ("waiting", "waiting_us", "delivered AND channel = 'visit' AND waiting_us IS NOT NULL"),
    ("service", "service_us", "delivered AND channel = 'visit' AND service_us IS NOT NULL"),
)


@dataclass(slots=True)
class CellAggregate:
    """One cell as the database computed it (see the module docstring)."""

    keys: tuple[Any, ...]  # values of the grouping's keys, in its order (stratum: index)
    collectivity_name: str | None
    counts: dict[str, int]
    # per written channel: (answer known, answer met, ack known, ack met, contacts scored)
    score_parts: dict[str, tuple[int, int, int, int, int]]
    samples: dict[str, NDArray[np.int64]]  # microseconds or business days, unsorted


def _score_columns(weights: tuple[float, float]) -> list[tuple[str, str]]:
    wa = "TRUE" if weights[0] > 0 else "FALSE"
    wk = "TRUE" if weights[1] > 0 else "FALSE"
    out: list[tuple[str, str]] = []
    for ch in ("email", "letter"):
        own = f"delivered AND channel = '{ch}' AND NOT detailed"
        out += [
            (f"{ch}_ans_n", f"{own} AND ans_within IS NOT NULL"),
            (f"{ch}_ans_met", f"{own} AND ans_within"),
            (f"{ch}_ack_n", f"{own} AND ack_within IS NOT NULL"),
            (f"{ch}_ack_met", f"{own} AND ack_within"),
            (
                f"{ch}_scored",
                f"{own} AND ((ans_within IS NOT NULL AND {wa})"
                f" OR (ack_within IS NOT NULL AND {wk}))",
            ),
        ]
    return out


def _wide(sample: str) -> bool:
    """Microseconds and ids take 8 bytes; business days 4."""
    return "_bd_" not in sample


def _pack(dialect: str, column: str, condition: str, wide: bool) -> str:
    if dialect == "sqlite":
        return f"group_concat({column}) FILTER (WHERE {condition})"
    send = "int8send" if wide else "int4send"
    cast = "BIGINT" if wide else "INTEGER"
    return f"string_agg({send}(CAST({column} AS {cast})), ''::bytea) FILTER (WHERE {condition})"


def _unpack(dialect: str, value: Any, wide: bool) -> NDArray[np.int64]:
    if value is None or value == "":
        return np.zeros(0, dtype=np.int64)
    if dialect == "sqlite":
        return np.array(str(value).split(","), dtype=np.int64)
    return np.frombuffer(bytes(value), dtype=">i8" if wide else ">i4").astype(np.int64)


async def cell_aggregates(
    session: AsyncSession,
    *,
    campaign_id: int,
    by: Sequence[str],
    as_of_us: int,
    campaign_closed_us: int | None,
    strata: Sequence[int],
    targets: Targets,
    timing_weights: tuple[float, float],
) -> list[CellAggregate]:
    """One ``CellAggregate`` per combination of ``by`` keys present among the contacts.

    Needs ``storage.business_days.load_business_days`` run first in the same session.
    ``timing_weights`` are the answer and acknowledgement weights (only their sign is used
    here: whether a known flag makes a contact scored).
    """
    dialect = session.get_bind().dialect.name
    facts, params = facts_sql(
        dialect,
        campaign_id=campaign_id,
        as_of_us=as_of_us,
        campaign_closed_us=campaign_closed_us,
        strata=strata,
        targets=targets,
    )
    keys = [KEY_COLUMNS[name] for name in by]
    name_col = "MIN(coll_name)" if "collectivity" in by else "NULL"
    columns = [f"{k} AS key{i}" for i, k in enumerate(keys)]
    columns.append(f"{name_col} AS coll_name")
    counts = [*_COUNTS, *_score_columns(timing_weights)]
    columns += [f"COUNT(*) FILTER (WHERE {cond}) AS {name}" for name, cond in counts]
    for name, column, cond in _SAMPLES:
        columns.append(f"{_pack(dialect, column, cond, _wide(name))} AS {name}")
    columns.append(f"SUM(CASE WHEN {_PICKED} THEN transfers ELSE 0 END) AS transfers_sum")
    group = f" GROUP BY {', '.join(keys)}" if keys else ""
    sql = f"WITH f AS ({facts}) SELECT {', '.join(columns)} FROM f{group}"
    rows = (await session.execute(text(sql), params)).all()
    n_keys = len(keys)
    out: list[CellAggregate] = []
    for row in rows:
        values = list(row)
        key_values = tuple(values[:n_keys])
        coll_name = values[n_keys]
        position = n_keys + 1
        numbers: dict[str, int] = {}
        for name, _cond in counts:
            numbers[name] = int(values[position] or 0)
            position += 1
        samples: dict[str, NDArray[np.int64]] = {}
        for name, _column, _cond in _SAMPLES:
            samples[name] = _unpack(dialect, values[position], _wide(name))
            position += 1
        numbers["transfers_sum"] = int(values[position] or 0)
        position += 1
        parts = {
            ch: tuple(
                numbers.pop(f"{ch}_{p}") for p in ("ans_n", "ans_met", "ack_n", "ack_met", "scored")
            )
            for ch in ("email", "letter")
        }
        out.append(
            CellAggregate(
                keys=key_values,
                collectivity_name=coll_name,
                counts=numbers,
                score_parts=parts,  # type: ignore[arg-type]
                samples=samples,
            )
        )
    return out
