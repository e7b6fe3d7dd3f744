"""Split a reply into what the sender wrote now, the quoted original, and the signature.

    text --first quote header--> new part | quoted part
         new part --"> " lines--> quoted part (inline replies keep their own lines)
         new part --"-- " / mobile footer / closing + short block--> new text | signature

Quote headers recognised, after folding case and accents (line by line, so nothing is
reflowed):

- attribution lines, possibly wrapped over three lines: « Le lun. 3 mars 2026 à 10:12, X a
  écrit : » (Gmail, Thunderbird, Apple Mail in French), "On … wrote:", and « X a écrit : »
  directly above ``>`` lines;
- separators: « -----Message d'origine----- », "-----Original Message-----",
  « ----- Mail original ----- » (Zimbra, common in town halls), « -------- Message transféré
  -------- », "Begin forwarded message:", and Outlook's line of underscores;
- Outlook header blocks: « De : … » followed within a few lines by two of « Envoyé : »,
  « Date : », « À : », « Objet : », « Cc : » (or From/Sent/To/Subject, and the German,
  Spanish, Italian and Dutch field names).

The signature is what follows the RFC 3676 "-- " line, a mobile footer (« Envoyé de mon
iPhone »), or a closing formula (« Cordialement », « Bien à vous », « Veuillez agréer… »)
when what follows it is a short block of short lines (name, role, service, phone). The
closing itself stays in the new text: it is part of what the agent wrote.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from channels.content import fold

_SCAN_LINES = 4000  # quote headers sit near the top; a longer scan only costs time

_SEPARATOR = re.compile(
    r"^-{2,}\s*(message d'origine|original message|mail original|message original"
    r"|message transfere|forwarded message|message reexpedie)\s*-*$"
    r"|^(begin forwarded message|debut du message reexpedie)\s*:?$"
)
_UNDERSCORES = re.compile(r"^_{10,}$")
_ATTRIBUTION_START = re.compile(r"^(le|on)\s")
_ATTRIBUTION_END = re.compile(r"\b(a\s+ecrit|wrote)\s*:?$")
_WROTE_LINE = re.compile(r"\b(a\s+ecrit|wrote)\s*:$")
# Outlook writes its header block in the reader's language: French and English first, then
# German, Spanish, Italian, Dutch (a public body in Germany answers « Von: … Gesendet: … »).
_FROM_FIELD = re.compile(r"^\*?(de|from|von|da|van)\s*:\*?\s*\S")
_OTHER_FIELD = re.compile(
    r"^\*?(envoye|sent|date|a|to|objet|subject|cc|gesendet|an|betreff|datum|enviado|fecha"
    r"|para|asunto|inviato|data|oggetto|verzonden|aan|onderwerp)\s*:"
)

_SIG_DELIMITER = re.compile(r"^--\s?$")
_MOBILE = re.compile(r"^(envoye|sent)\s+(de|depuis|from)\s+(mon|my)\s")
_CLOSING = re.compile(
    r"^((bien|tres)\s+)?cordialement"
    r"|^((bien|tres|avec mes|avec nos)\s+)?(sinceres\s+|cordiales\s+|meilleures\s+)?salutations"
    r"|^(mes|nos)\s+(sinceres\s+|cordiales\s+|meilleures\s+|respectueuses\s+)?salutations"
    r"|^bien\s+a\s+vous|^respectueusement|^cdlt|^bonne\s+(journee|soiree|fin de journee)"
    r"|^(best|kind|warm)?\s*regards|^sincerely"
    r"|^(veuillez|je vous prie d|nous vous prions d)\s*'?\s*agreer"
)
_CLOSING_TAIL = re.compile(r"[\w\s,.!]*$")  # a closing line says nothing more than that
_MAX_SIGNATURE_LINES = 12
_SIGNATURE_WINDOW = 60  # lines at the end of the new text searched for a closing
_MAX_SIGNATURE_LINE = 100


class ReplyParts(NamedTuple):
    new_text: str
    quoted: str
    signature: str


def split_reply(text: str) -> ReplyParts:
    """The new text, the quoted original and the signature of a reply's plain text."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    folded = [line.strip() for line in fold(text).split("\n")]
    if len(folded) != len(lines):  # folding changed the line structure: fold line by line
        folded = [fold(line).strip() for line in lines]
    start = _quote_start(lines, folded[:_SCAN_LINES])
    head, quoted = lines[:start], lines[start:]
    keep = [not line.lstrip().startswith(">") for line in head]
    own = [line for line, kept in zip(head, keep, strict=True) if kept]
    own_folded = [line for line, kept in zip(folded, keep, strict=False) if kept]
    if len(own) != len(head):
        quoted = [line for line in head if line.lstrip().startswith(">")] + quoted
    new_lines, signature = _split_signature(own, own_folded)
    return ReplyParts(
        _tidy(new_lines),
        _tidy(quoted),
        _tidy(signature),
    )


def _tidy(lines: list[str]) -> str:
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def _quote_start(lines: list[str], folded: list[str]) -> int:
    """Index of the first line of the quoted original (``len(lines)`` when there is none)."""
    # Each test is guarded by what its pattern cannot match without (a first character, a
    # word), which skips most lines without running a regex; the results are the same.
    for index, line in enumerate(folded):
        if not line:
            continue
        first = line[0]
        if first in "-bd" and _SEPARATOR.match(line):
            return index
        if first == "_" and _UNDERSCORES.match(line) and _fields_follow(folded, index + 1):
            return index
        if first in "*dfv" and _FROM_FIELD.match(line) and _fields_follow(folded, index + 1):
            return index
        if first in "lo" and _ATTRIBUTION_START.match(line) and _attribution(folded, index):
            return index
        if (
            ("ecrit" in line or "wrote" in line)
            and _WROTE_LINE.search(line)
            and _next_is_quoted(lines, index + 1)
        ):
            return index
    return len(lines)


def _fields_follow(folded: list[str], start: int) -> bool:
    """Do header fields (De/Envoyé/À/Objet…) follow from ``start``?"""
    window = [line for line in folded[start : start + 8] if line][:6]
    if window and _FROM_FIELD.match(window[0]):
        window = window[1:]
    return sum(1 for line in window if _OTHER_FIELD.match(line)) >= 2


def _attribution(folded: list[str], index: int) -> bool:
    """« Le …, X a écrit : » / "On …, X wrote:" starting at ``index``, up to 3 lines."""
    joined = ""
    for line in folded[index : index + 3]:
        joined = f"{joined} {line}".strip()
        if len(joined) > 400:
            return False
        if _ATTRIBUTION_END.search(joined):
            return any(ch.isdigit() for ch in joined)
    return False


def _next_is_quoted(lines: list[str], start: int) -> bool:
    for line in lines[start : start + 3]:
        if line.strip():
            return line.lstrip().startswith(">")
    return False


def _split_signature(lines: list[str], folded: list[str]) -> tuple[list[str], list[str]]:
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].startswith("--") and _SIG_DELIMITER.match(lines[index].rstrip("\n")):
            return lines[:index], lines[index + 1 :]
    window = max(len(lines) - _SIGNATURE_WINDOW, 0)  # a signature sits at the end
    for index in range(window, len(folded)):
        if _MOBILE.match(folded[index]) and _short_block(lines[index:]):
            return lines[:index], lines[index:]
    for index in range(len(folded) - 1, window - 1, -1):
        end = _closing_end(folded, index)
        if end is None:
            continue
        tail = lines[end + 1 :]
        if any(line.strip() for line in tail) and _short_block(tail):
            return lines[: end + 1], tail
        if not any(line.strip() for line in tail):
            return lines, []
    return lines, []


def _closing_end(folded: list[str], index: int) -> int | None:
    """Last line index of a closing formula starting at ``index``, else None."""
    line = folded[index]
    if not line or not _CLOSING.match(line):
        return None
    if re.match(r"^(veuillez|je vous prie|nous vous prions)", line):
        # « Veuillez agréer, Madame, l'expression de nos salutations distinguées. » wraps.
        for end in range(index, min(index + 3, len(folded))):
            if folded[end].endswith("."):
                return end
        return None
    if len(line) > 60 or not _CLOSING_TAIL.match(line):
        return None
    return index


def _short_block(lines: list[str]) -> bool:
    filled = [line for line in lines if line.strip()]
    return 0 < len(filled) <= _MAX_SIGNATURE_LINES and all(
        len(line.strip()) <= _MAX_SIGNATURE_LINE for line in filled
    )
