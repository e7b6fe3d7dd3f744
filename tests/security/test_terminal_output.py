"""Terminal output: what we do not control is printed as written, never obeyed.

A reply's subject ending in ``[/]`` used to raise rich's ``MarkupError`` (``temoin triage
list`` broken until the message was handled), ``[link=…]`` made a clickable link, and ESC
sequences went to the terminal as they came. Here hostile subjects arrive by IMAP through
the real watcher, names through the commands that take them, and every listing prints
them literally, control characters as visible symbols.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

import temoin.cli.app
from sim.dovecot import DovecotServer
from temoin.cli import common
from tests import factories as f
from tests.conftest import DbTarget
from tests.mailworld import PASSWORD_ENV, SENT, make_world, reply, tracker
from tests.security.hostile import MARKUP, NOW, TERMINAL_ESCAPES

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console() -> Iterator[None]:
    """Wide enough that no table cell wraps, so texts can be looked for whole."""
    # Rich's width getter answers the terminal's width when none was set; setting that
    # value back would pin it and ignore COLUMNS in every later test. Keep the raw setting.
    before = common.console._width
    common.console.width = 400
    yield
    common.console._width = before


def _run(*args: str) -> str:
    result = runner.invoke(temoin.cli.app.app, list(args))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.output


def _literal(output: str) -> None:
    for text in MARKUP:
        assert text in output, text
    assert "\x1b" not in output and "\x9b" not in output
    assert "\u241b]8;;http://evil.example/" in output  # ESC shown as its control picture


def test_triage_list_prints_hostile_subjects_as_written(
    cli_env: DbTarget,
    dovecot_server: DovecotServer,
    mail_user: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, dovecot_server.password)

    async def work() -> None:
        database = cli_env.database()
        try:
            world = await make_world(database, dovecot_server, mail_user)
            at = SENT + timedelta(days=1)
            subjects = [*MARKUP, "=?utf-8?q?" + TERMINAL_ESCAPES.replace("\x1b", "=1B")
                        .replace(" ", "_").replace("?", "=3F") + "?="]  # fmt: skip
            for index, subject in enumerate(subjects):
                message = reply(sender=f"x{index}@ailleurs.example", to=world.persona_email,
                                subject=subject)  # fmt: skip
                dovecot_server.append(mail_user, message, when=at)
            assert await tracker(database).sync_all() == {}
        finally:
            await database.dispose()

    asyncio.run(work())
    output = _run("triage", "list")
    _literal(output)


def test_names_are_printed_as_written_by_every_listing(cli_env: DbTarget) -> None:
    hostile = f"{MARKUP[0]} {TERMINAL_ESCAPES}"
    _run("personas", "add", "claire", "--name", MARKUP[1], "--email", "claire@persona.example",
         "--address", hostile)  # fmt: skip
    _run("personas", "add", "paul", "--name", MARKUP[0], "--email", "paul@persona.example",
         "--city", MARKUP[2])  # fmt: skip
    _literal(_run("personas", "list"))

    for index, name in enumerate((*MARKUP, TERMINAL_ESCAPES)):
        _run("auditors", "invite", "--name", name, "--key", f"a{index}")
    _literal(_run("auditors", "list"))

    async def campaign() -> None:
        database = cli_env.database()
        try:
            async with database.session() as s:
                await f.campaign(s, NOW, name="hostile", title=hostile)
                await f.campaign(s, NOW, name="other", title=" ".join(MARKUP))
        finally:
            await database.dispose()

    asyncio.run(campaign())
    _literal(_run("campaign", "show", "hostile") + _run("campaign", "show", "other"))
    assert "\x1b" not in _run("campaign", "list")


def test_json_output_sends_no_raw_bidi_control(tmp_path: Path) -> None:
    # A subject whose right-to-left override would show « gpj.exe » as « exe.jpg », and a
    # left-to-right isolate in the sender's name, both encoded as RFC 2047 headers. (C1
    # controls never get this far: the parser reads them as windows-1252.)
    subject = "Facture \u202egpj.exe"
    name = "Mairie \u2066Accueil"
    eml = tmp_path / "hostile.eml"
    eml.write_bytes(
        (
            "From: =?utf-8?b?"
            + base64.b64encode(name.encode()).decode()
            + "?= <accueil@mairie.example>\r\n"
            "To: camille@example.org\r\n"
            "Subject: =?utf-8?b?" + base64.b64encode(subject.encode()).decode() + "?=\r\n"
            "Date: Mon, 02 Mar 2026 10:00:00 +0100\r\n"
            "Message-ID: <h1@mairie.example>\r\n"
            "\r\nBonjour.\r\n"
        ).encode()
    )
    output = _run("mail", "inspect", str(eml))
    assert "\u202e" not in output and "\u2066" not in output
    assert "\\u202e" in output
    report = json.loads(output)
    assert report["subject"] == subject  # the same JSON: decoded, the text is intact
