"""What the auditor reads: tasks, questions, summaries, dates, all from the catalogue.

Pure functions of rows and a ``Translator``: no Telegram, no database, no clock read (the
instant to compare with is passed in). Buttons are described as ``Button`` (label, callback
data) and turned into Telegram keyboards by ``bot.handlers``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot import callbacks as cb
from bot.callbacks import Op
from scenarios import events as ev
from scenarios.catalog import Scenario
from scenarios.domain import Channel
from scenarios.grid import AnswerValue, Question, QuestionType, format_duration
from scenarios.i18n import Translator
from scenarios.opening_hours import END_OF_DAY, OpeningHoursError, parse_hours
from scenarios.render import CollectivityView, PersonaView, ServiceView, render_wording
from scenarios.service_kinds import known_codes
from storage.bot import EventRow, TaskRow


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: str


Keyboard = tuple[tuple[Button, ...], ...]
Titles = Mapping[str, str]  # scenario id -> its title


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to send; ``menu`` attaches the persistent menu (no inline buttons then)."""

    text: str
    buttons: Keyboard = ()
    menu: bool = False


def rows(*buttons: Button | None) -> Keyboard:
    """One button per row, the ``None`` ones left out."""
    return tuple((b,) for b in buttons if b is not None)


# --------------------------------------------------------------------------- dates


def local(at: datetime, tz: ZoneInfo) -> datetime:
    return at.astimezone(tz)


def format_date(t: Translator, day: date) -> str:
    weekday = t(f"weekday.{day.weekday()}")
    month = t(f"bot.month.{day.month}")
    return t("bot.date", weekday=weekday, day=day.day, month=month, year=day.year)


def format_time(t: Translator, at: datetime) -> str:
    return t("bot.time", hour=at.hour, minute=f"{at.minute:02d}")


def format_when(t: Translator, at: datetime, tz: ZoneInfo) -> str:
    moment = local(at, tz)
    return t("bot.when", date=format_date(t, moment.date()), time=format_time(t, moment))


def format_hours_text(t: Translator, text: str | None) -> str:
    """« lundi–vendredi 08:30–12:00, 13:30–17:30 » lines from the stored opening hours."""
    if not text:
        return t("bot.task.hours_unknown")
    try:
        hours = parse_hours(text)
    except OpeningHoursError:
        return text
    lines: list[str] = []
    day = 0
    while day < 7:
        intervals = hours.days[day]
        last = day
        while last + 1 < 7 and hours.days[last + 1] == intervals:
            last += 1
        if intervals:
            first_name = t(f"weekday.{day}")
            days = first_name if last == day else f"{first_name}–{t(f'weekday.{last}')}"
            ranges = ", ".join(
                f"{iv.start:%H:%M}–{'24:00' if iv.end == END_OF_DAY else f'{iv.end:%H:%M}'}"
                for iv in intervals
            )
            lines.append(f"{days} {ranges}")
        day = last + 1
    return "\n".join(lines) if lines else t("bot.task.hours_unknown")


# --------------------------------------------------------------------------- tasks


def channel_icon(channel: str) -> str:
    return {"phone": "☎️", "visit": "🏛", "letter": "✉️"}.get(channel, "•")


def task_label(t: Translator, task: TaskRow, tz: ZoneInfo, titles: Titles | None = None) -> str:
    """« ☎️ mercredi 4 mars, 14 h 00 — Accueil de la mairie, Riom — Appel pour … »: two
    tasks of one service are told apart by their day, time and scenario (a letter has no
    time of its own: its day only)."""
    moment = local(task.planned_at, tz)
    day = t("bot.task.day", weekday=t(f"weekday.{moment.weekday()}"), day=moment.day,
            month=t(f"bot.month.{moment.month}"))  # fmt: skip
    when = day
    if task.channel != Channel.LETTER:
        when = t("bot.task.day_time", day=day, time=format_time(t, moment))
    return t(
        "bot.task.button",
        icon=channel_icon(task.channel),
        when=when,
        service=task.service_name,
        city=task.city or task.collectivity_name,
        scenario=(titles or {}).get(task.scenario_id, task.scenario_id),
    )


def auditor_persona(name: str) -> PersonaView:
    """A neutral persona for scripts read by an auditor: their own name, no address."""
    parts = name.split(maxsplit=1)
    first = parts[0] if parts else name
    last = parts[1] if len(parts) > 1 else ""
    return PersonaView(
        display_name=name,
        first_name=first,
        last_name=last,
        email="",
        address="",
        postal_code="",
        city="",
    )


def script_of(scenario: Scenario, task: TaskRow, auditor_name: str) -> str:
    """The auditor's script: the contact's wording rendered for its service."""
    if not scenario.wordings:
        return ""
    wording = scenario.wordings[task.wording % len(scenario.wordings)]
    kind = task.service_kind
    city = task.city or task.collectivity_name
    if kind in known_codes():
        service = ServiceView.of_kind(task.service_name, kind, city)
    else:
        service = ServiceView(task.service_name, kind, kind, city)
    rendered = render_wording(
        wording,
        auditor_persona(auditor_name),
        service,
        CollectivityView(task.collectivity_name),
    )
    return rendered.body.strip()


def task_card(
    t: Translator,
    task: TaskRow,
    scenario: Scenario | None,
    auditor_name: str,
    tz: ZoneInfo,
) -> str:
    parts = [
        t(
            "bot.task.title",
            icon=channel_icon(task.channel),
            channel=t(f"channel.{task.channel}"),
            service=task.service_name,
            collectivity=task.collectivity_name,
        )
    ]
    if scenario is not None:
        parts.append(t("bot.task.scenario", title=scenario.title))
    if task.channel == Channel.PHONE:
        parts.append(t("bot.task.phone", phone=task.phone or t("bot.task.unknown")))
    else:
        address = ", ".join(
            p for p in (task.address, " ".join(filter(None, (task.postal_code, task.city)))) if p
        )
        parts.append(t("bot.task.address", address=address or t("bot.task.unknown")))
    if task.channel != Channel.LETTER:
        parts.append(t("bot.task.hours", hours=format_hours_text(t, task.opening_hours)))
    parts.append(
        t(
            "bot.task.due",
            when=format_when(t, task.planned_at, tz),
            end=format_date(t, task.campaign_end),
        )
    )
    if scenario is not None and task.channel != Channel.LETTER:
        parts.append(t("bot.task.script", script=script_of(scenario, task, auditor_name)))
    return "\n\n".join(parts)


def task_list(
    t: Translator,
    tasks: Sequence[TaskRow],
    today: date,
    tz: ZoneInfo,
    fixes: int,
    titles: Titles | None = None,
) -> Reply:
    """The auditor's tasks: late, today, upcoming (at most 10), letters awaiting a reply.

    Posted letters waiting for their reply are always listed, in a group of their own: they
    are neither late nor due, and cut off with the upcoming tasks they would leave the
    auditor no button for « Réponse reçue ».
    """
    if not tasks and not fixes:
        return Reply(t("bot.tasks.none"))
    awaiting = [x for x in tasks if _awaits_reply(x)]
    late = [x for x in tasks if x not in awaiting and _is_late(x, today, tz)]
    due_today = [
        x
        for x in tasks
        if x not in awaiting and x not in late and local(x.planned_at, tz).date() == today
    ]
    upcoming = [x for x in tasks if x not in awaiting and x not in late and x not in due_today]
    lines = [t("bot.tasks.title")]
    buttons: list[Button] = []
    # (key, shown, how many there are): the upcoming header counts them all, 10 are listed.
    groups = (("late", late, len(late)), ("today", due_today, len(due_today)),
              ("upcoming", upcoming[:10], len(upcoming)),
              ("awaiting", awaiting, len(awaiting)))  # fmt: skip
    for key, group, count in groups:
        if not group:
            continue
        lines.append(t(f"bot.tasks.{key}", count=count))
        for task in group:
            label = task_label(t, task, tz, titles)
            lines.append(f"• {label}")
            buttons.append(Button(label, cb.data(Op.OPEN, task.id)))
    if fixes:
        lines.append(t("bot.tasks.fixes", count=fixes))
        buttons.append(Button(t("bot.button.fixes"), cb.data(Op.FIXES)))
    return Reply("\n".join(lines), rows(*buttons))


def _awaits_reply(task: TaskRow) -> bool:
    return task.channel == Channel.LETTER and task.status not in ("planned", "printed")


def _is_late(task: TaskRow, today: date, tz: ZoneInfo) -> bool:
    if task.channel == Channel.LETTER and task.status not in ("planned", "printed"):
        return False  # waiting for a reply is not the auditor's delay
    return local(task.planned_at, tz).date() < today


# --------------------------------------------------------------------------- grid


def format_value(t: Translator, question: Question, value: AnswerValue) -> str:
    if value is None:
        return t("bot.grid.skipped")
    match question.type:
        case QuestionType.YES_NO:
            return t("common.yes") if value is True else t("common.no")
        case QuestionType.CHOICE:
            for choice in question.choices:
                if choice.value == value:
                    return choice.label
            return str(value)
        case QuestionType.DURATION:
            return format_duration(int(value))
        case QuestionType.PHOTO:
            return t("bot.grid.photo_received")
    return str(value)


def label_value(t: Translator, label: str, value: str) -> str:
    """« Label : valeur », or « Question ? valeur » when the label ends with its own mark
    (« … ascenseur) ? : Oui » doubled the punctuation)."""
    asked = label.rstrip().endswith(("?", "!", ":", "…"))
    return t("bot.pair_asked" if asked else "bot.pair", label=label.rstrip(), value=value)


def measures(
    t: Translator, channel: str, events: Sequence[EventRow], hide: Set[str] = frozenset()
) -> list[str]:
    """Timings measured from the button presses (the server's clock), for the summary;
    ``hide``: the keys (``wait``, ``service``, ``call``…) the grid's answers already say."""
    found = _measures(t, channel, events)
    return [line for key, line in found if key not in hide]


def _measures(t: Translator, channel: str, events: Sequence[EventRow]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if channel == Channel.PHONE:
        starts: dict[int, datetime] = {}
        for event in events:
            attempt = int(event.detail.get("attempt", 0))
            if event.kind == ev.CALL_STARTED:
                starts[attempt] = event.at
            elif event.kind == ev.CALL_PICKED_UP and attempt in starts:
                seconds = (event.at - starts[attempt]).total_seconds()
                found.append(("pickup", t("bot.measure.pickup", duration=format_duration(seconds))))
            elif event.kind == ev.CALL_HUNG_UP and attempt in starts:
                seconds = (event.at - starts[attempt]).total_seconds()
                found.append(("call", t("bot.measure.call", duration=format_duration(seconds))))
        hold = _paired_seconds(events, ev.CALL_ON_HOLD, ev.CALL_RESUMED)
        if hold:
            found.append(("hold", t("bot.measure.hold", duration=format_duration(hold))))
        transfers = sum(1 for e in events if e.kind == ev.CALL_TRANSFERRED)
        if transfers:
            found.append(("transfers", t("bot.measure.transfers", count=transfers)))
        attempts = len(starts)
        if attempts > 1:
            found.append(("attempts", t("bot.measure.attempts", count=attempts)))
    elif channel == Channel.VISIT:
        at = {e.kind: e.at for e in events}
        if ev.VISIT_ARRIVED in at and ev.VISIT_SERVED in at:
            wait = (at[ev.VISIT_SERVED] - at[ev.VISIT_ARRIVED]).total_seconds()
            found.append(("wait", t("bot.measure.wait", duration=format_duration(wait))))
        if ev.VISIT_SERVED in at and ev.VISIT_LEFT in at:
            served = (at[ev.VISIT_LEFT] - at[ev.VISIT_SERVED]).total_seconds()
            found.append(("service", t("bot.measure.service", duration=format_duration(served))))
    return found


def _paired_seconds(events: Sequence[EventRow], start: str, end: str) -> float:
    total = 0.0
    opened: datetime | None = None
    for event in events:
        if event.kind == start:
            opened = event.at
        elif event.kind == end and opened is not None:
            total += (event.at - opened).total_seconds()
            opened = None
    return total


def distance_metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def tasks_button(t: Translator) -> Button:
    """« Mes tâches »: back to the task list."""
    return Button(t("bot.button.tasks"), cb.data(Op.MENU))
