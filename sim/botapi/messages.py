"""Bot API methods for messages: send, edit, delete; and a simulated user's messages and edits.

A user's message or edit becomes an update (:meth:`MessageMethods._user_message`); the bot's
``sendMessage`` / ``sendLocation`` land in the user's chat, after Telegram's checks that catch
real bugs: the chat must exist and have written first (else 403), the user must not have
blocked the bot (403), text is parsed by its ``parse_mode`` and capped in length, a reply must
name a known message, an edit must change something (``message is not modified``).
"""

from __future__ import annotations

import copy

from sim.botapi.callbacks import keyboard_markup
from sim.botapi.common import (
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
    ApiError,
    DateLike,
    JSONDict,
    bad_request,
    u16len,
    unix_time,
)
from sim.botapi.entities import format_text
from sim.botapi.params import Params
from sim.botapi.state import ApiState
from sim.botapi.users import SimulatedUser


class MessageMethods(ApiState):
    """Messages of ``LocalBotApi``, both ways."""

    # ---- the simulated-user side (lock taken here) ----------------------------------------

    def _user_message(
        self,
        user: SimulatedUser,
        content: JSONDict,
        date: DateLike | None,
        reply_to: int | None,
    ) -> JSONDict:
        when = unix_time(date, self._clock)
        with self._lock:
            replied = user._messages.get(reply_to) if reply_to is not None else None
            if reply_to is not None and replied is None:
                raise LookupError(f"{user!r}: no message {reply_to} to reply to")
            message: JSONDict = {
                "message_id": user._take_message_id(),
                "from": user.user_json,
                "chat": user.chat_json,
                "date": when,
            }
            if replied is not None:
                message["reply_to_message"] = strip_reply(replied)
            message.update(content)
            user._messages[message["message_id"]] = message
            user._started = True
            user._blocked = False
            self._push_update(user, "message", message)
            return copy.deepcopy(message)

    def _user_edit(
        self, user: SimulatedUser, message_id: int, text: str, date: DateLike | None
    ) -> JSONDict:
        when = unix_time(date, self._clock)
        with self._lock:
            current = user._messages.get(message_id)
            if current is None or current.get("from", {}).get("id") != user.id:
                raise LookupError(f"{user!r}: no message {message_id} of this user")
            if "text" not in current:
                raise LookupError(f"{user!r}: message {message_id} has no text")
            edited = {**current, "text": text, "edit_date": when}
            edited.pop("entities", None)
            user._messages[message_id] = edited
            self._push_update(user, "edited_message", edited)
            return copy.deepcopy(edited)

    # ---- the bot side ---------------------------------------------------------------------

    def _chat_for_bot(self, params: Params) -> SimulatedUser:
        raw = params.raw("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        try:
            chat_id = int(str(raw))
        except ValueError:
            raise bad_request("chat not found") from None
        user = self._users.get(chat_id)
        if user is None:
            raise bad_request("chat not found")
        if not user._started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        if user._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return user

    def _formatted(
        self, params: Params, field: str, entities_field: str, limit: int, too_long: str
    ) -> tuple[str | None, list[JSONDict]]:
        text = params.get_str(field)
        if text is None:
            return None, []
        plain, entities = format_text(
            text, params.get_str("parse_mode"), params.get_json(entities_field)
        )
        if u16len(plain) > limit:
            raise bad_request(too_long)
        return plain, entities

    def _reply_to(self, params: Params, user: SimulatedUser) -> JSONDict | None:
        reply = params.get_json("reply_parameters")
        message_id: int | None = None
        allow_missing = params.get_bool("allow_sending_without_reply")
        if isinstance(reply, dict) and reply.get("message_id") is not None:
            message_id = int(reply["message_id"])
            allow_missing = allow_missing or bool(reply.get("allow_sending_without_reply"))
        else:
            message_id = params.get_int("reply_to_message_id")
        if message_id is None:
            return None
        replied = user._messages.get(message_id)
        if replied is None:
            if allow_missing:
                return None
            raise bad_request("message to be replied not found")
        return strip_reply(replied)

    def _bot_message(self, user: SimulatedUser, params: Params, content: JSONDict) -> JSONDict:
        """Store a message sent by the bot and show it to the user (API lock held)."""
        message: JSONDict = {
            "message_id": user._take_message_id(),
            "from": dict(self._bot_user),
            "chat": user.chat_json,
            "date": int(self._clock()),
        }
        replied = self._reply_to(params, user)
        if replied is not None:
            message["reply_to_message"] = replied
        message.update(content)
        inline = keyboard_markup(params, user)
        if inline is not None:
            message["reply_markup"] = inline
        user._messages[message["message_id"]] = message
        user._events.append(message)
        self._wake_chat(user)
        return copy.deepcopy(message)

    def _api_sendChatAction(self, params: Params) -> bool:
        with self._lock:
            self._chat_for_bot(params)
        params.required_str("action")
        return True

    def _api_sendMessage(self, params: Params) -> JSONDict:
        text, entities = self._formatted(
            params, "text", "entities", MAX_TEXT_LENGTH, "message is too long"
        )
        if not text:
            raise bad_request("message text is empty")
        with self._lock:
            user = self._chat_for_bot(params)
            content: JSONDict = {"text": text}
            if entities:
                content["entities"] = entities
            return self._bot_message(user, params, content)

    def _api_sendLocation(self, params: Params) -> JSONDict:
        latitude = params.required_float("latitude")
        longitude = params.required_float("longitude")
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise bad_request("wrong location specified")
        location: JSONDict = {"latitude": latitude, "longitude": longitude}
        accuracy = params.get_float("horizontal_accuracy")
        if accuracy is not None:
            location["horizontal_accuracy"] = accuracy
        with self._lock:
            user = self._chat_for_bot(params)
            return self._bot_message(user, params, {"location": location})

    def _editable(self, params: Params) -> tuple[SimulatedUser, JSONDict]:
        if params.get_str("inline_message_id"):
            raise bad_request("inline messages are not supported by this local Bot API")
        user = self._chat_for_bot(params)
        message_id = params.required_int("message_id")
        message = user._messages.get(message_id)
        if message is None:
            raise bad_request("message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise bad_request("message can't be edited")
        return user, message

    def _store_edit(self, user: SimulatedUser, old: JSONDict, new: JSONDict) -> JSONDict:
        keys = ("text", "entities", "caption", "caption_entities", "reply_markup")
        if all(old.get(k) == new.get(k) for k in keys):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        new["edit_date"] = int(self._clock())
        user._messages[new["message_id"]] = new
        user._events.append(new)
        self._wake_chat(user)
        return copy.deepcopy(new)

    def _api_editMessageText(self, params: Params) -> JSONDict:
        text, entities = self._formatted(
            params, "text", "entities", MAX_TEXT_LENGTH, "message is too long"
        )
        if not text:
            raise bad_request("message text is empty")
        with self._lock:
            user, message = self._editable(params)
            if "text" not in message:
                raise bad_request("there is no text in the message to edit")
            new = {k: v for k, v in message.items() if k not in ("entities", "reply_markup")}
            new["text"] = text
            if entities:
                new["entities"] = entities
            inline = keyboard_markup(params, None)
            if inline is not None:
                new["reply_markup"] = inline
            return self._store_edit(user, message, new)

    def _api_editMessageCaption(self, params: Params) -> JSONDict:
        caption, entities = self._formatted(
            params, "caption", "caption_entities", MAX_CAPTION_LENGTH, "message caption is too long"
        )
        with self._lock:
            user, message = self._editable(params)
            if "text" in message:
                raise bad_request("there is no caption in the message to edit")
            new = {
                k: v
                for k, v in message.items()
                if k not in ("caption", "caption_entities", "reply_markup")
            }
            add_caption(new, caption, entities)
            inline = keyboard_markup(params, None)
            if inline is not None:
                new["reply_markup"] = inline
            return self._store_edit(user, message, new)

    def _api_editMessageReplyMarkup(self, params: Params) -> JSONDict:
        with self._lock:
            user, message = self._editable(params)
            new = {k: v for k, v in message.items() if k != "reply_markup"}
            inline = keyboard_markup(params, None)
            if inline is not None:
                new["reply_markup"] = inline
            return self._store_edit(user, message, new)

    def _api_deleteMessage(self, params: Params) -> bool:
        with self._lock:
            user = self._chat_for_bot(params)
            message_id = params.required_int("message_id")
            if user._messages.pop(message_id, None) is None:
                raise bad_request("message to delete not found")
            user._deleted.append(message_id)
            self._wake_chat(user)
        return True


def strip_reply(message: JSONDict) -> JSONDict:
    """A message as embedded in ``reply_to_message`` (no nested reply)."""
    return {k: copy.deepcopy(v) for k, v in message.items() if k != "reply_to_message"}


def add_caption(content: JSONDict, caption: str | None, entities: list[JSONDict]) -> None:
    if caption:
        content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
