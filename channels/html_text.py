"""Untrusted HTML mail bodies: sanitise, then read as plain text.

    html --nh3 (safe tags, http/https/mailto/tel links only)--> clean
         --links to "text (url)"--> sanitised HTML (no <a>, no <img>, no script, no style)
         --html.parser--> text (paragraphs, line breaks, lists, "> " for blockquotes)

Nothing remote survives sanitising: images are dropped (a remote ``src`` is a read tracker),
no ``style``/``class``/``on*`` attribute is kept, and a link becomes its text followed by its
address so a coordinator reads where it pointed without a click opening it.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import nh3

_TAGS = frozenset(
    {
        "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "div", "dl", "dt",
        "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "q", "s",
        "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
        "thead", "tr", "u", "ul", "a",
    }
)  # fmt: skip
# Tags whose content is dropped with them, not just the tag.
_DROP_WITH_CONTENT = frozenset(
    {"script", "style", "title", "template", "noscript", "iframe", "object", "svg", "math"}
)

_CLEANER = nh3.Cleaner(
    tags=set(_TAGS),
    clean_content_tags=set(_DROP_WITH_CONTENT),
    attributes={"a": {"href"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}},
    url_schemes={"http", "https", "mailto", "tel"},
    strip_comments=True,
    link_rel=None,
)
# nh3 output is normalised: attributes double-quoted, "<" and ">" escaped inside them, and
# HTML parsing never nests one <a> inside another.
_ANCHOR = re.compile(r'<a(?: href="([^"]*)")?>(.*?)</a>', re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def _defang_link(match: re.Match[str]) -> str:
    href, inner = match.group(1), match.group(2)
    if not href:
        return inner
    url = html.unescape(href)
    label = html.unescape(_TAG.sub("", inner)).strip()
    target = url.removeprefix("mailto:").removeprefix("tel:")
    if label in (url, target) or not label:
        return f"{inner}" if label else html.escape(url, quote=False)
    return f"{inner} ({html.escape(url, quote=False)})"


# HTML5 tree building costs time in proportion to nesting depth for each tag, so a crafted
# "<div>" x 50,000 takes nh3 half a minute. Real mail nests a few dozen levels; past
# MAX_DEPTH the markup is flattened to paragraphs and line breaks before sanitising.
MAX_DEPTH = 200
# "([^<>]*)>" ends at the tag's first ">", as a lazy "[^<>]*?(/?)>" would, at half the cost;
# a tag is self-closing when "/" comes right before that ">" (a name never holds a "/").
_TAG_TOKEN = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9:-]*)([^<>]*)>")
_NOT_NESTING = frozenset(
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option",
    }
)  # fmt: skip
_FLATTEN = re.compile(r"<(?!/?(?:p|br)\b)[^<>]*>", re.IGNORECASE)


def nesting_depth(source: str) -> int:
    """An upper estimate of how deep ``source`` nests elements (unclosed tags count)."""
    if source.count("<") < MAX_DEPTH:
        return source.count("<")
    depth = deepest = 0
    # findall's tuples rather than match objects: this loop runs once per tag.
    for closing, name, rest in _TAG_TOKEN.findall(source):
        if rest.endswith("/") or name.lower() in _NOT_NESTING:
            continue
        if closing:
            if depth:
                depth -= 1
        else:
            depth += 1
            if depth > deepest:
                deepest = depth
    return deepest


# nh3's cost grows faster than the input on some shapes: "<p>" and 2 million "&amp;" (10 MB)
# took 40 s. Past MAX_HTML_CHARS the HTML is cut before sanitising: a reply's own words
# come first, what is cut is the tail (quoted history, signatures, styles). At this size
# nh3 takes about 0.05 s on that shape, and a whole 10 MB message of the worst shapes of
# bench/hostile_mail.py parses in under half a second (mostly the email parser's reading).
MAX_HTML_CHARS = 256_000


def sanitise_html(source: str, defects: list[str] | None = None) -> str:
    """Safe HTML for a coordinator's eyes: structure and text only, links as text.

    Input longer than ``MAX_HTML_CHARS`` is cut first (said in ``defects``)."""
    if len(source) > MAX_HTML_CHARS:
        source = source[:MAX_HTML_CHARS]
        if defects is not None:
            defects.append(f"HTML truncated to {MAX_HTML_CHARS} characters")
    if nesting_depth(source) > MAX_DEPTH:
        source = _FLATTEN.sub(" ", source)
        if defects is not None:
            defects.append(f"HTML nested deeper than {MAX_DEPTH} levels, flattened")
    cleaned = _CLEANER.clean(source)
    return _ANCHOR.sub(_defang_link, cleaned)


_BLOCKS = frozenset(
    {
        "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "table", "tr", "ul", "ol", "dl", "dt",
        "dd", "pre", "hr", "caption", "address", "section", "article", "header", "footer",
        "center", "blockquote", "li", "tbody", "thead", "tfoot",
    }
)  # fmt: skip
_PARAGRAPHS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "dl"})
_SPACES = re.compile(r"\s+")


class _Full(Exception):
    """The text reached its limit: the rest of the HTML is not read."""


class _TextWriter(HTMLParser):
    def __init__(self, limit: int | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.limit = limit
        self.size = 0
        self.lines: list[str] = []
        self.current: list[str] = []
        self.quote_depth = 0
        self.pre_depth = 0
        self.lists: list[list[int]] = []  # [ordered (0/1), counter]
        self.item_prefix = ""
        self.has_text = False  # the current line holds more than spaces

    # -- lines ------------------------------------------------------------------------
    def end_line(self, force: bool = False) -> None:
        text = "".join(self.current).rstrip()
        if text or force:
            self.append("> " * self.quote_depth + text if text else ">" * self.quote_depth)
        self.current = []
        self.has_text = False

    def blank_line(self) -> None:
        self.end_line()
        if self.lines and self.lines[-1].strip("> ") != "":
            self.append(">" * self.quote_depth)

    def append(self, line: str) -> None:
        # Quote markers and list indents repeat on every line: 500 KB of deeply nested
        # HTML could spell tens of megabytes of text. Past the limit, stop reading.
        self.lines.append(line)
        self.size += len(line) + 1
        if self.limit is not None and self.size > self.limit:
            raise _Full

    # -- parser callbacks ------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.end_line(force=True)
        elif tag in ("td", "th"):
            if self.current and not self.current[-1].endswith(" "):
                self.current.append(" ")
        elif tag in _BLOCKS:
            if tag in _PARAGRAPHS and not (tag in ("ul", "ol") and self.lists):
                self.blank_line()
            else:
                self.end_line()
            if tag == "blockquote":
                self.quote_depth += 1
            elif tag == "pre":
                self.pre_depth += 1
            elif tag in ("ul", "ol"):
                self.lists.append([1 if tag == "ol" else 0, 0])
            elif tag == "li":
                indent = "  " * max(len(self.lists) - 1, 0)
                if self.lists and self.lists[-1][0]:
                    self.lists[-1][1] += 1
                    self.item_prefix = f"{indent}{self.lists[-1][1]}. "
                else:
                    self.item_prefix = f"{indent}- "

    def handle_endtag(self, tag: str) -> None:
        if tag not in _BLOCKS:
            return
        nested_list = tag in ("ul", "ol") and len(self.lists) > 1
        if (tag in _PARAGRAPHS or tag == "blockquote") and not nested_list:
            self.blank_line()
        else:
            self.end_line()
        if tag == "blockquote":
            self.quote_depth = max(self.quote_depth - 1, 0)
        elif tag == "pre":
            self.pre_depth = max(self.pre_depth - 1, 0)
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()

    def handle_data(self, data: str) -> None:
        if self.pre_depth:
            first, *rest = data.replace("\r\n", "\n").split("\n")
            self.add(first.replace("\xa0", " "))
            for line in rest:
                self.end_line(force=True)
                self.add(line.replace("\xa0", " "))
            return
        chunk = _SPACES.sub(" ", data)
        if not self.has_text:
            chunk = chunk.lstrip()
            if not chunk:
                return
            self.current = []
        self.add(chunk)

    def add(self, chunk: str) -> None:
        if self.item_prefix and chunk.strip():
            self.current.append(self.item_prefix)
            self.item_prefix = ""
        self.current.append(chunk)
        if not self.has_text and chunk.strip():
            self.has_text = True


_MANY_BLANKS = re.compile(r"\n(?:[ >]*\n){2,}")


# The tokens of sanitised HTML (nh3 writes lower-case names, double-quoted attribute values
# with "<" and ">" escaped, "<" escaped in text): text up to the next "<", a start tag, an end
# tag; anything else ("<!", "<?", "/>", a stray "<") is left to html.parser.
_SIMPLE_TOKEN = re.compile(
    r'([^<]+)|<([a-zA-Z][a-zA-Z0-9]*)(?:\s+[a-zA-Z][a-zA-Z0-9_-]*="[^"<>]*")*\s*>'
    r"|</([a-zA-Z][a-zA-Z0-9]*)>|(<)"
)
_CDATA_TAGS = frozenset({"script", "style"})  # html.parser reads their content raw


def _feed_simple(writer: _TextWriter, source: str) -> bool:
    """Feeds ``writer`` the calls ``HTMLParser.feed(source)`` + ``close()`` would make, as
    long as every token is a plain one; False (the writer then half fed) at the first that
    is not. html.parser calls ``handle_data`` once per stretch of text between two tags
    (entities decoded: ``convert_charrefs``) and ``handle_starttag``/``handle_endtag`` with
    lower-case names (the writer ignores attributes)."""
    data, start, end = writer.handle_data, writer.handle_starttag, writer.handle_endtag
    for text, opening, closing, other in _SIMPLE_TOKEN.findall(source):
        if text:
            data(html.unescape(text) if "&" in text else text)
        elif opening:
            name = opening.lower()
            if name in _CDATA_TAGS:
                return False
            start(name, [])
        elif closing:
            end(closing.lower())
        else:
            assert other
            return False
    return True


def html_to_text(source: str, limit: int | None = None, *, tokenizer: bool = True) -> str:
    """Plain text of (already sanitised) HTML; with ``limit``, reading stops once the text
    is longer than ``limit`` characters (the caller cuts it and says so).

    Sanitised HTML is read by a tokenizer of its own (``_feed_simple``); the general parser
    (html.parser) reads anything else, and everything with ``tokenizer=False`` (the
    reference the tests hold the tokenizer to)."""
    writer = _TextWriter(limit)
    try:
        if not (tokenizer and _feed_simple(writer, source)):
            writer = _TextWriter(limit)
            writer.feed(source)
            writer.close()
        writer.end_line()
    except _Full:
        pass
    lines = writer.lines
    while lines and not lines[-1].strip("> "):
        lines.pop()
    start = 0
    while start < len(lines) and not lines[start].strip("> "):
        start += 1
    return _MANY_BLANKS.sub("\n\n", "\n".join(lines[start:]))
