"""channels.wording: the needles that let ``find`` skip a pattern never skip a match (and
the link count of channels.senders, rewritten for speed, counts as before).

``find`` runs a pattern only when the text holds one of its needles (literals read from the
pattern's parse tree); a needle set that missed a form of the pattern would silently drop
evidence, so every pattern is checked against the corpus and against texts made to match it.
"""

from __future__ import annotations

import random
import re

import pytest

import channels.wording as wording_module
from channels.content import fold
from channels.mime import parse_message
from channels.senders import _link_words
from channels.wording import Wording, find, needles, wording
from tests.corpus.loader import load_corpus, manifests

LISTS: dict[str, Wording] = {
    name: value
    for name, value in vars(wording_module).items()
    if name.isupper() and isinstance(value, tuple)
}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"\bje suis (actuellement )?absente? jusqu'(au|a)\b", {"je suis "}),
        (r"\b(user unknown|no such user)\b", {"user unknown", "no such user"}),
        (r"(送信|配信)できませんでした", {"できませんでした"}),
        (r"\bcould ?n[o']t be delivered\b", {"t be delivered"}),
        (r"\b(newsletter )?abbestellen|abmelden\b", {"abbestellen", "abmelden"}),
        (r"(ab)+cdef", {"cdef"}),
        (r"x(yz)*", {"x"}),
        (r"\w+@\w+", {"@"}),
    ],
)
def test_needles_are_the_literals_every_match_holds(pattern: str, expected: set[str]) -> None:
    assert needles(re.compile(pattern)) == expected


@pytest.mark.parametrize("pattern", [r"(a|\d)b?", r"(?i)merci", r"\d+", r".*", r"(x)?y?"])
def test_no_needles_when_a_match_may_hold_no_literal(pattern: str) -> None:
    # A pattern without a literal every match holds (or one that ignores case) always runs.
    assert needles(re.compile(pattern)) is None


def test_case_insensitive_group_is_not_read_for_needles() -> None:
    found = needles(re.compile(r"(?i:merci) beaucoup"))
    assert found == {" beaucoup"}
    assert find(wording(("m", r"(?i:merci) beaucoup")), "MERCI beaucoup") == "m"


def test_find_keeps_the_first_pattern_in_order() -> None:
    words = wording(("first", r"\bbonjour\b"), ("second", r"jour"))
    assert find(words, "un bonjour") == "first"
    assert find(words, "un jour") == "second"
    assert find(words, "une nuit") is None


def test_needles_never_skip_a_match_on_the_corpus() -> None:
    texts: list[str] = []
    for manifest in manifests():
        for message in load_corpus(manifest):
            parsed = parse_message(message.raw())
            texts += [fold(parsed.subject), fold(parsed.text), fold(parsed.new_text)]
    texts = sorted({text for text in texts if text})
    checked = 0
    for name, words in LISTS.items():
        for shown, pattern, required in words:
            for text in texts:
                if pattern.search(text):
                    checked += 1
                    assert required is None or any(n in text for n in required), (name, shown)
    assert checked > 100  # the corpus exercises the lists, not a handful of patterns


def test_link_words_count_as_the_backtracking_regex_did() -> None:
    # senders counts the words holding a link word by word; the regex it replaced (quadratic
    # on long runs without spaces) is the reference on random texts of links, spaces (some
    # Unicode ones) and look-alikes.
    old = re.compile(r"\S*(https?://|www\.)\S*", re.IGNORECASE)
    rng = random.Random(3)
    parts = ["http://", "HTTPS://", "www.", "a", "ſ", " ", "\n", "\u00a0", "x.fr", "http:/", "ww."]
    for _ in range(5_000):
        text = "".join(rng.choice(parts) for _ in range(rng.randrange(0, 30)))
        assert _link_words(text) == len(old.findall(text)), text
