"""A local Telegram Bot API server, for the test suite and ``temoin demo``.

No internet is reachable where Témoin is tested or demonstrated, so the bot (python-telegram-bot,
"PTB") talks to this small server on loopback instead of api.telegram.org, over PTB's real HTTP
stack. Only the standard library is used (``http.server`` in background threads), so the module
ships in the package with no test dependency.

Server side (what the bot sees)::

    with LocalBotApi() as api:
        app = (
            Application.builder()
            .token(api.token)
            .base_url(api.base_url)
            .base_file_url(api.base_file_url)
            .build()
        )

``POST /bot<token>/<method>`` (form-encoded, multipart or JSON; GET with a query string works
too) answers ``{"ok": true, "result": ...}`` like Telegram, with Telegram's error bodies and
status codes. ``getUpdates`` long-polls and keeps every update until a later call confirms it
with a higher ``offset``; a newer ``getUpdates`` ends a pending older one with 409, as Telegram
does. ``GET /file/bot<token>/<file_path>`` serves the bytes of stored files. Telegram's checks
that catch real bugs are reproduced: HTML / MarkdownV2 / Markdown parsing (``can't parse
entities``), text and caption length, empty text, ``message is not modified``, callback data
over 64 bytes, replies to unknown messages, a bot writing first to a user who never wrote to it
(403), a user who blocked the bot (403). Webhooks are only recorded, never called.

User side (what a test or the demo drives): :meth:`LocalBotApi.user` returns a
:class:`SimulatedUser` whose synchronous methods (``send_text``, ``send_command``, ``press``,
``send_photo``...) are thread-safe and callable from an event loop, and whose async helpers
(``wait_for_message``...) wait for what the bot sends::

    alice = api.user(1001, "Alice")
    alice.send_command("/start", "campagne-7")
    welcome = await alice.wait_for_message()
    alice.press("Oui")  # a button of the latest inline keyboard, by text or callback data
    edited = await alice.wait_for_message(lambda m: "edit_date" in m)

Failures are injected with :meth:`LocalBotApi.fail_next`; :attr:`LocalBotApi.metrics` counts
requests per method and measures handling latency (time from an update being made available to
the bot's next request for that chat).

Notes for PTB 22 users: building ``RetryAfter`` emits a ``PTBDeprecationWarning`` unless
``PTB_TIMEDELTA=true`` is set (then ``retry_after`` is a ``timedelta``), which matters under
``filterwarnings = error``; ``Application.shutdown()`` skips an application whose
``initialize()`` failed, so shut its ``bot`` down yourself; under load, a modest
``connection_pool_size`` (16) is faster than PTB's default of 256.

Simplifications: private chats only (chat id = user id), no inline mode, no media groups, no
file download by URL, photos are not resized (every size of a photo serves the same bytes).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import logging
import re
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self, TypeVar, cast
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = [
    "DEFAULT_TOKEN",
    "BotApiMetrics",
    "LatencySample",
    "LocalBotApi",
    "SimulatedUser",
    "UploadedFile",
]

_LOG = logging.getLogger(__name__)

JSONDict = dict[str, Any]
DateLike = int | float | datetime
_T = TypeVar("_T")

#: A well-formed token (digits, colon, 35 characters) that is obviously not a real one.
DEFAULT_TOKEN = "7000000001:TEMOIN-local-bot-api-not-a-real-tok"

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64

#: Update kinds Telegram delivers when ``allowed_updates`` is not set (or set to ``[]``).
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{1,64})?")
_BOT_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")
_INT_RE = re.compile(r"-?\d+")


class _ApiError(Exception):
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


def _bad_request(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


def _u16len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _unix(date: DateLike | None, clock: Callable[[], float]) -> int:
    if date is None:
        return int(clock())
    if isinstance(date, datetime):
        if date.tzinfo is None:
            raise ValueError("date must be timezone-aware (or unix seconds)")
        return int(date.timestamp())
    return int(date)


# --------------------------------------------------------------------------------------------
# Request parameters
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


class _Params:
    """Request parameters, typed on access.

    PTB sends strings as they are and JSON-encodes every other value inside the form, so the
    type of a field is known only from the method's schema: hence one getter per type. JSON
    bodies (``typed``) already carry typed values.
    """

    def __init__(self, values: Mapping[str, object], *, typed: bool = False) -> None:
        self._values = dict(values)
        self._typed = typed

    def raw(self, name: str) -> object | None:
        return self._values.get(name)

    def get_str(self, name: str) -> str | None:
        value = self._values.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        raise _bad_request(f"field {name!r} must be a string")

    def get_int(self, name: str) -> int | None:
        value = self._values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise _bad_request(f"field {name!r} must be an integer")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and _INT_RE.fullmatch(value.strip()):
            return int(value)
        raise _bad_request(f"field {name!r} must be an integer")

    def get_float(self, name: str) -> float | None:
        value = self._values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise _bad_request(f"field {name!r} must be a number")

    def get_bool(self, name: str) -> bool:
        value = self._values.get(name)
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            return value.strip().lower() in {"true", "1"}
        if isinstance(value, int):
            return value != 0
        return False

    def get_json(self, name: str) -> Any:
        value = self._values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, UploadedFile):
            raise _bad_request(f"can't parse {name} JSON object")
        if isinstance(value, str) and not self._typed:
            try:
                return json.loads(value)
            except ValueError:
                raise _bad_request(f"can't parse {name} JSON object") from None
        return value

    def get_input_file(self, name: str) -> UploadedFile | str | None:
        value = self._values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, UploadedFile):
            return value
        if isinstance(value, str):
            if value.startswith("attach://"):
                attached = self._values.get(value[len("attach://") :])
                if isinstance(attached, UploadedFile):
                    return attached
                raise _bad_request(f"file {value} not found in the request")
            return value
        raise _bad_request(f"field {name!r} must be a file or a string")

    def required_int(self, name: str) -> int:
        value = self.get_int(name)
        if value is None:
            raise _bad_request(f"{name} is empty")
        return value

    def required_str(self, name: str, description: str | None = None) -> str:
        value = self.get_str(name)
        if not value:
            raise _bad_request(description or f"{name} is empty")
        return value

    def required_float(self, name: str) -> float:
        value = self.get_float(name)
        if value is None:
            raise _bad_request(f"{name} is empty")
        return value


def _decode_form_param(value: str) -> str:
    # httpx escapes form parameters the HTML5 way: '"' -> %22, control characters -> %XX.
    return re.sub(r"%(22|[01][0-9A-Fa-f])", lambda m: chr(int(m.group(1), 16)), value)


def _parse_multipart(body: bytes, boundary: str) -> dict[str, object]:
    values: dict[str, object] = {}
    delimiter = b"--" + boundary.encode("latin-1")
    chunks = body.split(delimiter)
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        if chunk.startswith(b"\r\n"):
            chunk = chunk[2:]
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise _bad_request("malformed multipart body")
        if content.endswith(b"\r\n"):
            content = content[:-2]
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, val = line.partition(":")
            headers[key.strip().lower()] = val.strip()
        disposition = headers.get("content-disposition", "")
        params = {
            m.group(1).lower(): _decode_form_param(m.group(2).replace("\\\\", "\\"))
            for m in re.finditer(r'([A-Za-z*]+)="((?:[^"\\]|\\.)*)"', disposition)
        }
        name = params.get("name")
        if name is None:
            continue
        if "filename" in params:
            values[name] = UploadedFile(
                filename=params["filename"],
                content_type=headers.get("content-type", "application/octet-stream"),
                data=content,
            )
        else:
            values[name] = content.decode("utf-8")
    return values


# --------------------------------------------------------------------------------------------
# Text formatting: parse_mode -> plain text + entities, with Telegram's errors
# --------------------------------------------------------------------------------------------


class _EntityBuilder:
    def __init__(self) -> None:
        self._out: list[str] = []
        self.pos = 0
        self._entities: list[JSONDict] = []

    def text(self, text: str) -> None:
        self._out.append(text)
        self.pos += _u16len(text)

    def entity(self, kind: str, start: int, **extra: Any) -> None:
        if self.pos > start:
            self._entities.append(
                {"type": kind, "offset": start, "length": self.pos - start, **extra}
            )

    def result(self) -> tuple[str, list[JSONDict]]:
        entities = sorted(self._entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self._out), entities


def _entities_error(source: str, index: int, message: str) -> _ApiError:
    offset = len(source[:index].encode("utf-8"))
    return _bad_request(f"can't parse entities: {message.format(offset=offset)}")


_HTML_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_TAG_RE = re.compile(
    r"<(/?)([A-Za-z][A-Za-z0-9-]*)"
    r"((?:\s+[A-Za-z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?)*)\s*/?>"
)
_HTML_ATTR_RE = re.compile(r"([A-Za-z-]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+)))?")
_HTML_ENTITY_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z]+);")
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _html_unescape(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        if name.startswith(("#x", "#X")):
            return chr(int(name[2:], 16))
        if name.startswith("#"):
            return chr(int(name[1:]))
        return _HTML_NAMED.get(name, m.group(0))

    return _HTML_ENTITY_RE.sub(repl, text)


def _parse_html(src: str) -> tuple[str, list[JSONDict]]:
    out = _EntityBuilder()
    # (tag name, start position, entity type or None, extra entity fields)
    stack: list[tuple[str, int, str | None, JSONDict]] = []
    i = 0
    while i < len(src):
        char = src[i]
        if char == "<":
            m = _HTML_TAG_RE.match(src, i)
            if m is None:
                name_m = re.match(r"</?([^\s>]*)", src[i:])
                name = name_m.group(1) if name_m else ""
                raise _entities_error(
                    src, i, f'Unsupported start tag "{name}" at byte offset {{offset}}'
                )
            name = m.group(2).lower()
            if m.group(1):
                if not stack:
                    raise _entities_error(src, i, "Unexpected end tag at byte offset {offset}")
                top, start, kind, extra = stack[-1]
                if top != name:
                    raise _entities_error(
                        src,
                        i,
                        "Unmatched end tag at byte offset {offset}, "
                        f'expected "</{top}>", found "</{name}>"',
                    )
                stack.pop()
                if kind is not None:
                    out.entity(kind, start, **extra)
            else:
                kind_opt: str | None = _HTML_TAGS.get(name)
                attrs = {
                    a.group(1).lower(): _html_unescape(a.group(2) or a.group(3) or a.group(4) or "")
                    for a in _HTML_ATTR_RE.finditer(m.group(3))
                }
                if kind_opt is None or (name == "span" and attrs.get("class") != "tg-spoiler"):
                    raise _entities_error(
                        src, i, f'Unsupported start tag "{name}" at byte offset {{offset}}'
                    )
                extra_fields: JSONDict = {}
                if name == "a":
                    if "href" in attrs:
                        extra_fields["url"] = attrs["href"]
                    else:
                        kind_opt = None
                elif name == "tg-emoji":
                    extra_fields["custom_emoji_id"] = attrs.get("emoji-id", "")
                elif name == "blockquote" and "expandable" in attrs:
                    kind_opt = "expandable_blockquote"
                elif name == "code" and stack and stack[-1][0] == "pre":
                    language = attrs.get("class", "")
                    if language.startswith("language-"):
                        stack[-1][3]["language"] = language[len("language-") :]
                        kind_opt = None
                stack.append((name, out.pos, kind_opt, extra_fields))
            i = m.end()
            continue
        if char == "&":
            em = _HTML_ENTITY_RE.match(src, i)
            if em is not None:
                out.text(_html_unescape(em.group(0)))
                i = em.end()
                continue
        out.text(char)
        i += 1
    if stack:
        raise _bad_request(
            "can't parse entities: Can't find end tag corresponding to start tag "
            f'"{stack[-1][0]}"'
        )
    return out.result()


_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_MARKERS = {
    "*": "bold",
    "_": "italic",
    "__": "underline",
    "~": "strikethrough",
    "||": "spoiler",
}
_ENTITY_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "[": "TextUrl",
}


def _find_unescaped(src: str, token: str, start: int) -> int:
    i = start
    while i < len(src):
        if src[i] == "\\":
            i += 2
            continue
        if src.startswith(token, i):
            return i
        i += 1
    return -1


def _unescape_mdv2(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL)


def _parse_markdown_v2(src: str) -> tuple[str, list[JSONDict]]:
    out = _EntityBuilder()
    stack: list[tuple[str, int, int]] = []  # (marker, start position, source index)
    quote_start: int | None = None
    i = 0
    while i < len(src):
        char = src[i]
        if char == "\\":
            if i + 1 >= len(src) or not 1 <= ord(src[i + 1]) <= 126:
                raise _entities_error(
                    src, i, "Character '\\' is reserved and must be escaped with the preceding '\\'"
                )
            out.text(src[i + 1])
            i += 2
            continue
        if char == "`":
            fence = "```" if src.startswith("```", i) else "`"
            end = _find_unescaped(src, fence, i + len(fence))
            if end < 0:
                kind_name = "Pre" if fence == "```" else "Code"
                raise _entities_error(
                    src, i, f"Can't find end of {kind_name} entity at byte offset {{offset}}"
                )
            body = src[i + len(fence) : end]
            start = out.pos
            if fence == "```":
                language = ""
                first, newline, rest = body.partition("\n")
                if newline and first and not re.search(r"\s", first):
                    language, body = first, rest
                out.text(_unescape_mdv2(body))
                if language:
                    out.entity("pre", start, language=language)
                else:
                    out.entity("pre", start)
            else:
                out.text(_unescape_mdv2(body))
                out.entity("code", start)
            i = end + len(fence)
            continue
        if char == "[":
            stack.append(("[", out.pos, i))
            i += 1
            continue
        if char == "]" and stack and stack[-1][0] == "[":
            if not src.startswith("(", i + 1):
                raise _entities_error(
                    src, stack[-1][2], "Can't find end of TextUrl entity at byte offset {offset}"
                )
            end = _find_unescaped(src, ")", i + 2)
            if end < 0:
                raise _entities_error(
                    src, stack[-1][2], "Can't find end of TextUrl entity at byte offset {offset}"
                )
            _, start, _ = stack.pop()
            out.entity("text_link", start, url=_unescape_mdv2(src[i + 2 : end]))
            i = end + 1
            continue
        if char == ">" and (i == 0 or src[i - 1] == "\n"):
            if quote_start is None:
                quote_start = out.pos
            i += 1
            continue
        if char == "\n" and quote_start is not None and not src.startswith(">", i + 1):
            out.entity("blockquote", quote_start)
            quote_start = None
        marker = next((m for m in ("__", "||") if src.startswith(m, i)), None)
        if marker is None and char in "*_~":
            marker = char
        if marker is not None:
            if any(entry[0] == marker for entry in stack):
                if stack[-1][0] != marker:
                    raise _entities_error(
                        src,
                        stack[-1][2],
                        f"Can't find end of {_ENTITY_NAMES[_MDV2_MARKERS.get(stack[-1][0], '[')]}"
                        " entity at byte offset {offset}",
                    )
                _, start, _ = stack.pop()
                out.entity(_MDV2_MARKERS[marker], start)
            else:
                stack.append((marker, out.pos, i))
            i += len(marker)
            continue
        if char in _MDV2_RESERVED:
            raise _bad_request(
                f"can't parse entities: Character '{char}' is reserved and must be escaped "
                "with the preceding '\\'"
            )
        out.text(char)
        i += 1
    if stack:
        marker, _, index = stack[-1]
        name = _ENTITY_NAMES[_MDV2_MARKERS.get(marker, "[")]
        raise _entities_error(
            src, index, f"Can't find end of {name} entity at byte offset {{offset}}"
        )
    if quote_start is not None:
        out.entity("blockquote", quote_start)
    return out.result()


def _parse_markdown(src: str) -> tuple[str, list[JSONDict]]:
    """Telegram's legacy ``Markdown``: no nesting, ``\\`` escapes ``_ * ` [`` only."""
    out = _EntityBuilder()
    error = "Can't find end of the entity starting at byte offset {offset}"
    i = 0
    while i < len(src):
        char = src[i]
        if char == "\\" and i + 1 < len(src) and src[i + 1] in "_*`[":
            out.text(src[i + 1])
            i += 2
            continue
        if src.startswith("```", i):
            end = src.find("```", i + 3)
            if end < 0:
                raise _entities_error(src, i, error)
            start = out.pos
            out.text(src[i + 3 : end])
            out.entity("pre", start)
            i = end + 3
            continue
        if char in "*_`":
            end = src.find(char, i + 1)
            if end < 0:
                raise _entities_error(src, i, error)
            start = out.pos
            out.text(src[i + 1 : end])
            out.entity({"*": "bold", "_": "italic", "`": "code"}[char], start)
            i = end + 1
            continue
        if char == "[":
            close = src.find("](", i + 1)
            end = src.find(")", close + 2) if close >= 0 else -1
            if end < 0:
                raise _entities_error(src, i, error)
            start = out.pos
            out.text(src[i + 1 : close])
            out.entity("text_link", start, url=src[close + 2 : end])
            i = end + 1
            continue
        out.text(char)
        i += 1
    return out.result()


def _format_text(text: str, parse_mode: str | None, entities: Any) -> tuple[str, list[JSONDict]]:
    """What Telegram stores for ``text`` + ``parse_mode`` / explicit ``entities``."""
    if entities:
        if not isinstance(entities, list):
            raise _bad_request("can't parse entities JSON object")
        return text, [dict(e) for e in entities]
    mode = (parse_mode or "").strip().lower()
    if not mode:
        return text, []
    if mode == "html":
        return _parse_html(text)
    if mode == "markdownv2":
        return _parse_markdown_v2(text)
    if mode == "markdown":
        return _parse_markdown(text)
    raise _bad_request(f"unsupported parse_mode {parse_mode!r}")


# --------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LatencySample:
    """Time from an update being made available to the bot's next request for that chat.

    ``update_id`` is the oldest update of the chat that no bot request had followed yet;
    ``method`` the request that ended the wait.
    """

    chat_id: int
    update_id: int
    method: str
    seconds: float


class BotApiMetrics:
    """Request counts per method and handling latencies; thread-safe.

    ``latency_hook``, when set, is called with every :class:`LatencySample` from a server
    thread: it must be thread-safe and quick.
    """

    def __init__(self, latency_hook: Callable[[LatencySample], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._latencies: list[LatencySample] = []
        self._updates_created = 0
        self.latency_hook = latency_hook

    @property
    def updates_created(self) -> int:
        """Updates the simulated users produced (including ones filtered by allowed_updates)."""
        with self._lock:
            return self._updates_created

    def requests(self) -> dict[str, int]:
        """Requests received per method name (including failed and unauthorized ones)."""
        with self._lock:
            return dict(self._requests)

    def request_count(self, method: str) -> int:
        with self._lock:
            return self._requests[method]

    @property
    def total_requests(self) -> int:
        with self._lock:
            return sum(self._requests.values())

    def latencies(self) -> list[LatencySample]:
        with self._lock:
            return list(self._latencies)

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._latencies.clear()
            self._updates_created = 0

    def _count_update(self) -> None:
        with self._lock:
            self._updates_created += 1

    def _count(self, method: str) -> None:
        with self._lock:
            self._requests[method] += 1

    def _record(self, sample: LatencySample) -> None:
        with self._lock:
            self._latencies.append(sample)
        hook = self.latency_hook
        if hook is not None:
            try:
                hook(sample)
            except Exception:
                _LOG.exception("latency hook failed")


# --------------------------------------------------------------------------------------------
# Async waiters woken from server threads
# --------------------------------------------------------------------------------------------


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class _Waiters:
    """Futures of coroutines waiting for a state change; guarded by the API lock."""

    def __init__(self) -> None:
        self._items: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def add(self) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._items.append((loop, future))
        return future

    def discard(self, future: asyncio.Future[None]) -> None:
        self._items = [item for item in self._items if item[1] is not future]

    def wake_all(self) -> None:
        items, self._items = self._items, []
        for loop, future in items:
            # RuntimeError: that loop is closed, nobody waits there any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_wake, future)


@dataclass(frozen=True)
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    mime_type: str


@dataclass
class _CallbackQuery:
    chat_id: int
    answered: bool = False


# --------------------------------------------------------------------------------------------
# Simulated users
# --------------------------------------------------------------------------------------------


class SimulatedUser:
    """A Telegram user talking to the bot in a private chat (chat id = user id).

    Sync methods are thread-safe and return what was sent (a Message or CallbackQuery dict).
    ``date=`` (unix seconds or an aware datetime) overrides the update's timestamp.
    """

    def __init__(
        self,
        api: LocalBotApi,
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
        self._waiters = _Waiters()

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
            "entities": [{"type": "bot_command", "offset": 0, "length": _u16len(command)}],
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


# --------------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "TemoinLocalBotApi/1"

    def do_GET(self) -> None:
        cast(_Server, self.server).api._serve(self)

    def do_POST(self) -> None:
        cast(_Server, self.server).api._serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def respond(self, status: int, body: bytes, content_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client went away (a cancelled long poll, typically)
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], api: LocalBotApi) -> None:
        super().__init__(address, _Handler)
        self.api = api
        self._connections_lock = threading.Lock()
        self._connections: dict[threading.Thread, socket.socket] = {}

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._process_tracked,
            args=(request, client_address),
            name=f"botapi-conn-{client_address[1]}",
            daemon=True,
        )
        with self._connections_lock:
            self._connections[thread] = request
        thread.start()

    def _process_tracked(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.pop(threading.current_thread(), None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        _LOG.debug("connection from %s failed", client_address, exc_info=True)

    def close_connections(self, timeout: float) -> None:
        """Shut every open connection down and wait for their threads."""
        for how in (socket.SHUT_RD, socket.SHUT_RDWR):
            with self._connections_lock:
                connections = list(self._connections.items())
            for _, sock in connections:
                with contextlib.suppress(OSError):
                    sock.shutdown(how)
            deadline = time.monotonic() + timeout / 2
            for thread, _ in connections:
                thread.join(max(0.0, deadline - time.monotonic()))
        with self._connections_lock:
            left = len(self._connections)
        if left:
            _LOG.warning("%d connection threads still running after stop", left)


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class LocalBotApi:
    """A local Telegram Bot API server for one bot (see the module docstring).

    ``clock`` gives the unix time used for ``date`` fields (default: ``time.time``).
    ``on_latency`` is :attr:`BotApiMetrics.latency_hook`.
    """

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
        self._callbacks: dict[str, _CallbackQuery] = {}
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._failures: dict[str, deque[_ApiError]] = {}
        self._allowed_updates: frozenset[str] | None = None
        self._webhook: JSONDict | None = None
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._menu_buttons: dict[int | None, JSONDict] = {}
        self._poll_generation = 0
        self._active_polls = 0
        self._api_waiters = _Waiters()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._started = False
        self._stopping = False
        self._internal_errors: list[str] = []
        self._methods: dict[str, tuple[str, Callable[[_Params], Any]]] = {}
        for attr in dir(self):
            if attr.startswith("_api_"):
                name = attr[len("_api_") :]
                self._methods[name.lower()] = (name, getattr(self, attr))

    # ---- life cycle -----------------------------------------------------------------------

    def start(self) -> Self:
        """Listen on ``host`` and the given port (a free one by default) in a thread."""
        if self._started:
            raise RuntimeError("LocalBotApi can be started once only")
        self._started = True
        server = _Server((self._host, self._requested_port), self)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"botapi-{self.port}",
            daemon=True,
        )
        self._thread.start()
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

    # ---- addresses and identity -----------------------------------------------------------

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

    @property
    def token(self) -> str:
        return self._token

    @property
    def bot_id(self) -> int:
        return int(self._bot_user["id"])

    @property
    def bot_user(self) -> JSONDict:
        return dict(self._bot_user)

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
                queue.append(_ApiError(status, description, parameters))

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

    # ---- HTTP entry point (server threads) ------------------------------------------------

    def _serve(self, handler: _Handler) -> None:
        split = urlsplit(handler.path)
        path = unquote(split.path)
        try:
            body = handler.read_body() if handler.command == "POST" else b""
        except (OSError, ValueError):
            handler.close_connection = True
            return
        if path.startswith("/file/bot"):
            token, _, file_path = path[len("/file/bot") :].partition("/")
            self._serve_file(handler, token, file_path)
            return
        if not path.startswith("/bot"):
            self._respond_json(handler, 404, _ApiError(404, "Not Found").payload())
            return
        token, _, method = path[len("/bot") :].partition("/")
        try:
            params = self._parse_params(handler, split.query, body)
        except _ApiError as exc:
            self._respond_json(handler, exc.status, exc.payload())
            return
        status, payload = self._call(token, method.strip("/"), params)
        self._respond_json(handler, status, payload)

    def _parse_params(self, handler: _Handler, query: str, body: bytes) -> _Params:
        values: dict[str, object] = dict(parse_qsl(query, keep_blank_values=True))
        content_type = handler.headers.get("Content-Type", "")
        mime = content_type.split(";")[0].strip().lower()
        if mime == "application/json":
            if not body.strip():
                return _Params(values)
            try:
                decoded = json.loads(body)
            except ValueError:
                raise _bad_request("can't parse JSON body") from None
            if not isinstance(decoded, dict):
                raise _bad_request("the JSON body must be an object")
            values.update(decoded)
            return _Params(values, typed=True)
        if mime == "multipart/form-data":
            m = re.search(r'boundary="?([^";]+)"?', content_type)
            if m is None:
                raise _bad_request("multipart body without boundary")
            values.update(_parse_multipart(body, m.group(1)))
        elif body:
            try:
                values.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            except UnicodeDecodeError:
                raise _bad_request("request body is not UTF-8") from None
        return _Params(values)

    def _respond_json(self, handler: _Handler, status: int, payload: JSONDict) -> None:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        handler.respond(status, body, "application/json")

    def _serve_file(self, handler: _Handler, token: str, file_path: str) -> None:
        if token != self._token:
            self._respond_json(handler, 401, _ApiError(401, "Unauthorized").payload())
            return
        with self._lock:
            stored = self._files_by_path.get(file_path)
        self.metrics._count("file download")
        if stored is None:
            self._respond_json(handler, 404, _ApiError(404, "Not Found").payload())
            return
        handler.respond(200, stored.data, stored.mime_type)

    def _call(self, token: str, method: str, params: _Params) -> tuple[int, JSONDict]:
        entry = self._methods.get(method.lower())
        name = entry[0] if entry is not None else method
        self.metrics._count(name)
        if token != self._token:
            return 401, _ApiError(401, "Unauthorized").payload()
        if entry is None:
            _LOG.warning("LocalBotApi: method %r is not implemented", method)
            description = f"Not Found: method {method!r} is not implemented by LocalBotApi"
            return 404, _ApiError(404, description).payload()
        self._note_chat_request(name, params)
        try:
            with self._lock:
                queue = self._failures.get(name)
                failure = queue.popleft() if queue else None
            if failure is not None:
                raise failure
            result = entry[1](params)
        except _ApiError as exc:
            return exc.status, exc.payload()
        except Exception:
            import traceback

            text = traceback.format_exc()
            _LOG.error("local Bot API failed on %s:\n%s", name, text)
            with self._lock:
                self._internal_errors.append(text)
            return 500, _ApiError(500, "Internal Server Error: see LocalBotApi logs").payload()
        return 200, {"ok": True, "result": result}

    def _note_chat_request(self, method: str, params: _Params) -> None:
        """Record a latency sample when this is the bot's first request for a chat since an
        update of that chat was made available."""
        sample: LatencySample | None = None
        with self._lock:
            chat_id: int | None = None
            raw_chat = params.raw("chat_id")
            if raw_chat is not None:
                try:
                    chat_id = int(str(raw_chat))
                except ValueError:
                    chat_id = None
            else:
                query = self._callbacks.get(str(params.raw("callback_query_id")))
                if query is not None:
                    chat_id = query.chat_id
            user = self._users.get(chat_id) if chat_id is not None else None
            if user is not None and user._pending is not None:
                since, update_id = user._pending
                user._pending = None
                sample = LatencySample(chat_id or 0, update_id, method, time.monotonic() - since)
        if sample is not None:
            self.metrics._record(sample)

    # ---- async waiting (callers' loops) ---------------------------------------------------

    async def _wait(
        self,
        check: Callable[[], _T | None],
        waiters: _Waiters,
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

    # ---- the simulated-user side (lock taken here) ----------------------------------------

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
        if user._pending is None:
            user._pending = (time.monotonic(), update["update_id"])
        self._cond.notify_all()
        self._api_waiters.wake_all()

    def _user_message(
        self,
        user: SimulatedUser,
        content: JSONDict,
        date: DateLike | None,
        reply_to: int | None,
    ) -> JSONDict:
        when = _unix(date, self._clock)
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
                message["reply_to_message"] = _strip_reply(replied)
            message.update(content)
            user._messages[message["message_id"]] = message
            user._started = True
            user._blocked = False
            self._push_update(user, "message", message)
            return copy.deepcopy(message)

    def _user_edit(
        self, user: SimulatedUser, message_id: int, text: str, date: DateLike | None
    ) -> JSONDict:
        when = _unix(date, self._clock)
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

    def _press(self, user: SimulatedUser, button: str, message_id: int | None) -> JSONDict:
        with self._lock:
            if message_id is None:
                candidates = sorted(
                    (
                        m
                        for m in user._messages.values()
                        if m.get("from", {}).get("id") == self.bot_id and _inline_keyboard(m)
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
            buttons = [b for row in _inline_keyboard(target) for b in row]
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
            self._callbacks[query_id] = _CallbackQuery(user.id)
            user._started = True
            user._blocked = False
            self._push_update(user, "callback_query", query)
            return copy.deepcopy(query)

    # ---- files ----------------------------------------------------------------------------

    def _store_file(self, data: bytes, folder: str, suffix: str, mime_type: str) -> _StoredFile:
        number = next(self._file_ids)
        stored = _StoredFile(
            file_id=f"TMN{folder[:3].upper()}{number:07d}",
            file_unique_id=f"U{number:07d}",
            file_path=f"{folder}/file_{number}{suffix}",
            data=data,
            mime_type=mime_type,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _store_photo(self, data: bytes, width: int, height: int) -> list[JSONDict]:
        sizes: list[JSONDict] = []
        thumb_w = min(width, 90)
        dims = [(thumb_w, max(1, height * thumb_w // max(width, 1))), (width, height)]
        for w, h in dims:
            stored = self._store_file(data, "photos", ".jpg", "image/jpeg")
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": len(data),
                    "width": w,
                    "height": h,
                }
            )
        return sizes

    def _store_document(self, data: bytes, file_name: str, mime_type: str) -> JSONDict:
        suffix = "." + file_name.rsplit(".", 1)[1] if "." in file_name else ""
        stored = self._store_file(data, "documents", suffix, mime_type)
        return {
            "file_name": file_name,
            "mime_type": mime_type,
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(data),
        }

    def _resolve_input_file(self, params: _Params, name: str) -> UploadedFile | _StoredFile:
        value = params.get_input_file(name)
        if value is None:
            raise _bad_request(f"there is no {name} in the request")
        if isinstance(value, UploadedFile):
            return value
        stored = self._files.get(value)
        if stored is None:
            # Telegram would fetch an HTTP URL; nothing is reachable from here.
            raise _bad_request("wrong file identifier/HTTP URL specified")
        return stored

    # ---- the bot side (Bot API methods) ---------------------------------------------------

    def _chat_for_bot(self, params: _Params) -> SimulatedUser:
        raw = params.raw("chat_id")
        if raw is None or raw == "":
            raise _bad_request("chat_id is empty")
        try:
            chat_id = int(str(raw))
        except ValueError:
            raise _bad_request("chat not found") from None
        user = self._users.get(chat_id)
        if user is None:
            raise _bad_request("chat not found")
        if not user._started:
            raise _ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        if user._blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        return user

    def _formatted(
        self, params: _Params, field: str, entities_field: str, limit: int, too_long: str
    ) -> tuple[str | None, list[JSONDict]]:
        text = params.get_str(field)
        if text is None:
            return None, []
        plain, entities = _format_text(
            text, params.get_str("parse_mode"), params.get_json(entities_field)
        )
        if _u16len(plain) > limit:
            raise _bad_request(too_long)
        return plain, entities

    def _markup(self, params: _Params, user: SimulatedUser | None) -> JSONDict | None:
        """The inline keyboard to store on the message; reply keyboards go to the user."""
        markup = params.get_json("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad_request("can't parse inline keyboard button: field must be an Array")
            for row in rows:
                for button in row:
                    if not isinstance(button, dict) or not button.get("text"):
                        raise _bad_request("can't parse inline keyboard button: Text is empty")
                    data = button.get("callback_data")
                    if data is not None and not (
                        isinstance(data, str)
                        and 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
                    ):
                        raise _bad_request("BUTTON_DATA_INVALID")
            return {"inline_keyboard": copy.deepcopy(rows)}
        if user is not None:
            if "keyboard" in markup:
                user._reply_keyboard = copy.deepcopy(markup)
            elif markup.get("remove_keyboard"):
                user._reply_keyboard = None
        return None

    def _reply_to(self, params: _Params, user: SimulatedUser) -> JSONDict | None:
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
            raise _bad_request("message to be replied not found")
        return _strip_reply(replied)

    def _bot_message(self, user: SimulatedUser, params: _Params, content: JSONDict) -> JSONDict:
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
        inline = self._markup(params, user)
        if inline is not None:
            message["reply_markup"] = inline
        user._messages[message["message_id"]] = message
        user._events.append(message)
        self._wake_chat(user)
        return copy.deepcopy(message)

    def _api_getMe(self, params: _Params) -> JSONDict:
        return dict(self._bot_user)

    def _api_logOut(self, params: _Params) -> bool:
        return True

    def _api_close(self, params: _Params) -> bool:
        return True

    def _api_setWebhook(self, params: _Params) -> bool:
        url = params.get_str("url")
        if url is None:
            raise _bad_request("url is empty")
        with self._cond:
            if url == "":
                self._webhook = None
            else:
                self._webhook = {
                    "url": url,
                    "secret_token": params.get_str("secret_token"),
                    "max_connections": params.get_int("max_connections") or 40,
                    "allowed_updates": params.get_json("allowed_updates"),
                    "ip_address": params.get_str("ip_address"),
                }
            if params.get_bool("drop_pending_updates"):
                self._drop_pending_updates()
            self._cond.notify_all()
            self._api_waiters.wake_all()
        return True

    def _drop_pending_updates(self) -> None:
        self._updates.clear()
        for user in self._users.values():
            user._pending = None

    def _api_deleteWebhook(self, params: _Params) -> bool:
        with self._cond:
            self._webhook = None
            if params.get_bool("drop_pending_updates"):
                self._drop_pending_updates()
            self._cond.notify_all()
            self._api_waiters.wake_all()
        return True

    def _api_getWebhookInfo(self, params: _Params) -> JSONDict:
        with self._lock:
            info: JSONDict = {
                "url": "",
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
            if self._webhook is not None:
                info["url"] = self._webhook["url"]
                info["max_connections"] = self._webhook["max_connections"]
                if self._webhook.get("allowed_updates") is not None:
                    info["allowed_updates"] = self._webhook["allowed_updates"]
            return info

    def _api_getUpdates(self, params: _Params) -> list[JSONDict]:
        offset = params.get_int("offset")
        limit = min(max(params.get_int("limit") or 100, 1), 100)
        timeout = max(params.get_float("timeout") or 0.0, 0.0)
        allowed = params.get_json("allowed_updates")
        with self._cond:
            if self._webhook is not None:
                raise _ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            # A newer getUpdates ends an older one still held (Telegram answers it with 409).
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()
            if allowed is not None:
                if not isinstance(allowed, list):
                    raise _bad_request("can't parse allowed_updates")
                self._allowed_updates = frozenset(str(a) for a in allowed) or None
            if offset is not None:
                if offset < 0:
                    del self._updates[: max(len(self._updates) + offset, 0)]
                else:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                self._api_waiters.wake_all()
            deadline = time.monotonic() + timeout
            self._active_polls += 1
            self._api_waiters.wake_all()
            try:
                while True:
                    if self._stopping:
                        return []
                    if generation != self._poll_generation:
                        raise _ApiError(
                            409,
                            "Conflict: terminated by other getUpdates request; make sure that "
                            "only one bot instance is running",
                        )
                    if self._updates:
                        return [copy.deepcopy(u) for u in self._updates[:limit]]
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return []
                    self._cond.wait(remaining)
            finally:
                self._active_polls -= 1
                self._api_waiters.wake_all()

    def _api_setMyCommands(self, params: _Params) -> bool:
        commands = params.get_json("commands")
        if not isinstance(commands, list):
            raise _bad_request("commands is empty")
        for command in commands:
            if not isinstance(command, dict) or not _BOT_COMMAND_NAME_RE.fullmatch(
                str(command.get("command", ""))
            ):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params.get_json("scope"), params.get_str("language_code") or "")
        with self._lock:
            self._commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        return True

    def _api_getMyCommands(self, params: _Params) -> list[JSONDict]:
        key = self._commands_key(params.get_json("scope"), params.get_str("language_code") or "")
        with self._lock:
            return copy.deepcopy(self._commands.get(key, []))

    def _api_deleteMyCommands(self, params: _Params) -> bool:
        key = self._commands_key(params.get_json("scope"), params.get_str("language_code") or "")
        with self._lock:
            self._commands.pop(key, None)
        return True

    @staticmethod
    def _commands_key(scope: Any, language_code: str) -> tuple[str, str]:
        if not scope or scope == {"type": "default"}:
            return "default", language_code
        return json.dumps(scope, sort_keys=True), language_code

    def _api_setChatMenuButton(self, params: _Params) -> bool:
        chat_id = params.get_int("chat_id")
        button = params.get_json("menu_button") or {"type": "default"}
        if not isinstance(button, dict):
            raise _bad_request("can't parse menu button JSON object")
        with self._lock:
            self._menu_buttons[chat_id] = button
        return True

    def _api_getChatMenuButton(self, params: _Params) -> JSONDict:
        chat_id = params.get_int("chat_id")
        with self._lock:
            return copy.deepcopy(self._menu_buttons.get(chat_id, {"type": "default"}))

    def _api_getChat(self, params: _Params) -> JSONDict:
        chat_id = params.get_int("chat_id")
        with self._lock:
            user = self._users.get(chat_id) if chat_id is not None else None
            if user is None or not user._started:
                raise _bad_request("chat not found")
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

    def _api_sendChatAction(self, params: _Params) -> bool:
        with self._lock:
            self._chat_for_bot(params)
        params.required_str("action")
        return True

    def _api_sendMessage(self, params: _Params) -> JSONDict:
        text, entities = self._formatted(
            params, "text", "entities", MAX_TEXT_LENGTH, "message is too long"
        )
        if not text:
            raise _bad_request("message text is empty")
        with self._lock:
            user = self._chat_for_bot(params)
            content: JSONDict = {"text": text}
            if entities:
                content["entities"] = entities
            return self._bot_message(user, params, content)

    def _api_sendPhoto(self, params: _Params) -> JSONDict:
        caption, entities = self._formatted(
            params, "caption", "caption_entities", MAX_CAPTION_LENGTH, "message caption is too long"
        )
        with self._lock:
            user = self._chat_for_bot(params)
            source = self._resolve_input_file(params, "photo")
            if isinstance(source, _StoredFile) and source.file_path.startswith("photos/"):
                sizes = [_photo_size_of(source)]
            else:
                sizes = self._store_photo(source.data, 800, 600)
            content: JSONDict = {"photo": sizes}
            _add_caption(content, caption, entities)
            return self._bot_message(user, params, content)

    def _api_sendDocument(self, params: _Params) -> JSONDict:
        caption, entities = self._formatted(
            params, "caption", "caption_entities", MAX_CAPTION_LENGTH, "message caption is too long"
        )
        with self._lock:
            user = self._chat_for_bot(params)
            source = self._resolve_input_file(params, "document")
            if isinstance(source, UploadedFile):
                document = self._store_document(
                    source.data, source.filename or "document", source.content_type
                )
            else:
                document = {
                    "file_name": source.file_path.rsplit("/", 1)[-1],
                    "mime_type": source.mime_type,
                    "file_id": source.file_id,
                    "file_unique_id": source.file_unique_id,
                    "file_size": len(source.data),
                }
            content: JSONDict = {"document": document}
            _add_caption(content, caption, entities)
            return self._bot_message(user, params, content)

    def _api_sendLocation(self, params: _Params) -> JSONDict:
        latitude = params.required_float("latitude")
        longitude = params.required_float("longitude")
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise _bad_request("wrong location specified")
        location: JSONDict = {"latitude": latitude, "longitude": longitude}
        accuracy = params.get_float("horizontal_accuracy")
        if accuracy is not None:
            location["horizontal_accuracy"] = accuracy
        with self._lock:
            user = self._chat_for_bot(params)
            return self._bot_message(user, params, {"location": location})

    def _editable(self, params: _Params) -> tuple[SimulatedUser, JSONDict]:
        if params.get_str("inline_message_id"):
            raise _bad_request("inline messages are not supported by this local Bot API")
        user = self._chat_for_bot(params)
        message_id = params.required_int("message_id")
        message = user._messages.get(message_id)
        if message is None:
            raise _bad_request("message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise _bad_request("message can't be edited")
        return user, message

    def _store_edit(self, user: SimulatedUser, old: JSONDict, new: JSONDict) -> JSONDict:
        keys = ("text", "entities", "caption", "caption_entities", "reply_markup")
        if all(old.get(k) == new.get(k) for k in keys):
            raise _bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        new["edit_date"] = int(self._clock())
        user._messages[new["message_id"]] = new
        user._events.append(new)
        self._wake_chat(user)
        return copy.deepcopy(new)

    def _api_editMessageText(self, params: _Params) -> JSONDict:
        text, entities = self._formatted(
            params, "text", "entities", MAX_TEXT_LENGTH, "message is too long"
        )
        if not text:
            raise _bad_request("message text is empty")
        with self._lock:
            user, message = self._editable(params)
            if "text" not in message:
                raise _bad_request("there is no text in the message to edit")
            new = {k: v for k, v in message.items() if k not in ("entities", "reply_markup")}
            new["text"] = text
            if entities:
                new["entities"] = entities
            inline = self._markup(params, None)
            if inline is not None:
                new["reply_markup"] = inline
            return self._store_edit(user, message, new)

    def _api_editMessageCaption(self, params: _Params) -> JSONDict:
        caption, entities = self._formatted(
            params, "caption", "caption_entities", MAX_CAPTION_LENGTH, "message caption is too long"
        )
        with self._lock:
            user, message = self._editable(params)
            if "text" in message:
                raise _bad_request("there is no caption in the message to edit")
            new = {
                k: v
                for k, v in message.items()
                if k not in ("caption", "caption_entities", "reply_markup")
            }
            _add_caption(new, caption, entities)
            inline = self._markup(params, None)
            if inline is not None:
                new["reply_markup"] = inline
            return self._store_edit(user, message, new)

    def _api_editMessageReplyMarkup(self, params: _Params) -> JSONDict:
        with self._lock:
            user, message = self._editable(params)
            new = {k: v for k, v in message.items() if k != "reply_markup"}
            inline = self._markup(params, None)
            if inline is not None:
                new["reply_markup"] = inline
            return self._store_edit(user, message, new)

    def _api_deleteMessage(self, params: _Params) -> bool:
        with self._lock:
            user = self._chat_for_bot(params)
            message_id = params.required_int("message_id")
            if user._messages.pop(message_id, None) is None:
                raise _bad_request("message to delete not found")
            user._deleted.append(message_id)
            self._wake_chat(user)
        return True

    def _api_answerCallbackQuery(self, params: _Params) -> bool:
        query_id = params.required_str("callback_query_id")
        text = params.get_str("text")
        if text is not None and len(text) > 200:
            raise _bad_request("MESSAGE_TOO_LONG")
        with self._lock:
            query = self._callbacks.get(query_id)
            if query is None or query.answered:
                raise _bad_request(
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

    def _api_getFile(self, params: _Params) -> JSONDict:
        file_id = params.required_str("file_id")
        with self._lock:
            stored = self._files.get(file_id)
        if stored is None:
            raise _bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }


def _inline_keyboard(message: JSONDict) -> list[list[JSONDict]]:
    markup = message.get("reply_markup")
    if isinstance(markup, dict):
        rows = markup.get("inline_keyboard")
        if isinstance(rows, list):
            return rows
    return []


def _strip_reply(message: JSONDict) -> JSONDict:
    """A message as embedded in ``reply_to_message`` (no nested reply)."""
    return {k: copy.deepcopy(v) for k, v in message.items() if k != "reply_to_message"}


def _photo_size_of(stored: _StoredFile) -> JSONDict:
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
        "width": 800,
        "height": 600,
    }


def _add_caption(content: JSONDict, caption: str | None, entities: list[JSONDict]) -> None:
    if caption:
        content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
