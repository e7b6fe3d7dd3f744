"""Circuit breakers per provider and per account, in the dispatcher's process: an outage
costs seconds, and while it lasts nobody knocks on the door once per contact.

A key is a provider (``smtp:host:port``) or an account on it (``smtp:host:port/login``).

    closed ──failure of the session (connect, TLS, 421, AUTH, MAIL FROM)──────▶ open
    closed ──``threshold`` per-message failures on our side in a row─────────▶ open
    open ──now >= next probe──▶ half-open: the next batch is the probe
    half-open ──an accepted message (or a session that opens)──▶ closed: the contacts it
                                                                  held go out at once
    half-open ──failure──▶ open again, the next probe twice as far (capped)

While a key is open, every contact of it that comes due is held to the next probe (no
attempt counted, one event each, one log line per provider and run). Schedules: an
unreachable or busy provider (``UNREACHABLE``) is probed after 5 s, doubling up to 5 minutes;
an account or provider that *refuses* us (``REFUSED``: authentication, policy, quota) after
1 minute, doubling up to 30 minutes, because the same refusal repeated is noise to it until
someone acts. Nothing here reads a clock or does I/O: ``now`` is passed in.

The state lives in memory: several worker processes each keep their own (each probes on its
own), and a restarted worker starts closed; the held contacts are due at the probe time that
was stored with them, so nothing waits longer than one cap after a restart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from channels.smtp_outcomes import Outcome

UNREACHABLE = "unreachable"
REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class Schedule:
    base_seconds: float
    cap_seconds: float

    def delay(self, failures: int) -> timedelta:
        seconds = self.base_seconds * 2 ** max(failures - 1, 0)
        return timedelta(seconds=min(seconds, self.cap_seconds))


DEFAULT_SCHEDULES = {
    UNREACHABLE: Schedule(5.0, 300.0),
    REFUSED: Schedule(60.0, 1800.0),
}


@dataclass(frozen=True, slots=True)
class Hold:
    """Why and until when a key holds its contacts."""

    key: str
    kind: str
    since: datetime  # the first failure of this outage
    until: datetime  # the next probe
    cause: Outcome  # what tripped it (its reply goes with every contact it holds)
    failures: int


@dataclass(frozen=True, slots=True)
class Recovery:
    """A key that works again: how long it did not, and the contacts it held (to release)."""

    key: str
    kind: str
    since: datetime
    cause: Outcome
    held: dict[int, datetime]


@dataclass
class _State:
    kind: str
    since: datetime
    cause: Outcome
    failures: int = 0  # trips of this outage (drives the probe schedule)
    strikes: int = 0  # per-message failures in a row while closed
    until: datetime | None = None  # open until then; None: closed
    held: dict[int, datetime] = field(default_factory=dict)


class Breakers:
    def __init__(self, schedules: dict[str, Schedule] | None = None, *, threshold: int = 3) -> None:
        self.schedules = schedules or DEFAULT_SCHEDULES
        self.threshold = threshold
        self._states: dict[str, _State] = {}

    def holding(self, key: str, now: datetime) -> Hold | None:
        """The hold in force for ``key`` at ``now``; None when closed or due for a probe."""
        state = self._states.get(key)
        if state is None or state.until is None or now >= state.until:
            return None
        return self._hold(key, state)

    def trip(self, key: str, kind: str, cause: Outcome, now: datetime) -> Hold:
        """A failure that every message would meet: open now (or again, further out)."""
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = _State(kind=kind, since=now, cause=cause)
        state.kind, state.cause = kind, cause
        state.failures += 1
        state.strikes = 0
        state.until = now + self.schedules[kind].delay(state.failures)
        return self._hold(key, state)

    def strike(self, key: str, kind: str, cause: Outcome, now: datetime) -> Hold | None:
        """A per-message failure on our side: opens at ``threshold`` in a row (or at once
        when half-open, since the probe failed). Returns the hold when it opened."""
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = _State(kind=kind, since=now, cause=cause)
        state.strikes += 1
        state.cause = cause
        if state.failures or state.strikes >= self.threshold:
            return self.trip(key, kind, cause, now)
        return None

    def remember(self, key: str, contact_id: int, until: datetime) -> None:
        """A contact held because of ``key``: released if ``key`` recovers from an outage."""
        state = self._states.get(key)
        if state is not None:
            state.held[contact_id] = until

    def success(self, key: str) -> Recovery | None:
        """``key`` worked (a session opened, a message was accepted): close it.

        Only a recovery from an open breaker releases what it held: a message refused on its
        own while the others go through (a spam verdict on its wording) keeps its own
        schedule, or it would be offered again at every run."""
        state = self._states.pop(key, None)
        if state is None or not state.failures:
            return None
        return Recovery(key, state.kind, state.since, state.cause, dict(state.held))

    def open_keys(self) -> list[str]:
        return [key for key, state in self._states.items() if state.until is not None]

    def _hold(self, key: str, state: _State) -> Hold:
        assert state.until is not None
        return Hold(key, state.kind, state.since, state.until, state.cause, state.failures)
