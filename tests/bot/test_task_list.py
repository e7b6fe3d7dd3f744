"""The task list always offers the letters awaiting a reply, however many tasks are upcoming."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.views import task_list
from scenarios.i18n import Translator
from storage.bot import TaskRow

PARIS = ZoneInfo("Europe/Paris")
TODAY = date(2026, 3, 16)


def _task(n: int, channel: str, status: str, planned: datetime) -> TaskRow:
    values: dict[str, object] = {}
    for f in dataclasses.fields(TaskRow):
        values[f.name] = None
    values |= {
        "id": n, "channel": channel, "status": status, "scenario_id": "phone-piscine-horaires",
        "wording": 0, "planned_at": planned, "campaign_name": "c", "campaign_end": TODAY,
        "service_name": f"Service {n}", "service_kind": "piscine", "collectivity_name": "Lavernay",
        "departement": "21", "city": "Lavernay",
    }  # fmt: skip
    return TaskRow(**values)  # type: ignore[arg-type]


def test_posted_letters_are_listed_beside_many_upcoming_tasks() -> None:
    now = datetime(2026, 3, 16, 8, 0, tzinfo=UTC)
    upcoming = [_task(n, "phone", "assigned", now + timedelta(days=n)) for n in range(1, 15)]
    posted = _task(99, "letter", "posted", now - timedelta(days=9))
    reply = task_list(Translator("fr"), [*upcoming, posted], TODAY, PARIS, fixes=0)
    assert "Courriers en attente de réponse (1)" in reply.text
    assert "À venir (14)" in reply.text  # the count says how many there are…
    callbacks = [b.data for row in reply.buttons for b in row]
    assert "o:99" in callbacks  # …and the letter keeps its button
    assert sum(1 for c in callbacks if c.startswith("o:") and c != "o:99") == 10
    assert "En retard" not in reply.text  # waiting for a reply is not the auditor's delay
