"""All of France: départements, overseas collectivities, their régions, holidays and clocks.

The codes come from the official geographic code, shipped as data generated from a
maintained package (``scenarios.geography_data``, written by ``tools/geodata.py``): the
101 départements (``01``-``95`` with ``2A``/``2B`` for Corsica, ``971``-``974`` and ``976``
overseas) and the overseas collectivities that hold communes: Saint-Pierre-et-Miquelon
(975), Saint-Barthélemy (977), Saint-Martin (978), the French Southern and Antarctic Lands
(984), Wallis-et-Futuna (986), French Polynesia (987), New Caledonia (988) and Clipperton
(989). A collectivity's "région" is its own code, as in the official list.

What the data package does not say is written here, each entry checked by the tests
against another maintained source:

- the ``holidays`` package subdivision of each code (Alsace is ``6AE`` for 67 and 68,
  Moselle ``57``; the collectivities use their ISO 3166 codes ``PM``, ``BL``, ``MF``, ``TF``,
  ``WF``, ``PF``, ``NC``); every other code has the national holidays;
- the IANA time zone of each code (the tz database's ``zone.tab`` lists them by country),
  and the communes whose zone differs from their collectivity's: the Marquesas and the
  Gambier in French Polynesia, Adélie Land in the Southern Lands. Clipperton has no zone of
  its own in the tz database and keeps UTC−8 (``Etc/GMT+8``, POSIX sign).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from scenarios.geography_data import DEPARTEMENTS, REGIONS, SOURCE

__all__ = [
    "AREAS",
    "REGION_NAMES",
    "SOURCE",
    "Area",
    "area",
    "holiday_subdivision",
    "is_known",
    "region_of",
    "timezone_name",
]


@dataclass(frozen=True, slots=True)
class Area:
    """A département or an overseas collectivity (the official list calls both départements)."""

    code: str
    name: str
    region: str
    zone: str  # metro, drom (overseas département and région) or com (overseas collectivity)

    @property
    def overseas(self) -> bool:
        return self.zone != "metro"


AREAS: Mapping[str, Area] = MappingProxyType(
    {code: Area(code, name, region, zone) for code, name, region, zone in DEPARTEMENTS}
)
REGION_NAMES: Mapping[str, str] = MappingProxyType({code: name for code, name, _ in REGIONS})

_SUBDIVISION = {
    "57": "57", "67": "6AE", "68": "6AE",
    "971": "971", "972": "972", "973": "973", "974": "974", "976": "976",
    "975": "PM", "977": "BL", "978": "MF", "984": "TF", "986": "WF", "987": "PF", "988": "NC",
}  # fmt: skip

_ZONES = {
    "971": "America/Guadeloupe",
    "972": "America/Martinique",
    "973": "America/Cayenne",
    "974": "Indian/Reunion",
    "975": "America/Miquelon",
    "976": "Indian/Mayotte",
    "977": "America/St_Barthelemy",
    "978": "America/Marigot",
    "984": "Indian/Kerguelen",
    "986": "Pacific/Wallis",
    "987": "Pacific/Tahiti",
    "988": "Pacific/Noumea",
    "989": "Etc/GMT+8",
}
# Communes on another clock than their collectivity's chief town.
COMMUNE_ZONES: Mapping[str, str] = MappingProxyType(
    {
        "98718": "Pacific/Marquesas",  # Fatu-Hiva
        "98723": "Pacific/Marquesas",  # Hiva-Oa
        "98731": "Pacific/Marquesas",  # Nuku-Hiva
        "98746": "Pacific/Marquesas",  # Tahuata
        "98756": "Pacific/Marquesas",  # Ua-Huka
        "98757": "Pacific/Marquesas",  # Ua-Pou
        "98719": "Pacific/Gambier",  # Gambier
        "98414": "Antarctica/DumontDUrville",  # La Terre-Adélie
    }
)
PARIS_ZONE = "Europe/Paris"


def is_known(code: str) -> bool:
    """Whether ``code`` (already normalised: ``"07"``, ``"2A"``, ``"987"``) is in the list."""
    return code in AREAS


def area(code: str) -> Area:
    """The département or collectivity of a normalised code; ``KeyError`` when unknown."""
    return AREAS[code]


def region_of(code: str) -> str:
    """INSEE code of the région (``"57"`` -> ``"44"``); a collectivity is its own (``"987"``)."""
    return AREAS[code].region


def holiday_subdivision(code: str) -> str | None:
    """The ``holidays`` subdivision of a normalised code (None: national holidays only)."""
    return _SUBDIVISION.get(code)


def timezone_name(code: str, insee_code: str | None = None) -> str:
    """IANA zone of a département or collectivity, or of one of its communes."""
    if insee_code is not None:
        found = COMMUNE_ZONES.get(insee_code)
        if found is not None:
            return found
    return _ZONES.get(code, PARIS_ZONE)
