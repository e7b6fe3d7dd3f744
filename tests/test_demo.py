"""`temoin demo` imports the examples and plans the example campaign, on both backends."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from storage.models import Campaign, Collectivity, Contact, Service
from temoin.cli import app
from tests.conftest import DbTarget


async def _counts(target: DbTarget) -> tuple[int, int, int, int]:
    db = target.database()
    try:
        async with db.session() as s:
            return (
                await s.scalar(select(func.count()).select_from(Collectivity)) or 0,
                await s.scalar(select(func.count()).select_from(Service)) or 0,
                await s.scalar(select(func.count()).select_from(Campaign)) or 0,
                await s.scalar(select(func.count()).select_from(Contact)) or 0,
            )
    finally:
        await db.dispose()


def test_demo_on_a_fresh_sqlite_file_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TEMOIN_DATABASE_URL", raising=False)
    out = tmp_path / "demo"
    for _ in range(2):  # a second run starts from a fresh database again
        result = CliRunner().invoke(app, ["demo", "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert "Imported 19 collectivities and 64 services." in result.output
        assert "planned" in result.output
    target = DbTarget("sqlite", f"sqlite:///{out / 'temoin.db'}", None)
    collectivities, services, campaigns, contacts = asyncio.run(_counts(target))
    assert (collectivities, services, campaigns) == (19, 64, 1)
    assert contacts > 100


def test_demo_on_the_configured_database(empty_db: DbTarget, tmp_path: Path) -> None:
    env = {"TEMOIN_DATABASE_SCHEMA": empty_db.schema} if empty_db.schema else {}
    result = CliRunner().invoke(
        app, ["demo", "--out", str(tmp_path), "--database", empty_db.url], env=env
    )
    assert result.exit_code == 0, result.output
    collectivities, services, campaigns, contacts = asyncio.run(_counts(empty_db))
    assert (collectivities, services, campaigns) == (19, 64, 1)
    assert contacts > 100
