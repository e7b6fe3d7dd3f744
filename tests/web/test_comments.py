"""The consultant's comments in the back office, over HTTP on SQLite and PostgreSQL: written
with the same storage as `temoin comment`, signed with the account, shown escaped, removed by
their author or a coordinator; collectivities and visitors refused."""

from __future__ import annotations

from storage import comments
from tests.web.conftest import A_CODE, B_CODE, WebWorld, csrf_of, login

HOSTILE = '<script>alert("x")</script>\nAccueil très aimable, réponse complète.'


async def _stored(web_world: WebWorld) -> list[comments.CommentInfo]:
    async with web_world.database.session() as s:
        return await comments.list_comments(s, campaign_id=web_world.fx.campaign.id)


async def test_comments_written_shown_and_removed(web_world: WebWorld) -> None:
    campaign = web_world.fx.campaign.id
    base = f"/admin/campagnes/{campaign}/commentaires"
    async with web_world.client() as client:
        await login(client, "consult@example.org")
        dashboard = await client.get(f"/admin/campagnes/{campaign}")
        assert f'formaction="{base}"' in dashboard.text
        page = await client.get(base, params={"insee": A_CODE})
        assert page.status_code == 200 and "Aucun commentaire" in page.text
        token = csrf_of(page.text)
        form = {"csrf_token": token, "insee": A_CODE}
        assert (
            await client.post(base, data={**form, "text": "x"} | {"csrf_token": ""})
        ).status_code == 403
        done = await client.post(base, data={**form, "channel": "email", "text": HOSTILE})
        assert done.status_code == 303 and done.headers["location"] == f"{base}?insee={A_CODE}"
        shown = await client.get(done.headers["location"])
        assert "<script>alert" not in shown.text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in shown.text
        assert '<th scope="row">Courriel</th>' in shown.text and "Consult" in shown.text
        for data, status, message in (
            ({"text": "   "}, 400, "Le commentaire est vide."),
            ({"text": "x" * (comments.MAX_TEXT + 1)}, 400, "Le commentaire compte plus de"),
            ({"text": "ok", "channel": "fax"}, 404, None),
            ({"text": "ok", "insee": "00000"}, 404, None),
        ):  # fmt: skip
            answer = await client.post(base, data={**form, **data})
            assert answer.status_code == status, data
            if message:
                assert message in answer.text
    stored = await _stored(web_world)
    assert [(c.channel, c.text, c.author, c.collectivity_code) for c in stored] == [
        ("email", HOSTILE.strip(), "Consult", A_CODE)
    ]
    consultants = stored[0]

    async with web_world.client() as client:
        await login(client, "coord@example.org")
        page = await client.get(base, params={"insee": A_CODE})
        token = csrf_of(page.text)
        await client.post(
            base, data={"csrf_token": token, "insee": A_CODE, "text": "Bilan global."}
        )
        mine = next(c for c in await _stored(web_world) if c.author == "Coord")
        assert mine.channel is None and mine.web_account_id is not None
    async with web_world.client() as client:
        await login(client, "consult@example.org")
        token = csrf_of((await client.get(base, params={"insee": A_CODE})).text)
        refused = await client.post(
            f"{base}/{mine.id}/supprimer", data={"csrf_token": token, "insee": A_CODE}
        )
        assert refused.status_code == 403 and "Seuls son auteur et la coordination" in refused.text
        elsewhere = await client.post(
            f"{base}/{consultants.id}/supprimer", data={"csrf_token": token, "insee": B_CODE}
        )
        assert elsewhere.status_code == 404  # the comment is not on B's barometer
        own = await client.post(
            f"{base}/{consultants.id}/supprimer", data={"csrf_token": token, "insee": A_CODE}
        )
        assert own.status_code == 303
    assert [c.id for c in await _stored(web_world)] == [mine.id]
    async with web_world.client() as client:
        await login(client, "coord@example.org")
        token = csrf_of((await client.get(base, params={"insee": A_CODE})).text)
        gone = await client.post(
            f"{base}/{mine.id}/supprimer", data={"csrf_token": token, "insee": A_CODE}
        )
        assert gone.status_code == 303 and await _stored(web_world) == []


async def test_comments_refused_outside_the_back_office(web_world: WebWorld) -> None:
    campaign = web_world.fx.campaign.id
    base = f"/admin/campagnes/{campaign}/commentaires"
    async with web_world.client() as client:
        assert (await client.get(base, params={"insee": A_CODE})).status_code == 303
        await login(client, "a@mairie.example")
        assert (await client.get(base, params={"insee": A_CODE})).status_code == 403
        token = csrf_of((await client.get("/portail")).text)
        posted = await client.post(base, data={"csrf_token": token, "insee": A_CODE, "text": "x"})
        assert posted.status_code == 403
    async with web_world.client() as client:
        await login(client, "consult@example.org")
        for query in ({"insee": B_CODE}, {"insee": ""}, {}):
            wrong = await client.get(
                f"/admin/campagnes/{web_world.open_campaign_id}/commentaires", params=query
            )
            assert wrong.status_code == 404, query  # B took no part in the open campaign
        assert (
            await client.get("/admin/campagnes/999999/commentaires?insee=63903")
        ).status_code == 404
    assert await _stored(web_world) == []
