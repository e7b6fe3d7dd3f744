"""Sending over SMTP: one connection per batch, SMTP outcomes sorted into three kinds.

    async with SmtpSession(account) as smtp:       # connect, STARTTLS/TLS, AUTH once
        result = await smtp.send(message, recipient, self_copy=True)

Outcomes (errors are translated here, at the boundary, keeping the cause):
- ``SendResult``: the server accepted the message (250 after DATA); ``accepted_at`` is read
  from the clock right after that reply, ``reply`` is the server's words.
- ``RecipientRejected`` (permanent, 5xx on RCPT or DATA): a finding about the *service* —
  its published address does not work. The contact becomes ``undeliverable``.
- ``TemporaryFailure`` (4xx, timeouts, connection lost): retry later with backoff.
- ``AccountFailure``: our side is broken (authentication refused, sender refused, TLS
  error). Never blamed on the service; the contact is retried and the error shown.

``self_copy`` adds the persona's own address as a second *envelope* recipient (a blind copy to
oneself, as many mail clients do). The provider delivers that copy in the same transaction it
accepts the message, so after a crash the copy in the persona's mailbox proves the server
accepted the message, even when its 250 reply was never read (see runners/dispatcher.py).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY

import aiosmtplib

from channels.cleartext import cleartext_allowed, cleartext_refusal
from scenarios.clock import Clock, SystemClock


class SendError(Exception):
    """Base of the three outcomes that are not an acceptance."""

    def __init__(self, message: str, code: int | None = None, *, ambiguous: bool = False) -> None:
        super().__init__(message)
        self.code = code
        # True when the connection failed after the message data was transmitted but before
        # the server's reply was read: the server may have accepted it (RFC 1047). Such a
        # message must be looked for in the mailbox before any resend.
        self.ambiguous = ambiguous


class TemporaryFailure(SendError):
    pass


class RecipientRejected(SendError):
    pass


class AccountFailure(SendError):
    pass


@dataclass(frozen=True, slots=True)
class SmtpAccount:
    host: str
    port: int
    security: str  # "starttls" | "tls" | "none"
    username: str | None
    password: str | None
    address: str

    def __repr__(self) -> str:  # never print the password
        return f"SmtpAccount({self.username or self.address}@{self.host}:{self.port})"


@dataclass(frozen=True, slots=True)
class SendResult:
    accepted_at: datetime
    reply: str


def _describe(exc: aiosmtplib.SMTPResponseException) -> str:
    return f"{exc.code} {exc.message}".strip()


class SmtpSession:
    def __init__(
        self,
        account: SmtpAccount,
        *,
        timeout: float = 30.0,
        clock: Clock | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.account = account
        self.clock = clock or SystemClock()
        use_tls = account.security == "tls"
        start_tls = account.security == "starttls"
        self._smtp = aiosmtplib.SMTP(
            hostname=account.host,
            port=account.port,
            timeout=timeout,
            use_tls=use_tls,
            start_tls=start_tls,
            tls_context=tls_context,
        )

    async def __aenter__(self) -> SmtpSession:
        account = self.account
        if (
            account.security == "none"
            and account.username
            and account.password is not None
            and not cleartext_allowed(account.host)
        ):
            raise AccountFailure(cleartext_refusal("smtp", account.host, account.port))
        try:
            await self._smtp.connect()
            if self.account.username and self.account.password is not None:
                await self._smtp.login(self.account.username, self.account.password)
        except aiosmtplib.SMTPAuthenticationError as exc:
            await self._close()
            raise AccountFailure(f"authentication refused: {_describe(exc)}", exc.code) from exc
        except aiosmtplib.SMTPResponseException as exc:
            await self._close()
            if exc.code >= 500:
                raise AccountFailure(
                    f"server refused the session: {_describe(exc)}", exc.code
                ) from exc
            raise TemporaryFailure(f"server busy: {_describe(exc)}", exc.code) from exc
        except ssl.SSLError as exc:
            await self._close()
            raise AccountFailure(f"TLS failed: {exc}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await self._close()
            raise TemporaryFailure(
                f"cannot connect to {self.account.host}:{self.account.port}: {exc}"
            ) from exc
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._close()

    async def _close(self) -> None:
        if self._smtp.is_connected:
            try:
                await self._smtp.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                self._smtp.close()

    @property
    def connected(self) -> bool:
        return self._smtp.is_connected

    async def send(
        self, message: EmailMessage, recipient: str, *, self_copy: bool = True
    ) -> SendResult:
        """One SMTP transaction, step by step, so that a refused service gets no DATA at all.

        ``send_message`` would go on with DATA for the recipients that were accepted: with the
        service refused and our self copy accepted, the self copy would later "prove" a send
        that never reached the service. So: RCPT service first, RSET on refusal.
        """
        raw = message.as_bytes(policy=SMTP_POLICY)
        try:
            await self._smtp.mail(self.account.address)
            await self._rcpt(recipient, ours=False)
            if self_copy and recipient.lower() != self.account.address.lower():
                await self._rcpt(self.account.address, ours=True)
            try:
                response = await self._smtp.data(raw)
            except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, OSError) as exc:
                self._smtp.close()
                raise TemporaryFailure(
                    f"connection lost during DATA: {exc}", ambiguous=True
                ) from exc
        except SendError:
            raise
        except aiosmtplib.SMTPSenderRefused as exc:
            await self._reset()
            if exc.code >= 500:
                raise AccountFailure(f"sender refused: {_describe(exc)}", exc.code) from exc
            raise TemporaryFailure(f"sender deferred: {_describe(exc)}", exc.code) from exc
        except aiosmtplib.SMTPResponseException as exc:
            # DATA refused: 5xx is final for this message (content or recipient policy).
            await self._reset()
            if exc.code >= 500:
                raise RecipientRejected(_describe(exc), exc.code) from exc
            raise TemporaryFailure(_describe(exc), exc.code) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            self._smtp.close()
            raise TemporaryFailure(f"connection lost: {exc}") from exc
        return SendResult(accepted_at=self.clock.now(), reply=response.message.strip())

    async def _rcpt(self, address: str, *, ours: bool) -> None:
        try:
            await self._smtp.rcpt(address)
        except aiosmtplib.SMTPRecipientRefused as exc:
            await self._reset()
            text = f"{address}: {_describe(exc)}"
            if ours:
                raise AccountFailure(f"own address refused as recipient: {text}", exc.code) from exc
            if exc.code >= 500:
                raise RecipientRejected(text, exc.code) from exc
            raise TemporaryFailure(text, exc.code) from exc

    async def _reset(self) -> None:
        try:
            await self._smtp.rset()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            self._smtp.close()
