"""``temoin demo --check`` says its figures in the reader's language (French by default).

A real ``CheckResult`` built from the checker's own dataclasses, one timing difference in it,
rendered by the CLI: French figures and typography, English when asked, the difference itself
kept as the checker says it (ids and times, to the second)."""

from __future__ import annotations

from datetime import UTC, datetime

from scenarios.typography import violations
from sim.demo.check import Accounting, CheckResult
from sim.truth.field import FieldComparison, FieldDifference
from sim.truth.replies import ClassScore, Comparison, ContactDifference, FormScore
from sim.truth.sends import SendComparison, SendDifference
from temoin.cli.demo import check_lines, difference_line
from temoin.cli.words import Words

SENT = datetime(2026, 4, 24, 8, 0, tzinfo=UTC)


def _check() -> CheckResult:
    emails = Comparison(
        contacts_compared=1200, contact_differences=(), messages_compared=1046,
        class_scores={"answer": ClassScore("answer", 800, 10, 40)}, misclassified=(),
        unexpected_messages=(), matched_correctly=1000, matched_wrongly=2, unmatched=44,
        mismatched=(), elements_compared=50, elements_correct=49, element_differences=(),
        form_scores={"answer": FormScore("answer", 850, 810, 800)},
    )  # fmt: skip
    late = SendDifference(7, "sent_at", SENT, SENT.replace(second=3))
    sends = SendComparison(sends_compared=1200, followups_compared=300, differences=(late,),
                           unclaimed=())  # fmt: skip
    field = FieldComparison(
        tasks_compared=40, events_compared=160, answers_compared=400, answers_equal=398,
        wrong_inputs=5, re_asked=5,
        differences=(FieldDifference(9, "grid.q1", "oui", "non"),),
    )  # fmt: skip
    accounting = Accounting(emails=1200, emails_sent=1190, letters=10, letters_posted=10,
                            replies_lost=["<lost@x.example>"])  # fmt: skip
    return CheckResult(emails, sends, field, accounting)


def test_the_check_is_said_in_french() -> None:
    check = _check()
    lines = check_lines(check, Words("fr"))
    assert lines[0].startswith("Écarts de temps\u202f: 1 (courriels\u202f: 1 sur 1\u202f200")
    assert "1\u202f200 demandes et 300 relances" in lines[1]
    assert "justesse du classement\u202f: 100,0\u202f% de 1\u202f046 messages remis" in lines
    assert (
        "  answer\u202f: précision 98,8\u202f%, rappel 95,2\u202f% (vp 800, fp 10, fn 40)" in lines
    )
    assert "réponses perdues\u202f: <lost@x.example>" in lines
    # the difference itself, to the second, once, at the end
    assert lines[-1] == (
        "  contact 7\u202f: envoi attendu 2026-04-24T08:00:00+00:00, mesuré "
        "2026-04-24T08:00:03+00:00 (+3\u202fs)"
    )
    assert sum("contact 7" in line for line in lines) == 1
    assert not any("grid.q1" in line for line in lines)  # not a timing: counted, not listed
    for line in lines:
        assert not violations(line), line


def test_the_check_is_said_in_english_when_asked() -> None:
    lines = check_lines(_check(), Words("en"))
    assert lines[0].startswith("Timing differences: 1 (emails: 1 over 1,200 contacts")
    assert "classification accuracy: 100.0% of 1,046 delivered messages" in lines
    assert "replies lost: <lost@x.example>" in lines
    assert lines[-1] == (
        "  contact 7: sending expected 2026-04-24T08:00:00+00:00, measured "
        "2026-04-24T08:00:03+00:00 (+3 s)"
    )


def test_every_kind_of_timing_difference_is_said() -> None:
    """A reply, a send, a button press and a missing event, each from the checker's classes."""
    press = (
        FieldDifference(9, "event[2]", ("start", SENT), ("start", SENT.replace(second=5))),
        ContactDifference("c-12", "first_ack_at", SENT, None),
        FieldDifference(4, "presence", True, False),
    )
    fr = [difference_line(d, Words("fr")) for d in press]
    assert fr == [
        "contact 9\u202f: appui de bouton [2] attendu start 2026-04-24T08:00:00+00:00, mesuré "
        "start 2026-04-24T08:00:05+00:00",
        "contact c-12\u202f: premier accusé de réception attendu 2026-04-24T08:00:00+00:00, "
        "mesuré aucun",
        "contact 4\u202f: présence attendu oui, mesuré non",
    ]
    en = [difference_line(d, Words("en")) for d in press]
    assert en[1] == (
        "contact c-12: first acknowledgement expected 2026-04-24T08:00:00+00:00, measured none"
    )
    assert en[2] == "contact 4: presence expected yes, measured no"
