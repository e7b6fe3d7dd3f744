"""The truth the simulator records, its JSON-lines file, and compare() on hand-made cases."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sim.truth.journal import Truth
from sim.truth.records import TruthReaction
from sim.truth.replies import Measured, MeasuredContact, MeasuredMessage, compare

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
SERVICE = "etat-civil@mairie.example"
DEAD = "police@mairie.example"
PERSONA = "claire.martin@temoin.example"


def _reaction(
    reaction_id: str,
    contact: str,
    kind: str,
    *,
    service: str = SERVICE,
    included: tuple[str, ...] = (),
    omitted: tuple[str, ...] = (),
) -> TruthReaction:
    return TruthReaction(
        reaction_id=reaction_id,
        contact_message_id=contact,
        service=service,
        persona=PERSONA,
        kind=kind,  # type: ignore[arg-type]
        received_at=T0,
        profile="reactive",
        reaction_message_id=None if kind == "none" else reaction_id,
        included=included,
        omitted=omitted,
    )


def _at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def _truth(path: Path | None = None) -> Truth:
    """Five contacts, with what the simulator decided and delivered for each.

    A: acknowledged at +1 h, answered at +26 h with elements a, b (c omitted).
    B: bounced (DSN) at +0.01 h.
    C: nothing (silent).
    D: answered at +50 h; a second answer was planned but is not delivered yet.
    E: redirected at +3 h.
    The police address refuses at RCPT (no Message-ID).
    """
    truth = Truth(path)
    plan = [
        (_reaction("<ack-a@m>", "<A@p>", "acknowledgement"), 1.0),
        (_reaction("<ans-a@m>", "<A@p>", "answer", included=("a", "b"), omitted=("c",)), 26.0),
        (_reaction("<dsn-b@p>", "<B@p>", "bounce"), 0.01),
        (_reaction("none:<C@p>", "<C@p>", "none"), None),
        (_reaction("<ans-d@m>", "<D@p>", "answer", included=("a",), omitted=("b", "c")), 50.0),
        (_reaction("<later-d@m>", "<D@p>", "answer"), None),
        (_reaction("<red-e@m>", "<E@p>", "redirect"), 3.0),
    ]
    for uid, (reaction, hours) in enumerate(plan, 1):
        truth.record_decision(reaction)
        if hours is not None:
            delivered = _at(hours).replace(microsecond=0)
            truth.record_delivery(
                reaction.reaction_id, delivered, mailbox="INBOX", uidvalidity=77, uid=uid
            )
    truth.record_refusal(DEAD, _at(0), "550 5.1.1 <police@mairie.example>: User unknown")
    return truth


def test_every_decision_delivery_and_refusal_is_a_json_line_and_loads_back(
    tmp_path: Path,
) -> None:
    path = tmp_path / "truth" / "run.jsonl"
    truth = _truth(path)
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["event"] for line in lines].count("decision") == 7
    assert [line["event"] for line in lines].count("delivery") == 5
    assert lines[-1] == {
        "v": 1,
        "event": "refusal",
        "service": DEAD,
        "at": "2027-03-01T09:00:00+00:00",
        "reply": "550 5.1.1 <police@mairie.example>: User unknown",
        "attempt": 1,
    }
    loaded = Truth.load(path)
    assert loaded.reactions == truth.reactions
    assert loaded.refusals == truth.refusals
    answer = loaded.reaction("<ans-a@m>")
    assert answer.delivered_at == _at(26) and answer.uid == 2 and answer.uidvalidity == 77
    assert answer.included == ("a", "b") and answer.omitted == ("c",)
    assert not loaded.reaction("<later-d@m>").delivered
    assert [r.reaction_id for r in loaded.for_contact("<D@p>")] == ["<ans-d@m>", "<later-d@m>"]
    assert loaded.refusing_services() == {DEAD}


def test_a_broken_truth_file_says_where(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"event": "delivery", "reaction_id": "<nope@m>"}\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl:1: bad truth record"):
        Truth.load(path)


def test_times_must_be_aware_and_internaldates_whole_seconds() -> None:
    truth = Truth()
    truth.record_decision(_reaction("<x@m>", "<X@p>", "answer"))
    with pytest.raises(ValueError, match="naive"):
        truth.record_delivery(
            "<x@m>", datetime(2027, 3, 1, 9), mailbox="INBOX", uidvalidity=1, uid=1
        )
    with pytest.raises(ValueError, match="whole seconds"):
        truth.record_delivery(
            "<x@m>", T0.replace(microsecond=5), mailbox="INBOX", uidvalidity=1, uid=1
        )
    with pytest.raises(ValueError, match="already recorded"):
        truth.record_decision(_reaction("<x@m>", "<X@p>", "answer"))
    with pytest.raises(ValueError, match="unknown reaction kind"):
        _reaction("<y@m>", "<Y@p>", "thanks")


def _measured_perfect() -> Measured:
    return Measured(
        contacts=(
            MeasuredContact(
                "<A@p>", SERVICE, _at(1), _at(26), elements={"a": True, "b": True, "c": False}
            ),
            MeasuredContact("<B@p>", SERVICE, undeliverable=True),
            MeasuredContact("<C@p>", SERVICE),
            MeasuredContact(
                "<D@p>", SERVICE, None, _at(50), elements={"a": True, "b": False, "c": False}
            ),
            MeasuredContact("<E@p>", SERVICE, None, _at(3)),
            MeasuredContact("<F@p>", DEAD, undeliverable=True),
        ),
        messages=(
            MeasuredMessage("<ack-a@m>", "acknowledgement", "<A@p>", _at(1)),
            MeasuredMessage("<ans-a@m>", "answer", "<A@p>", _at(26)),
            MeasuredMessage("<dsn-b@p>", "bounce", "<B@p>"),
            MeasuredMessage("<ans-d@m>", "answer", "<D@p>"),
            MeasuredMessage("<red-e@m>", "redirect", "<E@p>"),
        ),
    )


def test_a_faithful_measurement_has_no_difference() -> None:
    result = compare(_truth(), _measured_perfect())
    assert result.ok, result.summary()
    assert result.contacts_compared == 6  # A-E and the refused F
    assert result.messages_compared == 5  # the undelivered second answer of D is not expected
    assert result.classification_accuracy == 1.0
    assert result.matching_accuracy == 1.0
    assert (result.elements_compared, result.element_accuracy) == (6, 1.0)
    assert {k: (s.precision, s.recall) for k, s in result.class_scores.items()} == {
        "acknowledgement": (1.0, 1.0),
        "answer": (1.0, 1.0),
        "bounce": (1.0, 1.0),
        "redirect": (1.0, 1.0),
    }


def test_every_difference_is_listed_with_the_figures() -> None:
    measured = Measured(
        contacts=(
            # the answer one second late, the elements check wrong on b
            MeasuredContact(
                "<A@p>",
                SERVICE,
                _at(1),
                _at(26) + timedelta(seconds=1),
                elements={"a": True, "b": False, "c": False},
            ),
            # the bounce taken for an answer
            MeasuredContact("<B@p>", SERVICE, None, _at(0.01)),
            MeasuredContact("<C@p>", SERVICE),
            # D's answer taken for an acknowledgement, its elements never checked
            MeasuredContact("<D@p>", SERVICE, _at(50), None),
            # E missing altogether; F to the refusing address looked deliverable
            MeasuredContact("<F@p>", DEAD),
            # a contact the simulator never saw
            MeasuredContact("<G@p>", SERVICE),
        ),
        messages=(
            MeasuredMessage("<ack-a@m>", "acknowledgement", "<A@p>"),
            MeasuredMessage("<ans-a@m>", "answer", None),  # to triage
            MeasuredMessage("<dsn-b@p>", "answer", "<B@p>"),
            MeasuredMessage("<ans-d@m>", "acknowledgement", "<A@p>"),  # wrong contact
            MeasuredMessage("<news@x>", "other", None),  # not from the simulator
        ),
    )
    result = compare(_truth(), measured)
    assert not result.ok
    found = {(d.contact, d.fact): (d.expected, d.measured) for d in result.contact_differences}
    assert found == {
        ("<A@p>", "first_answer_at"): (_at(26), _at(26) + timedelta(seconds=1)),
        ("<B@p>", "first_answer_at"): (None, _at(0.01).replace(microsecond=0)),
        ("<B@p>", "undeliverable"): (True, False),
        ("<D@p>", "first_ack_at"): (None, _at(50)),
        ("<D@p>", "first_answer_at"): (_at(50), None),
        ("<E@p>", "presence"): (True, False),
        ("<F@p>", "undeliverable"): (True, False),
        ("<G@p>", "presence"): (False, True),
    }
    [late] = [d for d in result.contact_differences if d.seconds_off is not None]
    assert late.seconds_off == 1.0 and "(+1 s)" in str(late)

    # classification: 5 delivered; 2 right (ack A, answer A), B and D wrong, E missing
    assert result.messages_compared == 5
    assert result.classification_accuracy == 2 / 5
    assert {(m.message_id, m.expected, m.measured) for m in result.misclassified} == {
        ("<dsn-b@p>", "bounce", "answer"),
        ("<ans-d@m>", "answer", "acknowledgement"),
        ("<red-e@m>", "redirect", "missing"),
    }
    assert [m.message_id for m in result.unexpected_messages] == ["<news@x>"]
    scores = {k: (s.true_positives, s.false_positives, s.false_negatives)
              for k, s in result.class_scores.items()}  # fmt: skip
    assert scores == {
        "acknowledgement": (1, 1, 0),
        "answer": (1, 1, 1),
        "bounce": (0, 0, 1),
        "other": (0, 1, 0),
        "redirect": (0, 0, 1),
    }
    assert result.class_scores["answer"].precision == 0.5
    assert result.class_scores["answer"].recall == 0.5
    assert result.class_scores["bounce"].precision is None

    # matching: ack A and bounce B right; answer A to triage, D to the wrong contact, E unseen
    assert (result.matched_correctly, result.matched_wrongly, result.unmatched) == (2, 1, 2)
    assert result.matching_accuracy == 2 / 5

    # elements: A 2 of 3 right; D's 3 not measured
    assert (result.elements_compared, result.elements_correct) == (6, 2)
    assert {(d.contact, d.element, d.expected, d.measured) for d in result.element_differences} == {
        ("<A@p>", "b", True, False),
        ("<D@p>", "a", True, None),
        ("<D@p>", "b", False, None),
        ("<D@p>", "c", False, None),
    }
    summary = "\n".join(result.summary())
    assert "classification accuracy: 40.0 %" in summary
    assert "matching accuracy: 40.0 %" in summary
    assert "expected-element accuracy: 33.3 %" in summary


def test_the_tracker_convention_for_acknowledgements_and_answers_is_a_parameter() -> None:
    truth = Truth()
    truth.record_decision(_reaction("<ooo@m>", "<A@p>", "out_of_office"))
    truth.record_delivery("<ooo@m>", _at(0.5).replace(microsecond=0), mailbox="INBOX",
                          uidvalidity=1, uid=1)  # fmt: skip
    ooo_is_ack = Measured(contacts=(MeasuredContact("<A@p>", SERVICE, _at(0.5), None),))
    assert not compare(truth, ooo_is_ack).ok
    result = compare(truth, ooo_is_ack, ack_kinds={"acknowledgement", "out_of_office"})
    assert result.contact_differences == ()


def test_measured_times_are_compared_to_the_second() -> None:
    truth = Truth()
    truth.record_decision(_reaction("<a@m>", "<A@p>", "answer"))
    truth.record_delivery("<a@m>", _at(2), mailbox="INBOX", uidvalidity=1, uid=1)
    within = Measured(
        contacts=(MeasuredContact("<A@p>", SERVICE, None, _at(2) + timedelta(microseconds=900)),)
    )
    assert compare(truth, within).contact_differences == ()
