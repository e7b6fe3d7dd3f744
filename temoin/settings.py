"""One typed settings object, built once from ``temoin.toml`` and ``TEMOIN_*`` variables.

Sources, highest priority first: environment (``TEMOIN_DATABASE_URL``, ``TEMOIN_TIMEZONE``,
nested groups as ``TEMOIN_GROUP__FIELD``), the TOML file (``--config PATH``, else
``TEMOIN_CONFIG``, else ``./temoin.toml`` if present), the defaults below. Unknown keys are
refused at every level, so a typo fails instead of being silently ignored.

Secrets are never values here: a ``SecretRef`` names where the value lives
(``env:VARIABLE`` or ``file:/path/to/secret``) and is resolved only at the moment of use
(``resolve_secret``). The database password follows the same rule: ``database_password`` is a
reference, joined to ``database_url`` only when a connection is opened
(``Settings.connection_url``), so a container can take it from ``/run/secrets``.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings import SettingsError as _SourceError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from runners.secrets import check_secret_ref, resolve_secret
from scenarios.input_files import LIMITS, InputFileError, read_input
from temoin.config_path import config_path

ENV_PREFIX = "TEMOIN_"
ENV_NESTED_DELIMITER = "__"


class SettingsError(Exception):
    """A missing or invalid setting; the message is one line naming it, in English for logs.

    ``said()`` is that line in the reader's language (``settings.error.<code>``): the
    configured locale when it could be read (``TEMOIN_LOCALE``, then the file), else French."""

    def __init__(self, message: str, code: str = "", /, locale: str = "fr", **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.locale = locale
        self.params = params

    def said(self) -> str:
        from scenarios.i18n import Translator

        if not self.code:
            return str(self)
        t = Translator(self.locale)
        params = dict(self.params)
        if "problem" in params:
            params["reason"] = _problem_said(t, params.pop("problem"), params.pop("ctx", {}))
        if "input" in params:
            code = params.pop("input")
            key = f"input_file.{code}"
            params["reason"] = t(key, **params) if t.has(key) else t("settings.problem.unknown")
        origin = ""
        if params.get("env"):
            origin = t("settings.error.from_env", env=params["env"])
        elif params.get("file"):
            origin = t("settings.error.in_file", path=params["file"])
        return t(f"settings.error.{self.code}", **params) + origin


def _problem_said(t: Any, code: str, ctx: dict[str, Any]) -> str:
    """A pydantic error type or one of our validator codes, said from the catalogue (the
    campaign file's words for pydantic's own types); a generic sentence otherwise."""
    ctx = {k: ", ".join(map(str, v)) if isinstance(v, (list, tuple)) else v for k, v in ctx.items()}
    for key in (f"settings.problem.{code}", f"campaign_file.problem.{code}"):
        if t.has(key):
            try:
                return str(t(key, **ctx))
            except (KeyError, IndexError):
                break
    return str(t("settings.problem.unknown"))


def _reader_locale(data: dict[str, Any] | None = None) -> str:
    """The locale setting when it can be read (environment first, as the settings do)."""
    for value in (os.environ.get(f"{ENV_PREFIX}LOCALE"), (data or {}).get("locale")):
        if value in ("fr", "en"):
            return str(value)
    return "fr"


SecretRef = Annotated[str, AfterValidator(check_secret_ref)]


def _check_database_url(value: str) -> str:
    try:
        url = make_url(value)
    except (ArgumentError, ValueError) as exc:
        raise PydanticCustomError(
            "database_url_form", "must look like sqlite:///path or postgresql://user@host/db"
        ) from exc
    if url.get_backend_name() not in ("sqlite", "postgresql", "postgres"):
        raise PydanticCustomError(
            "database_url_scheme", "must start with sqlite:/// or postgresql://"
        )
    return value


# Lower case only: PostgreSQL folds the unquoted name in ``search_path`` to lower case.
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def _check_schema(value: str | None) -> str | None:
    if value is not None and not _SCHEMA_NAME.fullmatch(value):
        raise PydanticCustomError(
            "schema_name", "must be a lower-case SQL name (letters, digits, underscore)"
        )
    return value


class DispatchSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_size: int = Field(50, gt=0)
    interval_seconds: float = Field(30.0, gt=0)
    lease_seconds: int = Field(300, gt=0)
    per_persona_per_hour: int = Field(20, ge=0)  # 0 = no limit
    per_domain_per_hour: int = Field(10, ge=0)  # 0 = no limit
    # A temporary refusal about the recipient: retried after this, doubling up to the cap;
    # after max_attempts of them the contact is undeliverable.
    retry_base_seconds: int = Field(300, gt=0)
    retry_cap_seconds: int = Field(6 * 3600, gt=0)
    max_attempts: int = Field(8, gt=0)
    # Our provider unreachable or busy: probed after this, doubling up to the cap.
    outage_base_seconds: float = Field(5.0, gt=0)
    outage_cap_seconds: float = Field(300.0, gt=0)
    # Our account or provider refusing us (login, policy, quota): likewise, slower.
    refused_base_seconds: float = Field(60.0, gt=0)
    refused_cap_seconds: float = Field(1800.0, gt=0)
    smtp_timeout: float = Field(30.0, gt=0)
    imap_timeout: float = Field(30.0, gt=0)


class TrackingSettings(BaseModel):
    """The mailbox watchers (``temoin worker``): IMAP IDLE, polling, matching, census."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    # Without IDLE, and for folders IDLE does not cover (Junk), look this often.
    poll_interval_seconds: float = Field(60.0, gt=0)
    # Re-issue IDLE at least this often (RFC 2177: servers may drop it after 30 minutes).
    idle_timeout_seconds: float = Field(300.0, gt=0)
    # A match below this confidence goes to the triage queue, never to a contact.
    match_threshold: float = Field(0.7, ge=0, le=1)
    # Compare each folder's message count on the server with what is stored.
    census_interval_seconds: float = Field(3600.0, gt=0)
    fetch_batch: int = Field(200, gt=0)
    # Processes that parse and classify fetched mail; 0: a thread of the worker itself.
    # Default: one per core but one (at most 4), none on a single core.
    parse_workers: int | None = Field(None, ge=0, le=64)
    imap_timeout: float = Field(60.0, gt=0)
    backoff_base_seconds: float = Field(5.0, gt=0)
    backoff_cap_seconds: float = Field(600.0, gt=0)


class BotSettings(BaseModel):
    """The auditors' chat bot (``temoin bot``): long polling unless ``webhook_url`` is set."""

    model_config = ConfigDict(extra="forbid")

    username: str | None = None  # for invite links; default: asked with getMe
    webhook_url: str | None = None  # public HTTPS URL Telegram posts updates to
    webhook_secret: SecretRef | None = None  # X-Telegram-Bot-Api-Secret-Token
    listen: str = "127.0.0.1"  # the webhook's local listening address
    port: int = Field(8443, gt=0, lt=65536)
    base_url: str | None = None  # Bot API server, e.g. a local one (tests, demo)
    base_file_url: str | None = None
    concurrent_updates: int = Field(64, gt=0)  # different users at once; one user in order
    morning_hour: int = Field(8, ge=0, le=23)  # local hour: today's tasks and late ones
    evening_hour: int = Field(18, ge=0, le=23)  # local hour: tomorrow's tasks
    digest_hour: int = Field(19, ge=0, le=23)  # local hour of the coordinators' digest
    photo_max_bytes: int = Field(10_000_000, gt=0)
    location_flag_metres: float = Field(300.0, gt=0)

    @model_validator(mode="after")
    def _webhook_has_a_secret(self) -> BotSettings:
        # Without the secret token anyone who reaches the endpoint can post updates as any
        # auditor (Telegram sends it in X-Telegram-Bot-Api-Secret-Token; PTB checks it).
        if self.webhook_url and not self.webhook_secret:
            raise PydanticCustomError(
                "webhook_secret",
                "webhook_url is set but webhook_secret is not: give a secret reference "
                "(env:VAR or file:/path) for the X-Telegram-Bot-Api-Secret-Token check",
            )
        if self.webhook_url and not self.webhook_url.startswith("https://"):
            raise PydanticCustomError(
                "webhook_https", "webhook_url must be an https:// URL (Telegram posts over TLS)"
            )
        return self


class ReportSettings(BaseModel):
    """Statistics and reports (``temoin stats``, ``export``, ``report``)."""

    model_config = ConfigDict(extra="forbid")

    # Population strata bounds (inhabitants), lower bounds inclusive: < 2 000, 2 000-10 000…
    strata: tuple[int, ...] = (2000, 10000, 50000)
    # A cell with fewer delivered contacts is flagged and never ranked.
    min_cell: int = Field(5, gt=0)
    # A collectivity's report shows no figure computed over fewer other collectivities.
    min_peers: int = Field(5, gt=0)

    @field_validator("strata")
    @classmethod
    def _increasing(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(b <= 0 for b in value):
            raise PydanticCustomError(
                "strata_positive", "strata bounds must be positive, e.g. [2000, 10000, 50000]"
            )
        if list(value) != sorted(set(value)):
            raise PydanticCustomError("strata_increasing", "strata bounds must increase strictly")
        return value


def _local_or_https(value: str) -> str:
    parts = urlsplit(value)
    loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.scheme == "https" and parts.hostname:
        return value
    if parts.scheme == "http" and loopback:
        return value
    raise PydanticCustomError(
        "https_url", "must be an https:// URL (http:// only on this machine's loopback)"
    )


class OidcSettings(BaseModel):
    """Single sign-on through an OpenID Connect provider (ProConnect, an organisation's own).

    Nobody gets an account through it: the provider's verified email must be the login of an
    active account a coordinator created (``temoin web users add`` or the back office), in
    one of ``allowed_domains`` when that list is given.
    """

    model_config = ConfigDict(extra="forbid")

    # The provider's discovery document (issuer + /.well-known/openid-configuration)
    discovery_url: Annotated[str, AfterValidator(_local_or_https)]
    client_id: str = Field(min_length=1)
    # The client secret: a reference (env:VAR or file:/path), never the value.
    client_secret: SecretRef
    scopes: str = "openid email profile"
    # The provider's name on the log-in page's button ("Se connecter avec …").
    label: str = Field("ProConnect", min_length=1, max_length=60)
    # Emails outside these domains are refused even when an account has that login.
    allowed_domains: tuple[str, ...] = ()

    @field_validator("allowed_domains")
    @classmethod
    def _folded(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(d.strip().lower().lstrip("@") for d in value if d.strip())


class WebSettings(BaseModel):
    """The back office and the portal (``temoin web``)."""

    model_config = ConfigDict(extra="forbid")

    # Signs the session cookies: a reference (env:VAR or file:/path), never the value.
    secret_key: SecretRef | None = None
    # The address people type (invitation links); behind a proxy, its https:// URL.
    public_url: str = "http://127.0.0.1:8000"
    # Cookies sent over HTTPS only; off only for a local http:// trial.
    secure_cookies: bool = True
    session_hours: float = Field(12.0, gt=0)
    invite_hours: float = Field(72.0, gt=0)
    # Log-in rate limit: this many failures for one login, or from one address, within the
    # window refuse further tries until the window has passed.
    login_max_failures: int = Field(5, gt=0)
    login_client_max_failures: int = Field(30, gt=0)
    login_window_seconds: int = Field(900, gt=0)
    # Trust X-Forwarded-For from these proxy addresses (uvicorn's forwarded_allow_ips).
    forwarded_allow_ips: str = "127.0.0.1"
    # argon2id cost of password hashes (argon2-cffi's defaults, RFC 9106's second profile)
    argon2_time_cost: int = Field(3, ge=1, le=20)
    argon2_memory_kib: int = Field(65536, ge=8192, le=4 * 1024 * 1024)
    argon2_parallelism: int = Field(4, ge=1, le=64)
    # A campaign dashboard's progress block reloads itself this often (HTMX polling).
    progress_refresh_seconds: int = Field(15, ge=1, le=3600)
    # Optional single sign-on ([web.oidc]); password log-in stays available.
    oidc: OidcSettings | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        extra="forbid",
    )

    database_url: Annotated[str, AfterValidator(_check_database_url)] = "sqlite:///var/temoin.db"
    # PostgreSQL only: keep every table in this schema
    database_schema: Annotated[str | None, AfterValidator(_check_schema)] = None
    # PostgreSQL password as a reference, for URLs written without one
    database_password: SecretRef | None = None
    data_dir: Path = Path("var")
    timezone: str = "Europe/Paris"
    locale: str = "fr"
    bot_token: SecretRef | None = None
    dispatch: DispatchSettings = DispatchSettings()
    reports: ReportSettings = ReportSettings()
    tracking: TrackingSettings = TrackingSettings()
    bot: BotSettings = BotSettings()
    web: WebSettings = WebSettings()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise PydanticCustomError(
                "unknown_zone", "unknown time zone '{value}'", {"value": value}
            ) from exc
        return value

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in ("fr", "en"):
            raise PydanticCustomError("locale", "must be 'fr' or 'en'")
        return value

    @model_validator(mode="after")
    def _one_password_source(self) -> Settings:
        if self.database_password is not None and make_url(self.database_url).password:
            raise PydanticCustomError(
                "two_passwords",
                "database_password is set but database_url already carries a password",
            )
        return self

    def connection_url(self) -> str:
        """``database_url`` with the password resolved now; to connect, never to display."""
        if self.database_password is None:
            return self.database_url
        password = resolve_secret(self.database_password)
        url = make_url(self.database_url).set(password=password)
        return url.render_as_string(hide_password=False)


class _TomlSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


def _read_toml(path: Path) -> dict[str, Any]:
    locale = _reader_locale()
    try:
        # a regular file of sane size only: a FIFO would block, /dev/zero never end
        return tomllib.loads(read_input(path, LIMITS["campaign"]).decode("utf-8"))
    except InputFileError as exc:
        reason = str(exc)
        if reason == "no such file":
            reason = "does not exist"
        elif not reason.startswith("cannot be read"):
            reason = f"cannot be read: it {reason}"
        raise SettingsError(
            f"config file {path} {reason}", "file", locale=locale, path=str(path),
            input=exc.code or "unreadable", **{"reason": reason, **exc.params},
        ) from exc  # fmt: skip
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        found = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        english = f"config file {path} is not valid TOML: {exc}"
        if found:
            raise SettingsError(english, "syntax_at", locale=locale, path=str(path),
                                line=int(found[1]), column=int(found[2])) from exc  # fmt: skip
        raise SettingsError(english, "syntax", locale=locale, path=str(path)) from exc
    except RecursionError as exc:
        raise SettingsError(
            f"config file {path} is not valid TOML: nested too deeply", "too_deep",
            locale=locale, path=str(path),
        ) from exc  # fmt: skip
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise SettingsError(
            f"config file {path} is not valid TOML: a number is too long", "number_too_long",
            locale=locale, path=str(path),
        ) from exc  # fmt: skip


def _env_name(loc: tuple[str, ...]) -> str | None:
    """The ``TEMOIN_*`` variable that set the value at ``loc``, if one did."""
    wanted = [ENV_PREFIX + ENV_NESTED_DELIMITER.join(loc[:n]) for n in range(len(loc), 0, -1)]
    present = {key.upper(): key for key in os.environ}
    for name in wanted:
        if name.upper() in present:
            return present[name.upper()]
    return None


def _describe(error: Any, data: dict[str, Any], path: Path | None) -> SettingsError:
    loc = tuple(str(p) for p in error["loc"])
    name = ".".join(loc)
    env = _env_name(loc) if loc else None
    file = str(path) if env is None and path is not None and (not loc or loc[0] in data) else ""
    if env is not None:
        origin = f" (from {env})"
    elif file:
        origin = f" (in {path})"
    else:
        origin = ""
    message = str(error["msg"]).removeprefix("Value error, ")
    ctx = dict(error.get("ctx") or {})
    said: dict[str, Any] = {"env": env or "", "file": file, "name": name,
                            "problem": error["type"], "ctx": ctx}  # fmt: skip
    if not loc:
        return SettingsError(f"settings: {message}{origin}", "whole", **said)
    if error["type"] == "extra_forbidden":
        return SettingsError(f"unknown setting {name}{origin}", "unknown", **said)
    return SettingsError(f"setting {name}: {message}{origin}", "invalid", **said)


def load_settings(config: Path | None = None) -> Settings:
    """Build the settings; raise ``SettingsError`` with one line naming what is wrong."""
    path = config_path(config)
    data = _read_toml(path) if path is not None else {}

    class _Loaded(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings, env_settings, _TomlSource(settings_cls, data))

    try:
        loaded = _Loaded()
    except ValidationError as exc:
        described = _describe(exc.errors()[0], data, path)
        described.locale = _reader_locale(data)
        raise described from exc
    except _SourceError as exc:
        # pydantic-settings could not decode a variable (e.g. TEMOIN_DISPATCH='{bad').
        found = re.search(r'field "(\w+)"', str(exc))
        field = found.group(1) if found else "?"
        cause = exc.__cause__ or exc
        raise SettingsError(
            f"setting {field}: {ENV_PREFIX}{field.upper()} is not valid JSON ({cause})",
            "bad_json", locale=_reader_locale(data), name=field,
            variable=f"{ENV_PREFIX}{field.upper()}",
        ) from exc  # fmt: skip
    # Copy into a plain ``Settings`` without validating again: validation through
    # ``Settings.__init__`` would read the environment a second time.
    values = {name: getattr(loaded, name) for name in Settings.model_fields}
    return Settings.model_construct(_fields_set=set(loaded.model_fields_set), **values)
