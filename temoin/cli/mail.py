"""`temoin mail` commands: look at email messages offline, the way the watcher will.

    temoin mail inspect FILE.eml… [--scenario ID]

For each file, one JSON object on one line of standard output (JSON Lines): how the message
was classified and why (and whether the classifier is unsure of it), its ids, dates, sender,
subject, the new text of the reply, its attachments and the defects met while parsing
(``truncated``: something was cut to size). With ``--scenario``, also which of the
scenario's expected elements the reply's own text (new text and signature, not the quoted
request) contains. A file that is not an email at all is reported ``quarantined`` with the
reason. Exit code 1 only when a file could not be read (missing; not a regular file: a FIFO
or ``/dev/zero`` is refused before anything is read; larger than 64 MB).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from scenarios.input_files import LIMITS, InputFileError, read_input
from temoin.cli.common import app_context, fail, json_text, printable
from temoin.cli.words import words

if TYPE_CHECKING:
    from channels.mime import Address
    from scenarios.catalog import ExpectedElement

app = typer.Typer(rich_markup_mode=None, no_args_is_help=True, help="cli.help.mail.about")


@app.command(help="cli.help.mail.inspect.about")
def inspect(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., help="cli.help.mail.inspect.files"),
    scenario: str | None = typer.Option(None, "--scenario", help="cli.help.mail.inspect.scenario"),
) -> None:
    """Parse and classify messages; print one JSON object per message."""
    elements = _expected_elements(ctx, scenario) if scenario else None
    unreadable = 0
    for path in files:
        try:
            raw = read_input(path, LIMITS["message"])
        except InputFileError as exc:
            # plain echo, not rich: a long path must not wrap at the terminal's width
            said = words(app_context(ctx)).input_error(path, exc)
            typer.echo(f"temoin: {printable(said)}", err=True)
            unreadable += 1
            continue
        typer.echo(json_text(inspect_report(str(path), raw, elements), indent=None))
    if unreadable:
        raise typer.Exit(1)


def _expected_elements(ctx: typer.Context, scenario_id: str) -> tuple[ExpectedElement, ...]:
    from scenarios.catalog import CatalogError, UnknownScenario, load_catalog

    try:
        return load_catalog().get(scenario_id).expected_elements
    except UnknownScenario:
        fail(words(app_context(ctx))("cli.mail.unknown_scenario", scenario=scenario_id))
    except CatalogError as exc:
        fail(str(exc))


def inspect_report(
    file: str, raw: bytes, elements: Sequence[ExpectedElement] | None = None
) -> dict[str, Any]:
    """The JSON-ready report of one raw message."""
    from channels.classify import classify
    from channels.content import check_expected
    from channels.mime import UnparsableMessage, parse_message

    try:
        parsed = parse_message(raw)
    except UnparsableMessage as exc:
        return {"file": file, "quarantined": True, "reason": exc.reason}
    result = classify(parsed)
    report: dict[str, Any] = {
        "file": file,
        "quarantined": False,
        "classification": result.kind,
        "evidence": list(result.evidence),
        "unsure": result.unsure,
        "bounce": None,
        "message_id": parsed.message_id,
        "in_reply_to": parsed.in_reply_to,
        "references": list(parsed.references),
        "dates": {
            "date": parsed.date.isoformat() if parsed.date else None,
            "date_raw": parsed.date_raw,
        },
        "from": _address(parsed.from_),
        "to": [_address(address) for address in parsed.to],
        "subject": parsed.subject,
        "new_text": parsed.new_text,
        "signature": parsed.signature,
        "attachments": [
            {
                "filename": item.filename,
                "content_type": item.content_type,
                "size": item.size,
                "sha256": item.sha256,
            }
            for item in parsed.attachments
        ],
        "defects": list(parsed.defects),
        "truncated": parsed.truncated,
    }
    if result.bounce is not None:
        bounce = result.bounce
        report["bounce"] = {
            "severity": bounce.severity,
            "status": bounce.status,
            "recipient": bounce.recipient,
            "original_message_id": bounce.original_message_id,
            "diagnostic": bounce.diagnostic,
            "dsn": bounce.dsn,
        }
    if elements is not None:
        own_text = f"{parsed.new_text}\n{parsed.signature}"
        report["expected"] = [
            {"id": hit.id, "label": element.label, "found": hit.found, "pattern": hit.pattern}
            for hit, element in zip(check_expected(own_text, elements), elements, strict=True)
        ]
    return report


def _address(address: Address | None) -> dict[str, str] | None:
    if address is None:
        return None
    return {"name": address.name, "address": address.address}
