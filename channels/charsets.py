"""Bytes to text the way French mail needs it, with every guess written down as a defect.

    declared charset --normalise--> codec | unknown
        latin family (us-ascii, iso-8859-1/15, windows-1252, utf-8, unknown):
            valid UTF-8 ............................ utf-8 (mislabelled if declared latin)
            declared utf-8 but invalid ............. utf-8, bad bytes read as windows-1252
            iso-8859-15 ............................ iso-8859-15
            anything else .......................... windows-1252
            then C1 controls (U+0080-U+009F) ....... read as windows-1252 (€, œ, ’, …)
        other known codecs ......................... that codec, errors replaced
        a codec that fails ......................... the latin-family path

Why C1 controls: windows-1252 puts « € œ ’ … » at 0x80-0x9F, where iso-8859-1 has control
characters no human writes. Outlook and many webmails send windows-1252 text labelled
iso-8859-1 (or us-ascii, or utf-8); decoding those bytes as windows-1252 is what every mail
reader does. The five bytes windows-1252 leaves undefined fall back to iso-8859-1.
"""

from __future__ import annotations

import codecs
import re

_LATIN_FAMILY = frozenset({"ascii", "latin-1", "iso8859-15", "cp1252", "utf-8"})
# Codecs that "decode" bytes as something other than a charset, or always fail.
_REFUSED = frozenset(
    {"undefined", "unicode-escape", "raw-unicode-escape", "punycode", "idna", "rot-13"}
)
_ALIASES = {
    "win-1252": "cp1252",
    "cp-1252": "cp1252",
    "x-cp1252": "cp1252",
    "windows-1252-1": "cp1252",
    "ansi": "cp1252",
    "ansi_x3.4-1968": "ascii",
    "unicode-1-1-utf-8": "utf-8",
    "x-unicode20utf8": "utf-8",
    "utf8mb4": "utf-8",
    "iso-8859-8-i": "iso8859-8",
    "ks_c_5601-1987": "cp949",
}
# U+0080-U+009F as windows-1252 reads those bytes (undefined ones stay as they are).
_C1_TO_CP1252 = {
    code: bytes([code]).decode("cp1252", "replace")
    for code in range(0x80, 0xA0)
    if bytes([code]).decode("cp1252", "replace") != "\ufffd"
}


def _latin1_fallback(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return exc.object[exc.start : exc.end].decode("latin-1"), exc.end


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return exc.object[exc.start : exc.end].decode("cp1252", "temoin-latin1"), exc.end


codecs.register_error("temoin-latin1", _latin1_fallback)
codecs.register_error("temoin-cp1252", _cp1252_fallback)


def codec_name(label: str | None) -> str | None:
    """Python's codec name for a MIME charset label; None when unknown or not a charset."""
    if not label:
        return None
    cleaned = label.strip().strip("\"'").strip().lower()
    if not cleaned or len(cleaned) > 40:
        return None
    cleaned = _ALIASES.get(cleaned, cleaned)
    try:
        info = codecs.lookup(cleaned)
    except (LookupError, ValueError, TypeError):
        return None
    name = info.name
    if not getattr(info, "_is_text_encoding", True) or name in _REFUSED:
        return None
    if name == "us-ascii":
        return "ascii"
    if name == "iso8859-1":
        return "latin-1"
    return name


def decode_bytes(data: bytes, declared: str | None, defects: list[str]) -> str:
    """Decode ``data`` labelled ``declared``; append what had to be guessed to ``defects``."""
    codec = codec_name(declared)
    if declared and codec is None:
        defects.append(f"unknown charset {declared.strip()[:40]!r}, guessed from the bytes")
    if codec in _LATIN_FAMILY or codec is None:
        if data.isascii():
            return data.decode("ascii")
        return _decode_latin_family(data, codec, declared, defects)
    try:
        text = data.decode(codec, "replace")
    except (LookupError, UnicodeError, ValueError, TypeError):
        defects.append(f"charset {codec} failed, guessed from the bytes")
        return _decode_latin_family(data, None, declared, defects)
    # Exotic decoders (utf-7, utf-16) can yield lone surrogates no later step can encode.
    return text.encode("utf-8", "replace").decode("utf-8")


def _decode_latin_family(
    data: bytes, codec: str | None, declared: str | None, defects: list[str]
) -> str:
    label = declared.strip()[:40] if declared else "no charset"
    utf8 = False  # the text is ``data`` decoded as UTF-8 as it stands
    try:
        text = data.decode("utf-8")
        utf8 = True
    except UnicodeDecodeError:
        if codec == "utf-8":
            defects.append("invalid utf-8 bytes read as windows-1252")
            text = data.decode("utf-8", "temoin-cp1252")
        elif codec == "iso8859-15":
            text = data.decode("iso8859-15")
        else:
            if codec in ("latin-1", "ascii", None) and _has_c1_bytes(data):
                defects.append(f"windows-1252 text labelled {label!r}")
            elif codec in ("ascii", None):
                defects.append(f"8-bit text labelled {label!r} read as windows-1252")
            if codec in ("ascii", None):
                # Nothing declared: utf-8 where the bytes are utf-8 (a quoted original), the
                # rest as windows-1252.
                return data.decode("utf-8", "temoin-cp1252")
            return data.decode("cp1252", "temoin-latin1")
    else:
        if codec not in ("utf-8", None):
            defects.append(f"utf-8 text labelled {label!r}")
    if _has_c1_utf8(data) if utf8 else _has_c1(text):
        defects.append("C1 control characters read as windows-1252")
        text = text.translate(_C1_TO_CP1252)
    return text


_C1_BYTES = re.compile(b"[\x80-\x9f]")
_C1_CHARS = re.compile("[\x80-\x9f]")


def _has_c1_bytes(data: bytes) -> bool:
    return _C1_BYTES.search(data) is not None


# U+0080–U+009F in UTF-8. A lead byte never continues another character, so in valid UTF-8
# this finds exactly the C1 characters of the decoded text, and fast (a literal first byte).
_C1_UTF8 = re.compile(b"\xc2[\x80-\x9f]")


def _has_c1_utf8(data: bytes) -> bool:
    """``_has_c1(data.decode("utf-8"))`` for valid UTF-8, without a pass per character."""
    return _C1_UTF8.search(data) is not None


def _has_c1(text: str) -> bool:
    return _C1_CHARS.search(text) is not None


def recover_header(value: str, defects: list[str]) -> str:
    """A header value from the parser with raw 8-bit bytes (as surrogates) decoded.

    RFC 5322 wants headers in ASCII; French mailers still send raw utf-8 or windows-1252
    subjects and names. The parser keeps those bytes as lone surrogates.
    """
    if value.isascii():
        return value
    try:
        raw = value.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        # Already real characters (not bytes): nothing to recover.
        return value.encode("utf-8", "replace").decode("utf-8")
    try:
        return raw.decode("utf-8")  # RFC 6532 allows utf-8 headers
    except UnicodeDecodeError:
        defects.append("raw 8-bit header bytes read as windows-1252")
        return raw.decode("utf-8", "temoin-cp1252")  # a header may mix both
