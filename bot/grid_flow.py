"""The grid: each relevant question in turn, the summary, « Retour », validation, and the
correction of an answer a coordinator marked « à corriger ».

A question the buttons measured (``Question.measured``: the visit's wait, the exchange, the
call) is filled from the presses as the grid walks past it, never asked; the summary shows
it as measured with a button to correct it (``Op.MEASURED``: the question asked, then back
to the summary). « Question N/T » counts the questions that are or may still become
relevant, the measured ones left out, so its total never grows as answers come in."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from bot import callbacks as cb
from bot.callbacks import Op
from bot.flow_state import (
    FIX,
    GRID,
    IDLE,
    SUMMARY,
    NewAnswer,
    Outcome,
    Snapshot,
    State,
    StatusChange,
    new_event,
    stale,
)
from bot.measured import SUMMARY_KEY, measured_answer
from bot.views import (
    Button,
    Reply,
    format_value,
    label_value,
    measures,
    rows,
    tasks_button,
)
from scenarios import events as ev
from scenarios.domain import ContactStatus
from scenarios.grid import (
    AnswerValue,
    Invalid,
    Question,
    QuestionType,
    is_relevant,
    missing_required,
    next_question,
    possibly_relevant,
    prune_irrelevant,
    validate_answer,
)
from scenarios.service_kinds import fold
from storage.bot import AnswerRow

_SKIP_WORDS = frozenset({"-", "passer", "skip", "/passer"})
# Callback data is the client's to forge: indexes are ASCII digits, a few of them.
_ASCII_INT = re.compile(r"[0-9]{1,6}")


def resume_grid(state: State, snap: Snapshot) -> Outcome:
    """The first relevant question without an answer, else the summary."""
    return _forward(snap, prune_irrelevant(snap.grid, snap.values()), None, unanswered=True)


def _filled(question: Question, snap: Snapshot, answers: Mapping[str, AnswerValue]) -> bool:
    """A measured question already answered, or that the presses answer: never asked."""
    if question.measured is None:
        return False
    return question.id in answers or measured_answer(question, snap.events) is not None


def _forward(
    snap: Snapshot, answers: Mapping[str, AnswerValue], after: str | None, *, unanswered: bool
) -> Outcome:
    """The next relevant question after ``after`` to ask (only those without an answer when
    ``unanswered``), else the summary; measured questions on the way are filled, not asked."""
    values = dict(answers)
    filled: list[NewAnswer] = []
    current = after
    while (question := next_question(snap.grid, values, current)) is not None:
        current = question.id
        if question.measured is not None and question.id not in values:
            seconds = measured_answer(question, snap.events)
            if seconds is not None:
                values[question.id] = seconds
                filled.append(NewAnswer(question.id, seconds))
                continue
        elif question.measured is not None:
            continue  # measured (or corrected) already
        if unanswered and question.id in values:
            continue
        seen = _with_answers(snap, filled)
        outcome = ask(State(GRID, snap.task.id, question.id), seen, question, values)
        outcome.answers[:0] = filled
        return outcome
    outcome = summary(State(SUMMARY, snap.task.id), _with_answers(snap, filled), values)
    outcome.answers[:0] = filled
    return outcome


def _with_answers(snap: Snapshot, added: Sequence[NewAnswer]) -> Snapshot:
    if not added:
        return snap
    rows_ = {a.question_id: AnswerRow(a.question_id, a.value, None, None, a.photo_sha256)
             for a in added}  # fmt: skip
    return replace(snap, answers={**snap.answers, **rows_})


def question_reply(snap: Snapshot, question: Question, answers: Mapping[str, AnswerValue],
                   *, fix_reason: str | None = None, back: bool = True) -> Reply:  # fmt: skip
    t, cid = snap.t, snap.task.id
    index = _index(snap, question.id)
    lines = []
    if fix_reason is not None:
        lines.append(t("bot.fix.intro", reason=fix_reason))
    if _filled(question, snap, answers):  # a measured duration, asked to be corrected
        lines.append(t("bot.grid.measured", label=question.label))
    else:
        counted = [q for q in snap.grid if (possibly_relevant(q, answers)
                   and not _filled(q, snap, answers)) or q.id == question.id]  # fmt: skip
        position = next(i for i, q in enumerate(counted, 1) if q.id == question.id)
        lines.append(t("bot.grid.question", number=position, total=len(counted),
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
    if back and fix_reason is None and _previous(snap, question.id, answers) is not None:
        keyboard.append((Button(t("bot.button.back"), cb.data(Op.BACK, cid)),))
    return Reply("\n".join(lines), tuple(keyboard))


def _index(snap: Snapshot, question_id: str) -> int:
    return next(i for i, q in enumerate(snap.grid) if q.id == question_id)


def ask(state: State, snap: Snapshot, question: Question,
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


def current(state: State, snap: Snapshot) -> Question | None:
    if state.contact_id != snap.task.id or state.question_id is None:
        return None
    if state.stage not in (GRID, FIX):
        return None
    return next((q for q in snap.grid if q.id == state.question_id), None)


def answer_button(state: State, snap: Snapshot, args: Sequence[str]) -> Outcome:
    question = current(state, snap)
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
    return answered(state, snap, question, value)


def invalid(state: State, snap: Snapshot, question: Question, message: str) -> Outcome:
    answers = prune_irrelevant(snap.grid, snap.values())
    reason = Reply(snap.t("bot.grid.invalid", reason=message))
    fix = _fix_reason(snap, question) if state.stage == FIX else None
    back = not state.data.get("correcting")
    reply = question_reply(snap, question, answers, fix_reason=fix, back=back)
    return Outcome(state, [reason, reply])


def _fix_reason(snap: Snapshot, question: Question) -> str:
    row = snap.answers.get(question.id)
    return (row.review_note if row is not None else None) or ""


def answered(
    state: State, snap: Snapshot, question: Question, value: AnswerValue, photo: str | None = None
) -> Outcome:
    t = snap.t
    if state.stage == FIX:
        previous = snap.answers[question.id].value if question.id in snap.answers else None
        event = new_event(
            snap, ev.REVIEW_FIXED, question=question.id, previous=previous, value=value
        )
        pair = label_value(t, question.label, format_value(t, question, value))
        text = t("bot.fix.done", pair=pair)
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
    if state.data.get("correcting"):  # a measured duration corrected from the summary
        outcome = summary(State(SUMMARY, snap.task.id), after, answers)
    else:
        outcome = _forward(after, answers, question.id, unanswered=False)
    outcome.answers.append(new_answer)
    return outcome


def summary(state: State, snap: Snapshot, answers: Mapping[str, AnswerValue]) -> Outcome:
    t, cid = snap.t, snap.task.id
    lines = [t("bot.summary.title")]
    hidden: set[str] = set()  # the measures the grid's answers already say
    corrections: list[Button] = []
    for index, question in enumerate(snap.grid):
        if question.id not in answers or not is_relevant(question, answers):
            continue
        value = answers[question.id]
        pair = label_value(t, question.label, format_value(t, question, value))
        if question.measured is not None:
            hidden.add(SUMMARY_KEY[question.measured])
            said = "measured" if value == measured_answer(question, snap.events) else "line"
            lines.append(t(f"bot.summary.{said}", pair=pair))
            corrections.append(Button(t("bot.button.correct", label=question.label),
                                      cb.data(Op.MEASURED, cid, index)))  # fmt: skip
        else:
            lines.append(t("bot.summary.line", pair=pair))
    found = measures(t, snap.task.channel, snap.events, hide=hidden)
    if found:
        lines.append(t("bot.summary.measures"))
        lines.extend(f"• {line}" for line in found)
    lines.append(t("bot.summary.confirm"))
    keyboard = rows(Button(t("bot.button.validate"), cb.data(Op.VALIDATE, cid)),
                    *corrections, Button(t("bot.button.back"), cb.data(Op.BACK, cid)))  # fmt: skip
    return Outcome(State(SUMMARY, cid), [Reply("\n".join(lines), keyboard)])


def correct_measured(state: State, snap: Snapshot, args: Sequence[str]) -> Outcome:
    """« Corriger » beside a measured duration in the summary: that question, then back."""
    if state.contact_id != snap.task.id or state.stage != SUMMARY:
        return stale(state, snap.t)
    if not args or _ASCII_INT.fullmatch(args[0]) is None or int(args[0]) >= len(snap.grid):
        return stale(state, snap.t)
    question = snap.grid[int(args[0])]
    answers = prune_irrelevant(snap.grid, snap.values())
    if question.measured is None or question.id not in answers:
        return stale(state, snap.t)
    new = State(GRID, snap.task.id, question.id, data={"correcting": True})
    return Outcome(new, [question_reply(snap, question, answers, back=False)])


def back(state: State, snap: Snapshot) -> Outcome:
    if state.contact_id != snap.task.id or state.stage not in (GRID, SUMMARY):
        return stale(state, snap.t)
    answers = prune_irrelevant(snap.grid, snap.values())
    current = state.question_id if state.stage == GRID else None
    previous = _previous(snap, current, answers)
    if previous is None:
        return stale(state, snap.t)
    return ask(State(GRID, snap.task.id, previous.id), snap, previous, answers)


def validate(state: State, snap: Snapshot) -> Outcome:
    t = snap.t
    if state.contact_id != snap.task.id or state.stage != SUMMARY:
        return stale(state, t)
    stored = snap.values()
    answers = prune_irrelevant(snap.grid, stored)
    missing = missing_required(snap.grid, answers)
    if missing:
        outcome = ask(State(GRID, snap.task.id, missing[0].id), snap, missing[0], answers)
        outcome.replies.insert(0, Reply(t("bot.summary.missing")))
        return outcome
    return Outcome(
        State(IDLE),
        [Reply(t("bot.summary.done"), rows(tasks_button(t)))],
        deleted=sorted(set(stored) - set(answers)),
        status=StatusChange(ContactStatus.DONE.value, closed=True),
    )


def start_fix(state: State, snap: Snapshot, args: Sequence[str]) -> Outcome:
    if not args or _ASCII_INT.fullmatch(args[0]) is None or int(args[0]) >= len(snap.grid):
        return stale(state, snap.t)
    question = snap.grid[int(args[0])]
    row = snap.answers.get(question.id)
    if row is None or row.review_state != "to_fix":
        return Outcome(state, [Reply(snap.t("bot.fix.nothing"))])
    answers = prune_irrelevant(snap.grid, snap.values())
    reply = question_reply(snap, question, answers, fix_reason=row.review_note or "")
    return Outcome(State(FIX, snap.task.id, question.id), [reply])


def typed(state: State, snap: Snapshot, text: str) -> Outcome:
    """Typed text as the answer to the current question."""
    question = current(state, snap)
    if question is None:
        return Outcome(state, [Reply(snap.t("bot.text.unexpected"))])
    if question.type == QuestionType.PHOTO:
        if not question.required and fold(" ".join(text.split())) in _SKIP_WORDS:
            return answered(state, snap, question, None)
        return invalid(state, snap, question, snap.t("bot.grid.photo_expected"))
    checked = validate_answer(question, text)
    if isinstance(checked, Invalid):
        return invalid(state, snap, question, checked.message)
    return answered(state, snap, question, checked)


def photo(state: State, snap: Snapshot, sha256: str) -> Outcome:
    """A stored photo as the answer to the current question."""
    question = current(state, snap)
    if question is None or question.type != QuestionType.PHOTO:
        return Outcome(state, [Reply(snap.t("bot.photo.unexpected"))])
    return answered(state, snap, question, sha256, photo=sha256)
