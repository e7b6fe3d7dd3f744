"""`temoin web users …` and `temoin web` refusing to start without a secret key."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

import temoin.cli.app
from scenarios.typography import violations
from tests.conftest import DbTarget
from tests.reports.statsworld import build_campaign

runner = CliRunner()


def test_users_add_invite_list_disable(cli_env: DbTarget) -> None:
    async def collectivities() -> None:
        database = cli_env.database()
        try:
            await build_campaign(database)
        finally:
            await database.dispose()

    asyncio.run(collectivities())
    added = runner.invoke(
        temoin.cli.app.app,
        ["web", "users", "add", "Maire@Chanonat.example", "--name", "Mairie de Chanonat",
         "--role", "collectivity", "--collectivity", "63903"],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "Compte maire@chanonat.example créé." in added.stdout
    link = added.stdout.strip().splitlines()[-1]
    assert link.startswith("http://127.0.0.1:8000/invitation/") and len(link) > 70

    again = runner.invoke(
        temoin.cli.app.app, ["web", "users", "add", "maire@chanonat.example", "--name", "X",
                             "--role", "consultant"],
    )  # fmt: skip
    assert again.exit_code == 1
    assert "Un compte a déjà l’identifiant maire@chanonat.example." in again.stderr

    no_code = runner.invoke(
        temoin.cli.app.app, ["web", "users", "add", "x@y.example", "--name", "X", "--role",
                             "collectivity", "--collectivity", "99999"],
    )  # fmt: skip
    assert no_code.exit_code == 1
    assert "Aucune collectivité n’a le code INSEE 99999." in no_code.stderr
    spaced = runner.invoke(
        temoin.cli.app.app, ["web", "users", "add", "a b@y.example", "--name", "X", "--role",
                             "national"],
    )  # fmt: skip
    assert spaced.exit_code == 2
    assert "identifiant «\u202fa b@y.example\u202f»\u202f: pas d’espace" in spaced.stderr

    renewed = runner.invoke(
        temoin.cli.app.app, ["web", "users", "invite", "maire@chanonat.example"]
    )
    assert renewed.exit_code == 0, renewed.output
    assert renewed.stdout.strip().splitlines()[-1] != link

    listed = runner.invoke(temoin.cli.app.app, ["web", "users", "list"])
    assert listed.exit_code == 0, listed.output
    assert "maire@chanonat.example" in listed.stdout and "Chanonat-la-Haute" in listed.stdout
    assert "invité" in listed.stdout and "Comptes (1)" in listed.stdout

    off = runner.invoke(temoin.cli.app.app, ["web", "users", "disable", "maire@chanonat.example"])
    assert off.exit_code == 0, off.output
    off_again = runner.invoke(
        temoin.cli.app.app, ["web", "users", "disable", "maire@chanonat.example"]
    )
    assert off_again.exit_code == 1
    assert "Aucun compte actif avec l’identifiant maire@chanonat.example." in off_again.stderr
    for said in (added.stdout, renewed.stdout, off.stdout, listed.stdout, off_again.stderr):
        assert not violations(said.removeprefix("temoin: ")), said


def test_users_speak_the_configured_locale(
    cli_env: DbTarget, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``locale = "en"`` in the settings file: every message of ``web users`` in English."""
    english = tmp_path / "temoin.toml"
    english.write_text('locale = "en"\n', encoding="utf-8")
    monkeypatch.setenv("TEMOIN_CONFIG", str(english))
    spaced = runner.invoke(
        temoin.cli.app.app, ["web", "users", "add", "a b@y.example", "--name", "X", "--role",
                             "national"],
    )  # fmt: skip
    assert spaced.exit_code == 2
    assert "login 'a b@y.example': no spaces" in spaced.stderr
    added = runner.invoke(
        temoin.cli.app.app, ["web", "users", "add", "x@y.example", "--name", "X", "--role",
                             "consultant"],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "Account x@y.example created." in added.stdout
    assert "Invitation link to give the person (valid 72 hours, once):" in added.stdout
    again = runner.invoke(
        temoin.cli.app.app, ["web", "users", "add", "x@y.example", "--name", "X", "--role",
                             "consultant"],
    )  # fmt: skip
    assert again.exit_code == 1 and "An account already has the login x@y.example" in again.stderr
    listed = runner.invoke(temoin.cli.app.app, ["web", "users", "list"])
    assert "Accounts (1)" in listed.stdout and "invited" in listed.stdout
    unknown = runner.invoke(temoin.cli.app.app, ["web", "users", "disable", "nobody@y.example"])
    assert unknown.exit_code == 1
    assert "No active account with login nobody@y.example." in unknown.stderr


def test_serving_needs_a_secret_key(cli_env: DbTarget, monkeypatch: pytest.MonkeyPatch) -> None:
    result = runner.invoke(temoin.cli.app.app, ["web", "--port", "8999"])
    assert result.exit_code == 2
    said = result.stderr.removeprefix("temoin: ").strip()
    assert said.startswith("réglage web.secret_key\u202f: n’est pas réglé (donnez une référence")
    assert not violations(said), said
    monkeypatch.setenv("TEMOIN_WEB__SECRET_KEY", "env:TEMOIN_TEST_WEB_KEY")
    missing = runner.invoke(temoin.cli.app.app, ["web", "--port", "8999"])
    assert missing.stderr == (
        "temoin: réglage web.secret_key\u202f: la variable d’environnement TEMOIN_TEST_WEB_KEY "
        "n’est pas définie\n"
    )
    monkeypatch.setenv("TEMOIN_TEST_WEB_KEY", "too short")
    short = runner.invoke(temoin.cli.app.app, ["web", "--port", "8999"])
    assert short.exit_code == 2 and "doit donner au moins 32 caractères" in short.stderr
    monkeypatch.setenv("TEMOIN_LOCALE", "en")
    short = runner.invoke(temoin.cli.app.app, ["web", "--port", "8999"])
    assert short.stderr == (
        "temoin: setting web.secret_key: must resolve to at least 32 characters\n"
    )
    monkeypatch.setenv("TEMOIN_WEB__SECRET_KEY", "s3cr3t-value-written-inline-xxxxxxxxxxxx")
    inline = runner.invoke(temoin.cli.app.app, ["web", "--port", "8999"])
    assert inline.exit_code == 2 and "never the secret itself" in inline.stderr
    assert "s3cr3t" not in inline.stderr


def test_the_dashboard_refresh_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from temoin.settings import Settings
    from temoin.web import web_config

    monkeypatch.setenv("TEMOIN_TEST_WEB_KEY", "k" * 40)
    web = {"secret_key": "env:TEMOIN_TEST_WEB_KEY"}
    assert web_config(Settings(web=web)).progress_refresh_seconds == 15
    quick = Settings(web={**web, "progress_refresh_seconds": 2})
    assert web_config(quick).progress_refresh_seconds == 2
    with pytest.raises(ValidationError, match="progress_refresh_seconds"):
        Settings(web={**web, "progress_refresh_seconds": 0})
