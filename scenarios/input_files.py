"""Files a coordinator hands us: read whole, only when they are regular files of sane size.

    read_input(path, limit) --open (non-blocking: a FIFO does not wait for a writer)-->
        fstat: a regular file of at most ``limit`` bytes? --read--> bytes
        else InputFileError("… is a FIFO, not a regular file" / "… is larger than …")

``/dev/zero`` read until memory ran out and a FIFO blocked forever; a directory, a device,
a FIFO or a socket is now refused before one byte is read, and so is a file larger than its
limit (checked again while reading, for a file that grows). The limits are generous for
what each file holds (``LIMITS``).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Final

__all__ = ["LIMITS", "InputFileError", "read_input"]

LIMITS: Final = {
    # a national directory (35,000 communes, several services each) is ~30 MB
    "services": 128 * 2**20,
    # a campaign file or a scenario of the catalogue: a few kilobytes
    "campaign": 2**20,
    "scenario": 2**20,
    # a raw message: providers refuse more than 25 to 50 MB
    "message": 64 * 2**20,
}


class InputFileError(ValueError):
    """The file cannot be read as input; the message says why (without the path), in
    English. ``code`` and ``params`` say it to the reader (``input_file.<code>``):
    ``missing``, ``directory``, ``fifo``, ``device``, ``socket``, ``not_regular``,
    ``denied``, ``unreadable`` (``errno``) or ``unreadable_<kind>`` (``io``, ``loop``…),
    ``too_large`` (``limit``)."""

    def __init__(self, message: str, code: str = "", /, **params: str | int) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


def _not_regular(mode: int) -> InputFileError:
    if stat.S_ISDIR(mode):
        return InputFileError("is a directory", "directory")
    if stat.S_ISFIFO(mode):
        return InputFileError("is a FIFO, not a regular file", "fifo")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return InputFileError("is a device, not a regular file", "device")
    if stat.S_ISSOCK(mode):
        return InputFileError("is a socket, not a regular file", "socket")
    return InputFileError("is not a regular file", "not_regular")


# The operating system's reasons a reader may meet, said from the catalogue
# (``input_file.unreadable_<kind>``); any other is said with its number, which every
# language reads the same way, rather than the C library's English.
_OS_REASONS = {
    errno.EIO: "io",
    errno.ELOOP: "loop",
    errno.ENAMETOOLONG: "name_too_long",
    errno.ENOTDIR: "not_directory",
    errno.EMFILE: "too_many_open",
    errno.ENFILE: "too_many_open",
    errno.ENXIO: "no_device",
    errno.ENODEV: "no_device",
    errno.EAGAIN: "busy",
    errno.ESTALE: "stale",
}


def _unreadable(exc: OSError) -> InputFileError:
    if isinstance(exc, PermissionError):
        return InputFileError(f"cannot be read ({exc.strerror})", "denied")
    kind = _OS_REASONS.get(exc.errno or 0)
    code = f"unreadable_{kind}" if kind else "unreadable"
    return InputFileError(f"cannot be read ({exc.strerror})", code, errno=exc.errno or 0)


def _size(limit: int) -> str:
    return f"{limit // 2**20} MB" if limit >= 2**20 else f"{limit} bytes"


def read_input(path: Path, limit: int) -> bytes:
    """The bytes of ``path``, a regular file of at most ``limit`` bytes; else
    ``InputFileError`` (no such file, a directory, a FIFO, a device, too large)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise InputFileError("no such file", "missing") from None
    except IsADirectoryError:
        raise InputFileError("is a directory", "directory") from None
    except OSError as exc:
        raise _unreadable(exc) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _not_regular(info.st_mode)
        if info.st_size > limit:
            raise InputFileError(
                f"is larger than {_size(limit)} ({info.st_size} bytes)", "too_large",
                limit=limit // 2**20,
            )  # fmt: skip
        with os.fdopen(os.dup(fd), "rb") as stream:
            data = stream.read(limit + 1)
    except OSError as exc:
        raise _unreadable(exc) from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise InputFileError(f"is larger than {_size(limit)}", "too_large", limit=limit // 2**20)
    return data
