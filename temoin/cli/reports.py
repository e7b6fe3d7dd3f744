"""`temoin stats`, `temoin export`, `temoin report`: the figures a coordinator can publish.

``stats CAMPAIGN [--by KEYS]... [--min-cell N] [--json] [--previous CAMPAIGN]``: one table
per grouping (``--by`` may be repeated; each value is one grouping, its keys joined by commas, e.g.
``--by channel --by channel,stratum``; default: overall, channel, stratum and
channel × stratum). Small cells are flagged and never ranked. ``--json`` prints the
tables with stable keys (``reports.cells.COLUMNS`` for the rows).

``export CAMPAIGN --format csv|xlsx|parquet|json --level contacts|stats --out PATH
[--profile excel|raw] [--previous CAMPAIGN]``: streamed files with their metadata
(``reports.exports``); excel (``--excel``, the default when the locale is fr) for a
spreadsheet, raw for scripts. ``--previous`` (stats level, and for ``stats`` too) adds the
evolution columns of ``reports.evolution``: each cell against the previous campaign's cell
with the same keys.

``report CAMPAIGN --out FILE.html|FILE.pdf [--previous CAMPAIGN] [--collectivity CODE]``:
the national barometer, or one collectivity's own (``reports.render``).

A campaign still open is reported as of the clock's time (unanswered requests censored then);
a closed one as of its close. Settings: ``[reports]`` ``strata``, ``min_cell``,
``min_peers``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from reports.formats import FORMATS, LEVELS
from reports.outputs import OutputError, check_target
from temoin.cli.common import (
    AppContext,
    UserError,
    app_context,
    console,
    fail,
    json_text,
    run_with_db,
)
from temoin.cli.words import Words, lines, words

if TYPE_CHECKING:
    from reports.cells import Cell
    from reports.evolution import Previous
    from scenarios.catalog import Catalog
    from storage.db import Database
    from storage.stats import CampaignInfo

__all__ = ["export_command", "parse_groupings", "report", "stats"]


def parse_groupings(values: Sequence[str], w: Words) -> tuple[tuple[str, ...], ...]:
    """``["channel", "channel,stratum", ""]`` -> ``(("channel",), ("channel", "stratum"), ())``."""
    from reports.cells import GROUP_KEYS
    from reports.exports import DEFAULT_GROUPINGS

    if not values:
        return DEFAULT_GROUPINGS
    out: list[tuple[str, ...]] = []
    for value in values:
        keys = tuple(k.strip() for k in value.split(",") if k.strip())
        unknown = [k for k in keys if k not in GROUP_KEYS]
        if unknown:
            fail(w("cli.stats.unknown_key", key=unknown[0], known=", ".join(GROUP_KEYS)))
        if len(set(keys)) != len(keys):
            fail(w("cli.stats.repeated_key", value=value))
        if keys not in out:
            out.append(keys)
    return tuple(out)


def _catalog() -> Catalog:
    from scenarios.catalog import CatalogError, load_catalog

    try:
        return load_catalog()
    except CatalogError as exc:
        raise UserError(str(exc)) from exc


async def _campaign(database: Database, name: str, w: Words) -> CampaignInfo:
    from storage.stats import campaign_info
    from temoin.cli.campaign_tables import unknown_campaign

    async with database.session() as session:
        found = await campaign_info(session, name)
        if found is None:
            raise UserError(await unknown_campaign(session, name, w))
    return found


def display_ranks(by: tuple[str, ...], cells: list[Cell]) -> dict[int, int]:
    """Ranks (1 = best score) of ``cells`` shown by ``stats``: among the cells of the same
    channel only (an email cell is never ranked against a visit cell); none when each
    channel has a single ranked cell (the overall row, a table by channel alone)."""
    groups: dict[str | None, list[tuple[float, int]]] = {}
    for index, cell in enumerate(cells):
        if cell.small or cell.score is None:
            continue
        channel = cell.key("channel") if "channel" in by else None
        groups.setdefault(channel, []).append((cell.score, index))
    ranks: dict[int, int] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda vi: -vi[0])
        previous: float | None = None
        rank = 0
        for position, (value, index) in enumerate(members, start=1):
            if value != previous:
                rank, previous = position, value
            ranks[index] = rank
    return ranks


def _key_shown(w: Words, key: str, value: str | None) -> str:
    from scenarios.typography import french

    if value is None:
        return "–"
    if key == "channel":
        return w.channel(value)
    return french(value) if w.f.french else value  # « 10 000 » kept whole


def _table(
    by: tuple[str, ...], cells: list[Cell], w: Words, before: Previous | None = None
) -> tuple[Table, bool]:
    """The table of one grouping, and whether it shows ranks; with ``before`` (a previous
    campaign's cells), the change of the response rate and of the score."""
    keys = " × ".join(w(f"cli.key.{k}").lower() for k in by)
    title = w("cli.stats.by", keys=keys) if by else w("cli.stats.overall")
    ranks = display_ranks(by, cells)
    table = Table(title=title, title_justify="left")
    # Every column is no_wrap and its texts are broken by hand at ordinary spaces only
    # (``lines``): rich breaks at any Unicode space, the no-break ones too, and printed
    # « 10 000 à 50 / 000 hab. ». The rate and its interval share a column.
    for key in by:
        table.add_column(lines(w(f"cli.key.{key}")), no_wrap=True)
    for name in ("n", "response", "in_target", "km_median", "pickup", "score"):
        table.add_column(lines(w(f"cli.stats.{name}")), justify="right", no_wrap=True)
    if ranks:
        table.add_column(lines(w("cli.stats.rank")), justify="right", no_wrap=True)
    previous = before.get(by, {}) if before is not None else None
    if previous is not None:
        for name in ("cli_response", "cli_score"):
            table.add_column(lines(w(f"report.evolution.{name}")), justify="right", no_wrap=True)
    f = w.f
    for index, cell in enumerate(cells):
        response = cell.response
        rate = f.percent(response.rate)
        if response.low is not None and response.high is not None:
            rate += f"\n{f.number(100 * response.low, 1)}–{f.number(100 * response.high, 1)}"
        km = cell.answer_bdays.km.median if cell.written_delivered else None
        rank = w("cli.stats.small") if cell.small else str(ranks.get(index, "–"))
        row = [
            *(lines(_key_shown(w, k, cell.key(k)), 20) for k in by),
            f.number(cell.delivered),
            rate,
            f.percent(cell.answered_within_target.rate),
            f.number(km, 1) if km is not None else "–",
            f.percent(cell.phone.picked_up.rate),
            f.number(cell.score, 1) if cell.score is not None else "–",
        ]
        if ranks:
            row.append(rank)
        if previous is not None:
            from reports.evolution import evolution_row

            change = evolution_row(cell, previous.get(cell.keys))
            score = _float(change["change_score"])
            row.append(f.points(_float(change["change_response_rate"])))
            row.append(f.points(None if score is None else score / 100.0))
        table.add_row(*row, style="dim" if cell.small else None)
    return table, bool(ranks)


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def stats(
    ctx: typer.Context,
    campaign: str = typer.Argument(..., help="cli.help.reports.stats.campaign"),
    by: list[str] = typer.Option([], "--by", help="cli.help.reports.stats.by"),
    min_cell: int | None = typer.Option(
        None, "--min-cell", min=1, help="cli.help.reports.stats.min_cell"
    ),
    as_json: bool = typer.Option(False, "--json", help="cli.help.reports.stats.as_json"),
    previous: str | None = typer.Option(None, "--previous", help="cli.help.reports.stats.previous"),
) -> None:
    """Statistics of a campaign: one table per grouping."""
    from reports.campaign_stats import compute_stats
    from reports.evolution import evolution_row, previous_cells

    said = words(app_context(ctx))
    groupings = parse_groupings(by, said)

    async def work(database: Database, app: AppContext) -> None:
        settings = app.settings.reports
        threshold = min_cell or settings.min_cell
        info = await _campaign(database, campaign, said)
        earlier = await _campaign(database, previous, said) if previous else None
        as_of = app.clock.now()
        catalog = _catalog()
        before: Previous | None = None
        async with database.session() as session:
            tables = await compute_stats(
                session,
                info,
                groupings,
                as_of=as_of,
                min_cell=threshold,
                strata=settings.strata,
                catalog=catalog,
            )
            if earlier is not None:
                before = previous_cells(
                    await compute_stats(
                        session, earlier, groupings, as_of=earlier.closed_at or as_of,
                        min_cell=threshold, strata=settings.strata, catalog=catalog,
                    )
                )  # fmt: skip

        def json_row(keys: tuple[str, ...], cell: Cell) -> dict[str, object]:
            row: dict[str, object] = dict(cell.to_row())
            if before is not None:
                row.update(evolution_row(cell, before.get(keys, {}).get(cell.keys)))
            return row

        if as_json:
            payload = {
                "campaign": info.name,
                "as_of": as_of.isoformat(),
                "closed_at": info.closed_at.isoformat() if info.closed_at else None,
                "min_cell": threshold,
                "strata": list(settings.strata),
                "previous": earlier.name if earlier else None,
                "tables": [
                    {
                        "by": list(keys),
                        "rows": [json_row(keys, cell) for cell in cells],
                        "criteria": [row for cell in cells for row in cell.criterion_rows()],
                    }
                    for keys, cells in tables
                ],
            }
            typer.echo(json_text(payload))
            return
        w = words(app)
        if info.closed_at is not None:
            console.print(w("cli.stats.closed", name=info.name, date=w.f.datetime(info.closed_at)))
        else:
            console.print(w("cli.stats.open", name=info.name, date=w.f.datetime(as_of)))
        if earlier is not None:
            at = earlier.closed_at or as_of
            console.print(
                w("report.evolution.cli_compared", name=earlier.name, date=w.f.datetime(at))
            )
        ranked = False
        for keys, cells in tables:
            table, has_ranks = _table(keys, cells, w, before)
            ranked = ranked or has_ranks
            console.print(table)
        if ranked:
            console.print(w("cli.stats.rank_hint"))
        if any(cell.small for _, cells in tables for cell in cells):
            console.print(w("cli.stats.small_note", n=threshold))

    run_with_db(ctx, work)


def export_command(
    ctx: typer.Context,
    campaign: str = typer.Argument(..., help="cli.help.reports.export_command.campaign"),
    fmt: str = typer.Option(..., "--format", help="cli.help.reports.export_command.fmt"),
    level: str = typer.Option("contacts", "--level", help="cli.help.reports.export_command.level"),
    out: Path = typer.Option(..., "--out", help="cli.help.reports.export_command.out"),
    by: list[str] = typer.Option([], "--by", help="cli.help.reports.export_command.by"),
    min_cell: int | None = typer.Option(
        None, "--min-cell", min=1, help="cli.help.reports.export_command.min_cell"
    ),
    profile: str | None = typer.Option(
        None,
        "--profile",
        help="cli.help.reports.export_command.profile",
    ),
    excel: bool = typer.Option(False, "--excel", help="cli.help.reports.export_command.excel"),
    previous: str | None = typer.Option(
        None, "--previous", help="cli.help.reports.export_command.previous"
    ),
) -> None:
    """Export a campaign's contacts or statistics, with their metadata."""
    from reports.export_profiles import PROFILES, default_profile
    from reports.exports import export

    if excel:
        profile = "excel"
    said = words(app_context(ctx))
    for option, value, choices in (
        ("--profile", profile, PROFILES),
        ("--format", fmt, FORMATS),
        ("--level", level, LEVELS),
    ):
        if value is not None and value not in choices:
            fail(said.one_of(option, choices), 2)
    if previous is not None and level != "stats":
        fail(said("cli.output.previous_stats"), 2)
    groupings = parse_groupings(by, said)
    try:
        check_target(out)
        if fmt != "xlsx":
            check_target(out.with_name(out.name + ".meta.json"))
    except OutputError as exc:
        fail(said.output_error(exc))

    async def work(database: Database, app: AppContext) -> int:
        settings = app.settings.reports
        info = await _campaign(database, campaign, said)
        earlier = await _campaign(database, previous, said) if previous else None
        now: datetime = app.clock.now()
        async with database.session() as session:
            return await export(
                session,
                info,
                fmt=fmt,
                level=level,
                out=out,
                generated_at=now,
                groupings=groupings,
                min_cell=min_cell or settings.min_cell,
                strata=settings.strata,
                catalog=_catalog(),
                profile=profile or default_profile(app.settings.locale),
                locale=app.settings.locale,
                previous=earlier,
            )

    count = run_with_db(ctx, work)
    rows = said(
        f"cli.output.rows_{'one' if count == 1 else 'many'}", n=said.f.number(count), path=out
    )
    sidecar = "" if fmt == "xlsx" else said("cli.output.sidecar", path=f"{out}.meta.json")
    console.print(rows + sidecar, soft_wrap=True)


def report(
    ctx: typer.Context,
    campaign: str = typer.Argument(..., help="cli.help.reports.report.campaign"),
    out: Path = typer.Option(..., "--out", help="cli.help.reports.report.out"),
    previous: str | None = typer.Option(
        None, "--previous", help="cli.help.reports.report.previous"
    ),
    collectivity: str | None = typer.Option(
        None, "--collectivity", help="cli.help.reports.report.collectivity"
    ),
) -> None:
    """The national barometer, or a collectivity's own, in French (HTML or PDF)."""
    from reports.render import ReportOptions, collectivity_report, national_report, write_report
    from storage.stats import collectivity_info

    said = words(app_context(ctx))
    if out.suffix.lower() not in (".html", ".htm", ".pdf"):
        fail(said("cli.output.report_suffix"), 2)

    async def work(database: Database, app: AppContext) -> str:
        settings = app.settings.reports
        options = ReportOptions(
            min_cell=settings.min_cell, min_peers=settings.min_peers, strata=settings.strata
        )
        info = await _campaign(database, campaign, said)
        before = await _campaign(database, previous, said) if previous else None
        now = app.clock.now()
        catalog = _catalog()
        async with database.session() as session:
            if collectivity is None:
                return await national_report(
                    session,
                    info,
                    generated_at=now,
                    previous=before,
                    options=options,
                    catalog=catalog,
                    locale=app.settings.locale,
                )
            target = await collectivity_info(session, collectivity)
            if target is None:
                raise UserError(said("cli.collectivity.unknown", insee=collectivity))
            return await collectivity_report(
                session, info, target, generated_at=now, previous=before, options=options,
                catalog=catalog, locale=app.settings.locale,
            )  # fmt: skip

    try:
        check_target(out)
        html = run_with_db(ctx, work)
        write_report(html, out)
    except OutputError as exc:
        fail(said.output_error(exc))
    console.print(said("cli.output.wrote", path=out), soft_wrap=True)
