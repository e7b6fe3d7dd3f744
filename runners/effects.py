"""What a reply does to its contact: pure functions, no I/O, tested to the second.

Effects of a matched message on its contact (``reply_effect``, pure):

- the times are the IMAP INTERNALDATE (the receiving server's clock), never the Date header;
  the Date header is kept, and a skew of more than 15 minutes is flagged (message evidence and
  a ``date_skew`` event);
- ``acknowledgement`` sets ``first_ack_at`` (the earliest wins), ``sent`` → ``acknowledged``;
- ``answer`` sets ``first_answer_at`` and the content checks of that first answer
  (channels/content_checks.py), ``sent``/``acknowledged`` → ``answered``; an answer with no
  acknowledgement before it is fine; statuses never move backwards;
- ``redirect`` (« adressez-vous à … ») counts as an answer — the citizen was answered, by being
  sent elsewhere — whose ``right_service`` check fails;
- ``bounce``: a hard one (5.x.x) makes the contact ``undeliverable`` (unless it was already
  answered); a soft or unknown one is recorded and is not final;
- ``out_of_office``, ``read_receipt``, ``other``: recorded, neither acknowledgement nor answer.

Every matched message adds a ``mail_<kind>`` ContactEvent (``at`` = INTERNALDATE) whose detail
carries the delays since the first send: ``delay_seconds`` (exact, INTERNALDATE has whole
seconds), ``business_days`` (business days of the collectivity's département after the send
day, up to the receipt day: next business day = 1), ``business_seconds`` (seconds falling on
business days) and, for the first acknowledgement and the first answer, ``within_target``
against the scenario's targets. Delays live in events, not in ``Contact.checks``: they are facts
about messages, while checks are about content and may be reviewed.

The same message seen twice (the same bytes, or the same Message-ID from the same sender, e.g.
moved from Junk to INBOX by a person) is stored twice, as the server holds it twice, but only
the first copy has effects; the second is linked with ``match_method='duplicate'``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from channels.classify import BounceInfo
from channels.content_checks import carry_reviews
from scenarios.calendar import BusinessCalendar
from scenarios.catalog import Scenario
from storage.mail import ContactView, EventRow

DATE_SKEW = timedelta(minutes=15)
ACTOR = "tracker"


@dataclass(frozen=True, slots=True)
class Reply:
    message: int
    contact_id: int
    kind: str
    received_at: datetime
    date_header: datetime | None
    method: str
    confidence: float
    bounce: BounceInfo | None = None
    classified_by: str | None = None  # a person who set the class in triage (else the rules)


def status_after(status: str, kind: str, bounce: BounceInfo | None) -> str:
    """The contact's status once a reply of ``kind`` is applied: the moves of ``reply_effect``
    alone, for the matcher, which only asks whether a contact is still open (the tracker
    keeps its index of a batch up to date as the batch's replies land, message by message)."""
    if kind == "acknowledgement":
        return "acknowledged" if status == "sent" else status
    if status not in ("sent", "acknowledged"):
        return status
    if kind in ("answer", "redirect"):
        return "answered"
    if kind == "bounce" and bounce is not None and bounce.severity == "hard":
        return "undeliverable"
    return status


def delays(
    sent_at: datetime | None, received_at: datetime, calendar: BusinessCalendar
) -> dict[str, Any]:
    if sent_at is None:
        return {"delay_seconds": None}
    seconds = int((received_at - sent_at).total_seconds())
    if seconds < 0:  # our clock and the provider's disagree: never a negative delay
        return {"delay_seconds": 0, "business_days": 0, "business_seconds": 0, "clock_skew": True}
    return {
        "delay_seconds": seconds,
        "business_days": calendar.business_days_between(sent_at, received_at),
        "business_seconds": calendar.business_seconds_between(sent_at, received_at),
    }


def reply_effect(
    view: ContactView,
    reply: Reply,
    *,
    scenario: Scenario | None,
    checks: Callable[[], dict[str, Any]] | None = None,
) -> tuple[ContactView, list[EventRow]]:
    """The contact after ``reply``, and the events to add. ``checks`` computes the content
    checks of this answer; called only when it is the contact's first answer."""
    calendar = BusinessCalendar.for_departement(view.departement)
    at = reply.received_at
    detail: dict[str, Any] = {
        "message": reply.message,
        "classification": reply.kind,
        **({"classified_by": reply.classified_by} if reply.classified_by else {}),
        "method": reply.method,
        "confidence": reply.confidence,
        "received_at": at.isoformat(),
        **delays(view.sent_at, at, calendar),
    }
    if view.followup_sent_at is not None and at > view.followup_sent_at:
        detail["after_followup"] = True
    events: list[EventRow] = []
    changes: dict[str, Any] = {}
    targets = scenario.targets if scenario is not None else None

    def within(days: int | None) -> None:
        if days is not None and view.sent_at is not None:
            detail["target_days"] = days
            # ``deadline`` is the instant the next day starts: strictly before it is in time.
            detail["within_target"] = at < calendar.deadline(view.sent_at, days)

    if reply.kind == "acknowledgement":
        if view.first_ack_at is None or at < view.first_ack_at:
            changes["first_ack_at"] = at
            detail["first"] = True
            within(targets.acknowledgement_days if targets else None)
        if view.status == "sent":
            changes |= {"status": "acknowledged", "status_at": at}
    elif reply.kind in ("answer", "redirect"):
        if view.first_answer_at is None or at < view.first_answer_at:
            changes["first_answer_at"] = at
            detail["first"] = True
            within(targets.answer_days if targets else None)
            if checks is not None:
                changes["checks"] = carry_reviews(view.checks, checks())
        if view.status in ("sent", "acknowledged"):
            changes |= {"status": "answered", "status_at": at}
    elif reply.kind == "bounce":
        bounce = reply.bounce
        severity = bounce.severity if bounce else "unknown"
        detail |= {"severity": severity, "status": bounce.status if bounce else None,
                   "diagnostic": bounce.diagnostic if bounce else None}  # fmt: skip
        if severity == "hard" and view.status in ("sent", "acknowledged"):
            reason = f"bounce {bounce.status if bounce and bounce.status else ''}".strip()
            if bounce and bounce.diagnostic:
                reason += f": {bounce.diagnostic}"
            changes |= {"status": "undeliverable", "status_at": at, "outcome_reason": reason}
            detail["final"] = True
    events.append(EventRow(view.id, f"mail_{reply.kind}", at, detail, ACTOR))
    if reply.date_header is not None and abs(reply.date_header - at) > DATE_SKEW:
        skew = int((reply.date_header - at).total_seconds())
        events.append(EventRow(view.id, "date_skew", at, {
            "message": reply.message, "date_header": reply.date_header.isoformat(),
            "internal_date": at.isoformat(), "skew_seconds": skew}, ACTOR))  # fmt: skip
    return dataclasses.replace(view, **changes), events
