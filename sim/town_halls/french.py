"""The French the simulated town halls write with: pure data, and three small helpers.

People's first names and surnames, role titles by service kind; for each email scenario of the
catalogue, sentences that each give one expected element (an answer is built from them, see
``human.py``), the subject and topic of a fresh reply, where a request is redirected; the
openings, final lines and closing formulas of a French administrative email; human
acknowledgements and redirect bodies. New scenarios fall back to the ``DEFAULT_*`` entries.
"""

from __future__ import annotations

from datetime import date

DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
           "octobre", "novembre", "décembre")  # fmt: skip

WOMEN = ("Sophie", "Nathalie", "Isabelle", "Sandrine", "Céline", "Valérie", "Stéphanie",
          "Christelle", "Aurélie", "Émilie", "Laetitia", "Karine", "Delphine", "Virginie",
          "Marion", "Audrey", "Hélène", "Martine", "Josiane", "Nadia", "Fatima", "Maëlle",
          "Gwenaëlle", "Corinne", "Claire", "Lucie", "Inès", "Camille", "Julie",
          "Anne")  # fmt: skip
MEN = ("Julien", "Nicolas", "Stéphane", "Frédéric", "Christophe", "Sébastien", "Laurent",
        "Olivier", "Thierry", "Patrick", "Jérôme", "Yannick", "Mickaël", "Cédric", "Franck",
        "Rachid", "Mehdi", "Loïc", "Gaëtan", "Pascal", "Paul", "Karim", "Marc", "Thomas",
        "Antoine", "Jean")  # fmt: skip
SURNAMES = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
             "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "Bertrand",
             "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont",
             "Lambert", "Bonnet", "Muller", "Le Gall", "Le Goff", "Kervella", "Schmitt",
             "Meyer", "Weber", "Fabre", "Rousseau", "Blanc", "Guérin", "Faure", "Chevalier",
             "Benali", "Haddad", "Da Silva", "Ferreira", "Santoni", "Casanova", "Marie-Louise",
             "Nicolas", "Hoarau", "Payet", "Grondin")  # fmt: skip

# (masculine, feminine) role titles by service kind
ROLES: dict[str, tuple[tuple[str, str], ...]] = {
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
DEFAULT_ROLES = (("Agent administratif", "Agente administrative"),)

# Sentences that give one expected element each, by scenario and element id. Each is checked
# against the scenario's patterns when an answer is written: a sentence that would also give
# another element is not used for that answer.
SENTENCES: dict[str, dict[str, tuple[str, ...]]] = {
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
TOPICS: dict[str, tuple[str, str]] = {
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
DEFAULT_TOPIC = ("Votre demande de renseignements", "votre demande")

# Where a service sends a request it does not handle: (who, local part at the same domain)
REDIRECTS: dict[str, tuple[tuple[str, str | None], ...]] = {
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
DEFAULT_REDIRECTS: tuple[tuple[str, str | None], ...] = (("l'accueil de la mairie", "accueil"),)

OPENINGS = (
    "Suite à votre courriel, voici les éléments demandés.",
    "Je fais suite à votre message du {sent_on}.",
    "Merci pour votre message.",
    "En réponse à votre demande, voici les informations utiles.",
    "Nous avons bien reçu votre demande et vous en remercions.",
    "",
)
OTHER_AGENT_OPENINGS = (
    "Votre message adressé à {service} m'a été transmis.",
    "Ma collègue de l'accueil m'a fait suivre votre message.",
    "Je me permets de revenir vers vous au sujet de {topic}.",
)
NOTHING_TO_SAY = (
    "Je ne suis malheureusement pas en mesure de vous répondre précisément par écrit.",
    "Votre question demande une étude plus approfondie de votre situation.",
    "Il est difficile de vous répondre de façon complète par courriel.",
)
FINAL_LINES = (
    "Je reste à votre disposition pour tout renseignement complémentaire.",
    "N'hésitez pas à revenir vers moi si besoin.",
    "Bonne journée.",
    "",
)
FORMULAS = ("Cordialement,", "Bien cordialement,", "Bien à vous,", "Sincères salutations,",
             "Très cordialement,")  # fmt: skip
FORMAL = "Je vous prie d'agréer, {civility}, l'expression de mes salutations distinguées."

HUMAN_ACKS = (
    "Nous avons bien reçu votre demande et nous vous répondrons dans les meilleurs délais.",
    "Bien reçu, je reviens vers vous dès que possible.",
    "Votre message a bien été reçu ; il est en cours de traitement.",
    "J'accuse réception de votre message, que je transmets à la personne en charge.",
)
REDIRECT_BODIES = (
    "Votre demande ne relève pas de notre service. Je vous invite à vous adresser "
    "{to_target}{at}, qui pourra vous renseigner.",
    "Ce n'est pas notre service qui traite ce type de demande : veuillez vous adresser "
    "directement {to_target}{at}.",
    "Votre demande ne relève pas de notre compétence. Adressez-vous {to_target}{at}.",
    "J'ai transmis votre message {to_target}{at}, qui reviendra vers vous.",
)


def to_phrase(target: str) -> str:
    """« à » before a noun phrase, contracted: « au service », « aux services », « à la »."""
    if target.startswith("le "):
        return "au " + target[3:]
    if target.startswith("les "):
        return "aux " + target[4:]
    return "à " + target


def french_date(day: date) -> str:
    return f"{DAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"


def short_date(day: date) -> str:
    first = "1er" if day.day == 1 else str(day.day)
    return f"{first} {MONTHS[day.month - 1]}"
