"""The official list of French communes (``tests/geodata``), and directories built on it.

``load_communes()`` checks the file's sha256 and reads it; ``directory_csv(communes, kinds)``
writes the directory spreadsheet a coordinator would import for them: one row per commune
and service kind, with an email address, a phone number and a postal address so that every
channel of a campaign can take it. The addresses and numbers are made up (``.example``
domain, numbering plan of the commune's territory); the codes, names, départements and
populations are the official ones.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import phonenumbers
from phonenumbers import PhoneNumberType

PATH = Path(__file__).parent / "communes.csv.gz"
SHA256 = "3ed961409fdd741a765818b086ec1a9db4fcbac830be6c895bdcedfac35cc8f4"


@dataclass(frozen=True, slots=True)
class Commune:
    code: str
    name: str
    type: str  # commune-actuelle or arrondissement-municipal
    departement: str
    region: str
    population: int
    siren: str
    parent: str  # the commune of a municipal arrondissement, else ""


@cache
def load_communes() -> tuple[Commune, ...]:
    data = PATH.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256:
        raise AssertionError(f"{PATH}: sha256 {digest}, expected {SHA256}")
    reader = csv.DictReader(io.StringIO(gzip.decompress(data).decode("utf-8")), delimiter=";")
    return tuple(
        Commune(
            row["code"],
            row["nom"],
            row["type"],
            row["departement"],
            row["region"],
            int(row["population"] or 0),
            row["siren"],
            row["commune"],
        )
        for row in reader
    )


def current_communes() -> tuple[Commune, ...]:
    return tuple(c for c in load_communes() if c.type == "commune-actuelle")


# The numbering plan of each overseas territory (ISO region of ``phonenumbers``).
_PLANS = {"971": "GP", "972": "MQ", "973": "GF", "974": "RE", "976": "YT", "975": "PM",
          "977": "BL", "978": "MF", "986": "WF", "987": "PF", "988": "NC"}  # fmt: skip


def phone_for(commune: Commune, n: int) -> str | None:
    """A fixed-line number of the commune's numbering plan: overseas, the plan's example
    number in international form; in metropolitan France a 01-05 number of its zone.
    None where there is no plan (the Southern Lands and Clipperton)."""
    if commune.departement in ("984", "989"):
        return None
    plan = _PLANS.get(commune.departement)
    if plan is not None:
        number = phonenumbers.example_number_for_type(plan, PhoneNumberType.FIXED_LINE)
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    zone = 1 + int(commune.region) % 5
    block = {1: 42, 2: 40, 3: 20, 4: 72, 5: 56}[zone]
    return f"0{zone} {block} {n // 10_000 % 100:02d} {n // 100 % 100:02d} {n % 100:02d}"


HEADER = (
    "Code INSEE", "Nom de la collectivité", "Type de collectivité", "Population",
    "Département", "Type de service", "Nom du service", "Courriel", "Téléphone",
    "Adresse", "Code postal", "Ville",
)  # fmt: skip


def directory_csv(
    communes: Sequence[Commune],
    kinds: Sequence[str] = ("accueil_mairie", "etat_civil"),
    *,
    contacts: bool = True,
    per_commune: int | None = None,
) -> bytes:
    """The directory spreadsheet of ``communes``: one row per commune and service kind
    (``contacts=False``: without email, phone and address, which are slow to validate).
    ``per_commune``: that many services per commune instead, going round ``kinds``; past
    the first round each is named as an annex (« etat_civil 2 ») so that none collide."""
    rounds = [(kind, "") for kind in kinds]
    if per_commune is not None:
        rounds = [
            (kinds[j % len(kinds)], "" if j < len(kinds) else f"Annexe {j // len(kinds) + 1}")
            for j in range(per_commune)
        ]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    n = 0
    for commune in communes:
        for kind, name in rounds:
            n += 1
            writer.writerow(
                (
                    commune.code,
                    commune.name,
                    "Commune",
                    commune.population,
                    commune.departement,
                    kind,
                    name,
                    *(_contacts(commune, kind, name, n) if contacts else ("",) * 5),
                )
            )
    return out.getvalue().encode("utf-8")


def _contacts(commune: Commune, kind: str, name: str, n: int) -> tuple[str, str, str, str, str]:
    annex = f"-{name.split()[-1]}" if name else ""
    return (
        f"{kind.replace('_', '-')}{annex}.{commune.code.lower()}@mairies.example",
        phone_for(commune, n) or "",
        "1 place de la Mairie",
        commune.code.replace("A", "0").replace("B", "0"),
        commune.name,
    )
