"""`temoin campaign close`: unanswered contacts are censored at the close time, not dropped."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select
from typer.testing import CliRunner

from storage.models import Campaign, Contact
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
    assert "2 contact(s) sent and unanswered" in result.output
    assert "1 never went out" in result.output
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
    assert "already closed" in again.output
    camp, _ = asyncio.run(_read(cli_env))
    assert camp.closed_at == closed


def test_close_refuses_unknown_campaign_and_naive_time(cli_env: DbTarget) -> None:
    unknown = CliRunner().invoke(app, ["campaign", "close", "nope"])
    assert unknown.exit_code == 1 and "no campaign named 'nope'" in unknown.output
    asyncio.run(_setup(cli_env))
    naive = CliRunner().invoke(app, ["campaign", "close", "printemps", "--at", "2026-04-03T18:00"])
    assert naive.exit_code == 1 and "no time zone" in naive.output
