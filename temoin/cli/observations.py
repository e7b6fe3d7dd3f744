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

from temoin.cli.common import (
    MAX_ID,
    AppContext,
    UserError,
    app_context,
    console,
    fail,
    run_with_db,
)
from temoin.cli.words import Words, words

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from scenarios.grid_model import Question
    from storage.db import Database

app = typer.Typer(rich_markup_mode=None, no_args_is_help=True, help="cli.help.observations.about")


@app.command("to-fix", help="cli.help.observations.to_fix.about")
def to_fix(
    ctx: typer.Context,
    contact: int = typer.Argument(
        ..., min=1, max=MAX_ID, help="cli.help.observations.to_fix.contact"
    ),
    question: str = typer.Argument(..., help="cli.help.observations.to_fix.question"),
    reason: str = typer.Option(..., "--reason", help="cli.help.observations.to_fix.reason"),
) -> None:
    """Ask the auditor to correct one answer; they are told why in the bot."""
    from runners.reviews import ReviewError, ask_to_fix
    from scenarios.catalog import load_catalog

    w = words(app_context(ctx))
    if not reason.strip():
        fail(w("cli.observations.no_reason"))

    async def work(database: Database, app_ctx: AppContext) -> str:
        async with database.session() as session:
            try:
                label = await ask_to_fix(
                    session, contact, question, reason, at=app_ctx.clock.now(),
                    by="coordinator", catalog=load_catalog(),
                )  # fmt: skip
            except ReviewError as exc:
                said = {
                    "no_contact": w("cli.contact.unknown", id=contact),
                    "no_question": w("cli.observations.not_in_grid", question=question),
                    "no_answer": w("cli.observations.no_answer", id=contact, question=question),
                }
                raise UserError(said.get(exc.code, str(exc))) from exc
        return w("cli.observations.marked", id=contact, label=label)

    console.print(run_with_db(ctx, work))


# -- `campaign show`: the observations section -------------------------------------------


async def gather_observations(
    session: AsyncSession, campaign_id: int, w: Words | None = None
) -> list[dict[str, Any]]:
    """Per done call or visit of the campaign: its answers by question label (JSON values)
    and, under ``shown``, the same answers in words (``Words``: French by default)."""
    from scenarios.catalog import UnknownScenario, load_catalog
    from storage import bot as repo

    w = w or Words()
    done = await repo.done_field_contacts(session, campaign_id)
    values = await repo.contact_answers(session, [row[0] for row in done])
    catalog = load_catalog()
    section: list[dict[str, Any]] = []
    for contact_id, channel, scenario_id, service in done:
        try:
            scenario = catalog.get(scenario_id)
            questions = {q.id: q for q in scenario.grid}
            title = scenario.title
        except UnknownScenario:
            questions, title = {}, scenario_id
        answers = values.get(contact_id, {})
        section.append(
            {
                "contact": contact_id,
                "channel": channel,
                "scenario": scenario_id,
                "scenario_title": title,
                "service": service,
                "answers": {
                    (questions[qid].label if qid in questions else qid): value
                    for qid, value in answers.items()
                },
                "shown": {
                    (questions[qid].label if qid in questions else qid): shown_answer(
                        questions.get(qid), value, w
                    )
                    for qid, value in answers.items()
                },
            }
        )
    return section


def shown_answer(question: Question | None, value: Any, w: Words) -> str:
    """An answer in words (``scenarios.answers``)."""
    from scenarios.answers import shown_answer as in_words

    return in_words(question, value, w.t, w.f)


def print_observations(section: list[dict[str, Any]], w: Words) -> None:
    for row in section:
        table = Table(
            title=w("cli.campaign.observations", contact=row["contact"],
                    channel=w.channel(row["channel"]).lower(),
                    scenario=row.get("scenario_title") or row["scenario"],
                    service=row["service"]),
            title_justify="left",
        )  # fmt: skip
        table.add_column(w("cli.campaign.question"))
        table.add_column(w("cli.campaign.answer"))
        for label, value in row["shown"].items():
            table.add_row(label, value)
        console.print(table)
