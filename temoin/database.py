"""Open the configured database: the one place that turns settings into a connection."""

from __future__ import annotations

from storage.db import Database
from temoin.settings import Settings


def open_database(settings: Settings) -> Database:
    """A ``Database`` for the settings, the password secret resolved now (never stored)."""
    return Database(settings.connection_url(), schema=settings.database_schema)
