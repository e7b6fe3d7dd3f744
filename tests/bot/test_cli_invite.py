"""`temoin auditors`, `temoin observations`, `temoin bot`, `campaign show` observations,
the directory's latitude/longitude columns, and the webhook mode."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

import temoin.cli.app
from bot.app import BotConfig, run
from scenarios.directory import parse_directory
from sim.botapi import LocalBotApi
from storage import auditors as auditor_repo
from storage import bot as repo
from storage.db import Database
from storage.models import Auditor, Campaign, Contact, InviteCode, Service
from tests.bot.support import NOW, Bot, seed, text_of
from tests.conftest import DbTarget

runner = CliRunner()


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(temoin.cli.app.app, list(args))
    return result.exit_code, result.output


async def acli(*args: str) -> tuple[int, str]:
    """The CLI from an async test (it runs its own event loop)."""
    return await asyncio.to_thread(cli, *args)


async def test_invite_from_the_cli_then_enrol_in_the_bot_then_disable(
    api: LocalBotApi, database: Database, running: Bot, cli_env: DbTarget,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    await seed(database)
    monkeypatch.setenv("TEMOIN_BOT__USERNAME", "temoin_test_bot")
    code, out = await acli("auditors", "invite", "--name", "Paul Durand", "--key", "paul")
    assert code == 0, out
    assert "Auditeur paul (existant, auditor)" in out  # the campaign file's row
    found = re.search(r"Code\u202f: ([A-Z0-9]{12})\n", out)
    assert found is not None
    assert f"Lien\u202f: https://t.me/temoin_test_bot?start={found.group(1)}" in out
    async with database.session() as s:
        [invite] = (await s.scalars(select(InviteCode))).all()
        assert invite.code_hash == auditor_repo.hash_code(found.group(1))

    paul = api.user(7001, "Paul")
    paul.send_command("/start", found.group(1))
    assert text_of(await paul.wait_for_message()).startswith("Bienvenue Paul Durand")
    code, out = await acli("auditors", "list", "--json")
    listed = {row["key"]: row for row in json.loads(out)}
    assert listed["paul"]["telegram"] is True and listed["paul"]["open_tasks"] == 3

    code, out = await acli("auditors", "disable", "paul")
    assert code == 0, out
    paul.send_command("/taches")
    assert "réservé aux enquêteurs" in text_of(await paul.wait_for_message())


def test_invite_options_and_errors(cli_env: DbTarget) -> None:
    code, out = cli("auditors", "invite", "--name", "Cora Leroy", "--role", "coordinator",
                    "--expires", "48h")  # fmt: skip
    assert code == 0, out
    assert "Auditeur cora-leroy (créé, coordinator)\u202f: invitation valable 48h." in out
    assert "réglez bot.username" in out  # no username, no token: the code alone
    assert cli("auditors", "invite", "--name", "X", "--expires", "soon")[0] == 1
    code, out = cli("auditors", "invite", "--name", "X", "--campaign", "nope")
    assert code == 1 and "aucune campagne nommée «\u202fnope\u202f»" in out
    code, out = cli("auditors", "disable", "nobody")
    assert code == 1 and "aucun auditeur «\u202fnobody\u202f»" in out


async def test_assign_and_coordinate(database: Database, cli_env: DbTarget) -> None:
    world = await seed(database)
    code, out = await acli("auditors", "assign", str(world.contacts["letter"]), "lea")
    assert code == 0 and "confié à lea" in out, out
    assert (await acli("auditors", "assign", "999999", "lea"))[0] == 1
    code, out = await acli("auditors", "coordinate", "cora", "nope")
    assert code == 1
    async with database.session() as s:
        letter = await s.get(Contact, world.contacts["letter"])
        assert letter is not None and letter.auditor_id == world.auditors["lea"]


def test_bot_command_needs_a_token(cli_env: DbTarget) -> None:
    code, out = cli("bot")
    assert code == 2 and "Traceback" not in out
    assert "réglage bot_token\u202f: n’est pas réglé (donnez une référence" in out, out


async def test_campaign_show_lists_the_observations(database: Database, cli_env: DbTarget) -> None:
    world = await seed(database)
    cid = world.contacts["phone"]
    async with database.session() as s:
        for qid, value in (("picked_up", True), ("rings", 2), ("courtesy", "aimable")):
            await repo.upsert_answer(s, contact_id=cid, question_id=qid, value=value,
                                     auditor_id=world.auditors["paul"], at=NOW)  # fmt: skip
        await repo.set_status(s, cid, "done", NOW)
        campaign = await s.get(Campaign, world.campaign_id)
        assert campaign is not None
        name = campaign.name
    code, out = await acli("campaign", "show", name, "--json")
    assert code == 0, out
    [row] = json.loads(out)["observations"]
    assert row["contact"] == cid and row["scenario"] == "phone-listes-electorales"
    assert row["answers"]["Une personne a-t-elle décroché (pas un répondeur)\u202f?"] is True
    assert row["answers"]["Amabilité de l’interlocuteur"] == "aimable"
    code, out = await acli("campaign", "show", name, "--details")
    # In words: yes as « Oui », a choice by its label, not its code.
    assert code == 0 and "Amabilité" in out and "Oui" in out, out
    assert "│ Aimable" in out


CSV = (
    "insee_code;collectivity_name;collectivity_kind;population;departement;service_kind;"
    "latitude;longitude\n"
    "63300;Riom;commune;19000;;accueil_mairie;45,8936;3.1126\n"
)


def test_directory_latitude_longitude(cli_env: DbTarget, tmp_path: Path) -> None:
    parsed = parse_directory(CSV.encode())
    assert parsed.ok and parsed.services[0].latitude == 45.8936
    half = CSV.replace(";45,8936;3.1126", ";45,8936;")
    assert [str(e) for e in parse_directory(half.encode()).errors] == [
        "line 2, column longitude: give latitude and longitude together"
    ]
    wrong = CSV.replace("45,8936", "95")
    assert "outside -90 to 90" in str(parse_directory(wrong.encode()).errors[0])
    path = tmp_path / "services.csv"
    path.write_text(CSV, encoding="utf-8")
    code, out = cli("import", "services", str(path))
    assert code == 0, out

    async def read() -> tuple[float | None, float | None]:
        database = cli_env.database()
        try:
            async with database.session() as s:
                svc = await s.scalar(select(Service))
                assert svc is not None
                return svc.latitude, svc.longitude
        finally:
            await database.dispose()

    assert asyncio.run(read()) == (45.8936, 3.1126)


async def test_webhook_mode_serves_updates_with_the_secret(
    api: LocalBotApi, database: Database, unused_port: int
) -> None:
    await seed(database)
    async with database.session() as s:
        paul = await s.scalar(select(Auditor).where(Auditor.key == "paul"))
        assert paul is not None
        paul.telegram_user_id = 7101
    user = api.user(7101, "Paul", started=True)
    conf = BotConfig(
        token=api.token, base_url=api.base_url, base_file_url=api.base_file_url,
        reminders=False, webhook_url=f"https://bot.example/hook/{unused_port}",
        webhook_secret="s3cret-token", port=unused_port,
    )  # fmt: skip
    stop = asyncio.Event()
    task = asyncio.create_task(run(conf, database, stop=stop))
    try:
        await api.wait_until(lambda: api.webhook is not None, timeout=10)
        assert api.webhook is not None and api.webhook["secret_token"] == "s3cret-token"
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1, "date": int(NOW.timestamp()), "text": "/taches",
                "from": user.user_json, "chat": user.chat_json,
                "entities": [{"type": "bot_command", "offset": 0, "length": 7}],
            },
        }  # fmt: skip
        url = f"http://127.0.0.1:{unused_port}/hook/{unused_port}"
        async with httpx.AsyncClient() as client:
            for _ in range(100):  # setWebhook comes after the server listens: no wait, but safe
                try:
                    refused = await client.post(
                        url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}
                    )
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.05)
            assert refused.status_code == 403
            accepted = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
            )  # fmt: skip
            assert accepted.status_code == 200
        assert "Vos tâches" in text_of(await user.wait_for_message())
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
