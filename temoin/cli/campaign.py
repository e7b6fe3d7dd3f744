"""`temoin campaign …`: plan a campaign from its file, then look at it.

``plan FILE [--dry-run] [--replace]``: the use case ``temoin.planning.plan_campaign``, then
its summary. A file error, an unknown scenario or rules that cannot hold exit 1 and write
nothing. ``--dry-run`` reads only and prints the same summary. Planning a name that exists is
refused unless ``--replace``, which re-plans only what has not started yet.

``show NAME [--json]``: the campaign, its window and its contacts per channel and status,
the emails waiting and why (held for our provider since when, retried, deferred: worded from
the translation catalogue, ``cli.waiting``), per ISO week (local weeks of the display time
zone), per persona and per auditor. The data comes from ``gather_show`` as a plain dict, so
later sections add keys there.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table
from rich.text import Text

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

if TYPE_CHECKING:
    from scenarios.domain import Channel
    from storage import campaigns as repo
    from storage.db import Database
    from temoin.planning import PlanOutcome

app = typer.Typer(
    rich_markup_mode=None, no_args_is_help=True, help="Plan campaigns and follow them."
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
    from scenarios.planning import CHANNEL_ORDER, FIELD, WRITTEN

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
    from scenarios.planning import CHANNEL_ORDER

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
    from scenarios.planning import FIELD, WRITTEN

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
    from scenarios.campaign_file import CampaignFileError, load_campaign_file
    from temoin.planning import catalog_scenarios, plan_campaign

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
    from scenarios.domain import ContactStatus
    from scenarios.planning import CHANNEL_ORDER, FIELD, WRITTEN
    from storage import campaigns as repo
    from storage.dispatch_status import waiting_steps
    from storage.mail_census import campaign_mail_summary
    from temoin.cli.observations import gather_observations
    from temoin.cli.waiting import summarize

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
        waiting = summarize(await waiting_steps(session, campaign.id))

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
        "waiting": waiting,
    }


def print_show(
    data: dict[str, Any],
    *,
    locale: str = "fr",
    tz: ZoneInfo | None = None,
    now: datetime | None = None,
) -> None:
    from scenarios.domain import ContactStatus
    from scenarios.planning import FIELD, WRITTEN
    from temoin.cli.observations import print_observations

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
    if data.get("waiting"):
        _print_waiting(data["waiting"], locale, tz or ZoneInfo("Europe/Paris"), now)
    by_week = {row["week"]: row for row in data["by_week"]}
    console.print(_week_table(by_week, "Per ISO week (planned)"))
    if data["by_persona"]:
        console.print(_people_table("Per persona", "persona", data["by_persona"], WRITTEN))
    if data["by_auditor"]:
        console.print(_people_table("Per auditor", "auditor", data["by_auditor"], FIELD))
    if data.get("observations"):
        print_observations(data["observations"])
    _print_mail(data["mail"])


def _print_waiting(
    entries: list[dict[str, Any]], locale: str, tz: ZoneInfo, now: datetime | None
) -> None:
    """Why emails wait (held for our provider, retried, deferred), one line per reason."""
    from datetime import UTC

    from rich.markup import escape

    from scenarios.i18n import Translator
    from temoin.cli.waiting import waiting_lines

    console.print(Translator(locale)("cli.waiting.title"), style="bold")
    for line in waiting_lines(entries, locale, tz, now or datetime.now(UTC)):
        console.print(f"  {escape(line)}")  # the provider's words are not ours to mark up


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
        app = app_context(ctx)
        print_show(data, locale=app.settings.locale, tz=ZoneInfo(app.settings.timezone),
                   now=app.clock.now())  # fmt: skip


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
    from storage import campaigns as repo

    when: datetime | None = None
    if at is not None:
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            fail(f"--at {at!r} is not an ISO 8601 date-time")
        if when.tzinfo is None:
            fail(f"--at {at!r} has no time zone (add Z or +01:00)")
        from scenarios.campaign_file import FIRST_YEAR, LAST_YEAR

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
