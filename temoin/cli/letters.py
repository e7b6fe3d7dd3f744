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

from temoin.cli.common import AppContext, UserError, app_context, fail, run_with_db
from temoin.cli.words import words

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

    w = words(app_context(ctx))
    if until is not None and not FIRST_YEAR <= until.year <= LAST_YEAR:
        fail(w("cli.letters.bad_until", day=until.date(), first=FIRST_YEAR, last=LAST_YEAR))
    from channels.letters import LetterError, compose_letter, file_name, render_pdf
    from reports.outputs import OutputError, write_output
    from scenarios.catalog import UnknownScenario, load_catalog
    from storage import letters as repo
    from temoin.cli.campaign_tables import unknown_campaign

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
                raise UserError(await unknown_campaign(session, campaign, w))
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
            raise UserError(w("cli.letters.cannot_create", path=out, reason=exc.strerror)) from exc
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
                    w(
                        "cli.letters.unknown_scenario",
                        contact=item.contact_id,
                        scenario=item.scenario_id,
                    )
                )
                continue
            except LetterError as exc:
                run.problems.append(str(exc))
                continue
            path = out / file_name(item, letter_date)
            try:
                write_output(path, render_pdf(letter))
            except OutputError as exc:
                raise UserError(w.output_error(exc)) from exc
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
        key = "cli.letters.reprinted" if item.status == "printed" else "cli.letters.written"
        typer.echo(w(key, path=path, day=w.f.date(letter_date)))
    for problem in run.problems:
        typer.echo(w("cli.letters.not_printed", problem=problem), err=True)
    count = len(run.written)
    summary = w("cli.letters.summary", letters=w.count("cli.letters.letters", count), path=out)
    if count == 0:
        summary = w("cli.letters.none", campaign=campaign, day=w.f.date(run.until))
    if run.already_printed:
        summary += w(
            "cli.letters.already", count=w.count("cli.letters.printed", run.already_printed)
        )
    typer.echo(summary)
    if run.problems:
        fail(w.count("cli.letters.failed", len(run.problems)))
