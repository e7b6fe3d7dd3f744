"""`temoin contact show ID` and `temoin message show ID`: one contact, one message, in words.

``contact show``: the service and collectivity, the scenario by its title, the status and
its times, who wrote or went, the messages (in and out), the events, the grid's answers
(choices by their labels, durations as durations) and the answer's content checks.

``message show``: the headers we keep, the class, the match (contact, method, confidence)
or the triage state, the evidence the classifier and the matcher gave, and the text of the
reply (its own words, the quoted request left out; the whole text with ``--full``). Every
text comes from mail and is untrusted: it is printed as written (no markup, control
characters made visible) by ``common.SafeConsole``.
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
    json_text,
    run_with_db,
)
from temoin.cli.words import TEXT_LIMIT, Words, clip, words

if TYPE_CHECKING:
    from storage.db import Database
    from storage.lookup import ContactBrief

contact_app = typer.Typer(
    rich_markup_mode=None, no_args_is_help=True, help="cli.help.inspect.contact_app"
)
message_app = typer.Typer(
    rich_markup_mode=None, no_args_is_help=True, help="cli.help.inspect.message_app"
)


def scenario_title(scenario_id: str) -> str:
    from scenarios.catalog import UnknownScenario, load_catalog

    try:
        return load_catalog().get(scenario_id).title
    except UnknownScenario:
        return scenario_id


def kind_label(w: Words, kind: str | None) -> str:
    key = f"cli.kind.{kind or 'unknown'}"
    return w(key) if w.t.has(key) else str(kind)


@contact_app.command("show", help="cli.help.inspect.contact_show.about")
def contact_show(
    ctx: typer.Context,
    contact: int = typer.Argument(
        ..., min=1, max=MAX_ID, help="cli.help.inspect.contact_show.contact"
    ),
    as_json: bool = typer.Option(False, "--json", help="cli.help.inspect.contact_show.as_json"),
) -> None:
    """One contact: service, scenario, status and times, messages, events, answers."""
    from storage import bot as bot_repo
    from storage import lookup

    async def work(database: Database, app_ctx: AppContext) -> dict[str, Any]:
        w = words(app_ctx)
        async with database.session() as session:
            found = (await lookup.contact_briefs(session, [contact])).get(contact)
            if found is None:
                raise UserError(w("cli.contact.unknown", id=contact))
            messages = await lookup.contact_messages(session, contact)
            events = await lookup.contact_events(session, contact)
            answers = (await bot_repo.contact_answers(session, [contact])).get(contact, {})
        return {"brief": found, "messages": messages, "events": events, "answers": answers}

    data = run_with_db(ctx, work)
    brief: ContactBrief = data["brief"]
    if as_json:
        payload = {
            "contact": brief.id,
            "campaign": brief.campaign,
            "channel": brief.channel,
            "scenario": brief.scenario_id,
            "status": brief.status,
            "service": brief.service,
            "collectivity": brief.collectivity,
            "insee_code": brief.insee_code,
            **{
                name: value.isoformat() if value else None
                for name, value in (
                    ("planned_at", brief.planned_at),
                    ("sent_at", brief.sent_at),
                    ("first_ack_at", brief.first_ack_at),
                    ("first_answer_at", brief.first_answer_at),
                    ("closed_at", brief.closed_at),
                )
            },
            "persona": brief.persona,
            "auditor": brief.auditor,
            "messages": [m.id for m in data["messages"]],
            "answers": data["answers"],
            "checks": brief.checks,
        }
        typer.echo(json_text(payload))
        return
    _print_contact(data, words(app_context(ctx)))


def _print_contact(data: dict[str, Any], w: Words) -> None:
    from scenarios.catalog import UnknownScenario, load_catalog
    from temoin.cli.observations import shown_answer

    b: ContactBrief = data["brief"]
    console.print(w("cli.contact.title", id=b.id, channel=w.channel(b.channel),
                    scenario=scenario_title(b.scenario_id)), style="bold")  # fmt: skip
    console.print(w("cli.contact.service", service=b.service, collectivity=b.collectivity,
                    code=b.insee_code))  # fmt: skip
    console.print(w("cli.contact.campaign", campaign=b.campaign))
    console.print(w("cli.contact.status", status=w.status(b.status)))
    for key, value in (("planned", b.planned_at), ("sent", b.sent_at), ("ack", b.first_ack_at),
                       ("answered", b.first_answer_at), ("closed", b.closed_at)):  # fmt: skip
        if value is not None:
            console.print(w(f"cli.contact.{key}", date=w.when(value)))
    if b.persona:
        console.print(w("cli.contact.persona", persona=b.persona))
    if b.auditor:
        console.print(w("cli.contact.auditor", auditor=b.auditor))
    if data["messages"]:
        table = Table(title=w("cli.contact.messages"), title_justify="left")
        for key in ("cli.triage.message", "cli.contact.when", "cli.triage.from",
                    "cli.triage.subject", "cli.triage.kind"):  # fmt: skip
            table.add_column(w(key))
        for m in data["messages"]:
            direction = w("cli.contact.direction_in" if m.direction == "in"
                          else "cli.contact.direction_out")  # fmt: skip
            table.add_row(f"{m.id} ({direction})", w.when(m.at), m.from_address or "",
                          m.subject or "", kind_label(w, m.classification))  # fmt: skip
        console.print(table)
    if data["events"]:
        table = Table(title=w("cli.contact.events"), title_justify="left")
        for key in ("when", "what", "who"):
            table.add_column(w(f"cli.contact.{key}"))
        for at, kind, actor in data["events"]:
            label = f"report.event.{kind}"
            table.add_row(w.when(at), w(label) if w.t.has(label) else kind, actor or "")
        console.print(table)
    if data["answers"]:
        try:
            questions = {q.id: q for q in load_catalog().get(b.scenario_id).grid}
        except UnknownScenario:
            questions = {}
        table = Table(title=w("cli.contact.answers"), title_justify="left")
        table.add_column(w("cli.campaign.question"))
        table.add_column(w("cli.campaign.answer"))
        for qid, value in data["answers"].items():
            question = questions.get(qid)
            label = question.label if question else qid
            table.add_row(label, shown_answer(question, value, w))
        console.print(table)
    if b.checks:
        from temoin.cli.review import print_checks

        print_checks(b.id, b.checks, w)


@message_app.command("show", help="cli.help.inspect.message_show.about")
def message_show(
    ctx: typer.Context,
    message: int = typer.Argument(
        ..., min=1, max=MAX_ID, help="cli.help.inspect.message_show.message"
    ),
    full: bool = typer.Option(False, "--full", help="cli.help.inspect.message_show.full"),
    as_json: bool = typer.Option(False, "--json", help="cli.help.inspect.message_show.as_json"),
) -> None:
    """One message: headers, class, match or triage, evidence and its text."""
    from storage import lookup

    async def work(database: Database, app_ctx: AppContext) -> lookup.MessageDetail:
        async with database.session() as session:
            found = await lookup.message_detail(session, message)
        if found is None:
            raise UserError(words(app_ctx)("cli.message.unknown", id=message))
        return found

    m = run_with_db(ctx, work)
    if as_json:
        payload = {
            "message": m.id,
            "direction": m.direction,
            "persona": m.persona,
            "folder": m.mailbox,
            "received_at": m.internal_date.isoformat() if m.internal_date else None,
            "from": m.from_address,
            "to": m.to_addresses,
            "subject": m.subject,
            "classification": m.classification,
            "contact": m.contact_id,
            "match_method": m.match_method,
            "match_confidence": m.match_confidence,
            "triage_state": m.triage_state,
            "quarantine_reason": m.quarantine_reason,
            "evidence": m.evidence,
            "text": (m.text if full else (m.new_text or m.text)),
        }
        typer.echo(json_text(payload))
        return
    w = words(app_context(ctx))
    direction = w("cli.contact.direction_in" if m.direction == "in"
                  else "cli.contact.direction_out")  # fmt: skip
    console.print(w("cli.message.title", id=m.id, direction=direction), style="bold")
    for key, value in (("from", m.from_address), ("to", m.to_addresses),
                       ("subject", m.subject), ("received", w.when(m.internal_date)),
                       ("mailbox", f"{m.persona or '–'} / {m.mailbox or '–'}"),
                       ("kind", kind_label(w, m.classification))):  # fmt: skip
        if value:
            console.print(w(f"cli.message.{key}", value=value))
    if m.contact_id is not None:
        confidence = "" if m.match_confidence is None else f", {w.f.number(m.match_confidence, 2)}"
        console.print(w("cli.message.contact", value=m.contact_id))
        method = f"cli.match.{m.match_method}"
        how = w(method) if w.t.has(method) else (m.match_method or "–")
        console.print(w("cli.message.match", value=f"{how}{confidence}"))
    if m.triage_state:
        console.print(w("cli.message.triage", value=m.triage_state))
    if m.quarantine_reason:
        console.print(w("cli.message.triage", value=m.quarantine_reason))
    if m.evidence:
        console.print(w("cli.message.evidence"), style="bold")
        for line in json_text(m.evidence).splitlines():
            console.print(f"  {line}")
    console.print(w("cli.message.text"), style="bold")
    text = (m.text if full else (m.new_text or m.text)) or ""
    console.print(clip(text.strip(), TEXT_LIMIT) if text.strip() else w("cli.message.no_text"))
