"""Alembic environment for Témoin, run by ``storage.migrate`` (there is no alembic.ini).

Usual flow: ``storage.migrate`` opens an async engine (``storage.db.make_engine``, so
aiosqlite or asyncpg, with ``search_path`` set to the schema on PostgreSQL), and calls the
Alembic command inside ``AsyncConnection.run_sync``; the synchronous facade of that
connection arrives here as ``config.attributes["connection"]``. Without one (a tool calling
``alembic.command`` with a bare config), this module opens its own engine from
``config.attributes["url"]`` and ``["schema"]`` and runs the same steps with ``asyncio.run``.

On PostgreSQL with a schema, ``alembic_version`` and every table land in that schema because
the connection's ``search_path`` is that schema alone.

On SQLite, ALTERs are rendered as batch operations (copy the table, swap it in), and foreign
keys are switched off while migrations run: with them on, dropping the old copy of a table
would fire ``ON DELETE CASCADE`` on its children. They are checked and switched back on after.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

from storage.db import make_engine
from storage.models import Base
from storage.types import UTCDateTime

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render our column types as plain SQLAlchemy ones, so migrations do not import them.

    ``UTCDateTime`` only converts values in Python; in the database it is its ``impl``.
    """
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def do_run_migrations(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A no-op inside a transaction, hence the commit: Alembic then opens its own.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,
        compare_type=True,
        render_item=render_item,
    )
    try:
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
    if sqlite and broken:
        raise RuntimeError(f"migration left rows with dangling foreign keys: {broken[:5]}")


async def run_async_migrations(url: str, schema: str | None) -> None:
    engine = make_engine(url, schema=schema)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
        return
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: set config.attributes['url'] or sqlalchemy.url")
    asyncio.run(run_async_migrations(url, config.attributes.get("schema")))


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported; run them on a database")
run_migrations_online()
