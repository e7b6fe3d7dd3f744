"""Secrets and permissions: what holds a password or personal data is its owner's only, a
password never travels in clear to another machine, and strangers leave no trace.

- The demo's Dovecot configuration (it holds the mail password) is 0600 while it runs.
- A SQLite database created by any command is 0600, in a folder it creates 0700; its WAL
  file follows. (Exports, reports and letters: tests/security/test_output_files.py.)
- ``personas add`` refuses security ``none`` with a password for a server that is not on
  loopback; the SMTP and IMAP sessions refuse to send such a login at all.
- 60 strangers messaging the bot leave no state row; a stranger's wrong code leaves one,
  deleted once its window has passed and another stranger needs one.
- ``jinja2`` is pinned above its sandbox escapes (CVE-2024-56326, CVE-2025-27516).
"""

from __future__ import annotations

import re
import stat
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

import temoin.cli.app
from channels.imap_session import ImapAccount, ImapAuthError, ImapSession
from channels.smtp_sender import AccountFailure, SmtpAccount, SmtpSession
from sim.botapi import LocalBotApi
from sim.dovecot import DovecotServer, free_port
from storage.db import Database
from storage.models import BotState
from tests.bot.conftest import api, running
from tests.bot.support import Bot, text_of
from tests.conftest import DbTarget

__all__ = ["api", "running"]
ROOT = Path(__file__).parents[2]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_demo_mail_servers_configuration_is_private(dovecot_server: DovecotServer) -> None:
    conf = dovecot_server.root / "dovecot.conf"
    assert dovecot_server.password in conf.read_text()
    assert _mode(conf) == 0o600


def test_a_new_sqlite_database_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "var" / "new"
    monkeypatch.setenv("TEMOIN_DATABASE_URL", f"sqlite:///{folder}/temoin.db")
    result = CliRunner().invoke(temoin.cli.app.app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(temoin.cli.app.app, ["auditors", "invite", "--name", "Paul"])
    assert result.exit_code == 0, result.output
    assert _mode(folder / "temoin.db") == 0o600
    assert _mode(folder) == 0o700  # (Python gives the parents it makes the default mode)
    for extra in folder.glob("temoin.db-*"):  # -wal, -shm while open
        assert _mode(extra) & 0o077 == 0, extra


@pytest.mark.parametrize(
    ("options", "protocol"),
    [
        (["--smtp-host", "smtp.example.org", "--smtp-security", "none"], "smtp"),
        (["--imap-host", "imap.example.org", "--imap-security", "none"], "imap"),
    ],
)
def test_a_password_in_clear_to_another_machine_is_refused(
    cli_env: DbTarget, options: list[str], protocol: str
) -> None:
    args = ["personas", "add", "claire", "--name", "Claire", "--email", "claire@persona.example",
            "--password-ref", "env:CLAIRE_PASSWORD", *options]  # fmt: skip
    result = CliRunner().invoke(temoin.cli.app.app, args)
    assert result.exit_code == 1, result.output
    assert result.output.startswith(
        f"temoin: {protocol} sans chiffrement (none) enverrait le mot de passe en clair"
    )
    assert len(result.output.strip().splitlines()) == 1
    loopback = [a.replace("smtp.example.org", "127.0.0.1").replace("imap.example.org",
                "localhost") for a in args]  # fmt: skip
    assert CliRunner().invoke(temoin.cli.app.app, loopback).exit_code == 0


async def test_the_sessions_never_send_a_login_in_clear_to_another_machine() -> None:
    # 0.0.0.0 is no loopback address, yet reaches only this machine should a check regress
    port = free_port()
    smtp = SmtpAccount("0.0.0.0", port, "none", "claire", "secret", "claire@persona.example")
    with pytest.raises(AccountFailure, match="in clear"):
        async with SmtpSession(smtp, timeout=2):
            pass
    imap = ImapSession(ImapAccount("0.0.0.0", port, "none", "claire", "secret"), timeout=2)
    with pytest.raises(ImapAuthError, match="in clear"):
        await imap.connect()


async def _rows(database: Database) -> int:
    async with database.session() as s:
        return await s.scalar(select(func.count()).select_from(BotState)) or 0


async def test_strangers_leave_no_state_row(
    api: LocalBotApi, database: Database, running: Bot
) -> None:
    strangers = [api.user(7000 + n, f"Curieux {n}") for n in range(60)]
    for stranger in strangers:
        stranger.send_text("Bonjour ?")
    for stranger in strangers:
        assert "réservé aux enquêteurs" in text_of(await stranger.wait_for_message())
    strangers[0].send_text("encore")
    await running.idle()
    assert len(strangers[0].messages) == 1  # refused once, then silence
    assert await _rows(database) == 0

    guesser, other = strangers[1], strangers[2]
    guesser.send_command("/start", "WRONGCODE")
    assert "n’est pas reconnu" in text_of(await guesser.wait_for_message())
    assert await _rows(database) == 1  # the wrong-code count needs one
    running.clock.advance(timedelta(hours=1, minutes=1))
    other.send_command("/start", "WRONGCODE")
    await other.wait_for_message()
    async with database.session() as s:
        left = list(await s.scalars(select(BotState.telegram_user_id)))
    assert left == [other.id]  # the guesser's window had passed


def test_jinja2_is_pinned_above_its_sandbox_escapes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (spec,) = [d for d in project["project"]["dependencies"] if d.startswith("jinja2")]
    found = re.fullmatch(r"jinja2>=(\d+)\.(\d+)\.(\d+)", spec.replace(" ", ""))
    assert found is not None, spec
    assert tuple(int(part) for part in found.groups()) >= (3, 1, 6)
