"""One service, one identity: « Accueil » and « ACCUEIL » are the same service, and a
re-import that renames a service keeps one service at its address, not two.

Two services at one address would each get their requests: the same mailbox receiving two
mystery requests can give the campaign away.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner, Result

import temoin.cli.app
from storage.models import Service
from tests.conftest import DbTarget

HEADER = (
    "Code INSEE;Nom de la collectivité;Type de collectivité;Population;Département;"
    "Type de service;Nom du service;Courriel;Téléphone"
)


def _row(
    name: str, email: str = "accueil@ville-riom.example", phone: str = "04 73 38 99 00"
) -> str:
    return f"63300;Riom;Commune;19 000;63;Accueil mairie;{name};{email};{phone}"


def _import(tmp_path: Path, *rows: str) -> Result:
    path = tmp_path / "services.csv"
    path.write_text("\n".join((HEADER, *rows)) + "\n", encoding="utf-8")
    return CliRunner().invoke(temoin.cli.app.app, ["import", "services", str(path)])


def _names(target: DbTarget) -> list[str]:
    async def work() -> list[str]:
        database = target.database()
        try:
            async with database.session() as s:
                return list(await s.scalars(select(Service.name).order_by(Service.id)))
        finally:
            await database.dispose()

    return asyncio.run(work())


def test_names_differing_in_case_accents_and_spaces_are_one_service(
    cli_env: DbTarget, tmp_path: Path
) -> None:
    first, second = "Accueil de l'Hôtel-de-Ville", "ACCUEIL  DE L’HOTEL DE VILLE"
    result = _import(tmp_path, _row(first), _row(second, email="autre@ville-riom.example"))
    assert result.exit_code == 1, result.output
    said = result.output
    assert "ligne 3, colonne Nom du service\u202f: le service «\u202fACCUEIL DE L’HOTEL" in said
    assert "figure déjà ligne 2 sous le nom «\u202fAccueil de l'Hôtel-de-Ville\u202f»" in said
    assert _names(cli_env) == []

    assert _import(tmp_path, _row("Accueil")).exit_code == 0
    result = _import(tmp_path, _row("ACCUEIL"))
    assert result.exit_code == 0, result.output
    assert _names(cli_env) == ["ACCUEIL"]  # one service; its name as the file now writes it


def test_a_renamed_service_stays_one_service_at_its_address(
    cli_env: DbTarget, tmp_path: Path
) -> None:
    assert _import(tmp_path, _row("Accueil"), _row("Standard", email="standard@ville-riom.example",
                   phone="04 73 38 99 01")).exit_code == 0  # fmt: skip
    result = _import(tmp_path, _row("Accueil de la mairie"),
                     _row("Standard téléphonique", email="", phone="04 73 38 99 01"))  # fmt: skip
    assert result.exit_code == 0, result.output
    n = "\u202f"  # the French catalogue's narrow no-break space
    assert (
        f"renommé{n}: 63300 accueil_mairie «{n}Accueil{n}» → «{n}Accueil de la mairie{n}» "
        f"(même adresse électronique{n}: un seul service, pas deux)"
    ) in result.output
    assert f"«{n}Standard{n}» → «{n}Standard téléphonique{n}» (même numéro de téléphone" in (
        result.output
    )
    assert _names(cli_env) == ["Accueil de la mairie", "Standard téléphonique"]
    # a new service of another address is a new service
    assert _import(tmp_path, _row("Accueil de la mairie"),
                   _row("Standard téléphonique", email="", phone="04 73 38 99 01"),
                   _row("Accueil annexe", email="annexe@ville-riom.example",
                        phone="04 73 38 99 02")).exit_code == 0  # fmt: skip
    assert len(_names(cli_env)) == 3
