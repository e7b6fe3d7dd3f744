"""What a reply says: folding text for comparison, and the expected-element matcher.

    reply text --fold_words--> "bonjour madame l acte ..." --patterns--> [ElementHit, ...]

``fold`` lower-cases and strips accents but keeps lines and punctuation, so the quote splitter
and the classifier can match wording line by line. ``fold_words`` goes further (apostrophes,
hyphens and slashes become spaces, whitespace collapses) so that « pièce d’identité » and
"piece d'identite" compare equal; it is the same normal form ``scenarios.catalog`` uses, so
``check_expected`` agrees with ``Scenario.elements_found``.

Patterns are phrases, not regular expressions (the catalogue is written by coordinators):
matched on whole words, and a trailing ``*`` matches any ending (``gratuit*`` finds
« gratuite » and « gratuitement »).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import NamedTuple, Protocol

# Characters NFKD leaves alone but people write either way.
_FOLD_TABLE = str.maketrans(
    {
        "œ": "oe",
        "Œ": "oe",
        "æ": "ae",
        "Æ": "ae",
        "ß": "ss",
        "’": "'",
        "‘": "'",
        "ʼ": "'",
        "´": "'",
        "\u00a0": " ",  # no-break space, used before « : » in French typography
        "\u202f": " ",  # narrow no-break space (same use, newer clients)
        "\u2009": " ",
        "\u2007": " ",
        "–": "-",
        "—": "-",
    }
)
_FOLD_CHARS = re.compile("[" + "".join(chr(code) for code in _FOLD_TABLE) + "]")
_SEPARATORS = re.compile(r"['/_\-]")


# Combining marks left by NFKD (Latin accents sit in the first block). A regex is ~10x faster
# than testing unicodedata.combining() character by character on long mails.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def fold(text: str) -> str:
    """Case- and accent-folded ``text``; lines, punctuation and spacing are kept."""
    if text.isascii():
        return text.lower()
    if _FOLD_CHARS.search(text):
        text = text.translate(_FOLD_TABLE)  # slow on long text: only when needed
    decomposed = unicodedata.normalize("NFKD", text)
    return _COMBINING.sub("", decomposed).casefold()


def fold_words(text: str) -> str:
    """``fold`` then separators to spaces and whitespace collapsed: words only."""
    return " ".join(_SEPARATORS.sub(" ", fold(text)).split())


class ExpectedElement(Protocol):
    """What the matcher needs of an element (``scenarios.catalog.ExpectedElement`` fits)."""

    @property
    def id(self) -> str: ...

    @property
    def patterns(self) -> Sequence[str]: ...


class ElementHit(NamedTuple):
    id: str
    found: bool
    pattern: str | None  # the first pattern that matched, as written in the catalogue


@lru_cache(maxsize=4096)
def pattern_regex(pattern: str) -> re.Pattern[str] | None:
    """The compiled form of one pattern; None for a pattern with no words in it."""
    stripped = pattern.strip()
    prefix = stripped.endswith("*")
    words = fold_words(stripped.rstrip("*")).split()
    if not words:
        return None
    core = r"\s+".join(re.escape(word) for word in words)
    return re.compile(rf"(?<!\w){core}" + (r"\w*" if prefix else r"(?!\w)"))


def check_expected(text: str, elements: Iterable[ExpectedElement]) -> list[ElementHit]:
    """For each element, in order: was any of its patterns found in ``text``, and which."""
    folded = fold_words(text)
    hits: list[ElementHit] = []
    for element in elements:
        matched: str | None = None
        for pattern in element.patterns:
            regex = pattern_regex(pattern)
            if regex is not None and regex.search(folded):
                matched = pattern
                break
        hits.append(ElementHit(element.id, matched is not None, matched))
    return hits
