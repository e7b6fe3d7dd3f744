"""compare() on mail that answers nothing and on delay warnings (hand-made truth and measures).

Mail of kind ``other`` (a newsletter, a notification, spam, a success report) follows a
request without answering it: the tracker must leave it unmatched, and a match of it is
wrong. A delay warning is a bounce that leaves its request deliverable. Each form of mail is
scored on its own.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sim.truth.journal import Truth
from sim.truth.records import TruthReaction
from sim.truth.replies import Measured, MeasuredContact, MeasuredMessage, compare

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
SERVICE = "accueil@mairie.example"


def _truth() -> Truth:
    """Request <A@p>: a delay warning (+4 h), an answer (+30 h) in a ticket system's thread,
    the town's newsletter (+3 days). Request <B@p>: a report of success (+10 s), then spam."""
    truth = Truth()
    plan = [
        ("<late-a@p>", "<A@p>", "bounce", "delayed", "delayed", 4.0),
        ("<ans-a@m>", "<A@p>", "answer", "glpi", None, 30.0),
        ("<news-a@m>", "<A@p>", "other", "newsletter", None, 72.0),
        ("<ok-b@p>", "<B@p>", "other", "delivered", None, 0.003),
        ("<spam-b@x>", "<B@p>", "other", "spam", None, 20.0),
    ]
    for uid, (mid, request, kind, form, bounce_mode, hours) in enumerate(plan, 1):
        truth.record_decision(
            TruthReaction(mid, request, SERVICE, "claire@temoin.example", kind,  # type: ignore[arg-type]
                          T0, reaction_message_id=mid, form=form, bounce_mode=bounce_mode)
        )  # fmt: skip
        at = (T0 + timedelta(hours=hours)).replace(microsecond=0)
        truth.record_delivery(mid, at, mailbox="INBOX", uidvalidity=1, uid=uid)
    return truth


def _contacts() -> tuple[MeasuredContact, ...]:
    answer = (T0 + timedelta(hours=30)).replace(microsecond=0)
    return (
        MeasuredContact("<A@p>", SERVICE, first_answer_at=answer, undeliverable=False),
        MeasuredContact("<B@p>", SERVICE),
    )


def test_mail_that_answers_nothing_left_unmatched_is_right() -> None:
    messages = (
        MeasuredMessage("<late-a@p>", "bounce", "<A@p>"),  # by the returned headers
        MeasuredMessage("<ans-a@m>", "answer", "<A@p>"),
        MeasuredMessage("<news-a@m>", "other", None),
        MeasuredMessage("<ok-b@p>", "other", None),
        MeasuredMessage("<spam-b@x>", "other", None),
    )
    result = compare(_truth(), Measured(_contacts(), messages))
    assert result.ok, result.summary()
    assert result.contact_differences == ()  # the delay warning left <A@p> deliverable
    assert (result.matching_accuracy, result.matched_wrongly, result.unmatched) == (1.0, 0, 0)
    assert result.class_scores["other"].recall == 1.0
    assert {label: (s.messages, s.classified, s.matched)
            for label, s in result.form_scores.items()} == {
        "bounce/delayed": (1, 1, 1), "answer/glpi": (1, 1, 1), "other/newsletter": (1, 1, 1),
        "other/delivered": (1, 1, 1), "other/spam": (1, 1, 1),
    }  # fmt: skip
    assert "  other/newsletter: 1: 1, 1" in result.summary()


def test_a_match_of_mail_that_answers_nothing_is_wrong_and_a_misread_one_shows() -> None:
    messages = (
        MeasuredMessage("<late-a@p>", "bounce", "<A@p>"),
        MeasuredMessage("<ans-a@m>", "answer", "<A@p>"),
        MeasuredMessage("<news-a@m>", "other", "<A@p>"),  # tied to the request by its domain
        MeasuredMessage("<ok-b@p>", "other", None),
        MeasuredMessage("<spam-b@x>", "answer", None),  # spam read as an answer
    )
    contacts = (_contacts()[0], MeasuredContact("<B@p>", SERVICE, undeliverable=True))
    result = compare(_truth(), Measured(contacts, messages))
    assert not result.ok
    assert result.matched_wrongly == 1
    assert [(d.message_id, d.expected, d.measured) for d in result.mismatched] == [
        ("<news-a@m>", None, "<A@p>")
    ]
    assert [(d.message_id, d.expected, d.measured) for d in result.misclassified] == [
        ("<spam-b@x>", "other", "answer")
    ]
    assert result.form_scores["other/newsletter"].matched == 0
    assert result.form_scores["other/spam"].classified == 0
    assert result.class_scores["answer"].false_positives == 1
    # <B@p> measured undeliverable though nothing of it failed: a difference
    [difference] = result.contact_differences
    assert (difference.contact, difference.fact) == ("<B@p>", "undeliverable")
