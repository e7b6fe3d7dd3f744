"""`temoin campaign …`: plan a campaign from its file, then look at it.

``plan FILE [--dry-run] [--replace]``:

    campaign file --validate--> CampaignSpec --+
    catalogue ----------------> scenarios -----+--> planner --> contacts --> summary
    database: personas, auditors (upserted),   |
              selected services, kept contacts +

All of it is one unit of work: a file error, an unknown scenario or rules that cannot hold
(``InfeasiblePlan``) exit 1 and write nothing. ``--dry-run`` reads only (personas and
auditors not yet in the database get provisional ids) and prints the same summary.
Planning a name that exists is refused unless ``--replace``, which deletes the contacts
nothing has happened to yet (``REPLACEABLE_STATUSES``) and plans the rest of the quota
around the others. Planned times start no earlier than now.

``show NAME [--json]``: the campaign, its window and its contacts per channel and status,
per ISO week (local weeks of the display time zone), per persona and per auditor. The data
comes from ``gather_show`` as a plain dict, so later sections add keys there.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table
from rich.text import Text

from scenarios.campaign_file import (
    FIRST_YEAR,
    LAST_YEAR,
    CampaignFileError,
    CampaignSpec,
    check_scenarios,
    load_campaign_file,
)
from scenarios.catalog import CatalogError, load_catalog
from scenarios.domain import Channel, ContactStatus
from scenarios.opening_hours import OpeningHoursError, WeeklyHours, parse_hours
from scenarios.planning import (
    CHANNEL_ORDER,
    FIELD,
    WRITTEN,
    AuditorInput,
    FixedContact,
    InfeasiblePlan,
    PersonaInput,
    Plan,
    PlanRequest,
    ScenarioInput,
    ServiceInput,
    plan,
)
from storage import campaigns as repo
from storage.db import Database
from storage.mail import campaign_mail_summary
from temoin.cli.common import (
    AppContext,
    UserError,
    app_context,
    console,
    fail,
    printable,
    run_with_db,
    styled,
)
from temoin.cli.observations import gather_observations, print_observations

app = typer.Typer(no_args_is_help=True, help="Plan campaigns and follow them.")


# --------------------------------------------------------------------------------------
# The plan path (also what bench/plan.py times)


@dataclass
class PlanOutcome:
    name: str
    dry_run: bool
    plan: Plan
    services: dict[int, ServiceInput]
    persona_keys: dict[int, str]
    auditor_keys: dict[int, str]
    window: tuple[date, date]
    deleted: int = 0
    kept: list[repo.KeptContact] = field(default_factory=list)
    unreadable_hours: int = 0


def catalog_scenarios() -> list[ScenarioInput]:
    """The shipped catalogue as the planner sees it."""
    try:
        catalog = load_catalog()
    except CatalogError as exc:
        raise UserError(str(exc)) from exc
    return [
        ScenarioInput(s.id, s.channel, tuple(s.service_kinds), len(s.wordings))
        for s in catalog.scenarios.values()
    ]


def service_inputs(rows: Sequence[repo.ServiceRow]) -> tuple[list[ServiceInput], int]:
    """Planner inputs from the selected rows, and how many opening hours were unreadable."""
    parsed: dict[str, WeeklyHours | None] = {}
    unreadable = 0
    out: list[ServiceInput] = []
    for row in rows:
        hours: WeeklyHours | None = None
        if row.opening_hours:
            if row.opening_hours not in parsed:
                try:
                    parsed[row.opening_hours] = parse_hours(row.opening_hours)
                except OpeningHoursError:
                    parsed[row.opening_hours] = None
            hours = parsed[row.opening_hours]
            unreadable += hours is None
        out.append(
            ServiceInput(
                id=row.id,
                kind=row.kind,
                collectivity_id=row.collectivity_id,
                collectivity_code=row.insee_code,
                collectivity_name=row.collectivity_name,
                departement=row.departement,
                has_email=bool(row.email),
                has_phone=bool(row.phone),
                has_address=bool(row.address and row.postal_code and row.city),
                opening_hours=hours,
            )
        )
    return out, unreadable


async def plan_campaign(
    database: Database,
    spec: CampaignSpec,
    scenarios: Sequence[ScenarioInput],
    now: datetime,
    *,
    replace: bool = False,
    dry_run: bool = False,
) -> PlanOutcome:
    """Load the inputs, plan, insert: one unit of work (nothing written on ``dry_run``)."""
    check_scenarios(spec, {s.id: s.channel for s in scenarios})
    selection = repo.ServiceFilter(
        kinds=spec.selection.kinds,
        departements=spec.selection.departements,
        population_ranges=spec.population_ranges(),
        insee_codes=spec.selection.insee,
    )
    async with database.session() as session:
        existing = await repo.find_campaign(session, spec.name)
        if existing is not None and not replace:
            raise UserError(
                f"campaign {spec.name!r} already exists (planned {existing.planned_at:%Y-%m-%d}):"
                " use --replace to re-plan what has not started yet, or another name"
            )
        persona_keys = [p.key for p in spec.personas]
        auditor_keys = [a.key for a in spec.auditors]
        deleted = 0
        campaign_id = existing.id if existing is not None else 0
        if dry_run:
            personas = await repo.persona_ids(session, persona_keys)
            auditors = await repo.auditor_ids(session, auditor_keys)
            # Provisional negative ids for what the real run would create.
            for i, key in enumerate(k for k in persona_keys if k not in personas):
                personas[key] = -1 - i
            for i, key in enumerate(k for k in auditor_keys if k not in auditors):
                auditors[key] = -1 - i
            if existing is not None:
                deleted = await repo.count_replaceable(session, existing.id)
        else:
            try:
                personas = await repo.upsert_personas(session, spec.personas, now)
            except repo.PersonaConflict as exc:
                raise UserError(str(exc)) from exc
            auditors = await repo.upsert_auditors(session, spec.auditors, now)
            campaign_id = await repo.save_campaign(
                session,
                name=spec.name,
                title=spec.title,
                window_start=spec.window.start,
                window_end=spec.window.end,
                seed=spec.seed,
                spec=spec.model_dump(mode="json"),
                now=now,
            )
            if existing is not None:
                deleted = await repo.delete_replaceable(session, campaign_id)
        kept = await repo.kept_contacts(session, campaign_id) if existing is not None else []
        rows = await repo.select_services(session, selection)
        services, unreadable = service_inputs(rows)
        request = PlanRequest(
            services=services,
            scenarios=scenarios,
            quotas=spec.quotas(),
            window_start=spec.window.start,
            window_end=spec.window.end,
            seed=spec.seed,
            rules=spec.planner_rules(),
            personas=[
                PersonaInput(personas[p.key], p.key, tuple(Channel(c) for c in p.channels))
                for p in spec.personas
            ],
            auditors=[
                AuditorInput(auditors[a.key], a.key, tuple(a.departements)) for a in spec.auditors
            ],
            fixed=[
                FixedContact(
                    k.service_id,
                    k.collectivity_id,
                    k.channel,
                    k.scenario_id,
                    k.wording,
                    k.persona_id,
                    k.auditor_id,
                    k.at,
                    k.status,
                )
                for k in kept
            ],
            not_before=now,
        )
        try:
            result = plan(request)
        except InfeasiblePlan as exc:
            raise UserError(f"cannot plan {spec.name!r}: {exc}") from exc
        if not dry_run:
            await repo.insert_contacts(session, campaign_id, result.contacts, now)
    return PlanOutcome(
        name=spec.name,
        dry_run=dry_run,
        plan=result,
        services={s.id: s for s in services},
        persona_keys={v: k for k, v in personas.items()},
        auditor_keys={v: k for k, v in auditors.items()},
        window=(spec.window.start, spec.window.end),
        deleted=deleted,
        kept=kept,
        unreadable_hours=unreadable,
    )


# --------------------------------------------------------------------------------------
# Summaries


def iso_week(at: datetime, tz: ZoneInfo) -> str:
    year, week, _ = at.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def week_monday(label: str) -> date:
    year, week = label.split("-W")
    return date.fromisocalendar(int(year), int(week), 1)


def plan_summary(outcome: PlanOutcome, tz: ZoneInfo) -> dict[str, Any]:
    """The figures `plan` prints, as plain data."""
    contacts = outcome.plan.contacts
    new = Counter(c.channel.value for c in contacts)
    kept = Counter(k.channel.value for k in outcome.kept)
    skipped = Counter(k.channel.value for k in outcome.plan.skipped)
    weeks: dict[str, Counter[str]] = {}
    for c in contacts:
        weeks.setdefault(iso_week(c.planned_at, tz), Counter())[c.channel.value] += 1
    personas: dict[str, Counter[str]] = {}
    auditors: dict[str, Counter[str]] = {}
    for c in contacts:
        if c.channel in WRITTEN and c.persona_id is not None:
            key = outcome.persona_keys.get(c.persona_id, str(c.persona_id))
            personas.setdefault(key, Counter())[c.channel.value] += 1
        elif c.channel in FIELD:
            who = "(unassigned)"
            if c.auditor_id is not None:
                who = outcome.auditor_keys.get(c.auditor_id, str(c.auditor_id))
            auditors.setdefault(who, Counter())[c.channel.value] += 1
    reasons = Counter((k.channel.value, k.reason.value) for k in outcome.plan.skipped)
    return {
        "name": outcome.name,
        "dry_run": outcome.dry_run,
        "window": {"start": outcome.window[0].isoformat(), "end": outcome.window[1].isoformat()},
        "services": len(outcome.services),
        "collectivities": len({s.collectivity_id for s in outcome.services.values()}),
        "contacts": len(contacts),
        "deleted": outcome.deleted,
        "kept": len(outcome.kept),
        "by_channel": {
            ch.value: {"new": new[ch.value], "kept": kept[ch.value], "skipped": skipped[ch.value]}
            for ch in CHANNEL_ORDER
        },
        "by_week": {w: dict(weeks[w]) for w in sorted(weeks)},
        "by_persona": {k: dict(personas[k]) for k in sorted(personas)},
        "by_auditor": {k: dict(auditors[k]) for k in sorted(auditors)},
        "skipped": [
            {"channel": ch, "reason": reason, "services": n}
            for (ch, reason), n in sorted(reasons.items())
        ],
        "uncovered": [
            {"channel": ch.value, "departement": dept, "contacts": n}
            for (ch, dept), n in sorted(outcome.plan.uncovered.items())
        ],
        "unreadable_hours": outcome.unreadable_hours,
    }


def _week_table(by_week: dict[str, dict[str, int]], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("ISO week")
    table.add_column("from")
    for ch in CHANNEL_ORDER:
        table.add_column(ch.value, justify="right")
    table.add_column("total", justify="right")
    for week, counts in by_week.items():
        values = [counts.get(ch.value, 0) for ch in CHANNEL_ORDER]
        table.add_row(week, f"{week_monday(week):%d/%m}", *map(str, values), str(sum(values)))
    return table


def _people_table(
    title: str, who: str, rows: dict[str, dict[str, int]], channels: Sequence[Channel]
) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(who)
    for ch in channels:
        table.add_column(ch.value, justify="right")
    table.add_column("total", justify="right")
    for key, counts in rows.items():
        values = [counts.get(ch.value, 0) for ch in channels]
        table.add_row(key, *map(str, values), str(sum(values)))
    return table


def print_plan_summary(summary: dict[str, Any]) -> None:
    verb = "would plan" if summary["dry_run"] else "planned"
    console.print(
        Text.assemble(
            "Campaign ",
            styled(summary["name"], "bold"),
            printable(
                f" ({summary['window']['start']} to {summary['window']['end']}): {verb} "
                f"{summary['contacts']} contacts for {summary['services']} services of "
                f"{summary['collectivities']} collectivities."
            ),
        )
    )
    if summary["deleted"] or summary["kept"]:
        deleted = "would delete" if summary["dry_run"] else "deleted"
        console.print(
            f"Re-plan: {deleted} {summary['deleted']} contacts not started yet, "
            f"kept {summary['kept']}."
        )
    table = Table(title="Per channel", title_justify="left")
    for column in ("channel", "new", "kept", "skipped services"):
        table.add_column(column, justify="left" if column == "channel" else "right")
    for ch, counts in summary["by_channel"].items():
        table.add_row(ch, str(counts["new"]), str(counts["kept"]), str(counts["skipped"]))
    console.print(table)
    console.print(_week_table(summary["by_week"], "Per ISO week (new contacts)"))
    if summary["by_persona"]:
        console.print(_people_table("Per persona", "persona", summary["by_persona"], WRITTEN))
    if summary["by_auditor"]:
        console.print(_people_table("Per auditor", "auditor", summary["by_auditor"], FIELD))
    if summary["skipped"]:
        table = Table(title="Skipped services", title_justify="left")
        table.add_column("channel")
        table.add_column("reason")
        table.add_column("services", justify="right")
        for row in summary["skipped"]:
            table.add_row(row["channel"], row["reason"], str(row["services"]))
        console.print(table)
    for row in summary["uncovered"]:
        console.print(
            Text.assemble(
                styled(f"No auditor covers département {row['departement']}:", "yellow"),
                f" {row['contacts']} {row['channel']} contacts left unassigned.",
            )
        )
    if summary["unreadable_hours"]:
        console.print(
            styled(
                f"{summary['unreadable_hours']} services have unreadable opening hours;"
                " the default hours were used.",
                "yellow",
            )
        )
    if summary["dry_run"]:
        console.print("Dry run: nothing was written.")


@app.command("plan")
def plan_command(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="Campaign file (.toml, .yaml or .yml)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Plan and print; write nothing."),
    replace: bool = typer.Option(
        False, "--replace", help="Re-plan an existing campaign, keeping what has started."
    ),
) -> None:
    """Create a campaign's contacts from its file and print a summary."""
    try:
        spec = load_campaign_file(file)
    except CampaignFileError as exc:
        fail(str(exc))

    async def work(database: Database, app_ctx: AppContext) -> PlanOutcome:
        scenarios = catalog_scenarios()
        try:
            return await plan_campaign(
                database,
                spec,
                scenarios,
                app_ctx.clock.now(),
                replace=replace,
                dry_run=dry_run,
            )
        except CampaignFileError as exc:
            raise UserError(str(exc).replace("campaign file:", f"{file}:", 1)) from exc

    outcome = run_with_db(ctx, work)
    tz = ZoneInfo(app_context(ctx).settings.timezone)
    print_plan_summary(plan_summary(outcome, tz))


# --------------------------------------------------------------------------------------
# show


async def gather_show(database: Database, name: str, tz: ZoneInfo) -> dict[str, Any]:
    """Everything `show` prints, as a plain dict with stable keys (JSON-ready)."""
    async with database.session() as session:
        campaign = await repo.find_campaign(session, name)
        if campaign is None:
            known = await repo.campaign_names(session)
            hint = f" (known: {', '.join(known)})" if known else " (there is none yet)"
            raise UserError(f"no campaign named {name!r}{hint}")
        statuses = await repo.counts_by_channel_status(session, campaign.id)
        times = await repo.planned_times(session, campaign.id)
        per_persona = await repo.counts_by_persona(session, campaign.id)
        per_auditor = await repo.counts_by_auditor(session, campaign.id)
        observed = await gather_observations(session, campaign.id)
        mail = await campaign_mail_summary(session, campaign.id)

    by_channel: dict[str, dict[str, Any]] = {}
    for ch in CHANNEL_ORDER:
        by_channel[ch.value] = {"total": 0, "by_status": {s.value: 0 for s in ContactStatus}}
    for channel, status, count in statuses:
        entry = by_channel.setdefault(channel, {"total": 0, "by_status": {}})
        entry["total"] += count
        entry["by_status"][status] = entry["by_status"].get(status, 0) + count
    weeks: dict[str, Counter[str]] = {}
    for channel, at in times:
        weeks.setdefault(iso_week(at, tz), Counter())[channel] += 1
    personas: dict[str, dict[str, int]] = {}
    for key, channel, count in per_persona:
        personas.setdefault(key, {ch.value: 0 for ch in WRITTEN})[channel] = count
    auditors: dict[str, dict[str, int]] = {}
    for auditor, channel, count in per_auditor:
        who = auditor if auditor is not None else "(unassigned)"
        auditors.setdefault(who, {ch.value: 0 for ch in FIELD})[channel] = count
    return {
        "campaign": {
            "name": campaign.name,
            "title": campaign.title,
            "state": campaign.state,
            "seed": campaign.seed,
            "window": {
                "start": campaign.window_start.isoformat(),
                "end": campaign.window_end.isoformat(),
            },
            "created_at": campaign.created_at.isoformat(),
            "planned_at": campaign.planned_at.isoformat(),
        },
        "contacts": sum(entry["total"] for entry in by_channel.values()),
        "by_channel": by_channel,
        "by_week": [
            {
                "week": week,
                "from": week_monday(week).isoformat(),
                **{ch.value: weeks[week][ch.value] for ch in CHANNEL_ORDER},
                "total": sum(weeks[week].values()),
            }
            for week in sorted(weeks)
        ],
        "by_persona": personas,
        "by_auditor": auditors,
        "observations": observed,
        "mail": mail,
    }


def print_show(data: dict[str, Any]) -> None:
    c = data["campaign"]
    title = f" — {c['title']}" if c["title"] else ""
    console.print(Text.assemble("Campaign ", styled(c["name"], "bold"), printable(title)))
    console.print(
        f"Window {c['window']['start']} to {c['window']['end']}, state {c['state']}, "
        f"seed {c['seed']}, planned {c['planned_at'][:16].replace('T', ' ')} UTC; "
        f"{data['contacts']} contacts."
    )
    used = [
        s.value
        for s in ContactStatus
        if any(entry["by_status"].get(s.value) for entry in data["by_channel"].values())
    ]
    table = Table(title="Per channel and status", title_justify="left")
    table.add_column("channel")
    for status in used:
        table.add_column(status, justify="right")
    table.add_column("total", justify="right")
    for ch, entry in data["by_channel"].items():
        values = [str(entry["by_status"].get(s, 0)) for s in used]
        table.add_row(ch, *values, str(entry["total"]))
    console.print(table)
    by_week = {row["week"]: row for row in data["by_week"]}
    console.print(_week_table(by_week, "Per ISO week (planned)"))
    if data["by_persona"]:
        console.print(_people_table("Per persona", "persona", data["by_persona"], WRITTEN))
    if data["by_auditor"]:
        console.print(_people_table("Per auditor", "auditor", data["by_auditor"], FIELD))
    if data.get("observations"):
        print_observations(data["observations"])
    _print_mail(data["mail"])


def _print_mail(mail: dict[str, Any]) -> None:
    """Mailboxes: the census (server count vs stored), triage and quarantine."""
    if not mail["mailboxes"]:
        return
    table = Table(title="Mailboxes (census)", title_justify="left")
    for column in ("persona", "folder", "on server", "stored", "gap", "checked (UTC)"):
        table.add_column(column)
    for m in mail["mailboxes"]:
        server = "?" if m["server_count"] is None else str(m["server_count"])
        gap = "?" if m["gap"] is None else str(m["gap"])
        checked = (m["checked_at"] or "")[:16].replace("T", " ")
        table.add_row(m["persona"], m["folder"], server, str(m["stored"]), gap, checked)
    console.print(table)
    if mail["gaps"]:
        gaps = f"{mail['gaps']} message(s) on the servers are not stored."
        console.print(styled(gaps, "bold red"))
    console.print(
        f"Triage: {mail['triage_pending']} pending; quarantined: {mail['quarantined']}; "
        f"not processed yet: {mail['unprocessed']}."
    )


@app.command("show")
def show_command(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Campaign name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (stable keys)."),
) -> None:
    """Show a campaign: window, contacts per channel and status, per week, per person."""

    async def work(database: Database, app_ctx: AppContext) -> dict[str, Any]:
        return await gather_show(database, name, ZoneInfo(app_ctx.settings.timezone))

    data = run_with_db(ctx, work)
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print_show(data)


# --------------------------------------------------------------------------------------
# close


@app.command("close")
def close_command(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Campaign name."),
    at: str = typer.Option(None, "--at", help="Close time, ISO 8601 with a zone (default: now)."),
) -> None:
    """Close a campaign: contacts still unanswered are censored at the close time.

    They are kept, never dropped: statistics count them as "no answer within N days".
    Closing again keeps the first close time.
    """
    when: datetime | None = None
    if at is not None:
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            fail(f"--at {at!r} is not an ISO 8601 date-time")
        if when.tzinfo is None:
            fail(f"--at {at!r} has no time zone (add Z or +01:00)")
        if not FIRST_YEAR <= when.year <= LAST_YEAR:
            fail(f"--at {at!r}: a time between {FIRST_YEAR} and {LAST_YEAR}")

    async def work(database: Database, app_ctx: AppContext) -> repo.CloseResult:
        async with database.session() as session:
            found = await repo.find_campaign(session, name)
            if found is None:
                raise UserError(f"no campaign named {name!r}")
            return await repo.close_campaign(session, found.id, when or app_ctx.clock.now())

    result = run_with_db(ctx, work)
    tz = ZoneInfo(app_context(ctx).settings.timezone)
    local = result.closed_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    if result.already_closed:
        typer.echo(f"Campaign {name} was already closed on {local}.")
    typer.echo(
        f"Campaign {name} closed on {local}: {result.censored} contact(s) sent and unanswered "
        f"are censored at that time; {result.never_sent} never went out."
    )
