"""Printed letters: a print-ready A4 PDF per letter contact (WeasyPrint), pure given its inputs.

Page 1 is the letter a citizen would write:

- the sender's block (persona name and postal address), top left;
- the recipient's address placed for a French window envelope. We follow La Poste's
  guidance for window envelopes (DL 110 x 220 mm and C6/C5 114 x 229 mm, window 100 x 45 mm
  at 20 mm from the right and 15 mm from the bottom edge): for an A4 sheet folded in three
  the address zone starts 100 mm from the left edge of the sheet and 50 mm from its top, and
  is at most 85 mm wide (the top of the window sits 45 to 55 mm below the top of the sheet
  depending on how the folded sheet slides). The address itself follows the postal address
  standard NF Z 10-011: at most six lines, from the recipient to the locality, without blank
  lines, the last line being « CODE POSTAL LOCALITÉ » in capitals (without accents or
  hyphens, as La Poste's sorting machines read it);
- place and date in French (« Clermont-Ferrand, le 3 mars 2026 »), « Objet : … », the body
  of the scenario wording, then room for the handwritten signature above the closing name
  block of the wording (every letter wording ends with the persona's name).

Page 2 (and only page 2) is the « Fiche d'envoi » for the auditor: the contact's reference,
the recipient, the date to post, and the checklist (print, sign, envelope, « lettre verte »
stamp, post, press « Courrier posté » in the bot). Nothing on page 1 identifies the contact,
the campaign or the software.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from scenarios.catalog import Scenario
from scenarios.i18n import Translator
from scenarios.render import (
    CollectivityView,
    PersonaView,
    ServiceView,
    de_lieu,
    render_wording,
)
from storage.letters import DueLetter

# Positions on the A4 sheet, in mm from its top-left corner (see the module docstring).
PAGE_MARGIN_TOP = 18.0
PAGE_MARGIN_LEFT = 20.0
ADDRESS_LEFT = 100.0
ADDRESS_TOP = 50.0
ADDRESS_WIDTH = 85.0
ADDRESS_MAX_LINES = 6
DATE_TOP = 100.0  # below the window zone, which ends about 95 mm down
POSTAL_LINE_CHARS = 38  # NF Z 10-011: at most 38 characters a line


class LetterError(ValueError):
    """A letter that cannot be printed (no postal address, no sender address...)."""


@dataclass(frozen=True, slots=True)
class Letter:
    """Everything printed, as text; ``render_pdf`` only lays it out."""

    sender: tuple[str, ...]
    recipient: tuple[str, ...]
    place_date: str
    subject: str
    paragraphs: tuple[tuple[str, ...], ...]  # each paragraph as its lines
    signature: tuple[str, ...]
    sheet_title: str
    sheet_facts: tuple[str, ...]
    sheet_steps_title: str
    sheet_steps: tuple[str, ...]
    sheet_keep: str


def reference(item: DueLetter) -> str:
    """What the auditor sees on the sheet and finds in the bot: campaign and contact id."""
    return f"{item.campaign_name} #{item.contact_id}"


def long_date(day: date, t: Translator) -> str:
    number = t("date.first_day") if day.day == 1 else str(day.day)
    return t("date.long", day=number, month=t(f"month.{day.month}"), year=day.year)


def postal_locality(postal_code: str, city: str) -> str:
    """Last line of a French address: ``34410 SERIGNAC LE VIEUX`` (no accents, hyphens)."""
    folded = unicodedata.normalize("NFKD", city)
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    plain = re.sub(r"[-'’]", " ", plain).upper()
    return f"{postal_code.strip()} {' '.join(plain.split())}"


def _street_lines(address: str) -> list[str]:
    """« Hôtel de ville, 1 cours Jean-Jaurès » -> a complement line, then the street line."""
    parts = [p.strip() for p in address.split(",") if p.strip()]
    if len(parts) >= 2 and parts[-1][:1].isdigit():
        return [", ".join(parts[:-1]), parts[-1]]
    return [address.strip()]


def recipient_lines(item: DueLetter, t: Translator) -> tuple[str, ...]:
    if not (item.service_address and item.service_postal_code and item.service_city):
        raise LetterError(
            f"contact {item.contact_id}: service {item.service_name!r} of "
            f"{item.collectivity_name} has no complete postal address"
        )
    if item.collectivity_kind == "commune":
        organisation = t("letter.town_hall", of_place=de_lieu(item.collectivity_name))
    else:
        organisation = item.collectivity_name
    lines = [organisation]
    if item.service_name.casefold() not in organisation.casefold():
        lines.append(item.service_name)
    lines.extend(_street_lines(item.service_address))
    lines.append(postal_locality(item.service_postal_code, item.service_city))
    if len(lines) > ADDRESS_MAX_LINES:  # keep the locality line, drop the middle ones
        lines = [*lines[: ADDRESS_MAX_LINES - 1], lines[-1]]
    return tuple(lines)


def _split_signature(
    body: str, names: tuple[str, ...]
) -> tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]:
    paragraphs = [tuple(p.split("\n")) for p in body.strip().split("\n\n") if p.strip()]
    if paragraphs and any(paragraphs[-1][0].strip() == name for name in names):
        return tuple(paragraphs[:-1]), paragraphs[-1]
    return tuple(paragraphs), (names[0],)


def compose_letter(
    item: DueLetter,
    scenario: Scenario,
    letter_date: date,
    *,
    letter_locale: str = "fr",
    sheet_locale: str = "fr",
) -> Letter:
    """The texts of one letter and its sheet; ``letter_date`` is the local date it bears."""
    persona = item.persona
    if persona is None:
        raise LetterError(f"contact {item.contact_id}: no persona to sign the letter")
    if not (persona.address and persona.postal_code and persona.city):
        raise LetterError(
            f"contact {item.contact_id}: persona {persona.key!r} has no complete postal address"
        )
    t = Translator(letter_locale)
    s = Translator(sheet_locale)
    first, _, last = persona.display_name.partition(" ")
    view = PersonaView(
        display_name=persona.display_name,
        first_name=first,
        last_name=last or first,
        email=persona.email,
        address=persona.address,
        postal_code=persona.postal_code,
        city=persona.city,
    )
    service = ServiceView.of_kind(item.service_name, item.service_kind, item.service_city or "")
    wording = scenario.wordings[item.wording % len(scenario.wordings)]
    rendered = render_wording(wording, view, service, CollectivityView(item.collectivity_name))
    names = (persona.display_name, f"{view.first_name} {view.last_name}")
    paragraphs, signature = _split_signature(rendered.body, names)
    recipient = recipient_lines(item, t)
    postal = f"{persona.postal_code} {persona.city}"
    sender = (persona.display_name, *_street_lines(persona.address), postal)
    when = long_date(letter_date, s)
    ref = reference(item)
    facts = (
        s("letter.sheet_reference", reference=ref),
        s("letter.sheet_post_on", date=when),
        s("letter.sheet_recipient", recipient=" — ".join(recipient[:2])),
        s("letter.sheet_sender", sender=persona.display_name),
        s("letter.sheet_scenario", scenario=scenario.title),
    )
    steps = (
        s("letter.step_print"),
        s("letter.step_sign"),
        s("letter.step_envelope"),
        s("letter.step_stamp"),
        s("letter.step_post", date=when),
        s("letter.step_bot", reference=ref),
    )
    return Letter(
        sender=sender,
        recipient=recipient,
        place_date=t("letter.place_date", place=persona.city, date=long_date(letter_date, t)),
        subject=t("letter.subject", subject=rendered.subject or scenario.title),
        paragraphs=paragraphs,
        signature=signature,
        sheet_title=s("letter.sheet_title"),
        sheet_facts=facts,
        sheet_steps_title=s("letter.sheet_steps"),
        sheet_steps=steps,
        sheet_keep=s("letter.sheet_keep"),
    )


def _lines(lines: tuple[str, ...]) -> str:
    return "<br>".join(html.escape(line) for line in lines)


_CSS = f"""
@page {{ size: A4; margin: {PAGE_MARGIN_TOP}mm 20mm 20mm {PAGE_MARGIN_LEFT}mm; }}
body {{ margin: 0; }}
html {{ font-family: "DejaVu Serif", "Liberation Serif", serif; font-size: 10.5pt;
        line-height: 1.35; color: #000; }}
.head {{ position: relative; height: {DATE_TOP - PAGE_MARGIN_TOP}mm; }}
.sender {{ width: 75mm; }}
.recipient {{ position: absolute; left: {ADDRESS_LEFT - PAGE_MARGIN_LEFT}mm;
              top: {ADDRESS_TOP - PAGE_MARGIN_TOP}mm; width: {ADDRESS_WIDTH}mm;
              max-height: 40mm; overflow: hidden; line-height: 1.25; }}
.place-date {{ margin-left: {ADDRESS_LEFT - PAGE_MARGIN_LEFT}mm; }}
.subject {{ margin: 10mm 0 8mm 0; font-weight: bold; }}
.body p {{ margin: 0 0 3.5mm 0; text-align: justify; hyphens: auto; }}
.signature {{ margin: 18mm 0 0 {ADDRESS_LEFT - PAGE_MARGIN_LEFT}mm; break-inside: avoid; }}
.sheet {{ break-before: page; font-family: "DejaVu Sans", "Liberation Sans", sans-serif; }}
.sheet h1 {{ font-size: 16pt; margin: 0 0 6mm 0; }}
.sheet .facts p {{ margin: 0 0 2mm 0; }}
.sheet h2 {{ font-size: 12pt; margin: 8mm 0 4mm 0; }}
.sheet ol {{ list-style: none; padding: 0; margin: 0; }}
.sheet li {{ margin: 0 0 4mm 0; padding-left: 9mm; position: relative; }}
.sheet li .box {{ position: absolute; left: 0; top: 0.5mm; width: 4mm; height: 4mm;
                  border: 0.3mm solid #000; }}
.sheet .keep {{ margin-top: 10mm; font-style: italic; }}
"""


def letter_html(letter: Letter, *, lang: str = "fr") -> str:
    paragraphs = "".join(f"<p>{_lines(p)}</p>" for p in letter.paragraphs)
    facts = "".join(f"<p>{html.escape(f)}</p>" for f in letter.sheet_facts)
    steps = "".join(
        f'<li><span class="box"></span>{html.escape(step)}</li>' for step in letter.sheet_steps
    )
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(letter.subject)}</title>
<style>{_CSS}</style></head><body>
<div class="head"><div class="sender">{_lines(letter.sender)}</div>
<div class="recipient">{_lines(letter.recipient)}</div></div>
<div class="place-date">{html.escape(letter.place_date)}</div>
<div class="subject">{html.escape(letter.subject)}</div>
<div class="body">{paragraphs}</div>
<div class="signature">{_lines(letter.signature)}</div>
<div class="sheet"><h1>{html.escape(letter.sheet_title)}</h1>
<div class="facts">{facts}</div>
<h2>{html.escape(letter.sheet_steps_title)}</h2><ol>{steps}</ol>
<p class="keep">{html.escape(letter.sheet_keep)}</p></div>
</body></html>"""


def render_pdf(letter: Letter, *, lang: str = "fr") -> bytes:
    """The PDF bytes of ``letter`` (A4, letter on page 1, auditor's sheet after it)."""
    from weasyprint import HTML  # imported here: it takes a second to load

    pdf: bytes = HTML(string=letter_html(letter, lang=lang)).write_pdf()
    return pdf


def file_name(item: DueLetter, letter_date: date) -> str:
    """``2026-03-03_34299_etat-civil_173.pdf``: date to post, INSEE code, service, contact."""
    folded = unicodedata.normalize("NFKD", item.service_name)
    plain = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    slug = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:40] or "service"
    return f"{letter_date.isoformat()}_{item.insee_code}_{slug}_{item.contact_id}.pdf"
