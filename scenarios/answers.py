"""A grid answer in words, for a person to read (``campaign show``, ``contact show``, the back
office): a choice by its label, a yes/no, seconds as a duration, a photo as such. Pure."""

from __future__ import annotations

from typing import Any

from scenarios.formatting import Formats
from scenarios.grid_model import Question, QuestionType
from scenarios.i18n import Translator


def shown_answer(question: Question | None, value: Any, t: Translator, f: Formats) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return t("common.yes") if value else t("common.no")
    if question is not None:
        if question.type == QuestionType.CHOICE:
            labels = {c.value: c.label for c in question.choices}
            return labels.get(str(value), str(value))
        if question.type == QuestionType.DURATION and isinstance(value, int | float):
            return f.duration(value)
        if question.type == QuestionType.PHOTO:
            return t("cli.campaign.photo")
        if question.type == QuestionType.INTEGER and isinstance(value, int):
            return f.number(value)
    return str(value)
