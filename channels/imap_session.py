"""A thin IMAP session over aioimaplib: the few commands Témoin needs, errors translated.

    async with ImapSession(account) as imap:
        folders = await imap.special_folders()          # {"sent": "Sent", "junk": "Junk"}
        state = await imap.select("INBOX")              # uidvalidity, exists, uidnext
        uids = await imap.search_message_id("<id@x>")   # in the selected folder
        async for item in imap.fetch_new(last_uid):     # UID, INTERNALDATE, raw bytes
            ...
        await imap.append("Sent", raw, flags=r"(\\Seen)")

Rules we keep (see ../shared/testing.md, aioimaplib): the client is created inside the running
loop; ``examine`` leaves aioimaplib in the AUTH state, so we ``select`` and only ever fetch with
``BODY.PEEK[]`` (nothing is marked read, deleted or moved: a person may use the mailbox too);
``UID n:*`` returns the highest UID even when it is below n, so results are filtered; literals
come back as a flat list and are regrouped per ``FETCH`` line. Implicit TLS only: aioimaplib has
no STARTTLS.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import aioimaplib

from channels.cleartext import cleartext_allowed, cleartext_refusal


class ImapError(Exception):
    """Base class; the message never contains a password."""


class ImapTemporaryError(ImapError):
    """Connection refused or lost, timeout, server BYE: reconnect with backoff."""


class ImapAuthError(ImapError):
    """Login refused: a configuration problem on our side."""


class ImapCommandError(ImapError):
    """The server answered NO/BAD to a command."""


@dataclass(frozen=True, slots=True)
class ImapAccount:
    host: str
    port: int
    security: str  # "tls" | "none"
    username: str
    password: str

    def __repr__(self) -> str:
        return f"ImapAccount({self.username}@{self.host}:{self.port})"


@dataclass(frozen=True, slots=True)
class FolderState:
    name: str
    uidvalidity: int
    exists: int
    uidnext: int | None


@dataclass(frozen=True, slots=True)
class FetchedMessage:
    uid: int
    internal_date: datetime
    size: int
    raw: bytes


_LIST_LINE = re.compile(rb'^\((?P<flags>[^)]*)\) (?P<sep>"[^"]*"|NIL) (?P<name>.+)$')
_FETCH_LINE = re.compile(rb"^\d+ FETCH \((?P<items>.*)$")
_UID = re.compile(rb"UID (\d+)")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


def _fetch_wait_data(self: aioimaplib.FetchCommand) -> bool:
    """aioimaplib's ``FetchCommand.wait_data``, computed incrementally.

    Is the current FETCH response still open (its parentheses unbalanced)? aioimaplib asks
    after every line and every network read, and answers by scanning and joining every line
    received so far: quadratic in the batch, about a millisecond of the event loop per message
    at 200 messages a batch. The same answer from a running count: the parentheses of the
    text lines (literals, as bytearrays, are not counted) since the last ``N FETCH (`` line.
    """
    state: tuple[int, int] = getattr(self, "_temoin_scan", (0, 0))
    scanned, balance = state
    lines = self._resp_lines
    for index in range(scanned, len(lines)):
        line = lines[index]
        if isinstance(line, bytes):
            if self.FETCH_MESSAGE_DATA_RE.match(line):
                balance = 0
            balance += line.count(b"(") - line.count(b")")
    self._temoin_scan = (len(lines), balance)
    return balance != 0


def _data_received(self: aioimaplib.IMAP4ClientProtocol, d: bytes) -> None:
    """aioimaplib 2.0's ``data_received`` without its ``log.debug('Received : %s' % d)``,
    which formats every read (hundreds of kilobytes of mail) whether debug is on or not: a
    quarter of the tracker's own CPU per message. The rest is the library's, line for line."""
    if _LIBRARY_LOG.isEnabledFor(logging.DEBUG):
        _LIBRARY_LOG.debug("Received : %s", d)
    try:
        self._handle_responses(self.incomplete_line + d, self._handle_line, self.current_command)
        self.incomplete_line = b""
        self.current_command = None
    except aioimaplib.IncompleteRead as incomplete_read:
        self.current_command = incomplete_read.cmd
        self.incomplete_line = incomplete_read.data


_LIBRARY_LOG = logging.getLogger(aioimaplib.aioimaplib.__name__)
LIBRARY_WAIT_DATA = aioimaplib.FetchCommand.wait_data  # the reference, for the tests
aioimaplib.FetchCommand.wait_data = _fetch_wait_data
aioimaplib.IMAP4ClientProtocol.data_received = _data_received


def parse_internaldate(text: str) -> datetime:
    """``29-Nov-2026 16:14:52 +0000`` -> aware UTC datetime (month names are English, per RFC)."""
    day, month, rest = text.strip().split("-", 2)
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    normal = f"{int(day):02d}-{months.index(month) + 1:02d}-{rest}"
    return datetime.strptime(normal, "%d-%m-%Y %H:%M:%S %z").astimezone(UTC)


def quote_mailbox(name: str) -> str:
    if name.upper() == "INBOX":
        return "INBOX"
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace").strip()
    if text.startswith('"') and text.endswith('"'):
        text = text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return text


class ImapSession:
    def __init__(
        self,
        account: ImapAccount,
        *,
        timeout: float = 30.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.account = account
        self.timeout = timeout
        self._tls_context = tls_context
        self._client: aioimaplib.IMAP4 | None = None
        self._lost: Exception | None = None
        self.selected: FolderState | None = None

    async def __aenter__(self) -> ImapSession:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def _on_lost(self, exc: Exception | None) -> None:
        self._lost = exc or ConnectionError("connection closed")
        # aioimaplib does not wake an IDLE waiter when the connection drops: push the
        # sentinel it uses for "stop waiting" so ``idle()`` returns and sees ``_lost``.
        client = self._client
        protocol = getattr(client, "protocol", None) if client is not None else None
        queue = getattr(protocol, "idle_queue", None)
        if queue is not None:
            queue.put_nowait(aioimaplib.STOP_WAIT_SERVER_PUSH)

    async def connect(self) -> None:
        if self.account.security == "none" and not cleartext_allowed(self.account.host):
            # IMAP LOGIN would carry the password in clear
            raise ImapAuthError(cleartext_refusal("imap", self.account.host, self.account.port))
        try:
            # aioimaplib's IMAP4_SSL does not take conn_lost_cb; IMAP4 with an SSL context
            # is the same implicit-TLS connection (IMAP4_SSL only forwards to it).
            context = None
            if self.account.security == "tls":
                context = self._tls_context or ssl.create_default_context()
            self._client = aioimaplib.IMAP4(
                self.account.host, self.account.port, timeout=self.timeout,
                conn_lost_cb=self._on_lost, ssl_context=context,
            )  # fmt: skip
            await asyncio.wait_for(self._client.wait_hello_from_server(), self.timeout)
        except (OSError, TimeoutError, aioimaplib.Abort) as exc:
            await self.close()
            raise ImapTemporaryError(
                f"cannot connect to {self.account.host}:{self.account.port}: {exc!r}"
            ) from exc
        try:
            response = await self._run(
                self._client.login(self.account.username, self.account.password)
            )
            if response.result != "OK":
                raise ImapAuthError(f"login refused for {self.account.username}: {_text(response)}")
        except ImapError:
            await self.close()
            raise

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        if self._lost is None:
            # A logout on a dead connection may raise anything; it is closed below anyway.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.logout(), 5)
        # Whatever LOGOUT did (or if it timed out), the transport must not outlive us.
        transport = getattr(getattr(client, "protocol", None), "transport", None)
        if transport is not None and not transport.is_closing():
            transport.close()

    @property
    def client(self) -> aioimaplib.IMAP4:
        if self._client is None:
            raise ImapTemporaryError("not connected")
        return self._client

    async def _run(self, awaitable: object) -> aioimaplib.Response:
        try:
            response: object = await asyncio.wait_for(awaitable, self.timeout)  # type: ignore[arg-type]
        except (OSError, TimeoutError, aioimaplib.Abort, aioimaplib.CommandTimeout) as exc:
            raise ImapTemporaryError(f"IMAP connection failed: {exc!r}") from exc
        if self._lost is not None:
            raise ImapTemporaryError(f"IMAP connection lost: {self._lost!r}")
        assert isinstance(response, aioimaplib.Response)
        return response

    async def _ok(self, awaitable: object, what: str) -> aioimaplib.Response:
        response = await self._run(awaitable)
        if response.result != "OK":
            raise ImapCommandError(f"{what}: {response.result} {_text(response)}")
        return response

    async def folders(self) -> list[tuple[str, tuple[str, ...]]]:
        response = await self._ok(self.client.list('""', "*"), "LIST")
        found: list[tuple[str, tuple[str, ...]]] = []
        for line in response.lines:
            if not isinstance(line, bytes | bytearray):
                continue
            match = _LIST_LINE.match(bytes(line))
            if match:
                flags = tuple(match.group("flags").decode().split())
                found.append((_unquote(match.group("name")), flags))
        return found

    async def special_folders(self) -> dict[str, str]:
        """Folder names by role: ``sent`` and ``junk`` from SPECIAL-USE, else common names."""
        roles: dict[str, str] = {}
        names: list[str] = []
        for name, flags in await self.folders():
            names.append(name)
            lowered = {f.lower() for f in flags}
            if "\\sent" in lowered:
                roles.setdefault("sent", name)
            if "\\junk" in lowered:
                roles.setdefault("junk", name)
        fallbacks = {
            "sent": ("Sent", "Sent Items", "Sent Messages", "Envoyés", "INBOX.Sent"),
            "junk": ("Junk", "Spam", "Courrier indésirable", "INBOX.Junk", "INBOX.spam"),
        }
        for role, candidates in fallbacks.items():
            if role not in roles:
                for candidate in candidates:
                    if candidate in names:
                        roles[role] = candidate
                        break
        return roles

    async def select(self, folder: str) -> FolderState:
        response = await self._ok(self.client.select(quote_mailbox(folder)), f"SELECT {folder}")
        uidvalidity = exists = 0
        uidnext: int | None = None
        for line in response.lines:
            if not isinstance(line, bytes | bytearray):
                continue
            text = bytes(line)
            if m := re.search(rb"UIDVALIDITY (\d+)", text):
                uidvalidity = int(m.group(1))
            elif m := re.search(rb"UIDNEXT (\d+)", text):
                uidnext = int(m.group(1))
            elif m := re.match(rb"(\d+) EXISTS", text):
                exists = int(m.group(1))
        self.selected = FolderState(folder, uidvalidity, exists, uidnext)
        return self.selected

    async def search_message_id(self, message_id: str) -> list[int]:
        response = await self._ok(
            self.client.uid_search("HEADER", "Message-ID", f'"{message_id}"', charset=None),
            "SEARCH",
        )
        return _numbers(response)

    async def uids_above(self, last_uid: int) -> list[int]:
        response = await self._ok(
            self.client.uid_search(f"UID {last_uid + 1}:*", charset=None), "SEARCH"
        )
        return sorted(uid for uid in _numbers(response) if uid > last_uid)

    async def fetch(self, uids: list[int]) -> list[FetchedMessage]:
        if not uids:
            return []
        message_set = ",".join(str(u) for u in uids)
        response = await self._ok(
            self.client.uid("fetch", message_set, "(UID INTERNALDATE RFC822.SIZE BODY.PEEK[])"),
            "FETCH",
        )
        fetched: list[FetchedMessage] = []
        pending: bytes | None = None
        for line in response.lines:
            if isinstance(line, bytearray) and pending is not None:
                uid = _UID.search(pending)
                date = _INTERNALDATE.search(pending)
                size = _SIZE.search(pending)
                if uid and date:
                    fetched.append(
                        FetchedMessage(
                            uid=int(uid.group(1)),
                            internal_date=parse_internaldate(date.group(1).decode()),
                            size=int(size.group(1)) if size else len(line),
                            raw=bytes(line),
                        )
                    )
                pending = None
            elif isinstance(line, bytes) and _FETCH_LINE.match(line):
                pending = line
        return fetched

    async def fetch_new(self, last_uid: int, batch: int = 50) -> AsyncIterator[FetchedMessage]:
        uids = await self.uids_above(last_uid)
        for start in range(0, len(uids), batch):
            for item in await self.fetch(uids[start : start + batch]):
                yield item

    async def append(
        self, folder: str, raw: bytes, *, flags: str | None = None, when: datetime | None = None
    ) -> tuple[int, int] | None:
        """APPEND; returns (UIDVALIDITY, UID) when the server supports UIDPLUS."""
        response = await self._ok(
            self.client.append(raw, mailbox=quote_mailbox(folder), flags=flags, date=when),
            f"APPEND {folder}",
        )
        for line in response.lines:
            if isinstance(line, bytes) and (m := re.search(rb"APPENDUID (\d+) (\d+)", line)):
                return int(m.group(1)), int(m.group(2))
        return None

    async def count(self, folder: str) -> tuple[int, int]:
        """(MESSAGES, UIDVALIDITY) of a folder, without selecting it."""
        response = await self._ok(
            self.client.status(quote_mailbox(folder), "(MESSAGES UIDVALIDITY)"), "STATUS"
        )
        messages = uidvalidity = 0
        for line in response.lines:
            if isinstance(line, bytes):
                if m := re.search(rb"MESSAGES (\d+)", line):
                    messages = int(m.group(1))
                if m := re.search(rb"UIDVALIDITY (\d+)", line):
                    uidvalidity = int(m.group(1))
        return messages, uidvalidity

    def has_idle(self) -> bool:
        return bool(self.client.has_capability("IDLE"))

    async def idle(self, wait_seconds: float) -> bool:
        """Wait up to ``wait_seconds`` for the server to push news; True if it did."""
        client = self.client
        try:
            idle = await asyncio.wait_for(client.idle_start(timeout=wait_seconds + 5), self.timeout)
            try:
                pushed = await asyncio.wait_for(
                    client.wait_server_push(wait_seconds), wait_seconds + 5
                )
            except TimeoutError:
                pushed = None
            if self._lost is not None:
                # The IDLE command can never complete on a dead connection: do not wait.
                idle.cancel()
                raise ImapTemporaryError(f"IMAP connection lost: {self._lost!r}")
            client.idle_done()
            await asyncio.wait_for(idle, self.timeout)
        except (OSError, TimeoutError, aioimaplib.Abort, aioimaplib.CommandTimeout) as exc:
            raise ImapTemporaryError(f"IDLE failed: {exc!r}") from exc
        if self._lost is not None:
            raise ImapTemporaryError(f"IMAP connection lost: {self._lost!r}")
        return bool(pushed) and pushed != aioimaplib.STOP_WAIT_SERVER_PUSH


def _numbers(response: aioimaplib.Response) -> list[int]:
    numbers: list[int] = []
    for line in response.lines:
        if isinstance(line, bytes) and line[:1].isdigit() and b"completed" not in line.lower():
            numbers.extend(int(token) for token in line.split() if token.isdigit())
    return numbers


def _text(response: aioimaplib.Response) -> str:
    return " ".join(
        bytes(line).decode(errors="replace") for line in response.lines if isinstance(line, bytes)
    )[:300]
