"""Simulated collectivities: town-hall services that react to the personas' requests.

    persona --SMTP--> SmtpProvider --on_message (provider thread)--> arrivals queue
                      (dead address, RCPT mode: the provider refuses with 550, truth records it)
    pump(now) --drain arrivals--> recognise persona, service, scenario (resolver, else wording)
              --decide (profiles.decide: outcome, instants, elements, threading)-->
              --write the French messages, record each decision in the truth-->
              schedule by simulated instant
    pump(now) --due reactions--> IMAP APPEND into the persona's mailbox (INBOX or Junk) with
              INTERNALDATE = the reaction's instant, read the INTERNALDATE back, record the
              delivery in the truth

Simulate a period in the past: Dovecot replaces an INTERNALDATE later than its own clock with
its own clock. The simulator records the date the server kept (the truth is what the mailbox
says), logs a warning and counts it in ``clamped_dates``.

``on_message`` runs in one of the provider's threads: it only stamps the arrival with the
simulated clock and queues it; everything else happens in ``pump``, which one caller at a time
runs (the demo from its loop through ``pump_async``/``run``, tests directly). A request is
handled once per (Message-ID, service); a persona's follow-up in the same thread gets no new
reaction (it is kept in ``followups``).

What the services write is what such mail looks like in France: a mail client per service
(Outlook, Thunderbird, Zimbra, Roundcube) with its own subject prefix (« RE : », « Re: »,
« RE: »), quote style and headers; a few agents per service with their roles and signatures;
answers that contain exactly the expected elements chosen by the profile (checked on the text
the agent wrote, above the quoted request, before the message is sent); automatic
acknowledgements (RFC 3834 ``Auto-Submitted``), absence replies (Exchange or Sieve vacation),
redirects, and DSN bounces (RFC 3464 ``multipart/report``) from the persona's provider's
MAILER-DAEMON carrying the returned request.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import html
import imaplib
import itertools
import logging
import queue
import random
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.header import Header
from email.message import EmailMessage, Message
from email.policy import SMTP as SMTP_POLICY
from email.policy import default as default_policy
from email.utils import format_datetime, getaddresses, parseaddr, parsedate_to_datetime
from typing import Any

from channels.content import fold_words
from channels.imap_session import parse_internaldate, quote_mailbox
from scenarios.catalog import Catalog, Scenario
from scenarios.clock import Clock
from scenarios.domain import Channel
from scenarios.render import de_lieu
from scenarios.service_kinds import resolve_service_kind, service_kind
from sim.dovecot import DovecotServer
from sim.profiles import (
    DeadAddress,
    Decision,
    PlannedReaction,
    Request,
    SimulatedService,
    decide,
    request_rng,
)
from sim.smtp_provider import ReceivedMessage, SmtpProvider
from sim.truth import Truth, TruthReaction

log = logging.getLogger(__name__)


# -- what the demo hands over ------------------------------------------------------------------


@dataclass(frozen=True)
class ContactInfo:
    """What the demo knows about a request, found from its Message-ID."""

    scenario_id: str | None
    contact_id: str | None = None


Resolver = Callable[[str], ContactInfo | None]


@dataclass(frozen=True)
class Delivery:
    """A reaction put into a persona's mailbox."""

    reaction: TruthReaction
    raw: bytes


@dataclass(frozen=True)
class _Arrival:
    item: ReceivedMessage
    received_at: datetime


@dataclass(frozen=True)
class _Scheduled:
    reaction_id: str
    user: str
    mailbox: str
    raw: bytes


# -- French words --------------------------------------------------------------------------------

_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
           "octobre", "novembre", "décembre")  # fmt: skip

_WOMEN = ("Sophie", "Nathalie", "Isabelle", "Sandrine", "Céline", "Valérie", "Stéphanie",
          "Christelle", "Aurélie", "Émilie", "Laetitia", "Karine", "Delphine", "Virginie",
          "Marion", "Audrey", "Hélène", "Martine", "Josiane", "Nadia", "Fatima", "Maëlle",
          "Gwenaëlle", "Corinne", "Claire", "Lucie", "Inès", "Camille", "Julie",
          "Anne")  # fmt: skip
_MEN = ("Julien", "Nicolas", "Stéphane", "Frédéric", "Christophe", "Sébastien", "Laurent",
        "Olivier", "Thierry", "Patrick", "Jérôme", "Yannick", "Mickaël", "Cédric", "Franck",
        "Rachid", "Mehdi", "Loïc", "Gaëtan", "Pascal", "Paul", "Karim", "Marc", "Thomas",
        "Antoine", "Jean")  # fmt: skip
_SURNAMES = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
             "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "Bertrand",
             "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont",
             "Lambert", "Bonnet", "Muller", "Le Gall", "Le Goff", "Kervella", "Schmitt",
             "Meyer", "Weber", "Fabre", "Rousseau", "Blanc", "Guérin", "Faure", "Chevalier",
             "Benali", "Haddad", "Da Silva", "Ferreira", "Santoni", "Casanova", "Marie-Louise",
             "Nicolas", "Hoarau", "Payet", "Grondin")  # fmt: skip

# (masculine, feminine) role titles by service kind
_ROLES: dict[str, tuple[tuple[str, str], ...]] = {
    "accueil_mairie": (("Agent d'accueil", "Agente d'accueil"),
                       ("Secrétaire de mairie", "Secrétaire de mairie")),
    "etat_civil": (("Agent de l'état civil", "Agente de l'état civil"),
                   ("Responsable de l'état civil", "Responsable de l'état civil")),
    "ccas": (("Agent d'accueil", "Agente d'accueil"),
             ("Responsable du pôle solidarité", "Responsable du pôle solidarité")),
    "bibliotheque": (("Bibliothécaire", "Bibliothécaire"),
                     ("Assistant de conservation", "Assistante de conservation")),
    "piscine": (("Agent d'accueil", "Agente d'accueil"),
                ("Responsable de l'équipement", "Responsable de l'équipement")),
    "police_municipale": (("Brigadier-chef principal", "Brigadière-cheffe principale"),
                          ("Chef de service de police municipale",
                           "Cheffe de service de police municipale")),
    "urbanisme": (("Instructeur droit des sols", "Instructrice droit des sols"),
                  ("Responsable du service urbanisme", "Responsable du service urbanisme")),
    "scolaire": (("Agent du service enfance", "Agente du service enfance"),
                 ("Responsable des affaires scolaires", "Responsable des affaires scolaires")),
    "elections": (("Agent du service élections", "Agente du service élections"),
                  ("Secrétaire de mairie", "Secrétaire de mairie")),
    "dechets": (("Chargé de mission prévention des déchets",
                 "Chargée de mission prévention des déchets"),
                ("Agent du service environnement", "Agente du service environnement")),
    "accueil_departement": (("Chargé d'accueil", "Chargée d'accueil"),),
    "action_sociale_departement": (("Chargé d'accueil social", "Chargée d'accueil social"),
                                   ("Secrétaire médico-social", "Secrétaire médico-sociale")),
}  # fmt: skip
_DEFAULT_ROLES = (("Agent administratif", "Agente administrative"),)

# Sentences that give one expected element each, by scenario and element id. Each is checked
# against the scenario's patterns when an answer is written: a sentence that would also give
# another element is not used for that answer.
_SENTENCES: dict[str, dict[str, tuple[str, ...]]] = {
    "email-acte-naissance": {
        "procedure": (
            "La demande peut se faire en ligne, sur service-public.fr, en quelques minutes.",
            "Vous pouvez nous adresser votre demande par courrier, ou la déposer au guichet "
            "de l'état civil aux heures d'ouverture.",
            "Le plus simple est d'utiliser le téléservice accessible depuis le site de la ville.",
        ),
        "informations": (
            "Merci de nous indiquer les nom et prénoms de la personne concernée, sa date de "
            "naissance ainsi que les noms et prénoms de ses parents.",
            "Pour retrouver l'acte, il nous faut la date de naissance exacte et la filiation "
            "complète (noms des parents, y compris le nom de naissance de la mère).",
        ),
        "parente": (
            "Précisez également votre lien de parenté avec l'intéressé : un descendant peut "
            "obtenir la copie intégrale de l'acte de son ascendant.",
            "Comme vous faites la demande pour un proche, indiquez-nous votre qualité "
            "(enfant, parent, conjoint).",
        ),
        "gratuite": (
            "La délivrance des actes d'état civil est gratuite.",
            "Je vous rappelle que ce document est délivré sans frais.",
        ),
        "delai": (
            "La copie vous sera envoyée par voie postale, en général sous huitaine.",
            "Comptez une dizaine de jours pour la réception du document à votre domicile.",
        ),
    },
    "email-aide-ponctuelle": {
        "rendez_vous": (
            "Le mieux est de prendre rendez-vous avec l'une de nos conseillères, qui fera le "
            "point avec vous sur votre situation.",
            "Une assistante sociale peut vous recevoir pour étudier votre demande.",
        ),
        "dispositifs": (
            "Selon votre situation, le CCAS peut accorder une aide financière pour régler une "
            "partie de cette dépense.",
            "Vous pouvez aussi solliciter le Fonds de solidarité pour le logement (FSL), qui "
            "prend en charge certains impayés d'énergie, et vérifier que vous bénéficiez bien "
            "du chèque énergie.",
        ),
        "justificatifs": (
            "Pensez à apporter vos justificatifs de ressources (bulletins de salaire, avis "
            "d'imposition) ainsi que la facture concernée.",
            "Munissez-vous de votre pièce d'identité et de vos trois derniers relevés de compte.",
        ),
        "coordonnees": (
            "Notre accueil est ouvert du lundi au vendredi de 9 h à 12 h.",
            "Vous pouvez nous joindre par téléphone au {phone}.",
        ),
    },
    "email-apa-parent": {
        "apa": (
            "Votre parent peut sans doute bénéficier de l'allocation personnalisée "
            "d'autonomie (APA).",
            "L'aide adaptée à sa situation est l'APA à domicile.",
        ),
        "dossier": (
            "Le dossier de demande peut être téléchargé sur le site du Département ou retiré "
            "à l'accueil de la mairie.",
            "Il faut remplir le formulaire Cerfa n° 16301 et le renvoyer complété au conseil "
            "départemental.",
        ),
        "evaluation": (
            "Une équipe médico-sociale se rendra ensuite chez votre parent pour évaluer ses "
            "besoins et proposer un plan d'aide.",
            "Une visite à domicile permettra de déterminer son degré de perte d'autonomie (GIR).",
        ),
        "delai": (
            "La décision est rendue dans un délai de deux mois.",
            "Comptez environ 2 mois entre la demande complète et la décision.",
        ),
        "orientation": (
            "Le CLIC de votre secteur peut vous accompagner dans ces démarches.",
            "N'hésitez pas à prendre contact avec la maison départementale des solidarités la "
            "plus proche.",
        ),
    },
    "email-bac-non-collecte": {
        "adresse": (
            "Pourriez-vous nous préciser votre adresse exacte ainsi que le numéro de bac "
            "(inscrit sur le couvercle) ?",
            "Merci de nous communiquer le nom de la rue et le numéro de l'habitation concernée.",
        ),
        "excuses": (
            "Nous vous prions de nous excuser pour ce désagrément : la benne est tombée en "
            "panne pendant la tournée.",
            "Toutes nos excuses : notre prestataire a rencontré un incident sur ce secteur.",
        ),
        "rattrapage": (
            "Un passage de rattrapage est prévu demain matin.",
            "Le camion repassera dans votre rue dès demain.",
        ),
        "consignes": (
            "Pour rappel, le bac doit être sorti la veille au soir et laissé sur le trottoir, "
            "poignée côté rue.",
            "Nous vous rappelons les consignes : sortir le bac la veille au soir, couvercle fermé.",
        ),
    },
    "email-bruit-voisinage": {
        "amiable": (
            "Dans un premier temps, nous vous conseillons d'essayer de régler la situation à "
            "l'amiable avec votre voisin.",
            "Si le dialogue n'aboutit pas, vous pouvez saisir le conciliateur de justice, "
            "gratuitement.",
        ),
        "reglementation": (
            "Un arrêté municipal encadre les travaux bruyants : ils sont autorisés les jours "
            "ouvrables de 8 h 30 à 12 h et de 14 h 30 à 19 h 30.",
            "Les bruits excessifs la nuit relèvent du tapage nocturne.",
        ),
        "intervention": (
            "Une patrouille peut passer constater les nuisances.",
            "Nos agents peuvent intervenir et, le cas échéant, verbaliser l'auteur des bruits.",
        ),
        "urgence": (
            "En cas d'urgence ou la nuit, composez le 17.",
            "En dehors de nos horaires, la gendarmerie reste joignable à tout moment.",
        ),
    },
    "email-carte-bibliotheque": {
        "pieces": (
            "Pour l'inscription, il suffit de présenter une pièce d'identité et un justificatif "
            "de domicile récent.",
            "Pour les enfants, une autorisation parentale signée est demandée.",
        ),
        "tarif": (
            "L'inscription est gratuite pour les habitants de la commune ; pour les "
            "non-résidents, l'abonnement annuel est de 12 euros.",
            "La carte familiale coûte 15 € par an.",
        ),
        "pret": (
            "Chaque carte permet d'emprunter jusqu'à dix documents pour trois semaines.",
            "Le prêt dure quatre semaines, renouvelable une fois.",
        ),
        "horaires": (
            "Nous sommes ouverts le mercredi de 14 h à 18 h et le samedi de 10 h à 12 h.",
            "Nos horaires sont affichés sur le site de la commune.",
        ),
    },
    "email-cloture-declaration-prealable": {
        "autorisation": (
            "Dans notre commune, l'édification d'une clôture est soumise à déclaration préalable.",
            "Une déclaration préalable doit être déposée avant la pose.",
        ),
        "formulaire": (
            "Il faut pour cela remplir le Cerfa n° 13703.",
            "Le formulaire correspondant vous sera remis sur simple demande.",
        ),
        "regles": (
            "Le PLU limite la hauteur des clôtures à 1,80 m en limite séparative.",
            "Votre terrain se trouve dans le périmètre des monuments historiques : l'avis de "
            "l'architecte des bâtiments de France sera nécessaire.",
        ),
        "delai": (
            "Le délai d'instruction est d'un mois à compter du dépôt d'un dossier complet.",
            "L'instruction prend un mois.",
        ),
        "depot_en_ligne": (
            "Le dossier peut être déposé en ligne, sur le guichet numérique de la commune.",
            "Vous pouvez aussi faire la démarche de manière dématérialisée.",
        ),
    },
    "email-inscription-listes-electorales": {
        "demarche": (
            "Vous pouvez vous inscrire en ligne sur service-public.fr ou directement en mairie.",
            "L'inscription peut aussi se faire par courrier, à l'aide du formulaire Cerfa "
            "n° 12669.",
        ),
        "pieces": (
            "Il vous faudra fournir une pièce d'identité en cours de validité et un "
            "justificatif de domicile de moins de trois mois.",
            "Munissez-vous de votre passeport ou de votre carte d'identité.",
        ),
        "date_limite": (
            "Pour voter au prochain scrutin, l'inscription doit être faite au plus tard le "
            "sixième vendredi qui le précède.",
            "La date limite d'inscription est fixée au 6e vendredi précédant l'élection.",
        ),
        "situation": (
            "Votre radiation de la liste de votre ancienne commune se fera automatiquement.",
            "Vous pourrez vérifier votre situation électorale en quelques clics.",
        ),
    },
    "email-inscription-scolaire": {
        "pieces": (
            "Merci de prévoir le livret de famille, un justificatif de domicile et le carnet "
            "de santé de l'enfant (vaccinations à jour).",
            "Les pièces demandées sont le livret de famille et un justificatif de domicile.",
        ),
        "demarche": (
            "L'inscription se fait sur le portail famille ; vous recevrez ensuite un certificat "
            "d'inscription à présenter à l'école pour l'admission.",
            "Vous pouvez remplir la fiche d'inscription à l'accueil de la mairie.",
        ),
        "secteur": (
            "L'école est attribuée en fonction de votre adresse, selon la carte scolaire.",
            "Votre rue dépend du secteur de l'école Jean-Moulin.",
        ),
        "calendrier": (
            "Les inscriptions pour la rentrée sont à faire dès que possible.",
            "La période d'inscription court à partir du 1er mars.",
        ),
    },
    "email-piscine-tarifs": {
        "horaires": (
            "La piscine est ouverte au public le mercredi de 12 h à 19 h et le samedi de 10 h "
            "à 18 h.",
            "Les horaires changent pendant les vacances scolaires ; ils sont affichés à l'entrée.",
        ),
        "tarifs": (
            "L'entrée coûte 3,50 € pour un adulte et 2 € pour un enfant.",
            "Une carte de dix entrées est proposée au tarif de 30 euros.",
        ),
        "cours": (
            "Des cours de natation sont proposés aux enfants à partir de six ans.",
            "Nos maîtres-nageurs donnent des leçons particulières sur réservation.",
        ),
        "regles": (
            "Le bonnet de bain est obligatoire et les shorts de bain sont interdits.",
            "Le passage à la douche est obligatoire avant l'accès aux bassins.",
        ),
    },
}

# (subject of a fresh message, what the request was about)
_TOPICS: dict[str, tuple[str, str]] = {
    "email-acte-naissance": ("Votre demande de copie d'acte de naissance",
                             "votre demande d'acte de naissance"),
    "email-aide-ponctuelle": ("Votre demande d'aide", "votre demande d'aide"),
    "email-apa-parent": ("Aide à domicile pour votre parent", "votre demande concernant votre "
                         "parent"),
    "email-bac-non-collecte": ("Collecte des déchets - votre signalement", "votre signalement"),
    "email-bruit-voisinage": ("Votre signalement de nuisances sonores", "votre signalement"),
    "email-carte-bibliotheque": ("Inscription à la bibliothèque", "votre demande d'inscription"),
    "email-cloture-declaration-prealable": ("Votre projet de clôture", "votre projet de clôture"),
    "email-inscription-listes-electorales": ("Inscription sur les listes électorales",
                                             "votre demande d'inscription"),
    "email-inscription-scolaire": ("Inscription scolaire", "l'inscription de votre enfant"),
    "email-piscine-tarifs": ("Piscine municipale - vos questions", "vos questions sur la piscine"),
}  # fmt: skip
_DEFAULT_TOPIC = ("Votre demande de renseignements", "votre demande")

# Where a service sends a request it does not handle: (who, local part at the same domain)
_REDIRECTS: dict[str, tuple[tuple[str, str | None], ...]] = {
    "email-acte-naissance": (("le service de l'état civil", "etat-civil"),
                             ("l'accueil de la mairie", "accueil")),
    "email-aide-ponctuelle": (("le centre communal d'action sociale", "ccas"),
                              ("la maison départementale des solidarités de votre secteur", None)),
    "email-apa-parent": (("le service autonomie du conseil départemental", None),
                         ("le centre communal d'action sociale", "ccas")),
    "email-bac-non-collecte": (("la communauté de communes, qui gère la collecte des déchets",
                                None), ("le service environnement", "environnement")),
    "email-bruit-voisinage": (("la police municipale", "police"),),
    "email-carte-bibliotheque": (("la médiathèque", "mediatheque"),),
    "email-cloture-declaration-prealable": (("le service urbanisme", "urbanisme"),
                                            ("le service instructeur de l'intercommunalité",
                                             None)),
    "email-inscription-listes-electorales": (("le service des élections", "elections"),),
    "email-inscription-scolaire": (("le service des affaires scolaires", "ecoles"),),
    "email-piscine-tarifs": (("le centre aquatique intercommunal", None),),
}  # fmt: skip
_DEFAULT_REDIRECTS: tuple[tuple[str, str | None], ...] = (("l'accueil de la mairie", "accueil"),)

_OPENINGS = (
    "Suite à votre courriel, voici les éléments demandés.",
    "Je fais suite à votre message du {sent_on}.",
    "Merci pour votre message.",
    "En réponse à votre demande, voici les informations utiles.",
    "Nous avons bien reçu votre demande et vous en remercions.",
    "",
)
_OTHER_AGENT_OPENINGS = (
    "Votre message adressé à {service} m'a été transmis.",
    "Ma collègue de l'accueil m'a fait suivre votre message.",
    "Je me permets de revenir vers vous au sujet de {topic}.",
)
_NOTHING_TO_SAY = (
    "Je ne suis malheureusement pas en mesure de vous répondre précisément par écrit.",
    "Votre question demande une étude plus approfondie de votre situation.",
    "Il est difficile de vous répondre de façon complète par courriel.",
)
_FINAL_LINES = (
    "Je reste à votre disposition pour tout renseignement complémentaire.",
    "N'hésitez pas à revenir vers moi si besoin.",
    "Bonne journée.",
    "",
)
_FORMULAS = ("Cordialement,", "Bien cordialement,", "Bien à vous,", "Sincères salutations,",
             "Très cordialement,")  # fmt: skip
_FORMAL = "Je vous prie d'agréer, {civility}, l'expression de mes salutations distinguées."

_HUMAN_ACKS = (
    "Nous avons bien reçu votre demande et nous vous répondrons dans les meilleurs délais.",
    "Bien reçu, je reviens vers vous dès que possible.",
    "Votre message a bien été reçu ; il est en cours de traitement.",
    "J'accuse réception de votre message, que je transmets à la personne en charge.",
)
_REDIRECT_BODIES = (
    "Votre demande ne relève pas de notre service. Je vous invite à vous adresser "
    "{to_target}{at}, qui pourra vous renseigner.",
    "Ce n'est pas notre service qui traite ce type de demande : veuillez vous adresser "
    "directement {to_target}{at}.",
    "Votre demande ne relève pas de notre compétence. Adressez-vous {to_target}{at}.",
    "J'ai transmis votre message {to_target}{at}, qui reviendra vers vous.",
)


def _to(target: str) -> str:
    """« à » before a noun phrase, contracted: « au service », « aux services », « à la »."""
    if target.startswith("le "):
        return "au " + target[3:]
    if target.startswith("les "):
        return "aux " + target[4:]
    return "à " + target


def _french_date(day: date) -> str:
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def _short_date(day: date) -> str:
    first = "1er" if day.day == 1 else str(day.day)
    return f"{first} {_MONTHS[day.month - 1]}"


# -- recognising the scenario --------------------------------------------------------------------

_TEMPLATE_CODE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_REPLY_PREFIX = re.compile(r"^\s*((re|tr|fwd?|relance)\s*:\s*)+", re.IGNORECASE)


class ScenarioRecogniser:
    """Which email scenario a request was written from, by its wording's fixed phrases."""

    THRESHOLD = 0.5

    def __init__(self, catalog: Catalog) -> None:
        self._wordings: list[tuple[Scenario, str | None, list[str]]] = []
        for scenario in catalog:
            if scenario.channel is not Channel.EMAIL:
                continue
            for wording in scenario.wordings:
                subject = None
                if wording.subject and not _TEMPLATE_CODE.search(wording.subject):
                    subject = fold_words(wording.subject)
                phrases = [
                    folded
                    for chunk in _TEMPLATE_CODE.split(wording.body)
                    for line in chunk.split("\n")
                    if len((folded := fold_words(line)).split()) >= 3
                ]
                self._wordings.append((scenario, subject, phrases))

    def recognise(self, subject: str, body: str) -> Scenario | None:
        text = fold_words(body)
        wanted = fold_words(_REPLY_PREFIX.sub("", subject))
        best: Scenario | None = None
        best_score = 0.0
        for scenario, fixed_subject, phrases in self._wordings:
            total = sum(len(p) for p in phrases)
            score = sum(len(p) for p in phrases if p in text) / total if total else 0.0
            if fixed_subject is not None and fixed_subject == wanted:
                score += 0.5
            if score > best_score:
                best, best_score = scenario, score
        return best if best_score >= self.THRESHOLD else None


# -- the request as the service reads it ---------------------------------------------------------


@dataclass(frozen=True)
class _Incoming:
    raw: bytes
    message_id: str | None
    persona: str  # the From address, lower-case
    persona_name: str
    envelope_sender: str
    reply_to: str | None
    to_header: str
    subject: str
    date: datetime | None
    body: str
    references: tuple[str, ...]

    @classmethod
    def parse(cls, item: ReceivedMessage) -> _Incoming:
        msg = message_from_bytes(item.raw, policy=default_policy)
        name, address = parseaddr(str(msg.get("From", "")))
        reply = [a for _, a in getaddresses([str(v) for v in msg.get_all("Reply-To", [])]) if a]
        try:
            sent = parsedate_to_datetime(str(msg["Date"])) if msg["Date"] else None
        except (TypeError, ValueError):
            sent = None
        if sent is not None and sent.tzinfo is None:
            sent = None
        refs = " ".join(str(v) for v in (msg.get_all("References", []) or []))
        refs += " " + str(msg.get("In-Reply-To", "") or "")
        return cls(
            raw=item.raw,
            message_id=str(msg["Message-ID"]).strip() if msg["Message-ID"] else item.message_id,
            persona=address.lower(),
            persona_name=name or address,
            envelope_sender=(item.mail_from or address).lower(),
            reply_to=reply[0].lower() if reply else None,
            to_header=str(msg.get("To", "")),
            subject=str(msg.get("Subject", "")),
            date=sent,
            body=_plain_text(msg),
            references=tuple(re.findall(r"<[^<>\s]+>", refs)),
        )


def _plain_text(msg: Message) -> str:
    if isinstance(msg, EmailMessage):
        part = msg.get_body(preferencelist=("plain",))
        if isinstance(part, EmailMessage):
            try:
                return str(part.get_content())
            except (LookupError, ValueError):
                return ""
    return ""


# -- the voice of a service ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Agent:
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
class _Voice:
    """How one service writes: its mail client, its agents, its names and phone number."""

    service: SimulatedService
    client: str  # outlook, thunderbird, zimbra, roundcube
    agents: tuple[_Agent, ...]
    phone: str
    autoresponder: str  # ticket, exchange

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


def _voice(service: SimulatedService, seed: int | str) -> _Voice:
    rng = random.Random(f"{seed}|voice|{service.address.lower()}")
    client = rng.choices(("outlook", "thunderbird", "zimbra", "roundcube"), (4, 2, 3, 1))[0]
    kind = service.kind or resolve_service_kind(service.address.split("@")[0].replace("-", " "))
    roles = _ROLES.get(kind or "", _DEFAULT_ROLES)
    agents: list[_Agent] = []
    used: set[str] = set()
    while len(agents) < 3:
        feminine = rng.random() < 0.65  # most town-hall agents are women
        first = rng.choice(_WOMEN if feminine else _MEN)
        last = rng.choice(_SURNAMES)
        if f"{first} {last}" in used:
            continue
        used.add(f"{first} {last}")
        role = rng.choice(roles)[1 if feminine else 0]
        agents.append(_Agent(first, last, feminine, role))
    return _Voice(
        service,
        client,
        tuple(agents),
        _phone(service.departement, rng),
        rng.choice(("ticket", "exchange")),
    )


_FEMININE_FIRST = frozenset(fold_words(n) for n in _WOMEN) | frozenset(
    {"helene", "chloe", "emma", "lea", "manon", "sarah", "nora", "yasmine", "louise", "alice"}
)
_MASCULINE_FIRST = frozenset(fold_words(n) for n in _MEN) | frozenset(
    {"lucas", "hugo", "louis", "nathan", "yanis", "adam", "ahmed", "david", "michel", "pierre"}
)


def _civility(persona_name: str) -> str | None:
    first = fold_words(persona_name).split(" ")[0] if persona_name.strip() else ""
    if first in _FEMININE_FIRST:
        return "Madame"
    if first in _MASCULINE_FIRST:
        return "Monsieur"
    return None


# -- writing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Written:
    raw: bytes
    message_id: str
    sender: str
    recipient: str
    subject: str
    included: tuple[str, ...] = ()
    omitted: tuple[str, ...] = ()


class _Writer:
    """Composes one reaction to one request (deterministic for its generator)."""

    def __init__(
        self,
        voice: _Voice,
        request: _Incoming,
        scenario: Scenario | None,
        rng: random.Random,
        received: datetime,
    ) -> None:
        self.voice = voice
        self.request = request
        self.sent = request.date or received  # a request without a Date header: its arrival
        self.scenario = scenario
        self.rng = rng
        self.tz = voice.service.calendar.tz

    # -- pieces --

    def _message_id(self, style: str) -> str:
        rng, domain = self.rng, self.voice.domain
        if style == "outlook":
            parts = [f"{rng.getrandbits(32):08x}" for _ in range(3)]
            return f"<000001dc{parts[0]}${parts[1]}${parts[2]}@{domain}>"
        if style == "zimbra":
            return (
                f"<{rng.randrange(10**8, 10**9)}.{rng.randrange(10**5, 10**6)}."
                f"{rng.randrange(10**12, 10**13)}.JavaMail.zimbra@{domain}>"
            )
        if style == "roundcube":
            return f"<{rng.getrandbits(128):032x}@{domain}>"
        return f"<{uuid.UUID(int=rng.getrandbits(128), version=4)}@{domain}>"

    def _greeting(self) -> str:
        civility = _civility(self.request.persona_name)
        if civility:
            return self.rng.choice((f"Bonjour {civility},", f"{civility},", "Bonjour,"))
        return self.rng.choice(("Bonjour,", "Madame, Monsieur,", "Bonjour Madame, Monsieur,"))

    def _signature(self, agent: _Agent, *, full: bool) -> list[str]:
        voice = self.voice
        lines = [agent.name]
        if full:
            style = self.rng.randrange(3)
            if style >= 1:
                lines.append(agent.role)
            lines.append(f"{voice.service_name} - {voice.town_hall}")
            if style == 2:
                lines.append(f"Tél. : {voice.phone}")
        return lines

    def _closing(self, agent: _Agent, *, full: bool = True) -> list[str]:
        civility = _civility(self.request.persona_name) or "Madame, Monsieur"
        formula = self.rng.choice((*_FORMULAS, _FORMAL.format(civility=civility)))
        lines = [formula]
        if formula.endswith("."):
            lines.append("")
        if self.voice.client == "thunderbird":
            lines += ["", "-- "]
        return lines + self._signature(agent, full=full)

    def _topic(self) -> tuple[str, str]:
        return _TOPICS.get(self.scenario.id, _DEFAULT_TOPIC) if self.scenario else _DEFAULT_TOPIC

    def _sent_on(self) -> date:
        return self.sent.astimezone(self.tz).date()

    def _quote(self) -> list[str]:
        req, voice = self.request, self.voice
        sent = self.sent.astimezone(self.tz)
        body = req.body.rstrip("\n").split("\n")
        name, address = req.persona_name, req.persona
        if voice.client == "outlook":
            head = self.rng.choice(("-----Message d'origine-----", "_" * 32))
            return [
                "",
                head,
                f"De : {name} <{address}>",
                f"Envoyé : {_french_date(sent.date())} {sent:%H:%M}",
                f"À : {voice.service.address}",
                f"Objet : {req.subject}",
                "",
                *body,
            ]
        if voice.client == "zimbra":
            return [
                "",
                "----- Mail original -----",
                f'De: "{name}" <{address}>',
                f"À: {voice.service.address}",
                f"Envoyé: {_french_date(sent.date()).capitalize()} {sent:%H:%M:%S}",
                f"Objet: {req.subject}",
                "",
                *body,
            ]
        if voice.client == "roundcube":
            head = f"Le {sent:%Y-%m-%d %H:%M}, {name} a écrit :"
        else:
            head = f"Le {sent:%d/%m/%Y à %H:%M}, {name} a écrit :"
        return ["", head, *[f"> {line}" if line else ">" for line in body]]

    # -- messages --

    def _envelope(
        self,
        *,
        sender_name: str,
        sender: str,
        to: str,
        subject: str,
        at: datetime,
        threaded: bool,
        style: str,
        automatic: bool,
    ) -> tuple[EmailMessage, str]:
        msg = EmailMessage(policy=SMTP_POLICY)
        message_id = self._message_id(style)
        req = self.request
        written = at - timedelta(seconds=self.rng.randint(2, 40) if not automatic else 1)
        msg["Date"] = format_datetime(written.astimezone(self.tz))
        msg["From"] = f"{sender_name} <{sender}>" if sender_name else sender
        msg["To"] = f"{req.persona_name} <{to}>" if req.persona_name != to else to
        msg["Subject"] = subject
        msg["Message-ID"] = message_id
        if threaded and req.message_id:
            msg["In-Reply-To"] = req.message_id
            refs = [r for r in req.references if r != req.message_id]
            msg["References"] = " ".join((*refs, req.message_id))
        if style == "outlook":
            msg["Thread-Topic"] = _REPLY_PREFIX.sub("", req.subject)
            msg["Thread-Index"] = "AdyS" + f"{self.rng.getrandbits(96):024x}"
            msg["Content-Language"] = "fr-FR"
            msg["X-Mailer"] = "Microsoft Outlook 16.0"
        elif style == "thunderbird":
            msg["User-Agent"] = "Mozilla Thunderbird"
            msg["Content-Language"] = "fr"
        elif style == "zimbra":
            msg["X-Mailer"] = "Zimbra 9.0.0_GA_4546 (ZimbraWebClient - FF115 (Linux)/9.0.0_GA)"
            msg["Thread-Topic"] = _REPLY_PREFIX.sub("", req.subject)
        elif style == "roundcube":
            msg["User-Agent"] = "Roundcube Webmail/1.6.5"
        msg["MIME-Version"] = "1.0"
        return msg, message_id

    def _body(self, msg: EmailMessage, lines: list[str], *, html_part: bool) -> None:
        text = "\n".join(lines).rstrip("\n") + "\n"
        msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
        if html_part:
            paragraphs = "\n".join(
                f"<p>{'<br>'.join(html.escape(line) for line in block.split(chr(10)))}</p>"
                for block in text.split("\n\n")
            )
            msg.add_alternative(
                f'<html><head><meta charset="utf-8"></head><body>{paragraphs}</body></html>\n',
                subtype="html",
                charset="utf-8",
                cte="quoted-printable",
            )

    def _reply_subject(self, threaded: bool, subject_of_new: str) -> str:
        if not threaded:
            return subject_of_new
        original = self.request.subject
        if _REPLY_PREFIX.match(original):
            return original
        return self.voice.prefix + original

    def _reply_address(self) -> str:
        return self.request.reply_to or self.request.persona

    def answer(self, planned: PlannedReaction) -> _Written:
        voice = self.voice
        elements = self.scenario.expected_elements if self.scenario else ()
        chosen = set(planned.included)
        agent = voice.agents[1 if planned.other_agent else 0]
        text: list[str] = []
        found: tuple[str, ...] = ()
        for attempt in range(60):
            text = self._answer_lines(planned, agent, full_signature=attempt < 40)
            own = "\n".join(text)
            found = tuple(e.id for e in elements if e.found_in(own))
            if set(found) == chosen:
                break
        else:
            log.warning(
                "answer of %s to %s: wrote %s instead of %s",
                voice.service.address,
                self.request.message_id,
                found,
                sorted(chosen),
            )
        omitted = tuple(e.id for e in elements if e.id not in found)
        if planned.other_agent:
            sender_name, sender = agent.name, agent.address(voice.domain)
        else:
            sender_name = f"{voice.service_name} - {voice.town_hall}"
            sender = voice.service.address
        subject = self._reply_subject(planned.threaded, self._topic()[0])
        if planned.threaded:
            text += self._quote()
        return self._finish(
            text,
            sender_name=sender_name,
            sender=sender,
            to=self._reply_address() if planned.threaded else self.request.persona,
            subject=subject,
            planned=planned,
            style=voice.client,
            included=found,
            omitted=omitted,
        )

    def _answer_lines(
        self, planned: PlannedReaction, agent: _Agent, *, full_signature: bool
    ) -> list[str]:
        rng = self.rng
        lines = [self._greeting(), ""]
        topic = self._topic()[1]
        if planned.other_agent:
            opening = rng.choice(_OTHER_AGENT_OPENINGS)
        else:
            opening = rng.choice(_OPENINGS)
        opening = opening.format(
            sent_on=_short_date(self._sent_on()), service=self.voice.service.address, topic=topic
        )
        if opening:
            lines += [opening, ""]
        sentences = [self._sentence(element_id) for element_id in planned.included]
        if not sentences:
            sentences = [rng.choice(_NOTHING_TO_SAY)]
        while sentences:
            take = rng.randint(1, 2)
            lines += [" ".join(sentences[:take]), ""]
            sentences = sentences[take:]
        final = rng.choice(_FINAL_LINES)
        if final:
            lines += [final, ""]
        return lines + self._closing(agent, full=full_signature)

    def _sentence(self, element_id: str) -> str:
        scenario = self.scenario
        assert scenario is not None
        bank = _SENTENCES.get(scenario.id, {}).get(element_id)
        if bank:
            return self.rng.choice(bank).format(phone=self.voice.phone)
        element = next(e for e in scenario.expected_elements if e.id == element_id)
        label = element.label[0].lower() + element.label[1:]
        sentence = f"Concernant votre question ({label}), tous les détails figurent sur le site "
        sentence += "internet de la commune."
        if not element.found_in(sentence):
            sentence += f" Retenez simplement : {self.rng.choice(element.patterns).rstrip('*')}."
        return sentence

    def redirect(self, planned: PlannedReaction) -> _Written:
        voice, rng = self.voice, self.rng
        scenario_id = self.scenario.id if self.scenario else ""
        local = voice.service.address.split("@", 1)[0]
        targets = [t for t in _REDIRECTS.get(scenario_id, _DEFAULT_REDIRECTS) if t[1] != local]
        target, target_local = rng.choice(targets or list(_DEFAULT_REDIRECTS))
        at = f" ({target_local}@{voice.domain})" if target_local else ""
        agent = voice.agents[1 if planned.other_agent else 0]
        text = [
            self._greeting(),
            "",
            rng.choice(_REDIRECT_BODIES).format(to_target=_to(target), at=at),
            "",
            *self._closing(agent),
        ]
        own = "\n".join(text)
        elements = self.scenario.expected_elements if self.scenario else ()
        included = tuple(e.id for e in elements if e.found_in(own))
        if planned.threaded:
            text += self._quote()
        if planned.other_agent:
            sender_name, sender = agent.name, agent.address(voice.domain)
        else:
            sender_name, sender = voice.service_name, voice.service.address
        return self._finish(
            text,
            sender_name=sender_name,
            sender=sender,
            to=self._reply_address(),
            subject=self._reply_subject(planned.threaded, self._topic()[0]),
            planned=planned,
            style=voice.client,
            included=included,
            omitted=tuple(e.id for e in elements if e.id not in included),
        )

    def acknowledgement(self, planned: PlannedReaction) -> _Written:
        if not planned.automatic:
            agent = self.voice.agents[2]
            text = [self._greeting(), "", self.rng.choice(_HUMAN_ACKS), "",
                    *self._closing(agent, full=False)]  # fmt: skip
            if planned.threaded:
                text += self._quote()
            return self._finish(
                text,
                sender_name=self.voice.service_name,
                sender=self.voice.service.address,
                to=self._reply_address(),
                subject=self._reply_subject(planned.threaded, self._topic()[0]),
                planned=planned,
                style=self.voice.client,
            )
        return self._automatic_ack(planned)

    def _automatic_ack(self, planned: PlannedReaction) -> _Written:
        voice, rng, req = self.voice, self.rng, self.request
        received = _french_date(self._sent_on())
        subject_of = _REPLY_PREFIX.sub("", req.subject)
        if voice.autoresponder == "ticket":
            number = f"{planned.at.year}-{rng.randrange(1, 9999):04d}"
            sender_name = f"{voice.town_hall} - ne pas répondre"
            sender = f"ne-pas-repondre@{voice.domain}"
            subject = rng.choice(
                (f"Accusé de réception : {subject_of}",
                 f"Accusé de réception de votre demande n° {number}")
            )  # fmt: skip
            text = [
                "Madame, Monsieur,",
                "",
                f"Nous avons bien reçu votre message du {received} et nous vous en remercions.",
                f"Votre demande est enregistrée sous le numéro {number}.",
                "",
                "Elle sera traitée par le service concerné dans les meilleurs délais.",
                "",
                "Ceci est un message automatique, merci de ne pas y répondre.",
                "",
                voice.town_hall,
            ]
            to = self._reply_address()
        else:
            sender_name, sender = voice.service_name, voice.service.address
            subject = f"Réponse automatique : {subject_of}"
            text = [
                "Bonjour,",
                "",
                f"Votre message à destination du service « {voice.service_name} » a bien été reçu.",
                "Nous vous répondrons dans un délai de cinq jours ouvrés.",
                "",
                f"{voice.service_name} - {voice.town_hall}",
            ]
            to = req.persona
        return self._finish(
            text,
            sender_name=sender_name,
            sender=sender,
            to=to,
            subject=subject,
            planned=planned,
            style="ticket" if voice.autoresponder == "ticket" else "outlook",
            auto_headers=voice.autoresponder,
        )

    def out_of_office(self, planned: PlannedReaction) -> _Written:
        voice, rng, req = self.voice, self.rng, self.request
        agent = voice.agents[0]
        back_on = planned.back_on or (planned.at + timedelta(days=7)).date()
        last_day = voice.service.calendar.add_business_days(back_on, -1)
        absent = "absente" if agent.feminine else "absent"
        if voice.service.address.startswith("accueil@"):
            desk, desk_address = "le secrétariat de la mairie", f"secretariat@{voice.domain}"
        else:
            desk, desk_address = "l'accueil de la mairie", f"accueil@{voice.domain}"
        subject_of = _REPLY_PREFIX.sub("", req.subject)
        if voice.client == "outlook":
            subject = f"Réponse automatique : {subject_of}"
            text = [
                "Bonjour,",
                "",
                f"Je suis {absent} du bureau jusqu'au {_french_date(last_day)} inclus. "
                "Pendant mon absence, vos messages ne seront pas lus.",
                f"Pour toute demande urgente, veuillez vous adresser {_to(desk)}, par courriel "
                f"({desk_address}) ou par téléphone au {voice.phone}.",
                "",
                "Cordialement,",
                agent.name,
            ]
            headers = "exchange"
            to = req.persona
        else:
            subject = rng.choice(("Absence", f"Auto: {subject_of}", f"{absent.capitalize()} "
                                  f"jusqu'au {_short_date(last_day)}"))  # fmt: skip
            text = [
                "Bonjour,",
                "",
                f"Je suis actuellement en congé, de retour le {_french_date(back_on)}.",
                "Votre message sera traité à mon retour.",
                f"En cas d'urgence, vous pouvez joindre {desk} à l'adresse {desk_address} ou "
                f"au {voice.phone}.",
                "",
                "Bien cordialement,",
                agent.name,
                agent.role,
            ]
            headers = "vacation"
            to = req.envelope_sender
        return self._finish(
            text,
            sender_name=agent.name,
            sender=voice.service.address,
            to=to,
            subject=subject,
            planned=planned,
            style=voice.client,
            auto_headers=headers,
        )

    def _finish(
        self,
        text: list[str],
        *,
        sender_name: str,
        sender: str,
        to: str,
        subject: str,
        planned: PlannedReaction,
        style: str,
        included: tuple[str, ...] = (),
        omitted: tuple[str, ...] = (),
        auto_headers: str | None = None,
    ) -> _Written:
        msg, message_id = self._envelope(
            sender_name=sender_name,
            sender=sender,
            to=to,
            subject=subject,
            at=planned.at,
            threaded=planned.threaded,
            style=style,
            automatic=planned.automatic,
        )
        if auto_headers == "exchange":
            msg["Auto-Submitted"] = "auto-generated"
            msg["X-Auto-Response-Suppress"] = "All"
            msg["X-MS-Exchange-Inbox-Rules-Loop"] = self.voice.service.address
        elif auto_headers == "vacation":
            msg["Auto-Submitted"] = "auto-replied (vacation)"
            msg["Precedence"] = "bulk"
        elif auto_headers == "ticket":
            msg["Auto-Submitted"] = "auto-replied"
            msg["X-Auto-Response-Suppress"] = "All"
        self._body(msg, text, html_part=style in ("outlook", "zimbra") and not planned.automatic)
        return_path = "" if auto_headers else sender
        raw = _delivered(
            msg.as_bytes(),
            return_path=return_path,
            recipient=to,
            relay=f"mx.{self.voice.domain}",
            at=planned.at,
            rng=self.rng,
            spam=planned.mailbox == "Junk",
        )
        return _Written(raw, message_id, sender, to, subject, included, omitted)

    def bounce(self, planned: PlannedReaction) -> _Written:
        """A DSN from the persona's provider: the service's server refused the request."""
        req, rng = self.request, self.rng
        persona_domain = req.envelope_sender.rsplit("@", 1)[-1]
        host = f"smtp.{persona_domain}"
        service = self.voice.service.address
        queue_id = "".join(rng.choice("0123456789BCDFGHJKLMNPQRSTVWXZbcdfghjklmnpqrstvwxz")
                           for _ in range(14))  # fmt: skip
        message_id = f"<{queue_id}@{host}>"
        boundary = f"{queue_id}.{int(planned.at.timestamp())}/{host}"
        local = planned.at.astimezone(self.tz)
        arrival = (req.date or planned.at).astimezone(self.tz)
        diagnostic = (
            f"550 5.1.1 <{service}>: Recipient address rejected: User unknown in virtual "
            "mailbox table"
        )
        french = rng.random() < 0.4
        if french:
            subject = f"Échec de la remise : {_REPLY_PREFIX.sub('', req.subject)}"
            notice = [
                f"Ceci est le système de messagerie de {host}.",
                "",
                "Votre message n'a pas pu être remis à un ou plusieurs destinataires.",
                "Il est joint à ce message.",
                "",
                f"<{service}> : le serveur de {self.voice.domain} a répondu :",
                f"    {diagnostic}",
            ]
        else:
            subject = "Undelivered Mail Returned to Sender"
            notice = [
                f"This is the mail system at host {host}.",
                "",
                "I'm sorry to have to inform you that your message could not",
                "be delivered to one or more recipients. It's attached below.",
                "",
                "For further assistance, please send mail to postmaster.",
                "",
                "If you do so, please include this problem report. You can",
                "delete your own text from the attached returned message.",
                "",
                "                   The mail system",
                "",
                f"<{service}>: host mx.{self.voice.domain}[192.0.2.{rng.randrange(2, 250)}] said:",
                f"    {diagnostic} (in reply to RCPT TO command)",
            ]
        subject_header = Header(subject, "utf-8").encode() if not subject.isascii() else subject
        head = [
            f"Date: {format_datetime(local)}",
            f"From: MAILER-DAEMON@{host} (Mail Delivery System)",
            f"Subject: {subject_header}",
            f"To: {req.envelope_sender}",
            "Auto-Submitted: auto-replied",
            "MIME-Version: 1.0",
            "Content-Type: multipart/report; report-type=delivery-status;",
            f'\tboundary="{boundary}"',
            "Content-Transfer-Encoding: 8bit",
            f"Message-Id: {message_id}",
            "",
            "This is a MIME-encapsulated message.",
            "",
            f"--{boundary}",
            "Content-Description: Notification",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
            "",
            *notice,
            "",
            f"--{boundary}",
            "Content-Description: Delivery report",
            "Content-Type: message/delivery-status",
            "",
            f"Reporting-MTA: dns; {host}",
            f"X-Postfix-Queue-ID: {queue_id}",
            f"X-Postfix-Sender: rfc822; {req.envelope_sender}",
            f"Arrival-Date: {format_datetime(arrival)}",
            "",
            f"Final-Recipient: rfc822; {service}",
            f"Original-Recipient: rfc822;{service}",
            "Action: failed",
            "Status: 5.1.1",
            f"Remote-MTA: dns; mx.{self.voice.domain}",
            f"Diagnostic-Code: smtp; {diagnostic}",
            "",
            f"--{boundary}",
            "Content-Description: Undelivered Message",
            "Content-Type: message/rfc822",
            "Content-Transfer-Encoding: 8bit",
            "",
        ]
        original = req.raw.replace(b"\r\n", b"\n").rstrip(b"\n")
        body = ("\n".join(head) + "\n").encode() + original
        body += f"\n\n--{boundary}--\n".encode()
        raw = _delivered(
            body.replace(b"\n", b"\r\n"),
            return_path="",
            recipient=req.envelope_sender,
            relay=None,
            at=planned.at,
            rng=rng,
            spam=False,
        )
        return _Written(raw, message_id, f"MAILER-DAEMON@{host}", req.envelope_sender, subject)


def _delivered(
    raw: bytes,
    *,
    return_path: str,
    recipient: str,
    relay: str | None,
    at: datetime,
    rng: random.Random,
    spam: bool,
) -> bytes:
    """``raw`` with the trace headers the persona's provider adds when it delivers it."""
    domain = recipient.rsplit("@", 1)[-1]
    stamp = format_datetime(at.astimezone(UTC))
    queue_id = f"{rng.getrandbits(40):010X}"
    received = (
        f"Received: from {relay} ({relay} [192.0.2.{rng.randrange(2, 250)}])\r\n"
        f"\tby mx.{domain} (Postfix) with ESMTPS id {queue_id}\r\n"
        f"\tfor <{recipient}>; {stamp}\r\n"
        if relay
        else f"Received: by mx.{domain} (Postfix) id {queue_id}; {stamp}\r\n"
    )
    trace = f"Return-Path: <{return_path}>\r\nDelivered-To: {recipient}\r\n{received}"
    if spam:
        # The provider's filter files it in Junk; rspamd leaves these headers (no verdict
        # flag that a reader would mistake for an X-Spam-Flag from the sender).
        score = rng.uniform(6.0, 9.5)
        trace += f"X-Spamd-Result: default: False [{score:.2f} / 15.00]\r\nX-Spam: Yes\r\n"
    return trace.encode() + raw


# -- the simulator -------------------------------------------------------------------------------


class SimulatedCollectivities:
    """Town-hall services answering the personas, in simulated time, into real mailboxes.

    ``profiles`` maps each service address to the service it is; ``persona_mailboxes`` maps
    each persona address to its Dovecot user (sub-addresses ``local+token@domain`` reach the
    same user). ``resolve`` (optional) maps a request's Message-ID to what the demo knows of
    the contact; without it, or when it knows nothing, the scenario is recognised from the
    request's wording.
    """

    def __init__(
        self,
        provider: SmtpProvider,
        dovecot: DovecotServer,
        clock: Clock,
        profiles: Mapping[str, SimulatedService],
        persona_mailboxes: Mapping[str, str],
        catalog: Catalog,
        seed: int | str,
        *,
        resolve: Resolver | None = None,
        truth: Truth | None = None,
        subaddress_separator: str = "+",
    ) -> None:
        self.provider = provider
        self.dovecot = dovecot
        self.clock = clock
        self.services = {address.lower(): s for address, s in profiles.items()}
        self.persona_mailboxes = {a.lower(): user for a, user in persona_mailboxes.items()}
        self.catalog = catalog
        self.seed = seed
        self.resolve = resolve
        self.truth = truth if truth is not None else Truth()
        self.separator = subaddress_separator
        self.followups: list[str] = []
        self.clamped_dates = 0  # deliveries whose INTERNALDATE the server did not keep
        self._recogniser = ScenarioRecogniser(catalog)
        self._voices = {a: _voice(s, seed) for a, s in self.services.items()}
        self._arrivals: queue.SimpleQueue[_Arrival] = queue.SimpleQueue()
        self._pending: list[tuple[datetime, int, _Scheduled]] = []
        self._sequence = itertools.count()
        self._handled: set[tuple[str, str]] = set()
        self._requests: dict[str, str] = {}  # our Message-ID -> service address
        self._pump_lock = threading.Lock()
        self._previous = provider.on_message
        provider.on_message = self._on_message
        provider.rules.append(self._rcpt_rule)

    def detach(self) -> None:
        """Stop listening to the provider (what is queued can still be pumped)."""
        if self.provider.on_message == self._on_message:
            self.provider.on_message = self._previous
        if self._rcpt_rule in self.provider.rules:
            self.provider.rules.remove(self._rcpt_rule)

    # -- provider threads --

    def _on_message(self, item: ReceivedMessage) -> None:
        self._arrivals.put(_Arrival(item, self.clock.now()))
        if self._previous is not None:
            self._previous(item)

    def _rcpt_rule(self, stage: str, address: str, attempt: int) -> str | None:
        service = self.services.get(address.lower())
        if stage != "RCPT" or service is None or service.profile.dead is not DeadAddress.RCPT:
            return None
        reply = f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        self.truth.record_refusal(address, self.clock.now(), reply, attempt)
        return reply

    # -- pumping --

    @property
    def pending(self) -> int:
        """Reactions decided and not delivered yet."""
        return len(self._pending)

    def next_due(self) -> datetime | None:
        pending = self._pending
        return pending[0][0] if pending else None

    def pump(self, now: datetime | None = None) -> list[Delivery]:
        """Decide on new requests, then deliver every reaction due at ``now`` (blocking I/O)."""
        with self._pump_lock:
            while True:
                try:
                    arrival = self._arrivals.get_nowait()
                except queue.Empty:
                    break
                self._handle(arrival)
            instant = now if now is not None else self.clock.now()
            delivered: list[Delivery] = []
            connections: dict[str, imaplib.IMAP4] = {}
            try:
                while self._pending and self._pending[0][0] <= instant:
                    item = heapq.heappop(self._pending)
                    at, _, scheduled = item
                    try:
                        conn = connections.get(scheduled.user)
                        if conn is None:
                            conn = connections[scheduled.user] = self.dovecot.imap(scheduled.user)
                        uidvalidity, uid, stored = _append(conn, scheduled, at)
                    except Exception:
                        heapq.heappush(self._pending, item)  # not delivered: try again later
                        raise
                    if stored != at:
                        self.clamped_dates += 1
                        log.warning(
                            "Dovecot stored INTERNALDATE %s instead of %s for %s: it replaces "
                            "dates after its own clock with its own clock; simulate a period "
                            "in the past",
                            stored.isoformat(),
                            at.isoformat(),
                            scheduled.reaction_id,
                        )
                    reaction = self.truth.record_delivery(
                        scheduled.reaction_id,
                        stored,
                        mailbox=scheduled.mailbox,
                        uidvalidity=uidvalidity,
                        uid=uid,
                    )
                    delivered.append(Delivery(reaction, scheduled.raw))
            finally:
                for conn in connections.values():
                    with contextlib.suppress(imaplib.IMAP4.error, OSError):
                        conn.logout()
            return delivered

    async def pump_async(self, now: datetime | None = None) -> list[Delivery]:
        return await asyncio.to_thread(self.pump, now)

    async def run(self, stop: asyncio.Event, interval: float = 0.1) -> None:
        """Pump every ``interval`` real seconds until ``stop`` is set."""
        while not stop.is_set():
            await self.pump_async()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
        await self.pump_async()

    # -- deciding --

    def _mailbox_user(self, address: str) -> str | None:
        address = address.lower()
        user = self.persona_mailboxes.get(address)
        if user is None and self.separator in address.split("@", 1)[0]:
            local, domain = address.split("@", 1)
            user = self.persona_mailboxes.get(f"{local.split(self.separator, 1)[0]}@{domain}")
        return user

    def _handle(self, arrival: _Arrival) -> None:
        try:
            request = _Incoming.parse(arrival.item)
        except Exception:  # a request we cannot read gets no reaction; say so
            log.exception("unreadable request from %s", arrival.item.mail_from)
            return
        for recipient in arrival.item.recipients:
            address = recipient.lower()
            service = self.services.get(address)
            if service is None:
                continue
            key = (request.message_id or "", address)
            if key in self._handled:
                continue
            self._handled.add(key)
            if any(self._requests.get(ref) == address for ref in request.references):
                self.followups.append(request.message_id or "")
                continue
            if request.message_id:
                self._requests[request.message_id] = address
            self._react(service, request, arrival.received_at)

    def _react(self, service: SimulatedService, request: _Incoming, received: datetime) -> None:
        info = self.resolve(request.message_id) if self.resolve and request.message_id else None
        scenario: Scenario | None = None
        if info is not None and info.scenario_id:
            scenario = self.catalog.scenarios.get(info.scenario_id)
        if scenario is None:
            scenario = self._recogniser.recognise(request.subject, request.body)
        elements = tuple(e.id for e in scenario.expected_elements) if scenario else ()
        rng = request_rng(self.seed, service.address, request.message_id)
        decision = decide(service.profile, Request(received, elements), service.calendar, rng)
        base = TruthReaction(
            reaction_id="",
            contact_message_id=request.message_id,
            service=service.address.lower(),
            persona=request.persona,
            kind="none",
            received_at=received,
            profile=service.profile.key,
            outcome=decision.outcome.value if decision.outcome else None,
            scenario_id=scenario.id if scenario else None,
            contact_id=info.contact_id if info else None,
        )
        if not decision.reactions:
            self.truth.record_decision(_with(base, reaction_id=f"none:{request.message_id}:"
                                             f"{service.address.lower()}"))  # fmt: skip
            return
        self._schedule(service, request, scenario, decision, base)

    def _schedule(
        self,
        service: SimulatedService,
        request: _Incoming,
        scenario: Scenario | None,
        decision: Decision,
        base: TruthReaction,
    ) -> None:
        voice = self._voices[service.address.lower()]
        for index, planned in enumerate(decision.reactions):
            rng = random.Random(
                f"{self.seed}|write|{service.address.lower()}|{request.message_id}|{index}"
            )
            writer = _Writer(voice, request, scenario, rng, base.received_at)
            if planned.kind == "answer":
                written = writer.answer(planned)
            elif planned.kind == "redirect":
                written = writer.redirect(planned)
            elif planned.kind == "acknowledgement":
                written = writer.acknowledgement(planned)
            elif planned.kind == "out_of_office":
                written = writer.out_of_office(planned)
            else:
                written = writer.bounce(planned)
            user = self._mailbox_user(written.recipient)
            if user is None:
                log.warning("no mailbox for %s: reaction dropped", written.recipient)
                continue
            self.truth.record_decision(
                _with(
                    base,
                    reaction_id=written.message_id,
                    kind=planned.kind,
                    planned_at=planned.at,
                    reaction_message_id=written.message_id,
                    sender=written.sender,
                    recipient=written.recipient,
                    subject=written.subject,
                    threaded=planned.threaded,
                    automatic=planned.automatic,
                    other_agent=planned.other_agent,
                    included=written.included,
                    omitted=written.omitted,
                    mailbox=planned.mailbox,
                    mailbox_user=user,
                    bounce_mode="dsn" if planned.kind == "bounce" else None,
                )
            )
            scheduled = _Scheduled(written.message_id, user, planned.mailbox, written.raw)
            heapq.heappush(self._pending, (planned.at, next(self._sequence), scheduled))


_APPENDUID = re.compile(r"APPENDUID (\d+) (\d+)")
_FETCHED_DATE = re.compile(rb'INTERNALDATE "([^"]+)"')


def _append(conn: imaplib.IMAP4, scheduled: _Scheduled, at: datetime) -> tuple[int, int, datetime]:
    """APPEND with INTERNALDATE ``at``; (UIDVALIDITY, UID, the INTERNALDATE the server kept).

    The date is read back because a server may not keep it: Dovecot replaces an INTERNALDATE
    later than its own clock with its own clock.
    """
    typ, data = conn.append(scheduled.mailbox, "", imaplib.Time2Internaldate(at), scheduled.raw)
    answer = data[0].decode() if data and isinstance(data[0], bytes) else ""
    found = _APPENDUID.search(answer)
    if typ != "OK" or found is None:
        raise RuntimeError(f"APPEND to {scheduled.user}/{scheduled.mailbox} failed: {data!r}")
    uidvalidity, uid = int(found.group(1)), int(found.group(2))
    typ, _ = conn.select(quote_mailbox(scheduled.mailbox), readonly=True)
    typ, fetched = conn.uid("FETCH", str(uid), "(INTERNALDATE)")
    head = fetched[0] if fetched else None
    stored = _FETCHED_DATE.search(head) if isinstance(head, bytes) else None
    if typ != "OK" or stored is None:
        raise RuntimeError(f"no INTERNALDATE for UID {uid} in {scheduled.mailbox}: {fetched!r}")
    return uidvalidity, uid, parse_internaldate(stored.group(1).decode())


def _with(base: TruthReaction, **changes: Any) -> TruthReaction:
    return replace(base, **changes)
