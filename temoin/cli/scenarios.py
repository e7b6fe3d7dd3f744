"""`temoin scenarios` commands: check and list the scenario catalogue (no database needed).

``check`` prints one ``file: path: reason`` line per problem and exits 1 when there is any;
``list`` shows the scenarios as a table, or as JSON for scripts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from temoin.cli.common import console, fail, json_text

if TYPE_CHECKING:
    from scenarios.catalog import Scenario, Targets

app = typer.Typer(rich_markup_mode=None, no_args_is_help=True, help="cli.help.scenarios.about")


@app.command("check", help="cli.help.scenarios.check.about")
def check(
    directory: Path | None = typer.Argument(None, help="cli.help.scenarios.check.directory"),
) -> None:
    """Check every scenario file: YAML, keys, service kinds, templates, audit grids."""
    from scenarios.catalog import CatalogError, load_catalog

    try:
        count = len(load_catalog(directory))
    except CatalogError as exc:
        for problem in exc.problems:
            typer.echo(str(problem))
        count = len(exc.problems)
        fail(f"{count} problem{'s' if count > 1 else ''} in the catalogue")
    typer.echo(f"{count} scenario{'s' if count > 1 else ''} OK")


@app.command("list", help="cli.help.scenarios.list_scenarios.about")
def list_scenarios(
    as_json: bool = typer.Option(False, "--json", help="cli.help.scenarios.list_scenarios.as_json"),
    directory: Path | None = typer.Option(
        None, "--dir", help="cli.help.scenarios.list_scenarios.directory"
    ),
) -> None:
    """List the scenarios: id, channel, service kinds, wordings, timing targets."""
    from scenarios.catalog import CatalogError, load_catalog

    try:
        catalog = load_catalog(directory)
    except CatalogError as exc:
        count = len(exc.problems)
        fail(
            f"the catalogue has {count} problem{'s' if count > 1 else ''}; "
            "run 'temoin scenarios check' to see them"
        )
    if as_json:
        typer.echo(json_text([_as_dict(s) for s in catalog]))
        return
    widest = max((len(scenario.id) for scenario in catalog), default=2)
    table = Table(caption="bd: business days")
    table.add_column("id", no_wrap=True, min_width=widest)
    table.add_column("channel")
    table.add_column("service kinds")
    table.add_column("wordings", justify="right")
    table.add_column("targets")
    for scenario in catalog:
        table.add_row(
            scenario.id,
            scenario.channel.value,
            "\n".join(scenario.service_kinds),
            str(len(scenario.wordings)),
            _targets_text(scenario.targets),
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


_TARGET_TEXT = {
    "answer_days": "answer {} bd",
    "acknowledgement_days": "ack {} bd",
    "pickup_before_ring": "ring < {}",
    "followup_after_days": "follow-up {} bd",
}


def _targets_text(targets: Targets) -> str:
    given = targets.model_dump(exclude_none=True)
    return "\n".join(_TARGET_TEXT[name].format(value) for name, value in given.items()) or "-"
