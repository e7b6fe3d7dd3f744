"""What a service does with one request: its reactions, each at its simulated instant. Pure.

    decide(profile, Request, calendar, rng) --> Decision(outcome, planned reactions, the
        instant the service really got the request)

Timing. People write during office hours of business days of the service's département, in
its local time zone: an answer ``d`` business days after a request is sent on the ``d``-th
business day after the request's local date (``d = 0``: the same day if it is a business day
and office hours remain, else the next one), at a uniformly drawn whole second of the office
spans, never before ``HUMAN_MIN_DELAY`` after the request. Machines (automatic
acknowledgements, absence replies, bounces, delivery reports, spam) answer within seconds or
minutes, at any hour; newsletters and notifications go out in office hours. Every planned
instant is an aware UTC datetime on a whole second (IMAP INTERNALDATE keeps whole seconds).

A request the service's server could not take at once (``delayed_share``) first brings the
persona's provider's delay warning, ``DELAY_WARNING_HOURS`` after it was sent; the service
gets it hours later, and everything it does is timed from then (``Decision.received_at``).

``PlannedReaction.form`` says which writer writes it (sim/town_halls/compose.py):

    acknowledgement   "auto_reply" (the service's ticket system or mail platform), "" (a person)
    out_of_office     "auto_reply" (the platform's), "client_rule" (no automation header)
    answer            "" (a person's mail), "ticket" (the ticket system, when the service has one)
    redirect          ""
    bounce            "failed" (the request is undeliverable), "delayed" (a delay warning)
    other             "newsletter", "notification", "spam", "delivered" (a success report)

Mail of kind ``other`` answers nothing: the request it follows is only what made it come.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from scenarios.calendar import BusinessCalendar
from sim.profiles import DELAY_WARNING_HOURS, DeadAddress, OfficeHours, Outcome, Profile, draw_index

ReactionKind = Literal[
    "answer", "acknowledgement", "out_of_office", "bounce", "redirect", "other", "none"
]
Mailbox = Literal["INBOX", "Junk"]

HUMAN_MIN_DELAY = timedelta(minutes=10)  # nobody answers a request faster than this
_AFTER_EACH_OTHER = timedelta(minutes=5)  # between two reactions to the same request
_ONE_DAY = timedelta(days=1)
_ONE_SECOND = timedelta(seconds=1)
_HOUR = 3600


@dataclass(frozen=True)
class Request:
    """A request as the service received it."""

    received_at: datetime
    elements: tuple[str, ...] = ()  # the scenario's expected element ids, in catalogue order
    first_contact: bool = False  # the persona's first request to this town


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
    form: str = ""  # which writer writes it (see the module docstring)


@dataclass(frozen=True)
class Decision:
    outcome: Outcome | None  # None: the address is dead
    reactions: tuple[PlannedReaction, ...]
    received_at: datetime  # when the service got the request (later when it was delayed)


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
        failed = PlannedReaction("bounce", at, automatic=True, threaded=False, form="failed")
        return Decision(None, (failed,), received)
    if profile.dead is DeadAddress.RCPT:
        return Decision(None, (), received)  # refused before any content: nothing to plan
    reactions: list[PlannedReaction] = []
    if rng.random() < profile.delayed_share:
        warned = received + timedelta(hours=DELAY_WARNING_HOURS, seconds=rng.randint(0, 600))
        reactions.append(PlannedReaction("bounce", whole_second(warned), automatic=True,
                                         threaded=False, form="delayed"))  # fmt: skip
        low, high = profile.delay_hours
        waited = timedelta(seconds=rng.randint(low * _HOUR, high * _HOUR))
        received = whole_second(received + waited)
    outcome = profile.draw_outcome(rng)
    reactions += _replies(profile, request, outcome, received, calendar, rng)
    reactions += _unrelated(profile, request, received, calendar, rng)
    return Decision(outcome, tuple(reactions), received)


def _replies(
    profile: Profile,
    request: Request,
    outcome: Outcome,
    received: datetime,
    calendar: BusinessCalendar,
    rng: random.Random,
) -> list[PlannedReaction]:
    """What the service's people and machines send back for ``outcome``."""
    reactions: list[PlannedReaction] = []
    person_from = received + HUMAN_MIN_DELAY
    answer_from = person_from
    answer_base = received

    if outcome in (Outcome.ACK_ONLY, Outcome.ACK_THEN_ANSWER):
        if rng.random() < profile.automatic_ack_share:
            ack = replace(_machine(profile, "acknowledgement", received, rng), form="auto_reply")
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
        form = "client_rule" if rng.random() < profile.client_rule_share else "auto_reply"
        reactions.append(replace(away, back_on=back_on, form=form))
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
        ticket = not redirect and rng.random() < profile.ticket_answer_share
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
                form="ticket" if ticket else "",
            )
        )
    return reactions


def _unrelated(
    profile: Profile,
    request: Request,
    received: datetime,
    calendar: BusinessCalendar,
    rng: random.Random,
) -> list[PlannedReaction]:
    """Mail that answers nothing and still comes because of the request (see the module)."""
    found: list[PlannedReaction] = []

    def add(form: str, at: datetime, mailbox: Mailbox | None = None) -> None:
        found.append(PlannedReaction("other", at, automatic=True, threaded=False, form=form,
                                     mailbox=mailbox or _mailbox(profile, rng)))  # fmt: skip

    hours = profile.office_hours
    if rng.random() < profile.success_report_share:
        add("delivered", whole_second(received + timedelta(seconds=rng.randint(1, 30))), "INBOX")
    if request.first_contact and rng.random() < profile.newsletter_share:
        issue = received
        for number in range(rng.randint(*profile.newsletter_issues)):
            days = rng.randint(2, 8) if number == 0 else rng.randint(7, 12)
            issue = business_day_instant(calendar, issue, days, hours, rng, issue)
            add("newsletter", issue)
    if rng.random() < profile.notification_share:
        days = rng.randint(1, 8)
        add("notification", business_day_instant(calendar, received, days, hours, rng, received))
    if rng.random() < profile.spam_share:
        at = whole_second(received + timedelta(seconds=rng.randint(2 * _HOUR, 240 * _HOUR)))
        add("spam", at, "Junk" if rng.random() < profile.spam_filtered_share else "INBOX")
    return found


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
