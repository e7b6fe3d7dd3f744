"""``bot.app.serve``: the bot process's loop is uvloop, and the whole bot works on it (the
polling thread handing over to the loop, aiohttp to the Bot API, the database drivers):
an auditor enrols, opens a task and starts a call, and the call's start is stored."""

from __future__ import annotations

import asyncio

import uvloop

from bot.app import BotConfig, run, serve
from scenarios import events as ev
from scenarios.clock import FixedClock
from sim.botapi import LocalBotApi
from tests.bot.support import NOW, buttons, enrol, events, next_with_buttons, seed
from tests.conftest import DbTarget


def test_the_bot_serves_on_uvloop(api: LocalBotApi, db_target: DbTarget) -> None:
    async def main() -> tuple[list[str], list[str]]:
        assert isinstance(asyncio.get_running_loop(), uvloop.Loop)
        database = db_target.database()
        stop = asyncio.Event()
        conf = BotConfig(token=api.token, base_url=api.base_url,
                         base_file_url=api.base_file_url, reminders=False)  # fmt: skip
        bot = asyncio.create_task(run(conf, database, clock=FixedClock(NOW), stop=stop))
        try:
            world = await seed(database)
            await api.wait_until(lambda: api.active_polls > 0, timeout=30)
            paul = await enrol(api, database, "paul", 6101)
            cid = world.contacts["phone"]
            paul.press_data(f"o:{cid}", 1)
            card = await next_with_buttons(paul)
            paul.press("📞 Appel lancé", message_id=card["message_id"])
            ringing = await next_with_buttons(paul)
            stored = [kind for kind, _, _ in await events(database, cid)]
            return buttons(ringing), stored
        finally:
            stop.set()
            await bot
            await database.dispose()

    ringing, stored = serve(main())
    assert "✅ Décroché" in ringing  # the call's next step
    assert stored == [ev.CALL_STARTED]
