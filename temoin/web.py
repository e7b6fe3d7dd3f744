"""``temoin web``'s process: the web app built from the settings, served by uvicorn.

With ``--workers N`` uvicorn starts N processes that each import ``temoin.web:app_factory``
and build their own app (settings read again from ``TEMOIN_*`` and ``TEMOIN_CONFIG``, which
the CLI sets from ``--config``); nothing is shared between them but the database.
"""

from __future__ import annotations

from starlette.applications import Starlette

from runners.secrets import SecretError, resolve_secret
from scenarios.clock import SystemClock
from temoin.database import open_database
from temoin.settings import OidcSettings, Settings, load_settings
from web.app import create_app
from web.config import OidcConfig, WebConfig


def web_config(settings: Settings) -> WebConfig:
    """The app's configuration, the secret key resolved now (``SecretError`` if it cannot)."""
    conf = settings.web
    if conf.secret_key is None:
        raise SecretError(
            "web.secret_key is not set (give a reference: env:VAR or file:/path, "
            "to at least 32 random characters)",
            "web_key_unset",
        )
    key = resolve_secret(conf.secret_key)
    if len(key) < 32:
        raise SecretError("web.secret_key must resolve to at least 32 characters", "web_key_short")
    return WebConfig(
        secret_key=key,
        public_url=conf.public_url.rstrip("/"),
        secure_cookies=conf.secure_cookies,
        session_seconds=round(conf.session_hours * 3600),
        invite_seconds=round(conf.invite_hours * 3600),
        login_max_failures=conf.login_max_failures,
        login_client_max_failures=conf.login_client_max_failures,
        login_window_seconds=conf.login_window_seconds,
        timezone=settings.timezone,
        locale=settings.locale,
        min_cell=settings.reports.min_cell,
        min_peers=settings.reports.min_peers,
        strata=settings.reports.strata,
        argon2_time_cost=conf.argon2_time_cost,
        argon2_memory_kib=conf.argon2_memory_kib,
        argon2_parallelism=conf.argon2_parallelism,
        progress_refresh_seconds=conf.progress_refresh_seconds,
        oidc=_oidc(conf.oidc),
    )


def _oidc(conf: OidcSettings | None) -> OidcConfig | None:
    if conf is None:
        return None
    return OidcConfig(
        discovery_url=conf.discovery_url,
        client_id=conf.client_id,
        client_secret=resolve_secret(conf.client_secret),
        scopes=conf.scopes,
        label=conf.label,
        allowed_domains=conf.allowed_domains,
    )


def app_factory() -> Starlette:
    """What each uvicorn worker calls (``factory=True``)."""
    settings = load_settings()
    return create_app(open_database(settings), web_config(settings), SystemClock())
