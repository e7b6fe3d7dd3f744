"""Delivering updates: ``getUpdates`` long polling, and webhooks (recorded, never called).

``getUpdates`` keeps every update until a later call confirms it with a higher ``offset`` (a
negative offset keeps the last ones), holds the request up to ``timeout`` seconds while there
is none, and filters by ``allowed_updates``. A newer ``getUpdates`` ends an older one still
held with 409, as Telegram does; so does a set webhook.
"""

from __future__ import annotations

import copy
import time

from sim.botapi.common import ApiError, JSONDict, bad_request
from sim.botapi.params import Params
from sim.botapi.state import ApiState


class UpdateMethods(ApiState):
    """Update delivery of ``LocalBotApi``."""

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
