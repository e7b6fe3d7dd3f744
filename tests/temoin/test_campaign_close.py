"""`temoin campaign close`: unanswered contacts are censored at the close time, not dropped."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from storage.models import Auditor, Campaign, Contact
from temoin.cli.app import app
from tests import factories
from tests.conftest import DbTarget

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def _setup(target: DbTarget) -> dict[str, int]:
    db = target.database()
    try:
        async with db.session() as s:
            coll = await factories.collectivity(s, T0)
            svc = await factories.service(s, T0, coll)
            camp = await factories.campaign(s, T0, name="printemps")
            ids = {}
            for status in ("planned", "sent", "acknowledged", "answered", "undeliverable"):
                row = await factories.contact(s, T0, camp, svc, planned_at=T0, status=status)
                ids[status] = row.id
            return ids
    finally:
        await db.dispose()


async def _read(target: DbTarget) -> tuple[Campaign, dict[int, Contact]]:
    db = target.database()
    try:
        async with db.session() as s:
            camp = (await s.execute(select(Campaign))).scalar_one()
            rows = {c.id: c for c in (await s.execute(select(Contact))).scalars()}
            return camp, rows
    finally:
        await db.dispose()


def test_close_censors_open_contacts_and_keeps_the_first_close(cli_env: DbTarget) -> None:
    ids = asyncio.run(_setup(cli_env))
    result = CliRunner().invoke(
        app, ["campaign", "close", "printemps", "--at", "2026-04-03T18:00:00+02:00"]
    )
    assert result.exit_code == 0, result.output
    assert "2 contact(s) envoyés et sans réponse sont censurés" in result.output
    assert "1 ne sont jamais partis" in result.output
    assert "close le 03/04/2026 18\u202fh\u202f00" in result.output
    camp, rows = asyncio.run(_read(cli_env))
    closed = datetime(2026, 4, 3, 16, 0, tzinfo=UTC)
    assert camp.state == "closed" and camp.closed_at == closed
    for status in ("planned", "sent", "acknowledged"):
        assert rows[ids[status]].closed_at == closed
        assert rows[ids[status]].status == status  # how far it got is kept
    for status in ("answered", "undeliverable"):
        assert rows[ids[status]].closed_at is None
    again = CliRunner().invoke(app, ["campaign", "close", "printemps"])
    assert again.exit_code == 0
    assert "était déjà close le 03/04/2026" in again.output
    camp, _ = asyncio.run(_read(cli_env))
    assert camp.closed_at == closed


def test_close_refuses_unknown_campaign_and_naive_time(cli_env: DbTarget) -> None:
    unknown = CliRunner().invoke(app, ["campaign", "close", "nope"])
    assert unknown.exit_code == 1 and "aucune campagne nommée «\u202fnope\u202f»" in unknown.output
    asyncio.run(_setup(cli_env))
    naive = CliRunner().invoke(app, ["campaign", "close", "printemps", "--at", "2026-04-03T18:00"])
    assert naive.exit_code == 1 and "n’a pas de fuseau horaire" in naive.output


async def _field_setup(target: DbTarget) -> None:
    db = target.database()
    try:
        async with db.session() as s:
            coll = await factories.collectivity(s, T0)
            svc = await factories.service(s, T0, coll)
            camp = await factories.campaign(s, T0, name="printemps")
            paul = Auditor(key="paul", name="Paul", role="auditor", created_at=T0)
            s.add(paul)
            await s.flush()
            await factories.contact(s, T0, camp, svc, planned_at=T0, channel="phone",
                                    scenario_id="phone-apa-renseignements", status="assigned",
                                    auditor_id=paul.id)  # fmt: skip
            await factories.contact(s, T0, camp, svc, planned_at=T0, status="answered")
            await factories.contact(s, T0, camp, svc, planned_at=T0, status="planned")
    finally:
        await db.dispose()


def _open_tasks() -> int:
    listed = CliRunner().invoke(app, ["auditors", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    [paul] = json.loads(listed.stdout)
    return int(paul["open_tasks"])


def test_state_follows_the_run_and_closing_closes_the_field_tasks(cli_env: DbTarget) -> None:
    asyncio.run(_field_setup(cli_env))
    assert _open_tasks() == 1
    shown = CliRunner().invoke(app, ["campaign", "show", "printemps"])
    assert shown.exit_code == 0, shown.output
    # The window began (the clock is the system's) and a contact was answered: running,
    # not the stored "planned"; what was planned on 02/03/2026 and is not done is late.
    assert "— en cours —" in shown.output
    assert "En retard\u202f: 1 courriel, 1 téléphone." in shown.output
    listed = CliRunner().invoke(app, ["campaign", "list", "--json"])
    assert json.loads(listed.stdout)[0]["state"] == "running"

    closed = CliRunner().invoke(
        app, ["campaign", "close", "printemps", "--at", "2026-04-03T18:00:00+02:00"]
    )
    assert "1 tâche(s) de terrain non faites sont closes" in closed.output, closed.output
    assert _open_tasks() == 0
    shown = CliRunner().invoke(app, ["campaign", "show", "printemps"])
    assert "— close —" in shown.output and "Bilan à la clôture" in shown.output
    assert "En retard" not in shown.output and "Avancement au" not in shown.output
    listed = CliRunner().invoke(app, ["campaign", "list"])
    assert "printemps — close le 03/04/2026 — du 02/03/2026 au 27/03/2026 — 3 contacts" in (
        listed.output
    )


def test_show_speaks_english_when_the_locale_is_en(
    cli_env: DbTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    asyncio.run(_field_setup(cli_env))
    monkeypatch.setenv("TEMOIN_LOCALE", "en")
    shown = CliRunner().invoke(app, ["campaign", "show", "printemps"])
    assert shown.exit_code == 0, shown.output
    assert "2 Mar 2026 to 27 Mar 2026 — running — 3 contacts" in shown.output
    assert "Late: 1 email, 1 phone." in shown.output


async def _kept(target: DbTarget) -> tuple[str | None, str]:
    from reports.figures_store import data_version, figure_options
    from storage.barometer_figures import kept_version

    db = target.database()
    try:
        async with db.session() as s:
            camp = (await s.execute(select(Campaign))).scalar_one()
            assert camp.closed_at is not None
            options = figure_options(camp.closed_at, 5, (2000, 10000, 50000))
            kept = await kept_version(s, camp.id, options)
        return kept, await data_version(db, camp.id, None)
    finally:
        await db.dispose()


def test_close_keeps_the_barometer_figures_for_the_portal(cli_env: DbTarget) -> None:
    """The national and peer figures are computed at the close and kept under the campaign's
    data version (reports.figures_store), so the portal's first visitor does not wait."""
    asyncio.run(_setup(cli_env))
    result = CliRunner().invoke(
        app, ["campaign", "close", "printemps", "--at", "2026-04-03T18:00:00+02:00"]
    )
    assert result.exit_code == 0, result.output
    assert "Chiffres nationaux et des pairs prêts pour le portail" in result.output
    kept, current = asyncio.run(_kept(cli_env))
    assert kept is not None and kept == current
