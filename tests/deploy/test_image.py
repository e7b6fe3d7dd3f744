"""The image's structure, cheaply: one runtime package list, a read-only root, a smoke check
that can read the Dockerfile. The smoke check itself (tools/smoke_image.py, a few minutes,
root and the network) runs before each release, not here: see the README, "Production".
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.tools_modules import ROOT, imagefile, rootfs

PACKAGE_LIST = ROOT / "tools" / "runtime-packages.txt"
TEMOIN_SERVICES = ("migrate", "worker", "bot")
REQUIRE_SERVERS = os.environ.get("TEMOIN_TEST_REQUIRE_SERVERS") == "1"


def runtime_packages() -> list[str]:
    lines = PACKAGE_LIST.read_text(encoding="utf-8").splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


def stages() -> list[Any]:
    return list(imagefile.parse_dockerfile((ROOT / "Dockerfile").read_text(encoding="utf-8")))


def final_stage_state() -> tuple[str, str, dict[str, str]]:
    """(USER, WORKDIR, ENV) of the image, as the smoke check's parser reads them."""
    user, workdir, env = "root", "/", {}
    for ins in stages()[-1].instructions:
        if ins.keyword == "USER":
            user = ins.args
        elif ins.keyword == "WORKDIR":
            workdir = str(Path(workdir, ins.args))
        elif ins.keyword == "ENV":
            env.update(imagefile.env_pairs(ins))
    return user, workdir, env


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_runtime_package_list_is_well_formed() -> None:
    packages = runtime_packages()
    assert packages, "no package"
    assert len(set(packages)) == len(packages), "a package is listed twice"
    for name in packages:
        assert re.fullmatch(r"[a-z0-9][a-z0-9+.-]+", name), f"not a Debian package name: {name}"
    # What WeasyPrint cannot do without: Pango, HarfBuzz's subsetter, a font.
    assert {"libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0"} <= set(packages)
    assert any(name.startswith("fonts-") for name in packages)


def test_the_image_and_ensure_servers_install_the_one_list() -> None:
    image = stages()[-1]
    copies = [imagefile.copy_args(i) for i in image.instructions if i.keyword == "COPY"]
    copied = [
        dest
        for stage, sources, dest in copies
        if stage is None and sources == ["tools/runtime-packages.txt"]
    ]
    assert len(copied) == 1, "the list copied once from the build context"
    runs = [i.args for i in image.instructions if i.keyword == "RUN"]
    installs = [r for r in runs if "apt-get install" in r]
    assert len(installs) == 1 and copied[0] in installs[0]
    assert "--no-install-recommends" in installs[0]
    # No second list: no package named in a RUN line, nor in ensure-servers.sh's code.
    ensure = (ROOT / "tools" / "ensure-servers.sh").read_text(encoding="utf-8")
    code = "\n".join(line.split("#")[0] for line in ensure.splitlines())
    assert "runtime-packages.txt" in code
    for name in runtime_packages():
        assert not any(name in run for run in runs), f"{name} named in a Dockerfile RUN"
        assert name not in code, f"{name} named in ensure-servers.sh"


def test_this_machine_has_what_the_image_has() -> None:
    """The suite's PDF tests ran against the libraries and fonts the image ships."""
    if shutil.which("dpkg-query") is None:
        if REQUIRE_SERVERS:
            pytest.fail("dpkg-query missing (TEMOIN_TEST_REQUIRE_SERVERS=1)")
        pytest.skip("not a Debian machine: tools/ensure-servers.sh cannot install the list")
    done = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package} ${db:Status-Status}\n", *runtime_packages()],
        capture_output=True,
        text=True,
        check=False,
    )
    installed = {
        line.split()[0] for line in done.stdout.splitlines() if line.endswith(" installed")
    }
    assert set(runtime_packages()) <= installed, "run tools/ensure-servers.sh"


def test_build_context_holds_what_the_dockerfile_copies() -> None:
    ignore = imagefile.DockerIgnore((ROOT / ".dockerignore").read_text(encoding="utf-8"))
    context = set(ignore.context_files(ROOT))
    names = [stage.name for stage in stages()]
    for index, stage in enumerate(stages()):
        for ins in (i for i in stage.instructions if i.keyword == "COPY"):
            source_stage, sources, _ = imagefile.copy_args(ins)
            if source_stage is not None:
                assert source_stage in names[:index], f"line {ins.line}: no stage before it"
                continue
            for source in sources:
                rel = source.strip("/")
                found = rel in ("", ".") or rel in context
                found = found or any(n.startswith(rel + "/") for n in context)
                assert found, f"line {ins.line}: {source} not in the build context"
    assert "tools/runtime-packages.txt" in context
    assert not any(n.startswith(("secrets/", ".venv/", "tests/", ".git/")) for n in context)


def test_the_smoke_check_can_stand_in_for_every_base() -> None:
    """Each FROM is a python:X.Y-slim-RELEASE the smoke check builds, or an earlier stage."""
    seen: list[str] = []
    for stage in stages():
        assert stage.base in seen or rootfs.BASE.match(stage.base), stage.base
        seen.append(stage.name or "")
    releases = {rootfs.BASE.match(s.base)["release"] for s in stages() if s.base not in seen}
    assert releases == {"bookworm"}, "runtime-packages.txt names bookworm's packages"


def test_compose_runs_the_image_read_only_with_var_writable(compose: dict[str, Any]) -> None:
    user, workdir, env = final_stage_state()
    assert user not in ("root", "0")
    var = str(Path(workdir, "var"))
    for name in TEMOIN_SERVICES:
        service = compose["services"][name]
        assert service.get("read_only") is True, f"{name}: read_only"
        assert "/tmp" in service.get("tmpfs", []), f"{name}: a tmpfs on /tmp"
        targets = [volume.split(":")[1] for volume in service.get("volumes", [])]
        assert var in targets, f"{name}: {var} on a volume"
        assert str(service.get("user", user)) not in ("root", "0", "0:0")
    # What writes outside var/ without being told: matplotlib's config and cache, fontconfig.
    for key in ("MPLCONFIGDIR", "XDG_CACHE_HOME"):
        assert env[key].startswith((var + "/", "/tmp/")), f"{key}={env.get(key)}"


@pytest.mark.parametrize(
    ("path", "excluded"),
    [
        ("secrets/postgres_password", True),
        ("storage/__pycache__/db.cpython-311.pyc", True),  # **/__pycache__
        ("__pycache__/x.pyc", True),
        ("prod.env", True),  # *.env, at the top only
        ("examples/prod.env", True),  # examples/ is out altogether
        ("temoin/settings.py", False),
        ("tools/runtime-packages.txt", False),
        ("varnish/x", False),  # "var" is a whole name, not a prefix
    ],
)
def test_dockerignore_matching(path: str, excluded: bool) -> None:
    ignore = imagefile.DockerIgnore((ROOT / ".dockerignore").read_text(encoding="utf-8"))
    assert ignore.excluded(path) is excluded


def test_dockerignore_exceptions_and_env_forms() -> None:
    ignore = imagefile.DockerIgnore("docs\n!docs/keep.md\n**/*.md\n")
    assert ignore.excluded("docs/a.txt")
    assert ignore.excluded("docs/keep.md")  # **/*.md comes after the exception and wins
    assert not imagefile.DockerIgnore("docs\n!docs/keep.md\n").excluded("docs/keep.md")
    line = imagefile.Instruction(1, "ENV", 'A=1 B="two words" C=')
    assert imagefile.env_pairs(line) == [("A", "1"), ("B", "two words"), ("C", "")]
    legacy = imagefile.Instruction(2, "ENV", "LANG C.UTF-8")
    assert imagefile.env_pairs(legacy) == [("LANG", "C.UTF-8")]
    with pytest.raises(imagefile.ImageFileError, match="line 3"):
        imagefile.env_pairs(imagefile.Instruction(3, "ENV", "PATH=/x:$PATH"))
    with pytest.raises(imagefile.ImageFileError, match="line 2: ADD"):
        imagefile.parse_dockerfile("FROM a\nADD x y\n")
