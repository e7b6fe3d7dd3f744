"""What the demo shows while it runs: simulated date, emails sent, replies, field tasks.

On a terminal, a live panel (rich) refreshed a few times a second; otherwise (CI, a pipe)
one plain line per simulated day with activity. The counts are read from the database at
most every half second of real time, so the display costs the simulation nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table

from storage import demo as repo
from storage.db import Database

_REFRESH = 0.5  # real seconds between two reads of the counts


@dataclass
class Counts:
    emails: int = 0
    emails_sent: int = 0
    replies: int = 0
    field: int = 0
    field_done: int = 0
    letters: int = 0
    letters_posted: int = 0
    letters_answered: int = 0


class ProgressDisplay:
    def __init__(
        self,
        console: Console,
        database: Database,
        campaign_id: int,
        start: datetime,
        end: datetime,
        tz: ZoneInfo,
        *,
        live: bool,
    ) -> None:
        # Bound to the stream of now: the commands the demo runs print into a buffer of theirs
        # meanwhile (sys.stdout redirected), which must not swallow a refresh of the panel.
        self.console = Console(file=console.file, highlight=False, width=console.width)
        self.database = database
        self.campaign_id = campaign_id
        self.start = start
        self.end = end
        self.tz = tz
        self.counts = Counts()
        self._live = (
            Live(
                console=self.console,
                refresh_per_second=8,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            if live
            else None
        )
        self._read_at = 0.0
        self._day: str | None = None
        self._started = time.monotonic()

    def __enter__(self) -> ProgressDisplay:
        if self._live is not None:
            self._live.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.__exit__(kind, value, traceback)

    async def update(self, instant: datetime, force: bool) -> None:
        now = time.monotonic()
        if not force and now - self._read_at < _REFRESH:
            return
        self._read_at = now
        async with self.database.session() as session:
            by_status = await repo.status_counts(session, self.campaign_id)
            replies = await repo.inbound_count(session)
        c = Counts(replies=replies)
        for (channel, status), count in by_status.items():
            if channel == "email":
                c.emails += count
                c.emails_sent += count if status not in ("planned", "sending") else 0
            elif channel == "letter":
                c.letters += count
                c.letters_posted += count if status in ("posted", "acknowledged", "answered") else 0
                c.letters_answered += count if status == "answered" else 0
            else:
                c.field += count
                c.field_done += count if status == "done" else 0
        self.counts = c
        local = instant.astimezone(self.tz)
        if self._live is not None:
            self._live.update(self._panel(local, instant))
            return
        day = local.strftime("%Y-%m-%d")
        if day != self._day or force:
            self._day = day
            self.console.print(f"{local:%Y-%m-%d %a %H:%M} | {self._line()}", highlight=False)

    def _line(self) -> str:
        c = self.counts
        return (
            f"emails sent {c.emails_sent}/{c.emails} | replies {c.replies} | "
            f"calls and visits {c.field_done}/{c.field} | letters posted "
            f"{c.letters_posted}/{c.letters}, answered {c.letters_answered}"
        )

    def _panel(self, local: datetime, instant: datetime) -> Table:
        total = max(1.0, (self.end - self.start).total_seconds())
        done = min(total, max(0.0, (instant - self.start).total_seconds()))
        table = Table.grid(padding=(0, 2))
        c = self.counts
        table.add_row("simulated time", f"{local:%A %d %B %Y %H:%M} ({self.tz.key})")
        table.add_row("emails sent", f"{c.emails_sent} / {c.emails}")
        table.add_row("replies received", str(c.replies))
        table.add_row("calls and visits done", f"{c.field_done} / {c.field}")
        table.add_row("letters posted", f"{c.letters_posted} / {c.letters}")
        table.add_row("letters answered", str(c.letters_answered))
        table.add_row("real time", f"{time.monotonic() - self._started:.0f} s")
        table.add_row("until the close", ProgressBar(total=total, completed=done, width=50))
        return table
