"""Which writer writes each planned reaction: the one table to extend with a new kind of mail.

compose(writer, planned) --(planned.kind, planned.form)-->
    answer, ""                  human.answer                    (an agent's mail)
    answer, "ticket"            tickets.answer                  (in the ticket system's own
                                                                 thread; human.answer when the
                                                                 service has none)
    redirect, ""                human.redirect
    acknowledgement, ""         human.acknowledgement           (an agent's « bien reçu »)
    acknowledgement, auto_reply automatic.acknowledgement       (the ticket system or platform)
    out_of_office, auto_reply   automatic.out_of_office         (the platform's reply)
    out_of_office, client_rule  automatic.client_rule_absence   (no automation header)
    bounce, failed              bounces.bounce                  (the persona's provider)
    bounce, delayed             bounces.delayed
    other, delivered            bounces.delivered               (a report of success)
    other, newsletter           mailings.newsletter
    other, notification         mailings.notification
    other, spam                 mailings.spam
"""

from __future__ import annotations

from collections.abc import Callable

from sim.decisions import PlannedReaction
from sim.town_halls import automatic, bounces, human, mailings, tickets
from sim.town_halls.writer import Writer, Written

WriteFunction = Callable[[Writer, PlannedReaction], Written]

WRITERS: dict[tuple[str, str], WriteFunction] = {
    ("answer", ""): human.answer,
    ("answer", "ticket"): tickets.answer,
    ("redirect", ""): human.redirect,
    ("acknowledgement", ""): human.acknowledgement,
    ("acknowledgement", "auto_reply"): automatic.acknowledgement,
    ("out_of_office", "auto_reply"): automatic.out_of_office,
    ("out_of_office", "client_rule"): automatic.client_rule_absence,
    ("bounce", "failed"): bounces.bounce,
    ("bounce", "delayed"): bounces.delayed,
    ("other", "delivered"): bounces.delivered,
    ("other", "newsletter"): mailings.newsletter,
    ("other", "notification"): mailings.notification,
    ("other", "spam"): mailings.spam,
}


def compose(writer: Writer, planned: PlannedReaction) -> Written:
    try:
        write = WRITERS[(planned.kind, planned.form)]
    except KeyError:
        raise ValueError(f"no writer for {planned.kind!r} written as {planned.form!r}") from None
    return write(writer, planned)
