"""`temoin scenarios` commands: check and list the scenario catalogue (no database needed).

``check`` prints one ``file: path: reason`` line per problem and exits 1 when there is any;
``list`` shows the scenarios as a table, or as JSON for scripts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from temoin.cli.common import app_context, console, fail, json_text
from temoin.cli.words import Words, words

if TYPE_CHECKING:
    from scenarios.catalog import Scenario, Targets

app = typer.Typer(rich_markup_mode=None, no_args_is_help=True, help="cli.help.scenarios.about")


@app.command("check", help="cli.help.scenarios.check.about")
def check(
    ctx: typer.Context,
    directory: Path | None = typer.Argument(None, help="cli.help.scenarios.check.directory"),
) -> None:
    """Check every scenario file: YAML, keys, service kinds, templates, audit grids."""
    from scenarios.catalog import CatalogError, load_catalog

    w = words(app_context(ctx))
    try:
        count = len(load_catalog(directory))
    except CatalogError as exc:
        for problem in exc.problems:  # for the scenarios' authors: file, path, reason
            typer.echo(str(problem))
        fail(w.count("cli.scenarios.problems", len(exc.problems)))
    typer.echo(w.count("cli.scenarios.ok", count))


@app.command("list", help="cli.help.scenarios.list_scenarios.about")
def list_scenarios(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="cli.help.scenarios.list_scenarios.as_json"),
    directory: Path | None = typer.Option(
        None, "--dir", help="cli.help.scenarios.list_scenarios.directory"
    ),
) -> None:
    """List the scenarios: id, channel, service kinds, wordings, timing targets."""
    from scenarios.catalog import CatalogError, load_catalog

    w = words(app_context(ctx))
    try:
        catalog = load_catalog(directory)
    except CatalogError as exc:
        fail(w("cli.scenarios.broken", problems=w.count("cli.scenarios.problems_n",
                                                         len(exc.problems))))  # fmt: skip
    if as_json:
        typer.echo(json_text([_as_dict(s) for s in catalog]))
        return
    widest = max((len(scenario.id) for scenario in catalog), default=2)
    table = Table(caption=w("cli.scenarios.caption"))
    table.add_column(w("cli.scenarios.id"), no_wrap=True, min_width=widest)
    for heading in ("channel", "service_kinds"):
        table.add_column(w(f"cli.scenarios.{heading}"))
    table.add_column(w("cli.scenarios.wordings"), justify="right")
    table.add_column(w("cli.scenarios.targets"))
    for scenario in catalog:
        table.add_row(
            scenario.id,
            w.channel(scenario.channel.value),
            "\n".join(scenario.service_kinds),
            w.f.number(len(scenario.wordings)),
            _targets_text(scenario.targets, w),
        )
    console.print(table)


def _as_dict(scenario: Scenario) -> dict[str, Any]:
    return {
        "id": scenario.id,
        "title": scenario.title,
        "channel": scenario.channel.value,
        "service_kinds": list(scenario.service_kinds),
        "wordings": len(scenario.wordings),
        "expected_elements": [element.id for element in scenario.expected_elements],
        "grid_questions": len(scenario.grid),
        "has_followup": scenario.followup is not None,
        "targets": scenario.targets.model_dump(exclude_none=True),
    }


def _targets_text(targets: Targets, w: Words) -> str:
    given = targets.model_dump(exclude_none=True)
    said = [w(f"cli.scenarios.target.{name}", n=w.f.number(v)) for name, v in given.items()]
    return "\n".join(said) or "–"
