"""Outgoing email as a citizen's mail client would write it.

Headers: From "Display Name <address>", To, Subject, Date (in the persona's local time, as a
French mail client writes it), Message-ID on the persona's own domain (generated and stored
by us *before* sending), MIME-Version and a UTF-8 text/plain body. Optionally Reply-To with an
unguessable token when the persona's provider supports sub-addressing, and In-Reply-To /
References for a follow-up in the same thread.

Deliberately absent: X-Mailer, User-Agent, any campaign or contact identifier, tracking
pixels, HTML. Nothing a reader sees betrays automation; the Message-ID's local part is random.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
_TOKEN_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[1].lower()


def make_message_id(address: str) -> str:
    """``<random@persona-domain>``: unique, unguessable, on the sender's own domain."""
    local = secrets.token_hex(8).upper() + "." + secrets.token_hex(6)
    return f"<{local}@{domain_of(address)}>"


def make_reply_token() -> str:
    """A token for sub-addressing (``persona+token@domain``): 16 lower-case characters."""
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(16))


def subaddress(address: str, separator: str, token: str) -> str:
    local, domain = address.rsplit("@", 1)
    return f"{local}{separator}{token}@{domain}"


@dataclass(frozen=True, slots=True)
class Sender:
    display_name: str
    address: str


def build_email(
    *,
    sender: Sender,
    to: str,
    subject: str,
    body: str,
    message_id: str,
    date: datetime,
    reply_to: str | None = None,
    in_reply_to: str | None = None,
    references: tuple[str, ...] = (),
    tz: ZoneInfo = PARIS,
) -> EmailMessage:
    if date.tzinfo is None:
        raise ValueError("date must be aware")
    message = EmailMessage(policy=SMTP)
    local, domain = sender.address.rsplit("@", 1)
    message["From"] = Address(display_name=sender.display_name, username=local, domain=domain)
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(date.astimezone(tz))
    message["Message-ID"] = message_id
    if reply_to:
        rl, rd = reply_to.rsplit("@", 1)
        message["Reply-To"] = Address(display_name=sender.display_name, username=rl, domain=rd)
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = " ".join(
            (*references, in_reply_to) if in_reply_to not in references else references
        )
    message["MIME-Version"] = "1.0"
    text = body if body.endswith("\n") else body + "\n"
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    return message
