"""One typed settings object, built once from ``temoin.toml`` and ``TEMOIN_*`` variables.

Sources, highest priority first: environment (``TEMOIN_DATABASE_URL``, ``TEMOIN_TIMEZONE``,
nested groups as ``TEMOIN_GROUP__FIELD``), the TOML file (``--config PATH``, else
``TEMOIN_CONFIG``, else ``./temoin.toml`` if present), the defaults below.

Secrets are never values here: a ``SecretRef`` names where the value lives
(``env:VARIABLE`` or ``file:/path/to/secret``) and is resolved only at the moment of use.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)


class SettingsError(Exception):
    """A missing or invalid setting; the message is one line naming it."""


class SecretError(Exception):
    """A secret reference that cannot be resolved."""


def _check_secret_ref(value: str) -> str:
    kind, sep, target = value.partition(":")
    if not sep or kind not in ("env", "file") or not target:
        raise ValueError("must be 'env:VARIABLE' or 'file:/path' (never the secret itself)")
    return value


SecretRef = Annotated[str, AfterValidator(_check_secret_ref)]


def resolve_secret(ref: str) -> str:
    """Read the secret a reference points to. The value is never logged or stored."""
    kind, _, target = _check_secret_ref(ref).partition(":")
    if kind == "env":
        value = os.environ.get(target)
        if value is None:
            raise SecretError(f"environment variable {target} is not set")
        return value
    try:
        return Path(target).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SecretError(f"secret file {target} cannot be read: {exc.strerror}") from exc


def _check_database_url(value: str) -> str:
    scheme = value.split(":", 1)[0].split("+", 1)[0]
    if scheme not in ("sqlite", "postgresql", "postgres"):
        raise ValueError("must start with sqlite:/// or postgresql://")
    return value


class DispatchSettings(BaseModel):
    batch_size: int = 50
    interval_seconds: float = 30.0
    lease_seconds: int = 300


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TEMOIN_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    database_url: Annotated[str, AfterValidator(_check_database_url)] = "sqlite:///var/temoin.db"
    database_schema: str | None = None  # PostgreSQL only: keep every table in this schema
    data_dir: Path = Path("var")
    timezone: str = "Europe/Paris"
    locale: str = "fr"
    bot_token: SecretRef | None = None
    dispatch: DispatchSettings = DispatchSettings()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in ("fr", "en"):
            raise ValueError("must be 'fr' or 'en'")
        return value


class _TomlSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


def _config_path(explicit: Path | None) -> Path | None:
    if explicit is not None:
        return explicit
    from_env = os.environ.get("TEMOIN_CONFIG")
    if from_env:
        return Path(from_env)
    default = Path("temoin.toml")
    return default if default.exists() else None


def load_settings(config: Path | None = None) -> Settings:
    """Build the settings; raise ``SettingsError`` with one line naming what is wrong."""
    path = _config_path(config)
    data: dict[str, Any] = {}
    if path is not None:
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError as exc:
            raise SettingsError(f"config file {path} does not exist") from exc
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"config file {path} is not valid TOML: {exc}") from exc

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
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"]) or "settings"
        origin = f" (in {path})" if path is not None else ""
        raise SettingsError(f"setting {name}: {first['msg']}{origin}") from exc
    return Settings.model_validate(loaded.model_dump())
