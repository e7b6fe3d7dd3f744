"""Filling a task's grid with the bot: the true answers, typed or pressed, some wrong first.

fill_grid(talk, run, catalog, at): until the bot shows the summary (``k:<contact>``), read
    which question it asks (the first line of its latest message ends with the label),
    answer it, one step each; then « Valider » (the durations the bot measured from the
    presses are never asked: their truth is recorded when the summary comes)
the answer: what happened when the buttons say it (rings, waits, durations, transfer,
    people waiting; bounded by the question's limits), a plausible draw otherwise; optional
    text and photos mostly skipped
typed or pressed: a yes/no or a choice is sometimes typed (« Oui », « o », « 2 »); a
    duration is typed as people do (« 3 min 05 », « 2'30 », « 1 h 05 »)
wrong on purpose: « douze » for a number, « deux minutes trente » for a duration,
    « peut-être » for yes or no: the bot must refuse it and ask the same question again
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta

from scenarios.catalog import Catalog
from scenarios.grid import AnswerValue, Question, QuestionType, is_relevant
from sim.auditors.talk import Talk, callback_data, jpeg, texts
from sim.auditors.tasks import AuditorError, Run
from sim.botapi import JSONDict
from sim.truth.records import PHOTO


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


async def fill_grid(
    talk: Talk, run: Run, catalog: Catalog, at: datetime
) -> AsyncIterator[datetime]:
    """Answer every question the bot asks, then validate the summary; one step per answer."""
    scenario = catalog.get(run.task.scenario_id)
    grid = scenario.grid
    summary = f"k:{run.task.contact_id}"
    for _ in range(3 * len(grid) + 3):
        if any(summary in callback_data(m) for m in run.last):
            _measured_truth(run, grid)
            at += timedelta(seconds=run.rng.randint(5, 40))
            yield at
            replies = await talk.press(run, talk.t("bot.button.validate"))
            done = talk.t("bot.summary.done")
            if not any(done in str(m.get("text", "")) for m in replies):
                raise AuditorError(f"contact {run.task.contact_id}: grid not validated: "
                                   f"{texts(replies)}")  # fmt: skip
            return
        question = asked(run.last, grid)
        if question is None:
            raise AuditorError(f"contact {run.task.contact_id}: no question in "
                               f"{texts(run.last)}")  # fmt: skip
        at += timedelta(seconds=run.rng.randint(3, 30))
        yield at
        await _answer(talk, run, grid, question)
    raise AuditorError(f"contact {run.task.contact_id}: the grid never ended")


def _measured_truth(run: Run, grid: Sequence[Question]) -> None:
    """The durations the bot filled from the presses, never asked: their truth is what
    happened (the same facts the presses were timed by)."""
    for question in grid:
        if question.measured is None or question.id in run.answers:
            continue
        if is_relevant(question, run.answers):
            run.answers[question.id] = _value(run, question)


def asked(messages: Sequence[JSONDict], grid: Sequence[Question]) -> Question | None:
    for message in reversed(messages):
        first = str(message.get("text", "")).split("\n", 1)[0]
        found = [q for q in grid if first.endswith(q.label)]
        if found:
            return max(found, key=lambda q: len(q.label))
    return None


async def _answer(talk: Talk, run: Run, grid: Sequence[Question], question: Question) -> None:
    rng = run.rng
    value = _value(run, question)
    run.answers[question.id] = PHOTO if question.type == QuestionType.PHOTO and value else value
    wrong = _wrong_text(question, rng)
    if wrong is not None:
        run.wrong += 1
        replies = await talk.send(run, lambda: run.user.send_text(wrong))
        if replies and str(replies[0].get("text", "")).startswith(talk.invalid_prefix):
            run.re_asked += 1
        if asked(replies, grid) != question:
            raise AuditorError(f"contact {run.task.contact_id}: {question.id} not asked again "
                               f"after {wrong!r}: {texts(replies)}")  # fmt: skip
    if value is None:
        if rng.random() < 0.7:
            await talk.press(run, talk.t("bot.button.skip"))
        else:
            await talk.send(run, lambda: run.user.send_text(rng.choice(("-", "passer"))))
        return
    typed = rng.random() < 0.2
    match question.type:
        case QuestionType.YES_NO:
            assert isinstance(value, bool)
            if typed:
                text = _yes_no_text(value, rng)
                await talk.send(run, lambda: run.user.send_text(text))
            else:
                await talk.press(run, talk.t("common.yes" if value else "common.no"))
        case QuestionType.CHOICE:
            index = question.choice_values().index(str(value))
            if typed:
                text = str(index + 1) if rng.random() < 0.5 else question.choices[index].label
                await talk.send(run, lambda: run.user.send_text(text))
            else:
                await talk.press(run, question.choices[index].label)
        case QuestionType.INTEGER:
            await talk.send(run, lambda: run.user.send_text(str(value)))
        case QuestionType.DURATION:
            assert isinstance(value, int)
            text = _duration_text(value, rng)
            await talk.send(run, lambda: run.user.send_text(text))
        case QuestionType.TEXT:
            await talk.send(run, lambda: run.user.send_text(str(value)))
        case QuestionType.PHOTO:
            photo = jpeg(rng)
            await talk.send(run, lambda: run.user.send_photo(photo, width=96, height=72))


def _value(run: Run, question: Question) -> AnswerValue:
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
        return _bounded(question, value)
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
            return _bounded(question, rng.randint(max(low, 30), max(low, 30) + 600))
        case QuestionType.TEXT:
            return rng.choice(_REMARKS)
        case QuestionType.PHOTO:
            return "photo"
    return None  # pragma: no cover - exhaustive


def _bounded(question: Question, value: AnswerValue) -> AnswerValue:
    if isinstance(value, bool) or not isinstance(value, int):
        return value
    if question.min is not None:
        value = max(question.min, value)
    if question.max is not None:
        value = min(question.max, value)
    return value


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
