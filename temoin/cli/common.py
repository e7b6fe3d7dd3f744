"""What every command shares: the settings, a database opened per command, clean errors.

The consoles print what we do not control (mail subjects and senders, names from a CSV or
a campaign file, auditors' answers) as plain text: rich markup is off (``[/]`` or
``[link=…]`` in a subject is shown as written, not obeyed nor a ``MarkupError``), and
terminal control characters (ESC sequences, C1 controls, carriage returns, bidirectional
overrides) are shown as visible symbols (``printable``), never sent to the terminal. Our
own emphasis is given as ``rich.text.Text`` styles, not markup.

Nothing heavy is imported here at module level: every command module imports this one, and
``temoin --help`` must answer at once (bench/startup.py).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from scenarios.clock import Clock, SystemClock
from temoin.errors import UserError as UserError  # the CLI's commands raise it too

if TYPE_CHECKING:  # imported when used: ``temoin --help`` must not load the database layer
    from reports.outputs import OutputError
    from storage.db import Database
    from temoin.settings import Settings

T = TypeVar("T")

# Row ids are 32-bit integers on PostgreSQL (64 on SQLite): a larger one given on the
# command line is refused by the option parser rather than overflowing a driver.
MAX_ID = 2**31 - 1

# C0 controls but tab and line feed, DEL, C1 controls, and the bidirectional embeddings,
# overrides and isolates (they reorder what is shown: a subject could display as another).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if char < " ":
        return chr(0x2400 + ord(char))  # the Unicode control pictures: ESC shows as ␛
    return "\u2421" if char == "\x7f" else "\ufffd"


def printable(text: str) -> str:
    """``text`` with every terminal control character replaced by a visible symbol."""
    return _CONTROLS.sub(_visible, text)


# What JSON leaves raw with ``ensure_ascii=False`` (it escapes only C0 controls): DEL, C1
# controls and the bidirectional characters; written as ``\uXXXX`` they stay the same JSON.
_JSON_RAW_CONTROLS = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def json_text(payload: Any, *, indent: int | None = 2) -> str:
    """``payload`` as JSON for a terminal: readable accents, no control character sent raw."""
    import json

    text = json.dumps(payload, ensure_ascii=False, indent=indent)
    return _JSON_RAW_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class SafeConsole(Console):
    """A console for untrusted text: no markup, no emoji codes, no control characters."""

    def __init__(self, **kwargs: Any) -> None:
        # soft_wrap: a long line is left to the terminal, rich would split it at a no-break
        # space (« lettres) : temoin … » broke before its colon); tables keep their width.
        kwargs.setdefault("soft_wrap", True)
        super().__init__(highlight=False, markup=False, emoji=False, **kwargs)

    def render_str(self, text: str, **kwargs: Any) -> Text:
        kwargs["markup"] = False  # also when a caller asks for it: our texts carry data
        kwargs["emoji"] = False
        return super().render_str(printable(text), **kwargs)


console = SafeConsole()
err_console = SafeConsole(stderr=True)


def styled(text: str, style: str) -> Text:
    """Our own emphasis on a text that may hold data (``printable`` applied)."""
    return Text(printable(text), style=style)


class AppContext:
    """What every command shares: the settings, read at their first use (so that ``--help``
    reads none), and the clock ("now" for every command; the demo's is simulated)."""

    def __init__(
        self,
        settings: Settings | None = None,
        clock: Clock | None = None,
        *,
        config: Path | None = None,
    ) -> None:
        self._settings = settings
        self.config = config
        self.clock: Clock = clock or SystemClock()

    @property
    def settings(self) -> Settings:
        """The settings; a missing or invalid one prints one line naming it and exits 2."""
        if self._settings is None:
            from temoin.settings import SettingsError, load_settings

            try:
                self._settings = load_settings(self.config)
            except SettingsError as exc:
                fail_settings(exc.said())
        return self._settings


def fail_settings(message: str) -> NoReturn:
    typer.echo(f"temoin: {printable(message)}", err=True)
    raise typer.Exit(2)


def fail(message: str, code: int = 1) -> NoReturn:
    # Plain echo, not rich: rich wraps at the terminal width and would split paths.
    typer.echo(f"temoin: {printable(message)}", err=True)
    raise typer.Exit(code)


def app_context(ctx: typer.Context) -> AppContext:
    obj = ctx.find_root().obj
    assert isinstance(obj, AppContext)
    return obj


class DatabaseUnreachable(Exception):
    """The configured database cannot be reached or opened: why, as a catalogue key
    (``cli.database.*``) and its values, said in the reader's language by ``fail_database``."""

    def __init__(self, key: str, **params: str) -> None:
        super().__init__(f"{key}: {params}")
        self.key = key
        self.params = params


def database_shown(settings: Settings) -> str:
    """The database URL as a coordinator may read it (never the password)."""
    from sqlalchemy.engine import make_url

    try:
        where = make_url(settings.database_url).render_as_string(hide_password=True)
    except Exception:  # a URL SQLAlchemy cannot parse is refused by the settings already
        where = "(database_url)"
    if settings.database_schema:
        where += f" (schema {settings.database_schema})"
    return where


def _reason(exc: BaseException) -> str:
    # The driver's message may quote the URL; the line built here never shows a password.
    cause = getattr(exc, "orig", None) or exc
    text = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[0]}" if text else type(cause).__name__


def open_or_raise(settings: Settings) -> Database:
    """``open_database``, a SQLite file whose folder cannot be made raising
    ``DatabaseUnreachable`` (a secret that cannot be read raises ``SecretError``)."""
    from temoin.database import open_database

    try:
        return open_database(settings)
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        reason = str(exc.strerror or exc)
        raise DatabaseUnreachable("cli.database.cannot_create", where=where, reason=reason) from exc


async def connect_or_raise(database: Database) -> None:
    """Open (and give back) one connection: an unreachable database, a wrong password or
    a SQLite file that cannot be created raise ``DatabaseUnreachable`` here, before any
    work starts, rather than as a driver's traceback somewhere inside it."""
    from sqlalchemy.exc import DBAPIError

    try:
        async with database.engine.connect():
            pass
    except (DBAPIError, OSError, TimeoutError) as exc:
        raise DatabaseUnreachable("cli.database.cannot_connect", reason=_reason(exc)) from exc


def fail_database(settings: Settings, exc: DatabaseUnreachable) -> NoReturn:
    from scenarios.i18n import Translator

    t = Translator(settings.locale)
    fail(
        t("cli.database.failed", database=database_shown(settings), reason=t(exc.key, **exc.params))
    )


def output_refusal(t: Callable[..., str], exc: OutputError) -> str:
    """Why a file cannot be written (``reports.outputs``), said from ``cli.output.*``."""
    reason = t(f"cli.output.{exc.reason}", **exc.params)
    return t("cli.output.cannot_write", path=exc.path, reason=reason)


def run_with_db(ctx: typer.Context, work: Callable[[Database, AppContext], Awaitable[T]]) -> T:
    """Open the configured database, run ``work``, close it; user errors exit 1, and so
    does a database that cannot be reached or has no tables yet (one line each)."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from reports.outputs import OutputError
    from runners.secrets import SecretError

    app = app_context(ctx)

    async def _main() -> T:
        database = open_or_raise(app.settings)
        try:
            await connect_or_raise(database)
            try:
                return await work(database, app)
            except (OperationalError, ProgrammingError) as exc:
                if not _missing_table(exc):
                    raise
                raise DatabaseUnreachable("cli.database.no_schema", reason=_reason(exc)) from exc
        finally:
            await database.dispose()

    try:
        return asyncio.run(_main())
    except UserError as exc:
        fail(str(exc))
    except OutputError as exc:
        from scenarios.i18n import Translator

        fail(output_refusal(Translator(app.settings.locale), exc))
    except DatabaseUnreachable as exc:
        fail_database(app.settings, exc)
    except SecretError as exc:
        from scenarios.i18n import Translator

        t = Translator(app.settings.locale)
        fail_settings(t("settings.error.secret", name="database_password", reason=exc.said(t)))


def _missing_table(exc: Exception) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)
