"""What the simulated collectivities really did, and how a measurement compares with it.

    simulator --record_decision / record_delivery / record_refusal--> Truth (memory + JSON lines)
    Truth.load(path) --> Truth
    compare(truth, Measured) --> Comparison   (pure)

Every decision is one ``decision`` line: the request (our Message-ID, the service, the
persona, the scenario), the reaction planned (kind, instant, sender, threading, expected
elements included and omitted, mailbox) and the reaction's own Message-ID. A request that gets
nothing is a decision of kind ``none``. Each delivery adds a ``delivery`` line with the exact
INTERNALDATE given to Dovecot (whole seconds) and the UID it got. A dead address refused at
RCPT is a ``refusal`` line: at that stage there is no message yet, so no Message-ID, only the
service address and the instant.

``compare`` takes per-contact and per-message facts as the tracker measured them (the demo
fills the ``Measured*`` dataclasses from the database) and returns every difference:

- timings: the first acknowledgement and the first answer of each contact must equal the
  truth to the second; a contact must be undeliverable exactly when its request bounced (or
  its service refuses at RCPT). Only *delivered* reactions count: a reaction still scheduled
  when the campaign is measured was never seen by anyone.
- classification: the measured class of every delivered message against the truth, as a
  confusion count with precision and recall per class;
- matching: the contact each message was matched to (None: triage) against the truth;
- expected elements: the content check of each contact's first answer against what the
  answer was written to contain.

Which kinds make "the first acknowledgement" and "the first answer" is a convention of the
tracker: by default an acknowledgement is ``acknowledgement`` and an answer is ``answer`` or
``redirect`` (a redirect is the service's reply to the request, see channels/content_checks.py).

The demo adds two records:

- ``acceptance``: every message the personas' provider accepted, with its recipients and the
  simulated instant of the acceptance (the 250 after DATA), as the simulator saw it. It is the
  sink of "sent exactly once": ``compare_sends`` checks that each request and each follow-up
  reached its service exactly once, and that the send time the dispatcher recorded is the
  acceptance time to the second.
- ``field``: what a simulated auditor really did on a call, a visit or a letter: every button
  press that times something (its event kind and instant), the grid answers meant (after any
  wrong input the bot had to ask again), how many wrong inputs were typed and how many the bot
  asked again. ``compare_field`` checks timings to the second and answers for equality.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sim.profiles import ReactionKind

TRUTH_VERSION = 1
REACTION_KINDS: tuple[str, ...] = (
    "answer",
    "acknowledgement",
    "out_of_office",
    "bounce",
    "redirect",
    "none",
)
DEFAULT_ACK_KINDS = frozenset({"acknowledgement"})
DEFAULT_ANSWER_KINDS = frozenset({"answer", "redirect"})
MISSING = "missing"  # the measured class of a delivered message the tracker never saw


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime refused: {value!r}")
    return value.astimezone(UTC)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else _utc(value).isoformat()


def _parse_time(value: Any) -> datetime | None:
    return None if value is None else _utc(datetime.fromisoformat(str(value)))


@dataclass(frozen=True)
class TruthReaction:
    """One decided reaction to one request (kind ``none``: the request gets nothing)."""

    reaction_id: str  # unique key: the reaction's Message-ID, or a made-up one for ``none``
    contact_message_id: str | None  # our request's Message-ID
    service: str  # the service address the request went to
    persona: str  # the persona address the request came from
    kind: ReactionKind
    received_at: datetime  # when the service got the request (simulated time)
    profile: str = ""
    outcome: str | None = None  # profiles.Outcome value; None for a dead address
    scenario_id: str | None = None
    contact_id: str | None = None  # from the demo's resolver, when it gave one
    planned_at: datetime | None = None
    reaction_message_id: str | None = None
    sender: str | None = None  # the From address used
    recipient: str | None = None  # the To address used (a Reply-To token, or the persona)
    subject: str | None = None
    threaded: bool = False
    automatic: bool = False
    other_agent: bool = False
    included: tuple[str, ...] = ()
    omitted: tuple[str, ...] = ()
    mailbox: str | None = None  # INBOX or Junk
    mailbox_user: str | None = None  # the Dovecot user the reaction goes to
    bounce_mode: str | None = None  # "dsn" for a bounce
    delivered_at: datetime | None = None  # the INTERNALDATE given to Dovecot
    uidvalidity: int | None = None
    uid: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in REACTION_KINDS:
            raise ValueError(f"unknown reaction kind {self.kind!r}")

    @property
    def delivered(self) -> bool:
        return self.delivered_at is not None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("received_at", "planned_at", "delivered_at"):
            data[key] = _iso(data[key])
        data["included"] = list(self.included)
        data["omitted"] = list(self.omitted)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TruthReaction:
        values = dict(data)
        for key in ("received_at", "planned_at", "delivered_at"):
            values[key] = _parse_time(values.get(key))
        values["included"] = tuple(values.get("included") or ())
        values["omitted"] = tuple(values.get("omitted") or ())
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in values.items() if k in known})


@dataclass(frozen=True)
class Refusal:
    """A request refused at RCPT by a dead address: no message, so no Message-ID."""

    service: str
    at: datetime
    reply: str
    attempt: int = 1


@dataclass(frozen=True)
class Acceptance:
    """A message the personas' provider accepted (250 after DATA), in simulated time."""

    message_id: str | None
    recipients: tuple[str, ...]
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "recipients": list(self.recipients),
            "at": _iso(self.at),
        }


@dataclass(frozen=True)
class FieldRecord:
    """What a simulated auditor did on one task.

    ``events``: (event kind of scenarios/events.py, instant) of every timed button press, in
    order; ``answers``: the grid answers meant, by question id (``PHOTO`` for a photo sent,
    None for a question skipped); ``wrong_inputs``: answers typed wrong on purpose;
    ``re_asked``: how many of them the bot refused and asked again; ``done``: the grid was
    validated (a letter: its steps were all logged).
    """

    contact_id: int
    channel: str
    auditor: str
    events: tuple[tuple[str, datetime], ...] = ()
    answers: Mapping[str, Any] = field(default_factory=dict)
    wrong_inputs: int = 0
    re_asked: int = 0
    done: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "contact_id": self.contact_id,
            "channel": self.channel,
            "auditor": self.auditor,
            "events": [[kind, _iso(at)] for kind, at in self.events],
            "answers": dict(self.answers),
            "wrong_inputs": self.wrong_inputs,
            "re_asked": self.re_asked,
            "done": self.done,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FieldRecord:
        return cls(
            contact_id=int(data["contact_id"]),
            channel=str(data["channel"]),
            auditor=str(data["auditor"]),
            events=tuple(
                (str(kind), cast(datetime, _parse_time(at))) for kind, at in data["events"]
            ),
            answers=dict(data.get("answers") or {}),
            wrong_inputs=int(data.get("wrong_inputs", 0)),
            re_asked=int(data.get("re_asked", 0)),
            done=bool(data.get("done", False)),
        )


PHOTO = "<photo>"  # a photo answer in the truth: the stored reference is not known in advance


class Truth:
    """Every decision and delivery, in memory and (with ``path``) appended as JSON lines.

    Thread-safe: the simulator records from the SMTP provider's threads and from its pump.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._reactions: dict[str, TruthReaction] = {}
        self._refusals: list[Refusal] = []
        self._acceptances: list[Acceptance] = []
        self._fields: dict[int, FieldRecord] = {}
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    # -- recording ------------------------------------------------------------------------

    def record_decision(self, reaction: TruthReaction) -> None:
        with self._lock:
            if reaction.reaction_id in self._reactions:
                raise ValueError(f"reaction {reaction.reaction_id} already recorded")
            self._reactions[reaction.reaction_id] = reaction
            self._write({"event": "decision", **reaction.to_json()})

    def record_delivery(
        self,
        reaction_id: str,
        delivered_at: datetime,
        *,
        mailbox: str,
        uidvalidity: int,
        uid: int,
    ) -> TruthReaction:
        delivered_at = _utc(delivered_at)
        if delivered_at.microsecond:
            raise ValueError("an INTERNALDATE has whole seconds")
        with self._lock:
            reaction = replace(
                self._reactions[reaction_id],
                delivered_at=delivered_at,
                mailbox=mailbox,
                uidvalidity=uidvalidity,
                uid=uid,
            )
            self._reactions[reaction_id] = reaction
            self._write(
                {
                    "event": "delivery",
                    "reaction_id": reaction_id,
                    "delivered_at": _iso(delivered_at),
                    "mailbox": mailbox,
                    "uidvalidity": uidvalidity,
                    "uid": uid,
                }
            )
            return reaction

    def record_refusal(self, service: str, at: datetime, reply: str, attempt: int = 1) -> None:
        refusal = Refusal(service.lower(), _utc(at), reply, attempt)
        with self._lock:
            self._refusals.append(refusal)
            self._write(
                {
                    "event": "refusal",
                    "service": refusal.service,
                    "at": _iso(refusal.at),
                    "reply": reply,
                    "attempt": attempt,
                }
            )

    def record_acceptance(
        self, message_id: str | None, recipients: Sequence[str], at: datetime
    ) -> Acceptance:
        """The provider accepted a message for ``recipients`` at simulated instant ``at``."""
        acceptance = Acceptance(message_id, tuple(r.lower() for r in recipients), _utc(at))
        with self._lock:
            self._acceptances.append(acceptance)
            self._write({"event": "acceptance", **acceptance.to_json()})
        return acceptance

    def record_field(self, record: FieldRecord) -> None:
        """What an auditor really did on one call, visit or letter (the latest record wins)."""
        with self._lock:
            self._fields[record.contact_id] = record
            self._write({"event": "field", **record.to_json()})

    def _write(self, record: dict[str, Any]) -> None:
        if self.path is None:
            return
        line = json.dumps({"v": TRUTH_VERSION, **record}, ensure_ascii=False, sort_keys=True)
        with self.path.open("a", encoding="utf-8") as stream:
            stream.write(line + "\n")

    # -- reading --------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path) -> Truth:
        """The truth recorded in ``path`` (read only: the result writes nowhere)."""
        truth = cls()
        with path.open(encoding="utf-8") as stream:
            for number, line in enumerate(stream, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    event = record.pop("event")
                    record.pop("v", None)
                    if event == "decision":
                        truth.record_decision(TruthReaction.from_json(record))
                    elif event == "delivery":
                        truth.record_delivery(
                            record["reaction_id"],
                            cast(datetime, _parse_time(record["delivered_at"])),
                            mailbox=record["mailbox"],
                            uidvalidity=int(record["uidvalidity"]),
                            uid=int(record["uid"]),
                        )
                    elif event == "refusal":
                        truth.record_refusal(
                            record["service"],
                            cast(datetime, _parse_time(record["at"])),
                            record["reply"],
                            int(record.get("attempt", 1)),
                        )
                    elif event == "acceptance":
                        truth.record_acceptance(
                            record.get("message_id"),
                            list(record["recipients"]),
                            cast(datetime, _parse_time(record["at"])),
                        )
                    elif event == "field":
                        truth.record_field(FieldRecord.from_json(record))
                    else:
                        raise ValueError(f"unknown event {event!r}")
                except (KeyError, TypeError, ValueError) as exc:
                    raise ValueError(f"{path}:{number}: bad truth record: {exc}") from exc
        return truth

    @property
    def reactions(self) -> list[TruthReaction]:
        with self._lock:
            return list(self._reactions.values())

    @property
    def refusals(self) -> list[Refusal]:
        with self._lock:
            return list(self._refusals)

    @property
    def acceptances(self) -> list[Acceptance]:
        with self._lock:
            return list(self._acceptances)

    @property
    def fields(self) -> list[FieldRecord]:
        with self._lock:
            return list(self._fields.values())

    def reaction(self, reaction_id: str) -> TruthReaction:
        with self._lock:
            return self._reactions[reaction_id]

    def delivered(self) -> list[TruthReaction]:
        return [r for r in self.reactions if r.delivered]

    def for_contact(self, message_id: str) -> list[TruthReaction]:
        return [r for r in self.reactions if r.contact_message_id == message_id]

    def refusing_services(self) -> set[str]:
        return {refusal.service for refusal in self.refusals}


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
            f"unmatched {self.unmatched})"
        )
        lines.append(
            f"expected-element accuracy: {pct(self.element_accuracy)} "
            f"of {self.elements_compared} element checks"
        )
        lines.extend(f"  {difference}" for difference in self.contact_differences)
        return lines


def _second(value: datetime | None) -> datetime | None:
    return None if value is None else _utc(value).replace(microsecond=0)


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
        bounced = any(r.kind == "bounce" and r.delivered for r in own)
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
    for reaction in delivered:
        message_id = cast(str, reaction.reaction_message_id)
        got = seen_messages.get(message_id)
        kind = got.kind if got is not None else MISSING
        pairs.append((reaction.kind, kind))
        if kind != reaction.kind:
            misclassified.append(MessageDifference(message_id, reaction.kind, kind))
        matched = got.matched_contact if got is not None else None
        if matched is not None and matched == reaction.contact_message_id:
            right += 1
        else:
            if matched is None:
                unmatched += 1
            else:
                wrong += 1
            mismatched.append(MessageDifference(message_id, reaction.contact_message_id, matched))
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
        ("first_ack_at", _second(ack), _second(seen.first_ack_at)),
        ("first_answer_at", _second(answer), _second(seen.first_answer_at)),
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


# -- sends: the provider's sink against what the dispatcher recorded --------------------------


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
            if _second(first) != _second(recorded):
                differences.append(
                    SendDifference(send.contact, fact, _second(first), _second(recorded))
                )
    claimed_ids = {message_id for message_id, _ in claimed}
    unclaimed = tuple(
        sorted({a.message_id or "" for a in truth.acceptances if a.message_id not in claimed_ids})
    )
    return SendComparison(sends_compared, followups_compared, tuple(differences), unclaimed)


# -- field tasks: the auditors' truth against the bot's records ------------------------------


@dataclass(frozen=True)
class MeasuredField:
    """A call, visit or letter as the bot recorded it."""

    contact_id: int
    channel: str
    status: str
    events: tuple[tuple[str, datetime], ...] = ()
    answers: Mapping[str, Any] = field(default_factory=dict)
    first_answer_at: datetime | None = None


@dataclass(frozen=True)
class FieldDifference:
    """``fact``: ``event[i]`` (kind and instant), ``events`` (how many), ``first_answer_at``,
    ``status``, ``answer:<question>``, ``re_asked`` or ``presence``."""

    contact_id: int
    fact: str
    expected: Any
    measured: Any

    @property
    def timing(self) -> bool:
        return self.fact.startswith("event") or self.fact in ("first_answer_at", "presence")

    def __str__(self) -> str:
        return (
            f"contact {self.contact_id}: {self.fact} expected {self.expected!r}, measured "
            f"{self.measured!r}"
        )


@dataclass(frozen=True)
class FieldComparison:
    tasks_compared: int
    events_compared: int
    answers_compared: int
    answers_equal: int
    wrong_inputs: int
    re_asked: int
    differences: tuple[FieldDifference, ...]

    @property
    def timing_differences(self) -> tuple[FieldDifference, ...]:
        return tuple(d for d in self.differences if d.timing)

    @property
    def answer_accuracy(self) -> float | None:
        return self.answers_equal / self.answers_compared if self.answers_compared else None


_LETTER_REPLY = "letter.reply_received"


def _same_answer(expected: Any, measured: Any) -> bool:
    if expected == PHOTO:
        return isinstance(measured, str) or (isinstance(measured, dict) and "photo" in measured)
    return bool(type(expected) is type(measured) and expected == measured)


def compare_field(truth: Truth, measured: Iterable[MeasuredField]) -> FieldComparison:
    """Every timed press to the second, every grid answer for equality, every task's status."""
    seen = {m.contact_id: m for m in measured}
    differences: list[FieldDifference] = []
    events_compared = answers_compared = answers_equal = wrong = re_asked = 0
    records = sorted(truth.fields, key=lambda r: r.contact_id)
    for record in records:
        got = seen.get(record.contact_id)
        if got is None:
            differences.append(FieldDifference(record.contact_id, "presence", True, False))
            continue
        wrong += record.wrong_inputs
        re_asked += record.re_asked
        if record.re_asked != record.wrong_inputs:
            differences.append(
                FieldDifference(record.contact_id, "re_asked", record.wrong_inputs, record.re_asked)
            )
        if len(record.events) != len(got.events):
            differences.append(
                FieldDifference(record.contact_id, "events", len(record.events), len(got.events))
            )
        for index, (expected, found) in enumerate(zip(record.events, got.events, strict=False)):
            events_compared += 1
            want = (expected[0], _second(expected[1]))
            have = (found[0], _second(found[1]))
            if want != have:
                differences.append(
                    FieldDifference(record.contact_id, f"event[{index}]", want, have)
                )
        for question in sorted(set(record.answers) | set(got.answers)):
            answers_compared += 1
            expected_value = record.answers.get(question)
            found_value = got.answers.get(question)
            if (
                question in record.answers
                and question in got.answers
                and _same_answer(expected_value, found_value)
            ):
                answers_equal += 1
            else:
                differences.append(
                    FieldDifference(
                        record.contact_id, f"answer:{question}", expected_value, found_value
                    )
                )
        if record.channel == "letter":
            replied = [at for kind, at in record.events if kind == _LETTER_REPLY]
            expected_answer = _second(replied[0]) if replied else None
            if expected_answer != _second(got.first_answer_at):
                differences.append(
                    FieldDifference(
                        record.contact_id,
                        "first_answer_at",
                        expected_answer,
                        _second(got.first_answer_at),
                    )
                )
            expected_status = "answered" if replied else "posted"
        else:
            expected_status = "done"
        if record.done and got.status != expected_status:
            differences.append(
                FieldDifference(record.contact_id, "status", expected_status, got.status)
            )
    known = {r.contact_id for r in records}
    for contact_id, got in sorted(seen.items()):
        if contact_id not in known and got.events:
            differences.append(FieldDifference(contact_id, "presence", False, True))
    return FieldComparison(
        tasks_compared=len(records),
        events_compared=events_compared,
        answers_compared=answers_compared,
        answers_equal=answers_equal,
        wrong_inputs=wrong,
        re_asked=re_asked,
        differences=tuple(differences),
    )
