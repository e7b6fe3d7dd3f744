"""Telegram's text formatting: ``parse_mode`` text -> plain text + entities, or Telegram's error.

:func:`format_text` is what Telegram stores for a ``text`` (or ``caption``) with a
``parse_mode`` (HTML, MarkdownV2, legacy Markdown) or explicit ``entities``. Each parser walks
the source once, writing plain text into an :class:`_EntityBuilder` that counts offsets in
UTF-16 code units; malformed markup raises ``400 Bad Request: can't parse entities: ...`` with
Telegram's wording and byte offset, the check that catches real escaping bugs in the bot.
"""

from __future__ import annotations

import re
from typing import Any

from sim.botapi.common import ApiError, JSONDict, bad_request, u16len


class _EntityBuilder:
    def __init__(self) -> None:
        self._out: list[str] = []
        self.pos = 0
        self._entities: list[JSONDict] = []

    def text(self, text: str) -> None:
        self._out.append(text)
        self.pos += u16len(text)

    def entity(self, kind: str, start: int, **extra: Any) -> None:
        if self.pos > start:
            self._entities.append(
                {"type": kind, "offset": start, "length": self.pos - start, **extra}
            )

    def result(self) -> tuple[str, list[JSONDict]]:
        entities = sorted(self._entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self._out), entities


def _entities_error(source: str, index: int, message: str) -> ApiError:
    offset = len(source[:index].encode("utf-8"))
    return bad_request(f"can't parse entities: {message.format(offset=offset)}")


_HTML_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_TAG_RE = re.compile(
    r"<(/?)([A-Za-z][A-Za-z0-9-]*)"
    r"((?:\s+[A-Za-z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?)*)\s*/?>"
)
_HTML_ATTR_RE = re.compile(r"([A-Za-z-]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+)))?")
_HTML_ENTITY_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z]+);")
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _html_unescape(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        if name.startswith(("#x", "#X")):
            return chr(int(name[2:], 16))
        if name.startswith("#"):
            return chr(int(name[1:]))
        return _HTML_NAMED.get(name, m.group(0))

    return _HTML_ENTITY_RE.sub(repl, text)


def _parse_html(src: str) -> tuple[str, list[JSONDict]]:
    out = _EntityBuilder()
    # (tag name, start position, entity type or None, extra entity fields)
    stack: list[tuple[str, int, str | None, JSONDict]] = []
    i = 0
    while i < len(src):
        char = src[i]
        if char == "<":
            m = _HTML_TAG_RE.match(src, i)
            if m is None:
                name_m = re.match(r"</?([^\s>]*)", src[i:])
                name = name_m.group(1) if name_m else ""
                raise _entities_error(
                    src, i, f'Unsupported start tag "{name}" at byte offset {{offset}}'
                )
            name = m.group(2).lower()
            if m.group(1):
                if not stack:
                    raise _entities_error(src, i, "Unexpected end tag at byte offset {offset}")
                top, start, kind, extra = stack[-1]
                if top != name:
                    raise _entities_error(
                        src,
                        i,
                        "Unmatched end tag at byte offset {offset}, "
                        f'expected "</{top}>", found "</{name}>"',
                    )
                stack.pop()
                if kind is not None:
                    out.entity(kind, start, **extra)
            else:
                kind_opt: str | None = _HTML_TAGS.get(name)
                attrs = {
                    a.group(1).lower(): _html_unescape(a.group(2) or a.group(3) or a.group(4) or "")
                    for a in _HTML_ATTR_RE.finditer(m.group(3))
                }
                if kind_opt is None or (name == "span" and attrs.get("class") != "tg-spoiler"):
                    raise _entities_error(
                        src, i, f'Unsupported start tag "{name}" at byte offset {{offset}}'
                    )
                extra_fields: JSONDict = {}
                if name == "a":
                    if "href" in attrs:
                        extra_fields["url"] = attrs["href"]
                    else:
                        kind_opt = None
                elif name == "tg-emoji":
                    extra_fields["custom_emoji_id"] = attrs.get("emoji-id", "")
                elif name == "blockquote" and "expandable" in attrs:
                    kind_opt = "expandable_blockquote"
                elif name == "code" and stack and stack[-1][0] == "pre":
                    language = attrs.get("class", "")
                    if language.startswith("language-"):
                        stack[-1][3]["language"] = language[len("language-") :]
                        kind_opt = None
                stack.append((name, out.pos, kind_opt, extra_fields))
            i = m.end()
            continue
        if char == "&":
            em = _HTML_ENTITY_RE.match(src, i)
            if em is not None:
                out.text(_html_unescape(em.group(0)))
                i = em.end()
                continue
        out.text(char)
        i += 1
    if stack:
        raise bad_request(
            "can't parse entities: Can't find end tag corresponding to start tag "
            f'"{stack[-1][0]}"'
        )
    return out.result()


_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_MARKERS = {
    "*": "bold",
    "_": "italic",
    "__": "underline",
    "~": "strikethrough",
    "||": "spoiler",
}
_ENTITY_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "[": "TextUrl",
}


def _find_unescaped(src: str, token: str, start: int) -> int:
    i = start
    while i < len(src):
        if src[i] == "\\":
            i += 2
            continue
        if src.startswith(token, i):
            return i
        i += 1
    return -1


def _unescape_mdv2(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL)


def _parse_markdown_v2(src: str) -> tuple[str, list[JSONDict]]:
    out = _EntityBuilder()
    stack: list[tuple[str, int, int]] = []  # (marker, start position, source index)
    quote_start: int | None = None
    i = 0
    while i < len(src):
        char = src[i]
        if char == "\\":
            if i + 1 >= len(src) or not 1 <= ord(src[i + 1]) <= 126:
                raise _entities_error(
                    src, i, "Character '\\' is reserved and must be escaped with the preceding '\\'"
                )
            out.text(src[i + 1])
            i += 2
            continue
        if char == "`":
            fence = "```" if src.startswith("```", i) else "`"
            end = _find_unescaped(src, fence, i + len(fence))
            if end < 0:
                kind_name = "Pre" if fence == "```" else "Code"
                raise _entities_error(
                    src, i, f"Can't find end of {kind_name} entity at byte offset {{offset}}"
                )
            body = src[i + len(fence) : end]
            start = out.pos
            if fence == "```":
                language = ""
                first, newline, rest = body.partition("\n")
                if newline and first and not re.search(r"\s", first):
                    language, body = first, rest
                out.text(_unescape_mdv2(body))
                if language:
                    out.entity("pre", start, language=language)
                else:
                    out.entity("pre", start)
            else:
                out.text(_unescape_mdv2(body))
                out.entity("code", start)
            i = end + len(fence)
            continue
        if char == "[":
            stack.append(("[", out.pos, i))
            i += 1
            continue
        if char == "]" and stack and stack[-1][0] == "[":
            if not src.startswith("(", i + 1):
                raise _entities_error(
                    src, stack[-1][2], "Can't find end of TextUrl entity at byte offset {offset}"
                )
            end = _find_unescaped(src, ")", i + 2)
            if end < 0:
                raise _entities_error(
                    src, stack[-1][2], "Can't find end of TextUrl entity at byte offset {offset}"
                )
            _, start, _ = stack.pop()
            out.entity("text_link", start, url=_unescape_mdv2(src[i + 2 : end]))
            i = end + 1
            continue
        if char == ">" and (i == 0 or src[i - 1] == "\n"):
            if quote_start is None:
                quote_start = out.pos
            i += 1
            continue
        if char == "\n" and quote_start is not None and not src.startswith(">", i + 1):
            out.entity("blockquote", quote_start)
            quote_start = None
        marker = next((m for m in ("__", "||") if src.startswith(m, i)), None)
        if marker is None and char in "*_~":
            marker = char
        if marker is not None:
            if any(entry[0] == marker for entry in stack):
                if stack[-1][0] != marker:
                    raise _entities_error(
                        src,
                        stack[-1][2],
                        f"Can't find end of {_ENTITY_NAMES[_MDV2_MARKERS.get(stack[-1][0], '[')]}"
                        " entity at byte offset {offset}",
                    )
                _, start, _ = stack.pop()
                out.entity(_MDV2_MARKERS[marker], start)
            else:
                stack.append((marker, out.pos, i))
            i += len(marker)
            continue
        if char in _MDV2_RESERVED:
            raise bad_request(
                f"can't parse entities: Character '{char}' is reserved and must be escaped "
                "with the preceding '\\'"
            )
        out.text(char)
        i += 1
    if stack:
        marker, _, index = stack[-1]
        name = _ENTITY_NAMES[_MDV2_MARKERS.get(marker, "[")]
        raise _entities_error(
            src, index, f"Can't find end of {name} entity at byte offset {{offset}}"
        )
    if quote_start is not None:
        out.entity("blockquote", quote_start)
    return out.result()


def _parse_markdown(src: str) -> tuple[str, list[JSONDict]]:
    """Telegram's legacy ``Markdown``: no nesting, ``\\`` escapes ``_ * ` [`` only."""
    out = _EntityBuilder()
    error = "Can't find end of the entity starting at byte offset {offset}"
    i = 0
    while i < len(src):
        char = src[i]
        if char == "\\" and i + 1 < len(src) and src[i + 1] in "_*`[":
            out.text(src[i + 1])
            i += 2
            continue
        if src.startswith("```", i):
            end = src.find("```", i + 3)
            if end < 0:
                raise _entities_error(src, i, error)
            start = out.pos
            out.text(src[i + 3 : end])
            out.entity("pre", start)
            i = end + 3
            continue
        if char in "*_`":
            end = src.find(char, i + 1)
            if end < 0:
                raise _entities_error(src, i, error)
            start = out.pos
            out.text(src[i + 1 : end])
            out.entity({"*": "bold", "_": "italic", "`": "code"}[char], start)
            i = end + 1
            continue
        if char == "[":
            close = src.find("](", i + 1)
            end = src.find(")", close + 2) if close >= 0 else -1
            if end < 0:
                raise _entities_error(src, i, error)
            start = out.pos
            out.text(src[i + 1 : close])
            out.entity("text_link", start, url=src[close + 2 : end])
            i = end + 1
            continue
        out.text(char)
        i += 1
    return out.result()


def format_text(text: str, parse_mode: str | None, entities: Any) -> tuple[str, list[JSONDict]]:
    """What Telegram stores for ``text`` + ``parse_mode`` / explicit ``entities``."""
    if entities:
        if not isinstance(entities, list):
            raise bad_request("can't parse entities JSON object")
        return text, [dict(e) for e in entities]
    mode = (parse_mode or "").strip().lower()
    if not mode:
        return text, []
    if mode == "html":
        return _parse_html(text)
    if mode == "markdownv2":
        return _parse_markdown_v2(text)
    if mode == "markdown":
        return _parse_markdown(text)
    raise bad_request(f"unsupported parse_mode {parse_mode!r}")
