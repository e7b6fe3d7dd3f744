"""SQL of the web accounts: who may log in to the back office or a portal, their invitations
and the failed log-ins the rate limit counts.

Logins are folded to lower case before they reach here or are compared. Invitation tokens
and passwords are never stored: a SHA-256 hex digest of the token, an argon2 hash of the
password (both computed by ``web.auth``). Every move that must happen once (an invitation
used) is a conditional ``UPDATE`` whose row count says whether it happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Collectivity, WebAccount, WebInvite, WebLoginFailure

ROLES = ("coordinator", "consultant", "collectivity")


class AccountError(ValueError):
    """An account that cannot be created or changed (duplicate login, unknown collectivity).

    ``reason`` names the case for a translated message: ``role``, ``needs_code``,
    ``no_code``, ``unknown_collectivity``, ``duplicate`` or ``inactive``.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class AccountInfo:
    id: int
    login: str
    name: str
    role: str
    collectivity_id: int | None
    collectivity_code: str | None
    collectivity_name: str | None
    active: bool
    session_epoch: int
    has_password: bool
    created_at: datetime
    last_login_at: datetime | None


_COLUMNS = (
    WebAccount.id,
    WebAccount.login,
    WebAccount.name,
    WebAccount.role,
    WebAccount.collectivity_id,
    Collectivity.insee_code,
    Collectivity.name,
    WebAccount.active,
    WebAccount.session_epoch,
    WebAccount.password_hash.is_not(None),
    WebAccount.created_at,
    WebAccount.last_login_at,
)


def _query() -> Select[*tuple[Any, ...]]:
    return select(*_COLUMNS).outerjoin(Collectivity, Collectivity.id == WebAccount.collectivity_id)


async def _collectivity_for(
    session: AsyncSession, role: str, collectivity_code: str | None
) -> int | None:
    """The collectivity id an account of ``role`` is bound to (``AccountError`` if none fits)."""
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}: one of {', '.join(ROLES)}", "role")
    if role != "collectivity":
        if collectivity_code:
            raise AccountError(f"a {role} account is bound to no collectivity", "no_code")
        return None
    if not collectivity_code:
        raise AccountError(
            "a collectivity account needs the collectivity's INSEE code", "needs_code"
        )
    found = await session.scalar(
        select(Collectivity.id).where(Collectivity.insee_code == collectivity_code)
    )
    if found is None:
        raise AccountError(
            f"no collectivity with INSEE code {collectivity_code!r}", "unknown_collectivity"
        )
    return int(found)


async def add_account(
    session: AsyncSession,
    *,
    login: str,
    name: str,
    role: str,
    collectivity_code: str | None,
    now: datetime,
) -> AccountInfo:
    collectivity_id = await _collectivity_for(session, role, collectivity_code)
    account = WebAccount(
        login=login,
        name=name,
        role=role,
        collectivity_id=collectivity_id,
        active=True,
        session_epoch=0,
        created_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(account)
            await session.flush()
    except IntegrityError as exc:
        raise AccountError(f"an account with login {login!r} already exists", "duplicate") from exc
    found = await account_by_id(session, account.id)
    assert found is not None
    return found


async def list_accounts(session: AsyncSession) -> list[AccountInfo]:
    rows = await session.execute(_query().order_by(WebAccount.login))
    return [AccountInfo(*row) for row in rows.all()]


async def account_by_id(session: AsyncSession, account_id: int) -> AccountInfo | None:
    row = (await session.execute(_query().where(WebAccount.id == account_id))).first()
    return AccountInfo(*row) if row else None


async def account_by_login(session: AsyncSession, login: str) -> AccountInfo | None:
    row = (await session.execute(_query().where(WebAccount.login == login))).first()
    return AccountInfo(*row) if row else None


async def password_hash(session: AsyncSession, account_id: int) -> str | None:
    value = await session.scalar(
        select(WebAccount.password_hash).where(WebAccount.id == account_id)
    )
    return str(value) if value is not None else None


async def set_password_hash(
    session: AsyncSession, account_id: int, hashed: str, *, end_sessions: bool
) -> None:
    values: dict[str, object] = {"password_hash": hashed}
    if end_sessions:
        values["session_epoch"] = WebAccount.session_epoch + 1
    await session.execute(update(WebAccount).where(WebAccount.id == account_id).values(**values))


async def record_login(session: AsyncSession, account_id: int, now: datetime) -> None:
    await session.execute(
        update(WebAccount).where(WebAccount.id == account_id).values(last_login_at=now)
    )


async def disable_account(session: AsyncSession, login: str, now: datetime) -> bool:
    """Refuse the account from now on and end its sessions; False if no such active account."""
    result = await session.execute(
        update(WebAccount)
        .where(WebAccount.login == login, WebAccount.active.is_(True))
        .values(active=False, disabled_at=now, session_epoch=WebAccount.session_epoch + 1)
    )
    await session.execute(
        update(WebInvite)
        .where(
            WebInvite.used_at.is_(None),
            WebInvite.account_id.in_(select(WebAccount.id).where(WebAccount.login == login)),
        )
        .values(expires_at=now)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


# -- invitations --------------------------------------------------------------------------


async def add_invite(
    session: AsyncSession, account_id: int, token_hash: str, now: datetime, expires_at: datetime
) -> None:
    # A new link replaces the ones not used yet.
    await session.execute(
        update(WebInvite)
        .where(WebInvite.account_id == account_id, WebInvite.used_at.is_(None))
        .values(expires_at=now)
    )
    session.add(
        WebInvite(
            token_hash=token_hash, account_id=account_id, created_at=now, expires_at=expires_at
        )
    )
    await session.flush()


async def invite_account(
    session: AsyncSession, token_hash: str, now: datetime
) -> AccountInfo | None:
    """The active account a usable (unused, unexpired) invitation is for, or None."""
    account_id = await session.scalar(
        select(WebInvite.account_id)
        .join(WebAccount, WebAccount.id == WebInvite.account_id)
        .where(
            WebInvite.token_hash == token_hash,
            WebInvite.used_at.is_(None),
            WebInvite.expires_at > now,
            WebAccount.active.is_(True),
        )
    )
    return await account_by_id(session, account_id) if account_id is not None else None


async def use_invite(
    session: AsyncSession, token_hash: str, now: datetime, hashed_password: str
) -> AccountInfo | None:
    """Spend the invitation and set the password; None when it was not usable (any more)."""
    account = await invite_account(session, token_hash, now)
    if account is None:
        return None
    result = await session.execute(
        update(WebInvite)
        .where(
            WebInvite.token_hash == token_hash,
            WebInvite.used_at.is_(None),
            WebInvite.expires_at > now,
        )
        .values(used_at=now)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    await set_password_hash(session, account.id, hashed_password, end_sessions=True)
    return await account_by_id(session, account.id)


# -- failed log-ins -----------------------------------------------------------------------


async def record_failure(session: AsyncSession, login: str, client: str, now: datetime) -> None:
    session.add(WebLoginFailure(login=login[:254], client=client[:64], at=now))
    await session.flush()


async def failures_since(
    session: AsyncSession, login: str, client: str, since: datetime
) -> tuple[int, int]:
    """(failures for this login, failures from this client) since ``since``."""
    by_login = await session.scalar(
        select(func.count())
        .select_from(WebLoginFailure)
        .where(WebLoginFailure.login == login, WebLoginFailure.at >= since)
    )
    by_client = await session.scalar(
        select(func.count())
        .select_from(WebLoginFailure)
        .where(WebLoginFailure.client == client, WebLoginFailure.at >= since)
    )
    return int(by_login or 0), int(by_client or 0)


async def forget_failures(session: AsyncSession, before: datetime) -> None:
    await session.execute(delete(WebLoginFailure).where(WebLoginFailure.at < before))


async def set_role(
    session: AsyncSession, account_id: int, role: str, collectivity_code: str | None
) -> AccountInfo:
    """Give an active account another role (and collectivity); its open sessions end.

    ``AccountError`` when the role is unknown, a collectivity account has no known INSEE code,
    another role is given one, or the account is not active.
    """
    collectivity_id = await _collectivity_for(session, role, collectivity_code)
    result = await session.execute(
        update(WebAccount)
        .where(WebAccount.id == account_id, WebAccount.active.is_(True))
        .values(
            role=role,
            collectivity_id=collectivity_id,
            session_epoch=WebAccount.session_epoch + 1,
        )
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise AccountError(f"no active account with id {account_id}", "inactive")
    found = await account_by_id(session, account_id)
    assert found is not None
    return found
