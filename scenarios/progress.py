"""Where a campaign stands: its state and, per channel, what was done, is due or is late.

Pure: the caller hands in the contacts' (channel, status, planned time, closed or not) and
"now" with the display zone. The state is derived from what happened, not from a stored word
(the stored one read ``planned`` all through a run):

    draft    no contact planned yet
    planned  contacts planned, none started, the window not begun
    running  a contact has started, or the window has begun
    closed   the campaign was closed (its open contacts are censored, nothing is due)

Per contact: *done* once it reached the service (an email accepted by the server, bounced or
not; a letter posted; a call or visit done, failed or cancelled); *answered* once a written
request got its answer; otherwise it is *due* today, *late* (planned on an earlier local day)
or *upcoming*, unless the campaign closed first (*not done at close*).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from scenarios.domain import Channel, ContactStatus

NOT_STARTED = frozenset({ContactStatus.PLANNED, ContactStatus.ASSIGNED})
DONE = frozenset(
    {
        ContactStatus.SENT,
        ContactStatus.ACKNOWLEDGED,
        ContactStatus.ANSWERED,
        ContactStatus.UNDELIVERABLE,
        ContactStatus.POSTED,
        ContactStatus.DONE,
        ContactStatus.FAILED,
        ContactStatus.CANCELLED,
    }
)
WRITTEN = frozenset({Channel.EMAIL, Channel.LETTER})
STATES = ("draft", "planned", "running", "closed")


@dataclass(frozen=True, slots=True)
class ContactState:
    channel: str
    status: str
    planned_at: datetime
    closed: bool


@dataclass(slots=True)
class ChannelProgress:
    """Counts for one channel; ``answered`` is ``None`` for calls and visits."""

    channel: str
    planned: int = 0
    done: int = 0
    due_today: int = 0
    late: int = 0
    upcoming: int = 0
    not_done_at_close: int = 0
    answered: int | None = None

    def as_dict(self) -> dict[str, int | str | None]:
        return {
            "channel": self.channel,
            "planned": self.planned,
            "done": self.done,
            "due_today": self.due_today,
            "late": self.late,
            "upcoming": self.upcoming,
            "not_done_at_close": self.not_done_at_close,
            "answered": self.answered,
        }


@dataclass(slots=True)
class Progress:
    state: str
    channels: list[ChannelProgress] = field(default_factory=list)

    @property
    def due_today(self) -> int:
        return sum(c.due_today for c in self.channels)

    @property
    def late(self) -> int:
        return sum(c.late for c in self.channels)


def campaign_state(
    *, closed: bool, contacts: int, started: int, window_start: date, today: date
) -> str:
    if closed:
        return "closed"
    if contacts == 0:
        return "draft"
    if started or today >= window_start:
        return "running"
    return "planned"


def progress(
    contacts: Iterable[ContactState],
    *,
    closed: bool,
    window_start: date,
    now: datetime,
    tz: ZoneInfo,
) -> Progress:
    """The campaign's state and its per-channel counts (channels in their usual order)."""
    today = now.astimezone(tz).date()
    per: dict[str, ChannelProgress] = {
        ch.value: ChannelProgress(ch.value, answered=0 if ch in WRITTEN else None) for ch in Channel
    }
    total = started = 0
    for c in contacts:
        entry = per.setdefault(c.channel, ChannelProgress(c.channel))
        total += 1
        entry.planned += 1
        status = ContactStatus(c.status)
        if status not in NOT_STARTED:
            started += 1
        if status == ContactStatus.ANSWERED and entry.answered is not None:
            entry.answered += 1
        if status in DONE:
            entry.done += 1
        elif c.closed or closed:
            entry.not_done_at_close += 1
        else:
            day = c.planned_at.astimezone(tz).date()
            if day < today:
                entry.late += 1
            elif day == today:
                entry.due_today += 1
            else:
                entry.upcoming += 1
    state = campaign_state(
        closed=closed, contacts=total, started=started, window_start=window_start, today=today
    )
    return Progress(state, list(per.values()))
