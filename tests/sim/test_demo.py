"""`temoin demo`: planning on both backends, the refusals, and the truth of sends and tasks.

The whole simulated campaign runs in tests/e2e/test_demo_e2e.py; here, what is quick: the
``--plan-only`` mode, the refusal of a campaign that does not lie in the past, and the
comparisons the check relies on (``compare_sends``, ``compare_field``) on hand-made truths.
"""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console
from sqlalchemy import func, select
from typer.testing import CliRunner

from scenarios import events as ev
from sim.demo.progress import ProgressDisplay
from sim.truth.field import MeasuredField, compare_field
from sim.truth.journal import Truth
from sim.truth.records import PHOTO, FieldRecord
from sim.truth.sends import MeasuredSend, compare_sends
from storage.db import Database
from storage.models import Campaign, Collectivity, Contact, Service
from temoin.cli.app import app
from temoin.demo import campaign_times, default_paths, seeded_ids
from tests.conftest import DbTarget

T0 = datetime(2026, 3, 17, 9, 0, tzinfo=UTC)
SERVICE = "etat-civil@mairie.example"
PERSONA = "claire.martin@temoin.example"


async def _counts(target: DbTarget) -> tuple[int, int, int, int]:
    db = target.database()
    try:
        async with db.session() as s:
            return (
                await s.scalar(select(func.count()).select_from(Collectivity)) or 0,
                await s.scalar(select(func.count()).select_from(Service)) or 0,
                await s.scalar(select(func.count()).select_from(Campaign)) or 0,
                await s.scalar(select(func.count()).select_from(Contact)) or 0,
            )
    finally:
        await db.dispose()


def test_plan_only_on_a_fresh_sqlite_file_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TEMOIN_DATABASE_URL", raising=False)
    out = tmp_path / "demo"
    for _ in range(2):  # a second run starts from a fresh database again
        result = CliRunner().invoke(app, ["demo", "--out", str(out), "--plan-only"])
        assert result.exit_code == 0, result.output
        assert "19 collectivités et 64 services importés." in result.output
        assert "barometre-demo-2026" in result.output and "contacts planifiés" in result.output
    target = DbTarget("sqlite", f"sqlite:///{out / 'temoin.db'}", None)
    collectivities, services, campaigns, contacts = asyncio.run(_counts(target))
    assert (collectivities, services, campaigns) == (19, 64, 1)
    assert contacts > 150


def test_plan_only_with_an_undersized_team_says_why_in_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The demo's campaign with one auditor, one visit a day: the field plan cannot hold, and
    # the demo says so with the numbers (it printed the planner's traceback).
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TEMOIN_DATABASE_URL", raising=False)
    _, campaign_file, _ = default_paths()
    text = campaign_file.read_text(encoding="utf-8")
    head, _, auditors = text.partition("[[auditors]]")
    _, _, rules = auditors.partition("[rules]")
    one = (
        '[[auditors]]\nkey = "paul-durand"\nname = "Paul Durand"\n\n'
        "[rules]\nvisits_per_auditor_day = 1"
    )
    undersized = tmp_path / "undersized.toml"
    undersized.write_text(head + one + rules, encoding="utf-8")
    result = CliRunner().invoke(
        app, ["demo", "--out", str(tmp_path / "demo"), "--plan-only", "--campaign", str(undersized)]
    )
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "les journées des enquêteurs ne suffisent pas" in result.output
    assert "il faudrait" in result.output and "journées d’enquêteur" in result.output


def test_a_bad_campaign_file_is_said_line_by_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TEMOIN_DATABASE_URL", raising=False)
    text = default_paths()[1].read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("[rules]", "[rules]\nvisit_minutez = 3", 1), encoding="utf-8")
    line = text[: text.index("[rules]")].count("\n") + 2
    result = CliRunner().invoke(
        app, ["demo", "--out", str(tmp_path / "demo"), "--plan-only", "--campaign", str(bad)]
    )
    assert result.exit_code == 1, result.output
    assert (
        f"ligne {line}, colonne 1, rules.visit_minutez\u202f: clé inconnue (une faute de "
        "frappe\u202f?)" in result.output
    ), result.output


def test_plan_only_on_the_configured_database(empty_db: DbTarget, tmp_path: Path) -> None:
    env = {"TEMOIN_DATABASE_SCHEMA": empty_db.schema} if empty_db.schema else {}
    result = CliRunner().invoke(
        app, ["demo", "--out", str(tmp_path), "--database", empty_db.url, "--plan-only"], env=env
    )
    assert result.exit_code == 0, result.output
    collectivities, services, campaigns, contacts = asyncio.run(_counts(empty_db))
    assert (collectivities, services, campaigns) == (19, 64, 1)
    assert contacts > 150


def test_a_campaign_that_does_not_lie_in_the_past_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TEMOIN_DATABASE_URL", raising=False)
    _, campaign, _ = default_paths()
    start = datetime.now(UTC).date() + timedelta(days=7)
    text = campaign.read_text(encoding="utf-8")
    text = text.replace("start = 2026-03-16", f"start = {start.isoformat()}")
    text = text.replace("end = 2026-04-10", f"end = {(start + timedelta(days=25)).isoformat()}")
    future = tmp_path / "future.toml"
    future.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(
        app, ["demo", "--out", str(tmp_path / "out"), "--campaign", str(future)]
    )
    assert result.exit_code == 1
    assert "not in the past" in result.output
    assert not (tmp_path / "out" / "dovecot").exists()  # nothing was started


def test_the_demo_window_closes_two_weeks_after_its_end_in_local_time() -> None:
    from zoneinfo import ZoneInfo

    from scenarios.campaign_file import load_campaign_file

    spec = load_campaign_file(default_paths()[1])
    start, close = campaign_times(spec, ZoneInfo("Europe/Paris"))
    assert start == datetime(2026, 3, 13, 11, 0, tzinfo=UTC)  # Friday noon, winter time
    assert close == datetime(2026, 4, 24, 16, 0, tzinfo=UTC)  # 18:00 summer time


def test_seeded_message_ids_look_like_the_dispatchers_and_replay() -> None:
    make = seeded_ids(20260316)
    first = make(7, PERSONA)
    assert first == make(7, PERSONA) != make(8, PERSONA)
    message_id, token = first
    assert message_id.startswith("<") and message_id.endswith("@temoin.example>")
    assert len(token) == 16 and token.isalnum() and token == token.lower()


# -- the sink against the dispatcher's records ------------------------------------------------


def _sink(truth: Truth, message_id: str, at: datetime, *recipients: str) -> None:
    truth.record_acceptance(message_id, [*recipients, PERSONA], at)


def test_each_request_once_at_the_recorded_time_is_no_difference(tmp_path: Path) -> None:
    truth = Truth(tmp_path / "truth.jsonl")
    _sink(truth, "<a@p>", T0, SERVICE)
    _sink(truth, "<a-relance@p>", T0 + timedelta(days=7), SERVICE)
    sends = [
        MeasuredSend(1, SERVICE, "<a@p>", T0, "<a-relance@p>", T0 + timedelta(days=7)),
        MeasuredSend(2, SERVICE, "<refused@p>", None),  # refused at RCPT: never accepted
        MeasuredSend(3, SERVICE, None, None),  # never claimed
    ]
    result = compare_sends(truth, sends)
    assert (result.sends_compared, result.followups_compared) == (1, 1)
    assert result.differences == () and result.duplicates == 0 and result.unclaimed == ()
    # The same from the JSON lines written on the way.
    again = compare_sends(Truth.load(tmp_path / "truth.jsonl"), sends)
    assert again == result


def test_a_second_copy_a_shifted_time_and_an_unclaimed_message_are_differences() -> None:
    truth = Truth()
    _sink(truth, "<a@p>", T0, SERVICE)
    _sink(truth, "<a@p>", T0 + timedelta(minutes=6), SERVICE)  # sent twice
    _sink(truth, "<b@p>", T0 + timedelta(seconds=30), SERVICE)
    _sink(truth, "<stray@p>", T0, SERVICE)
    sends = [
        MeasuredSend(1, SERVICE, "<a@p>", T0),
        MeasuredSend(2, SERVICE, "<b@p>", T0 + timedelta(seconds=31)),
    ]
    result = compare_sends(truth, sends)
    facts = {(d.contact, d.fact): (d.expected, d.measured) for d in result.differences}
    assert facts == {
        (1, "copies"): (1, 2),
        (2, "sent_at"): (T0 + timedelta(seconds=30), T0 + timedelta(seconds=31)),
    }
    assert result.duplicates == 1
    assert [str(d) for d in result.timing_differences] == [
        "contact 2: sent_at expected 2026-03-17 09:00:30+00:00, measured 2026-03-17 09:00:31+00:00"
    ]
    assert result.unclaimed == ("<stray@p>",)


# -- the auditors' truth against the bot's records ---------------------------------------------


def _call(contact: int = 11) -> FieldRecord:
    return FieldRecord(
        contact_id=contact,
        channel="phone",
        auditor="paul-durand",
        events=(
            (ev.CALL_STARTED, T0),
            (ev.CALL_PICKED_UP, T0 + timedelta(seconds=17)),
            (ev.CALL_HUNG_UP, T0 + timedelta(seconds=200)),
        ),
        answers={"picked_up": True, "rings": 3, "call_duration": 200, "comments": None},
        wrong_inputs=1,
        re_asked=1,
        done=True,
    )


def _letter(contact: int = 12, replied: bool = True) -> FieldRecord:
    events = [(ev.LETTER_POSTED, T0)]
    if replied:
        events.append((ev.LETTER_REPLY_RECEIVED, T0 + timedelta(days=9, hours=2)))
    return FieldRecord(contact, "letter", "ines-moreau", tuple(events), done=True)


def test_the_bot_recording_what_the_auditors_did_is_no_difference(tmp_path: Path) -> None:
    truth = Truth(tmp_path / "truth.jsonl")
    truth.record_field(_call())
    truth.record_field(_letter(replied=False))
    truth.record_field(_letter())  # the reply, later: the latest record wins
    measured = [
        MeasuredField(11, "phone", "done", _call().events,
                      {"picked_up": True, "rings": 3, "call_duration": 200, "comments": None}),
        MeasuredField(12, "letter", "answered", _letter().events, {},
                      first_answer_at=T0 + timedelta(days=9, hours=2)),
        MeasuredField(13, "visit", "assigned"),  # not started: nothing to compare
    ]  # fmt: skip
    for source in (truth, Truth.load(tmp_path / "truth.jsonl")):
        result = compare_field(source, measured)
        assert result.differences == ()
        assert (result.tasks_compared, result.events_compared) == (2, 5)
        assert (result.answers_compared, result.answers_equal) == (4, 4)
        assert (result.wrong_inputs, result.re_asked) == (1, 1)


def test_a_press_off_by_a_second_a_wrong_answer_and_a_missing_task_are_differences() -> None:
    truth = Truth()
    truth.record_field(_call())
    truth.record_field(
        FieldRecord(14, "visit", "marc-leroy", ((ev.VISIT_ARRIVED, T0),),
                    answers={"entrance_photo": PHOTO, "open": True}, wrong_inputs=2, re_asked=1,
                    done=True)
    )  # fmt: skip
    shifted = list(_call().events)
    shifted[1] = (ev.CALL_PICKED_UP, T0 + timedelta(seconds=18))
    measured = [
        MeasuredField(11, "phone", "in_progress", tuple(shifted),
                      {"picked_up": True, "rings": 4, "call_duration": 200}),
        MeasuredField(14, "visit", "done", ((ev.VISIT_ARRIVED, T0),),
                      {"entrance_photo": {"photo": "ab12"}, "open": True}),
    ]  # fmt: skip
    result = compare_field(truth, measured)
    facts = {(d.contact_id, d.fact) for d in result.differences}
    assert facts == {
        (11, "event[1]"),
        (11, "answer:rings"),
        (11, "answer:comments"),
        (11, "status"),
        (14, "re_asked"),
    }
    assert [d.fact for d in result.timing_differences] == ["event[1]"]
    assert result.answer_accuracy == pytest.approx(4 / 6)
    missing = compare_field(truth, measured[1:])
    assert [(d.contact_id, d.fact) for d in missing.timing_differences] == [(11, "presence")]


@pytest.mark.parametrize(
    ("locale", "said"),
    [
        ("fr", "02/03/2026 10\u202fh\u202f00 | courriels envoyés 0/0 | réponses 0 | appels et "
               "visites 0/0 | lettres postées 0/0, répondues 0"),
        ("en", "2 Mar 2026 10:00 | emails sent 0/0 | replies 0 | calls and visits 0/0 | "
               "letters posted 0/0, answered 0"),
    ],
)  # fmt: skip
async def test_the_progress_line_speaks_the_reader_language(
    database: Database, locale: str, said: str
) -> None:
    out = io.StringIO()
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    display = ProgressDisplay(Console(file=out, width=200), database, 1, start,
                              start + timedelta(days=30), ZoneInfo("Europe/Paris"),
                              live=False, locale=locale)  # fmt: skip
    with display:
        await display.update(start, force=True)
    assert out.getvalue().strip() == said
