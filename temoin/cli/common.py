"""What every command shares: the settings, a database opened per command, clean errors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import NoReturn, TypeVar

import typer
from rich.console import Console

from reports.outputs import OutputError
from scenarios.clock import Clock, SystemClock
from storage.db import Database
from temoin.database import open_database
from temoin.settings import SecretError, Settings

T = TypeVar("T")

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


class UserError(Exception):
    """A problem the user can fix (bad file, unknown name); printed without traceback."""


@dataclass
class AppContext:
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)


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
    app = app_context(ctx)

    async def _main() -> T:
        database = open_database(app.settings)
        try:
            return await work(database, app)
        finally:
            await database.dispose()

    try:
        return asyncio.run(_main())
    except (UserError, OutputError) as exc:
        fail(str(exc))
    except SecretError as exc:
        fail_settings(f"setting database_password: {exc}")
