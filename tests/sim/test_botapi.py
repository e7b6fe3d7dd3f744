"""The local Telegram Bot API server, driven by PTB's real ``Bot`` / ``Application`` over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dtm
import http.server
import importlib.util
import json
import re
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonCommands,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from sim.botapi import LatencySample, LocalBotApi, SimulatedUser

if importlib.util.find_spec("sniffio") is None:
    # httpcore runs ``import sniffio`` on every request and falls back to asyncio when it is
    # missing; each failed import searches sys.path through pytest's import hooks, which made
    # the 200-user test several times slower. A None entry fails that import at once; nothing
    # else changes (the package is not installed either way).
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]

App = Application[Any, Any, Any, Any, Any, Any]

PHOTO = bytes(range(256)) + b"\r\n--boundary\r\n\r\n\x00\xff" * 50  # binary, multipart-hostile


@pytest.fixture
def api() -> Iterator[LocalBotApi]:
    with LocalBotApi() as server:
        yield server
    assert server.internal_errors == []


# ---- a small bot --------------------------------------------------------------------------


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    arg = context.args[0] if context.args else "-"
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Oui", callback_data="answer:yes"),
                InlineKeyboardButton("Non", callback_data="answer:no"),
            ]
        ]
    )
    await update.effective_message.reply_text(
        f"Bienvenue <b>{update.effective_user.first_name}</b> ({arg})",
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard,
    )


async def on_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    accessible = query.message is not None and query.message.is_accessible
    context.bot_data.setdefault("callbacks", []).append((query.data, accessible))
    await query.answer(f"reçu {query.data}")
    if accessible:
        await query.edit_message_text(f"Réponse : {query.data}")


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.text is not None
    context.bot_data.setdefault("texts", []).append((message.text, message.date))
    await message.reply_text(f"écho : {message.text}")


async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    data = bytes(await (await message.photo[-1].get_file()).download_as_bytearray())
    context.bot_data["photo"] = data
    await message.reply_photo(data, caption=f"{len(data)} octets ({message.caption})")


async def on_location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.location is not None
    await message.reply_location(message.location.latitude, message.location.longitude)


def build_app(api: LocalBotApi, *, concurrent: bool = False) -> App:
    builder = (
        Application.builder()
        .token(api.token)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
    )
    if concurrent:
        # httpcore's pool management grows quadratically with its size: PTB's default of 256
        # connections costs more CPU than it saves under load; a few connections do better.
        builder = builder.concurrent_updates(64).connection_pool_size(16).pool_timeout(30)
    app = builder.build()
    app.add_handler(CommandHandler("start", on_start))
    app.add_handler(CallbackQueryHandler(on_callback))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(MessageHandler(filters.PHOTO, on_photo))
    app.add_handler(MessageHandler(filters.LOCATION, on_location))
    return app


async def start_app(app: App, poll_timeout: int = 10) -> None:
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=poll_timeout)


async def stop_app(app: App) -> None:
    assert app.updater is not None
    if app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()


@pytest.fixture
async def app(api: LocalBotApi) -> AsyncIterator[App]:
    application = build_app(api)
    await start_app(application)
    try:
        yield application
    finally:
        await stop_app(application)


@pytest.fixture
async def bot(api: LocalBotApi) -> AsyncIterator[Bot]:
    async with Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as b:
        yield b


def has_edit(message: dict[str, Any]) -> bool:
    return "edit_date" in message


# ---- round trips through a polling Application ---------------------------------------------


async def test_start_keyboard_press_and_edit(api: LocalBotApi, app: App) -> None:
    alice = api.user(1001, "Alice")
    sent = alice.send_command("/start", "campagne-7")
    assert sent["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]

    welcome = await alice.wait_for_message()
    assert welcome["text"] == "Bienvenue Alice (campagne-7)"
    assert welcome["entities"] == [{"type": "bold", "offset": 10, "length": 5}]
    assert welcome["chat"]["id"] == 1001 and welcome["from"]["is_bot"] is True
    assert welcome["message_id"] > sent["message_id"]
    buttons = welcome["reply_markup"]["inline_keyboard"][0]
    assert [b["text"] for b in buttons] == ["Oui", "Non"]

    alice.press("Oui")
    edited = await alice.wait_for_message(has_edit)
    assert edited["message_id"] == welcome["message_id"]
    assert edited["text"] == "Réponse : answer:yes"
    assert "reply_markup" not in edited  # an edit without reply_markup drops the keyboard
    answer = await alice.wait_for_callback_answer()
    assert answer["text"] == "reçu answer:yes"
    assert [m["message_id"] for m in alice.messages] == [welcome["message_id"]] * 2
    assert alice.last_message == edited
    with pytest.raises(LookupError, match="no bot message with an inline keyboard"):
        alice.press("Non")


async def test_text_echo_with_controlled_date(api: LocalBotApi, app: App) -> None:
    bob = api.user(1002, "Bob", language_code="br")
    when = dtm.datetime(2025, 3, 14, 9, 30, tzinfo=dtm.UTC)
    bob.send_text("Mairie fermée", date=when)
    bob.send_text("Rappel demain", date=int(when.timestamp()) + 95)
    first = await bob.wait_for_message(lambda m: m["text"] == "écho : Mairie fermée")
    second = await bob.wait_for_message()
    assert second["text"] == "écho : Rappel demain"
    assert first["date"] >= int(time.time()) - 5  # the bot's own messages: server clock
    texts = app.bot_data["texts"]
    assert texts == [
        ("Mairie fermée", when),
        ("Rappel demain", when + dtm.timedelta(seconds=95)),
    ]


async def test_photo_download_and_upload(api: LocalBotApi, app: App) -> None:
    carol = api.user(1003, "Carol")
    sent = carol.send_photo(PHOTO, "guichet")
    assert len(sent["photo"]) == 2 and sent["photo"][-1]["file_size"] == len(PHOTO)
    reply = await carol.wait_for_message()
    assert app.bot_data["photo"] == PHOTO  # GET /file/bot<token>/<path>
    assert reply["caption"] == f"{len(PHOTO)} octets (guichet)"
    assert api.file_bytes(reply["photo"][-1]["file_id"]) == PHOTO  # multipart upload


async def test_location_round_trip(api: LocalBotApi, app: App) -> None:
    dan = api.user(1004, "Dan")
    dan.send_location(48.8566, 2.3522)
    reply = await dan.wait_for_message()
    assert reply["location"] == {"latitude": 48.8566, "longitude": 2.3522}


async def test_forged_callback_data_reaches_the_handler(api: LocalBotApi, app: App) -> None:
    eve = api.user(1005, "Eve")
    eve.send_command("/start")
    welcome = await eve.wait_for_message()
    eve.press_data("answer:yes;admin=1", welcome["message_id"])
    edited = await eve.wait_for_message(has_edit)
    assert edited["text"] == "Réponse : answer:yes;admin=1"
    eve.press_data("stale:42", 9999)  # unknown message: inaccessible, as in Telegram
    answer = await eve.wait_for_callback_answer(lambda a: a["text"] == "reçu stale:42")
    assert answer["show_alert"] is False
    assert app.bot_data["callbacks"] == [("answer:yes;admin=1", True), ("stale:42", False)]


async def test_many_users_at_once(api: LocalBotApi) -> None:
    application = build_app(api, concurrent=True)
    await start_app(application)
    try:
        users = [api.user(50_000 + n, f"Auditeur {n}") for n in range(200)]

        async def session(user: SimulatedUser) -> None:
            user.send_command("/start", str(user.id))
            welcome = await user.wait_for_message(timeout=20)
            assert welcome["text"] == f"Bienvenue {user.first_name} ({user.id})"
            user.press("Non")
            edited = await user.wait_for_message(has_edit, timeout=20)
            assert edited["text"] == "Réponse : answer:no"
            user.send_text("fin")
            assert (await user.wait_for_message(timeout=20))["text"] == "écho : fin"

        started = time.monotonic()
        await asyncio.gather(*(session(user) for user in users))
        elapsed = time.monotonic() - started
    finally:
        await stop_app(application)
    requests = api.metrics.requests()
    assert requests["sendMessage"] == 400
    assert requests["editMessageText"] == 200
    assert requests["answerCallbackQuery"] == 200
    assert len(api.metrics.latencies()) == 600
    assert api.pending_update_count == 0
    assert elapsed < 30


async def test_metrics_count_requests_and_record_latency(api: LocalBotApi) -> None:
    samples: list[LatencySample] = []
    api.metrics.latency_hook = samples.append
    application = build_app(api)
    await start_app(application)
    try:
        fay = api.user(1006, "Fay")
        fay.send_text("un")
        await fay.wait_for_message()
        fay.send_command("/start")
        await fay.wait_for_message()
        fay.press("Oui")
        await fay.wait_for_message(has_edit)
    finally:
        await stop_app(application)
    requests = api.metrics.requests()
    assert requests["getMe"] == 1
    assert requests["deleteWebhook"] == 1
    assert requests["sendMessage"] == 2
    assert requests["answerCallbackQuery"] == 1
    assert requests["editMessageText"] == 1
    assert requests["getUpdates"] >= 3
    assert api.metrics.total_requests == sum(requests.values())
    assert [(s.chat_id, s.method) for s in samples] == [
        (1006, "sendMessage"),
        (1006, "sendMessage"),
        (1006, "answerCallbackQuery"),  # the press: answered first, then edited
    ]
    assert samples == api.metrics.latencies()
    assert all(0 < s.seconds < 5 for s in samples)
    assert samples[0].update_id < samples[1].update_id < samples[2].update_id


def test_each_update_records_when_it_was_made_available() -> None:
    now = [1_700_000_000.0]
    with LocalBotApi(clock=lambda: now[0]) as server:
        gil = server.user(1007, "Gil")
        gil.send_text("bonjour")
        now[0] += 2.5
        query = gil.press_data("o:12", 1)
        server.metrics.reset()
        now[0] += 1.0
        gil.press_data("p:12:up", 1)
        found = server.metrics.availabilities()
    assert query["data"] == "o:12"
    assert [(a.chat_id, a.kind, a.at, a.data) for a in found] == [
        (1007, "callback_query", 1_700_000_003.5, "p:12:up")
    ]


async def test_each_update_records_when_getupdates_first_handed_it_over() -> None:
    now = [1_700_000_000.0]
    with LocalBotApi(clock=lambda: now[0]) as server:
        server.user(1008, "Hugo").send_text("bonjour")
        now[0] += 4.0
        async with httpx.AsyncClient() as client:
            first = (await client.post(server.method_url("getUpdates"))).json()["result"]
            now[0] += 1.0
            again = (await client.post(server.method_url("getUpdates"))).json()["result"]
        delivered = server.metrics.deliveries()
    assert [u["update_id"] for u in first] == [u["update_id"] for u in again]  # not confirmed
    assert delivered == {first[0]["update_id"]: 1_700_000_004.0}  # the first hand-over counts


# ---- getUpdates semantics --------------------------------------------------------------------


async def test_long_poll_waits_for_an_update(api: LocalBotApi, bot: Bot) -> None:
    gus = api.user(1007, "Gus")
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert time.monotonic() - started >= 0.9

    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await api.wait_until(lambda: api.active_polls == 1)
    started = time.monotonic()
    gus.send_text("réveil")
    updates = await poll
    assert time.monotonic() - started < 2
    assert [u.message.text for u in updates if u.message] == ["réveil"]


async def test_updates_are_kept_until_confirmed(api: LocalBotApi, bot: Bot) -> None:
    hal = api.user(1008, "Hal")
    for text in ("a", "b", "c"):
        hal.send_text(text)
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first if u.message] == ["a", "b"]
    again = await bot.get_updates()  # no offset: nothing confirmed yet
    assert [u.message.text for u in again if u.message] == ["a", "b", "c"]
    assert [u.update_id for u in again[:2]] == [u.update_id for u in first]
    assert first[0].update_id < first[1].update_id < again[2].update_id
    rest = await bot.get_updates(offset=first[1].update_id + 1)
    assert [u.message.text for u in rest if u.message] == ["c"]
    assert api.pending_update_count == 1
    assert await bot.get_updates(offset=rest[0].update_id + 1) == ()
    assert api.pending_update_count == 0


async def test_update_caught_by_a_stopped_poll_is_redelivered(api: LocalBotApi) -> None:
    ida = api.user(1009, "Ida")
    # A bot stopped in the middle of a long poll: its request is abandoned, the server still
    # holds it, and the next update is answered into a dead connection.
    async with Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as old:
        poll = asyncio.create_task(old.get_updates(timeout=30))
        await api.wait_until(lambda: api.active_polls == 1)
        poll.cancel()
        with pytest.raises(asyncio.CancelledError):
            await poll
    ida.send_text("toujours là ?")
    await api.wait_until(lambda: api.active_polls == 0)  # the stale poll took it
    assert api.pending_update_count == 1  # ... but did not confirm it

    application = build_app(api)
    await start_app(application)
    try:
        assert (await ida.wait_for_message())["text"] == "écho : toujours là ?"
    finally:
        await stop_app(application)
    assert application.bot_data["texts"][0][0] == "toujours là ?"


async def test_new_application_gets_what_arrived_while_none_ran(api: LocalBotApi) -> None:
    jon = api.user(1010, "Jon")
    first = build_app(api)
    await start_app(first)
    try:
        jon.send_text("un")
        await jon.wait_for_message()
        await api.wait_until(lambda: api.active_polls == 1)
    finally:
        await stop_app(first)  # cancels its pending long poll
    jon.send_text("deux")
    jon.send_text("trois")

    second = build_app(api)
    await start_app(second)
    try:
        await jon.wait_for_message(lambda m: m["text"] == "écho : trois")
    finally:
        await stop_app(second)
    assert [t for t, _ in first.bot_data["texts"]] == ["un"]
    assert [t for t, _ in second.bot_data["texts"]] == ["deux", "trois"]  # none lost, no dup
    assert api.pending_update_count == 0


async def test_drop_pending_updates_and_allowed_updates(api: LocalBotApi) -> None:
    uma = api.user(1020, "Uma")
    uma.send_text("avant le démarrage")
    application = build_app(api)
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(
        poll_interval=0, timeout=10, drop_pending_updates=True, allowed_updates=["callback_query"]
    )
    try:
        await api.wait_until(lambda: api.active_polls == 1)
        assert api.pending_update_count == 0  # dropped by deleteWebhook(drop_pending_updates)
        uma.send_text("filtré")  # not an allowed kind: never queued
        uma.press_data("answer:yes", 1)
        await uma.wait_for_callback_answer()
    finally:
        await stop_app(application)
    assert "texts" not in application.bot_data
    assert application.bot_data["callbacks"] == [("answer:yes", True)]
    assert api.metrics.updates_created == 3
    assert api.pending_update_count == 0


async def test_newer_poll_terminates_older_one(api: LocalBotApi, bot: Bot) -> None:
    async with Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as other:
        older = asyncio.create_task(other.get_updates(timeout=10))
        await api.wait_until(lambda: api.active_polls == 1)
        assert await bot.get_updates(timeout=0) == ()
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await older


async def test_webhook_is_recorded_and_blocks_polling(api: LocalBotApi, bot: Bot) -> None:
    assert await bot.set_webhook("https://temoin.example/hook", secret_token="s3cret")
    info = await bot.get_webhook_info()
    assert info.url == "https://temoin.example/hook"
    assert api.webhook is not None and api.webhook["secret_token"] == "s3cret"
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates() == ()


async def test_a_loopback_webhook_is_called_in_order_until_it_takes_each_update(
    api: LocalBotApi, bot: Bot
) -> None:
    """Telegram's side of a webhook, for a server on this machine: each update POSTed with
    the secret token, posted again until the server answers 2xx, then confirmed."""
    received: list[tuple[int, str | None]] = []
    refuse_first = [True]

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append(
                (body["update_id"], self.headers.get("X-Telegram-Bot-Api-Secret-Token"))
            )
            status = 503 if refuse_first[0] else 200
            refuse_first[0] = False
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        assert await bot.set_webhook(url, secret_token="s3cret")
        user = api.user(4242, "Ana", started=True)
        user.send_text("un")
        user.send_text("deux")
        await api.wait_until(lambda: len(received) >= 3 and api.pending_update_count == 0)
    finally:
        server.shutdown()
        server.server_close()
    ids = [update_id for update_id, _ in received]
    assert ids[0] == ids[1] and ids[2] == ids[0] + 1  # refused once, posted again, in order
    assert {secret for _, secret in received} == {"s3cret"}
    assert set(api.metrics.deliveries()) == {ids[0], ids[2]}


async def test_a_webhook_elsewhere_than_this_machine_is_never_called(
    api: LocalBotApi, bot: Bot
) -> None:
    assert await bot.set_webhook("http://192.0.2.1/hook", secret_token="s3cret")
    api.user(4243, "Bo", started=True).send_text("un")
    await asyncio.sleep(0.3)
    assert api.pending_update_count == 1 and api.metrics.deliveries() == {}


# ---- errors ----------------------------------------------------------------------------------


async def test_429_raises_retry_after(
    api: LocalBotApi, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PTB 22 warns (PTBDeprecationWarning) when RetryAfter is built with int periods.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    kim = api.user(1011, "Kim", started=True)
    api.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(kim.id, "trop vite")
    assert caught.value.retry_after == dtm.timedelta(seconds=7)
    assert kim.messages == []  # the failed call did nothing
    await bot.send_message(kim.id, "plus tard")
    assert [m["text"] for m in kim.messages] == ["plus tard"]


async def test_403_raises_forbidden(api: LocalBotApi, bot: Bot) -> None:
    lea = api.user(1012, "Léa", started=True)
    api.fail_next("sendMessage", 403)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(lea.id, "x")
    lea.block()
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(lea.id, "x")
    lea.send_text("je reviens")  # writing again unblocks the bot
    await bot.send_message(lea.id, "bon retour")
    stranger = api.user(1013, "Max")
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await bot.send_message(stranger.id, "bonjour")


async def test_400_raises_bad_request(api: LocalBotApi, bot: Bot) -> None:
    ned = api.user(1014, "Ned", started=True)
    api.fail_next("editMessageText", 400, "Bad Request: injected")
    sent = await bot.send_message(ned.id, "texte")
    with pytest.raises(BadRequest, match="Injected"):
        await bot.edit_message_text("autre", chat_id=ned.id, message_id=sent.message_id)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("texte", chat_id=ned.id, message_id=sent.message_id)
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(424242, "x")
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(ned.id, "")
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(ned.id, "é" * 4097)
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(ned.id, "x", reply_to_message_id=999)
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]])
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(ned.id, "x", reply_markup=too_long)
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("123")


async def test_parse_modes_like_telegram(api: LocalBotApi, bot: Bot) -> None:
    oz = api.user(1015, "Oz", started=True)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities: unsupported start tag"):
        await bot.send_message(oz.id, "délai < 2 jours", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)can't find end tag"):
        await bot.send_message(oz.id, "<b>gras", parse_mode=ParseMode.HTML)
    html = await bot.send_message(
        oz.id,
        'Dupont &amp; fils <a href="https://x.fr/?a=1&amp;b=2">lien</a> 😀 <i>ok</i>',
        parse_mode=ParseMode.HTML,
    )
    assert html.text == "Dupont & fils lien 😀 ok"
    assert [(e.type, e.offset, e.length) for e in html.entities] == [
        ("text_link", 14, 4),
        ("italic", 22, 2),  # the emoji counts two UTF-16 units
    ]
    assert html.entities[0].url == "https://x.fr/?a=1&b=2"
    with pytest.raises(BadRequest, match=r"(?i)character '\.' is reserved"):
        await bot.send_message(oz.id, "Note 4.5 sur 5", parse_mode=ParseMode.MARKDOWN_V2)
    md = await bot.send_message(oz.id, r"*Note* 4\.5 _sur_ 5", parse_mode=ParseMode.MARKDOWN_V2)
    assert md.text == "Note 4.5 sur 5"
    assert [(e.type, e.offset, e.length) for e in md.entities] == [
        ("bold", 0, 4),
        ("italic", 9, 3),
    ]


async def test_wrong_token_raises_invalid_token(api: LocalBotApi) -> None:
    wrong = Bot("7000000001:wrong", base_url=api.base_url, base_file_url=api.base_file_url)
    with pytest.raises(InvalidToken, match="rejected by the server"):
        async with wrong:
            pass
    application = (
        Application.builder()
        .token("1:not-ours")
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )
    with pytest.raises(InvalidToken):
        await application.initialize()
    # Application.shutdown() skips a never-initialized app, leaving its bot's HTTP client open.
    await application.bot.shutdown()


# ---- other methods and raw HTTP ---------------------------------------------------------------


async def test_other_bot_methods(api: LocalBotApi, bot: Bot) -> None:
    pia = api.user(1016, "Pia", started=True)
    assert await bot.set_my_commands([("start", "Commencer"), ("aide", "Aide")])
    assert [(c.command, c.description) for c in await bot.get_my_commands()] == [
        ("start", "Commencer"),
        ("aide", "Aide"),
    ]
    assert await bot.set_my_commands([("start", "Start")], language_code="en")
    assert api.my_commands(language_code="en") == [{"command": "start", "description": "Start"}]
    assert await bot.set_chat_menu_button(chat_id=pia.id, menu_button=MenuButtonCommands())
    assert api.menu_button(pia.id) == {"type": "commands"}
    chat = await bot.get_chat(pia.id)
    assert (chat.id, chat.type, chat.first_name) == (pia.id, "private", "Pia")

    keyboard = ReplyKeyboardMarkup([["Appel", "Visite"]], one_time_keyboard=True)
    await bot.send_message(pia.id, "Quel type ?", reply_markup=keyboard)
    assert pia.reply_keyboard == [["Appel", "Visite"]]
    doc = await bot.send_document(pia.id, b"%PDF-1.7\r\n\x00", filename="rapport.pdf")
    assert doc.document is not None and doc.document.file_name == "rapport.pdf"
    assert api.file_bytes(doc.document.file_id) == b"%PDF-1.7\r\n\x00"
    again = await bot.send_document(pia.id, doc.document.file_id)  # resent by file_id
    assert again.document is not None and again.document.file_id == doc.document.file_id
    location = await bot.send_location(pia.id, 43.6, 1.44)
    assert location.location is not None and location.location.longitude == 1.44
    assert await bot.delete_message(pia.id, location.message_id)
    assert pia.deleted_message_ids == [location.message_id]
    assert pia.message(location.message_id) is None
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(pia.id, location.message_id)

    markup = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
    sent = await bot.send_message(pia.id, "choix", reply_markup=markup)
    bare = await bot.edit_message_reply_markup(pia.id, sent.message_id)
    assert isinstance(bare, Message) and bare.reply_markup is None
    photo = pia.send_photo(PHOTO)
    file = await bot.get_file(photo["photo"][0]["file_id"])
    assert bytes(await file.download_as_bytearray()) == PHOTO
    receipt = pia.send_document(b"%PDF recu", "reçu.pdf", "application/pdf", caption="reçu")
    file = await bot.get_file(receipt["document"]["file_id"])
    assert file.file_path is not None and file.file_path.endswith(".pdf")
    assert bytes(await file.download_as_bytearray()) == b"%PDF recu"
    assert await bot.log_out() and await bot.close()


async def test_raw_http_json_form_and_errors(api: LocalBotApi) -> None:
    quentin = api.user(1017, "Quentin", started=True)
    async with httpx.AsyncClient() as client:
        response = await client.post(
            api.method_url("sendMessage"),
            json={
                "chat_id": quentin.id,
                "text": "123",
                "reply_markup": {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]},
            },
        )
        assert response.status_code == 200
        result = response.json()["result"]
        assert result["text"] == "123"
        assert result["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "go"

        # Form values are not JSON-decoded for string fields: "123" stays a string.
        form = await client.post(
            api.method_url("sendmessage"), data={"chat_id": str(quentin.id), "text": "007"}
        )
        assert form.json()["result"]["text"] == "007"

        me = await client.get(api.method_url("getMe"))
        assert me.json()["result"]["username"] == "temoin_test_bot"

        wrong = await client.post(f"{api.base_url}1:nope/getMe")
        assert wrong.status_code == 401
        assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}

        unknown = await client.post(api.method_url("sendDice"))
        assert unknown.status_code == 404
        assert unknown.json()["description"] == (
            "Not Found: method 'sendDice' is not implemented by LocalBotApi"
        )

        missing = await client.get(f"{api.base_file_url}{api.token}/photos/nothing.jpg")
        assert missing.status_code == 404
    assert api.metrics.request_count("sendMessage") == 2


async def test_stop_answers_pending_polls_and_waiters() -> None:
    server = LocalBotApi().start()
    try:
        vic = server.user(1021, "Vic")
        async with Bot(server.token, base_url=server.base_url) as bot:
            poll = asyncio.create_task(bot.get_updates(timeout=30))
            await server.wait_until(lambda: server.active_polls == 1)
            waiter = asyncio.create_task(vic.wait_for_message(timeout=30))
            started = time.monotonic()
            await asyncio.to_thread(server.stop)
            assert await poll == ()
            with pytest.raises(RuntimeError, match="stopped"):
                await waiter
            assert time.monotonic() - started < 3
    finally:
        server.stop()


async def test_chunked_request_body(api: LocalBotApi) -> None:
    wes = api.user(1022, "Wes", started=True)

    async def body() -> AsyncIterator[bytes]:
        yield f"chat_id={wes.id}&".encode()
        yield b"text=d%C3%A9coup%C3%A9"

    async with httpx.AsyncClient() as client:
        response = await client.post(
            api.method_url("sendMessage"),
            content=body(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 200, response.text
    assert response.json()["result"]["text"] == "découpé"


def test_simulated_user_side_rules(api: LocalBotApi) -> None:
    rita = api.user(1018, "Rita", last_name="Dupont", username="rita")
    assert api.user(1018, "Autre") is rita
    sent = rita.send_text("/aide@temoin_test_bot maintenant")
    assert sent["entities"] == [{"type": "bot_command", "offset": 0, "length": 21}]
    assert "entities" not in rita.send_text("pas /une commande")
    edited = rita.edit_text(sent["message_id"], "corrigé", date=1_700_000_000)
    assert edited["edit_date"] == 1_700_000_000
    assert sent["from"] == {
        "id": 1018,
        "is_bot": False,
        "first_name": "Rita",
        "last_name": "Dupont",
        "username": "rita",
        "language_code": "fr",
    }
    with pytest.raises(ValueError, match="timezone-aware"):
        rita.send_text("x", date=dtm.datetime(2025, 1, 1))
    with pytest.raises(LookupError):
        rita.press("Oui")
    with pytest.raises(ValueError, match="not a bot command"):
        rita.send_command("/pas une commande")
    with pytest.raises(ValueError, match="unknown Bot API method"):
        api.fail_next("sendTelepathy", 400)
    assert api.pending_update_count == 3  # two messages and an edit
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/bot", api.base_url)
    assert api.base_file_url == api.base_url.replace("/bot", "/file/bot")


async def test_wait_for_message_times_out_with_context(api: LocalBotApi) -> None:
    sam = api.user(1019, "Sam")
    with pytest.raises(TimeoutError, match="no matching bot message"):
        await sam.wait_for_message(timeout=0.1)
