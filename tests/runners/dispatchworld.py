"""The dispatcher tests' world: a persona whose provider is the suite's aiosmtpd and whose
mailbox is on the suite's Dovecot, a campaign, and a clock pinned to the second (the ``world``
fixture of tests/runners/conftest.py builds it)."""

from __future__ import annotations

import email
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from runners.dispatcher import DispatchConfig, Dispatcher
from scenarios.catalog import Catalog, load_catalog
from scenarios.clock import FixedClock
from sim.dovecot import DovecotServer
from sim.smtp_provider import SmtpProvider
from storage.db import Database
from storage.models import Contact, ContactEvent
from tests import factories

# Monday 2 March 2026, 10:00:07 in Paris (09:00:07 UTC): inside the default dispatch hours.
MONDAY_10H = datetime(2026, 3, 2, 9, 0, 7, tzinfo=UTC)


def catalog() -> Catalog:
    global _CATALOG
    if _CATALOG is None:
        _CATALOG = load_catalog()
    return _CATALOG


_CATALOG: Catalog | None = None


@dataclass
class World:
    database: Database
    clock: FixedClock
    provider: SmtpProvider
    dovecot: DovecotServer
    user: str
    persona_email: str
    persona_id: int
    campaign_id: int

    def dispatcher(self, **config: object) -> Dispatcher:
        settings = {"lease_seconds": 300, "retry_base_seconds": 60, **config}
        return Dispatcher(
            self.database, catalog(), self.clock, DispatchConfig(**settings),  # type: ignore[arg-type]
            owner="test-worker",
        )  # fmt: skip

    async def contact(self, **kw: object) -> int:
        async with self.database.session() as s:
            now = self.clock.now()
            coll = await factories.collectivity(s, now, name="Saint-Aubin-sur-Loire")
            svc = await factories.service(s, now, coll, **kw.pop("service", {}))  # type: ignore[arg-type]
            camp_id = self.campaign_id
            from storage.models import Campaign

            camp = await s.get(Campaign, camp_id)
            assert camp is not None
            row = await factories.contact(
                s, now, camp, svc, planned_at=kw.pop("planned_at", now - timedelta(minutes=5)),  # type: ignore[arg-type]
                persona_id=self.persona_id, **kw,
            )  # fmt: skip
            return row.id

    async def get(self, contact_id: int) -> Contact:
        async with self.database.session() as s:
            row = await s.get(Contact, contact_id)
            assert row is not None
            return row

    async def events(self, contact_id: int) -> list[str]:
        async with self.database.session() as s:
            rows = await s.execute(
                select(ContactEvent.kind)
                .where(ContactEvent.contact_id == contact_id)
                .order_by(ContactEvent.id)
            )
            return list(rows.scalars())

    def sink_ids(self) -> list[str]:
        return [
            m.message_id
            for m in self.provider.received
            if self.persona_email not in m.recipients[:1]
        ]

    def mailbox_ids(self, folder: str) -> list[str]:
        conn = self.dovecot.imap(self.user)
        try:
            conn.select(folder, readonly=True)
            _typ, data = conn.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            return [
                email.message_from_bytes(part[1])["Message-ID"]
                for part in data
                if isinstance(part, tuple)
            ]
        finally:
            conn.logout()
