"""``flufl.bounce.scan_message``, with its line-by-line heuristics skipped where they find nothing.

    message --each detector in flufl's order, until one finds an address-->
              SimpleMatch, SimpleWarning: for each group of patterns, the start pattern
                  searched in the whole text first (MULTILINE); the line loop runs only
                  for the groups found there
              the others: flufl's own

``scan_message`` runs 17 detectors in turn; the last ones, SimpleMatch and SimpleWarning,
try each of some 40 groups of patterns on every line of the text (the start pattern line by
line until it matches, then the address and end patterns): about 2,500 regular-expression
calls for a bounce no specific detector knows, most of a bounce's classification time. A
group whose start pattern matches no line finds nothing, and a start pattern that is a
literal, optionally after ``^`` and before ``\\s*$`` or ``.*$``, matches the whole text
(MULTILINE) whenever it matches one of its lines. Groups whose start pattern has another
shape (a later flufl may add some) always run their line loop. ``scan`` gives what
``scan_message`` gives: tests/channels/test_fast_paths.py holds it to that on the corpus's
bounces and on generated texts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from email.iterators import body_line_iterator
from email.message import Message

from flufl.bounce import scan_message
from flufl.bounce._detectors.simplematch import VALID, SimpleMatch, _quopri_decode
from flufl.bounce._detectors.simplewarning import SimpleWarning
from flufl.bounce._interfaces import (
    BounceDetector,
    NoPermanentFailures,
    NoTemporaryFailures,
    Recipients,
)
from flufl.bounce._scan import _DETECTORS

__all__ = ["scan", "scan_message"]

_Group = tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]
_SAFE_END = ("\\s*$", ".*$", ".*)$")
_UNSAFE = ("\\A", "\\Z", "\\b", "\\B", "\\n", "\\r", "(?=", "(?!", "(?<=", "(?<!", "(?#")


def _whole_text_form(pattern: re.Pattern[str]) -> re.Pattern[str] | None:
    """``pattern`` searched over the whole text, when every line it matches makes that
    search match too; None for a shape not known to (then the line loop always runs)."""
    source = pattern.pattern
    body = source[1:] if source.startswith("^") else source
    if body.endswith("$"):
        if not body.endswith(_SAFE_END):
            return None
        body = body[:-1]
    if any(token in body for token in _UNSAFE) or "$" in body or "^" in body.replace("[^", ""):
        return None
    if "(?" in body.replace("(?P<", ""):
        return None
    return re.compile(source, pattern.flags | re.MULTILINE)


def _prepared(groups: Sequence[_Group]) -> list[tuple[_Group, re.Pattern[str] | None]]:
    return [(group, _whole_text_form(group[0])) for group in groups]


def _simple_match(
    groups: list[tuple[_Group, re.Pattern[str] | None]], msg: Message
) -> frozenset[bytes]:
    """``SimpleMatch.process``'s permanent failures, its loops as flufl 6 writes them."""
    lines = list(body_line_iterator(msg))
    text = "".join(lines)
    addresses: set[bytes] = set()
    for (scre, ecre, acre), whole in groups:
        if whole is not None and whole.search(text) is None:
            continue  # no line holds the start pattern: the loop would find nothing
        tag_seen = False
        for line in lines:
            if not tag_seen and scre.search(line):
                tag_seen = True
            if tag_seen:
                if mo := acre.search(line):
                    if address := mo.group("addr"):
                        addresses.add(_quopri_decode(address))
                elif ecre.search(line):
                    break
        if addresses:
            break
    return frozenset(address for address in addresses if VALID.match(address))


class _SimpleMatch(SimpleMatch):
    GROUPS = _prepared(SimpleMatch.PATTERNS)

    def process(self, msg: Message) -> tuple[Recipients, Recipients]:
        return NoTemporaryFailures, _simple_match(self.GROUPS, msg)


class _SimpleWarning(SimpleWarning):
    GROUPS = _prepared(SimpleWarning.PATTERNS)

    def process(self, msg: Message) -> tuple[Recipients, Recipients]:
        return _simple_match(self.GROUPS, msg), NoPermanentFailures


_FASTER: dict[object, type[BounceDetector]] = {
    SimpleMatch: _SimpleMatch,
    SimpleWarning: _SimpleWarning,
}
_OURS: list[type[BounceDetector]] = [_FASTER.get(kind, kind) for kind in _DETECTORS]


def scan(msg: Message) -> Recipients:
    """``scan_message(msg)``: the permanently failing recipients flufl's detectors find."""
    permanent: set[bytes] = set()
    for detector in _OURS:
        temporary, found = detector().process(msg)
        permanent.update(found)
        if temporary or found:
            break
    return frozenset(permanent)
