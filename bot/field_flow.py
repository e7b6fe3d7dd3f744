"""Field tasks: a phone call's steps and a visit's, as read from the task's events, and a
shared position checked against the service's address."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot import callbacks as cb
from bot.callbacks import Op
from bot.flow_state import (
    GRID,
    TASK,
    NewEvent,
    Outcome,
    Snapshot,
    State,
    StatusChange,
    new_event,
    stale,
    with_events,
)
from bot.grid_flow import resume_grid
from bot.views import (
    Button,
    Reply,
    distance_metres,
    format_time,
    rows,
    tasks_button,
)
from scenarios import events as ev
from scenarios.domain import Channel, ContactStatus

# --------------------------------------------------------------------------- phases
from storage.bot import EventRow


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


def actions(snap: Snapshot) -> list[Button]:
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


def field_done(snap: Snapshot) -> bool:
    if snap.task.channel == Channel.PHONE:
        return phone_phase(snap.events)[0] == "ended"
    if snap.task.channel == Channel.VISIT:
        return visit_phase(snap.events) == "left"
    return False


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


def phone(state: State, snap: Snapshot, move: str) -> Outcome:
    t, task = snap.t, snap.task
    if task.channel != Channel.PHONE or task.status == ContactStatus.DONE:
        return stale(state, t)
    phase, attempts = phone_phase(snap.events)
    if move == "start" and phase == "ready":
        event = new_event(snap, ev.CALL_STARTED, attempt=attempts + 1)
        after = with_events(snap, event)
        text = t("bot.call.started", attempt=attempts + 1, time=_clock(snap))
        return Outcome(
            State(TASK, task.id, attempt=attempts + 1),
            [Reply(text, rows(*actions(after)))],
            events=[event],
            status=StatusChange(ContactStatus.IN_PROGRESS.value),
        )
    if move == "grid" and phase == "ready" and attempts:
        return resume_grid(State(GRID, task.id), snap)
    if move not in _PHONE_MOVES or phase not in _PHONE_MOVES[move][0]:
        return stale(state, t)
    kind = _PHONE_MOVES[move][1]
    event = new_event(snap, kind, attempt=attempts)
    after = with_events(snap, event)
    new = State(TASK, task.id, attempt=attempts)
    if kind in (ev.CALL_VOICEMAIL, ev.CALL_NO_ANSWER, ev.CALL_BUSY):
        said = t(f"bot.call.outcome.{move}")
        text = t("bot.call.unanswered", attempt=attempts, outcome=said)
        tasks = tasks_button(t)
        return Outcome(new, [Reply(text, rows(*actions(after), tasks))], events=[event])
    if kind == ev.CALL_HUNG_UP:
        intro = Reply(t("bot.call.hung_up", time=_clock(snap)))
        outcome = resume_grid(State(GRID, task.id), after)
        outcome.replies.insert(0, intro)
        outcome.events.insert(0, event)
        return outcome
    text = t(f"bot.call.{move}", time=_clock(snap))
    return Outcome(new, [Reply(text, rows(*actions(after)))], events=[event])


_VISIT_MOVES = {"arr": ("ready", ev.VISIT_ARRIVED), "srv": ("arrived", ev.VISIT_SERVED),
                "left": ("served", ev.VISIT_LEFT)}  # fmt: skip


def visit(state: State, snap: Snapshot, move: str) -> Outcome:
    t, task = snap.t, snap.task
    if task.channel != Channel.VISIT or task.status == ContactStatus.DONE:
        return stale(state, t)
    if move not in _VISIT_MOVES or visit_phase(snap.events) != _VISIT_MOVES[move][0]:
        return stale(state, t)
    event = new_event(snap, _VISIT_MOVES[move][1])
    after = with_events(snap, event)
    if move == "left":
        outcome = resume_grid(State(GRID, task.id), after)
        outcome.replies.insert(0, Reply(t("bot.visit.left", time=_clock(snap))))
        outcome.events.insert(0, event)
        return outcome
    text = t(f"bot.visit.{move}", time=_clock(snap))
    status = StatusChange(ContactStatus.IN_PROGRESS.value) if move == "arr" else None
    return Outcome(
        State(TASK, task.id), [Reply(text, rows(*actions(after)))], events=[event], status=status
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
        after = with_events(snap, event)
        text = t("bot.visit.arr", time=_clock(snap)) + "\n" + note
        return Outcome(
            State(TASK, task.id),
            [Reply(text, rows(*actions(after)))],
            events=[event],
            status=StatusChange(ContactStatus.IN_PROGRESS.value),
        )
    arrival = next((e for e in snap.events if e.kind == ev.VISIT_ARRIVED), None)
    if arrival is None or "location_shared" in arrival.detail:
        return Outcome(state, [Reply(t("bot.location.unexpected"))])
    return Outcome(state, [Reply(note, rows(*actions(snap)))], event_updates=[(arrival.id, detail)])


def _clock(snap: Snapshot) -> str:
    return format_time(snap.t, snap.now.astimezone(snap.tz))
