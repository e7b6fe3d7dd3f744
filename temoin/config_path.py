"""Which settings file is read: shared by the settings and by ``--help`` (which reads only
its ``locale``, before the settings are loaded)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def config_path(explicit: Path | None, environ: Mapping[str, str] = os.environ) -> Path | None:
    """``--config PATH``, else ``TEMOIN_CONFIG``, else ``./temoin.toml`` if present."""
    if explicit is not None:
        return explicit
    from_env = environ.get("TEMOIN_CONFIG")
    if from_env:
        return Path(from_env)
    default = Path("temoin.toml")
    return default if default.exists() else None
