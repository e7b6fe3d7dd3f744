"""The outcomes table: a refusal is the service's only when it names the service's address.

``python -m channels.smtp_outcomes`` prints the table these rows are taken from.
"""

from __future__ import annotations

import pytest

from channels.smtp_outcomes import (
    About,
    Stage,
    Verdict,
    enhanced_code,
    format_table,
    setup_problem,
    short_cause,
    sort_reply,
    sort_transport,
    table_rows,
)

U, R, H = Verdict.UNDELIVERABLE, Verdict.RETRY, Verdict.HELD


@pytest.mark.parametrize(
    ("stage", "code", "text", "verdict", "about"),
    [
        # RCPT for the service: the only place a finding can come from.
        (
            Stage.RCPT,
            550,
            "5.1.1 <x@mairie.example>: Recipient address rejected",
            U,
            About.RECIPIENT,
        ),
        (Stage.RCPT, 550, "5.1.2 Host or domain name not found", U, About.RECIPIENT),
        (Stage.RCPT, 553, "5.1.3 Bad recipient address syntax", U, About.RECIPIENT),
        (Stage.RCPT, 550, "5.1.6 Mailbox has moved", U, About.RECIPIENT),
        (Stage.RCPT, 556, "5.1.10 Recipient address has null MX", U, About.RECIPIENT),
        (Stage.RCPT, 550, "5.2.1 Mailbox disabled, not accepting messages", U, About.RECIPIENT),
        (Stage.RCPT, 550, "Requested action not taken: mailbox unavailable", U, About.RECIPIENT),
        (Stage.RCPT, 551, "User not local; please try <y@example>", U, About.RECIPIENT),
        (
            Stage.RCPT,
            553,
            "Requested action not taken: mailbox name not allowed",
            U,
            About.RECIPIENT,
        ),
        # ... counted as temporary when it names the mailbox but may pass.
        (Stage.RCPT, 552, "5.2.2 Mailbox full", R, About.RECIPIENT),
        (Stage.RCPT, 450, "4.2.0 Greylisted", R, About.RECIPIENT),
        (Stage.RCPT, 451, "4.1.1 Recipient verification temporarily failed", R, About.RECIPIENT),
        (
            Stage.RCPT,
            450,
            "Requested mail action not taken: mailbox unavailable",
            R,
            About.RECIPIENT,
        ),
        # ... and ours when it does not name it.
        (Stage.RCPT, 554, "5.7.1 <x@mairie.example>: Relay access denied", H, About.PROVIDER),
        (Stage.RCPT, 550, "5.1.7 Bad sender mailbox address syntax", H, About.ACCOUNT),
        (Stage.RCPT, 554, "Transaction failed", H, About.PROVIDER),
        (Stage.RCPT, 552, "Too many recipients", R, About.PROVIDER),
        (Stage.RCPT, 451, "4.7.1 Rate limit exceeded", R, About.PROVIDER),
        (Stage.RCPT, 501, "Syntax error in parameters", H, About.PROVIDER),
        # After DATA: two envelope recipients, so no reply names the service.
        (Stage.DATA, 500, "Error: (ConnectionRefusedError) [Errno 111]", H, About.PROVIDER),
        (Stage.DATA, 550, "5.1.1 User unknown", H, About.PROVIDER),
        (Stage.DATA, 554, "5.7.1 Message rejected as spam", H, About.PROVIDER),
        (Stage.DATA, 552, "5.3.4 Message too big", H, About.PROVIDER),
        (Stage.DATA, 451, "4.3.0 Local error", R, About.PROVIDER),
        # The session: our provider or our account.
        (Stage.CONNECT, 421, "4.7.0 Too busy", R, About.PROVIDER),
        (Stage.CONNECT, 554, "No SMTP service here", H, About.PROVIDER),
        (Stage.AUTH, 535, "5.7.8 Authentication credentials invalid", H, About.ACCOUNT),
        (Stage.AUTH, 454, "4.7.0 Temporary authentication failure", R, About.PROVIDER),
        (Stage.MAIL, 530, "5.7.0 Authentication required", H, About.ACCOUNT),
        (Stage.MAIL, 553, "5.1.8 Sender domain refused", H, About.ACCOUNT),
        (Stage.RCPT_SELF, 550, "5.1.1 Mailbox unavailable", H, About.ACCOUNT),
    ],
)
def test_each_reply_is_sorted_by_what_it_says_about_whom(
    stage: Stage, code: int, text: str, verdict: Verdict, about: About
) -> None:
    outcome = sort_reply(stage, code, text)
    assert (outcome.verdict, outcome.about) == (verdict, about), outcome
    assert outcome.counts == (about is About.RECIPIENT)
    assert outcome.reply == f"{code} {text}"  # the raw reply is kept
    assert outcome.summary().startswith(f"{verdict.value} ({outcome.reason}, {stage.value}): ")


def test_only_refusals_at_rcpt_are_ever_findings() -> None:
    for stage in Stage:
        for code in range(400, 600):
            for text in ("5.1.1 User unknown", "4.2.0 later", "x", "5.2.1 disabled"):
                outcome = sort_reply(stage, code, text)
                if outcome.verdict is Verdict.UNDELIVERABLE:
                    assert stage is Stage.RCPT and code >= 500, outcome
                if code >= 500 and stage is not Stage.RCPT:
                    assert outcome.verdict is Verdict.HELD, outcome
                if outcome.counts:
                    assert stage is Stage.RCPT, outcome


def test_no_reply_at_all_is_our_provider_and_never_counted() -> None:
    refused = sort_transport(Stage.CONNECT, "cannot connect: [Errno 111] Connection refused")
    lost = sort_transport(Stage.RCPT, "connection lost")
    assert (refused.verdict, refused.about, refused.reason) == (
        R, About.PROVIDER, "provider unreachable",
    )  # fmt: skip
    assert lost.reason == "connection lost" and not lost.counts and not lost.session_wide


def test_enhanced_codes_and_causes_are_read_from_the_text() -> None:
    assert enhanced_code("5.1.10 Recipient address has null MX") == "5.1.10"
    assert enhanced_code("<x@y>: 5.1.1 no") is None  # only at the start (RFC 3463)
    assert enhanced_code("5.1.1234 nope") is None
    assert short_cause("Error connecting to h on port 1: [Errno 111] Connect call failed") == (
        "connection refused"
    )
    assert short_cause("451 4.3.0 x") == "451 4.3.0 x"


def test_the_printed_table_is_the_functions_own() -> None:
    rows = table_rows()
    assert ("rcpt", "550 5.1.1 <etat-civil@mairie.example>: User unknown", "undeliverable",
            "recipient", "yes", "recipient refused") in rows  # fmt: skip
    assert any(row[1].startswith("500 Error: (ConnectionRefusedError)") and row[2] == "held"
               for row in rows)  # fmt: skip
    text = format_table()
    assert text.splitlines()[0].split(" | ")[0].strip() == "stage"
    assert len(text.splitlines()) == len(rows) + 2


def test_every_reason_has_words_for_the_coordinator() -> None:
    """Each reason the sorting can give is said from the catalogue by ``temoin worker``."""
    from runners.dispatch_report import reason_key
    from scenarios.i18n import Translator
    from scenarios.typography import violations

    texts = ["", "5.1.1 x", "4.2.2 x", "5.7.8 x", "5.1.7 x", "5.1.8 x", "5.7.0 x", "5.7.1 x",
             "5.2.3 x", "5.3.4 x", "5.9.9 x"]  # fmt: skip
    codes = [421, 450, 451, 452, 500, 501, 530, 535, 550, 551, 552, 553, 554, 556]
    found = {sort_reply(stage, code, text).reason
             for stage in Stage for code in codes for text in texts}  # fmt: skip
    found |= {
        sort_transport(stage, "x", tls=tls).reason for stage in Stage for tls in (False, True)
    }
    found.add(setup_problem("x").reason)
    fr, en = Translator("fr"), Translator("en")
    for reason in found:
        assert fr.has(reason_key(reason)) and en.has(reason_key(reason)), reason
        assert not violations(fr(reason_key(reason))), reason
    assert len(found) >= 20
