"""`temoin review CONTACT`: look at an answer's content checks and override them.

    temoin review 42                                    show the checks
    temoin review 42 --check procedure=yes --check agent_name=no --note "signed « Le service »"

An override is kept beside the automatic value (``"override"`` in the item), never in its place;
the effective value is the override when there is one. A name may be an expected element of the
scenario (``procedure``) or a form check (``greeting``, ``closing``, ``agent_name``, ``phone``,
``email``, ``postal_address``, ``right_service``); ``expected.X`` / ``form.X`` when both exist.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from temoin.cli.common import MAX_ID, AppContext, UserError, console, fail, run_with_db

if TYPE_CHECKING:
    from storage.db import Database

_YES = {"yes", "y", "oui", "true", "1"}
_NO = {"no", "n", "non", "false", "0"}


def _parse(check: str) -> tuple[str, bool]:
    name, sep, value = check.partition("=")
    lowered = value.strip().lower()
    if not sep or not name.strip() or lowered not in _YES | _NO:
        fail(f"--check {check!r}: write NAME=yes or NAME=no")
    return name.strip(), lowered in _YES


def _who() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no user name in a container
        return "coordinator"


def command(
    ctx: typer.Context,
    contact: int = typer.Argument(..., min=1, max=MAX_ID, help="Contact id."),
    check: list[str] = typer.Option(
        [], "--check", help="NAME=yes|no: override one check (repeatable)."
    ),
    note: str | None = typer.Option(None, "--note", help="Why (kept with each override)."),
    as_json: bool = typer.Option(False, "--json", help="Print the checks as JSON."),
) -> None:
    """Show a contact's answer checks; override some with --check NAME=yes|no."""
    from channels.content_checks import UnknownCheck, empty_checks, review
    from scenarios.catalog import UnknownScenario, load_catalog
    from storage import mail
    from storage import triage as triage_repo

    wanted = [_parse(c) for c in check]

    async def work(database: Database, app_ctx: AppContext) -> dict[str, Any]:
        now = app_ctx.clock.now()
        async with database.session() as session:
            view = await mail.contact_view(session, contact)
            if view is None:
                raise UserError(f"no contact {contact}")
            checks = view.checks
            if checks is None:
                try:
                    elements = load_catalog().get(view.scenario_id).expected_elements
                except UnknownScenario:
                    elements = ()
                checks = empty_checks(elements)
            for name, value in wanted:
                try:
                    checks = review(checks, name, value, note=note, at=now, by=_who())
                except UnknownCheck as exc:
                    known = sorted({*checks.get("expected", {}), *checks.get("form", {})})
                    raise UserError(
                        f"unknown check {exc.args[0]!r} for contact {contact} "
                        f"(known: {', '.join(known)})"
                    ) from exc
            if wanted:
                await triage_repo.set_checks(session, contact, checks)
        return checks

    checks = run_with_db(ctx, work)
    if as_json:
        typer.echo(json.dumps(checks, ensure_ascii=False, indent=2))
        return
    _print(contact, checks)


def _mark(value: Any) -> str:
    return "—" if value is None else ("yes" if value else "no")


def _print(contact: int, checks: dict[str, Any]) -> None:
    from channels.content_checks import effective

    source = checks.get("message")
    console.print(
        f"Contact {contact}: checks of message {source}"
        if source
        else f"Contact {contact}: no answer checked yet"
    )
    table = Table(title_justify="left")
    for column in ("check", "automatic", "override", "effective", "found / note"):
        table.add_column(column)
    for group in ("expected", "form"):
        for name, entry in (checks.get(group) or {}).items():
            override = entry.get("override") or {}
            detail = override.get("note") or entry.get("found") or entry.get("label") or ""
            table.add_row(f"{group}.{name}", _mark(entry.get("auto")),
                          _mark(override.get("value")) if override else "",
                          _mark(effective(entry)), str(detail)[:60])  # fmt: skip
    console.print(table)
    if checks.get("links"):
        console.print("Links (not visited): " + ", ".join(checks["links"][:10]))
    for item in checks.get("attachments") or []:
        console.print(f"Attachment: {item.get('filename')} ({item.get('content_type')}, "
                      f"{item.get('size')} bytes)")  # fmt: skip
