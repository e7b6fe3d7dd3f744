"""The ``temoin`` command line: one Typer app, one sub-app per room.

Settings are read once, at their first use by a command (``--config`` or ``TEMOIN_CONFIG``),
through the ``AppContext`` the root callback hands to commands in ``ctx.obj``. A bad setting
prints one line and exits 2; a user error (bad file, unknown campaign) prints its message and
exits 1; no traceback either way. Command modules import their heavy libraries inside the
commands: ``temoin --help`` and every ``--help`` answer without loading them.
"""

from __future__ import annotations

from pathlib import Path

import typer

from temoin import __version__
from temoin.cli import (
    auditors,
    campaign,
    comments,
    db,
    demo,
    importer,
    inspect,
    letters,
    mail,
    observations,
    personas,
    review,
    scenarios,
    sim,
    triage,
    web,
    worker,
)
from temoin.cli import bot as bot_cli
from temoin.cli.common import AppContext
from temoin.cli.localized import LocalizedGroup
from temoin.cli.reports import export_command, report, stats

app = typer.Typer(
    cls=LocalizedGroup,
    rich_markup_mode=None,
    name="temoin",
    help="cli.help.app.about",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(importer.app, name="import")
app.add_typer(scenarios.app, name="scenarios")
app.add_typer(campaign.app, name="campaign")
app.add_typer(demo.app, name="demo")
app.add_typer(mail.app, name="mail")
app.add_typer(personas.app, name="personas")
app.add_typer(letters.app, name="letters")
app.command("worker", help="cli.help.worker.worker.about")(worker.worker)
app.command("bot", help="cli.help.bot.bot.about")(bot_cli.bot)
app.add_typer(auditors.app, name="auditors")
app.add_typer(observations.app, name="observations")
app.command("stats", help="cli.help.reports.stats.about")(stats)
app.command("export", help="cli.help.reports.export_command.about")(export_command)
app.command("report", help="cli.help.reports.report.about")(report)
app.add_typer(comments.app, name="comment")
app.add_typer(triage.app, name="triage")
app.add_typer(sim.app, name="sim")
app.command("review", help="cli.help.review.command.about")(review.command)
app.add_typer(inspect.contact_app, name="contact")
app.add_typer(inspect.message_app, name="message")
app.add_typer(web.app, name="web")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"temoin {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Path | None = typer.Option(None, "--config", help="cli.help.app.root.config"),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="cli.help.app.root.version"
    ),
) -> None:
    if isinstance(ctx.obj, AppContext):  # a caller's context (the demo's simulated clock)
        return
    ctx.obj = AppContext(config=config)


def main() -> None:
    app()
