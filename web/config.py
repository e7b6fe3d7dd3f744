"""What the web app is handed when it is built: values, never settings to read again.

``temoin`` builds a ``WebConfig`` from its settings (``temoin.web.web_config``), with the
secret key already resolved from its reference; ``web/`` never reads the environment itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_STRATA = (2000, 10000, 50000)


@dataclass(frozen=True, slots=True)
class OidcConfig:
    """Single sign-on (``web.sso``), the client secret already resolved."""

    discovery_url: str
    client_id: str
    client_secret: str
    scopes: str = "openid email profile"
    label: str = "ProConnect"
    allowed_domains: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WebConfig:
    secret_key: str
    public_url: str = "http://127.0.0.1:8000"
    secure_cookies: bool = True
    session_seconds: int = 12 * 3600
    invite_seconds: int = 72 * 3600
    login_max_failures: int = 5
    login_client_max_failures: int = 30
    login_window_seconds: int = 900
    timezone: str = "Europe/Paris"
    locale: str = "fr"
    min_cell: int = 5
    min_peers: int = 5
    strata: tuple[int, ...] = field(default=DEFAULT_STRATA)
    # argon2id cost: argon2-cffi's defaults (RFC 9106, second recommended profile)
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4
    # the dashboard's progress block polls this often (``hx-trigger="every …s"``)
    progress_refresh_seconds: int = 15
    oidc: OidcConfig | None = None

    def __post_init__(self) -> None:
        # A short key can be guessed offline from one signed cookie.
        if len(self.secret_key) < 32:
            raise ValueError("the web secret key must be at least 32 characters long")
