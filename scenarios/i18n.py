"""Translation catalogue for everything a citizen, auditor or collectivity reads.

Catalogues are TOML files in ``scenarios/locale/<lang>.toml``: tables group the keys
(``[bot]``, ``[letter]``, ``[report]``…) and a message is addressed as ``"bot.welcome"``.
Placeholders use ``str.format`` syntax with names only (``{name}``). French is the reference
catalogue; every other language must have the same keys with the same placeholders (a test
checks it), and a missing key falls back to French rather than showing a key to a user.

French typography: a narrow no-break space (U+202F) goes before « ; : ! ? » and inside
guillemets; write it in the catalogue, not in code.
"""

from __future__ import annotations

import string
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LOCALE = "fr"
SUPPORTED = ("fr", "en")


class MissingMessage(KeyError):
    pass


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        elif isinstance(value, str):
            flat[name] = value
        else:
            raise TypeError(f"catalogue entry {name} must be a string")
    return flat


@lru_cache(maxsize=8)
def load_catalogue(locale: str, directory: Path = LOCALE_DIR) -> dict[str, str]:
    with (directory / f"{locale}.toml").open("rb") as fh:
        return _flatten(tomllib.load(fh))


def placeholders(message: str) -> frozenset[str]:
    return frozenset(
        field for _, field, _, _ in string.Formatter().parse(message) if field is not None
    )


def pick_locale(language_code: str | None) -> str:
    """Telegram-style language code (``en-GB``, ``fr``) to a supported catalogue."""
    if language_code:
        base = language_code.split("-", 1)[0].lower()
        if base in SUPPORTED:
            return base
    return DEFAULT_LOCALE


class Translator:
    """``t = Translator("fr"); t("bot.welcome", name="Claire")``."""

    def __init__(self, locale: str = DEFAULT_LOCALE) -> None:
        self.locale = locale if locale in SUPPORTED else DEFAULT_LOCALE
        self._messages = load_catalogue(self.locale)
        self._fallback = load_catalogue(DEFAULT_LOCALE)

    def __call__(self, key: str, /, **params: Any) -> str:
        message = self._messages.get(key) or self._fallback.get(key)
        if message is None:
            raise MissingMessage(key)
        return message.format(**params) if params else message

    def has(self, key: str) -> bool:
        return key in self._messages or key in self._fallback
