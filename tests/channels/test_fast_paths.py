"""The ingest fast paths give what the slow definitions give, to the character.

``scenarios.text.fold_lines`` against ``_fold_whole`` (NFKD over the whole text, the
definition), ``channels.mime_tree.parse_tree`` against the standard library's
``parsebytes`` (more in test_mime_tree.py) and the matcher's subject index against a pass
over every contact; over every code point below U+3000, the real-mail corpus, the example
mail and generated hostile shapes (lone CR, missing blank line, 8-bit bytes, combining
marks, similar subjects); and the cheap tests that let a slow pattern or a pass over every
character be skipped.
"""

from __future__ import annotations

import email
import email.message
import email.parser
import itertools
import re
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path

import pytest
from flufl.bounce import scan_message
from flufl.bounce._detectors.simplematch import SimpleMatch
from flufl.bounce._detectors.simplewarning import SimpleWarning
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels import mime
from channels.bounce_scan import scan
from channels.bounces import flufl_message
from channels.charsets import _has_c1, _has_c1_utf8
from channels.content_checks import _EMAIL, _URL, _may_hold_url
from channels.html_text import (
    _NOT_NESTING,
    MAX_DEPTH,
    _feed_simple,
    _TextWriter,
    html_to_text,
    nesting_depth,
    sanitise_html,
)
from channels.matching import OPEN_STATUSES, ContactRef, MatchIndex, similar_subjects
from channels.mime import _header_block_start, parse_message
from channels.mime_tree import parse_tree
from scenarios.text import _fold_whole, fold_lines
from tests.corpus.loader import load_corpus

SAMPLES = Path(__file__).resolve().parents[2] / "examples" / "mail"
MARKS = ["\u0301", "\u0327", "\u0323", "\u0591", "\u05b0", "\u0e48", "\u20dd", "\u034f"]


def test_fold_every_code_point_alone_and_between_letters() -> None:
    for code in range(0x3000):
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF:
            continue
        for text in (char, f"A{char}b", f"É{char}\u0301x", f"{char}{char}É’"):
            assert fold_lines(text) == _fold_whole(text), hex(code)


def test_fold_combining_marks_reordered_across_characters() -> None:
    bases = ["e", "é", "É", "ß", "’", "œ", "µ", "\u00a0", "\u202f", "ǅ", "ﬁ"]
    for base, first, second in itertools.product(bases, MARKS, MARKS):
        text = f"{base}{first}{second}{base}{second}"
        assert fold_lines(text) == _fold_whole(text), repr(text)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(
        alphabet=st.one_of(
            st.sampled_from("aAzZ \n\t'-éÉèàçÇœŒæß’‘«»\u00a0\u202f–—…µ¼²ªÐ\x85\r"),
            st.sampled_from(MARKS),
            st.characters(max_codepoint=0x2FFF, exclude_categories=("Cs",)),
        ),
        max_size=80,
    )
)
def test_fold_random_text(text: str) -> None:
    assert fold_lines(text) == _fold_whole(text)


def test_fold_real_mail_text() -> None:
    for message in load_corpus():
        text = parse_message(message.raw()).text
        assert fold_lines(text) == _fold_whole(text), message.path


def _shape(msg: email.message.Message) -> object:
    """Everything the analysis can read of a parsed message, recursively."""
    payload = msg._payload  # type: ignore[attr-defined]  # as stored: get_payload() decodes
    return (
        type(msg).__name__,
        msg.get_unixfrom(),
        list(msg.raw_items()),
        [type(defect).__name__ for defect in msg.defects],
        msg.preamble,
        msg.epilogue,
        msg.get_default_type(),
        [_shape(part) for part in payload] if isinstance(payload, list) else payload,
    )


def _same_parse(raw: bytes) -> None:
    parser = email.parser.BytesParser(policy=policy.compat32)
    try:
        data = _header_block_start(raw)
    except Exception:
        data = raw
    assert _shape(parse_tree(data)) == _shape(parser.parsebytes(data))


def test_parse_same_as_stdlib_on_real_and_example_mail() -> None:
    for message in load_corpus():
        _same_parse(message.raw())
    for path in sorted(SAMPLES.glob("*.eml")):
        _same_parse(path.read_bytes())


LINES = st.sampled_from(
    [
        b"From: a@b.example",
        b"Subject: =?utf-8?q?R=C3=A9ponse?=",
        b"Subject: R\xe9ponse 8 bits",
        b"Content-Type: text/plain; charset=latin-1",
        b"Content-Type: text/html",
        b"Content-Type: multipart/mixed; boundary=X",
        b"Content-Type: message/rfc822",
        b"Content-Type: message/delivery-status",
        b'Content-Type: text/plain; charset="\xff"',
        b"Content-Transfer-Encoding: base64",
        b"  folded continuation",
        b"\tfolded with a tab",
        b"From nobody Mon Jan 1 00:00:00 2026",
        b"not a header line",
        b":",
        b"",
        b" ",
        b"--X",
        b"--X--",
        b"Bonjour \xe9t\xe9",
        b"QmFzZTY0IGJvZHk=",
    ]
)
ENDINGS = st.sampled_from([b"\r\n", b"\n", b"\r", b"\r\r\n", b"\n\r"])


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(LINES, ENDINGS), min_size=1, max_size=30))
def test_parse_same_as_stdlib_on_generated_shapes(lines: list[tuple[bytes, bytes]]) -> None:
    _same_parse(b"From: x@y.example\r\n" + b"".join(line + end for line, end in lines))


@pytest.mark.parametrize(
    "raw",
    [
        b"Subject: a\r\n\r\n",
        b"Subject: a\n\nbody\rwith\r\nmixed\n\rendings",
        b"Subject: a\r\nno blank line then body?\r\n\r\nbody",
        b"Subject: a\r\n \r\n\r\nfolded blank",
        b"Content-Type: text/plain\r\nContent-Type: multipart/mixed; boundary=Z\r\n\r\n--Z\r\n",
        b"Content-Type: MULTIPART/alternative; boundary=Z\n\n--Z\n\nx\n--Z--\n",
        b"Content-Type: Message/RFC822\n\nSubject: inner\n\nbody\n",
    ],
)
def test_parse_same_as_stdlib_on_edge_cases(raw: bytes) -> None:
    _same_parse(raw)


SUBJECTS = [
    "demande de copie integrale",
    "demande de copie integrale d acte",
    "demande d acte de naissance",
    "demande d acte de naissance svp",
    "inscription liste electorale",
    "horaires",
    "",
]


def _by_subject_reference(
    index: MatchIndex, subject: str, received_at: datetime
) -> list[ContactRef]:
    """The pass over every open contact that ``_open_with_subject`` replaces."""
    pool = [
        c
        for c in index.contacts
        if c.status in OPEN_STATUSES and c.sent_at is not None and c.sent_at <= received_at
    ]
    exact = [c for c in pool if subject in c.subjects]
    if exact or not subject:
        return exact
    distinct = {s for c in pool for s in c.subjects}
    alike = {s for s in distinct if similar_subjects(subject, s)}
    return [c for c in pool if not alike.isdisjoint(c.subjects)] if alike else []


def _contact(n: int, status: str, sent_at: datetime | None, subjects: list[str]) -> ContactRef:
    return ContactRef(
        id=n, status=status, sent_at=sent_at, message_id=None, followup_message_id=None,
        reply_token=None, service_id=1, service_email=None, collectivity_id=1,
        subjects=tuple(subjects),
    )  # fmt: skip


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["sent", "acknowledged", "answered", "planned"]),
            st.one_of(st.none(), st.integers(0, 10)),
            st.lists(st.sampled_from(SUBJECTS), max_size=3, unique=True),
        ),
        max_size=40,
    ),
    st.lists(st.tuples(st.sampled_from(SUBJECTS[:-1]), st.integers(0, 12)), max_size=8),
)
def test_subject_index_same_as_pass_over_contacts(
    rows: list[tuple[str, int | None, list[str]]], asked: list[tuple[str, int]]
) -> None:
    start = datetime(2026, 3, 2, tzinfo=UTC)
    contacts = [
        _contact(n, status, None if day is None else start + timedelta(days=day), subjects)
        for n, (status, day, subjects) in enumerate(rows)
    ]
    index = MatchIndex("claire@persona.example", "+", contacts)
    for subject, day in asked * 2:  # twice: the second answer comes from the caches
        when = start + timedelta(days=day)
        assert index._open_with_subject(subject, when) == _by_subject_reference(
            index, subject, when
        )


@settings(max_examples=400)
@given(st.text(alphabet=st.characters(max_codepoint=0x2FF, exclude_categories=("Cs",))))
def test_c1_in_utf8_bytes_as_in_text(text: str) -> None:
    assert _has_c1_utf8(text.encode("utf-8")) == _has_c1(text)


@settings(max_examples=400)
@given(
    st.lists(
        st.sampled_from(["www.", "WwW.", "wWW.x", "http://a", "HTTPS://b", "ſ", "K", "@", "a@b.fr",
                         "x", " ", "\n", ".", ":/", "//", "w", "W", "é"]),
        max_size=20,
    )
)  # fmt: skip
def test_url_and_address_prechecks_lose_nothing(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert (_URL.findall(text) if _may_hold_url(text) else []) == _URL.findall(text)
    assert (_EMAIL.findall(text) if "@" in text else []) == _EMAIL.findall(text)


@pytest.mark.parametrize(
    "header",
    [
        "To: Claire Mercier <claire@persona.example>",
        "From: =?utf-8?q?Mairie_de_Saint-=C3=89tienne?= <accueil@mairie.example>",
        "To: =?x-unknown?b?!!!?= <a@b.example>, \udcff\udcfe <c@d.example>",
        "Cc: " + "(" * 40 + "x" + ")" * 40 + " <e@f.example>",
        "Cc: " + "(" * 2000 + " <g@h.example>",  # too long to be remembered
    ],
)
def test_addresses_remembered_with_their_defects(header: str) -> None:
    raw = f"{header}\r\nSubject: a\r\n\r\nBonjour\r\n".encode("utf-8", "surrogateescape")
    mime._ADDRESS_CACHE.clear()
    first = parse_message(raw)
    again = parse_message(raw)  # from the cache, when the value is short enough
    assert repr(again) == repr(first)
    assert again.defects == first.defects


# -- HTML to text: the tokenizer of sanitised HTML against html.parser ----------------------

HTML_PIECES = st.sampled_from(
    ["<p>", "</p>", "<br>", "<br/>", "<div>", "</div>", "<ul>", "<ol>", "<li>", "</li>", "</ul>",
     "</ol>", "<blockquote>", "</blockquote>", "<pre>", "</pre>", "<td>", "<th>", "<tr>",
     "</tr>", "<table>", "</table>", "<h1>", "</H1>", "<B>", "</b>", '<td colspan="2">',
     '<a href="https://x.example/?a=1&amp;b=2">', "</a>", "<script>", "</script>", "<style>",
     "<!-- c -->", "<!DOCTYPE html>", "<?pi?>", "< p>", "<p", "</p >", "<td nowrap>", "a < b",
     "&amp;", "&lt;", "&gt;", "&nbsp;", "&eacute;", "&#233;", "&#x20AC;", "&amp", "&", "&unknown;",
     "Bonjour", " ", "  ", "\n", "\r\n", "\t", "\xa0", "Madame,", "> cité", "é", "x" * 30]
)  # fmt: skip


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(HTML_PIECES, max_size=40), st.sampled_from([None, 5, 40, 200]))
def test_html_tokenizer_same_text_as_html_parser(pieces: list[str], limit: int | None) -> None:
    source = "".join(pieces)
    for html in (source, sanitise_html(source)):
        assert html_to_text(html, limit) == html_to_text(html, limit, tokenizer=False)


def test_html_tokenizer_same_text_on_real_mail_and_takes_it() -> None:
    messages = [parse_message(m.raw()) for m in load_corpus()]
    messages += [parse_message(p.read_bytes()) for p in sorted(SAMPLES.glob("*.eml"))]
    sources = [m.html for m in messages if m.html]
    assert sources
    for html in sources:
        for limit in (None, 300):
            assert html_to_text(html, limit) == html_to_text(html, limit, tokenizer=False)
        assert _feed_simple(_TextWriter(None), html), html[:200]  # sanitised: the fast path


# -- flufl.bounce's scan with its line loops skipped where they cannot match -----------------


def _flufl_fragments() -> list[str]:
    """Pieces of the texts flufl's line heuristics look for, in both cases."""
    pieces = []
    for group in (*SimpleMatch.PATTERNS, *SimpleWarning.PATTERNS):
        for pattern in group:
            literal = pattern.pattern.replace("\\s*", " ").replace("^", "").replace("$", "")
            literal = literal.split("(?P<addr>")[0].replace("\\", "")
            pieces += [literal, literal.upper()]
    return pieces


FLUFL_LINES = st.one_of(
    st.sampled_from(_flufl_fragments()),
    st.sampled_from(
        ["<a@b.example>", "  x@y.example  ", "c@d.example:", "--- ", "---", "", " ", "because:",
         "[e@f.example]", '"g@h.example"', "rcpt to: <i@j.example>", "-- k@l.example", "x=20@m.fr",
         "Delivery to the following recipients failed.", "failed: n@o.example", "\t", ">",
         # the non-ASCII letters re.IGNORECASE matches with ASCII ones
         "\u017forry, unable to deliver your me\u017f\u017fage to", "D\u0130d not reach the",
         "DELIVERY HAS FA\u0131LED", "\u212aind regards",
         "D\u0131d not reach the following recipient"]
    ),
)  # fmt: skip


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(FLUFL_LINES, st.sampled_from([" ", "", " p@q.example"])), max_size=25))
def test_bounce_scan_same_as_flufl_on_generated_text(lines: list[tuple[str, str]]) -> None:
    raw = "From: MAILER-DAEMON@x.example\nSubject: Undelivered Mail\n\n" + "".join(
        f"{line}{tail}\n" for line, tail in lines
    )
    message = email.message_from_string(raw)
    assert scan(message) == scan_message(message)


def test_bounce_scan_same_as_flufl_on_real_mail() -> None:
    found = 0
    for corpus_message in load_corpus():
        message = flufl_message(parse_message(corpus_message.raw()))
        expected = scan_message(message)
        assert scan(message) == expected, corpus_message.path
        found += bool(expected)
    assert found  # some bounces of the corpus are read by flufl


# -- part facts remembered by header value, and the parameter-name prechecks -----------------

PART_VALUES = st.sampled_from(
    [None, "text/plain", "text/plain; charset=utf-8", "TEXT/HTML; Charset=\"ISO-8859-1\"",
     "text/plain; charset*=utf-8''%E9", "text/plain; charset=\"\"", "text", "a/b/c",
     "text/plain; NAME=x.txt", "text/plain; name*0=a; name*1=b", 'text/plain; filename="y"',
     "application/pdf; name=\"=?utf-8?q?r=C3=A9ponse.pdf?=\"", "multipart/mixed; boundary=z",
     "text/plain; charset=\udce9", "inline", "attachment", "inline; filename=z.txt",
     "inline; FILENAME*=utf-8''%C3%A9.txt", "Inline;name=q", "text/plain; charset=x-inconnu",
     "text/plain; charset=utf-8; format=flowed", "inline;", "attachment; size=3",
     "multipart/report; report-type=delivery-status; boundary=b", "multipart/report",
     'multipart/report; REPORT-TYPE="Disposition-Notification"', "x/y; report-type*=utf-8''%41",
     "multipart/report; report-type=", "multipart/report; report-type=\udce9"]
)  # fmt: skip


def _reference_facts(part: email.message.Message) -> tuple[object, ...]:
    """The readings as the parser made them before they were remembered or prechecked."""
    try:
        ctype = part.get_content_type()
    except Exception:
        ctype = "text/plain"
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    disposition = str(part.get("Content-Disposition", "")).split(";", 1)[0].strip().lower()
    try:
        attachment = disposition == "attachment" or bool(part.get_filename())
    except Exception:
        attachment = False
    try:
        report: object = part.get_param("report-type")
    except Exception:
        report = None
    if isinstance(report, tuple):
        report = report[2]
    if not isinstance(report, str) or not report:
        report = None
    else:
        report = report.strip().strip('"').lower()[:100]
    return ctype, charset, attachment, report


@settings(max_examples=400, deadline=None)
@given(PART_VALUES, PART_VALUES, st.booleans())
def test_part_facts_same_as_the_email_package(
    ctype: str | None, disposition: str | None, digest: bool
) -> None:
    part = email.message.Message()
    if ctype is not None:
        part["Content-Type"] = ctype
    if disposition is not None:
        part["Content-Disposition"] = disposition
    if digest:
        part.set_default_type("message/rfc822")
    expected = _reference_facts(part)
    for _ in range(2):  # the second time from what was remembered
        facts = (mime._safe_content_type(part), mime._content_charset(part))
        report = mime._param(part, "report-type")
        assert (*facts, mime._is_attachment(part), report) == expected


HEADER_VALUES = st.lists(
    st.sampled_from(["a", " ", "\t", "=?", "=?utf-8?q?=C3=A9?=", "?=", "\r\n ", "\n\t", "\r",
                     "\udce9", "é", "<x@y.example>", ",", "(", "x" * 50]),
    max_size=12,
).map("".join)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["Subject", " To", "X-\udce9", "Cc "]), HEADER_VALUES),
                max_size=6))  # fmt: skip
def test_plain_headers_read_as_the_general_reading_reads_them(
    items: list[tuple[str, str]],
) -> None:
    msg = email.message.Message()
    for name, value in items:
        msg.set_raw(name, value)
    fast_defects, slow_defects = mime._Defects(), mime._Defects()
    general = [
        (
            mime.recover_header(name, slow_defects).strip(),
            mime.decode_header_value(mime._raw(value, name, slow_defects), slow_defects),
        )
        for name, value in items
    ]
    assert mime._headers(msg, fast_defects) == general
    assert fast_defects == slow_defects


def _nesting_depth_reference(source: str) -> int:
    """html_text.nesting_depth as it read match objects, before it read findall's tuples."""
    if source.count("<") < MAX_DEPTH:
        return source.count("<")
    depth = deepest = 0
    for match in re.finditer(r"<(/?)([a-zA-Z][a-zA-Z0-9:-]*)[^<>]*>", source):
        closing, name = match.groups()
        if match.group()[-2] == "/" or name.lower() in _NOT_NESTING:
            continue
        if closing:
            if depth:
                depth -= 1
        else:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["<div>", "</div>", "<b/>", "<B >", "</b>", "<br>", "<p>", "<x:y>",
                                 "<LI>", "</ul>", "<a href='/'>", "<a/ >", "</>", "<>", "<1>", "x",
                                 "<divK>", "</div/>", "<img src=x/>"]),
                min_size=0, max_size=60),
       st.integers(0, 8))  # fmt: skip
def test_nesting_depth_same_as_match_reading(pieces: list[str], repeat: int) -> None:
    source = "".join(pieces) * (repeat * 10)  # past MAX_DEPTH "<" for the loop to run
    assert nesting_depth(source) == _nesting_depth_reference(source)
