"""The back office's reviews: an answer's content checks, the auditors' observations, the
auditors and their load.

Coordinators and consultants review (a consultant "writes comments and reviews"); both go
through the same code paths as ``temoin review`` and ``temoin observations to-fix``
(``runners.reviews``), as ``web:LOGIN``. An override keeps the automatic value beside it and
leaves a ``review.override`` event: the page lists them, the history of each check. « À
corriger » marks the answer and records a ``review.to_fix`` event; the bot tells the auditor
why. The answer's text is shown as text (autoescaped), what the checks found in it marked.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from channels.content_checks import effective
from runners.reviews import (
    ReviewError,
    ask_to_fix,
    check_label,
    current_checks,
    found_phrases,
    override_checks,
)
from scenarios import events as ev
from scenarios.answers import shown_answer
from scenarios.catalog import UnknownScenario
from storage import auditors, backoffice, lookup
from storage import bot as bot_repo
from web.pages import (
    WebState,
    int_param,
    not_found,
    now,
    render,
    require_back_office,
    state,
)
from web.security import checked_form

MAX_TEXT = 20_000
MAX_NOTE = 1_000
YES, NO = "oui", "non"


def routes() -> list[BaseRoute]:
    return [
        Route("/admin/contacts/{contact_id:int}/controles", checks_page, methods=["GET"]),
        Route("/admin/contacts/{contact_id:int}/controles", checks_override, methods=["POST"]),
        Route("/admin/contacts/{contact_id:int}/observations", observations_page),
        Route(
            "/admin/contacts/{contact_id:int}/observations/a-corriger",
            observation_to_fix,
            methods=["POST"],
        ),
        Route("/admin/enqueteurs", auditor_loads),
    ]


def marked(text: str, phrases: list[str]) -> list[tuple[str, bool]]:
    """``text`` cut into (piece, found by a check) pieces; case-insensitive, longest first."""
    if not phrases or not text:
        return [(text, False)]
    pattern = re.compile("|".join(re.escape(p) for p in phrases), re.IGNORECASE)
    pieces: list[tuple[str, bool]] = []
    at = 0
    for found in pattern.finditer(text):
        if found.start() > at:
            pieces.append((text[at : found.start()], False))
        pieces.append((found.group(0), True))
        at = found.end()
    if at < len(text):
        pieces.append((text[at:], False))
    return pieces


def _check_rows(st: WebState, checks: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for group in ("expected", "form"):
        for name, entry in (checks.get(group) or {}).items():
            if not isinstance(entry, dict):
                continue
            override = entry.get("override") if isinstance(entry.get("override"), dict) else None
            rows.append({
                "name": f"{group}.{name}", "label": check_label(st.t, group, name, entry),
                "group": group, "auto": entry.get("auto"), "override": override,
                "effective": effective(entry), "found": entry.get("found"),
            })  # fmt: skip
    return rows


async def _contact(request: Request, contact_id: int) -> backoffice.ContactSummary:
    async with state(request).database.session() as db:
        found = (await backoffice.contact_summaries(db, [contact_id])).get(contact_id)
    if found is None:
        not_found()
    return found


async def _checks_context(request: Request, contact_id: int) -> dict[str, Any]:
    st = state(request)
    contact = await _contact(request, contact_id)
    async with st.database.session() as db:
        checks, source = await current_checks(db, contact_id, st.scenario_catalog())
        texts = await lookup.message_texts(db, [source]) if source is not None else {}
        history = [
            e
            for e in await backoffice.contact_events(db, contact_id)
            if e.kind == ev.REVIEW_OVERRIDE
        ]
    text = (texts.get(source) or "").strip() if source is not None else ""
    rows = _check_rows(st, checks)
    return {
        "contact": contact,
        "source": source,
        "pieces": marked(text[:MAX_TEXT], found_phrases(checks)),
        "has_text": bool(text),
        "cut": len(text) > MAX_TEXT,
        "rows": rows,
        "labels": {row["name"]: row["label"] for row in rows},
        "history": list(reversed(history)),
    }


async def checks_page(request: Request) -> Response:
    await require_back_office(request)
    context = await _checks_context(request, int_param(request, "contact_id"))
    return render(request, "admin/checks.html.j2", **context)


async def _posted(request: Request) -> tuple[str, dict[str, str], int]:
    """A review form's author (``web:LOGIN``), its fields (CSRF checked) and the contact."""
    account = await require_back_office(request)
    form = await checked_form(request)
    contact_id = int_param(request, "contact_id")
    await _contact(request, contact_id)
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    return f"web:{account.login}", fields, contact_id


async def checks_override(request: Request) -> Response:
    by, form, contact_id = await _posted(request)
    st = state(request)
    name = str(form.get("check") or "")
    value = str(form.get("value") or "")
    note = str(form.get("note") or "").strip()[:MAX_NOTE] or None
    error = None
    if value not in (YES, NO):
        error = st.t("web.checks.no_value")
    elif note is None:
        error = st.t("web.checks.no_note")
    else:
        try:
            async with st.database.session() as db:
                await override_checks(
                    db, contact_id, [(name, value == YES)], note=note, at=now(request),
                    by=by, catalog=st.scenario_catalog(),
                )  # fmt: skip
        except ReviewError:
            error = st.t("web.checks.unknown")
    if error is not None:
        context = await _checks_context(request, contact_id)
        return render(request, "admin/checks.html.j2", status_code=400, error=error, **context)
    return RedirectResponse(f"/admin/contacts/{contact_id}/controles#historique", status_code=303)


async def _observations_context(request: Request, contact_id: int) -> dict[str, Any]:
    st = state(request)
    contact = await _contact(request, contact_id)
    async with st.database.session() as db:
        answers = await bot_repo.answers_of(db, contact_id)
        asked = [
            e
            for e in await backoffice.contact_events(db, contact_id)
            if e.kind in (ev.REVIEW_TO_FIX, ev.REVIEW_FIXED)
        ]
    try:
        grid = list(st.scenario_catalog().get(contact.scenario_id).grid)
    except UnknownScenario:
        grid = []
    questions = {q.id: q for q in grid}
    order = [q.id for q in grid if q.id in answers] + sorted(set(answers) - set(questions))
    rows = [
        {
            "id": qid,
            "label": questions[qid].label if qid in questions else qid,
            "shown": shown_answer(questions.get(qid), answers[qid].value, st.t, st.f),
            "state": answers[qid].review_state,
            "note": answers[qid].review_note,
        }
        for qid in order
    ]
    labels = {row["id"]: row["label"] for row in rows}
    return {"contact": contact, "rows": rows, "history": list(reversed(asked)), "labels": labels}


async def observations_page(request: Request) -> Response:
    await require_back_office(request)
    context = await _observations_context(request, int_param(request, "contact_id"))
    return render(request, "admin/observations.html.j2", **context)


async def observation_to_fix(request: Request) -> Response:
    by, form, contact_id = await _posted(request)
    st = state(request)
    question = str(form.get("question") or "")
    reason = str(form.get("reason") or "").strip()[:MAX_NOTE]
    error = None
    if not reason:
        error = st.t("web.observations.no_reason")
    else:
        try:
            async with st.database.session() as db:
                await ask_to_fix(
                    db, contact_id, question, reason, at=now(request),
                    by=by, catalog=st.scenario_catalog(),
                )  # fmt: skip
        except ReviewError:
            error = st.t("web.observations.unknown")
    if error is not None:
        context = await _observations_context(request, contact_id)
        return render(
            request, "admin/observations.html.j2", status_code=400, error=error, **context
        )
    return RedirectResponse(f"/admin/contacts/{contact_id}/observations", status_code=303)


async def auditor_loads(request: Request) -> Response:
    await require_back_office(request)
    async with state(request).database.session() as db:
        loads = await auditors.auditor_loads(db, now(request))
    return render(request, "admin/auditors.html.j2", auditors=loads)
