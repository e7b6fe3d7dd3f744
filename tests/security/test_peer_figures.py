"""Peer figures over fewer than ``min_peers`` other collectivities are withheld, cell by cell.

The constructed case of issue 13: a stratum of six collectivities, all written to, of which
only two were visited, the report's own and one neighbour. Counting peers over any contact
on any channel (5 others) published the stratum's visit figures, which were that one
neighbour's own (read from the neighbour's report), and the national ones, which gave it
away with the report's own figure. Each such cell now reads « donnée masquée : moins de 5
collectivités », while the email figures (5 others) stay published; and every cell of every
report of the campaign passes the independent check of ``tests/security/peers.py``. (The
same check runs over the demo's campaign in tests/e2e/test_demo_e2e.py.)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scenarios import events as ev
from storage.db import Database
from storage.models import ContactEvent
from tests import factories as f
from tests.security.peers import WITHHELD, check_peer_cells, comparison_cells

NOW = datetime(2026, 2, 20, 9, 0, tzinfo=UTC)
SENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CLOSE = datetime(2026, 3, 31, 18, 0, tzinfo=UTC)
GENERATED = datetime(2026, 4, 2, 8, 30, tzinfo=UTC)
OWN = "63100"
NEIGHBOUR = "63101"


async def _build(database: Database) -> None:
    """Six communes of 2 000 to 10 000 inhabitants (OWN and five others) and two small ones;
    an email to each; a visit to OWN (5 min wait) and to NEIGHBOUR (11 min 30 s)."""
    async with database.session() as s:
        camp = await f.campaign(s, NOW, name="pairs", title="Pairs", closed_at=CLOSE)
        persona = await f.persona(s, NOW, key="claire")
        people = [(OWN, 4200), (NEIGHBOUR, 5100), ("63102", 2500), ("63103", 9100),
                  ("63104", 3300), ("63105", 7700), ("63106", 900), ("63107", 1200)]  # fmt: skip
        for index, (code, population) in enumerate(people):
            coll = await f.collectivity(
                s, NOW, insee_code=code, name=f"Commune {code}", population=population
            )
            svc = await f.service(s, NOW, coll)
            answered = SENT + timedelta(days=1 + index % 3) if index % 2 else None
            await f.contact(
                s, NOW, camp, svc, planned_at=SENT, persona_id=persona.id, sent_at=SENT,
                status="answered" if answered else "sent", first_answer_at=answered,
            )  # fmt: skip
            if code not in (OWN, NEIGHBOUR):
                continue
            wait = timedelta(minutes=5) if code == OWN else timedelta(minutes=11, seconds=30)
            arrived = datetime(2026, 3, 4 + index, 9, 0, tzinfo=UTC)
            visit = await f.contact(
                s, NOW, camp, svc, planned_at=arrived, scenario_id="visit-acte-naissance-guichet",
                channel="visit", status="done",
            )  # fmt: skip
            for kind, at in (
                (ev.VISIT_ARRIVED, arrived),
                (ev.VISIT_SERVED, arrived + wait),
                (ev.VISIT_LEFT, arrived + wait + timedelta(minutes=6)),
            ):
                s.add(ContactEvent(contact_id=visit.id, kind=kind, at=at, detail={}))


def _cell(html: str, channel: str | None, metric: str, column: str) -> str:
    found = [
        c.text
        for c in comparison_cells(html)
        if c.channel == channel and c.metric == metric and c.column == column
    ]
    assert len(found) == 1, (channel, metric, column, comparison_cells(html))
    return found[0]


def _yours(html: str, metric: str) -> str:
    """The report's own figure of a visit metric (its « Votre collectivité » column)."""
    text = html.split("Accueil physique", 1)[1]
    row = text.split(metric, 1)[1].split("</tr>", 1)[0]
    return row.split("<td>")[1].split("</td>")[0]


async def test_a_lone_neighbours_visit_is_not_published_as_the_stratum_figure(
    database: Database,
) -> None:
    await _build(database)
    check = await check_peer_cells(database, "pairs", 5, GENERATED)
    assert check.problems == []
    own, neighbour = check.reports[OWN], check.reports[NEIGHBOUR]
    waiting = "Attente médiane au guichet"
    neighbours_wait = _yours(neighbour, waiting)
    assert neighbours_wait == "11\u202fmin\u202f30\u202fs"  # Formats.duration
    for column in ("peers", "national"):
        shown = _cell(own, "visit", waiting, column)
        assert shown == "donnée masquée\u202f: moins de 5 collectivités", column
        assert neighbours_wait not in shown
        assert _cell(own, "visit", "Note sur 100", column).startswith(WITHHELD)
    # the email figures are over five others of the stratum (seven nationally): published
    assert _cell(own, "email", "Taux de réponse", "peers") == "60,0\u202f%"
    assert _cell(own, "email", "Taux de réponse", "national").endswith("%")
    assert check.withheld >= 4 and check.published > 0
