"""What every part of the local Bot API shares: JSON types, Telegram's limits and error answer.

An :class:`ApiError` raised anywhere while a method runs becomes Telegram's error body
(``{"ok": false, "error_code": ..., "description": ...}``) with its HTTP status; offsets and
lengths are counted in UTF-16 code units, as Telegram does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

JSONDict = dict[str, Any]
DateLike = int | float | datetime

#: A well-formed token (digits, colon, 35 characters) that is obviously not a real one.
DEFAULT_TOKEN = "7000000001:TEMOIN-local-bot-api-not-a-real-tok"

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64


class ApiError(Exception):
    """A Telegram error answer: HTTP status, description, optional ``parameters``."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = dict(self.parameters)
        return body


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def u16len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def unix_time(date: DateLike | None, clock: Callable[[], float]) -> int:
    if date is None:
        return int(clock())
    if isinstance(date, datetime):
        if date.tzinfo is None:
            raise ValueError("date must be timezone-aware (or unix seconds)")
        return int(date.timestamp())
    return int(date)
