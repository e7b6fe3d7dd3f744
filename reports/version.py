"""The version of Témoin that wrote an export or a report, read from the installed package.

Read from the distribution's metadata rather than imported from ``temoin``: reports sit below
the program in the map and never import it.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version


@cache
def temoin_version() -> str:
    try:
        return version("temoin")
    except PackageNotFoundError:  # a source tree run without installing the package
        return "0+unknown"
