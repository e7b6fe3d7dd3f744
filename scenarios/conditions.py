"""The ``relevant`` condition language of audit grids: tokeniser, parser, evaluation, checks.

    source --_tokenise--> [_Tok] --_Parser--> Condition
        --evaluate(condition, answers)--> True | False | None (unknown)
        --check_condition(source, earlier questions)--> [reason, ...]

A small expression language, parsed here (never ``eval``)::

    {picked_up} == yes and ({rings} >= 3 or not {transferred})

Operands: a reference ``{question_id}`` to an earlier question, or a literal: ``yes``/``no``
(also ``oui``/``non``, ``true``/``false``), a number, a bare word or a quoted string (a choice
value). Operators: ``== != < <= > >=`` between a reference and a literal, ``and``, ``or``,
``not``, parentheses; a bare reference is true when the answer is truthy. Logic is three-valued
(like SQL): a comparison with an unanswered question is *unknown*, and a question whose
condition is not plainly true is not asked (``scenarios.grid.is_relevant``).

A condition is a tree of ``Compare``, ``Truthy``, ``Not`` and ``BoolOp``; ``parse_condition``
caches it per source text. Parse errors are ``ExpressionError`` (English, with the column:
they are read by catalogue authors); ``check_condition`` also checks each reference against
the questions before it and the literal against the question's type. Everything public here
is re-exported by ``scenarios.grid``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, TypeAlias

from scenarios.grid_model import Answers, AnswerValue, Question, QuestionType


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
