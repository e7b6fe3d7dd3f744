"""The map's rules, read from the code's own imports (function-level imports included).

The layout (README, Development): ``temoin/`` is the program; ``runners/`` the long-running
jobs; ``web/`` the back office and portal; ``bot/`` the auditors' bot; ``channels/`` the wire and
mail understanding; ``scenarios/`` the pure domain; ``storage/`` the only SQL; ``reports/`` the
figures; ``sim/`` the simulators and the demo. Arrows may only point the way ``ALLOWED`` says,
``sim/`` is imported only by the demo's entry points, ``scenarios/`` imports no I/O library, and
no module imports itself back through a circle.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("temoin", "runners", "web", "bot", "channels", "scenarios", "storage", "reports", "sim")

# Which of our packages each package may import (itself always).
ALLOWED: dict[str, set[str]] = {
    "temoin": {"runners", "web", "bot", "channels", "scenarios", "storage", "reports", "sim"},
    "runners": {"channels", "scenarios", "storage"},
    "web": {"reports", "runners", "scenarios", "storage", "channels"},
    "bot": {"scenarios", "storage"},
    "channels": {"scenarios", "storage"},
    "scenarios": set(),
    "storage": {"scenarios"},
    "reports": {"scenarios", "storage"},
    "sim": {"runners", "bot", "channels", "scenarios", "storage", "reports"},
}
# The only modules of the program allowed to import the simulators: `temoin demo` and
# `temoin sim` (the simulated provider and mailbox run alone, for rehearsals).
SIM_ENTRY_POINTS = {"temoin.demo", "temoin.demo_outputs", "temoin.cli.demo", "temoin.cli.sim"}
# Libraries that do I/O (network, database, processes, rendering): never in the domain.
IO_LIBRARIES = {
    "sqlalchemy", "asyncpg", "aiosqlite", "psycopg2", "aiosmtplib", "aiosmtpd", "aioimaplib",
    "smtplib", "imaplib", "socket", "ssl", "http", "urllib", "httpx", "telegram", "apscheduler",
    "subprocess", "weasyprint", "matplotlib", "openpyxl", "pyarrow", "starlette", "fastapi",
    "uvicorn",
}  # fmt: skip


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules_under(root: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        folder = root / package
        if folder.is_dir():
            for path in sorted(folder.rglob("*.py")):
                if "migrations" not in path.parts:
                    found[module_name(path, root)] = path
    return found


def imports_of(path: Path, root: Path = ROOT) -> Iterator[tuple[str, int]]:
    """Every module ``path`` imports, at any depth (lazy imports too), with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    here = module_name(path, root)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base, node.lineno
            for alias in node.names:
                yield f"{base}.{alias.name}", node.lineno


def top(name: str) -> str:
    return name.split(".", 1)[0]


def map_violations(modules: dict[str, Path], root: Path = ROOT) -> list[str]:
    """Arrows against the map, and simulators imported outside the demo's entry points."""
    wrong = []
    for name, path in modules.items():
        here = top(name)
        for imported, line in imports_of(path, root):
            there = top(imported)
            where = f"{path.relative_to(root)}:{line}"
            if there in PACKAGES and there != here and there not in ALLOWED[here]:
                wrong.append(f"{where}: {here}/ imports {imported}")
            elif there == "sim" and here != "sim" and name not in SIM_ENTRY_POINTS:
                wrong.append(f"{where}: {name} imports the simulators ({imported})")
    return wrong


def io_violations(modules: dict[str, Path], root: Path = ROOT) -> list[str]:
    return [
        f"{path.relative_to(root)}:{line}: imports {imported}"
        for name, path in modules.items()
        if top(name) == "scenarios"
        for imported, line in imports_of(path, root)
        if top(imported) in IO_LIBRARIES
    ]


def circles(modules: dict[str, Path], root: Path = ROOT) -> list[str]:
    """Import circles between our modules (``from a import b`` counts b when b is a module)."""
    graph = {
        name: {imp for imp, _ in imports_of(path, root) if imp in modules and imp != name}
        for name, path in modules.items()
    }
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []
    found: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                found.append(" -> ".join([*stack[stack.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


MODULES = modules_under(ROOT)


def test_the_packages_are_found() -> None:
    assert {"temoin.cli.app", "runners.dispatcher", "sim.demo.loop"} <= set(MODULES)


def test_arrows_follow_the_map() -> None:
    wrong = map_violations(MODULES)
    assert not wrong, "\n".join(wrong)


def test_the_domain_does_no_io() -> None:
    wrong = io_violations(MODULES)
    assert not wrong, "\n".join(wrong)


def test_no_import_circle() -> None:
    found = circles(MODULES)
    assert not found, "\n".join(found)


def test_the_rules_catch_each_kind_of_break(tmp_path: Path) -> None:
    """A small tree with one break of each kind, lazy imports included: each is reported."""
    files = {
        "reports/__init__.py": "",
        "reports/bad.py": "def f() -> None:\n    from temoin.settings import Settings\n",
        "temoin/__init__.py": "",
        "temoin/settings.py": "",
        "temoin/worker.py": "def g() -> None:\n    import sim.dovecot\n",
        "sim/__init__.py": "",
        "sim/dovecot.py": "",
        "scenarios/__init__.py": "",
        "scenarios/clock.py": "import socket\nfrom scenarios import plan\n",
        "scenarios/plan.py": "from scenarios.clock import x\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    modules = modules_under(tmp_path)
    wrong = map_violations(modules, tmp_path)
    assert any("reports/bad.py:2: reports/ imports temoin.settings" in w for w in wrong)
    assert any("temoin.worker imports the simulators" in w for w in wrong)
    assert io_violations(modules, tmp_path) == ["scenarios/clock.py:1: imports socket"]
    assert circles(modules, tmp_path) == ["scenarios.clock -> scenarios.plan -> scenarios.clock"]
