"""``temoin demo``: Témoin's whole job on this machine, from the example files.

Today it creates a fresh SQLite database under ``var/demo/``, imports
``examples/services.csv``, plans ``examples/campaign.toml`` and prints the plan. The full
simulated campaign (simulated collectivities answering over real SMTP and IMAP, scripted
auditors on the bot, a fast clock, reports) extends this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from scenarios.campaign_file import CampaignSpec
from scenarios.clock import Clock
from scenarios.directory import parse_directory
from storage.db import Database
from storage.directory import ImportCounts, upsert_directory
from storage.migrate import upgrade_async
from temoin.cli.campaign import PlanOutcome, catalog_scenarios, plan_campaign

REPO_ROOT = Path(__file__).resolve().parent.parent


class DemoError(Exception):
    """A demo step failed; the message says which and why."""


@dataclass
class DemoResult:
    database_url: str
    imported: ImportCounts
    plan: PlanOutcome


def default_paths(root: Path = REPO_ROOT) -> tuple[Path, Path, Path]:
    return (
        root / "examples" / "services.csv",
        root / "examples" / "campaign.toml",
        root / "var" / "demo",
    )


def fresh_sqlite(out_dir: Path) -> str:
    """A new, empty SQLite database under ``out_dir`` (an earlier demo's file is removed)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    db_file = out_dir / "temoin.db"
    for stale in (db_file, Path(f"{db_file}-wal"), Path(f"{db_file}-shm")):
        stale.unlink(missing_ok=True)
    return f"sqlite:///{db_file}"


async def run_demo(
    clock: Clock,
    *,
    services_data: bytes,
    spec: CampaignSpec,
    database_url: str,
    schema: str | None = None,
) -> DemoResult:
    await upgrade_async(database_url, schema)
    parsed = parse_directory(services_data)
    if not parsed.ok:
        problems = "; ".join(
            f"line {e.line}, column {e.column}: {e.reason}" for e in parsed.errors[:5]
        )
        raise DemoError(f"the example services do not import: {problems}")
    database = Database(database_url, schema=schema)
    try:
        async with database.session() as session:
            imported = await upsert_directory(session, parsed, clock.now())
        outcome = await plan_campaign(
            database, spec, catalog_scenarios(), clock.now(), replace=True
        )
    finally:
        await database.dispose()
    return DemoResult(database_url, imported, outcome)


def display_zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)
