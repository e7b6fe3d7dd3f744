"""Raw message bytes to a ``ParsedMessage``: offline, best effort, never crashing.

    raw bytes --looks like mail?--> UnparsableMessage(reason)      (empty, no header block)
              --mime_tree--> compat32 Message tree      (too deep: headers only + defect)
              --headers--> ids, subject (RFC 2047), addresses, date (aware UTC or None)
              --walk (iterative, depth-capped, embedded messages not entered)-->
                  text/plain and text/html parts ....... body (charset guessing: charsets.py)
                  message/delivery-status, /disposition-notification ... report groups
                  message/rfc822, text/rfc822-headers .. headers of the returned original
                  anything else ........................ attachment (name, type, size, sha256)
              --html (cut at MAX_HTML_CHARS)--> sanitised HTML and, without a text/plain
                    part, the text (cut at MAX_TEXT_CHARS)
              --quotes--> new text | quoted original | signature

``compat32`` rather than ``policy.default``: the default policy's header objects parse lazily
and raise on malformed addresses deep inside unrelated code, and cost several times more per
header. Here every header is decoded by hand (RFC 2047 words, raw 8-bit bytes) inside a guard,
which is both faster (a benchmark pushes 10,000 messages through this) and predictable. The
tree itself comes from ``channels.mime_tree``: the feed parser's tree, found by searching for
boundary lines instead of reading every line (the feed parser reads the shapes it does not).

Sizes are capped (headers, parts, HTML before sanitising, text before classifying) so one
hostile message costs well under a second; whatever is cut is said in ``defects`` and
``truncated`` is set, while the raw message stays whole in storage.

Only ``UnparsableMessage`` leaves ``parse_message``. Anything else that goes wrong is written
into ``defects`` and the rest of the message is still read; a last-resort guard turns an
unforeseen error into a headers-only result with a ``parser error`` defect, so an inbound
message is never lost.
"""

from __future__ import annotations

import binascii
import email.message
import email.parser
import email.utils
import functools
import hashlib
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy

from channels.charsets import decode_bytes, recover_header
from channels.html_text import MAX_HTML_CHARS, html_to_text, sanitise_html
from channels.mime_tree import parse_tree
from channels.quotes import split_reply

MAX_DEPTH = 30  # MIME nesting we walk; real mail stays under 6
MAX_PARTS = 500
MAX_HEADERS = 500
MAX_HEADER_CHARS = 16_384  # per header value, after which it is truncated (with a defect)
MAX_REFERENCES = 100
# What the classifier, the quote splitter and the content checks read: their regular
# expressions cost ~1 s per 2 million characters; real replies are a few thousand.
MAX_TEXT_CHARS = 500_000

_HEADER_LINE = re.compile(rb"^[\x21-\x39\x3b-\x7e]{1,200}[ \t]*:")
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,60})\?([qQbB])\?([^?\s]*)\?=")
_FOLDING = re.compile(r"\r?\n(?=[ \t])")
_MSG_ID = re.compile(r"<([^<>\s]{1,998})>")
_ADDRESS = re.compile(r"[\w.+'=-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+")
_REPORT_TYPES = frozenset(
    {"message/delivery-status", "message/disposition-notification", "message/feedback-report"}
)
_EMBEDDED_HEADERS = frozenset({"text/rfc822-headers", "message/rfc822-headers"})
_EMBEDDED_MESSAGES = frozenset({"message/rfc822", "message/global"})


class UnparsableMessage(Exception):
    """The input is not an email at all (empty, or no header block)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Address:
    name: str
    address: str

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>" if self.name else self.address


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str | None
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class ReportPart:
    """A machine-readable report part: header-like groups (per message, per recipient)."""

    content_type: str
    groups: tuple[tuple[tuple[str, str], ...], ...]

    def fields(self) -> Iterator[tuple[str, str]]:
        for group in self.groups:
            yield from group


@dataclass(frozen=True)
class ParsedMessage:
    """What a message says, decoded. Ids keep their angle brackets: ``<id@host>``."""

    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    subject: str
    from_: Address | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    return_path: str | None  # "" for the null path "<>" (bounces, some auto-replies)
    date: datetime | None  # the Date header in UTC; None when missing or unparsable
    date_raw: str | None
    headers: tuple[tuple[str, str], ...]  # every header, decoded, in order
    content_type: str
    report_type: str | None  # multipart/report; report-type=…
    text: str  # text/plain body, else the text of the HTML body
    html: str | None  # sanitised HTML body
    new_text: str  # what the sender wrote now: no quoted original, no signature
    quoted_text: str
    signature: str
    attachments: tuple[Attachment, ...]
    report_parts: tuple[ReportPart, ...]
    embedded_headers: tuple[tuple[str, str], ...]  # of the returned or attached original
    defects: tuple[str, ...] = field(default=())
    truncated: bool = False  # something was cut to size (which: in defects)

    def header(self, name: str) -> str | None:
        """First value of header ``name`` (case-insensitive), or None."""
        return self._first_values.get(name.lower())

    @functools.cached_property
    def _first_values(self) -> dict[str, str]:
        """The first value of each header by lower-case name: the classifier asks for a few
        dozen headers of each message, a scan of every header each time."""
        first: dict[str, str] = {}
        for key, value in self.headers:
            first.setdefault(key.lower(), value)
        return first

    def header_all(self, name: str) -> tuple[str, ...]:
        """Every value of header ``name`` (case-insensitive), in order."""
        return self._all_values.get(name.lower(), ())

    @functools.cached_property
    def _all_values(self) -> dict[str, tuple[str, ...]]:
        """The values of each header by lower-case name: matching asks for five headers of
        each message (To, Cc, Delivered-To…), the classifier for more."""
        found: dict[str, list[str]] = {}
        for key, value in self.headers:
            found.setdefault(key.lower(), []).append(value)
        return {key: tuple(values) for key, values in found.items()}


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse one raw message; raise only ``UnparsableMessage`` (for what is not mail)."""
    data = _header_block_start(bytes(raw))
    try:
        return _parse(data)
    except Exception as exc:  # last resort: never lose an inbound message
        return _degraded(data, exc)


_LEADING_BLANK_LINES = re.compile(rb"\A(?:[ \t\r]*\n)+")


def _header_block_start(raw: bytes) -> bytes:
    if not raw.strip():
        raise UnparsableMessage("empty input")
    # Blank lines before the headers (some of them only spaces: an mbox or a copy-paste left
    # them) are not the message; a first header line with leading blanks would be a
    # continuation, so only whole blank lines go.
    data = _LEADING_BLANK_LINES.sub(b"", raw).lstrip(b"\r\n")
    if data.startswith(b"From "):  # an mbox separator line
        _, _, data = data.partition(b"\n")
    if not _HEADER_LINE.match(data):
        raise UnparsableMessage("no header block: the first line is not a header field")
    return data


class _Defects(list[str]):
    """The defects of one message: each once, at most 200 (hostile input repeats itself).

    ``truncated`` records that something was cut, even past the 200."""

    truncated = False

    def append(self, defect: str) -> None:
        if "truncated" in defect:
            self.truncated = True
        if defect not in self and len(self) < 200:
            super().append(defect)

    add = append


def _parse(data: bytes) -> ParsedMessage:
    defects = _Defects()
    try:
        msg = parse_tree(data)
    except RecursionError:
        defects.add("MIME structure nested too deeply: body not read")
        parser = email.parser.BytesParser(policy=policy.compat32)
        msg = parser.parsebytes(data, headersonly=True)
        msg.set_payload("")
    headers = _headers(msg, defects)
    walk = _Walk(defects)
    walk.run(msg)

    html: str | None = None
    if walk.html_parts:
        source = _joined(walk.html_parts, "\n", MAX_HTML_CHARS, "HTML", defects)
        try:
            html = sanitise_html(source, defects)
        except Exception as exc:  # nh3 refuses input it cannot represent
            defects.add(f"HTML not sanitised: {type(exc).__name__}")
    if walk.text_parts:
        text = _joined(walk.text_parts, "\n\n", MAX_TEXT_CHARS, "text", defects)
    elif html:
        text = html_to_text(html, limit=MAX_TEXT_CHARS)
    else:
        text = ""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if len(text) > MAX_TEXT_CHARS:
        defects.add(f"text truncated to {MAX_TEXT_CHARS} characters")
        text = text[:MAX_TEXT_CHARS]
    parts = split_reply(text)

    envelope = _envelope(headers, defects)
    return _assemble(
        envelope,
        headers,
        defects,
        content_type=_safe_content_type(msg),
        report_type=_param(msg, "report-type"),
        text=text,
        html=html,
        new_text=parts.new_text,
        quoted_text=parts.quoted,
        signature=parts.signature,
        attachments=tuple(walk.attachments),
        report_parts=tuple(walk.reports),
        embedded_headers=walk.embedded_headers,
    )


def _joined(parts: list[str], separator: str, limit: int, what: str, defects: _Defects) -> str:
    """The parts joined and cut at ``limit`` characters (a defect says so), without
    building the whole when it is longer."""
    out: list[str] = []
    size = 0
    for part in parts:
        if out:
            out.append(separator)
            size += len(separator)
        out.append(part[: max(limit - size, 0)])
        size += len(part)
        if size > limit:
            defects.add(f"{what} truncated to {limit} characters")
            break
    return "".join(out)


# -- headers ---------------------------------------------------------------------------------


def _headers(msg: email.message.Message, defects: _Defects) -> list[tuple[str, str]]:
    """Every header, unfolded and decoded (RFC 2047 and raw 8-bit), capped in count and size."""
    # raw_items: compat32's items() would wrap 8-bit values in Header objects.
    items = list(itertools.islice(msg.raw_items(), MAX_HEADERS + 1))
    if len(items) > MAX_HEADERS:
        defects.add(f"more than {MAX_HEADERS} headers, only the first {MAX_HEADERS} kept")
    result: list[tuple[str, str]] = []
    for name, value in items[:MAX_HEADERS]:
        if (
            type(name) is str
            and type(value) is str
            and name.isascii()
            and value.isascii()
            and len(value) <= MAX_HEADER_CHARS
            and "\n" not in value
            and "\r" not in value
            and "=?" not in value
        ):
            # A plain one-line ASCII header, most of them: what the general reading below
            # gives it (nothing to recover, unfold or decode), without its calls.
            result.append((name.strip(), value.strip()))
            continue
        clean_name = recover_header(str(name), defects).strip()
        result.append((clean_name, decode_header_value(_raw(value, name, defects), defects)))
    return result


def _raw(value: object, name: str, defects: _Defects) -> str:
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_HEADER_CHARS:
        defects.add(f"header {name[:60]} longer than {MAX_HEADER_CHARS} characters, truncated")
        text = text[:MAX_HEADER_CHARS]
    if "\n" not in text and "\r" not in text:
        return text  # a one-line value: nothing to unfold
    return _FOLDING.sub("", text).replace("\r", "").replace("\n", " ")


def decode_header_value(value: str, defects: list[str]) -> str:
    """RFC 2047 encoded words decoded; adjacent words of one charset joined as bytes first,
    since mailers split multi-byte characters across words."""
    value = recover_header(value, defects)
    if "=?" not in value:
        return value.strip()
    pieces: list[str] = []
    pending: bytearray = bytearray()
    pending_charset: str | None = None
    position = 0

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending:
            pieces.append(decode_bytes(bytes(pending), pending_charset, defects))
        pending, pending_charset = bytearray(), None

    for match in _ENCODED_WORD.finditer(value):
        gap = value[position : match.start()]
        charset = match.group(1).split("*", 1)[0]  # RFC 2231 language suffix
        word = _decode_word(match.group(2), match.group(3), defects)
        if word is None:
            flush()
            pieces.append(gap + match.group(0))
        else:
            # Whitespace between two encoded words is not part of the text (RFC 2047 §6.2).
            between_words = bool(pending) and not gap.strip()
            if not (between_words and charset.lower() == (pending_charset or "").lower()):
                flush()
                if not between_words:
                    pieces.append(gap)
            pending += word
            pending_charset = charset
        position = match.end()
    flush()
    pieces.append(value[position:])
    return "".join(pieces).strip()


def _decode_word(encoding: str, payload: str, defects: list[str]) -> bytes | None:
    try:
        if encoding in "qQ":
            return binascii.a2b_qp(payload.encode("ascii", "replace"), header=True)
        padded = payload + "=" * (-len(payload) % 4)
        return binascii.a2b_base64(padded.encode("ascii", "replace"))
    except (binascii.Error, ValueError):
        defects.append("undecodable RFC 2047 word kept as is")
        return None


@dataclass(frozen=True, slots=True)
class _Envelope:
    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    subject: str = ""
    from_: Address | None = None
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    reply_to: tuple[Address, ...] = ()
    return_path: str | None = None
    date: datetime | None = None
    date_raw: str | None = None


def _envelope(headers: list[tuple[str, str]], defects: _Defects) -> _Envelope:
    first: dict[str, str] = {}
    for name, value in headers:
        first.setdefault(name.lower(), value)
    date_raw = first.get("date")
    froms = _addresses(first.get("from"), defects)
    return_path = first.get("return-path")
    return _Envelope(
        message_id=_first_id(first.get("message-id")),
        in_reply_to=_first_id(first.get("in-reply-to")),
        references=_ids(first.get("references")),
        subject=first.get("subject", ""),
        from_=froms[0] if froms else None,
        to=_addresses(first.get("to"), defects),
        cc=_addresses(first.get("cc"), defects),
        reply_to=_addresses(first.get("reply-to"), defects),
        return_path=None if return_path is None else _path(return_path),
        date=_date(date_raw, defects),
        date_raw=date_raw,
    )


def _assemble(
    env: _Envelope, headers: list[tuple[str, str]], defects: _Defects, **body: object
) -> ParsedMessage:
    fields: dict[str, object] = {
        "content_type": "text/plain",
        "report_type": None,
        "text": "",
        "html": None,
        "new_text": "",
        "quoted_text": "",
        "signature": "",
        "attachments": (),
        "report_parts": (),
        "embedded_headers": (),
    }
    fields.update(body)
    return ParsedMessage(
        message_id=env.message_id,
        in_reply_to=env.in_reply_to,
        references=env.references,
        subject=env.subject,
        from_=env.from_,
        to=env.to,
        cc=env.cc,
        reply_to=env.reply_to,
        return_path=env.return_path,
        date=env.date,
        date_raw=env.date_raw,
        headers=tuple(headers),
        defects=tuple(defects),
        truncated=defects.truncated,
        **fields,  # type: ignore[arg-type]
    )


def _ids(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    found = [f"<{token}>" for token in _MSG_ID.findall(value)]
    if not found:
        found = [f"<{token.strip('<>')}>" for token in value.split() if token.strip("<>")]
    if len(found) > MAX_REFERENCES:  # keep the thread root and the most recent ones
        found = found[:1] + found[-(MAX_REFERENCES - 1) :]
    return tuple(found)


def _first_id(value: str | None) -> str | None:
    ids = _ids(value)
    return ids[0] if ids else None


def _path(value: str) -> str:
    found = _MSG_ID.search(value)
    if found:
        return found.group(1)
    return value.strip().strip("<>").strip()


_ADDRESS_CACHE: dict[str, tuple[tuple[Address, ...], tuple[str, ...]]] = {}
_ADDRESS_CACHE_SIZE = 4096
_ADDRESS_CACHE_VALUE = 1000  # longer values are read each time


def _addresses(value: str | None, defects: _Defects) -> tuple[Address, ...]:
    """The addresses of a header value, remembered by value: mail repeats the same To and
    From lines (the persona's, the services'). The defects the reading adds are remembered
    with them and added again in the same order, as the reading itself would add them.
    (Read here, not in a helper: the stack depth at which hostile nesting gives up stays.)"""
    if not value:
        return ()
    cacheable = len(value) <= _ADDRESS_CACHE_VALUE
    cached = _ADDRESS_CACHE.get(value) if cacheable else None
    if cached is not None:
        for defect in cached[1]:
            defects.add(defect)
        return cached[0]
    found: list[str] = []
    try:
        pairs = email.utils.getaddresses([value])
    except Exception:  # RecursionError on nested comments, and worse on hostile input
        found.append("address header not parsable, addresses picked from the text")
        pairs = [("", address) for address in _ADDRESS.findall(value)]
    result = []
    for name, address in pairs:
        if not name and not address:
            continue
        result.append(Address(decode_header_value(name, found), address.strip()))
    addresses = tuple(result)
    if cacheable:
        if len(_ADDRESS_CACHE) >= _ADDRESS_CACHE_SIZE:
            _ADDRESS_CACHE.clear()
        _ADDRESS_CACHE[value] = (addresses, tuple(found))
    for defect in found:
        defects.add(defect)
    return addresses


def _date(value: str | None, defects: _Defects) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
        if parsed.tzinfo is None:  # "-0000": UTC, with no claim about local time
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except Exception:
        defects.add("Date header not parsable")
        return None


def _safe_content_type(part: email.message.Message) -> str:
    value = part.get("Content-Type")
    key = None
    if _common_value(value):
        key = ("type", value, part.get_default_type())
        known = _PART_FACTS.get(key)
        if known is not None:
            return known
    try:
        ctype = part.get_content_type()
    except Exception:
        ctype = "text/plain"
    if key is not None:
        _remember(key, ctype)
    return ctype


def _content_charset(part: email.message.Message) -> str | None:
    """``part.get_content_charset()``, None when that raises."""
    value = part.get("Content-Type")
    key = None
    if _common_value(value):
        key = ("charset", value, "")
        if key in _PART_FACTS:
            return _PART_FACTS[key]
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    if key is not None:
        _remember(key, charset)
    return charset


# What the email package reads in a part's Content-Type, remembered by value: its reading is
# a function of the value alone (and of the default type), and mail repeats the values of its
# text parts ("text/plain; charset=utf-8") from message to message. Only short ASCII values
# without a boundary or a name (which make each value unique) are remembered.
_PART_FACTS: dict[tuple[str, str | None, str], str | None] = {}
_PART_FACTS_SIZE = 1024


def _common_value(value: object) -> bool:
    if value is None:
        return True
    if not isinstance(value, str) or len(value) > 120 or not value.isascii():
        return False
    lower = value.lower()
    return "boundary" not in lower and "name" not in lower


def _remember(key: tuple[str, str | None, str], fact: str | None) -> None:
    if len(_PART_FACTS) >= _PART_FACTS_SIZE:
        _PART_FACTS.clear()
    _PART_FACTS[key] = fact


def _param(part: email.message.Message, name: str) -> str | None:
    """Parameter ``name`` (ASCII, lower case) of the part's Content-Type, cleaned."""
    header = part.get("Content-Type")
    if header is None or (
        isinstance(header, str) and header.isascii() and name not in header.lower()
    ):
        return None  # no parameter of that name: no need to parse them
    try:
        value = part.get_param(name)
    except Exception:
        return None
    if isinstance(value, tuple):
        value = value[2]
    if not isinstance(value, str) or not value:
        return None
    return value.strip().strip('"').lower()[:100]


# -- body ------------------------------------------------------------------------------------


class _Walk:
    """Collects body texts, attachments and report parts from a message tree, iteratively."""

    def __init__(self, defects: _Defects) -> None:
        self.defects = defects
        self.text_parts: list[str] = []
        self.html_parts: list[str] = []
        self.attachments: list[Attachment] = []
        self.reports: list[ReportPart] = []
        self.embedded_headers: tuple[tuple[str, str], ...] = ()

    def run(self, root: email.message.Message) -> None:
        stack: list[tuple[email.message.Message, int]] = [(root, 0)]
        seen = 0
        while stack:
            part, depth = stack.pop()
            seen += 1
            if seen > MAX_PARTS:
                self.defects.add(f"more than {MAX_PARTS} MIME parts, the rest not read")
                return
            self._note_defects(part)
            ctype = _safe_content_type(part)
            # compat32's get_payload() without decode raises on some charset labels; only
            # multipart payloads (lists) are read that way, leaves go through _payload_bytes.
            payload = part.get_payload() if part.is_multipart() else None
            if ctype in _REPORT_TYPES:
                self._report(ctype, payload if payload is not None else self._leaf_text(part))
            elif ctype in _EMBEDDED_MESSAGES:
                self._embedded(payload if payload is not None else self._leaf_text(part))
            elif isinstance(payload, list):
                if depth >= MAX_DEPTH:
                    self.defects.add(f"MIME parts nested deeper than {MAX_DEPTH} not read")
                    continue
                children = [child for child in payload if isinstance(child, email.message.Message)]
                stack.extend((child, depth + 1) for child in reversed(children))
            elif ctype.startswith("multipart/"):
                self.defects.add(f"{ctype} without usable boundary, body read as text")
                self._text(part, "text/plain")
            elif ctype in _EMBEDDED_HEADERS:
                self._embedded_text_headers(part)
            elif ctype in ("text/plain", "text/html") and not _is_attachment(part):
                self._text(part, ctype)
            else:
                self._attachment(part, ctype)

    def _note_defects(self, part: email.message.Message) -> None:
        for defect in getattr(part, "defects", ()):
            self.defects.add(type(defect).__name__)

    def _payload_bytes(self, part: email.message.Message) -> bytes:
        try:
            data = part.get_payload(decode=True)
        except Exception as exc:
            self.defects.add(f"part payload not decodable: {type(exc).__name__}")
            return b""
        self._note_defects(part)  # base64 padding and character defects land here
        return data if isinstance(data, bytes) else b""

    def _leaf_text(self, part: email.message.Message) -> str:
        return decode_bytes(self._payload_bytes(part), None, self.defects)

    def _text(self, part: email.message.Message, ctype: str) -> None:
        data = self._payload_bytes(part)
        text = decode_bytes(data, _content_charset(part), self.defects)
        if ctype == "text/html":
            self.html_parts.append(text)
        else:
            self.text_parts.append(text)

    def _attachment(self, part: email.message.Message, ctype: str) -> None:
        data = self._payload_bytes(part)
        try:
            name = part.get_filename()
        except Exception:
            name = None
            self.defects.add("attachment file name not parsable")
        filename = decode_header_value(_FOLDING.sub("", name), self.defects) if name else None
        self.attachments.append(
            Attachment(
                filename=filename or None,
                content_type=ctype,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
            )
        )

    def _report(self, ctype: str, payload: object) -> None:
        groups: list[tuple[tuple[str, str], ...]] = []
        if isinstance(payload, list):
            for block in payload:
                if isinstance(block, email.message.Message):
                    groups.append(self._fields(block))
        elif isinstance(payload, str):
            for chunk in re.split(r"\r?\n\s*\r?\n", payload):
                if chunk.strip():
                    groups.append(self._fields(_header_only(chunk)))
        self.reports.append(ReportPart(ctype, tuple(group for group in groups if group)))

    def _embedded(self, payload: object) -> None:
        if self.embedded_headers:
            return
        if isinstance(payload, list) and payload and isinstance(payload[0], email.message.Message):
            self.embedded_headers = self._fields(payload[0])
        elif isinstance(payload, str) and payload.strip():
            self.embedded_headers = self._fields(_header_only(payload))

    def _embedded_text_headers(self, part: email.message.Message) -> None:
        if self.embedded_headers:
            return
        text = decode_bytes(self._payload_bytes(part), None, self.defects)
        self.embedded_headers = self._fields(_header_only(text))

    def _fields(self, block: email.message.Message) -> tuple[tuple[str, str], ...]:
        return tuple(
            (str(name).strip(), decode_header_value(_raw(value, name, self.defects), self.defects))
            for name, value in itertools.islice(block.raw_items(), MAX_HEADERS)
        )


def _header_only(text: str) -> email.message.Message:
    return email.parser.Parser(policy=policy.compat32).parsestr(text.lstrip(), headersonly=True)


def _is_attachment(part: email.message.Message) -> bool:
    value = part.get("Content-Disposition")
    disposition = str("" if value is None else value).split(";", 1)[0].strip().lower()
    if disposition == "attachment":
        return True
    if _nameless(value) and _nameless(part.get("Content-Type")):
        # get_filename() looks for a "filename" or "name" parameter: with no "name" in
        # either value there is none.
        return False
    try:
        return bool(part.get_filename())
    except Exception:
        return False


def _nameless(value: object) -> bool:
    """No parameter of ``value`` can be called "name" or "filename" (an ASCII value, which
    the email package reads as it stands, without those letters)."""
    return value is None or (
        isinstance(value, str) and value.isascii() and "name" not in value.lower()
    )


# -- last resort -----------------------------------------------------------------------------


def _degraded(data: bytes, exc: Exception) -> ParsedMessage:
    """Headers only, after an error no guard foresaw; the error is kept as a defect."""
    defects = _Defects([f"parser error: {type(exc).__name__}: {str(exc)[:200]}"])
    headers: list[tuple[str, str]] = []
    envelope = _Envelope()
    try:
        msg = email.parser.BytesParser(policy=policy.compat32).parsebytes(data, headersonly=True)
        headers = _headers(msg, defects)
        envelope = _envelope(headers, defects)
    except Exception as second:
        defects.add(f"headers not readable either: {type(second).__name__}")
    return _assemble(envelope, headers, defects)
