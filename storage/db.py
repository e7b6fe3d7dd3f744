"""Engines and sessions for SQLite (embedded default) and PostgreSQL.

URLs are given the way people write them (``sqlite:///var/temoin.db``,
``postgresql://user@host/db``) and mapped to the async drivers (aiosqlite, asyncpg) or,
for tools that need a synchronous connection (Alembic offline, APScheduler), to the
synchronous ones. ``schema`` puts every table of a PostgreSQL connection in one schema:
the test suite uses it to isolate runs inside the shared ``test`` database.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def async_url(url: str) -> URL:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg")
    raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")


def sync_url(url: str) -> URL:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite")
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg2")
    raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")


def _prepare_sqlite_file(url: URL) -> None:
    """The folder and an empty database file, readable by their owner only: the database
    holds names, addresses and mail. SQLite gives its -wal and -shm files the database
    file's permissions, so they follow. An existing file is left as it is."""
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        path = Path(url.database)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the bot and the worker read while the other writes; foreign keys are off by
    # default in SQLite; the busy timeout turns "database is locked" into a short wait.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# PostgreSQL connections kept open by a process, opened on demand (none until needed) and
# never more. SQLAlchemy's default (5, and 10 more opened and closed on demand) churns under
# the bot's 64 concurrent updates: every extra connection is a server process forked, a
# login, the dialect's type set-up and each statement prepared again (asyncpg's cache is per
# connection), all round trips: 15-30 ms added to the update that opens it. An earlier
# 16 kept + 16 overflow still churned: in bench/bot.py (200 auditors, 4 s pauses) all 32
# were out at once at peaks and the pool opened 120 connections for 3,200 updates, one
# update in 30 paying for a connection, enough to make the p99. Keeping all 32 costs an
# idle server process each, the same ceiling on the server's ``max_connections`` as before;
# a unit of work beyond 32 waits for a connection instead of opening one.
PG_POOL_SIZE = 32
PG_MAX_OVERFLOW = 0

# A pooled PostgreSQL connection idle for longer than this is pinged before it is handed out.
# SQLAlchemy's ``pool_pre_ping`` pings at every checkout: one more round trip per unit of
# work, a third of the bot's on a busy machine, where each one wakes the server's process.
# A connection that was in use a moment ago is almost surely alive; one that sat idle may
# have outlived a server restart or a dropped link. A connection that dies while in use
# fails its statement with a disconnection error: SQLAlchemy then drops it, and every
# connection the pool opened before it, so the next unit of work starts on fresh ones.
PING_AFTER_IDLE = 5.0  # seconds


def _ping_stale_connections(engine: AsyncEngine, idle: float) -> None:
    """At checkout, ping a connection that has been idle more than ``idle`` seconds; a dead
    one is replaced by the pool (``DisconnectionError``), as ``pool_pre_ping`` would."""
    dialect = engine.sync_engine.dialect

    def on_checkin(_dbapi: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def on_checkout(dbapi: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since <= idle:
            return  # new, or back in the pool a moment ago
        try:
            alive = dialect.do_ping(dbapi)
        except Exception as exc:  # the driver's own error for a dead link
            raise DisconnectionError("idle connection lost") from exc
        if not alive:
            raise DisconnectionError("idle connection lost")

    event.listen(engine.sync_engine.pool, "checkin", on_checkin)
    event.listen(engine.sync_engine.pool, "checkout", on_checkout)


def make_engine(
    url: str,
    *,
    schema: str | None = None,
    echo: bool = False,
    ping_after_idle: float = PING_AFTER_IDLE,
) -> AsyncEngine:
    target = async_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if target.get_backend_name() == "sqlite":
        _prepare_sqlite_file(target)
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs["pool_size"] = PG_POOL_SIZE
        kwargs["max_overflow"] = PG_MAX_OVERFLOW
        if schema:
            kwargs["connect_args"] = {"server_settings": {"search_path": schema}}
    engine = create_async_engine(target, **kwargs)
    if target.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        _ping_stale_connections(engine, ping_after_idle)
    return engine


class Database:
    """An engine and its session factory; one per process, passed in, never global."""

    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        echo: bool = False,
        ping_after_idle: float = PING_AFTER_IDLE,
    ) -> None:
        self.url = url
        self.schema = schema
        self.engine = make_engine(url, schema=schema, echo=echo, ping_after_idle=ping_after_idle)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: committed on success, rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
