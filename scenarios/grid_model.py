"""The audit grid's vocabulary: ``Question`` and the values its answers take.

A grid is an ordered tuple of ``Question`` (in the spirit of XLSForm), read from a scenario's
YAML by ``scenarios.catalog``. Answer values are JSON-friendly: ``yes_no`` -> bool,
``choice`` -> the choice's value (str), ``integer`` -> int, ``duration`` -> int seconds,
``text`` -> str, ``photo`` -> a reference to the stored photo (str); ``None`` means
"skipped" and counts as unanswered.

``met_when`` says which answer counts as "criterion met" for scoring: ``yes``/``no`` for a
yes/no question, a choice value or a list of them, ``{min: a, max: b}`` for numbers and
durations (bounds included). ``YES_WORDS``/``NO_WORDS`` are what an auditor (or a catalogue
author) may write for yes and no, once folded (``scenarios.text.fold_key``).

Only the models live here; ``scenarios.conditions`` reads ``relevant`` and
``scenarios.grid`` walks, validates and scores a grid (and re-exports all of this).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, model_validator

from scenarios.text import fold_key

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


class Measure(StrEnum):
    """A duration the bot's buttons measure: its question is filled from the presses, never
    asked (the auditor sees it in the summary and may correct it)."""

    VISIT_WAIT = "visit_wait"  # « Arrivé » -> « Pris en charge »
    VISIT_EXCHANGE = "visit_exchange"  # « Pris en charge » -> « Reparti »
    CALL_LENGTH = "call_length"  # « Appel lancé » -> « Raccroché », same attempt


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


YES_WORDS = frozenset({"yes", "oui", "o", "y", "true", "vrai", "1"})
NO_WORDS = frozenset({"no", "non", "n", "false", "faux", "0"})


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
    measured: Measure | None = None

    @model_validator(mode="before")
    @classmethod
    def _yes_no_words(cls, data: Any) -> Any:
        # YAML 1.1 reads a bare ``yes`` as True, but ``"oui"`` stays a string: accept both.
        if isinstance(data, dict) and data.get("type") == "yes_no":
            met = data.get("met_when")
            if isinstance(met, str) and fold_key(met) in YES_WORDS | NO_WORDS:
                data = {**data, "met_when": fold_key(met) in YES_WORDS}
        return data

    @model_validator(mode="after")
    def _measured_is_a_duration(self) -> Question:
        if self.measured is not None and self.type != QuestionType.DURATION:
            raise ValueError(f"measured: only a duration question is measured, not {self.type}")
        return self

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
