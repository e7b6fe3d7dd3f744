"""The polling thread (``bot.polling.ArrivalPoller``, over ``http.client``) against a Bot API
that closes its kept-alive connection after every answer, as a server or a proxy may do with
idle connections: each batch still arrives once, in order, confirmed by the next call's
``offset``; a connection the server closed is replaced at once (no failure logged, no pause)."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest
from telegram import Update
from telegram.ext import Application

from bot.arrivals import App, ArrivalQueue, Arrivals
from bot.polling import ArrivalPoller
from scenarios.clock import FixedClock
from tests.bot.support import NOW

TOKEN = "123:ABC"
UPDATES = 6


class ClosingBotApi(ThreadingHTTPServer):
    """``getUpdates`` answers one update at a time (update ids 1..UPDATES, then none), on
    HTTP/1.1 without « Connection: close », and closes the connection after each answer."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.offsets: list[int | None] = []  # the offset of each getUpdates, in order
        self.connections = 0
        self.lock = threading.Lock()

    def next_batch(self, offset: int | None) -> list[dict[str, Any]]:
        with self.lock:
            self.offsets.append(offset)
            served = (offset or 1) - 1  # confirmed so far
        if served >= UPDATES:
            return []
        update_id = served + 1
        return [
            {
                "update_id": update_id,
                "message": {
                    "message_id": update_id,
                    "date": int(NOW.timestamp()),
                    "chat": {"id": 77, "type": "private"},
                    "from": {"id": 77, "is_bot": False, "first_name": "Zoé"},
                    "text": f"n°{update_id}",
                },
            }
        ]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ClosingBotApi

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        params = dict(parse_qsl(body.decode()))
        if self.headers.get("Content-Type") == "application/json":
            params = {k: str(v) for k, v in json.loads(body or b"{}").items()}
        method = self.path.rsplit("/", 1)[-1]
        result: Any = True
        if method == "getMe":
            result = {"id": 1, "is_bot": True, "first_name": "Témoin", "username": "temoin_bot"}
        elif method == "getUpdates":
            offset = params.get("offset")
            result = self.server.next_batch(int(offset) if offset else None)
        answer = json.dumps({"ok": True, "result": result}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
        self.wfile.flush()
        if method == "getUpdates":
            self.close_connection = True  # no « Connection: close »: the client finds out

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ClosingBotApi]:
    found = ClosingBotApi()
    thread = threading.Thread(target=found.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        found.shutdown()
        found.server_close()


async def test_batches_arrive_once_in_order_when_the_server_drops_connections(
    server: ClosingBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    host, port = server.server_address[:2]
    arrivals = Arrivals(FixedClock(NOW))
    app: App = (
        Application.builder().token(TOKEN).base_url(f"http://{host!s}:{port}/bot")
        .update_queue(ArrivalQueue(arrivals)).updater(None).build()
    )  # fmt: skip
    poller = ArrivalPoller(app, arrivals, timeout=1)
    received: list[int] = []
    async with app:
        with caplog.at_level(logging.WARNING, logger="bot.polling"):
            await poller.start()
            while len(received) < UPDATES:
                update = await asyncio.wait_for(app.update_queue.get(), 10)
                assert isinstance(update, Update) and update.message is not None
                received.append(update.update_id)
                assert arrivals.of(update) == NOW  # stamped by the thread
            await poller.stop()
    assert received == list(range(1, UPDATES + 1))
    # Each batch was confirmed by the next call's offset, none skipped nor asked twice
    # (the last calls: the long polls that found nothing, and the confirmation at stop).
    asked = [o for o in server.offsets if o is not None]
    assert asked[: UPDATES - 1] == list(range(2, UPDATES + 1))
    assert set(asked) == set(range(2, UPDATES + 2))
    assert server.offsets[0] is None
    # Every answer ended its connection, and the poller just opened the next one.
    assert server.connections >= UPDATES
    assert not [r for r in caplog.records if "getUpdates failed" in r.getMessage()]
