"""``temoin demo``: Témoin's whole job on this machine, every protocol real, in simulated time.

    1. a fresh SQLite database under OUT (default var/demo/; or ``--database URL``), the
       example services imported, ``examples/demo-campaign.toml`` planned (a four-week
       window in the past: see that file), letters given to the auditors who cover them;
    2. the world (sim/demo/world.py): Dovecot, the personas' SMTP provider with the
       simulated services attached, the local Bot API with the real bot, the simulated
       auditors enrolled with invite codes, ``--workers N`` worker processes;
    3. the campaign in simulated time (sim/demo/loop.py), with a live progress display;
    4. the close two weeks after the window, the statistics tables, the exports (CSV, XLSX)
       and the reports (national, and the busiest collectivity's; HTML and PDF) under OUT,
       by the real commands (temoin/demo_outputs.py);
    5. the check against the truth the simulators recorded (sim/demo/check.py), written
       to OUT/check.json; ``--check`` prints it and exits 1 if any timing differs.

Everything started is stopped, whatever happens (Ctrl-C included). ``--plan-only`` stops
after step 1 and prints the plan.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console

from scenarios.campaign_file import CampaignSpec
from scenarios.catalog import load_catalog
from scenarios.clock import Clock, SteppedClock
from scenarios.directory import ImportResult, RowError, parse_directory
from sim.demo.check import CheckResult, check
from sim.demo.loop import LoopStats, Simulation
from sim.demo.progress import ProgressDisplay
from sim.demo.world import DemoError, DemoPaths, World, require_dovecot
from storage import bot as bot_repo
from storage import campaigns as campaign_repo
from storage import demo as repo
from storage.db import Database
from storage.directory import ImportCounts, upsert_directory
from storage.migrate import upgrade_async
from temoin.cli.words import Words
from temoin.demo_outputs import CommandLine, Commands, Outputs, close_and_report
from temoin.planning import PlanOutcome, catalog_scenarios, plan_campaign
from temoin.settings import Settings
from temoin.worker import dispatch_config

__all__ = ["DemoError", "DemoOptions", "DemoResult", "FullResult", "run_demo", "run_full_demo"]

REPO_ROOT = Path(__file__).resolve().parent.parent
CLOSE_AFTER_DAYS = 14  # the close: two weeks after the window's last day, 18:00 local
PAST_MARGIN = timedelta(days=1)  # the close must be this far in the past (Dovecot's clock)


@dataclass
class DemoResult:
    database_url: str
    imported: ImportCounts
    plan: PlanOutcome


def default_paths(root: Path = REPO_ROOT) -> tuple[Path, Path, Path]:
    """The example services, the demo campaign and the output directory."""
    return (
        root / "examples" / "services.csv",
        root / "examples" / "demo-campaign.toml",
        root / "var" / "demo",
    )


def fresh_sqlite(out_dir: Path) -> str:
    """A new, empty SQLite database under ``out_dir`` (an earlier demo's file is removed)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    db_file = out_dir / "temoin.db"
    for stale in (db_file, Path(f"{db_file}-wal"), Path(f"{db_file}-shm")):
        stale.unlink(missing_ok=True)
    return f"sqlite:///{db_file}"


class ServicesRefused(DemoError):
    """The services file (the example, or ``--services``) does not import: ``errors`` has
    every problem, for the command line to say in the reader's language."""

    def __init__(self, errors: tuple[RowError, ...]) -> None:
        problems = "; ".join(str(e) for e in errors[:5])
        super().__init__(f"the example services do not import: {problems}")
        self.errors = errors


def parse_services(services_data: bytes) -> ImportResult:
    parsed = parse_directory(services_data)
    if not parsed.ok:
        raise ServicesRefused(parsed.errors)
    return parsed


async def run_demo(
    clock: Clock,
    *,
    services_data: bytes,
    spec: CampaignSpec,
    database_url: str,
    schema: str | None = None,
) -> DemoResult:
    """Migrate, import the services and plan the campaign at the clock's time."""
    await upgrade_async(database_url, schema)
    parsed = parse_services(services_data)
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


# -- the whole campaign -------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoOptions:
    out: Path
    services_csv: Path
    campaign_file: Path
    database_url: str | None = None  # None: a fresh SQLite file under ``out``
    schema: str | None = None
    workers: int = 0
    live: bool = False  # a live panel (a terminal) rather than plain lines
    show_stats: bool = True


@dataclass
class FullResult:
    plan: DemoResult
    paths: DemoPaths
    window: tuple[date, date]
    close_at: datetime
    loop: LoopStats
    outputs: Outputs
    check: CheckResult
    wall_seconds: float
    commands: list[str] = field(default_factory=list)


def campaign_times(spec: CampaignSpec, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """When the demo starts (planning, three days before the window) and closes."""
    start = datetime.combine(spec.window.start - timedelta(days=3), day_time(12), tz)
    close = datetime.combine(spec.window.end + timedelta(days=CLOSE_AFTER_DAYS), day_time(18), tz)
    return start.astimezone(UTC), close.astimezone(UTC)


async def assign_letters(database: Database, spec: CampaignSpec, campaign_id: int) -> int:
    """Each letter to an auditor who covers its département (round robin), to post it."""
    async with database.session() as session:
        ids = await campaign_repo.auditor_ids(session, [a.key for a in spec.auditors])
        tasks = await repo.auditor_tasks(session, campaign_id)
        turns: dict[str, int] = {}
        assigned = 0
        for task in tasks:
            if task.channel != "letter" or task.auditor_id is not None:
                continue
            eligible = [a.key for a in spec.auditors
                        if not a.departements or task.departement in a.departements]  # fmt: skip
            if not eligible:
                continue
            turn = turns.get(task.departement, 0)
            turns[task.departement] = turn + 1
            key = eligible[turn % len(eligible)]
            await bot_repo.assign_contact(session, task.contact_id, ids[key], task.planned_at)
            assigned += 1
    return assigned


_TOKEN_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def seeded_ids(seed: int) -> Callable[[int, str], tuple[str, str]]:
    """Message-IDs and reply tokens shaped as ``channels.outgoing`` makes them, drawn from the
    seed: the services' reactions are seeded by the request's Message-ID, so the whole demo
    replays the same for the same seed."""

    def make(contact_id: int, persona_email: str) -> tuple[str, str]:
        rng = random.Random(f"{seed}|message-id|{contact_id}")
        local = f"{rng.getrandbits(64):016X}.{rng.getrandbits(48):012x}"
        token = "".join(rng.choice(_TOKEN_ALPHABET) for _ in range(16))
        return f"<{local}@{persona_email.rsplit('@', 1)[-1]}>", token

    return make


@contextlib.contextmanager
def demo_logging(path: Path) -> Iterator[None]:
    """Logs to ``path`` while the demo runs (the console is for the progress display)."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    saved = root.level, {name: logging.getLogger(name).level for name in _QUIET}
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    for name, level in _QUIET.items():
        logging.getLogger(name).setLevel(level)
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(saved[0])
        for name, level in saved[1].items():
            logging.getLogger(name).setLevel(level)


# Loggers that are chatty at INFO (a line per HTTP request), or that say at WARNING what is
# no news here (aiosmtpd's "Session.login_data is deprecated" on every login).
_QUIET = {"httpx": logging.WARNING, "httpcore": logging.WARNING, "telegram": logging.WARNING,
          "apscheduler": logging.WARNING, "aioimaplib": logging.WARNING,
          "mail.log": logging.ERROR}  # fmt: skip


async def run_full_demo(
    options: DemoOptions,
    settings: Settings,
    spec: CampaignSpec,
    console: Console,
    command_line: CommandLine,
) -> FullResult:
    """The whole demo; ``command_line`` is the ``temoin`` command it runs the coordinator's
    commands with (``ctx.find_root().command`` in ``temoin demo``)."""
    paths = DemoPaths(options.out)
    paths.reset()
    with demo_logging(paths.logs / "demo.log"):
        return await _run_full_demo(options, settings, spec, console, paths, command_line)


async def _run_full_demo(
    options: DemoOptions,
    settings: Settings,
    spec: CampaignSpec,
    console: Console,
    paths: DemoPaths,
    command_line: CommandLine,
) -> FullResult:
    began = time.monotonic()
    tz = ZoneInfo(settings.timezone)
    start, close_at = campaign_times(spec, tz)
    if close_at > datetime.now(UTC) - PAST_MARGIN:
        raise DemoError(
            f"the campaign closes on {close_at:%Y-%m-%d}, not in the past: Dovecot would date "
            "the replies of the future today; move the campaign window back"
        )
    require_dovecot()
    url = options.database_url or fresh_sqlite(options.out)
    schema = options.schema if options.database_url else None
    clock = SteppedClock(start, paths.clock)
    services_data = options.services_csv.read_bytes()
    planned = await run_demo(
        clock, services_data=services_data, spec=spec, database_url=url, schema=schema
    )
    settings = settings.model_copy(update={"database_url": url, "database_schema": schema})
    database = Database(url, schema=schema)
    world: World | None = None
    try:
        async with database.session() as session:
            campaign_id = await repo.campaign_id(session, spec.name)
        if campaign_id is None:
            raise DemoError(f"campaign {spec.name} was not planned")
        await assign_letters(database, spec, campaign_id)
        async with database.session() as session:
            await repo.preassign_message_ids(session, campaign_id, seeded_ids(spec.seed))
        world = World(paths, settings.timezone, url, schema, database, clock, load_catalog(),
                      spec, parse_services(services_data), campaign_id,
                      workers=options.workers)  # fmt: skip
        await world.start(close_at=close_at)
        commands = Commands(command_line, settings, clock, paths.logs / "commands.log")
        display = ProgressDisplay(console, database, campaign_id, start, close_at, tz,
                                  live=options.live, locale=settings.locale)  # fmt: skip
        with display:
            simulation = Simulation(
                world,
                commands,
                campaign=spec.name,
                close_at=close_at,
                dispatch=dispatch_config(settings),
                progress=display.update,
            )
            loop = await simulation.run()
        async with database.session() as session:
            busiest = await repo.busiest_collectivity(session, campaign_id)
        outputs = await close_and_report(commands, paths, spec.name, close_at, busiest,
                                         show_stats=options.show_stats)  # fmt: skip
        result = await check(database, campaign_id, world.truth)
        result.write(paths.check)
        (paths.logs / "loop.json").write_text(json.dumps(asdict(loop), indent=2))
    finally:
        if world is not None:
            await world.stop()
        await database.dispose()
    return FullResult(
        plan=planned,
        paths=paths,
        window=(spec.window.start, spec.window.end),
        close_at=close_at,
        loop=loop,
        outputs=outputs,
        check=result,
        wall_seconds=time.monotonic() - began,
        commands=list(commands.ran),
    )


def summary_lines(result: FullResult, w: Words) -> Sequence[str]:
    loop, f = result.loop, w.f
    start, end = result.window
    lines = [
        w("cli.demo.campaign", name=result.plan.plan.name, start=f.date(start), end=f.date(end),
          close=f.datetime(result.close_at), zone=f.tz.key),
        w("cli.demo.simulated", instants=f.number(loop.instants),
          seconds=f.number(loop.real_seconds, 1), runs=f.number(loop.dispatch_runs),
          deliveries=f.number(loop.deliveries), triaged=f.number(loop.triaged),
          steps=f.number(loop.auditor_steps), prints=f.number(loop.letter_prints)),
        w("cli.demo.wrote", path=result.paths.out),
    ]  # fmt: skip
    lines += [f"  {path}" for path in result.outputs.files]
    lines += [
        "  " + w("cli.demo.letters", path=result.paths.letters),
        "  " + w("cli.demo.check_files", check=result.paths.check, truth=result.paths.truth),
        "  " + w("cli.demo.logs", path=result.paths.logs),
        w("cli.demo.finished", seconds=f.number(result.wall_seconds)),
    ]
    return lines
