"""Delays of a contact in calendar seconds and business days (``reports.facts``).

Every expected value is computed by hand in the comments.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from reports.stats import delays_for
from scenarios.calendar import BusinessCalendar

PARIS = ZoneInfo("Europe/Paris")


def paris(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, second, tzinfo=PARIS).astimezone(UTC)


CAL75 = BusinessCalendar.for_departement("75")


def test_delays_answered() -> None:
    # Sent Monday 3 March 2025 09:00 Paris (CET), auto-ack 30 s later, answer Wednesday
    # 5 March 15:00: 2 days 6 h = 54 h = 194 400 s; business days Tue 4, Wed 5 = 2.
    d = delays_for(
        CAL75,
        sent_at=paris(3, 3, 9),
        first_ack_at=paris(3, 3, 9, 0, 30),
        first_answer_at=paris(3, 5, 15),
        closed_at=paris(3, 17, 18),
        ack_target_days=0,
        answer_target_days=2,
    )
    assert (d.answer_seconds, d.answer_business_days) == (194_400.0, 2)
    assert (d.ack_seconds, d.ack_business_days) == (30.0, 0)
    assert (d.censor_seconds, d.censor_business_days) == (None, None)
    # deadline(Mon, 2) = end of Wed 5 March > 15:00; deadline(Mon, 0) = end of Monday
    assert d.answered_within_target is True
    assert d.acknowledged_within_target is True
    late = delays_for(
        CAL75, sent_at=paris(3, 3, 9), first_answer_at=paris(3, 5, 15), answer_target_days=1
    )
    assert late.answered_within_target is False  # deadline end of Tuesday 4 March
    # no separate acknowledgement: the answer acknowledges
    assert (late.ack_seconds, late.ack_business_days) == (194_400.0, 2)


def test_delays_weekend_answer_after_the_last_working_day_is_on_time() -> None:
    # Target 4 business days from Monday 3 March. Answer Saturday 8 March 10:00: the business
    # days elapsed are Tue-Fri = 4, so on time ("4 jours ouvrés" counts working days). The
    # same answer on Monday 10 March has taken 5 working days: late. Kaplan-Meier's share
    # within target counts the same way.
    d = delays_for(
        CAL75, sent_at=paris(3, 3, 9), first_answer_at=paris(3, 8, 10), answer_target_days=4
    )
    assert d.answer_business_days == 4
    assert d.answered_within_target is True
    monday = delays_for(
        CAL75, sent_at=paris(3, 3, 9), first_answer_at=paris(3, 10, 8), answer_target_days=4
    )
    assert monday.answer_business_days == 5
    assert monday.answered_within_target is False


def test_delays_follow_the_departement_holidays() -> None:
    # Sent Thursday 17 April 2025 10:00, answered Tuesday 22 April 10:00 (120 h).
    # Paris: Fri 18 counts, Easter Monday 21 is a holiday, Tue 22 counts -> 2.
    # Bas-Rhin (67): Good Friday 18 April is also a holiday -> 1.
    sent, answer = paris(4, 17, 10), paris(4, 22, 10)
    paris_d = delays_for(CAL75, sent_at=sent, first_answer_at=answer)
    alsace = delays_for(
        BusinessCalendar.for_departement("67"), sent_at=sent, first_answer_at=answer
    )
    assert paris_d.answer_seconds == alsace.answer_seconds == 120 * 3600.0
    assert (paris_d.answer_business_days, alsace.answer_business_days) == (2, 1)


def test_delays_censored_and_window() -> None:
    sent, close = paris(3, 3, 9), paris(3, 17, 18)
    # no answer: censored at close. 14 days 9 h = 345 h; business days Tue 4 .. Mon 17 = 10
    d = delays_for(CAL75, sent_at=sent, closed_at=close, answer_target_days=5, ack_target_days=2)
    assert (d.censor_seconds, d.censor_business_days) == (345 * 3600.0, 10)
    assert (d.answer_seconds, d.ack_seconds) == (None, None)
    assert d.answered_within_target is False and d.acknowledged_within_target is False
    # closed before the deadline (end of Mon 10 March): cannot tell yet
    early = delays_for(CAL75, sent_at=sent, closed_at=paris(3, 7, 12), answer_target_days=5)
    assert early.answered_within_target is None
    # still open, no close: nothing to censor, nothing to tell
    open_ = delays_for(CAL75, sent_at=sent, answer_target_days=5)
    assert (open_.censor_seconds, open_.answered_within_target) == (None, None)
    # an answer after close is outside the window: censored at close
    after = delays_for(
        CAL75, sent_at=sent, first_answer_at=paris(3, 18, 9), closed_at=close, answer_target_days=5
    )
    assert after.answer_seconds is None and after.censor_seconds == 345 * 3600.0
    assert after.answered_within_target is False
    # an acknowledgement inside the window still counts when the answer is outside it
    acked = delays_for(
        CAL75, sent_at=sent, first_ack_at=paris(3, 3, 10), first_answer_at=paris(3, 18, 9),
        closed_at=close,
    )  # fmt: skip
    assert (acked.ack_seconds, acked.answer_seconds) == (3600.0, None)


def test_delays_not_reached_skew_and_naive() -> None:
    sent = paris(3, 3, 9)
    assert delays_for(CAL75, sent_at=None, answer_target_days=5).answered_within_target is None
    bounced = delays_for(
        CAL75, sent_at=sent, undeliverable=True, closed_at=paris(3, 17, 18), answer_target_days=5
    )
    assert bounced == type(bounced)()
    # 30 s before sent (IMAP INTERNALDATE vs our clock): zero delay
    skew = delays_for(CAL75, sent_at=sent, first_ack_at=sent - timedelta(seconds=30))
    assert (skew.ack_seconds, skew.ack_business_days) == (0.0, 0)
    with pytest.raises(ValueError):
        delays_for(CAL75, sent_at=sent, first_answer_at=sent - timedelta(minutes=10))
    with pytest.raises(ValueError):
        delays_for(CAL75, sent_at=datetime(2025, 3, 3, 9))
