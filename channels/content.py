"""What a reply says: the expected-element matcher, over folded text.

    reply text --fold_words--> "bonjour madame l acte ..." --patterns--> [ElementHit, ...]

Folding lives in ``scenarios.text``; ``fold`` (there ``fold_lines``) and ``fold_words`` are
re-exported here, the names the quote splitter, the classifier and ``temoin`` import.
``fold`` lower-cases and strips accents but keeps lines and punctuation, so the quote splitter
and the classifier can match wording line by line. ``fold_words`` goes further (apostrophes,
hyphens and slashes become spaces, whitespace collapses) so that « pièce d’identité » and
"piece d'identite" compare equal. ``scenarios.catalog`` folds its patterns with
``scenarios.text.fold_terms`` instead: the two agree on ordinary French and on the shipped
catalogue, so ``check_expected`` agrees with ``Scenario.elements_found`` there; where they
part (« ‘ », « ʼ », « – », « — ») is written in ``scenarios.text``.

Patterns are phrases, not regular expressions (the catalogue is written by coordinators):
matched on whole words, and a trailing ``*`` matches any ending (``gratuit*`` finds
« gratuite » and « gratuitement »).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import NamedTuple, Protocol

from scenarios.text import fold_lines
from scenarios.text import fold_words as fold_words

fold = fold_lines


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
    # "(?<!\w)word…" read with the start check after the first character: the same matches
    # (that character is never a newline, so "." takes it), but a pattern that begins with a
    # literal lets the regex engine skip ahead to it instead of trying every position (30×
    # faster on a long answer).
    first = words[0]
    core = r"\s+".join(re.escape(word) for word in (first[1:], *words[1:]))
    head = re.escape(first[0]) + r"(?<!\w.)"
    return re.compile(head + core + (r"\w*" if prefix else r"(?!\w)"))


def check_expected(text: str, elements: Iterable[ExpectedElement]) -> list[ElementHit]:
    """For each element, in order: was any of its patterns found in ``text``, and which."""
    return check_expected_folded(fold_words(text), elements)


def check_expected_folded(folded: str, elements: Iterable[ExpectedElement]) -> list[ElementHit]:
    """``check_expected`` over a text already folded with ``fold_words``."""
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
