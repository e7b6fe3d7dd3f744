"""A coordinator's reviews, whoever asks (``temoin review``, ``temoin observations to-fix``,
the back office): one code path each, so the CLI and the web record the same things.

- ``override_checks``: override some content checks of an answer (``channels.content_checks``:
  the automatic value is kept beside the override); each override also leaves a
  ``review.override`` event (check, value, note, who), so the history of a check survives the
  next override, which replaces the one in the checks.
- ``ask_to_fix``: mark one grid answer « à corriger » with a reason; a ``review.to_fix``
  event records it and the bot tells the auditor (``storage.bot.pending_fix_requests``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from channels.content_checks import UnknownCheck, empty_checks, find_item, review
from scenarios import events as ev
from scenarios.catalog import Catalog, UnknownScenario
from scenarios.i18n import Translator
from storage import bot as bot_repo
from storage import mail
from storage import triage as triage_repo
from storage.models import Contact


class ReviewError(Exception):
    """What was asked cannot be done; ``args[0]`` says why, in English (callers word it)."""

    def __init__(self, message: str, *, code: str, known: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.code = code  # no_contact | unknown_check | no_question | no_answer
        self.known = tuple(known)


@dataclass(frozen=True, slots=True)
class Reviewed:
    checks: dict[str, Any]
    source_message: int | None


def check_label(t: Translator, group: str, name: str, entry: dict[str, Any]) -> str:
    """A check's label: the catalogue's for a form check, the scenario's for an element."""
    if group == "form":
        key = f"report.form.{name}"
        if t.has(key):
            return t(key).split(" : ", 1)[-1].split("\u202f: ", 1)[-1]
    return str(entry.get("label") or name)


def found_phrases(checks: dict[str, Any]) -> list[str]:
    """What the checks found in the answer's text (to highlight it), longest first."""
    found = {
        entry["found"].strip()
        for group in ("expected", "form")
        for entry in (checks.get(group) or {}).values()
        if isinstance(entry, dict) and isinstance(entry.get("found"), str)
        and entry["found"].strip()
    }  # fmt: skip
    return sorted(found, key=lambda phrase: (-len(phrase), phrase))


async def current_checks(
    session: AsyncSession, contact_id: int, catalog: Catalog
) -> tuple[dict[str, Any], int | None]:
    """The contact's checks (empty ones from its scenario when none were computed yet) and
    the message they were read from."""
    view = await mail.contact_view(session, contact_id)
    if view is None:
        raise ReviewError(f"no contact {contact_id}", code="no_contact")
    checks = view.checks
    if checks is None:
        try:
            elements = catalog.get(view.scenario_id).expected_elements
        except UnknownScenario:
            elements = ()
        checks = empty_checks(elements)
    source = checks.get("message")
    return checks, source if isinstance(source, int) else None


async def override_checks(
    session: AsyncSession,
    contact_id: int,
    wanted: Sequence[tuple[str, bool]],
    *,
    note: str | None,
    at: datetime,
    by: str,
    catalog: Catalog,
) -> Reviewed:
    """Override each named check (``NAME`` or ``expected.NAME`` / ``form.NAME``) in order."""
    checks, source = await current_checks(session, contact_id, catalog)
    done: list[tuple[str, bool]] = []
    for name, value in wanted:
        try:
            group, item = find_item(checks, name)
            checks = review(checks, name, value, note=note, at=at, by=by)
        except UnknownCheck as exc:
            known = sorted({*checks.get("expected", {}), *checks.get("form", {})})
            raise ReviewError(
                f"unknown check {exc.args[0]!r} for contact {contact_id} "
                f"(known: {', '.join(known)})",
                code="unknown_check",
                known=known,
            ) from exc
        done.append((f"{group}.{item}", value))
    if done:
        await triage_repo.set_checks(session, contact_id, checks)
        for check, value in done:
            detail = {"check": check, "value": value, "note": note}
            await bot_repo.add_event(session, contact_id, ev.REVIEW_OVERRIDE, at, by, detail)
    return Reviewed(checks, source)


async def ask_to_fix(
    session: AsyncSession,
    contact_id: int,
    question: str,
    reason: str,
    *,
    at: datetime,
    by: str,
    catalog: Catalog,
) -> str:
    """Mark one answer « à corriger »; the question's label (the auditor is told why)."""
    reason = reason.strip()
    if not reason:
        raise ValueError("a reason is needed")
    row = await session.get(Contact, contact_id)
    if row is None:
        raise ReviewError(f"no contact {contact_id}", code="no_contact")
    try:
        label = catalog.get(row.scenario_id).question(question).label
    except (UnknownScenario, KeyError):
        raise ReviewError(
            f"question {question!r} is not in the grid of {row.scenario_id}", code="no_question"
        ) from None
    if not await bot_repo.mark_to_fix(session, contact_id, question, reason, at):
        raise ReviewError(f"contact {contact_id} has no answer to {question!r}", code="no_answer")
    detail = {"question": question, "reason": reason}
    await bot_repo.add_event(session, contact_id, ev.REVIEW_TO_FIX, at, by, detail)
    return label
