"""Audit grids: the typed questions an auditor answers after a phone call or a counter visit.

A grid is an ordered tuple of ``Question`` (in the spirit of XLSForm). The bot walks it:

    next_question(grid, answers, None) -> q1 -> validate_answer(q1, text) -> value | Invalid
        -> answers[q1.id] = value -> next_question(grid, answers, q1.id) -> ... -> None (done)

Answer values are JSON-friendly: ``yes_no`` -> bool, ``choice`` -> the choice's value (str),
``integer`` -> int, ``duration`` -> int seconds, ``text`` -> str, ``photo`` -> a reference to
the stored photo (str). ``None`` means "skipped" (an optional question) and counts as
unanswered.

``relevant`` conditions (which question is asked when) are written in the small language
of ``scenarios.conditions``; ``met_when`` (which answer meets a criterion) is described in
``scenarios.grid_model``; durations are read and written by ``scenarios.durations``. This
module keeps what acts on an answer or a whole grid: the validation of typed answers (with
French messages), navigation (``is_relevant``, ``next_question``, ``prune_irrelevant``,
``missing_required``), scoring and the checks of a grid. It re-exports the public names of
those three modules, so ``scenarios.grid`` stays the one import path::

    grid_model <- conditions <- grid
    text <- durations <-------- grid
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scenarios.conditions import (
    BoolOp,
    Compare,
    CompareOp,
    Condition,
    ExpressionError,
    Literal_,
    Not,
    Truthy,
    check_condition,
    evaluate,
    parse_condition,
    references,
)
from scenarios.durations import format_duration, parse_duration
from scenarios.grid_model import (
    CHOICE_VALUE,
    NO_WORDS,
    QUESTION_ID,
    YES_WORDS,
    Answers,
    AnswerValue,
    Bounds,
    Choice,
    Grid,
    Measure,
    Question,
    QuestionType,
)
from scenarios.text import NBSP, NNBSP, fold_key

__all__ = [
    "CHOICE_VALUE",
    "DURATION_EXAMPLES",
    "NBSP",
    "NNBSP",
    "QUESTION_ID",
    "AnswerValue",
    "Answers",
    "BoolOp",
    "Bounds",
    "Choice",
    "Compare",
    "CompareOp",
    "Condition",
    "ExpressionError",
    "Grid",
    "GridScore",
    "Invalid",
    "Literal_",
    "Measure",
    "Not",
    "Question",
    "QuestionType",
    "Truthy",
    "check_condition",
    "check_grid",
    "criterion_met",
    "evaluate",
    "format_duration",
    "grid_score",
    "is_relevant",
    "missing_required",
    "next_question",
    "parse_condition",
    "parse_duration",
    "possibly_relevant",
    "prune_irrelevant",
    "references",
    "validate_answer",
]

_SKIP_WORDS = frozenset({"", "-", "passer", "/passer"})

# --------------------------------------------------------------------------- answers


@dataclass(frozen=True, slots=True)
class Invalid:
    """An answer that was refused; ``message`` is shown to the auditor as is (French)."""

    message: str


def _quote(text: str) -> str:
    return f"«{NBSP}{text}{NBSP}»"


DURATION_EXAMPLES = (
    f"par exemple {_quote('45 s')}, {_quote('2 min 30')}, {_quote('1:30')} ou {_quote('1 h 05')}"
)


def validate_answer(question: Question, raw_text: str) -> AnswerValue | Invalid:
    """Turn what the auditor typed into the stored value, or explain in French what is wrong.

    An optional question is skipped (value ``None``) with an empty answer, « - » or « passer ».
    For a photo question ``raw_text`` is the stored photo's reference.
    """
    text = " ".join(raw_text.split())
    if not question.required and fold_key(text) in _SKIP_WORDS:
        return None
    match question.type:
        case QuestionType.YES_NO:
            return _yes_no(text)
        case QuestionType.CHOICE:
            return _choice(question, text)
        case QuestionType.INTEGER:
            return _integer(question, text)
        case QuestionType.DURATION:
            return _duration(question, text)
        case QuestionType.TEXT:
            return _text(question, text)
        case QuestionType.PHOTO:
            return text if text else Invalid("Veuillez envoyer une photo.")
    raise AssertionError(question.type)  # pragma: no cover - exhaustive match


def _yes_no(text: str) -> bool | Invalid:
    word = fold_key(text).rstrip(".!")
    if word in YES_WORDS:
        return True
    if word in NO_WORDS:
        return False
    return Invalid(f"Veuillez répondre par {_quote('oui')} ou {_quote('non')}.")


def _choice(question: Question, text: str) -> str | Invalid:
    wanted = fold_key(text)
    for index, choice in enumerate(question.choices, start=1):
        if wanted in (fold_key(choice.value), fold_key(choice.label), str(index)):
            return choice.value
    listed = f"{NNBSP}; ".join(f"{i}. {c.label}" for i, c in enumerate(question.choices, 1))
    return Invalid(f"Veuillez choisir l’une des réponses proposées{NBSP}: {listed}.")


_INTEGER = re.compile(r"^[+-]?\d+$")


def _integer_message(question: Question) -> str:
    low, high = question.min, question.max
    if low is not None and high is not None:
        return f"Veuillez entrer un nombre entier entre {low} et {high}."
    if low is not None:
        return f"Veuillez entrer un nombre entier supérieur ou égal à {low}."
    if high is not None:
        return f"Veuillez entrer un nombre entier inférieur ou égal à {high}."
    return "Veuillez entrer un nombre entier."


def _integer(question: Question, text: str) -> int | Invalid:
    compact = text.replace(" ", "").replace(NBSP, "").replace(NNBSP, "")
    if not _INTEGER.match(compact):
        return Invalid(_integer_message(question))
    value = int(compact)
    if (question.min is not None and value < question.min) or (
        question.max is not None and value > question.max
    ):
        return Invalid(_integer_message(question))
    return value


def _duration(question: Question, text: str) -> int | Invalid:
    seconds = parse_duration(text)
    low, high = question.min, question.max
    if seconds is None:
        return Invalid(f"Veuillez entrer une durée, {DURATION_EXAMPLES}.")
    if (low is not None and seconds < low) or (high is not None and seconds > high):
        if low is not None and high is not None:
            span = f"entre {format_duration(low)} et {format_duration(high)}"
        elif low is not None:
            span = f"d’au moins {format_duration(low)}"
        else:
            span = f"d’au plus {format_duration(high or 0)}"
        return Invalid(f"Veuillez entrer une durée {span}, {DURATION_EXAMPLES}.")
    return seconds


def _text(question: Question, text: str) -> str | Invalid:
    if not text:
        return Invalid("Veuillez saisir une réponse.")
    if question.max_length is not None and len(text) > question.max_length:
        return Invalid(
            f"Votre réponse est trop longue ({len(text)} caractères){NNBSP}; "
            f"{question.max_length} caractères au maximum, s’il vous plaît."
        )
    return text


# --------------------------------------------------------------------------- navigation


def is_relevant(question: Question, answers: Answers) -> bool:
    """Whether the question is to be asked given the answers so far (no condition: always)."""
    if question.relevant is None:
        return True
    return evaluate(parse_condition(question.relevant), answers) is True


def possibly_relevant(question: Question, answers: Answers) -> bool:
    """Relevant now, or still undecided: its condition reads a question not answered yet.

    What a progress count counts, so that its total only ever goes down: a question whose
    condition reads only answered (or skipped) questions and is not true will not be asked."""
    if question.relevant is None:
        return True
    condition = parse_condition(question.relevant)
    result = evaluate(condition, answers)
    if result is not None:
        return result
    return any(ref not in answers for ref in references(condition))


def next_question(grid: Grid, answers: Answers, current: str | None) -> Question | None:
    """The first relevant question after ``current`` (from the start when None); None at the end."""
    start = 0
    if current is not None:
        ids = [question.id for question in grid]
        if current not in ids:
            raise KeyError(current)
        start = ids.index(current) + 1
    for question in grid[start:]:
        if is_relevant(question, answers):
            return question
    return None


def prune_irrelevant(grid: Grid, answers: Answers) -> dict[str, AnswerValue]:
    """Answers with those to questions that are no longer relevant removed (after an edit)."""
    kept: dict[str, AnswerValue] = {}
    for question in grid:
        if question.id in answers and is_relevant(question, kept):
            kept[question.id] = answers[question.id]
    return kept


def missing_required(grid: Grid, answers: Answers) -> list[Question]:
    """Relevant required questions without an answer: what stops a visit from being done."""
    return [
        question
        for question in grid
        if question.required and answers.get(question.id) is None and is_relevant(question, answers)
    ]


# --------------------------------------------------------------------------- scoring


def criterion_met(question: Question, value: AnswerValue) -> bool | None:
    """True/False for an answered criterion, None when not a criterion or not answered."""
    met = question.met_when
    if met is None or value is None:
        return None
    if isinstance(met, bool):
        return value is met
    if isinstance(met, str):
        return value == met
    if isinstance(met, tuple):
        return value in met
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return met.contains(value)


@dataclass(frozen=True, slots=True)
class GridScore:
    met_weight: float
    total_weight: float
    criteria_met: int
    criteria_total: int

    @property
    def ratio(self) -> float | None:
        """Share of the weight met, or None when no criterion was answered."""
        return None if self.total_weight == 0 else self.met_weight / self.total_weight


def grid_score(grid: Grid, answers: Answers) -> GridScore:
    """Weighted share of criteria met, over the relevant criteria that were answered."""
    met_weight = total_weight = 0.0
    met_count = total_count = 0
    for question in grid:
        if not is_relevant(question, answers):
            continue
        met = criterion_met(question, answers.get(question.id))
        if met is None:
            continue
        total_weight += question.criterion_weight
        total_count += 1
        if met:
            met_weight += question.criterion_weight
            met_count += 1
    return GridScore(met_weight, total_weight, met_count, total_count)


# --------------------------------------------------------------------------- checks


def check_grid(grid: Grid) -> list[tuple[str, str]]:
    """Problems in a grid as (path relative to the grid such as ``[2].relevant``, reason)."""
    problems: list[tuple[str, str]] = []
    seen: dict[str, Question] = {}
    for index, question in enumerate(grid):
        at = f"[{index}]"
        problems.extend((f"{at}{path}", reason) for path, reason in _check_question(question))
        if question.id in seen:
            problems.append((f"{at}.id", f"duplicate question id {question.id!r}"))
        if question.relevant is not None:
            problems.extend(
                (f"{at}.relevant", reason) for reason in check_condition(question.relevant, seen)
            )
        seen.setdefault(question.id, question)
    return problems


def _check_question(question: Question) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    kind = question.type
    if kind is QuestionType.CHOICE:
        if len(question.choices) < 2:
            problems.append((".choices", "a choice question needs at least 2 choices"))
        values = question.choice_values()
        for i, value in enumerate(values):
            if value in values[:i]:
                problems.append((f".choices[{i}].value", f"duplicate choice value {value!r}"))
    elif question.choices:
        problems.append((".choices", f"choices only belong to choice questions, not {kind}"))
    if kind in (QuestionType.INTEGER, QuestionType.DURATION):
        if question.min is not None and question.max is not None and question.min > question.max:
            problems.append((".min", f"min {question.min} is greater than max {question.max}"))
    elif question.min is not None or question.max is not None:
        problems.append((".min", f"min/max only belong to integer and duration, not {kind}"))
    if question.max_length is not None and kind is not QuestionType.TEXT:
        problems.append((".max_length", f"max_length only belongs to text, not {kind}"))
    if question.weight is not None and question.met_when is None:
        problems.append((".weight", "a weight without met_when scores nothing"))
    problems.extend((".met_when", reason) for reason in _check_met_when(question))
    return problems


def _check_met_when(question: Question) -> list[str]:
    met = question.met_when
    if met is None:
        return []
    match question.type:
        case QuestionType.YES_NO:
            return [] if isinstance(met, bool) else ["met_when of a yes_no question is yes or no"]
        case QuestionType.CHOICE:
            wanted = (met,) if isinstance(met, str) else met
            if not isinstance(wanted, tuple) or not wanted:
                return ["met_when of a choice question is a choice value or a list of them"]
            values = question.choice_values()
            return [
                f"met_when names unknown choice {value!r}"
                for value in wanted
                if value not in values
            ]
        case QuestionType.INTEGER | QuestionType.DURATION:
            if not isinstance(met, Bounds):
                return ["met_when of a number is {min: …, max: …}"]
            if met.min is None and met.max is None:
                return ["met_when needs min or max"]
            if met.min is not None and met.max is not None and met.min > met.max:
                return [f"met_when min {met.min:g} is greater than max {met.max:g}"]
            return []
    return [f"a {question.type} question cannot be a criterion"]
