"""The auditor's flows as pure functions: (state, snapshot, input) -> outcome.

A handler loads a ``Snapshot`` (the task, its grid, its stored answers and events) and the
user's ``State`` from the database, calls one function here, writes the ``Outcome`` (new
state, events, answers, status) in the same transaction and only then replies. Nothing is
kept in memory between updates, so a restart resumes at the same step.

Where a field task stands is read from its events, not from the state row, so an old button
pressed again is judged against what really happened::

    phone:  ready --start--> ringing --up--> live <--tr--> live --hold--> hold --res--> live
                              |  vm/na/busy (attempt recorded, task stays open) -> ready
                              live|hold --hang--> ended --> grid
            ready --grid--> grid      (the auditor gives up calling: the grid says so)
    visit:  ready --arr (or a shared location)--> arrived --srv--> served --left--> left --> grid
    grid:   question --answer--> next relevant question ... --> summary --ok--> done
            « Retour » goes to the previous relevant question; a wrong answer is re-asked
            with the explanation of ``validate_answer``.
    letter: to post --post--> date --> posted --reply--> date --> photo --> answered
    fix:    a coordinator's « à corriger » --> the question re-asked --> answer replaced

Stages of the state row: idle, task, grid, summary, fix, letter_date, letter_photo.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot import callbacks as cb
from bot.callbacks import Op
from bot.views import (
    Button,
    Reply,
    distance_metres,
    format_date,
    format_time,
    format_value,
    measures,
    rows,
    task_card,
    tasks_button,
)
from scenarios import events as ev
from scenarios.catalog import Scenario
from scenarios.domain import Channel, ContactStatus
from scenarios.grid import (
    AnswerValue,
    Invalid,
    Question,
    QuestionType,
    is_relevant,
    missing_required,
    next_question,
    prune_irrelevant,
    validate_answer,
)
from scenarios.i18n import Translator
from scenarios.service_kinds import fold
from storage.bot import AnswerRow, EventRow, TaskRow

IDLE = "idle"
TASK = "task"
GRID = "grid"
SUMMARY = "summary"
FIX = "fix"
LETTER_DATE = "letter_date"
LETTER_PHOTO = "letter_photo"

_SKIP_WORDS = frozenset({"-", "passer", "skip", "/passer"})
# Callback data is the client's to forge: indexes are ASCII digits, a few of them.
_ASCII_INT = re.compile(r"[0-9]{1,6}")


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


# --------------------------------------------------------------------------- phases


def phone_phase(events: Sequence[EventRow]) -> tuple[str, int]:
    """(phase, attempts so far) from the call events."""
    attempts = 0
    phase = "ready"
    for event in events:
        if event.kind == ev.CALL_STARTED:
            attempts += 1
            phase = "ringing"
        elif event.kind in (ev.CALL_PICKED_UP, ev.CALL_TRANSFERRED, ev.CALL_RESUMED):
            phase = "live"
        elif event.kind == ev.CALL_ON_HOLD:
            phase = "hold"
        elif event.kind in (ev.CALL_VOICEMAIL, ev.CALL_NO_ANSWER, ev.CALL_BUSY):
            phase = "ready"
        elif event.kind == ev.CALL_HUNG_UP:
            phase = "ended"
    return phase, attempts


def visit_phase(events: Sequence[EventRow]) -> str:
    phase = "ready"
    for event in events:
        phase = {
            ev.VISIT_ARRIVED: "arrived",
            ev.VISIT_SERVED: "served",
            ev.VISIT_LEFT: "left",
        }.get(event.kind, phase)
    return phase


def _actions(snap: Snapshot) -> list[Button]:
    """The buttons of the field task's current phase."""
    t, cid = snap.t, snap.task.id
    if snap.task.channel == Channel.PHONE:
        phase, attempts = phone_phase(snap.events)
        match phase:
            case "ready":
                buttons = [Button(t("bot.button.call_started"), cb.data(Op.PHONE, cid, "start"))]
                if attempts:
                    grid = cb.data(Op.PHONE, cid, "grid")
                    buttons.append(Button(t("bot.button.fill_grid"), grid))
                return buttons
            case "ringing":
                return [
                    Button(t("bot.button.picked_up"), cb.data(Op.PHONE, cid, "up")),
                    Button(t("bot.button.voicemail"), cb.data(Op.PHONE, cid, "vm")),
                    Button(t("bot.button.no_answer"), cb.data(Op.PHONE, cid, "na")),
                    Button(t("bot.button.busy"), cb.data(Op.PHONE, cid, "busy")),
                ]
            case "live":
                return [
                    Button(t("bot.button.transferred"), cb.data(Op.PHONE, cid, "tr")),
                    Button(t("bot.button.on_hold"), cb.data(Op.PHONE, cid, "hold")),
                    Button(t("bot.button.hung_up"), cb.data(Op.PHONE, cid, "hang")),
                ]
            case "hold":
                return [
                    Button(t("bot.button.resumed"), cb.data(Op.PHONE, cid, "res")),
                    Button(t("bot.button.hung_up"), cb.data(Op.PHONE, cid, "hang")),
                ]
        return []
    if snap.task.channel == Channel.VISIT:
        match visit_phase(snap.events):
            case "ready":
                return [Button(t("bot.button.arrived"), cb.data(Op.VISIT, cid, "arr"))]
            case "arrived":
                return [Button(t("bot.button.served"), cb.data(Op.VISIT, cid, "srv"))]
            case "served":
                return [Button(t("bot.button.left"), cb.data(Op.VISIT, cid, "left"))]
        return []
    if snap.task.status in ("planned", "printed"):
        return [Button(t("bot.button.letter_posted"), cb.data(Op.LETTER, cid, "post"))]
    if snap.task.status in ("posted", "acknowledged"):
        return [Button(t("bot.button.reply_received"), cb.data(Op.LETTER, cid, "reply"))]
    return []


def _field_done(snap: Snapshot) -> bool:
    if snap.task.channel == Channel.PHONE:
        return phone_phase(snap.events)[0] == "ended"
    if snap.task.channel == Channel.VISIT:
        return visit_phase(snap.events) == "left"
    return False


# --------------------------------------------------------------------------- opening


def open_task(state: State, snap: Snapshot) -> Outcome:
    """Show a task (its card and the buttons of where it stands), or resume its grid."""
    task = snap.task
    new = State(TASK, task.id)
    if task.status == ContactStatus.DONE:
        return Outcome(new, [Reply(snap.t("bot.task.already_done"))])
    if task.channel != Channel.LETTER and (snap.answers or _field_done(snap)):
        return _resume_grid(new, snap)
    card = task_card(snap.t, task, snap.scenario, snap.auditor_name, snap.tz)
    return Outcome(new, [Reply(card, rows(*_actions(snap)))])


def _resume_grid(state: State, snap: Snapshot) -> Outcome:
    answers = prune_irrelevant(snap.grid, snap.values())
    for question in snap.grid:
        if is_relevant(question, answers) and question.id not in answers:
            return _ask(State(GRID, snap.task.id, question.id), snap, question, answers)
    return _summary(state, snap, answers)


# --------------------------------------------------------------------------- presses


def press(state: State, snap: Snapshot, action: Op | None, args: Sequence[str]) -> Outcome:
    """A button of this task (``bot.callbacks`` lists the codes and their arguments)."""
    match action:
        case Op.PHONE:
            return _phone(state, snap, args[0] if args else "")
        case Op.VISIT:
            return _visit(state, snap, args[0] if args else "")
        case Op.LETTER:
            return _letter(state, snap, args[0] if args else "")
        case Op.ANSWER:
            return _answer_button(state, snap, args)
        case Op.BACK:
            return _back(state, snap)
        case Op.VALIDATE:
            return _validate(state, snap)
        case Op.FIX:
            return _start_fix(state, snap, args)
    return stale(state, snap.t)


def _event(snap: Snapshot, kind: str, **detail: Any) -> NewEvent:
    return NewEvent(kind, snap.now, detail or None)


def _with(snap: Snapshot, *events: NewEvent) -> Snapshot:
    """The snapshot as it will be once ``events`` are written (to show the next buttons)."""
    added = [EventRow(0, e.kind, e.at, e.detail or {}) for e in events]
    return replace(snap, events=[*snap.events, *added])


_PHONE_MOVES: dict[str, tuple[tuple[str, ...], str]] = {
    "up": (("ringing",), ev.CALL_PICKED_UP),
    "vm": (("ringing",), ev.CALL_VOICEMAIL),
    "na": (("ringing",), ev.CALL_NO_ANSWER),
    "busy": (("ringing",), ev.CALL_BUSY),
    "tr": (("live",), ev.CALL_TRANSFERRED),
    "hold": (("live",), ev.CALL_ON_HOLD),
    "res": (("hold",), ev.CALL_RESUMED),
    "hang": (("live", "hold"), ev.CALL_HUNG_UP),
}


def _phone(state: State, snap: Snapshot, move: str) -> Outcome:
    t, task = snap.t, snap.task
    if task.channel != Channel.PHONE or task.status == ContactStatus.DONE:
        return stale(state, t)
    phase, attempts = phone_phase(snap.events)
    if move == "start" and phase == "ready":
        event = _event(snap, ev.CALL_STARTED, attempt=attempts + 1)
        after = _with(snap, event)
        text = t("bot.call.started", attempt=attempts + 1, time=_clock(snap))
        return Outcome(
            State(TASK, task.id, attempt=attempts + 1),
            [Reply(text, rows(*_actions(after)))],
            events=[event],
            status=StatusChange(ContactStatus.IN_PROGRESS.value),
        )
    if move == "grid" and phase == "ready" and attempts:
        return _resume_grid(State(GRID, task.id), snap)
    if move not in _PHONE_MOVES or phase not in _PHONE_MOVES[move][0]:
        return stale(state, t)
    kind = _PHONE_MOVES[move][1]
    event = _event(snap, kind, attempt=attempts)
    after = _with(snap, event)
    new = State(TASK, task.id, attempt=attempts)
    if kind in (ev.CALL_VOICEMAIL, ev.CALL_NO_ANSWER, ev.CALL_BUSY):
        said = t(f"bot.call.outcome.{move}")
        text = t("bot.call.unanswered", attempt=attempts, outcome=said)
        tasks = tasks_button(t)
        return Outcome(new, [Reply(text, rows(*_actions(after), tasks))], events=[event])
    if kind == ev.CALL_HUNG_UP:
        intro = Reply(t("bot.call.hung_up", time=_clock(snap)))
        outcome = _resume_grid(State(GRID, task.id), after)
        outcome.replies.insert(0, intro)
        outcome.events.insert(0, event)
        return outcome
    text = t(f"bot.call.{move}", time=_clock(snap))
    return Outcome(new, [Reply(text, rows(*_actions(after)))], events=[event])


_VISIT_MOVES = {"arr": ("ready", ev.VISIT_ARRIVED), "srv": ("arrived", ev.VISIT_SERVED),
                "left": ("served", ev.VISIT_LEFT)}  # fmt: skip


def _visit(state: State, snap: Snapshot, move: str) -> Outcome:
    t, task = snap.t, snap.task
    if task.channel != Channel.VISIT or task.status == ContactStatus.DONE:
        return stale(state, t)
    if move not in _VISIT_MOVES or visit_phase(snap.events) != _VISIT_MOVES[move][0]:
        return stale(state, t)
    event = _event(snap, _VISIT_MOVES[move][1])
    after = _with(snap, event)
    if move == "left":
        outcome = _resume_grid(State(GRID, task.id), after)
        outcome.replies.insert(0, Reply(t("bot.visit.left", time=_clock(snap))))
        outcome.events.insert(0, event)
        return outcome
    text = t(f"bot.visit.{move}", time=_clock(snap))
    status = StatusChange(ContactStatus.IN_PROGRESS.value) if move == "arr" else None
    return Outcome(
        State(TASK, task.id), [Reply(text, rows(*_actions(after)))], events=[event], status=status
    )


def location(state: State, snap: Snapshot, latitude: float, longitude: float) -> Outcome:
    """A shared position: the arrival itself (when not pressed yet) or its check."""
    t, task = snap.t, snap.task
    if task.channel != Channel.VISIT or task.status == ContactStatus.DONE:
        return Outcome(state, [Reply(t("bot.location.unexpected"))])
    detail: dict[str, Any] = {"location_shared": True}
    if task.latitude is not None and task.longitude is not None:
        metres = distance_metres(latitude, longitude, task.latitude, task.longitude)
        detail["distance_m"] = round(metres)
        detail["location_flag"] = metres > snap.flag_metres
    note = (
        t("bot.location.far", distance=detail["distance_m"])
        if detail.get("location_flag")
        else t("bot.location.ok")
    )
    phase = visit_phase(snap.events)
    if phase == "ready":
        event = NewEvent(ev.VISIT_ARRIVED, snap.now, detail)
        after = _with(snap, event)
        text = t("bot.visit.arr", time=_clock(snap)) + "\n" + note
        return Outcome(
            State(TASK, task.id),
            [Reply(text, rows(*_actions(after)))],
            events=[event],
            status=StatusChange(ContactStatus.IN_PROGRESS.value),
        )
    arrival = next((e for e in snap.events if e.kind == ev.VISIT_ARRIVED), None)
    if arrival is None or "location_shared" in arrival.detail:
        return Outcome(state, [Reply(t("bot.location.unexpected"))])
    return Outcome(
        state, [Reply(note, rows(*_actions(snap)))], event_updates=[(arrival.id, detail)]
    )


def _clock(snap: Snapshot) -> str:
    return format_time(snap.t, snap.now.astimezone(snap.tz))


# --------------------------------------------------------------------------- grid


def question_reply(snap: Snapshot, question: Question, answers: Mapping[str, AnswerValue],
                   *, fix_reason: str | None = None) -> Reply:  # fmt: skip
    t, cid = snap.t, snap.task.id
    index = _index(snap, question.id)
    relevant = [q for q in snap.grid if is_relevant(q, answers) or q.id == question.id]
    position = next(i for i, q in enumerate(relevant, 1) if q.id == question.id)
    lines = []
    if fix_reason is not None:
        lines.append(t("bot.fix.intro", reason=fix_reason))
    lines.append(t("bot.grid.question", number=position, total=len(relevant),
                   label=question.label))  # fmt: skip
    if question.hint:
        lines.append(t("bot.grid.hint", hint=question.hint))
    if question.id in snap.answers:
        current = format_value(t, question, snap.answers[question.id].value)
        lines.append(t("bot.grid.current", value=current))
    lines.append(t(f"bot.grid.expect.{question.type.value}"))
    buttons: list[Button] = []
    if question.type == QuestionType.YES_NO:
        buttons += [Button(t("common.yes"), cb.data(Op.ANSWER, cid, index, "y")),
                    Button(t("common.no"), cb.data(Op.ANSWER, cid, index, "n"))]  # fmt: skip
    elif question.type == QuestionType.CHOICE:
        buttons += [
            Button(choice.label, cb.data(Op.ANSWER, cid, index, i))
            for i, choice in enumerate(question.choices)
        ]
    if not question.required:
        buttons.append(Button(t("bot.button.skip"), cb.data(Op.ANSWER, cid, index, "s")))
    keyboard = list(rows(*buttons))
    if question.type == QuestionType.YES_NO:
        keyboard = [tuple(buttons[:2]), *rows(*buttons[2:])]
    if fix_reason is None and _previous(snap, question.id, answers) is not None:
        keyboard.append((Button(t("bot.button.back"), cb.data(Op.BACK, cid)),))
    return Reply("\n".join(lines), tuple(keyboard))


def _index(snap: Snapshot, question_id: str) -> int:
    return next(i for i, q in enumerate(snap.grid) if q.id == question_id)


def _ask(state: State, snap: Snapshot, question: Question,
         answers: Mapping[str, AnswerValue]) -> Outcome:  # fmt: skip
    return Outcome(state, [question_reply(snap, question, answers)])


def _previous(
    snap: Snapshot, question_id: str | None, answers: Mapping[str, AnswerValue]
) -> Question | None:
    """The last relevant question before ``question_id`` (before the end when None)."""
    before: Question | None = None
    for question in snap.grid:
        if question.id == question_id:
            break
        if is_relevant(question, answers) and question.id in answers:
            before = question
    return before


def _current(state: State, snap: Snapshot) -> Question | None:
    if state.contact_id != snap.task.id or state.question_id is None:
        return None
    if state.stage not in (GRID, FIX):
        return None
    return next((q for q in snap.grid if q.id == state.question_id), None)


def _answer_button(state: State, snap: Snapshot, args: Sequence[str]) -> Outcome:
    question = _current(state, snap)
    if question is None or len(args) != 2 or args[0] != str(_index(snap, question.id)):
        return stale(state, snap.t)
    choice = args[1]
    value: AnswerValue
    if choice == "s" and not question.required:
        value = None
    elif question.type == QuestionType.YES_NO and choice in ("y", "n"):
        value = choice == "y"
    elif (
        question.type == QuestionType.CHOICE
        and _ASCII_INT.fullmatch(choice) is not None
        and int(choice) < len(question.choices)
    ):
        value = question.choices[int(choice)].value
    else:
        return stale(state, snap.t)
    return _answered(state, snap, question, value)


def text_input(state: State, snap: Snapshot, text: str) -> Outcome:
    """Typed text for the current step: an answer, a letter date."""
    if state.stage == LETTER_DATE:
        return _letter_date(state, snap, text)
    question = _current(state, snap)
    if question is None:
        return Outcome(state, [Reply(snap.t("bot.text.unexpected"))])
    if question.type == QuestionType.PHOTO:
        if not question.required and fold(" ".join(text.split())) in _SKIP_WORDS:
            return _answered(state, snap, question, None)
        return _invalid(state, snap, question, snap.t("bot.grid.photo_expected"))
    checked = validate_answer(question, text)
    if isinstance(checked, Invalid):
        return _invalid(state, snap, question, checked.message)
    return _answered(state, snap, question, checked)


def photo_input(state: State, snap: Snapshot, sha256: str) -> Outcome:
    """A stored photo (metadata already stripped) for the current step."""
    if state.stage == LETTER_PHOTO and state.contact_id == snap.task.id:
        return _reply_received(state, snap, sha256)
    question = _current(state, snap)
    if question is None or question.type != QuestionType.PHOTO:
        return Outcome(state, [Reply(snap.t("bot.photo.unexpected"))])
    return _answered(state, snap, question, sha256, photo=sha256)


def _invalid(state: State, snap: Snapshot, question: Question, message: str) -> Outcome:
    answers = prune_irrelevant(snap.grid, snap.values())
    reason = Reply(snap.t("bot.grid.invalid", reason=message))
    fix = _fix_reason(snap, question) if state.stage == FIX else None
    return Outcome(state, [reason, question_reply(snap, question, answers, fix_reason=fix)])


def _fix_reason(snap: Snapshot, question: Question) -> str:
    row = snap.answers.get(question.id)
    return (row.review_note if row is not None else None) or ""


def _answered(
    state: State, snap: Snapshot, question: Question, value: AnswerValue, photo: str | None = None
) -> Outcome:
    t = snap.t
    if state.stage == FIX:
        previous = snap.answers[question.id].value if question.id in snap.answers else None
        event = _event(snap, ev.REVIEW_FIXED, question=question.id, previous=previous, value=value)
        text = t("bot.fix.done", label=question.label, value=format_value(t, question, value))
        return Outcome(
            State(IDLE),
            [Reply(text, rows(tasks_button(t)))],
            events=[event],
            answers=[NewAnswer(question.id, value, photo, review_state="fixed")],
        )
    values = snap.values()
    values[question.id] = value
    answers = prune_irrelevant(snap.grid, values)
    new_answer = NewAnswer(question.id, value, photo)
    after = replace(
        snap,
        answers={
            **snap.answers,
            question.id: AnswerRow(question.id, value, None, None, photo),
        },
    )
    following = next_question(snap.grid, answers, question.id)
    if following is None:
        outcome = _summary(State(SUMMARY, snap.task.id), after, answers)
    else:
        outcome = _ask(State(GRID, snap.task.id, following.id), after, following, answers)
    outcome.answers.append(new_answer)
    return outcome


def _summary(state: State, snap: Snapshot, answers: Mapping[str, AnswerValue]) -> Outcome:
    t, cid = snap.t, snap.task.id
    lines = [t("bot.summary.title")]
    for question in snap.grid:
        if question.id in answers and is_relevant(question, answers):
            value = format_value(t, question, answers[question.id])
            lines.append(t("bot.summary.line", label=question.label, value=value))
    found = measures(t, snap.task.channel, snap.events)
    if found:
        lines.append(t("bot.summary.measures"))
        lines.extend(f"• {line}" for line in found)
    lines.append(t("bot.summary.confirm"))
    keyboard = rows(Button(t("bot.button.validate"), cb.data(Op.VALIDATE, cid)),
                    Button(t("bot.button.back"), cb.data(Op.BACK, cid)))  # fmt: skip
    return Outcome(State(SUMMARY, cid), [Reply("\n".join(lines), keyboard)])


def _back(state: State, snap: Snapshot) -> Outcome:
    if state.contact_id != snap.task.id or state.stage not in (GRID, SUMMARY):
        return stale(state, snap.t)
    answers = prune_irrelevant(snap.grid, snap.values())
    current = state.question_id if state.stage == GRID else None
    previous = _previous(snap, current, answers)
    if previous is None:
        return stale(state, snap.t)
    return _ask(State(GRID, snap.task.id, previous.id), snap, previous, answers)


def _validate(state: State, snap: Snapshot) -> Outcome:
    t = snap.t
    if state.contact_id != snap.task.id or state.stage != SUMMARY:
        return stale(state, t)
    stored = snap.values()
    answers = prune_irrelevant(snap.grid, stored)
    missing = missing_required(snap.grid, answers)
    if missing:
        outcome = _ask(State(GRID, snap.task.id, missing[0].id), snap, missing[0], answers)
        outcome.replies.insert(0, Reply(t("bot.summary.missing")))
        return outcome
    return Outcome(
        State(IDLE),
        [Reply(t("bot.summary.done"), rows(tasks_button(t)))],
        deleted=sorted(set(stored) - set(answers)),
        status=StatusChange(ContactStatus.DONE.value, closed=True),
    )


def _start_fix(state: State, snap: Snapshot, args: Sequence[str]) -> Outcome:
    if not args or _ASCII_INT.fullmatch(args[0]) is None or int(args[0]) >= len(snap.grid):
        return stale(state, snap.t)
    question = snap.grid[int(args[0])]
    row = snap.answers.get(question.id)
    if row is None or row.review_state != "to_fix":
        return Outcome(state, [Reply(snap.t("bot.fix.nothing"))])
    answers = prune_irrelevant(snap.grid, snap.values())
    reply = question_reply(snap, question, answers, fix_reason=row.review_note or "")
    return Outcome(State(FIX, snap.task.id, question.id), [reply])


# --------------------------------------------------------------------------- letters


def _letter(state: State, snap: Snapshot, move: str) -> Outcome:
    t, task = snap.t, snap.task
    if task.channel != Channel.LETTER:
        return stale(state, t)
    cid = task.id
    if move in ("post", "reply"):
        allowed = ("planned", "printed") if move == "post" else ("posted", "acknowledged")
        if task.status not in allowed:
            return stale(state, t)
        what = "posted" if move == "post" else "reply"
        keyboard = rows(
            Button(t("bot.button.today"), cb.data(Op.LETTER, cid, "d0")),
            Button(t("bot.button.yesterday"), cb.data(Op.LETTER, cid, "d1")),
        )
        return Outcome(
            State(LETTER_DATE, cid, data={"what": what}),
            [Reply(t(f"bot.letter.ask_{what}"), keyboard)],
        )
    if move in ("d0", "d1"):
        if state.stage != LETTER_DATE or state.contact_id != cid:
            return stale(state, t)
        today = snap.now.astimezone(snap.tz).date()
        return _letter_dated(state, snap, today - timedelta(days=int(move[1])))
    if move == "nophoto":
        if state.stage != LETTER_PHOTO or state.contact_id != cid:
            return stale(state, t)
        return _reply_received(state, snap, None)
    return stale(state, t)


_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2}|\d{4}))?$")


def parse_day(text: str, today: date) -> date | None:
    """« 12/03/2026 », « 12/03 » (this year), « aujourd'hui », « hier »."""
    word = fold(text.strip()).replace("’", "'")
    if word in ("aujourd'hui", "aujourdhui", "today"):
        return today
    if word in ("hier", "yesterday"):
        return today - timedelta(days=1)
    match = _DATE.match(text.strip())
    if match is None:
        return None
    day, month, year = match.groups()
    full_year = today.year if year is None else int(year) + (2000 if len(year) == 2 else 0)
    try:
        return date(full_year, int(month), int(day))
    except ValueError:
        return None


def _letter_date(state: State, snap: Snapshot, text: str) -> Outcome:
    if state.contact_id != snap.task.id:
        return stale(state, snap.t)
    day = parse_day(text, snap.now.astimezone(snap.tz).date())
    if day is None:
        return Outcome(state, [Reply(snap.t("bot.letter.bad_date"))])
    return _letter_dated(state, snap, day)


def _letter_dated(state: State, snap: Snapshot, day: date) -> Outcome:
    t, task = snap.t, snap.task
    today = snap.now.astimezone(snap.tz).date()
    if day > today:
        return Outcome(state, [Reply(t("bot.letter.future"))])
    # Today: the instant of the press; another day: its noon, local time.
    at = snap.now if day == today else datetime.combine(day, time(12), snap.tz).astimezone(UTC)
    what = state.data.get("what")
    if what == "posted":
        event = NewEvent(ev.LETTER_POSTED, at, {"date": day.isoformat()})
        text = t("bot.letter.posted", date=format_date(t, day))
        return Outcome(
            State(IDLE),
            [Reply(text, rows(tasks_button(t)))],
            events=[event],
            status=StatusChange(ContactStatus.POSTED.value),
        )
    posted = next((e for e in snap.events if e.kind == ev.LETTER_POSTED), None)
    if posted is not None and day.isoformat() < str(posted.detail.get("date", "")):
        return Outcome(state, [Reply(t("bot.letter.before_posting"))])
    keyboard = rows(Button(t("bot.button.no_photo"), cb.data(Op.LETTER, task.id, "nophoto")))
    return Outcome(
        State(LETTER_PHOTO, task.id, data={"date": day.isoformat(), "at": at.isoformat()}),
        [Reply(t("bot.letter.ask_photo"), keyboard)],
    )


def _reply_received(state: State, snap: Snapshot, sha256: str | None) -> Outcome:
    t = snap.t
    day = date.fromisoformat(str(state.data["date"]))
    at = datetime.fromisoformat(str(state.data["at"]))
    detail: dict[str, Any] = {"date": day.isoformat()}
    if sha256 is not None:
        detail["photo"] = sha256
    text = t("bot.letter.reply_saved", date=format_date(t, day))
    return Outcome(
        State(IDLE),
        [Reply(text, rows(tasks_button(t)))],
        events=[NewEvent(ev.LETTER_REPLY_RECEIVED, at, detail)],
        status=StatusChange(ContactStatus.ANSWERED.value, first_answer_at=at),
    )
