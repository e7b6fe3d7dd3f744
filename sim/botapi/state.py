"""The state of a local Bot API server, and how a change reaches those who wait for it.

:class:`ApiState` is the base of ``LocalBotApi``: it holds everything the Bot API methods read
and change (the simulated users and their chats, updates not yet confirmed, stored files,
callback queries, webhook, commands, injected failures), all guarded by one re-entrant lock.
Its condition wakes a held ``getUpdates`` when :meth:`ApiState._push_update` makes an update
available; :meth:`ApiState._wait` lets a coroutine on any event loop wait for a change, woken
by :meth:`ApiState._wake_chat`. The Bot API methods (``_api_<name>``, in the mixins) are found
by name when the server is built: that table is how a request reaches its method.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sim.botapi.common import DEFAULT_TOKEN, ApiError, JSONDict
from sim.botapi.metrics import Availability, BotApiMetrics, LatencySample
from sim.botapi.params import Params
from sim.botapi.transport import Server
from sim.botapi.users import SimulatedUser
from sim.botapi.waiters import Waiters

_T = TypeVar("_T")

#: Update kinds Telegram delivers when ``allowed_updates`` is not set (or set to ``[]``).
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


@dataclass(frozen=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    mime_type: str


@dataclass
class CallbackQuery:
    chat_id: int
    answered: bool = False


class ApiState:
    """The state shared by every Bot API method of a ``LocalBotApi``."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_first_name: str = "Témoin",
        bot_username: str = "temoin_test_bot",
        clock: Callable[[], float] = time.time,
        on_latency: Callable[[LatencySample], None] | None = None,
    ) -> None:
        bot_id, sep, _ = token.partition(":")
        if not sep or not bot_id.isdigit():
            raise ValueError("a bot token looks like '<bot id>:<secret>'")
        self._token = token
        self._host = host
        self._requested_port = port
        self._clock = clock
        self.metrics = BotApiMetrics(on_latency)
        self._bot_user: JSONDict = {
            "id": int(bot_id),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._users: dict[int, SimulatedUser] = {}
        self._updates: list[JSONDict] = []  # made available, not yet confirmed
        self._update_ids = itertools.count(100_001)
        self._callback_ids = itertools.count(4_200_000_001)
        self._file_ids = itertools.count(1)
        self._callbacks: dict[str, CallbackQuery] = {}
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._failures: dict[str, deque[ApiError]] = {}
        self._allowed_updates: frozenset[str] | None = None
        self._webhook: JSONDict | None = None
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._menu_buttons: dict[int | None, JSONDict] = {}
        self._poll_generation = 0
        self._active_polls = 0
        self._api_waiters = Waiters()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._started = False
        self._stopping = False
        self._internal_errors: list[str] = []
        self._methods: dict[str, tuple[str, Callable[[Params], Any]]] = {}
        for attr in dir(self):
            if attr.startswith("_api_"):
                name = attr[len("_api_") :]
                self._methods[name.lower()] = (name, getattr(self, attr))

    # ---- identity -------------------------------------------------------------------------

    @property
    def token(self) -> str:
        return self._token

    @property
    def bot_id(self) -> int:
        return int(self._bot_user["id"])

    @property
    def bot_user(self) -> JSONDict:
        return dict(self._bot_user)

    # ---- async waiting (callers' loops) ---------------------------------------------------

    async def _wait(
        self,
        check: Callable[[], _T | None],
        waiters: Waiters,
        timeout: float,  # noqa: ASYNC109
        describe: Callable[[], str],
    ) -> _T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            with self._lock:
                result = check()
                if result is not None:
                    return result
                if self._stopping:
                    raise RuntimeError("LocalBotApi stopped")
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError(describe())
                future = waiters.add()
            try:
                await asyncio.wait_for(future, remaining)
            except TimeoutError:
                pass  # one last check above
            finally:
                with self._lock:
                    waiters.discard(future)

    def _wake_chat(self, user: SimulatedUser) -> None:
        user._waiters.wake_all()
        self._api_waiters.wake_all()

    def _wake_everyone(self) -> None:
        for user in self._users.values():
            user._waiters.wake_all()
        self._api_waiters.wake_all()

    # ---- making updates available (API lock held) -----------------------------------------

    def _push_update(self, user: SimulatedUser, kind: str, payload: JSONDict) -> None:
        """Make an update available (API lock held)."""
        update: JSONDict = {"update_id": next(self._update_ids), kind: payload}
        self.metrics._count_update()
        allowed = self._allowed_updates
        if (allowed is None and kind in _DEFAULT_EXCLUDED_UPDATES) or (
            allowed is not None and kind not in allowed
        ):
            return
        self._updates.append(update)
        data = payload.get("data") if kind == "callback_query" else None
        self.metrics._made_available(
            Availability(update["update_id"], user.id, kind, self._clock(), data)
        )
        if user._pending is None:
            user._pending = (time.monotonic(), update["update_id"])
        self._cond.notify_all()
        self._api_waiters.wake_all()
