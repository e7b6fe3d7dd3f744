"""Fixtures shared by the whole suite: a fresh database per test, on SQLite and PostgreSQL.

PostgreSQL is the one at ``TEMOIN_TEST_POSTGRES_URL`` (default 127.0.0.1:5432, database
``test``, trust auth). Each test gets its own schema there, dropped afterwards. When the
server is unreachable the PostgreSQL half is skipped with the reason, unless
``TEMOIN_TEST_REQUIRE_SERVERS=1`` (CI), where it fails.
"""

from __future__ import annotations

import os
import secrets

# python-telegram-bot 22: without this, building RetryAfter warns (and warnings are errors
# here); the bot process sets it too. retry_after is then a timedelta.
os.environ.setdefault("PTB_TIMEDELTA", "true")
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from sim.dovecot import DovecotServer, DovecotUnavailable, find_dovecot
from sim.smtp_provider import SmtpProvider
from storage.db import Database, sync_url
from storage.models import Base

POSTGRES_URL = os.environ.get(
    "TEMOIN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REQUIRE_SERVERS = os.environ.get("TEMOIN_TEST_REQUIRE_SERVERS") == "1"

_pg_state: dict[str, str | None] = {}


def postgres_unavailable() -> str | None:
    """None when PostgreSQL answers, else the reason (checked once per run)."""
    if "reason" not in _pg_state:
        try:
            engine = create_engine(sync_url(POSTGRES_URL))
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
            _pg_state["reason"] = None
        except Exception as exc:  # any failure to connect is a reason to skip
            _pg_state["reason"] = (
                f"PostgreSQL unreachable at {POSTGRES_URL}: {exc.__class__.__name__}"
            )
    return _pg_state["reason"]


def require_postgres() -> None:
    reason = postgres_unavailable()
    if reason is not None:
        if REQUIRE_SERVERS:
            pytest.fail(f"{reason} (TEMOIN_TEST_REQUIRE_SERVERS=1)")
        pytest.skip(reason)


@dataclass(frozen=True)
class DbTarget:
    """Where a test's database lives: a URL and, on PostgreSQL, a schema of its own."""

    backend: str
    url: str
    schema: str | None

    def env(self) -> dict[str, str]:
        """Environment variables that point the CLI at this database."""
        env = {"TEMOIN_DATABASE_URL": self.url}
        if self.schema:
            env["TEMOIN_DATABASE_SCHEMA"] = self.schema
        return env

    def database(self) -> Database:
        return Database(self.url, schema=self.schema)


def _sync_engine(target: DbTarget):  # type: ignore[no-untyped-def]
    url = sync_url(target.url)
    if target.schema:
        return create_engine(url, connect_args={"options": f"-csearch_path={target.schema}"})
    return create_engine(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DbTarget]:
    """A database with no tables yet (for migration tests)."""
    if request.param == "sqlite":
        yield DbTarget("sqlite", f"sqlite:///{tmp_path / 'temoin.db'}", None)
        return
    require_postgres()
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(sync_url(POSTGRES_URL))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield DbTarget("postgresql", POSTGRES_URL, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def db_target(empty_db: DbTarget) -> DbTarget:
    """A fresh database with every table created, on SQLite and on PostgreSQL."""
    engine = _sync_engine(empty_db)
    Base.metadata.create_all(engine)
    engine.dispose()
    return empty_db


@pytest.fixture
async def database(db_target: DbTarget) -> AsyncIterator[Database]:
    db = db_target.database()
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture
def cli_env(db_target: DbTarget, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> DbTarget:
    """Point the ``temoin`` CLI at the test database, from a clean working directory."""
    for key in [
        k for k in os.environ if k.startswith("TEMOIN_") and not k.startswith("TEMOIN_TEST")
    ]:
        monkeypatch.delenv(key)
    for key, value in db_target.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    return db_target


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[DovecotServer]:
    """One private Dovecot for the whole run (IMAP + LMTP on free loopback ports)."""
    if find_dovecot() is None:
        reason = "dovecot is not installed (apt-get install dovecot-imapd dovecot-lmtpd)"
        if REQUIRE_SERVERS:
            pytest.fail(f"{reason} (TEMOIN_TEST_REQUIRE_SERVERS=1)")
        pytest.skip(reason)
    try:
        server = DovecotServer.start()
    except DovecotUnavailable as exc:
        if REQUIRE_SERVERS:
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mail_user(dovecot_server: DovecotServer) -> str:
    """A fresh mailbox user on the shared Dovecot (password in ``dovecot_server.users``)."""
    user = f"persona{secrets.token_hex(4)}"
    dovecot_server.add_user(user)
    return user


@pytest.fixture
def smtp_provider() -> Iterator[SmtpProvider]:
    """A persona's mail provider: aiosmtpd on a free loopback port, delivering local copies."""
    provider = SmtpProvider.start()
    try:
        yield provider
    finally:
        provider.stop()
