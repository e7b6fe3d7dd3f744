"""The web app over HTTP (httpx against the ASGI app), on SQLite and PostgreSQL.

``web_world`` builds the reports' test campaign (8 collectivities, closed), a campaign still
in progress, and one account of each role with a known password.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from scenarios.clock import FixedClock
from storage import web_accounts
from storage.db import Database
from tests import factories as f
from tests.conftest import REQUIRE_SERVERS
from tests.reports.statsworld import Fixture, build_campaign
from web import auth
from web.app import create_app
from web.config import WebConfig

NOW = datetime(2026, 4, 2, 8, 30, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
A_CODE, B_CODE = "63903", "63904"  # Chanonat-la-Haute, Durtol-Village
# Real argon2id at a lower cost than production's (64 MiB, 3 passes): the suite logs in a few
# hundred times on 2 shared cores.
CHEAP = {"argon2_time_cost": 1, "argon2_memory_kib": 8192, "argon2_parallelism": 1}
PASSWORDS = auth.Passwords(1, 8192, 1)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CHROMIUM = os.environ.get("TEMOIN_TEST_CHROMIUM") or shutil.which("chromium") or ""


@dataclass
class WebWorld:
    app: Starlette
    database: Database
    clock: FixedClock
    config: WebConfig
    fx: Fixture
    open_campaign_id: int
    open_contact_id: int

    def client(self, address: str = "127.0.0.1") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field in the page"
    return found.group(1)


async def login(
    client: httpx.AsyncClient, login_name: str, password: str = PASSWORD
) -> httpx.Response:
    page = await client.get("/connexion")
    token = csrf_of(page.text)
    return await client.post(
        "/connexion", data={"csrf_token": token, "login": login_name, "password": password}
    )


async def add_account(
    database: Database, login_name: str, role: str, code: str | None = None
) -> web_accounts.AccountInfo:
    async with database.session() as s:
        account = await web_accounts.add_account(
            s, login=login_name, name=login_name.split("@")[0].title(), role=role,
            collectivity_code=code, now=NOW,
        )  # fmt: skip
        await web_accounts.set_password_hash(
            s, account.id, PASSWORDS.hash(PASSWORD), end_sessions=False
        )
    return account


def make_config(**kw: object) -> WebConfig:
    values: dict[str, object] = {
        "secret_key": "test-only-key-" + "k" * 40,
        "secure_cookies": False,
        "login_max_failures": 3,
        "login_client_max_failures": 8,
        "login_window_seconds": 600,
        **CHEAP,
    }
    values.update(kw)
    return WebConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
async def web_world(database: Database) -> AsyncIterator[WebWorld]:
    fx = await build_campaign(database)
    async with database.session() as s:
        running = await f.campaign(s, NOW, name="en-cours", title="Campagne en cours")
        a_service = await f.service(
            s, NOW, await _collectivity(s, A_CODE), name="Accueil de la mairie"
        )
        row = await f.contact(s, NOW, running, a_service, planned_at=NOW, status="sent",
                              sent_at=NOW)  # fmt: skip
        open_ids = (running.id, row.id)
    await add_account(database, "coord@example.org", "coordinator")
    await add_account(database, "consult@example.org", "consultant")
    await add_account(database, "a@mairie.example", "collectivity", A_CODE)
    await add_account(database, "b@mairie.example", "collectivity", B_CODE)
    clock = FixedClock(NOW)
    config = make_config()
    yield WebWorld(create_app(database, config, clock), database, clock, config, fx, *open_ids)


SENT_2025 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
CLOSE_2025 = datetime(2025, 3, 31, 18, 0, tzinfo=UTC)


async def earlier_campaign(web_world: WebWorld) -> int:
    """Baromètre 2025, closed, before the reports' campaign: two emails, A's answered after a
    day, B's never; its id."""
    async with web_world.database.session() as s:
        camp = await f.campaign(
            s, NOW, name="barometre-2025", title="Baromètre 2025", window_start=date(2025, 3, 3),
            window_end=date(2025, 3, 28), closed_at=CLOSE_2025, state="closed",
        )  # fmt: skip
        for code, answered in ((A_CODE, True), (B_CODE, False)):
            svc = await f.service(s, NOW, await _collectivity(s, code), name=f"Accueil {code}")
            await f.contact(
                s, NOW, camp, svc, planned_at=SENT_2025, sent_at=SENT_2025,
                status="answered" if answered else "sent",
                first_answer_at=SENT_2025 + timedelta(days=1) if answered else None,
            )  # fmt: skip
        return camp.id


async def _collectivity(s, code):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from storage.models import Collectivity

    return (
        await s.execute(select(Collectivity).where(Collectivity.insee_code == code))
    ).scalar_one()


def need_chromium() -> None:
    if not CHROMIUM or not Path(CHROMIUM).exists():
        reason = "Debian's chromium is not installed (make servers, or apt-get install chromium)"
        if REQUIRE_SERVERS:
            pytest.fail(f"{reason} (TEMOIN_TEST_REQUIRE_SERVERS=1)")
        pytest.skip(reason)


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Any]:
    """Debian's chromium under Playwright, launched once for the run (seconds each time on
    two shared cores); each test opens its own contexts and closes them."""
    need_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            await browser.close()


async def close_contexts(browser: Any) -> None:
    """End of a test: its contexts closed, the shared browser left running."""
    for context in list(browser.contexts):
        await context.close()
