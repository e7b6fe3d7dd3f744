"""`temoin letters print CAMPAIGN --out DIR`: the due postal letters as print-ready PDFs.

A letter contact is due when it is still ``planned`` and planned at or before the end of the
``--until`` day (local time of the settings' time zone; default today). Each one becomes
``DIR/<date>_<insee>_<service>_<contact>.pdf``: the letter, then the auditor's « Fiche
d'envoi » (see channels/letters.py). When every file is written, the contacts are marked
``printed`` in one transaction; a re-run prints nothing twice unless ``--reprint`` is given
(which prints the printed-but-not-posted ones again). A letter bears the later of its
planned date and today.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import typer

from temoin.cli.common import AppContext, UserError, fail, run_with_db

if TYPE_CHECKING:
    from storage import letters as repo
    from storage.db import Database

app = typer.Typer(rich_markup_mode=None, no_args_is_help=True, help="cli.help.letters.about")


@dataclass
class PrintRun:
    until: date
    written: list[tuple[Path, repo.DueLetter, date]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    already_printed: int = 0
    marked: int = 0


@app.command("print", help="cli.help.letters.print_letters.about")
def print_letters(
    ctx: typer.Context,
    campaign: str = typer.Argument(..., help="cli.help.letters.print_letters.campaign"),
    out: Path = typer.Option(..., "--out", help="cli.help.letters.print_letters.out"),
    until: datetime | None = typer.Option(
        None, "--until", formats=["%Y-%m-%d"], help="cli.help.letters.print_letters.until"
    ),
    reprint: bool = typer.Option(False, "--reprint", help="cli.help.letters.print_letters.reprint"),
) -> None:
    """Render each due letter of CAMPAIGN as a PDF in --out and mark it printed."""
    from scenarios.campaign_file import FIRST_YEAR, LAST_YEAR

    if until is not None and not FIRST_YEAR <= until.year <= LAST_YEAR:
        fail(f"--until {until.date()}: a day between {FIRST_YEAR} and {LAST_YEAR}")
    from channels.letters import LetterError, compose_letter, file_name, render_pdf
    from reports.outputs import OutputError, write_output
    from scenarios.catalog import UnknownScenario, load_catalog
    from storage import letters as repo

    async def work(database: Database, app: AppContext) -> PrintRun:
        tz = ZoneInfo(app.settings.timezone)
        now = app.clock.now()
        today = now.astimezone(tz).date()
        last_day = until.date() if until is not None else today
        end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=tz)
        run = PrintRun(until=last_day)
        async with database.session() as session:
            campaign_id = await repo.campaign_id(session, campaign)
            if campaign_id is None:
                raise UserError(f"no campaign {campaign!r} (temoin campaign list)")
            # Planned at or before the end of the day: strictly before the next midnight.
            due = await repo.due_letters(
                session, campaign_id, until=end - timedelta(microseconds=1), reprint=reprint
            )
            if not reprint:
                run.already_printed = await repo.count_printed(
                    session, campaign_id, until=end - timedelta(microseconds=1)
                )
        if not due:
            return run
        try:
            # letters carry names and addresses: a new folder is for its owner only
            out.mkdir(mode=0o700, parents=True, exist_ok=True)  # noqa: ASYNC240 (local disk)
        except OSError as exc:
            raise UserError(f"cannot create {out}: {exc.strerror}") from exc
        catalog = load_catalog()
        for item in due:
            letter_date = max(item.planned_at.astimezone(tz).date(), today)
            try:
                scenario = catalog.get(item.scenario_id)
                letter = compose_letter(
                    item, scenario, letter_date, sheet_locale=app.settings.locale
                )
            except UnknownScenario:
                run.problems.append(
                    f"contact {item.contact_id}: scenario {item.scenario_id!r} is not in the "
                    "catalogue"
                )
                continue
            except LetterError as exc:
                run.problems.append(str(exc))
                continue
            path = out / file_name(item, letter_date)
            try:
                write_output(path, render_pdf(letter))
            except OutputError as exc:
                raise UserError(str(exc)) from exc
            run.written.append((path, item, letter_date))
        if run.written:
            async with database.session() as session:
                run.marked = await repo.mark_printed(
                    session,
                    [(item.contact_id, path.name) for path, item, _ in run.written],
                    now=app.clock.now(),
                    actor="temoin letters print",
                )
        return run

    run = run_with_db(ctx, work)
    for path, item, letter_date in run.written:
        again = " (reprint)" if item.status == "printed" else ""
        typer.echo(f"{path}  post on {letter_date.isoformat()}{again}")
    for problem in run.problems:
        typer.echo(f"not printed: {problem}", err=True)
    count = len(run.written)
    summary = f"{count} letter{'s' if count != 1 else ''} written to {out}"
    if count == 0:
        summary = f"no letter of {campaign} to print up to {run.until.isoformat()}"
    if run.already_printed:
        summary += f"; {run.already_printed} already printed (--reprint to print them again)"
    typer.echo(summary)
    if run.problems:
        fail(f"{len(run.problems)} letter(s) could not be printed")
