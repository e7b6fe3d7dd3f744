"""Files written for people (exports, reports, letters): whole or not at all, regular files only.

    check_target(path)                       refuse now what cannot be written (one clear line)
    with open_output(path, mode) as stream:  a new file beside the target:
        stream.write(...)                      .NAME.<random>.partial, O_CREAT|O_EXCL|O_NOFOLLOW
                                               flushed and fsync'ed on a clean exit, then
    --> check_target(path) again --> os.replace(partial, path) --> the directory fsync'ed
    any error: the partial file removed, the target untouched

The target must be absent or a regular file: a symbolic link (whatever it points to), a
directory, a device such as ``/dev/full``, a FIFO or a socket is refused with an
``OutputError``, never followed nor replaced. The partial file has a random name and is
created exclusively without following links, so a link planted beside the target (an old
``.NAME.partial``) redirects nothing. Its mode is set explicitly (``PRIVATE`` = 0600 by
default, whatever the umask): what we write carries personal data (persona and service
names, addresses), and nobody else on the machine should read it.

``OutputError`` is the only error that leaves: an ``OSError`` of the writing is turned into
one, naming the file and the reason.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Final

__all__ = ["PRIVATE", "OutputError", "check_target", "open_output", "write_output"]

PRIVATE: Final = 0o600
_FLAGS: Final = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


# Why a file cannot be written, by reason code: the English of logs and ``str()``; the
# command line says it in the reader's language from ``cli.output.<reason>``.
REASONS: Final = {
    "no_directory": "directory {directory} does not exist",
    "no_name": "give a file name",
    "system": "{detail}",
    "symlink": "it is a symbolic link (refused: write to the real path)",
    "directory": "it is a directory (give a file name)",
    "fifo": "it is a FIFO, not a regular file",
    "device": "it is a device, not a regular file",
    "socket": "it is a socket, not a regular file",
    "not_regular": "it is not a regular file",
}


class OutputError(Exception):
    """A file we were asked to write cannot be written: ``path``, a ``reason`` code of
    ``REASONS`` and its ``params``; ``str()`` says it in English."""

    def __init__(self, path: Path, reason: str, **params: str) -> None:
        super().__init__(f"cannot write {path}: {REASONS[reason].format(**params)}")
        self.path = path
        self.reason = reason
        self.params = params


def _system(path: Path, exc: OSError) -> OutputError:
    return OutputError(path, "system", detail=str(exc.strerror or exc))


def _kind(mode: int) -> str | None:
    """Why a file of this mode cannot be a target (a ``REASONS`` code), or None."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "not_regular"


def check_target(path: Path) -> None:
    """Raise ``OutputError`` unless ``path`` can be written: its directory exists, and it
    is absent or a regular file (not a link, directory, device, FIFO or socket)."""
    parent = path.parent
    if not parent.is_dir():
        raise OutputError(path, "no_directory", directory=str(parent))
    if path.name in ("", ".", ".."):
        raise OutputError(path, "no_name")
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise _system(path, exc) from exc
    reason = _kind(mode)
    if reason is not None:
        raise OutputError(path, reason)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename durable; some file systems refuse to open a directory: best effort.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def open_output(path: Path, mode: int = PRIVATE) -> Iterator[BinaryIO]:
    """A binary stream whose content replaces ``path`` when the block ends without error."""
    path = Path(path)
    check_target(path)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(8)}.partial")
    try:
        fd = os.open(partial, _FLAGS, mode)
    except OSError as exc:
        raise _system(path, exc) from exc
    done = False
    try:
        os.fchmod(fd, mode)  # the umask may have taken bits off; never added any
        with os.fdopen(fd, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        check_target(path)  # what was there may have changed while we wrote
        os.replace(partial, path)
        done = True
        _fsync_directory(path.parent)
    except OSError as exc:
        raise _system(path, exc) from exc
    finally:
        if not done:
            with contextlib.suppress(OSError):
                os.unlink(partial)


def write_output(path: Path, data: bytes, mode: int = PRIVATE) -> None:
    """Write ``data`` to ``path`` through ``open_output``."""
    with open_output(path, mode) as stream:
        stream.write(data)
