"""Pieces `campaign plan` and `campaign show` share: weeks, people tables, an unknown name."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from rich.table import Table

from temoin.cli.words import Words

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from scenarios.domain import Channel

UNASSIGNED = "(unassigned)"  # the key of contacts no auditor holds, in summaries and JSON


def iso_week(at: datetime, tz: ZoneInfo) -> str:
    year, week, _ = at.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def week_monday(label: str) -> date:
    year, week = label.split("-W")
    return date.fromisocalendar(int(year), int(week), 1)


def week_table(by_week: dict[str, dict[str, int]], title: str, w: Words) -> Table:
    from scenarios.planning import CHANNEL_ORDER

    table = Table(title=title, title_justify="left")
    table.add_column(w("cli.plan.week"))
    table.add_column(w("cli.plan.from"))
    for ch in CHANNEL_ORDER:
        table.add_column(w.channel(ch.value), justify="right")
    table.add_column(w("cli.plan.total"), justify="right")
    for week, counts in by_week.items():
        values = [counts.get(ch.value, 0) for ch in CHANNEL_ORDER]
        table.add_row(week, w.f.date(week_monday(week)), *map(w.f.number, values),
                      w.f.number(sum(values)))  # fmt: skip
    return table


def people_table(
    title: str, who: str, rows: dict[str, dict[str, int]], channels: Sequence[Channel], w: Words
) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(who)
    for ch in channels:
        table.add_column(w.channel(ch.value), justify="right")
    table.add_column(w("cli.plan.total"), justify="right")
    for key, counts in rows.items():
        values = [counts.get(ch.value, 0) for ch in channels]
        shown = w("cli.plan.unassigned") if key == UNASSIGNED else key
        table.add_row(shown, *map(w.f.number, values), w.f.number(sum(values)))
    return table


async def unknown_campaign(session: AsyncSession, name: str, w: Words) -> str:
    """« aucune campagne nommée « x » (connues : a, b) »."""
    from storage import campaigns as repo

    known = await repo.campaign_names(session)
    hint = w("cli.campaign.known", names=", ".join(known)) if known else w("cli.campaign.none_yet")
    return w("cli.campaign.unknown", name=name, known=hint)
