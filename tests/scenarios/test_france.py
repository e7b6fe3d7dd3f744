"""All of France, on the official list of communes (``tests/geodata``, nobody's here).

Every commune's code, département and région as the import reads them; the overseas
collectivities' holidays and clocks; the whole list through the directory parser.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from scenarios import geography
from scenarios.calendar import BusinessCalendar, normalise_departement
from scenarios.directory import (
    departement_of_insee,
    parse_directory,
    parse_insee_code,
    region_for,
)
from tests.geodata.communes import current_communes, directory_csv, load_communes

COLLECTIVITIES = ("975", "977", "978", "984", "986", "987", "988", "989")


def test_the_list_is_the_official_one() -> None:
    communes = load_communes()
    kinds = Counter(c.type for c in communes)
    assert kinds == {"commune-actuelle": 34_969, "arrondissement-municipal": 45}
    by_parent = Counter(c.parent for c in communes if c.parent)
    assert by_parent == {"75056": 20, "69123": 9, "13055": 16}
    overseas = [c for c in current_communes() if c.departement in COLLECTIVITIES]
    assert len(overseas) == 94  # the 188 rows the issue saw refused, two services each


def test_every_commune_reads_back_with_its_departement_and_region() -> None:
    seen: set[str] = set()
    for commune in load_communes():
        code = parse_insee_code(commune.code)
        assert code == commune.code
        dep = departement_of_insee(code)
        assert dep == commune.departement, commune
        assert normalise_departement(dep) == dep
        assert region_for(dep) == commune.region, commune
        seen.add(dep)
    # every département and collectivity of the official list holds communes
    assert seen == set(geography.AREAS)


def test_corsica_alsace_moselle_and_the_three_cities() -> None:
    by_code = {c.code: c for c in load_communes()}
    assert by_code["2A004"].name == "Ajaccio" and by_code["2B033"].name == "Bastia"
    assert BusinessCalendar.for_departement("2A").subdivision is None
    good_friday = date(2026, 4, 3)
    for code in ("57463", "67482", "68224"):  # Metz, Strasbourg, Mulhouse
        cal = BusinessCalendar.for_departement(departement_of_insee(code))
        assert not cal.is_business_day(good_friday), by_code[code].name
    assert BusinessCalendar.for_departement("75").is_business_day(good_friday)
    for code, dep in (("75112", "75"), ("69381", "69"), ("13216", "13")):
        assert by_code[code].type == "arrondissement-municipal"
        assert departement_of_insee(parse_insee_code(code)) == dep


# Each collectivity's own public holiday in 2026 (the ``holidays`` package), a weekday on
# which Paris works.
OWN_HOLIDAYS = [
    ("987", date(2026, 3, 5)),  # French Polynesia: arrival of the Gospel
    ("988", date(2026, 9, 24)),  # New Caledonia: Citizenship day
    ("986", date(2026, 7, 29)),  # Wallis-et-Futuna: Territory day
    ("977", date(2026, 10, 9)),  # Saint-Barthélemy: abolition of slavery
    ("978", date(2026, 5, 28)),  # Saint-Martin: abolition of slavery
]


@pytest.mark.parametrize(("dep", "day"), OWN_HOLIDAYS)
def test_collectivities_rest_on_their_own_holidays(dep: str, day: date) -> None:
    assert day.weekday() < 5
    assert not BusinessCalendar.for_departement(dep).is_business_day(day)
    assert BusinessCalendar.for_departement("75").is_business_day(day)


def _zone_tab() -> dict[str, set[str]]:
    """Zones per ISO country code, from the tz database's own table."""
    zones: dict[str, set[str]] = {}
    for line in Path("/usr/share/zoneinfo/zone.tab").read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            country, _coordinates, zone = line.split("\t")[:3]
            zones.setdefault(country, set()).add(zone)
    return zones


ISO = {"971": "GP", "972": "MQ", "973": "GF", "974": "RE", "976": "YT", "975": "PM",
       "977": "BL", "978": "MF", "984": "TF", "986": "WF", "987": "PF", "988": "NC"}  # fmt: skip


def test_overseas_clocks_are_the_tz_database_ones() -> None:
    zones = _zone_tab()
    for commune in current_communes():
        dep = commune.departement
        zone = BusinessCalendar.for_commune(dep, commune.code).tz.key
        if dep in ISO:
            country = "AQ" if commune.code == "98414" else ISO[dep]  # Adélie Land
            assert zone in zones[country], (commune.name, zone)
        elif dep == "989":
            assert zone == "Etc/GMT+8"  # Clipperton: no zone of its own
        else:
            assert zone == "Europe/Paris", commune
    marquesas = BusinessCalendar.for_commune("987", "98731")  # Nuku-Hiva
    tahiti = BusinessCalendar.for_commune("987", "98735")  # Papeete
    noon = datetime(2026, 6, 1, 22, 0, tzinfo=UTC)
    assert noon.astimezone(tahiti.tz).hour == 12
    assert noon.astimezone(marquesas.tz).utcoffset() == timedelta(hours=-9, minutes=-30)
    # Saint-Pierre-et-Miquelon keeps summer time
    miquelon = BusinessCalendar.for_departement("975").tz
    assert datetime(2026, 7, 1, tzinfo=UTC).astimezone(miquelon).utcoffset() == timedelta(hours=-2)


def test_the_whole_list_imports_without_a_refused_row() -> None:
    result = parse_directory(directory_csv(load_communes(), ("accueil_mairie",), contacts=False))
    assert result.errors == ()
    assert len(result.collectivities) == 35_014
    regions = {c.insee_code: c.region for c in result.collectivities}
    assert regions["98735"] == "987" and regions["97502"] == "975" and regions["57463"] == "44"


def test_overseas_and_city_rows_import_with_their_contacts() -> None:
    rows = [
        c for c in load_communes()
        if len(c.departement) == 3 or c.type == "arrondissement-municipal"
    ]  # fmt: skip
    result = parse_directory(directory_csv(rows))
    assert result.errors == ()
    assert len(result.services) == 2 * len(rows)
    phones = {s.insee_code[:3]: s.phone for s in result.services if s.phone}
    assert phones["987"].startswith("+689") and phones["988"].startswith("+687")
    assert phones["975"].startswith("+508") and phones["986"].startswith("+681")
