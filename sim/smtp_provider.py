"""A mail provider's SMTP submission server, for tests and the demo (aiosmtpd on loopback).

It plays the persona's provider: it accepts authenticated submissions, keeps every accepted
message in ``received`` (the sink every "sent exactly once" check counts), and delivers copies
for recipients of its own domains into their Dovecot mailboxes over LMTP *before* answering
250, as a provider's durable queue would (a mailbox store it cannot reach makes it answer
``451 4.3.0``: nothing accepted, try later). Failures are injected by ``rules``: callables
``(stage, address, attempt) -> reply | None`` where stage is "RCPT" or "DATA", e.g.
``"451 4.3.0 try later"`` or ``"550 5.1.1 no such user"``.

``on_message`` lets the demo's simulated collectivities react to each accepted message.
"""

from __future__ import annotations

import asyncio
import smtplib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from sim.dovecot import free_port

Rule = Callable[[str, str, int], str | None]


@dataclass(frozen=True)
class ReceivedMessage:
    mail_from: str
    recipients: tuple[str, ...]
    raw: bytes
    message_id: str | None
    received_at: datetime


@dataclass
class _Handler:
    provider: SmtpProvider

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        reply = self.provider._rule("RCPT", address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        for address in envelope.rcpt_tos:
            reply = self.provider._rule("DATA", address)
            if reply is not None:
                return reply
        raw = envelope.original_content or b""
        try:
            await asyncio.to_thread(
                self.provider._accept, envelope.mail_from or "", tuple(envelope.rcpt_tos), raw
            )
        except (OSError, smtplib.SMTPException) as exc:
            # A provider whose own mailbox store is down says "try later" (RFC 3463 4.3.0),
            # as its queue would; aiosmtpd's default would be "500 Error: (…)".
            return f"451 4.3.0 Error: local delivery failed ({type(exc).__name__}), try later"
        return "250 2.0.0 Ok: queued as " + str(len(self.provider.received))


@dataclass
class SmtpProvider:
    """Start with ``SmtpProvider.start(...)``; ``stop()`` when done."""

    port: int
    host: str = "127.0.0.1"
    credentials: dict[str, str] = field(default_factory=dict)
    local_mailboxes: dict[str, tuple[str, int]] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    received: list[ReceivedMessage] = field(default_factory=list)
    logins: list[tuple[str, bool]] = field(default_factory=list)  # (login, accepted), in order
    on_message: Callable[[ReceivedMessage], Any] | None = None
    _controller: Controller | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _attempts: dict[tuple[str, str], int] = field(default_factory=dict)

    @classmethod
    def start(
        cls, *, credentials: dict[str, str] | None = None, port: int | None = None
    ) -> SmtpProvider:
        """Start on ``port`` (a free one by default: aiosmtpd cannot be given port 0)."""
        provider = cls(port=port or free_port(), credentials=dict(credentials or {}))
        kwargs: dict[str, Any] = {
            "auth_require_tls": False,
            "authenticator": provider._authenticate,
        }
        controller = Controller(
            _Handler(provider), hostname=provider.host, port=provider.port, **kwargs
        )
        controller.start()
        provider._controller = controller
        return provider

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def add_account(self, username: str, password: str) -> None:
        self.credentials[username] = password

    def add_local_mailbox(self, address: str, user: str, lmtp_port: int) -> None:
        """Mail for ``address`` is delivered to Dovecot user ``user`` by LMTP."""
        self.local_mailboxes[address.lower()] = (user, lmtp_port)

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            user = data.login.decode()
            ok = self.credentials.get(user) == data.password.decode()
            with self._lock:
                self.logins.append((user, ok))
            if ok:
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def _rule(self, stage: str, address: str) -> str | None:
        with self._lock:
            key = (stage, address.lower())
            self._attempts[key] = attempt = self._attempts.get(key, 0) + 1
        for rule in list(self.rules):
            reply = rule(stage, address, attempt)
            if reply is not None:
                return reply
        return None

    def _accept(self, mail_from: str, recipients: tuple[str, ...], raw: bytes) -> None:
        parsed = message_from_bytes(raw, policy=default_policy)
        message_id = parsed.get("Message-ID")
        for address in recipients:
            target = self.local_mailboxes.get(address.lower())
            if target is not None:
                user, lmtp_port = target
                with smtplib.LMTP("127.0.0.1", lmtp_port, timeout=10) as lmtp:
                    lmtp.sendmail(mail_from, [user], raw)
        item = ReceivedMessage(
            mail_from, recipients, raw, str(message_id) if message_id else None, datetime.now(UTC)
        )
        with self._lock:
            self.received.append(item)
        if self.on_message is not None:
            self.on_message(item)

    def message_ids(self) -> list[str]:
        with self._lock:
            return [m.message_id for m in self.received if m.message_id]
