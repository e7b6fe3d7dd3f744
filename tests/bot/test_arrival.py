"""A button press is timed when its update reaches the bot, not when a handler gets to it.

The real bot (PTB's polling over HTTP to the local Bot API) with one extra handler in an
earlier group that holds a chosen update, as a slow handler or a busy bot would: the clock
moves on while it waits, and the stored times must still be those of the arrival.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from http import HTTPStatus

import httpx
from sqlalchemy import update as sql_update
from telegram import Update
from telegram.ext import ContextTypes, TypeHandler

from bot.app import App, BotConfig, app_runtime, build_application, webhook
from bot.arrivals import ArrivalQueue, Arrivals
from bot.webhook import MAX_BODY, SECRET_HEADER
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
    assert "Décroché à 10\u202fh\u202f00" in (await next_with_buttons(paul))["text"]

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


SECRET = "s3cret-token-for-tests"


def _webhook_conf(api: LocalBotApi, port: int) -> BotConfig:
    return BotConfig(token=api.token, base_url=api.base_url, base_file_url=api.base_file_url,
                     reminders=False, webhook_url="https://bot.example/hook",
                     webhook_secret=SECRET, listen="127.0.0.1", port=port)  # fmt: skip


async def test_a_press_through_the_webhook_is_stamped_while_the_loop_is_busy(
    api: LocalBotApi, database: Database, unused_port: int
) -> None:
    """The webhook's own server reads Telegram's request, stamps it and answers it while the
    application's loop is blocked (as by 64 busy handlers); the press keeps that time."""
    world = await seed(database)
    cid = world.contacts["phone"]
    async with database.session() as s:
        await s.execute(
            sql_update(Auditor).where(Auditor.key == "paul").values(telegram_user_id=7101)
        )
    paul = api.user(7101, "Paul", started=True)
    clock = FixedClock(NOW)
    conf = _webhook_conf(api, unused_port)
    app = build_application(conf, database, clock=clock)
    # The local Bot API keeps updates for getUpdates and never calls a webhook: the press is
    # made there (a real callback query, answerable) and posted as Telegram would post it.
    query = paul.press_data(f"p:{cid}:start", 1)
    body = {"update_id": 1, "callback_query": query}
    answered: list[int] = []

    def post() -> None:
        url = f"http://127.0.0.1:{unused_port}/hook"
        posted = httpx.post(url, json=body, timeout=10, headers={SECRET_HEADER: SECRET})
        answered.append(posted.status_code)

    async with app:
        await app.start()
        receiver = webhook(app, conf)
        await receiver.start()
        try:
            hook = api.webhook
            assert hook is not None and hook["url"] == conf.webhook_url
            assert hook["secret_token"] == SECRET
            # This coroutine holds the loop for the whole request: the POST is made, read
            # and answered in other threads, or not at all.
            sender = threading.Thread(target=post)
            sender.start()
            sender.join(15)
            assert answered == [HTTPStatus.OK]
            clock.advance(timedelta(minutes=5))  # the loop is free again 5 minutes later
            assert "lancé à 10\u202fh\u202f00" in (await paul.wait_for_message())["text"]
        finally:
            await receiver.stop()
            await app.stop()

    found = {kind: at for kind, at, _ in await events(database, cid)}
    assert found[ev.CALL_STARTED] == NOW  # not NOW + 5 min


async def test_the_webhook_refuses_what_telegram_did_not_send(
    api: LocalBotApi, database: Database, unused_port: int
) -> None:
    conf = _webhook_conf(api, unused_port)
    app = build_application(conf, database, clock=FixedClock(NOW))
    arrivals = app_runtime(app).arrivals
    assert arrivals is not None
    url = f"http://127.0.0.1:{unused_port}"
    update = {"update_id": 9, "message": {"message_id": 1, "date": 0, "chat": {"id": 1,
              "type": "private"}, "text": "/start"}}  # fmt: skip
    good = {SECRET_HEADER: SECRET}
    async with app:
        await app.start()
        receiver = webhook(app, conf)
        await receiver.start()
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                refused = [
                    await client.post(f"{url}/hook", json=update),
                    await client.post(f"{url}/hook", json=update,
                                      headers={SECRET_HEADER: SECRET[:-1] + "x"}),
                    await client.post(f"{url}/other", json=update, headers=good),
                    await client.get(f"{url}/hook", headers=good),
                    await client.post(f"{url}/hook", content=b"{not json", headers=good),
                    await client.post(f"{url}/hook", json={"no": "update id"}, headers=good),
                ]  # fmt: skip
            # A body announced larger than MAX_BODY is not read: refused on its headers.
            reader, writer = await asyncio.open_connection("127.0.0.1", unused_port)
            writer.write(f"POST /hook HTTP/1.1\r\nHost: x\r\n{SECRET_HEADER}: {SECRET}\r\n"
                         f"Content-Length: {MAX_BODY + 1}\r\n\r\n".encode())  # fmt: skip
            await writer.drain()
            too_large = await reader.readline()
            writer.close()
        finally:
            await receiver.stop()
            await app.stop()
    assert [r.status_code for r in refused] == [403, 403, 404, 405, 400, 400]
    assert too_large.startswith(b"HTTP/1.1 413")
    assert len(arrivals) == 0 and app.update_queue.empty()
