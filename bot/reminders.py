"""Scheduled messages: task reminders, the coordinators' digest, correction requests.

A JobQueue job calls ``send_due`` every minute. Which messages are due is decided from the
clock (``Runtime.clock``) and the database, never from the job's own schedule, so a bot that
restarts, or a test that sets the clock, gets the same answer:

    morning (``morning_hour`` local .. ``evening_hour``): today's tasks and the late ones
    evening (``evening_hour`` .. midnight): tomorrow's tasks
    digest  (``digest_hour`` .. midnight, coordinators): their campaigns' progress
    fix     (as soon as seen): a coordinator marked an answer « à corriger »

Each (auditor, slot, local day) is claimed in ``bot_reminder`` before it is sent: at most
once, even across restarts. A claim whose message finds nothing to say sends nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot import callbacks as cb
from bot.callbacks import Op
from bot.handlers import progress_text
from bot.runtime import Runtime, markup, runtime
from bot.views import Button, Reply, local, rows, task_label
from scenarios.catalog import UnknownScenario
from scenarios.i18n import Translator
from storage import bot as repo

log = logging.getLogger(__name__)


def due_slots(rt: Runtime, now: datetime) -> list[str]:
    """The slots whose local time window contains ``now``."""
    hour = local(now, rt.tz).hour
    slots = []
    if rt.morning_hour <= hour < max(rt.evening_hour, rt.morning_hour + 1):
        slots.append("morning")
    if hour >= rt.evening_hour:
        slots.append("evening")
    if hour >= rt.digest_hour:
        slots.append("digest")
    return slots


async def reminder_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The JobQueue callback."""
    await send_due(runtime(context), context.bot)


async def send_due(rt: Runtime, bot: Bot) -> int:
    """Send every reminder, digest and correction request due now; return how many."""
    now = rt.clock.now()
    today = local(now, rt.tz).date()
    sent = 0
    slots = due_slots(rt, now)
    async with rt.unit() as session:
        recipients = await repo.bound_auditors(session)
        claimed = await repo.claimed_reminders(session, today) if slots else set()
    for person in recipients:
        t = Translator(person.language)
        for slot in slots:
            if slot == "digest" and person.role != "coordinator":
                continue
            if (person.auditor_id, slot) in claimed:
                continue
            async with rt.unit() as session:
                if not await repo.claim_reminder(session, person.auditor_id, slot, today, now):
                    continue
                reply = await _compose(session, rt, person.auditor_id, slot, now, t)
            if reply is not None and await _deliver(bot, person.telegram_user_id, reply, t):
                sent += 1
    sent += await _send_fix_requests(rt, bot, now)
    return sent


async def _compose(
    session: AsyncSession, rt: Runtime, auditor_id: int, slot: str, now: datetime,
    t: Translator,
) -> Reply | None:  # fmt: skip
    if slot == "digest":
        counts = await repo.coordinated_progress(session, auditor_id)
        return Reply(t("bot.digest.title") + "\n" + progress_text(t, counts)) if counts else None
    today = local(now, rt.tz).date()
    tasks = await repo.open_tasks(session, auditor_id)
    if slot == "morning":
        chosen = [
            x for x in tasks
            if local(x.planned_at, rt.tz).date() <= today
            and not (x.channel == "letter" and x.status not in ("planned", "printed"))
        ]  # fmt: skip
        title = t("bot.remind.morning", count=len(chosen))
    else:
        tomorrow = today + timedelta(days=1)
        chosen = [x for x in tasks if local(x.planned_at, rt.tz).date() == tomorrow]
        title = t("bot.remind.evening", count=len(chosen))
    if not chosen:
        return None
    lines = [title, *(f"• {task_label(t, x, rt.tz, rt.titles)}" for x in chosen)]
    buttons = [
        Button(task_label(t, x, rt.tz, rt.titles), cb.data(Op.OPEN, x.id)) for x in chosen[:10]
    ]
    return Reply("\n".join(lines), rows(*buttons))


async def _send_fix_requests(rt: Runtime, bot: Bot, now: datetime) -> int:
    sent = 0
    async with rt.unit() as session:
        requests = await repo.pending_fix_requests(session)
    for request in requests:
        t = Translator(request.language)
        day = local(request.at, rt.tz).date()
        async with rt.unit() as session:
            slot = f"fix:{request.event_id}"
            if not await repo.claim_reminder(session, request.auditor_id, slot, day, now):
                continue
            task = await repo.owned_task(session, request.auditor_id, request.contact_id)
        if task is None:
            continue
        try:
            scenario = rt.catalog.get(task.scenario_id)
            index = next(i for i, q in enumerate(scenario.grid) if q.id == request.question_id)
        except (UnknownScenario, StopIteration):
            continue
        text = t(
            "bot.fix.request",
            service=task.service_name,
            label=scenario.grid[index].label,
            reason=request.reason,
        )
        button = Button(t("bot.button.fix", service=task.service_name), f"f:{task.id}:{index}")
        if await _deliver(bot, request.telegram_user_id, Reply(text, rows(button)), t):
            sent += 1
    return sent


async def _deliver(bot: Bot, chat_id: int, reply: Reply, t: Translator) -> bool:
    try:
        await bot.send_message(chat_id, reply.text, reply_markup=markup(reply, t))
    except Forbidden:
        log.info("reminder not delivered: the user blocked the bot")
        return False
    except TelegramError as exc:
        log.warning("reminder not delivered: %s", exc.__class__.__name__)
        return False
    return True
