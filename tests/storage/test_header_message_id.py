"""``header_message_id`` reads the Message-ID of the header block without parsing; its search
for the end of the head is checked against the plain one it replaced, on random heads."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from storage.mail import header_message_id

_LIMIT = 65_536
_MESSAGE_ID = re.compile(
    rb"^message-id:[ \t]*(?:\r?\n[ \t]+)?(<[^<>\s]{1,246}>)", re.IGNORECASE | re.MULTILINE
)


def reference(raw: bytes) -> str | None:
    """The first version: both blank-line forms searched over the whole limit."""
    end = raw.find(b"\n\n", 0, _LIMIT)
    end2 = raw.find(b"\r\n\r\n", 0, _LIMIT)
    stops = [e for e in (end, end2) if e >= 0]
    head = raw[: min(stops)] if stops else raw[:_LIMIT]
    found = _MESSAGE_ID.search(head)
    return found.group(1).decode("ascii", "replace") if found else None


_PIECES = st.sampled_from(
    [b"\r\n", b"\n", b"\r", b"\r\n\r\n", b"\n\n", b"\n\r\n", b"Message-ID: <a@b>", b"message-id:",
     b" <x.y@z>", b"\r\n\t<f@g>", b"Subject: x", b"From: a@b", b"body", b"<", b">", b" "]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(_PIECES, max_size=40))
def test_same_message_id_as_the_reference(pieces: list[bytes]) -> None:
    raw = b"".join(pieces)
    assert header_message_id(raw) == reference(raw)


def test_long_heads_and_the_limit() -> None:
    filler = b"X-Filler: " + b"y" * 100 + b"\r\n"
    for count in (0, 1, 640, 650, 700):
        for tail in (b"Message-ID: <late@x>\r\n\r\nbody", b"Message-ID: <late@x>\n\nbody\r\n\r\n"):
            raw = b"From: a@b\r\n" + filler * count + tail
            assert header_message_id(raw) == reference(raw)
