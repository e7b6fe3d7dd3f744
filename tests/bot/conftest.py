"""The bot tests' fixtures: the local Bot API on loopback, and the real bot running against it
with the ``database`` fixture's database (tests/bot/support.py has the rest)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator

import pytest

from scenarios.clock import FixedClock
from sim.botapi import LocalBotApi
from storage.db import Database
from tests.bot.support import NOW, Bot


@pytest.fixture
def api() -> Iterator[LocalBotApi]:
    with LocalBotApi() as server:
        yield server
    assert server.internal_errors == []


@pytest.fixture
async def running(api: LocalBotApi, database: Database) -> AsyncIterator[Bot]:
    bot = Bot(api, database, FixedClock(NOW))
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


@pytest.fixture
def unused_port() -> int:
    """A loopback TCP port free a moment ago (for the webhook server)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
