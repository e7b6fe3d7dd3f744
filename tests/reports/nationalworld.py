"""The national report's fixture: test_stats_db's campaign (``statsworld``), plus an EPCI and
the Moselle (a département of 1 046 000 inhabitants) with one email each, and a previous
campaign a year earlier over four of the same services.

Worked by hand:

- this campaign's emails: the 8 of statsworld (5 answered) + the EPCI's (answered after
  2 business days) + the Moselle's (unanswered) -> 10 delivered, 6 answered: 60,0 %;
- the previous campaign: 4 emails to the services of the first four communes, one answered
  (1 business day) -> 25,0 %; so the email response rate moved by +35,0 points.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.db import Database
from storage.models import Campaign, Service
from storage.stats import CampaignInfo, campaign_info
from tests import factories as f
from tests.reports.statsworld import CLOSE, NOW, SENT, Fixture, build_campaign

PREVIOUS_SENT = SENT - timedelta(days=364)  # Monday 3 March 2025
PREVIOUS_CLOSE = CLOSE - timedelta(days=364)


async def build_national(database: Database) -> tuple[Fixture, CampaignInfo]:
    """This campaign (with its EPCI and département) and the previous one."""
    fx = await build_campaign(database)
    async with database.session() as s:
        camp_id = fx.campaign.id
        persona = await f.persona(s, NOW, key="bruno")
        epci = await f.collectivity(
            s, NOW, name="Communauté de communes Dôme-Sancy", insee_code="246300000",
            kind="epci", population=60_000,
        )  # fmt: skip
        moselle = await f.collectivity(
            s, NOW, name="Département de la Moselle", insee_code="57", kind="departement",
            population=1_046_000, departement="57",
        )  # fmt: skip
        camp = await s.get(Campaign, camp_id)
        assert camp is not None
        for coll, kind, answer in (
            (epci, "dechets", SENT + timedelta(days=2)),
            (moselle, "accueil_departement", None),
        ):
            svc = await f.service(s, NOW, coll, kind=kind, name=f"Accueil {coll.name}")
            await f.contact(
                s, NOW, camp, svc, planned_at=SENT, persona_id=persona.id, sent_at=SENT,
                status="answered" if answer else "sent", first_answer_at=answer,
            )  # fmt: skip
        previous = await f.campaign(
            s, NOW - timedelta(days=364), name="barometre-2025", title="Baromètre 2025",
            window_start=PREVIOUS_SENT.date(),
            window_end=(PREVIOUS_SENT + timedelta(days=25)).date(),
            closed_at=PREVIOUS_CLOSE,
        )  # fmt: skip
        wanted = [f"État civil de {n}" for n in fx.names[:4]]
        services = (await s.scalars(select(Service).where(Service.name.in_(wanted)))).all()
        assert len(services) == 4
        for index, svc in enumerate(sorted(services, key=lambda x: x.name)):
            answer = PREVIOUS_SENT + timedelta(days=1) if index == 0 else None
            await f.contact(
                s, NOW, previous, svc, planned_at=PREVIOUS_SENT, persona_id=persona.id,
                sent_at=PREVIOUS_SENT, status="answered" if answer else "sent",
                first_answer_at=answer,
            )  # fmt: skip
        await s.flush()
    async with database.session() as s:
        before = await campaign_info(s, "barometre-2025")
        now = await campaign_info(s, fx.campaign.name)
    assert before is not None and now is not None
    fx.campaign = now
    return fx, before
