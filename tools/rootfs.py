"""Build a Dockerfile's stages as root file systems from Debian packages, without Docker.

Flow: ``Builder.build()`` reads the Dockerfile (``imagefile``); each stage gets a root file
system: a copy of an earlier stage, or a copy of the stand-in for its ``python:X.Y-slim-RELEASE``
base, made once by ``base_root``: Debian RELEASE from mmdebstrap (minbase, as
debian:RELEASE-slim), what the official image adds (ca-certificates, netbase, tzdata,
``PATH``, ``LANG``) and Debian's Python X.Y as a virtual environment at /usr/local, so that
``python`` and ``pip`` are where the official image has them. Then every instruction runs as
``docker build`` would: ENV, WORKDIR, USER, ENTRYPOINT, CMD are recorded; COPY copies from the
build context less .dockerignore, or ``--from`` an earlier stage, owned by root; RUN runs in a
chroot as the stage's USER (``in_root``: a private mount namespace with /dev, /proc and the
host's resolv.conf; pip there uses this machine's index, certificate and proxy settings, read
with ``pip config list``, as ``docker build`` uses its host's network).

``in_root`` also runs the finished image: read-only root, writable var/, tmpfs /tmp.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from imagefile import DockerIgnore, Instruction, copy_args, env_pairs, exec_form, parse_dockerfile

BASE = re.compile(r"python:(?P<python>3\.\d+)-slim-(?P<release>[a-z]+)\Z")
# What the official python:X.Y-slim-RELEASE image adds to debian:RELEASE-slim, less Python.
BASE_PACKAGES = ("ca-certificates", "netbase", "tzdata")
BASE_ENV = {
    "PATH": "/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
}
# As debian:RELEASE-slim is made: apt keeps no downloaded package, dpkg leaves out the docs.
_CLEAN = "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb || true"
SLIM_APT = (
    f'DPkg::Post-Invoke {{ "{_CLEAN}"; }}',
    f'APT::Update::Post-Invoke {{ "{_CLEAN}"; }}',
    'Dir::Cache::pkgcache ""',
    'Dir::Cache::srcpkgcache ""',
)
SLIM_DPKG = tuple(
    f"path-exclude=/usr/share/{folder}/*"
    for folder in ("doc", "man", "info", "groff", "lintian", "linda", "locale")
)
CA_IN_ROOT = "/run/smoke-image-ca.pem"  # the host's pip certificates, mounted for RUN only


class SmokeError(Exception):
    """A step or a check failed; the message says which and why."""


@dataclass
class State:
    """A stage: its root file system and what its next instruction, or ``docker run``, sees."""

    root: Path
    env: dict[str, str]
    workdir: str = "/"
    user: str = "root"
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Mounts:
    """What a process in the root sees besides the root itself (paths in the root)."""

    read_only: bool = False
    writable: tuple[str, ...] = ()  # directories left writable in a read-only root
    tmpfs: tuple[str, ...] = ()
    binds: tuple[tuple[Path, str], ...] = ()  # host path -> path in the root
    read_only_binds: tuple[str, ...] = ()  # those of the binds mounted read-only


def host(argv: list[str], log: Path | None = None) -> str:
    """Run a host command: its output appended to ``log``, or returned."""
    if log is None:
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode:
            raise SmokeError(f"{shlex.join(argv)}: exit {done.returncode}: {done.stderr.strip()}")
        return done.stdout
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n$ {shlex.join(argv)[:2000]}\n")
        out.flush()
        code = subprocess.run(
            argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=False
        ).returncode
    if code:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-30:]
        shown = shlex.join(argv)[-300:]
        raise SmokeError(f"…{shown}: exit {code}; end of {log}:\n" + "\n".join(tail))
    return ""


def pip_network() -> tuple[dict[str, str], Path | None]:
    """This machine's pip index, certificate and proxy settings, for pip inside a root."""
    found: dict[str, str] = {}
    listed = host([sys.executable, "-m", "pip", "config", "list"]).splitlines()
    # Files first, then the environment, which overrides them (as pip does).
    for line in sorted(listed, key=lambda item: item.startswith(":env:")):
        key, sep, value = line.partition("=")
        section, _, name = key.partition(".")
        if sep and section in ("global", "install", ":env:"):
            found[name] = value.strip().strip("'\"")
    proxies = ("http_proxy", "https_proxy", "no_proxy")
    env = {k: v for k, v in os.environ.items() if k.lower() in proxies}
    for key in ("index-url", "extra-index-url", "trusted-host", "proxy"):
        # A file: index is a folder of this machine, not of the root.
        values = [v for v in found.get(key, "").split() if not v.startswith("file:")]
        if values:
            env["PIP_" + key.upper().replace("-", "_")] = " ".join(values)
    cert = Path(found["cert"]) if found.get("cert") else None
    if cert is not None and cert.is_file():
        env["PIP_CERT"] = CA_IN_ROOT
        return env, cert
    return env, None


def passwd(root: Path, user: str) -> tuple[int, int, str]:
    """(uid, gid, home) of a user name or uid, from the root's own /etc/passwd."""
    for line in (root / "etc/passwd").read_text(encoding="utf-8").splitlines():
        name, _, uid, gid, _, home, _ = line.split(":")
        if user in (name, uid):
            return int(uid), int(gid), home
    if user.isdigit():
        return int(user), int(user), "/"
    raise SmokeError(f"USER {user}: no such user in the image's /etc/passwd")


def in_root(
    state: State,
    argv: list[str],
    mounts: Mounts,
    *,
    extra_env: dict[str, str] | None = None,
    log: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` in the root as the state's user and in its workdir, with ``mounts``.

    A private mount namespace (``unshare``): the mounts vanish with the process, and none
    of them is seen from the host. With ``log`` the output goes there and a failure raises.
    """
    root = state.root
    uid, gid, home = passwd(root, state.user)
    env = {"HOME": home, **state.env, **(extra_env or {})}

    def at(path: str) -> str:
        return shlex.quote(str(root / path.lstrip("/")))

    lines = ["set -e"]
    if mounts.read_only:
        lines.append(f"mount --bind {at('/')} {at('/')}")
    lines += [f"mount --rbind /dev {at('/dev')}", f"mount -t proc proc {at('/proc')}"]
    lines += [f"mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs {at(p)}" for p in mounts.tmpfs]
    for source, target in mounts.binds:
        lines.append(f"mount --bind {shlex.quote(str(source))} {at(target)}")
        if target in mounts.read_only_binds:
            lines.append(f"mount -o remount,bind,ro {at(target)}")
    lines += [f"mount --bind {at(p)} {at(p)}" for p in mounts.writable]
    if mounts.read_only:
        lines.append(f"mount -o remount,bind,ro {at('/')}")
    user = [] if uid == 0 else [f"--userspec={uid}:{gid}", f"--groups={gid}"]
    command = ["/usr/bin/env", "-i", *(f"{k}={v}" for k, v in env.items())]
    command += ["/bin/sh", "-c", 'cd -- "$1" && shift && exec "$@"', "sh", state.workdir, *argv]
    lines.append(shlex.join(["exec", "chroot", *user, str(root), *command]))
    outer = ["unshare", "--mount", "--propagation", "private", "--fork", "/bin/sh", "-c"]
    outer.append("\n".join(lines))
    if log is not None:
        host(outer, log)
        return subprocess.CompletedProcess(outer, 0, "", "")
    return subprocess.run(
        outer, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
    )


def base_root(image: str, dest: Path, log: Path) -> State:
    """The stand-in for ``python:X.Y-slim-RELEASE``: Debian RELEASE and its Python X.Y."""
    found = BASE.match(image)
    if not found:
        raise SmokeError(f"FROM {image}: the smoke check stands in for python:X.Y-slim-RELEASE")
    python = f"python{found['python']}"
    include = ",".join([*BASE_PACKAGES, python, f"{python}-venv"])
    # No mirror given: mmdebstrap's default Debian archive, with -updates and -security.
    mmdebstrap = ["mmdebstrap", "--variant=minbase", f"--include={include}"]
    mmdebstrap += [f"--aptopt={line}" for line in SLIM_APT]
    mmdebstrap += [f"--dpkgopt={line}" for line in SLIM_DPKG]
    host([*mmdebstrap, found["release"], str(dest)], log)
    state = State(root=dest, env=dict(BASE_ENV))
    in_root(state, [python, "-m", "venv", "/usr/local"], Mounts(), log=log)
    version = in_root(state, ["python", "--version"], Mounts()).stdout.strip()
    if not version.startswith(f"Python {found['python']}."):
        raise SmokeError(f"FROM {image}: the stand-in's Python is {version!r}")
    return state


def inside(root: Path, path: str) -> Path:
    """An absolute path of the image as a host path under ``root``; no symbolic link followed."""
    where = root
    for part in Path(path).parts[1:]:
        where = where / part
        if where.is_symlink():
            raise SmokeError(f"{path}: a symbolic link in the image; not followed")
    return where


class Builder:
    """Runs the Dockerfile's instructions, stage by stage, in root file systems under ``work``."""

    def __init__(self, dockerfile: Path, work: Path, say: Callable[[str], None]) -> None:
        self.dockerfile = dockerfile
        self.context = dockerfile.parent
        self.ignore = DockerIgnore((self.context / ".dockerignore").read_text(encoding="utf-8"))
        self.work = work
        self.log = work / "build.log"
        self.say = say
        self.net_env, self.cert = pip_network()
        self.built: dict[str, State] = {}
        self.bases: dict[str, Path] = {}

    def build(self) -> State:
        """Every stage in order; the last one is the image."""
        stages = parse_dockerfile(self.dockerfile.read_text(encoding="utf-8"))
        state: State | None = None
        last = {stage.base: index for index, stage in enumerate(stages)}
        for index, stage in enumerate(stages):
            started = time.monotonic()
            state = self.start(stage.base, index, last_use=last[stage.base] == index)
            for ins in stage.instructions:
                t0 = time.monotonic()
                self.run(state, ins)
                if ins.keyword in ("RUN", "COPY"):
                    shown = ins.args if len(ins.args) < 64 else ins.args[:63] + "…"
                    took = time.monotonic() - t0
                    self.say(f"  line {ins.line:>2}  {ins.keyword} {shown}  ({took:.1f} s)")
            self.built[stage.name or str(index)] = state
            took = time.monotonic() - started
            self.say(f"stage {index} ({stage.name or 'the image'}): built in {took:.0f} s")
        assert state is not None
        return state

    def start(self, base: str, index: int, last_use: bool) -> State:
        """The stage's root: a copy of its base (the base itself when no later stage needs it)."""
        root = self.work / f"stage-{index}"
        if base in self.built:
            host(["cp", "-a", str(self.built[base].root), str(root)])
            return replace(self.built[base], root=root, env=dict(self.built[base].env))
        if base not in self.bases:
            t0 = time.monotonic()
            self.bases[base] = self.work / f"base-{len(self.bases)}"
            base_root(base, self.bases[base], self.log)
            self.say(f"FROM {base}: stand-in root file system in {time.monotonic() - t0:.0f} s")
        if last_use:
            self.bases.pop(base).rename(root)
        else:
            host(["cp", "-a", str(self.bases[base]), str(root)])
        return State(root=root, env=dict(BASE_ENV))

    def run(self, state: State, ins: Instruction) -> None:
        if ins.keyword == "ENV":
            state.env.update(env_pairs(ins))
        elif ins.keyword == "WORKDIR":
            state.workdir = str(Path(state.workdir, ins.args))
            inside(state.root, state.workdir).mkdir(parents=True, exist_ok=True)
        elif ins.keyword == "USER":
            state.user = ins.args
        elif ins.keyword == "ENTRYPOINT":
            state.entrypoint = exec_form(ins) or ["/bin/sh", "-c", ins.args]
        elif ins.keyword == "CMD":
            state.cmd = exec_form(ins) or ["/bin/sh", "-c", ins.args]
        elif ins.keyword == "COPY":
            self.copy(state, ins)
        elif ins.keyword == "RUN":
            self.run_step(state, ins)

    def run_step(self, state: State, ins: Instruction) -> None:
        made: list[Path] = []
        binds: list[tuple[Path, str]] = []
        for source, target in ((Path("/etc/resolv.conf"), "/etc/resolv.conf"),
                               (self.cert, CA_IN_ROOT)):  # fmt: skip
            if source is None or not source.is_file():
                continue
            where = inside(state.root, target)
            if not where.exists():  # a file to mount on, removed after the step
                where.parent.mkdir(parents=True, exist_ok=True)
                where.touch()
                made.append(where)
            binds.append((source, target))
        argv = exec_form(ins) or ["/bin/sh", "-c", ins.args]
        try:
            in_root(state, argv, Mounts(binds=tuple(binds)), extra_env=self.net_env, log=self.log)
        finally:
            for path in made:
                path.unlink()

    def copy(self, state: State, ins: Instruction) -> None:
        """COPY: a directory's content, or files, to DEST (a folder if it ends in / or exists)."""
        stage, sources, dest = copy_args(ins)
        if stage is not None and stage not in self.built:
            raise SmokeError(f"Dockerfile line {ins.line}: no stage {stage} before it")
        target = inside(state.root, str(Path(state.workdir, dest)))
        context = self.ignore.context_files(self.context) if stage is None else []
        pairs: list[tuple[Path, str]] = []  # (host file, path under DEST; "" for DEST itself)
        for source in sources:
            rel = source.strip("/")
            if stage is None:
                found = self.from_context(rel, context)
            else:
                found = from_root(self.built[stage].root, rel)
            if not found:
                raise SmokeError(f"Dockerfile line {ins.line}: COPY {source}: nothing to copy")
            pairs += found
        for path, rel in pairs:
            if rel:
                out = target / rel
            elif dest.endswith("/") or target.is_dir():
                out = target / path.name
            else:
                out = target
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, out, follow_symlinks=False)

    def from_context(self, rel: str, context: list[str]) -> list[tuple[Path, str]]:
        if rel in context:  # a single file
            return [(self.context / rel, "")]
        if rel in ("", "."):
            return [(self.context / name, name) for name in context]
        prefix = rel + "/"
        return [(self.context / n, n[len(prefix) :]) for n in context if n.startswith(prefix)]


def from_root(root: Path, rel: str) -> list[tuple[Path, str]]:
    """A file, or a directory's files, of an earlier stage's root."""
    where = inside(root, "/" + rel)
    if where.is_file():
        return [(where, "")]
    files = [path for path in sorted(where.rglob("*")) if not path.is_dir()]
    return [(path, path.relative_to(where).as_posix()) for path in files]
