"""The simulated user: a Telegram client in a private chat with the bot, driven by a test.

A :class:`SimulatedUser` sends (text, commands, photos, documents, locations, edits, button
presses) through the server, which turns each into an update for the bot; what the bot sends
back lands in the user's chat state, read with :attr:`SimulatedUser.messages` or awaited with
:meth:`SimulatedUser.wait_for_message`. The per-chat state lives here and is guarded by the
server's lock; the server's side of each action is :class:`ChatServer`, which ``LocalBotApi``
provides.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeVar

from sim.botapi.common import DateLike, JSONDict, u16len
from sim.botapi.waiters import Waiters

_T = TypeVar("_T")

_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{1,64})?")


class ChatServer(Protocol):
    """What a simulated user asks of the server (``LocalBotApi``)."""

    @property
    def _lock(self) -> AbstractContextManager[Any]: ...

    def _user_message(
        self, user: SimulatedUser, content: JSONDict, date: DateLike | None, reply_to: int | None
    ) -> JSONDict: ...

    def _user_edit(
        self, user: SimulatedUser, message_id: int, text: str, date: DateLike | None
    ) -> JSONDict: ...

    def _press(self, user: SimulatedUser, button: str, message_id: int | None) -> JSONDict: ...

    def _callback(self, user: SimulatedUser, data: str, message_id: int) -> JSONDict: ...

    def _store_photo(self, data: bytes, width: int, height: int) -> list[JSONDict]: ...

    def _store_document(self, data: bytes, file_name: str, mime_type: str) -> JSONDict: ...

    async def _wait(
        self,
        check: Callable[[], _T | None],
        waiters: Waiters,
        timeout: float,  # noqa: ASYNC109
        describe: Callable[[], str],
    ) -> _T: ...


class SimulatedUser:
    """A Telegram user talking to the bot in a private chat (chat id = user id).

    Sync methods are thread-safe and return what was sent (a Message or CallbackQuery dict).
    ``date=`` (unix seconds or an aware datetime) overrides the update's timestamp.
    """

    def __init__(
        self,
        api: ChatServer,
        user_id: int,
        first_name: str,
        language_code: str | None,
        last_name: str | None,
        username: str | None,
    ) -> None:
        self._api = api
        self.id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self.last_name = last_name
        self.username = username
        self._next_message_id = 1
        self._messages: dict[int, JSONDict] = {}  # current state, user's and bot's
        self._events: list[JSONDict] = []  # bot messages as sent or edited, in order
        self._cursor = 0
        self._answers: list[JSONDict] = []
        self._answer_cursor = 0
        self._deleted: list[int] = []
        self._reply_keyboard: JSONDict | None = None
        self._started = False
        self._blocked = False
        self._pending: tuple[float, int] | None = None  # (monotonic time, update id)
        self._waiters = Waiters()

    def __repr__(self) -> str:
        return f"SimulatedUser({self.id}, {self.first_name!r})"

    @property
    def chat_id(self) -> int:
        return self.id

    @property
    def user_json(self) -> JSONDict:
        """The Telegram ``User`` object of this user."""
        user: JSONDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    @property
    def chat_json(self) -> JSONDict:
        """The Telegram ``Chat`` object of the private chat with the bot."""
        chat: JSONDict = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat

    # ---- sending --------------------------------------------------------------------------

    def send_text(
        self, text: str, *, date: DateLike | None = None, reply_to: int | None = None
    ) -> JSONDict:
        """A text message; a leading ``/command`` gets its ``bot_command`` entity, as in
        Telegram."""
        content: JSONDict = {"text": text}
        m = _COMMAND_RE.match(text)
        if m is not None and (m.end() == len(text) or text[m.end()].isspace()):
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": m.end()}]
        return self._api._user_message(self, content, date, reply_to)

    def send_command(
        self, command: str, arg: str | None = None, *, date: DateLike | None = None
    ) -> JSONDict:
        """``/command`` or ``/command ARG`` (a deep-link ``/start`` payload, for instance)."""
        if not command.startswith("/"):
            command = "/" + command
        if not _COMMAND_RE.fullmatch(command):
            raise ValueError(f"not a bot command: {command!r}")
        text = command if arg is None else f"{command} {arg}"
        content: JSONDict = {
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": u16len(command)}],
        }
        return self._api._user_message(self, content, date, None)

    def send_photo(
        self,
        data: bytes,
        caption: str | None = None,
        *,
        width: int = 1280,
        height: int = 960,
        date: DateLike | None = None,
    ) -> JSONDict:
        """A photo (stored; ``photo`` holds a thumbnail size and the full size)."""
        api = self._api
        with api._lock:
            sizes = api._store_photo(bytes(data), width, height)
        content: JSONDict = {"photo": sizes}
        if caption is not None:
            content["caption"] = caption
        return api._user_message(self, content, date, None)

    def send_document(
        self,
        data: bytes,
        file_name: str,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        *,
        date: DateLike | None = None,
    ) -> JSONDict:
        api = self._api
        with api._lock:
            document = api._store_document(bytes(data), file_name, mime_type)
        content: JSONDict = {"document": document}
        if caption is not None:
            content["caption"] = caption
        return api._user_message(self, content, date, None)

    def send_location(
        self, latitude: float, longitude: float, *, date: DateLike | None = None
    ) -> JSONDict:
        content = {"location": {"latitude": float(latitude), "longitude": float(longitude)}}
        return self._api._user_message(self, content, date, None)

    def edit_text(self, message_id: int, text: str, *, date: DateLike | None = None) -> JSONDict:
        """Edit one of this user's text messages (an ``edited_message`` update)."""
        return self._api._user_edit(self, message_id, text, date)

    def press(self, button: str, *, message_id: int | None = None) -> JSONDict:
        """Press an inline button, found by its text (else its callback data) in the latest bot
        message that carries an inline keyboard (or in ``message_id``).

        No ``date=``: a Telegram CallbackQuery carries no timestamp, so a bot must time a
        button press with its own clock.
        """
        return self._api._press(self, button, message_id)

    def press_data(self, data: str, message_id: int) -> JSONDict:
        """A callback query with arbitrary (forged) ``data`` on ``message_id``; an unknown or
        deleted message comes as an inaccessible message (``date`` 0), as in Telegram."""
        return self._api._callback(self, data, message_id)

    def block(self) -> None:
        """Block the bot: its requests to this chat fail with 403 until the user writes again."""
        with self._api._lock:
            self._blocked = True

    def unblock(self) -> None:
        with self._api._lock:
            self._blocked = False

    # ---- what the bot sent ----------------------------------------------------------------

    @property
    def messages(self) -> list[JSONDict]:
        """Every message the bot sent or edited in this chat, in order (edits carry
        ``edit_date``), with their inline keyboards in ``reply_markup``."""
        with self._api._lock:
            return copy.deepcopy(self._events)

    @property
    def last_message(self) -> JSONDict | None:
        with self._api._lock:
            return copy.deepcopy(self._events[-1]) if self._events else None

    def message(self, message_id: int) -> JSONDict | None:
        """Current state of a message of this chat (user's or bot's), None when unknown or
        deleted."""
        with self._api._lock:
            msg = self._messages.get(message_id)
            return copy.deepcopy(msg) if msg is not None else None

    @property
    def callback_answers(self) -> list[JSONDict]:
        """``answerCallbackQuery`` calls for this user's presses, in order."""
        with self._api._lock:
            return copy.deepcopy(self._answers)

    @property
    def deleted_message_ids(self) -> list[int]:
        with self._api._lock:
            return list(self._deleted)

    @property
    def reply_keyboard(self) -> list[list[str]] | None:
        """Texts of the custom reply keyboard the client shows now, None when there is none."""
        with self._api._lock:
            if self._reply_keyboard is None:
                return None
            return [
                [b if isinstance(b, str) else str(b.get("text", "")) for b in row]
                for row in self._reply_keyboard.get("keyboard", [])
            ]

    def mark_read(self) -> None:
        """Make ``wait_for_*`` ignore everything received so far."""
        with self._api._lock:
            self._cursor = len(self._events)
            self._answer_cursor = len(self._answers)

    async def wait_for_message(
        self,
        predicate: Callable[[JSONDict], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> JSONDict:
        """The next bot message (sent or edited) not yet returned by this method that matches
        ``predicate``; messages before it are passed over, like ``expect``. Raises
        ``TimeoutError`` with the recent messages."""

        def check() -> JSONDict | None:
            for index in range(self._cursor, len(self._events)):
                event = self._events[index]
                if predicate is None or predicate(copy.deepcopy(event)):
                    self._cursor = index + 1
                    return copy.deepcopy(event)
            return None

        def describe() -> str:
            recent = [e.get("text", e.get("caption", "<media>")) for e in self._events[-5:]]
            return f"{self!r}: no matching bot message within {timeout} s; latest: {recent!r}"

        return await self._api._wait(check, self._waiters, timeout, describe)

    async def wait_for_callback_answer(
        self,
        predicate: Callable[[JSONDict], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> JSONDict:
        """The next ``answerCallbackQuery`` for this user that matches ``predicate``."""

        def check() -> JSONDict | None:
            for index in range(self._answer_cursor, len(self._answers)):
                answer = self._answers[index]
                if predicate is None or predicate(copy.deepcopy(answer)):
                    self._answer_cursor = index + 1
                    return copy.deepcopy(answer)
            return None

        def describe() -> str:
            return f"{self!r}: no matching callback answer within {timeout} s"

        return await self._api._wait(check, self._waiters, timeout, describe)

    # ---- helpers (API lock held) ----------------------------------------------------------

    def _take_message_id(self) -> int:
        message_id = self._next_message_id
        self._next_message_id += 1
        return message_id
