"""The export tables: their columns (name and type), what each means, and their rows.

Levels: ``contacts`` (``CONTACT_COLUMNS``, one row per contact from its facts:
``contact_row``) and ``stats`` (``stats_columns()``: the aggregate cells of every grouping
with a ``grouping`` column such as ``channel,stratum``, ``stats_rows``; the criteria of
those cells, ``CRITERIA_COLUMNS`` and ``criteria_rows``). ``describe`` gives a column's
meaning in French from the catalogue (``report.col.*``), for every export's metadata.
Persona and auditor appear by key only; photos only as a count.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from reports.cells import COLUMNS, GROUP_KEYS, Cell, RowValue
from reports.evolution import EVOLUTION_COLUMNS, Previous, evolution_row
from reports.facts import ContactFacts
from reports.stored_facts import content_checks, field_facts
from reports.strata import DEFAULT_STRATA, stratum_index, stratum_labels
from scenarios.i18n import Translator
from storage.stats import ContactRow

__all__ = [
    "CONTACT_COLUMNS",
    "CRITERIA_COLUMNS",
    "Column",
    "Kind",
    "contact_row",
    "criteria_rows",
    "describe",
    "stats_columns",
    "stats_rows",
]

Kind = Literal["str", "int", "float", "bool", "datetime"]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: Kind


def _cols(kind: Kind, *names: str) -> list[Column]:
    return [Column(name, kind) for name in names]


CONTACT_COLUMNS: Final[tuple[Column, ...]] = (
    *_cols("int", "contact_id"),
    *_cols("str", "channel", "scenario"),
    *_cols("int", "wording"),
    *_cols("str", "status"),
    *_cols("int", "service_id"),
    *_cols("str", "service_kind", "service_name"),
    *_cols("str", "collectivity", "collectivity_name", "collectivity_kind"),
    *_cols("int", "population"),
    *_cols("str", "stratum", "departement", "region", "persona", "auditor"),
    *_cols("datetime", "planned_at", "sent_at", "first_ack_at", "first_answer_at", "closed_at"),
    *_cols("bool", "undeliverable", "acknowledged", "answered"),
    *_cols("float", "ack_seconds"),
    *_cols("int", "ack_business_days"),
    *_cols("float", "answer_seconds"),
    *_cols("int", "answer_business_days"),
    *_cols("float", "censor_seconds"),
    *_cols("int", "censor_business_days", "ack_target_days", "answer_target_days"),
    *_cols("bool", "acknowledged_within_target", "answered_within_target"),
    *_cols("int", "phone_attempts"),
    *_cols("bool", "picked_up"),
    *_cols("int", "rings"),
    *_cols("float", "seconds_to_pickup"),
    *_cols("int", "transfers"),
    *_cols("float", "hold_seconds", "waiting_seconds", "service_seconds"),
    *_cols("int", "criteria_assessed", "criteria_met"),
    *_cols("float", "criteria_score"),
    *_cols("str", "criteria_missed", "content_found", "content_missing"),
    *_cols("int", "photos"),
)

_INT_STATS = frozenset(
    {
        "planned",
        "sent",
        "undeliverable",
        "delivered",
        "written_delivered",
        "pending",
        "answered",
        "acknowledged",
        "answered_within_target",
        "answered_within_target_n",
        "acknowledged_within_target",
        "acknowledged_within_target_n",
        "answer_censored",
        "ack_censored",
        "phone_calls",
        "phone_picked_up",
        "visits",
        "rank",
    }
)
_STR_STATS = frozenset({*GROUP_KEYS, "collectivity_name"})


def _stats_kind(name: str) -> Kind:
    if name in _STR_STATS:
        return "str"
    if name in _INT_STATS:
        return "int"
    if name == "small":
        return "bool"
    return "float"


def stats_columns(evolution: bool = False) -> tuple[Column, ...]:
    """``grouping`` then ``reports.cells.COLUMNS`` with their types; with ``evolution``,
    then ``reports.evolution.EVOLUTION_COLUMNS`` (floats)."""
    extra = (Column(n, "float") for n in EVOLUTION_COLUMNS) if evolution else ()
    return (Column("grouping", "str"), *(Column(n, _stats_kind(n)) for n in COLUMNS), *extra)


CRITERIA_COLUMNS: Final[tuple[Column, ...]] = (
    Column("grouping", "str"),
    *(Column(n, "str") for n in GROUP_KEYS[:4]),
    Column("collectivity_name", "str"),
    *(Column(n, "str") for n in GROUP_KEYS[4:]),
    *_cols("str", "criterion_id"),
    *_cols("int", "assessed", "met"),
    *_cols("float", "rate", "rate_low", "rate_high"),
)


# --------------------------------------------------------------------------- descriptions

_STAT_WORDS = ("median", "p75", "p90", "km_median_low", "km_median_high", "km_median")


def describe(name: str, t: Translator | None = None, level: str = "stats") -> str:
    """The French meaning of a column (``report.col.*``; ``report.contact.*`` first for the
    contact level, where a few names mean a flag rather than a count)."""
    t = t or Translator("fr")
    if name in EVOLUTION_COLUMNS:
        return t(f"report.evolution.col.{name}")
    if level == "contacts" and t.has(f"report.contact.{name}"):
        return t(f"report.contact.{name}")
    key = f"report.col.{name}"
    if t.has(key):
        return t(key)
    for suffix in ("_low", "_high"):
        if name.endswith(f"_rate{suffix}"):
            base = name.removesuffix(suffix)
            return t(f"report.col.bound{suffix}", column=base)
    for metric in ("answer", "ack"):
        for unit in ("hours", "bdays"):
            stem = f"{metric}_{unit}_"
            if name.startswith(stem) and name.removeprefix(stem) in _STAT_WORDS:
                stat = name.removeprefix(stem)
                return t(
                    "report.col.delay",
                    stat=t(f"report.stat.{stat}"),
                    metric=t(f"report.metric.{metric}"),
                    unit=t(f"report.unit.{unit}"),
                )
    if name.startswith("score_"):
        return t("report.col.score_channel", channel=t(f"channel.{name.removeprefix('score_')}"))
    raise KeyError(f"no description for column {name!r}")


def contact_row(
    row: ContactRow, facts: ContactFacts, strata: Sequence[int] = DEFAULT_STRATA
) -> dict[str, RowValue | datetime]:
    """The export row of one contact, under ``CONTACT_COLUMNS`` names, in that order."""
    written = facts.channel in ("email", "letter")
    delivered = facts.delivered
    assessed = [(cid, w, met) for cid, w, met in facts.grid if met is not None]
    weight = sum(w for _, w, _ in assessed)
    met_weight = sum(w for _, w, met in assessed if met)
    checks = content_checks(row.checks)
    attempts = field_facts(row.channel, row.events).attempts if row.channel == "phone" else None
    return {
        "contact_id": row.id,
        "channel": row.channel,
        "scenario": row.scenario_id,
        "wording": row.wording,
        "status": row.status,
        "service_id": row.service_id,
        "service_kind": row.service_kind,
        "service_name": row.service_name,
        "collectivity": row.collectivity_code,
        "collectivity_name": row.collectivity_name,
        "collectivity_kind": row.collectivity_kind,
        "population": row.population,
        "stratum": stratum_labels(strata)[stratum_index(row.population, strata)],
        "departement": row.departement,
        "region": row.region,
        "persona": row.persona_key,
        "auditor": row.auditor_key,
        "planned_at": facts.planned_at,
        "sent_at": facts.sent_at,
        "first_ack_at": facts.first_ack_at,
        "first_answer_at": facts.first_answer_at,
        "closed_at": facts.closed_at,
        "undeliverable": facts.undeliverable,
        "acknowledged": facts.ack_seconds is not None if written and delivered else None,
        "answered": facts.answer_seconds is not None if written and delivered else None,
        "ack_seconds": facts.ack_seconds,
        "ack_business_days": facts.ack_business_days,
        "answer_seconds": facts.answer_seconds,
        "answer_business_days": facts.answer_business_days,
        "censor_seconds": facts.censor_seconds,
        "censor_business_days": facts.censor_business_days,
        "ack_target_days": facts.ack_target_days,
        "answer_target_days": facts.answer_target_days,
        "acknowledged_within_target": facts.acknowledged_within_target,
        "answered_within_target": facts.answered_within_target,
        "phone_attempts": attempts,
        "picked_up": facts.picked_up,
        "rings": facts.rings,
        "seconds_to_pickup": facts.seconds_to_pickup,
        "transfers": facts.transfers,
        "hold_seconds": facts.hold_seconds,
        "waiting_seconds": facts.waiting_seconds,
        "service_seconds": facts.service_seconds,
        "criteria_assessed": len(assessed),
        "criteria_met": sum(1 for _, _, met in assessed if met),
        "criteria_score": 100.0 * met_weight / weight if weight > 0 else None,
        "criteria_missed": ";".join(cid for cid, _, met in assessed if not met) or None,
        "content_found": ";".join(k for k, v in checks.items() if v) or None,
        "content_missing": ";".join(k for k, v in checks.items() if not v) or None,
        "photos": row.photos,
    }


def _grouping(by: Sequence[str]) -> str:
    """The ``grouping`` column: the keys joined by commas, ``overall`` for no key."""
    return ",".join(by) or "overall"


def stats_rows(
    tables: Iterable[tuple[tuple[str, ...], list[Cell]]],
    previous: Previous | None = None,
) -> Iterator[dict[str, RowValue | datetime]]:
    """One row per cell; with ``previous`` (``reports.evolution.previous_cells``), the
    evolution columns against the previous campaign's cell of the same keys."""
    for by, cells in tables:
        before = previous.get(by, {}) if previous is not None else None
        for cell in cells:
            row: dict[str, RowValue | datetime] = {"grouping": _grouping(by), **cell.to_row()}
            if before is not None:
                row.update(evolution_row(cell, before.get(cell.keys)))
            yield row


def criteria_rows(
    tables: Iterable[tuple[tuple[str, ...], list[Cell]]],
) -> Iterator[dict[str, RowValue | datetime]]:
    for by, cells in tables:
        for cell in cells:
            for row in cell.criterion_rows():
                yield {"grouping": _grouping(by), **row}
