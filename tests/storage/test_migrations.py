"""Alembic migrations on SQLite and PostgreSQL: round trips, schema == models, `temoin db`."""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, func, inspect, select, text
from sqlalchemy.engine import Connection
from typer.testing import CliRunner

import temoin.cli.app
from storage import migrate
from storage.db import make_engine
from storage.models import NAMING, Base, Campaign, Collectivity, Contact, Service
from tests.conftest import DbTarget

ROOT = Path(__file__).resolve().parents[2]
MODEL_TABLES = set(Base.metadata.tables)


async def _on(target: DbTarget, fn: Any) -> Any:
    """Run ``fn(sync_connection)`` on the target database."""
    engine = make_engine(target.url, schema=target.schema)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(fn)
    finally:
        await engine.dispose()


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


def _diff(metadata: MetaData) -> Any:
    def run(conn: Connection) -> Any:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, metadata)

    return run


async def test_empty_head_base_head(empty_db: DbTarget) -> None:
    head = migrate.head()
    assert await migrate.current_async(empty_db.url, empty_db.schema) is None
    assert await _on(empty_db, _tables) == set()

    assert await migrate.upgrade_async(empty_db.url, empty_db.schema) == head
    assert await migrate.current_async(empty_db.url, empty_db.schema) == head
    assert await _on(empty_db, _tables) == MODEL_TABLES | {"alembic_version"}

    assert await migrate.downgrade_async(empty_db.url, empty_db.schema, "base") is None
    assert await migrate.current_async(empty_db.url, empty_db.schema) is None
    assert await _on(empty_db, _tables) == {"alembic_version"}

    assert await migrate.upgrade_async(empty_db.url, empty_db.schema) == head
    assert await _on(empty_db, _tables) == MODEL_TABLES | {"alembic_version"}


def test_sync_api_runs_its_own_loop(empty_db: DbTarget) -> None:
    assert migrate.upgrade(empty_db.url, empty_db.schema) == migrate.head()
    assert migrate.current(empty_db.url, empty_db.schema) == migrate.head()
    assert migrate.downgrade(empty_db.url, empty_db.schema) is None
    assert migrate.current(empty_db.url, empty_db.schema) is None


def test_env_opens_its_own_engine_without_a_connection(empty_db: DbTarget) -> None:
    """A bare ``alembic.command`` call (no connection handed over) also works."""
    command.upgrade(migrate.make_config(empty_db.url, empty_db.schema), "head")
    assert migrate.current(empty_db.url, empty_db.schema) == migrate.head()


async def test_schema_after_upgrade_equals_models(empty_db: DbTarget) -> None:
    await migrate.upgrade_async(empty_db.url, empty_db.schema)
    assert await _on(empty_db, _diff(Base.metadata)) == []


async def test_model_change_without_migration_is_detected(empty_db: DbTarget) -> None:
    """The comparison above is a real guard: a column the migrations lack shows up."""
    await migrate.upgrade_async(empty_db.url, empty_db.schema)
    changed = MetaData(naming_convention=NAMING)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["contact"].append_column(Column("priority", Integer, nullable=True))
    diff = await _on(empty_db, _diff(changed))
    assert [(op[0], op[2], op[3].name) for op in diff] == [("add_column", "contact", "priority")]


async def test_tables_go_into_the_configured_schema(empty_db: DbTarget) -> None:
    await migrate.upgrade_async(empty_db.url, empty_db.schema)
    if empty_db.schema is None:
        return  # SQLite: one namespace; the round trip above covers it
    found = await _on(
        empty_db,
        lambda c: {
            row[0]
            for row in c.execute(
                text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
                {"s": empty_db.schema},
            )
        },
    )
    assert found == MODEL_TABLES | {"alembic_version"}


async def test_upgrade_creates_a_missing_schema(empty_db: DbTarget) -> None:
    if empty_db.schema is not None:
        await _on(
            empty_db,
            lambda c: (c.exec_driver_sql(f'DROP SCHEMA "{empty_db.schema}"'), c.commit()),
        )
    # On SQLite a configured schema is ignored rather than an error.
    schema = empty_db.schema or "unused_on_sqlite"
    assert await migrate.upgrade_async(empty_db.url, schema) == migrate.head()
    target = DbTarget(empty_db.backend, empty_db.url, schema if empty_db.schema else None)
    assert await _on(target, _diff(Base.metadata)) == []


RECREATE_CAMPAIGN = '''"""Recreate campaign, as batch mode does for most ALTERs on SQLite."""
import sqlalchemy as sa
from alembic import op

revision = "0900"
down_revision = {head!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    recreate = "always" if op.get_context().dialect.name == "sqlite" else "auto"
    with op.batch_alter_table("campaign", recreate=recreate) as batch_op:
        batch_op.alter_column("title", existing_type=sa.String(300), type_=sa.String(400))


def downgrade() -> None:
    with op.batch_alter_table("campaign") as batch_op:
        batch_op.alter_column("title", existing_type=sa.String(400), type_=sa.String(300))
'''


@pytest.fixture
def migrations_copy(tmp_path: Path) -> Path:
    """A private copy of the migrations directory, to add revisions in."""
    copy = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


async def test_recreating_a_parent_table_keeps_child_rows(
    empty_db: DbTarget, migrations_copy: Path
) -> None:
    """SQLite copies a table to alter it; dropping the old copy must not cascade to children."""
    (migrations_copy / "versions" / "0900_recreate.py").write_text(
        RECREATE_CAMPAIGN.format(head=migrate.head())
    )
    await migrate.upgrade_async(empty_db.url, empty_db.schema, migrate.head())
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    database = empty_db.database()
    try:
        async with database.session() as s:
            town = Collectivity(
                insee_code="75056",
                name="Paris",
                kind="commune",
                population=2_100_000,
                departement="75",
                created_at=now,
                updated_at=now,
            )
            desk = Service(
                collectivity=town,
                kind="etat_civil",
                name="État civil",
                created_at=now,
                updated_at=now,
            )
            campaign = Campaign(
                name="c",
                window_start=date(2026, 3, 2),
                window_end=date(2026, 3, 27),
                seed=1,
                spec={},
                created_at=now,
                planned_at=now,
            )
            s.add_all([town, desk, campaign])
            await s.flush()
            s.add(
                Contact(
                    campaign_id=campaign.id,
                    service_id=desk.id,
                    collectivity_id=town.id,
                    scenario_id="s",
                    channel="email",
                    planned_at=now,
                    status_at=now,
                )
            )
        assert (
            await migrate.upgrade_async(
                empty_db.url, empty_db.schema, script_location=migrations_copy
            )
            == "0900"
        )
        async with database.session() as s:
            assert await s.scalar(select(func.count()).select_from(Contact)) == 1
            assert await s.scalar(select(func.count()).select_from(Campaign)) == 1
    finally:
        await database.dispose()


async def test_revision_tool_numbers_and_writes_an_empty_revision(migrations_copy: Path) -> None:
    following = f"{int(migrate.head()) + 1:04d}"  # the next number after the shipped head
    path = await migrate.revision_async("nothing to do", script_location=migrations_copy)
    assert path.parent == migrations_copy / "versions"
    assert path.name == f"{following}_nothing_to_do.py"
    source = path.read_text()
    assert source.startswith('"""Nothing to do.')
    assert f'down_revision: str | Sequence[str] | None = "{migrate.head()}"' in source
    assert "def upgrade() -> None:\n    pass" in source
    assert "Alembic commands" not in source
    assert migrate.head(migrations_copy) == following


async def test_check_catches_migrations_missing_a_column(migrations_copy: Path) -> None:
    await migrate.check_async(migrations_copy)  # the shipped migrations match the models
    initial = next((migrations_copy / "versions").glob("0001_*.py"))
    lines = initial.read_text().splitlines(keepends=True)
    kept = [line for line in lines if '"siren"' not in line]
    assert len(kept) == len(lines) - 1
    initial.write_text("".join(kept))
    with pytest.raises(migrate.CommandError, match="siren"):
        await migrate.check_async(migrations_copy)


def test_check_entry_point() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "storage.migrate", "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "models and migrations agree" in done.stdout


def test_migration_files_are_package_data() -> None:
    """Every file of storage/migrations ships in the wheel (pyproject package-data)."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["storage"]
    storage = ROOT / "storage"
    files = [
        p.relative_to(storage).as_posix()
        for p in (storage / "migrations").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    ]
    assert "migrations/env.py" in files
    assert "migrations/script.py.mako" in files
    missing = [f for f in files if not any(fnmatch.fnmatch(f, pat) for pat in patterns)]
    assert missing == []


# --- `temoin db` through the CLI -------------------------------------------------------------


@pytest.fixture
def empty_cli_env(
    empty_db: DbTarget, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[DbTarget]:
    for key in [
        k for k in os.environ if k.startswith("TEMOIN_") and not k.startswith("TEMOIN_TEST")
    ]:
        monkeypatch.delenv(key)
    for key, value in empty_db.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    yield empty_db


def _temoin(*args: str) -> Any:
    return CliRunner().invoke(temoin.cli.app.app, list(args))


def test_cli_upgrade_then_current_shows_head(empty_cli_env: DbTarget) -> None:
    head = migrate.head()
    before = _temoin("db", "current")
    assert before.exit_code == 0, before.output
    assert "vide (aucune révision)" in before.stdout

    up = _temoin("db", "upgrade")
    assert up.exit_code == 0, up.output
    assert f"à {head} (la dernière)" in up.stdout

    now = _temoin("db", "current")
    assert now.exit_code == 0, now.output
    assert now.stdout.rstrip().endswith(f": {head} (la dernière)")
    assert migrate.current(empty_cli_env.url, empty_cli_env.schema) == head

    again = _temoin("db", "upgrade")
    assert again.exit_code == 0, again.output
    assert f"déjà à {head} (la dernière)" in again.stdout


def test_cli_downgrade_needs_an_explicit_revision(empty_cli_env: DbTarget) -> None:
    assert _temoin("db", "upgrade").exit_code == 0
    refused = _temoin("db", "downgrade")
    assert refused.exit_code == 2
    assert "argument manquant\u202f: revision" in refused.output
    assert migrate.current(empty_cli_env.url, empty_cli_env.schema) == migrate.head()

    back = _temoin("db", "downgrade", "-1")  # a negative number, not an option
    assert back.exit_code == 0, back.output
    before_head = f"{int(migrate.head()) - 1:04d}" if migrate.head() != "0001" else None
    assert migrate.current(empty_cli_env.url, empty_cli_env.schema) == before_head


def test_cli_unknown_revision_is_a_user_error(empty_cli_env: DbTarget) -> None:
    result = _temoin("db", "upgrade", "nosuchrev")
    assert result.exit_code == 1
    assert "nosuchrev" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
