"""What one dispatch run did, counted, with one line per provider and reason for the log.

Contacts are counted one by one; what happened to them is *said* once per provider and
reason: "127.0.0.1:2525: 44 contacts held until 09:02:38Z — provider unreachable since
09:02:03Z (connection refused), probe 3", not 44 lines. ``lines()`` is what the worker logs
after each run and ``temoin worker --once`` prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

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
    events: list[str] = field(default_factory=list)  # recoveries, lost copies: said as is

    def add(self, other: DispatchReport) -> None:
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)
        self.handled |= other.handled
        for key, note in other.notes.items():
            mine = self.notes.setdefault(key, _Note(note.text))
            mine.text = note.text
            mine.contacts += note.contacts
        self.events.extend(other.events)

    def note(self, provider: str, what: str, text: str) -> None:
        """One more contact under (``provider``, ``what``), described by ``text``."""
        entry = self.notes.setdefault((provider, what), _Note(text))
        entry.text = text
        entry.contacts += 1

    def counts(self) -> str:
        return ", ".join(f"{getattr(self, name)} {name.replace('_', ' ')}" for name in COUNTS)

    def lines(self) -> list[str]:
        """One line per provider and reason, then the events, in the order they happened."""
        out = []
        for (provider, _what), note in self.notes.items():
            plural = "s" if note.contacts > 1 else ""
            out.append(f"{provider}: {note.contacts} contact{plural} {note.text}")
        return out + self.events
