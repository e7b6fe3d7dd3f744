"""Passwords, invitation tokens and who may do what: the one place that decides.

Passwords are hashed with argon2id (by default argon2-cffi's parameters, RFC 9106's second
recommended profile; ``WebConfig.argon2_*`` to change them); a hash made with other parameters
is replaced at the next successful log-in.
Invitation tokens are 32 random bytes (URL-safe base64), stored as their SHA-256 digest only.

Roles (``storage.web_accounts.ROLES``):

- coordinator: everything (back office, triage decisions, accounts);
- consultant: reads the whole back office, decides nothing in triage;
- collectivity: its own portal only, bound to one collectivity.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.ext.asyncio import AsyncSession

from storage import web_accounts
from storage.web_accounts import AccountInfo

MIN_PASSWORD = 12
MAX_LOGIN = 254
MAX_PASSWORD = 1024  # argon2 hashes any length; a megabyte password is only a CPU bill

BACK_OFFICE: Final = frozenset({"coordinator", "consultant"})


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def fold_login(login: str) -> str | None:
    """A login as stored (trimmed, lower case), or None if it has spaces or is too long."""
    folded = login.strip().lower()
    if not folded or len(folded) > MAX_LOGIN or any(c.isspace() for c in folded):
        return None
    return folded


async def new_invite(
    session: AsyncSession, account_id: int, now: datetime, seconds: float, public_url: str
) -> str:
    """A single-use invitation link for the account (the ones not used yet stop working).

    Only the token's digest is stored: the link exists nowhere once it has been shown.
    """
    token = new_token()
    await web_accounts.add_invite(
        session, account_id, token_hash(token), now, now + timedelta(seconds=seconds)
    )
    return f"{public_url.rstrip('/')}/invitation/{token}"


class Passwords:
    """argon2id with the configured cost (``WebConfig.argon2_*``); the work runs in a thread."""

    def __init__(self, time_cost: int = 3, memory_kib: int = 65536, parallelism: int = 4) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )
        # Verified against when the login is unknown, so that an unknown login takes as long
        # as a wrong password (the answer would otherwise tell which logins exist).
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    async def hash_async(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    def _verify(self, stored: str | None, password: str) -> bool:
        if self._dummy is None:
            self._dummy = self._hasher.hash(secrets.token_urlsafe(16))
        try:
            return self._hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def verify(self, stored: str | None, password: str) -> bool:
        """True when ``password`` matches ``stored`` (always False, as slowly, if it is None)."""
        return await asyncio.to_thread(self._verify, stored, password[:MAX_PASSWORD])

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)


def password_problem(password: str, confirm: str) -> str | None:
    """The catalogue key of what is wrong with a new password, or None."""
    if password != confirm:
        return "web.password.mismatch"
    if len(password) < MIN_PASSWORD:
        return "web.password.too_short"
    if len(password) > MAX_PASSWORD:
        return "web.password.too_long"
    return None


# -- permissions --------------------------------------------------------------------------


def can_read_back_office(account: AccountInfo) -> bool:
    return account.active and account.role in BACK_OFFICE


def can_decide(account: AccountInfo) -> bool:
    """Triage decisions and accounts: coordinators only."""
    return account.active and account.role == "coordinator"


def portal_collectivity(account: AccountInfo) -> int | None:
    """The one collectivity whose portal this account sees, or None."""
    if account.active and account.role == "collectivity":
        return account.collectivity_id
    return None
