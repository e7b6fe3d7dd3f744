"""The field check: what the simulated auditors did against what the bot recorded.

    compare_field(truth, [MeasuredField]) --> FieldComparison

For each ``FieldRecord``: every timed button press (event kind and instant, to the second),
every grid answer for equality (a photo: any stored reference), wrong inputs against the bot's
re-asks, a letter's reply date against the contact's first answer, and the task's final status.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sim.truth.journal import Truth
from sim.truth.records import PHOTO, to_second


@dataclass(frozen=True)
class MeasuredField:
    """A call, visit or letter as the bot recorded it."""

    contact_id: int
    channel: str
    status: str
    events: tuple[tuple[str, datetime], ...] = ()
    answers: Mapping[str, Any] = field(default_factory=dict)
    first_answer_at: datetime | None = None


@dataclass(frozen=True)
class FieldDifference:
    """``fact``: ``event[i]`` (kind and instant), ``events`` (how many), ``first_answer_at``,
    ``status``, ``answer:<question>``, ``re_asked`` or ``presence``."""

    contact_id: int
    fact: str
    expected: Any
    measured: Any

    @property
    def timing(self) -> bool:
        return self.fact.startswith("event") or self.fact in ("first_answer_at", "presence")

    def __str__(self) -> str:
        return (
            f"contact {self.contact_id}: {self.fact} expected {self.expected!r}, measured "
            f"{self.measured!r}"
        )


@dataclass(frozen=True)
class FieldComparison:
    tasks_compared: int
    events_compared: int
    answers_compared: int
    answers_equal: int
    wrong_inputs: int
    re_asked: int
    differences: tuple[FieldDifference, ...]

    @property
    def timing_differences(self) -> tuple[FieldDifference, ...]:
        return tuple(d for d in self.differences if d.timing)

    @property
    def answer_accuracy(self) -> float | None:
        return self.answers_equal / self.answers_compared if self.answers_compared else None


_LETTER_REPLY = "letter.reply_received"


def _same_answer(expected: Any, measured: Any) -> bool:
    if expected == PHOTO:
        return isinstance(measured, str) or (isinstance(measured, dict) and "photo" in measured)
    return bool(type(expected) is type(measured) and expected == measured)


def compare_field(truth: Truth, measured: Iterable[MeasuredField]) -> FieldComparison:
    """Every timed press to the second, every grid answer for equality, every task's status."""
    seen = {m.contact_id: m for m in measured}
    differences: list[FieldDifference] = []
    events_compared = answers_compared = answers_equal = wrong = re_asked = 0
    records = sorted(truth.fields, key=lambda r: r.contact_id)
    for record in records:
        got = seen.get(record.contact_id)
        if got is None:
            differences.append(FieldDifference(record.contact_id, "presence", True, False))
            continue
        wrong += record.wrong_inputs
        re_asked += record.re_asked
        if record.re_asked != record.wrong_inputs:
            differences.append(
                FieldDifference(record.contact_id, "re_asked", record.wrong_inputs, record.re_asked)
            )
        if len(record.events) != len(got.events):
            differences.append(
                FieldDifference(record.contact_id, "events", len(record.events), len(got.events))
            )
        for index, (expected, found) in enumerate(zip(record.events, got.events, strict=False)):
            events_compared += 1
            want = (expected[0], to_second(expected[1]))
            have = (found[0], to_second(found[1]))
            if want != have:
                differences.append(
                    FieldDifference(record.contact_id, f"event[{index}]", want, have)
                )
        for question in sorted(set(record.answers) | set(got.answers)):
            answers_compared += 1
            expected_value = record.answers.get(question)
            found_value = got.answers.get(question)
            if (
                question in record.answers
                and question in got.answers
                and _same_answer(expected_value, found_value)
            ):
                answers_equal += 1
            else:
                differences.append(
                    FieldDifference(
                        record.contact_id, f"answer:{question}", expected_value, found_value
                    )
                )
        if record.channel == "letter":
            replied = [at for kind, at in record.events if kind == _LETTER_REPLY]
            expected_answer = to_second(replied[0]) if replied else None
            if expected_answer != to_second(got.first_answer_at):
                differences.append(
                    FieldDifference(
                        record.contact_id,
                        "first_answer_at",
                        expected_answer,
                        to_second(got.first_answer_at),
                    )
                )
            expected_status = "answered" if replied else "posted"
        else:
            expected_status = "done"
        if record.done and got.status != expected_status:
            differences.append(
                FieldDifference(record.contact_id, "status", expected_status, got.status)
            )
    known = {r.contact_id for r in records}
    for contact_id, got in sorted(seen.items()):
        if contact_id not in known and got.events:
            differences.append(FieldDifference(contact_id, "presence", False, True))
    return FieldComparison(
        tasks_compared=len(records),
        events_compared=events_compared,
        answers_compared=answers_compared,
        answers_equal=answers_equal,
        wrong_inputs=wrong,
        re_asked=re_asked,
        differences=tuple(differences),
    )
