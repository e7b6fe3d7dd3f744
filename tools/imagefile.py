"""The Dockerfile and .dockerignore read as data, for the smoke check and the tests.

Flow: ``parse_dockerfile(text)`` joins continued lines, drops comments and splits the file
into ``Stage``s (``FROM image [AS name]`` then its ``Instruction``s); ``env_pairs`` reads an
``ENV`` line; ``copy_args`` a ``COPY`` line; ``exec_form`` the JSON form of ``RUN``,
``ENTRYPOINT`` and ``CMD``. ``DockerIgnore`` says which paths of the build context Docker
leaves out (its patterns: ``*``, ``?``, ``**``, ``!`` exceptions, the last match wins).

Only what our Dockerfile uses is understood; anything else raises ``ImageFileError`` naming
the line, so that the smoke check never runs a step it misread.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

KNOWN = ("FROM", "ENV", "WORKDIR", "COPY", "RUN", "USER", "ENTRYPOINT", "CMD")


class ImageFileError(ValueError):
    """A Dockerfile line the smoke check does not understand."""


@dataclass(frozen=True)
class Instruction:
    line: int  # where it starts in the file, from 1
    keyword: str  # upper case
    args: str  # the rest, continued lines joined with a space


@dataclass
class Stage:
    base: str
    name: str | None
    line: int
    instructions: list[Instruction] = field(default_factory=list)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) of each instruction; comments and continuations resolved."""
    out: list[tuple[int, str]] = []
    parts: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not parts):
            continue  # a comment, even inside a continued instruction, as Docker does
        if not parts:
            start = number
        if stripped.endswith("\\"):
            parts.append(stripped[:-1].strip())
            continue
        parts.append(stripped)
        out.append((start, " ".join(p for p in parts if p)))
        parts = []
    if parts:
        out.append((start, " ".join(p for p in parts if p)))
    return out


def parse_dockerfile(text: str) -> list[Stage]:
    stages: list[Stage] = []
    for number, line in _logical_lines(text):
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        args = args.strip()
        if keyword not in KNOWN:
            raise ImageFileError(f"Dockerfile line {number}: {keyword} is not supported here")
        if keyword == "FROM":
            words = args.split()
            if len(words) == 1:
                stages.append(Stage(base=words[0], name=None, line=number))
            elif len(words) == 3 and words[1].upper() == "AS":
                stages.append(Stage(base=words[0], name=words[2], line=number))
            else:
                raise ImageFileError(f"Dockerfile line {number}: FROM image [AS name] expected")
            continue
        if not stages:
            raise ImageFileError(f"Dockerfile line {number}: {keyword} before any FROM")
        stages[-1].instructions.append(Instruction(number, keyword, args))
    if not stages:
        raise ImageFileError("Dockerfile: no FROM")
    return stages


def env_pairs(ins: Instruction) -> list[tuple[str, str]]:
    """``ENV A=1 B="two words"`` or the old ``ENV A value``; no ``$`` substitution."""
    if "$" in ins.args:
        raise ImageFileError(f"Dockerfile line {ins.line}: ENV with $ substitution")
    words = shlex.split(ins.args)
    if words and "=" not in words[0]:
        return [(words[0], ins.args.partition(" ")[2].strip())]
    pairs = []
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise ImageFileError(f"Dockerfile line {ins.line}: ENV {word!r} is not KEY=VALUE")
        pairs.append((key, value))
    return pairs


def copy_args(ins: Instruction) -> tuple[str | None, list[str], str]:
    """``COPY [--from=STAGE] SRC... DEST`` -> (stage, sources, destination)."""
    words = shlex.split(ins.args)
    source_stage = None
    while words and words[0].startswith("--"):
        flag = words.pop(0)
        if flag.startswith("--from="):
            source_stage = flag.partition("=")[2]
        else:
            raise ImageFileError(f"Dockerfile line {ins.line}: COPY {flag} is not supported")
    if len(words) < 2:
        raise ImageFileError(f"Dockerfile line {ins.line}: COPY SRC... DEST expected")
    return source_stage, words[:-1], words[-1]


def exec_form(ins: Instruction) -> list[str] | None:
    """The JSON array of ``RUN``/``ENTRYPOINT``/``CMD``; None for the shell form."""
    if not ins.args.startswith("["):
        return None
    try:
        value = json.loads(ins.args)
    except json.JSONDecodeError as exc:
        raise ImageFileError(f"Dockerfile line {ins.line}: {exc}") from exc
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ImageFileError(f"Dockerfile line {ins.line}: a JSON array of strings expected")
    return value


def _pattern(text: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(text):
        if text.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif text.startswith("**", i):
            out += ".*"
            i += 2
        elif text[i] == "*":
            out += "[^/]*"
            i += 1
        elif text[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(text[i])
            i += 1
    return re.compile(out + r"\Z")


class DockerIgnore:
    """Which context paths (relative, with ``/``) ``docker build`` leaves out."""

    def __init__(self, text: str) -> None:
        self.rules: list[tuple[bool, re.Pattern[str]]] = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            keep = line.startswith("!")
            line = line.lstrip("!").strip().strip("/")
            if line:
                self.rules.append((keep, _pattern(line)))

    def excluded(self, path: str) -> bool:
        """A path is out when it or a directory above it matches, the last rule winning."""
        parts = path.strip("/").split("/")
        out = False
        for depth in range(1, len(parts) + 1):
            prefix = "/".join(parts[:depth])
            for keep, pattern in self.rules:
                if pattern.match(prefix):
                    out = not keep
        return out

    def context_files(self, root: Path) -> list[str]:
        """Every file of the build context under ``root``, as relative paths."""
        # An excluded directory is not walked unless some "!" rule could bring a file back.
        prune = not any(keep for keep, _ in self.rules)
        found: list[str] = []

        def walk(directory: Path, prefix: str) -> None:
            for path in sorted(directory.iterdir()):
                rel = prefix + path.name
                if path.is_dir() and not path.is_symlink():
                    if not (prune and self.excluded(rel)):
                        walk(path, rel + "/")
                elif not self.excluded(rel):
                    found.append(rel)

        walk(root, "")
        return found
