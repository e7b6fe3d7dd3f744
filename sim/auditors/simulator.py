"""The simulated auditors of the demo: who is due, what they do next, and what the truth keeps.

    demo --add(task)--> SimulatedAuditors --next_due()--> demo sets the clock --act(now)-->
        each auditor due at ``now`` does one step through the local Bot API: its task's script
        (scripts.py, the grid in grid.py) presses a button or types an answer, waits until the
        bot has answered (talk.py), and yields the instant of its next step
    every finished task --> Truth.record_field (true timings, true answers, wrong inputs)
    a posted letter --> maybe a reply task, on a business day within ``LetterModel``'s range
        (never after the campaign's close: that letter stays unanswered, censored)

An auditor enrols with its invite code (``/start CODE``), then works through its tasks one at
a time: a task due while the previous one is still going starts two minutes after it ends.
Determinism: every draw comes from a generator seeded by (seed, contact, purpose).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from scenarios import events as ev
from scenarios.calendar import BusinessCalendar
from scenarios.catalog import Catalog
from scenarios.clock import Clock
from scenarios.i18n import Translator
from sim.auditors import scripts
from sim.auditors.talk import Settle, Talk, texts
from sim.auditors.tasks import AuditorError, AuditorStats, Identity, LetterModel, Run, Task
from sim.botapi import LocalBotApi, SimulatedUser
from sim.truth.journal import Truth
from sim.truth.records import FieldRecord

_BETWEEN_TASKS = timedelta(minutes=2)


@dataclass
class _Auditor:
    identity: Identity
    user: SimulatedUser
    queue: list[tuple[datetime, int, Task]] = field(default_factory=list)
    script: AsyncIterator[datetime] | None = None
    next_at: datetime | None = None
    free_at: datetime | None = None

    def due(self) -> datetime | None:
        if self.script is not None:
            return self.next_at
        if not self.queue:
            return None
        start = self.queue[0][0]
        return max(start, self.free_at) if self.free_at is not None else start


class SimulatedAuditors:
    """Every simulated auditor of the demo; one step per due auditor at each ``act``."""

    def __init__(
        self,
        api: LocalBotApi,
        clock: Clock,
        catalog: Catalog,
        truth: Truth,
        seed: int | str,
        *,
        settle: Settle,
        tz: ZoneInfo,
        letters: LetterModel | None = None,
        close_at: datetime | None = None,
    ) -> None:
        self.api = api
        self.clock = clock
        self.catalog = catalog
        self.truth = truth
        self.seed = seed
        self.settle = settle
        self.tz = tz
        self.letters = letters or LetterModel()
        self.close_at = close_at
        self.stats = AuditorStats()
        self.t = Translator("fr")
        self._auditors: dict[str, _Auditor] = {}
        self._runs: dict[str, Run] = {}
        self._sequence = itertools.count()
        self.talk = Talk(clock, self.t, settle, self.stats)
        self._letter_calendar = BusinessCalendar.for_departement(self.letters.departement)

    # -- enrolment and tasks -------------------------------------------------------------

    async def enrol(self, identity: Identity) -> None:
        """``/start CODE``: the bot must welcome the auditor by name."""
        user = self.api.user(identity.user_id, identity.name.split()[0], language_code="fr",
                             last_name=" ".join(identity.name.split()[1:]) or None)  # fmt: skip
        self._auditors[identity.key] = _Auditor(identity, user)
        run = Run(Task(0, "enrol", "", identity.key, self.clock.now()), user, random.Random())
        replies = await self.talk.send(run, lambda: user.send_command("/start", identity.code))
        if not any(identity.name in str(m.get("text", "")) for m in replies):
            raise AuditorError(f"{identity.key}: enrolment not confirmed: {texts(replies)}")

    def add(self, task: Task) -> None:
        auditor = self._auditors.get(task.auditor)
        if auditor is None:
            raise AuditorError(
                f"no enrolled auditor {task.auditor!r} for contact {task.contact_id}"
            )
        heapq.heappush(auditor.queue, (task.start, next(self._sequence), task))

    def next_due(self) -> datetime | None:
        due = [d for a in self._auditors.values() if (d := a.due()) is not None]
        return min(due) if due else None

    @property
    def pending(self) -> int:
        """Tasks queued or under way."""
        return sum(len(a.queue) + (a.script is not None) for a in self._auditors.values())

    async def act(self, now: datetime) -> int:
        """Every auditor due at ``now`` takes its next step (concurrently: one user each)."""
        due = [a for a in self._auditors.values() if (d := a.due()) is not None and d <= now]
        if not due:
            return 0
        await asyncio.gather(*(self._step(auditor, now) for auditor in due))
        return len(due)

    async def _step(self, auditor: _Auditor, now: datetime) -> None:
        if auditor.script is None:
            _, _, task = heapq.heappop(auditor.queue)
            auditor.script = self._script(auditor, task)
        try:
            following = await anext(auditor.script)
        except StopAsyncIteration:
            auditor.script, auditor.next_at = None, None
            auditor.free_at = now + _BETWEEN_TASKS
            return
        self.stats.steps += 1
        if following <= now:
            raise AuditorError(f"{auditor.identity.key}: a step at {following} is not after {now}")
        auditor.next_at = following

    # -- running the scripts ---------------------------------------------------------------

    def _rng(self, task: Task) -> random.Random:
        return random.Random(f"{self.seed}|auditor|{task.contact_id}|{task.step}")

    async def _script(self, auditor: _Auditor, task: Task) -> AsyncIterator[datetime]:
        run = Run(task, auditor.user, self._rng(task))
        previous = self._runs.get(f"{task.contact_id}") if task.step == "reply" else None
        if previous is not None:  # a letter's reply: its record goes on from the posting
            run.events, run.wrong, run.re_asked = (
                list(previous.events),
                previous.wrong,
                previous.re_asked,
            )
        if task.channel == "phone":
            steps = scripts.phone(self.talk, run, self.catalog)
        elif task.channel == "visit":
            steps = scripts.visit(self.talk, run, self.catalog)
        elif task.step == "post":
            steps = scripts.post(self.talk, run)
        else:
            steps = scripts.reply(self.talk, run)
        async for at in steps:
            yield at
        self._runs[f"{task.contact_id}"] = run
        self.truth.record_field(
            FieldRecord(
                contact_id=task.contact_id,
                channel=task.channel,
                auditor=task.auditor,
                events=tuple(run.events),
                answers=dict(run.answers),
                wrong_inputs=run.wrong,
                re_asked=run.re_asked,
                done=True,
            )
        )
        self.stats.tasks_done += 1
        key = f"{task.channel}:{task.step}" if task.channel == "letter" else task.channel
        self.stats.by_channel[key] = self.stats.by_channel.get(key, 0) + 1
        if task.step == "post":
            self._maybe_reply(task, run)

    def _maybe_reply(self, task: Task, run: Run) -> None:
        """Draw whether and when the collectivity's reply to a posted letter arrives."""
        model, rng = self.letters, random.Random(f"{self.seed}|letter-reply|{task.contact_id}")
        posted = next((at for kind, at in run.events if kind == ev.LETTER_POSTED), None)
        if posted is None or rng.random() >= model.reply_share:
            return
        calendar = self._letter_calendar
        day = calendar.add_business_days(calendar.local_date(posted),
                                         rng.randint(*model.reply_days))  # fmt: skip
        low, high = model.day_hours
        opens, closes = calendar.local_instant(day, low), calendar.local_instant(day, high)
        at = opens + timedelta(seconds=rng.randrange(int((closes - opens).total_seconds())))
        if self.close_at is not None and at >= self.close_at:
            return  # after the close: never logged, the letter stays unanswered (censored)
        reply = Task(task.contact_id, task.channel, task.scenario_id, task.auditor,
                     at.astimezone(UTC).replace(microsecond=0), step="reply")  # fmt: skip
        self.add(reply)
