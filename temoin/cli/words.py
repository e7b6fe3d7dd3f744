"""What the command line says, in the reader's language: the catalogue and the formats.

``Words`` joins the translation catalogue (``scenarios/locale/<lang>.toml``, keys ``cli.*``)
and ``scenarios.formatting.Formats`` for the configured ``locale`` and ``timezone``: every
command asks ``words(app)`` once and prints « 62,1 % », « 1 046 000 » and
« 24/04/2026 18 h 00 » in French (the default), "62.1%" in English. Codes a coordinator
should not have to decode (channels, contact statuses, campaign states, grid choices) go
through their catalogue labels here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from scenarios.formatting import Formats
from scenarios.i18n import Translator

if TYPE_CHECKING:
    from reports.outputs import OutputError
    from scenarios.input_files import InputFileError
    from temoin.cli.common import AppContext


class Words:
    """``w = Words("fr"); w("cli.campaign.title", name=…); w.f.percent(0.62)``."""

    def __init__(self, locale: str = "fr", tz: str = "Europe/Paris") -> None:
        self.t = Translator(locale)
        self.f = Formats(locale, tz)
        self.locale = self.t.locale

    def __call__(self, key: str, /, **params: Any) -> str:
        return self.t(key, **params)

    def channel(self, code: str) -> str:
        key = f"channel.{code}"
        return self.t(key) if self.t.has(key) else code

    def status(self, code: str) -> str:
        key = f"cli.status.{code}"
        return self.t(key) if self.t.has(key) else code

    def state(self, code: str) -> str:
        key = f"cli.state.{code}"
        return self.t(key) if self.t.has(key) else code

    def yes_no(self, value: bool | None) -> str:
        if value is None:
            return "–"
        return self.t("common.yes") if value else self.t("common.no")

    def when(self, instant: datetime | str | None) -> str:
        """An instant (aware, or its ISO text) in the display zone; ``–`` when unknown."""
        if instant is None or instant == "":
            return "–"
        if isinstance(instant, str):
            instant = datetime.fromisoformat(instant)
        return self.f.datetime(instant)

    def output_error(self, exc: OutputError) -> str:
        """Why a file cannot be written (``reports.outputs``), in the reader's language."""
        from temoin.cli.common import output_refusal

        return output_refusal(self.t, exc)

    def input_error(self, path: object, exc: InputFileError) -> str:
        """``services.csv : fichier introuvable``: why an input file cannot be read."""
        reason = self.t(f"input_file.{exc.code}", **exc.params) if exc.code else str(exc)
        return self.t("input_file.refused", path=path, reason=reason)

    def one_of(self, option: str, choices: Iterable[str]) -> str:
        """``--format : l’un de csv, json, xlsx``."""
        return self.t("cli.output.one_of", option=option, choices=", ".join(choices))

    def count(self, key: str, n: int) -> str:
        """``cli.KEY_one`` / ``cli.KEY_many`` with ``n`` formatted."""
        return self.t(f"{key}_{'one' if n == 1 else 'many'}", n=self.f.number(n))


TEXT_LIMIT = 4000  # characters of a reply shown; the rest is said to be cut


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rstrip() + " […]"


def lines(text: str, width: int = 12) -> str:
    """``text`` broken into lines of about ``width`` at its ordinary spaces only: rich
    breaks at any Unicode space, the no-break ones too, so tables set ``no_wrap`` on their
    columns and break their texts here."""
    out: list[str] = []
    for word in text.split(" "):
        if out and len(out[-1]) + 1 + len(word) <= width:
            out[-1] += " " + word
        else:
            out.append(word)
    return "\n".join(out)


def words(app: AppContext) -> Words:
    settings = app.settings
    return Words(settings.locale, settings.timezone)
