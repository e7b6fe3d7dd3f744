"""The messages a service's machines send back: automatic acknowledgements and absence replies.

    acknowledgement: by the service's ticket system when it has one (tickets.py), else by its
        mail platform's auto-responder on the shared mailbox (platforms.py: Exchange's
        « Réponse automatique : », Zimbra, BlueMind, a Sieve server's « Auto: », Gmail), in
        the platform's headers, to the From address
    out_of_office: the first agent is away until ``planned.back_on``; the platform's automatic
        reply (its headers, to the envelope sender), giving another desk's address and phone
    client_rule_absence: the same news sent by the agent's own mail-client rule: a plain
        message from their client (its usual headers, a normal return path), no automation
        header at all; only the wording says it is an absence

Platform replies follow RFC 3834 (an ``Auto-Submitted`` header, an empty Return-Path except
Gmail's), as real ones do. The words are french_auto.py's.
"""

from __future__ import annotations

from datetime import date, timedelta

from sim.decisions import PlannedReaction
from sim.town_halls import tickets
from sim.town_halls.french import french_date, short_date, to_phrase
from sim.town_halls.french_auto import (
    ABSENCE_SUBJECTS,
    ABSENCES,
    PLATFORM_ACK_SUBJECTS,
    PLATFORM_ACKS,
)
from sim.town_halls.incoming import REPLY_PREFIX
from sim.town_halls.platforms import auto_reply
from sim.town_halls.writer import Writer, Written


def acknowledgement(writer: Writer, planned: PlannedReaction) -> Written:
    voice, rng, req = writer.voice, writer.rng, writer.request
    if voice.ticket_system:
        return tickets.acknowledgement(writer, planned)
    platform = auto_reply(voice.platform, voice.service.address)
    subject_of = REPLY_PREFIX.sub("", req.subject)
    if voice.platform == "exchange":
        subject = f"Réponse automatique : {subject_of}"
    elif voice.platform == "sieve":
        subject = f"Auto: {subject_of}"
    else:
        subject = rng.choice(PLATFORM_ACK_SUBJECTS).format(
            subject=subject_of, town_hall=voice.town_hall
        )
    first, second = rng.choice(PLATFORM_ACKS)
    text = [
        rng.choice(("Bonjour,", "Madame, Monsieur,")),
        "",
        first.format(service=voice.service_name),
        second,
        "",
        f"{voice.service_name} - {voice.town_hall}",
    ]
    return writer.finish(
        text,
        sender_name=voice.service_name,
        sender=voice.service.address,
        to=req.persona,
        subject=subject,
        planned=planned,
        style=platform.style,
        headers=platform.headers,
        return_path="" if platform.null_return_path else None,
        threaded=True if platform.always_threaded else None,
        form=voice.platform,
    )


def _english_date(day: date) -> str:
    # Spelt out here: strftime's names follow the process's locale.
    days = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    months = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")  # fmt: skip
    return f"{days[day.weekday()]} {day.day} {months[day.month - 1]}"


def _absence_lines(writer: Writer, back_on: date) -> tuple[list[str], dict[str, str]]:
    """The absent agent's two sentences, and the slots they were filled with."""
    voice, rng = writer.voice, writer.rng
    agent = voice.agents[0]
    last_day = voice.service.calendar.add_business_days(back_on, -1)
    if voice.service.address.startswith("accueil@"):
        desk, desk_address = "le secrétariat de la mairie", f"secretariat@{voice.domain}"
    else:
        desk, desk_address = "l'accueil de la mairie", f"accueil@{voice.domain}"
    slots = {
        "absent": "absente" if agent.feminine else "absent",
        "Absent": "Absente" if agent.feminine else "Absent",
        "last_day": french_date(last_day),
        "last_day_en": _english_date(last_day),
        "last_short": short_date(last_day),
        "back_on": french_date(back_on),
        "desk": desk,
        "to_desk": to_phrase(desk),
        "desk_address": desk_address,
        "phone": voice.phone,
    }
    first, second = rng.choice(ABSENCES)
    return [first.format(**slots), second.format(**slots)], slots


def out_of_office(writer: Writer, planned: PlannedReaction) -> Written:
    voice, rng, req = writer.voice, writer.rng, writer.request
    agent = voice.agents[0]
    back_on = planned.back_on or (planned.at + timedelta(days=7)).date()
    sentences, slots = _absence_lines(writer, back_on)
    platform = auto_reply(voice.platform, voice.service.address)
    subject_of = REPLY_PREFIX.sub("", req.subject)
    if voice.platform == "exchange":
        subject = f"Réponse automatique : {subject_of}"
    elif voice.platform == "sieve":
        subject = f"Auto: {subject_of}"
    else:
        subject = rng.choice(ABSENCE_SUBJECTS).format(**slots)
    text = ["Bonjour,", "", *sentences, "", rng.choice(("Cordialement,", "Bien cordialement,")),
            agent.name]  # fmt: skip
    if voice.platform != "exchange":
        text.append(agent.role)
    return writer.finish(
        text,
        sender_name=agent.name,
        sender=voice.service.address,
        to=req.persona if voice.platform == "exchange" else req.envelope_sender,
        subject=subject,
        planned=planned,
        style=platform.style,
        headers=platform.headers,
        return_path="" if platform.null_return_path else None,
        threaded=True if platform.always_threaded else None,
        form=voice.platform,
    )


def client_rule_absence(writer: Writer, planned: PlannedReaction) -> Written:
    """An absence reply sent by the agent's own client rule: no automation header at all."""
    voice, rng, req = writer.voice, writer.rng, writer.request
    agent = voice.agents[0]
    back_on = planned.back_on or (planned.at + timedelta(days=7)).date()
    sentences, slots = _absence_lines(writer, back_on)
    if planned.threaded:
        subject = writer.reply_subject(True, "")
    else:
        subject = rng.choice(ABSENCE_SUBJECTS).format(**slots)
    text = ["Bonjour,", "", *sentences, "", *writer.closing(agent, full=False)]
    return writer.finish(
        text,
        sender_name=agent.name,
        sender=voice.service.address,
        to=req.persona,
        subject=subject,
        planned=planned,
        style=voice.client,
        form="client_rule",
    )
