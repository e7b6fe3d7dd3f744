"""Shared pieces of the bot tests: a running bot on the local Bot API, seeded tasks.

The bot is the real ``build_application`` (long polling by ``bot.app.poller``, as ``temoin
bot`` does), talking to ``LocalBotApi`` on loopback, with the real database of the
``database`` fixture; button presses are timed by a ``FixedClock`` the test moves, messages
by their ``date=``.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from PIL import ExifTags, Image
from sqlalchemy import select

from bot.app import App, BotConfig, build_application, poller
from bot.polling import ArrivalPoller
from scenarios.catalog import Catalog, load_catalog
from scenarios.clock import FixedClock
from sim.botapi import LocalBotApi, SimulatedUser
from storage import auditors as auditor_repo
from storage.db import Database
from storage.models import Auditor, Contact, ContactEvent, Observation
from tests import factories

NOW = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # Tuesday, 10:00 in Paris
CATALOG = load_catalog()


@dataclass
class Bot:
    """A running bot and what it talks to."""

    api: LocalBotApi
    database: Database
    clock: FixedClock
    catalog: Catalog = field(default_factory=lambda: CATALOG)
    app: App | None = None
    polling: ArrivalPoller | None = None

    def config(self) -> BotConfig:
        return BotConfig(
            token=self.api.token,
            base_url=self.api.base_url,
            base_file_url=self.api.base_file_url,
            reminders=False,
            photo_max_bytes=200_000,
        )

    async def start(self) -> None:
        app = build_application(
            self.config(), self.database, clock=self.clock, catalog=self.catalog
        )
        await app.initialize()
        await app.start()
        self.polling = poller(app, timeout=5)
        await self.polling.start()
        self.app = app

    async def stop(self) -> None:
        app, self.app = self.app, None
        if app is None:
            return
        if self.polling is not None:
            await self.polling.stop()
            self.polling = None
        if app.running:
            await app.stop()
        await app.shutdown()

    async def idle(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until every update sent so far has been fetched and handled."""
        assert self.app is not None
        app = self.app
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            await asyncio.sleep(0.02)
            if (
                self.api.pending_update_count == 0
                and (self.polling is None or self.polling.undelivered == 0)
                and app.update_queue.empty()
                and app.update_processor.current_concurrent_updates == 0
            ):
                return
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("the bot is still busy")

    async def restart(self) -> None:
        await self.stop()
        await self.start()


@dataclass
class World:
    campaign_id: int
    service_id: int
    auditors: dict[str, int]
    contacts: dict[str, int]


async def seed(database: Database, *, planned_at: datetime = NOW) -> World:
    """Two auditors (paul, lea), a coordinator (cora) and tasks for paul and lea."""
    async with database.session() as s:
        camp = await factories.campaign(s, NOW)
        coll = await factories.collectivity(s, NOW, name="Riom")
        svc = await factories.service(
            s, NOW, coll, kind="accueil_mairie", name="Accueil de la mairie",
            latitude=45.8936, longitude=3.1126,
        )  # fmt: skip
        auditors: dict[str, int] = {}
        for key, name, role in (
            ("paul", "Paul Durand", "auditor"),
            ("lea", "Léa Martin", "auditor"),
            ("cora", "Cora Leroy", "coordinator"),
        ):
            row = Auditor(key=key, name=name, role=role, language="fr", active=True,
                          created_at=NOW)  # fmt: skip
            s.add(row)
            await s.flush()
            auditors[key] = row.id
        contacts: dict[str, int] = {}
        specs: list[tuple[str, str, str, str, str]] = [
            ("phone", "phone-listes-electorales", "phone", "assigned", "paul"),
            ("visit", "visit-acte-naissance-guichet", "visit", "assigned", "paul"),
            ("letter", "letter-acte-naissance", "letter", "printed", "paul"),
            ("lea_phone", "phone-listes-electorales", "phone", "assigned", "lea"),
        ]
        for name, scenario, channel, status, who in specs:
            row = await factories.contact(
                s, NOW, camp, svc, planned_at=planned_at, scenario_id=scenario,
                channel=channel, status=status, auditor_id=auditors[who],
            )  # fmt: skip
            contacts[name] = row.id
        await auditor_repo.add_coordination(s, auditors["cora"], camp.id)
    return World(camp.id, svc.id, auditors, contacts)


async def invite(database: Database, key: str, code: str, *, expires: timedelta = timedelta(days=7),
                 now: datetime = NOW) -> None:  # fmt: skip
    async with database.session() as s:
        auditor = await s.scalar(select(Auditor).where(Auditor.key == key))
        name = auditor.name if auditor else key.title()
        role = auditor.role if auditor else "auditor"
        code_hash = auditor_repo.hash_code(code)
        await auditor_repo.create_invite(s, key=key, name=name, role=role, code_hash=code_hash,
                                         now=now, expires_at=now + expires)  # fmt: skip


async def enrol(api: LocalBotApi, database: Database, key: str, user_id: int,
                language: str = "fr") -> SimulatedUser:  # fmt: skip
    code = f"CODE{user_id}"
    await invite(database, key, code)
    user = api.user(user_id, key.title(), language_code=language)
    user.send_command("/start", code)
    await user.wait_for_message(lambda m: "Bienvenue" in m["text"] or "Welcome" in m["text"])
    return user


# --------------------------------------------------------------------------- reading back


async def events(database: Database, contact_id: int) -> list[tuple[str, datetime, dict[str, Any]]]:
    async with database.session() as s:
        rows = await s.execute(
            select(ContactEvent.kind, ContactEvent.at, ContactEvent.detail)
            .where(ContactEvent.contact_id == contact_id)
            .order_by(ContactEvent.id)
        )
        return [(kind, at, detail or {}) for kind, at, detail in rows]


async def answers(database: Database, contact_id: int) -> dict[str, Any]:
    async with database.session() as s:
        rows = await s.execute(
            select(Observation.question_id, Observation.value).where(
                Observation.contact_id == contact_id
            )
        )
        return {qid: value for qid, value in rows}


async def contact(database: Database, contact_id: int) -> Contact:
    async with database.session() as s:
        row = await s.get(Contact, contact_id)
        assert row is not None
        return row


def text_of(message: dict[str, Any]) -> str:
    return str(message.get("text", ""))


def buttons(message: dict[str, Any]) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


async def next_with_buttons(user: SimulatedUser) -> dict[str, Any]:
    """The next bot message that carries an inline keyboard."""
    return await user.wait_for_message(lambda m: bool(buttons(m)))


def photo_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestPhone"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (45.0, 53.0, 37.0),
    }
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()
