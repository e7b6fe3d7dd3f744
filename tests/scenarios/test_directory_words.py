"""Every reason the directory import gives has a code and a catalogue message in both
languages, with French typography: each case is produced by the real parser, then said."""

from __future__ import annotations

import codecs
import re

from scenarios.directory import RowError, parse_directory
from scenarios.formatting import Formats
from scenarios.i18n import Translator, load_catalogue
from scenarios.typography import violations
from tests.scenarios.test_directory import HEADER, csv_bytes, row

# Each a file whose first problem is the case named (found by its code, checked below).
FILES: dict[str, bytes] = {
    "utf16": codecs.BOM_UTF16_LE + "a;b".encode("utf-16-le"),
    "encoding": HEADER.encode() + b"\r\n\x81\x8d\x8f\x90\x9d\r\n",
    "nul": csv_bytes(row(name="Val\x00mont")),
    "empty": b"",
    "no_rows": csv_bytes(),
    "malformed": csv_bytes(row(name='"Val"mont' + "x" * 200_000)),
    "no_header": csv_bytes(header=HEADER + ";"),
    "unknown_column": csv_bytes(header=HEADER + ";Remarques"),
    "column_twice": csv_bytes(header=HEADER + ";INSEE"),
    "missing_column": csv_bytes(header=HEADER.replace(";Population", "")),
    "cells": csv_bytes(row() + ";x"),
    "service_twice": csv_bytes(row(), row()),
    "service_twice_as": csv_bytes(row(service_name="Accueil"), row(service_name="ACCUEIL")),
    "required": csv_bytes(row(name="")),
    "too_long": csv_bytes(row(name="x" * 201)),
    "departement_mismatch": csv_bytes(row(dep="67")),
    "collectivity_differs": csv_bytes(row(), row(population="99", service="CCAS")),
    "commune_siren": csv_bytes(row(insee="245700919")),
    "needs_siren_epci": csv_bytes(row(insee="57463", kind="EPCI")),
    "needs_siren_departement": csv_bytes(row(insee="57", kind="Département")),
    "needs_siren_region": csv_bytes(row(insee="44", kind="Région")),
    "collectivity_kind": csv_bytes(row(kind="Village")),
    "departement": csv_bytes(row(insee="245700919", kind="EPCI", dep="99")),
    "insee_overseas": csv_bytes(row(insee="97911")),
    "insee_no_commune": csv_bytes(row(insee="57000")),
    "insee_format": csv_bytes(row(insee="2C247")),
    "insee_corsica": csv_bytes(row(insee="20004")),
    "insee_departement": csv_bytes(row(insee="96001")),
    "siren_format": csv_bytes(row(insee="2457009", kind="Village")),  # kind unknown: a SIREN?
    "siren_check": csv_bytes(row(insee="245700918", kind="EPCI")),
    "population_format": csv_bytes(row(population="beaucoup")),
    "population_too_big": csv_bytes(row(population="25000000")),
    "service_kind": csv_bytes(row(service="Cimetière")),
    "service_kind_close": csv_bytes(row(service="piscin")),
    "email": csv_bytes(row(email="etat-civil@-valmont.example")),
    "email_at": csv_bytes(row(email="etat-civil.valmont.example")),
    "email_before_at": csv_bytes(row(email="@valmont.example")),
    "email_after_at": csv_bytes(row(email="etat-civil@")),
    "email_characters": csv_bytes(row(email="etat-civil@@valmont.example")),
    "email_period": csv_bytes(row(email="etat-civil@valmont")),
    "phone_not_number": csv_bytes(row(phone="mairie")),
    "phone_extension": csv_bytes(row(phone="03 87 01 10 01 ext. 12")),
    "phone_not_french": csv_bytes(row(phone="+1 202 555 0100")),
    "phone_invalid": csv_bytes(row(phone="0590 12")),
    "hours_bad_time": csv_bytes(row(hours="lu 25:00-26:00")),
    "hours_unknown_day": csv_bytes(row(hours="xy 09:00-12:00")),
    "hours_backwards": csv_bytes(row(hours="ve-lu 09:00-12:00")),
    "hours_not_range": csv_bytes(row(hours="lu-ve 8-12")),
    "hours_midnight_start": csv_bytes(row(hours="lu 24:00-24:00")),
    "hours_not_after": csv_bytes(row(hours="lu 12:00-09:00")),
    "hours_overlap": csv_bytes(row(hours="lu 09:00-12:00,11:00-13:00")),
    "hours_bad_rule": csv_bytes(row(hours="le lundi")),
    "hours_day_twice": csv_bytes(row(hours='"lu 09:00-12:00; lu 14:00-16:00"')),
}
COORDINATES = (
    "Code INSEE;Nom de la collectivité;Type de collectivité;Population;Département;"
    "Type de service;lat;lon"
)
FILES |= {
    "coordinates_pair": csv_bytes("57463;Valmont;Commune;1;;État civil;45.1;",
                                  header=COORDINATES),
    "coordinate_format": csv_bytes("57463;Valmont;Commune;1;;État civil;nord;6",
                                   header=COORDINATES),
    "coordinate_range": csv_bytes("57463;Valmont;Commune;1;;État civil;95;6", header=COORDINATES),
    "postal_code": csv_bytes("57463;Valmont;Commune;1;;État civil;123", header=COORDINATES
                             .replace(";lat;lon", ";Code postal")),
}  # fmt: skip

# Reached only when a library says something we have no words for (its text is kept).
UNREACHED = {"hours", "malformed_other"}


def _first(code: str) -> RowError:
    errors = parse_directory(FILES[code]).errors
    assert errors, code
    found = [e for e in errors if e.code == code]
    assert found, [(e.code, e.reason) for e in errors]
    return found[0]


def test_every_catalogue_reason_is_reached_by_the_parser() -> None:
    codes = {k.removeprefix("directory.error.") for k in load_catalogue("fr")
             if k.startswith("directory.error.")}  # fmt: skip
    assert codes - UNREACHED == set(FILES), "a reason without a test, or a test without words"


def test_every_reason_is_said_in_french_and_in_english() -> None:
    fr, en = Translator("fr"), Translator("en")
    french_number = Formats("fr", "Europe/Paris").number
    for code in FILES:
        error = _first(code)
        said = error.said(fr, french_number)
        assert said != error.said(en) and said != error.reason, code
        assert "{" not in said and "}" not in said, said
        # the typography of our words, the file's own values taken out
        ours = said
        for value in error.params.values():
            if isinstance(value, str) and len(value) > 1:
                ours = ours.replace(value, "X")
        assert not violations(ours), (code, said)
        assert not re.search(r"'[^']*'", ours), (code, said)  # « guillemets », not 'quotes'
        english = error.said(en)
        assert "«" not in english and "\u202f" not in english, (code, english)


def test_a_reason_without_a_code_keeps_its_words() -> None:
    error = RowError(3, "Téléphone", "bad")
    assert error.said(Translator("fr")) == "bad"
    assert str(error) == "line 3, column Téléphone: bad"
