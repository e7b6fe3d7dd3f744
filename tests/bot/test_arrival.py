"""A button press is timed when its update reaches the bot, not when a handler gets to it.

The real bot (PTB's polling over HTTP to the local Bot API) with one extra handler in an
earlier group that holds a chosen update, as a slow handler or a busy bot would: the clock
moves on while it waits, and the stored times must still be those of the arrival.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy import update as sql_update
from telegram import Update
from telegram.ext import ContextTypes, TypeHandler

from bot.app import App, BotConfig, build_application
from bot.arrivals import ArrivalQueue, Arrivals
from scenarios import events as ev
from scenarios.clock import FixedClock
from sim.botapi import LocalBotApi
from storage.db import Database
from storage.models import Auditor
from tests.bot.support import NOW, Bot, enrol, events, next_with_buttons, seed


class Hold:
    """A handler run before the bot's own (group -1) that holds the updates ``chosen``
    selects until ``release`` is set; ``held`` is set once one is held."""

    def __init__(self, chosen: str) -> None:
        self.chosen = chosen
        self.held = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is not None and (query.data or "").endswith(self.chosen):
            self.held.set()
            await self.release.wait()

    def install(self, app: App | None) -> None:
        assert app is not None
        app.add_handler(TypeHandler(Update, self), group=-1)


async def test_a_held_press_keeps_the_time_it_arrived(
    api: LocalBotApi, database: Database, running: Bot
) -> None:
    world = await seed(database)
    cid = world.contacts["phone"]
    paul = await enrol(api, database, "paul", 6001)
    clock = running.clock
    hold = Hold(":up")
    hold.install(running.app)

    paul.press_data(f"o:{cid}", 1)
    await next_with_buttons(paul)
    paul.press("📞 Appel lancé")
    await next_with_buttons(paul)

    clock.advance(timedelta(seconds=25))
    picked_up_at = clock.now()
    paul.press("✅ Décroché")
    await asyncio.wait_for(hold.held.wait(), 10)  # arrived; its handling waits
    clock.advance(timedelta(minutes=5))  # the bot is slow: five minutes pass
    hold.release.set()
    assert "Décroché à 10 h 00" in (await next_with_buttons(paul))["text"]

    clock.advance(timedelta(seconds=40))
    hung_up_at = clock.now()
    paul.press("📴 Raccroché")  # not held: timed on arrival too, which is now
    await paul.wait_for_message()
    await running.idle()

    found = {kind: at for kind, at, _ in await events(database, cid)}
    assert found[ev.CALL_STARTED] == NOW
    assert found[ev.CALL_PICKED_UP] == picked_up_at  # not picked_up_at + 5 min
    assert found[ev.CALL_HUNG_UP] == hung_up_at


async def test_a_press_waiting_behind_the_same_users_slow_update_keeps_its_time(
    api: LocalBotApi, database: Database, running: Bot
) -> None:
    """A user's updates are handled one after the other: a press that arrives while the
    previous one is still being handled waits its turn, and keeps its arrival time."""
    world = await seed(database)
    cid = world.contacts["visit"]
    paul = await enrol(api, database, "paul", 6001)
    clock = running.clock
    hold = Hold(":arr")
    hold.install(running.app)

    paul.press_data(f"o:{cid}", 1)
    card = await next_with_buttons(paul)
    arrived_at = clock.now()
    paul.press("📍 Arrivé", message_id=card["message_id"])
    await asyncio.wait_for(hold.held.wait(), 10)
    clock.advance(timedelta(minutes=3))
    served_at = clock.now()
    # Pressed on the card: it names the contact, so the bot takes it; it waits behind the held
    # arrival (same user), is judged once the arrival is written, and keeps its own time.
    paul.press_data(f"v:{cid}:srv", card["message_id"])
    # Confirmed by the bot's next getUpdates: by then it has put the press in its queue.
    await api.wait_until(lambda: api.pending_update_count == 0, timeout=10)
    clock.advance(timedelta(minutes=7))
    hold.release.set()
    await running.idle()

    found = {kind: at for kind, at, _ in await events(database, cid)}
    assert found[ev.VISIT_ARRIVED] == arrived_at
    assert found[ev.VISIT_SERVED] == served_at  # not served_at + 7 min


def test_the_queue_stamps_updates_with_the_clock_and_forgets_the_oldest() -> None:
    clock = FixedClock(NOW)
    arrivals = Arrivals(clock, kept=2)
    queue = ArrivalQueue(arrivals)
    updates = [Update(update_id=i) for i in (1, 2, 3)]
    for update in updates:
        queue.put_nowait(update)
        clock.advance(timedelta(seconds=1))
    queue.put_nowait("not an update")  # PTB's queue may carry other objects: no stamp
    assert queue.qsize() == 4
    assert arrivals.of(updates[0]) is None  # forgotten: only the two newest are kept
    assert arrivals.of(updates[1]) == NOW + timedelta(seconds=1)
    assert arrivals.of(updates[2]) == NOW + timedelta(seconds=2)
    assert arrivals.of("not an update") is None
    assert len(arrivals) == 2


async def test_a_press_through_the_webhook_keeps_the_time_it_arrived(
    api: LocalBotApi, database: Database, unused_port: int
) -> None:
    """The webhook server puts each update in the same stamping queue as it reads it."""
    world = await seed(database)
    cid = world.contacts["phone"]
    async with database.session() as s:
        await s.execute(
            sql_update(Auditor).where(Auditor.key == "paul").values(telegram_user_id=7101)
        )
    paul = api.user(7101, "Paul", started=True)
    clock = FixedClock(NOW)
    conf = BotConfig(token=api.token, base_url=api.base_url, base_file_url=api.base_file_url,
                     reminders=False)  # fmt: skip
    app = build_application(conf, database, clock=clock)
    hold = Hold(":start")
    hold.install(app)
    # The local Bot API keeps updates for getUpdates and never calls a webhook: the press is
    # made there (a real callback query, answerable) and posted as Telegram would post it.
    query = paul.press_data(f"p:{cid}:start", 1)
    body = {"update_id": 1, "callback_query": query}
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_webhook(
            listen="127.0.0.1", port=unused_port, url_path="hook",
            webhook_url="https://bot.example/hook", secret_token="s3cret-token",
        )  # fmt: skip
        try:
            async with httpx.AsyncClient() as client:
                for _ in range(100):  # setWebhook may come before tornado listens
                    try:
                        posted = await client.post(
                            f"http://127.0.0.1:{unused_port}/hook", json=body,
                            headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"},
                        )  # fmt: skip
                        break
                    except httpx.ConnectError:
                        await asyncio.sleep(0.05)
            assert posted.status_code == 200
            await asyncio.wait_for(hold.held.wait(), 10)
            clock.advance(timedelta(minutes=5))
            hold.release.set()
            assert "lancé à 10 h 00" in (await paul.wait_for_message())["text"]
        finally:
            await app.updater.stop()
            await app.stop()

    found = {kind: at for kind, at, _ in await events(database, cid)}
    assert found[ev.CALL_STARTED] == NOW  # not NOW + 5 min
