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


def fold_lines(text: str) -> str:
    """Case- and accent-folded ``text``; lines, punctuation and spacing are kept."""
    if text.isascii():
        return text.lower()
    if _FOLD_CHARS.search(text):
        text = text.translate(_FOLD_TABLE)  # slow on long text: only when needed
    decomposed = unicodedata.normalize("NFKD", text)
    return _COMBINING.sub("", decomposed).casefold()


def fold_words(text: str) -> str:
    """``fold_lines`` then separators to spaces and whitespace collapsed: words only."""
    return " ".join(_SEPARATORS.sub(" ", fold_lines(text)).split())
