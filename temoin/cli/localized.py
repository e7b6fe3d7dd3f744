"""``--help`` in the reader's language: help texts are catalogue keys, resolved at start-up.

    temoin ARGS --(LocalizedGroup.make_context)--> help_locale(ARGS)
        --> localize(root, Translator(locale)): every command's, argument's and option's
            ``help`` (written in the code as a ``cli.help.*`` key) becomes its text,
            and the usage line's [OPTIONS] COMMAND [ARGS]... its words
        --> the usual parsing; ``--help`` prints with LocalizedFormatter (« Utilisation : »,
            « Options », « Commandes », « [par défaut : …] »); a command line the parser
            refuses is said from the catalogue (``temoin.cli.usage_errors``)

The help is printed while the arguments are parsed, before any setting is read, so the
locale is decided here the way the settings will decide it, without loading them (``--help``
must answer at once): ``TEMOIN_LOCALE``, else ``locale`` in the settings file (``--config``,
``TEMOIN_CONFIG``, ``./temoin.toml``), else French. A settings file that cannot be read leaves
the help in French; the command itself then reports the file in one line.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import typer
from typer._click import exceptions as click_errors
from typer.core import TyperGroup

from scenarios.i18n import DEFAULT_LOCALE, SUPPORTED, Translator
from scenarios.input_files import LIMITS, InputFileError, read_input
from temoin.cli import usage_errors
from temoin.config_path import config_path

HELP_PREFIX = "cli.help."

# The toolkit's own words in a help page, by the catalogue key that says them.
_SECTIONS = {"Options": "options", "Arguments": "arguments", "Commands": "commands"}


def help_locale(args: Sequence[str], environ: Mapping[str, str] = os.environ) -> str:
    """The locale the settings will have, for the help printed before they are read."""
    chosen = environ.get("TEMOIN_LOCALE")
    if not chosen:
        chosen = _file_locale(_config_argument(args), environ)
    return chosen if chosen in SUPPORTED else DEFAULT_LOCALE


def _config_argument(args: Sequence[str]) -> Path | None:
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--config" and i + 1 < len(args):
            return Path(args[i + 1])
        if arg.startswith("--config="):
            return Path(arg.partition("=")[2])
    return None


def _file_locale(explicit: Path | None, environ: Mapping[str, str]) -> str | None:
    path = config_path(explicit, environ)
    if path is None:
        return None
    try:
        data = tomllib.loads(read_input(path, LIMITS["campaign"]).decode("utf-8"))
    except (
        InputFileError,
        tomllib.TOMLDecodeError,
        UnicodeDecodeError,
        RecursionError,
        ValueError,
    ):
        return None
    value = data.get("locale")
    return value if isinstance(value, str) else None


def _commands(command: Any) -> Iterator[Any]:
    """The command and every command under it (typer's groups list theirs in ``commands``)."""
    yield command
    for sub in getattr(command, "commands", {}).values():
        yield from _commands(sub)


def _resolve(owner: Any, attribute: str, t: Translator) -> None:
    # The key is kept beside the text, so a second localisation (another locale) works.
    key = getattr(owner, f"_temoin_{attribute}_key", None)
    if key is None:
        value = getattr(owner, attribute, None)
        if not isinstance(value, str) or not value.startswith(HELP_PREFIX):
            return
        key = value
        setattr(owner, f"_temoin_{attribute}_key", key)
    setattr(owner, attribute, t(key))


def localize(root: Any, t: Translator) -> None:
    """Every ``cli.help.*`` help under ``root`` replaced by its text in ``t``'s language."""
    for command in _commands(root):
        _resolve(command, "help", t)
        _resolve(command, "short_help", t)
        command.context_class = LocalizedContext
        command.options_metavar = t("cli.help.options_metavar")
        if hasattr(command, "subcommand_metavar"):
            command.subcommand_metavar = t("cli.help.subcommand_metavar")
        command._temoin_translator = t
        help_option = command.get_help_option(typer.Context(command))
        if help_option is not None:
            help_option.help = t("cli.help.help_option")
        for param in command.params:
            _resolve(param, "help", t)


class LocalizedGroup(TyperGroup):
    """The root group: localises the whole tree before parsing the command line."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: Any = None,  # click's Context (typer vendors click: its class is private)
        **extra: Any,
    ) -> Any:
        if parent is not None:
            return super().make_context(info_name, args, parent=parent, **extra)
        locale = help_locale(args)
        # The demo runs many commands on one tree: localise it once per language.
        if getattr(self, "_temoin_locale", None) != locale:
            localize(self, Translator(locale))
            self._temoin_locale = locale
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click_errors.UsageError as exc:
            raise usage_errors.localized(exc, Translator(locale)) from exc

    def invoke(self, ctx: Any) -> Any:
        # The subcommands' contexts are made (and their arguments parsed) in here.
        try:
            return super().invoke(ctx)
        except click_errors.UsageError as exc:
            if ctx.parent is not None:
                raise
            t = Translator(getattr(self, "_temoin_locale", DEFAULT_LOCALE))
            raise usage_errors.localized(exc, t) from exc


_BaseFormatter: Any = typer.Context.formatter_class  # click's HelpFormatter (typer vendors it)


class LocalizedFormatter(_BaseFormatter):  # type: ignore[misc]
    """Click's help formatter with its own few words taken from the catalogue."""

    def __init__(self, t: Translator, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.t = t

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, prefix=self.t("cli.help.usage") + " ")

    def section(self, name: str) -> Any:
        key = _SECTIONS.get(name)
        return super().section(self.t(f"cli.help.{key}") if key else name)

    def write_heading(self, heading: str) -> None:
        # « Options : » in French, "Options:" in English
        self.write(f"{'':>{self.current_indent}}{self.t('cli.help.heading', name=heading)}\n")

    def write_dl(self, rows: Sequence[tuple[str, str]], *args: Any, **kwargs: Any) -> None:
        super().write_dl([(term, self._extras(text)) for term, text in rows], *args, **kwargs)

    def _extras(self, text: str) -> str:
        # typer ends an option's help with "[default: X; required]"
        head, bracket, tail = text.rpartition("[")
        if not bracket or not tail.endswith("]"):
            return text
        parts = []
        for part in tail[:-1].split("; "):
            if part.startswith("default: "):
                part = self.t("cli.help.default", value=part.removeprefix("default: "))
            elif part == "required":
                part = self.t("cli.help.required")
            parts.append(part)
        return f"{head}[{'; '.join(parts)}]"


class LocalizedContext(typer.Context):
    def make_formatter(self) -> Any:
        t = getattr(self.command, "_temoin_translator", None) or Translator()
        return LocalizedFormatter(t, width=self.terminal_width, max_width=self.max_content_width)
