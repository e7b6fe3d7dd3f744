"""The consultant's comments on one collectivity's barometer, in the back office.

    GET  /admin/campagnes/{id}/commentaires?insee=CODE                  its comments, a form
    POST /admin/campagnes/{id}/commentaires                             add one (insee in the form)
    POST /admin/campagnes/{id}/commentaires/{comment}/supprimer         remove one

Consultants and coordinators write (the comment is signed with the account's name and kept
with its id, as ``temoin comment add`` signs with ``--author``); a comment is removed by its
author's account or a coordinator. The storage is ``storage.comments``, the same as the
command line's; the personal barometer shows them (``reports.render_personal``). The
collectivity must have taken part in the campaign, else 404. Texts are shown escaped.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from scenarios.domain import Channel
from storage import backoffice, comments, web_reports
from storage.stats import CampaignInfo, CollectivityInfo, collectivity_info
from storage.web_accounts import AccountInfo
from web import auth
from web.pages import int_param, not_found, now, render, require_back_office, state
from web.security import checked_form

CHANNELS = tuple(c.value for c in Channel)


def routes() -> list[BaseRoute]:
    base = "/admin/campagnes/{campaign_id:int}/commentaires"
    return [
        Route(base, page, methods=["GET"]),
        Route(base, add, methods=["POST"]),
        Route(base + "/{comment_id:int}/supprimer", remove, methods=["POST"]),
    ]


async def _target(
    request: Request, code: object
) -> tuple[AccountInfo, CampaignInfo, CollectivityInfo]:
    account = await require_back_office(request)
    text = code.strip()[:10] if isinstance(code, str) else ""
    async with state(request).database.session() as db:
        campaign = await backoffice.campaign_by_id(db, int_param(request, "campaign_id"))
        collectivity = await collectivity_info(db, text) if text and campaign else None
        if (
            campaign is None
            or collectivity is None
            or not await web_reports.took_part(db, campaign.id, collectivity.id)
        ):
            not_found()
    return account, campaign, collectivity


def _back(campaign: CampaignInfo, collectivity: CollectivityInfo) -> str:
    query = urlencode({"insee": collectivity.insee_code})
    return f"/admin/campagnes/{campaign.id}/commentaires?{query}"


async def _render(
    request: Request,
    account: AccountInfo,
    campaign: CampaignInfo,
    collectivity: CollectivityInfo,
    *,
    status_code: int = 200,
    error: str | None = None,
    text: str = "",
) -> Response:
    async with state(request).database.session() as db:
        found = await comments.list_comments(
            db, campaign_id=campaign.id, collectivity_id=collectivity.id
        )
    return render(
        request, "admin/comments.html.j2", status_code=status_code, campaign=campaign,
        collectivity=collectivity, comments=found, channels=CHANNELS, error=error, text=text,
        max_text=comments.MAX_TEXT, can_remove=lambda c: _may_remove(account, c),
    )  # fmt: skip


def _may_remove(account: AccountInfo, comment: comments.CommentInfo) -> bool:
    return auth.can_decide(account) or comment.web_account_id == account.id


async def page(request: Request) -> Response:
    account, campaign, collectivity = await _target(request, request.query_params.get("insee"))
    return await _render(request, account, campaign, collectivity)


async def add(request: Request) -> Response:
    await require_back_office(request)
    form = await checked_form(request)
    account, campaign, collectivity = await _target(request, form.get("insee"))
    st = state(request)
    channel = str(form.get("channel") or "") or None
    text = str(form.get("text") or "")
    if channel is not None and channel not in CHANNELS:
        not_found()
    try:
        async with st.database.session() as db:
            await comments.add_comment(
                db, campaign_id=campaign.id, collectivity_id=collectivity.id, channel=channel,
                text=text, author=account.name, now=now(request), web_account_id=account.id,
            )  # fmt: skip
    except comments.CommentError:
        problem = "empty" if not text.strip() else "long"
        error = st.t(f"web.comments.error.{problem}", n=st.f.number(comments.MAX_TEXT))
        return await _render(
            request, account, campaign, collectivity, status_code=400, error=error,
            text=text[: comments.MAX_TEXT * 2],
        )  # fmt: skip
    return RedirectResponse(_back(campaign, collectivity), status_code=303)


async def remove(request: Request) -> Response:
    await require_back_office(request)
    form = await checked_form(request)
    account, campaign, collectivity = await _target(request, form.get("insee"))
    comment_id = int_param(request, "comment_id")
    async with state(request).database.session() as db:
        found = await comments.list_comments(
            db, campaign_id=campaign.id, collectivity_id=collectivity.id
        )
        comment = next((c for c in found if c.id == comment_id), None)
        if comment is None:
            not_found()
        if not _may_remove(account, comment):
            return await _render(
                request, account, campaign, collectivity, status_code=403,
                error=state(request).t("web.comments.error.not_yours"),
            )  # fmt: skip
        await comments.remove_comment(db, comment_id)
    return RedirectResponse(_back(campaign, collectivity), status_code=303)
