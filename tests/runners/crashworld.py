"""The crash tests' world: real ``temoin worker`` processes against the suite's aiosmtpd and
Dovecot, a database they all open (SQLite or PostgreSQL), seeded due contacts, and the counts
the tests compare with what the provider received (the ``crash_world`` fixture of
tests/runners/conftest.py builds it)."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session

from sim.dovecot import DovecotServer
from sim.smtp_provider import ReceivedMessage, SmtpProvider
from storage.db import sync_url
from storage.models import Campaign, Collectivity, Contact, ContactEvent, Persona, Service
from tests.conftest import DbTarget

PRETEND = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday 10:00 in Paris
ALL_WEEK = {"rules": {"dispatch_hours": "lu-di 00:00-24:00"}}
PASSWORD_VAR = "TEMOIN_TEST_CRASH_PASSWORD"
PARIS = ZoneInfo("Europe/Paris")
ROOT = Path(__file__).resolve().parents[2]


# -- world ---------------------------------------------------------------------------------


@dataclass
class Mailworld:
    target: DbTarget
    provider: SmtpProvider
    dovecot: DovecotServer
    user: str
    persona_email: str
    tmp: Path

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TEMOIN_")}
        env.update(self.target.env())
        env |= {
            PASSWORD_VAR: self.dovecot.users[self.user],
            "TEMOIN_DISPATCH__PER_PERSONA_PER_HOUR": "0",
            "TEMOIN_DISPATCH__PER_DOMAIN_PER_HOUR": "0",
            "TEMOIN_TRACKING__ENABLED": "false",  # the mailbox watchers are not under test
            "PYTHONPATH": str(ROOT),
        }
        return env

    def engine(self) -> Engine:
        url = sync_url(self.target.url)
        if self.target.schema:
            options = f"-csearch_path={self.target.schema}"
            return create_engine(url, connect_args={"options": options})
        return create_engine(url)

    def sent_folder(self) -> Counter[str]:
        """Message-IDs in the persona's Sent folder, each with its number of copies; every
        copy's bytes checked against what the provider received for the service."""
        sink = {m.message_id: m.raw for m in list(self.provider.received)}
        conn = self.dovecot.imap(self.user)
        try:
            conn.select("Sent", readonly=True)
            _typ, data = conn.uid("FETCH", "1:*", "(BODY.PEEK[])")
        finally:
            conn.logout()
        found: Counter[str] = Counter()
        for part in data:
            if isinstance(part, tuple):
                mid = message_from_bytes(part[1])["Message-ID"]
                assert part[1] == sink.get(mid), f"Sent copy of {mid} differs from what was sent"
                found[mid] += 1
        return found

    def service_copies(self) -> list[str]:
        """Message-IDs of the envelopes to a service (the blind copies left out)."""
        received: list[ReceivedMessage] = list(self.provider.received)
        return [
            m.message_id or "?"
            for m in received
            if m.recipients and m.recipients[0].lower() != self.persona_email
        ]


def seed(world: Mailworld, count: int, *, spec: dict[str, Any], planned_at: datetime) -> None:
    """``count`` due email contacts from one persona to 20 services, in one transaction."""
    engine = world.engine()
    now = datetime.now(UTC)
    try:
        with Session(engine) as s, s.begin():
            persona = Persona(
                key="claire", display_name="Claire Mercier", email=world.persona_email,
                address="4 rue des Tilleuls", postal_code="63100", city="Clermont-Ferrand",
                smtp_host="127.0.0.1", smtp_port=world.provider.port, smtp_security="none",
                imap_host="127.0.0.1", imap_port=world.dovecot.imap_port,
                imap_security="none", username=world.user,
                password_ref=f"env:{PASSWORD_VAR}", subaddress_separator="+",
                created_at=now,
            )  # fmt: skip
            campaign = Campaign(name="crash", window_start=PRETEND.date(),
                                window_end=PRETEND.date() + timedelta(days=30), seed=1,
                                spec=spec, created_at=now, planned_at=now)  # fmt: skip
            s.add_all([persona, campaign])
            services: list[Service] = []
            for n in range(20):
                coll = Collectivity(insee_code=f"63{n:03d}", name=f"Commune {n}",
                                    kind="commune", population=3000, departement="63",
                                    created_at=now, updated_at=now)  # fmt: skip
                svc = Service(collectivity=coll, kind="etat_civil", name="État civil",
                              email=f"etat-civil@mairie{n}.example", created_at=now,
                              updated_at=now)  # fmt: skip
                s.add_all([coll, svc])
                services.append(svc)
            s.flush()
            s.add_all(
                Contact(
                    campaign_id=campaign.id,
                    service_id=services[i % 20].id,
                    collectivity_id=services[i % 20].collectivity_id,
                    scenario_id="email-acte-naissance",
                    channel="email",
                    wording=i % 2,
                    persona_id=persona.id,
                    planned_at=planned_at,
                    status="planned",
                    status_at=now,
                )
                for i in range(count)
            )
    finally:
        engine.dispose()


def statuses(world: Mailworld) -> tuple[Counter[str], dict[str, str], Counter[int]]:
    """Status counts, Message-ID -> status, and the number of "sent" events per contact."""
    engine = world.engine()
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(Contact.id, Contact.status, Contact.message_id)).all()
            events = conn.execute(
                select(ContactEvent.contact_id, func.count())
                .where(ContactEvent.kind == "sent")
                .group_by(ContactEvent.contact_id)
            ).all()
            recovered = conn.execute(
                select(func.count()).where(
                    ContactEvent.kind == "sent", ContactEvent.detail["recovered"].as_boolean()
                )
            ).scalar_one()
    finally:
        engine.dispose()
    by_mid = {mid: status for _, status, mid in rows if mid}
    sent_events = Counter({cid: n for cid, n in events})
    counts = Counter(status for _, status, _ in rows)
    counts["_recovered"] = recovered
    return counts, by_mid, sent_events
