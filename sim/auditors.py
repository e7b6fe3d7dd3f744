"""Simulated auditors: scripted Telegram users driving the real bot, in simulated time.

    demo --add(task)--> SimulatedAuditors --next_due()--> demo sets the clock --act(now)-->
        each auditor due at ``now`` does one step through the local Bot API (LocalBotApi):
        presses a button or types an answer, waits until the bot has answered, and says when
        its next step comes (a script per task, an async generator yielding instants)
    every finished task --> Truth.record_field (true timings, true answers, wrong inputs)

An auditor enrols with its invite code (``/start CODE``), then works through its tasks one at
a time (a task due while the previous one is still going starts a little after it):

- **phone**: opens the task from « Mes tâches », presses « Appel lancé », and after the rings
  « Décroché » (or « Répondeur », « Pas de réponse », « Occupé »: called again 20 to 90
  minutes later, three attempts at most, then « Remplir la grille »); during the call maybe
  « Transféré », « En attente » then « Reprise »; « Raccroché »; then the grid.
- **visit**: « Arrivé » (or the shared position when the service's coordinates are known),
  « Pris en charge » after the wait, « Reparti » after the exchange; then the grid.
- **letter**: once printed, « Courrier posté » with « Aujourd'hui »; the collectivity answers
  some letters (``LetterModel``): on the day the reply comes, « Réponse reçue », « Aujourd'hui »
  and a photo of the reply, or « Sans photo ».

Every step is its own simulated instant: the demo sets the clock to it before the auditor
acts, so a press is timed by the bot to the second and the truth holds the same instant. Grid
answers agree with what happened (rings, waits, durations, transfer); the rest is drawn.
Some answers are first typed wrong on purpose (« douze » for a number, « deux minutes
trente » for a duration, « peut-être » for yes or no, an impossible date for a letter): the
bot must refuse them and ask again, which is counted (``re_asked``) and checked.

Determinism: every draw comes from a generator seeded by (seed, contact, purpose).
"""

from __future__ import annotations

import asyncio
import heapq
import io
import itertools
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image

from scenarios import events as ev
from scenarios.calendar import BusinessCalendar
from scenarios.catalog import Catalog
from scenarios.clock import Clock
from scenarios.grid import AnswerValue, Question, QuestionType
from scenarios.i18n import Translator
from sim.botapi import JSONDict, LocalBotApi, SimulatedUser
from sim.truth.journal import Truth
from sim.truth.records import PHOTO, FieldRecord

log = logging.getLogger(__name__)

Settle = Callable[[], Awaitable[None]]
_REPLY_TIMEOUT = 30.0  # real seconds the bot may take to answer one update
_BETWEEN_TASKS = timedelta(minutes=2)


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
class _Run:
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


@dataclass
class AuditorStats:
    tasks_done: int = 0  # scripts finished (a letter counts its posting and its reply)
    steps: int = 0
    opened_without_button: int = 0  # a task not listed in « Mes tâches » (list capped at 10)
    by_channel: dict[str, int] = field(default_factory=dict)


def _yes_no_text(value: bool, rng: random.Random) -> str:
    return rng.choice(("oui", "Oui", "OUI", "o")) if value else rng.choice(("non", "Non", "n"))


def _duration_text(seconds: int, rng: random.Random) -> str:
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d}" if not secs else f"{hours}:{minutes:02d}:{secs:02d}"
    if not minutes:
        return rng.choice((f"{secs} s", f"{secs} secondes", f"{secs}s"))
    if not secs:
        return rng.choice((f"{minutes} min", f"{minutes} minutes", f"{minutes}'"))
    return rng.choice((f"{minutes} min {secs:02d}", f"{minutes}'{secs:02d}",
                       f"{minutes}:{secs:02d}", f"{minutes} min {secs} s"))  # fmt: skip


_NUMBER_WORDS = ("zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf",
                 "dix", "onze", "douze")  # fmt: skip
_REMARKS = (
    "Accueil agréable, rien à signaler.",
    "L'agent a dû demander à une collègue avant de répondre.",
    "Beaucoup de bruit à l'accueil, difficile de s'entendre.",
    "Réponse claire, avec un document remis.",
    "On m'a conseillé de passer plutôt le matin.",
)


def jpeg(rng: random.Random, width: int = 96, height: int = 72) -> bytes:
    """A small photo (a plain colour): what an auditor's phone would send, minus the view."""
    colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


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
        self._runs: dict[str, _Run] = {}
        self._sequence = itertools.count()
        self._invalid_prefix = self.t("bot.grid.invalid", reason="")
        self._letter_calendar = BusinessCalendar.for_departement(self.letters.departement)

    # -- enrolment and tasks -------------------------------------------------------------

    async def enrol(self, identity: Identity) -> None:
        """``/start CODE``: the bot must welcome the auditor by name."""
        user = self.api.user(identity.user_id, identity.name.split()[0], language_code="fr",
                             last_name=" ".join(identity.name.split()[1:]) or None)  # fmt: skip
        self._auditors[identity.key] = _Auditor(identity, user)
        run = _Run(Task(0, "enrol", "", identity.key, self.clock.now()), user, random.Random())
        replies = await self._send(run, lambda: user.send_command("/start", identity.code))
        if not any(identity.name in str(m.get("text", "")) for m in replies):
            raise AuditorError(f"{identity.key}: enrolment not confirmed: {self._texts(replies)}")

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

    # -- scripts -----------------------------------------------------------------------------

    def _rng(self, task: Task) -> random.Random:
        return random.Random(f"{self.seed}|auditor|{task.contact_id}|{task.step}")

    async def _script(self, auditor: _Auditor, task: Task) -> AsyncIterator[datetime]:
        run = _Run(task, auditor.user, self._rng(task))
        previous = self._runs.get(f"{task.contact_id}") if task.step == "reply" else None
        if previous is not None:  # a letter's reply: its record goes on from the posting
            run.events, run.wrong, run.re_asked = (
                list(previous.events),
                previous.wrong,
                previous.re_asked,
            )
        if task.channel == "phone":
            steps = self._phone(run)
        elif task.channel == "visit":
            steps = self._visit(run)
        elif task.step == "post":
            steps = self._post(run)
        else:
            steps = self._reply(run)
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

    async def _open(self, run: _Run) -> None:
        """« Mes tâches », then the task's button (its card and buttons come back)."""
        listing = await self._send(run, lambda: run.user.send_text(self.t("bot.menu.tasks")))
        data = f"o:{run.task.contact_id}"
        holder = next((m for m in reversed(listing) if data in self._data(m)), None)
        if holder is None:
            # « Mes tâches » lists at most ten upcoming tasks: the auditor, letter in hand,
            # asks for that task (the same callback the bot would have offered).
            self.stats.opened_without_button += 1
            target = next((m for m in reversed(listing) if "message_id" in m), None)
            if target is None:
                raise AuditorError(f"contact {run.task.contact_id}: no task list")
            message_id = int(target["message_id"])
            await self._press_with(run, lambda: run.user.press_data(data, message_id))
            return
        await self._press(run, data)

    async def _phone(self, run: _Run) -> AsyncIterator[datetime]:
        rng, at = run.rng, self.clock.now()
        await self._open(run)
        picked = False
        attempts = 1 if rng.random() < 0.78 else rng.randint(2, 3)
        outcome = "na"
        for attempt in range(1, attempts + 1):
            at += timedelta(seconds=rng.randint(8, 60))
            yield at
            await self._timed(run, self.t("bot.button.call_started"), ev.CALL_STARTED, at)
            started = at
            last = attempt == attempts
            picked = last and rng.random() < 0.9
            rings = rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5, 6, 8)) if picked else rng.randint(4, 12)
            at += timedelta(seconds=rings * 5 + rng.randint(0, 4))
            yield at
            if picked:
                await self._timed(run, self.t("bot.button.picked_up"), ev.CALL_PICKED_UP, at)
                voice_server = rng.randint(15, 110) if rng.random() < 0.3 else 0
                run.facts |= {"rings": rings, "wait": int((at - started).total_seconds())
                              + voice_server, "started": started}  # fmt: skip
                break
            outcome = rng.choice(("na", "na", "busy", "vm"))
            kind = {"na": ev.CALL_NO_ANSWER, "busy": ev.CALL_BUSY, "vm": ev.CALL_VOICEMAIL}
            label = {"na": "bot.button.no_answer", "busy": "bot.button.busy",
                     "vm": "bot.button.voicemail"}[outcome]  # fmt: skip
            await self._timed(run, self.t(label), kind[outcome], at)
            if not last:
                at += timedelta(minutes=rng.randint(20, 90))
        run.facts["picked"] = picked
        if not picked:
            run.facts["no_answer"] = {"na": "sonnerie", "busy": "occupe"}.get(
                outcome, rng.choice(("repondeur_utile", "repondeur_vide"))
            )
            at += timedelta(seconds=rng.randint(20, 120))
            yield at
            await self._press(run, self.t("bot.button.fill_grid"))
        else:
            transferred = rng.random() < 0.3
            if transferred:
                at += timedelta(seconds=rng.randint(15, 90))
                yield at
                await self._timed(run, self.t("bot.button.transferred"), ev.CALL_TRANSFERRED, at)
            if rng.random() < 0.25:
                at += timedelta(seconds=rng.randint(10, 120))
                yield at
                await self._timed(run, self.t("bot.button.on_hold"), ev.CALL_ON_HOLD, at)
                at += timedelta(seconds=rng.randint(20, 300))
                yield at
                await self._timed(run, self.t("bot.button.resumed"), ev.CALL_RESUMED, at)
            at += timedelta(seconds=rng.randint(45, 480))
            yield at
            await self._timed(run, self.t("bot.button.hung_up"), ev.CALL_HUNG_UP, at)
            run.facts |= {"transferred": transferred,
                          "duration": int((at - run.facts["started"]).total_seconds())}  # fmt: skip
        async for step in self._grid(run, at):
            yield step

    async def _visit(self, run: _Run) -> AsyncIterator[datetime]:
        rng, at, task = run.rng, self.clock.now(), run.task
        await self._open(run)
        at += timedelta(seconds=rng.randint(5, 90))
        yield at
        if task.latitude is not None and task.longitude is not None and rng.random() < 0.4:
            lat = task.latitude + rng.uniform(-0.0004, 0.0004)
            lon = task.longitude + rng.uniform(-0.0004, 0.0004)
            await self._send(run, lambda: run.user.send_location(lat, lon))
            run.events.append((ev.VISIT_ARRIVED, at))
        else:
            await self._timed(run, self.t("bot.button.arrived"), ev.VISIT_ARRIVED, at)
        arrived = at
        people = rng.choice((0, 0, 1, 1, 2, 3, 4, 6))
        at += timedelta(seconds=rng.randint(20, 90) + people * rng.randint(60, 300))
        yield at
        await self._timed(run, self.t("bot.button.served"), ev.VISIT_SERVED, at)
        served = at
        at += timedelta(seconds=rng.randint(120, 1200))
        yield at
        await self._timed(run, self.t("bot.button.left"), ev.VISIT_LEFT, at)
        run.facts |= {"people": people, "wait": int((served - arrived).total_seconds()),
                      "duration": int((at - served).total_seconds())}  # fmt: skip
        async for step in self._grid(run, at):
            yield step

    async def _post(self, run: _Run) -> AsyncIterator[datetime]:
        rng, at = run.rng, self.clock.now()
        await self._open(run)
        at += timedelta(seconds=rng.randint(5, 40))
        yield at
        await self._press(run, self.t("bot.button.letter_posted"))
        if rng.random() < 0.15:  # a date that does not exist: the bot must ask again
            at += timedelta(seconds=rng.randint(5, 20))
            yield at
            run.wrong += 1
            replies = await self._send(run, lambda: run.user.send_text("31/02/2026"))
            if any(self.t("bot.letter.bad_date") in str(m.get("text", "")) for m in replies):
                run.re_asked += 1
        at += timedelta(seconds=rng.randint(3, 25))
        yield at
        await self._timed(run, self.t("bot.button.today"), ev.LETTER_POSTED, at)

    async def _reply(self, run: _Run) -> AsyncIterator[datetime]:
        rng, at = run.rng, self.clock.now()
        await self._open(run)
        at += timedelta(seconds=rng.randint(5, 40))
        yield at
        await self._press(run, self.t("bot.button.reply_received"))
        at += timedelta(seconds=rng.randint(3, 25))
        yield at
        await self._timed(run, self.t("bot.button.today"), ev.LETTER_REPLY_RECEIVED, at)
        at += timedelta(seconds=rng.randint(10, 60))
        yield at
        if rng.random() < 0.4:
            photo = jpeg(rng)
            await self._send(run, lambda: run.user.send_photo(photo, width=96, height=72))
        else:
            await self._press(run, self.t("bot.button.no_photo"))

    def _maybe_reply(self, task: Task, run: _Run) -> None:
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

    # -- the grid --------------------------------------------------------------------------

    async def _grid(self, run: _Run, at: datetime) -> AsyncIterator[datetime]:
        scenario = self.catalog.get(run.task.scenario_id)
        grid = scenario.grid
        summary = f"k:{run.task.contact_id}"
        for _ in range(3 * len(grid) + 3):
            if any(summary in self._data(m) for m in run.last):
                at += timedelta(seconds=run.rng.randint(5, 40))
                yield at
                replies = await self._press(run, self.t("bot.button.validate"))
                done = self.t("bot.summary.done")
                if not any(done in str(m.get("text", "")) for m in replies):
                    raise AuditorError(f"contact {run.task.contact_id}: grid not validated: "
                                       f"{self._texts(replies)}")  # fmt: skip
                return
            question = self._asked(run.last, grid)
            if question is None:
                raise AuditorError(f"contact {run.task.contact_id}: no question in "
                                   f"{self._texts(run.last)}")  # fmt: skip
            at += timedelta(seconds=run.rng.randint(3, 30))
            yield at
            await self._answer(run, grid, question)
        raise AuditorError(f"contact {run.task.contact_id}: the grid never ended")

    def _asked(self, messages: Sequence[JSONDict], grid: Sequence[Question]) -> Question | None:
        for message in reversed(messages):
            first = str(message.get("text", "")).split("\n", 1)[0]
            found = [q for q in grid if first.endswith(q.label)]
            if found:
                return max(found, key=lambda q: len(q.label))
        return None

    async def _answer(self, run: _Run, grid: Sequence[Question], question: Question) -> None:
        rng = run.rng
        value = self._value(run, question)
        run.answers[question.id] = PHOTO if question.type == QuestionType.PHOTO and value else value
        wrong = self._wrong_text(question, rng)
        if wrong is not None:
            run.wrong += 1
            replies = await self._send(run, lambda: run.user.send_text(wrong))
            if replies and str(replies[0].get("text", "")).startswith(self._invalid_prefix):
                run.re_asked += 1
            if self._asked(replies, grid) != question:
                raise AuditorError(f"contact {run.task.contact_id}: {question.id} not asked again "
                                   f"after {wrong!r}: {self._texts(replies)}")  # fmt: skip
        if value is None:
            if rng.random() < 0.7:
                await self._press(run, self.t("bot.button.skip"))
            else:
                await self._send(run, lambda: run.user.send_text(rng.choice(("-", "passer"))))
            return
        typed = rng.random() < 0.2
        match question.type:
            case QuestionType.YES_NO:
                assert isinstance(value, bool)
                if typed:
                    text = _yes_no_text(value, rng)
                    await self._send(run, lambda: run.user.send_text(text))
                else:
                    await self._press(run, self.t("common.yes" if value else "common.no"))
            case QuestionType.CHOICE:
                index = question.choice_values().index(str(value))
                if typed:
                    text = str(index + 1) if rng.random() < 0.5 else question.choices[index].label
                    await self._send(run, lambda: run.user.send_text(text))
                else:
                    await self._press(run, question.choices[index].label)
            case QuestionType.INTEGER:
                await self._send(run, lambda: run.user.send_text(str(value)))
            case QuestionType.DURATION:
                assert isinstance(value, int)
                text = _duration_text(value, rng)
                await self._send(run, lambda: run.user.send_text(text))
            case QuestionType.TEXT:
                await self._send(run, lambda: run.user.send_text(str(value)))
            case QuestionType.PHOTO:
                photo = jpeg(rng)
                await self._send(run, lambda: run.user.send_photo(photo, width=96, height=72))

    def _value(self, run: _Run, question: Question) -> AnswerValue:
        """The true answer: what happened when the buttons say it, a plausible draw otherwise."""
        rng, facts, qid = run.rng, run.facts, question.id
        if not question.required and question.type in (QuestionType.PHOTO, QuestionType.TEXT):
            if rng.random() < 0.7:
                return None
            return "photo" if question.type == QuestionType.PHOTO else rng.choice(_REMARKS)
        known: dict[str, AnswerValue] = {
            "picked_up": facts.get("picked"),
            "no_answer": facts.get("no_answer"),
            "rings": facts.get("rings"),
            "wait_before_human": facts.get("wait") if run.task.channel == "phone" else None,
            "wait": facts.get("wait") if run.task.channel == "visit" else None,
            "transferred": facts.get("transferred"),
            "call_duration": facts.get("duration") if run.task.channel == "phone" else None,
            "visit_duration": facts.get("duration") if run.task.channel == "visit" else None,
            "people_waiting": facts.get("people"),
            "open": True if run.task.channel == "visit" else None,
        }
        value = known.get(qid)
        if value is not None and question.type != QuestionType.CHOICE:
            return self._bounded(question, value)
        match question.type:
            case QuestionType.YES_NO:
                return rng.random() < 0.75
            case QuestionType.CHOICE:
                values = question.choice_values()
                if isinstance(value, str) and value in values:
                    return value
                weights = [max(1.0, 4.0 - i) for i in range(len(values))]
                return rng.choices(values, weights)[0]
            case QuestionType.INTEGER:
                low, high = question.min or 0, min(question.max or 10, (question.min or 0) + 10)
                return rng.randint(low, high)
            case QuestionType.DURATION:
                low = question.min or 0
                return self._bounded(question, rng.randint(max(low, 30), max(low, 30) + 600))
            case QuestionType.TEXT:
                return rng.choice(_REMARKS)
            case QuestionType.PHOTO:
                return "photo"
        return None  # pragma: no cover - exhaustive

    @staticmethod
    def _bounded(question: Question, value: AnswerValue) -> AnswerValue:
        if isinstance(value, bool) or not isinstance(value, int):
            return value
        if question.min is not None:
            value = max(question.min, value)
        if question.max is not None:
            value = min(question.max, value)
        return value

    @staticmethod
    def _wrong_text(question: Question, rng: random.Random) -> str | None:
        """Something a hurried auditor types that the bot must refuse (or None)."""
        draw = rng.random()
        match question.type:
            case QuestionType.INTEGER if draw < 0.3:
                return rng.choice(_NUMBER_WORDS[2:])
            case QuestionType.DURATION if draw < 0.3:
                return rng.choice(("deux minutes trente", "2 minutes trente", "une bonne minute",
                                   "30 s 2 min", "environ 3 min"))  # fmt: skip
            case QuestionType.YES_NO if draw < 0.05:
                return rng.choice(("peut-être", "bof", "je ne sais pas"))
        return None

    # -- talking to the bot ------------------------------------------------------------------

    async def _timed(self, run: _Run, label: str, kind: str, at: datetime) -> None:
        """A button that times something: pressed at ``at``, which the truth keeps."""
        if self.clock.now() != at:
            raise AuditorError(f"contact {run.task.contact_id}: {kind} due at {at}, "
                               f"clock at {self.clock.now()}")  # fmt: skip
        await self._press(run, label)
        run.events.append((kind, at))

    async def _press(self, run: _Run, button: str) -> list[JSONDict]:
        """A button of the bot's latest keyboard, by its label (else its callback data)."""
        return await self._press_with(run, lambda: run.user.press(button))

    async def _press_with(self, run: _Run, press: Callable[[], JSONDict]) -> list[JSONDict]:
        run.user.mark_read()
        try:
            press()
        except LookupError as exc:
            raise AuditorError(f"contact {run.task.contact_id}: {exc}") from exc
        await run.user.wait_for_callback_answer(timeout=_REPLY_TIMEOUT)
        return await self._collect(run)

    async def _send(self, run: _Run, send: Callable[[], JSONDict]) -> list[JSONDict]:
        """A message (text, command, photo, position): the bot answers with one at least."""
        run.user.mark_read()
        send()
        first = await run.user.wait_for_message(timeout=_REPLY_TIMEOUT)
        return await self._collect(run, [first])

    async def _collect(self, run: _Run, got: list[JSONDict] | None = None) -> list[JSONDict]:
        await self.settle()
        replies = list(got or [])
        while True:
            try:
                replies.append(await run.user.wait_for_message(timeout=0))
            except TimeoutError:
                break
        run.last = replies
        return replies

    @staticmethod
    def _data(message: JSONDict) -> list[str]:
        markup = message.get("reply_markup") or {}
        rows = markup.get("inline_keyboard") or []
        return [str(b.get("callback_data", "")) for row in rows for b in row]

    @staticmethod
    def _texts(messages: Sequence[JSONDict]) -> list[str]:
        return [str(m.get("text", m.get("caption", "")))[:120] for m in messages]


def letter_post_time(printed_at: datetime, rng: random.Random) -> datetime:
    """When the auditor posts a printed letter: within the next hours, on a whole second."""
    return (printed_at + timedelta(minutes=rng.randint(10, 150))).replace(microsecond=0)
