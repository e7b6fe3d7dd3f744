"""Log-in, sessions, CSRF, the rate limit, invitations and role checks, over HTTP."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from starlette.routing import Route

from storage import web_accounts
from tests.web.conftest import NOW, PASSWORD, WebWorld, csrf_of, login, make_config
from web import auth
from web.app import create_app


async def test_every_page_carries_the_security_headers(web_world: WebWorld) -> None:
    async with web_world.client() as client:
        page = await client.get("/connexion")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"
    assert '<script src="/static/htmx.min.js"' in page.text
    assert "<script>" not in page.text and " on" + "click=" not in page.text
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    async with web_world.client() as client:
        static = await client.get("/static/htmx.min.js")
    assert static.status_code == 200 and "htmx" in static.text[:2000]


async def test_secure_cookies_when_configured(web_world: WebWorld) -> None:
    app = create_app(web_world.database, make_config(secure_cookies=True), web_world.clock)
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        page = await client.get("/connexion")
    assert "secure" in page.headers["set-cookie"].lower()


async def test_roles_reach_their_own_pages_only(web_world: WebWorld) -> None:
    async with web_world.client() as client:
        anonymous = await client.get("/admin")
        assert anonymous.status_code == 303
        assert anonymous.headers["location"] == "/connexion?suite=/admin"
        assert (await client.get("/portail")).status_code == 303
        deep = await client.get("/admin/tri", params={"a": "1", "b": "2"})
        assert deep.headers["location"] == "/connexion?suite=/admin/tri%3Fa%3D1%26b%3D2"
        form = await client.get(deep.headers["location"])
        back = await client.post(
            "/connexion",
            data={"csrf_token": csrf_of(form.text), "login": "consult@example.org",
                  "password": PASSWORD, "suite": "/admin/tri?a=1&b=2"},
        )  # fmt: skip
        assert 'name="suite" value="/admin/tri?a=1&amp;b=2"' in form.text
        assert back.headers["location"] == "/admin/tri?a=1&b=2"
        client.cookies.clear()

        done = await login(client, "coord@example.org")
        assert done.status_code == 303 and done.headers["location"] == "/admin"
        admin = await client.get("/admin")
        assert admin.status_code == 200 and "Baromètre 2026" in admin.text
        assert (await client.get("/portail")).status_code == 403

    async with web_world.client() as client:
        await login(client, "consult@example.org")
        assert (await client.get("/admin")).status_code == 200
        token = csrf_of((await client.get("/admin")).text)
        refused = await client.post(
            "/admin/tri/1/ignorer", data={"csrf_token": token}
        )  # consultants read, coordinators decide
        assert refused.status_code == 403

    async with web_world.client() as client:
        done = await login(client, "a@mairie.example")
        assert done.headers["location"] == "/portail"
        assert (await client.get("/portail")).status_code == 200
        for path in ("/admin", "/admin/tri", f"/admin/campagnes/{web_world.fx.campaign.id}",
                     f"/admin/contacts/{web_world.open_contact_id}", "/admin/tri/1"):  # fmt: skip
            assert (await client.get(path)).status_code == 403, path


async def test_wrong_password_and_unknown_login_get_the_same_answer(web_world: WebWorld) -> None:
    async with web_world.client() as client:
        wrong = await login(client, "coord@example.org", "not the password")
        unknown = await login(client, "nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "Identifiant ou mot de passe incorrect." in wrong.text
    assert wrong.text.replace("coord@example.org", "X") == unknown.text.replace(
        "nobody@example.org", "X"
    ).replace(csrf_of(unknown.text), csrf_of(wrong.text))


async def test_csrf_refused_without_the_token(web_world: WebWorld) -> None:
    async with web_world.client() as client:
        await client.get("/connexion")
        no_token = await client.post(
            "/connexion", data={"login": "coord@example.org", "password": PASSWORD}
        )
        assert no_token.status_code == 403
        forged = await client.post(
            "/connexion",
            data={"csrf_token": "forged", "login": "coord@example.org", "password": PASSWORD},
        )
        assert forged.status_code == 403
        assert (await client.get("/admin")).status_code == 303  # not logged in

        assert (await login(client, "coord@example.org")).status_code == 303
        # every POST route, with ids that exist or not: 403 before anything else
        posts = [
            r for r in web_world.app.routes if isinstance(r, Route) and "POST" in (r.methods or ())
        ]
        assert len(posts) >= 5
        for route in posts:
            path = re.sub(r"\{\w+:int\}", "1", route.path).replace("{token:str}", "x")
            answer = await client.post(path, data={"contact": "1"})
            assert answer.status_code == 403, path
            header_only = await client.post(path, headers={"x-csrf-token": "forged"})
            assert header_only.status_code == 403, path
        assert (await client.get("/admin")).status_code == 200  # still logged in


async def test_login_rate_limit_per_login_and_per_address(web_world: WebWorld) -> None:
    async with web_world.client() as client:
        for _ in range(3):
            assert (await login(client, "coord@example.org", "guess")).status_code == 401
        blocked = await login(client, "coord@example.org")  # the right password, too late
        assert blocked.status_code == 429
        assert "Trop de tentatives de connexion\u202f:" in blocked.text
    async with web_world.client("127.0.0.9") as other:
        # the limit is per login: another address is refused too
        assert (await login(other, "coord@example.org")).status_code == 429
        # another login from that address is not
        assert (await login(other, "consult@example.org")).status_code == 303
    web_world.clock.advance(timedelta(seconds=601))
    async with web_world.client() as client:
        assert (await login(client, "coord@example.org")).status_code == 303

    # one address trying many logins
    async with web_world.client("127.0.0.7") as spray:
        for n in range(8):
            assert (await login(spray, f"user{n}@example.org", "guess")).status_code == 401
        assert (await login(spray, "consult@example.org")).status_code == 429


async def test_session_fixation_and_disabled_accounts(web_world: WebWorld) -> None:
    async with web_world.client() as client:
        await client.get("/connexion")
        before = client.cookies.get("temoin_session")
        assert before
        await login(client, "coord@example.org")
        after = client.cookies.get("temoin_session")
        assert after and after != before
    async with web_world.client() as planted:  # the cookie from before the log-in
        planted.cookies.set("temoin_session", before)
        assert (await planted.get("/admin")).status_code == 303
    async with web_world.client() as stolen:  # the cookie from after: works until disabled
        stolen.cookies.set("temoin_session", after)
        assert (await stolen.get("/admin")).status_code == 200
        async with web_world.database.session() as s:
            assert await web_accounts.disable_account(s, "coord@example.org", NOW)
        assert (await stolen.get("/admin")).status_code == 303
    async with web_world.client() as client:
        assert (await login(client, "coord@example.org")).status_code == 401


async def test_sessions_expire(web_world: WebWorld) -> None:
    async with web_world.client() as client:
        await login(client, "coord@example.org")
        assert (await client.get("/admin")).status_code == 200
        web_world.clock.advance(timedelta(seconds=web_world.config.session_seconds + 1))
        assert (await client.get("/admin")).status_code == 303


async def test_logout_ends_the_session(web_world: WebWorld) -> None:
    async with web_world.client() as client:
        await login(client, "coord@example.org")
        page = await client.get("/admin")
        out = await client.post("/deconnexion", data={"csrf_token": csrf_of(page.text)})
        assert out.status_code == 303
        assert (await client.get("/admin")).status_code == 303


async def test_open_redirects_refused(web_world: WebWorld) -> None:
    async with web_world.client() as client:
        page = await client.get("/connexion", params={"suite": "//evil.example/x"})
        assert "evil.example" not in page.text
        token = csrf_of(page.text)
        done = await client.post(
            "/connexion",
            data={
                "csrf_token": token,
                "login": "coord@example.org",
                "password": PASSWORD,
                "suite": "https://evil.example/",
            },
        )
        assert done.headers["location"] == "/admin"


async def _invite(web_world: WebWorld, login_name: str, hours: float = 72) -> str:
    token = auth.new_token()
    async with web_world.database.session() as s:
        account = await web_accounts.add_account(
            s, login=login_name, name="Nadia Roux", role="consultant", collectivity_code=None,
            now=NOW,
        )  # fmt: skip
        await web_accounts.add_invite(
            s, account.id, auth.token_hash(token), NOW, NOW + timedelta(hours=hours)
        )
    return token


async def test_invitation_is_single_use(web_world: WebWorld) -> None:
    token = await _invite(web_world, "nadia@example.org")
    new_password = "un mot de passe assez long"
    async with web_world.client() as client:
        page = await client.get(f"/invitation/{token}")
        assert page.status_code == 200 and "nadia@example.org" in page.text
        csrf = csrf_of(page.text)
        mismatch = await client.post(
            f"/invitation/{token}",
            data={"csrf_token": csrf, "password": new_password, "confirm": "autre chose"},
        )
        assert mismatch.status_code == 400
        short = await client.post(
            f"/invitation/{token}",
            data={"csrf_token": csrf, "password": "court", "confirm": "court"},
        )
        assert short.status_code == 400
        done = await client.post(
            f"/invitation/{token}",
            data={"csrf_token": csrf, "password": new_password, "confirm": new_password},
        )
        assert done.status_code == 303
        csrf = csrf_of((await client.get("/connexion")).text)  # the session was renewed
        again = await client.post(
            f"/invitation/{token}",
            data={
                "csrf_token": csrf,
                "password": "encore un autre mot",
                "confirm": "encore un autre mot",
            },
        )
        assert again.status_code == 404
        assert (await client.get(f"/invitation/{token}")).status_code == 404
        assert (await login(client, "nadia@example.org", new_password)).status_code == 303
    async with web_world.database.session() as s:
        account = await web_accounts.account_by_login(s, "nadia@example.org")
        assert account is not None
        stored = await web_accounts.password_hash(s, account.id)
    assert stored is not None and stored.startswith("$argon2id$") and new_password not in stored


async def test_expired_invitation(web_world: WebWorld) -> None:
    token = await _invite(web_world, "late@example.org", hours=1)
    web_world.clock.advance(timedelta(hours=1, seconds=1))
    async with web_world.client() as client:
        page = await client.get(f"/invitation/{token}")
    assert page.status_code == 404 and "n’est plus valable" in page.text


@pytest.mark.parametrize(
    "path", ["/admin/contacts/99999999999", "/admin/campagnes/0", "/portail/campagnes/-1"]
)
async def test_out_of_range_ids_are_not_found(web_world: WebWorld, path: str) -> None:
    async with web_world.client() as client:
        await login(client, "coord@example.org")
        answer = await client.get(path)
    assert answer.status_code in (403, 404)
