"""Letters: the day a letter was posted, the day its reply came, and a photo of the reply."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bot import callbacks as cb
from bot.callbacks import Op
from bot.flow_state import (
    IDLE,
    LETTER_DATE,
    LETTER_PHOTO,
    NewEvent,
    Outcome,
    Snapshot,
    State,
    StatusChange,
    stale,
)
from bot.views import (
    Button,
    Reply,
    format_date,
    rows,
    tasks_button,
)
from scenarios import events as ev
from scenarios.domain import Channel, ContactStatus
from scenarios.service_kinds import fold


def letter(state: State, snap: Snapshot, move: str) -> Outcome:
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
        return reply_received(state, snap, None)
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


def letter_date(state: State, snap: Snapshot, text: str) -> Outcome:
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


def reply_received(state: State, snap: Snapshot, sha256: str | None) -> Outcome:
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
