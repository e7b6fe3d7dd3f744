"""A webhook without its secret token is refused at start-up, in one line (exit 2).

Without ``X-Telegram-Bot-Api-Secret-Token`` checked, anyone who reaches the endpoint can post
updates as any auditor. The settings refuse ``bot.webhook_url`` without
``bot.webhook_secret`` (and a URL that is not https); ``temoin bot`` refuses a secret that
resolves to something weak; ``bot.app.run`` refuses a configuration without one.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

import temoin.cli.app
from bot.app import BotConfig, run
from storage.db import Database
from temoin.settings import SettingsError, load_settings

HOOK = "https://bot.example/hook"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for key in [k for k in os.environ if k.startswith("TEMOIN_") and "TEST" not in k]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TEMOIN_DATABASE_URL", f"sqlite:///{tmp_path}/t.db")
    monkeypatch.setenv("TEMOIN_BOT_TOKEN", "env:BOT_TOKEN_VALUE")
    monkeypatch.setenv("BOT_TOKEN_VALUE", "123:abc")
    return monkeypatch


def _bot_refused(*words: str) -> None:
    result = CliRunner().invoke(temoin.cli.app.app, ["bot"])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    for word in words:
        assert word in lines[0], result.output


def test_a_webhook_url_without_a_secret_is_refused(env: pytest.MonkeyPatch) -> None:
    env.setenv("TEMOIN_BOT__WEBHOOK_URL", HOOK)
    with pytest.raises(SettingsError, match="webhook_url is set but webhook_secret is not"):
        load_settings()
    _bot_refused("temoin: réglage bot\u202f: webhook_url est réglé mais pas webhook_secret")


def test_a_plain_http_webhook_is_refused(env: pytest.MonkeyPatch) -> None:
    env.setenv("TEMOIN_BOT__WEBHOOK_URL", "http://bot.example/hook")
    env.setenv("TEMOIN_BOT__WEBHOOK_SECRET", "env:HOOK_SECRET")
    with pytest.raises(SettingsError, match="https://"):
        load_settings()


def test_a_weak_secret_is_refused_without_being_shown(env: pytest.MonkeyPatch) -> None:
    env.setenv("TEMOIN_BOT__WEBHOOK_URL", HOOK)
    env.setenv("TEMOIN_BOT__WEBHOOK_SECRET", "env:HOOK_SECRET")
    env.setenv("HOOK_SECRET", "abc")
    _bot_refused("réglage bot.webhook_secret\u202f: doit donner de 16 à 256 caractères")
    result = CliRunner().invoke(temoin.cli.app.app, ["bot"])
    assert "abc" not in result.output.replace("A-Z a-z", "")


async def test_the_bot_never_serves_a_webhook_without_its_secret(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path}/t.db")
    try:
        conf = BotConfig(token="123:abc", webhook_url=HOOK, port=1)
        with pytest.raises(ValueError, match="secret token"):
            await run(conf, database)
    finally:
        await database.dispose()
