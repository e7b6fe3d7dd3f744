"""`temoin demo`: run the demonstration campaign on this machine."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from scenarios.campaign_file import CampaignFileError, load_campaign_file
from scenarios.planning import InfeasiblePlan
from temoin.cli.campaign import plan_summary, print_plan_summary
from temoin.cli.common import app_context, console, fail
from temoin.demo import DemoError, default_paths, display_zone, fresh_sqlite, run_demo

app = typer.Typer(help="Run the demonstration campaign on this machine.")


@app.callback(invoke_without_command=True)
def demo(
    ctx: typer.Context,
    out: Path = typer.Option(None, "--out", help="Where the demo writes (default var/demo/)."),
    database: str = typer.Option(
        None, "--database", help="Database URL (default: a fresh SQLite file under --out)."
    ),
) -> None:
    """Import the example services, plan the example campaign and show the plan."""
    app_ctx = app_context(ctx)
    services_csv, campaign_file, default_out = default_paths()
    out_dir = out or default_out
    try:
        services_data = services_csv.read_bytes()
        spec = load_campaign_file(campaign_file)
        url = database or fresh_sqlite(out_dir)
        schema = app_ctx.settings.database_schema if database else None
        result = asyncio.run(
            run_demo(app_ctx.clock, services_data=services_data, spec=spec,
                     database_url=url, schema=schema)
        )  # fmt: skip
    except (DemoError, CampaignFileError, InfeasiblePlan, OSError) as exc:
        fail(f"demo: {exc}")
    c = result.imported
    collectivities = (
        c.collectivities_created + c.collectivities_updated + c.collectivities_unchanged
    )
    services = c.services_created + c.services_updated + c.services_unchanged
    console.print(f"Imported {collectivities} collectivities and {services} services.")
    print_plan_summary(plan_summary(result.plan, display_zone(app_ctx.settings.timezone)))
    console.print(f"Database: {result.database_url}")
