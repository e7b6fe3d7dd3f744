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

from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table
from rich.text import Text

from temoin.cli import campaign_show
from temoin.cli.campaign_tables import (
    UNASSIGNED,
    iso_week,
    people_table,
    unknown_campaign,
    week_table,
)
from temoin.cli.common import (
    AppContext,
    UserError,
    app_context,
    console,
    fail,
    run_with_db,
    styled,
)
from temoin.cli.words import Words, words

if TYPE_CHECKING:
    from storage import campaigns as repo
    from storage.db import Database
    from temoin.planning import PlanOutcome

app = typer.Typer(rich_markup_mode=None, no_args_is_help=True, help="cli.help.campaign.about")


# --------------------------------------------------------------------------------------
# Summaries


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
            who = UNASSIGNED
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


def print_plan_summary(summary: dict[str, Any], w: Words | None = None) -> None:
    from scenarios.planning import FIELD, WRITTEN

    w = w or Words()
    window = summary["window"]
    line = w(
        "cli.plan.would_plan" if summary["dry_run"] else "cli.plan.planned",
        name=summary["name"],
        start=w.f.date(date.fromisoformat(window["start"])),
        end=w.f.date(date.fromisoformat(window["end"])),
        contacts=w.f.number(summary["contacts"]),
        services=w.f.number(summary["services"]),
        collectivities=w.f.number(summary["collectivities"]),
    )
    console.print(line)
    if summary["deleted"] or summary["kept"]:
        key = "cli.plan.would_replan" if summary["dry_run"] else "cli.plan.replanned"
        console.print(w(key, deleted=w.f.number(summary["deleted"]),
                        kept=w.f.number(summary["kept"])))  # fmt: skip
    table = Table(title=w("cli.plan.per_channel"), title_justify="left")
    table.add_column(w("cli.key.channel"))
    for column in ("new", "kept", "skipped_services"):
        table.add_column(w(f"cli.plan.{column}"), justify="right")
    for ch, counts in summary["by_channel"].items():
        table.add_row(w.channel(ch), w.f.number(counts["new"]), w.f.number(counts["kept"]),
                      w.f.number(counts["skipped"]))  # fmt: skip
    console.print(table)
    console.print(week_table(summary["by_week"], w("cli.plan.per_week"), w))
    if summary["by_persona"]:
        console.print(people_table(w("cli.plan.per_persona"), w("cli.plan.persona"),
                                    summary["by_persona"], WRITTEN, w))  # fmt: skip
    if summary["by_auditor"]:
        console.print(people_table(w("cli.plan.per_auditor"), w("cli.plan.auditor"),
                                    summary["by_auditor"], FIELD, w))  # fmt: skip
    if summary["skipped"]:
        table = Table(title=w("cli.plan.skipped"), title_justify="left")
        table.add_column(w("cli.key.channel"))
        table.add_column(w("cli.plan.reason"))
        table.add_column(w("cli.plan.services"), justify="right")
        for row in summary["skipped"]:
            table.add_row(w.channel(row["channel"]), _skip_reason(w, row["reason"]),
                          w.f.number(row["services"]))  # fmt: skip
        console.print(table)
    for row in summary["uncovered"]:
        console.print(
            Text.assemble(
                styled(w("cli.plan.uncovered", departement=row["departement"]), "yellow"),
                w("cli.plan.uncovered_rest", contacts=w.f.number(row["contacts"]),
                  channel=w.channel(row["channel"]).lower()),
            )
        )  # fmt: skip
    if summary["unreadable_hours"]:
        console.print(styled(w("cli.plan.unreadable_hours", count=summary["unreadable_hours"]),
                             "yellow"))  # fmt: skip
    if summary["dry_run"]:
        console.print(w("cli.plan.dry_run"))


def _skip_reason(w: Words, reason: str) -> str:
    from scenarios.plan_model import SkipReason

    try:
        return w(f"cli.skip.{SkipReason(reason).name}")
    except ValueError:
        return reason


@app.command("plan", help="cli.help.campaign.plan_command.about")
def plan_command(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="cli.help.campaign.plan_command.file"),
    dry_run: bool = typer.Option(False, "--dry-run", help="cli.help.campaign.plan_command.dry_run"),
    replace: bool = typer.Option(False, "--replace", help="cli.help.campaign.plan_command.replace"),
) -> None:
    """Create a campaign's contacts from its file and print a summary."""
    from scenarios.campaign_file import CampaignFileError, load_campaign_file
    from temoin.cli.plan_refusal import refusal_message
    from temoin.planning import (
        CampaignExists,
        PersonaTaken,
        PlanRefused,
        catalog_scenarios,
        plan_campaign,
    )

    try:
        spec = load_campaign_file(file)
    except CampaignFileError as exc:
        fail(exc.said(words(app_context(ctx)).t))

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
            raise UserError(exc.at(file).said(words(app_ctx).t)) from exc
        except PlanRefused as exc:
            raise UserError(refusal_message(exc, words(app_ctx))) from exc
        except PersonaTaken as exc:
            c = exc.conflict
            said = words(app_ctx)("cli.campaign.persona_taken", key=c.key, email=c.email,
                                  other=c.other)  # fmt: skip
            raise UserError(said) from exc
        except CampaignExists as exc:
            w = words(app_ctx)
            said = w("cli.campaign.exists", name=exc.name, day=w.f.date(exc.planned_at))
            raise UserError(said) from exc

    outcome = run_with_db(ctx, work)
    app_ctx = app_context(ctx)
    tz = ZoneInfo(app_ctx.settings.timezone)
    print_plan_summary(plan_summary(outcome, tz), words(app_ctx))


app.command("list", help="cli.help.campaign_show.list_command.about")(campaign_show.list_command)
app.command("show", help="cli.help.campaign_show.show_command.about")(campaign_show.show_command)


# --------------------------------------------------------------------------------------
# close


@app.command("close", help="cli.help.campaign.close_command.about")
def close_command(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="cli.help.campaign.close_command.name"),
    at: str = typer.Option(None, "--at", help="cli.help.campaign.close_command.at"),
) -> None:
    """Close a campaign: contacts still unanswered are censored at the close time.

    They are kept, never dropped: statistics count them as "no answer within N days".
    Closing again keeps the first close time.
    """
    from storage import campaigns as repo

    when: datetime | None = None
    if at is not None:
        said = words(app_context(ctx))
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            fail(said("cli.campaign.bad_at", at=at))
        if when.tzinfo is None:
            fail(said("cli.campaign.at_without_zone", at=at))
        from scenarios.campaign_file import FIRST_YEAR, LAST_YEAR

        if not FIRST_YEAR <= when.year <= LAST_YEAR:
            fail(said("cli.campaign.at_out_of_range", at=at, first=FIRST_YEAR, last=LAST_YEAR))

    async def work(database: Database, app_ctx: AppContext) -> tuple[repo.CloseResult, bool]:
        from reports.figures_store import ensure_kept
        from storage.stats import campaign_info
        from temoin.cli.reports import _catalog

        async with database.session() as session:
            found = await repo.find_campaign(session, name)
            if found is None:
                raise UserError(await unknown_campaign(session, name, words(app_ctx)))
            closed = await repo.close_campaign(session, found.id, when or app_ctx.clock.now())
        # The barometer's national and peer figures, computed once now for the portal
        # (reports.figures_store) rather than by its first visitor.
        async with database.session() as session:
            info = await campaign_info(session, campaign_id=found.id)
        assert info is not None
        reports = app_ctx.settings.reports
        kept = await ensure_kept(
            database, info, min_cell=reports.min_cell, strata=reports.strata,
            catalog=_catalog(), at=app_ctx.clock.now(),
        )  # fmt: skip
        return closed, kept

    result, kept = run_with_db(ctx, work)
    w = words(app_context(ctx))
    local = w.f.datetime(result.closed_at)
    if result.already_closed:
        console.print(w("cli.campaign.already_closed", name=name, date=local))
    console.print(
        w("cli.campaign.closed", name=name, date=local, censored=w.f.number(result.censored),
          never_sent=w.f.number(result.never_sent), tasks=w.f.number(result.tasks))
    )  # fmt: skip
    console.print(w("cli.campaign.figures_kept" if kept else "cli.campaign.figures_moved"))
