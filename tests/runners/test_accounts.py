"""One persona, one endpoint: the worker, ``temoin personas check`` and the Sent copy all log in
where runners/accounts.py says, with the same defaults (here: no username stored, so the login
is the persona's address, for SMTP as for IMAP).

Before there was one resolver, the dispatcher sent without logging in when no username was
stored (and defaulted to 127.0.0.1:25), while the check logged in with the address: the check
could pass on an account the worker never used.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner, Result

import temoin.cli.app
from runners import accounts
from runners.dispatcher import DispatchConfig, Dispatcher
from runners.tracker import Tracker
from scenarios.catalog import load_catalog
from scenarios.clock import FixedClock
from sim.dovecot import DovecotServer
from sim.smtp_provider import SmtpProvider
from storage import personas as persona_repo
from storage.db import Database
from tests import factories
from tests.conftest import DbTarget

MONDAY_10H = datetime(2026, 3, 2, 9, 0, 7, tzinfo=UTC)


async def test_worker_check_and_sent_copy_use_the_same_endpoints(
    cli_env: DbTarget,
    database: Database,
    smtp_provider: SmtpProvider,
    dovecot_server: DovecotServer,
    mail_user: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    password = dovecot_server.users[mail_user]
    monkeypatch.setenv("PERSONA_PW", password)
    email = f"{mail_user}@persona.example"
    # The provider knows the account by its address only: logging in with anything else fails.
    smtp_provider.add_account(email, password)
    smtp_provider.add_local_mailbox(email, mail_user, dovecot_server.lmtp_port)
    clock = FixedClock(MONDAY_10H)
    async with database.session() as s:
        persona = await factories.persona(
            s, clock.now(), key="claire", email=email, smtp_host="127.0.0.1",
            smtp_port=smtp_provider.port, smtp_security="none", imap_host="127.0.0.1",
            imap_port=dovecot_server.imap_port, imap_security="none", username=None,
            password_ref="env:PERSONA_PW",
        )  # fmt: skip
        campaign = await factories.campaign(s, clock.now())
        coll = await factories.collectivity(s, clock.now())
        service = await factories.service(s, clock.now(), coll)
        await factories.contact(s, clock.now(), campaign, service, persona_id=persona.id,
                                planned_at=clock.now() - timedelta(minutes=5))  # fmt: skip
        info = await persona_repo.get_persona(s, "claire")
    assert info is not None

    # 1. The check: SMTP login and IMAP login with the address, at the stored endpoints.
    result = await _cli("personas", "check", "claire")
    assert result.exit_code == 0, result.output
    assert f"127.0.0.1:{smtp_provider.port} répond à EHLO" in result.output
    assert f"identifiant accepté pour {email}" in result.output
    assert f"127.0.0.1:{dovecot_server.imap_port} (none): identifiant accepté pour {email}" in (
        result.output
    )
    checked = list(smtp_provider.logins)
    assert checked == [(email, True)]

    # 2. The worker sends through the same account, logging in the same way.
    dispatcher = Dispatcher(database, load_catalog(), clock, DispatchConfig(), owner="w")
    report = await dispatcher.run_once()
    assert report.sent == 1, report.errors
    assert smtp_provider.logins == [*checked, (email, True)]

    # 3. The Sent copy went to the same IMAP account (Dovecot's user of that address).
    conn = dovecot_server.imap(mail_user)
    try:
        typ, data = conn.select("Sent", readonly=True)
        assert typ == "OK" and int(data[0] or 0) == 1
    finally:
        conn.logout()

    # 4. The tracker watches that same mailbox.
    tracker = Tracker(database, load_catalog(), clock)
    watched = tracker.account(info)
    assert watched == accounts.imap_account(info, password)
    assert watched is not None and (watched.port, watched.username) == (
        dovecot_server.imap_port,
        email,
    )


async def _cli(*args: str) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, temoin.cli.app.app, list(args))


def test_defaults_follow_the_security_and_no_host_means_no_account() -> None:
    base = dict(
        id=1, key="k", display_name="Claire", email="c@x.example", address=None,
        postal_code=None, city=None, smtp_host="smtp.x.example", smtp_port=None,
        smtp_security=None, imap_host=None, imap_port=None, imap_security="none",
        username=None, password_ref=None, subaddress_separator=None, active=True,
        created_at=MONDAY_10H,
    )  # fmt: skip
    p = persona_repo.PersonaInfo(**base)  # type: ignore[arg-type]
    assert accounts.smtp_endpoint(p) == accounts.Endpoint(
        "smtp.x.example", 587, "starttls", "c@x.example"
    )
    assert accounts.imap_endpoint(p) is None and accounts.imap_account(p, "pw") is None
    tls = persona_repo.PersonaInfo(**{**base, "smtp_security": "tls", "imap_host": "i"})  # type: ignore[arg-type]
    assert accounts.smtp_endpoint(tls) is not None and accounts.smtp_endpoint(tls).port == 465  # type: ignore[union-attr]
    assert accounts.imap_endpoint(tls) == accounts.Endpoint("i", 143, "none", "c@x.example")
    bare = accounts.smtp_account(tls, "pw", authenticate=False)
    assert bare is not None and bare.username is None and bare.password is None
