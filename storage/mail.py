"""SQL of the mailbox watchers: raw messages, checkpoints, processing claims, contact effects.

    fetched batch ─► store_raw (one transaction) ──────────► blobs (SHA-256, stored once)
                     │                                      message rows: raw + UID only,
                     │                                      ``classification`` NULL
                     └─ checkpoint moved to the batch's last UID, in the same transaction
    parsed batch  ─► claim (UPDATE … WHERE classification IS NULL RETURNING id)
                     ─► load contacts (locked) ─► save message results, contact changes, events

Rows are unique on (persona, mailbox, UIDVALIDITY, UID): a batch stored twice (a watcher
restarted mid-fetch, two workers) inserts nothing the second time. A UIDVALIDITY change is
reconciled here: a message of the folder stored under an older UIDVALIDITY with the same bytes
(SHA-256), or failing that the same Message-ID, is moved to its new (UIDVALIDITY, UID) instead
of being stored again, so it is neither duplicated nor counted twice.

``classification`` NULL means "stored, not processed yet"; processing claims rows with a
conditional UPDATE, so when two processes race only one applies a message's effects.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Blob,
    Collectivity,
    Contact,
    ContactEvent,
    MailboxCheckpoint,
    Message,
    Persona,
    Service,
)
from storage.personas import PersonaInfo, persona_info

PROCESSING = "processing"  # a claim's placeholder, never committed
QUARANTINED = "quarantined"
OWN_COPY = "own_copy"
PENDING = "pending"
_CHUNK = 500
_HEAD_LIMIT = 65_536
_MESSAGE_ID = re.compile(
    rb"^message-id:[ \t]*(?:\r?\n[ \t]+)?(<[^<>\s]{1,246}>)", re.IGNORECASE | re.MULTILINE
)


# -- rows -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RawMessage:
    uid: int
    internal_date: datetime
    raw: bytes
    sha256: str
    message_id: str | None

    @classmethod
    def of(cls, uid: int, internal_date: datetime, raw: bytes) -> RawMessage:
        return cls(uid, internal_date, raw, hashlib.sha256(raw).hexdigest(), header_message_id(raw))


def header_message_id(raw: bytes) -> str | None:
    """The Message-ID of the header block, read without parsing (for reconciliation)."""
    crlf = raw.find(b"\r\n\r\n", 0, _HEAD_LIMIT)
    # A bare blank line before it ends the head as well; none can start at crlf - 1.
    end = raw.find(b"\n\n", 0, crlf if crlf >= 0 else _HEAD_LIMIT)
    stops = [e for e in (end, crlf) if e >= 0]
    head = raw[: min(stops)] if stops else raw[:_HEAD_LIMIT]
    found = _MESSAGE_ID.search(head)
    return found.group(1).decode("ascii", "replace") if found else None


@dataclass(frozen=True, slots=True)
class StoredRaw:
    id: int
    mailbox: str
    internal_date: datetime
    raw: bytes
    sha256: str


@dataclass(frozen=True, slots=True)
class StoreOutcome:
    to_process: list[tuple[int, int]]  # (id, UID) of the batch's rows not processed yet
    inserted: int
    relinked: int


@dataclass(frozen=True, slots=True)
class ContactView:
    """A contact as the tracker sees and changes it (a plain snapshot)."""

    id: int
    persona_id: int | None
    status: str
    status_at: datetime
    sent_at: datetime | None
    followup_sent_at: datetime | None
    message_id: str | None
    followup_message_id: str | None
    reply_token: str | None
    first_ack_at: datetime | None
    first_answer_at: datetime | None
    outcome_reason: str | None
    checks: dict[str, Any] | None
    scenario_id: str
    wording: int
    service_id: int
    service_email: str | None
    service_phone: str | None
    service_name: str
    service_kind: str
    service_city: str | None
    collectivity_id: int
    collectivity_name: str
    departement: str


_WRITABLE = ("status", "status_at", "first_ack_at", "first_answer_at", "outcome_reason", "checks")


@dataclass(frozen=True, slots=True)
class EventRow:
    contact_id: int
    kind: str
    at: datetime
    detail: dict[str, Any]
    actor: str = "tracker"


@dataclass(slots=True)
class MessageResult:
    """The processed columns of one message row."""

    id: int
    classification: str
    direction: str = "in"  # "out" for the copies of what we sent
    message_id: str | None = None
    in_reply_to: str | None = None
    references: str | None = None
    subject: str | None = None
    from_address: str | None = None
    to_addresses: str | None = None
    date_header: datetime | None = None
    text: str | None = None
    new_text: str | None = None
    html_sanitised: str | None = None
    attachments: dict[str, Any] | None = None
    evidence: dict[str, Any] | None = None
    contact_id: int | None = None
    match_method: str | None = None
    match_confidence: float | None = None
    triage_state: str | None = None
    quarantine_reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


_LIMITS = {"message_id": 250, "in_reply_to": 250, "from_address": 254, "match_method": 30,
           "classification": 20, "triage_state": 20}  # fmt: skip


def clean_text(value: str) -> str:
    """What every database takes: no NUL (PostgreSQL refuses it), no lone surrogate."""
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def clean_json(value: Any) -> Any:
    """``value`` as every database stores it: each string cleaned (``clean_text``)."""
    if isinstance(value, dict | list) and _clean_as_json(value):
        return value  # stored as the same JSON: no need to rebuild it
    return _clean_json(value)


def _clean_as_json(value: dict[Any, Any] | list[Any]) -> bool:
    """Does ``value`` serialise to JSON with no NUL and no lone surrogate? One C call,
    instead of a walk in Python; an escaped NUL written as text only costs the walk."""
    try:
        text = json.dumps(value, ensure_ascii=False)
        text.encode("utf-8")
    except (TypeError, ValueError):  # not JSON as it is (UnicodeEncodeError is a ValueError)
        return False
    return "\\u0000" not in text


def _clean_json(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): _clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_json(v) for v in value]
    return value


_RESULT_COLUMNS = tuple(f.name for f in fields(MessageResult) if f.name != "extra")


def _row_values(result: MessageResult) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in _RESULT_COLUMNS:
        value = getattr(result, name)
        if isinstance(value, str):
            value = clean_text(value)
            limit = _LIMITS.get(name)
            if limit is not None:
                value = value[:limit]
        elif isinstance(value, dict):
            value = clean_json(value)
        values[name] = value
    return values


# -- raw storage ---------------------------------------------------------------------------


def _insert(session: AsyncSession, table: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


async def last_uid(session: AsyncSession, persona_id: int, mailbox: str, uidvalidity: int) -> int:
    """The checkpoint of (persona, mailbox, UIDVALIDITY), created at 0 when new."""
    await session.execute(
        _insert(session, MailboxCheckpoint)
        .values(persona_id=persona_id, mailbox=mailbox, uidvalidity=uidvalidity, last_uid=0)
        .on_conflict_do_nothing(index_elements=["persona_id", "mailbox", "uidvalidity"])
    )
    found = await session.scalar(
        select(MailboxCheckpoint.last_uid).where(
            MailboxCheckpoint.persona_id == persona_id,
            MailboxCheckpoint.mailbox == mailbox,
            MailboxCheckpoint.uidvalidity == uidvalidity,
        )
    )
    return int(found or 0)


async def store_raw(
    session: AsyncSession,
    *,
    persona_id: int,
    mailbox: str,
    uidvalidity: int,
    items: Sequence[RawMessage],
    up_to: int,
    now: datetime,
) -> StoreOutcome:
    """Store a fetched batch (blobs, rows) and move the checkpoint, in the caller's transaction."""
    uids = [item.uid for item in items]
    existing: set[int] = set()
    for part in chunks(uids):
        existing.update(
            await session.scalars(
                select(Message.uid).where(
                    Message.persona_id == persona_id,
                    Message.mailbox == mailbox,
                    Message.uidvalidity == uidvalidity,
                    Message.uid.in_(part),
                )
            )
        )
    fresh = [item for item in items if item.uid not in existing]
    if fresh:
        blobs: dict[str, dict[str, Any]] = {}
        for item in fresh:
            blobs.setdefault(
                item.sha256,
                {"sha256": item.sha256, "size": len(item.raw), "data": item.raw, "created_at": now},
            )
        stored: set[str] = set()
        hashes = list(blobs)
        for part in chunks(hashes):
            stored.update(await session.scalars(select(Blob.sha256).where(Blob.sha256.in_(part))))
        new_blobs = [row for sha, row in blobs.items() if sha not in stored]
        for part in chunks(new_blobs):
            await session.execute(
                _insert(session, Blob).on_conflict_do_nothing(index_elements=["sha256"]),
                list(part),
            )
    relinked_uids = await _relink(session, persona_id, mailbox, uidvalidity, fresh, now)
    rows = [
        {
            "direction": "in",
            "persona_id": persona_id,
            "mailbox": mailbox,
            "uidvalidity": uidvalidity,
            "uid": item.uid,
            "raw_sha256": item.sha256,
            "message_id": item.message_id,
            "internal_date": item.internal_date,
            "created_at": now,
        }
        for item in fresh
        if item.uid not in relinked_uids
    ]
    for part in chunks(rows):
        await session.execute(
            _insert(session, Message).on_conflict_do_nothing(
                index_elements=["persona_id", "mailbox", "uidvalidity", "uid"]
            ),
            list(part),
        )
    await session.execute(
        update(MailboxCheckpoint)
        .where(
            MailboxCheckpoint.persona_id == persona_id,
            MailboxCheckpoint.mailbox == mailbox,
            MailboxCheckpoint.uidvalidity == uidvalidity,
            MailboxCheckpoint.last_uid < up_to,
        )
        .values(last_uid=up_to)
    )
    to_process: list[tuple[int, int]] = []
    for part in chunks(uids):
        found = await session.execute(
            select(Message.id, Message.uid)
            .where(
                Message.persona_id == persona_id,
                Message.mailbox == mailbox,
                Message.uidvalidity == uidvalidity,
                Message.uid.in_(part),
                Message.classification.is_(None),
            )
            .order_by(Message.uid)
        )
        to_process.extend((id_, uid) for id_, uid in found.all() if uid is not None)
    return StoreOutcome(to_process, len(rows), len(relinked_uids))


async def _relink(
    session: AsyncSession,
    persona_id: int,
    mailbox: str,
    uidvalidity: int,
    fresh: Sequence[RawMessage],
    now: datetime,
) -> set[int]:
    """Move rows stored under an older UIDVALIDITY of this folder to their new UID."""
    if not fresh:
        return set()
    hashes = list({item.sha256 for item in fresh})
    ids = list({item.message_id for item in fresh if item.message_id})
    old: list[Message] = []
    base = (
        Message.persona_id == persona_id,
        Message.mailbox == mailbox,
        Message.uidvalidity != uidvalidity,
    )
    for part in chunks(hashes):
        old.extend(
            await session.scalars(select(Message).where(*base, Message.raw_sha256.in_(part)))
        )
    for part in chunks(ids):
        old.extend(
            await session.scalars(select(Message).where(*base, Message.message_id.in_(part)))
        )
    if not old:
        return set()
    unique = sorted({row.id: row for row in old}.values(), key=lambda row: row.id)
    used: set[int] = set()
    relinked: set[int] = set()
    for item in fresh:
        same = [r for r in unique if r.id not in used and r.raw_sha256 == item.sha256]
        if not same and item.message_id:
            same = [r for r in unique if r.id not in used and r.message_id == item.message_id]
            if len(same) > 1:
                continue  # one Message-ID, several different old copies: store anew
        if not same:
            continue
        row = same[0]
        used.add(row.id)
        note: dict[str, Any] = {
            "at": now.isoformat(),
            "from": [row.uidvalidity, row.uid],
            "to": [uidvalidity, item.uid],
        }
        if row.raw_sha256 != item.sha256:
            note["server_copy_sha256"] = item.sha256  # bytes differ: the new copy is kept too
        evidence = dict(row.evidence or {})
        evidence["relinked"] = [*evidence.get("relinked", []), note]
        row.uidvalidity, row.uid, row.evidence = uidvalidity, item.uid, evidence
        relinked.add(item.uid)
    await session.flush()
    return relinked


async def pending_raw(session: AsyncSession, persona_id: int, limit: int) -> list[StoredRaw]:
    """Rows stored but not processed (oldest first), with their raw bytes."""
    rows = await session.execute(
        select(Message.id, Message.mailbox, Message.internal_date, Blob.data, Blob.sha256)
        .join(Blob, Blob.sha256 == Message.raw_sha256)
        .where(Message.persona_id == persona_id, Message.classification.is_(None))
        .order_by(Message.id)
        .limit(limit)
    )
    return [
        StoredRaw(id_, mailbox or "", internal_date, bytes(data), sha)
        for id_, mailbox, internal_date, data, sha in rows.all()
        if internal_date is not None
    ]


async def raw_of(session: AsyncSession, message_id: int) -> StoredRaw | None:
    row = (
        await session.execute(
            select(Message.id, Message.mailbox, Message.internal_date, Blob.data, Blob.sha256)
            .join(Blob, Blob.sha256 == Message.raw_sha256)
            .where(Message.id == message_id)
        )
    ).first()
    if row is None or row[2] is None:
        return None
    return StoredRaw(row[0], row[1] or "", row[2], bytes(row[3]), row[4])


# -- processing ----------------------------------------------------------------------------


async def claim(session: AsyncSession, ids: Sequence[int]) -> set[int]:
    """Take the rows still unprocessed; the first statement of the processing transaction."""
    won: set[int] = set()
    for part in chunks(list(ids)):
        result = await session.execute(
            update(Message)
            .where(Message.id.in_(part), Message.classification.is_(None))
            .values(classification=PROCESSING)
            .returning(Message.id)
        )
        won.update(result.scalars())
    return won


async def persona_accounts(session: AsyncSession, *, active_only: bool = True) -> list[PersonaInfo]:
    query = select(Persona).order_by(Persona.id)
    if active_only:
        query = query.where(Persona.active.is_(True))
    rows = await session.scalars(query)
    return [persona_info(p) for p in rows]


# Columns in the order of ContactView's fields: rows become views without ORM objects.
_VIEW_COLUMNS = (
    Contact.id, Contact.persona_id, Contact.status, Contact.status_at, Contact.sent_at,
    Contact.followup_sent_at, Contact.message_id, Contact.followup_message_id,
    Contact.reply_token, Contact.first_ack_at, Contact.first_answer_at, Contact.outcome_reason,
    Contact.checks, Contact.scenario_id, Contact.wording, Service.id, Service.email,
    Service.phone, Service.name, Service.kind, Service.city, Collectivity.id, Collectivity.name,
    Collectivity.departement,
)  # fmt: skip


def _contact_query() -> Any:
    return (
        select(*_VIEW_COLUMNS)
        .join(Service, Service.id == Contact.service_id)
        .join(Collectivity, Collectivity.id == Contact.collectivity_id)
    )


async def lock_contacts(session: AsyncSession, ids: Iterable[int]) -> dict[int, ContactView]:
    """Contacts about to change, locked until commit on PostgreSQL."""
    wanted = sorted(set(ids))
    views: dict[int, ContactView] = {}
    for part in chunks(wanted):
        query = _contact_query().where(Contact.id.in_(part)).order_by(Contact.id)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(of=Contact.__table__)
        for row in (await session.execute(query)).all():
            views[row[0]] = ContactView(*row)
    return views


async def save_contacts(
    session: AsyncSession, before: dict[int, ContactView], after: dict[int, ContactView]
) -> int:
    """Write what changed between two snapshots of each contact; return how many changed.
    Contacts changing the same columns go in one executemany."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for contact_id, new in after.items():
        old = before[contact_id]
        values = {
            name: getattr(new, name)
            for name in _WRITABLE
            if getattr(new, name) != getattr(old, name)
        }
        if values:
            if values.get("checks") is not None:
                values["checks"] = clean_json(values["checks"])
            groups.setdefault(tuple(sorted(values)), []).append({"id": contact_id, **values})
    for rows in groups.values():
        await session.execute(update(Contact), rows)
    return sum(len(rows) for rows in groups.values())


async def add_events(session: AsyncSession, events: Sequence[EventRow]) -> None:
    if events:
        await session.execute(
            _insert(session, ContactEvent),
            [
                {
                    "contact_id": e.contact_id,
                    "kind": e.kind,
                    "at": e.at,
                    "actor": e.actor,
                    "detail": clean_json(e.detail),
                }
                for e in events
            ],
        )


async def save_results(session: AsyncSession, results: Sequence[MessageResult]) -> None:
    """ORM bulk UPDATE by primary key (one executemany per batch)."""
    if results:
        await session.execute(update(Message), [_row_values(r) for r in results])


def own_copy_subject(subject: str | None) -> str | None:
    """The subject of our own copy as ``mail_match.own_copy_subjects`` reads it back once
    stored (cleaned as every string column is); None when it reads nothing."""
    return clean_text(subject) if subject else None


def quarantine(message_id: int, reason: str) -> MessageResult:
    return MessageResult(id=message_id, classification=QUARANTINED, quarantine_reason=reason)


async def contact_view(session: AsyncSession, contact_id: int) -> ContactView | None:
    return (await lock_contacts(session, [contact_id])).get(contact_id)


def with_changes(view: ContactView, **changes: Any) -> ContactView:
    return replace(view, **changes)
