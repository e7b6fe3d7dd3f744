"""``channels.mime_tree.parse_tree`` gives the standard library's tree, to the last attribute.

The feed parser (``reference_tree``) is the reference: both readings are compared on every
message of the real-mail corpus and of examples/mail, on the hostile shapes (bench/
hostile_mail.py's, deep nesting, many parts, odd boundaries) and on generated MIME trees
whose lines, boundaries and line breaks are drawn to hit each rule of the feed parser
(repeated and indented boundary lines, a boundary of an outer part inside an inner one,
missing start or closing boundaries, body lines right after the headers, envelope lines,
delivery-status blocks, digests). The fast reading must also be the one taken on real mail,
or the comparison would prove nothing.
"""

from __future__ import annotations

import email.message
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.hostile_mail import SHAPES, message
from channels.mime import _header_block_start
from channels.mime_tree import parse_tree, read_tree, reference_tree
from tests.corpus.loader import load_corpus

SAMPLES = Path(__file__).resolve().parents[2] / "examples" / "mail"


def _shape(msg: email.message.Message) -> object:
    """Everything a reader of the tree can see, recursively."""
    payload = msg._payload  # type: ignore[attr-defined]  # as stored: get_payload() decodes
    return (
        type(msg).__name__,
        msg.get_unixfrom(),
        list(msg.raw_items()),
        [(type(defect).__name__, str(defect)) for defect in msg.defects],
        msg.preamble,
        msg.epilogue,
        msg.get_default_type(),
        [_shape(part) for part in payload] if isinstance(payload, list) else payload,
    )


def _same(data: bytes) -> bool:
    """Both readings agree; True when the fast one read the message itself."""
    fast = read_tree(data)
    reference = _shape(reference_tree(data))
    assert _shape(parse_tree(data)) == reference
    if fast is None:
        return False
    assert _shape(fast) == reference
    return True


def _corpus() -> list[bytes]:
    found = [_header_block_start(m.raw()) for m in load_corpus()]
    return found + [_header_block_start(p.read_bytes()) for p in sorted(SAMPLES.glob("*.eml"))]


def test_same_tree_on_real_and_example_mail_mostly_read_fast() -> None:
    messages = _corpus()
    fast = sum(_same(data) for data in messages)
    # The fast reading is the one real mail takes (a handful of odd messages excepted).
    assert fast >= 0.97 * len(messages), (fast, len(messages))


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_same_tree_on_hostile_bodies(shape: str) -> None:
    kind, frame, unit = SHAPES[shape]
    assert _same(message(kind, frame, unit, 200_000))


HEAD = b"From: a@b.example\r\nSubject: s\r\nMIME-Version: 1.0\r\n"


def _nested(depth: int, kind: bytes = b"multipart/mixed") -> bytes:
    body = b"".join(
        b'Content-Type: %s; boundary="b%d"\r\n\r\n--b%d\r\n' % (kind, i, i) for i in range(depth)
    )
    body += b"Content-Type: text/plain\r\n\r\nau fond\r\n"
    return HEAD + body + b"".join(b"--b%d--\r\n" % i for i in reversed(range(depth)))


@pytest.mark.parametrize(
    "data",
    [
        _nested(10),
        _nested(60),  # deeper than MAX_NESTING: the feed parser reads it
        HEAD + b"Content-Type: message/rfc822\r\n\r\n" * 200 + b"\r\nfin\r\n",
        HEAD
        + b"Content-Type: multipart/mixed; boundary=x\r\n\r\n"
        + b"--x\r\n\r\npart\r\n" * 2000
        + b"--x--\r\n",
        HEAD + b'Content-Type: multipart/mixed; boundary=""\r\n\r\n--\r\n\r\na\r\n----\r\n',
        HEAD + b'Content-Type: multipart/mixed; boundary="(.*)+$"\r\n\r\n--(.*)+$\r\n\r\na\r\n',
        HEAD + b"Content-Type: multipart/mixed; boundary=" + b"z" * 5000 + b"\r\n\r\n--z\r\n",
        HEAD + b"Content-Type: multipart/mixed; boundary=x\r\n\r\n" + b"--x" * 10_000,
        HEAD + b"Content-Type: multipart/mixed; boundary=x\r\n\r\n" + b"\r\n--x  \t\r\n" * 500,
        HEAD + b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n--x--\r\n--x\r\n",
        HEAD + b"Content-Type: multipart/digest; boundary=x\r\n\r\n--x\r\n\r\nSubject: d\r\n",
        HEAD + b"Content-Type: message/delivery-status\r\n\r\n\r\n\r\n\r\nA: b\r\n\r\n",
        HEAD + b"Content-Type: message/delivery-status\r\n\r\nA: b\r\nno colon\r\n\r\nC: d",
        HEAD + b"Content-Type: text/plain\r\n\r\n\xff\xfe\x00\x85\x0b\x0c\x1c\r\n",
        HEAD + b"Content-Type: text/plain\r\nX: a\rb\r\n\r\nlone CR\r",
        HEAD + b"Content-Type: text/plain\r\n\rbody after a CR line\r\n",
        # a boundary parameter folded onto the next line: no line holds it
        HEAD + b"Content-Type: multipart/mixed; boundary=b\r\n folded\r\n\r\n--b\r\n folded\r\n",
        HEAD + b"Content-Type: multipart/mixed; boundary=b\r\n\tx\r\n--b\r\n\tx\r\n--b--\r\n",
        HEAD + b"Content-Type: text/plain\r\n\r\nlone\rCR\rin a body sliced whole\r",
        HEAD + b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\na\r--x\r\nb\r\n",
        HEAD + b"Content-Type: message/delivery-status\r\n\r\nA: b\r\rC: d\r\n",
        HEAD + b"Content-Type: message/rfc822\r\n\r\nSubject: in\rner\r\n\r\nbody\r",
    ],
)
def test_same_tree_on_hostile_structures(data: bytes) -> None:
    _same(data)


# -- generated trees -----------------------------------------------------------------------

BOUNDARIES = ["b", "b-", "b--", "=_x", "a b", "", "--", "b:c", "B"]
# A lone CR sends the whole message to the feed parser: rare here, so that most generated
# messages are read by the fast path.
ENDINGS = st.sampled_from(["\r\n"] * 10 + ["\n"] * 8 + ["\r"])
TEXT_LINES = st.sampled_from(
    ["Bonjour", "", " ", "\t", "x: y", "From here", "From: z@y.example", ":", "no colon",
     "--", "---", "--b", "--b--", "--b --", "--b\t", "--bx", "--b--x", "-- b", "\x0c", "\xe9t\xe9",
     "  continued", "--=_x", "--a b--", "----"]
)  # fmt: skip
_GOOD_HEADERS = [
    "Subject: r\xe9ponse", "X-Empty:", "X-Spaces:   \t", " folded", "\tfolded",
    "From: a@b.example", "Content-Transfer-Encoding: base64", "X-Trail: a \t",
    "Content-Disposition: attachment", "Content-Transfer-Encoding: quoted-printable",
    "Reporting-MTA: dns; x", "Action: failed", "Status: 5.1.1", "Content-Type: text/plain",
]  # fmt: skip
# The first two of the odd ones send the message to the feed parser: rarer.
HEADER_LINES = st.sampled_from(5 * _GOOD_HEADERS + ["From x", ":no name", "no colon here"])
TYPES = st.sampled_from(
    ["text/plain", "text/html", "message/rfc822", "message/delivery-status",
     "message/disposition-notification", "application/pdf", "multipart/mixed",
     "multipart/digest", "multipart/report", "multipart/alternative", "MULTIPART/Mixed",
     "multipart", "text"]
)  # fmt: skip


@st.composite
def entities(draw: st.DrawFn, depth: int = 0) -> list[str]:
    """One entity as lines (each with its line break)."""
    end = draw(ENDINGS) if draw(st.integers(0, 9)) == 0 else "\r\n"
    lines: list[str] = []
    if draw(st.integers(0, 9)) == 0:
        lines.append("From nobody Mon Jan 1 00:00:00 2026" + end)
    for _ in range(draw(st.integers(0, 3))):
        lines.append(draw(HEADER_LINES) + end)
    ctype = draw(TYPES) if depth < 4 else "text/plain"
    if draw(st.integers(0, 5)):
        boundary = draw(st.sampled_from(BOUNDARIES))
        quoted = f'"{boundary}"' if draw(st.booleans()) else boundary
        lines.append(f"Content-Type: {ctype}; boundary={quoted}" + end)
    else:
        boundary = ""
    for _ in range(draw(st.integers(0, 2))):
        lines.append(draw(HEADER_LINES) + end)
    if draw(st.integers(0, 5)):
        lines.append(end)  # the blank line
    if ctype.lower().startswith("multipart") and draw(st.integers(0, 5)):
        for _ in range(draw(st.integers(0, 2))):  # preamble
            lines.append(draw(TEXT_LINES) + draw(ENDINGS))
        for _ in range(draw(st.integers(0, 3))):
            mark = draw(st.sampled_from(["", "", "", "--", "  ", "\t", "x"]))
            for _ in range(draw(st.sampled_from([1, 1, 1, 2]))):
                lines.append(f"--{boundary}{mark}" + draw(ENDINGS))
            lines += draw(entities(depth + 1))
        if draw(st.integers(0, 4)):
            lines.append(f"--{boundary}--" + draw(st.sampled_from(["\r\n", "\n", "", "  \n"])))
    elif ctype.lower().startswith("message/") and draw(st.booleans()):
        lines += draw(entities(depth + 1))
    else:
        for _ in range(draw(st.integers(0, 4))):
            lines.append(draw(TEXT_LINES) + draw(ENDINGS))
    return lines


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entities(), st.booleans())
def test_same_tree_on_generated_mime(lines: list[str], cut_last_break: bool) -> None:
    text = "".join(lines)
    if cut_last_break:
        text = text.rstrip("\r\n")
    _same(text.encode("utf-8", "surrogateescape"))


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(BOUNDARIES),
    st.lists(st.tuples(st.sampled_from(BOUNDARIES), st.sampled_from(["", "--", " ", "\tx"])),
             max_size=6),
)  # fmt: skip
def test_same_tree_with_outer_boundaries_inside_inner_parts(
    outer: str, lines: list[tuple[str, str]]
) -> None:
    inner = "i" + outer
    body = "".join(f"--{boundary}{mark}\r\ntexte\r\n" for boundary, mark in lines)
    data = (
        f'Content-Type: multipart/mixed; boundary="{outer}"\r\n\r\n--{outer}\r\n'
        f'Content-Type: multipart/alternative; boundary="{inner}"\r\n\r\n--{inner}\r\n\r\n'
        f"{body}--{inner}--\r\n--{outer}--\r\n"
    )
    _same(data.encode())
