"""Durations the buttons measured, for the grid questions marked ``measured``.

The presses are timed by the server's clock when their update arrives (``bot.arrivals``), so
the visit's wait (« Arrivé » -> « Pris en charge »), the exchange (« Pris en charge » ->
« Reparti ») and the call (« Appel lancé » -> « Raccroché », the attempt that was answered)
are known before the grid starts: their questions are filled from here and never asked. The
summary shows them marked as measured, with a button to correct each one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from scenarios import events as ev
from scenarios.grid import Measure, Question
from storage.bot import EventRow

# The line of ``bot.views.measures`` each measure would repeat in the summary.
SUMMARY_KEY = {
    Measure.VISIT_WAIT: "wait",
    Measure.VISIT_EXCHANGE: "service",
    Measure.CALL_LENGTH: "call",
}


def _between(events: Sequence[EventRow], start: str, end: str) -> float | None:
    at: dict[str, datetime] = {}
    for event in events:
        at.setdefault(event.kind, event.at)
    if start in at and end in at:
        return (at[end] - at[start]).total_seconds()
    return None


def _call_length(events: Sequence[EventRow]) -> float | None:
    starts: dict[int, datetime] = {}
    length: float | None = None
    for event in events:
        attempt = int(event.detail.get("attempt", 0))
        if event.kind == ev.CALL_STARTED:
            starts[attempt] = event.at
        elif event.kind == ev.CALL_HUNG_UP and attempt in starts:
            length = (event.at - starts[attempt]).total_seconds()
    return length


def measured_seconds(measure: Measure, events: Sequence[EventRow]) -> int | None:
    """What the presses measured, in whole seconds; None when they do not say it."""
    match measure:
        case Measure.VISIT_WAIT:
            seconds = _between(events, ev.VISIT_ARRIVED, ev.VISIT_SERVED)
        case Measure.VISIT_EXCHANGE:
            seconds = _between(events, ev.VISIT_SERVED, ev.VISIT_LEFT)
        case Measure.CALL_LENGTH:
            seconds = _call_length(events)
    if seconds is None or seconds < 0:
        return None
    return round(seconds)


def measured_answer(question: Question, events: Sequence[EventRow]) -> int | None:
    """The answer the presses give ``question``: None when it is not measured, not measured
    yet, or outside the question's bounds (then it is asked, and the answer checked)."""
    if question.measured is None:
        return None
    seconds = measured_seconds(question.measured, events)
    if seconds is None:
        return None
    if (question.min is not None and seconds < question.min) or (
        question.max is not None and seconds > question.max
    ):
        return None
    return seconds
