"""What the statistics read of a contact's timeline, kept on the contact row by triggers.

The per-contact facts (``storage.contact_facts``) used to regroup every ``contact_event``
of a campaign on each run (a quarter of the statistics' time at 1 M contacts); the
timeline only changes when an event or a grid answer is written, so the database keeps
the result on ``contact`` (columns ``ev_*``), in the writer's own transaction::

    INSERT / UPDATE / DELETE contact_event  (kinds the facts read: ``KINDS``)
    INSERT / UPDATE / DELETE observation
        -> trigger -> UPDATE contact SET ev_* = (event_facts_select ... WHERE id = that contact)

Every writer (bot, letters, dispatch, mail, reviews, demo, simulators, a bulk load followed
by ``backfill_sql``) is covered without knowing about it. ``event_facts_select`` is the one
formulation of the rules (no CTE: SQLite refuses them inside triggers); the backfill of
migration 0006 and the tests' check (stored columns = the SELECT over the events) run it
over many contacts.

Columns (instants as integer microseconds since 1970-01-01 UTC, raw: the window and clamp
rules of the statistics are applied when they are read):

- ``ev_origin_us``: the first ``letter.posted`` / ``call.started`` / ``visit.arrived`` of a
  letter / call / visit;
- ``ev_reply_us``: the first ``letter.reply_received`` of a letter;
- ``ev_waiting_us``, ``ev_service_us``: a visit's served - arrived, left - served (the first
  ``visit.left`` at or after the first ``visit.served``);
- calls, per attempt (``detail["attempt"]``): the first attempt picked up is the call:
  ``ev_picked`` 1, ``ev_pickup_us`` from its first start, ``ev_transfers``; else 0 if an
  attempt ended in voicemail, no answer or busy; else NULL (unknown); ``ev_attempts``: the
  attempts of a picked-up call, else the positive attempt numbers, else the starts (NULL
  without any call event: the facts read 0);
- ``ev_detailed``: grid answers, or a call whose timeline the SQL does not read (a hold, an
  event without an integer attempt, a non-call field event): what only the Python rules
  compute (content checks, on the contact row itself, are read directly).
"""

from __future__ import annotations

import sqlite3
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from scenarios import events as ev

__all__ = [
    "EVENT_COLUMNS",
    "KINDS",
    "backfill_sql",
    "drop_ddl",
    "drop_triggers",
    "epoch_us",
    "event_facts_select",
    "install_triggers",
    "stale_contacts",
    "trigger_ddl",
]

EVENT_COLUMNS: Final = (
    "ev_origin_us",
    "ev_reply_us",
    "ev_waiting_us",
    "ev_service_us",
    "ev_picked",
    "ev_pickup_us",
    "ev_transfers",
    "ev_attempts",
    "ev_detailed",
)
# The timeline events the columns depend on (storage.stats.FIELD_EVENT_KINDS).
KINDS: Final = (ev.LETTER_PRINTED, *ev.FIELD_EVENTS)
# Call events whose attempts the SQL reads; any other field event on a call, or one
# without an integer attempt, makes the call ``detailed``.
_CALL_KINDS: Final = (
    ev.CALL_STARTED,
    ev.CALL_PICKED_UP,
    ev.CALL_VOICEMAIL,
    ev.CALL_NO_ANSWER,
    ev.CALL_BUSY,
    ev.CALL_TRANSFERRED,
    ev.CALL_HUNG_UP,
)
_MISSED: Final = (ev.CALL_VOICEMAIL, ev.CALL_NO_ANSWER, ev.CALL_BUSY)
_FUNCTION = "contact_ev_refresh"


def epoch_us(dialect: str, column: str) -> str:
    """SQL for the microseconds since 1970-01-01 UTC of a stored ``UTCDateTime`` column."""
    if dialect == "sqlite":
        # Stored as naive UTC text 'YYYY-MM-DD HH:MM:SS.ffffff' (SQLAlchemy's format);
        # unixepoch (SQLite 3.38) parses it three times faster than strftime('%s').
        seconds = (
            f"unixepoch({column})"
            if sqlite3.sqlite_version_info >= (3, 38)
            else f"CAST(strftime('%s', {column}) AS INTEGER)"
        )
        return f"({seconds} * 1000000 + CAST(substr({column}, 21, 6) AS INTEGER))"
    # date_part is a double: the nearest double to us / 1e6 (error under 0.12 µs until
    # 2255), times 1e6 (under 0.125 µs more), rounded: the exact integer, at half the cost
    # of the numeric EXTRACT.
    return f"CAST(round(date_part('epoch', {column}) * 1000000) AS BIGINT)"


def _in(kinds: tuple[str, ...]) -> str:
    return ", ".join(f"'{k}'" for k in kinds)


def _attempt(dialect: str) -> str:
    """SQL for ``detail["attempt"]`` when it is a JSON integer, else NULL."""
    if dialect == "sqlite":
        return (
            "(CASE WHEN json_type(e.detail, '$.attempt') = 'integer'"
            " THEN json_extract(e.detail, '$.attempt') END)"
        )
    return (
        "(CASE WHEN json_typeof(e.detail -> 'attempt') = 'number'"
        " AND (e.detail ->> 'attempt') ~ '^-?[0-9]{1,15}$'"
        " THEN CAST(e.detail ->> 'attempt' AS BIGINT) END)"
    )


def event_facts_select(dialect: str, *, contacts: str, events: str) -> str:
    """``SELECT id, ev_origin_us … ev_detailed`` computed from the events, one row per
    contact ``c`` matching ``contacts``; ``events`` narrows the events ``e`` read (a
    condition implied by ``contacts``, e.g. the same contact id, or ``TRUE``)."""

    def us(column: str) -> str:
        return epoch_us(dialect, column)

    attempt = _attempt(dialect)
    pa = f"""SELECT e.contact_id AS id, {attempt} AS attempt,
      MIN(CASE WHEN e.kind = '{ev.CALL_STARTED}' THEN e.at END) AS started,
      MIN(CASE WHEN e.kind = '{ev.CALL_PICKED_UP}' THEN e.at END) AS picked,
      SUM(CASE WHEN e.kind = '{ev.CALL_TRANSFERRED}' THEN 1 ELSE 0 END) AS transfers,
      MAX(CASE WHEN e.kind IN ({_in(_MISSED)}) THEN 1 ELSE 0 END) AS missed,
      SUM(CASE WHEN e.kind = '{ev.CALL_STARTED}' THEN 1 ELSE 0 END) AS starts,
      SUM(CASE WHEN {attempt} IS NULL OR e.kind NOT IN ({_in(_CALL_KINDS)})
        THEN 1 ELSE 0 END) AS odd
    FROM contact_event e JOIN contact pc0 ON pc0.id = e.contact_id
    WHERE pc0.channel = 'phone' AND e.kind IN ({_in(KINDS)}) AND {events}
    GROUP BY e.contact_id, {attempt}"""
    pc = f"""SELECT id, COUNT(*) AS attempts,
      SUM(CASE WHEN attempt > 0 THEN 1 ELSE 0 END) AS positive,
      CAST(SUM(starts) AS BIGINT) AS starts, MAX(missed) AS missed,
      CAST(SUM(odd) AS BIGINT) AS odd, MIN(CASE WHEN picked IS NOT NULL THEN attempt END) AS p
    FROM ({pa}) pa0 GROUP BY id"""
    origin_kinds = (
        ev.LETTER_POSTED,
        ev.LETTER_REPLY_RECEIVED,
        ev.CALL_STARTED,
        ev.VISIT_ARRIVED,
        ev.VISIT_SERVED,
    )
    return f"""SELECT c.id AS id,
    {
        us(
            "CASE c.channel WHEN 'letter' THEN fe.posted WHEN 'phone' THEN fe.started"
            " WHEN 'visit' THEN fe.arrived END"
        )
    } AS ev_origin_us,
    {us("CASE WHEN c.channel = 'letter' THEN fe.replied END")} AS ev_reply_us,
    CASE WHEN c.channel = 'visit' THEN {us("fe.served")} - {us("fe.arrived")} END
      AS ev_waiting_us,
    CASE WHEN c.channel = 'visit' THEN {us("lv.left_at")} - {us("fe.served")} END
      AS ev_service_us,
    CASE WHEN c.channel = 'phone' THEN
      CASE WHEN pp.p IS NOT NULL THEN 1 WHEN pp.missed = 1 THEN 0 END END AS ev_picked,
    CASE WHEN pp.p IS NOT NULL THEN {us("pa.picked")} - {us("pa.started")} END
      AS ev_pickup_us,
    CASE WHEN pp.p IS NOT NULL THEN pa.transfers END AS ev_transfers,
    CASE WHEN c.channel = 'phone' AND pp.id IS NOT NULL THEN CASE WHEN pp.p IS NOT NULL
      THEN pp.attempts ELSE COALESCE(NULLIF(pp.positive, 0), pp.starts, 0) END END
      AS ev_attempts,
    (EXISTS (SELECT 1 FROM observation o WHERE o.contact_id = c.id)
      OR (c.channel = 'phone' AND COALESCE(pp.odd, 0) > 0)) AS ev_detailed
  FROM contact c
    LEFT JOIN (
      SELECT e.contact_id AS id,
        MIN(CASE WHEN e.kind = '{ev.LETTER_POSTED}' THEN e.at END) AS posted,
        MIN(CASE WHEN e.kind = '{ev.LETTER_REPLY_RECEIVED}' THEN e.at END) AS replied,
        MIN(CASE WHEN e.kind = '{ev.CALL_STARTED}' THEN e.at END) AS started,
        MIN(CASE WHEN e.kind = '{ev.VISIT_ARRIVED}' THEN e.at END) AS arrived,
        MIN(CASE WHEN e.kind = '{ev.VISIT_SERVED}' THEN e.at END) AS served
      FROM contact_event e
      WHERE e.kind IN ({_in(origin_kinds)}) AND {events}
      GROUP BY e.contact_id
    ) fe ON fe.id = c.id
    LEFT JOIN (
      SELECT e.contact_id AS id, MIN(e.at) AS left_at
      FROM contact_event e
      WHERE e.kind = '{ev.VISIT_LEFT}' AND {events} AND e.at >= (
        SELECT MIN(s.at) FROM contact_event s
        WHERE s.contact_id = e.contact_id AND s.kind = '{ev.VISIT_SERVED}')
      GROUP BY e.contact_id
    ) lv ON lv.id = c.id
    LEFT JOIN ({pc}) pp ON pp.id = c.id
    LEFT JOIN ({pa}) pa ON pa.id = c.id AND pa.attempt = pp.p
  WHERE {contacts}"""


def _update(dialect: str, *, contacts: str, events: str) -> str:
    sets = ", ".join(f"{col} = x.{col}" for col in EVENT_COLUMNS)
    select = event_facts_select(dialect, contacts=contacts, events=events)
    return f"UPDATE contact SET {sets} FROM ({select}) x WHERE contact.id = x.id"


def backfill_sql(dialect: str, *, campaign: bool = False) -> str:
    """The UPDATE that recomputes the columns of every contact (of the campaign
    ``:campaign`` if ``campaign``) from its events: for migration 0006 and bulk loads."""
    contacts = "c.campaign_id = :campaign" if campaign else "1 = 1"
    # Only the rows that change: most contacts (emails) have no field event, and writing
    # a million rows and their indexes again cost minutes on PostgreSQL.
    changed = " OR ".join(f"contact.{col} IS DISTINCT FROM x.{col}" for col in EVENT_COLUMNS)
    if dialect == "sqlite":
        changed = " OR ".join(f"contact.{col} IS NOT x.{col}" for col in EVENT_COLUMNS)
    return f"{_update(dialect, contacts=contacts, events='1 = 1')} AND ({changed})"


def trigger_ddl(dialect: str) -> list[str]:
    """The statements that create the triggers (and, on PostgreSQL, their functions)."""
    kinds = _in(KINDS)
    if dialect == "sqlite":

        def body(ref: str) -> str:
            return _update(
                dialect,
                contacts=f"c.id = {ref}.contact_id",
                events=f"e.contact_id = {ref}.contact_id",
            )

        out = [
            f"CREATE TRIGGER contact_ev_insert AFTER INSERT ON contact_event"
            f" WHEN NEW.kind IN ({kinds}) BEGIN {body('NEW')}; END",
            f"CREATE TRIGGER contact_ev_delete AFTER DELETE ON contact_event"
            f" WHEN OLD.kind IN ({kinds}) BEGIN {body('OLD')}; END",
            "CREATE TRIGGER contact_ev_update AFTER UPDATE ON contact_event"
            f" BEGIN {body('OLD')}; {body('NEW')}; END",
            f"CREATE TRIGGER contact_obs_insert AFTER INSERT ON observation"
            f" BEGIN {body('NEW')}; END",
            f"CREATE TRIGGER contact_obs_delete AFTER DELETE ON observation"
            f" BEGIN {body('OLD')}; END",
            "CREATE TRIGGER contact_obs_update AFTER UPDATE OF contact_id ON observation"
            f" BEGIN {body('OLD')}; {body('NEW')}; END",
        ]
        return out
    refresh = _update(dialect, contacts="c.id = cid", events="e.contact_id = cid")
    return [
        f"CREATE OR REPLACE FUNCTION {_FUNCTION}(cid BIGINT) RETURNS void"
        f" LANGUAGE sql AS $$ {refresh} $$",
        # the tables of the schema the trigger was created in, whatever the writer's
        # search_path
        f"""CREATE OR REPLACE FUNCTION {_FUNCTION}_trigger() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN PERFORM {_FUNCTION}(OLD.contact_id); END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND (TG_OP = 'INSERT' OR OLD.contact_id <> NEW.contact_id)
    THEN PERFORM {_FUNCTION}(NEW.contact_id); END IF;
  RETURN NULL;
END $$""",
        "CREATE TRIGGER contact_ev_insert AFTER INSERT ON contact_event FOR EACH ROW"
        f" WHEN (NEW.kind IN ({kinds})) EXECUTE FUNCTION {_FUNCTION}_trigger()",
        "CREATE TRIGGER contact_ev_delete AFTER DELETE ON contact_event FOR EACH ROW"
        f" WHEN (OLD.kind IN ({kinds})) EXECUTE FUNCTION {_FUNCTION}_trigger()",
        "CREATE TRIGGER contact_ev_update AFTER UPDATE ON contact_event FOR EACH ROW"
        f" EXECUTE FUNCTION {_FUNCTION}_trigger()",
        "CREATE TRIGGER contact_obs_change AFTER INSERT OR DELETE OR UPDATE OF contact_id"
        f" ON observation FOR EACH ROW EXECUTE FUNCTION {_FUNCTION}_trigger()",
    ]


def drop_ddl(dialect: str) -> list[str]:
    names = ("contact_ev_insert", "contact_ev_delete", "contact_ev_update")
    if dialect == "sqlite":
        obs = ("contact_obs_insert", "contact_obs_delete", "contact_obs_update")
        return [f"DROP TRIGGER IF EXISTS {n}" for n in (*names, *obs)]
    return [
        *(f"DROP TRIGGER IF EXISTS {n} ON contact_event" for n in names),
        "DROP TRIGGER IF EXISTS contact_obs_change ON observation",
        f"DROP FUNCTION IF EXISTS {_FUNCTION}_trigger()",
        f"DROP FUNCTION IF EXISTS {_FUNCTION}(BIGINT)",
    ]


def install_triggers(_target: Any, connection: Any, **_kw: Any) -> None:
    """``MetaData`` after_create hook: the triggers of freshly created tables."""
    for statement in trigger_ddl(connection.dialect.name):
        connection.exec_driver_sql(statement)


def drop_triggers(_target: Any, connection: Any, **_kw: Any) -> None:
    """``MetaData`` before_drop hook (PostgreSQL keeps functions after their tables)."""
    for statement in drop_ddl(connection.dialect.name):
        connection.exec_driver_sql(statement)


async def stale_contacts(session: AsyncSession) -> list[tuple[Any, ...]]:
    """The contacts whose stored ``ev_*`` columns differ from what their events give now,
    as (id, stored columns, computed columns): empty unless a writer bypassed the
    triggers (the tests' check after every kind of write)."""
    dialect = session.get_bind().dialect.name
    columns = ", ".join(EVENT_COLUMNS)
    stored = {
        row[0]: tuple(row[1:])
        for row in (await session.execute(text(f"SELECT id, {columns} FROM contact"))).all()
    }
    fresh = await session.execute(
        text(event_facts_select(dialect, contacts="1 = 1", events="1 = 1"))
    )
    out: list[tuple[Any, ...]] = []
    for row in fresh.all():
        computed = tuple(row[1:])
        # booleans come back as 0/1 on SQLite, True/False on PostgreSQL: both compare equal
        if stored.get(row[0]) != computed:
            out.append((row[0], stored.get(row[0]), computed))
    return out
