"""What every command shares: the settings, a database opened per command, clean errors.

Nothing heavy is imported here at module level: every command module imports this one, and
``temoin --help`` must answer at once (bench/startup.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

import typer
from rich.console import Console

from scenarios.clock import Clock, SystemClock
from temoin.errors import UserError as UserError  # the CLI's commands raise it too

if TYPE_CHECKING:  # imported when used: ``temoin --help`` must not load the database layer
    from storage.db import Database
    from temoin.settings import Settings

T = TypeVar("T")

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


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
                fail_settings(str(exc))
        return self._settings


def fail_settings(message: str) -> NoReturn:
    typer.echo(f"temoin: {message}", err=True)
    raise typer.Exit(2)


def fail(message: str, code: int = 1) -> NoReturn:
    # Plain echo, not rich: rich wraps at the terminal width and would split paths.
    typer.echo(f"temoin: {message}", err=True)
    raise typer.Exit(code)


def app_context(ctx: typer.Context) -> AppContext:
    obj = ctx.find_root().obj
    assert isinstance(obj, AppContext)
    return obj


def run_with_db(ctx: typer.Context, work: Callable[[Database, AppContext], Awaitable[T]]) -> T:
    """Open the configured database, run ``work``, close it; user errors exit 1."""
    from runners.secrets import SecretError
    from temoin.database import open_database

    app = app_context(ctx)

    async def _main() -> T:
        database = open_database(app.settings)
        try:
            return await work(database, app)
        finally:
            await database.dispose()

    try:
        return asyncio.run(_main())
    except UserError as exc:
        fail(str(exc))
    except SecretError as exc:
        fail_settings(f"setting database_password: {exc}")
