"""`temoin review CONTACT`: look at an answer's content checks and override them.

    temoin review 42                                    show the checks
    temoin review 42 --check procedure=yes --check agent_name=no --note "signed « Le service »"

An override is kept beside the automatic value (``"override"`` in the item), never in its place;
the effective value is the override when there is one. A name may be an expected element of the
scenario (``procedure``) or a form check (``greeting``, ``closing``, ``agent_name``, ``phone``,
``email``, ``postal_address``, ``right_service``); ``expected.X`` / ``form.X`` when both exist.
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
    json_text,
    run_with_db,
)
from temoin.cli.words import Words, words

if TYPE_CHECKING:
    from storage.db import Database

_YES = {"yes", "y", "oui", "true", "1"}
_NO = {"no", "n", "non", "false", "0"}


def _parse(check: str, w: Words) -> tuple[str, bool]:
    name, sep, value = check.partition("=")
    lowered = value.strip().lower()
    if not sep or not name.strip() or lowered not in _YES | _NO:
        fail(w("cli.review.bad_check", check=check))
    return name.strip(), lowered in _YES


def _who() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no user name in a container
        return "coordinator"


def command(
    ctx: typer.Context,
    contact: int = typer.Argument(..., min=1, max=MAX_ID, help="cli.help.review.command.contact"),
    check: list[str] = typer.Option([], "--check", help="cli.help.review.command.check"),
    note: str | None = typer.Option(None, "--note", help="cli.help.review.command.note"),
    as_json: bool = typer.Option(False, "--json", help="cli.help.review.command.as_json"),
) -> None:
    """Show a contact's answer checks; override some with --check NAME=yes|no."""
    from runners.reviews import ReviewError, override_checks
    from scenarios.catalog import load_catalog

    wanted = [_parse(c, words(app_context(ctx))) for c in check]

    async def work(database: Database, app_ctx: AppContext) -> tuple[dict[str, Any], str | None]:
        from storage.lookup import message_texts

        now = app_ctx.clock.now()
        async with database.session() as session:
            try:
                done = await override_checks(
                    session, contact, wanted, note=note, at=now, by=_who(),
                    catalog=load_catalog(),
                )  # fmt: skip
            except ReviewError as exc:
                w = words(app_ctx)
                if exc.code == "no_contact":
                    raise UserError(w("cli.contact.unknown", id=contact)) from exc
                if exc.code == "unknown_check" and exc.__cause__ is not None:
                    name = str(exc.__cause__.args[0])
                    said = w("cli.review.unknown_check", check=name, id=contact,
                             known=", ".join(exc.known))  # fmt: skip
                    raise UserError(said) from exc
                raise UserError(str(exc)) from exc
            source = done.source_message
            texts = await message_texts(session, [source]) if source is not None else {}
        return done.checks, texts.get(source) if source is not None else None

    checks, text = run_with_db(ctx, work)
    if as_json:
        typer.echo(json_text(checks))
        return
    w = words(app_context(ctx))
    print_checks(contact, checks, w)
    print_answer(checks, text, w)


def _mark(w: Words, value: Any) -> str:
    return "–" if value is None else w.yes_no(bool(value))


def _label(w: Words, group: str, name: str, entry: dict[str, Any]) -> str:
    from runners.reviews import check_label

    return check_label(w.t, group, name, entry)


def print_checks(contact: int, checks: dict[str, Any], w: Words) -> None:
    """The checks with their full labels (a table cell wraps, it is never cut)."""
    from channels.content_checks import effective

    source = checks.get("message")
    if source:
        console.print(w("cli.review.title", contact=contact, message=source), style="bold")
    else:
        console.print(w("cli.review.none", contact=contact), style="bold")
    table = Table(title_justify="left")
    for key in ("check", "automatic", "override", "effective", "found"):
        table.add_column(w(f"cli.review.{key}"), overflow="fold" if key == "found" else "ellipsis")
    for group in ("expected", "form"):
        for name, entry in (checks.get(group) or {}).items():
            override = entry.get("override") or {}
            detail = override.get("note") or entry.get("found") or ""
            table.add_row(f"{_label(w, group, name, entry)}\n{group}.{name}",
                          _mark(w, entry.get("auto")),
                          _mark(w, override.get("value")) if override else "",
                          _mark(w, effective(entry)), str(detail))  # fmt: skip
    console.print(table)
    if checks.get("links"):
        console.print(w("cli.review.links", links=", ".join(checks["links"][:10])))
    for item in checks.get("attachments") or []:
        size = item.get("size")
        weight = w.f.number(size) + "\u202fo" if isinstance(size, int) else "–"
        console.print(w("cli.review.attachment", name=item.get("filename") or "–",
                        type=item.get("content_type") or "–", size=weight))  # fmt: skip


def print_answer(checks: dict[str, Any], text: str | None, w: Words) -> None:
    """The answer's own words, what the checks found in it marked (bold, underlined)."""
    from rich.text import Text

    from runners.reviews import found_phrases
    from temoin.cli.common import printable
    from temoin.cli.words import TEXT_LIMIT, clip

    if not checks.get("message"):
        return
    console.print(w("cli.review.answer"), style="bold")
    if not text or not text.strip():
        console.print(w("cli.review.no_text"))
        return
    shown = Text(printable(clip(text.strip(), TEXT_LIMIT)))
    shown.highlight_words(found_phrases(checks), style="bold underline", case_sensitive=False)
    console.print(shown)
