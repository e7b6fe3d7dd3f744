"""Photos from the bot: a decompression bomb is refused before decoding, and a file whose
size Telegram does not say is downloaded with a cap, never whole.

Through the real bot and the local Bot API: an auditor at the « photo of the reply » step of
a letter sends a 118.8 Mpx PNG of a few kilobytes (it decoded to 1.9 GB), then a 300 KB photo
whose ``file_size`` is absent from both the message and ``getFile``. ``download_capped`` is
also pointed at a server that never stops sending.
"""

from __future__ import annotations

import http.server
import io
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select

from sim.botapi import LocalBotApi, SimulatedUser
from storage.db import Database
from storage.models import Blob
from tests.bot.conftest import api, running
from tests.bot.support import Bot, buttons, enrol, next_with_buttons, seed, text_of

__all__ = ["api", "running"]


def png_bomb(width: int = 11_000, height: int = 10_800) -> bytes:
    """A valid, blank PNG of ``width`` x ``height`` pixels (bilevel: 15 MB to build, a few
    kilobytes once compressed)."""
    out = io.BytesIO()
    Image.new("1", (width, height)).save(out, format="PNG")
    return out.getvalue()


async def _at_letter_photo_step(api: LocalBotApi, database: Database) -> SimulatedUser:
    await seed(database)
    paul = await enrol(api, database, "paul", 6401)
    for step in ("📮 Courrier posté", "📬 Réponse reçue"):
        paul.send_command("/taches")
        listing = await next_with_buttons(paul)
        paul.press(next(b for b in buttons(listing) if b.startswith("✉️")))
        await next_with_buttons(paul)
        paul.press(step)
        await next_with_buttons(paul)
        paul.press("Hier" if step.startswith("📮") else "Aujourd’hui")
        if step.startswith("📬"):
            assert "photo de la réponse" in text_of(await next_with_buttons(paul))
        else:
            await next_with_buttons(paul)
    return paul


async def _blobs(database: Database) -> int:
    async with database.session() as s:
        return await s.scalar(select(func.count()).select_from(Blob)) or 0


async def test_a_decompression_bomb_is_refused_before_decoding(
    api: LocalBotApi, database: Database, running: Bot
) -> None:
    paul = await _at_letter_photo_step(api, database)
    bomb = png_bomb()
    assert len(bomb) < running.config().photo_max_bytes  # it passes the size check
    paul.send_document(bomb, "reponse.png", "image/png")
    assert "trop grande (plus de 50 mégapixels)" in text_of(await paul.wait_for_message())
    assert await _blobs(database) == 0


async def test_a_photo_of_unknown_size_is_downloaded_with_a_cap(
    api: LocalBotApi, database: Database, running: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    paul = await _at_letter_photo_step(api, database)
    original = LocalBotApi._api_getFile

    def no_size(self: LocalBotApi, params: Any) -> Any:
        found = dict(original(self, params))
        found.pop("file_size", None)  # Telegram may omit it
        return found

    monkeypatch.setattr(LocalBotApi, "_api_getFile", no_size)
    heavy = bytes(300_000)  # the test bot takes 200,000 bytes at most
    with api._lock:
        sizes = api._store_photo(heavy, 1280, 960)
    for size in sizes:
        del size["file_size"]
    api._user_message(paul, {"photo": sizes}, None, None)
    assert "trop lourde" in text_of(await paul.wait_for_message())
    assert await _blobs(database) == 0


class _Endless(http.server.BaseHTTPRequestHandler):
    """Sends zeros until the client goes away (no Content-Length), or says it will send
    more than anyone should take."""

    def do_GET(self) -> None:
        self.send_response(200)
        if self.path == "/declared":
            self.send_header("Content-Length", str(10**12))
            self.end_headers()
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"%x\r\n%s\r\n" % (65536, bytes(65536))
        try:
            for _ in range(100_000):  # 6.5 GB: a bounded loop all the same
                self.wfile.write(chunk)
        except OSError:
            pass

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def endless() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Endless)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_download_capped_stops_at_the_limit(endless: str) -> None:
    from bot.photos import PhotoTooHeavy, download_capped

    with pytest.raises(PhotoTooHeavy, match="more than 1000000 bytes"):
        await download_capped(f"{endless}/endless", 1_000_000)
    with pytest.raises(PhotoTooHeavy, match="Content-Length"):
        await download_capped(f"{endless}/declared", 1_000_000)
