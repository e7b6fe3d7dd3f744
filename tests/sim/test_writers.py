"""Every kind of simulated mail, written for real requests, is read by Témoin as its truth says.

The writers are the simulated town halls' (sim/town_halls/): for each request of
tests/sim/writing.py and each (kind, form) of the compose table, the message is parsed and
classified by our own code; the class must be the planned kind, the thread what the truth
records, and an answer's expected elements those the content check finds. This is a check of
the simulator (the realism of its mail), not of the classifier: the classifier is judged on
the real-mail corpus (bench/classify.py, tests/channels/).
"""

from __future__ import annotations

from collections import Counter

import pytest

from channels.analysis import analyse
from channels.content import check_expected
from sim.town_halls.compose import WRITERS
from sim.town_halls.platforms import PLATFORMS, TICKET_SYSTEMS
from tests.sim.writing import CATALOG, Sample, write_all

SEEDS = (2026, 7)  # two campaigns: every writer and vendor, twice over


@pytest.fixture(scope="module")
def samples() -> list[Sample]:
    return [sample for seed in SEEDS for sample in write_all(seed)]


def test_each_kind_of_mail_is_classified_as_its_truth_says(samples: list[Sample]) -> None:
    wrong = []
    seen: Counter[str] = Counter()
    for sample in samples:
        analysis = analyse(sample.written.raw)
        assert analysis.parsed is not None and analysis.classification is not None
        seen[sample.written.form or sample.planned.form] += 1
        if analysis.classification.kind != sample.planned.kind:
            wrong.append((sample.planned.kind, sample.written.form,
                          analysis.classification.evidence))  # fmt: skip
    assert wrong == []
    # every writer ran, and the voices drew every platform and ticket system
    assert {form for _, form in WRITERS} - {"ticket", "auto_reply", ""} <= set(seen)
    assert set(PLATFORMS) | set(TICKET_SYSTEMS) <= set(seen)
    assert {"client_rule", "newsletter", "bulletin", "notification", "spam", "delivered",
            "delayed", "failed"} <= set(seen)  # fmt: skip


def test_threads_senders_and_headers_are_as_the_truth_records(samples: list[Sample]) -> None:
    for sample in samples:
        written, planned, request = sample.written, sample.planned, sample.request
        parsed = analyse(written.raw).parsed
        assert parsed is not None and parsed.message_id == written.message_id
        assert parsed.from_ is not None and parsed.from_.address == written.sender
        ours = request.message_id in (parsed.in_reply_to, *parsed.references)
        assert ours == written.threaded, (planned.kind, written.form)
        auto = parsed.header("Auto-Submitted")
        if written.form == "client_rule":  # only the wording tells
            assert auto is None and parsed.return_path == written.sender
            assert parsed.header("X-Auto-Response-Suppress") is None
        elif planned.kind == "out_of_office" or written.form in PLATFORMS:
            assert auto is not None and auto.startswith("auto-")
        if planned.kind == "answer" and written.form in TICKET_SYSTEMS:
            # the ticket's own thread, never ours; its tag in the subject
            assert parsed.in_reply_to is not None and not written.threaded
            assert "Ticket#" in parsed.subject or "[GLPI #" in parsed.subject
            assert auto is None
        if written.form == "newsletter":
            assert parsed.header("List-Unsubscribe") is not None
        if written.form == "bulletin":
            assert parsed.to == () and parsed.header("List-Unsubscribe") is None
        if planned.kind == "other":
            assert not written.threaded and parsed.in_reply_to is None


def test_answers_give_the_elements_the_truth_records(samples: list[Sample]) -> None:
    answers = [s for s in samples if s.planned.kind == "answer"]
    assert any(s.written.form in TICKET_SYSTEMS for s in answers)
    for sample in answers:
        parsed = analyse(sample.written.raw).parsed
        assert parsed is not None
        elements = CATALOG.get(sample.scenario_id).expected_elements
        hits = check_expected(f"{parsed.new_text}\n{parsed.signature}", elements)
        assert {h.id for h in hits if h.found} == set(sample.written.included)
        assert set(sample.written.included) | set(sample.written.omitted) == {
            e.id for e in elements
        }


def test_delivery_reports_say_what_happened(samples: list[Sample]) -> None:
    for sample in samples:
        form = sample.written.form
        if form not in ("failed", "delayed", "delivered"):
            continue
        analysis = analyse(sample.written.raw)
        assert analysis.parsed is not None and analysis.classification is not None
        assert analysis.parsed.report_type == "delivery-status"
        assert analysis.parsed.return_path == ""
        bounce = analysis.classification.bounce
        if form == "delivered":
            assert bounce is None  # a success report: no failure to record
        else:
            assert bounce is not None
            assert bounce.severity == ("hard" if form == "failed" else "soft")
            assert bounce.original_message_id == sample.request.message_id
            assert bounce.recipient == sample.voice.service.address


def test_the_same_seed_writes_the_same_bytes_and_another_seed_other_ones() -> None:
    first = [s.written for s in write_all(11)]
    again = [s.written for s in write_all(11)]
    other = [s.written for s in write_all(12)]
    assert [w.raw for w in first] == [w.raw for w in again]
    differ = sum(a.raw != b.raw for a, b in zip(first, other, strict=True))
    assert differ > 0.9 * len(first)
