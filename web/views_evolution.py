"""A collectivity's evolution across the closed campaigns it took part in (its portal).

    GET /portail/evolution

The collectivity is the account's, never a parameter. Each campaign's figures are those of
its barometer (``reports.render.collectivity_context``, the same as the portal's report page
and the PDF): the national column follows the same ``min_peers`` rule, cell by cell, and
shows the report's withheld text where a figure is withheld. The bar chart draws the
collectivity's own response rate (its written requests), campaign after campaign; its text
alternative is the table, whose "response rate" column holds the same figures.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from reports.aggregate import Aggregator
from reports.campaign_stats import contact_records
from reports.render import ReportOptions, collectivity_context
from storage.stats import CampaignInfo, CollectivityInfo
from web.pages import now, render, state
from web.views_portal import kept_figures, own_results, report_options

BAR_WIDTH = 320
ROW_HEIGHT = 30


def routes() -> list[BaseRoute]:
    return [Route("/portail/evolution", evolution)]


async def _own_rate(
    request: Request, campaign: CampaignInfo, collectivity: CollectivityInfo
) -> float | None:
    """The collectivity's own response rate to its written requests in the campaign."""
    st = state(request)
    options = report_options(request)
    overall = Aggregator((), min_cell=options.min_cell, strata=options.strata)
    async with st.database.session() as db:
        async for _row, facts in contact_records(
            db, campaign, as_of=campaign.closed_at or now(request),
            catalog=st.scenario_catalog(), collectivity_ids=[collectivity.id],
        ):  # fmt: skip
            overall.add(facts)
    cells = overall.cells()
    return cells[0].response.rate if cells and cells[0].written_delivered else None


async def _context(
    request: Request, campaign: CampaignInfo, collectivity: CollectivityInfo, options: ReportOptions
) -> dict[str, Any]:
    st = state(request)
    figures = await kept_figures(request, campaign)
    async with st.database.session() as db:
        return await collectivity_context(
            db, campaign, collectivity, generated_at=now(request), as_of=campaign.closed_at,
            options=options, catalog=st.scenario_catalog(), figures=figures,
        )  # fmt: skip


async def evolution(request: Request) -> Response:
    collectivity, campaigns = await own_results(request)
    options = report_options(request)
    chronological = list(reversed(campaigns))  # the portal lists the newest first
    # {channel label: {"metrics": [names], "rows": [(campaign, {metric: (yours, national)})]}}
    blocks: dict[str, dict[str, Any]] = {}
    bars = []
    for index, campaign in enumerate(chronological):
        context = await _context(request, campaign, collectivity, options)
        for block in context["comparison"]:
            found = blocks.setdefault(block["label"], {"metrics": [], "rows": []})
            figures = {}
            for row in block["rows"]:
                if row["metric"] not in found["metrics"]:
                    found["metrics"].append(row["metric"])
                # withheld cells carry the report's withheld text (min_peers)
                figures[row["metric"]] = (row["yours"], row["national"])
            found["rows"].append((campaign, block["contacts"], figures))
        rate = await _own_rate(request, campaign, collectivity)
        width = None if rate is None else round(rate * BAR_WIDTH, 1)
        bars.append({"campaign": campaign, "rate": rate, "width": width, "y": index * ROW_HEIGHT})
    return render(
        request, "portal/evolution.html.j2", collectivity=collectivity, blocks=blocks,
        bars=[b for b in bars if b["rate"] is not None], bar_width=BAR_WIDTH,
        row_height=ROW_HEIGHT, campaigns=chronological,
    )  # fmt: skip
