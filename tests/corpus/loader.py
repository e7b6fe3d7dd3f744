"""The evaluation corpus of real mail: its manifest read and every file checked.

    MANIFEST*.toml --tomllib--> one CorpusMessage per [[message]] --raw()--> bytes
                                  (path, label, source repository, path and commit,
                                   licence, sha256, language, vendor, provenance)

Each message is a file kept byte for byte as a public repository holds it (see README.md);
``raw()`` refuses a file whose sha256 is not the manifest's, so an edited message cannot
slip into the figures. Shared by the corpus tests (tests/channels/) and bench/classify.py.
A malformed manifest raises ``CorpusError`` naming the manifest and the entry.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

from channels.classify import Kind

CORPUS_DIR = Path(__file__).resolve().parent
MANIFEST = CORPUS_DIR / "MANIFEST.toml"
KINDS: tuple[str, ...] = get_args(Kind)
_REQUIRED = ("path", "label", "provenance", "language", "vendor", "repo", "source_path",
             "commit", "licence", "sha256")  # fmt: skip


class CorpusError(Exception):
    """The manifest or a corpus file is not what it should be."""


@dataclass(frozen=True, slots=True)
class CorpusMessage:
    path: str  # relative to the corpus folder
    label: str  # one of channels.classify's kinds
    provenance: str  # why this label: "source: …" (the source's own expectation) or "reader: …"
    language: str
    vendor: str  # MTA, client or auto-responder that wrote it, as far as known
    repo: str  # owner/name of the public repository
    source_path: str
    commit: str
    licence: str
    sha256: str
    relabel: str | None = None  # why the source's own label was not kept

    @property
    def source(self) -> str:
        """The unit held out in cross-source figures: the repository."""
        return self.repo

    def raw(self, root: Path = CORPUS_DIR) -> bytes:
        data = (root / self.path).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != self.sha256:
            raise CorpusError(f"{root / self.path}: sha256 {digest} is not the manifest's")
        return data


def manifests(root: Path = CORPUS_DIR) -> list[Path]:
    """``MANIFEST.toml`` and its companions (``MANIFEST-<batch>.toml``), in name order: each
    batch of messages is added with a manifest of its own."""
    return sorted(root.glob("MANIFEST*.toml"))


def load_corpus(manifest: Path | None = None) -> list[CorpusMessage]:
    """Every message of ``manifest`` (default: of every manifest), in manifest order."""
    messages: list[CorpusMessage] = []
    seen: set[str] = set()
    for path in [manifest] if manifest is not None else manifests():
        messages += _load_one(path, seen)
    return messages


def _load_one(manifest: Path, seen: set[str]) -> list[CorpusMessage]:
    try:
        with manifest.open("rb") as handle:
            entries = tomllib.load(handle).get("message", [])
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CorpusError(f"{manifest}: {exc}") from exc
    messages: list[CorpusMessage] = []
    for index, entry in enumerate(entries, 1):
        where = f"{manifest}: message {index} ({entry.get('path', 'no path')})"
        missing = [name for name in _REQUIRED if not entry.get(name)]
        if missing:
            raise CorpusError(f"{where}: missing {', '.join(missing)}")
        if entry["label"] not in KINDS:
            raise CorpusError(f"{where}: label {entry['label']!r} is not one of {KINDS}")
        if entry["path"] in seen:
            raise CorpusError(f"{where}: listed twice")
        seen.add(entry["path"])
        messages.append(
            CorpusMessage(**{name: entry.get(name) for name in (*_REQUIRED, "relabel")})
        )
    return messages


def unlisted_files(messages: Iterable[CorpusMessage], root: Path = CORPUS_DIR) -> list[str]:
    """Files in the corpus folders that the manifest does not list (forgotten or stray)."""
    listed = {message.path for message in messages}
    return sorted(
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and path.parent != root and str(path.relative_to(root)) not in listed
    )
