"""Sending over SMTP: one connection per batch, every refusal sorted by what it says about whom.

    async with SmtpSession(account) as smtp:       # connect, STARTTLS/TLS, AUTH once
        result = await smtp.send(message, recipient, self_copy=True)

Outcomes (errors are translated here, at the boundary, keeping the cause; the sorting itself is
the table of channels/smtp_outcomes.py, and every error carries its ``Outcome``: decision,
about whom, reason, stage and the server's raw reply):
- ``SendResult``: the server accepted the message (250 after DATA); ``accepted_at`` is read
  from the clock right after that reply, ``reply`` is the server's words.
- ``RecipientRejected`` (verdict ``undeliverable``): a refusal at RCPT that names the
  service's address: a finding about the *service*. The contact becomes ``undeliverable``.
- ``TemporaryFailure`` (verdict ``retry``): 4xx, timeouts, no connection, connection lost;
  ``outcome.counts`` says whether the reply was about the recipient (counted) or about us.
- ``AccountFailure`` (verdict ``held``): our account or our provider refused (authentication,
  sender, relay, policy, quota, any 5xx after DATA). Never blamed on the service; the contact
  is held and retried, the error shown to the operator.

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
from channels.smtp_outcomes import About, Outcome, Stage, Verdict, sort_reply, sort_transport
from scenarios.clock import Clock, SystemClock


class SendError(Exception):
    """Base of the three outcomes that are not an acceptance."""

    def __init__(self, outcome: Outcome, message: str | None = None, *,
                 ambiguous: bool = False) -> None:  # fmt: skip
        super().__init__(message or outcome.reply)
        self.outcome = outcome
        self.code = outcome.code
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
    raw: bytes = b""  # exactly the bytes given to DATA (the Sent copy files these)


_ERRORS: dict[Verdict, type[SendError]] = {
    Verdict.UNDELIVERABLE: RecipientRejected,
    Verdict.RETRY: TemporaryFailure,
    Verdict.HELD: AccountFailure,
}


def refusal(stage: Stage, exc: aiosmtplib.SMTPResponseException, prefix: str = "") -> SendError:
    """The error for a refusal at ``stage``, sorted by the table (smtp_outcomes.py)."""
    outcome = sort_reply(stage, exc.code, exc.message)
    return _ERRORS[outcome.verdict](outcome, f"{prefix}{outcome.reply}")


def transport_error(stage: Stage, text: str, *, tls: bool = False,
                    ambiguous: bool = False) -> SendError:  # fmt: skip
    outcome = sort_transport(stage, text, tls=tls)
    return TemporaryFailure(outcome, text, ambiguous=ambiguous)


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
            text = cleartext_refusal("smtp", account.host, account.port)
            outcome = Outcome(Verdict.HELD, About.ACCOUNT, "password in clear", Stage.SETUP, text)
            raise AccountFailure(outcome, text)
        stage = Stage.CONNECT
        try:
            await self._smtp.connect()
            if self.account.username and self.account.password is not None:
                stage = Stage.AUTH
                await self._smtp.login(self.account.username, self.account.password)
        except aiosmtplib.SMTPResponseException as exc:
            await self._close()
            prefix = "authentication refused: " if stage is Stage.AUTH else "session refused: "
            raise refusal(stage, exc, prefix) from exc
        except ssl.SSLError as exc:
            await self._close()
            raise transport_error(Stage.CONNECT, f"TLS failed: {exc}", tls=True) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await self._close()
            where = f"{self.account.host}:{self.account.port}"
            raise transport_error(stage, f"cannot connect to {where}: {exc}") from exc
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
        stage = Stage.MAIL
        try:
            await self._smtp.mail(self.account.address)
            stage = Stage.RCPT
            await self._rcpt(recipient, Stage.RCPT)
            if self_copy and recipient.lower() != self.account.address.lower():
                stage = Stage.RCPT_SELF
                await self._rcpt(self.account.address, Stage.RCPT_SELF)
            stage = Stage.DATA
            try:
                response = await self._smtp.data(raw)
            except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, OSError) as exc:
                self._smtp.close()
                raise transport_error(
                    Stage.DATA, f"connection lost during DATA: {exc}", ambiguous=True
                ) from exc
        except SendError:
            raise
        except aiosmtplib.SMTPResponseException as exc:
            # Sorted by stage and reply: a DATA refusal never names the service (two
            # envelope recipients), so it is never a finding (smtp_outcomes.py).
            await self._reset()
            raise refusal(stage, exc) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            self._smtp.close()
            raise transport_error(stage, f"connection lost: {exc}") from exc
        return SendResult(accepted_at=self.clock.now(), reply=response.message.strip(), raw=raw)

    async def _rcpt(self, address: str, stage: Stage) -> None:
        try:
            await self._smtp.rcpt(address)
        except aiosmtplib.SMTPRecipientRefused as exc:
            await self._reset()
            raise refusal(stage, exc, f"{address}: ") from exc

    async def _reset(self) -> None:
        try:
            await self._smtp.rset()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            self._smtp.close()
