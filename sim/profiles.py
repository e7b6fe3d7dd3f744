"""How a simulated service behaves: named profiles and the reactions they draw. Pure code.

    ProfileMix --assign(addresses, seed)--> {service address: Profile}   (shares kept exactly)
    Profile + Request --decide(calendar, rng)--> Decision(outcome, planned reactions)

A ``Profile`` says, for one service, what becomes of a request: the share of each ``Outcome``
(never answered; only an acknowledgement; an acknowledgement then an answer; an answer; a
redirect to another service; an out-of-office reply, alone or followed by an answer once the
agent is back), or that the address is dead (every request bounces: refused with a 5xx at
RCPT, or accepted and bounced later by a DSN). It also sets how the answers are written: the
share of expected elements left out, answers from another agent's own address (sometimes with
no thread headers), fresh messages with a new subject instead of a reply, answers a spam
filter files in Junk.

Timing. People write during office hours of business days of the service's département, in
its local time zone: an answer ``d`` business days after a request is sent on the ``d``-th
business day after the request's local date (``d = 0``: the same day if it is a business day
and office hours remain, else the next one), at a uniformly drawn whole second of the office
spans, never before ``HUMAN_MIN_DELAY`` after the request. Machines (automatic
acknowledgements, absence replies, bounces) answer within seconds or minutes, at any hour.
Every planned instant is an aware UTC datetime on a whole second (IMAP INTERNALDATE keeps
whole seconds).

Determinism: ``decide`` takes a ``random.Random``; callers seed one per request from the
campaign seed, the service and the request's Message-ID (``request_rng``), so a run replays
exactly whatever order requests arrive in.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Literal

from scenarios.calendar import BusinessCalendar

ReactionKind = Literal["answer", "acknowledgement", "out_of_office", "bounce", "redirect", "none"]
Mailbox = Literal["INBOX", "Junk"]

HUMAN_MIN_DELAY = timedelta(minutes=10)  # nobody answers a request faster than this
_AFTER_EACH_OTHER = timedelta(minutes=5)  # between two reactions to the same request
_ONE_DAY = timedelta(days=1)
_ONE_SECOND = timedelta(seconds=1)


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
    seconds a machine takes.
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
        ):
            _check_share(f"{self.key}: {name}", getattr(self, name))
        for name in ("absence_days", "auto_reply_seconds", "bounce_seconds"):
            low, high = getattr(self, name)
            if not 0 <= low <= high:
                raise ValueError(f"{self.key}: {name} must be 0 <= low <= high: {(low, high)}")
        if self.auto_reply_seconds[0] < 1 or self.bounce_seconds[0] < 1:
            raise ValueError(f"{self.key}: a machine takes at least one second")
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


# -- decisions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """A request as the service received it."""

    received_at: datetime
    elements: tuple[str, ...] = ()  # the scenario's expected element ids, in catalogue order


@dataclass(frozen=True)
class PlannedReaction:
    kind: ReactionKind
    at: datetime  # aware UTC, whole seconds
    automatic: bool  # written by a machine (auto-reply, DSN) rather than a person
    threaded: bool  # In-Reply-To/References name the request
    other_agent: bool = False  # sent from another agent's own address
    included: tuple[str, ...] = ()  # expected elements the answer gives
    omitted: tuple[str, ...] = ()  # expected elements it leaves out
    mailbox: Mailbox = "INBOX"
    back_on: date | None = None  # out of office: the local date the agent is back


@dataclass(frozen=True)
class Decision:
    outcome: Outcome | None  # None: the address is dead
    reactions: tuple[PlannedReaction, ...]


def whole_second(instant: datetime) -> datetime:
    """``instant`` in UTC, rounded up to a whole second (never earlier than given)."""
    instant = instant.astimezone(UTC)
    if instant.microsecond:
        instant = instant.replace(microsecond=0) + _ONE_SECOND
    return instant


def office_instant(
    calendar: BusinessCalendar,
    day: date,
    hours: OfficeHours,
    rng: random.Random,
    not_before: datetime,
) -> datetime:
    """A whole second inside ``hours`` of the first business day from ``day`` that has office
    time left at or after ``not_before`` (local wall times of the calendar's time zone)."""
    floor = whole_second(not_before)
    for _ in range(3660):  # a decade of days: only a broken calendar gets here
        if calendar.is_business_day(day):
            spans: list[tuple[datetime, int]] = []
            for start, end in hours:
                opens = max(calendar.local_instant(day, start), floor)
                closes = calendar.local_instant(day, end)
                seconds = int((closes - opens).total_seconds())
                if seconds > 0:
                    spans.append((opens, seconds))
            total = sum(seconds for _, seconds in spans)
            if total > 0:
                offset = rng.randrange(total)
                for opens, seconds in spans:
                    if offset < seconds:
                        return opens + timedelta(seconds=offset)
                    offset -= seconds
        day += _ONE_DAY
    raise ValueError(f"no office time found after {day} in département {calendar.departement}")


def business_day_instant(
    calendar: BusinessCalendar,
    start: datetime,
    days: int,
    hours: OfficeHours,
    rng: random.Random,
    not_before: datetime,
) -> datetime:
    """Office time on the ``days``-th business day after ``start``'s local date (see module)."""
    base = calendar.local_date(start)
    day = calendar.add_business_days(base, days) if days > 0 else base
    return office_instant(calendar, day, hours, rng, not_before)


def decide(
    profile: Profile, request: Request, calendar: BusinessCalendar, rng: random.Random
) -> Decision:
    """The reactions ``profile`` has to ``request``, each at its simulated instant."""
    received = request.received_at.astimezone(UTC)
    if profile.dead is DeadAddress.DSN:
        at = whole_second(received + timedelta(seconds=rng.randint(*profile.bounce_seconds)))
        return Decision(None, (PlannedReaction("bounce", at, automatic=True, threaded=False),))
    if profile.dead is DeadAddress.RCPT:
        return Decision(None, ())  # refused before any content: nothing to plan
    outcome = profile.draw_outcome(rng)
    reactions: list[PlannedReaction] = []
    person_from = received + HUMAN_MIN_DELAY
    answer_from = person_from
    answer_base = received

    if outcome in (Outcome.ACK_ONLY, Outcome.ACK_THEN_ANSWER):
        if rng.random() < profile.automatic_ack_share:
            ack = _machine(profile, "acknowledgement", received, rng)
        else:
            days = draw_index(profile.ack_days, rng)
            at = business_day_instant(
                calendar, received, days, profile.office_hours, rng, person_from
            )
            ack = PlannedReaction(
                "acknowledgement",
                at,
                automatic=False,
                threaded=rng.random() >= profile.unthreaded_share,
                mailbox=_mailbox(profile, rng),
            )
        reactions.append(ack)
        answer_from = max(answer_from, ack.at + _AFTER_EACH_OTHER)
    elif outcome in (Outcome.OUT_OF_OFFICE, Outcome.OUT_OF_OFFICE_THEN_ANSWER):
        away = _machine(profile, "out_of_office", received, rng)
        back_on = calendar.add_business_days(
            calendar.local_date(received), rng.randint(*profile.absence_days)
        )
        reactions.append(replace(away, back_on=back_on))
        answer_base = calendar.local_instant(back_on, time(0, 0))
        answer_from = max(answer_from, answer_base)

    if outcome in (
        Outcome.ANSWER,
        Outcome.ACK_THEN_ANSWER,
        Outcome.OUT_OF_OFFICE_THEN_ANSWER,
        Outcome.REDIRECT,
    ):
        redirect = outcome is Outcome.REDIRECT
        days = draw_index(profile.redirect_days if redirect else profile.answer_days, rng)
        at = business_day_instant(calendar, answer_base, days, profile.office_hours, rng,
                                  answer_from)  # fmt: skip
        other_agent = rng.random() < profile.other_agent_share
        if other_agent:
            threaded = rng.random() >= profile.other_agent_unthreaded_share
        else:
            threaded = rng.random() >= profile.unthreaded_share
        included: tuple[str, ...] = ()
        omitted: tuple[str, ...] = ()
        if not redirect:
            keep = [rng.random() >= profile.omit_share for _ in request.elements]
            included = tuple(e for e, k in zip(request.elements, keep, strict=True) if k)
            omitted = tuple(e for e, k in zip(request.elements, keep, strict=True) if not k)
        reactions.append(
            PlannedReaction(
                "redirect" if redirect else "answer",
                at,
                automatic=False,
                threaded=threaded,
                other_agent=other_agent,
                included=included,
                omitted=omitted,
                mailbox=_mailbox(profile, rng),
            )
        )
    return Decision(outcome, tuple(reactions))


def _machine(
    profile: Profile, kind: ReactionKind, received: datetime, rng: random.Random
) -> PlannedReaction:
    at = whole_second(received + timedelta(seconds=rng.randint(*profile.auto_reply_seconds)))
    return PlannedReaction(
        kind,
        at,
        automatic=True,
        threaded=rng.random() < profile.automatic_threaded_share,
        mailbox=_mailbox(profile, rng),
    )


def _mailbox(profile: Profile, rng: random.Random) -> Mailbox:
    return "Junk" if rng.random() < profile.junk_share else "INBOX"
