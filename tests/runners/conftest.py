"""Fixtures of the runners' tests: ``world`` (the dispatcher in this process, tests/runners/
dispatchworld.py) and ``crash_world`` (``temoin worker`` processes, tests/runners/crashworld.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.clock import FixedClock
from sim.dovecot import DovecotServer
from sim.smtp_provider import SmtpProvider
from storage.db import Database
from tests import factories
from tests.conftest import DbTarget
from tests.runners.crashworld import Mailworld
from tests.runners.dispatchworld import MONDAY_10H, World


@pytest.fixture
async def world(
    database: Database,
    smtp_provider: SmtpProvider,
    dovecot_server: DovecotServer,
    mail_user: str,
    monkeypatch: pytest.MonkeyPatch,
) -> World:
    clock = FixedClock(MONDAY_10H)
    password = dovecot_server.users[mail_user]
    monkeypatch.setenv("TEMOIN_TEST_PERSONA_PASSWORD", password)
    persona_email = f"{mail_user}@persona.example"
    smtp_provider.add_account(mail_user, password)
    smtp_provider.add_local_mailbox(persona_email, mail_user, dovecot_server.lmtp_port)
    async with database.session() as s:
        now = clock.now()
        p = await factories.persona(
            s, now, email=persona_email, smtp_host="127.0.0.1", smtp_port=smtp_provider.port,
            smtp_security="none", imap_host="127.0.0.1", imap_port=dovecot_server.imap_port,
            imap_security="none", username=mail_user,
            password_ref="env:TEMOIN_TEST_PERSONA_PASSWORD", subaddress_separator="+",
        )  # fmt: skip
        camp = await factories.campaign(s, now)
        return World(database, clock, smtp_provider, dovecot_server, mail_user, persona_email,
                     p.id, camp.id)  # fmt: skip


@pytest.fixture
def crash_world(
    db_target: DbTarget,
    smtp_provider: SmtpProvider,
    dovecot_server: DovecotServer,
    mail_user: str,
    tmp_path: Path,
) -> Mailworld:
    email = f"{mail_user}@persona.example"
    smtp_provider.add_account(mail_user, dovecot_server.users[mail_user])
    smtp_provider.add_local_mailbox(email, mail_user, dovecot_server.lmtp_port)
    return Mailworld(db_target, smtp_provider, dovecot_server, mail_user, email, tmp_path)
