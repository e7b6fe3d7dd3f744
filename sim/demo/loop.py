"""The demo's discrete-event loop: simulated time jumps from one due instant to the next.

    next instant = the earliest of
        an email step due (first send, retry, follow-up: storage/demo.py ``email_steps``),
        a reaction the simulated services scheduled (``SimulatedCollectivities.next_due``),
        an auditor's next step (``SimulatedAuditors.next_due``),
        the first letter of a day to print,
        the close of the campaign
    clock.set(instant), then, in this order:
        1. the services' reactions due are put into the mailboxes; the tracker syncs those
           mailboxes and every delivered message must be stored and processed before going
           on (a follow-up must never go out because a reply was not read yet);
        2. the day's letters are printed (`temoin letters print`), their posting queued;
        3. the dispatcher sends what is due (in this process, or: wait until the worker
           processes have claimed and recorded everything due at this instant);
        4. the services read what arrived and decide their reactions;
        5. the auditors due act through the bot.
    a coordinator triages the replies the tracker could not match, each business morning:
    `temoin triage match` (with `--as KIND` when the rules said another class) for what
    answers a request, knowing from the truth which one; `temoin triage ignore` for what
    answers nothing (a newsletter, a notification, spam, a report of success).

Nights and weekends cost nothing: nothing is due then, so the clock jumps over them. Every
instant is a whole second, so every time recorded is exact to the second.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from typing import Protocol
from zoneinfo import ZoneInfo

from channels.imap_watcher import WatchConfig
from runners.dispatcher import DispatchConfig, Dispatcher
from runners.tracker import Tracker, TrackingConfig
from scenarios.calendar import BusinessCalendar
from scenarios.domain import Channel
from sim.auditors.simulator import SimulatedAuditors
from sim.auditors.tasks import Task, letter_post_time
from sim.demo.world import DemoError, World
from sim.town_halls.simulator import ContactInfo, Delivery, SimulatedCollectivities
from storage import demo as repo
from storage.db import Database

_SECOND = timedelta(seconds=1)
_TRIAGE_TIME = dt_time(9, 30)
_WORKER_TIMEOUT = 60.0  # real seconds the workers may take for one instant


def whole_second_up(instant: datetime) -> datetime:
    instant = instant.astimezone(UTC)
    return instant if not instant.microsecond else instant.replace(microsecond=0) + _SECOND


@dataclass
class LoopStats:
    instants: int = 0
    dispatch_runs: int = 0
    pumps: int = 0
    deliveries: int = 0
    syncs: int = 0
    letter_prints: int = 0
    auditor_steps: int = 0
    triaged: int = 0  # replies the coordinator matched (or ignored) by hand
    opened_without_button: int = 0  # tasks beyond the ten « Mes tâches » lists
    real_seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)

    def timed(self, phase: str, seconds: float) -> None:
        self.phases[phase] = self.phases.get(phase, 0.0) + seconds


Progress = Callable[[datetime, bool], Awaitable[None]]  # (simulated instant, force a refresh)


class Commands(Protocol):
    """The coordinator's ``temoin`` commands, run in simulated time (given by ``temoin demo``:
    the simulation drives the real command line, it does not import it)."""

    async def run(self, *args: str, capture: bool = True) -> str: ...


class Simulation:
    def __init__(
        self,
        world: World,
        commands: Commands,
        *,
        campaign: str,
        close_at: datetime,
        dispatch: DispatchConfig,
        progress: Progress | None = None,
    ) -> None:
        assert world.simulator is not None and world.auditors is not None
        self.world = world
        self.database: Database = world.database
        self.clock = world.clock
        self.simulator: SimulatedCollectivities = world.simulator
        self.auditors: SimulatedAuditors = world.auditors
        self.commands = commands
        self.campaign = campaign
        self.campaign_id = world.campaign_id
        self.close_at = close_at
        self.progress = progress
        self.stats = LoopStats()
        self.tz = ZoneInfo(world.timezone)
        self.dispatcher: Dispatcher | None = None
        if not world.workers:
            self.dispatcher = Dispatcher(
                self.database, world.catalog, self.clock, dispatch,
                owner="demo", rng=random.Random(f"{world.spec.seed}|dispatch"),
            )  # fmt: skip
        self.tracker = Tracker(
            self.database,
            world.catalog,
            self.clock,
            TrackingConfig(watch=WatchConfig(timeout=30.0)),
        )
        self._email_due: datetime | None = None
        self._print_days: list[datetime] = []
        self._posting_queued: set[int] = set()
        self._triage_at: datetime | None = None
        self._rng = random.Random(f"{world.spec.seed}|letters")
        self._office = BusinessCalendar.for_departement("75")  # the coordinator works in Paris

    # -- the loop ----------------------------------------------------------------------------

    async def run(self) -> LoopStats:
        started = time.monotonic()
        await self._load_tasks()
        await self._refresh_email()
        while True:
            instant = self._next_instant()
            if instant is None or instant > self.close_at:
                break
            self.clock.set(instant)
            await self._tick(instant)
            if self.progress is not None:
                await self.progress(instant, False)
        self.clock.set(max(self.clock.now(), self.close_at))
        await self._final_sync()
        await self._triage()
        if self.progress is not None:
            await self.progress(self.clock.now(), True)
        self.stats.real_seconds = time.monotonic() - started
        self.stats.opened_without_button = self.auditors.stats.opened_without_button
        return self.stats

    def _next_instant(self) -> datetime | None:
        candidates = [
            self.simulator.next_due(),
            self._email_due,
            self.auditors.next_due(),
            self._print_days[0] if self._print_days else None,
            self._triage_at,
        ]
        known = [c for c in candidates if c is not None]
        if not known:
            return None
        instant = whole_second_up(min(known))
        now = self.clock.now()
        return instant if instant > now else now + _SECOND

    async def _tick(self, now: datetime) -> None:
        self.stats.instants += 1
        due = self.simulator.next_due()
        if due is not None and due <= now:
            await self._pump(now)
        if self._print_days and self._print_days[0] <= now:
            while self._print_days and self._print_days[0] <= now:
                self._print_days.pop(0)
            await self._print_letters(now)
        if self._email_due is not None and self._email_due <= now:
            await self._dispatch(now)
            await self._pump(now)
            await self._refresh_email()
        if self._triage_at is not None and self._triage_at <= now:
            await self._triage()
        due = self.auditors.next_due()
        if due is not None and due <= now:
            began = time.monotonic()
            self.stats.auditor_steps += await self.auditors.act(now)
            self.stats.timed("auditors", time.monotonic() - began)

    # -- mail --------------------------------------------------------------------------------

    async def _pump(self, now: datetime) -> None:
        began = time.monotonic()
        deliveries = await self.simulator.pump_async(now)
        self.stats.pumps += 1
        self.stats.timed("simulator", time.monotonic() - began)
        if deliveries:
            self.stats.deliveries += len(deliveries)
            await self._ingest(deliveries)
            await self._refresh_email()  # an answer cancels a follow-up

    async def _ingest(self, deliveries: Sequence[Delivery]) -> None:
        """Sync the mailboxes that got mail until every delivered message is processed."""
        began = time.monotonic()
        users = {d.reaction.mailbox_user for d in deliveries if d.reaction.mailbox_user}
        wanted = [str(d.reaction.reaction_message_id) for d in deliveries]
        personas = [
            p
            for p in await self.tracker.personas()
            if (p.username or p.email.split("@", 1)[0]) in users
        ]
        for attempt in range(4):
            for persona in personas:
                account = self.tracker.account(persona)
                if account is None:
                    raise DemoError(f"persona {persona.key}: no usable IMAP account")
                await self.tracker.watcher(persona, account).sync_once(census=attempt > 0)
                self.stats.syncs += 1
            async with self.database.session() as session:
                stored = await repo.stored_message_ids(session, wanted)
            missing = [mid for mid in wanted if mid not in stored]
            if not missing:
                break
            await asyncio.sleep(0.05 * (attempt + 1))
        else:
            raise DemoError(f"delivered but not stored by the tracker: {', '.join(missing[:5])}")
        if self._triage_at is None:
            async with self.database.session() as session:
                if await repo.pending_triage(session):
                    self._triage_at = self._next_morning(self.clock.now())
        self.stats.timed("tracking", time.monotonic() - began)

    def _next_morning(self, now: datetime) -> datetime:
        """The coordinator's next triage: 09:30 of a business day (Paris), after ``now``."""
        day = self._office.local_date(now)
        for _ in range(30):
            if self._office.is_business_day(day):
                at = self._office.local_instant(day, _TRIAGE_TIME).astimezone(UTC)
                if at > now:
                    return at
            day += timedelta(days=1)
        raise DemoError(f"no business day after {now}")

    async def _triage(self) -> None:
        """The coordinator's pass over the triage queue (the real commands)."""
        self._triage_at = None
        async with self.database.session() as session:
            pending = await repo.pending_triage(session)
        if not pending:
            return
        reactions = {r.reaction_message_id: r for r in self.world.truth.reactions}
        for message, header, classification in pending:
            reaction = reactions.get(header)
            request = reaction.expected_match if reaction is not None else None
            info = self.world.requests.get(request or "")
            if reaction is not None and info is not None and info.contact_id is not None:
                args = ["triage", "match", str(message), info.contact_id]
                if classification != reaction.kind:  # the person reads what the rules missed
                    args += ["--as", reaction.kind]
                await self.commands.run(*args)
            else:
                await self.commands.run("triage", "ignore", str(message))
            self.stats.triaged += 1
        await self._refresh_email()

    async def _final_sync(self) -> None:
        """Every mailbox once more (our own copies included), with a census."""
        errors = await self.tracker.sync_all(census=True)
        if errors:
            raise DemoError(f"final mailbox sync failed: {errors}")

    async def _dispatch(self, now: datetime) -> None:
        began = time.monotonic()
        self.stats.dispatch_runs += 1
        if self.dispatcher is not None:
            await self.dispatcher.run_once()
        else:
            await self._wait_for_workers(now)
        async with self.database.session() as session:
            index = await repo.request_index(session, self.campaign_id)
        self.world.requests.update(
            {mid: ContactInfo(scenario, str(cid)) for mid, (scenario, cid) in index.items()}
        )
        self.stats.timed("dispatch", time.monotonic() - began)

    async def _wait_for_workers(self, now: datetime) -> None:
        """Until no email step is due at ``now`` and no worker holds a lease."""
        deadline = time.monotonic() + _WORKER_TIMEOUT
        while True:
            async with self.database.session() as session:
                steps = await repo.email_steps(session, self.campaign_id)
            busy = [s for s in steps if s.leased or (s.due_at is not None and s.due_at <= now)]
            if not busy:
                return
            self.world.check_workers()
            if time.monotonic() > deadline:
                raise DemoError(f"the workers left {len(busy)} email steps due at {now}")
            await asyncio.sleep(0.01)

    async def _refresh_email(self) -> None:
        async with self.database.session() as session:
            steps = await repo.email_steps(session, self.campaign_id)
        due = [s.due_at for s in steps if s.due_at is not None]
        self._email_due = min(due) if due else None

    # -- auditors and letters ----------------------------------------------------------------

    async def _load_tasks(self) -> None:
        """Calls and visits at their planned time; the printing days of the letters."""
        async with self.database.session() as session:
            tasks = await repo.auditor_tasks(session, self.campaign_id)
        days: dict[object, datetime] = {}
        for task in tasks:
            if task.channel == Channel.LETTER.value:
                day = task.planned_at.astimezone(self.tz).date()
                days[day] = min(days.get(day, task.planned_at), task.planned_at)
                continue
            if task.auditor_key is None:
                continue  # nobody covers it: it stays planned, and is counted as not done
            self.auditors.add(
                Task(
                    task.contact_id,
                    task.channel,
                    task.scenario_id,
                    task.auditor_key,
                    task.planned_at,
                    latitude=task.latitude,
                    longitude=task.longitude,
                )
            )
        self._print_days = sorted(days.values())

    async def _print_letters(self, now: datetime) -> None:
        """`temoin letters print` for today's letters; each is posted within a few hours."""
        began = time.monotonic()
        await self.commands.run("letters", "print", self.campaign, "--out",
                                str(self.world.paths.letters))  # fmt: skip
        self.stats.letter_prints += 1
        async with self.database.session() as session:
            tasks = await repo.auditor_tasks(session, self.campaign_id)
        for task in tasks:
            if task.channel != Channel.LETTER.value or task.status != "printed":
                continue
            if task.contact_id in self._posting_queued or task.auditor_key is None:
                continue
            self._posting_queued.add(task.contact_id)
            start = letter_post_time(max(task.planned_at, now), self._rng)
            self.auditors.add(Task(task.contact_id, task.channel, task.scenario_id,
                                   task.auditor_key, start, step="post"))  # fmt: skip
        self.stats.timed("letters", time.monotonic() - began)
