"""A persona's own copies of what it sent: looked up by Message-ID, filed in Sent.

Two jobs the dispatcher needs from the persona's mailbox, over IMAP:

- ``find_sent``: after a crash or an ambiguous send, was this Message-ID accepted? The
  provider files our blind copy (the persona is a second envelope recipient) in INBOX, and a
  mail client may have filed it in Sent: both are searched, and the INTERNALDATE of the copy
  found is the server's acceptance time.
- ``file_copies``: put each sent message in the Sent folder once, ``\\Seen``, dated at its
  acceptance, as a mail client does, so a person reading the mailbox sees what was sent.
  With the bytes sent at hand (right after sending), APPEND them. Without (a send recovered
  after a crash, a copy whose worker died): look in Sent first (a copy already there is
  never filed twice), else take the persona's blind copy from INBOX, which holds the bytes
  sent with the delivery's trace fields prepended (``strip_trace`` removes them), and APPEND
  that. Nowhere yet (the provider has not filed its copy): ``missing``, try again later.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from channels.imap_session import ImapAccount, ImapSession


async def find_sent(
    account: ImapAccount, message_ids: Sequence[str], *, imap_timeout: float
) -> dict[str, datetime]:
    """The Message-IDs found in INBOX or Sent, with the INTERNALDATE of the copy found.

    Raises ``ImapError`` when the mailbox cannot be read (the caller must not send then)."""
    found: dict[str, datetime] = {}
    async with ImapSession(account, timeout=imap_timeout) as imap:
        roles = await imap.special_folders()
        for folder in ("INBOX", roles.get("sent")):
            if folder is None:
                continue
            await imap.select(folder)
            for message_id in message_ids:
                if message_id in found:
                    continue
                uids = await imap.search_message_id(message_id)
                if uids:
                    [fetched] = await imap.fetch(uids[:1])
                    found[message_id] = fetched.internal_date
    return found


# Trace fields a delivery prepends (RFC 5321 4.4; Dovecot's LMTP adds the first two).
_TRACE = re.compile(rb"^(return-path|delivered-to|received|x-original-to):", re.IGNORECASE)


def strip_trace(raw: bytes) -> bytes:
    """The message as submitted: ``raw`` less the trace fields prepended at delivery."""
    lines = raw.splitlines(keepends=True)
    start = 0
    while start < len(lines) and _TRACE.match(lines[start]):
        start += 1
        while start < len(lines) and lines[start][:1] in (b" ", b"\t"):
            start += 1  # folded continuation of the trace field
    return b"".join(lines[start:])


@dataclass(frozen=True, slots=True)
class CopyRequest:
    message_id: str
    accepted_at: datetime
    raw: bytes | None = None  # the bytes sent, when at hand


@dataclass(frozen=True, slots=True)
class CopyResult:
    message_id: str
    how: str  # "appended" | "from_inbox" | "already" | "missing" | "skipped"


async def file_copies(
    account: ImapAccount,
    requests: Sequence[CopyRequest],
    *,
    imap_timeout: float,
    may_write: Callable[[], bool] = lambda: True,
) -> list[CopyResult]:
    """File each copy in Sent once; ``may_write()`` is asked before each APPEND (the caller's
    lease): False skips the rest. Raises ``ImapError`` when the mailbox cannot be used."""
    results: list[CopyResult] = []
    async with ImapSession(account, timeout=imap_timeout) as imap:
        sent = (await imap.special_folders()).get("sent", "Sent")
        blind = [r for r in requests if r.raw is None]
        present: set[str] = set()
        from_inbox: dict[str, bytes] = {}
        if blind:
            await imap.select(sent)
            for request in blind:
                if await imap.search_message_id(request.message_id):
                    present.add(request.message_id)
            await imap.select("INBOX")
            for request in blind:
                if request.message_id in present:
                    continue
                uids = await imap.search_message_id(request.message_id)
                if uids:
                    [fetched] = await imap.fetch(uids[:1])
                    from_inbox[request.message_id] = strip_trace(fetched.raw)
        for request in requests:
            mid = request.message_id
            if mid in present:
                results.append(CopyResult(mid, "already"))
                continue
            raw = request.raw if request.raw is not None else from_inbox.get(mid)
            if raw is None:
                results.append(CopyResult(mid, "missing"))
                continue
            if not may_write():
                results.append(CopyResult(mid, "skipped"))
                continue
            await imap.append(sent, raw, flags=r"(\Seen)", when=request.accepted_at)
            results.append(CopyResult(mid, "appended" if request.raw is not None else "from_inbox"))
    return results
