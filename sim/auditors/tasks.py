"""What the simulated auditors work on: who they are, their tasks, and a task under way.

Identity     an auditor: key, name, Telegram user id, the invite code given once
Task         a call, visit or letter (posting or reply) for one auditor, from ``start``
LetterModel  how collectivities answer letters: a share answers, after some business days
Run          a task under way: the draws, the timed presses, the grid answers meant, the
             wrong inputs typed and re-asked, and what the bot last said
AuditorStats what the demo's summary counts
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from sim.botapi import JSONDict, SimulatedUser


class AuditorError(RuntimeError):
    """The bot did not behave as a person using it would expect (the message says how)."""


@dataclass(frozen=True)
class Identity:
    key: str
    name: str
    user_id: int
    code: str  # the invite code, given once


@dataclass(frozen=True)
class Task:
    """A call, visit or letter for one auditor; ``start``: when the auditor gets to it."""

    contact_id: int
    channel: str  # phone | visit | letter
    scenario_id: str
    auditor: str
    start: datetime
    step: str = "field"  # field (phone, visit) | post | reply (letters)
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class LetterModel:
    """How collectivities answer letters: a share answers, after some business days."""

    reply_share: float = 0.6
    reply_days: tuple[int, int] = (2, 15)
    day_hours: tuple[time, time] = (time(9, 0), time(18, 30))
    departement: str = "75"  # whose business days (the auditor's mailbox is in Paris)


@dataclass
class Run:
    """A task under way: what the auditor did, and what the bot last said."""

    task: Task
    user: SimulatedUser
    rng: random.Random
    events: list[tuple[str, datetime]] = field(default_factory=list)
    answers: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    wrong: int = 0
    re_asked: int = 0
    last: list[JSONDict] = field(default_factory=list)


@dataclass
class AuditorStats:
    tasks_done: int = 0  # scripts finished (a letter counts its posting and its reply)
    steps: int = 0
    opened_without_button: int = 0  # a task not listed in « Mes tâches » (list capped at 10)
    by_channel: dict[str, int] = field(default_factory=dict)


def letter_post_time(printed_at: datetime, rng: random.Random) -> datetime:
    """When the auditor posts a printed letter: within the next hours, on a whole second."""
    return (printed_at + timedelta(minutes=rng.randint(10, 150))).replace(microsecond=0)
