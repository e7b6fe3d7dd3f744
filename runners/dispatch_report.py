"""What one dispatch run did, counted, with one line per provider and reason for the log.

Contacts are counted one by one; what happened to them is *said* once per provider and
reason: "127.0.0.1:2525: 44 contacts held until 09:02:38Z — provider unreachable since
09:02:03Z (connection refused), probe 3", not 44 lines. ``lines()`` is what the worker logs
after each run and ``temoin worker --once`` prints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

COUNTS = (
    "claimed",
    "sent",
    "recovered",
    "deferred",
    "retried",
    "held",
    "undeliverable",
    "lost_lease",
    "copied",
)


def hhmmss(instant: datetime) -> str:
    return instant.strftime("%H:%M:%SZ")


@dataclass
class _Note:
    text: str  # the latest wording (times move within a run; the count is what adds up)
    contacts: int = 0
    key: str = ""  # the reader's words: ``dispatch.note.<key>`` with ``params``
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Said:
    """A line in English (logs) and, with ``key``, in the reader's language
    (``dispatch.<key>`` with ``params``; ``reason``: an SMTP outcome's reason, said too)."""

    text: str
    key: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.text

    def said(self, t: Any) -> str:
        return said(t, self.key, self.params) if self.key else self.text


def reason_key(reason: str) -> str:
    """``"provider unreachable"`` -> ``dispatch.reason.provider_unreachable``."""
    return "dispatch.reason." + re.sub(r"[^a-z0-9]+", "_", reason.lower()).strip("_")


def said(t: Any, key: str, params: dict[str, Any]) -> str:
    """``dispatch.<key>`` with ``params``; a ``reason`` said from the catalogue when it has
    words there (kept as is otherwise)."""
    shown = dict(params)
    for name in ("decision", "stage"):
        if name in shown and t.has(f"dispatch.{name}.{shown[name]}"):
            shown[name] = t(f"dispatch.{name}.{shown[name]}")
    if "reason" in shown and t.has(reason_key(str(shown["reason"]))):
        shown["reason"] = t(reason_key(str(shown["reason"])))
    return str(t(f"dispatch.{key}", **shown))


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    recovered: int = 0
    deferred: int = 0
    retried: int = 0  # temporary refusals about the recipient (counted attempts)
    held: int = 0  # held for our side: provider unreachable or refusing, account, setup
    undeliverable: int = 0
    lost_lease: int = 0
    copied: int = 0  # copies filed in the Sent folder
    errors: list[str] = field(default_factory=list)
    handled: set[int] = field(default_factory=set, repr=False)
    notes: dict[tuple[str, str], _Note] = field(default_factory=dict)
    events: list[Said] = field(default_factory=list)  # recoveries, sweeps: in order
    # The errors for a reader, beside ``errors`` (English, for the log): one per error.
    said_errors: list[Said] = field(default_factory=list, repr=False)

    def add(self, other: DispatchReport) -> None:
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)
        self.said_errors.extend(other.said_errors)
        self.handled |= other.handled
        for key, note in other.notes.items():
            mine = self.notes.setdefault(key, _Note(note.text))
            mine.text, mine.key, mine.params = note.text, note.key, note.params
            mine.contacts += note.contacts
        self.events.extend(other.events)

    def note(self, provider: str, what: str, text: str, key: str = "", **params: Any) -> None:
        """One more contact under (``provider``, ``what``), described by ``text`` (and for
        the reader by ``dispatch.note.<key>`` with ``params``)."""
        entry = self.notes.setdefault((provider, what), _Note(text))
        entry.text, entry.key, entry.params = text, key, params
        entry.contacts += 1

    def error(self, text: str, key: str = "", **params: Any) -> None:
        """An error of the run: ``text`` for the log, ``dispatch.error.<key>`` for a reader."""
        self.errors.append(text)
        self.said_errors.append(Said(text, f"error.{key}" if key else "", params))

    def reader_errors(self) -> list[Said]:
        """The errors as a reader is told them (those appended as text: their text)."""
        said = iter(self.said_errors)  # in the order of ``errors``, some of them
        pending = next(said, None)
        out = []
        for text in self.errors:
            if pending is not None and pending.text == text:
                out.append(pending)
                pending = next(said, None)
            else:
                out.append(Said(text))
        return out

    def event(self, text: str, key: str = "", **params: Any) -> None:
        """Something that happened once in the run (``dispatch.event.<key>``)."""
        self.events.append(Said(text, f"event.{key}" if key else "", params))

    def counts(self) -> str:
        return ", ".join(f"{getattr(self, name)} {name.replace('_', ' ')}" for name in COUNTS)

    def lines(self, t: Any = None) -> list[str]:
        """One line per provider and reason, then the events, in the order they happened:
        English for the log, or in ``t``'s language (a ``Translator``) for a reader."""
        out = []
        for (provider, _what), note in self.notes.items():
            if t is not None and note.key:
                n = "one" if note.contacts == 1 else "many"
                what = said(t, f"note.{note.key}", note.params)
                out.append(t(f"dispatch.contacts_{n}", provider=provider, n=note.contacts,
                             what=what))  # fmt: skip
                continue
            plural = "s" if note.contacts > 1 else ""
            out.append(f"{provider}: {note.contacts} contact{plural} {note.text}")
        return out + [e.said(t) if t is not None else e.text for e in self.events]
