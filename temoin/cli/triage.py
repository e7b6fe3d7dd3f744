"""`temoin triage`: the messages the watchers could not match with confidence.

    temoin triage list [--json] [--all]       pending messages, with the suggested contacts
    temoin triage match MESSAGE CONTACT       this message belongs to that contact
    temoin triage ignore MESSAGE              not a reply to any contact (spam, newsletter…)

A match is recorded as an automatic one would be (method ``manual``): the contact's times come
from the message's INTERNALDATE, its status moves forward, an answer's content is checked.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from temoin.cli.common import MAX_ID, AppContext, UserError, console, run_with_db

if TYPE_CHECKING:
    from storage import triage as triage_repo
    from storage.db import Database

app = typer.Typer(
    rich_markup_mode=None,
    no_args_is_help=True,
    help="Replies that match no contact with confidence.",
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


@app.command("list")
def list_command(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON (stable keys)."),
    show_all: bool = typer.Option(False, "--all", help="Also matched and ignored ones."),
) -> None:
    """List the messages waiting for a coordinator's decision, oldest first."""
    from storage import mail
    from storage import triage as triage_repo

    async def work(database: Database, _app: AppContext) -> list[dict[str, Any]]:
        async with database.session() as session:
            rows = await triage_repo.triage_rows(session, state=None if show_all else mail.PENDING)
        return [_row(r) for r in rows if r.triage_state is not None]

    rows = run_with_db(ctx, work)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        console.print("Nothing to triage.")
        return
    table = Table(title=f"Triage ({len(rows)})", title_justify="left")
    for column in ("message", "persona", "received (UTC)", "from", "subject", "kind", "suggested"):
        table.add_column(column)
    for r in rows:
        suggested = ", ".join(
            f"{s['contact']} ({s['method']} {s['confidence']:.2f})" for s in r["suggestions"][:3]
        )
        received = (r["received_at"] or "")[:16].replace("T", " ")
        table.add_row(str(r["message"]), r["persona"] or "", received, r["from"] or "",
                      (r["subject"] or "")[:60], r["classification"] or "",
                      suggested or r["reason"] or "")  # fmt: skip
    console.print(table)


@app.command("match")
def match_command(
    ctx: typer.Context,
    message: int = typer.Argument(
        ..., min=1, max=MAX_ID, help="Message id (from `temoin triage list`)."
    ),
    contact: int = typer.Argument(..., min=1, max=MAX_ID, help="Contact id it answers."),
    kind: str | None = typer.Option(
        None,
        "--as",
        help="Its class, when the classifier was unsure or wrong: answer, acknowledgement, "
        "out_of_office, bounce, read_receipt, redirect or other.",
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
            raise UserError(str(exc)) from exc
        return reply.kind

    kind = run_with_db(ctx, work)
    console.print(f"Message {message} ({kind}) recorded for contact {contact}.")


@app.command("ignore")
def ignore_command(
    ctx: typer.Context,
    message: int = typer.Argument(
        ..., min=1, max=MAX_ID, help="Message id (from `temoin triage list`)."
    ),
) -> None:
    """Take a message out of triage: it answers no contact."""
    from storage import triage as triage_repo

    async def work(database: Database, app_ctx: AppContext) -> None:
        async with database.session() as session:
            rows = await triage_repo.triage_rows(session, message_id=message)
            if not rows:
                raise UserError(f"no message {message}")
            evidence = dict(rows[0].evidence or {})
            evidence["triage"] = {"by": _who(), "at": app_ctx.clock.now().isoformat(),
                                  "ignored": True}  # fmt: skip
            if not await triage_repo.set_triage(
                session, message, state="ignored", evidence=evidence
            ):
                raise UserError(f"message {message} is not pending in triage")

    run_with_db(ctx, work)
    console.print(f"Message {message} ignored.")
