"""Pure tests of the directory import: every validator, the file handling, the line numbers."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios.calendar import normalise_departement
from scenarios.directory import (
    REGION_OF_DEPARTEMENT,
    FieldError,
    RowError,
    decode,
    departement_of_insee,
    luhn_ok,
    parse_collectivity_kind,
    parse_directory,
    parse_email,
    parse_insee_code,
    parse_opening_hours,
    parse_phone,
    parse_population,
    parse_postal_code,
    parse_service_kind,
    parse_siren,
    region_for,
    resolve_header,
    sniff_delimiter,
)
from scenarios.domain import CollectivityKind

HEADER = (
    "Code INSEE;Nom de la collectivité;Type de collectivité;Population;Département;"
    "Type de service;Nom du service;Courriel;Téléphone;Horaires"
)


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode("utf-8")


def row(
    insee: str = "57463",
    name: str = "Valmont",
    kind: str = "Commune",
    population: str = "12 345",
    dep: str = "57",
    service: str = "État civil",
    service_name: str = "",
    email: str = "etat-civil@valmont.example",
    phone: str = "03 53 01 10 01",
    hours: str = '"lu-ve 08:30-12:00; sa 09:00-12:00"',
) -> str:
    return ";".join([insee, name, kind, population, dep, service, service_name, email, phone,
                     hours])  # fmt: skip


# --- identifiers and départements ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "dep"),
    [
        ("57463", "57463", "57"),
        (" 2a004 ", "2A004", "2A"),
        ("2B033", "2B033", "2B"),
        ("97411", "97411", "974"),
        ("97601", "97601", "976"),
        ("97129", "97129", "971"),
        ("1053", "01053", "01"),  # the leading zero a spreadsheet drops
        ("75056", "75056", "75"),
        ("75112", "75112", "75"),  # a municipal arrondissement of Paris
        ("69381", "69381", "69"),
        ("13216", "13216", "13"),
        ("97502", "97502", "975"),  # Saint-Pierre
        ("97701", "97701", "977"),  # Saint-Barthélemy
        ("97801", "97801", "978"),  # Saint-Martin
        ("98613", "98613", "986"),  # Uvea
        ("98735", "98735", "987"),  # Papeete
        ("98818", "98818", "988"),  # Nouméa
    ],
)
def test_insee_codes_accepted(text: str, code: str, dep: str) -> None:
    assert parse_insee_code(text) == code
    assert departement_of_insee(code) == dep


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("20004", "Corsican codes start with 2A or 2B"),
        ("2C004", "is not 5 characters"),
        ("96001", "starts with no département"),
        ("97901", "in no overseas département or collectivity"),
        ("98501", "in no overseas département or collectivity"),
        ("99101", "starts with no département"),  # INSEE's code for a foreign country
        ("98700", "has no commune number"),
        ("97400", "has no commune number"),
        ("57000", "has no commune number"),
        ("574631", "is not 5 characters"),
        ("ABCDE", "is not 5 characters"),
        ("123", "is not 5 characters"),
    ],
)
def test_insee_codes_refused(text: str, reason: str) -> None:
    with pytest.raises(FieldError, match=reason):
        parse_insee_code(text)


def _all_departements() -> list[str]:
    metro = [f"{n:02d}" for n in range(1, 96) if n != 20]
    return [*metro, "2A", "2B", "971", "972", "973", "974", "976"]


COLLECTIVITIES = ("975", "977", "978", "984", "986", "987", "988", "989")


def test_region_table_covers_the_101_departements_and_the_collectivities_exactly() -> None:
    departements = _all_departements()
    assert len(departements) == 101
    assert sorted(REGION_OF_DEPARTEMENT) == sorted([*departements, *COLLECTIVITIES])
    for dep in [*departements, *COLLECTIVITIES]:
        assert normalise_departement(dep) == dep
    # 13 metropolitan régions and 5 overseas ones; each collectivity is its own
    regions = {REGION_OF_DEPARTEMENT[d] for d in departements}
    assert len(regions) == 18
    for code in COLLECTIVITIES:
        assert region_for(code) == code


@pytest.mark.parametrize(
    ("dep", "region"),
    [("57", "44"), ("67", "44"), ("2A", "94"), ("2b", "94"), ("75", "11"), ("974", "04"),
     ("976", "06"), ("971", "01"), ("35", "53"), ("9", "76"), ("13", "93"), ("31", "76"),
     ("988", "988"), ("975", "975")],
)  # fmt: skip
def test_region_for(dep: str, region: str) -> None:
    assert region_for(dep) == region


def test_siren_check_digit() -> None:
    assert parse_siren("245700919") == "245700919"
    assert parse_siren("245 700 919") == "245700919"
    assert luhn_ok("732829320")  # a well-known valid SIREN
    with pytest.raises(FieldError, match="wrong check digit"):
        parse_siren("245700918")
    with pytest.raises(FieldError, match="not 9 digits"):
        parse_siren("24570091")


@given(st.text(alphabet="0123456789", min_size=8, max_size=8))
@settings(max_examples=50, deadline=None)
def test_exactly_one_check_digit_completes_a_siren(prefix: str) -> None:
    valid = [d for d in "0123456789" if luhn_ok(prefix + d)]
    assert len(valid) == 1
    assert parse_siren(prefix + valid[0]) == prefix + valid[0]


# --- single values --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0), ("2100", 2100), ("12 345", 12345), ("12\u00a0345", 12345),
     ("12\u202f345", 12345), ("1\u2009046\u2009000", 1046000), (" 250 000 ", 250000)],
)  # fmt: skip
def test_population_accepted(text: str, value: int) -> None:
    assert parse_population(text) == value


@pytest.mark.parametrize(
    "text", ["-5", "12,5", "12.345", "1 23", "12  345", "abc", "1e5", "25000000", "12 3456"]
)
def test_population_refused(text: str) -> None:
    with pytest.raises(FieldError):
        parse_population(text)


@given(st.integers(min_value=0, max_value=20_000_000), st.sampled_from(" \u00a0\u202f"))
@settings(max_examples=60, deadline=None)
def test_population_written_the_french_way_reads_back(value: int, sep: str) -> None:
    assert parse_population(f"{value:,}".replace(",", sep)) == value


@pytest.mark.parametrize(
    ("text", "kind"),
    [("Commune", CollectivityKind.COMMUNE), ("COMMUNE", CollectivityKind.COMMUNE),
     ("EPCI", CollectivityKind.EPCI), ("Communauté de communes", CollectivityKind.EPCI),
     ("communaute d'agglomeration", CollectivityKind.EPCI), ("Métropole", CollectivityKind.EPCI),
     ("Département", CollectivityKind.DEPARTEMENT),
     ("Conseil départemental", CollectivityKind.DEPARTEMENT),
     ("departement", CollectivityKind.DEPARTEMENT), ("Région", CollectivityKind.REGION),
     ("region", CollectivityKind.REGION)],
)  # fmt: skip
def test_collectivity_kinds(text: str, kind: CollectivityKind) -> None:
    assert parse_collectivity_kind(text) is kind


def test_unknown_collectivity_kind() -> None:
    with pytest.raises(FieldError, match="unknown collectivity kind 'Canton'"):
        parse_collectivity_kind("Canton")


@pytest.mark.parametrize(
    ("text", "code"),
    [("État civil", "etat_civil"), ("etat_civil", "etat_civil"), ("Mairie", "accueil_mairie"),
     ("Médiathèque", "bibliotheque"), ("CIAS", "ccas"), ("Centre aquatique", "piscine"),
     ("Conseil départemental", "accueil_departement")],
)  # fmt: skip
def test_service_kinds(text: str, code: str) -> None:
    assert parse_service_kind(text) == code


def test_unknown_service_kind_suggests_the_nearest() -> None:
    with pytest.raises(FieldError, match="did you mean 'piscine'"):
        parse_service_kind("piscne")
    with pytest.raises(FieldError, match="unknown service kind 'cimetière'"):
        parse_service_kind("cimetière")


def test_email() -> None:
    assert parse_email(" Etat.Civil@Mairie-Valmont.EXAMPLE ") == "Etat.Civil@mairie-valmont.example"
    for bad in ["etat-civil", "a@b", "a@@valmont.example", "a b@valmont.example", "a@localhost"]:
        with pytest.raises(FieldError, match="is not valid"):
            parse_email(bad)


@pytest.mark.parametrize(
    ("text", "dep", "e164"),
    [
        ("01 23 45 67 89", "75", "+33123456789"),
        ("01.23.45.67.89", None, "+33123456789"),
        ("+33 1 23 45 67 89", "57", "+33123456789"),
        ("0033 1 23 45 67 89", "57", "+33123456789"),
        ("03 53 01 10 01", "57", "+33353011001"),
        ("06 12 34 56 78", "67", "+33612345678"),
        ("0590 99 20 01", "971", "+590590992001"),
        ("0590 99 20 01", "57", "+590590992001"),  # the prefix says Guadeloupe wherever listed
        ("0596 55 10 01", "972", "+596596551001"),
        ("0594 29 12 34", "973", "+594594291234"),
        ("0262 30 40 01", "974", "+262262304001"),
        ("0269 61 12 34", "976", "+262269611234"),
        ("0269 61 12 34", "974", "+262269611234"),
        ("0692 12 34 56", "974", "+262692123456"),
        ("01 99 00 30 01", "971", "+33199003001"),  # a Paris number listed overseas
        ("+590 590 99 20 01", None, "+590590992001"),
    ],
)
def test_phone_numbers(text: str, dep: str | None, e164: str) -> None:
    assert parse_phone(text, dep) == e164


@pytest.mark.parametrize(
    ("text", "reason"),
    [("03", "not a valid French number"), ("01 23 45 67", "not a valid French number"),
     ("07 00 00 00 00", "not a valid French number"), ("+1 202 555 0100", "not a French number"),
     ("+44 20 7946 0958", "not a French number"), ("abc", "not a phone number"),
     ("01 23 45 67 89 poste 12", "not a valid French number")],
)  # fmt: skip
def test_phone_numbers_refused(text: str, reason: str) -> None:
    with pytest.raises(FieldError, match=reason):
        parse_phone(text, "57")


def test_postal_code() -> None:
    assert parse_postal_code("57280") == "57280"
    assert parse_postal_code("1000") == "01000"
    for bad in ["572800", "57 280", "ABCDE", "123"]:
        with pytest.raises(FieldError, match="not 5 digits"):
            parse_postal_code(bad)


def test_opening_hours_are_stored_canonical() -> None:
    assert parse_opening_hours("Lu-Ve 8h30-12h00") == "lu-ve 08:30-12:00"
    assert parse_opening_hours(";") is None
    with pytest.raises(FieldError, match="opening hours 'lu-ve 9-12'"):
        parse_opening_hours("lu-ve 9-12")


@pytest.mark.parametrize(
    ("header", "field"),
    [("code_insee", "insee_code"), ("Code INSEE", "insee_code"), ("INSEE", "insee_code"),
     ("SIREN", "insee_code"), ("nom_collectivite", "collectivity_name"),
     ("Nom de la collectivité", "collectivity_name"), ("Type_Service", "service_kind"),
     ("Type de service", "service_kind"), ("Téléphone", "phone"), ("Tél.", "phone"),
     ("E-mail", "email"), ("Courriel", "email"), ("Mél", "email"), ("CP", "postal_code"),
     ("Code postal", "postal_code"), ("Horaires d'ouverture", "opening_hours"),
     ("DÉPARTEMENT", "departement"), ("postal_code", "postal_code")],
)  # fmt: skip
def test_header_aliases(header: str, field: str) -> None:
    assert resolve_header(header) == field


def test_header_without_meaning() -> None:
    assert resolve_header("Remarques") is None
    assert resolve_header("Nom") is None


# --- the file -------------------------------------------------------------------------------


def test_decoding() -> None:
    assert decode("é".encode()) == ("é", "UTF-8")
    assert decode(codecs.BOM_UTF8 + "é".encode()) == ("é", "UTF-8 with BOM")
    assert decode("é œ €".encode("cp1252")) == ("é œ €", "Windows-1252")
    result = parse_directory(codecs.BOM_UTF16_LE + "a;b".encode("utf-16-le"))
    assert [str(e) for e in result.errors] == [
        "line 1: the file is UTF-16: export it as CSV UTF-8 or CSV (point-virgule)"
    ]


def test_delimiter_sniffing() -> None:
    assert sniff_delimiter("a;b;c") == ";"
    assert sniff_delimiter("a,b,c") == ","
    assert sniff_delimiter("Nom, prénom;b;c") == ";"


def test_valid_file() -> None:
    result = parse_directory(
        csv_bytes(row(), row(service="Piscine", email="", phone="", hours="lu-di 10:00-19:00"))
    )
    assert result.ok, result.errors
    (valmont,) = result.collectivities
    assert (valmont.insee_code, valmont.population, valmont.departement, valmont.region) == (
        "57463", 12345, "57", "44")  # fmt: skip
    assert valmont.siren is None and valmont.kind is CollectivityKind.COMMUNE
    civil, pool = result.services
    assert (civil.kind, civil.name, civil.phone) == ("etat_civil", "État civil", "+33353011001")
    assert civil.opening_hours == "lu-ve 08:30-12:00; sa 09:00-12:00"
    assert (pool.kind, pool.name, pool.email, pool.phone) == ("piscine", "Piscine", None, None)
    assert (civil.line, pool.line) == (2, 3)


def test_commune_departement_may_be_left_empty_and_epci_use_siren() -> None:
    result = parse_directory(
        csv_bytes(
            row(dep=""),
            row("245700919", "CC du Val", "Communauté de communes", "38000", "57", "déchets"),
        )
    )
    assert result.ok, result.errors
    commune, epci = result.collectivities
    assert commune.departement == "57"
    assert (epci.insee_code, epci.siren, epci.kind) == ("245700919", "245700919", "epci")


def errors_of(data: bytes) -> list[str]:
    result = parse_directory(data)
    assert not result.collectivities and not result.services
    return [str(e) for e in result.errors]


def test_every_bad_value_is_reported_with_its_line_and_column() -> None:
    data = csv_bytes(
        row(),
        row("67482", dep="57", service="Mairie"),
        row("57463", population="12 000", service="CCAS"),
        row("2A004", name="Ajacciu", dep="2A", service="piscne", email="x@y", phone="012"),
        row("245700919", "CC", "EPCI", "100", "", "déchets"),
        row("57463", service="Police", kind="Commune", hours="lu 25:00-26:00"),
        row("57464", kind="Quartier", service="CCAS"),
        row("200012345", "CC du Val", "EPCI", "100", "57", "déchets"),
        row("57465", service="Urbanisme", population="-3"),
        row("57466", kind="EPCI", service="Urbanisme"),
        row("245700919", "Ville", "Commune", "100", "57", "Mairie"),
    )
    errors = errors_of(data)
    # The reason text of opening hours belongs to scenarios.opening_hours; check its start.
    assert errors.pop(6).startswith(
        "line 7, column Horaires: opening hours 'lu 25:00-26:00': invalid time"
    )
    assert errors == [
        "line 3, column Département: département 57 does not match INSEE code 67482"
        " (département 67)",
        "line 4, column Population: collectivity 57463 has population '12000' here but '12345'"
        " on line 2",
        "line 5, column Type de service: unknown service kind 'piscne'; did you mean 'piscine'?"
        " (known: accueil_mairie, etat_civil, ccas, bibliotheque, piscine, police_municipale,"
        " urbanisme, scolaire, elections, dechets, accueil_departement,"
        " action_sociale_departement)",
        "line 5, column Courriel: email 'x@y' is not valid: The part after the @-sign is not"
        " valid. It should have a period.",
        "line 5, column Téléphone: phone '012' is not a valid French number",
        "line 6, column Département: empty (required)",
        "line 8, column Type de collectivité: unknown collectivity kind 'Quartier' (use"
        " commune, EPCI, département or région)",
        "line 9, column Code INSEE: SIREN '200012345' has a wrong check digit",
        "line 10, column Population: population '-3' is not a whole number ≥ 0 (e.g. 12 345)",
        "line 11, column Code INSEE: an EPCI is identified by its SIREN (9 digits), not '57466'",
        "line 12, column Code INSEE: a commune is identified by its INSEE code (5 characters),"
        " not '245700919'",
    ]


def test_duplicate_service_and_identical_collectivity_rows() -> None:
    data = csv_bytes(
        row(),
        row(service="Piscine", email=""),
        row(service="etat_civil", phone="01 23 45 67 89"),
    )
    assert errors_of(data) == [
        "line 4, column Nom du service: service 'État civil' (etat_civil) of 57463 is already"
        " on line 2"
    ]
    # two services of one kind with their own names are fine
    ok = parse_directory(csv_bytes(row(service_name="MDS Nord"), row(service_name="MDS Sud")))
    assert ok.ok and len(ok.services) == 2


def test_line_numbers_are_physical_lines() -> None:
    # A quoted cell spanning two lines and a blank line both count.
    data = csv_bytes(
        row(service_name='"Accueil\nprincipal"'),
        "",
        ";;;;;;;;;",
        row(service="Piscine", phone="99"),
    )
    assert errors_of(data) == ["line 6, column Téléphone: phone '99' is not a valid French number"]


def test_header_problems() -> None:
    header = "insee;Nom;Type de collectivité;Population;dep;Type de service;Courriel;mail;"
    assert errors_of(csv_bytes(header=header)) == [
        "line 1, column Nom: unknown column (known: insee_code, collectivity_name,"
        " collectivity_kind, population, departement, service_kind, service_name, email,"
        " phone, address, postal_code, city, opening_hours, latitude, longitude)",
        "line 1, column mail: email is already given by 'Courriel'",
        "line 1, column #9: column without a header",
        "line 1, column collectivity_name: missing required column",
    ]


def test_empty_and_header_only_files() -> None:
    assert errors_of(b"") == ["line 1: the file is empty"]
    assert errors_of(b"\r\n \r\n") == ["line 1: the file is empty"]
    assert errors_of(codecs.BOM_UTF8) == ["line 1: the file is empty"]
    assert errors_of(csv_bytes()) == ["line 1: the file has a header but no rows"]
    assert errors_of(csv_bytes(";;;;;;;;;", "")) == ["line 1: the file has a header but no rows"]


def test_extra_cells_and_short_rows() -> None:
    unquoted = row(hours="lu-ve 08:30-12:00; sa 09:00-12:00")
    assert errors_of(csv_bytes(unquoted)) == [
        "line 2: 11 cells but 10 columns (a value holding ';' must be in double quotes)"
    ]
    # trailing empty cells (or missing ones) are fine
    assert parse_directory(csv_bytes(row() + ";;")).ok
    assert parse_directory(csv_bytes("57463;Valmont;Commune;100;57;Mairie")).ok


def test_comma_separated_and_cp1252() -> None:
    header = HEADER.replace(";", ",")
    line = '57463,Saint-Père-sur-Œuf,Commune,"12 345",57,État civil,,,,"lu-ve 08:00-12:00"'
    data = ("\r\n".join([header, line]) + "\r\n").encode("cp1252")
    result = parse_directory(data)
    assert (result.encoding, result.delimiter) == ("Windows-1252", ",")
    assert result.ok, result.errors
    assert result.collectivities[0].name == "Saint-Père-sur-Œuf"
    assert result.services[0].name == "État civil"


def test_row_error_text() -> None:
    assert str(RowError(3, "Téléphone", "bad")) == "line 3, column Téléphone: bad"
    assert str(RowError(1, None, "empty")) == "line 1: empty"


@given(st.binary(max_size=300))
@settings(max_examples=150, deadline=None)
def test_any_bytes_give_records_or_errors_never_an_exception(data: bytes) -> None:
    result = parse_directory(data)
    assert result.ok == (not result.errors)
    if not result.ok:
        assert all(e.line >= 1 for e in result.errors)


_cell = st.text(alphabet="0123456789 ;,\"'aéAÉ-\n", max_size=12)


@given(st.lists(st.lists(_cell, min_size=10, max_size=10), min_size=1, max_size=5))
@settings(max_examples=100, deadline=None)
def test_noisy_rows_never_raise_and_lines_stay_in_the_file(rows: list[list[str]]) -> None:
    lines = []
    for cells in rows:
        lines.append(";".join('"' + c.replace('"', '""') + '"' for c in cells))
    data = csv_bytes(*lines)
    result = parse_directory(data)
    physical = data.count(b"\n")
    assert all(1 <= e.line <= physical for e in result.errors)
