"""The circuit breakers on their own: schedules, thresholds, what a recovery releases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from channels.smtp_outcomes import Stage, sort_reply, sort_transport
from runners.breaker import REFUSED, UNREACHABLE, Breakers

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DOWN = sort_transport(Stage.CONNECT, "cannot connect: [Errno 111] Connection refused")
SPAM = sort_reply(Stage.DATA, 554, "5.7.1 Message rejected as spam")


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def test_an_unreachable_provider_is_probed_after_seconds_then_minutes() -> None:
    breakers = Breakers()
    key, now, probes = "smtp:h:587", T0, []
    for _ in range(9):
        hold = breakers.trip(key, UNREACHABLE, DOWN, now)
        probes.append((hold.until - now).total_seconds())
        assert hold.since == T0 and hold.cause is DOWN
        assert breakers.holding(key, now) == hold  # held until the probe...
        assert breakers.holding(key, hold.until) is None  # ...which then may go
        now = hold.until
    assert probes == [5, 10, 20, 40, 80, 160, 300, 300, 300]
    assert breakers.open_keys() == [key]


def test_refusals_of_single_messages_open_after_three_in_a_row() -> None:
    breakers = Breakers()
    key = "smtp:h:587/claire"
    assert breakers.strike(key, REFUSED, SPAM, T0) is None
    assert breakers.strike(key, REFUSED, SPAM, T0) is None
    hold = breakers.strike(key, REFUSED, SPAM, T0 + s(1))
    assert hold is not None and hold.until == T0 + s(61) and hold.since == T0
    # Half-open at the probe: one more failure reopens at once, twice as far.
    again = breakers.strike(key, REFUSED, SPAM, T0 + s(61))
    assert again is not None and again.until == T0 + s(181)


def test_a_recovery_releases_what_the_open_breaker_held_and_nothing_else() -> None:
    breakers = Breakers()
    key = "smtp:h:587"
    # A message refused on its own while the others pass keeps its own schedule.
    breakers.strike(key, REFUSED, SPAM, T0)
    breakers.remember(key, 7, T0 + s(1200))
    assert breakers.success(key) is None
    # An outage: what it held comes back at once when a message is accepted.
    hold = breakers.trip(key, UNREACHABLE, DOWN, T0)
    breakers.remember(key, 8, hold.until)
    breakers.remember(key, 9, hold.until)
    recovery = breakers.success(key)
    assert recovery is not None and recovery.held == {8: hold.until, 9: hold.until}
    assert recovery.since == T0 and recovery.cause is DOWN
    assert breakers.success(key) is None and breakers.holding(key, T0) is None
