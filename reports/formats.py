"""The export formats and levels, apart from the writers so that the command line can name them
without loading the writers' libraries (openpyxl, pyarrow)."""

from __future__ import annotations

from typing import Final

FORMATS: Final = ("csv", "xlsx", "parquet", "json")
LEVELS: Final = ("contacts", "stats")
