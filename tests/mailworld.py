"""A small world for the mail-tracking tests: a persona whose mailbox is on the suite's Dovecot,
services of two collectivities, contacts already sent, and raw replies built like real ones."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from sqlalchemy import func, select

from channels.imap_watcher import WatchConfig
from runners.tracker import Tracker, TrackingConfig
from scenarios.catalog import load_catalog
from scenarios.clock import FixedClock
from sim.dovecot import DovecotServer
from storage.db import Database
from storage.models import Contact, ContactEvent, Message
from tests import factories

PASSWORD_ENV = "TEMOIN_TEST_IMAP_PASSWORD"
SENT = datetime(2026, 3, 2, 9, 14, 0, tzinfo=UTC)  # Monday 10:14 in Paris
_ids = itertools.count(1)


@dataclass
class World:
    persona_id: int
    persona_email: str
    user: str
    contacts: dict[str, int] = field(default_factory=dict)  # name -> contact id
    message_ids: dict[str, str] = field(default_factory=dict)  # name -> our Message-ID
    tokens: dict[str, str] = field(default_factory=dict)
    services: dict[str, str] = field(default_factory=dict)  # name -> service email


async def make_world(
    database: Database,
    server: DovecotServer,
    user: str,
    *,
    separator: str | None = "+",
    departement: str = "63",
) -> World:
    """Persona ``user`` and four sent contacts:

    - ``acte``: état civil of Saint-Exemple (mairie-saint-exemple.example), email-acte-naissance
    - ``piscine``: piscine of Saint-Exemple, same domain, another service and scenario
    - ``ccas_a`` and ``ccas_b``: two contacts of Autreville's CCAS (same service address)
    """
    now = SENT - timedelta(days=3)
    async with database.session() as s:
        persona = await factories.persona(
            s,
            now,
            email=f"{user}@persona.example",
            imap_host=server.host,
            imap_port=server.imap_port,
            imap_security="none",
            username=user,
            password_ref=f"env:{PASSWORD_ENV}",
            subaddress_separator=separator,
        )
        camp = await factories.campaign(s, now, name=f"barometre-{user}")
        saint = await factories.collectivity(s, now, departement=departement, name="Saint-Exemple")
        autre = await factories.collectivity(s, now, departement=departement, name="Autreville")
        services = {
            "acte": await factories.service(
                s, now, saint, kind="etat_civil", email="etat-civil@mairie-saint-exemple.example"
            ),
            "piscine": await factories.service(
                s,
                now,
                saint,
                kind="piscine",
                name="Piscine municipale",
                email="piscine@mairie-saint-exemple.example",
            ),
            "ccas": await factories.service(
                s, now, autre, kind="ccas", name="CCAS", email="ccas@autreville.example"
            ),
        }
        world = World(persona.id, persona.email, user)
        plan = (
            ("acte", "acte", "email-acte-naissance"),
            ("piscine", "piscine", "email-piscine-tarifs"),
            ("ccas_a", "ccas", "email-aide-ponctuelle"),
            ("ccas_b", "ccas", "email-aide-ponctuelle"),
        )
        for offset, (name, service, scenario) in enumerate(plan):
            n = next(_ids)
            mid = f"<{user}.{n}.{name}@persona.example>"
            token = f"tok{n:04d}{name.replace('_', '')}"
            contact = await factories.contact(
                s,
                now,
                camp,
                services[service],
                planned_at=SENT,
                persona_id=persona.id,
                scenario_id=scenario,
                status="sent",
                message_id=mid,
                reply_token=token,
                sent_at=SENT + timedelta(minutes=offset),
            )
            world.contacts[name] = contact.id
            world.message_ids[name] = mid
            world.tokens[name] = token
            world.services[name] = services[service].email or ""
    return world


def reply(
    *,
    sender: str,
    to: str,
    subject: str = "Re: Demande de copie intégrale d'acte de naissance",
    body: str = "Bonjour Madame,\n\nVoici la réponse.\n\nCordialement,\nJulien Moreau\n",
    in_reply_to: str | None = None,
    date: datetime | None = None,
    headers: dict[str, str] | None = None,
    message_id: str | None = None,
) -> bytes:
    domain = sender.rsplit("@", 1)[-1].strip(">")
    lines = [
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        f"Message-ID: {message_id or f'<r{next(_ids)}@{domain}>'}",
        f"Date: {format_datetime(date or SENT + timedelta(hours=2))}",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
    ]
    if in_reply_to:
        lines += [f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body.replace("\n", "\r\n")).encode()


def tracker(database: Database, parse_workers: int = 0, **watch: float) -> Tracker:
    config = WatchConfig(
        poll_interval=watch.pop("poll_interval", 0.5),
        idle_timeout=watch.pop("idle_timeout", 2.0),
        census_interval=watch.pop("census_interval", 3600.0),
        fetch_batch=int(watch.pop("fetch_batch", 50)),
        timeout=3.0,
        backoff_base=0.05,
        backoff_cap=0.3,
    )
    assert not watch, watch
    return Tracker(
        database,
        load_catalog(),
        FixedClock(SENT + timedelta(days=10)),
        TrackingConfig(watch=config, persona_refresh_seconds=0.5, parse_workers=parse_workers),
    )


async def contact(database: Database, contact_id: int) -> Contact:
    async with database.session() as s:
        found = await s.get(Contact, contact_id)
        assert found is not None
        return found


async def messages(database: Database, persona_id: int) -> list[Message]:
    async with database.session() as s:
        rows = await s.scalars(
            select(Message).where(Message.persona_id == persona_id).order_by(Message.id)
        )
        return list(rows)


async def events(
    database: Database, contact_id: int, kind: str | None = None
) -> list[ContactEvent]:
    async with database.session() as s:
        query = select(ContactEvent).where(ContactEvent.contact_id == contact_id)
        if kind is not None:
            query = query.where(ContactEvent.kind == kind)
        return list(await s.scalars(query.order_by(ContactEvent.id)))


async def count_messages(database: Database, persona_id: int) -> int:
    async with database.session() as s:
        value = await s.scalar(
            select(func.count()).select_from(Message).where(Message.persona_id == persona_id)
        )
        return int(value or 0)
