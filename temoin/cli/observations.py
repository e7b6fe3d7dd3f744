"""`temoin observations …`: a coordinator's review of the answers auditors gave.

``to-fix CONTACT QUESTION --reason "…"`` marks one answer « à corriger »: the answer's review
state becomes ``to_fix`` and a ``review.to_fix`` event records the question and the reason.
The bot tells the auditor (within a minute), re-asks the question, and the new answer
replaces the old one (review state ``fixed``, event ``review.fixed``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from temoin.cli.common import MAX_ID, AppContext, UserError, console, fail, run_with_db

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from storage.db import Database

app = typer.Typer(
    rich_markup_mode=None, no_args_is_help=True, help="Review the auditors' observations."
)


@app.command("to-fix")
def to_fix(
    ctx: typer.Context,
    contact: int = typer.Argument(..., min=1, max=MAX_ID, help="Contact id."),
    question: str = typer.Argument(..., help="Question id of the scenario's grid."),
    reason: str = typer.Option(..., "--reason", help="What is wrong, for the auditor."),
) -> None:
    """Ask the auditor to correct one answer; they are told why in the bot."""
    from scenarios import events as ev
    from scenarios.catalog import UnknownScenario, load_catalog
    from storage import bot as repo
    from storage.models import Contact

    if not reason.strip():
        fail("--reason: say what to correct")

    async def work(database: Database, app_ctx: AppContext) -> str:
        now = app_ctx.clock.now()
        async with database.session() as session:
            row = await session.get(Contact, contact)
            if row is None:
                raise UserError(f"no contact {contact}")
            try:
                label = load_catalog().get(row.scenario_id).question(question).label
            except (UnknownScenario, KeyError):
                raise UserError(
                    f"question {question!r} is not in the grid of {row.scenario_id}"
                ) from None
            if not await repo.mark_to_fix(session, contact, question, reason.strip(), now):
                raise UserError(f"contact {contact} has no answer to {question!r}")
            detail = {"question": question, "reason": reason.strip()}
            await repo.add_event(session, contact, ev.REVIEW_TO_FIX, now, "coordinator", detail)
        return f"Contact {contact}: « {label} » marked to fix; the auditor will be told."

    console.print(run_with_db(ctx, work))


# -- `campaign show`: the observations section -------------------------------------------


async def gather_observations(session: AsyncSession, campaign_id: int) -> list[dict[str, Any]]:
    """Per done call or visit of the campaign: its answers by question label (JSON values)."""
    from scenarios.catalog import UnknownScenario, load_catalog
    from storage import bot as repo

    done = await repo.done_field_contacts(session, campaign_id)
    values = await repo.contact_answers(session, [row[0] for row in done])
    catalog = load_catalog()
    section: list[dict[str, Any]] = []
    for contact_id, channel, scenario_id, service in done:
        try:
            labels = {q.id: q.label for q in catalog.get(scenario_id).grid}
        except UnknownScenario:
            labels = {}
        section.append(
            {
                "contact": contact_id,
                "channel": channel,
                "scenario": scenario_id,
                "service": service,
                "answers": {
                    labels.get(qid, qid): value for qid, value in values.get(contact_id, {}).items()
                },
            }
        )
    return section


def _shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def print_observations(section: list[dict[str, Any]]) -> None:
    for row in section:
        table = Table(
            title=f"Contact {row['contact']} ({row['channel']}, {row['scenario']}): "
            f"{row['service']}",
            title_justify="left",
        )
        table.add_column("question")
        table.add_column("answer")
        for label, value in row["answers"].items():
            table.add_row(label, _shown(value))
        console.print(table)
