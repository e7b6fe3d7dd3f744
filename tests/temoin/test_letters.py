"""`temoin letters print`: print-ready PDFs of the due letters, read back with pypdf."""

from __future__ import annotations

import asyncio
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pypdf import PdfReader
from sqlalchemy import select
from typer.testing import CliRunner

import temoin.cli.app
from scenarios.catalog import load_catalog
from scenarios.render import CollectivityView, PersonaView, ServiceView, render_wording
from storage.models import Contact, ContactEvent
from tests import factories
from tests.conftest import DbTarget

runner = CliRunner()
PARIS = ZoneInfo("Europe/Paris")
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")  # fmt: skip
MM = 72 / 25.4  # points per millimetre


@dataclass
class Seeded:
    campaign: str
    due: int  # letter planned two days ago
    tomorrow: int  # letter planned tomorrow
    email: int  # an email contact: never printed


async def _seed(target: DbTarget) -> Seeded:
    database = target.database()
    now = datetime.now(UTC)
    try:
        async with database.session() as s:
            coll = await factories.collectivity(
                s, now, departement="34", name="Sérignac-le-Vieux", insee_code="34299"
            )
            svc = await factories.service(
                s, now, coll, name="État civil", address="Hôtel de ville, 1 cours Jean-Jaurès",
                postal_code="34410", city="Sérignac-le-Vieux",
            )  # fmt: skip
            persona = await factories.persona(
                s, now, display_name="Claire Mercier", address="4 rue des Tilleuls",
                postal_code="63100", city="Clermont-Ferrand",
            )  # fmt: skip
            camp = await factories.campaign(s, now, name="barometre-test")
            kw = {"persona_id": persona.id, "scenario_id": "letter-acte-naissance"}
            due = await factories.contact(s, now, camp, svc, planned_at=now - timedelta(days=2),
                                          channel="letter", **kw)  # fmt: skip
            later = await factories.contact(s, now, camp, svc, planned_at=now + timedelta(days=1),
                                            channel="letter", wording=1, **kw)  # fmt: skip
            mail = await factories.contact(
                s, now, camp, svc, planned_at=now - timedelta(days=2), persona_id=persona.id
            )
            return Seeded(camp.name, due.id, later.id, mail.id)
    finally:
        await database.dispose()


async def _rows(target: DbTarget) -> tuple[dict[int, str], list[tuple[int, str]]]:
    database = target.database()
    try:
        async with database.session() as s:
            statuses = dict((await s.execute(select(Contact.id, Contact.status))).all())
            events = (
                await s.execute(
                    select(ContactEvent.contact_id, ContactEvent.kind).order_by(ContactEvent.id)
                )
            ).all()
            return statuses, [(cid, kind) for cid, kind in events]
    finally:
        await database.dispose()


def french_date(day: datetime) -> str:
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTHS[day.month - 1]} {day.year}"


def letters_only(text: str) -> str:
    """Text without spaces, line breaks or punctuation: immune to justification and
    hyphenation at line ends."""
    return re.sub(r"\W+", "", text.replace("\u00ad", ""))


def positions(reader: PdfReader, page: int) -> dict[str, tuple[float, float]]:
    """First line of text -> (x, y) of its baseline in mm from the page's top-left corner."""
    found: dict[str, tuple[float, float]] = {}
    height = float(reader.pages[page].mediabox.height)

    def visit(text: str, cm: list[float], tm: list[float], *_: object) -> None:
        line = text.strip()
        if line and line not in found:
            # Text matrix inside the page's content matrix (WeasyPrint flips the y axis).
            x = cm[0] * tm[4] + cm[2] * tm[5] + cm[4]
            y = cm[1] * tm[4] + cm[3] * tm[5] + cm[5]
            found[line] = (x / MM, (height - y) / MM)

    reader.pages[page].extract_text(visitor_text=visit)
    return found


def test_due_letters_are_printed_once_for_a_window_envelope(
    cli_env: DbTarget, tmp_path: Path
) -> None:
    seeded = asyncio.run(_seed(cli_env))
    out = tmp_path / "lettres"
    result = runner.invoke(
        temoin.cli.app.app, ["letters", "print", seeded.campaign, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    [pdf_path] = sorted(out.glob("*.pdf"))
    assert pdf_path.name.endswith(f"_34299_etat-civil_{seeded.due}.pdf")
    assert "1 lettre écrite" in result.stdout

    reader = PdfReader(io.BytesIO(pdf_path.read_bytes()))
    assert len(reader.pages) == 2
    letter, sheet = (page.extract_text() for page in reader.pages)
    today = datetime.now(PARIS)  # planned two days ago: the letter bears today's date
    # Sender block, then the recipient's address as NF Z 10-011 wants it.
    for line in ("Claire Mercier", "4 rue des Tilleuls", "63100 Clermont-Ferrand",
                 "Mairie de Sérignac-le-Vieux", "État civil", "Hôtel de ville",
                 "1 cours Jean-Jaurès", "34410 SERIGNAC LE VIEUX"):  # fmt: skip
        assert line in letter, line
    assert f"Clermont-Ferrand, le {french_date(today)}" in letter
    assert "Objet\u202f: Demande de copie intégrale d'acte de naissance" in letter
    scenario = load_catalog().get("letter-acte-naissance")
    body = render_wording(
        scenario.wordings[0],
        PersonaView(
            "Claire Mercier",
            "Claire",
            "Mercier",
            "x@persona.example",
            "4 rue des Tilleuls",
            "63100",
            "Clermont-Ferrand",
        ),
        ServiceView.of_kind("État civil", "etat_civil", "Sérignac-le-Vieux"),
        CollectivityView("Sérignac-le-Vieux"),
    ).body
    assert letters_only(body) in letters_only(letter)
    # The reference is on the auditor's sheet only, never on the letter.
    reference = f"{seeded.campaign} #{seeded.due}"
    assert reference not in letter and seeded.campaign not in letter
    assert f"Référence\u202f: {reference}" in sheet
    flat_sheet = re.sub(r"[ \n]+", " ", sheet)  # keeps the U+202F spaces
    assert "Fiche d’envoi" in sheet
    for step in ("Imprimer la lettre", "La signer à la main", "enveloppe à fenêtre",
                 "«\u202flettre verte\u202f»", f"Poster la lettre le {french_date(today)}",
                 "«\u202fCourrier posté\u202f»"):  # fmt: skip
        assert step in flat_sheet, step

    # Where the address lands: 100 mm from the left, first line just under 50 mm from the
    # top, the whole block inside the 85 mm x 45 mm window zone.
    where = positions(reader, 0)
    x, y = where["Mairie de Sérignac-le-Vieux"]
    assert abs(x - 100) < 0.5 and 50 < y < 56, (x, y)
    _, last_y = where["34410 SERIGNAC LE VIEUX"]
    assert last_y < 90
    sx, sy = where["4 rue des Tilleuls"]  # the sender block, top left
    assert sx < 30 and sy < 35

    statuses, events = asyncio.run(_rows(cli_env))
    assert statuses[seeded.due] == "printed"
    assert statuses[seeded.tomorrow] == "planned" and statuses[seeded.email] == "planned"
    assert events == [(seeded.due, "printed")]

    # Again: nothing new. With --until tomorrow: the next one only. --reprint: the due one.
    stamp = pdf_path.stat().st_mtime_ns
    again = runner.invoke(
        temoin.cli.app.app, ["letters", "print", seeded.campaign, "--out", str(out)]
    )
    assert again.exit_code == 0, again.output
    assert "aucune lettre" in again.stdout and "1 déjà imprimée" in again.stdout
    assert pdf_path.stat().st_mtime_ns == stamp
    tomorrow = (today + timedelta(days=1)).date().isoformat()
    later = runner.invoke(temoin.cli.app.app, ["letters", "print", seeded.campaign, "--out",
                                           str(out), "--until", tomorrow])  # fmt: skip
    assert later.exit_code == 0, later.output
    assert len(list(out.glob("*.pdf"))) == 2
    reprint = runner.invoke(temoin.cli.app.app, ["letters", "print", seeded.campaign, "--out",
                                             str(out), "--reprint"])  # fmt: skip
    assert reprint.exit_code == 0 and "(réimpression)" in reprint.stdout
    statuses, events = asyncio.run(_rows(cli_env))
    assert statuses[seeded.due] == statuses[seeded.tomorrow] == "printed"
    assert events == [
        (seeded.due, "printed"),
        (seeded.tomorrow, "printed"),
        (seeded.due, "reprinted"),
    ]


def test_unknown_campaign(cli_env: DbTarget, tmp_path: Path) -> None:
    result = runner.invoke(temoin.cli.app.app, ["letters", "print", "nope", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "aucune campagne nommée «\u202fnope\u202f»" in result.stderr
