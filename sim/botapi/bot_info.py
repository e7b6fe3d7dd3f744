"""What the bot says about itself and reads about a chat: ``getMe``, commands, menu button,
``getChat``; ``logOut`` and ``close`` do nothing and succeed.

Commands are kept per scope and language, with Telegram's checks on their names and
descriptions (``BOT_COMMAND_INVALID``, ``BOT_COMMAND_DESCRIPTION_INVALID``).
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from sim.botapi.common import JSONDict, bad_request
from sim.botapi.params import Params
from sim.botapi.state import ApiState

_BOT_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")


class BotInfoMethods(ApiState):
    """The bot's identity and settings, in ``LocalBotApi``."""

    def _api_getMe(self, params: Params) -> JSONDict:
        return dict(self._bot_user)

    def _api_logOut(self, params: Params) -> bool:
        return True

    def _api_close(self, params: Params) -> bool:
        return True

    def _api_setMyCommands(self, params: Params) -> bool:
        commands = params.get_json("commands")
        if not isinstance(commands, list):
            raise bad_request("commands is empty")
        for command in commands:
            if not isinstance(command, dict) or not _BOT_COMMAND_NAME_RE.fullmatch(
                str(command.get("command", ""))
            ):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params.get_json("scope"), params.get_str("language_code") or "")
        with self._lock:
            self._commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        return True

    def _api_getMyCommands(self, params: Params) -> list[JSONDict]:
        key = self._commands_key(params.get_json("scope"), params.get_str("language_code") or "")
        with self._lock:
            return copy.deepcopy(self._commands.get(key, []))

    def _api_deleteMyCommands(self, params: Params) -> bool:
        key = self._commands_key(params.get_json("scope"), params.get_str("language_code") or "")
        with self._lock:
            self._commands.pop(key, None)
        return True

    @staticmethod
    def _commands_key(scope: Any, language_code: str) -> tuple[str, str]:
        if not scope or scope == {"type": "default"}:
            return "default", language_code
        return json.dumps(scope, sort_keys=True), language_code

    def _api_setChatMenuButton(self, params: Params) -> bool:
        chat_id = params.get_int("chat_id")
        button = params.get_json("menu_button") or {"type": "default"}
        if not isinstance(button, dict):
            raise bad_request("can't parse menu button JSON object")
        with self._lock:
            self._menu_buttons[chat_id] = button
        return True

    def _api_getChatMenuButton(self, params: Params) -> JSONDict:
        chat_id = params.get_int("chat_id")
        with self._lock:
            return copy.deepcopy(self._menu_buttons.get(chat_id, {"type": "default"}))

    def _api_getChat(self, params: Params) -> JSONDict:
        chat_id = params.get_int("chat_id")
        with self._lock:
            user = self._users.get(chat_id) if chat_id is not None else None
            if user is None or not user._started:
                raise bad_request("chat not found")
            chat = user.chat_json
        gifts = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription")
        chat.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {g: True for g in gifts} | {"gifts_from_channels": False},
            }
        )
        return chat
