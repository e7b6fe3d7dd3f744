"""The mail check: the tracker's measures of the replies against the town halls' truth (pure).

    compare(truth, Measured(contacts, messages)) --> Comparison

- timings: the first acknowledgement and the first answer of each contact must equal the
  truth to the second; a contact must be undeliverable exactly when its request bounced (or
  its service refuses at RCPT; a delay warning is not a failure). Only *delivered* reactions
  count: a reaction still scheduled when the campaign is measured was never seen by anyone.
- classification: the measured class of every delivered message against the truth, as a
  confusion count with precision and recall per class (``other`` included: mail that is
  neither a reply nor a report of ours);
- matching: the contact each message was matched to (None: triage) against the truth; mail
  that answers nothing (kind ``other``) must stay unmatched, and a match of it is wrong;
- by form: the same two figures for each way a message was written (a vendor's
  auto-responder, a ticket system, a newsletter…: ``TruthReaction.form``), so each new kind
  of mail shows on its own;
- expected elements: the content check of each contact's first answer against what the
  answer was written to contain.

Which kinds make "the first acknowledgement" and "the first answer" is a convention of the
tracker: by default an acknowledgement is ``acknowledgement`` and an answer is ``answer`` or
``redirect`` (a redirect is the service's reply to the request, see channels/content_checks.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sim.truth.journal import Truth
from sim.truth.records import TruthReaction, to_second

DEFAULT_ACK_KINDS = frozenset({"acknowledgement"})
DEFAULT_ANSWER_KINDS = frozenset({"answer", "redirect"})
MISSING = "missing"  # the measured class of a delivered message the tracker never saw


# -- measured facts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasuredMessage:
    """One received message as the tracker saw it."""

    message_id: str | None  # the received message's own Message-ID
    kind: str  # its classification (channels.classify kinds)
    matched_contact: str | None  # the Message-ID of the request it was matched to; None: triage
    received_at: datetime | None = None  # its INTERNALDATE, when known


@dataclass(frozen=True)
class MeasuredContact:
    """One email contact as the tracker left it."""

    message_id: str  # our request's Message-ID
    service: str  # the address it was sent to
    first_ack_at: datetime | None = None
    first_answer_at: datetime | None = None
    undeliverable: bool = False
    elements: Mapping[str, bool] | None = None  # content check of the first answer: id -> found


@dataclass(frozen=True)
class Measured:
    contacts: tuple[MeasuredContact, ...] = ()
    messages: tuple[MeasuredMessage, ...] = ()


# -- comparison -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactDifference:
    """A per-contact fact that differs (times to the second; ``None``: no such event)."""

    contact: str
    fact: str  # first_ack_at, first_answer_at, undeliverable, presence
    expected: datetime | bool | None
    measured: datetime | bool | None

    @property
    def seconds_off(self) -> float | None:
        if isinstance(self.expected, datetime) and isinstance(self.measured, datetime):
            return (self.measured - self.expected).total_seconds()
        return None

    def __str__(self) -> str:
        off = self.seconds_off
        extra = f" ({off:+.0f} s)" if off is not None else ""
        return (
            f"{self.contact}: {self.fact} expected {self.expected}, measured {self.measured}{extra}"
        )


@dataclass(frozen=True)
class ClassScore:
    kind: str
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float | None:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else None

    @property
    def recall(self) -> float | None:
        real = self.true_positives + self.false_negatives
        return self.true_positives / real if real else None


@dataclass(frozen=True)
class MessageDifference:
    message_id: str | None
    expected: str | None  # truth kind / contact; None: the message is not in the truth
    measured: str | None


@dataclass(frozen=True)
class ElementDifference:
    contact: str
    element: str
    expected: bool
    measured: bool | None  # None: the check did not report this element


@dataclass(frozen=True)
class FormScore:
    """Messages of one kind written one way: how many, classified right, matched right."""

    label: str  # "kind" or "kind/form"
    messages: int
    classified: int
    matched: int


@dataclass(frozen=True)
class Comparison:
    contacts_compared: int
    contact_differences: tuple[ContactDifference, ...]
    messages_compared: int  # delivered reactions in the truth
    class_scores: dict[str, ClassScore]
    misclassified: tuple[MessageDifference, ...]  # measured kind "missing": never seen
    unexpected_messages: tuple[MessageDifference, ...]  # measured but not in the truth
    matched_correctly: int
    matched_wrongly: int
    unmatched: int  # sent to triage (or never seen)
    mismatched: tuple[MessageDifference, ...]
    elements_compared: int
    elements_correct: int
    element_differences: tuple[ElementDifference, ...]
    form_scores: dict[str, FormScore] = field(default_factory=dict)

    @property
    def classification_accuracy(self) -> float | None:
        if not self.messages_compared:
            return None
        return (self.messages_compared - len(self.misclassified)) / self.messages_compared

    @property
    def matching_accuracy(self) -> float | None:
        if not self.messages_compared:
            return None
        return self.matched_correctly / self.messages_compared

    @property
    def element_accuracy(self) -> float | None:
        if not self.elements_compared:
            return None
        return self.elements_correct / self.elements_compared

    @property
    def ok(self) -> bool:
        return not (
            self.contact_differences
            or self.misclassified
            or self.unexpected_messages
            or self.mismatched
            or self.element_differences
        )

    def summary(self) -> list[str]:
        """Lines a person reads at the end of a demo."""

        def pct(value: float | None) -> str:
            return "n/a" if value is None else f"{100 * value:.1f} %"

        lines = [
            f"contacts compared: {self.contacts_compared}, timing and delivery differences: "
            f"{len(self.contact_differences)}",
            f"classification accuracy: {pct(self.classification_accuracy)} "
            f"of {self.messages_compared} delivered messages",
        ]
        for kind, score in sorted(self.class_scores.items()):
            lines.append(
                f"  {kind}: precision {pct(score.precision)}, recall {pct(score.recall)} "
                f"(tp {score.true_positives}, fp {score.false_positives}, "
                f"fn {score.false_negatives})"
            )
        lines.append(
            f"matching accuracy: {pct(self.matching_accuracy)} (wrong {self.matched_wrongly}, "
            f"unmatched {self.unmatched}; mail that answers nothing must stay unmatched)"
        )
        if self.form_scores:
            lines.append("by form of mail (messages: classified right, matched right):")
            lines.extend(
                f"  {score.label}: {score.messages}: {score.classified}, {score.matched}"
                for _, score in sorted(self.form_scores.items())
            )
        lines.append(
            f"expected-element accuracy: {pct(self.element_accuracy)} "
            f"of {self.elements_compared} element checks"
        )
        lines.extend(f"  {difference}" for difference in self.contact_differences)
        return lines


def _first(reactions: Iterable[TruthReaction], kinds: frozenset[str]) -> TruthReaction | None:
    chosen = [r for r in reactions if r.kind in kinds and r.delivered_at is not None]
    return min(chosen, key=lambda r: cast(datetime, r.delivered_at), default=None)


def compare(
    truth: Truth,
    measured: Measured,
    *,
    ack_kinds: Iterable[str] = DEFAULT_ACK_KINDS,
    answer_kinds: Iterable[str] = DEFAULT_ANSWER_KINDS,
) -> Comparison:
    """Every difference between ``truth`` and ``measured`` (see the module docstring)."""
    acks, answers = frozenset(ack_kinds), frozenset(answer_kinds)
    reactions = truth.reactions
    by_contact: dict[str, list[TruthReaction]] = defaultdict(list)
    for reaction in reactions:
        if reaction.contact_message_id is not None:
            by_contact[reaction.contact_message_id].append(reaction)
    refusing = truth.refusing_services()
    measured_contacts = {c.message_id: c for c in measured.contacts}

    differences: list[ContactDifference] = []
    element_differences: list[ElementDifference] = []
    elements_compared = elements_correct = 0
    compared = 0
    for contact_id in sorted(set(by_contact) | set(measured_contacts)):
        seen = measured_contacts.get(contact_id)
        own = by_contact.get(contact_id)
        if own is None:
            assert seen is not None
            if seen.service.lower() in refusing:
                compared += 1
                differences.extend(_contact_differences(contact_id, None, None, True, seen))
            else:
                differences.append(ContactDifference(contact_id, "presence", False, True))
            continue
        if seen is None:
            differences.append(ContactDifference(contact_id, "presence", True, False))
            continue
        compared += 1
        ack, answer = _first(own, acks), _first(own, answers)
        bounced = any(r.undeliverable and r.delivered for r in own)
        differences.extend(
            _contact_differences(
                contact_id,
                ack.delivered_at if ack else None,
                answer.delivered_at if answer else None,
                bounced,
                seen,
            )
        )
        if answer is not None and (answer.included or answer.omitted):
            expected = {e: True for e in answer.included} | {e: False for e in answer.omitted}
            for element, value in expected.items():
                elements_compared += 1
                found = None if seen.elements is None else seen.elements.get(element)
                if found is value:
                    elements_correct += 1
                else:
                    element_differences.append(ElementDifference(contact_id, element, value, found))

    delivered = [r for r in reactions if r.delivered and r.reaction_message_id]
    seen_messages: dict[str, MeasuredMessage] = {}
    for message in measured.messages:
        if message.message_id is not None:
            seen_messages.setdefault(message.message_id, message)
    pairs: list[tuple[str | None, str]] = []
    misclassified: list[MessageDifference] = []
    mismatched: list[MessageDifference] = []
    right = wrong = unmatched = 0
    forms: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for reaction in delivered:
        message_id = cast(str, reaction.reaction_message_id)
        got = seen_messages.get(message_id)
        kind = got.kind if got is not None else MISSING
        pairs.append((reaction.kind, kind))
        if kind != reaction.kind:
            misclassified.append(MessageDifference(message_id, reaction.kind, kind))
        matched = got.matched_contact if got is not None else None
        answered = reaction.expected_match
        if got is not None and matched == answered:
            right += 1
        else:
            if matched is None:
                unmatched += 1
            else:
                wrong += 1
            mismatched.append(MessageDifference(message_id, answered, matched))
        counts = forms[f"{reaction.kind}/{reaction.form}" if reaction.form else reaction.kind]
        counts[0] += 1
        counts[1] += kind == reaction.kind
        counts[2] += got is not None and matched == answered
    known = {cast(str, r.reaction_message_id) for r in delivered}
    unexpected = [
        MessageDifference(m.message_id, None, m.kind)
        for m in measured.messages
        if m.message_id is None or m.message_id not in known
    ]
    pairs.extend((None, m.measured or "") for m in unexpected)

    return Comparison(
        contacts_compared=compared,
        contact_differences=tuple(differences),
        messages_compared=len(delivered),
        class_scores=_class_scores(pairs),
        misclassified=tuple(misclassified),
        unexpected_messages=tuple(unexpected),
        matched_correctly=right,
        matched_wrongly=wrong,
        unmatched=unmatched,
        mismatched=tuple(mismatched),
        elements_compared=elements_compared,
        elements_correct=elements_correct,
        element_differences=tuple(element_differences),
        form_scores={label: FormScore(label, *counts) for label, counts in forms.items()},
    )


def _contact_differences(
    contact: str,
    ack: datetime | None,
    answer: datetime | None,
    undeliverable: bool,
    seen: MeasuredContact,
) -> list[ContactDifference]:
    found: list[ContactDifference] = []
    for fact, expected, value in (
        ("first_ack_at", to_second(ack), to_second(seen.first_ack_at)),
        ("first_answer_at", to_second(answer), to_second(seen.first_answer_at)),
    ):
        if expected != value:
            found.append(ContactDifference(contact, fact, expected, value))
    if undeliverable != seen.undeliverable:
        found.append(ContactDifference(contact, "undeliverable", undeliverable, seen.undeliverable))
    return found


def _class_scores(pairs: Sequence[tuple[str | None, str]]) -> dict[str, ClassScore]:
    kinds = {k for pair in pairs for k in pair if k is not None and k != MISSING}
    scores: dict[str, ClassScore] = {}
    for kind in sorted(kinds):
        tp = sum(1 for t, m in pairs if t == kind and m == kind)
        fp = sum(1 for t, m in pairs if t != kind and m == kind)
        fn = sum(1 for t, m in pairs if t == kind and m != kind)
        scores[kind] = ClassScore(kind, tp, fp, fn)
    return scores
