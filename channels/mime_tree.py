"""Raw message bytes to the standard library's ``Message`` tree, without its line-by-line pass.

    bytes --ASCII, surrogate escapes--> text
          --lone CR in a header block or a multipart body?--> the feed parser
          --headers: one regex per block--> name/value pairs, as compat32 stores them
          --body by type--> multipart: boundary lines found with str.find, each part read
                                       in its own region (a preamble, parts, an epilogue)
                            message/delivery-status: header blocks between blank lines
                            message/*: the enclosed message, in the same region
                            anything else: the payload, sliced
          --anything the feed parser would flag or read oddly--> the feed parser

``parse_tree(data)`` gives what ``BytesParser(policy=compat32).parsebytes(data)`` gives,
to the last attribute (headers, payloads, preambles, epilogues, default types, defects): the
feed parser reads every line through a Python generator, which costs more than everything
else the ingest does with a multipart message. Here a message's structure is found by
searching for its boundary lines, and each region is sliced whole.

Only the shapes whose reading is written out below take this path; on any other (a lone
carriage return where lines are read: headers, multipart and report bodies; a header line
the feed parser would flag; a missing start boundary; nesting deeper than ``MAX_NESTING``),
the whole message goes to the feed parser, so hostile input gets the reference behaviour,
recursion errors included. ``tests/channels/test_mime_tree.py`` checks both give the same
tree on the real corpus, the example mail, the hostile shapes and generated messages.

How the feed parser reads, as mirrored here (Python 3.11's ``email.feedparser``):

- lines end at ``\\r\\n``, ``\\r`` or ``\\n``; a header block is lines that start with a
  field name and a colon, or with a space or tab (a continuation); the first other line ends
  it and is dropped when blank (else it is a defect and the body's first line);
- a part ends at the first line that matches the boundary of any enclosing multipart (the
  outer ones too), so each part is read inside the region its parent found;
- the line break before a boundary line belongs to the boundary: it is cut from the payload
  of the part last read (the innermost one when parts nest) or from a nested multipart's
  epilogue; repeated boundary lines are skipped; after the closing boundary comes the
  epilogue.
"""

from __future__ import annotations

import email.errors
import email.message
import email.parser
import re
from email import policy

__all__ = ["MAX_NESTING", "parse_tree", "read_tree", "reference_tree"]

MAX_NESTING = 40  # deeper messages go to the feed parser (and its recursion limit)

_Message = email.message.Message
# A header block: field lines (name, colon, anything) each followed by its continuations.
# The name class is the feed parser's (RFC 5322 ftext); a line starting with "From " or ":"
# or a first line that is a continuation stops the block, and then the feed parser reads
# the message (it marks those with defects or as an envelope line).
_HEADER_BLOCK = re.compile(r"(?:[\041-\071\073-\176]+:[^\n]*\n(?:[ \t][^\n]*\n)*)*")
_HEADER_ITEM = re.compile(r"([\041-\071\073-\176]+):[ \t]*([^\n]*\n(?:[ \t][^\n]*\n)*)")
_LONE_CR = re.compile(r"\r(?!\n)")
_FEED_HEADER_LINE = re.compile(r"From |[\041-\071\073-\176]*:|[\t ]")  # the feed parser's
_BLANK_LINE = re.compile(r"^\r?\n", re.MULTILINE)
_SAFE_MULTIPART_CTE = ("7bit", "8bit", "binary")


class _Fallback(Exception):
    """A shape this module does not read: the feed parser reads the whole message."""


def reference_tree(data: bytes) -> _Message:
    """The standard library's reading, the reference: ``parse_tree`` must give the same."""
    return email.parser.BytesParser(policy=policy.compat32).parsebytes(data)


def parse_tree(data: bytes) -> _Message:
    """``reference_tree(data)``, the same tree, read region by region where it can."""
    tree = read_tree(data)
    return reference_tree(data) if tree is None else tree


def read_tree(data: bytes) -> _Message | None:
    """The tree of ``data`` read region by region; None for a shape left to the feed
    parser."""
    text = data.decode("ascii", "surrogateescape")
    root = _Message()
    try:
        _entity(text, 0, len(text), root, 0, "\r" not in text)
    except Exception:  # _Fallback, or an error the feed parser is left to meet (or not)
        return None
    if root.get_content_maintype() == "multipart" and not root.is_multipart():
        root.defects.append(email.errors.MultipartInvariantViolationDefect())
    return root


def _child(parent: _Message, digest: bool = False) -> _Message:
    """A new message attached to ``parent``, as the feed parser makes it."""
    msg = _Message()
    if digest:  # the parts of a multipart/digest are messages by default
        msg.set_default_type("message/rfc822")
    parent.attach(msg)
    return msg


def _entity(
    text: str, start: int, end: int, msg: _Message, depth: int, clean: bool
) -> tuple[_Message, bool]:
    """Reads into ``msg`` the message whose headers start at ``start`` and whose region
    ends at ``end`` (a line start, or the end of the text); returns the message read last
    inside it, whose final line break a following boundary takes, and whether that one is
    a multipart. ``clean``: the region is known to hold no lone CR."""
    if depth > MAX_NESTING:
        raise _Fallback
    entity_start = start
    if text.startswith("From ", start, end):  # an envelope line first: the "unix from"
        line_end = _line_end(text, start, end)
        if line_end == end:
            raise _Fallback
        msg.set_unixfrom(_strip_line_end(text[start:line_end]))
        start = line_end
    head_end = _HEADER_BLOCK.match(text, start, end).end()  # type: ignore[union-attr]
    if not clean and (
        _LONE_CR.search(text, entity_start, head_end)
        or (text.startswith("\r", head_end, end) and not text.startswith("\r\n", head_end))
    ):
        # A lone CR ends a line for the feed parser: in the headers (or as the line after
        # them), rare, and left to it. In a body that is sliced whole it changes nothing.
        raise _Fallback
    body = _body_start(text, head_end, end, msg)
    if head_end > start:
        msg._headers = [  # type: ignore[attr-defined]
            (name, value.rstrip("\r\n"))
            for name, value in _HEADER_ITEM.findall(text, start, head_end)
        ]
    ctype = _content_type(msg)
    if ctype == "message/delivery-status":
        _check_lines(text, body, end, clean)
        return _delivery_status(text, body, end, msg), False
    maintype = ctype.partition("/")[0]
    if maintype == "message":
        return _entity(text, body, end, _child(msg), depth + 1, clean)
    if maintype == "multipart":
        _check_lines(text, body, end, clean)
        _multipart(text, body, end, msg, depth, ctype == "multipart/digest")
        return msg, True
    msg._payload = text[body:end]  # type: ignore[attr-defined]
    return msg, False


def _check_lines(text: str, start: int, end: int, clean: bool) -> None:
    """A region read line by line (boundaries, report blocks) must hold no lone CR, which
    ends a line for the feed parser."""
    if not clean and _LONE_CR.search(text, start, end):
        raise _Fallback


def _content_type(msg: _Message) -> str:
    """``msg.get_content_type()``, read from the first Content-Type header at hand."""
    for name, value in msg._headers:  # type: ignore[attr-defined]
        if name.lower() == "content-type":
            if not value.isascii():  # the email package reads 8-bit values its own way
                return msg.get_content_type()
            ctype: str = value.partition(";")[0].strip().lower()
            return ctype if ctype.count("/") == 1 else "text/plain"
    return msg.get_default_type()


def _body_start(text: str, head_end: int, end: int, msg: _Message) -> int:
    """Where the body starts after a header block ending at ``head_end``: after the blank
    line, or at the line that ended the headers without one (a defect)."""
    if head_end == end:
        return end  # the region ends within the headers: no body, no defect
    if text[head_end] == "\n":
        return head_end + 1
    if text.startswith("\r\n", head_end):
        return head_end + 2
    if _FEED_HEADER_LINE.match(text, head_end, end):
        # A line the feed parser takes for a header ("From ", a missing name, a first
        # line that continues nothing, a last line without its line break).
        raise _Fallback
    msg.defects.append(email.errors.MissingHeaderBodySeparatorDefect())
    return head_end


def _line_end(text: str, start: int, end: int) -> int:
    newline = text.find("\n", start, end)
    return end if newline < 0 else newline + 1


# A boundary line: its end, and whether it is the closing one ("--B--").
_Boundary = tuple[int, bool]


def _boundary_at(text: str, pos: int, end: int, separator: str) -> _Boundary | None:
    """The boundary line at line start ``pos``, if it is one: the feed parser's
    ``(--B)(--)?[ \t]*(\r\n|\r|\n)?$`` over the line."""
    if not text.startswith(separator, pos, end):
        return None
    line_end = _line_end(text, pos + len(separator), end)
    # No lone CR here (parse_tree leaves those to the feed parser): the line's only CR is
    # that of its final line break.
    rest = text[pos + len(separator) : line_end].rstrip("\r\n")
    closing = rest.startswith("--")
    if (rest[2:] if closing else rest).strip(" \t"):
        return None
    return line_end, closing


def _next_boundary(text: str, pos: int, end: int, separator: str) -> tuple[int, _Boundary] | None:
    """The first boundary line starting after line start ``pos`` and before ``end``:
    its start, and what ``_boundary_at`` says of it."""
    needle = "\n" + separator
    while True:
        found = text.find(needle, pos, end)
        if found < 0:
            return None
        pos = found + 1
        boundary = _boundary_at(text, pos, end, separator)
        if boundary is not None:
            return pos, boundary


def _strip_line_end(value: str) -> str:
    """``value`` less its final line break (the feed parser's ``NLCRE_eol``)."""
    if value.endswith("\r\n"):
        return value[:-2]
    if value.endswith(("\n", "\r")):
        return value[:-1]
    return value


def _multipart(text: str, body: int, end: int, msg: _Message, depth: int, digest: bool) -> None:
    boundary = msg.get_boundary()
    if boundary is None:
        msg.defects.append(email.errors.NoBoundaryInMultipartDefect())
        msg._payload = text[body:end]  # type: ignore[attr-defined]
        return
    if str(msg.get("content-transfer-encoding", "8bit")).lower() not in _SAFE_MULTIPART_CTE:
        msg.defects.append(email.errors.InvalidMultipartContentTransferEncodingDefect())
    separator = "--" + boundary
    if "\n" in boundary or "\r" in boundary:
        # A folded parameter ("boundary=b" + CRLF + " more"): no line can hold it.
        _no_start_boundary(msg, text[body:end])
        return
    line = body
    boundary_line = _boundary_at(text, body, end, separator)
    if boundary_line is None:
        first = _next_boundary(text, body, end, separator)
        if first is None:  # no boundary line: the body is the payload, a defect
            _no_start_boundary(msg, text[body:end])
            return
        line, boundary_line = first
        if not boundary_line[1]:
            msg.preamble = _strip_line_end(text[body:line])
    while True:
        line_end, closing = boundary_line
        if closing:
            if msg._payload is None:  # type: ignore[attr-defined]
                # A closing boundary first: what comes before it is the payload (a defect),
                # what follows is dropped.
                _no_start_boundary(msg, text[body:line])
                return
            # The epilogue: what follows the closing line (a closing line without its
            # line break ends the text: nothing).
            msg.epilogue = text[line_end:end]
            return
        # A separator line, and any boundary lines right after it.
        pos = line_end
        while True:
            if pos >= end:
                raise _Fallback  # the feed parser pushes an empty line back here
            again = _boundary_at(text, pos, end, separator)
            if again is None:
                break
            pos = again[0]
        following = _next_boundary(text, pos, end, separator)
        part_end = end if following is None else following[0]
        last, last_multipart = _entity(text, pos, part_end, _child(msg, digest), depth + 1, True)
        # The line break before the boundary line is the boundary's.
        if last_multipart:
            epilogue = last.epilogue
            if epilogue == "":
                last.epilogue = None
            elif epilogue is not None:
                last.epilogue = _strip_line_end(epilogue)
        else:
            payload = last._payload  # type: ignore[attr-defined]
            if isinstance(payload, str):
                last._payload = _strip_line_end(payload)  # type: ignore[attr-defined]
        if following is None:
            msg.defects.append(email.errors.CloseBoundaryNotFoundDefect())
            return
        line, boundary_line = following


def _no_start_boundary(msg: _Message, payload: str) -> None:
    msg.defects.append(email.errors.StartBoundaryNotFoundDefect())
    msg._payload = payload  # type: ignore[attr-defined]
    msg.epilogue = ""


def _delivery_status(text: str, body: int, end: int, msg: _Message) -> _Message:
    """Blocks of header fields between blank lines, each a message without a body."""
    pos = body
    while True:
        block = _child(msg)
        head_end = _HEADER_BLOCK.match(text, pos, end).end()  # type: ignore[union-attr]
        body = _body_start(text, head_end, end, block)
        if head_end > pos:
            items = [
                (name, value.rstrip("\r\n"))
                for name, value in _HEADER_ITEM.findall(text, pos, head_end)
            ]
            if any(name.lower() == "content-type" for name, _ in items):
                raise _Fallback  # a block that claims a type of its own
            block._headers = items  # type: ignore[attr-defined]
        if body == head_end and body < end:
            # A line that is no header field ended the block: it and the lines up to the
            # next blank line are the block's payload.
            blank = _BLANK_LINE.search(text, body, end)
            head_end = end if blank is None else blank.start()
            block._payload = text[body:head_end]  # type: ignore[attr-defined]
        else:
            block._payload = ""  # type: ignore[attr-defined]
        pos = head_end
        if pos < end:  # the blank line after the block
            pos = _line_end(text, pos, end)
        if pos >= end:
            return block
