"""The known kinds of public service, with French labels and the aliases spreadsheets use."""

from __future__ import annotations

from dataclasses import dataclass

from scenarios.text import fold_key


@dataclass(frozen=True, slots=True)
class ServiceKind:
    code: str
    label_fr: str
    aliases: tuple[str, ...] = ()


SERVICE_KINDS: tuple[ServiceKind, ...] = (
    ServiceKind("accueil_mairie", "Accueil de la mairie", ("mairie", "accueil", "hotel de ville")),
    ServiceKind("etat_civil", "État civil", ("etat-civil", "etat civil", "service etat civil")),
    ServiceKind("ccas", "Centre communal d'action sociale", ("action sociale", "cias")),
    ServiceKind("bibliotheque", "Bibliothèque / médiathèque", ("mediatheque", "bibliotheque")),
    ServiceKind("piscine", "Piscine", ("centre aquatique", "piscine municipale")),
    ServiceKind("police_municipale", "Police municipale", ("police", "pm")),
    ServiceKind("urbanisme", "Urbanisme", ("service urbanisme", "droit des sols")),
    ServiceKind("scolaire", "Affaires scolaires", ("education", "ecoles", "enfance")),
    ServiceKind("elections", "Élections", ("service elections", "listes electorales")),
    ServiceKind(
        "dechets", "Collecte des déchets", ("proprete", "ordures menageres", "environnement")
    ),
    ServiceKind(
        "accueil_departement", "Accueil du conseil départemental", ("conseil departemental",)
    ),
    ServiceKind(
        "action_sociale_departement", "Action sociale départementale", ("solidarites", "mds")
    ),
)

_BY_CODE = {kind.code: kind for kind in SERVICE_KINDS}


# The name bot.flows and scenarios.directory import; the implementation is in scenarios.text.
fold = fold_key

_LOOKUP: dict[str, str] = {}
for _kind in SERVICE_KINDS:
    for _name in (_kind.code, _kind.label_fr, *_kind.aliases):
        _LOOKUP.setdefault(fold_key(_name), _kind.code)


def resolve_service_kind(text: str) -> str | None:
    """Map a code, French label or alias to the kind's code, or None if unknown."""
    return _LOOKUP.get(fold_key(text))


def service_kind(code: str) -> ServiceKind:
    return _BY_CODE[code]


def known_codes() -> list[str]:
    return [kind.code for kind in SERVICE_KINDS]
