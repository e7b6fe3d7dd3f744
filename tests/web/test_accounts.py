"""Accounts in the back office, over HTTP on SQLite and PostgreSQL: a coordinator creates,
invites, re-roles and disables; everyone else is refused; every form needs its CSRF token."""

from __future__ import annotations

import re

import httpx

from storage import web_accounts
from tests.web.conftest import A_CODE, B_CODE, NOW, PASSWORD, WebWorld, csrf_of, login

LINK = re.compile(r'id="lien" type="text" readonly value="(http[^"]+/invitation/([^"]+))"')
NEW_PASSWORD = "un mot de passe assez long"


async def _account(web_world: WebWorld, login_name: str) -> web_accounts.AccountInfo:
    async with web_world.database.session() as s:
        found = await web_accounts.account_by_login(s, login_name)
    assert found is not None
    return found


async def _form(client: httpx.AsyncClient) -> str:
    page = await client.get("/admin/comptes")
    assert page.status_code == 200
    return csrf_of(page.text)


async def _accept(web_world: WebWorld, path: str, password: str = NEW_PASSWORD) -> int:
    async with web_world.client("127.0.0.9") as visitor:
        page = await visitor.get(path)
        if page.status_code != 200:
            return page.status_code
        done = await visitor.post(
            path, data={"csrf_token": csrf_of(page.text), "password": password, "confirm": password}
        )
        return done.status_code


async def test_only_coordinators_manage_accounts(web_world: WebWorld) -> None:
    async with web_world.client() as client:
        assert (await client.get("/admin/comptes")).status_code == 303  # to the log-in page
    for who in ("consult@example.org", "a@mairie.example"):
        async with web_world.client() as client:
            await login(client, who)
            assert (await client.get("/admin/comptes")).status_code == 403
            token = csrf_of((await client.get("/connexion", follow_redirects=True)).text)
            target = await _account(web_world, "b@mairie.example")
            for path, data in (
                ("/admin/comptes", {"login": "x@example.org", "name": "X", "role": "coordinator"}),
                (f"/admin/comptes/{target.id}/desactiver", {}),
                (f"/admin/comptes/{target.id}/role", {"role": "coordinator"}),
                (f"/admin/comptes/{target.id}/invitation", {}),
            ):
                answer = await client.post(path, data={"csrf_token": token, **data})
                assert answer.status_code == 403, (who, path)
    async with web_world.database.session() as s:
        assert await web_accounts.account_by_login(s, "x@example.org") is None
        assert (await web_accounts.account_by_login(s, "b@mairie.example")).role == "collectivity"  # type: ignore[union-attr]
    async with web_world.client() as client:
        await login(client, "coord@example.org")
        page = await client.get("/admin")
        assert 'href="/admin/comptes"' in page.text
    async with web_world.client() as client:
        await login(client, "consult@example.org")
        assert 'href="/admin/comptes"' not in (await client.get("/admin")).text


async def test_create_an_account_and_its_link_is_shown_once(web_world: WebWorld) -> None:
    async with web_world.client() as client:
        await login(client, "coord@example.org")
        token = await _form(client)
        no_csrf = await client.post(
            "/admin/comptes", data={"login": "c@mairie.example", "name": "C", "role": "consultant"}
        )
        assert no_csrf.status_code == 403
        made = await client.post(
            "/admin/comptes",
            data={"csrf_token": token, "login": "  Mairie@Chanonat.Example ",
                  "name": "Service accueil", "role": "collectivity", "collectivity": A_CODE},
        )  # fmt: skip
        assert made.status_code == 200
        assert "Compte mairie@chanonat.example créé." in made.text
        found = LINK.search(made.text)
        assert found, "the invitation link is shown"
        link, secret = found.groups()
        assert link.startswith(web_world.config.public_url)
        listing = await client.get("/admin/comptes")
        assert secret not in listing.text  # shown once, stored only as its digest
        assert "mairie@chanonat.example" in listing.text and "invité" in listing.text

        for data, message in (
            ({"login": "mairie@chanonat.example", "name": "Y", "role": "consultant"},
             "Un compte a déjà l’identifiant mairie@chanonat.example."),
            ({"login": "z@x.example", "name": "Z", "role": "collectivity", "collectivity": "00000"},
             "Aucune collectivité n’a le code INSEE 00000."),
            ({"login": "z@x.example", "name": "Z", "role": "collectivity"},
             "Un compte de collectivité a besoin du code INSEE de sa collectivité."),
            ({"login": "z@x.example", "name": "Z", "role": "root"}, "Rôle inconnu."),
            ({"login": "z z@x.example", "name": "Z", "role": "consultant"},
             "Un identifiant ne contient pas d’espace"),
            ({"login": "z@x.example", "name": " ", "role": "consultant"},
             "Indiquez le nom de la personne."),
        ):  # fmt: skip
            refused = await client.post("/admin/comptes", data={"csrf_token": token, **data})
            assert refused.status_code == 400 and message in refused.text, data
            assert not LINK.search(refused.text)
    async with web_world.database.session() as s:
        assert await web_accounts.account_by_login(s, "z@x.example") is None

    path = link.removeprefix(web_world.config.public_url)
    assert await _accept(web_world, path) == 303
    assert await _accept(web_world, path) == 404  # single use
    async with web_world.client() as client:
        done = await login(client, "mairie@chanonat.example", NEW_PASSWORD)
        assert done.headers["location"] == "/portail"
        assert "Chanonat" in (await client.get("/portail")).text


async def test_a_new_link_replaces_the_old_one(web_world: WebWorld) -> None:
    target = await _account(web_world, "consult@example.org")
    async with web_world.client() as client:
        await login(client, "coord@example.org")
        token = await _form(client)
        links = []
        for _ in range(2):
            answer = await client.post(
                f"/admin/comptes/{target.id}/invitation", data={"csrf_token": token}
            )
            assert answer.status_code == 200
            assert "les liens précédents ne fonctionnent plus" in answer.text
            found = LINK.search(answer.text)
            assert found
            links.append(found.group(1).removeprefix(web_world.config.public_url))
        assert links[0] != links[1]
        for forged in ("999999", "0", "abc"):
            answer = await client.post(
                f"/admin/comptes/{forged}/invitation", data={"csrf_token": token}
            )
            assert answer.status_code == 404, forged
    assert await _accept(web_world, links[0]) == 404
    assert await _accept(web_world, links[1]) == 303
    async with web_world.client() as client:
        assert (await login(client, "consult@example.org", PASSWORD)).status_code == 401
        assert (await login(client, "consult@example.org", NEW_PASSWORD)).status_code == 303


async def test_role_change_and_disable_end_the_sessions(web_world: WebWorld) -> None:
    consultant = await _account(web_world, "consult@example.org")
    b_account = await _account(web_world, "b@mairie.example")
    me = await _account(web_world, "coord@example.org")
    async with web_world.client() as theirs, web_world.client() as client:
        await login(theirs, "consult@example.org")
        assert (await theirs.get("/admin")).status_code == 200
        await login(client, "coord@example.org")
        token = await _form(client)
        promoted = await client.post(
            f"/admin/comptes/{consultant.id}/role",
            data={"csrf_token": token, "role": "coordinator", "collectivity": "ignored"},
        )
        assert promoted.status_code == 200
        assert "a désormais le rôle «\u202fcoordination\u202f»" in promoted.text
        assert (await theirs.get("/admin")).status_code == 303  # logged out: log in again
        await login(theirs, "consult@example.org")
        assert (await theirs.get("/admin/comptes")).status_code == 200  # now a coordinator

        wrong = await client.post(
            f"/admin/comptes/{b_account.id}/role",
            data={"csrf_token": token, "role": "collectivity", "collectivity": "99999"},
        )
        assert wrong.status_code == 400 and "99999" in wrong.text
        moved = await client.post(
            f"/admin/comptes/{b_account.id}/role",
            data={"csrf_token": token, "role": "collectivity", "collectivity": A_CODE},
        )
        assert moved.status_code == 200
        assert (await _account(web_world, "b@mairie.example")).collectivity_code == A_CODE
        assert B_CODE != A_CODE

        for path in ("role", "desactiver"):
            own = await client.post(
                f"/admin/comptes/{me.id}/{path}", data={"csrf_token": token, "role": "consultant"}
            )
            assert own.status_code == 409 and "votre propre compte" in own.text
        assert (await _account(web_world, "coord@example.org")).role == "coordinator"

        gone = await client.post(
            f"/admin/comptes/{consultant.id}/desactiver", data={"csrf_token": token}
        )
        assert gone.status_code == 303
        assert (await theirs.get("/admin")).status_code == 303
        assert not (await _account(web_world, "consult@example.org")).active
        again = await client.post(
            f"/admin/comptes/{consultant.id}/desactiver", data={"csrf_token": token}
        )
        assert again.status_code == 404  # disabled already: nothing to act on
    async with web_world.client() as client:
        assert (await login(client, "consult@example.org")).status_code == 401


async def test_accounts_searched_and_by_pages(web_world: WebWorld) -> None:
    async with web_world.database.session() as s:
        for i in range(103):
            await web_accounts.add_account(
                s, login=f"agent{i:03d}@example.org", name=f"Agent {i:03d}",
                role="consultant", collectivity_code=None, now=NOW,
            )  # fmt: skip
    async with web_world.client() as client:
        await login(client, "coord@example.org")
        first = await client.get("/admin/comptes")
        rows = re.findall(r'<th scope="row">([^<]+)</th>', first.text)
        assert len(rows) == 100 and "Comptes (107) – page 1 sur 2" in first.text
        assert 'href="/admin/comptes?q=&amp;page=2"' in first.text
        second = await client.get("/admin/comptes", params={"page": "2"})
        rest = re.findall(r'<th scope="row">([^<]+)</th>', second.text)
        assert len(rest) == 7 and not set(rows) & set(rest)
        found = await client.get("/admin/comptes", params={"q": "  CHANONAT "})
        assert re.findall(r'<th scope="row">([^<]+)</th>', found.text) == ["a@mairie.example"]
        assert 'value="chanonat"' in found.text
        none = await client.get("/admin/comptes", params={"q": "<b>personne</b>"})
        assert "Aucun compte ne correspond." in none.text and "<b>personne" not in none.text
        for wrong in ("0", "-1", "x", "9999999"):
            assert (await client.get("/admin/comptes", params={"page": wrong})).status_code == 200
