"""A campaign beside an earlier one, on its dashboard: a table, and a bar chart whose text
alternative is that same table.

    GET /admin/campagnes/{id}/comparaison[?avec=ID][&fragment=1]

``avec`` is one of the closed campaigns that began before this one (the newest by default);
any other id is a 404. The figures are overall and per channel, as of each campaign's close
(now for one still open): a closed campaign's are its national cells kept for the portal
(``web.barometers``: computed once, then read from the database and held in memory while the
campaign's data do not change), an open one's ``reports.campaign_stats.compute_stats``' (the
database's GROUP BY, the same numbers); response rate and share answered within target for
the written channels (as the national report compares them), pick-up rate for the phone. The
dashboard loads the fragment after the page (htmx, ``hx-trigger="load"``), so the progress
block never waits for it; without JavaScript the dashboard links to the whole page.

The chart is SVG drawn with presentation attributes only (the CSP allows no inline style),
``role="img"`` and named by the table's caption, which a screen reader reads instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from reports.campaign_stats import compute_stats
from reports.cells import Cell
from storage import backoffice, web_reports
from storage.stats import CampaignInfo
from web.pages import WebState, int_param, not_found, now, render, require_back_office, state

WRITTEN = ("email", "letter")
CHANNEL_ORDER = ("email", "letter", "phone", "visit")
BAR_WIDTH = 320
ROW_HEIGHT = 46


def routes() -> list[BaseRoute]:
    return [Route("/admin/campagnes/{campaign_id:int}/comparaison", comparison)]


@dataclass(frozen=True, slots=True)
class Line:
    label: str
    metric: str
    before: float | None
    now: float | None
    before_n: int
    now_n: int
    small: bool

    @property
    def change(self) -> float | None:
        return None if self.before is None or self.now is None else self.now - self.before


def _figures(cell: Cell | None, channel: str | None) -> dict[str, tuple[float | None, int]]:
    if cell is None:
        return {}
    found: dict[str, tuple[float | None, int]] = {}
    if channel in (*WRITTEN, None):
        found["response"] = (cell.response.rate, cell.response.n)
        found["within_target"] = (
            cell.answered_within_target.rate,
            cell.answered_within_target.n,
        )
    if channel == "phone":
        found["picked_up"] = (cell.phone.picked_up.rate, cell.phone.picked_up.n)
    return found


def lines(
    before: dict[str | None, Cell], after: dict[str | None, Cell], st: WebState
) -> list[Line]:
    """The compared figures, channel by channel then overall (pure)."""
    t = st.t
    keys = [c for c in CHANNEL_ORDER if c in before or c in after] + [None]
    out: list[Line] = []
    for key in keys:
        old, new = _figures(before.get(key), key), _figures(after.get(key), key)
        label = t(f"channel.{key}") if key else t("report.overall")
        for metric in ("response", "within_target", "picked_up"):
            if metric not in old and metric not in new:
                continue
            b, b_n = old.get(metric, (None, 0))
            a, a_n = new.get(metric, (None, 0))
            small = any(c is not None and c.small for c in (before.get(key), after.get(key)))
            out.append(Line(label, t(f"web.compare.metric.{metric}"), b, a, b_n, a_n, small))
    return out


def chart(found: list[Line]) -> list[dict[str, Any]]:
    """Bar geometry of each line (rates only; a missing rate draws no bar)."""
    bars = []
    for index, line in enumerate(found):
        y = index * ROW_HEIGHT
        bars.append(
            {
                "line": line,
                "y": y,
                "before": None if line.before is None else round(line.before * BAR_WIDTH, 1),
                "now": None if line.now is None else round(line.now * BAR_WIDTH, 1),
            }
        )
    return bars


async def _cells(request: Request, campaign: CampaignInfo) -> dict[str | None, Cell]:
    st = state(request)
    if campaign.closed_at is not None:  # the portal's kept figures: the same cells
        figures = await st.barometers.figures(
            st.database, campaign, min_cell=st.config.min_cell, strata=st.config.strata,
            catalog=st.scenario_catalog(), now=st.clock.now,
        )  # fmt: skip
        return figures.national
    as_of = now(request)
    async with st.database.session() as db:
        tables = await compute_stats(
            db, campaign, ((), ("channel",)), as_of=as_of, min_cell=st.config.min_cell,
            strata=st.config.strata, catalog=st.scenario_catalog(),
        )  # fmt: skip
    cells: dict[str | None, Cell] = {}
    for by, found in tables:
        for cell in found:
            cells[cell.key("channel") if by else None] = cell
    return cells


async def comparison(request: Request) -> Response:
    await require_back_office(request)
    st = state(request)
    campaign_id = int_param(request, "campaign_id")
    async with st.database.session() as db:
        campaign = await backoffice.campaign_by_id(db, campaign_id)
        if campaign is None:
            not_found()
        earlier = await web_reports.earlier_campaigns(db, campaign_id)
    raw = request.query_params.get("avec", "")
    previous = next((c for c in earlier if str(c.id) == raw), None) if raw else None
    if raw and previous is None:
        not_found()
    previous = previous or (earlier[0] if earlier else None)
    found: list[Line] = []
    if previous is not None:
        found = lines(await _cells(request, previous), await _cells(request, campaign), st)
    fragment = request.query_params.get("fragment") == "1"
    return render(
        request, "admin/comparison.html.j2", campaign=campaign, previous=previous,
        earlier=earlier, lines=found, bars=chart(found), fragment=fragment,
        bar_width=BAR_WIDTH, row_height=ROW_HEIGHT,
    )  # fmt: skip
