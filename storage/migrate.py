"""Schema migrations (Alembic), configured in code: nothing but this package is needed.

Running them::

    upgrade(url, schema=None, revision="head")     # from sync code: runs its own event loop
    downgrade(url, schema=None, revision="base")
    current(url, schema=None)                      # -> "0001", or None on an empty database
    await upgrade_async(...), downgrade_async(...), current_async(...)   # inside a loop

Each call opens an async engine with ``storage.db.make_engine`` (aiosqlite or asyncpg, so
the runtime needs no psycopg2), takes one connection and runs the Alembic command in
``AsyncConnection.run_sync``; ``migrations/env.py`` receives that connection through
``Config.attributes``. On PostgreSQL with a schema, ``upgrade`` creates the schema if it is
missing, and the connection's ``search_path`` puts ``alembic_version`` and every table there.

Writing migrations (developers, from the repository root)::

    .venv/bin/python -m storage.migrate revision --autogenerate -m "add contact priority"
    .venv/bin/python -m storage.migrate check    # exit 1 if the models need a migration

``revision`` upgrades a scratch SQLite file to head, compares it with
``storage.models.Base.metadata`` and writes ``migrations/versions/<NNNN>_<slug>.py`` (ids
are numbered). Review the file, then run ``tests/storage/test_migrations.py``. To regenerate the
initial revision from the current models (only while nothing has been released)::

    rm storage/migrations/versions/0001_initial.py
    .venv/bin/python -m storage.migrate revision --autogenerate --rev-id 0001 -m initial
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

__all__ = [
    "MIGRATIONS_DIR",
    "CommandError",
    "current",
    "current_async",
    "downgrade",
    "downgrade_async",
    "head",
    "make_config",
    "revision",
    "upgrade",
    "upgrade_async",
]


def make_config(
    url: str | None = None,
    schema: str | None = None,
    *,
    script_location: Path = MIGRATIONS_DIR,
) -> Config:
    """An Alembic config built in code (``url``/``schema`` are for env.py's own engine)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("path_separator", "os")
    # ConfigParser interpolation: "%%" is a literal "%".
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    cfg.set_main_option("truncate_slug_length", "40")
    cfg.set_main_option("timezone", "UTC")
    cfg.attributes["url"] = url
    cfg.attributes["schema"] = schema
    return cfg


def head(script_location: Path = MIGRATIONS_DIR) -> str:
    """The newest revision shipped with this code."""
    found = ScriptDirectory.from_config(make_config(script_location=script_location)).get_heads()
    if len(found) != 1:
        raise CommandError(f"expected one head revision, found {sorted(found)}")
    return found[0]


@asynccontextmanager
async def _connection(url: str, schema: str | None) -> AsyncIterator[AsyncConnection]:
    engine = make_engine(url, schema=schema)
    try:
        async with engine.connect() as conn:
            yield conn
            await conn.commit()
    finally:
        await engine.dispose()


def _revision_of(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _run(conn: Connection, cfg: Config, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    cfg.attributes["connection"] = conn
    try:
        return fn(cfg, *args, **kw)
    finally:
        del cfg.attributes["connection"]


def _ensure_schema(conn: Connection, schema: str) -> None:
    # Looked up first: CREATE SCHEMA IF NOT EXISTS still needs CREATE on the database, which
    # a role that merely owns an existing schema may lack.
    exists = conn.execute(
        text("SELECT 1 FROM pg_namespace WHERE nspname = :name"), {"name": schema}
    ).first()
    if exists is None:
        conn.exec_driver_sql(f"CREATE SCHEMA {conn.dialect.identifier_preparer.quote(schema)}")
        conn.commit()


async def upgrade_async(
    url: str,
    schema: str | None = None,
    revision: str = "head",
    *,
    script_location: Path = MIGRATIONS_DIR,
) -> str | None:
    """Upgrade to ``revision``; return the revision the database is at afterwards."""
    cfg = make_config(url, schema, script_location=script_location)
    async with _connection(url, schema) as conn:
        if schema and conn.dialect.name == "postgresql":
            await conn.run_sync(_ensure_schema, schema)
        await conn.run_sync(_run, cfg, command.upgrade, revision)
        return await conn.run_sync(_revision_of)


async def downgrade_async(
    url: str,
    schema: str | None = None,
    revision: str = "base",
    *,
    script_location: Path = MIGRATIONS_DIR,
) -> str | None:
    """Downgrade to ``revision`` (``base`` drops every table); return the revision after."""
    cfg = make_config(url, schema, script_location=script_location)
    async with _connection(url, schema) as conn:
        await conn.run_sync(_run, cfg, command.downgrade, revision)
        return await conn.run_sync(_revision_of)


async def current_async(url: str, schema: str | None = None) -> str | None:
    """The revision the database is at, or None when it has never been migrated."""
    async with _connection(url, schema) as conn:
        return await conn.run_sync(_revision_of)


def upgrade(url: str, schema: str | None = None, revision: str = "head") -> str | None:
    return asyncio.run(upgrade_async(url, schema, revision))


def downgrade(url: str, schema: str | None = None, revision: str = "base") -> str | None:
    return asyncio.run(downgrade_async(url, schema, revision))


def current(url: str, schema: str | None = None) -> str | None:
    return asyncio.run(current_async(url, schema))


def _next_rev_id(cfg: Config) -> str | None:
    """``0001``, ``0002``… while every existing id is a number; else Alembic's random id."""
    ids = [script.revision for script in ScriptDirectory.from_config(cfg).walk_revisions()]
    if not all(rev.isdigit() for rev in ids):
        return None
    return f"{max((int(rev) for rev in ids), default=0) + 1:04d}"


async def revision_async(
    message: str,
    *,
    autogenerate: bool = True,
    rev_id: str | None = None,
    script_location: Path = MIGRATIONS_DIR,
) -> Path:
    """Write a new revision file, autogenerated against a scratch SQLite database at head."""
    with tempfile.TemporaryDirectory(prefix="temoin-revision-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'scratch.db'}"
        cfg = make_config(url, script_location=script_location)
        async with _connection(url, None) as conn:
            await conn.run_sync(_run, cfg, command.upgrade, "head")
            written = await conn.run_sync(
                _run,
                cfg,
                command.revision,
                message=message,
                autogenerate=autogenerate,
                rev_id=rev_id or _next_rev_id(cfg),
            )
    scripts = written if isinstance(written, list) else [written]
    assert scripts and isinstance(scripts[0], Script)
    path = Path(scripts[0].path)
    _tidy(path)
    return path


_ALEMBIC_MARKERS = (
    "# ### commands auto generated by Alembic - please adjust! ###",
    "# ### end Alembic commands ###",
)


def _tidy(path: Path) -> None:
    """Drop Alembic's banner comments and format with ruff when it is installed (dev)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if line.strip() not in _ALEMBIC_MARKERS]
    path.write_text("".join(kept), encoding="utf-8")
    if importlib.util.find_spec("ruff") is not None:
        subprocess.run(
            [sys.executable, "-m", "ruff", "format", "--quiet", str(path)],
            check=False,
        )


def revision(
    message: str,
    *,
    autogenerate: bool = True,
    rev_id: str | None = None,
    script_location: Path = MIGRATIONS_DIR,
) -> Path:
    return asyncio.run(
        revision_async(
            message, autogenerate=autogenerate, rev_id=rev_id, script_location=script_location
        )
    )


async def check_async(script_location: Path = MIGRATIONS_DIR) -> None:
    """Raise ``CommandError`` when the models differ from the schema the migrations build."""
    with tempfile.TemporaryDirectory(prefix="temoin-check-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'scratch.db'}"
        cfg = make_config(url, script_location=script_location)
        async with _connection(url, None) as conn:
            await conn.run_sync(_run, cfg, command.upgrade, "head")
            await conn.run_sync(_run, cfg, command.check)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m storage.migrate", description="Write or check Témoin migrations."
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    rev = sub.add_parser("revision", help="write a new revision file")
    rev.add_argument("-m", "--message", required=True)
    rev.add_argument("--autogenerate", action="store_true", help="diff models vs migrations")
    rev.add_argument("--rev-id", help="revision id (default: the next number, 0002…)")
    sub.add_parser("check", help="exit 1 if the models need a new migration")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "revision":
            path = revision(args.message, autogenerate=args.autogenerate, rev_id=args.rev_id)
            print(f"wrote {path}")
        else:
            asyncio.run(check_async())
            print("models and migrations agree")
    except CommandError as exc:
        print(f"storage.migrate: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
