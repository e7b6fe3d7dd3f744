"""Text cells a spreadsheet would run: the one rule every CSV and XLSX writer applies.

Names, subjects and titles come from files and mail we do not control. A spreadsheet reads
a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (``=WEBSERVICE(…)`` sends
data out, ``+cmd|' /C calc'!A0`` runs a program through DDE), and so do LibreOffice and Excel
when the sign follows a tab, a carriage return or spaces, or is its full-width form (Excel
in East Asian locales). ``formula_like`` says whether a text is such a cell.

- CSV (``csv_value``): the text gets a leading apostrophe, which spreadsheets show as text
  and a coordinator still reads (``'=SUM(A1)``). Only ``str`` values: numbers stay numbers,
  so a real ``-3.5`` is still a number.
- XLSX (``xlsx_text_cell``, or ``xlsx_text_xml`` for rows written as XML): the text goes
  into a string cell (openpyxl's data type ``s``,
  an inline string), never a formula or an error value, whatever its first character; the
  characters XML cannot hold (C0 controls) become U+FFFD instead of failing the export.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:  # openpyxl (and numpy under it) loads only when a workbook is written
    from openpyxl.cell import WriteOnlyCell

__all__ = ["csv_value", "formula_like", "xlsx_text_cell", "xlsx_text_xml", "xlsx_value"]

# ASCII signs, then their full-width forms (U+FF1D, U+FF0B, U+FF0D, U+FF20)
_SIGNS: Final = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")
_LEADING_CONTROLS: Final = frozenset("\t\r\n")
# What XML 1.0 cannot hold (openpyxl's ILLEGAL_CHARACTERS_RE): C0 controls but tab, LF, CR.
_NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def formula_like(text: str) -> bool:
    """True when a spreadsheet could take ``text`` for a formula (module docstring)."""
    if not text:
        return False
    if text[0] in _LEADING_CONTROLS:
        return True
    stripped = text.lstrip()
    return bool(stripped) and stripped[0] in _SIGNS


def csv_value(value: Any) -> Any:
    """``value`` with a leading apostrophe when it is a formula-like text; else unchanged."""
    if isinstance(value, str) and formula_like(value):
        return "'" + value
    return value


def xlsx_text_cell(sheet: Any, text: str) -> WriteOnlyCell:
    """A write-only string cell holding ``text`` as it is (never a formula)."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet)
    cell.value = _NOT_XML.sub("\ufffd", text)
    cell.data_type = "s"  # openpyxl guessed "f" for "=…" and "e" for "#N/A": text it is
    return cell


_XML_ESCAPES: Final = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def xlsx_text_xml(text: str) -> str:
    """The inside of an inline string cell holding ``text`` (``<is><t>…</t></is>``), as
    openpyxl writes ``xlsx_text_cell``'s: escaped, C0 controls as U+FFFD, spaces kept."""
    escaped = _NOT_XML.sub("\ufffd", text).translate(_XML_ESCAPES)
    stripped = text.strip()
    if stripped and stripped != text:
        return f'<is><t xml:space="preserve">{escaped}</t></is>'
    return f"<is><t>{escaped}</t></is>"


def xlsx_value(sheet: Any, value: Any) -> Any:
    """What to append for ``value``: a string cell for text, the value itself otherwise."""
    if isinstance(value, str):
        return xlsx_text_cell(sheet, value)
    return value
