"""French typography, applied by code where prose is produced, and checked.

``french(text)`` sets what a French reader expects, on prose only (never on codes, addresses
or URLs taken alone):

- a narrow no-break space (U+202F) before « ; : ! ? » and inside « guillemets », added where
  it is missing, replacing an ordinary space where there is one (a colon between digits, as
  in 10:30, or before ``//`` in a URL, is left alone);
- the no-break thousands separator: « 10 000 » written with an ordinary space gets U+202F, so
  that « 10 000 à 50 000 hab. » never breaks as « 10 000 à 50 / 000 hab. »;
- the apostrophe between letters is the typographic one (« l’acte »);
- a hyphen between spaces is a dash (« Courrier – Contacts »), three dots an ellipsis.

``violations(text)`` lists what ``french`` would change, for tests that scan the catalogue,
the scenario files and every rendered report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NNBSP = "\u202f"
NBSP = "\u00a0"
_SPACES = f" {NBSP}{NNBSP}\u2009"

# An ordinary (or no) space before ; ! ? — not inside ?! or !! runs after the first mark.
_BEFORE_HIGH = re.compile(rf"(?<=[^\s{_SPACES};!?«(\[])[ {NBSP}]?(?=[;!?]+(?:\s|$|[»)\]\"'.,…]))")
# A colon that punctuates: after a word, before a space or the end (not 10:30, not http://).
_BEFORE_COLON = re.compile(rf"(?<=[^\s{_SPACES}:;!?(\[«])[ {NBSP}]?(?=:(?:\s|$))")
_OPEN_GUILLEMET = re.compile(rf"«[ {NBSP}]?(?=\S)")
_CLOSE_GUILLEMET = re.compile(rf"(?<=\S)[ {NBSP}]?»")
_THOUSANDS = re.compile(rf"(?<![\d,.])(\d{{1,3}})((?:[ {NBSP}]\d{{3}})+)(?![\d])")
_APOSTROPHE = re.compile(r"(?<=[A-Za-zÀ-ÖØ-öø-ÿœŒ])'(?=[A-Za-zÀ-ÖØ-öø-ÿœŒ])")
_DASH = re.compile(r"(?<=\S) - (?=\S)")
_ELLIPSIS = re.compile(r"(?<!\.)\.\.\.(?!\.)")


def french(text: str) -> str:
    """``text`` with French typography (see the module docstring); idempotent."""
    text = _APOSTROPHE.sub("\u2019", text)
    text = _ELLIPSIS.sub("…", text)
    text = _DASH.sub(" \u2013 ", text)
    text = _THOUSANDS.sub(lambda m: m.group(1) + re.sub(rf"[ {NBSP}]", NNBSP, m.group(2)), text)
    text = _OPEN_GUILLEMET.sub("«" + NNBSP, text)
    text = _CLOSE_GUILLEMET.sub(NNBSP + "»", text)
    text = _BEFORE_HIGH.sub(NNBSP, text)
    return _BEFORE_COLON.sub(NNBSP, text)


@dataclass(frozen=True, slots=True)
class Violation:
    offset: int
    found: str
    rule: str

    def __str__(self) -> str:
        return f"at {self.offset}: {self.rule} in {self.found!r}"


_RULES = (
    (re.compile(rf"[^\s{_SPACES}«(\[;!?] ?[;!?]+(?=\s|$)"), "space before ; ! ? must be U+202F"),
    (re.compile(rf"[^\s{_SPACES}:(\[«] ?:(?=\s|$)"), "space before : must be U+202F"),
    (re.compile(rf"[?!][{_SPACES}]*[:;]"), "doubled punctuation"),
    (re.compile(r"«(?: |(?=\S))"), "inside « » the space must be U+202F"),
    (re.compile(r"(?:(?<=\S) |(?<=[^\s\u202f\u00a0]))»"), "inside « » the space must be U+202F"),
    (re.compile(r"(?<![\d,.])\d{1,3}(?: \d{3})+(?!\d)"), "thousands need a no-break space"),
    (_APOSTROPHE, "straight apostrophe between letters"),
    (_DASH, "a hyphen between spaces is a dash"),
)


def violations(text: str) -> list[Violation]:
    """Every place where ``text`` breaks French typography, in order."""
    found: list[Violation] = []
    for pattern, rule in _RULES:
        for match in pattern.finditer(text):
            start = max(match.start() - 12, 0)
            found.append(Violation(match.start(), text[start : match.end() + 12], rule))
    return sorted(found, key=lambda v: v.offset)
