"""Optional single sign-on through an OpenID Connect provider (Authlib's Starlette client).

    GET /connexion/sso          -> 302 to the provider's authorisation endpoint
                                   (state and nonce kept in the signed session cookie)
    GET /connexion/sso/retour   <- the provider sends the person back with a code:
                                   code -> tokens (the token endpoint, over HTTP from here),
                                   ID token checked (signature against the provider's JWKS,
                                   issuer, audience, expiry, nonce) by Authlib
                                   -> email claim -> an existing active account -> logged in

Nobody gets an account, nor a role, through the provider: the ID token's email (folded to
lower case) must be the login of an active account that a coordinator created or invited,
with ``email_verified`` not false, and in one of ``allowed_domains`` when they are given.
Anything else is refused with one sentence, and the session stays logged out. A successful
log-in empties and refills the session, as the password log-in does (session fixation).

The start is a link (GET), not a form: the page's CSP (``form-action 'self'``) would stop a
form's redirect to the provider. The state and nonce in the session make a forged return
fail, so a visitor cannot be logged in to someone else's account by a crafted link.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.starlette_client import OAuth
from joserfc.errors import JoseError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from storage import web_accounts
from web.config import OidcConfig, WebConfig
from web.pages import not_found, render, state
from web.views_auth import safe_next, start_session

LOG = logging.getLogger(__name__)
NAME = "sso"
NEXT_KEY = "sso_next"


def routes() -> list[BaseRoute]:
    return [Route("/connexion/sso", start), Route("/connexion/sso/retour", finish)]


def make_client(config: WebConfig) -> Any | None:
    """The provider's client, or None when single sign-on is not configured.

    The discovery document and the keys are fetched at the first log-in, not at start-up."""
    oidc = config.oidc
    if oidc is None:
        return None
    oauth = OAuth()
    return oauth.register(
        NAME,
        client_id=oidc.client_id,
        client_secret=oidc.client_secret,
        server_metadata_url=oidc.discovery_url,
        client_kwargs={"scope": oidc.scopes, "timeout": 10},
    )


def _client(request: Request) -> tuple[Any, OidcConfig]:
    st = state(request)
    if st.sso is None or st.config.oidc is None:
        not_found()
    return st.sso, st.config.oidc


def account_login(claims: dict[str, Any], oidc: OidcConfig) -> str | None:
    """The login the ID token's claims may log in as, or None (pure)."""
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email or claims.get("email_verified") is False:
        return None
    folded = email.strip().lower()
    domain = folded.rsplit("@", 1)[1]
    if oidc.allowed_domains and domain not in oidc.allowed_domains:
        return None
    return folded


async def start(request: Request) -> Response:
    client, _oidc = _client(request)
    # Authlib keeps each start's state in the session: only the latest start may come back,
    # so that repeated starts cannot grow the cookie past what a browser keeps
    for key in [k for k in request.session if k.startswith(f"_state_{NAME}_")]:
        del request.session[key]
    next_path = safe_next(request.query_params.get("suite"))
    if next_path:
        request.session[NEXT_KEY] = next_path
    back = f"{state(request).config.public_url}/connexion/sso/retour"
    response: Response = await client.authorize_redirect(request, back)
    return response


def _refused(request: Request, status_code: int = 403) -> Response:
    request.session.pop(NEXT_KEY, None)
    error = state(request).t("web.sso.refused")
    return render(request, "login.html.j2", status_code=status_code, next=None, error=error)


async def finish(request: Request) -> Response:
    client, oidc = _client(request)
    try:
        token = await client.authorize_access_token(request)
    except (AuthlibBaseError, JoseError, httpx.HTTPError) as exc:
        LOG.warning("single sign-on refused: %s", type(exc).__name__)
        # a forged or replayed return (state, nonce), a refused code, a token that does not
        # verify, or the provider out of reach: the same refusal, logged out
        return _refused(request, 400)
    claims = token.get("userinfo") or {}
    login = account_login(dict(claims), oidc)
    if login is None:
        return _refused(request)
    async with state(request).database.session() as db:
        account = await web_accounts.account_by_login(db, login)
    if account is None or not account.active:
        return _refused(request)
    next_path = safe_next(request.session.get(NEXT_KEY))
    return await start_session(request, account, next_path)
