"""`temoin import services` and the directory repository, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

import temoin.cli.app
from scenarios.directory import ImportResult, parse_directory
from scenarios.input_files import LIMITS
from scenarios.typography import violations
from storage.db import Database
from storage.directory import (
    ImportCounts,
    list_collectivities,
    list_services,
    upsert_directory,
)
from storage.models import Collectivity, Service
from tests.conftest import DbTarget

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "services.csv"
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def example_rows() -> list[list[str]]:
    text = EXAMPLE.read_text(encoding="utf-8")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def write_rows(
    path: Path, rows: list[list[str]], delimiter: str = ";", encoding: str = "utf-8"
) -> Path:
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(temoin.cli.app.app, ["import", "services", *args])


Snapshot = dict[str, list[tuple[Any, ...]]]


def snapshot(target: DbTarget) -> Snapshot:
    """Every row of both tables, every column, as plain tuples."""

    async def read() -> Snapshot:
        database = target.database()
        try:
            async with database.session() as s:
                colls = (await s.scalars(select(Collectivity).order_by(Collectivity.id))).all()
                svcs = (await s.scalars(select(Service).order_by(Service.id))).all()
                return {
                    "collectivity": [
                        tuple(getattr(c, col.key) for col in Collectivity.__table__.columns)
                        for c in colls
                    ],
                    "service": [
                        tuple(getattr(v, col.key) for col in Service.__table__.columns)
                        for v in svcs
                    ],
                }
        finally:
            await database.dispose()

    return asyncio.run(read())


def summary_row(output: str, label: str) -> tuple[int, int, int]:
    match = re.search(rf"{label}\W+(\d+)\W+(\d+)\W+(\d+)", output)
    assert match, output
    return int(match[1]), int(match[2]), int(match[3])


# --- the CLI ---------------------------------------------------------------------------------


def test_example_file_imports(cli_env: DbTarget) -> None:
    result = invoke(str(EXAMPLE))
    assert result.exit_code == 0, result.output
    assert summary_row(result.stdout, "collectivités") == (19, 0, 0)
    assert summary_row(result.stdout, "services") == (64, 0, 0)
    assert result.stderr == ""

    async def check() -> None:
        database = cli_env.database()
        try:
            async with database.session() as s:
                colls = {c.insee_code: c for c in await list_collectivities(s)}
                services = await list_services(s)
        finally:
            await database.dispose()
        assert len(colls) == 19 and len(services) == 64
        portu = colls["2A247"]
        assert (portu.name, portu.departement, portu.region, portu.population) == (
            "Portu-Bellu", "2A", "94", 8400)  # fmt: skip
        metro = colls["243100724"]
        assert (metro.kind, metro.siren, metro.departement, metro.region) == (
            "epci", "243100724", "31", "76")  # fmt: skip
        assert colls["225700012"].kind == "departement"
        assert colls["31601"].population == 250_000
        by_key = {(v.collectivity.insee_code, v.name): v for v in services}
        morne = by_key[("97213", "État civil")]
        assert (morne.phone, morne.postal_code, morne.address) == (
            "+596596551002", "97222", "Rue Schœlcher")  # fmt: skip
        assert by_key[("97425", "État civil")].phone == "+262262304001"
        assert by_key[("97129", "État civil")].phone == "+590590992002"
        assert by_key[("34299", "État civil")].opening_hours == "lu-ve 08:30-12:00,14:00-17:00"
        pool = by_key[("95210", "Piscine des Saules")]
        assert pool.email is None and pool.kind == "piscine"
        assert all(v.created_at == v.updated_at for v in services)
        assert all(v.created_at.tzinfo is UTC for v in services)

    asyncio.run(check())


def test_dry_run_writes_nothing(cli_env: DbTarget) -> None:
    result = invoke("--dry-run", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    assert "19 collectivités et 64 services valides" in result.stdout
    assert snapshot(cli_env) == {"collectivity": [], "service": []}


def test_the_import_speaks_english_when_the_locale_is_en(
    cli_env: DbTarget, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMOIN_LOCALE", "en")
    result = invoke("--dry-run", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    assert "19 collectivities and 64 services are valid (dry run: nothing written)." in (
        result.stdout
    )
    rows = example_rows()
    rows[3][rows[0].index("Population")] = "beaucoup"
    result = invoke(str(write_rows(tmp_path / "bad.csv", rows)))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1].endswith("1 problem; nothing was imported.")
    result = invoke(str(EXAMPLE))
    assert summary_row(result.stdout, "collectivities") == (19, 0, 0)
    assert "created" in result.stdout and "créés" not in result.stdout


@pytest.mark.parametrize(
    ("variant", "encoding_name"),
    [("bom", "UTF-8 with BOM"), ("cp1252", "Windows-1252"), ("comma", "UTF-8")],
)
def test_encodings_and_separators(
    cli_env: DbTarget, tmp_path: Path, variant: str, encoding_name: str
) -> None:
    rows = example_rows()
    if variant == "bom":
        path = write_rows(tmp_path / "f.csv", rows, encoding="utf-8-sig")
    elif variant == "cp1252":
        path = write_rows(tmp_path / "f.csv", rows, encoding="cp1252")
        assert b"Sch\x9clcher" in path.read_bytes()  # œ, a cp1252-only letter
    else:
        path = write_rows(tmp_path / "f.csv", rows, delimiter=",")
        assert path.read_bytes().startswith(b"Code INSEE,Nom de la collectivit")
    result = invoke(str(path))
    assert result.exit_code == 0, result.output
    assert encoding_name in result.stdout
    state = snapshot(cli_env)
    assert len(state["collectivity"]) == 19 and len(state["service"]) == 64
    name = [c.key for c in Collectivity.__table__.columns].index("name")
    names = {row[name] for row in state["collectivity"]}
    assert {"Saint-Aubin-des-Prés", "Sainte-Rose-des-Alizés", "Villeneuve-la-Sablière"} <= names
    address = [c.key for c in Service.__table__.columns].index("address")
    addresses = {row[address] for row in state["service"]}
    assert "Rue Schœlcher" in addresses and "1 place de l'Église" in addresses


# (line, column, new value, expected message in French and in English); line 1 is the header.
BAD_VALUES = [
    (13, "Code INSEE", "2C247",
     "le code INSEE « 2C247 » n’a pas 5 caractères comme 57463, 2A004 ou 97411",
     "INSEE code '2C247' is not 5 characters like 57463, 2A004 or 97411"),
    (22, "Département", "67",
     "le département 67 ne correspond pas au code INSEE 57712 (département 57)",
     "département 67 does not match INSEE code 57712 (département 57)"),
    (10, "Population", "6,2 mille",
     "la population « 6,2 mille » n’est pas un nombre entier positif ou nul "
     "(par exemple 12 345)",
     "population '6,2 mille' is not a whole number ≥ 0 (e.g. 12,345)"),
    (29, "Population", "-31000",
     "la population « -31000 » n’est pas un nombre entier positif ou nul "
     "(par exemple 12 345)",
     "population '-31000' is not a whole number ≥ 0 (e.g. 12,345)"),
    (29, "Population", "25000000",
     "la population « 25000000 » dépasse 20 000 000",
     "population '25000000' is more than 20,000,000"),
    (7, "Type de service", "Cimetière",
     "type de service inconnu « Cimetière » (connus : accueil_mairie, etat_civil, "
     "ccas, bibliotheque, piscine, police_municipale, urbanisme, scolaire, elections, dechets, "
     "accueil_departement, action_sociale_departement)",
     "unknown service kind 'Cimetière' (known: accueil_mairie, etat_civil, ccas, bibliotheque,"
     " piscine, police_municipale, urbanisme, scolaire, elections, dechets, accueil_departement,"
     " action_sociale_departement)"),
    (4, "Type de collectivité", "Village",
     "type de collectivité inconnu « Village » (commune, EPCI, département ou région)",
     "unknown collectivity kind 'Village' (use commune, EPCI, département or région)"),
    (18, "Courriel", "etat-civil@@villeneuve.example",
     "l’adresse électronique « etat-civil@@villeneuve.example » n’est pas valide : "
     "elle contient des caractères interdits",
     "email 'etat-civil@@villeneuve.example' is not valid: it holds characters that are not "
     "allowed"),
    (18, "Courriel", "etat-civil.villeneuve.example",
     "l’adresse électronique « etat-civil.villeneuve.example » n’est pas valide : "
     "il y manque le signe @",
     "email 'etat-civil.villeneuve.example' is not valid: it has no @-sign"),
    (26, "Téléphone", "0590 12", "le téléphone « 0590 12 » n’est pas un numéro français valide",
     "phone '0590 12' is not a valid French number"),
    (30, "Téléphone", "+1 202 555 0100",
     "le téléphone « +1 202 555 0100 » n’est pas un numéro français",
     "phone '+1 202 555 0100' is not a French number"),
    (11, "Code postal", "672700", "le code postal « 672700 » n’a pas 5 chiffres",
     "postal code '672700' is not 5 digits"),
    (9, "Nom de la collectivité", "Sérignac",
     "la collectivité 34299 a ici le nom « Sérignac » mais « Sérignac-le-Vieux » "
     "ligne 8",
     "collectivity 34299 has name 'Sérignac' here but 'Sérignac-le-Vieux' on line 8"),
    (57, "Horaires d'ouverture", "lu-ve 8-12",
     "horaires « lu-ve 8-12 » : « 8-12 » dans « lu-ve 8-12 » "
     "n’est pas une plage HH:MM-HH:MM",
     "opening hours 'lu-ve 8-12': time range '8-12' in 'lu-ve 8-12' is not HH:MM-HH:MM"),
    (57, "Horaires d'ouverture", "lu-ve 09:00-12:00; lu 14:00-17:00",
     "horaires « lu-ve 09:00-12:00; lu 14:00-17:00 » : le jour « lu » est "
     "donné deux fois (dans « lu 14:00-17:00 »)",
     "opening hours 'lu-ve 09:00-12:00; lu 14:00-17:00': day 'lu' is given twice "
     "(in 'lu 14:00-17:00')"),
]  # fmt: skip


@pytest.mark.parametrize(("line", "column", "value", "message", "_en"), BAD_VALUES)
def test_bad_value_is_reported_and_nothing_written(
    cli_env: DbTarget, tmp_path: Path, line: int, column: str, value: str, message: str, _en: str
) -> None:
    rows = example_rows()
    rows[line - 1][rows[0].index(column)] = value
    bad = write_rows(tmp_path / "bad.csv", rows)
    result = invoke(str(bad))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{bad}, ligne {line}, colonne {column} : {message}",
        f"temoin: {bad} : 1 problème ; rien n’a été importé.",
    ]
    # the typography of what we wrote (the file's own text, quoted, is not ours)
    assert not violations(message.replace(value, "X")), message
    assert result.stdout == ""
    assert snapshot(cli_env) == {"collectivity": [], "service": []}


@pytest.mark.parametrize(("line", "column", "value", "_fr", "message"), BAD_VALUES[::3])
def test_bad_value_is_reported_in_english_with_locale_en(
    cli_env: DbTarget,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    line: int,
    column: str,
    value: str,
    _fr: str,
    message: str,
) -> None:
    (tmp_path / "temoin.toml").write_text('locale = "en"\n', encoding="utf-8")
    monkeypatch.setenv("TEMOIN_CONFIG", str(tmp_path / "temoin.toml"))
    rows = example_rows()
    rows[line - 1][rows[0].index(column)] = value
    bad = write_rows(tmp_path / "bad.csv", rows)
    result = invoke(str(bad))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{bad}, line {line}, column {column}: {message}",
        f"temoin: {bad}: 1 problem; nothing was imported.",
    ]


def test_errors_are_all_listed_in_file_order(cli_env: DbTarget, tmp_path: Path) -> None:
    rows = example_rows()
    header = rows[0]
    rows[40][header.index("Téléphone")] = "12"
    rows[40][header.index("Courriel")] = "nobody"
    rows[3][header.index("Population")] = "beaucoup"
    rows.append(list(rows[1]))  # the same service twice
    bad = write_rows(tmp_path / "bad.csv", rows)
    result = invoke(str(bad))
    assert result.exit_code == 1
    lines = [line.removeprefix(f"{bad}, ") for line in result.stderr.splitlines()]
    assert [line.split(" :")[0] for line in lines[:-1]] == [
        "ligne 4, colonne Population",
        "ligne 41, colonne Courriel",
        "ligne 41, colonne Téléphone",
        "ligne 66, colonne Nom du service",
    ]
    assert lines[3] == (
        "ligne 66, colonne Nom du service : le service « Accueil de la mairie » "
        "(accueil_mairie) de 35291 figure déjà ligne 2"
    )
    assert lines[-1].endswith("4 problèmes ; rien n’a été importé.")
    for line in lines[:-1]:
        assert not violations(line), line
    assert snapshot(cli_env) == {"collectivity": [], "service": []}


def test_missing_and_unknown_columns(cli_env: DbTarget, tmp_path: Path) -> None:
    rows = example_rows()
    kind = rows[0].index("Type de service")
    rows = [[*r[:kind], *r[kind + 1 :], "x"] for r in rows]
    rows[0][-1] = "Remarques"
    bad = write_rows(tmp_path / "bad.csv", rows)
    result = invoke(str(bad))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith(
        f"{bad}, ligne 1, colonne Remarques : colonne inconnue (connues : insee_code,"
    )
    assert lines[1] == f"{bad}, ligne 1, colonne service_kind : colonne obligatoire absente"
    assert snapshot(cli_env) == {"collectivity": [], "service": []}


def test_file_wide_problems_name_the_file_and_line(
    cli_env: DbTarget, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = example_rows()
    rows[5] = [*rows[5], "de trop"]
    cases = [
        (b"", "ligne 1 : le fichier est vide", "line 1: the file is empty"),
        (write_rows(tmp_path / "header.csv", example_rows()[:1]).read_bytes(),
         "ligne 1 : le fichier a une ligne d’en-tête mais aucune ligne de données",
         "line 1: the file has a header but no rows"),
        (codecs.BOM_UTF16_LE + "a;b".encode("utf-16-le"),
         "ligne 1 : le fichier est en UTF-16 : exportez-le en « CSV UTF-8 » ou "
         "« CSV (point-virgule) »",
         "line 1: the file is UTF-16: export it as CSV UTF-8 or CSV (point-virgule)"),
        (write_rows(tmp_path / "extra.csv", rows).read_bytes(),
         f"ligne 6 : {len(rows[5])} cellules pour {len(rows[0])} colonnes (une valeur "
         "contenant « ; » doit être entre guillemets droits)",
         f"line 6: {len(rows[5])} cells but {len(rows[0])} columns (a value holding ';' must be "
         "in double quotes)"),
    ]  # fmt: skip
    for i, (data, fr, en) in enumerate(cases):
        path = tmp_path / f"case{i}.csv"
        path.write_bytes(data)
        monkeypatch.delenv("TEMOIN_LOCALE", raising=False)
        result = invoke(str(path))
        assert result.exit_code == 1
        assert result.stderr.splitlines()[0] == f"{path}, {fr}"
        assert not violations(fr.replace("CSV (point-virgule)", "CSV")), fr
        monkeypatch.setenv("TEMOIN_LOCALE", "en")
        result = invoke(str(path))
        assert result.stderr.splitlines()[0] == f"{path}, {en}"


def test_empty_and_missing_files(cli_env: DbTarget, tmp_path: Path) -> None:
    result = invoke(str(tmp_path / "nowhere.csv"))
    assert result.exit_code == 1
    assert result.stderr == f"temoin: {tmp_path / 'nowhere.csv'}\u202f: fichier introuvable\n"
    big = tmp_path / "big.csv"
    with big.open("wb") as f:
        f.truncate(LIMITS["services"] + 1)  # sparse: nothing written, nothing read
    result = invoke(str(big))
    assert result.exit_code == 1
    assert result.stderr == f"temoin: {big}\u202f: fichier trop gros (plus de 128\u202fMo)\n"


def test_malformed_csv_and_unreadable_paths_said_without_english(
    cli_env: DbTarget, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = example_rows()
    path = tmp_path / "quote.csv"
    path.write_bytes(write_rows(tmp_path / "ok.csv", rows[:2]).read_bytes()
                     + b'57463;"Valmont' + b"x" * 200_000 + b"\r\n")  # fmt: skip
    said = invoke(str(path)).stderr.splitlines()[0]
    assert re.fullmatch(
        rf"{re.escape(str(path))}, ligne \d+\u202f: CSV mal formé\u202f: une cellule dépasse "
        r"131\u202f072 caractères \(un guillemet jamais refermé\u202f\?\)",
        said,
    ), said
    assert "field larger" not in said
    loop = tmp_path / "loop.csv"
    loop.symlink_to(loop)
    not_dir = tmp_path / "ok.csv" / "services.csv"
    cases = [
        (loop, "illisible (trop de liens symboliques en boucle)",
         "cannot be read (too many levels of symbolic links)"),
        (not_dir, "illisible (un élément du chemin n’est pas un répertoire)",
         "cannot be read (a part of the path is not a directory)"),
        (tmp_path / ("x" * 300), "illisible (nom de fichier trop long)",
         "cannot be read (file name too long)"),
    ]  # fmt: skip
    for where, fr, en in cases:
        monkeypatch.delenv("TEMOIN_LOCALE", raising=False)
        assert invoke(str(where)).stderr == f"temoin: {where}\u202f: {fr}\n"
        assert not violations(fr)
        monkeypatch.setenv("TEMOIN_LOCALE", "en")
        assert invoke(str(where)).stderr == f"temoin: {where}: {en}\n"


def test_reimport_changes_nothing(cli_env: DbTarget) -> None:
    assert invoke(str(EXAMPLE)).exit_code == 0
    before = snapshot(cli_env)
    result = invoke(str(EXAMPLE))
    assert result.exit_code == 0, result.output
    assert summary_row(result.stdout, "collectivités") == (0, 0, 19)
    assert summary_row(result.stdout, "services") == (0, 0, 64)
    assert "Rien n\u2019a changé." in result.stdout
    assert snapshot(cli_env) == before  # updated_at included


def test_changed_row_updates_in_place(cli_env: DbTarget, tmp_path: Path) -> None:
    assert invoke(str(EXAMPLE)).exit_code == 0
    before = snapshot(cli_env)
    rows = example_rows()
    header = rows[0]
    assert rows[21][:2] == ["57712", "Valmont-sur-Moselle"] and rows[21][6] == "État civil"
    rows[21][header.index("Téléphone")] = "+33 3 53 01 10 99"
    for r in rows[20:25]:  # every row of Valmont-sur-Moselle carries the new population
        r[header.index("Population")] = "15 020"
    result = invoke(str(write_rows(tmp_path / "changed.csv", rows)))
    assert result.exit_code == 0, result.output
    assert summary_row(result.stdout, "collectivités") == (0, 1, 18)
    assert summary_row(result.stdout, "services") == (0, 1, 63)

    after = snapshot(cli_env)
    cols = [c.key for c in Service.__table__.columns]
    changed = [
        (old, new) for old, new in zip(before["service"], after["service"], strict=True)
        if old != new
    ]  # fmt: skip
    assert len(changed) == 1
    old, new = (dict(zip(cols, r, strict=True)) for r in changed[0])
    assert new["id"] == old["id"] and new["name"] == "État civil"
    assert (old["phone"], new["phone"]) == ("+33353011001", "+33353011099")
    assert new["created_at"] == old["created_at"] and new["updated_at"] > old["updated_at"]
    ccols = [c.key for c in Collectivity.__table__.columns]
    valmont = [
        (dict(zip(ccols, a, strict=True)), dict(zip(ccols, b, strict=True)))
        for a, b in zip(before["collectivity"], after["collectivity"], strict=True)
        if a != b
    ]
    assert len(valmont) == 1
    assert valmont[0][1]["id"] == valmont[0][0]["id"]
    assert (valmont[0][0]["population"], valmont[0][1]["population"]) == (14800, 15020)


def test_a_bad_file_does_not_half_update(cli_env: DbTarget, tmp_path: Path) -> None:
    assert invoke(str(EXAMPLE)).exit_code == 0
    before = snapshot(cli_env)
    rows = example_rows()
    rows[1][rows[0].index("Téléphone")] = "02 61 91 10 99"  # a valid change
    rows[50][rows[0].index("Courriel")] = "pas-un-courriel"  # and a bad row further down
    result = invoke(str(write_rows(tmp_path / "mixed.csv", rows)))
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"{tmp_path / 'mixed.csv'}, ligne 51, colonne Courriel : l’adresse électronique"
        " « pas-un-courriel » n’est pas valide"
    )
    assert snapshot(cli_env) == before


# --- the repository --------------------------------------------------------------------------


def example() -> ImportResult:
    result = parse_directory(EXAMPLE.read_bytes())
    assert result.ok, result.errors
    return result


async def test_upsert_is_idempotent_and_bumps_only_what_changed(database: Database) -> None:
    records = example()
    async with database.session() as s:
        counts = await upsert_directory(s, records, T0)
    assert counts == ImportCounts(collectivities_created=19, services_created=64)
    async with database.session() as s:
        again = await upsert_directory(s, records, T0 + timedelta(days=1))
    assert again == ImportCounts(collectivities_unchanged=19, services_unchanged=64)
    assert not again.changed

    rows = example_rows()
    header = rows[0]
    rows[2][header.index("Horaires d'ouverture")] = "me 14:00-18:30; sa 10:00-12:00"
    rows[2][header.index("Courriel")] = ""
    changed = parse_directory(write_rows_bytes(rows))
    t2 = T0 + timedelta(days=2)
    async with database.session() as s:
        counts = await upsert_directory(s, changed, t2)
    assert counts == ImportCounts(
        collectivities_unchanged=19, services_updated=1, services_unchanged=63
    )
    async with database.session() as s:
        services = await list_services(s, insee_code="35291")
        collectivity = (await list_collectivities(s, departement="35"))[0]
    library = next(v for v in services if v.kind == "bibliotheque")
    assert (library.opening_hours, library.email) == ("me 14:00-18:30; sa 10:00-12:00", None)
    assert (library.created_at, library.updated_at) == (T0, t2)
    mairie = next(v for v in services if v.kind == "accueil_mairie")
    assert mairie.updated_at == T0
    assert collectivity.updated_at == T0


def write_rows_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8")


async def test_services_missing_from_a_file_are_kept(database: Database) -> None:
    async with database.session() as s:
        await upsert_directory(s, example(), T0)
    rows = example_rows()
    partial = parse_directory(write_rows_bytes(rows[:3]))
    async with database.session() as s:
        counts = await upsert_directory(s, partial, T0 + timedelta(hours=1))
        assert counts == ImportCounts(collectivities_unchanged=1, services_unchanged=2)
        assert len(await list_services(s)) == 64


async def test_list_queries(database: Database) -> None:
    async with database.session() as s:
        await upsert_directory(s, example(), T0)
    async with database.session() as s:
        moselle = await list_collectivities(s, departement="57")
        epcis = await list_collectivities(s, kind="epci")
        pools = await list_services(s, kind="piscine")
        valmont = (await list_collectivities(s, departement="57", kind="commune"))[1]
        of_valmont = await list_services(s, collectivity_id=valmont.id)
    assert [c.insee_code for c in moselle] == ["225700012", "245700919", "57480", "57712"]
    assert [c.name for c in epcis] == [
        "Montclair Métropole",
        "Communauté de communes du Val de Brume",
    ]
    assert [(p.collectivity.insee_code, p.name) for p in pools] == [
        ("243100724", "Centre aquatique des Peupliers"),
        ("245700919", "Centre aquatique du Val de Brume"),
        ("95210", "Piscine des Saules"),
        ("97425", "Piscine de la Ravine"),
    ]
    assert valmont.name == "Valmont-sur-Moselle"
    assert [v.kind for v in of_valmont] == [
        "accueil_mairie", "ccas", "etat_civil", "police_municipale", "urbanisme"]  # fmt: skip


async def test_upsert_refuses_an_import_with_errors(database: Database) -> None:
    bad = parse_directory(b"")
    async with database.session() as s:
        with pytest.raises(ValueError, match="1 errors"):
            await upsert_directory(s, bad, T0)


def big_file(communes: int, per_commune: int) -> bytes:
    header = "code_insee;nom_collectivite;type_collectivite;population;departement;type_service;" \
        "nom_service;email;telephone;horaires"  # fmt: skip
    lines = [header]
    kinds = ["etat_civil", "ccas", "bibliotheque", "piscine", "urbanisme"][:per_commune]
    for n in range(communes):
        dep = ("57", "67", "2A", "974")[n % 4]
        code = f"{dep}{n // 4 + 1:02d}" if dep == "974" else f"{dep}{n // 4 + 1:03d}"
        for k, kind in enumerate(kinds):
            lines.append(
                f"{code};Commune {n};commune;{1000 + n};{dep};{kind};;"
                f's{k}@c{n}.example;01 99 00 {n % 100:02d} {k:02d};"lu-ve 09:00-12:00"'
            )
    return ("\n".join(lines) + "\n").encode()


async def test_a_few_thousand_rows(database: Database) -> None:
    records = parse_directory(big_file(396, 5))  # 974 has 99 commune numbers at most
    assert records.ok, records.errors[:3]
    assert len(records.services) == 1980
    async with database.session() as s:
        counts = await upsert_directory(s, records, T0)
    assert (counts.collectivities_created, counts.services_created) == (396, 1980)
    async with database.session() as s:
        counts = await upsert_directory(s, records, T0 + timedelta(hours=1))
    assert (counts.collectivities_unchanged, counts.services_unchanged) == (396, 1980)


def test_the_demo_says_a_bad_services_file_as_the_import_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``temoin demo --services FILE``: the same lines, in French, nothing planned."""
    for key in [k for k in os.environ if k.startswith("TEMOIN_") and "TEST" not in k]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    rows = example_rows()
    rows[12][rows[0].index("Code INSEE")] = "2C247"
    bad = write_rows(tmp_path / "bad.csv", rows)
    result = CliRunner().invoke(
        temoin.cli.app.app, ["demo", "--plan-only", "--services", str(bad), "--out",
                             str(tmp_path / "out")],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        f"{bad}, ligne 13, colonne Code INSEE\u202f: le code INSEE «\u202f2C247\u202f» n’a pas 5 "
        "caractères comme 57463, 2A004 ou 97411",
        f"temoin: démo\u202f: {bad}\u202f: 1 problème\u202f; rien n’a été importé.",
    ]
