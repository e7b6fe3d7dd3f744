"""Hostile files and an unreachable database give one clear line, never a traceback.

Campaign files with a 5,000-digit seed, arrays nested 5,000 deep (TOML and YAML) or a
window in year 9999; a services CSV with a 5,000-digit population; ``/dev/zero`` and a FIFO
given as input files (refused before a byte is read: they used to read until memory ran
out, or block forever, hence the subprocesses with a memory limit and a timeout); and every
command pointed at a database that does not answer.
"""

from __future__ import annotations

import logging
import os
import re
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import temoin.cli.app
from tests.conftest import DbTarget

EXAMPLES = Path(__file__).parents[2] / "examples"
HUGE = "9" * 5000


def _run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(temoin.cli.app.app, list(args), env=env)


def _clean(result: Result, *words: str, lines: int = 1, code: int = 1) -> None:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    shown = result.output.strip().splitlines()
    assert 1 <= len(shown) <= lines and shown[0].startswith("temoin: "), result.output
    for word in words:
        assert word in result.output, result.output


def _campaign(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_hostile_campaign_files(cli_env: DbTarget, tmp_path: Path) -> None:
    example = (EXAMPLES / "campaign.toml").read_text(encoding="utf-8")
    seed = "\n".join(
        f"seed = {HUGE}" if line.startswith("seed =") else line for line in example.splitlines()
    )
    deep = "imbrication trop profonde"
    cases = {
        "seed.toml": (seed, "un nombre est trop long"),
        "seed.yaml": (f"name: x\nseed: {HUGE}\n", "un nombre est trop long"),
        "deep.toml": ('name = "x"\nseed = 1\na = ' + "[" * 5000 + "]" * 5000, deep),
        "deep.yaml": ("name: x\nseed: 1\na: " + "[" * 5000 + "]" * 5000, deep),
        "year.toml": (
            re.sub(r"(?m)^end = .*$", "end = 9999-12-31",
                   re.sub(r"(?m)^start = .*$", "start = 9999-12-01", example)),
            "le 9999-12-01 n’est pas entre 2000 et 2100",
        ),
    }  # fmt: skip
    for name, (text, reason) in cases.items():
        path = _campaign(tmp_path, name, text)
        _clean(_run("campaign", "plan", str(path), "--dry-run"), reason, lines=2)


def test_a_population_of_5000_digits(cli_env: DbTarget, tmp_path: Path) -> None:
    header, first = (EXAMPLES / "services.csv").read_text(encoding="utf-8").splitlines()[:2]
    cells = first.split(";")
    cells[3] = HUGE
    path = tmp_path / "services.csv"
    path.write_text(f"{header}\n{';'.join(cells)}\n", encoding="utf-8")
    result = _run("import", "services", str(path))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert (
        "ligne 2, colonne population\u202f: la population «\u202f99999999999999999999…\u202f» "
        "dépasse 20\u202f000\u202f000"
    ) in result.output.replace("Population", "population")


def test_dates_out_of_range_on_the_command_line(cli_env: DbTarget) -> None:
    _clean(_run("letters", "print", "x", "--out", "x", "--until", "9999-12-31"), "--until")
    _clean(_run("campaign", "close", "x", "--at", "0001-01-01T00:00:00+05:00"), "--at")


def _limited(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``temoin ARGS`` in a process of its own, 3 GiB of address space, 60 seconds."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))

    return subprocess.run(
        [sys.executable, "-m", "temoin", *args], env=env, preexec_fn=limit,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_devices_and_fifos_are_refused_as_input_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fifo = tmp_path / "services.csv"
    os.mkfifo(fifo)
    # refused before any database is opened: none is needed
    monkeypatch.chdir(tmp_path)
    env = {**os.environ, "TEMOIN_DATABASE_URL": f"sqlite:///{tmp_path}/unused.db"}
    inspected = _limited(["mail", "inspect", "/dev/zero", str(fifo)], env)
    assert inspected.returncode == 1, inspected.stderr[-2000:]
    device = "c’est un périphérique, pas un fichier ordinaire"
    pipe = "c’est un tube nommé (FIFO), pas un fichier ordinaire"
    assert inspected.stderr.splitlines() == [
        f"temoin: /dev/zero\u202f: {device}",
        f"temoin: {fifo}\u202f: {pipe}",
    ]
    for source, reason in (("/dev/zero", device), (str(fifo), pipe)):
        imported = _limited(["import", "services", source], env)
        assert imported.returncode == 1, imported.stderr[-2000:]
        assert imported.stderr.splitlines() == [f"temoin: {source}\u202f: {reason}"]
    english = _limited(["import", "services", str(fifo)], {**env, "TEMOIN_LOCALE": "en"})
    assert english.stderr.splitlines() == [f"temoin: {fifo}: is a FIFO, not a regular file"]
    campaign = tmp_path / "campaign.toml"
    os.mkfifo(campaign)
    _clean(_run("campaign", "plan", str(campaign)), "c’est un tube nommé (FIFO)", lines=2)


UNREACHABLE = "postgresql://temoin@127.0.0.1:1/temoin"
COMMANDS = (
    ("campaign", "show", "x"),
    ("campaign", "plan", str(EXAMPLES / "campaign.toml"), "--dry-run"),
    ("campaign", "close", "x"),
    ("import", "services", str(EXAMPLES / "services.csv")),
    ("stats", "x"),
    ("export", "x", "--format", "csv", "--out", "{tmp}/x.csv"),
    ("report", "x", "--out", "{tmp}/x.html"),
    ("letters", "print", "x", "--out", "{tmp}/letters"),
    ("triage", "list"),
    ("triage", "ignore", "1"),
    ("review", "1"),
    ("personas", "list"),
    ("personas", "add", "claire", "--name", "Claire"),
    ("auditors", "list"),
    ("auditors", "invite", "--name", "Paul"),
    ("observations", "to-fix", "1", "q", "--reason", "r"),
    ("worker", "--once"),
    ("bot",),
)


@pytest.fixture
def logging_kept() -> Iterator[None]:
    """`temoin bot` and `temoin worker` point the root logger at the (captured, then closed)
    stderr of the command: put the handlers back so that later tests can log."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
@pytest.mark.usefixtures("logging_kept")
def test_every_command_says_in_one_line_that_the_database_does_not_answer(
    command: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in [k for k in os.environ if k.startswith("TEMOIN_") and "TEST" not in k]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TEMOIN_DATABASE_URL", UNREACHABLE)
    monkeypatch.setenv("TEMOIN_BOT_TOKEN", "env:BOT_TOKEN_VALUE")
    monkeypatch.setenv("BOT_TOKEN_VALUE", "123:abc")
    args = [part.replace("{tmp}", str(tmp_path)) for part in command]
    _clean(_run(*args), f"temoin: base de données {UNREACHABLE}\u202f: connexion impossible")


def test_a_sqlite_file_that_cannot_be_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("TEMOIN_DATABASE_URL", f"sqlite:///{blocker}/x.db")
    _clean(_run("stats", "x"), "impossible de créer")
    monkeypatch.setenv("TEMOIN_LOCALE", "en")
    _clean(_run("stats", "x"), "database sqlite:///", "cannot create")
