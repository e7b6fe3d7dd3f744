"""The truth's records: what the simulators really did, one frozen dataclass per kind of fact.

    TruthReaction   a decided reaction to one request (kind ``none``: the request gets nothing),
                    completed by its delivery (INTERNALDATE kept, mailbox, UIDVALIDITY, UID)
    Refusal         a request refused at RCPT by a dead address (no message, no Message-ID)
    Acceptance      a message the personas' provider accepted (the 250 after DATA)
    FieldRecord     what a simulated auditor did on one call, visit or letter

Each has its JSON form (``to_json``/``from_json``) for the journal (journal.py). Every time is an
aware UTC datetime: a naive one is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sim.decisions import ReactionKind

TRUTH_VERSION = 1
REACTION_KINDS: tuple[str, ...] = (
    "answer",
    "acknowledgement",
    "out_of_office",
    "bounce",
    "redirect",
    "other",
    "none",
)
# Mail that answers no request (a newsletter, a notification, spam, a success report): the
# request it follows only made it come; the tracker must leave it unmatched.
ANSWERS_NOTHING = frozenset({"other"})


def utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime refused: {value!r}")
    return value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    return None if value is None else utc(value).isoformat()


def parse_time(value: Any) -> datetime | None:
    return None if value is None else utc(datetime.fromisoformat(str(value)))


def to_second(value: datetime | None) -> datetime | None:
    """``value`` in UTC without its fraction: timings are compared to the second."""
    return None if value is None else utc(value).replace(microsecond=0)


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
    other_agent: bool = False  # another agent wrote it (from their address, or a ticket system)
    included: tuple[str, ...] = ()
    omitted: tuple[str, ...] = ()
    mailbox: str | None = None  # INBOX or Junk
    mailbox_user: str | None = None  # the Dovecot user the reaction goes to
    bounce_mode: str | None = None  # a bounce: "dsn" (undeliverable), "delayed" (a warning)
    form: str | None = None  # how it was written: the writer's form (sim/town_halls/compose.py)
    delivered_at: datetime | None = None  # the INTERNALDATE given to Dovecot
    uidvalidity: int | None = None
    uid: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in REACTION_KINDS:
            raise ValueError(f"unknown reaction kind {self.kind!r}")

    @property
    def delivered(self) -> bool:
        return self.delivered_at is not None

    @property
    def expected_match(self) -> str | None:
        """The request the tracker should tie this message to (None: it answers nothing)."""
        return None if self.kind in ANSWERS_NOTHING else self.contact_message_id

    @property
    def undeliverable(self) -> bool:
        """A bounce that makes its request undeliverable (a delay warning does not)."""
        return self.kind == "bounce" and self.bounce_mode != "delayed"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("received_at", "planned_at", "delivered_at"):
            data[key] = iso(data[key])
        data["included"] = list(self.included)
        data["omitted"] = list(self.omitted)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TruthReaction:
        values = dict(data)
        for key in ("received_at", "planned_at", "delivered_at"):
            values[key] = parse_time(values.get(key))
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
            "at": iso(self.at),
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
            "events": [[kind, iso(at)] for kind, at in self.events],
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
                (str(kind), cast(datetime, parse_time(at))) for kind, at in data["events"]
            ),
            answers=dict(data.get("answers") or {}),
            wrong_inputs=int(data.get("wrong_inputs", 0)),
            re_asked=int(data.get("re_asked", 0)),
            done=bool(data.get("done", False)),
        )


PHOTO = "<photo>"  # a photo answer in the truth: the stored reference is not known in advance
