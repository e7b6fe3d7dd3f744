"""Bulk triage over HTTP on SQLite and PostgreSQL: a coordinator ignores or reclassifies
several held messages at once; a consultant cannot; a message decided meanwhile is skipped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from scenarios.clock import FixedClock
from storage.db import Database
from storage.models import Blob, Message
from tests.web.conftest import WebWorld, add_account, csrf_of, login, make_config
from web.app import create_app

AT = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


async def _queue(database: Database, n: int) -> list[int]:
    async with database.session() as s:
        s.add(Blob(sha256="0" * 64, size=1, data=b"x", created_at=AT))
        await s.flush()
        rows = [
            Message(direction="in", raw_sha256="0" * 64, subject=f"Sujet {i:02d}",
                    internal_date=AT + timedelta(minutes=i), triage_state="pending",
                    classification="answer", created_at=AT)
            for i in range(n)
        ]  # fmt: skip
        s.add_all(rows)
        await s.flush()
        return [m.id for m in rows]


async def _states(database: Database) -> dict[int, tuple[str | None, str | None, dict | None]]:  # type: ignore[type-arg]
    async with database.session() as s:
        found = await s.execute(
            select(Message.id, Message.triage_state, Message.classification, Message.evidence)
        )
        return {i: (state, kind, evidence) for i, state, kind, evidence in found.all()}


async def test_bulk_ignore_and_classify(database: Database) -> None:
    ids = await _queue(database, 6)
    await add_account(database, "coord@example.org", "coordinator")
    await add_account(database, "consult@example.org", "consultant")
    app = create_app(database, make_config(), FixedClock(AT + timedelta(days=1)))
    web = WebWorld(app, database, FixedClock(AT), make_config(), None, 0, 0)  # type: ignore[arg-type]

    async with web.client() as client:
        await login(client, "consult@example.org")
        page = await client.get("/admin/tri")
        assert 'action="/admin/tri/lot"' not in page.text and 'name="message"' not in page.text
        refused = await client.post(
            "/admin/tri/lot",
            data={"csrf_token": csrf_of(page.text), "message": [str(ids[0])], "action": "ignore"},
        )
        assert refused.status_code == 403

    async with web.client() as client:
        await login(client, "coord@example.org")
        page = await client.get("/admin/tri")
        assert page.text.count('name="message"') == 6
        token = csrf_of(page.text)
        no_csrf = await client.post(
            "/admin/tri/lot", data={"message": [str(ids[0])], "action": "ignore"}
        )
        assert no_csrf.status_code == 403
        assert all(v[0] == "pending" for v in (await _states(database)).values())

        picked = [str(ids[0]), str(ids[1]), str(ids[1]), str(ids[2]), "999999", "-3", "x"]
        done = await client.post(
            "/admin/tri/lot", data={"csrf_token": token, "message": picked, "action": "ignore"}
        )
        assert done.status_code == 303
        after = await client.get(done.headers["location"])
        assert "Messages ignorés\u202f: 3." in after.text
        assert (
            "Écartés, car déjà traités entre-temps\u202f: 1 (aucun message n°\u00a0999999)."
            in after.text
        )
        assert "Messages à trier (3)" in after.text
        states = await _states(database)
        for i in ids[:3]:
            assert states[i][0] == "ignored"
            assert states[i][2]["triage"]["by"] == "web:coord@example.org"  # type: ignore[index]
        assert [states[i][0] for i in ids[3:]] == ["pending"] * 3

        classified = await client.post(
            "/admin/tri/lot",
            data={"csrf_token": token, "message": [str(ids[3]), str(ids[4]), str(ids[0])],
                  "action": "classify", "kind": "out_of_office"},
        )  # fmt: skip
        after = await client.get(classified.headers["location"])
        assert "Messages reclassés\u202f: 2." in after.text
        assert (
            f"entre-temps\u202f: 1 (le message n°\u00a0{ids[0]} n’est pas en attente de tri)."
            in after.text
        )
        states = await _states(database)
        for i in ids[3:5]:
            assert states[i][:2] == ("pending", "out_of_office")
            assert states[i][2]["classified"]["was"] == "answer"  # type: ignore[index]
        assert states[ids[5]][:2] == ("pending", "answer")
        assert states[ids[0]][:2] == ("ignored", "answer")  # decided already: unchanged

        before = await _states(database)
        for data, message in (
            ({"message": [str(ids[5])], "action": "classify", "kind": "nonsense"},
             "Classe inconnue\u202f: rien n’a changé."),
            ({"message": [str(ids[5])], "action": "drop"},
             "Décision inconnue\u202f: rien n’a changé."),
            ({"action": "ignore"}, "Aucun message coché\u202f: rien n’a changé."),
        ):  # fmt: skip
            answer = await client.post("/admin/tri/lot", data={"csrf_token": token, **data})
            assert answer.status_code == 303
            assert message in (await client.get(answer.headers["location"])).text
        assert await _states(database) == before
        forged = await client.get("/admin/tri", params={"lot": "ignore", "faits": "<b>x</b>"})
        assert forged.status_code == 200 and "<b>x</b>" not in forged.text


async def test_bulk_skipped_said_in_english(database: Database) -> None:
    ids = await _queue(database, 2)
    await add_account(database, "coord@example.org", "coordinator")
    config = make_config(locale="en")
    app = create_app(database, config, FixedClock(AT + timedelta(days=1)))
    web = WebWorld(app, database, FixedClock(AT), config, None, 0, 0)  # type: ignore[arg-type]
    async with web.client() as client:
        await login(client, "coord@example.org")
        token = csrf_of((await client.get("/admin/tri")).text)
        data = {"csrf_token": token, "message": [str(ids[0])], "action": "ignore"}
        assert (await client.post("/admin/tri/lot", data=data)).status_code == 303
        again = await client.post("/admin/tri/lot", data=data)
        after = (await client.get(again.headers["location"])).text
        assert f"Skipped, as decided meanwhile: 1 (message {ids[0]} is not pending" in after
        page = await client.get(f"/admin/tri/{ids[0]}")
        refused = await client.post(
            f"/admin/tri/{ids[0]}/ignorer", data={"csrf_token": csrf_of(page.text)}
        )
        assert refused.status_code == 409
        assert f"Decision refused: message {ids[0]} is not pending in triage." in refused.text
