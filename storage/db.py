"""Engines and sessions for SQLite (embedded default) and PostgreSQL.

URLs are given the way people write them (``sqlite:///var/temoin.db``,
``postgresql://user@host/db``) and mapped to the async drivers (aiosqlite, asyncpg) or,
for tools that need a synchronous connection (Alembic offline, APScheduler), to the
synchronous ones. ``schema`` puts every table of a PostgreSQL connection in one schema:
the test suite uses it to isolate runs inside the shared ``test`` database.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
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


# PostgreSQL connections kept open by a process. SQLAlchemy's default (5, and 10 more
# opened and closed on demand) churns under the bot's 64 concurrent updates: every extra
# connection is a server process forked, a login, the search path set and each statement
# prepared again (asyncpg's cache is per connection), all round trips. Kept connections
# cost an idle server process each.
PG_POOL_SIZE = 16
PG_MAX_OVERFLOW = 16


def make_engine(url: str, *, schema: str | None = None, echo: bool = False) -> AsyncEngine:
    target = async_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if target.get_backend_name() == "sqlite":
        _prepare_sqlite_file(target)
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["pool_size"] = PG_POOL_SIZE
        kwargs["max_overflow"] = PG_MAX_OVERFLOW
        if schema:
            kwargs["connect_args"] = {"server_settings": {"search_path": schema}}
    engine = create_async_engine(target, **kwargs)
    if target.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


class Database:
    """An engine and its session factory; one per process, passed in, never global."""

    def __init__(self, url: str, *, schema: str | None = None, echo: bool = False) -> None:
        self.url = url
        self.schema = schema
        self.engine = make_engine(url, schema=schema, echo=echo)
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
