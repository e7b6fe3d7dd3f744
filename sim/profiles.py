"""How a simulated service behaves: named profiles, and which profile each service gets. Pure.

    ProfileMix --assign(addresses, seed)--> {service address: Profile}   (shares kept exactly)
    Profile + Request --decide (sim/decisions.py)--> Decision(outcome, planned reactions)

A ``Profile`` says, for one service, what becomes of a request: the share of each ``Outcome``
(never answered; only an acknowledgement; an acknowledgement then an answer; an answer; a
redirect to another service; an out-of-office reply, alone or followed by an answer once the
agent is back), or that the address is dead (every request bounces: refused with a 5xx at
RCPT, or accepted and bounced later by a DSN). It also sets how the answers are written: the
share of expected elements left out, answers from another agent's own address (sometimes with
no thread headers), fresh messages with a new subject instead of a reply, answers a spam
filter files in Junk, absence replies sent by an agent's own mail-client rule (no automation
header at all), answers written in the service's ticket system (its own thread, not ours).

And the mail around a request that answers nothing, which real mailboxes get and which must
move no figure: the town's newsletter a first contact subscribes the persona to, a platform's
notification from a no-reply address, spam, a delivery report of success from the persona's
provider, a delay warning when the service's server is unreachable for a few hours (the
request then reaches the service late, and everything it does starts from then).

Determinism: ``decide`` takes a ``random.Random``; callers seed one per request from the
campaign seed, the service and the request's Message-ID (``request_rng``), so a run replays
exactly whatever order requests arrive in.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time
from enum import StrEnum

from scenarios.calendar import BusinessCalendar


class Outcome(StrEnum):
    """What becomes of one request sent to a live address."""

    SILENT = "silent"
    ACK_ONLY = "ack_only"
    ACK_THEN_ANSWER = "ack_then_answer"
    ANSWER = "answer"
    REDIRECT = "redirect"
    OUT_OF_OFFICE = "out_of_office"
    OUT_OF_OFFICE_THEN_ANSWER = "out_of_office_then_answer"


class DeadAddress(StrEnum):
    """How a dead address shows: refused at RCPT, or accepted and bounced with a DSN."""

    RCPT = "rcpt"
    DSN = "dsn"


# The persona's provider warns the sender after this many hours in its queue (Postfix's
# delay_warning_time, as providers set it): a delayed request waits longer than this.
DELAY_WARNING_HOURS = 4

OfficeHours = tuple[tuple[time, time], ...]
DEFAULT_OFFICE_HOURS: OfficeHours = ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))


def _check_share(name: str, value: float) -> None:
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ValueError(f"{name} must be a share between 0 and 1, not {value!r}")


def _check_weights(name: str, weights: Sequence[float]) -> None:
    if not weights or any(not math.isfinite(w) or w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError(f"{name} must be non-negative weights with a positive sum: {weights!r}")


def draw_index(weights: Sequence[float], rng: random.Random) -> int:
    """An index drawn with probability proportional to its weight."""
    point = rng.random() * sum(weights)
    for index, weight in enumerate(weights):
        point -= weight
        if point < 0 and weight > 0:
            return index
    return max(i for i, w in enumerate(weights) if w > 0)


@dataclass(frozen=True)
class Profile:
    """The behaviour of one service. Shares are probabilities per request (or per element).

    ``answer_days`` are weights of 0, 1, 2… business days between the request and a person's
    answer (or redirect, or human acknowledgement with ``ack_days``); ``absence_days`` the
    range of business days an absent agent is away; ``auto_reply_seconds`` the range of
    seconds a machine takes. The ``*_share`` fields after ``junk_share`` are the mail that
    answers nothing (see the module docstring), per request unless said otherwise.
    """

    key: str
    name: str  # French, as a coordinator reads it
    outcomes: tuple[tuple[Outcome, float], ...] = ((Outcome.ANSWER, 1.0),)
    dead: DeadAddress | None = None
    answer_days: tuple[float, ...] = (0.3, 0.3, 0.2, 0.1, 0.05, 0.05)
    ack_days: tuple[float, ...] = (0.7, 0.3)
    redirect_days: tuple[float, ...] = (0.5, 0.3, 0.2)
    absence_days: tuple[int, int] = (2, 10)
    auto_reply_seconds: tuple[int, int] = (2, 90)
    bounce_seconds: tuple[int, int] = (1, 240)
    office_hours: OfficeHours = DEFAULT_OFFICE_HOURS
    automatic_ack_share: float = 0.8
    automatic_threaded_share: float = 0.8
    other_agent_share: float = 0.15
    other_agent_unthreaded_share: float = 0.5
    unthreaded_share: float = 0.1
    omit_share: float = 0.15
    junk_share: float = 0.03
    client_rule_share: float = 0.3  # of absence replies: the agent's client rule, no header
    ticket_answer_share: float = 0.6  # of answers, when the service has a ticket system
    newsletter_share: float = 0.12  # of a persona's first requests to a town
    newsletter_issues: tuple[int, int] = (1, 3)  # issues received after subscribing
    notification_share: float = 0.05
    spam_share: float = 0.06
    spam_filtered_share: float = 0.6  # of spam: caught by the provider's filter, in Junk
    success_report_share: float = 0.04  # the persona's provider reports the delivery
    delayed_share: float = 0.04  # the service's server unreachable for a few hours
    delay_hours: tuple[int, int] = (5, 30)  # how long the request then waits in the queue

    def __post_init__(self) -> None:
        if not self.key or not self.name:
            raise ValueError("a profile needs a key and a name")
        _check_weights(f"{self.key}: outcomes", [w for _, w in self.outcomes])
        if len({o for o, _ in self.outcomes}) != len(self.outcomes):
            raise ValueError(f"{self.key}: an outcome is listed twice")
        for name in ("answer_days", "ack_days", "redirect_days"):
            _check_weights(f"{self.key}: {name}", getattr(self, name))
        for name in (
            "automatic_ack_share",
            "automatic_threaded_share",
            "other_agent_share",
            "other_agent_unthreaded_share",
            "unthreaded_share",
            "omit_share",
            "junk_share",
            "client_rule_share",
            "ticket_answer_share",
            "newsletter_share",
            "notification_share",
            "spam_share",
            "spam_filtered_share",
            "success_report_share",
            "delayed_share",
        ):
            _check_share(f"{self.key}: {name}", getattr(self, name))
        for name in (
            "absence_days",
            "auto_reply_seconds",
            "bounce_seconds",
            "newsletter_issues",
            "delay_hours",
        ):
            low, high = getattr(self, name)
            if not 0 <= low <= high:
                raise ValueError(f"{self.key}: {name} must be 0 <= low <= high: {(low, high)}")
        if self.auto_reply_seconds[0] < 1 or self.bounce_seconds[0] < 1:
            raise ValueError(f"{self.key}: a machine takes at least one second")
        if self.delay_hours[0] <= DELAY_WARNING_HOURS:
            raise ValueError(
                f"{self.key}: delay_hours must start after the provider's delay warning "
                f"({DELAY_WARNING_HOURS} h)"
            )
        if not self.office_hours:
            raise ValueError(f"{self.key}: office_hours is empty")
        previous = time(0, 0)
        for start, end in self.office_hours:
            if not previous <= start < end:
                raise ValueError(f"{self.key}: office hours must be ordered, disjoint spans")
            previous = end

    def share(self, outcome: Outcome) -> float:
        """The probability of ``outcome`` for one request (0 for a dead address)."""
        if self.dead is not None:
            return 0.0
        total = sum(w for _, w in self.outcomes)
        return sum(w for o, w in self.outcomes if o == outcome) / total

    def draw_outcome(self, rng: random.Random) -> Outcome:
        return self.outcomes[draw_index([w for _, w in self.outcomes], rng)][0]


def _days(*weights: float) -> tuple[float, ...]:
    return weights


# a slow service: mostly one to three weeks
_LENTE_DAYS = (0, 0.02, 0.05, 0.08, 0.1, 0.12, 0.12, 0.11, 0.1, 0.08, 0.07, 0.05, 0.04, 0.03, 0.02,
               0.01)  # fmt: skip


PROFILES: dict[str, Profile] = {
    profile.key: profile
    for profile in (
        Profile(
            "reactive",
            "réactive",
            outcomes=(
                (Outcome.ANSWER, 0.62),
                (Outcome.ACK_THEN_ANSWER, 0.22),
                (Outcome.OUT_OF_OFFICE_THEN_ANSWER, 0.05),
                (Outcome.REDIRECT, 0.04),
                (Outcome.OUT_OF_OFFICE, 0.02),
                (Outcome.SILENT, 0.05),
            ),
            answer_days=_days(0.45, 0.33, 0.12, 0.06, 0.04),
            omit_share=0.1,
        ),
        Profile(
            "lente",
            "lente",
            outcomes=(
                (Outcome.ANSWER, 0.42),
                (Outcome.ACK_THEN_ANSWER, 0.25),
                (Outcome.ACK_ONLY, 0.06),
                (Outcome.OUT_OF_OFFICE_THEN_ANSWER, 0.05),
                (Outcome.REDIRECT, 0.04),
                (Outcome.OUT_OF_OFFICE, 0.03),
                (Outcome.SILENT, 0.15),
            ),
            answer_days=_LENTE_DAYS,
            ack_days=(0.3, 0.3, 0.2, 0.2),
            redirect_days=(0.1, 0.2, 0.3, 0.2, 0.2),
            omit_share=0.25,
        ),
        Profile(
            "muette",
            "muette",
            outcomes=(
                (Outcome.SILENT, 0.9),
                (Outcome.ANSWER, 0.07),
                (Outcome.OUT_OF_OFFICE, 0.03),
            ),
            answer_days=_days(0, 0, 0.1, 0.1, 0.2, 0.2, 0.2, 0.2),
            omit_share=0.3,
        ),
        Profile(
            "automatique",
            "automatique seulement",
            outcomes=(
                (Outcome.ACK_ONLY, 0.85),
                (Outcome.ACK_THEN_ANSWER, 0.1),
                (Outcome.SILENT, 0.05),
            ),
            automatic_ack_share=1.0,
            answer_days=_days(0, 0.1, 0.2, 0.2, 0.2, 0.1, 0.1, 0.1),
        ),
        Profile("adresse-morte", "adresse morte", dead=DeadAddress.DSN),
        Profile("adresse-refusee", "adresse refusée à l'envoi", dead=DeadAddress.RCPT),
        Profile(
            "redirige",
            "redirige",
            outcomes=(
                (Outcome.REDIRECT, 0.7),
                (Outcome.ANSWER, 0.15),
                (Outcome.SILENT, 0.15),
            ),
            automatic_ack_share=0.3,
        ),
        Profile(
            "absente",
            "agent absent",
            outcomes=(
                (Outcome.OUT_OF_OFFICE_THEN_ANSWER, 0.5),
                (Outcome.OUT_OF_OFFICE, 0.3),
                (Outcome.ANSWER, 0.1),
                (Outcome.SILENT, 0.1),
            ),
            absence_days=(3, 12),
        ),
        Profile(
            "incomplete",
            "réponses incomplètes",
            outcomes=(
                (Outcome.ANSWER, 0.8),
                (Outcome.ACK_THEN_ANSWER, 0.1),
                (Outcome.SILENT, 0.1),
            ),
            omit_share=0.5,
            other_agent_share=0.3,
            unthreaded_share=0.25,
        ),
    )
}


@dataclass(frozen=True)
class ProfileMix:
    """Weights of named profiles in a campaign; ``assign`` keeps them as shares of services."""

    weights: tuple[tuple[str, float], ...]
    profiles: Mapping[str, Profile] = field(default_factory=lambda: PROFILES)

    def __post_init__(self) -> None:
        _check_weights("profile mix", [w for _, w in self.weights])
        unknown = [key for key, _ in self.weights if key not in self.profiles]
        if unknown:
            raise ValueError(f"unknown profiles in the mix: {', '.join(unknown)}")

    def quotas(self, count: int) -> dict[str, int]:
        """How many of ``count`` services get each profile (largest remainder, exact total)."""
        total = sum(w for _, w in self.weights)
        exact = [(key, count * w / total) for key, w in self.weights]
        quotas = {key: math.floor(share) for key, share in exact}
        left = count - sum(quotas.values())
        by_remainder = sorted(exact, key=lambda item: (-(item[1] - math.floor(item[1])), item[0]))
        for key, _ in by_remainder[:left]:
            quotas[key] += 1
        return quotas

    def assign(self, addresses: Iterable[str], seed: int | str) -> dict[str, Profile]:
        """A profile per service address (lower-cased), deterministic for ``seed``.

        The same addresses in any order get the same profiles; the shares of the mix are
        kept to within one service per profile.
        """
        unique = sorted({address.strip().lower() for address in addresses})
        order = sorted(unique, key=lambda address: _digest(f"{seed}|mix|{address}"))
        keys: list[str] = []
        for key, quota in self.quotas(len(order)).items():
            keys.extend([key] * quota)
        rng = random.Random(f"{seed}|mix")
        rng.shuffle(keys)
        return {address: self.profiles[key] for address, key in zip(order, keys, strict=True)}


DEFAULT_MIX = ProfileMix(
    (
        ("reactive", 30),
        ("lente", 22),
        ("incomplete", 8),
        ("muette", 8),
        ("automatique", 8),
        ("redirige", 8),
        ("absente", 6),
        ("adresse-morte", 5),
        ("adresse-refusee", 5),
    )
)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class SimulatedService:
    """A service the simulator plays: its address, where it is, who it is, how it behaves."""

    address: str
    departement: str
    profile: Profile
    collectivity: str = ""  # the commune's (or body's) name: « Lavernay »
    name: str = ""  # the service's name: « État civil »
    kind: str = ""  # a service kind code (scenarios.service_kinds), when known

    @property
    def calendar(self) -> BusinessCalendar:
        return BusinessCalendar.for_departement(self.departement)


@dataclass(frozen=True)
class ServiceEntry:
    """A service of the directory, as the demo reads it (before a profile is drawn)."""

    address: str
    departement: str
    collectivity: str = ""
    name: str = ""
    kind: str = ""


def simulated_services(
    entries: Iterable[ServiceEntry], seed: int | str, mix: ProfileMix = DEFAULT_MIX
) -> dict[str, SimulatedService]:
    """A simulated service per address (lower-case), its profile drawn from ``mix``.

    Several services sharing one address (a small town hall's single mailbox) are one
    simulated service: the first entry describes it.
    """
    first: dict[str, ServiceEntry] = {}
    for entry in entries:
        first.setdefault(entry.address.strip().lower(), entry)
    profiles = mix.assign(first, seed)
    return {
        address: SimulatedService(
            address,
            entry.departement,
            profiles[address],
            collectivity=entry.collectivity,
            name=entry.name,
            kind=entry.kind,
        )
        for address, entry in first.items()
    }


def request_rng(seed: int | str, service: str, message_id: str | None) -> random.Random:
    """The generator for one request's decision (stable across runs and arrival orders)."""
    return random.Random(f"{seed}|request|{service.lower()}|{message_id or ''}")
