"""Delivering updates: ``getUpdates`` long polling, and webhooks on this machine.

``getUpdates`` keeps every update until a later call confirms it with a higher ``offset`` (a
negative offset keeps the last ones), holds the request up to ``timeout`` seconds while there
is none, and filters by ``allowed_updates``. A newer ``getUpdates`` ends an older one still
held with 409, as Telegram does; so does a set webhook.

A webhook is recorded; it is *called* only when its URL is plain HTTP on the loopback
(``http://`` to 127.0.0.1, ::1 or localhost: a test's or a benchmark's own server), never
elsewhere (Telegram's ``https://`` URLs stay recorded only). Then threads post the updates as
Telegram does, up to ``WEBHOOK_CONNECTIONS`` requests at once (or ``max_connections``), one
chat's updates one by one and in order: the JSON update, the ``X-Telegram-Bot-Api-Secret-Token``
header when a secret was set; an update is confirmed by a 2xx answer and posted again otherwise
(after ``WEBHOOK_RETRY`` seconds).
"""

from __future__ import annotations

import copy
import json
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from sim.botapi.common import ApiError, JSONDict, bad_request
from sim.botapi.params import Params
from sim.botapi.state import ApiState

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
WEBHOOK_RETRY = 0.2  # seconds before an update the webhook did not take is posted again
WEBHOOK_CONNECTIONS = 8  # requests at once at most (Telegram's default is 40)


def _chat_of(update: JSONDict) -> object:
    """The chat (or user) an update belongs to; its id if nothing better is found."""
    for key, payload in update.items():
        if key == "update_id" or not isinstance(payload, dict):
            continue
        inner = payload.get("message")
        message: JSONDict = inner if isinstance(inner, dict) else {}
        for holder in (payload.get("chat"), message.get("chat"), payload.get("from")):
            if isinstance(holder, dict) and "id" in holder:
                return holder["id"]
    return ("update", update.get("update_id"))


def _post(hook: JSONDict, update: JSONDict) -> bool:
    """POST ``update`` to the webhook as Telegram does; True when it answered 2xx."""
    headers = {"Content-Type": "application/json"}
    if hook.get("secret_token"):
        headers["X-Telegram-Bot-Api-Secret-Token"] = str(hook["secret_token"])
    request = urllib.request.Request(
        str(hook["url"]), data=json.dumps(update).encode(), headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return 200 <= int(answer.status) < 300
    except (urllib.error.URLError, OSError):
        return False


class UpdateMethods(ApiState):
    """Update delivery of ``LocalBotApi``."""

    _webhook_threads: tuple[threading.Thread, ...] = ()

    def _start_webhook_sender(self) -> None:
        """Called with the server: the threads that call a loopback webhook."""
        self._in_flight: set[int] = set()  # update ids being posted
        self._chats_in_flight: set[object] = set()
        self._webhook_threads = tuple(
            threading.Thread(target=self._send_to_webhook, name=f"botapi-webhook-{i}", daemon=True)
            for i in range(WEBHOOK_CONNECTIONS)
        )
        for thread in self._webhook_threads:
            thread.start()

    def _next_for_webhook(self) -> JSONDict | None:
        """The oldest update not being posted whose chat has none being posted (lock held):
        chats are served at once, each chat's updates in order."""
        for update in self._updates:
            if update["update_id"] not in self._in_flight and (
                _chat_of(update) not in self._chats_in_flight
            ):
                return update
        return None

    def _send_to_webhook(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and not (
                    self._webhook_called()
                    and self._in_flight_count() < self._webhook_connections()
                    and self._next_for_webhook() is not None
                ):
                    self._cond.wait(0.5)
                if self._stopping:
                    return
                hook = dict(self._webhook or {})
                found = self._next_for_webhook()
                assert found is not None
                update = copy.deepcopy(found)
                chat = _chat_of(update)
                self._in_flight.add(update["update_id"])
                self._chats_in_flight.add(chat)
                self.metrics._handed_over([update["update_id"]], self._clock())
            taken = _post(hook, update)
            with self._cond:
                if not taken and not self._stopping:
                    self._cond.wait(WEBHOOK_RETRY)  # the chat waits; other chats go on
                self._in_flight.discard(update["update_id"])
                self._chats_in_flight.discard(chat)
                if taken:
                    self._updates = [
                        u for u in self._updates if u["update_id"] != update["update_id"]
                    ]
                    self._api_waiters.wake_all()
                self._cond.notify_all()

    def _in_flight_count(self) -> int:
        return len(self._in_flight)

    def _webhook_connections(self) -> int:
        """Requests at once, as ``setWebhook``'s ``max_connections`` asks (lock held)."""
        asked = (self._webhook or {}).get("max_connections") or WEBHOOK_CONNECTIONS
        return max(1, min(int(asked), WEBHOOK_CONNECTIONS))

    def _webhook_called(self) -> bool:
        """A webhook is set and its URL is on this machine (API lock held)."""
        if self._webhook is None:
            return False
        url = urlsplit(str(self._webhook["url"]))
        return url.scheme == "http" and (url.hostname or "") in LOOPBACK

    def _api_setWebhook(self, params: Params) -> bool:
        url = params.get_str("url")
        if url is None:
            raise bad_request("url is empty")
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

    def _api_deleteWebhook(self, params: Params) -> bool:
        with self._cond:
            self._webhook = None
            if params.get_bool("drop_pending_updates"):
                self._drop_pending_updates()
            self._cond.notify_all()
            self._api_waiters.wake_all()
        return True

    def _api_getWebhookInfo(self, params: Params) -> JSONDict:
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

    def _api_getUpdates(self, params: Params) -> list[JSONDict]:
        offset = params.get_int("offset")
        limit = min(max(params.get_int("limit") or 100, 1), 100)
        timeout = max(params.get_float("timeout") or 0.0, 0.0)
        allowed = params.get_json("allowed_updates")
        with self._cond:
            if self._webhook is not None:
                raise ApiError(
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
                    raise bad_request("can't parse allowed_updates")
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
                        raise ApiError(
                            409,
                            "Conflict: terminated by other getUpdates request; make sure that "
                            "only one bot instance is running",
                        )
                    if self._updates:
                        batch = [copy.deepcopy(u) for u in self._updates[:limit]]
                        self.metrics._handed_over([u["update_id"] for u in batch], self._clock())
                        return batch
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return []
                    self._cond.wait(remaining)
            finally:
                self._active_polls -= 1
                self._api_waiters.wake_all()
