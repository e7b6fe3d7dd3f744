"""The back office's reviews, over HTTP on both databases: an answer's content checks
overridden with a note (history kept, the same code path as ``temoin review``), an auditor's
answer sent back « à corriger » with a reason (as ``temoin observations to-fix``), and the
auditors with their load. Who may, CSRF, bad input."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from scenarios import events as ev
from storage.models import Auditor, Contact, ContactEvent, Observation, WebAccount
from tests.web.conftest import NOW, WebWorld, csrf_of, login
from tests.web.test_backoffice import MailWeb, mail_web  # noqa: F401  (the fixture)


async def _events(web: WebWorld, contact_id: int, kind: str) -> list[ContactEvent]:
    async with web.database.session() as s:
        rows = await s.scalars(
            select(ContactEvent)
            .where(ContactEvent.contact_id == contact_id, ContactEvent.kind == kind)
            .order_by(ContactEvent.id)
        )
        return list(rows)


async def test_override_a_check_of_a_real_answer(mail_web: MailWeb) -> None:  # noqa: F811
    world, web = mail_web.world, mail_web.web
    contact_id = world.contacts["ccas_b"]
    page_path = f"/admin/contacts/{contact_id}/controles"
    async with web.client() as client:
        await login(client, "coord@example.org")
        token = csrf_of((await client.get("/admin/tri")).text)
        matched = await client.post(
            f"/admin/tri/{mail_web.ccas}/associer",
            data={"csrf_token": token, "contact": str(contact_id), "kind": "answer"},
        )
        assert matched.status_code == 303
        contact_page = await client.get(f"/admin/contacts/{contact_id}")
        assert f'href="{page_path}"' in contact_page.text

        page = await client.get(page_path)
        assert page.status_code == 200
        assert "Bonjour" in page.text  # the answer's own words
        names = re.findall(r'<option value="((?:expected|form)\.[a-z_]+)"', page.text)
        assert "form.greeting" in names
        async with web.database.session() as s:
            before = (await s.get(Contact, contact_id)).checks  # type: ignore[union-attr]
        assert before is not None and before["message"] == mail_web.ccas
        if before["form"]["greeting"].get("found"):
            assert "<mark>" in page.text
        token = csrf_of(page.text)

        forged = await client.post(page_path, data={"check": "form.greeting", "value": "non",
                                                     "note": "x"})  # fmt: skip
        assert forged.status_code == 403
        for data in (
            {"check": "form.greeting", "value": "peut-être", "note": "x"},
            {"check": "form.greeting", "value": "non", "note": "  "},
            {"check": "form.nope", "value": "non", "note": "x"},
        ):
            bad = await client.post(page_path, data={"csrf_token": token, **data})
            assert bad.status_code == 400, data
            assert 'role="alert"' in bad.text
        assert await _events(web, contact_id, ev.REVIEW_OVERRIDE) == []

        note = "Signé « Le service » : pas de formule d’appel"
        done = await client.post(page_path, data={"csrf_token": token, "check": "form.greeting",
                                                  "value": "non", "note": note})  # fmt: skip
        assert done.status_code == 303 and done.headers["location"].endswith("#historique")
    async with web.client() as client:
        await login(client, "consult@example.org")  # a consultant reviews too
        token = csrf_of((await client.get(page_path)).text)
        data = {"check": "greeting", "value": "oui", "note": "Relu : « Madame »"}
        again = await client.post(page_path, data={"csrf_token": token, **data})
        assert again.status_code == 303
        page = await client.get(page_path)
        history = page.text[page.text.index('id="historique"') :]
        assert "<td>Consult</td>" in history and "<td>Coord</td>" in history  # names
        assert "web:" not in history
        assert history.index("<td>Consult</td>") < history.index("<td>Coord</td>")
        assert "Signé « Le service » : pas de formule d’appel" in history.replace("&#39;", "’")

    async with web.database.session() as s:
        checks = (await s.get(Contact, contact_id)).checks  # type: ignore[union-attr]
    greeting = checks["form"]["greeting"]
    assert greeting["auto"] == before["form"]["greeting"]["auto"]  # kept beside the review
    assert greeting["override"]["value"] is True
    assert greeting["override"]["by"] == "web:consult@example.org"
    recorded = await _events(web, contact_id, ev.REVIEW_OVERRIDE)
    assert [(e.actor, e.detail) for e in recorded] == [
        ("web:coord@example.org", {"check": "form.greeting", "value": False, "note": note}),
        ("web:consult@example.org",
         {"check": "form.greeting", "value": True, "note": "Relu : « Madame »"}),
    ]  # fmt: skip


async def _auditor(web: WebWorld, contact_id: int) -> int:
    async with web.database.session() as s:
        ana = Auditor(key="ana", name="Ana Lopes", region="Auvergne", created_at=NOW,
                      telegram_user_id=4242)  # fmt: skip
        idle = Auditor(key="zoe", name="Zoé Martin", created_at=NOW)
        s.add_all([ana, idle])
        await s.flush()
        contact = await s.get(Contact, contact_id)
        assert contact is not None
        contact.auditor_id = ana.id
        campaign_id = contact.campaign_id
        # and an open call of the running campaign, planned two days ago: late
        running = await s.scalar(select(Contact).where(Contact.id == web.open_contact_id))
        assert running is not None and running.campaign_id != campaign_id
        running.auditor_id, running.status = ana.id, "assigned"
        running.channel, running.planned_at = "phone", NOW - timedelta(days=2)
        return ana.id


async def test_send_an_answer_back_and_see_the_auditors_load(web_world: WebWorld) -> None:
    phone = web_world.fx.contact_ids["phone"]
    await _auditor(web_world, phone)
    path = f"/admin/contacts/{phone}/observations"
    async with web_world.client() as client:
        await login(client, "coord@example.org")
        assert f'href="{path}"' in (await client.get(f"/admin/contacts/{phone}")).text
        page = await client.get(path)
        assert page.status_code == 200
        assert "Nombre de sonneries avant que l’on décroche" in page.text
        assert "<td>Aimable</td>" in page.text  # a choice by its label
        token = csrf_of(page.text)
        target = f"{path}/a-corriger"
        assert (await client.post(target, data={"question": "rings", "reason": "x"})
                ).status_code == 403  # fmt: skip
        for data in ({"question": "rings", "reason": " "}, {"question": "nope", "reason": "x"}):
            bad = await client.post(target, data={"csrf_token": token, **data})
            assert bad.status_code == 400 and 'role="alert"' in bad.text, data
        reason = "3 sonneries ? Vérifiez l’enregistrement."
        done = await client.post(target, data={"csrf_token": token, "question": "rings",
                                               "reason": reason})  # fmt: skip
        assert done.status_code == 303 and done.headers["location"] == path
        page = await client.get(path)
        assert "à corriger" in page.text and "en attente de l’enquêteur" in page.text
        assert "Correction demandée" in page.text and "<td>Coord</td>" in page.text

        loads = await client.get("/admin/enqueteurs")
        assert loads.status_code == 200
        ana = loads.text[loads.text.index("Ana Lopes") :].split("</tr>")[0]
        cells = re.findall(r'<td class="num">([^<]+)</td>', ana)
        assert cells == ["1", "1", "1", "0", "1"]  # open, late, done, failed, to fix
        assert "inscrit" in ana
        zoe = loads.text[loads.text.index("Zoé Martin") :].split("</tr>")[0]
        assert re.findall(r'<td class="num">([^<]+)</td>', zoe) == ["0"] * 5
        assert "pas encore inscrit" in zoe

    async with web_world.database.session() as s:
        row = await s.scalar(
            select(Observation).where(
                Observation.contact_id == phone, Observation.question_id == "rings"
            )
        )
        assert row is not None and (row.review_state, row.review_note) == ("to_fix", reason)
    [asked] = await _events(web_world, phone, ev.REVIEW_TO_FIX)
    assert (asked.actor, asked.detail) == (
        "web:coord@example.org",
        {"question": "rings", "reason": reason},
    )


async def test_reviews_are_for_the_back_office(web_world: WebWorld) -> None:
    phone = web_world.fx.contact_ids["phone"]
    email = web_world.fx.contact_ids["email0"]
    paths = (f"/admin/contacts/{email}/controles", f"/admin/contacts/{phone}/observations",
             "/admin/enqueteurs")  # fmt: skip
    async with web_world.client() as anonymous:
        for path in paths:
            answer = await anonymous.get(path)
            assert answer.status_code == 303 and "/connexion" in answer.headers["location"]
    async with web_world.client() as client:
        await login(client, "a@mairie.example")
        token = csrf_of((await client.get("/portail")).text)
        for path in paths:
            assert (await client.get(path)).status_code == 403, path
        refused = await client.post(f"/admin/contacts/{phone}/observations/a-corriger",
                                    data={"csrf_token": token, "question": "rings",
                                          "reason": "x"})  # fmt: skip
        assert refused.status_code == 403
        refused = await client.post(paths[0], data={"csrf_token": token, "check": "delai",
                                                    "value": "oui", "note": "x"})  # fmt: skip
        assert refused.status_code == 403
    assert await _events(web_world, phone, ev.REVIEW_TO_FIX) == []
    async with web_world.client() as client:
        await login(client, "coord@example.org")
        assert (await client.get("/admin/contacts/999999/controles")).status_code == 404
        assert (await client.get("/admin/contacts/999999/observations")).status_code == 404
        page = await client.get(paths[0])  # checks stored by hand: no message behind them
        assert page.status_code == 200 and "Démarche" in page.text


async def test_history_names_the_auditor_and_the_accounts(web_world: WebWorld) -> None:
    """The bot records ``auditor:ID``, the web ``web:LOGIN``: the history shows their names,
    escaped; an actor nobody answers to any more (or a program) is shown as recorded."""
    phone = web_world.fx.contact_ids["phone"]
    ana = await _auditor(web_world, phone)
    async with web_world.database.session() as s:
        found = await s.get(Auditor, ana)
        assert found is not None
        found.name = "Ana <b>Lopes</b>"
        coord = await s.scalar(select(WebAccount).where(WebAccount.login == "coord@example.org"))
        assert coord is not None
        coord.name = "Léa & <i>Coordinatrice</i>"
        detail = {"question": "rings", "previous": 3, "value": 4}
        for actor in (f"auditor:{ana}", "web:coord@example.org", "auditor:999999", "web:gone@x"):
            s.add(ContactEvent(contact_id=phone, kind=ev.REVIEW_FIXED, at=NOW, actor=actor,
                               detail=detail))  # fmt: skip
    async with web_world.client() as client:
        await login(client, "consult@example.org")
        for path in (f"/admin/contacts/{phone}/observations", f"/admin/contacts/{phone}"):
            page = (await client.get(path)).text
            assert "<td>Ana &lt;b&gt;Lopes&lt;/b&gt;</td>" in page, path
            assert "<td>Léa &amp; &lt;i&gt;Coordinatrice&lt;/i&gt;</td>" in page, path
            assert f"auditor:{ana}<" not in page and "web:coord@example.org<" not in page
            assert "<td>auditor:999999</td>" in page and "<td>web:gone@x</td>" in page, path
