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
from storage import triage
from web.pages import now, require_coordinator, state
from web.security import checked_form

MAX_BULK = 100
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
    done = 0
    async with st.database.session() as db:
        for message_id in ids:
            if action == "ignore":
                done += await triage.ignore_message(db, message_id, actor, at)
            else:
                done += await triage.classify_message(db, message_id, kind, actor, at)
    query = {"lot": action, "faits": done, "ecartes": len(ids) - done}
    return RedirectResponse(f"/admin/tri?{urlencode(query)}", status_code=303)


def outcome(request: Request) -> str | None:
    """The sentence saying what the last bulk decision did, from the redirect's query."""
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
        text += " " + t("web.bulk.skipped", n=f.number(int(skipped)))
    return text
