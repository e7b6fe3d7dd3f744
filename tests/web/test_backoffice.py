"""The back office after a real pass of the watcher over the suite's Dovecot: the triage
queue with hostile mail shown as text, a coordinator's match through the same code as
`temoin triage match`, the contact page, and a campaign's progress."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from scenarios.clock import FixedClock
from sim.dovecot import DovecotServer
from storage import triage
from storage.db import Database
from storage.models import Campaign, Contact
from tests.mailworld import PASSWORD_ENV, SENT, World, make_world, reply, tracker
from tests.web.conftest import WebWorld, add_account, csrf_of, login, make_config
from web.app import create_app

HOSTILE_SUBJECT = '<script>alert("x")</script> Re: facture'
HOSTILE_BODY = (
    'Bonjour,\n<img src="http://tracker.example/p.gif"> <a href="javascript:alert(1)">ici</a>\n'
)


@dataclass
class MailWeb:
    web: WebWorld
    world: World
    ccas: int  # message ids
    hostile: int
    campaign_id: int


@pytest.fixture
async def mail_web(
    database: Database,
    dovecot_server: DovecotServer,
    mail_user: str,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[MailWeb]:
    monkeypatch.setenv(PASSWORD_ENV, dovecot_server.password)
    world = await make_world(database, dovecot_server, mail_user)
    at = SENT + timedelta(days=1)
    dovecot_server.append(
        mail_user,
        reply(sender="ccas@autreville.example", to=world.persona_email,
              subject="Re: Demande d'aide pour une facture d'électricité"),
        when=at,
    )  # fmt: skip
    dovecot_server.append(
        mail_user,
        reply(sender="x@ailleurs.example", to=world.persona_email, subject=HOSTILE_SUBJECT,
              body=HOSTILE_BODY),
        when=at,
    )  # fmt: skip
    assert await tracker(database).sync_all() == {}
    async with database.session() as s:
        rows = {r.subject: r.id for r in await triage.triage_rows(s)}
        campaign_id = await s.scalar(select(Campaign.id))
    assert set(rows) == {"Re: Demande d'aide pour une facture d'électricité", HOSTILE_SUBJECT}
    await add_account(database, "coord@example.org", "coordinator")
    await add_account(database, "consult@example.org", "consultant")
    clock = FixedClock(SENT + timedelta(days=10))
    config = make_config()
    app = create_app(database, config, clock)
    web = WebWorld(app, database, clock, config, None, 0, 0)  # type: ignore[arg-type]
    yield MailWeb(web, world, rows["Re: Demande d'aide pour une facture d'électricité"],
                  rows[HOSTILE_SUBJECT], int(campaign_id or 0))  # fmt: skip


async def test_triage_match_and_ignore_from_the_web(mail_web: MailWeb) -> None:
    world, web = mail_web.world, mail_web.web
    async with web.client() as client:
        await login(client, "coord@example.org")
        queue = await client.get("/admin/tri")
        assert queue.status_code == 200
        assert "<script>alert" not in queue.text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Re: facture" in queue.text
        assert "Autreville" in queue.text  # the suggestions described

        hostile = await client.get(f"/admin/tri/{mail_web.hostile}")
        assert hostile.status_code == 200
        assert "<img" not in hostile.text and 'href="javascript' not in hostile.text
        assert "&lt;img src=&#34;http://tracker.example/p.gif&#34;&gt;" in hostile.text

        page = await client.get(f"/admin/tri/{mail_web.ccas}")
        assert page.status_code == 200
        assert f'href="/admin/contacts/{world.contacts["ccas_a"]}"' in page.text
        assert f'href="/admin/contacts/{world.contacts["ccas_b"]}"' in page.text
        token = csrf_of(page.text)

        wrong = await client.post(
            f"/admin/tri/{mail_web.ccas}/associer",
            data={"csrf_token": token, "contact": "999999", "kind": "answer"},
        )
        assert wrong.status_code == 400
        assert "Décision refusée\u202f: aucun contact n°\u00a0999999." in wrong.text
        bad_kind = await client.post(
            f"/admin/tri/{mail_web.ccas}/associer",
            data={"csrf_token": token, "contact": str(world.contacts["ccas_b"]), "kind": "x"},
        )
        assert bad_kind.status_code == 400

        done = await client.post(
            f"/admin/tri/{mail_web.ccas}/associer",
            data={"csrf_token": token, "contact": str(world.contacts["ccas_b"]), "kind": "answer"},
        )
        assert done.status_code == 303
        assert done.headers["location"] == f"/admin/contacts/{world.contacts['ccas_b']}"
        async with web.database.session() as s:
            contact = await s.get(Contact, world.contacts["ccas_b"])
            assert contact is not None
            assert (contact.status, contact.first_answer_at) == (
                "answered",
                SENT + timedelta(days=1),
            )
        contact_page = await client.get(done.headers["location"])
        assert contact_page.status_code == 200
        assert (
            "Re: Demande d’aide" in contact_page.text
            or "Re: Demande d&#39;aide" in contact_page.text
        )
        assert "<dd>répondu</dd>" in contact_page.text and "mail_answer" in contact_page.text

        again = await client.post(
            f"/admin/tri/{mail_web.ccas}/associer",
            data={"csrf_token": token, "contact": str(world.contacts["ccas_a"])},
        )
        assert again.status_code == 400  # decided already: nothing changes
        assert (
            f"Décision refusée\u202f: le message n°\u00a0{mail_web.ccas} n’est plus à trier\u202f: "
            f"il est déjà rattaché au contact {world.contacts['ccas_b']}." in again.text
        )

        ignored = await client.post(
            f"/admin/tri/{mail_web.hostile}/ignorer", data={"csrf_token": token}
        )
        assert ignored.status_code == 303
        assert HOSTILE_SUBJECT not in (await client.get("/admin/tri")).text
        twice = await client.post(
            f"/admin/tri/{mail_web.hostile}/ignorer", data={"csrf_token": token}
        )
        assert twice.status_code == 409
        assert (
            f"Décision refusée\u202f: le message n°\u00a0{mail_web.hostile} n’est pas en "
            "attente de tri." in twice.text
        )

    async with web.client() as client:
        await login(client, "consult@example.org")
        page = await client.get(f"/admin/tri/{mail_web.ccas}")
        assert page.status_code == 200 and "/associer" not in page.text  # no form to decide


async def test_campaign_progress(mail_web: MailWeb) -> None:
    async with mail_web.web.client() as client:
        await login(client, "coord@example.org")
        listing = await client.get("/admin")
        assert f'href="/admin/campagnes/{mail_web.campaign_id}"' in listing.text
        page = await client.get(f"/admin/campagnes/{mail_web.campaign_id}")
        assert page.status_code == 200
        assert 'hx-trigger="every 15s"' in page.text
        row = page.text.split('<th scope="row">Courriel</th>', 1)[1].split("</tr>", 1)[0]
        cells = [
            re.sub(r"<[^>]+>", "", c.split("</td>")[0]) for c in row.split('<td class="num">')[1:]
        ]
        # total, upcoming, due, late, done, answered, failed, closed: 4 emails sent, none answered
        assert cells == ["4", "0", "0", "0", "4", "0", "0", "0"]
        # drill-down: each figure links to its contacts
        link = f"/admin/campagnes/{mail_web.campaign_id}/contacts?canal=email&amp;etape=done"
        assert link in row
        listed = await client.get(link.replace("&amp;", "&"))
        assert listed.status_code == 200
        ids = re.findall(r'<th scope="row"><a href="/admin/contacts/(\d+)">', listed.text)
        assert sorted(int(i) for i in ids) == sorted(mail_web.world.contacts.values())
        assert "Contacts (4), par numéro" in listed.text
        none = await client.get(link.replace("&amp;", "&").replace("done", "late"))
        assert none.status_code == 200 and "Aucun contact." in none.text
        for query in ("canal=fax&etape=done", "canal=email&etape=x", ""):
            bad = await client.get(f"/admin/campagnes/{mail_web.campaign_id}/contacts?{query}")
            assert bad.status_code == 404
        fragment = await client.get(f"/admin/campagnes/{mail_web.campaign_id}/avancement")
        assert fragment.status_code == 200 and "<html" not in fragment.text
        assert "Courriel" in fragment.text
        assert (await client.get("/admin/campagnes/999999")).status_code == 404


async def test_triage_queue_in_pages(database: Database) -> None:
    from datetime import UTC, datetime

    from storage.models import Blob, Message

    at = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    async with database.session() as s:
        s.add(Blob(sha256="0" * 64, size=1, data=b"x", created_at=at))
        await s.flush()
        for i in range(55):
            s.add(Message(direction="in", raw_sha256="0" * 64, subject=f"Sujet {i:02d}",
                          internal_date=at + timedelta(minutes=i), triage_state="pending",
                          created_at=at))  # fmt: skip
    await add_account(database, "coord@example.org", "coordinator")
    app = create_app(database, make_config(), FixedClock(at + timedelta(days=1)))
    web = WebWorld(app, database, FixedClock(at), make_config(), None, 0, 0)  # type: ignore[arg-type]
    async with web.client() as client:
        await login(client, "coord@example.org")
        first = await client.get("/admin/tri")
        assert "Messages à trier (55)" in first.text and "page 1 sur 2" in first.text
        assert "Sujet 00" in first.text and "Sujet 49" in first.text
        assert "Sujet 50" not in first.text and 'href="/admin/tri?page=2"' in first.text
        second = await client.get("/admin/tri", params={"page": "2"})
        assert "Sujet 50" in second.text and "Sujet 54" in second.text
        assert "Sujet 49" not in second.text
        for wrong in ("0", "-1", "x", "99999999"):
            assert (await client.get("/admin/tri", params={"page": wrong})).status_code == 200
        listing = await client.get("/admin")
        assert "Réponses à trier\u202f: 55" in listing.text
