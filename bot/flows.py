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
            with the explanation of ``validate_answer``; a duration the buttons measured
            is filled, not asked (summary --correct--> that question --> summary)
    letter: to post --post--> date --> posted --reply--> date --> photo --> answered
    fix:    a coordinator's « à corriger » --> the question re-asked --> answer replaced

Stages of the state row: idle, task, grid, summary, fix, letter_date, letter_photo.

This module holds the entry points the handlers call; the steps live by job in
``bot.field_flow`` (calls, visits), ``bot.grid_flow`` (the questions) and
``bot.letter_flow``; ``bot.flow_state`` has the types they share.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot import field_flow, grid_flow, letter_flow
from bot.callbacks import Op
from bot.flow_state import (
    FIX,
    GRID,
    IDLE,
    LETTER_DATE,
    LETTER_PHOTO,
    SUMMARY,
    TASK,
    Outcome,
    Snapshot,
    State,
    stale,
)
from bot.views import (
    Reply,
    rows,
    task_card,
)
from scenarios.domain import Channel, ContactStatus

__all__ = [
    "FIX",
    "GRID",
    "IDLE",
    "LETTER_DATE",
    "LETTER_PHOTO",
    "SUMMARY",
    "TASK",
    "Outcome",
    "Snapshot",
    "State",
    "location",
    "open_task",
    "photo_input",
    "press",
    "text_input",
]


def open_task(state: State, snap: Snapshot) -> Outcome:
    """Show a task (its card and the buttons of where it stands), or resume its grid."""
    task = snap.task
    new = State(TASK, task.id)
    if task.status == ContactStatus.DONE:
        return Outcome(new, [Reply(snap.t("bot.task.already_done"))])
    if task.channel != Channel.LETTER and (snap.answers or field_flow.field_done(snap)):
        return grid_flow.resume_grid(new, snap)
    card = task_card(snap.t, task, snap.scenario, snap.auditor_name, snap.tz)
    return Outcome(new, [Reply(card, rows(*field_flow.actions(snap)))])


def press(state: State, snap: Snapshot, action: Op | None, args: Sequence[str]) -> Outcome:
    """A button of this task (``bot.callbacks`` lists the codes and their arguments)."""
    match action:
        case Op.PHONE:
            return field_flow.phone(state, snap, args[0] if args else "")
        case Op.VISIT:
            return field_flow.visit(state, snap, args[0] if args else "")
        case Op.LETTER:
            return letter_flow.letter(state, snap, args[0] if args else "")
        case Op.ANSWER:
            return grid_flow.answer_button(state, snap, args)
        case Op.BACK:
            return grid_flow.back(state, snap)
        case Op.VALIDATE:
            return grid_flow.validate(state, snap)
        case Op.FIX:
            return grid_flow.start_fix(state, snap, args)
        case Op.MEASURED:
            return grid_flow.correct_measured(state, snap, args)
    return stale(state, snap.t)


def text_input(state: State, snap: Snapshot, text: str) -> Outcome:
    """Typed text for the current step: an answer, a letter date."""
    if state.stage == LETTER_DATE:
        return letter_flow.letter_date(state, snap, text)
    return grid_flow.typed(state, snap, text)


def photo_input(state: State, snap: Snapshot, sha256: str) -> Outcome:
    """A stored photo (metadata already stripped) for the current step."""
    if state.stage == LETTER_PHOTO and state.contact_id == snap.task.id:
        return letter_flow.reply_received(state, snap, sha256)
    return grid_flow.photo(state, snap, sha256)


location = field_flow.location  # a shared position (visits only)
