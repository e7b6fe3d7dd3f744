"""The back office: campaigns, a campaign's progress, the triage queue, a contact's page.

Coordinators and consultants read every page; only coordinators decide in triage. Everything
that came by mail (senders, subjects, texts, evidence) is shown as text, escaped by the
templates' autoescape: no message HTML is ever put in a page, so no remote content loads.
The progress block of a campaign refreshes itself every ``progress_refresh_seconds`` (HTMX
polling, 15 s by default), so a dashboard left open follows the worker. Polling rather than
server-sent events: the figures come from the database, which tells nobody when the worker
writes (SQLite cannot, and the worker may run elsewhere), so a stream would poll it too, while
holding one connection per open dashboard in each web worker; a poll is one short request
that any proxy passes. Without JavaScript the page is read as served, and reloaded by hand.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from channels.classify import KINDS as CLASSIFIER_KINDS
from runners.tracker import Tracker, TriageError
from scenarios.progress import campaign_state
from storage import backoffice, dispatch_status, mail, triage, web_reports
from storage import progress as progress_repo
from storage.contact_status import STEPS
from web import views_bulk
from web.pages import (
    int_param,
    not_found,
    now,
    render,
    require_back_office,
    require_coordinator,
    state,
)
from web.security import checked_form

KINDS = CLASSIFIER_KINDS
MAX_HELD_SHOWN = 50
TRIAGE_PAGE = 50
MAX_TEXT = 20_000


def routes() -> list[BaseRoute]:
    return [
        Route("/admin", campaigns),
        Route("/admin/campagnes/{campaign_id:int}", campaign),
        Route("/admin/campagnes/{campaign_id:int}/avancement", progress),
        Route("/admin/campagnes/{campaign_id:int}/contacts", campaign_contacts),
        Route("/admin/tri", triage_queue),
        Route("/admin/tri/{message_id:int}", triage_message),
        Route("/admin/tri/{message_id:int}/associer", triage_match, methods=["POST"]),
        Route("/admin/tri/{message_id:int}/ignorer", triage_ignore, methods=["POST"]),
        Route("/admin/contacts/{contact_id:int}", contact),
    ]


async def campaigns(request: Request) -> Response:
    await require_back_office(request)
    st = state(request)
    async with st.database.session() as db:
        lines = await progress_repo.campaign_lines(db)
        pending, _rows = await backoffice.triage_page(db, offset=0, limit=0)
    today = now(request).astimezone(st.f.tz).date()
    states = {
        line.id: campaign_state(
            closed=line.closed_at is not None,
            contacts=line.contacts,
            started=line.started,
            window_start=line.window_start,
            today=today,
        )
        for line in lines
    }
    return render(
        request, "admin/campaigns.html.j2", campaigns=lines, states=states, pending=pending
    )


async def _progress_context(request: Request, campaign_id: int) -> dict[str, Any]:
    st = state(request)
    async with st.database.session() as db:
        info = await backoffice.campaign_by_id(db, campaign_id)
        if info is None:
            not_found()
        channels = await backoffice.channel_progress(db, campaign_id, now(request))
        held = await dispatch_status.waiting_steps(db, campaign_id, limit=MAX_HELD_SHOWN)
        held_kinds = await dispatch_status.waiting_counts(db, campaign_id)
    return {
        "campaign": info,
        "channels": channels,
        "held": held,
        "held_total": sum(held_kinds.values()),
        "held_kinds": sorted(held_kinds.items()),
        "as_of": now(request),
        "refresh": st.config.progress_refresh_seconds,
    }


async def campaign(request: Request) -> Response:
    await require_back_office(request)
    campaign_id = int_param(request, "campaign_id")
    context = await _progress_context(request, campaign_id)
    async with state(request).database.session() as db:
        earlier = await web_reports.earlier_campaigns(db, campaign_id)
    return render(request, "admin/campaign.html.j2", earlier=earlier, **context)


async def progress(request: Request) -> Response:
    await require_back_office(request)
    context = await _progress_context(request, int_param(request, "campaign_id"))
    return render(request, "admin/progress.html.j2", **context)


CHANNELS = ("email", "letter", "phone", "visit")
CONTACT_PAGE = 100


def _page(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return max(1, int(raw)) if raw.isdigit() and len(raw) < 7 else 1


async def campaign_contacts(request: Request) -> Response:
    """The contacts behind one figure of the dashboard (channel x step), by pages."""
    await require_back_office(request)
    st = state(request)
    campaign_id = int_param(request, "campaign_id")
    channel = request.query_params.get("canal", "")
    step = request.query_params.get("etape", "")
    if channel not in CHANNELS or step not in STEPS:
        not_found()
    page = _page(request)
    async with st.database.session() as db:
        info = await backoffice.campaign_by_id(db, campaign_id)
        if info is None:
            not_found()
        total, rows = await backoffice.contact_list(
            db, campaign_id, channel=channel, step=step, now=now(request),
            offset=(page - 1) * CONTACT_PAGE, limit=CONTACT_PAGE,
        )  # fmt: skip
    pages = max(1, -(-total // CONTACT_PAGE))
    return render(
        request, "admin/contacts.html.j2", campaign=info, channel=channel, step=step,
        contacts=rows, total=total, page=min(page, pages), pages=pages,
    )  # fmt: skip


def _suggestions(evidence: dict[str, Any] | None) -> list[dict[str, Any]]:
    match = (evidence or {}).get("match") or {}
    found = match.get("suggestions") or []
    return [s for s in found if isinstance(s, dict) and isinstance(s.get("contact"), int)]


def _described(
    evidence: dict[str, Any] | None, described: dict[int, backoffice.ContactSummary]
) -> list[tuple[dict[str, Any], backoffice.ContactSummary | None]]:
    return [(s, described.get(s["contact"])) for s in _suggestions(evidence)]


async def triage_queue(request: Request) -> Response:
    await require_back_office(request)
    st = state(request)
    page = _page(request)
    async with st.database.session() as db:
        total, rows = await backoffice.triage_page(
            db, offset=(page - 1) * TRIAGE_PAGE, limit=TRIAGE_PAGE
        )
        wanted = {s["contact"] for r in rows for s in _suggestions(r.evidence)}
        described = await backoffice.contact_summaries(db, sorted(wanted))
    items = [{"row": r, "suggestions": _described(r.evidence, described)} for r in rows]
    pages = max(1, -(-total // TRIAGE_PAGE))
    return render(
        request, "admin/triage.html.j2", items=items, total=total, page=min(page, pages),
        pages=pages, kinds=KINDS, bulk=await views_bulk.outcome(request),
    )  # fmt: skip


async def _triage_context(request: Request, message_id: int) -> dict[str, Any]:
    st = state(request)
    async with st.database.session() as db:
        found = await backoffice.message(db, message_id)
        if found is None or found.direction != "in":
            not_found()
        suggestions = _suggestions(found.evidence)
        described = await backoffice.contact_summaries(db, [s["contact"] for s in suggestions])
    text = found.text or ""
    return {
        "message": found,
        "text": text[:MAX_TEXT],
        "cut": len(text) > MAX_TEXT,
        "reason": ((found.evidence or {}).get("match") or {}).get("reason"),
        "suggestions": _described(found.evidence, described),
        "kinds": KINDS,
        "pending": found.triage_state == mail.PENDING,
    }


async def triage_message(request: Request) -> Response:
    await require_back_office(request)
    context = await _triage_context(request, int_param(request, "message_id"))
    return render(request, "admin/message.html.j2", **context)


def _form_id(value: object) -> int | None:
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 10:
        number = int(value.strip())
        return number if number > 0 else None
    return None


async def triage_match(request: Request) -> Response:
    account = await require_coordinator(request)
    form = await checked_form(request)
    st = state(request)
    message_id = int_param(request, "message_id")
    contact_id = _form_id(form.get("contact"))
    kind = str(form.get("kind") or "") or None
    error = None
    if contact_id is None:
        error = st.t("web.triage.no_contact")
    elif kind is not None and kind not in KINDS:
        error = st.t("web.triage.bad_kind")
    else:
        tracker = Tracker(st.database, st.scenario_catalog(), st.clock)
        try:
            await tracker.match_manually(
                message_id, contact_id, actor=f"web:{account.login}", kind=kind
            )
        except TriageError as exc:
            error = st.t("web.triage.refused", reason=exc.said(st.t))
    if error is not None:
        context = await _triage_context(request, message_id)
        return render(request, "admin/message.html.j2", status_code=400, error=error, **context)
    return RedirectResponse(f"/admin/contacts/{contact_id}", status_code=303)


async def triage_ignore(request: Request) -> Response:
    account = await require_coordinator(request)
    await checked_form(request)
    st = state(request)
    message_id = int_param(request, "message_id")
    async with st.database.session() as db:
        if not await triage.triage_rows(db, message_id=message_id):
            not_found()
        done = await triage.ignore_message(db, message_id, f"web:{account.login}", now(request))
    if not done:
        context = await _triage_context(request, message_id)
        return render(
            request, "admin/message.html.j2", status_code=409,
            error=st.t("web.triage.refused", reason=await views_bulk.why_decided(st, message_id)),
            **context,
        )  # fmt: skip
    return RedirectResponse("/admin/tri", status_code=303)


async def contact(request: Request) -> Response:
    await require_back_office(request)
    st = state(request)
    contact_id = int_param(request, "contact_id")
    async with st.database.session() as db:
        found = (await backoffice.contact_summaries(db, [contact_id])).get(contact_id)
        if found is None:
            not_found()
        events = await backoffice.contact_events(db, contact_id)
        messages = await backoffice.contact_messages(db, contact_id)
    scenario = st.scenario_catalog().scenarios.get(found.scenario_id)
    return render(
        request, "admin/contact.html.j2", contact=found, events=events,
        messages=[(m, (m.text or "")[:MAX_TEXT]) for m in messages],
        scenario_title=scenario.title if scenario else found.scenario_id,
    )  # fmt: skip
