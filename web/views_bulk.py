"""Bulk triage: a coordinator ticks several held messages in the queue and decides once.

    POST /admin/tri/lot   message=<id> (repeated), action=ignore|classify, kind=<class>

- ignore: each message leaves the queue as ``ignored`` (it answers no contact), with who and
  when in its evidence, as ``temoin triage ignore`` and the message page do;
- classify: each message gets the class a person set (replacing the classifier's) and stays
  in the queue, to be matched or ignored; the classifier's class is kept in its evidence.

Each move is conditional on the message being still pending (``storage.triage.set_triage``),
so two coordinators deciding at once never apply a decision twice: a message decided
meanwhile is counted as skipped. At most one page of the queue at a time.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from channels.classify import KINDS
from runners.tracker import TriageError
from storage import mail, triage
from web.pages import WebState, now, require_coordinator, state
from web.security import checked_form

MAX_BULK = 100
SAID_SKIPPED = 10  # skipped messages told one by one, at most
ACTIONS = ("ignore", "classify")


def routes() -> list[BaseRoute]:
    return [Route("/admin/tri/lot", bulk, methods=["POST"])]


def _ids(values: list[Any]) -> list[int]:
    found: list[int] = []
    for value in values:
        text = value.strip() if isinstance(value, str) else ""
        if text.isdigit() and len(text) < 10 and int(text) > 0 and int(text) not in found:
            found.append(int(text))
    return found


async def bulk(request: Request) -> Response:
    account = await require_coordinator(request)
    form = await checked_form(request)
    st = state(request)
    ids = _ids(form.getlist("message"))[:MAX_BULK]
    action = str(form.get("action") or "")
    kind = str(form.get("kind") or "")
    if action not in ACTIONS or (action == "classify" and kind not in KINDS) or not ids:
        reason = "none" if not ids else ("kind" if action == "classify" else "action")
        return RedirectResponse(f"/admin/tri?{urlencode({'lot': reason})}", status_code=303)
    actor, at = f"web:{account.login}", now(request)
    done, skipped = 0, []
    async with st.database.session() as db:
        for message_id in ids:
            if action == "ignore":
                moved = await triage.ignore_message(db, message_id, actor, at)
            else:
                moved = await triage.classify_message(db, message_id, kind, actor, at)
            done += moved
            if not moved:
                skipped.append(message_id)
    query = {"lot": action, "faits": done, "ecartes": len(skipped),
             "lesquels": ",".join(map(str, skipped[:SAID_SKIPPED]))}  # fmt: skip
    return RedirectResponse(f"/admin/tri?{urlencode(query)}", status_code=303)


async def why_decided(st: WebState, message_id: int) -> str:
    """Why a message can no longer be decided: no such message, matched to a contact,
    classified or ignored, in the words of ``temoin triage`` (``cli.triage.error.*``)."""
    async with st.database.session() as db:
        rows = await triage.triage_rows(db, message_id=message_id)
    row = rows[0] if rows else None
    if row is None:
        exc = TriageError("", "no_message", message=message_id)
    elif row.contact_id:
        exc = TriageError("", "matched", message=message_id, contact=row.contact_id)
    elif row.triage_state not in (mail.PENDING, "ignored") and row.classification:
        exc = TriageError("", "classified", message=message_id, kind=row.classification)
    else:
        exc = TriageError("", "not_pending", message=message_id)
    return exc.said(st.t)


async def outcome(request: Request) -> str | None:
    """The sentence saying what the last bulk decision did, from the redirect's query: how
    many messages moved, and which were skipped and why (read again, so only ids are sent)."""
    t = state(request).t
    params = request.query_params
    action = params.get("lot")
    if action in ("none", "kind", "action"):
        return t(f"web.bulk.refused.{action}")
    done, skipped = params.get("faits", ""), params.get("ecartes", "")
    if action not in ACTIONS or not (done.isdigit() and skipped.isdigit()):
        return None
    if len(done) > 4 or len(skipped) > 4:
        return None
    f = state(request).f
    text = t(f"web.bulk.done.{action}", n=f.number(int(done)))
    if int(skipped):
        named = [int(i) for i in params.get("lesquels", "").split(",") if i.isdigit()]
        reasons = [await why_decided(state(request), i) for i in named[:SAID_SKIPPED] if i < 10**9]
        if reasons:
            text += " " + t("web.bulk.skipped_why", n=f.number(int(skipped)),
                            reasons=" ; ".join(reasons))  # fmt: skip
        else:
            text += " " + t("web.bulk.skipped", n=f.number(int(skipped)))
    return text
