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
(MULTILINE) whenever it matches one of its lines; before that, a literal every match holds
(``wording.needles``) is looked for in the lower-cased text, without any regex.
Groups whose start pattern has another shape (a later flufl may add some) always run their
line loop. ``scan`` gives what ``scan_message`` gives: tests/channels/test_fast_paths.py
holds it to that on the corpus's bounces and on generated texts.
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

from channels.wording import needles

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


def _lower_needles(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Lower-case ASCII literals one of which every match of ``pattern`` holds, in some
    case (``wording.needles`` of its case-sensitive form); None when there are none."""
    found = needles(re.compile(pattern.pattern, pattern.flags & ~re.IGNORECASE))
    if not found or not all(needle.isascii() for needle in found):
        return None
    return frozenset(needle.lower() for needle in found)


_ASCII_FOLDS = (("\u0130", "i"), ("\u0131", "i"), ("\u017f", "s"), ("\u212a", "k"))
_Prepared = tuple[_Group, re.Pattern[str] | None, frozenset[str] | None]


def _prepared(groups: Sequence[_Group]) -> list[_Prepared]:
    return [(group, _whole_text_form(group[0]), _lower_needles(group[0])) for group in groups]


def _simple_match(groups: list[_Prepared], msg: Message) -> frozenset[bytes]:
    """``SimpleMatch.process``'s permanent failures, its loops as flufl 6 writes them."""
    lines = list(body_line_iterator(msg))
    text = "".join(lines)
    # A case-insensitive search is slow in Python's re: a case-insensitive ASCII literal is
    # looked for in the lower-cased text first, where the four non-ASCII letters that
    # re.IGNORECASE matches with ASCII letters (U+0130, U+0131, U+017F, U+212A) are read
    # as those letters.
    lowered = text
    if not text.isascii():
        for char, letter in _ASCII_FOLDS:
            if char in lowered:
                lowered = lowered.replace(char, letter)
    lowered = lowered.lower()
    addresses: set[bytes] = set()
    for (scre, ecre, acre), whole, required in groups:
        if required is not None and not any(needle in lowered for needle in required):
            continue  # the start pattern is nowhere in the text, in any case
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
