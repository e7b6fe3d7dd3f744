"""What both rendered reports share: options, the Jinja2 environment, and writing HTML or PDF
(numbers, dates and words come from ``scenarios.formatting`` and the catalogue, in each
report's module).

``reports.render_national`` (the national barometer) and ``reports.render_personal`` (a
collectivity's own) build on it; ``reports.render`` names both for the callers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from reports.outputs import open_output
from reports.strata import DEFAULT_STRATA

WRITTEN: Final = ("email", "letter")


@dataclass(frozen=True, slots=True)
class ReportOptions:
    min_cell: int = 5
    min_peers: int = 5
    strata: tuple[int, ...] = DEFAULT_STRATA


_ENV = Environment(
    loader=PackageLoader("reports", "templates"),
    autoescape=select_autoescape(("html", "j2")),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _svg(text: str) -> Markup:
    return Markup(text)  # our own matplotlib output, not user input


# --------------------------------------------------------------------------- output


def write_report(html: str, out: Path) -> None:
    """Write the page as HTML, or as PDF (WeasyPrint) when ``out`` ends in ``.pdf``, through
    ``reports.outputs`` (atomically, never through a link; ``OutputError`` says why not)."""
    suffix = out.suffix.lower()
    if suffix not in (".pdf", ".html", ".htm"):
        raise ValueError(f"a report is written as .html or .pdf, not {out.name!r}")
    with open_output(out) as stream:
        if suffix == ".pdf":
            stream.write(pdf_bytes(html))
        else:
            stream.write(html.encode("utf-8"))


def pdf_bytes(html: str) -> bytes:
    """The page as a PDF (WeasyPrint; no external resource is fetched: the page has none)."""
    from weasyprint import HTML

    data = HTML(string=html, base_url=None).write_pdf()
    assert isinstance(data, bytes)
    return data
