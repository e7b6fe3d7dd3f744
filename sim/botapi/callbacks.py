"""Inline keyboards and callback queries: a user presses a button, the bot answers the query.

:func:`keyboard_markup` checks the ``reply_markup`` the bot sends (button texts,
``callback_data`` of 1 to 64 bytes, else ``BUTTON_DATA_INVALID``): an inline keyboard is
stored on the message, a custom reply keyboard (or its removal) goes to the user's client.
A press finds the button by text or data and makes a ``callback_query`` update;
``answerCallbackQuery`` may answer each query once.
"""

from __future__ import annotations

import copy

from sim.botapi.common import MAX_CALLBACK_DATA_BYTES, JSONDict, bad_request
from sim.botapi.params import Params
from sim.botapi.state import ApiState, CallbackQuery
from sim.botapi.users import SimulatedUser


def keyboard_markup(params: Params, user: SimulatedUser | None) -> JSONDict | None:
    """The inline keyboard to store on the message; reply keyboards go to the user."""
    markup = params.get_json("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request("can't parse inline keyboard button: field must be an Array")
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise bad_request("can't parse inline keyboard button: Text is empty")
                data = button.get("callback_data")
                if data is not None and not (
                    isinstance(data, str)
                    and 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
                ):
                    raise bad_request("BUTTON_DATA_INVALID")
        return {"inline_keyboard": copy.deepcopy(rows)}
    if user is not None:
        if "keyboard" in markup:
            user._reply_keyboard = copy.deepcopy(markup)
        elif markup.get("remove_keyboard"):
            user._reply_keyboard = None
    return None


def inline_keyboard(message: JSONDict) -> list[list[JSONDict]]:
    markup = message.get("reply_markup")
    if isinstance(markup, dict):
        rows = markup.get("inline_keyboard")
        if isinstance(rows, list):
            return rows
    return []


class CallbackMethods(ApiState):
    """Button presses and their answers, in ``LocalBotApi``."""

    def _press(self, user: SimulatedUser, button: str, message_id: int | None) -> JSONDict:
        with self._lock:
            if message_id is None:
                candidates = sorted(
                    (
                        m
                        for m in user._messages.values()
                        if m.get("from", {}).get("id") == self.bot_id and inline_keyboard(m)
                    ),
                    key=lambda m: int(m["message_id"]),
                )
                if not candidates:
                    raise LookupError(f"{user!r}: no bot message with an inline keyboard")
                target = candidates[-1]
            else:
                found = user._messages.get(message_id)
                if found is None:
                    raise LookupError(f"{user!r}: no message {message_id}")
                target = found
            buttons = [b for row in inline_keyboard(target) for b in row]
            chosen = next((b for b in buttons if b.get("text") == button), None)
            if chosen is None:
                chosen = next((b for b in buttons if b.get("callback_data") == button), None)
            if chosen is None:
                labels = [b.get("text") for b in buttons]
                raise LookupError(
                    f"{user!r}: no button {button!r} on message {target['message_id']}; "
                    f"buttons: {labels!r}"
                )
            data = chosen.get("callback_data")
            if not isinstance(data, str):
                raise LookupError(f"{user!r}: button {button!r} has no callback_data")
            return self._callback(user, data, int(target["message_id"]))

    def _callback(self, user: SimulatedUser, data: str, message_id: int) -> JSONDict:
        with self._lock:
            query_id = str(next(self._callback_ids))
            message = user._messages.get(message_id)
            shown: JSONDict
            if message is None:
                shown = {"chat": user.chat_json, "message_id": message_id, "date": 0}
            else:
                shown = copy.deepcopy(message)
            query: JSONDict = {
                "id": query_id,
                "from": user.user_json,
                "message": shown,
                "chat_instance": str(-(user.id * 7919 % 10**18)),
                "data": data,
            }
            self._callbacks[query_id] = CallbackQuery(user.id)
            user._started = True
            user._blocked = False
            self._push_update(user, "callback_query", query)
            return copy.deepcopy(query)

    def _api_answerCallbackQuery(self, params: Params) -> bool:
        query_id = params.required_str("callback_query_id")
        text = params.get_str("text")
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        with self._lock:
            query = self._callbacks.get(query_id)
            if query is None or query.answered:
                raise bad_request(
                    "query is too old and response timeout expired or query ID is invalid"
                )
            query.answered = True
            user = self._users[query.chat_id]
            user._answers.append(
                {
                    "callback_query_id": query_id,
                    "text": text,
                    "show_alert": params.get_bool("show_alert"),
                    "url": params.get_str("url"),
                    "cache_time": params.get_int("cache_time") or 0,
                }
            )
            self._wake_chat(user)
        return True
