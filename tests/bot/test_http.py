"""The bot's Bot API client (``bot.http.AiohttpRequest``) keeps PTB's contract: parameters
and files reach the server, Telegram's errors come back as PTB's, and a server that cannot be
reached or does not answer gives ``NetworkError`` / ``TimedOut``, never a hang."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.http import AiohttpRequest
from sim.botapi import LocalBotApi


@pytest.fixture
async def bot(api: LocalBotApi) -> AsyncIterator[Bot]:
    found = Bot(api.token, base_url=api.base_url, request=AiohttpRequest(connection_pool_size=2))
    async with found:
        yield found


async def test_messages_keyboards_and_files_reach_the_server(api: LocalBotApi, bot: Bot) -> None:
    user = api.user(4242, "Zoé", started=True)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Oui", callback_data="q:1:0:y")]])
    sent = await bot.send_message(user.id, "Décroché ? « oui »", reply_markup=keyboard)
    got = await user.wait_for_message()
    assert got["message_id"] == sent.message_id
    assert got["text"] == "Décroché ? « oui »"
    assert got["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "q:1:0:y"
    await bot.send_document(user.id, b"%PDF-1.4 rapport", filename="rapport.pdf", caption="pdf")
    document = await user.wait_for_message(lambda m: "document" in m)
    assert document["caption"] == "pdf"
    assert document["document"]["file_name"] == "rapport.pdf"


async def test_many_requests_share_a_small_pool(api: LocalBotApi, bot: Bot) -> None:
    user = api.user(4243, "Yann", started=True)
    sent = await asyncio.gather(*(bot.send_message(user.id, f"n°{i}") for i in range(40)))
    assert len({m.message_id for m in sent}) == 40


async def test_telegram_errors_come_back_as_ptb_errors(api: LocalBotApi, bot: Bot) -> None:
    user = api.user(4244, "Xavier", started=True)
    with pytest.raises(BadRequest):
        await bot.send_message(user.id, "")  # Telegram refuses an empty text


async def test_an_unreachable_server_is_a_network_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends: nobody listens there
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError):
            await request.post(f"http://127.0.0.1:{port}/botX/getMe")
    finally:
        await request.shutdown()


async def test_a_silent_server_times_out() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1000)
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    request = AiohttpRequest(read_timeout=0.2)
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await request.post(f"http://127.0.0.1:{port}/botX/getMe")
    finally:
        await request.shutdown()
        server.close()


async def test_a_request_before_initialize_is_refused() -> None:
    with pytest.raises(RuntimeError, match="not initialized"):
        await AiohttpRequest().do_request("http://127.0.0.1:1/botX/getMe", "POST")
