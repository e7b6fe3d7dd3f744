"""Thin Telegram callbacks: the commands, the button presses and the messages.

Each one identifies the sender or refuses (``bot.runtime.as_auditor``), loads what it needs,
lets ``bot.flows`` decide, writes, then replies (``bot.runtime`` says how).

Times: a message carries its date (Telegram's server clock, set before it reaches us), used
as the event time. A callback query carries no date at all, so a button press is timed by
the bot's clock when its update reached us (``Turn.arrived``, stamped by ``bot.arrivals``
before any queue), not when a handler gets to it: under load that can be seconds later.

``/start CODE`` is the only thing a stranger can do, and wrong codes are limited per Telegram
user (``MAX_WRONG_CODES`` per ``WRONG_CODES_WINDOW``, counted in the database): only a
``/start CODE`` attempt gets a state row, for the count; rows of strangers whose window has
passed are deleted when another one is made, so 300 strangers no longer leave 300 rows.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
import urllib.parse
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot import callbacks as cb
from bot import flows
from bot.callbacks import Op
from bot.flows import Outcome, Snapshot, State
from bot.photos import (
    MAX_PIXELS,
    PhotoRefused,
    PhotoTooHeavy,
    PhotoTooLarge,
    download_capped,
    strip_metadata,
)
from bot.runtime import (
    MENU_KEYS,
    Runtime,
    Turn,
    as_auditor,
    for_auditors,
    identify,
    persist,
    refusal,
    runtime,
    send,
    snapshot,
    state_of,
    translator,
)
from bot.views import Button, Reply, rows, task_list, tasks_button
from scenarios.catalog import UnknownScenario
from scenarios.domain import Channel
from scenarios.i18n import Translator, pick_locale
from storage import auditors as auditor_repo
from storage import bot as repo
from storage.auditors import AuditorRow
from storage.models import BotState

log = logging.getLogger(__name__)

MAX_WRONG_CODES = 5
WRONG_CODES_WINDOW = timedelta(hours=1)


# --------------------------------------------------------------------------- commands


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/start`` (welcome back) or ``/start CODE`` (enrolment)."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    rt, t = runtime(context), translator(update)
    now = rt.clock.now()
    code = context.args[0] if context.args else ""
    async with rt.unit() as session:
        auditor, row = await identify(session, rt, user.id, now)
        if auditor is not None:
            replies = [Reply(t("bot.welcome_back", name=auditor.name), menu=True)]
        elif not code:
            replies = await refusal(session, rt, row, now, t)
        else:
            # Enrolment (rare) goes through the ORM row.
            stored = await session.get(BotState, user.id) if row.stored else None
            if stored is None:  # a stranger's first code: the count needs a row
                stored = await auditor_repo.stranger_state(
                    session, user.id, now, stale_before=now - WRONG_CODES_WINDOW
                )
                stored.refused_at = rt.refused.get(user.id)
            replies = await _enrol(session, stored, code, user.id, user.language_code, now, t)
    await send(context, user.id, replies, t)


async def _enrol(
    session: AsyncSession,
    row: BotState,
    code: str,
    user_id: int,
    language_code: str | None,
    now: datetime,
    t: Translator,
) -> list[Reply]:
    if row.failed_since is None or now - row.failed_since > WRONG_CODES_WINDOW:
        row.failed_codes, row.failed_since = 0, now
    if row.failed_codes >= MAX_WRONG_CODES:
        row.failed_codes += 1
        # Said once when the limit is reached; later attempts in the window get nothing.
        return [Reply(t("bot.enrol.too_many"))] if row.failed_codes == MAX_WRONG_CODES + 1 else []
    redeemed = await auditor_repo.redeem_invite(session, auditor_repo.hash_code(code), user_id, now)
    if redeemed.auditor is None:
        row.failed_codes += 1
        return [Reply(t(f"bot.enrol.{redeemed.reason}"))]
    auditor = redeemed.auditor
    auditor.language = pick_locale(language_code)
    row.auditor_id, row.failed_codes, row.refused_at = auditor.id, 0, None
    row.stage, row.contact_id, row.question_id, row.updated_at = flows.IDLE, None, None, now
    log.info("auditor %s enrolled", auditor.key)
    return [Reply(t("bot.enrol.welcome", name=auditor.name), menu=True)]


@for_auditors
async def tasks(turn: Turn) -> list[Reply]:
    """``/taches`` and the menu's « Mes tâches »."""
    return await _task_list(turn)


async def _task_list(turn: Turn) -> list[Reply]:
    rt, session, auditor = turn.rt, turn.session, turn.auditor
    found = await repo.open_tasks(session, auditor.id)
    fixes = await repo.open_fixes(session, auditor.id)
    today = turn.now.astimezone(rt.tz).date()
    return [task_list(turn.t, found, today, rt.tz, len(fixes), rt.titles)]


@for_auditors
async def progress(turn: Turn) -> list[Reply]:
    """``/avancement``: the coordinator's campaigns, per channel and status."""
    if turn.auditor.role != "coordinator":
        return [Reply(turn.t("bot.progress.not_coordinator"))]
    counts = await repo.coordinated_progress(turn.session, turn.auditor.id)
    return [Reply(progress_text(turn.t, counts))]


def progress_text(t: Translator, counts: list[tuple[str, str, str, int]]) -> str:
    if not counts:
        return t("bot.progress.none")
    lines = [t("bot.progress.title")]
    campaigns: dict[str, dict[str, dict[str, int]]] = {}
    for campaign, channel, status, count in counts:
        campaigns.setdefault(campaign, {}).setdefault(channel, {})[status] = count
    for campaign, channels in campaigns.items():
        total = sum(sum(v.values()) for v in channels.values())
        lines.append(t("bot.progress.campaign", campaign=campaign, total=total))
        for channel in (c.value for c in Channel):
            if channel not in channels:
                continue
            parts = ", ".join(
                t("bot.progress.count", status=t(f"bot.status.{status}"), count=count)
                for status, count in sorted(channels[channel].items())
            )
            lines.append(t("bot.progress.channel", channel=t(f"channel.{channel}"), parts=parts))
    return "\n".join(lines)


@for_auditors
async def help_command(turn: Turn) -> list[Reply]:
    return [Reply(turn.t("bot.help"), menu=True)]


@for_auditors
async def cancel(turn: Turn) -> list[Reply]:
    """``/annuler``: leave the current step; what was answered stays."""
    await persist(turn.session, turn.row, Outcome(State()), turn.auditor.id, None, turn.now)
    return [Reply(turn.t("bot.cancelled"), rows(tasks_button(turn.t)))]


# --------------------------------------------------------------------------- presses


@for_auditors
async def on_callback(turn: Turn) -> list[Reply]:
    """A button press, timed when it reached us (a callback query has no date)."""
    query = turn.update.callback_query
    if query is None:
        return []
    rt, session, auditor, t, now = turn.rt, turn.session, turn.auditor, turn.t, turn.arrived
    pressed = cb.parse(query.data)
    if pressed.op == Op.MENU:
        return await _task_list(turn)
    if pressed.op == Op.FIXES:
        return await _fix_list(session, rt, auditor, t)
    if pressed.contact_id is None:
        turn.toast = t("bot.stale")
        return []
    snap = await snapshot(session, rt, auditor, pressed.contact_id, now, t)
    if snap is None:
        turn.toast = t("bot.not_found")
        return []
    state = state_of(turn.row)
    if pressed.op == Op.OPEN:
        outcome = flows.open_task(state, snap)
    else:
        outcome = flows.press(state, snap, pressed.op, pressed.args)
    await persist(session, turn.row, outcome, auditor.id, snap.task.id, now)
    turn.toast = outcome.toast
    return outcome.replies


async def _fix_list(
    session: AsyncSession, rt: Runtime, auditor: AuditorRow, t: Translator
) -> list[Reply]:
    fixes = await repo.open_fixes(session, auditor.id)
    if not fixes:
        return [Reply(t("bot.fix.nothing"))]
    buttons: list[Button] = []
    lines = [t("bot.fix.list")]
    for contact_id, question_id, reason in fixes:
        task = await repo.owned_task(session, auditor.id, contact_id)
        if task is None:
            continue
        label, index = question_id, 0
        try:
            scenario = rt.catalog.get(task.scenario_id)
            index = next(i for i, q in enumerate(scenario.grid) if q.id == question_id)
            label = scenario.grid[index].label
        except (UnknownScenario, StopIteration):
            continue
        lines.append(t("bot.fix.item", service=task.service_name, label=label, reason=reason or ""))
        button_label = t("bot.button.fix", service=task.service_name)
        buttons.append(Button(button_label, cb.data(Op.FIX, contact_id, index)))
    return [Reply("\n".join(lines), rows(*buttons))]


# --------------------------------------------------------------------------- messages


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or message.text is None:
        return
    text = message.text.strip()
    for locale in ("fr", "en"):
        labels = [Translator(locale)(key) for key in MENU_KEYS]
        if text in labels:
            handler = (tasks, progress, help_command)[labels.index(text)]
            await handler(update, context)
            return
    await _with_task(update, context, lambda state, snap: flows.text_input(state, snap, text))


async def on_location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or message.location is None:
        return
    lat, lon = message.location.latitude, message.location.longitude
    await _with_task(update, context, lambda state, snap: flows.location(state, snap, lat, lon))


async def _with_task(
    update: Update, context: ContextTypes.DEFAULT_TYPE, step: Callable[[State, Snapshot], Outcome]
) -> None:
    """Apply ``step(state, snapshot)`` to the user's current task; time = message date."""
    message = update.effective_message
    if message is None:
        return

    async def apply(turn: Turn) -> list[Reply]:
        t, row, auditor, now = turn.t, turn.row, turn.auditor, turn.now
        if row.contact_id is None:
            return [Reply(t("bot.text.unexpected"), rows(tasks_button(t)))]
        snap = await snapshot(
            turn.session, turn.rt, auditor, row.contact_id, message.date or turn.arrived, t
        )
        if snap is None:
            await persist(turn.session, row, Outcome(State()), auditor.id, None, now)
            return [Reply(t("bot.not_found"))]
        outcome = step(state_of(row), snap)
        await persist(turn.session, row, outcome, auditor.id, snap.task.id, now)
        return outcome.replies

    await as_auditor(update, context, apply)


async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo (or an image sent as a file): checked, downloaded, stripped, stored."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    rt, t = runtime(context), translator(update)
    now = rt.clock.now()
    if message.photo:
        source: Any = message.photo[-1]
    elif message.document is not None and (message.document.mime_type or "").startswith("image/"):
        source = message.document
    else:
        return
    expected = False

    async def check(turn: Turn) -> list[Reply]:  # is a photo expected at all? (no download yet)
        nonlocal expected
        expected = turn.row.stage in (flows.GRID, flows.LETTER_PHOTO)
        return [] if expected else [Reply(t("bot.photo.unexpected"))]

    await as_auditor(update, context, check)
    if not expected:
        return
    too_big = Reply(t("bot.photo.too_big", mb=rt.photo_max_bytes // 10**6))
    if (source.file_size or 0) > rt.photo_max_bytes:
        await send(context, user.id, [too_big], t)
        return
    try:
        async with rt.photo_slots:  # a few photos decoded at once: each may take 150 MB
            found = await source.get_file()
            if (found.file_size or 0) > rt.photo_max_bytes:
                raise PhotoTooHeavy(f"getFile says {found.file_size} bytes")
            # Streamed with the limit: Telegram may say no size at all (file_size omitted).
            data = await download_capped(_file_url(found.file_path), rt.photo_max_bytes)
            clean = await asyncio.to_thread(strip_metadata, data)
    except PhotoTooHeavy:
        await send(context, user.id, [too_big], t)
        return
    except PhotoTooLarge:
        mp = MAX_PIXELS // 10**6
        await send(context, user.id, [Reply(t("bot.photo.too_many_pixels", mp=mp))], t)
        return
    except PhotoRefused:
        await send(context, user.id, [Reply(t("bot.photo.unreadable"))], t)
        return

    async with rt.unit() as session:
        sha = await repo.store_blob(session, clean, now)
        auditor, row = await identify(session, rt, user.id, now)
        if auditor is None or row.contact_id is None:
            replies = [Reply(t("bot.photo.unexpected"))]
        else:
            snap = await snapshot(session, rt, auditor, row.contact_id, message.date or now, t)
            if snap is None:
                replies = [Reply(t("bot.not_found"))]
            else:
                outcome = flows.photo_input(state_of(row), snap, sha)
                await persist(session, row, outcome, auditor.id, snap.task.id, now)
                replies = outcome.replies
    await send(context, user.id, replies, t)


def _file_url(file_path: str | None) -> str:
    """The download URL of a file (PTB puts the base file URL before Telegram's path)."""
    if not file_path or not file_path.startswith(("https://", "http://")):
        raise PhotoRefused("no downloadable file path")
    parts = urllib.parse.urlsplit(file_path)
    return urllib.parse.urlunsplit(parts._replace(path=urllib.parse.quote(parts.path)))


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Anything else (unknown command, sticker…): the refusal, or the help for auditors."""
    if update.effective_message is None:
        return
    await help_command(update, context)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The one error handler: log (never the message content), tell the auditor briefly."""
    error = context.error
    if isinstance(error, Forbidden):
        log.info("a user blocked the bot")
        return
    # The class and the stack only: an exception's text (a SQL error's parameters, say) may
    # quote what the auditor typed, and message contents are never logged.
    stack = "".join(traceback.format_tb(error.__traceback__)) if error is not None else ""
    log.error("update failed: %s\n%s", error.__class__.__name__, stack)
    if isinstance(update, Update) and update.effective_user is not None:
        t = translator(update)
        try:
            await context.bot.send_message(update.effective_user.id, t("bot.error"))
        except TelegramError:
            log.warning("could not tell the user about the failure")
