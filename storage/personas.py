"""Personas: the citizen identities and their mailbox accounts (SQL only).

``upsert_persona`` creates a persona by key or changes only the fields given (``None`` leaves
a field as it is), so that ``temoin personas add`` can complete a persona that a campaign file
created with its identity only. The password is stored as a reference (``env:VAR`` or
``file:PATH``) and checked to be one here as well, so no caller can store a password.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scenarios.clock import require_utc
from storage.models import Persona

# Columns ``upsert_persona`` may set, besides the key.
EDITABLE = (
    "display_name", "email", "address", "postal_code", "city",
    "smtp_host", "smtp_port", "smtp_security", "imap_host", "imap_port", "imap_security",
    "username", "password_ref", "subaddress_separator", "active",
)  # fmt: skip


class PersonaError(Exception):
    """A persona that cannot be stored as asked: a ``code`` (``missing_identity``,
    ``email_taken``, ``password_not_ref``) and its ``params``, said by the command line
    from its catalogue (``cli.personas.<code>``); ``str()`` is the English."""

    def __init__(self, code: str, message: str, **params: str) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


@dataclass(frozen=True, slots=True)
class PersonaInfo:
    id: int
    key: str
    display_name: str
    email: str
    address: str | None
    postal_code: str | None
    city: str | None
    smtp_host: str | None
    smtp_port: int | None
    smtp_security: str | None
    imap_host: str | None
    imap_port: int | None
    imap_security: str | None
    username: str | None
    password_ref: str | None
    subaddress_separator: str | None
    active: bool
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["created_at"] = self.created_at.isoformat()
        return out


def persona_info(row: Persona) -> PersonaInfo:
    """The one plain record of a persona that every room uses (dispatch, tracking, CLI)."""
    return PersonaInfo(**{f.name: getattr(row, f.name) for f in fields(PersonaInfo)})


def is_secret_reference(value: str) -> bool:
    kind, sep, target = value.partition(":")
    return bool(sep) and kind in ("env", "file") and bool(target)


async def upsert_persona(
    session: AsyncSession, key: str, changes: Mapping[str, Any], now: datetime
) -> tuple[PersonaInfo, bool]:
    """Create persona ``key`` or update the given fields; returns (persona, created)."""
    now = require_utc(now)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not persona fields: {sorted(unknown)}")
    given = {name: value for name, value in changes.items() if value is not None}
    ref = given.get("password_ref")
    if ref is not None and not is_secret_reference(str(ref)):
        raise PersonaError(
            "password_not_ref",
            "the password must be given as a reference, env:VARIABLE or file:/path, "
            "never as the password itself",
        )
    row = await session.scalar(select(Persona).where(Persona.key == key))
    created = row is None
    if row is None:
        missing = [name for name in ("display_name", "email") if name not in given]
        if missing:
            flags = ", ".join("--name" if m == "display_name" else "--email" for m in missing)
            raise PersonaError(
                "missing_identity",
                f"persona {key!r} does not exist yet: {flags} required",
                key=key,
                flags=flags,
            )
        row = Persona(key=key, created_at=now, active=True)
    email = given.get("email")
    if email is not None:
        other = await session.scalar(
            select(Persona.key).where(
                func.lower(Persona.email) == str(email).lower(), Persona.key != key
            )
        )
        if other is not None:
            raise PersonaError(
                "email_taken",
                f"email {email} already belongs to persona {other!r}",
                email=str(email),
                other=other,
            )
    for name, value in given.items():
        setattr(row, name, value)
    if created:
        session.add(row)
    await session.flush()
    return persona_info(row), created


async def list_personas(session: AsyncSession) -> list[PersonaInfo]:
    rows = await session.scalars(select(Persona).order_by(Persona.key))
    return [persona_info(row) for row in rows]


async def get_persona(session: AsyncSession, key: str) -> PersonaInfo | None:
    row = await session.scalar(select(Persona).where(Persona.key == key))
    return None if row is None else persona_info(row)
