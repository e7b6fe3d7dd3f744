"""Render a scenario wording for one persona writing to one service.

Templates are Jinja2 in a ``SandboxedEnvironment`` (catalogues may come from coordinators)
with ``StrictUndefined`` (a misspelt variable fails loudly instead of printing nothing) and no
autoescaping (the output is plain text). Each template source is compiled once and cached:
the dispatcher renders thousands of messages per second.

The context is built from plain dataclasses, never from storage rows; callers map their rows
to these views. Variables a wording may use::

    persona.display_name persona.first_name persona.last_name persona.email
    persona.address persona.postal_code persona.city
    service.name service.kind service.kind_label service.city
    collectivity.name
    request.subject request.sent_on          (follow-up wordings only)

Two filters get French place names right where a plain « à {{ city }} » would not:
``{{ service.city|a_lieu }}`` gives « à Lyon », « au Havre », « aux Sables-d'Olonne »;
``{{ service.city|de_lieu }}`` gives « de Lyon », « d'Angers », « du Havre », « des Ulis ».
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Protocol

from jinja2 import StrictUndefined, Template
from jinja2.sandbox import SandboxedEnvironment

from scenarios.service_kinds import service_kind


@dataclass(frozen=True, slots=True)
class PersonaView:
    display_name: str
    first_name: str
    last_name: str
    email: str
    address: str
    postal_code: str
    city: str


@dataclass(frozen=True, slots=True)
class ServiceView:
    name: str
    kind: str
    kind_label: str
    city: str

    @classmethod
    def of_kind(cls, name: str, kind: str, city: str) -> ServiceView:
        """A view whose label is the French label of the known service kind ``kind``."""
        return cls(name=name, kind=kind, kind_label=service_kind(kind).label_fr, city=city)


@dataclass(frozen=True, slots=True)
class CollectivityView:
    name: str


@dataclass(frozen=True, slots=True)
class RequestView:
    """The first message a follow-up refers to (« ma demande du 3 mars 2025 »)."""

    subject: str
    sent_on: str  # already formatted in French by the caller, e.g. "3 mars 2025"


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    subject: str | None
    body: str


class WordingLike(Protocol):
    @property
    def subject(self) -> str | None: ...

    @property
    def body(self) -> str: ...


# The variables a template may read, by name: used by the catalogue check as well.
TEMPLATE_VARIABLES: dict[str, frozenset[str]] = {
    "persona": frozenset(f.name for f in fields(PersonaView)),
    "service": frozenset(f.name for f in fields(ServiceView)),
    "collectivity": frozenset(f.name for f in fields(CollectivityView)),
}
FOLLOWUP_VARIABLES: dict[str, frozenset[str]] = {
    **TEMPLATE_VARIABLES,
    "request": frozenset(f.name for f in fields(RequestView)),
}

_VOWELS = frozenset("aeiouyàâäéèêëîïôöûüÿæœ")


def a_lieu(place: str) -> str:
    """« à » before a place name, contracted with a leading article: « au Havre »."""
    if place.startswith("Le "):
        return f"au {place[3:]}"
    if place.startswith("Les "):
        return f"aux {place[4:]}"
    return f"à {place}"


def de_lieu(place: str) -> str:
    """« de » before a place name: « du Havre », « des Ulis », « d'Angers », « de Lyon ».

    No elision before H: whether it is mute (« d'Hyères ») or not (« de Haguenau ») is a
    matter of each name, and the plain form reads less wrong than a wrong elision.
    """
    if place.startswith("Le "):
        return f"du {place[3:]}"
    if place.startswith("Les "):
        return f"des {place[4:]}"
    if place[:1].casefold() in _VOWELS:
        return f"d'{place}"
    return f"de {place}"


ENVIRONMENT = SandboxedEnvironment(
    undefined=StrictUndefined,
    autoescape=False,
    keep_trailing_newline=False,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENVIRONMENT.filters["a_lieu"] = a_lieu
ENVIRONMENT.filters["de_lieu"] = de_lieu


@lru_cache(maxsize=4096)
def compile_template(source: str) -> Template:
    """The compiled template for ``source`` (cached; raises ``TemplateSyntaxError``)."""
    return ENVIRONMENT.from_string(source)


_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_BLANK_RUN = re.compile(r"\n{3,}")


def _tidy_body(text: str) -> str:
    """Plain-text hygiene: NFC, no trailing spaces, at most one blank line in a row."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n")
    text = _TRAILING_SPACE.sub("\n", text)
    text = _BLANK_RUN.sub("\n\n", text)
    return text.strip("\n") + "\n"


def _tidy_subject(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def render_wording(
    wording: WordingLike,
    persona: PersonaView,
    service: ServiceView,
    collectivity: CollectivityView,
    request: RequestView | None = None,
) -> RenderedMessage:
    """Subject (None for phone/visit scripts) and body of ``wording`` for these views.

    Raises ``jinja2.UndefinedError`` for a variable that does not exist, and
    ``jinja2.TemplateSyntaxError`` for a broken template (the catalogue check catches both
    before a campaign starts).
    """
    context: dict[str, object] = {
        "persona": persona,
        "service": service,
        "collectivity": collectivity,
    }
    if request is not None:
        context["request"] = request
    subject = None
    if wording.subject is not None:
        subject = _tidy_subject(compile_template(wording.subject).render(context))
    body = _tidy_body(compile_template(wording.body).render(context))
    return RenderedMessage(subject=subject, body=body)


SAMPLE_PERSONA = PersonaView(
    display_name="Hélène Lefèvre",
    first_name="Hélène",
    last_name="Lefèvre",
    email="helene.lefevre@example.org",
    address="12, rue de l’Église",
    postal_code="42000",
    city="Saint-Étienne",
)
SAMPLE_COLLECTIVITY = CollectivityView(name="Pérignat-ès-Allier")
SAMPLE_REQUEST = RequestView(subject="Demande de renseignements", sent_on="3 mars 2025")


def sample_service(kind: str, city: str = "Pérignat-ès-Allier") -> ServiceView:
    """A plausible service of ``kind`` for checks and tests (accents on purpose)."""
    label = service_kind(kind).label_fr
    return ServiceView(name=label, kind=kind, kind_label=label, city=city)
