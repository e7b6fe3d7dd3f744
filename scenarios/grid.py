"""Audit grids: the typed questions an auditor answers after a phone call or a counter visit.

A grid is an ordered tuple of ``Question`` (in the spirit of XLSForm). The bot walks it:

    next_question(grid, answers, None) -> q1 -> validate_answer(q1, text) -> value | Invalid
        -> answers[q1.id] = value -> next_question(grid, answers, q1.id) -> ... -> None (done)

Answer values are JSON-friendly: ``yes_no`` -> bool, ``choice`` -> the choice's value (str),
``integer`` -> int, ``duration`` -> int seconds, ``text`` -> str, ``photo`` -> a reference to
the stored photo (str). ``None`` means "skipped" (an optional question) and counts as
unanswered.

``relevant`` conditions use a small expression language, parsed here (never ``eval``)::

    {picked_up} == yes and ({rings} >= 3 or not {transferred})

Operands: a reference ``{question_id}`` to an earlier question, or a literal: ``yes``/``no``
(also ``oui``/``non``, ``true``/``false``), a number, a bare word or a quoted string (a choice
value). Operators: ``== != < <= > >=`` between a reference and a literal, ``and``, ``or``,
``not``, parentheses; a bare reference is true when the answer is truthy. Logic is three-valued
(like SQL): a comparison with an unanswered question is *unknown*, and a question whose
condition is not plainly true is not asked.

``met_when`` says which answer counts as "criterion met" for scoring: ``yes``/``no`` for a
yes/no question, a choice value or a list of them, ``{min: a, max: b}`` for numbers and
durations (bounds included).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, model_validator

from scenarios.service_kinds import fold

NBSP = "\u00a0"  # before « : » and inside « guillemets » (French typography)
NNBSP = "\u202f"  # before « ; ? ! »

QUESTION_ID = r"^[a-z][a-z0-9_]*$"
CHOICE_VALUE = r"^[a-z0-9][a-z0-9_]*$"

AnswerValue: TypeAlias = bool | int | str | None
Answers: TypeAlias = Mapping[str, AnswerValue]


class QuestionType(StrEnum):
    YES_NO = "yes_no"
    CHOICE = "choice"
    INTEGER = "integer"
    DURATION = "duration"
    TEXT = "text"
    PHOTO = "photo"


class Choice(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    value: str = Field(pattern=CHOICE_VALUE, max_length=80)
    label: str = Field(min_length=1)


class Bounds(BaseModel):
    """A closed interval for ``met_when`` on numbers and durations."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min: float | None = None
    max: float | None = None

    def contains(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


_YES_WORDS = frozenset({"yes", "oui", "o", "y", "true", "vrai", "1"})
_NO_WORDS = frozenset({"no", "non", "n", "false", "faux", "0"})
_SKIP_WORDS = frozenset({"", "-", "passer", "/passer"})


class Question(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=QUESTION_ID, max_length=80)
    type: QuestionType
    label: str = Field(min_length=1)
    hint: str | None = None
    required: bool = True
    relevant: str | None = None
    choices: tuple[Choice, ...] = ()
    min: int | None = None
    max: int | None = None
    max_length: int | None = Field(default=None, gt=0)
    weight: float | None = Field(default=None, ge=0)
    met_when: bool | str | tuple[str, ...] | Bounds | None = None

    @model_validator(mode="before")
    @classmethod
    def _yes_no_words(cls, data: Any) -> Any:
        # YAML 1.1 reads a bare ``yes`` as True, but ``"oui"`` stays a string: accept both.
        if isinstance(data, dict) and data.get("type") == "yes_no":
            met = data.get("met_when")
            if isinstance(met, str) and fold(met) in _YES_WORDS | _NO_WORDS:
                data = {**data, "met_when": fold(met) in _YES_WORDS}
        return data

    @property
    def is_criterion(self) -> bool:
        return self.met_when is not None

    @property
    def criterion_weight(self) -> float:
        """Weight in the grid score: 1 by default for a criterion, 0 for a plain question."""
        if self.met_when is None:
            return 0.0
        return 1.0 if self.weight is None else self.weight

    def choice_values(self) -> tuple[str, ...]:
        return tuple(choice.value for choice in self.choices)


Grid: TypeAlias = Sequence[Question]


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
    if not question.required and fold(text) in _SKIP_WORDS:
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
    word = fold(text).rstrip(".!")
    if word in _YES_WORDS:
        return True
    if word in _NO_WORDS:
        return False
    return Invalid(f"Veuillez répondre par {_quote('oui')} ou {_quote('non')}.")


def _choice(question: Question, text: str) -> str | Invalid:
    wanted = fold(text)
    for index, choice in enumerate(question.choices, start=1):
        if wanted in (fold(choice.value), fold(choice.label), str(index)):
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


# --------------------------------------------------------------------------- durations

_UNIT_SECONDS = {"h": 3600, "min": 60, "s": 1}
_UNIT_WORDS = {
    "h": "h",
    "hr": "h",
    "hrs": "h",
    "heure": "h",
    "heures": "h",
    "min": "min",
    "mins": "min",
    "minute": "min",
    "minutes": "min",
    "mn": "min",
    "m": "min",
    "'": "min",
    "’": "min",
    "s": "s",
    "sec": "s",
    "secs": "s",
    "seconde": "s",
    "secondes": "s",
    '"': "s",
    "″": "s",
    "''": "s",
}
_NEXT_UNIT = {"h": "min", "min": "s"}
_DURATION_TOKEN = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(heures?|hrs?|h|minutes?|mins?|mn|m|secondes?|secs?|s|''|'|’|\"|″)?\s*"
)
_CLOCK = re.compile(r"^(\d+):([0-5]\d)(?::([0-5]\d))?$")


def parse_duration(text: str) -> int | None:
    """Seconds in a French-typed duration, or None when it cannot be read.

    Accepted: « 45 s », « 2 min 30 », « 2 min 30 s », « 2'30 », « 1 h 05 », « 1h05min »,
    « 1:30 » (min:s), « 1:02:03 » (h:min:s), « 1,5 min ». A bare number is refused because
    its unit would be a guess. A number after the last unit counts in the next smaller unit.
    """
    cleaned = " ".join(text.replace(NBSP, " ").replace(NNBSP, " ").split()).casefold()
    cleaned = cleaned.replace(" et ", " ")
    if not cleaned:
        return None
    clock = _CLOCK.match(cleaned.replace(" ", ""))
    if clock:
        first, second, third = clock.groups()
        if third is None:
            return int(first) * 60 + int(second)
        return int(first) * 3600 + int(second) * 60 + int(third)
    position = 0
    total = 0.0
    last_unit: str | None = None
    while position < len(cleaned):
        token = _DURATION_TOKEN.match(cleaned, position)
        if token is None or token.end() == position:
            return None
        number, unit_word = token.groups()
        amount = float(number.replace(",", "."))
        if unit_word is None:
            # a trailing bare number after a unit: « 2 min 30 », « 1 h 05 »
            if last_unit is None or token.end() != len(cleaned) or last_unit not in _NEXT_UNIT:
                return None
            unit = _NEXT_UNIT[last_unit]
        else:
            unit = _UNIT_WORDS[unit_word]
            if last_unit is not None and _UNIT_SECONDS[unit] >= _UNIT_SECONDS[last_unit]:
                return None  # units must go down: « 30 s 2 min » is not a duration
        total += amount * _UNIT_SECONDS[unit]
        last_unit = unit
        position = token.end()
    return round(total)


def format_duration(seconds: float) -> str:
    """« 45 s », « 2 min 30 s », « 1 h 05 min » (French, as the auditor would write it)."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        if secs:
            return f"{hours}{NBSP}h{NBSP}{minutes:02d}{NBSP}min{NBSP}{secs:02d}{NBSP}s"
        return f"{hours}{NBSP}h{NBSP}{minutes:02d}{NBSP}min" if minutes else f"{hours}{NBSP}h"
    if minutes:
        return f"{minutes}{NBSP}min{NBSP}{secs:02d}{NBSP}s" if secs else f"{minutes}{NBSP}min"
    return f"{secs}{NBSP}s"


# --------------------------------------------------------------------------- conditions


class ExpressionError(ValueError):
    """A ``relevant`` expression that cannot be parsed."""


Literal_: TypeAlias = bool | int | float | str
CompareOp: TypeAlias = Literal["==", "!=", "<", "<=", ">", ">="]


@dataclass(frozen=True, slots=True)
class Compare:
    ref: str
    op: CompareOp
    literal: Literal_


@dataclass(frozen=True, slots=True)
class Truthy:
    ref: str


@dataclass(frozen=True, slots=True)
class Not:
    operand: Condition


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: Literal["and", "or"]
    operands: tuple[Condition, ...]


Condition: TypeAlias = Compare | Truthy | Not | BoolOp

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<ref>\{\s*[A-Za-z_][A-Za-z0-9_]*\s*\})
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<string>'[^']*'|"[^"]*")
      | (?P<op>==|!=|<=|>=|<|>)
      | (?P<paren>[()])
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
_BOOL_WORDS = {"yes": True, "oui": True, "true": True, "no": False, "non": False, "false": False}
_SAME: dict[str, CompareOp] = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
# ``3 <= {rings}`` is read as ``{rings} >= 3``
_FLIP: dict[str, CompareOp] = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str
    text: str
    position: int


def _tokenise(source: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    position = 0
    while position < len(source):
        if source[position:].strip() == "":
            break
        match = _TOKEN.match(source, position)
        if match is None or match.lastgroup is None:
            start = len(source[position:]) - len(source[position:].lstrip()) + position
            raise ExpressionError(f"unexpected character {source[start]!r} at column {start + 1}")
        kind = match.lastgroup
        text = match.group(kind)
        column = match.start(kind) + 1
        if kind == "word" and text in ("and", "or", "not"):
            kind = text
        tokens.append(_Tok(kind, text, column))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = _tokenise(source)
        self.index = 0

    def peek(self) -> _Tok | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> _Tok:
        token = self.peek()
        if token is None:
            raise ExpressionError("unexpected end of expression")
        self.index += 1
        return token

    def parse(self) -> Condition:
        if not self.tokens:
            raise ExpressionError("empty expression")
        condition = self.parse_or()
        extra = self.peek()
        if extra is not None:
            raise ExpressionError(f"unexpected {extra.text!r} at column {extra.position}")
        return condition

    def parse_or(self) -> Condition:
        operands = [self.parse_and()]
        while (token := self.peek()) is not None and token.kind == "or":
            self.take()
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else BoolOp("or", tuple(operands))

    def parse_and(self) -> Condition:
        operands = [self.parse_not()]
        while (token := self.peek()) is not None and token.kind == "and":
            self.take()
            operands.append(self.parse_not())
        return operands[0] if len(operands) == 1 else BoolOp("and", tuple(operands))

    def parse_not(self) -> Condition:
        token = self.peek()
        if token is not None and token.kind == "not":
            self.take()
            return Not(self.parse_not())
        return self.parse_atom()

    def parse_atom(self) -> Condition:
        token = self.take()
        if token.kind == "paren" and token.text == "(":
            inner = self.parse_or()
            closing = self.take()
            if closing.text != ")":
                raise ExpressionError(f"expected ')' at column {closing.position}")
            return inner
        left = self.operand(token)
        following = self.peek()
        if following is None or following.kind != "op":
            if isinstance(left, _Ref):
                return Truthy(left.name)
            raise ExpressionError(f"a literal alone is not a condition (column {token.position})")
        op = self.take().text
        right_token = self.take()
        right = self.operand(right_token)
        if isinstance(left, _Ref) and not isinstance(right, _Ref):
            return Compare(left.name, _SAME[op], right)
        if isinstance(right, _Ref) and not isinstance(left, _Ref):
            return Compare(right.name, _FLIP[op], left)
        both = "questions" if isinstance(left, _Ref) else "values"
        raise ExpressionError(
            f"compare a {{question}} with a value, not two {both} (column {token.position})"
        )

    def operand(self, token: _Tok) -> _Ref | Literal_:
        match token.kind:
            case "ref":
                return _Ref(token.text.strip("{} "))
            case "number":
                return float(token.text) if "." in token.text else int(token.text)
            case "string":
                return token.text[1:-1]
            case "word":
                return _BOOL_WORDS.get(token.text.casefold(), token.text)
        raise ExpressionError(f"unexpected {token.text!r} at column {token.position}")


@dataclass(frozen=True, slots=True)
class _Ref:
    name: str


@lru_cache(maxsize=4096)
def parse_condition(source: str) -> Condition:
    """Parse a ``relevant`` expression; raise ``ExpressionError`` (English) when it is wrong."""
    return _Parser(source).parse()


def references(condition: Condition) -> list[str]:
    """The question ids a condition reads, in order of appearance."""
    match condition:
        case Compare(ref=ref) | Truthy(ref=ref):
            return [ref]
        case Not(operand=operand):
            return references(operand)
        case BoolOp(operands=operands):
            return [ref for operand in operands for ref in references(operand)]
    raise AssertionError(condition)  # pragma: no cover


def evaluate(condition: Condition, answers: Answers) -> bool | None:
    """Three-valued evaluation: None when it depends on an unanswered question."""
    match condition:
        case Truthy(ref=ref):
            value = answers.get(ref)
            return None if value is None else bool(value)
        case Compare(ref=ref, op=op, literal=literal):
            return _compare(answers.get(ref), op, literal)
        case Not(operand=operand):
            inner = evaluate(operand, answers)
            return None if inner is None else not inner
        case BoolOp(op="and", operands=operands):
            results = [evaluate(operand, answers) for operand in operands]
            if False in results:
                return False
            return None if None in results else True
        case BoolOp(operands=operands):
            results = [evaluate(operand, answers) for operand in operands]
            if True in results:
                return True
            return None if None in results else False
    raise AssertionError(condition)  # pragma: no cover


def _compare(value: AnswerValue, op: CompareOp, literal: Literal_) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool) or isinstance(literal, bool) or isinstance(value, str):
        if op == "==":
            return value == literal and type(value) is type(literal)
        if op == "!=":
            return not (value == literal and type(value) is type(literal))
        return None
    if isinstance(literal, str):
        return None if op not in ("==", "!=") else op == "!="
    match op:
        case "==":
            return value == literal
        case "!=":
            return value != literal
        case "<":
            return value < literal
        case "<=":
            return value <= literal
        case ">":
            return value > literal
        case ">=":
            return value >= literal
    raise AssertionError(op)  # pragma: no cover


def is_relevant(question: Question, answers: Answers) -> bool:
    """Whether the question is to be asked given the answers so far (no condition: always)."""
    if question.relevant is None:
        return True
    return evaluate(parse_condition(question.relevant), answers) is True


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


def check_condition(source: str, earlier: Mapping[str, Question]) -> list[str]:
    """Reasons why ``source`` is not a valid condition over the ``earlier`` questions."""
    try:
        condition = parse_condition(source)
    except ExpressionError as exc:
        return [f"bad expression: {exc}"]
    return _check_types(condition, earlier)


def _check_types(condition: Condition, earlier: Mapping[str, Question]) -> list[str]:
    match condition:
        case Not(operand=operand):
            return _check_types(operand, earlier)
        case BoolOp(operands=operands):
            return [reason for operand in operands for reason in _check_types(operand, earlier)]
        case Truthy(ref=ref):
            return [] if ref in earlier else [_unknown(ref)]
        case Compare(ref=ref, op=op, literal=literal):
            question = earlier.get(ref)
            if question is None:
                return [_unknown(ref)]
            return _check_compare(question, op, literal)
    raise AssertionError(condition)  # pragma: no cover


def _unknown(ref: str) -> str:
    return f"{{{ref}}} is not an earlier question of this grid"


def _check_compare(question: Question, op: CompareOp, literal: Literal_) -> list[str]:
    ref = f"{{{question.id}}}"
    equality = op in ("==", "!=")
    match question.type:
        case QuestionType.YES_NO:
            if not equality or not isinstance(literal, bool):
                return [f"{ref} is yes/no: compare it with == yes or == no"]
        case QuestionType.CHOICE:
            if not equality or not isinstance(literal, str):
                return [f"{ref} is a choice: compare it with == or != and a choice value"]
            if literal not in question.choice_values():
                return [f"{literal!r} is not a choice of {ref}"]
        case QuestionType.INTEGER | QuestionType.DURATION:
            if isinstance(literal, bool | str):
                return [f"{ref} is a number: compare it with a number"]
        case QuestionType.TEXT:
            if not equality or not isinstance(literal, str):
                return [f"{ref} is text: compare it with == or != and a string"]
        case QuestionType.PHOTO:
            return [f"{ref} is a photo: use it alone ({ref}) to mean 'a photo was given'"]
    return []
