"""The fixture campaign of the database-backed report tests (test_stats_db, test_exports,
test_reports): every expected value is worked out by hand in test_stats_db's comments.
Département 63 (national holidays only); March 2026 has no public holiday; 1 March 2026 is a
Sunday, so Monday 2 March.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from scenarios import events as ev
from storage.db import Database
from storage.models import ContactEvent, Observation
from storage.stats import CampaignInfo, campaign_info
from tests import factories as f

NOW = datetime(2026, 2, 20, 9, 0, tzinfo=UTC)
SENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday 2 March, 10:00 in Paris
CLOSE = datetime(2026, 3, 31, 18, 0, tzinfo=UTC)

# (name, insee code, population): strata with the default bounds (2 000, 10 000, 50 000)
COLLECTIVITIES = (
    ("Aubière-les-Monts", "63901", 1500),  # < 2 000
    ("Beaulieu-sur-Allier", "63902", 800),  # < 2 000
    ("Chanonat-la-Haute", "63903", 4200),  # 2 000 to 10 000 (6 of them)
    ("Durtol-Village", "63904", 5100),
    ("Enval-le-Bourg", "63905", 2500),
    ("Fontanas-d'Auvergne", "63906", 9100),
    ("Gerzat-Plaine", "63907", 3300),
    ("Herment-sur-Sioule", "63908", 7700),
)
# email answer delays, by collectivity index: (answer instant or None)
ANSWERS = (
    datetime(2026, 3, 3, 10, 0, tzinfo=UTC),  # Tue: 1 business day, 25 h
    datetime(2026, 3, 6, 9, 0, tzinfo=UTC),  # Fri: 4 bd
    datetime(2026, 3, 9, 8, 0, tzinfo=UTC),  # Mon: 5 bd (= target: on time)
    datetime(2026, 3, 10, 9, 0, tzinfo=UTC),  # Tue: 6 bd (late)
    datetime(2026, 3, 4, 9, 0, tzinfo=UTC),  # Wed: 2 bd
    None,
    None,
    None,
)


@dataclass
class Fixture:
    campaign: CampaignInfo
    names: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    contact_ids: dict[str, int] = field(default_factory=dict)


async def build_campaign(
    database: Database, *, name: str = "barometre-2026", closed: bool = True
) -> Fixture:
    """8 collectivities, one service each; 8 emails (5 answered), one undeliverable email,
    one phone call (two attempts), one visit, one letter."""
    async with database.session() as s:
        camp = await f.campaign(
            s, NOW, name=name, title="Baromètre 2026", closed_at=CLOSE if closed else None
        )
        persona = await f.persona(s, NOW, key="claire")
        fx_names, codes, emails, addresses, services = [], [], [], [], []
        for index, (cname, code, population) in enumerate(COLLECTIVITIES):
            coll = await f.collectivity(s, NOW, name=cname, insee_code=code, population=population)
            svc = await f.service(
                s,
                NOW,
                coll,
                name=f"État civil de {cname}",
                email=f"etat-civil@mairie-{code}.example",
                address=f"{index + 11} rue du Marché-{code}",
            )
            fx_names.append(cname)
            codes.append(code)
            emails.append(f"etat-civil@mairie-{code}.example")
            addresses.append(f"{index + 11} rue du Marché-{code}")
            services.append(svc)
        ids: dict[str, int] = {}
        for index, svc in enumerate(services):
            answer = ANSWERS[index]
            row = await f.contact(
                s,
                NOW,
                camp,
                svc,
                planned_at=SENT,
                persona_id=persona.id,
                status="answered" if answer else "sent",
                sent_at=SENT,
                first_answer_at=answer,
                # index 5: an automatic acknowledgement 5 minutes after sending
                first_ack_at=SENT + timedelta(minutes=5) if index == 5 else None,
                checks=(
                    {
                        "version": 1,
                        "expected": {
                            "procedure": {"label": "Démarche", "auto": True},
                            "gratuite": {"auto": False, "override": {"value": True}},
                            "delai": {"auto": False},
                            "parente": {"auto": None},
                        },
                        "form": {"greeting": {"auto": True}, "email": {"auto": None}},
                    }
                    if index == 0
                    else None
                ),
            )
            ids[f"email{index}"] = row.id
        # an undeliverable email (index 6): outside every denominator
        bounced = await f.contact(
            s, NOW, camp, services[6], planned_at=SENT, persona_id=persona.id,
            status="undeliverable", sent_at=SENT,
        )  # fmt: skip
        ids["bounced"] = bounced.id
        # a phone call to index 2: no answer at 08:00, then picked up at 09:00:12
        phone = await f.contact(
            s, NOW, camp, services[2], planned_at=datetime(2026, 3, 3, 8, 0, tzinfo=UTC),
            scenario_id="phone-listes-electorales", channel="phone", status="done",
        )  # fmt: skip
        ids["phone"] = phone.id
        day = datetime(2026, 3, 3, tzinfo=UTC)
        for kind, hh, mm, ss, attempt in (
            (ev.CALL_STARTED, 8, 0, 0, 1),
            (ev.CALL_NO_ANSWER, 8, 0, 40, 1),
            (ev.CALL_STARTED, 9, 0, 0, 2),
            (ev.CALL_PICKED_UP, 9, 0, 12, 2),
            (ev.CALL_ON_HOLD, 9, 1, 0, 2),
            (ev.CALL_RESUMED, 9, 2, 30, 2),
            (ev.CALL_TRANSFERRED, 9, 3, 0, 2),
            (ev.CALL_HUNG_UP, 9, 6, 0, 2),
        ):
            s.add(
                ContactEvent(
                    contact_id=phone.id,
                    kind=kind,
                    at=day + timedelta(hours=hh, minutes=mm, seconds=ss),
                    actor="auditor:ana",
                    detail={"attempt": attempt},
                )
            )
        answers = {
            "picked_up": True,
            "rings": 3,
            "wait_before_human": 30,
            "service_named": True,
            "transferred": True,
            "transfer_outcome": "rapide",
            "courtesy": "aimable",
            "procedure_given": True,
            "documents_given": False,
            "deadline_given": True,
            "outcome": "partielle",
            "callback_offered": False,
        }
        for question, value in answers.items():
            s.add(
                Observation(
                    contact_id=phone.id,
                    question_id=question,
                    value=value,
                    answered_at=day + timedelta(hours=9, minutes=10),
                )
            )
        # a counter visit to index 3: waits 7 min 30 s, served for 7 min 30 s
        visit = await f.contact(
            s, NOW, camp, services[3], planned_at=datetime(2026, 3, 4, 9, 0, tzinfo=UTC),
            scenario_id="visit-acte-naissance-guichet", channel="visit", status="done",
        )  # fmt: skip
        ids["visit"] = visit.id
        for kind, at in (
            (ev.VISIT_ARRIVED, datetime(2026, 3, 4, 9, 0, tzinfo=UTC)),
            (ev.VISIT_SERVED, datetime(2026, 3, 4, 9, 7, 30, tzinfo=UTC)),
            (ev.VISIT_LEFT, datetime(2026, 3, 4, 9, 15, tzinfo=UTC)),
        ):
            s.add(ContactEvent(contact_id=visit.id, kind=kind, at=at, detail={"distance_m": 12}))
        # a letter to index 4: posted Mon 2 March 16:00 UTC, reply Thu 12 March: 8 bd
        letter = await f.contact(
            s, NOW, camp, services[4], planned_at=datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
            scenario_id="letter-acte-naissance", channel="letter", status="answered",
        )  # fmt: skip
        ids["letter"] = letter.id
        for kind, at in (
            (ev.LETTER_PRINTED, datetime(2026, 2, 27, 10, 0, tzinfo=UTC)),
            (ev.LETTER_POSTED, datetime(2026, 3, 2, 16, 0, tzinfo=UTC)),
            (ev.LETTER_REPLY_RECEIVED, datetime(2026, 3, 12, 10, 0, tzinfo=UTC)),
        ):
            s.add(ContactEvent(contact_id=letter.id, kind=kind, at=at))
        await s.flush()
    async with database.session() as s:
        info = await campaign_info(s, name)
    assert info is not None
    return Fixture(info, fx_names, codes, emails, addresses, ids)
