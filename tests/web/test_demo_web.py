"""The accounts `temoin demo` creates for `make web`: they log in with the printed passwords."""

from __future__ import annotations

import stat
from pathlib import Path

from scenarios.clock import FixedClock
from storage.db import Database
from temoin.cli.words import Words
from temoin.demo_web import COLLECTIVITY, COORDINATOR, demo_web_accounts, web_lines
from tests.reports.statsworld import build_campaign
from tests.web.conftest import NOW, make_config
from web.app import create_app


async def test_demo_accounts_log_in(database: Database, tmp_path: Path) -> None:
    fx = await build_campaign(database)
    made = await demo_web_accounts(database, fx.campaign.name, tmp_path, FixedClock(NOW))
    assert [login for login, _password, _what in made] == [COORDINATOR, COLLECTIVITY]
    key = tmp_path / "web_secret_key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_text()) >= 32
    lines = web_lines(made, "sqlite:///var/demo/temoin.db", tmp_path, True, Words())
    assert "make web" in lines[0] and all(p in "\n".join(lines) for _l, p, _w in made)
    assert lines[0].startswith("Le back-office et le portail") and "(coordination)" in lines[2]
    elsewhere = web_lines(made, "postgresql://db.example/temoin", tmp_path, False, Words(), "demo")
    assert "make web" not in elsewhere[0] and "TEMOIN_DATABASE_SCHEMA=demo " in elsewhere[0]
    english = web_lines(made, "sqlite:///var/demo/temoin.db", tmp_path, True, Words("en"))
    assert english[0].startswith("The back office and the portal") and "(coordinator)" in english[2]

    import httpx

    from tests.web.conftest import csrf_of

    # the demo's hashes use production's argon2 cost: the app verifies them whatever its own
    app = create_app(database, make_config(), FixedClock(NOW))
    transport = httpx.ASGITransport(app=app)
    for login, password, home in ((made[0][0], made[0][1], "/admin"),
                                  (made[1][0], made[1][1], "/portail")):  # fmt: skip
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            token = csrf_of((await client.get("/connexion")).text)
            answer = await client.post(
                "/connexion", data={"csrf_token": token, "login": login, "password": password}
            )
            assert answer.status_code == 303 and answer.headers["location"] == home
    # a second demo run gives new passwords; the old ones stop working
    again = await demo_web_accounts(database, fx.campaign.name, tmp_path, FixedClock(NOW))
    assert again[0][1] != made[0][1]
