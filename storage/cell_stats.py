"""Statistics cells by GROUP BY over the per-contact facts (``storage.contact_facts``).

    facts_sql ──class of each contact (one integer: sent, delivered, channel, answered,
                within target… as bits)
              ──GROUP BY the grouping's keys and the class──> one row per (cell, class):
                   its contacts (COUNT), the sum of transfers, and each delay and
                   visit-duration column packed in one value (PostgreSQL: int8send/int4send
                   bytes; SQLite: group_concat text)
    Python ──per class: which counts (planned … within target, score parts of the contacts
             not ``detailed``) and which samples its rows belong to──> one CellAggregate
             per cell

A few dozen classes per cell: the database hashes one more integer per contact instead of
evaluating some forty FILTER conditions (that was half of the statistics' time once the
timeline columns were stored on the contact row).

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

from storage.business_days import day_arrays
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

# A contact's class: everything the counts and the choice of samples depend on, as bits of
# one integer (SQL: a sum of CASEs, cheap; the GROUP BY then hashes one more integer
# instead of evaluating some forty FILTER conditions per contact).
_CHANNELS: Final = ("email", "letter", "phone", "visit")  # code 4: any other
_TRI: Final = {0: None, 1: True, 2: False}
_BITS: Final = (
    # name, SQL (a boolean or a small integer), shift
    ("sent", "sent_us IS NOT NULL", 0),
    ("undeliverable", "status = 'undeliverable'", 1),
    ("delivered", "delivered", 2),
    ("detailed", "detailed", 3),
    ("answered", "ans_delay_us IS NOT NULL", 4),
    ("censored", "censor_us IS NOT NULL", 5),
    ("acknowledged", "ack_delay_us IS NOT NULL", 6),
    ("skew", "skew", 7),
    ("unmapped", "unmapped", 8),
    ("negative", "population < 0", 9),
)
# Packed samples per group: name -> value column. The group's class says which of the
# statistics' samples a group's values belong to (``_assign``).
_PACKS: Final = (
    ("ans_h", "ans_delay_us", True),
    ("censor_h", "censor_us", True),
    ("ans_bd", "ans_bd", False),
    ("censor_bd", "censor_bd", False),
    ("ack_h", "ack_delay_us", True),
    ("ack_bd", "ack_bd", False),
    ("pickup", "pickup_us", True),
    ("ids", "CASE WHEN detailed THEN id END", True),
    ("waiting", "waiting_us", True),
    ("service", "service_us", True),
)
_SAMPLES: Final = (
    "ans_h_e",
    "ans_h_c",
    "ans_bd_e",
    "ans_bd_c",
    "ack_h_e",
    "ack_h_c",
    "ack_bd_e",
    "ack_bd_c",
    "pickup",
    "detailed_ids",
    "waiting",
    "service",
)
_COUNT_NAMES: Final = (
    "planned",
    "sent",
    "undeliverable",
    "delivered",
    "written_delivered",
    "pending",
    "answered",
    "acknowledged",
    "answer_n",
    "answer_within",
    "ack_n",
    "ack_within",
    "visits",
    "phone_calls",
    "phone_picked",
    "skew",
    "unmapped",
    "odd",
)


def _class_sql() -> str:
    def flag(condition: str) -> str:
        return f"CASE WHEN {condition} THEN 1 ELSE 0 END"

    def tri(column: str) -> str:
        return f"CASE WHEN {column} THEN 1 WHEN NOT {column} THEN 2 ELSE 0 END"

    channels = " ".join(f"WHEN '{ch}' THEN {i}" for i, ch in enumerate(_CHANNELS))
    parts = [f"({flag(cond)}) * {1 << shift}" for _name, cond, shift in _BITS]
    parts += [
        f"(CASE channel {channels} ELSE {len(_CHANNELS)} END) * 1024",
        f"({tri('ans_within')}) * 8192",
        f"({tri('ack_within')}) * 32768",
        "(CASE WHEN picked = 1 THEN 1 WHEN picked = 0 THEN 2 ELSE 0 END) * 131072",
    ]
    return " + ".join(parts)


# The facts the class and the packs read (besides the grouping keys).
_FACTS: Final = (
    "id", "channel", "status", "population", "sent_us", "delivered", "detailed",
    "ans_delay_us", "ans_bd", "censor_us", "censor_bd", "ack_delay_us", "ack_bd",
    "ans_within", "ack_within", "skew", "unmapped", "picked", "pickup_us", "transfers",
    "waiting_us", "service_us",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Class:
    flags: dict[str, bool]
    channel: str | None  # None: not one of the four
    ans_within: bool | None
    ack_within: bool | None
    picked: int | None


def _decode(code: int) -> _Class:
    channel = (code >> 10) & 7
    picked = {0: None, 1: 1, 2: 0}[(code >> 17) & 3]
    return _Class(
        flags={name: bool(code >> shift & 1) for name, _cond, shift in _BITS},
        channel=_CHANNELS[channel] if channel < len(_CHANNELS) else None,
        ans_within=_TRI[(code >> 13) & 3],
        ack_within=_TRI[(code >> 15) & 3],
        picked=picked,
    )


def _counts(k: _Class, weights: tuple[float, float]) -> dict[str, bool]:
    """Which counts (and score parts) a contact of class ``k`` adds one to."""
    f = k.flags
    d, w = f["delivered"], k.channel in ("email", "letter")
    dw = d and w
    phone = d and k.channel == "phone" and not f["detailed"]
    out = {
        "planned": True,
        "sent": f["sent"],
        "undeliverable": f["sent"] and f["undeliverable"],
        "delivered": d,
        "written_delivered": dw,
        "pending": dw and not f["answered"] and not f["censored"],
        "answered": dw and f["answered"],
        "acknowledged": dw and f["acknowledged"],
        "answer_n": dw and k.ans_within is not None,
        "answer_within": dw and k.ans_within is True,
        "ack_n": dw and k.ack_within is not None,
        "ack_within": dw and k.ack_within is True,
        "visits": d and k.channel == "visit",
        "phone_calls": phone and k.picked is not None,
        "phone_picked": phone and k.picked == 1,
        "skew": f["skew"],
        "unmapped": f["unmapped"],
        "odd": k.channel is None or f["negative"],
    }
    for ch in ("email", "letter"):
        own = d and k.channel == ch and not f["detailed"]
        out[f"{ch}_ans_n"] = own and k.ans_within is not None
        out[f"{ch}_ans_met"] = own and k.ans_within is True
        out[f"{ch}_ack_n"] = own and k.ack_within is not None
        out[f"{ch}_ack_met"] = own and k.ack_within is True
        out[f"{ch}_scored"] = own and (
            (k.ans_within is not None and weights[0] > 0)
            or (k.ack_within is not None and weights[1] > 0)
        )
    return out


def _assign(k: _Class) -> list[tuple[str, str]]:
    """(sample, pack) pairs: the statistics' samples a group of class ``k`` feeds."""
    f = k.flags
    dw = f["delivered"] and k.channel in ("email", "letter")
    out: list[tuple[str, str]] = []
    if dw and f["answered"]:
        out += [("ans_h_e", "ans_h"), ("ans_bd_e", "ans_bd")]
    if dw and not f["answered"] and f["censored"]:
        out += [("ans_h_c", "censor_h"), ("ans_bd_c", "censor_bd")]
    if dw and f["acknowledged"]:
        out += [("ack_h_e", "ack_h"), ("ack_bd_e", "ack_bd")]
    if dw and not f["acknowledged"] and f["censored"]:
        out += [("ack_h_c", "censor_h"), ("ack_bd_c", "censor_bd")]
    if f["delivered"] and k.channel == "phone" and not f["detailed"] and k.picked == 1:
        out.append(("pickup", "pickup"))
    if f["detailed"]:
        out.append(("detailed_ids", "ids"))
    if f["delivered"] and k.channel == "visit":
        out += [("waiting", "waiting"), ("service", "service")]
    return out


@dataclass(slots=True)
class CellAggregate:
    """One cell as the database computed it (see the module docstring)."""

    keys: tuple[Any, ...]  # values of the grouping's keys, in its order (stratum: index)
    collectivity_name: str | None
    counts: dict[str, int]
    # per written channel: (answer known, answer met, ack known, ack met, contacts scored)
    score_parts: dict[str, tuple[int, int, int, int, int]]
    samples: dict[str, NDArray[np.int64]]  # microseconds or business days, unsorted


def _pack_value(dialect: str, column: str, wide: bool) -> str:
    """A contact's value as the pack holds it (computed per contact, before grouping)."""
    if dialect == "sqlite":
        return column
    send = "int8send" if wide else "int4send"
    cast = "BIGINT" if wide else "INTEGER"
    return f"{send}(CAST({column} AS {cast}))"


def _pack(dialect: str, value: str) -> str:
    if dialect == "sqlite":
        return f"group_concat({value})"
    return f"string_agg({value}, ''::bytea)"


def _unpack(dialect: str, value: Any, wide: bool) -> NDArray[np.int64]:
    if value is None or value == "":
        return np.zeros(0, dtype=np.int64)
    if dialect == "sqlite":
        # numpy's text reader parses the integers exactly (strtoll), eight times faster
        # than a list of strings made into an array.
        values = np.fromstring(str(value), dtype=np.int64, sep=",")
        if len(values) != str(value).count(",") + 1:
            raise ValueError("unreadable packed sample")
        return values
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
    keys = [KEY_COLUMNS[name] for name in by]
    facts, params = facts_sql(
        dialect,
        campaign_id=campaign_id,
        as_of_us=as_of_us,
        campaign_closed_us=campaign_closed_us,
        strata=strata,
        targets=targets,
        columns=sorted({*keys, *_FACTS, *(["coll_name"] if "collectivity" in by else [])}),
        days=day_arrays(session),
    )
    # Per contact (g): the keys, the class and each pack's value, only what the GROUP BY
    # reads. On PostgreSQL the volatile column keeps g a subquery computed by the parallel
    # workers, which hand only these columns to the one process that aggregates.
    coll = "collectivity" in by
    inner = [f"{k} AS key{i}" for i, k in enumerate(keys)]
    inner += ["coll_name"] if coll else []
    inner += [f"{_class_sql()} AS cls", "transfers"]
    inner += [f"{_pack_value(dialect, column, wide)} AS p_{name}" for name, column, wide in _PACKS]
    if dialect == "postgresql":
        inner.append("clock_timestamp() AS fence")
    columns = [f"key{i}" for i in range(len(keys))]
    columns.append("MIN(coll_name) AS coll_name" if coll else "NULL AS coll_name")
    columns += ["cls", "COUNT(*) AS n", "SUM(transfers) AS transfers"]
    columns += [f"{_pack(dialect, f'p_{name}')} AS {name}" for name, _column, _wide in _PACKS]
    group = ", ".join([*(f"key{i}" for i in range(len(keys))), "cls"])
    sql = (
        f"SELECT {', '.join(columns)}"
        f" FROM (SELECT {', '.join(inner)} FROM ({facts}) f) g GROUP BY {group}"
    )
    if dialect == "postgresql":
        # A few dozen classes per cell, but the planner cannot know it of an expression
        # and sorts every contact's facts for a GroupAggregate: hashing them is cheaper.
        await session.execute(text("SET LOCAL enable_sort = off"))
    rows = (await session.execute(text(sql), params)).all()
    if dialect == "postgresql":
        await session.execute(text("SET LOCAL enable_sort = on"))
    n_keys = len(keys)
    cells: dict[tuple[Any, ...], CellAggregate] = {}
    parts_of: dict[tuple[Any, ...], dict[str, list[NDArray[np.int64]]]] = {}
    classes: dict[int, tuple[dict[str, bool], list[tuple[str, str]]]] = {}
    for row in rows:
        values = list(row)
        key_values = tuple(values[:n_keys])
        coll_name, code, n, transfers = values[n_keys : n_keys + 4]
        packs = dict(zip((p[0] for p in _PACKS), values[n_keys + 4 :], strict=True))
        if code not in classes:
            k = _decode(int(code))
            classes[code] = (_counts(k, timing_weights), _assign(k))
        counts, assign = classes[code]
        cell = cells.get(key_values)
        if cell is None:
            cell = CellAggregate(
                keys=key_values,
                collectivity_name=coll_name,
                counts=dict.fromkeys((*counts, "transfers_sum"), 0),
                score_parts={},
                samples={},
            )
            cells[key_values] = cell
            parts_of[key_values] = {name: [] for name in _SAMPLES}
        elif coll_name is not None and (
            cell.collectivity_name is None or coll_name < cell.collectivity_name
        ):
            cell.collectivity_name = coll_name
        for name, hit in counts.items():
            if hit:
                cell.counts[name] += int(n)
        if counts["phone_picked"] and transfers is not None:
            cell.counts["transfers_sum"] += int(transfers)
        for sample, pack in assign:
            wide = _wide_pack(pack)
            parts_of[key_values][sample].append(_unpack(dialect, packs[pack], wide))
    out: list[CellAggregate] = []
    for key_values, cell in cells.items():
        numbers = cell.counts
        cell.score_parts = {
            ch: tuple(  # type: ignore[misc]
                numbers.pop(f"{ch}_{p}") for p in ("ans_n", "ans_met", "ack_n", "ack_met", "scored")
            )
            for ch in ("email", "letter")
        }
        cell.samples = {
            name: np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)
            for name, arrays in parts_of[key_values].items()
        }
        out.append(cell)
    return out


def _wide_pack(pack: str) -> bool:
    return next(wide for name, _column, wide in _PACKS if name == pack)
