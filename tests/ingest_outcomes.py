"""What ingesting a mailbox left in the database, in a canonical form to compare two runs.

``stored_outcomes`` reads every message row (its processed columns, by folder and UID), every
contact (the columns the tracker writes) and every contact event, and returns them as plain
JSON-able rows in a stable order. Two ingests of the same mailbox (batched and one by one,
this checkout and another version: tests/runners/test_ingest_batches.py,
bench/same_ingest.py) must give equal outcomes.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select

from storage.db import Database
from storage.models import Contact, ContactEvent, Message

_MESSAGE_COLUMNS = (
    "mailbox", "uid", "raw_sha256", "internal_date", "direction",
    "classification", "message_id", "in_reply_to", "references", "subject", "from_address",
    "to_addresses", "date_header", "text", "new_text", "html_sanitised", "attachments",
    "evidence", "contact_id", "match_method", "match_confidence", "triage_state",
    "quarantine_reason",
)  # fmt: skip
_CONTACT_COLUMNS = (
    "id", "status", "status_at", "first_ack_at", "first_answer_at", "outcome_reason", "checks",
)  # fmt: skip
_EVENT_COLUMNS = ("contact_id", "kind", "at", "actor", "detail")
_LONG = frozenset({"text", "new_text", "html_sanitised"})  # compared by digest


def _plain(name: str, value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if name in _LONG and isinstance(value, str):
        return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    if isinstance(value, dict | list):
        return json.loads(json.dumps(value, sort_keys=True, default=str))
    return value


def _rows(result: Any, names: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{n: _plain(n, v) for n, v in zip(names, row, strict=True)} for row in result.all()]


async def stored_outcomes(database: Database) -> dict[str, list[dict[str, Any]]]:
    """Messages (with the database id of each, for the events that name it), contacts,
    events; message ids are replaced by the message's (folder, UID) so that two databases
    filled in another order still compare."""
    async with database.session() as session:
        found = await session.execute(select(Message.id, Message.mailbox, Message.uid))
        ids = {id_: f"{mailbox}:{uid}" for id_, mailbox, uid in found.all()}
        messages = _rows(
            await session.execute(
                select(*(getattr(Message, n) for n in _MESSAGE_COLUMNS)).order_by(
                    Message.mailbox, Message.uid
                )
            ),
            _MESSAGE_COLUMNS,
        )
        contacts = _rows(
            await session.execute(
                select(*(getattr(Contact, n) for n in _CONTACT_COLUMNS)).order_by(Contact.id)
            ),
            _CONTACT_COLUMNS,
        )
        events = _rows(
            await session.execute(select(*(getattr(ContactEvent, n) for n in _EVENT_COLUMNS))),
            _EVENT_COLUMNS,
        )
    for row in messages:
        _rename(row.get("evidence"), ids)
    for row in contacts:
        _rename(row.get("checks"), ids)
    for row in events:
        _rename(row.get("detail"), ids)
    events.sort(key=lambda e: json.dumps(e, sort_keys=True))
    return {"messages": messages, "contacts": contacts, "events": events}


def _rename(detail: Any, ids: dict[int, str]) -> None:
    """Message ids inside evidence and event details, as (folder, UID)."""
    if not isinstance(detail, dict):
        return
    for key in ("message", "duplicate_of"):
        value = detail.get(key)
        if isinstance(value, int) and value in ids:
            detail[key] = ids[value]
