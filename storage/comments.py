"""SQL of the consultant's comments on a collectivity's barometer (``ReportComment``).

One small API for the command line (``temoin comment``) and the web back office alike:

    add_comment(session, campaign_id=…, collectivity_id=…, channel="phone" | None,
                text=…, author=…, now=…, web_account_id=None) -> CommentInfo
    list_comments(session, campaign_id=…, collectivity_id=None) -> [CommentInfo] (oldest first)
    remove_comment(session, comment_id) -> bool

``channel`` None is the comment on the whole report. The text is stored as typed (stripped);
whoever shows it escapes it. Several comments may stand on the same channel: each is shown
signed and dated, in the order written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from scenarios.domain import Channel
from storage.models import Campaign, Collectivity, ReportComment

__all__ = [
    "MAX_AUTHOR",
    "MAX_TEXT",
    "CommentError",
    "CommentInfo",
    "add_comment",
    "list_comments",
    "remove_comment",
]

MAX_TEXT: Final = 4000
MAX_AUTHOR: Final = 200


class CommentError(ValueError):
    """A comment that cannot be stored (empty, too long, unknown channel); the message in
    English, ``code`` and ``params`` for the reader's words (``cli.comment.error.<code>``):
    ``channel`` (``channel``, ``known``), ``empty``, ``too_long`` (``n``, ``most``),
    ``unsigned``, ``author_too_long`` (``most``)."""

    def __init__(self, message: str, code: str = "", /, **params: str | int) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


@dataclass(frozen=True, slots=True)
class CommentInfo:
    id: int
    campaign_id: int
    campaign_name: str
    collectivity_id: int
    collectivity_code: str
    collectivity_name: str
    channel: str | None
    text: str
    author: str
    web_account_id: int | None
    created_at: datetime


def _check(channel: str | None, text: str, author: str) -> tuple[str, str]:
    if channel is not None and channel not in {c.value for c in Channel}:
        known = ", ".join(c.value for c in Channel)
        raise CommentError(
            f"unknown channel {channel!r}: one of {known}, or none for the report", "channel",
            channel=channel, known=known,
        )  # fmt: skip
    text = text.strip()
    author = " ".join(author.split())
    if not text:
        raise CommentError("the comment is empty", "empty")
    if len(text) > MAX_TEXT:
        raise CommentError(
            f"the comment has {len(text)} characters, at most {MAX_TEXT}", "too_long",
            n=len(text), most=MAX_TEXT,
        )  # fmt: skip
    if not author:
        raise CommentError("a comment is signed: give the author's name", "unsigned")
    if len(author) > MAX_AUTHOR:
        raise CommentError(
            f"the author's name has more than {MAX_AUTHOR} characters", "author_too_long",
            most=MAX_AUTHOR,
        )  # fmt: skip
    return text, author


async def add_comment(
    session: AsyncSession,
    *,
    campaign_id: int,
    collectivity_id: int,
    channel: str | None,
    text: str,
    author: str,
    now: datetime,
    web_account_id: int | None = None,
) -> CommentInfo:
    """Store one comment and return it; ``CommentError`` says why not (nothing is written)."""
    if now.utcoffset() is None:
        raise ValueError(f"naive datetime refused: {now!r}")
    text, author = _check(channel, text, author)
    row = ReportComment(
        campaign_id=campaign_id,
        collectivity_id=collectivity_id,
        channel=channel,
        text=text,
        author=author,
        web_account_id=web_account_id,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    found = await _infos(session, ReportComment.id == row.id)
    return found[0]


async def _infos(session: AsyncSession, *where: object) -> list[CommentInfo]:
    query = (
        select(
            ReportComment.id,
            ReportComment.campaign_id,
            Campaign.name,
            ReportComment.collectivity_id,
            Collectivity.insee_code,
            Collectivity.name,
            ReportComment.channel,
            ReportComment.text,
            ReportComment.author,
            ReportComment.web_account_id,
            ReportComment.created_at,
        )
        .join(Campaign, Campaign.id == ReportComment.campaign_id)
        .join(Collectivity, Collectivity.id == ReportComment.collectivity_id)
        .where(*where)  # type: ignore[arg-type]
        .order_by(ReportComment.created_at, ReportComment.id)
    )
    return [CommentInfo(*row) for row in await session.execute(query)]


async def list_comments(
    session: AsyncSession, *, campaign_id: int, collectivity_id: int | None = None
) -> list[CommentInfo]:
    """The campaign's comments (one collectivity's when given), oldest first."""
    where = [ReportComment.campaign_id == campaign_id]
    if collectivity_id is not None:
        where.append(ReportComment.collectivity_id == collectivity_id)
    return await _infos(session, *where)


async def remove_comment(session: AsyncSession, comment_id: int) -> bool:
    """Delete one comment; False when there was none with that id."""
    result = await session.execute(delete(ReportComment).where(ReportComment.id == comment_id))
    return bool(getattr(result, "rowcount", 0))
