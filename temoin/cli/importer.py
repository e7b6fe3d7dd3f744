"""`temoin import …`: bring the directory of collectivities and services in from spreadsheets.

``temoin import services FILE.csv [--dry-run]`` reads the file, validates every row
(``scenarios.directory``) and, only when no row has a problem, upserts everything in one
unit of work (``storage.directory``). Problems go to stderr, one per line in file order,
as ``line N, column C: reason``; the command then exits 1 and writes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.table import Table

from scenarios.input_files import LIMITS, InputFileError, read_input
from temoin.cli.common import AppContext, console, printable, run_with_db

if TYPE_CHECKING:
    from scenarios.directory import ImportResult
    from storage.db import Database
    from storage.directory import ImportCounts

app = typer.Typer(
    rich_markup_mode=None,
    no_args_is_help=True,
    help="cli.help.import.about",
)


def _fail(message: str) -> NoReturn:
    # Plain echo, not rich: a long path must not be wrapped at the terminal's width.
    typer.echo(f"temoin: {message}", err=True)
    raise typer.Exit(1)


def _read(path: Path) -> bytes:
    try:
        return read_input(path, LIMITS["services"])
    except InputFileError as exc:
        _fail(f"{path}: {exc}")


def _report_errors(path: Path, result: ImportResult) -> NoReturn:
    for error in result.errors:  # one problem per line, already in file order
        typer.echo(str(error), err=True)
    count = len(result.errors)
    _fail(f"{path}: {count} problem{'s' if count > 1 else ''}; nothing was imported.")


def _summary(counts: ImportCounts) -> Table:
    table = Table(title="Import", title_justify="left")
    table.add_column("")
    for heading in ("created", "updated", "unchanged"):
        table.add_column(heading, justify="right")
    table.add_row(
        "collectivities",
        str(counts.collectivities_created),
        str(counts.collectivities_updated),
        str(counts.collectivities_unchanged),
    )
    table.add_row(
        "services",
        str(counts.services_created),
        str(counts.services_updated),
        str(counts.services_unchanged),
    )
    return table


@app.command("services", help="cli.help.import.import_services.about")
def import_services(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="cli.help.import.import_services.file"),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="cli.help.import.import_services.dry_run"
    ),
) -> None:
    """Import collectivities and their services (one row per service)."""
    from scenarios.directory import parse_directory
    from storage.directory import upsert_directory

    result = parse_directory(_read(file))
    if not result.ok:
        _report_errors(file, result)
    source = f"{file}: {result.encoding}, {result.delimiter!r}-separated"
    if dry_run:
        typer.echo(
            f"{source}: {len(result.collectivities)} collectivities and"
            f" {len(result.services)} services are valid (dry run: nothing written)."
        )
        return

    async def work(database: Database, app_ctx: AppContext) -> ImportCounts:
        async with database.session() as session:
            return await upsert_directory(session, result, app_ctx.clock.now())

    counts = run_with_db(ctx, work)
    typer.echo(source)
    console.print(_summary(counts))
    for item in counts.renamed:  # plain echo: one line each, however long
        line = (
            f"renamed: {item.insee_code} {item.kind} « {item.old_name} » -> « {item.new_name} »"
            f" (same {item.by}: one service, not two)"
        )
        typer.echo(printable(line))
    if not counts.changed:
        console.print("Nothing changed.")
