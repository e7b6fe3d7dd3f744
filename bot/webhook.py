"""The webhook in a thread of its own, so an update is stamped when its request arrives.

PTB's own webhook server (tornado) runs on the application's event loop: when the bot is busy
(64 updates being handled, each a few database round trips), Telegram's POST waits in the
socket until the loop gets to it, and a press would be stamped as late as the loop is busy.
Here a small HTTP server (the standard library's ``ThreadingHTTPServer``, one thread per
request) does nothing but read Telegram's requests: the moment a request's headers are read,
it takes the instant, checks the secret token, reads the update, records the instant
(``Arrivals.record``), answers 200 and hands the update to the application's loop, which
builds the ``Update`` and puts it in its queue (``bot.arrivals.hand_over``); from there on,
PTB dispatches as usual. Only the loop's queue is shared: a request is answered whatever the
loop is doing.

What is refused, without touching the application: another path (404), another method (405),
a missing or wrong ``X-Telegram-Bot-Api-Secret-Token`` (403, compared in constant time), a
body without a length, larger than ``MAX_BODY`` or that is no JSON update (400/413). Telegram
sends again what was not answered 200, so a refused request loses nothing it sent.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import threading
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from telegram import Update

from bot.arrivals import App, Arrivals, hand_over

log = logging.getLogger(__name__)

MAX_BODY = 1_000_000  # bytes; an update is a few kB (Telegram sends file ids, not files)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class ArrivalWebhook:
    """Telegram's webhook served in threads; ``start`` and ``stop`` from the application's loop.

    ``start`` listens first, then tells Telegram (``setWebhook``) where to post, with the
    secret token it must send back."""

    def __init__(
        self,
        app: App,
        arrivals: Arrivals,
        *,
        listen: str,
        port: int,
        url_path: str,
        webhook_url: str,
        secret: str,
    ) -> None:
        if not secret:
            raise ValueError("a webhook needs its secret token")
        self._app = app
        self._arrivals = arrivals
        self._address = (listen, port)
        self._path = "/" + url_path.strip("/")
        self._webhook_url = webhook_url
        self._secret = secret.encode()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port listened on (the one asked for, or the one the system gave for 0)."""
        assert self._server is not None
        return int(self._server.server_address[1])

    async def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("the webhook is already served")
        self._server = _Server(self._address, _Handler)
        self._server.hook = self
        self._server.loop = asyncio.get_running_loop()
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="telegram-webhook", daemon=True
        )
        self._thread.start()
        await self._app.bot.set_webhook(
            url=self._webhook_url,
            secret_token=self._secret.decode(),
            allowed_updates=Update.ALL_TYPES,
        )

    async def stop(self) -> None:
        """Stop listening (requests being read are finished first)."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        await asyncio.to_thread(server.shutdown)
        server.server_close()
        if thread is not None:
            await asyncio.to_thread(thread.join, 10)

    # ------------------------------------------------------------------ the threads

    def now(self) -> datetime:
        return self._arrivals.now()

    def receive(self, path: str, secret: str | None, body: bytes | None, at: datetime) -> int:
        """One request, read at ``at``: the HTTP status to answer."""
        if path.split("?", 1)[0] != self._path:
            return HTTPStatus.NOT_FOUND
        if secret is None or not hmac.compare_digest(secret.encode(), self._secret):
            return HTTPStatus.FORBIDDEN
        if body is None:
            return HTTPStatus.BAD_REQUEST
        try:
            update = json.loads(body)
        except ValueError:
            return HTTPStatus.BAD_REQUEST
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            return HTTPStatus.BAD_REQUEST
        self._arrivals.record(update["update_id"], at)
        server = self._server
        if server is None:  # stopping: Telegram will send it again
            return HTTPStatus.SERVICE_UNAVAILABLE
        try:
            server.loop.call_soon_threadsafe(hand_over, self._app, [update])
        except RuntimeError:  # the loop is closed: the application is gone
            return HTTPStatus.SERVICE_UNAVAILABLE
        return HTTPStatus.OK


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    hook: ArrivalWebhook
    loop: asyncio.AbstractEventLoop


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        # Stamped as soon as the request line and headers are read, before anything else.
        at = self.server.hook.now()
        length = self.headers.get("Content-Length")
        body: bytes | None = None
        if length is not None and length.isdigit():
            size = int(length)
            if size > MAX_BODY:
                self._answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, close=True)
                return
            body = self.rfile.read(size)
        else:  # no length: the body cannot be read safely on a kept-alive connection
            self.close_connection = True
        status = self.server.hook.receive(self.path, self.headers.get(SECRET_HEADER), body, at)
        self._answer(status, close=self.close_connection)

    def do_GET(self) -> None:
        self._answer(HTTPStatus.METHOD_NOT_ALLOWED, close=True)

    do_PUT = do_DELETE = do_HEAD = do_GET

    def _answer(self, status: int, *, close: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("webhook %s", format % args)
