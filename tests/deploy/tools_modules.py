"""The smoke check's own modules (tools/imagefile.py, tools/rootfs.py), loaded by path.

tools/ is a folder of scripts, not a package; the tests read the Dockerfile with the very
parser the smoke check uses, so that a Dockerfile it could not run fails here first.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "tools"


def load(name: str) -> ModuleType:
    """Import tools/<name>.py under its bare name, as the scripts import each other."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before running it: dataclasses look their module up
    spec.loader.exec_module(module)
    return module


imagefile = load("imagefile")
rootfs = load("rootfs")
