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
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from storage.web_accounts import AccountInfo

MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # argon2 hashes any length; a megabyte password is only a CPU bill

BACK_OFFICE: Final = frozenset({"coordinator", "consultant"})


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


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
