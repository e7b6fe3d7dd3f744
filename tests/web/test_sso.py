"""Single sign-on against a real OpenID Connect provider on loopback, on SQLite and PostgreSQL.

The provider is ``oidc-provider-mock`` (Flask and Authlib's server components, not our code),
served over real HTTP in a thread: the app fetches its discovery document, exchanges the code
at its token endpoint and checks the signed ID token against its keys, as with ProConnect.
The test plays the person's browser: our app's redirect, the provider's consent form, the way
back. Only accounts a coordinator created log in; nobody gets one through the provider.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from oidc_provider_mock import User, run_server_in_thread
from pydantic import ValidationError

from storage import web_accounts
from temoin.settings import OidcSettings, Settings
from temoin.web import web_config
from tests.web.conftest import NOW, WebWorld, add_account, make_config
from web.app import create_app
from web.config import OidcConfig

USERS = [
    User(sub="coord", claims={"email": "Coord@Example.org", "email_verified": True}),
    User(sub="stranger", claims={"email": "nobody@example.org", "email_verified": True}),
    User(sub="unverified", claims={"email": "consult@example.org", "email_verified": False}),
    User(sub="mairie", claims={"email": "a@mairie.example", "email_verified": True}),
    User(sub="gone", claims={"email": "old@example.org", "email_verified": True}),
    User(sub="invited", claims={"email": "new@example.org"}),
]
REFUSED = "Connexion refusée\u202f: aucun compte actif ne correspond à cette identité."


@pytest.fixture
def provider() -> Iterator[str]:
    with run_server_in_thread(user_claims=USERS, require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"


def _app(web_world: WebWorld, provider: str, **kw: object) -> WebWorld:
    oidc = OidcConfig(
        discovery_url=f"{provider}/.well-known/openid-configuration",
        client_id="temoin-test",
        client_secret="client-secret-of-the-test",
        label="ProConnect",
        **kw,  # type: ignore[arg-type]
    )
    config = make_config(oidc=oidc)
    app = create_app(web_world.database, config, web_world.clock)
    return WebWorld(app, web_world.database, web_world.clock, config, web_world.fx,
                    web_world.open_campaign_id, web_world.open_contact_id)  # fmt: skip


async def _sso(
    world: WebWorld, client: httpx.AsyncClient, provider: str, sub: str
) -> httpx.Response:
    """Our redirect -> the provider's consent -> back to us; our answer to the return."""
    begin = await client.get("/connexion/sso", params={"suite": "/admin/tri"})
    assert begin.status_code == 302
    target = begin.headers["location"]
    assert target.startswith(f"{provider}/oauth2/authorize?")
    assert "nonce=" in target and "state=" in target
    async with httpx.AsyncClient() as browser:
        consent = await browser.post(target, data={"sub": sub})
    assert consent.status_code == 302, consent.text
    back = consent.headers["location"]
    public = world.config.public_url
    assert back.startswith(f"{public}/connexion/sso/retour?code=")
    return await client.get(back.removeprefix(public))


async def test_single_sign_on_maps_to_existing_accounts_only(
    web_world: WebWorld, provider: str
) -> None:
    old = await add_account(web_world.database, "old@example.org", "coordinator")
    async with web_world.database.session() as s:
        await web_accounts.disable_account(s, old.login, NOW)
        invited = await web_accounts.add_account(
            s, login="new@example.org", name="Nouveau", role="consultant",
            collectivity_code=None, now=NOW,
        )  # fmt: skip
        assert not invited.has_password
    world = _app(web_world, provider, allowed_domains=("example.org",))

    async with world.client() as client:
        page = await client.get("/connexion")
        assert 'href="/connexion/sso"' in page.text and "Se connecter avec ProConnect" in page.text
        before = client.cookies.get("temoin_session")
        done = await _sso(world, client, provider, "coord")
        assert done.status_code == 303 and done.headers["location"] == "/admin/tri"
        assert client.cookies.get("temoin_session") != before  # a new session (fixation)
        assert (await client.get("/admin/comptes")).status_code == 200  # the coordinator's
    async with world.database.session() as s:
        coord = await web_accounts.account_by_login(s, "coord@example.org")
        assert coord is not None and coord.last_login_at == NOW

    # an invited account (no password yet) may use the provider: a coordinator made it
    async with world.client() as client:
        done = await _sso(world, client, provider, "invited")
        assert done.status_code == 303
        assert (await client.get("/admin")).status_code == 200

    # no account, email not verified, a domain not allowed, a disabled account: refused
    for sub in ("stranger", "unverified", "mairie", "gone"):
        async with world.client() as client:
            answer = await _sso(world, client, provider, sub)
            assert answer.status_code == 403, sub
            assert REFUSED in answer.text
            assert (await client.get("/admin")).status_code == 303  # still logged out
    async with world.database.session() as s:
        assert await web_accounts.account_by_login(s, "nobody@example.org") is None


async def test_forged_or_replayed_returns_are_refused(web_world: WebWorld, provider: str) -> None:
    world = _app(web_world, provider)
    async with world.client() as client:
        begin = await client.get("/connexion/sso")
        async with httpx.AsyncClient() as browser:
            consent = await browser.post(begin.headers["location"], data={"sub": "coord"})
        back = consent.headers["location"].removeprefix(world.config.public_url)
        state = back.split("state=", 1)[1].split("&", 1)[0]
        code = back.split("code=", 1)[1].split("&", 1)[0]
        async with world.client() as other:  # another browser: not the session that began
            stolen = await other.get(back)
            assert stolen.status_code == 400 and REFUSED in stolen.text
            assert (await other.get("/admin")).status_code == 303
        forged = await client.get(f"/connexion/sso/retour?code=forged&state={state}")
        assert forged.status_code == 400  # the provider refuses the code
        replay = await client.get(f"/connexion/sso/retour?code={code}&state={state}")
        assert replay.status_code == 400  # the state was spent by the forged try
        # many starts in one browser: the cookie keeps the latest state only
        for _ in range(30):
            assert (await client.get("/connexion/sso")).status_code == 302
        assert len(client.cookies.get("temoin_session") or "") < 2000
        denied = await client.get("/connexion/sso/retour?error=access_denied")
        assert denied.status_code == 400
        assert (await client.get("/admin")).status_code == 303


async def test_no_single_sign_on_unless_configured(web_world: WebWorld) -> None:
    async with web_world.client() as client:
        page = await client.get("/connexion")
        assert "/connexion/sso" not in page.text
        assert (await client.get("/connexion/sso")).status_code == 404
        assert (await client.get("/connexion/sso/retour?code=x&state=y")).status_code == 404


def test_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    base = {"client_id": "temoin", "client_secret": "env:TEMOIN_TEST_OIDC_SECRET"}
    for url in ("http://provider.example/.well-known/openid-configuration", "ftp://x", "x"):
        with pytest.raises(ValidationError, match="https://"):
            OidcSettings(discovery_url=url, **base)
    with pytest.raises(ValidationError):
        OidcSettings(discovery_url="https://p.example/", client_id="t", client_secret="plain")
    monkeypatch.setenv("TEMOIN_TEST_OIDC_SECRET", "from-the-environment")
    monkeypatch.setenv("TEMOIN_TEST_WEB_KEY", "k" * 40)
    settings = Settings(
        web={"secret_key": "env:TEMOIN_TEST_WEB_KEY",
             "oidc": {"discovery_url": "https://auth.example/.well-known/openid-configuration",
                      "allowed_domains": ["@Example.ORG", " "], **base}},
    )  # type: ignore[arg-type]  # fmt: skip
    oidc = web_config(settings).oidc
    assert oidc is not None
    assert oidc.client_secret == "from-the-environment"
    assert oidc.allowed_domains == ("example.org",)
