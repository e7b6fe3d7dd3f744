"""The request as a service reads it: a message the personas' provider accepted, parsed once.

ReceivedMessage (raw bytes, envelope) --Incoming.parse--> who wrote (From, Reply-To, the
envelope sender for bounces), the subject, the plain text, the thread (References and
In-Reply-To) and the Date header (a request without one is dated by its arrival)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import default as default_policy
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from sim.smtp_provider import ReceivedMessage

# "RE : ", "TR: ", "Fwd: ", "Relance : " (several may pile up) before the subject of a request.
REPLY_PREFIX = re.compile(r"^\s*((re|tr|fwd?|relance)\s*:\s*)+", re.IGNORECASE)


@dataclass(frozen=True)
class Incoming:
    raw: bytes
    message_id: str | None
    persona: str  # the From address, lower-case
    persona_name: str
    envelope_sender: str
    reply_to: str | None
    to_header: str
    subject: str
    date: datetime | None
    body: str
    references: tuple[str, ...]

    @classmethod
    def parse(cls, item: ReceivedMessage) -> Incoming:
        msg = message_from_bytes(item.raw, policy=default_policy)
        name, address = parseaddr(str(msg.get("From", "")))
        reply = [a for _, a in getaddresses([str(v) for v in msg.get_all("Reply-To", [])]) if a]
        try:
            sent = parsedate_to_datetime(str(msg["Date"])) if msg["Date"] else None
        except (TypeError, ValueError):
            sent = None
        if sent is not None and sent.tzinfo is None:
            sent = None
        refs = " ".join(str(v) for v in (msg.get_all("References", []) or []))
        refs += " " + str(msg.get("In-Reply-To", "") or "")
        return cls(
            raw=item.raw,
            message_id=str(msg["Message-ID"]).strip() if msg["Message-ID"] else item.message_id,
            persona=address.lower(),
            persona_name=name or address,
            envelope_sender=(item.mail_from or address).lower(),
            reply_to=reply[0].lower() if reply else None,
            to_header=str(msg.get("To", "")),
            subject=str(msg.get("Subject", "")),
            date=sent,
            body=_plain_text(msg),
            references=tuple(re.findall(r"<[^<>\s]+>", refs)),
        )


def _plain_text(msg: Message) -> str:
    if isinstance(msg, EmailMessage):
        part = msg.get_body(preferencelist=("plain",))
        if isinstance(part, EmailMessage):
            try:
                return str(part.get_content())
            except (LookupError, ValueError):
                return ""
    return ""
