"""From an HTTP request to a Bot API method and back: the server's entry point.

``/bot<token>/<method>`` is parsed (:func:`~sim.botapi.params.parse_params`), counted, checked
against the token, failed on purpose when :meth:`LocalBotApi.fail_next` asked for it, then run
by its ``_api_<method>`` (the method name is case-insensitive, as in Telegram); the answer is
``{"ok": true, "result": ...}`` or Telegram's error body. An exception in a method is our own
bug: it is logged, kept in ``internal_errors`` and answered with 500. ``/file/bot<token>/<path>``
serves a stored file's bytes. The first request for a chat after an update of that chat gives
a latency sample.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from urllib.parse import unquote, urlsplit

from sim.botapi.common import ApiError, JSONDict
from sim.botapi.metrics import LatencySample
from sim.botapi.params import Params, parse_params
from sim.botapi.state import ApiState
from sim.botapi.transport import Handler

_LOG = logging.getLogger(__name__)


class Routing(ApiState):
    """HTTP entry point of ``LocalBotApi`` (runs in the server's threads)."""

    def _serve(self, handler: Handler) -> None:
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
            self._respond_json(handler, 404, ApiError(404, "Not Found").payload())
            return
        token, _, method = path[len("/bot") :].partition("/")
        try:
            params = parse_params(handler.headers.get("Content-Type", ""), split.query, body)
        except ApiError as exc:
            self._respond_json(handler, exc.status, exc.payload())
            return
        status, payload = self._call(token, method.strip("/"), params)
        self._respond_json(handler, status, payload)

    def _respond_json(self, handler: Handler, status: int, payload: JSONDict) -> None:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        handler.respond(status, body, "application/json")

    def _serve_file(self, handler: Handler, token: str, file_path: str) -> None:
        if token != self._token:
            self._respond_json(handler, 401, ApiError(401, "Unauthorized").payload())
            return
        with self._lock:
            stored = self._files_by_path.get(file_path)
        self.metrics._count("file download")
        if stored is None:
            self._respond_json(handler, 404, ApiError(404, "Not Found").payload())
            return
        handler.respond(200, stored.data, stored.mime_type)

    def _call(self, token: str, method: str, params: Params) -> tuple[int, JSONDict]:
        entry = self._methods.get(method.lower())
        name = entry[0] if entry is not None else method
        self.metrics._count(name)
        if token != self._token:
            return 401, ApiError(401, "Unauthorized").payload()
        if entry is None:
            _LOG.warning("LocalBotApi: method %r is not implemented", method)
            description = f"Not Found: method {method!r} is not implemented by LocalBotApi"
            return 404, ApiError(404, description).payload()
        self._note_chat_request(name, params)
        try:
            with self._lock:
                queue = self._failures.get(name)
                failure = queue.popleft() if queue else None
            if failure is not None:
                raise failure
            result = entry[1](params)
        except ApiError as exc:
            return exc.status, exc.payload()
        except Exception:
            text = traceback.format_exc()
            _LOG.error("local Bot API failed on %s:\n%s", name, text)
            with self._lock:
                self._internal_errors.append(text)
            return 500, ApiError(500, "Internal Server Error: see LocalBotApi logs").payload()
        return 200, {"ok": True, "result": result}

    def _note_chat_request(self, method: str, params: Params) -> None:
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
