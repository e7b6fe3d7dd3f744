"""`temoin campaign list` and `temoin campaign show`: where campaigns stand, in words.

``list``: every campaign with its state (derived from what happened: ``scenarios.progress``),
window, contacts, what went out and what was answered.

``show NAME``: short by default, what a coordinator needs on a given morning: the state,
per channel what was planned, sent or done, is due today, is late, was answered; what is due
or late in one line each; the emails held and why (``cli.waiting``); what waits for a person
(triage, answers never reviewed, corrections asked of auditors, quarantine). ``--details``
adds the statuses, the weeks, the personas and auditors, every call's and visit's grid (in
words: choices by their labels, durations as durations, photos as « photo jointe »), and the
mailboxes' census. ``--json`` prints everything as plain data (stable keys).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table
from rich.text import Text

from temoin.cli.campaign_tables import (
    UNASSIGNED,
    iso_week,
    people_table,
    unknown_campaign,
    week_monday,
    week_table,
)
from temoin.cli.common import (
    AppContext,
    UserError,
    app_context,
    console,
    json_text,
    printable,
    run_with_db,
    styled,
)
from temoin.cli.words import Words, lines, words

if TYPE_CHECKING:
    from storage.db import Database


# --------------------------------------------------------------------------------------
# list


def list_command(
    ctx: typer.Context,
    as_json: bool = typer.Option(
        False, "--json", help="cli.help.campaign_show.list_command.as_json"
    ),
) -> None:
    """List the campaigns: state, window, contacts sent and answered."""
    from scenarios.progress import campaign_state
    from storage.progress import campaign_lines

    async def work(database: Database, app_ctx: AppContext) -> list[dict[str, Any]]:
        today = app_ctx.clock.now().astimezone(ZoneInfo(app_ctx.settings.timezone)).date()
        async with database.session() as session:
            lines = await campaign_lines(session)
        return [
            {
                "name": c.name,
                "title": c.title,
                "state": campaign_state(
                    closed=c.closed_at is not None,
                    contacts=c.contacts,
                    started=c.started,
                    window_start=c.window_start,
                    today=today,
                ),
                "window": {"start": c.window_start.isoformat(), "end": c.window_end.isoformat()},
                "closed_at": c.closed_at.isoformat() if c.closed_at else None,
                "contacts": c.contacts,
                "started": c.started,
                "answered": c.answered,
            }
            for c in lines
        ]

    rows = run_with_db(ctx, work)
    if as_json:
        typer.echo(json_text(rows))
        return
    w = words(app_context(ctx))
    if not rows:
        console.print(w("cli.campaign.list_none"))
        return
    # One line per campaign, not a table: names and periods are long, and a table would
    # cut them (or the figures) in an 80-column terminal.
    console.print(w("cli.campaign.list_title"), style="bold")
    for r in rows:
        state = w.state(r["state"])
        if r["closed_at"]:
            state = w(
                "cli.campaign.closed_state", date=w.f.date(datetime.fromisoformat(r["closed_at"]))
            )
        console.print(
            w("cli.campaign.list_line", name=r["name"], state=state,
              start=_day(w, r["window"]["start"]), end=_day(w, r["window"]["end"]),
              contacts=w.f.number(r["contacts"]), done=w.f.number(r["started"]),
              answered=w.f.number(r["answered"]))
        )  # fmt: skip


def _day(w: Words, iso: str) -> str:
    return w.f.date(date.fromisoformat(iso))


# --------------------------------------------------------------------------------------
# show: the data


async def gather_show(
    database: Database,
    name: str,
    tz: ZoneInfo,
    now: datetime | None = None,
    w: Words | None = None,
) -> dict[str, Any]:
    """Everything `show` prints, as a plain dict with stable keys (JSON-ready)."""
    from scenarios.domain import ContactStatus
    from scenarios.planning import CHANNEL_ORDER, FIELD, WRITTEN
    from scenarios.progress import progress
    from storage import campaigns as repo
    from storage import progress as progress_repo
    from storage.dispatch_status import waiting_steps
    from storage.mail_census import campaign_mail_summary
    from temoin.cli.observations import gather_observations
    from temoin.cli.waiting import summarize

    w = w or Words()
    now = now or datetime.now(UTC)
    async with database.session() as session:
        campaign = await repo.find_campaign(session, name)
        if campaign is None:
            raise UserError(await unknown_campaign(session, name, w))
        statuses = await repo.counts_by_channel_status(session, campaign.id)
        times = await repo.planned_times(session, campaign.id)
        per_persona = await repo.counts_by_persona(session, campaign.id)
        per_auditor = await repo.counts_by_auditor(session, campaign.id)
        observed = await gather_observations(session, campaign.id, w)
        mail = await campaign_mail_summary(session, campaign.id)
        waiting = summarize(await waiting_steps(session, campaign.id))
        states = await progress_repo.contact_states(session, campaign.id)
        corrections = await progress_repo.corrections_asked(session, campaign.id)
        reviews = await progress_repo.answers_to_review(session, campaign.id)

    where = progress(states, closed=campaign.closed_at is not None,
                     window_start=campaign.window_start, now=now, tz=tz)  # fmt: skip
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
        who = auditor if auditor is not None else UNASSIGNED
        auditors.setdefault(who, {ch.value: 0 for ch in FIELD})[channel] = count
    return {
        "campaign": {
            "name": campaign.name,
            "title": campaign.title,
            "state": where.state,
            "seed": campaign.seed,
            "window": {
                "start": campaign.window_start.isoformat(),
                "end": campaign.window_end.isoformat(),
            },
            "created_at": campaign.created_at.isoformat(),
            "planned_at": campaign.planned_at.isoformat(),
            "closed_at": campaign.closed_at.isoformat() if campaign.closed_at else None,
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
        "as_of": now.isoformat(),
        "progress": [c.as_dict() for c in where.channels],
        "needs_person": {
            "triage": mail["triage_pending"],
            "reviews": reviews,
            "corrections": corrections,
            "quarantined": mail["quarantined"],
            "unprocessed": mail["unprocessed"],
        },
        "observations": observed,
        "mail": mail,
        "waiting": waiting,
    }


# --------------------------------------------------------------------------------------
# show: the words


def print_show(
    data: dict[str, Any], w: Words, now: datetime | None = None, *, details: bool = False
) -> None:
    c = data["campaign"]
    heading = styled(w("cli.campaign.title", name=c["name"]), "bold")
    console.print(Text.assemble(heading, printable(f" — {c['title']}") if c["title"] else ""))
    console.print(
        w("cli.campaign.window", start=_day(w, c["window"]["start"]),
          end=_day(w, c["window"]["end"]), state=w.state(c["state"]),
          contacts=w.f.number(data["contacts"]))
    )  # fmt: skip
    if c.get("closed_at"):
        console.print(w("cli.campaign.closed_on", date=w.when(c["closed_at"])))
    _print_progress(data, w)
    if data.get("waiting"):
        _print_waiting(data["waiting"], w, now)
    _print_needs(data, w)
    if details:
        _print_details(data, w)
    else:
        console.print(styled(w("cli.campaign.details_hint", name=c["name"]), "dim"))


def _print_progress(data: dict[str, Any], w: Words) -> None:
    closed = data["campaign"].get("closed_at") is not None
    rows = data["progress"]
    title = (
        w("cli.campaign.progress_closed")
        if closed
        else w("cli.campaign.progress", date=w.when(data["as_of"]))
    )
    table = Table(title=title, title_justify="left")
    table.add_column(w("cli.campaign.channel"), min_width=9)
    columns = ["planned", "done", "answered"]
    columns += ["not_done"] if closed else ["due_today", "late", "upcoming"]
    for column in columns:
        table.add_column(lines(w(f"cli.campaign.{column}"), 10), justify="right", no_wrap=True)
    for row in rows:
        values = {
            "planned": row["planned"],
            "done": row["done"],
            "answered": row["answered"],
            "not_done": row["not_done_at_close"],
            "due_today": row["due_today"],
            "late": row["late"],
            "upcoming": row["upcoming"],
        }
        table.add_row(
            w.channel(row["channel"]),
            *("–" if values[col] is None else w.f.number(values[col]) for col in columns),
        )
    console.print(table)
    if closed:
        return
    due = _parts(rows, "due_today", w)
    late = _parts(rows, "late", w)
    if not due and not late:
        console.print(w("cli.campaign.nothing_due"))
    if due:
        console.print(w("cli.campaign.due_line", parts=due))
    if late:
        console.print(styled(w("cli.campaign.late_line", parts=late), "yellow"))


def _parts(rows: list[dict[str, Any]], key: str, w: Words) -> str:
    return ", ".join(
        w("cli.campaign.part", count=w.f.number(r[key]), channel=w.channel(r["channel"]).lower())
        for r in rows
        if r[key]
    )


def _print_needs(data: dict[str, Any], w: Words) -> None:
    needs = data["needs_person"]
    lines = [
        w(f"cli.campaign.{key}", count=w.f.number(needs[key]))
        for key in ("triage", "reviews", "corrections", "quarantined", "unprocessed")
        if needs[key]
    ]
    gaps = data["mail"].get("gaps")
    if gaps:
        lines.append(w("cli.campaign.gaps", count=w.f.number(gaps)))
    if not lines:
        console.print(w("cli.campaign.nothing_for_person"))
        return
    console.print(w("cli.campaign.needs_person"), style="bold")
    for line in lines:
        console.print(f"  • {line}")


def _print_waiting(entries: list[dict[str, Any]], w: Words, now: datetime | None) -> None:
    """Why emails wait (held for our provider, retried, deferred), one line per reason."""
    from temoin.cli.waiting import waiting_lines

    console.print(w("cli.waiting.title"), style="bold")
    for line in waiting_lines(entries, w.locale, w.f.tz, now or datetime.now(UTC)):
        console.print(f"  {line}")  # SafeConsole: the provider's words are shown as written


def _print_details(data: dict[str, Any], w: Words) -> None:
    from scenarios.domain import ContactStatus
    from scenarios.planning import FIELD, WRITTEN
    from temoin.cli.observations import print_observations

    used = [
        s.value
        for s in ContactStatus
        if any(entry["by_status"].get(s.value) for entry in data["by_channel"].values())
    ]
    table = Table(title=w("cli.campaign.per_status"), title_justify="left")
    table.add_column(w("cli.campaign.channel"))
    for status in used:
        table.add_column(w.status(status), justify="right")
    table.add_column(w("cli.plan.total"), justify="right")
    for ch, entry in data["by_channel"].items():
        values = [w.f.number(entry["by_status"].get(s, 0)) for s in used]
        table.add_row(w.channel(ch), *values, w.f.number(entry["total"]))
    console.print(table)
    by_week = {row["week"]: row for row in data["by_week"]}
    console.print(week_table(by_week, w("cli.plan.per_week_planned"), w))
    if data["by_persona"]:
        console.print(people_table(w("cli.plan.per_persona"), w("cli.plan.persona"),
                                   data["by_persona"], WRITTEN, w))  # fmt: skip
    if data["by_auditor"]:
        console.print(people_table(w("cli.plan.per_auditor"), w("cli.plan.auditor"),
                                   data["by_auditor"], FIELD, w))  # fmt: skip
    if data.get("observations"):
        print_observations(data["observations"], w)
    _print_mail(data["mail"], w)


def _print_mail(mail: dict[str, Any], w: Words) -> None:
    """Mailboxes: the census (server count vs stored)."""
    if not mail["mailboxes"]:
        return
    table = Table(title=w("cli.campaign.mailboxes"), title_justify="left")
    for key in ("cli.plan.persona", "cli.campaign.folder", "cli.campaign.on_server",
                "cli.campaign.stored", "cli.campaign.gap", "cli.campaign.checked"):  # fmt: skip
        table.add_column(w(key))
    for m in mail["mailboxes"]:
        server = "?" if m["server_count"] is None else w.f.number(m["server_count"])
        gap = "?" if m["gap"] is None else w.f.number(m["gap"])
        table.add_row(m["persona"], m["folder"], server, w.f.number(m["stored"]), gap,
                      w.when(m["checked_at"]))  # fmt: skip
    console.print(table)


def show_command(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="cli.help.campaign_show.show_command.name"),
    details: bool = typer.Option(
        False, "--details", help="cli.help.campaign_show.show_command.details"
    ),
    as_json: bool = typer.Option(
        False, "--json", help="cli.help.campaign_show.show_command.as_json"
    ),
) -> None:
    """Where a campaign stands: progress per channel, what is due or late, what needs you."""

    async def work(database: Database, app_ctx: AppContext) -> dict[str, Any]:
        tz = ZoneInfo(app_ctx.settings.timezone)
        return await gather_show(database, name, tz, app_ctx.clock.now(), words(app_ctx))

    data = run_with_db(ctx, work)
    if as_json:
        typer.echo(json_text(data))
        return
    app = app_context(ctx)
    print_show(data, words(app), app.clock.now(), details=details)
