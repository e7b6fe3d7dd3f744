"""A service's ticket system: its acknowledgements, and the answers its agents write in it.

    ticket_of(writer) --> Ticket: the number, the subject tag and the thread of the ticket the
        request opened (the same for every message about that request: derived from the
        service and the request's Message-ID)
    acknowledgement: the system's receipt with the ticket number; OTRS- and Zammad-like ones
        answer in our thread, to the Reply-To (OTRS) or the From address; a GLPI-like one
        starts the ticket's own thread (In-Reply-To and References name the ticket, not us)
    answer: an agent's answer sent by the system, in the ticket's own thread (never ours),
        its tag in the subject, to the From address the ticket recorded; the agent's words
        are human.py's (the same expected elements), framed by the system

    system   tag in the subject                 sender
    otrs     [Ticket#2026031610000123] …         the service's address
    glpi     [GLPI #0004521] …                   demandes@ the town's domain
    zammad   … [Ticket#31001]                    the service's address

The tracker cannot tie these answers to our request by a header: it has the sender, the
domain and the subject, or triage.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sim.decisions import PlannedReaction
from sim.town_halls import human
from sim.town_halls.french import french_date
from sim.town_halls.french_auto import TICKET_ACKS
from sim.town_halls.incoming import REPLY_PREFIX
from sim.town_halls.platforms import ticket_headers
from sim.town_halls.writer import Writer, Written


@dataclass(frozen=True)
class Ticket:
    system: str
    number: str
    tag: str
    thread: str  # the Message-ID the system's messages about this ticket refer to
    sender_name: str
    sender: str
    host: str

    def subject(self, title: str) -> str:
        return f"{title} {self.tag}" if self.system == "zammad" else f"{self.tag} {title}"


def ticket_of(writer: Writer) -> Ticket:
    voice, req = writer.voice, writer.request
    system = voice.ticket_system or "otrs"
    key = f"{voice.service.address.lower()}|{req.message_id}".encode()
    digest = int.from_bytes(hashlib.sha256(key).digest()[:8], "big")
    opened = writer.sent.astimezone(writer.tz)
    host = f"{system}.{voice.domain}"
    if system == "glpi":
        number = str(1000 + digest % 9000)
        tag = f"[GLPI #{int(number):07d}]"
        thread = f"<GLPI_{digest % 16**12:012x}-Ticket-{number}@{host}>"
        return Ticket(system, number, tag, thread, f"{voice.town_hall} - Demandes",
                      f"demandes@{voice.domain}", host)  # fmt: skip
    if system == "zammad":
        number = str(31001 + digest % 5000)
        thread = f"<zammad.{opened:%Y%m%d%H%M%S}.{digest % 10**6}@{host}>"
    else:
        number = f"{opened:%Y%m%d}10{digest % 10**6:06d}"
        thread = f"<{int(opened.timestamp())}.{digest % 10**6}.{number}@{host}>"
    return Ticket(system, number, f"[Ticket#{number}]", thread, voice.service_name,
                  voice.service.address, host)  # fmt: skip


def acknowledgement(writer: Writer, planned: PlannedReaction) -> Written:
    voice, req = writer.voice, writer.request
    ticket = ticket_of(writer)
    subject_of = REPLY_PREFIX.sub("", req.subject)
    slots = {
        "received": french_date(writer.sent_on()),
        "number": ticket.number,
        "town_hall": voice.town_hall,
        "subject": subject_of,
        "name": req.persona_name,
    }
    text = [line.format(**slots) for line in TICKET_ACKS[ticket.system]]
    if ticket.system == "otrs":
        subject = ticket.subject(f"Accusé de réception : {subject_of}")
        to = writer.reply_address()
    elif ticket.system == "glpi":
        subject = ticket.subject(f"Nouveau ticket - {subject_of}")
        to = req.persona
    else:
        subject = ticket.subject(f"Merci pour votre demande ({subject_of})")
        to = req.persona
    own_thread = ticket.system == "glpi"
    return writer.finish(
        text,
        sender_name=ticket.sender_name,
        sender=ticket.sender,
        to=to,
        subject=subject,
        planned=planned,
        style="ticket",
        headers=ticket_headers(ticket.system, ticket.sender, acknowledgement=True),
        return_path="",
        threaded=False if own_thread else None,
        thread_of=ticket.thread if own_thread else None,
        message_id=ticket.thread if ticket.system != "glpi" else None,
        form=ticket.system,
    )


def answer(writer: Writer, planned: PlannedReaction) -> Written:
    """The agent's answer, sent by the ticket system in the ticket's own thread."""
    voice, req = writer.voice, writer.request
    if not voice.ticket_system:
        return human.answer(writer, planned)
    ticket = ticket_of(writer)
    agent = voice.agents[1 if planned.other_agent else 0]
    own, _ = human.answer_text(writer, planned, agent)
    subject_of = REPLY_PREFIX.sub("", req.subject)
    before: list[str] = []
    after: list[str] = []
    if ticket.system == "glpi":
        before = [f"Un suivi a été ajouté à votre demande n° {ticket.number}.", ""]
        after = ["", "--", f"{ticket.tag} {subject_of}",
                 f"Suivi de la demande : https://{ticket.host}/front/ticket.form.php?id="
                 f"{ticket.number}"]  # fmt: skip
        subject = ticket.subject(f"Nouveau suivi - {subject_of}")
    elif ticket.system == "zammad":
        subject = ticket.subject(f"RE: {subject_of}")
    else:
        after = ["", f"Référence de votre demande : Ticket#{ticket.number}"]
        subject = ticket.subject(f"RE: {subject_of}")
    text = [*before, *own, *after]
    # The system's frame is part of what the citizen reads: the truth is what the whole says.
    elements = writer.scenario.expected_elements if writer.scenario else ()
    found = tuple(e.id for e in elements if e.found_in("\n".join(text)))
    if ticket.system == "otrs":
        text += writer.quote()
    return writer.finish(
        text,
        sender_name=ticket.sender_name,
        sender=ticket.sender,
        to=req.persona,
        subject=subject,
        planned=planned,
        style="ticket",
        headers=ticket_headers(ticket.system, ticket.sender, acknowledgement=False),
        threaded=False,
        thread_of=ticket.thread,
        included=found,
        omitted=tuple(e.id for e in elements if e.id not in found),
        form=ticket.system,
    )
