"""The expected-element matcher's compiled patterns (channels/content.py) find exactly what the
plain form of their definition finds, over every pattern of the catalogue and real mail."""

from __future__ import annotations

import re

from channels.content import fold_words, pattern_regex
from scenarios.catalog import load_catalog
from tests.corpus.loader import load_corpus


def plain(pattern: str) -> re.Pattern[str]:
    """The definition: whole words (a start not inside a word), ``*`` for any ending."""
    stripped = pattern.strip()
    words = fold_words(stripped.rstrip("*")).split()
    core = r"\s+".join(re.escape(word) for word in words)
    return re.compile(rf"(?<!\w){core}" + (r"\w*" if stripped.endswith("*") else r"(?!\w)"))


def test_compiled_patterns_find_what_the_definition_finds() -> None:
    patterns = sorted(
        {
            pattern
            for scenario in load_catalog().scenarios.values()
            for element in scenario.expected_elements
            for pattern in element.patterns
        }
        | {"a b", "l'acte", "n° 12", "x*", "-- tiret", "été*"}
    )
    texts = [fold_words(m.raw().decode("utf-8", "replace")) for m in load_corpus()[::3]]
    texts += ["a b", "aa b", " a  b.", "l acte", "la acte", "n 12", "xylophone", "ete etes"]
    found = 0
    for pattern in patterns:
        ours, reference = pattern_regex(pattern), plain(pattern)
        assert ours is not None
        for text in texts:
            want = [m.span() for m in reference.finditer(text)]
            assert [m.span() for m in ours.finditer(text)] == want, (pattern, text[:80])
            found += bool(want)
    assert len(patterns) > 50 and found > 100
