"""The bot's HTTP client for the Bot API: python-telegram-bot's requests over aiohttp.

PTB's default (``HTTPXRequest``: httpx over httpcore over anyio) costs about as much CPU per
request as the rest of an update's handling put together: httpcore looks at every pooled
connection on each request and each response (``has_expired``: a ``getpeername`` and a
``poll`` system call per idle connection), anyio builds a dictionary of attributes for
each of those looks, and the HTTP/1.1 parser is pure Python. aiohttp keeps its pool in a
few dictionaries and parses in C. Same contract as ``HTTPXRequest`` (PTB's ``BaseRequest``):
the parameters, multipart when files are sent, PTB's timeouts and errors (``TimedOut``,
``NetworkError``), a bounded pool of kept-alive connections.

Without files the parameters go as one JSON body, which the Bot API takes for every method
(« application/json (except for uploading files) »): one ``json.dumps`` of PTB's typed
parameters instead of one per parameter, then a form built and percent-encoded by aiohttp
(a multipart writer made and dropped, every byte quoted): a tenth of the bot's CPU per
update went to building those forms.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

JSON_BODY = {"Content-Type": "application/json"}


class AiohttpRequest(BaseRequest):
    """``BaseRequest`` over one ``aiohttp.ClientSession`` (made by ``initialize``).

    Timeouts as in ``HTTPXRequest``: ``connect_timeout`` for opening a connection,
    ``pool_timeout`` for waiting for a free one of the ``connection_pool_size``,
    ``read_timeout`` between two reads of the answer; the whole request is bounded by the
    sum of those and ``write_timeout`` (``media_write_timeout`` when files are sent).
    None waits forever."""

    def __init__(
        self,
        connection_pool_size: int = 16,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
                # No cookies: the Bot API sets none, and a jar is work on every answer.
                cookie_jar=aiohttp.DummyCookieJar(),
            )

    async def shutdown(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        body: Any = None
        headers: dict[str, str] | None = None
        if files:
            assert request_data is not None
            form = aiohttp.FormData(request_data.json_parameters)
            for name, part in files.items():
                if isinstance(part, tuple):
                    filename, content, mime = (*part, None)[:3]
                    form.add_field(name, content, filename=filename, content_type=mime)
                else:
                    form.add_field(name, part)
            body = form
        elif request_data is not None:
            parameters = request_data.parameters
            if parameters:
                body = json.dumps(parameters, ensure_ascii=False).encode()
                headers = JSON_BODY
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = (
            self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        )
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        write = write_timeout
        if isinstance(write, DefaultValue):
            write = self._media_write_timeout if files else self._write_timeout
        parts = (pool, connect, write, read)
        timeout = aiohttp.ClientTimeout(
            # aiohttp has no write timeout of its own: the whole request is bounded by the sum.
            total=None if None in parts else sum(p for p in parts if p is not None),
            # aiohttp's ``connect`` covers waiting for a pooled connection and opening one.
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=read,
        )
        try:
            async with session.request(
                method, url, data=body, headers=headers, timeout=timeout
            ) as answer:
                return answer.status, await answer.read()
        except TimeoutError as err:  # aiohttp's timeouts are TimeoutError too
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err
