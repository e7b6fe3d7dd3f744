"""`temoin import …`: bring the directory of collectivities and services in from spreadsheets.

``temoin import services FILE.csv [--dry-run]`` reads the file, validates every row
(``scenarios.directory``) and, only when no row has a problem, upserts everything in one
unit of work (``storage.directory``). Problems go to stderr, one per line in file order,
as ``FILE, ligne N, colonne C : raison`` in the reader's language (``directory.*`` in the
catalogue); the command then exits 1 and writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.table import Table

from scenarios.input_files import LIMITS, InputFileError, read_input
from temoin.cli.common import AppContext, app_context, console, printable, run_with_db
from temoin.cli.words import Words, words

if TYPE_CHECKING:
    from scenarios.directory import ImportResult, RowError
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


def _read(path: Path, w: Words) -> bytes:
    try:
        return read_input(path, LIMITS["services"])
    except InputFileError as exc:
        _fail(printable(w.input_error(path, exc)))


def error_line(path: Path, error: RowError, w: Words) -> str:
    """« services.csv, ligne 13, colonne Code INSEE : le code INSEE « 2C247 » n’a pas… »"""
    reason = error.said(w.t, w.f.number)
    where = "directory.where_line" if error.column is None else "directory.where_column"
    line = w(where, path=path, line=w.f.number(error.line), column=error.column, reason=reason)
    return printable(line)


def refused_line(path: Path, errors: Sequence[RowError], w: Words) -> str:
    problems = w.count("cli.import.problems", len(errors))
    return w("cli.import.refused", path=path, problems=problems)


def _report_errors(path: Path, result: ImportResult, w: Words) -> NoReturn:
    for error in result.errors:  # one problem per line, already in file order
        typer.echo(error_line(path, error, w), err=True)
    _fail(refused_line(path, result.errors, w))


def _summary(counts: ImportCounts, w: Words) -> Table:
    table = Table(title=w("cli.import.title"), title_justify="left")
    table.add_column("")
    for heading in ("created", "updated", "unchanged"):
        table.add_column(w(f"cli.import.{heading}"), justify="right")
    n = w.f.number
    table.add_row(
        w("cli.import.collectivities"),
        n(counts.collectivities_created),
        n(counts.collectivities_updated),
        n(counts.collectivities_unchanged),
    )
    table.add_row(
        w("cli.import.services"),
        n(counts.services_created),
        n(counts.services_updated),
        n(counts.services_unchanged),
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

    w = words(app_context(ctx))
    result = parse_directory(_read(file, w))
    if not result.ok:
        _report_errors(file, result, w)
    source = w("cli.import.source", path=file, encoding=result.encoding, delimiter=result.delimiter)
    if dry_run:
        typer.echo(
            w(
                "cli.import.dry_run",
                source=source,
                collectivities=w.count("cli.import.collectivities", len(result.collectivities)),
                services=w.count("cli.import.services", len(result.services)),
            )
        )
        return

    async def work(database: Database, app_ctx: AppContext) -> ImportCounts:
        async with database.session() as session:
            return await upsert_directory(session, result, app_ctx.clock.now())

    counts = run_with_db(ctx, work)
    typer.echo(source)
    console.print(_summary(counts, w))
    for item in counts.renamed:  # plain echo: one line each, however long
        line = w(
            "cli.import.renamed",
            insee=item.insee_code,
            kind=item.kind,
            old=item.old_name,
            new=item.new_name,
            by=w(f"cli.import.by_{item.by}"),
        )
        typer.echo(printable(line))
    if not counts.changed:
        console.print(w("cli.import.nothing_changed"))
