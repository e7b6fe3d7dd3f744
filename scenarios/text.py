"""Folding text for comparison (case, accents, ligatures, separators), in one place.

Two normal forms, for two kinds of text; they differ on purpose::

    fold_key("État-civil / Mairie")   -> "etat civil mairie"     short things people type
    fold_lines("Réponse À\\nl’ŒUVRE")  -> "reponse a\\nl'oeuvre"   whole mails, line by line
    fold_words("Pièce d’identité / justificatif-domicile")
                                      -> "piece d identite justificatif domicile"

``fold_key`` is for names, labels, typed answers and column headers (service kinds, the
directory's headers, a grid's yes/no and choice answers): separators (``_ - ' ’ /``) become
spaces and whitespace collapses; every combining mark is dropped, whatever the script; the
ligatures « œ » and « æ » stay letters of their own.

``fold_lines`` is for replies and bounces (the quote splitter, the classifier, matching): it
keeps lines, punctuation and spacing so that wording can be matched line by line, unfolds
the ligatures (« cœur » -> "coeur"), and makes typographic quotes, spaces and dashes ASCII.
It is built for long mails: ASCII text takes a fast path, and only the combining marks of
the Latin blocks are dropped, by one regular expression. ``fold_words`` is ``fold_lines``
down to words: separators to spaces, whitespace collapsed.

``fold_terms`` (``fold_key`` after ``unligature``) is the form of the catalogue's
expected-element patterns and of the text ``ExpectedElement.found_in`` searches, while the
reply checker ``channels.content.check_expected`` uses ``fold_words``. The two agree on the
shipped catalogue (``tests/temoin/test_mail_inspect.py``) and on ordinary French, but not on « ʼ »,
« ‘ », « – » and « — » (separators for ``fold_words``, kept by ``fold_terms``) nor on rare
combining marks (U+034F and the enclosing marks from U+20DD are dropped by ``fold_words``
only, those of other scripts by ``fold_terms`` only). Making them one form would change what
``found_in`` finds, so both stay, side by side here, until that is decided.
"""

from __future__ import annotations

import re
import unicodedata

NBSP = "\u00a0"  # before « : » and inside « guillemets » (French typography)
NNBSP = "\u202f"  # before « ; ? ! »

# Letters NFKD does not decompose but people write either way (« cœur » / "coeur").
_LIGATURES = {"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"}
_LIGATURE_TABLE = str.maketrans(_LIGATURES)


def unligature(text: str) -> str:
    """``text`` with « œ », « æ » and « ß » written out (oe, ae, ss); nothing else changes."""
    return text.translate(_LIGATURE_TABLE)


# --------------------------------------------------------------------------- names and answers


def fold_key(text: str) -> str:
    """Lower-case, strip accents and collapse separators: what people type, compared."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    for sep in ("_", "-", "'", "’", "/"):
        bare = bare.replace(sep, " ")
    return " ".join(bare.split())


def fold_terms(text: str) -> str:
    """Case, accents, ligatures and separators folded: the form patterns are matched in."""
    return fold_key(unligature(text))


# --------------------------------------------------------------------------- mail text

# Characters NFKD leaves alone but people write either way.
_FOLD_TABLE = str.maketrans(
    {
        **_LIGATURES,
        "’": "'",
        "‘": "'",
        "ʼ": "'",
        "´": "'",
        NBSP: " ",  # no-break space, used before « : » in French typography
        NNBSP: " ",  # narrow no-break space (same use, newer clients)
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


_NON_ASCII_RUNS = re.compile(r"([^\x00-\x7f]+)")
_RUN_CACHE: dict[str, str] = {}
_RUN_CACHE_SIZE = 20_000


def fold_lines(text: str) -> str:
    """Case- and accent-folded ``text``; lines, punctuation and spacing are kept.

    ``_fold_whole(text)`` to the character, computed faster on long mail. Every step of the
    definition works character by character (the table, NFKD's decompositions, the removal
    of marks, ``casefold``) but one: NFKD reorders runs of combining marks. So a character
    whose decomposition adds no mark that survives folds alone to the same string, and a
    stretch of characters between two ASCII characters (never combining) folds alone to the
    same string. Hence three paths, each exact:

    - typographic characters folding to ASCII (« ’ », narrow no-break space, « œ », dashes)
      replaced by their folds, then text within Latin-1 whose characters fold one by one to
      one Latin-1 character (``_LATIN1``): one ``bytes.translate``, ~50× faster;
    - otherwise run by run (``_fold_runs``): ASCII stretches lower-cased, the others folded
      alone and remembered, since mail repeats « é », « à » thousands of times.
    """
    if text.isascii():
        return text.lower()
    latin = text
    for char, folded in _TYPOGRAPHIC:
        if char in latin:
            latin = latin.replace(char, folded)
    try:
        data = latin.encode("latin-1")
    except UnicodeEncodeError:
        return _fold_runs(text)
    if b"\x00" in data.translate(_LATIN1_KNOWN):
        return _fold_runs(text)
    return data.translate(_LATIN1).decode("latin-1")


def _fold_runs(text: str) -> str:
    """``fold_lines`` stretch by stretch: see there."""
    pieces = _NON_ASCII_RUNS.split(text)  # ASCII, other, ASCII, …, ASCII
    cache = _RUN_CACHE
    for index in range(1, len(pieces), 2):
        run = pieces[index]
        folded = cache.get(run)
        if folded is None:
            if len(cache) >= _RUN_CACHE_SIZE:
                cache.clear()
            folded = cache[run] = _fold_whole(run)
        pieces[index] = folded
    for index in range(0, len(pieces), 2):
        pieces[index] = pieces[index].lower()
    return "".join(pieces)


def _fold_whole(text: str) -> str:
    """``fold_lines`` over the whole text at once: the definition, and the reference."""
    if text.isascii():
        return text.lower()
    if _FOLD_CHARS.search(text):
        text = text.translate(_FOLD_TABLE)  # slow on long text: only when needed
    decomposed = unicodedata.normalize("NFKD", text)
    return _COMBINING.sub("", decomposed).casefold()


def _folds_alone(char: str) -> bool:
    """Does ``char`` fold alone as within any text (no mark of it survives folding)?"""
    decomposed = unicodedata.normalize("NFKD", char.translate(_FOLD_TABLE))
    return all(not unicodedata.combining(c) or _COMBINING.match(c) for c in decomposed)


def _latin1_tables() -> tuple[bytes, bytes]:
    """The byte table folding Latin-1 text character by character, and the table marking
    with 0 the characters it cannot fold (a fold longer than one character or outside
    Latin-1, as « ß », « æ », « ¼ », « µ »)."""
    fold = bytearray(range(256))
    known = bytearray(b"\x01" * 256)
    for code in range(256):
        char = chr(code)
        folded = _fold_whole(char)
        if len(folded) == 1 and ord(folded) < 256 and _folds_alone(char):
            fold[code] = ord(folded)
        else:
            known[code] = 0
    return bytes(fold), bytes(known)


_LATIN1, _LATIN1_KNOWN = _latin1_tables()
# Frequent in French mail outside Latin-1, each folding alone to ASCII that lower() keeps.
_TYPOGRAPHIC = tuple(
    (char, _fold_whole(char))
    for char in ("\u2019", "\u2018", "\u02bc", "\u202f", "\u2009", "\u2007", "\u2013",
                 "\u2014", "\u0153", "\u0152", "\u2026", "\u201c", "\u201d")
    if _fold_whole(char).isascii()
    and _fold_whole(char) == _fold_whole(char).lower()
    and _folds_alone(char)
)  # fmt: skip


def fold_words(text: str) -> str:
    """``fold_lines`` then separators to spaces and whitespace collapsed: words only."""
    return " ".join(_SEPARATORS.sub(" ", fold_lines(text)).split())
