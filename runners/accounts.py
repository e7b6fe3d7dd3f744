"""The one place that turns a persona's stored settings into mail accounts.

Every room that logs in to a persona's mailbox asks here: the dispatcher (SMTP to send; IMAP
to verify a send after a crash and to file the Sent copy), the tracker (the IMAP watchers) and
``temoin personas check``. So a check tests exactly the endpoint the worker sends through.

Defaults for a field left empty:

- security: STARTTLS for SMTP, implicit TLS for IMAP (aioimaplib has no STARTTLS);
- port: from the security (SMTP 587 STARTTLS, 465 TLS, 25 none; IMAP 993 TLS, 143 none);
- login: the persona's address.

No host means no account: the persona is not set up for that protocol (a campaign file creates
personas without mailbox settings), and nothing is ever sent through a guessed server.
"""

from __future__ import annotations

from dataclasses import dataclass

from channels.imap_session import ImapAccount
from channels.smtp_sender import SmtpAccount
from runners.secrets import resolve_secret
from storage.personas import PersonaInfo

SMTP_PORTS = {"starttls": 587, "tls": 465, "none": 25}
IMAP_PORTS = {"tls": 993, "none": 143}
SMTP_DEFAULT_SECURITY = "starttls"
IMAP_DEFAULT_SECURITY = "tls"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where and how to log in, without the password (safe to print)."""

    host: str
    port: int
    security: str
    login: str

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def smtp_endpoint(persona: PersonaInfo) -> Endpoint | None:
    if not persona.smtp_host:
        return None
    security = persona.smtp_security or SMTP_DEFAULT_SECURITY
    port = persona.smtp_port or SMTP_PORTS.get(security, SMTP_PORTS[SMTP_DEFAULT_SECURITY])
    return Endpoint(persona.smtp_host, port, security, persona.username or persona.email)


def imap_endpoint(persona: PersonaInfo) -> Endpoint | None:
    if not persona.imap_host:
        return None
    security = persona.imap_security or IMAP_DEFAULT_SECURITY
    port = persona.imap_port or IMAP_PORTS.get(security, IMAP_PORTS[IMAP_DEFAULT_SECURITY])
    return Endpoint(persona.imap_host, port, security, persona.username or persona.email)


def password(persona: PersonaInfo) -> str | None:
    """The persona's mail password, read now from its reference (None: no reference).

    Raises ``SecretError`` when the reference cannot be read."""
    return resolve_secret(persona.password_ref) if persona.password_ref else None


def smtp_account(
    persona: PersonaInfo, secret: str | None, *, authenticate: bool = True
) -> SmtpAccount | None:
    """The SMTP account to send as ``persona`` (``authenticate=False``: EHLO/TLS only)."""
    endpoint = smtp_endpoint(persona)
    if endpoint is None:
        return None
    login = endpoint.login if authenticate and secret is not None else None
    return SmtpAccount(
        host=endpoint.host,
        port=endpoint.port,
        security=endpoint.security,
        username=login,
        password=secret if authenticate else None,
        address=persona.email,
    )


def imap_account(persona: PersonaInfo, secret: str | None) -> ImapAccount | None:
    """The persona's IMAP account; None without a host or a password to log in with."""
    endpoint = imap_endpoint(persona)
    if endpoint is None or secret is None:
        return None
    return ImapAccount(
        host=endpoint.host,
        port=endpoint.port,
        security=endpoint.security,
        username=endpoint.login,
        password=secret,
    )
