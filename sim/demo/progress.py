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

from scenarios.formatting import Formats
from scenarios.i18n import Translator
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
        locale: str = "fr",
    ) -> None:
        # Bound to the stream of now: the commands the demo runs print into a buffer of theirs
        # meanwhile (sys.stdout redirected), which must not swallow a refresh of the panel.
        self.console = Console(file=console.file, highlight=False, width=console.width)
        self.database = database
        self.campaign_id = campaign_id
        self.start = start
        self.end = end
        self.tz = tz
        self.t = Translator(locale)
        self.f = Formats(locale, tz)
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
            self.console.print(f"{self.f.datetime(local)} | {self._line()}", highlight=False)

    def _of(self, done: int, total: int) -> str:
        return f"{self.f.number(done)}/{self.f.number(total)}"

    def _line(self) -> str:
        c, n = self.counts, self.f.number
        return self.t(
            "cli.demo.progress.line",
            emails=self._of(c.emails_sent, c.emails),
            replies=n(c.replies),
            field=self._of(c.field_done, c.field),
            letters=self._of(c.letters_posted, c.letters),
            answered=n(c.letters_answered),
        )

    def _panel(self, local: datetime, instant: datetime) -> Table:
        total = max(1.0, (self.end - self.start).total_seconds())
        done = min(total, max(0.0, (instant - self.start).total_seconds()))
        table = Table.grid(padding=(0, 2))
        c = self.counts
        t, n = self.t, self.f.number
        when = f"{self.f.long_date(local)} {self.f.time(local)} ({self.tz.key})"
        table.add_row(t("cli.demo.progress.simulated_time"), when)
        table.add_row(t("cli.demo.progress.emails"), self._of(c.emails_sent, c.emails))
        table.add_row(t("cli.demo.progress.replies"), n(c.replies))
        table.add_row(t("cli.demo.progress.field"), self._of(c.field_done, c.field))
        table.add_row(t("cli.demo.progress.posted"), self._of(c.letters_posted, c.letters))
        table.add_row(t("cli.demo.progress.answered"), n(c.letters_answered))
        real = t("cli.demo.progress.seconds", seconds=n(time.monotonic() - self._started))
        table.add_row(t("cli.demo.progress.real_time"), real)
        bar = ProgressBar(total=total, completed=done, width=50)
        table.add_row(t("cli.demo.progress.until_close"), bar)
        return table
