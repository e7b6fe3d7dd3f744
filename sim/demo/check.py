"""``temoin demo --check``: what Témoin measured against what the simulators really did.

    database (dispatcher, tracker, bot records) --measure()--> Measured, sends, field tasks
    truth.jsonl (simulated services, provider sink, auditors)
        --compare / compare_sends / compare_field (sim/truth/)--> CheckResult

Timings must match to the second: first acknowledgement and first answer of every email
contact (the IMAP INTERNALDATE the services' replies were given), the send times (the
dispatcher's record against the provider's acceptance as the simulator saw it), and every
button an auditor pressed. Classification, matching, expected elements and grid answers are
reported as accuracy figures (per class: precision and recall; per form of mail). The class
compared is the rules' own, even where a coordinator set another in triage, and the matching
the tracker's own: the coordinator's work keeps the timings right, it does not make the
classifier look better. The accounting says where every contact ended: sent or
undeliverable; answered, acknowledged or censored at the close; calls and visits done;
letters posted, answered or censored; and that no delivered reply was lost (stored, and
matched, left in triage, or set aside by the coordinator when it answers nothing). Written
to ``OUT/check.json``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from scenarios import events as ev
from sim.truth.field import FieldComparison, FieldDifference, MeasuredField, compare_field
from sim.truth.journal import Truth
from sim.truth.replies import (
    Comparison,
    ContactDifference,
    Measured,
    MeasuredContact,
    MeasuredMessage,
    compare,
)
from sim.truth.sends import MeasuredSend, SendComparison, SendDifference, compare_sends
from storage import demo as repo
from storage.db import Database

FIELD_EVENTS = ev.FIELD_EVENTS


@dataclass
class Accounting:
    """Where every contact ended; the ``*_unaccounted`` lists should be empty."""

    emails: int = 0
    emails_sent: int = 0  # accepted by the provider
    emails_refused: int = 0  # refused when sent (5xx): undeliverable, never accepted
    emails_bounced: int = 0  # accepted, then bounced back: undeliverable
    emails_answered: int = 0
    emails_acknowledged: int = 0  # acknowledged, answered or not
    emails_censored: int = 0  # sent, unanswered, closed
    emails_followed_up: int = 0
    emails_unaccounted: list[int] = field(default_factory=list)
    field_tasks: int = 0
    field_done: int = 0
    field_unaccounted: list[int] = field(default_factory=list)
    letters: int = 0
    letters_posted: int = 0
    letters_answered: int = 0
    letters_censored: int = 0
    letters_unaccounted: list[int] = field(default_factory=list)
    replies_delivered: int = 0
    replies_matched: int = 0  # by the tracker
    replies_triaged: int = 0  # matched by the coordinator, from the triage queue
    replies_in_triage: int = 0  # still waiting there
    replies_ignored: int = 0  # set aside from triage: mail that answers nothing
    replies_lost: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not (
            self.emails_unaccounted
            or self.field_unaccounted
            or self.letters_unaccounted
            or self.replies_lost
        )


@dataclass(frozen=True)
class CheckResult:
    emails: Comparison
    sends: SendComparison
    field: FieldComparison
    accounting: Accounting

    @property
    def timing_found(self) -> list[ContactDifference | SendDifference | FieldDifference]:
        """The timing differences themselves, for a caller that says them in its language."""
        return [
            *self.emails.contact_differences,
            *self.sends.timing_differences,
            *self.field.timing_differences,
        ]

    @property
    def timing_differences(self) -> list[str]:
        return [str(d) for d in self.timing_found]

    @property
    def ok(self) -> bool:
        return not self.timing_differences

    def lines(self) -> list[str]:
        """What a person reads at the end of ``temoin demo --check``."""
        e, s, f, a = self.emails, self.sends, self.field, self.accounting
        timed = len(e.contact_differences) + len(s.timing_differences)
        lines = [
            f"Timing differences: {len(self.timing_differences)} "
            f"(emails: {timed} over {e.contacts_compared} contacts and "
            f"{s.sends_compared + s.followups_compared} sends; field: "
            f"{len(f.timing_differences)} over {f.events_compared} button presses "
            f"of {f.tasks_compared} tasks)",
            f"Sent exactly once: {s.sends_compared} requests and {s.followups_compared} "
            f"follow-ups; duplicates at the provider: {s.duplicates}; "
            f"accepted but recorded by no contact: {len(s.unclaimed)}",
        ]
        lines += e.summary()[1:]
        lines.append(
            f"grid answers equal to the truth: {_pct(f.answer_accuracy)} of {f.answers_compared}; "
            f"wrong inputs typed {f.wrong_inputs}, asked again by the bot {f.re_asked}"
        )
        lines.append(
            f"emails: {a.emails} ({a.emails_sent} sent, {a.emails_refused} refused; "
            f"{a.emails_answered} answered, {a.emails_bounced} bounced, {a.emails_censored} "
            f"censored at the close; {a.emails_acknowledged} acknowledged, "
            f"{a.emails_followed_up} followed up)"
        )
        lines.append(
            f"calls and visits: {a.field_done}/{a.field_tasks} done; letters: "
            f"{a.letters_posted}/{a.letters} posted, {a.letters_answered} answered, "
            f"{a.letters_censored} censored"
        )
        lines.append(
            f"replies delivered: {a.replies_delivered}, matched by the tracker "
            f"{a.replies_matched}, by the coordinator from triage {a.replies_triaged}, set "
            f"aside by the coordinator (answering nothing) {a.replies_ignored}, still in "
            f"triage {a.replies_in_triage}, lost {len(a.replies_lost)}"
        )
        for label, items in (
            ("emails not accounted for", a.emails_unaccounted),
            ("field tasks not done", a.field_unaccounted),
            ("letters not accounted for", a.letters_unaccounted),
            ("replies lost", a.replies_lost),
        ):
            if items:
                lines.append(f"{label}: {', '.join(str(i) for i in items[:10])}")
        lines += [f"  {d}" for d in self.timing_differences[:30]]
        return lines

    def to_json(self) -> dict[str, Any]:
        e, f = self.emails, self.field
        return {
            "ok": self.ok,
            "timing_differences": self.timing_differences,
            "emails": {
                "contacts_compared": e.contacts_compared,
                "messages_compared": e.messages_compared,
                "classification_accuracy": e.classification_accuracy,
                "classes": {
                    kind: {
                        "precision": score.precision,
                        "recall": score.recall,
                        "tp": score.true_positives,
                        "fp": score.false_positives,
                        "fn": score.false_negatives,
                    }
                    for kind, score in sorted(e.class_scores.items())
                },
                "matching_accuracy": e.matching_accuracy,
                "matched_wrongly": e.matched_wrongly,
                "unmatched": e.unmatched,
                "element_accuracy": e.element_accuracy,
                "elements_compared": e.elements_compared,
                "misclassified": [asdict(d) for d in e.misclassified],
                "mismatched": [asdict(d) for d in e.mismatched],
                "unexpected_messages": [asdict(d) for d in e.unexpected_messages],
                "forms": {label: asdict(score) for label, score in sorted(e.form_scores.items())},
                "element_differences": [asdict(d) for d in e.element_differences],
            },
            "sends": {
                "requests": self.sends.sends_compared,
                "followups": self.sends.followups_compared,
                "duplicates": self.sends.duplicates,
                "unclaimed": list(self.sends.unclaimed),
                "differences": [str(d) for d in self.sends.differences],
            },
            "field": {
                "tasks": f.tasks_compared,
                "presses": f.events_compared,
                "answers_compared": f.answers_compared,
                "answer_accuracy": f.answer_accuracy,
                "wrong_inputs": f.wrong_inputs,
                "re_asked": f.re_asked,
                "differences": [str(d) for d in f.differences],
            },
            "accounting": asdict(self.accounting) | {"complete": self.accounting.complete},
        }

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=2, default=str))


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def _elements(checks: dict[str, Any] | None) -> dict[str, bool] | None:
    if not checks or not isinstance(checks.get("expected"), dict):
        return None
    return {
        element: bool(item.get("auto"))
        for element, item in checks["expected"].items()
        if isinstance(item, dict) and item.get("auto") is not None
    }


async def check(database: Database, campaign_id: int, truth: Truth) -> CheckResult:
    async with database.session() as session:
        emails = await repo.email_facts(session, campaign_id)
        inbound = await repo.inbound_messages(session)
        fields = await repo.field_facts(session, campaign_id, FIELD_EVENTS)
    contacts = tuple(
        MeasuredContact(
            message_id=fact.message_id,
            service=fact.service_email,
            first_ack_at=fact.first_ack_at,
            first_answer_at=fact.first_answer_at,
            undeliverable=fact.status == "undeliverable",
            elements=_elements(fact.checks),
        )
        for fact in emails
        if fact.message_id is not None
        and (fact.sent_at is not None or fact.status == "undeliverable")
    )
    # Matching accuracy is the tracker's: a reply the coordinator matched from the triage
    # queue counts as not matched (its contact's times, though, must be right).
    messages = tuple(
        MeasuredMessage(
            m.message_id,
            m.classified_by_rules or "quarantined",
            m.matched_request if m.match_method != "manual" else None,
            m.internal_date,
        )
        for m in inbound
    )
    sends = [
        MeasuredSend(
            f.contact_id,
            f.service_email,
            f.message_id,
            f.sent_at,
            f.followup_message_id,
            f.followup_sent_at,
        )
        for f in emails
    ]
    measured_fields = [
        MeasuredField(f.contact_id, f.channel, f.status, f.events, f.answers, f.first_answer_at)
        for f in fields
    ]
    return CheckResult(
        emails=compare(truth, Measured(contacts, messages)),
        sends=compare_sends(truth, sends),
        field=compare_field(truth, measured_fields),
        accounting=_accounting(emails, fields, inbound, truth),
    )


def _accounting(
    emails: list[repo.EmailFact],
    fields: list[repo.FieldFact],
    inbound: list[repo.InboundMessage],
    truth: Truth,
) -> Accounting:
    a = Accounting(emails=len(emails))
    for e in emails:
        if e.status == "undeliverable":
            if e.sent_at is None:
                a.emails_refused += 1
            else:
                a.emails_sent += 1
                a.emails_bounced += 1
            continue
        if e.sent_at is None:
            a.emails_unaccounted.append(e.contact_id)
            continue
        a.emails_sent += 1
        a.emails_followed_up += e.followup_sent_at is not None
        a.emails_acknowledged += e.first_ack_at is not None
        if e.first_answer_at is not None:
            a.emails_answered += 1
        elif e.closed_at is not None:
            a.emails_censored += 1
        else:
            a.emails_unaccounted.append(e.contact_id)
    for f in fields:
        if f.channel == "letter":
            a.letters += 1
            if f.status in ("posted", "acknowledged", "answered"):
                a.letters_posted += 1
                if f.status == "answered":
                    a.letters_answered += 1
                elif f.closed_at is not None:
                    a.letters_censored += 1
                else:
                    a.letters_unaccounted.append(f.contact_id)
            else:
                a.letters_unaccounted.append(f.contact_id)
        else:
            a.field_tasks += 1
            if f.status == "done":
                a.field_done += 1
            else:
                a.field_unaccounted.append(f.contact_id)
    by_id = {m.message_id: m for m in inbound if m.message_id}
    for reaction in truth.delivered():
        a.replies_delivered += 1
        got = by_id.get(reaction.reaction_message_id or "")
        if got is None:
            a.replies_lost.append(str(reaction.reaction_message_id))
        elif got.matched_request is not None and got.match_method == "manual":
            a.replies_triaged += 1
        elif got.matched_request is not None:
            a.replies_matched += 1
        elif got.triage_state == "pending" or got.quarantined:
            a.replies_in_triage += 1
        elif got.triage_state == "ignored" and reaction.expected_match is None:
            a.replies_ignored += 1
        else:
            a.replies_lost.append(str(reaction.reaction_message_id))
    return a


def generated_at(result: CheckResult, at: datetime) -> dict[str, Any]:
    return {"generated_at": at.isoformat(), **result.to_json()}
