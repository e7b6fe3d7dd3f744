"""Per-contact facts in SQL: origin, window, clamped events, delays and business days.

One SELECT, the same on SQLite and PostgreSQL up to a few dialect words, that the
statistics (``storage.cell_stats``) group and the contact export streams::

    contact ⋈ service ⋈ collectivity
      ⟕ ev   first origin / reply / visit events per contact (one GROUP BY over the events)
      ⟕ lv   first ``visit.left`` at or after ``visit.served``
      -> instants as integer microseconds since 1970-01-01 UTC (``*_us``)
      -> window and clamps (the rules of ``reports.facts.delays_for``, restated below)
      ⟕ tmp_business_day ×4  (``storage.business_days``: ordinal of sent, answer, ack, close)
      -> delays in µs and business days, within-target flags

The rules, mirrored from ``reports.facts`` (module docstring there; the equivalence tests in
``tests/reports/`` hold the two together):

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
- ``detailed``: a phone contact, or one with grid answers or content checks: what only the
  Python rules compute (phone attempts, audit grid, checks). ``DETAILED`` is the same
  predicate for ``storage.stats.stream_contact_rows``.

Targets come in as literals from the caller (``Targets``); strata bounds as parameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import aliased

from scenarios import events as ev
from storage.business_days import DAY_US, TABLE, epoch_us
from storage.models import Contact, Observation

__all__ = [
    "DETAILED",
    "SKEW_US",
    "Targets",
    "facts_sql",
]

SKEW_US = 120_000_000

_ANSWER = aliased(Observation)  # aliased: the predicate also filters queries of observation
DETAILED: ColumnElement[bool] = or_(
    Contact.channel == "phone",
    Contact.checks.is_not(None),
    exists(select(_ANSWER.id).where(_ANSWER.contact_id == Contact.id)),
)
_DETAILED_SQL = (
    "(c.channel = 'phone' OR c.checks IS NOT NULL"
    " OR EXISTS (SELECT 1 FROM observation o WHERE o.contact_id = c.id))"
)


@dataclass(frozen=True, slots=True)
class Targets:
    """Answer and acknowledgement targets (business days): per scenario id, and per channel
    for a scenario not listed."""

    scenarios: Mapping[str, tuple[int | None, int | None]] = field(default_factory=dict)
    channels: Mapping[str, tuple[int | None, int | None]] = field(default_factory=dict)


def _literal(value: int | None) -> str:
    return "NULL" if value is None else str(int(value))


def _target_case(targets: Targets, index: int, params: dict[str, Any]) -> str:
    by_channel = " ".join(
        f"WHEN '{_safe(ch)}' THEN {_literal(pair[index])}" for ch, pair in targets.channels.items()
    )
    default = f"CASE c.channel {by_channel} END" if by_channel else "NULL"
    if not targets.scenarios:
        return default
    whens = []
    for i, (sid, pair) in enumerate(sorted(targets.scenarios.items())):
        params[f"sc{i}"] = sid
        whens.append(f"WHEN c.scenario_id = :sc{i} THEN {_literal(pair[index])}")
    return f"CASE {' '.join(whens)} ELSE {default} END"


def _safe(word: str) -> str:
    if not word.replace("_", "").isalnum():
        raise ValueError(f"unexpected channel name {word!r}")
    return word


def _ord(dialect: str, instant: str, alias: str) -> str:
    return (
        f"(CASE WHEN {_mod(dialect, instant)} >= {alias}.split_us"
        f" THEN {alias}.ord_after ELSE {alias}.ord_before END)"
    )


def _mod(dialect: str, instant: str) -> str:
    return f"({instant} % {DAY_US})"


def facts_sql(
    dialect: str,
    *,
    campaign_id: int,
    as_of_us: int,
    campaign_closed_us: int | None,
    strata: Sequence[int],
    targets: Targets,
) -> tuple[str, dict[str, Any]]:
    """The per-contact facts SELECT (a subquery's text) and its parameters.

    Columns: ``id channel scenario_id status wording service_id service_kind service_name
    collectivity_id coll_code coll_name coll_kind population departement region stratum
    persona_id auditor_id planned_us sent_us answer_us ack_us closed_us delivered written
    detailed answer_target ack_target ans_delay_us ans_bd ack_delay_us ack_bd censor_us
    censor_bd ans_within ack_within waiting_us service_us skew unmapped`` (``*_us``
    integers; ``*_bd`` business days; flags are booleans on PostgreSQL, 0/1 on SQLite).
    """

    def us(column: str) -> str:
        return epoch_us(dialect, column)

    big = "MAX" if dialect == "sqlite" else "GREATEST"
    params: dict[str, Any] = {
        "campaign": campaign_id,
        "as_of_us": as_of_us,
        "campaign_closed_us": campaign_closed_us,
    }
    strata_case = " ".join(f"WHEN k.population < :b{i} THEN {i}" for i in range(len(strata)))
    for i, bound in enumerate(strata):
        params[f"b{i}"] = int(bound)
    answer_target = _target_case(targets, 0, params)
    ack_target = _target_case(targets, 1, params)
    kinds = (
        ev.LETTER_POSTED,
        ev.LETTER_REPLY_RECEIVED,
        ev.CALL_STARTED,
        ev.VISIT_ARRIVED,
        ev.VISIT_SERVED,
    )
    kind_list = ", ".join(f"'{k}'" for k in kinds)
    closed_null = "CAST(:campaign_closed_us AS BIGINT)"
    sql = f"""
WITH ev AS (
  SELECT e.contact_id AS id,
    MIN(CASE WHEN e.kind = '{ev.LETTER_POSTED}' THEN e.at END) AS posted,
    MIN(CASE WHEN e.kind = '{ev.LETTER_REPLY_RECEIVED}' THEN e.at END) AS replied,
    MIN(CASE WHEN e.kind = '{ev.CALL_STARTED}' THEN e.at END) AS started,
    MIN(CASE WHEN e.kind = '{ev.VISIT_ARRIVED}' THEN e.at END) AS arrived,
    MIN(CASE WHEN e.kind = '{ev.VISIT_SERVED}' THEN e.at END) AS served
  FROM contact_event e JOIN contact c ON c.id = e.contact_id
  WHERE c.campaign_id = :campaign AND e.kind IN ({kind_list})
  GROUP BY e.contact_id
),
lv AS (
  SELECT e.contact_id AS id, MIN(e.at) AS left_at
  FROM contact_event e JOIN ev ON ev.id = e.contact_id
  WHERE e.kind = '{ev.VISIT_LEFT}' AND ev.served IS NOT NULL AND e.at >= ev.served
  GROUP BY e.contact_id
),
base AS (
  SELECT c.id, c.channel, c.scenario_id, c.status, c.wording, c.service_id,
    s.kind AS service_kind, s.name AS service_name, c.collectivity_id,
    k.insee_code AS coll_code, k.name AS coll_name, k.kind AS coll_kind, k.population,
    k.departement, k.region,
    CASE {strata_case} ELSE {len(strata)} END AS stratum,
    c.persona_id, c.auditor_id,
    {us("c.planned_at")} AS planned_us,
    {
        us(
            "COALESCE(CASE c.channel WHEN 'letter' THEN ev.posted WHEN 'phone' THEN ev.started"
            " WHEN 'visit' THEN ev.arrived END, c.sent_at)"
        )
    } AS sent_us,
    {us("COALESCE(CASE WHEN c.channel = 'letter' THEN ev.replied END, c.first_answer_at)")}
      AS answer_us,
    {us("c.first_ack_at")} AS ack_us,
    COALESCE({us("c.closed_at")}, {closed_null}) AS closed0_us,
    CASE WHEN c.channel = 'visit' THEN {us("ev.served")} - {us("ev.arrived")} END AS waiting_us,
    CASE WHEN c.channel = 'visit' THEN {us("lv.left_at")} - {us("ev.served")} END AS service_us,
    {answer_target} AS answer_target,
    {ack_target} AS ack_target,
    {_DETAILED_SQL} AS detailed
  FROM contact c
    JOIN service s ON s.id = c.service_id
    JOIN collectivity k ON k.id = c.collectivity_id
    LEFT JOIN ev ON ev.id = c.id
    LEFT JOIN lv ON lv.id = c.id
  WHERE c.campaign_id = :campaign
),
w AS (
  SELECT base.*,
    CASE WHEN closed0_us IS NOT NULL THEN closed0_us
         WHEN sent_us IS NOT NULL THEN {big}(CAST(:as_of_us AS BIGINT), sent_us) END AS closed_us,
    (sent_us IS NOT NULL AND status <> 'undeliverable') AS delivered,
    channel IN ('email', 'letter') AS written
  FROM base
),
e AS (
  SELECT w.*,
    CASE WHEN delivered THEN {big}(closed_us, sent_us) END AS end_us
  FROM w
),
a AS (
  SELECT e.*,
    CASE WHEN end_us IS NOT NULL AND answer_us <= end_us THEN answer_us END AS answer_in_us
  FROM e
),
k2 AS (
  SELECT a.*,
    CASE WHEN end_us IS NOT NULL AND ack_us <= end_us
              AND (answer_in_us IS NULL OR ack_us < answer_in_us) THEN ack_us
         ELSE answer_in_us END AS ack_in_us
  FROM a
),
t AS (
  SELECT k2.*,
    CASE WHEN answer_in_us IS NOT NULL THEN {big}(answer_in_us, sent_us) END AS ans_at,
    CASE WHEN ack_in_us IS NOT NULL THEN {big}(ack_in_us, sent_us) END AS ack_at,
    CASE WHEN end_us IS NOT NULL AND answer_in_us IS NULL THEN end_us END AS censor_at,
    (end_us IS NOT NULL AND (closed_us < sent_us - {SKEW_US}
      OR answer_in_us < sent_us - {SKEW_US} OR ack_in_us < sent_us - {SKEW_US})) AS skew
  FROM k2
),
o AS (
  SELECT t.*,
    {_ord(dialect, "t.sent_us", "bs")} AS sent_ord,
    {_ord(dialect, "t.ans_at", "ba")} AS ans_ord,
    {_ord(dialect, "t.ack_at", "bk")} AS ack_ord,
    {_ord(dialect, "t.censor_at", "bc")} AS censor_ord
  FROM t
    LEFT JOIN {TABLE} bs ON t.end_us IS NOT NULL AND bs.departement = t.departement
      AND bs.utc_day = t.sent_us / {DAY_US}
    LEFT JOIN {TABLE} ba ON ba.departement = t.departement AND ba.utc_day = t.ans_at / {DAY_US}
    LEFT JOIN {TABLE} bk ON bk.departement = t.departement AND bk.utc_day = t.ack_at / {DAY_US}
    LEFT JOIN {TABLE} bc ON bc.departement = t.departement
      AND bc.utc_day = t.censor_at / {DAY_US}
)
SELECT o.id, o.channel, o.scenario_id, o.status, o.wording, o.service_id, o.service_kind,
  o.service_name, o.collectivity_id, o.coll_code, o.coll_name, o.coll_kind, o.population,
  o.departement, o.region, o.stratum, o.persona_id, o.auditor_id, o.planned_us, o.sent_us,
  o.answer_us, o.ack_us, o.closed_us, o.delivered, o.written, o.detailed,
  o.answer_target, o.ack_target,
  o.ans_at - o.sent_us AS ans_delay_us, o.ans_ord - o.sent_ord AS ans_bd,
  o.ack_at - o.sent_us AS ack_delay_us, o.ack_ord - o.sent_ord AS ack_bd,
  o.censor_at - o.sent_us AS censor_us, o.censor_ord - o.sent_ord AS censor_bd,
  CASE WHEN o.answer_target IS NULL THEN NULL
       WHEN o.ans_at IS NOT NULL THEN o.ans_ord - o.sent_ord <= o.answer_target
       WHEN o.censor_at IS NOT NULL AND o.censor_ord - o.sent_ord > o.answer_target THEN FALSE
  END AS ans_within,
  CASE WHEN o.ack_target IS NULL THEN NULL
       WHEN o.ack_at IS NOT NULL THEN o.ack_ord - o.sent_ord <= o.ack_target
       WHEN o.censor_at IS NOT NULL AND o.censor_ord - o.sent_ord > o.ack_target THEN FALSE
  END AS ack_within,
  o.waiting_us, o.service_us, o.skew,
  (o.end_us IS NOT NULL AND (o.sent_ord IS NULL OR (o.ans_at IS NOT NULL AND o.ans_ord IS NULL)
    OR (o.ack_at IS NOT NULL AND o.ack_ord IS NULL)
    OR (o.censor_at IS NOT NULL AND o.censor_ord IS NULL))) AS unmapped
FROM o
"""
    return sql, params
