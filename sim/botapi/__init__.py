"""A local Telegram Bot API server, for the test suite and ``temoin demo``.

No internet is reachable where Témoin is tested or demonstrated, so the bot (python-telegram-bot,
"PTB") talks to this small server on loopback instead of api.telegram.org, over PTB's real HTTP
stack. Only the standard library is used (``http.server`` in background threads), so the package
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

Layout: ``api`` (``LocalBotApi``: life cycle, addresses, users, inspection) is assembled over
``state`` (the shared state, waiting and waking) from one mixin per job: ``routing`` (HTTP
request to method), ``messages``, ``files``, ``callbacks`` (keyboards and button presses),
``updates`` (long polling, webhooks) and ``bot_info``. Beside them: ``transport`` (the HTTP
threads), ``params`` (request parsing), ``entities`` (parse modes), ``users``
(``SimulatedUser``), ``metrics``, ``waiters`` and ``common`` (types, limits, errors).
"""

from __future__ import annotations

from sim.botapi.api import LocalBotApi
from sim.botapi.common import DEFAULT_TOKEN, DateLike, JSONDict
from sim.botapi.metrics import Availability, BotApiMetrics, LatencySample
from sim.botapi.params import UploadedFile
from sim.botapi.users import SimulatedUser

__all__ = [
    "DEFAULT_TOKEN",
    "Availability",
    "BotApiMetrics",
    "DateLike",
    "JSONDict",
    "LatencySample",
    "LocalBotApi",
    "SimulatedUser",
    "UploadedFile",
]
