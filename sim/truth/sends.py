"""The sends check: what the personas' provider accepted against what the dispatcher recorded.

    compare_sends(truth, [MeasuredSend]) --> SendComparison

The provider's acceptances (``Acceptance`` records) are the sink of "sent exactly once": each
request and each follow-up must reach its service exactly once, and the send time the
dispatcher recorded must be the acceptance time to the second. An acceptance no contact claims
is reported too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sim.truth.journal import Truth
from sim.truth.records import to_second


@dataclass(frozen=True)
class MeasuredSend:
    """One email contact's sends as the dispatcher recorded them."""

    contact: int
    service: str  # the address it was sent to
    message_id: str | None
    sent_at: datetime | None
    followup_message_id: str | None = None
    followup_sent_at: datetime | None = None


@dataclass(frozen=True)
class SendDifference:
    """``fact``: sent_at / followup_sent_at (times, to the second), copies / followup_copies
    (how many times the provider accepted the message for the service: exactly once)."""

    contact: int
    fact: str
    expected: datetime | int | None
    measured: datetime | int | None

    @property
    def timing(self) -> bool:
        return self.fact in ("sent_at", "followup_sent_at")

    def __str__(self) -> str:
        return (
            f"contact {self.contact}: {self.fact} expected {self.expected}, measured "
            f"{self.measured}"
        )


@dataclass(frozen=True)
class SendComparison:
    sends_compared: int
    followups_compared: int
    differences: tuple[SendDifference, ...]
    unclaimed: tuple[str | None, ...]  # accepted by the provider, recorded by no contact

    @property
    def timing_differences(self) -> tuple[SendDifference, ...]:
        return tuple(d for d in self.differences if d.timing)

    @property
    def duplicates(self) -> int:
        return sum(
            1
            for d in self.differences
            if not d.timing and isinstance(d.measured, int) and d.measured > 1
        )


def compare_sends(truth: Truth, sends: Iterable[MeasuredSend]) -> SendComparison:
    """Each request and follow-up accepted exactly once for its service, at the recorded time."""
    copies: dict[tuple[str | None, str], list[datetime]] = defaultdict(list)
    for acceptance in truth.acceptances:
        for recipient in acceptance.recipients:
            copies[(acceptance.message_id, recipient)].append(acceptance.at)
    claimed: set[tuple[str | None, str]] = set()
    differences: list[SendDifference] = []
    sends_compared = followups_compared = 0
    for send in sends:
        service = send.service.lower()
        for fact, message_id, recorded in (
            ("sent_at", send.message_id, send.sent_at),
            ("followup_sent_at", send.followup_message_id, send.followup_sent_at),
        ):
            if message_id is None:
                continue
            key = (message_id, service)
            claimed.add(key)
            seen = sorted(copies.get(key, ()))
            if recorded is None and not seen:
                continue  # claimed but never accepted (refused at RCPT, or not sent yet)
            if fact == "sent_at":
                sends_compared += 1
            else:
                followups_compared += 1
            count_fact = "copies" if fact == "sent_at" else "followup_copies"
            if len(seen) != 1:
                differences.append(SendDifference(send.contact, count_fact, 1, len(seen)))
            first = seen[0] if seen else None
            if to_second(first) != to_second(recorded):
                differences.append(
                    SendDifference(send.contact, fact, to_second(first), to_second(recorded))
                )
    claimed_ids = {message_id for message_id, _ in claimed}
    unclaimed = tuple(
        sorted({a.message_id or "" for a in truth.acceptances if a.message_id not in claimed_ids})
    )
    return SendComparison(sends_compared, followups_compared, tuple(differences), unclaimed)
