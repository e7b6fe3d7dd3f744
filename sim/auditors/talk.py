"""Talking to the bot as a person does: press a button or send something, wait for the answers.

    talk.press(run, label)      a button of the bot's latest keyboard (by label, else callback
                                data) --> the callback answer, then every message that follows
    talk.send(run, send)        a text, command, photo or position --> at least one message back
    talk.timed(run, label, kind, at)   a button that times something: the clock must be at
                                ``at``; the press and its instant go into the run's events
    talk.open(run)              « Mes tâches », then the task's own button

After each exchange ``settle`` lets the bot finish its work, then every message already there is
collected into ``run.last`` (what the auditor reads before the next step).
"""

from __future__ import annotations

import io
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from PIL import Image

from scenarios.clock import Clock
from scenarios.i18n import Translator
from sim.auditors.tasks import AuditorError, AuditorStats, Run
from sim.botapi import JSONDict

Settle = Callable[[], Awaitable[None]]
_REPLY_TIMEOUT = 30.0  # real seconds the bot may take to answer one update


class Talk:
    """The simulated auditors' side of the conversation, with the clock they read."""

    def __init__(self, clock: Clock, t: Translator, settle: Settle, stats: AuditorStats) -> None:
        self.clock = clock
        self.t = t
        self.settle = settle
        self.stats = stats
        self.invalid_prefix = t("bot.grid.invalid", reason="")

    async def open(self, run: Run) -> None:
        """« Mes tâches », then the task's button (its card and buttons come back)."""
        listing = await self.send(run, lambda: run.user.send_text(self.t("bot.menu.tasks")))
        data = f"o:{run.task.contact_id}"
        holder = next((m for m in reversed(listing) if data in callback_data(m)), None)
        if holder is None:
            # « Mes tâches » lists at most ten upcoming tasks: the auditor, letter in hand,
            # asks for that task (the same callback the bot would have offered).
            self.stats.opened_without_button += 1
            target = next((m for m in reversed(listing) if "message_id" in m), None)
            if target is None:
                raise AuditorError(f"contact {run.task.contact_id}: no task list")
            message_id = int(target["message_id"])
            await self.press_with(run, lambda: run.user.press_data(data, message_id))
            return
        await self.press(run, data)

    async def timed(self, run: Run, label: str, kind: str, at: datetime) -> None:
        """A button that times something: pressed at ``at``, which the truth keeps."""
        if self.clock.now() != at:
            raise AuditorError(f"contact {run.task.contact_id}: {kind} due at {at}, "
                               f"clock at {self.clock.now()}")  # fmt: skip
        await self.press(run, label)
        run.events.append((kind, at))

    async def press(self, run: Run, button: str) -> list[JSONDict]:
        """A button of the bot's latest keyboard, by its label (else its callback data)."""
        return await self.press_with(run, lambda: run.user.press(button))

    async def press_with(self, run: Run, press: Callable[[], JSONDict]) -> list[JSONDict]:
        run.user.mark_read()
        try:
            press()
        except LookupError as exc:
            raise AuditorError(f"contact {run.task.contact_id}: {exc}") from exc
        await run.user.wait_for_callback_answer(timeout=_REPLY_TIMEOUT)
        return await self.collect(run)

    async def send(self, run: Run, send: Callable[[], JSONDict]) -> list[JSONDict]:
        """A message (text, command, photo, position): the bot answers with one at least."""
        run.user.mark_read()
        send()
        first = await run.user.wait_for_message(timeout=_REPLY_TIMEOUT)
        return await self.collect(run, [first])

    async def collect(self, run: Run, got: list[JSONDict] | None = None) -> list[JSONDict]:
        await self.settle()
        replies = list(got or [])
        while True:
            try:
                replies.append(await run.user.wait_for_message(timeout=0))
            except TimeoutError:
                break
        run.last = replies
        return replies


def callback_data(message: JSONDict) -> list[str]:
    markup = message.get("reply_markup") or {}
    rows = markup.get("inline_keyboard") or []
    return [str(b.get("callback_data", "")) for row in rows for b in row]


def texts(messages: Sequence[JSONDict]) -> list[str]:
    return [str(m.get("text", m.get("caption", "")))[:120] for m in messages]


def jpeg(rng: random.Random, width: int = 96, height: int = 72) -> bytes:
    """A small photo (a plain colour): what an auditor's phone would send, minus the view."""
    colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()
