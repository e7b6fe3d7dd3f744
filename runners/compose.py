"""What the dispatcher sends and when it may: a claimed step rendered to an email, and the
campaign's dispatch hours on the collectivity's business days.

``render_step`` builds the first message or the follow-up (same thread: In-Reply-To and
References to the first Message-ID, "courriel du 2 mars 2026" in its words) from the
scenario's wording, with the Message-ID stored at claim time. ``next_opening`` is the open
span containing ``now`` or the next one, which the dispatcher's gate sends within.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from channels.outgoing import Sender, build_email, subaddress
from scenarios.calendar import BusinessCalendar
from scenarios.catalog import Catalog, Scenario
from scenarios.opening_hours import OpeningHoursError, WeeklyHours, parse_hours
from scenarios.render import (
    CollectivityView,
    PersonaView,
    RequestView,
    ServiceView,
    render_wording,
)
from storage import dispatch as repo

log = logging.getLogger("temoin.dispatcher")

DEFAULT_DISPATCH_HOURS = "lu-ve 08:30-12:00,13:30-18:00"
FRENCH_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def french_date(instant: datetime, calendar: BusinessCalendar) -> str:
    local = instant.astimezone(calendar.tz)
    day = "1er" if local.day == 1 else str(local.day)
    return f"{day} {FRENCH_MONTHS[local.month - 1]} {local.year}"


def dispatch_hours(spec: dict[str, Any]) -> WeeklyHours:
    """The campaign's sending hours (local time of each collectivity).

    The campaign file keeps them as ``rules.dispatch_hours`` (scenarios/campaign_file.py);
    ``dispatch.hours`` is read too for specs stored before that format.
    """
    text = None
    if isinstance(spec, dict):
        for group, key in (("rules", "dispatch_hours"), ("dispatch", "hours")):
            table = spec.get(group)
            if isinstance(table, dict) and table.get(key):
                text = table[key]
                break
    try:
        return parse_hours(str(text or DEFAULT_DISPATCH_HOURS))
    except OpeningHoursError:
        log.warning("campaign dispatch hours %r unreadable; using the default", text)
        return parse_hours(DEFAULT_DISPATCH_HOURS)


def next_opening(
    now: datetime, calendar: BusinessCalendar, hours: WeeklyHours
) -> tuple[datetime, datetime] | None:
    """The open span containing ``now``, or else the next one, within 60 days."""
    day = calendar.local_date(now)
    for offset in range(60):
        current = day + timedelta(days=offset)
        if not calendar.is_business_day(current):
            continue
        for interval in hours.on(current.weekday()):
            start = calendar.local_instant(current, interval.start)
            end = calendar.local_instant(current, interval.end)
            if end > now:
                return start, end
    return None


def render_step(
    item: repo.Claimed, catalog: Catalog, now: datetime
) -> tuple[EmailMessage, Scenario, BusinessCalendar]:
    """The email of a claimed step (raises on an unknown scenario or a template error)."""
    scenario = catalog.get(item.scenario_id)
    calendar = BusinessCalendar.for_departement(item.departement)
    persona = item.persona
    first, _, last = persona.display_name.partition(" ")
    persona_view = PersonaView(
        display_name=persona.display_name,
        first_name=first,
        last_name=last or first,
        email=persona.email,
        address=persona.address or "",
        postal_code=persona.postal_code or "",
        city=persona.city or "",
    )
    service_view = ServiceView.of_kind(
        item.service_name, item.service_kind, item.service_city or ""
    )
    collectivity_view = CollectivityView(name=item.collectivity_name)
    wording = scenario.wordings[item.wording % len(scenario.wordings)]
    first_message = render_wording(wording, persona_view, service_view, collectivity_view)
    subject = first_message.subject or scenario.title
    sender = Sender(persona.display_name, persona.email)
    reply_to = None
    if persona.subaddress_separator and item.reply_token:
        reply_to = subaddress(persona.email, persona.subaddress_separator, item.reply_token)
    if item.step == repo.FIRST:
        message = build_email(
            sender=sender,
            to=item.service_email,
            subject=subject,
            body=first_message.body,
            message_id=item.message_id,
            date=now,
            reply_to=reply_to,
            tz=calendar.tz,
        )
        return message, scenario, calendar
    if scenario.followup is None or item.first_message_id is None or item.sent_at is None:
        raise ValueError("no follow-up wording or no first message")
    request = RequestView(subject=subject, sent_on=french_date(item.sent_at, calendar))
    followup = render_wording(
        scenario.followup, persona_view, service_view, collectivity_view, request
    )
    follow_subject = followup.subject or f"Re: {subject}"
    message = build_email(
        sender=sender,
        to=item.service_email,
        subject=follow_subject,
        body=followup.body,
        message_id=item.message_id,
        date=now,
        reply_to=reply_to,
        in_reply_to=item.first_message_id,
        references=(item.first_message_id,),
        tz=calendar.tz,
    )
    return message, scenario, calendar
