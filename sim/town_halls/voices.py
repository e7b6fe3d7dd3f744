"""The voice of a service: how one simulated service writes, drawn once from the seed.

voice_of(service, seed) --> Voice: its mail client (Outlook, Thunderbird, Zimbra, Roundcube,
    which sets the subject prefix, quote style, headers and Message-ID form), the mail platform
    behind it (Exchange for Outlook, Zimbra, else BlueMind, a Sieve server or Google's: its
    automatic replies), three agents (names, roles by service kind, most of them women), its
    phone number (by the département's zone, overseas prefixes included), and a ticket system
    for one service in four (OTRS-, GLPI- or Zammad-like: its acknowledgements and answers)
civility(persona name) --> « Madame », « Monsieur », or None when the first name says nothing
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from channels.content import fold_words
from scenarios.render import de_lieu
from scenarios.service_kinds import resolve_service_kind, service_kind
from sim.profiles import SimulatedService
from sim.town_halls.french import DEFAULT_ROLES, MEN, ROLES, SURNAMES, WOMEN
from sim.town_halls.platforms import TICKET_SYSTEMS


@dataclass(frozen=True)
class Agent:
    first: str
    last: str
    feminine: bool
    role: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    def address(self, domain: str) -> str:
        local = fold_words(f"{self.first}.{self.last}").replace(" ", "-")
        return f"{local.replace('-.', '.').replace('.-', '.')}@{domain}"


@dataclass(frozen=True)
class Voice:
    """How one service writes: its mail client, its agents, its names and phone number."""

    service: SimulatedService
    client: str  # outlook, thunderbird, zimbra, roundcube
    agents: tuple[Agent, ...]
    phone: str
    platform: str  # exchange, zimbra, bluemind, sieve, gmail (platforms.py)
    ticket_system: str | None = None  # otrs, glpi, zammad (tickets.py)

    @property
    def domain(self) -> str:
        return self.service.address.rsplit("@", 1)[1]

    @property
    def kind(self) -> str:
        if self.service.kind:
            return self.service.kind
        local = self.service.address.split("@", 1)[0]
        return resolve_service_kind(local.replace("-", " ")) or ""

    @property
    def service_name(self) -> str:
        if self.service.name:
            return self.service.name
        kind = self.kind
        return service_kind(kind).label_fr if kind else "Accueil"

    @property
    def town(self) -> str:
        return self.service.collectivity or self.domain.split(".", 1)[0]

    @property
    def town_hall(self) -> str:
        city = self.service.collectivity
        return f"Mairie {de_lieu(city)}" if city else "La mairie"

    @property
    def prefix(self) -> str:
        return {"outlook": "RE : ", "zimbra": "RE: "}.get(self.client, "Re: ")


_PHONE_ZONES = {
    "1": "75 77 78 91 92 93 94 95",
    "2": "14 18 22 27 28 29 35 36 37 41 44 45 49 50 53 56 61 72 76 85 86",
    "3": "02 08 10 21 25 39 51 52 54 55 57 58 59 60 62 67 68 70 71 80 88 89 90",
    "4": "01 03 04 05 06 07 11 13 15 26 30 34 38 42 43 48 63 66 69 73 74 83 84 2A 2B",
}
_OVERSEAS_PHONE = {"971": "0590", "972": "0596", "973": "0594", "974": "0262", "976": "0269"}


def _phone(departement: str, rng: random.Random) -> str:
    digits = [f"{rng.randrange(100):02d}" for _ in range(4)]
    if departement in _OVERSEAS_PHONE:
        return f"{_OVERSEAS_PHONE[departement]} {digits[0]} {digits[1]} {digits[2]}"
    zone = next((z for z, codes in _PHONE_ZONES.items() if departement in codes.split()), "5")
    return f"0{zone} {' '.join(digits)}"


def voice_of(service: SimulatedService, seed: int | str) -> Voice:
    rng = random.Random(f"{seed}|voice|{service.address.lower()}")
    client = rng.choices(("outlook", "thunderbird", "zimbra", "roundcube"), (4, 2, 3, 1))[0]
    kind = service.kind or resolve_service_kind(service.address.split("@")[0].replace("-", " "))
    roles = ROLES.get(kind or "", DEFAULT_ROLES)
    agents: list[Agent] = []
    used: set[str] = set()
    while len(agents) < 3:
        feminine = rng.random() < 0.65  # most town-hall agents are women
        first = rng.choice(WOMEN if feminine else MEN)
        last = rng.choice(SURNAMES)
        if f"{first} {last}" in used:
            continue
        used.add(f"{first} {last}")
        role = rng.choice(roles)[1 if feminine else 0]
        agents.append(Agent(first, last, feminine, role))
    phone = _phone(service.departement, rng)
    platform = _PLATFORM_OF_CLIENT.get(client) or rng.choice(("bluemind", "sieve", "gmail"))
    ticket_system = rng.choice(TICKET_SYSTEMS) if rng.random() < 0.25 else None
    return Voice(service, client, tuple(agents), phone, platform, ticket_system)


_PLATFORM_OF_CLIENT = {"outlook": "exchange", "zimbra": "zimbra", "roundcube": "sieve"}


_FEMININE_FIRST = frozenset(fold_words(n) for n in WOMEN) | frozenset(
    {"helene", "chloe", "emma", "lea", "manon", "sarah", "nora", "yasmine", "louise", "alice"}
)
_MASCULINE_FIRST = frozenset(fold_words(n) for n in MEN) | frozenset(
    {"lucas", "hugo", "louis", "nathan", "yanis", "adam", "ahmed", "david", "michel", "pierre"}
)


def civility(persona_name: str) -> str | None:
    first = fold_words(persona_name).split(" ")[0] if persona_name.strip() else ""
    if first in _FEMININE_FIRST:
        return "Madame"
    if first in _MASCULINE_FIRST:
        return "Monsieur"
    return None
