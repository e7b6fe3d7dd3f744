"""What the tracker writes about one processed message, and the small rules it applies.

``result_row`` turns a parsed and classified message into the columns of its row (evidence
included); ``only_confirmed`` and ``confirmed`` say when a match may move a contact (see
runners/tracker.py); ``ProcessReport`` counts what a batch did.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from channels.classify import Classification
from channels.matching import MatchResult, Suggestion
from channels.mime import ParsedMessage
from runners.effects import DATE_SKEW
from storage.mail import MessageResult

# Matches that name our request itself: our Message-ID in the thread headers, or the reply
# token of the address we asked replies to go to.
CONFIRMING_MATCHES = frozenset({"thread", "reply_token"})


@dataclass(frozen=True, slots=True)
class Item:
    id: int
    mailbox: str
    internal_date: datetime
    raw: bytes
    sha256: str


@dataclass
class ProcessReport:
    processed: int = 0
    matched: int = 0
    triage: int = 0
    quarantined: int = 0
    own_copies: int = 0
    duplicates: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


def only_confirmed(match: MatchResult) -> MatchResult:
    """Mail that answers nothing (a town's newsletter, a notification from its domain) is tied
    to a contact only when it names our request; a guess by sender, domain or subject stays
    a suggestion and the message goes to triage."""
    if match.contact_id is None or match.method in CONFIRMING_MATCHES:
        return match
    guess = Suggestion(match.contact_id, match.method or "", match.confidence or 0.0)
    reason = f"{match.reason}: a guess, and the message answers nothing"
    return MatchResult(None, None, None, (guess, *match.suggestions), reason)


def confirmed(result: Classification, match: MatchResult) -> bool:
    """An unsure answer or acknowledgement is accepted when the reply names our request."""
    return result.kind in ("answer", "acknowledgement") and match.method in CONFIRMING_MATCHES


def add_report(report: ProcessReport, other: ProcessReport) -> None:
    for name in ("processed", "matched", "triage", "quarantined", "own_copies", "duplicates"):
        setattr(report, name, getattr(report, name) + getattr(other, name))
    for kind, count in other.by_kind.items():
        report.by_kind[kind] = report.by_kind.get(kind, 0) + count


def evidence_of(row: MessageResult) -> dict[str, Any]:
    if row.evidence is None:
        row.evidence = {}
    return row.evidence


def match_evidence(match: MatchResult) -> dict[str, Any]:
    return {
        "method": match.method,
        "confidence": match.confidence,
        "reason": match.reason,
        "suggestions": [
            {"contact": s.contact_id, "method": s.method, "confidence": round(s.confidence, 3)}
            for s in match.suggestions
        ],
    }


def result_row(
    item: Item, parsed: ParsedMessage, result: Classification, spam: bool
) -> MessageResult:
    evidence: dict[str, Any] = {"classification": list(result.evidence)}
    if spam:
        evidence["spam_flagged"] = True
    if result.bounce is not None:
        evidence["bounce"] = dataclasses.asdict(result.bounce)
    if parsed.defects:
        evidence["defects"] = list(parsed.defects[:50])
    if parsed.date is not None and abs(parsed.date - item.internal_date) > DATE_SKEW:
        evidence["date_skew_seconds"] = int((parsed.date - item.internal_date).total_seconds())
    attachments = [
        {"filename": a.filename, "content_type": a.content_type, "size": a.size, "sha256": a.sha256}
        for a in parsed.attachments
    ]
    return MessageResult(
        id=item.id,
        classification=result.kind,
        message_id=parsed.message_id,
        in_reply_to=parsed.in_reply_to,
        references=" ".join(parsed.references) or None,
        subject=parsed.subject,
        from_address=parsed.from_.address if parsed.from_ else None,
        to_addresses=", ".join(str(a) for a in (*parsed.to, *parsed.cc)) or None,
        date_header=parsed.date,
        text=parsed.text,
        new_text=parsed.new_text,
        html_sanitised=parsed.html,
        attachments={"items": attachments} if attachments else None,
        evidence=evidence,
    )
