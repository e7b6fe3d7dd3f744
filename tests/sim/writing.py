"""Support for the writer tests: requests as the dispatcher sends them, and every kind of
simulated mail written for them, without servers (the writers are pure given a generator).

    requests(n) --> Incoming requests of the catalogue's email scenarios, from two personas
        (one with a Reply-To token), to services of several kinds, départements and voices
    write_all(seed) --> for every request and every (kind, form) of compose.WRITERS: the
        planned reaction, the voice it was written in, and the Written message; the services'
        voices are drawn from the seed, then given each mail platform and ticket system in
        turn (with a mail client that goes with the platform), so every vendor is written
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from channels.outgoing import Sender, build_email
from scenarios.catalog import load_catalog
from scenarios.render import CollectivityView, PersonaView, ServiceView, render_wording
from sim.decisions import PlannedReaction
from sim.profiles import PROFILES, SimulatedService
from sim.smtp_provider import ReceivedMessage
from sim.town_halls.compose import WRITERS, compose
from sim.town_halls.incoming import Incoming
from sim.town_halls.platforms import PLATFORMS, TICKET_SYSTEMS
from sim.town_halls.voices import Voice, voice_of
from sim.town_halls.writer import Writer, Written

CATALOG = load_catalog()
SENT = datetime(2026, 3, 17, 9, 12, 5, tzinfo=UTC)  # a Tuesday morning in Paris
PERSONAS = (
    PersonaView("Claire Martin", "Claire", "Martin", "claire.martin@temoin.example",
                "12 rue des Lilas", "57000", "Metz"),
    PersonaView("Karim Benali", "Karim", "Benali", "karim.benali@temoin.example",
                "4 impasse des Tilleuls", "31000", "Toulouse"),
)  # fmt: skip
SERVICES = (
    ("etat-civil@mairie-eschwiller.example", "67", "Eschwiller", "etat_civil"),
    ("accueil@mairie-portu-bellu.example", "2A", "Portu-Bellu", "accueil_mairie"),
    ("ccas@serignac-le-vieux.example", "34", "Sérignac-le-Vieux", "ccas"),
    ("mediatheque@villeneuve-la-sabliere.example", "44", "Villeneuve-la-Sablière",
     "bibliotheque"),
    ("etat-civil@mornealianes.example", "972", "Le Morne-aux-Lianes", "etat_civil"),
    ("piscine@kergoat-plage.example", "29", "Kergoat-Plage", "piscine"),
    ("mairie@lavernay.example", "21", "Lavernay", "accueil_mairie"),
    ("urbanisme@saint-aubin-des-pres.example", "35", "Saint-Aubin-des-Prés", "urbanisme"),
)  # fmt: skip
SCENARIOS = {
    "etat_civil": "email-acte-naissance",
    "accueil_mairie": "email-inscription-listes-electorales",
    "ccas": "email-aide-ponctuelle",
    "bibliotheque": "email-carte-bibliotheque",
    "piscine": "email-piscine-tarifs",
    "urbanisme": "email-cloture-declaration-prealable",
}


@dataclass(frozen=True)
class Sample:
    planned: PlannedReaction
    voice: Voice
    request: Incoming
    scenario_id: str
    written: Written


def services(seed: int | str) -> list[SimulatedService]:
    return [SimulatedService(address, dept, PROFILES["reactive"], collectivity=city, kind=kind)
            for address, dept, city, kind in SERVICES]  # fmt: skip


def request(service: SimulatedService, persona: PersonaView, index: int) -> Incoming:
    scenario = CATALOG.get(SCENARIOS[service.kind])
    wording = scenario.wordings[index % len(scenario.wordings)]
    view = ServiceView.of_kind(service.name or "Service", service.kind, service.collectivity)
    rendered = render_wording(wording, persona, view, CollectivityView(service.collectivity))
    local, domain = persona.email.split("@")
    message_id = f"<{index:04d}.{local}@{domain}>"
    reply_to = f"{local}+tok{index}xyz@{domain}" if persona is PERSONAS[1] else None
    message = build_email(
        sender=Sender(persona.display_name, persona.email), to=service.address,
        subject=rendered.subject or "", body=rendered.body, message_id=message_id,
        date=SENT + timedelta(minutes=index), reply_to=reply_to,
    )  # fmt: skip
    item = ReceivedMessage(persona.email, (service.address,), message.as_bytes(), message_id,
                           SENT + timedelta(minutes=index))  # fmt: skip
    return Incoming.parse(item)


def planned_for(
    kind: str, form: str, at: datetime, elements: tuple[str, ...], rng: random.Random
) -> PlannedReaction:
    """A reaction of ``kind`` written as ``form``, with the draws a profile would make."""
    automatic = kind in ("bounce", "other") or form in ("auto_reply", "client_rule")
    return PlannedReaction(
        kind,  # type: ignore[arg-type]
        at + timedelta(minutes=30),
        automatic=automatic,
        threaded=kind not in ("bounce", "other") and rng.random() < 0.7,
        other_agent=kind == "answer" and rng.random() < 0.3,
        included=tuple(e for e in elements if rng.random() < 0.7) if kind == "answer" else (),
        back_on=date(2026, 3, 30) if kind == "out_of_office" else None,
        form=form,
    )


def write_all(seed: int | str) -> Iterator[Sample]:
    """Every (kind, form) of the compose table, for every service and persona."""
    index = 0
    clients = {"exchange": "outlook", "zimbra": "zimbra", "sieve": "roundcube"}
    for number, service in enumerate(services(seed)):
        platform = PLATFORMS[number % len(PLATFORMS)]
        ticket_system = (None, *TICKET_SYSTEMS)[number % (len(TICKET_SYSTEMS) + 1)]
        voice = replace(voice_of(service, seed), platform=platform, ticket_system=ticket_system,
                        client=clients.get(platform, "thunderbird"))  # fmt: skip
        for persona in PERSONAS:
            index += 1
            incoming = request(service, persona, index)
            scenario = CATALOG.get(SCENARIOS[service.kind])
            for draw, (kind, form) in enumerate(sorted(WRITERS)):
                rng = random.Random(f"{seed}|{incoming.message_id}|{draw}")
                elements = tuple(e.id for e in scenario.expected_elements)
                planned = planned_for(kind, form, incoming.date or SENT, elements, rng)
                writer = Writer(voice, incoming, scenario, rng, incoming.date or SENT)
                yield Sample(planned, voice, incoming, scenario.id, compose(writer, planned))
