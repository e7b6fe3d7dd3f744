"""Secrets are references, never values: ``env:VARIABLE`` or ``file:/path/to/secret``.

A reference is resolved only at the moment of use (a connection opened, a mailbox logged in
to), so a container can take its secrets from ``/run/secrets`` and nothing stores or logs a
value. Settings validate references with ``check_secret_ref``; every runner, the bot and the
CLI resolve them with ``resolve_secret``.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

from pydantic_core import PydanticCustomError

__all__ = ["SecretError", "check_secret_ref", "resolve_secret"]


class SecretError(Exception):
    """A secret reference that cannot be resolved. ``code`` and ``params`` name the case for
    the reader (``secret.<code>``); the message is English, for logs."""

    def __init__(self, message: str, code: str = "", /, **params: str) -> None:
        super().__init__(message)
        self.code = code
        self.params = params

    def said(self, t: Any) -> str:
        """In the reader's language (``t``: a ``scenarios.i18n.Translator``)."""
        return t(f"secret.{self.code}", **self.params) if self.code else str(self)


def check_secret_ref(value: str) -> str:
    kind, sep, target = value.partition(":")
    if not sep or kind not in ("env", "file") or not target:
        raise PydanticCustomError(
            "secret_ref",
            "must be a reference, 'env:VARIABLE' or 'file:/path', never the secret itself",
        )
    return value


def resolve_secret(ref: str) -> str:
    """Read the secret a reference points to. The value is never logged or stored."""
    try:
        kind, _, target = check_secret_ref(ref).partition(":")
    except ValueError as exc:
        # Do not echo ``ref``: when it is not a reference, it may be the secret itself.
        raise SecretError(f"not a secret reference: {exc}", "not_ref") from exc
    if kind == "env":
        value = os.environ.get(target)
        if value is None:
            raise SecretError(f"environment variable {target} is not set", "env_missing",
                              name=target)  # fmt: skip
        if not value.strip():
            raise SecretError(f"environment variable {target} is empty", "env_empty", name=target)
        return value
    try:
        value = Path(target).read_text(encoding="utf-8").strip()
    except OSError as exc:
        code = {errno.ENOENT: "file_missing", errno.EACCES: "file_denied"}.get(
            exc.errno or 0, "file_unreadable"
        )
        raise SecretError(
            f"secret file {target} cannot be read: {exc.strerror}", code, path=target
        ) from exc
    except UnicodeDecodeError as exc:
        raise SecretError(
            f"secret file {target} is not UTF-8 text", "file_not_utf8", path=target
        ) from exc
    if not value:
        raise SecretError(f"secret file {target} is empty", "file_empty", path=target)
    return value
