"""Outputs: regular files only, written whole, never through a symbolic link, not world-readable.

``temoin export`` (and its ``.meta.json`` sidecar), ``temoin report --out`` and ``temoin
letters print`` are pointed at what an attacker sharing the output folder could plant: a
link to a file of the victim's, a link at the old fixed partial name, a FIFO, a device, a
directory. Each is refused with one line (exit 1), or written around, and the victim's
file is never touched.
"""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import temoin.cli.app
from reports.outputs import OutputError, open_output, write_output
from tests.conftest import DbTarget
from tests.security.hostile import HostileCampaign, build_hostile_campaign
from tests.temoin.test_letters import _seed

VICTIM = b"the victim's own file\n"


def _build(target: DbTarget) -> HostileCampaign:
    async def build() -> HostileCampaign:
        db = target.database()
        try:
            return await build_hostile_campaign(db)
        finally:
            await db.dispose()

    return asyncio.run(build())


def _run(*args: str) -> Result:
    return CliRunner().invoke(temoin.cli.app.app, list(args))


def _export(out: Path, fmt: str = "csv") -> Result:
    return _run("export", "hostile", "--format", fmt, "--level", "contacts", "--out", str(out))


def _one_clean_line(result: Result, *words: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("temoin: "), result.output
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0], result.output


def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "victim" / "precious.txt"
    victim.parent.mkdir()
    victim.write_bytes(VICTIM)
    return victim


def _private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def test_export_refuses_a_link_at_the_target_and_at_the_sidecar(
    cli_env: DbTarget, tmp_path: Path
) -> None:
    _build(cli_env)
    victim = _victim(tmp_path)
    out = tmp_path / "contacts.csv"
    out.symlink_to(victim)
    _one_clean_line(_export(out), str(out), "lien symbolique")
    assert victim.read_bytes() == VICTIM and out.is_symlink()

    out.unlink()
    sidecar = tmp_path / "contacts.csv.meta.json"
    sidecar.symlink_to(victim)
    _one_clean_line(_export(out), "meta.json", "lien symbolique")
    assert victim.read_bytes() == VICTIM and sidecar.is_symlink()
    assert not out.exists()  # nothing half-written either


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_link_planted_at_the_partial_name_redirects_nothing(
    cli_env: DbTarget, tmp_path: Path, fmt: str
) -> None:
    _build(cli_env)
    victim = _victim(tmp_path)
    out = tmp_path / f"contacts.{fmt}"
    for planted in (f".{out.name}.partial", f"{out.name}.raw", f".{out.name}.partial.raw"):
        (tmp_path / planted).symlink_to(victim)
    result = _export(out, fmt)
    assert result.exit_code == 0, result.output
    assert victim.read_bytes() == VICTIM
    assert out.is_file() and not out.is_symlink() and _private(out)
    if fmt == "csv":
        sidecar = tmp_path / "contacts.csv.meta.json"
        assert sidecar.is_file() and _private(sidecar)


def test_export_refuses_a_fifo_a_device_and_a_directory(cli_env: DbTarget, tmp_path: Path) -> None:
    _build(cli_env)
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    _one_clean_line(_export(fifo), "FIFO", "pas un fichier ordinaire")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)

    folder = tmp_path / "folder"
    folder.mkdir()
    _one_clean_line(_export(folder), "c’est un dossier")
    assert folder.is_dir() and list(folder.iterdir()) == []
    _one_clean_line(_export(tmp_path / "missing" / "x.csv"), "n’existe pas")

    if os.geteuid() == 0:  # a character device like /dev/full (1, 7), made here
        device = tmp_path / "full.csv"
        os.mknod(device, stat.S_IFCHR | 0o600, os.makedev(1, 7))
        _one_clean_line(_export(device), "périphérique")
        assert stat.S_ISCHR(os.lstat(device).st_mode)


def test_report_refuses_a_link_and_writes_privately(cli_env: DbTarget, tmp_path: Path) -> None:
    _build(cli_env)
    victim = _victim(tmp_path)
    out = tmp_path / "national.html"
    out.symlink_to(victim)
    _one_clean_line(_run("report", "hostile", "--out", str(out)), "lien symbolique")
    assert victim.read_bytes() == VICTIM
    out.unlink()
    (tmp_path / ".national.html.partial").symlink_to(victim)
    result = _run("report", "hostile", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert victim.read_bytes() == VICTIM and out.is_file() and _private(out)
    folder = tmp_path / "folder.html"
    folder.mkdir()
    _one_clean_line(_run("report", "hostile", "--out", str(folder)), "dossier")


def test_letters_are_written_privately_and_never_through_a_link(
    cli_env: DbTarget, tmp_path: Path
) -> None:
    seeded = asyncio.run(_seed(cli_env))
    first = tmp_path / "first"
    result = _run("letters", "print", seeded.campaign, "--out", str(first))
    assert result.exit_code == 0, result.output
    (letter,) = list(first.iterdir())
    assert _private(letter) and stat.S_IMODE(first.stat().st_mode) & 0o077 == 0

    victim = _victim(tmp_path)
    second = tmp_path / "second"
    second.mkdir()
    (second / f"{letter.name}.part").symlink_to(victim)  # the old fixed partial name
    result = _run("letters", "print", seeded.campaign, "--out", str(second), "--reprint")
    assert result.exit_code == 0, result.output
    assert victim.read_bytes() == VICTIM
    assert (second / letter.name).is_file() and not (second / letter.name).is_symlink()

    third = tmp_path / "third"
    third.mkdir()
    (third / letter.name).symlink_to(victim)
    result = _run("letters", "print", seeded.campaign, "--out", str(third), "--reprint")
    assert result.exit_code == 1 and "lien symbolique" in result.output
    assert victim.read_bytes() == VICTIM


def test_a_failed_write_leaves_the_target_and_no_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"before")
    with pytest.raises(RuntimeError), open_output(target) as stream:
        stream.write(b"half")
        raise RuntimeError("the export failed half-way")
    assert target.read_bytes() == b"before"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]
    write_output(target, b"after")
    assert target.read_bytes() == b"after" and _private(target)
    with pytest.raises(OutputError, match="does not exist"):
        write_output(tmp_path / "nowhere" / "x", b"")
