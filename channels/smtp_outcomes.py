"""What an SMTP reply says, and about whom: the one table the dispatcher acts on.

Our client never talks to the service's mail server: it submits to *our* provider (the
persona's submission server), which relays later. So a refusal says something about the
service only when it names the recipient; everything else is about us (our account, our
provider, our message) and must never become a finding published against a town hall.

    outcome = sort_reply(Stage.RCPT, 550, "5.1.1 <x@mairie.example>: User unknown")
    outcome.verdict   # Verdict.UNDELIVERABLE
    outcome.about     # About.RECIPIENT

Verdicts:

- ``undeliverable``: the service's published address does not work. Only at RCPT for the
  service's address, when the reply names that address or mailbox: an enhanced code of
  RFC 3463 subject 1 (addressing: 5.1.0 other address status, 5.1.1 bad mailbox, 5.1.2 bad
  system, 5.1.3 bad syntax, 5.1.4 ambiguous, 5.1.6 moved without forwarding, 5.1.10 null MX
  of RFC 7505; not 5.1.7/5.1.8, which are about the *sender*) or subject 2 (mailbox: 5.2.0
  other mailbox status, 5.2.1 disabled, 5.2.4 list expansion); without an enhanced code, RFC
  5321's 550 (mailbox unavailable), 551 (user not local), 553 (mailbox name not allowed) and
  RFC 7504's 556 (domain does not accept mail). A later DSN for that recipient is the
  tracker's business (runners/effects.py).
- ``retry``, about the recipient, counted: a temporary refusal that names the recipient's
  mailbox (4.1.x, 4.2.x, a bare 450 at RCPT) and 5.2.2 (mailbox full: RFC 3463 says X.2.2
  serves permanent and transient errors alike, and a full mailbox empties). Repeated, it ends
  as undeliverable (the dispatcher's ``max_attempts``).
- ``retry``, about our provider, never counted: no connection, TLS failure, a 4xx greeting
  (421), a connection lost before the message data, any other 4xx.
- ``held``, about our account or provider, never counted, never a finding: every other 5xx.
  Authentication (535, 5.7.8), the sender or our own blind-copy address refused, relay
  denied and policy (5.7.x), quota and size (5.2.3, 5.3.4, 552 after DATA), a spam verdict on
  our message, protocol errors (500-504) and ANY 5xx after DATA: with two envelope recipients
  (the service and ourselves) a DATA reply cannot name one of them, and the simulated
  provider's ``500 Error: (ConnectionRefusedError)`` is our provider failing, not the town hall.

The class is read from the basic code (RFC 5321 makes it authoritative); the enhanced code,
when the reply starts with one, says what the reply is about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Stage(StrEnum):
    SETUP = "setup"  # before any connection: password, SMTP settings, rendering
    CONNECT = "connect"  # TCP, TLS, greeting, EHLO, STARTTLS
    AUTH = "auth"
    MAIL = "mail"  # MAIL FROM: our sender address
    RCPT = "rcpt"  # RCPT TO: the service's address
    RCPT_SELF = "rcpt-self"  # RCPT TO: our own address (the blind copy)
    DATA = "data"  # the DATA command and the reply after the final dot


class Verdict(StrEnum):
    UNDELIVERABLE = "undeliverable"
    RETRY = "retry"
    HELD = "held"


class About(StrEnum):
    RECIPIENT = "recipient"
    ACCOUNT = "account"  # our login, our sender address, our own mailbox
    PROVIDER = "provider"  # our provider: unreachable, busy, refusing our message


@dataclass(frozen=True, slots=True)
class Outcome:
    verdict: Verdict
    about: About
    reason: str  # short, English, for logs and the operator
    stage: Stage
    reply: str  # the server's words, raw ("550 5.1.1 ..."), or the transport error
    code: int | None = None
    enhanced: str | None = None

    @property
    def counts(self) -> bool:
        """Counted against the service (attempts): only what the recipient's side said."""
        return self.about is About.RECIPIENT

    @property
    def session_wide(self) -> bool:
        """Every message of the session would meet it (our provider or account, not a message)."""
        return self.stage in (Stage.CONNECT, Stage.AUTH, Stage.MAIL, Stage.RCPT_SELF)

    def summary(self, action: str | None = None) -> str:
        """``decision (reason, stage): reply`` as kept in ``last_error`` and logs; ``action``
        names what was done instead of the verdict (``held``: waiting for our side)."""
        return f"{action or self.verdict.value} ({self.reason}, {self.stage.value}): {self.reply}"


_ENHANCED = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})(?!\d)")

# RFC 3463 subject.detail codes (any class) that name the recipient's address or mailbox.
RECIPIENT_FINAL = frozenset({"1.0", "1.1", "1.2", "1.3", "1.4", "1.6", "1.10", "2.0", "2.1", "2.4"})
RECIPIENT_TRANSIENT_5XX = frozenset({"2.2"})  # mailbox full
# Without an enhanced code, at RCPT: RFC 5321 4.2.2 and RFC 7504.
RECIPIENT_BASIC_FINAL = frozenset({550, 551, 553, 556})
RECIPIENT_BASIC_TRANSIENT = frozenset({450})

_REASONS_5XX: dict[str, tuple[About, str]] = {
    "7.8": (About.ACCOUNT, "authentication refused"),
    "1.7": (About.ACCOUNT, "our sender address refused"),
    "1.8": (About.ACCOUNT, "our sender domain refused"),
    "7.0": (About.PROVIDER, "refused by our provider's policy"),
    "7.1": (About.PROVIDER, "relay or policy refusal by our provider"),
    "2.3": (About.PROVIDER, "message too large for our provider"),
    "3.4": (About.PROVIDER, "message too large for our provider"),
}


def enhanced_code(text: str) -> str | None:
    """``"5.1.1"`` when the reply text starts with an RFC 3463 code, else None."""
    match = _ENHANCED.match(text)
    return ".".join(match.groups()) if match else None


def sort_reply(stage: Stage, code: int, text: str) -> Outcome:
    """Sort a refusal (code 4xx or 5xx) received at ``stage``."""
    reply = f"{code} {text}".strip()
    enhanced = enhanced_code(text)
    subject = enhanced.split(".", 1)[1] if enhanced else None

    def out(verdict: Verdict, about: About, reason: str) -> Outcome:
        return Outcome(verdict, about, reason, stage, reply, code, enhanced)

    temporary = code < 500
    if stage is Stage.RCPT:
        names_recipient = subject in RECIPIENT_FINAL or subject in RECIPIENT_TRANSIENT_5XX
        if subject is None:
            if code in RECIPIENT_BASIC_FINAL:
                return out(Verdict.UNDELIVERABLE, About.RECIPIENT, "recipient refused")
            if code in RECIPIENT_BASIC_TRANSIENT:
                return out(Verdict.RETRY, About.RECIPIENT, "recipient temporarily unavailable")
            if code == 552:  # RFC 5321 4.5.3.1.10: at RCPT, "too many recipients", as 452
                return out(Verdict.RETRY, About.PROVIDER, "too many recipients")
        elif names_recipient and temporary:
            return out(Verdict.RETRY, About.RECIPIENT, "recipient temporarily unavailable")
        elif subject in RECIPIENT_TRANSIENT_5XX:
            return out(Verdict.RETRY, About.RECIPIENT, "recipient mailbox full")
        elif subject in RECIPIENT_FINAL:
            return out(Verdict.UNDELIVERABLE, About.RECIPIENT, "recipient refused")
    if stage is Stage.CONNECT:
        if temporary:
            return out(Verdict.RETRY, About.PROVIDER, "provider busy or unavailable")
        return out(Verdict.HELD, About.PROVIDER, "provider refused the session")
    if temporary:
        return out(Verdict.RETRY, About.PROVIDER, "temporary refusal by our provider")
    if stage is Stage.AUTH or code in (530, 534, 535, 538):
        return out(Verdict.HELD, About.ACCOUNT, "authentication refused")
    if stage is Stage.MAIL:
        return out(Verdict.HELD, About.ACCOUNT, "our sender address refused")
    if stage is Stage.RCPT_SELF:
        return out(Verdict.HELD, About.ACCOUNT, "our own address refused")
    if subject in _REASONS_5XX:
        about, reason = _REASONS_5XX[subject]
        return out(Verdict.HELD, about, reason)
    if 500 <= code <= 504:
        return out(Verdict.HELD, About.PROVIDER, "error at our provider")
    if stage is Stage.DATA:
        return out(Verdict.HELD, About.PROVIDER, "our provider refused the message")
    return out(Verdict.HELD, About.PROVIDER, "refused by our provider")


def sort_transport(stage: Stage, error: str, *, tls: bool = False) -> Outcome:
    """No SMTP reply at all: connection refused, timeout, TLS failure, connection lost."""
    reason = "TLS failed" if tls else "provider unreachable"
    if stage is not Stage.CONNECT:
        reason = "connection lost"
    return Outcome(Verdict.RETRY, About.PROVIDER, reason, stage, error)


def setup_problem(text: str) -> Outcome:
    """Our own configuration stops the send (no password, no SMTP server, a template)."""
    return Outcome(Verdict.HELD, About.ACCOUNT, "our setup", Stage.SETUP, text)


def short_cause(error: str) -> str:
    """A few words for a person: ``connection refused``, ``timeout``, ``421 …``."""
    lowered = error.lower()
    for needle, words in (
        ("connection refused", "connection refused"),
        ("connect call failed", "connection refused"),
        ("errno 111", "connection refused"),
        ("timed out", "timeout"),
        ("timeout", "timeout"),
        ("name or service not known", "unknown host"),
        ("temporary failure in name resolution", "unknown host"),
        ("certificate", "TLS certificate"),
        ("ssl", "TLS"),
    ):
        if needle in lowered:
            return words
    return error if len(error) <= 80 else error[:79] + "…"


# The table as documentation, printed by ``python -m channels.smtp_outcomes``: one typical
# reply per row, sorted by the function above (so the table cannot drift from the code).
EXAMPLES: tuple[tuple[Stage, int | None, str], ...] = (
    (Stage.CONNECT, None, "cannot connect: [Errno 111] Connection refused"),
    (Stage.CONNECT, None, "TLS failed: certificate verify failed"),
    (Stage.CONNECT, 421, "4.7.0 Too many connections, try again later"),
    (Stage.CONNECT, 554, "5.3.2 No SMTP service here"),
    (Stage.AUTH, 535, "5.7.8 Authentication credentials invalid"),
    (Stage.AUTH, 454, "4.7.0 Temporary authentication failure"),
    (Stage.MAIL, 553, "5.1.8 Sender domain refused"),
    (Stage.MAIL, 452, "4.3.1 Insufficient system storage"),
    (Stage.RCPT, 550, "5.1.1 <etat-civil@mairie.example>: User unknown"),
    (Stage.RCPT, 550, "5.1.2 Host or domain name not found"),
    (Stage.RCPT, 556, "5.1.10 Recipient address has null MX"),
    (Stage.RCPT, 550, "5.2.1 Mailbox disabled"),
    (Stage.RCPT, 552, "5.2.2 Mailbox full"),
    (Stage.RCPT, 550, "Requested action not taken: mailbox unavailable"),
    (Stage.RCPT, 553, "mailbox name not allowed"),
    (Stage.RCPT, 450, "4.2.0 Greylisted, try again later"),
    (Stage.RCPT, 450, "Requested mail action not taken: mailbox unavailable"),
    (Stage.RCPT, 451, "4.7.1 Rate limit exceeded"),
    (Stage.RCPT, 554, "5.7.1 Relay access denied"),
    (Stage.RCPT, 550, "5.7.1 Message rejected by policy"),
    (Stage.RCPT, 552, "Too many recipients"),
    (Stage.RCPT_SELF, 550, "5.1.1 Mailbox unavailable"),
    (Stage.DATA, 451, "4.3.0 Error: local delivery failed, try again later"),
    (Stage.DATA, 500, "Error: (ConnectionRefusedError) [Errno 111] Connection refused"),
    (Stage.DATA, 550, "5.7.1 Message rejected as spam"),
    (Stage.DATA, 552, "5.2.2 Sending quota exceeded"),
    (Stage.DATA, 554, "5.7.0 Message refused by content policy"),
    (Stage.DATA, 550, "5.1.1 User unknown"),
    (Stage.DATA, 599, "unknown reply"),
    (Stage.DATA, None, "connection lost during DATA (the server may have accepted it)"),
    (Stage.RCPT, None, "connection lost"),
)


def table_rows() -> list[tuple[str, str, str, str, str, str]]:
    """(stage, reply, verdict, about, counted, reason) for every example."""
    rows = []
    for stage, code, text in EXAMPLES:
        if code is None:
            if stage is Stage.DATA:  # the only ambiguous moment: looked for in the mailbox
                rows.append((stage.value, text, "verify", "-", "no", "check the mailbox first"))
                continue
            outcome = sort_transport(stage, text, tls="TLS" in text)
        else:
            outcome = sort_reply(stage, code, text)
        counted = "yes" if outcome.counts else "no"
        rows.append(
            (
                stage.value,
                outcome.reply,
                outcome.verdict.value,
                outcome.about.value,
                counted,
                outcome.reason,
            )
        )
    return rows


def format_table() -> str:
    rows = [("stage", "reply", "decision", "about", "counted", "reason"), *table_rows()]
    widths = [max(len(row[i]) for row in rows) for i in range(6)]
    widths[1] = min(widths[1], 62)
    lines = []
    for n, row in enumerate(rows):
        cells = [
            cell if len(cell) <= widths[i] else cell[: widths[i] - 1] + "…"
            for i, cell in enumerate(row)
        ]
        lines.append(" | ".join(cell.ljust(widths[i]) for i, cell in enumerate(cells)).rstrip())
        if n == 0:
            lines.append("-+-".join("-" * w for w in widths))
    return "\n".join(lines)


if __name__ == "__main__":
    print(format_table())
