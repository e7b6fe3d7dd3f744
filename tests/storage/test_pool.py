"""PostgreSQL connections are pinged only after sitting idle, and a dead one is replaced.

``storage.db`` no longer pings at every checkout (a round trip per unit of work): a pooled
connection idle for longer than ``ping_after_idle`` is pinged, and one that dies while
recently used fails its unit of work once, after which the pool starts afresh. The server
side of a connection is killed here with ``pg_terminate_backend``, as a restart would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storage.db import Database
from tests.conftest import POSTGRES_URL, require_postgres


@pytest.fixture
async def admin() -> AsyncIterator[Database]:
    require_postgres()
    db = Database(POSTGRES_URL)
    try:
        yield db
    finally:
        await db.dispose()


async def backend_pid(database: Database) -> int:
    async with database.session() as s:
        return int(await s.scalar(text("SELECT pg_backend_pid()")) or 0)


async def kill(admin: Database, pid: int) -> None:
    async with admin.session() as s:
        assert await s.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        # Wait until the server has really ended it.
        for _ in range(200):
            gone = await s.scalar(
                text("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            )
            if gone:
                return
            await s.execute(text("SELECT pg_sleep(0.01)"))


async def test_an_idle_connection_killed_by_the_server_is_replaced_unseen(admin: Database) -> None:
    database = Database(POSTGRES_URL, ping_after_idle=0.0)  # every reuse counts as idle
    try:
        first = await backend_pid(database)
        await kill(admin, first)
        second = await backend_pid(database)  # no error: the ping found it dead
        assert second != first
    finally:
        await database.dispose()


async def test_a_connection_lost_between_two_close_units_fails_once_then_recovers(
    admin: Database,
) -> None:
    database = Database(POSTGRES_URL, ping_after_idle=3600.0)  # never pinged here
    try:
        first = await backend_pid(database)
        await kill(admin, first)
        with pytest.raises(DBAPIError) as failed:
            await backend_pid(database)  # not pinged: the statement meets the dead link
        assert failed.value.connection_invalidated
        second = await backend_pid(database)
        assert second != first
    finally:
        await database.dispose()
