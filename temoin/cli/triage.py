"""`temoin triage`: the messages the watchers could not match with confidence.

    temoin triage list [--json] [--all]       pending messages, an excerpt of each, and the
                                              suggested contacts described (service,
                                              collectivity, scenario, date, why)
    temoin triage match MESSAGE CONTACT       this message belongs to that contact
    temoin triage ignore MESSAGE              not a reply to any contact (spam, newsletter…)

A match is recorded as an automatic one would be (method ``manual``): the contact's times come
from the message's INTERNALDATE, its status moves forward, an answer's content is checked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from temoin.cli.common import (
    MAX_ID,
    AppContext,
    UserError,
    app_context,
    console,
    json_text,
    run_with_db,
)
from temoin.cli.inspect import kind_label
from temoin.cli.words import Words, words

if TYPE_CHECKING:
    from runners.tracker import TriageError
    from storage import triage as triage_repo
    from storage.db import Database

app = typer.Typer(
    rich_markup_mode=None,
    no_args_is_help=True,
    help="cli.help.triage.about",
)


def _who() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no user name in a container: still record the decision
        return "coordinator"


def _row(row: triage_repo.TriageRow) -> dict[str, Any]:
    evidence = row.evidence or {}
    match = evidence.get("match") or {}
    return {
        "message": row.id,
        "persona": row.persona_key,
        "folder": row.mailbox,
        "received_at": row.internal_date.isoformat() if row.internal_date else None,
        "from": row.from_address,
        "subject": row.subject,
        "classification": row.classification,
        "state": row.triage_state,
        "reason": match.get("reason"),
        "suggestions": match.get("suggestions", []),
    }


@app.command("list", help="cli.help.triage.list_command.about")
def list_command(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="cli.help.triage.list_command.as_json"),
    show_all: bool = typer.Option(False, "--all", help="cli.help.triage.list_command.show_all"),
) -> None:
    """List the messages waiting for a coordinator's decision, oldest first."""
    from storage import mail
    from storage import triage as triage_repo

    async def work(database: Database, _app: AppContext) -> list[dict[str, Any]]:
        from storage import lookup
        from temoin.cli.inspect import scenario_title

        async with database.session() as session:
            found = await triage_repo.triage_rows(session, state=None if show_all else mail.PENDING)
            rows = [_row(r) for r in found if r.triage_state is not None]
            wanted = [s["contact"] for r in rows for s in r["suggestions"][:3]]
            briefs = await lookup.contact_briefs(session, wanted)
            texts = await lookup.message_texts(session, [r["message"] for r in rows])
        for r in rows:
            r["excerpt"] = _excerpt(texts.get(r["message"]))
            for s in r["suggestions"]:
                b = briefs.get(s["contact"])
                if b is not None:
                    s["about"] = {
                        "service": b.service,
                        "collectivity": b.collectivity,
                        "scenario": scenario_title(b.scenario_id),
                        "channel": b.channel,
                        "planned_at": b.planned_at.isoformat(),
                        "sent_at": b.sent_at.isoformat() if b.sent_at else None,
                    }
        return rows

    rows = run_with_db(ctx, work)
    if as_json:
        typer.echo(json_text(rows))
        return
    w = words(app_context(ctx))
    if not rows:
        console.print(w("cli.triage.nothing"))
        return
    console.print(w("cli.triage.title", count=w.f.number(len(rows))), style="bold")
    for r in rows:
        head = " — ".join(
            part
            for part in (
                f"{w('cli.triage.message').capitalize()} {r['message']}",
                w.when(r["received_at"]),
                r["from"] or "",
                kind_label(w, r["classification"]),
                r["persona"] or "",
            )
            if part
        )
        console.print(head, style="bold")
        if r["subject"]:
            console.print("  " + w("cli.message.subject", value=r["subject"]))
        if r["excerpt"]:
            console.print("  " + w("cli.triage.excerpt", text=r["excerpt"]))
        if not r["suggestions"]:
            reason = f"cli.match.{(r['reason'] or '').replace(' ', '_')}"
            why = w(reason) if w.t.has(reason) else (r["reason"] or "–")
            console.print("  " + w("cli.triage.no_suggestion", reason=why))
        for s in r["suggestions"][:3]:
            console.print("  • " + _suggestion(w, s))


def _suggestion(w: Words, s: dict[str, Any]) -> str:
    about = s.get("about") or {}
    if not about:
        return f"contact {s['contact']} ({s['method']}, {w.f.number(s['confidence'], 2)})"
    method = f"cli.match.{s['method']}"
    return w(
        "cli.triage.suggestion",
        contact=s["contact"],
        service=about["service"],
        collectivity=about["collectivity"],
        scenario=about["scenario"],
        channel=w.channel(about["channel"]).lower(),
        date=w.when(about["sent_at"] or about["planned_at"]),
        why=w(method) if w.t.has(method) else s["method"],
        confidence=w.f.number(s["confidence"], 2),
    )


def _excerpt(text: str | None, limit: int = 160) -> str:
    words_ = " ".join((text or "").split())
    return words_ if len(words_) <= limit else words_[:limit].rsplit(" ", 1)[0] + " […]"


@app.command("match", help="cli.help.triage.match_command.about")
def match_command(
    ctx: typer.Context,
    message: int = typer.Argument(
        ..., min=1, max=MAX_ID, help="cli.help.triage.match_command.message"
    ),
    contact: int = typer.Argument(
        ..., min=1, max=MAX_ID, help="cli.help.triage.match_command.contact"
    ),
    kind: str | None = typer.Option(
        None,
        "--as",
        help="cli.help.triage.match_command.kind",
    ),
) -> None:
    """Attach a message to a contact and record its effects (times, status, checks)."""
    from runners.tracker import Tracker, TriageError
    from scenarios.catalog import load_catalog
    from temoin.worker import tracking_config

    async def work(database: Database, app_ctx: AppContext) -> str:
        tracker = Tracker(
            database, load_catalog(), app_ctx.clock, tracking_config(app_ctx.settings)
        )
        try:
            reply = await tracker.match_manually(message, contact, actor=_who(), kind=kind)
        except TriageError as exc:
            raise UserError(_refusal(exc, words(app_ctx))) from exc
        return reply.kind

    kind = run_with_db(ctx, work)
    w = words(app_context(ctx))
    console.print(w("cli.triage.matched", message=message, kind=kind_label(w, kind),
                    contact=contact))  # fmt: skip


@app.command("ignore", help="cli.help.triage.ignore_command.about")
def ignore_command(
    ctx: typer.Context,
    message: int = typer.Argument(
        ..., min=1, max=MAX_ID, help="cli.help.triage.ignore_command.message"
    ),
) -> None:
    """Take a message out of triage: it answers no contact."""
    from storage import triage as triage_repo

    async def work(database: Database, app_ctx: AppContext) -> None:
        async with database.session() as session:
            rows = await triage_repo.triage_rows(session, message_id=message)
            w = words(app_ctx)
            if not rows:
                raise UserError(w("cli.triage.error.no_message", message=message))
            if not await triage_repo.ignore_message(session, message, _who(), app_ctx.clock.now()):
                raise UserError(w("cli.triage.error.not_pending", message=message))

    run_with_db(ctx, work)
    console.print(words(app_context(ctx))("cli.triage.ignored", message=message))


def _refusal(exc: TriageError, w: Words) -> str:
    """A ``TriageError`` in the reader's language (its English words when it has no code)."""
    return exc.said(w.t)
