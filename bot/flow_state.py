"""The pieces every flow shares: the state row's stages, ``State``, the ``Snapshot`` a flow
reads and the ``Outcome`` it returns (``bot.flows`` says how they fit together)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.views import (
    Reply,
)
from scenarios.catalog import Scenario
from scenarios.grid import (
    AnswerValue,
    Question,
)
from scenarios.i18n import Translator
from storage.bot import AnswerRow, EventRow, TaskRow

IDLE = "idle"
TASK = "task"
GRID = "grid"
SUMMARY = "summary"
FIX = "fix"
LETTER_DATE = "letter_date"
LETTER_PHOTO = "letter_photo"


@dataclass
class State:
    stage: str = IDLE
    contact_id: int | None = None
    question_id: str | None = None
    attempt: int = 0
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Snapshot:
    """What one update about one task needs, loaded in the handler's transaction."""

    auditor_id: int
    auditor_name: str
    task: TaskRow
    scenario: Scenario | None
    answers: Mapping[str, AnswerRow]
    events: Sequence[EventRow]
    now: datetime  # when it happened: the message's date, or the server's time for a press
    t: Translator
    tz: ZoneInfo
    flag_metres: float = 300.0

    @property
    def grid(self) -> tuple[Question, ...]:
        return self.scenario.grid if self.scenario is not None else ()

    def values(self) -> dict[str, AnswerValue]:
        return {qid: row.value for qid, row in self.answers.items()}


@dataclass(frozen=True, slots=True)
class NewEvent:
    kind: str
    at: datetime
    detail: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class NewAnswer:
    question_id: str
    value: AnswerValue
    photo_sha256: str | None = None
    review_state: str | None = None


@dataclass(frozen=True, slots=True)
class StatusChange:
    status: str
    first_answer_at: datetime | None = None
    closed: bool = False


@dataclass
class Outcome:
    state: State
    replies: list[Reply] = field(default_factory=list)
    events: list[NewEvent] = field(default_factory=list)
    answers: list[NewAnswer] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    status: StatusChange | None = None
    event_updates: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    toast: str | None = None


def stale(state: State, t: Translator) -> Outcome:
    return Outcome(state, toast=t("bot.stale"))


def new_event(snap: Snapshot, kind: str, **detail: Any) -> NewEvent:
    return NewEvent(kind, snap.now, detail or None)


def with_events(snap: Snapshot, *events: NewEvent) -> Snapshot:
    """The snapshot as it will be once ``events`` are written (to show the next buttons)."""
    added = [EventRow(0, e.kind, e.at, e.detail or {}) for e in events]
    return replace(snap, events=[*snap.events, *added])
