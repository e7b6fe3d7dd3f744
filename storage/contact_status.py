"""Where a contact stands, as SQL conditions: the status groups every count of contacts shares
(the back office's progress table and drill-down, ``campaign list``'s started column).

The groups come from ``scenarios.domain.ContactStatus``; the pure counting of ``campaign
show`` is ``scenarios.progress`` and starts from the same ``NOT_STARTED``. One column of the
back office's progress table counts each contact once, by where it stands at ``now``:

- upcoming: not done yet, planned later than now;
- due: not done yet, planned time passed less than a day ago;
- late: not done yet, planned time passed more than a day ago;
- done: sent, posted or carried out (whatever came after);
- answered: an answer recorded (written channels) or the visit or call done;
- failed: undeliverable, failed or cancelled;
- closed: closed at the campaign's end before anything was done.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_

from scenarios.domain import ContactStatus as S
from scenarios.progress import NOT_STARTED as _NOT_STARTED
from storage.models import Contact

NOT_STARTED: tuple[str, ...] = tuple(sorted(s.value for s in _NOT_STARTED))
NOT_DONE: tuple[str, ...] = (*NOT_STARTED, S.PRINTED.value, S.SENDING.value,
                             S.IN_PROGRESS.value)  # fmt: skip
ANSWERED: tuple[str, ...] = (S.ANSWERED.value, S.DONE.value)
REACHED: tuple[str, ...] = (S.SENT.value, S.ACKNOWLEDGED.value, S.POSTED.value, *ANSWERED)
FAILED: tuple[str, ...] = (S.UNDELIVERABLE.value, S.FAILED.value, S.CANCELLED.value)
LATE_AFTER = timedelta(days=1)

STEPS = ("total", "upcoming", "due", "late", "done", "answered", "failed", "closed")


def started() -> Any:
    """A contact that left the plan (anything but planned or assigned)."""
    return Contact.status.not_in(NOT_STARTED)


def step_condition(step: str, now: datetime) -> Any:
    """The SQL condition for one column of the progress table (module docstring)."""
    not_done = Contact.status.in_(NOT_DONE)
    late_before = now - LATE_AFTER
    conditions: dict[str, Any] = {
        "total": Contact.id.is_not(None),
        "upcoming": and_(not_done, Contact.planned_at > now),
        "due": and_(not_done, Contact.planned_at <= now, Contact.planned_at > late_before),
        "late": and_(not_done, Contact.planned_at <= late_before),
        "done": Contact.status.in_(REACHED),
        "answered": Contact.status.in_(ANSWERED),
        "failed": Contact.status.in_(FAILED),
        "closed": Contact.status == S.CLOSED.value,
    }
    return conditions[step]
