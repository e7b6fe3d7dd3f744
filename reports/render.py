"""Rendered reports in French: self-contained HTML, and PDF from the same HTML (WeasyPrint).

    contact_records (one pass) --Aggregator--> cells --format--> context --Jinja2--> HTML
                                                         charts (inline SVG) --^      |
                                                                      WeasyPrint <----+--> PDF

Two reports:

- national (``national_report``, ``reports.render_national``): key messages first, then
  results per channel, service kind and collectivity kind (communes by size; EPCI,
  départements and régions as their own kinds), criteria met, phone and visit details, the
  evolution since a previous campaign, and a method page in plain words.
- a collectivity's own barometer (``collectivity_report``): its figures beside the national
  ones and those of the other collectivities of its population stratum, the criteria it
  missed with improvement tracks from the scenarios, and the timeline of each of its
  contacts.

Confidentiality of a collectivity's report: it names no other collectivity (the only names
in it are its own and its own services'), and shows no figure computed over fewer than
``min_peers`` *other* collectivities, counted figure by figure (``reports.peers``: those
with a delivered contact in that channel's sample for that measure). A withheld cell says
« donnée masquée : moins de N collectivités »; a column with no cell left is dropped with a
sentence saying why, and so is the national curve of the chart. Peer figures are computed
over the other collectivities of the stratum (itself excluded); national figures over
every collectivity.

Self-contained: CSS in the page, charts as inline SVG, no external resource. Numbers are
written the French way (decimal comma, narrow no-break space before ``%``), instants in
Europe/Paris.
"""

from reports.render_common import ReportOptions, pdf_bytes, write_report
from reports.render_national import national_report
from reports.render_personal import collectivity_context, collectivity_report

__all__ = [
    "ReportOptions",
    "collectivity_context",
    "collectivity_report",
    "national_report",
    "pdf_bytes",
    "write_report",
]
