"""A persona's own copies of what it sent: looked up by Message-ID, filed in Sent.

Two jobs the dispatcher needs from the persona's mailbox, over IMAP:

- ``find_sent``: after a crash or an ambiguous send, was this Message-ID accepted? The
  provider files our blind copy (the persona is a second envelope recipient) in INBOX, and a
  mail client may have filed it in Sent: both are searched, and the INTERNALDATE of the copy
  found is the server's acceptance time.
- ``copy_to_sent``: APPEND each sent message to the Sent folder, ``\\Seen``, dated at its
  acceptance, as a mail client does, so a person reading the mailbox sees what was sent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage

from channels.imap_session import ImapAccount, ImapError, ImapSession

log = logging.getLogger("temoin.sent_folder")


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


async def copy_to_sent(
    account: ImapAccount, copies: Sequence[tuple[EmailMessage, datetime]], *, imap_timeout: float
) -> list[str]:
    """APPEND the copies to Sent; returns the errors (the emails went out regardless)."""
    try:
        async with ImapSession(account, timeout=imap_timeout) as imap:
            folder = (await imap.special_folders()).get("sent", "Sent")
            for message, accepted_at in copies:
                await imap.append(folder, message.as_bytes(), flags=r"(\Seen)", when=accepted_at)
    except ImapError as exc:
        # The email went out; only the mailbox copy is missing. Keep going, say so.
        log.warning("copy to Sent failed for %s: %s", account.username, exc)
        return [f"copy to Sent failed for {account.username}: {exc}"]
    return []
