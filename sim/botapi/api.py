"""``LocalBotApi``: the server's life cycle, addresses, simulated users and inspection.

The class is assembled from one mixin per job over :class:`~sim.botapi.state.ApiState`:
routing (HTTP to method), messages, files, callback queries and keyboards, update delivery,
and the bot's own settings. What is left here is what a test or the demo calls: start and stop
the server threads, the URLs to give PTB, :meth:`LocalBotApi.user`, failure injection, and
read-only views of the state (each a copy taken under the lock).
"""

from __future__ import annotations

import copy
import logging
import threading
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Self

from sim.botapi.bot_info import BotInfoMethods
from sim.botapi.callbacks import CallbackMethods
from sim.botapi.common import ApiError, JSONDict
from sim.botapi.files import FileMethods
from sim.botapi.messages import MessageMethods
from sim.botapi.routing import Routing
from sim.botapi.transport import Server
from sim.botapi.updates import UpdateMethods
from sim.botapi.users import SimulatedUser

_LOG = logging.getLogger(__name__)


class LocalBotApi(
    Routing, FileMethods, MessageMethods, CallbackMethods, UpdateMethods, BotInfoMethods
):
    """A local Telegram Bot API server for one bot (see the package docstring).

    ``clock`` gives the unix time used for ``date`` fields (default: ``time.time``).
    ``on_latency`` is :attr:`BotApiMetrics.latency_hook`.
    """

    # ---- life cycle -----------------------------------------------------------------------

    def start(self) -> Self:
        """Listen on ``host`` and the given port (a free one by default) in a thread."""
        if self._started:
            raise RuntimeError("LocalBotApi can be started once only")
        self._started = True
        server = Server((self._host, self._requested_port), self._serve)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"botapi-{self.port}",
            daemon=True,
        )
        self._thread.start()
        self._start_webhook_sender()
        _LOG.debug("local Bot API listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        """Answer pending long polls, close every connection, stop the threads."""
        with self._cond:
            server, thread = self._server, self._thread
            if server is None or self._stopping:
                return
            self._stopping = True
            self._cond.notify_all()
            self._wake_everyone()
        server.shutdown()
        if thread is not None:
            thread.join()
        for sender in self._webhook_threads:
            sender.join(15)
        server.server_close()
        server.close_connections(timeout=5.0)

    def __enter__(self) -> Self:
        if not self._started:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ---- addresses ------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("LocalBotApi is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder.base_url``."""
        return f"http://{self._host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder.base_file_url``."""
        return f"http://{self._host}:{self.port}/file/bot"

    def method_url(self, method: str) -> str:
        """Full URL of a Bot API method, for raw HTTP requests."""
        return f"{self.base_url}{self._token}/{method}"

    # ---- simulated users and inspection ---------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str,
        language_code: str | None = "fr",
        *,
        last_name: str | None = None,
        username: str | None = None,
        started: bool = False,
    ) -> SimulatedUser:
        """The simulated user ``user_id`` (created on first call, the same object after).

        Until the user has written to the bot (or ``started=True``), the bot cannot write
        to them: 403, as in Telegram.
        """
        with self._lock:
            existing = self._users.get(user_id)
            if existing is not None:
                return existing
            user = SimulatedUser(self, user_id, first_name, language_code, last_name, username)
            user._started = started
            self._users[user_id] = user
            return user

    @property
    def users(self) -> list[SimulatedUser]:
        with self._lock:
            return list(self._users.values())

    def fail_next(
        self,
        method: str,
        status: int,
        description: str | None = None,
        *,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail (before doing anything) with
        ``status``: 400 → PTB ``BadRequest``, 403 → ``Forbidden``, 429 with ``retry_after``
        → ``RetryAfter``."""
        if description is None:
            description = {
                400: "Bad Request: injected failure",
                401: "Unauthorized",
                403: "Forbidden: bot was blocked by the user",
                409: "Conflict: injected failure",
                429: f"Too Many Requests: retry after {retry_after or 1}",
            }.get(status, f"Injected failure {status}")
        parameters: JSONDict | None = None
        if retry_after is not None:
            parameters = {"retry_after": int(retry_after)}
        elif status == 429:
            parameters = {"retry_after": 1}
        entry = self._methods.get(method.lower())
        if entry is None:
            raise ValueError(f"unknown Bot API method {method!r}")
        with self._lock:
            queue = self._failures.setdefault(entry[0], deque())
            for _ in range(times):
                queue.append(ApiError(status, description, parameters))

    @property
    def pending_update_count(self) -> int:
        """Updates made available and not yet confirmed by the bot."""
        with self._lock:
            return len(self._updates)

    @property
    def active_polls(self) -> int:
        """``getUpdates`` requests being held right now."""
        with self._lock:
            return self._active_polls

    @property
    def webhook(self) -> JSONDict | None:
        """The last ``setWebhook`` parameters, None when no webhook is set."""
        with self._lock:
            return copy.deepcopy(self._webhook)

    def my_commands(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        """Commands set with ``setMyCommands`` for that scope and language."""
        with self._lock:
            return copy.deepcopy(self._commands.get(self._commands_key(scope, language_code), []))

    def menu_button(self, chat_id: int | None = None) -> JSONDict:
        with self._lock:
            return copy.deepcopy(self._menu_buttons.get(chat_id, {"type": "default"}))

    def file_bytes(self, file_id: str) -> bytes:
        """Bytes of a stored file (sent by a user or uploaded by the bot)."""
        with self._lock:
            return self._files[file_id].data

    @property
    def internal_errors(self) -> list[str]:
        """Tracebacks of requests this server failed to handle (answered with 500)."""
        with self._lock:
            return list(self._internal_errors)

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> None:
        """Wait until ``predicate()`` (evaluated with the server lock held, after every state
        change: keep it quick) is true, e.g. ``lambda: api.active_polls == 1``."""

        def check() -> bool | None:
            return True if predicate() else None

        def describe() -> str:
            return f"condition not met within {timeout} s"

        await self._wait(check, self._api_waiters, timeout, describe)
