"""The French of the town halls' machines and mailings: pure data, the simulator's own words.

Absence replies (by a platform or an agent's own client rule), automatic acknowledgements (a
shared mailbox's auto-responder, a ticket system's), the town's newsletter, platform
notifications, spam and the persona's provider's delivery reports. Written in the styles real
French mailboxes show, not copied from any message. Slots in braces are filled by the writers:
``{absent}`` (absent or absente), ``{last_day}``, ``{back_on}`` (long dates; ``{last_day_en}``
in English), ``{desk}``, ``{to_desk}``, ``{desk_address}``, ``{phone}``, ``{service}``,
``{town_hall}``, ``{received}``, ``{number}``, ``{subject}``, ``{town}``, ``{name}``.
"""

from __future__ import annotations

# An agent away: what the platform's automatic reply (or their client rule) says.
ABSENCES = (
    (
        "Je suis {absent} du bureau jusqu'au {last_day} inclus. Pendant mon absence, vos "
        "messages ne seront pas lus.",
        "Pour toute demande urgente, veuillez vous adresser {to_desk}, par courriel "
        "({desk_address}) ou par téléphone au {phone}.",
    ),
    (
        "Je suis actuellement en congé, de retour le {back_on}.",
        "Votre message sera traité à mon retour. En cas d'urgence, vous pouvez joindre {desk} "
        "à l'adresse {desk_address} ou au {phone}.",
    ),
    (
        "Merci pour votre message. Je suis {absent} jusqu'au {last_day} et n'aurai pas accès à "
        "ma messagerie.",
        "Pour toute question urgente, merci de contacter {desk} ({desk_address}).",
    ),
    (
        "Je suis en congés jusqu'au {last_day} inclus.",
        "Je prendrai connaissance de votre message à mon retour. Pour une demande urgente : "
        "{desk_address} ou {phone}.",
    ),
    (
        "Je serai de retour le {back_on}.",
        "En mon absence, {desk} reste à votre disposition au {phone}.",
    ),
    (
        "Je suis en formation jusqu'au {last_day} et ne pourrai pas consulter mes messages.",
        "Pour toute demande, vous pouvez écrire à {desk_address}.",
    ),
    (
        "En déplacement jusqu'au {last_day}, je n'aurai qu'un accès limité à ma messagerie.",
        "Je traiterai votre demande dès mon retour. Merci de votre compréhension.",
    ),
    (
        "Je suis {absent} du bureau jusqu'au {last_day}. / I am out of the office until "
        "{last_day_en}.",
        "Pour toute urgence : {desk_address} / For urgent matters: {desk_address}",
    ),
)
ABSENCE_SUBJECTS = ("Absence", "Message d'absence", "{Absent} jusqu'au {last_short}",
                    "Absence du bureau")  # fmt: skip

# A shared mailbox's permanent auto-responder: « bien reçu », a delay, the opening hours.
PLATFORM_ACKS = (
    (
        "Votre message à destination du service « {service} » a bien été reçu.",
        "Nous vous répondrons dans un délai de cinq jours ouvrés.",
    ),
    (
        "Nous accusons réception de votre courriel, qui sera traité dans les meilleurs délais.",
        "L'accueil de la mairie est ouvert au public du lundi au vendredi, de 8 h 30 à 12 h.",
    ),
    (
        "Nous avons bien reçu votre message et nous vous en remercions.",
        "Un agent vous répondra dans les meilleurs délais. Ceci est une réponse automatique, "
        "merci de ne pas y répondre.",
    ),
    (
        "Votre demande a bien été enregistrée par les services de la mairie.",
        "Elle sera étudiée dans les plus brefs délais.",
    ),
)
PLATFORM_ACK_SUBJECTS = ("Accusé de réception", "Accusé de réception : {subject}",
                         "Votre message a bien été reçu", "{town_hall} - message reçu")  # fmt: skip

# Ticket systems' acknowledgements (tickets.py adds their number, title and links).
TICKET_ACKS = {
    "otrs": (
        "Madame, Monsieur,",
        "",
        "Nous avons bien reçu votre message du {received} et nous vous en remercions.",
        "Votre demande est enregistrée sous le numéro {number}.",
        "",
        "Elle sera traitée par le service concerné dans les meilleurs délais.",
        "",
        "Ceci est un message automatique, merci de ne pas y répondre.",
        "",
        "{town_hall}",
    ),
    "glpi": (
        "Bonjour,",
        "",
        "Votre demande a été enregistrée sous le numéro {number}.",
        "",
        "Titre : {subject}",
        "Statut : Nouveau",
        "Demandeur : {name}",
        "",
        "Vous serez informé(e) par courriel de chaque étape de son traitement.",
        "",
        "--",
        "Message généré automatiquement par le gestionnaire de demandes de {town_hall}.",
    ),
    "zammad": (
        "Bonjour {name},",
        "",
        "Votre demande (n° {number}) « {subject} » a bien été reçue.",
        "Nous reviendrons vers vous dès que possible.",
        "",
        "L'équipe de {town_hall}",
    ),
}

# The town's newsletter: a title, three short items, the legal footer.
NEWSLETTER_TITLES = ("La lettre d'information de {town}", "{town} infos",
                     "L'actu de {town}", "La lettre de votre mairie")  # fmt: skip
NEWSLETTER_ITEMS = (
    ("Travaux", "La réfection de la chaussée de la rue de la Mairie débutera le mois prochain. "
                "La circulation sera alternée pendant trois semaines."),
    ("Vacances de printemps", "Les inscriptions à l'accueil de loisirs sont ouvertes : "
                              "programme et tarifs sur le site de la commune."),
    ("Conseil municipal", "La prochaine séance publique aura lieu jeudi à 20 h en salle du "
                          "conseil. L'ordre du jour est affiché en mairie."),
    ("Agenda", "Marché des producteurs locaux samedi matin sur la place de l'église, "
               "vide-greniers le dimanche suivant."),
    ("Environnement", "Distribution gratuite de compost aux habitants le premier samedi du "
                      "mois, de 9 h à 12 h, aux services techniques."),
    ("Médiathèque", "Nouvelle exposition de photographies et heure du conte pour les "
                    "enfants mercredi à 10 h 30."),
    ("Solidarité", "Le repas des aînés aura lieu à la salle des fêtes : inscriptions "
                   "auprès du CCAS."),
)  # fmt: skip
# The same news sent by hand from the secretary's mail client, everyone in Bcc.
BULLETIN_OPENINGS = ("Bonjour à toutes et à tous,", "Madame, Monsieur,", "Chers habitants,")
BULLETIN_INTRO = "Veuillez trouver ci-dessous les informations municipales de la semaine."
BULLETIN_FOOTER = (
    "Si vous ne souhaitez plus recevoir ces informations, merci de nous le signaler par "
    "retour de courriel."
)
NEWSLETTER_FOOTER = (
    "Vous recevez cette lettre car votre adresse est inscrite à la lettre d'information de "
    "{town}. Conformément au RGPD, vous pouvez vous désinscrire à tout moment."
)

# Platform notifications from a no-reply address: they answer no request.
NOTIFICATIONS = (
    ("Alerte info - coupure d'eau programmée",
     ("Une coupure d'eau est programmée mardi de 8 h à 12 h dans le secteur du centre-ville, "
      "pour des travaux sur le réseau.", "Merci de votre compréhension.")),
    ("Collecte des déchets verts : reprise des tournées",
     ("La collecte des déchets verts en porte-à-porte reprend à compter de lundi.",
      "Les bacs doivent être sortis la veille au soir.")),
    ("Votre espace citoyen : connexion depuis un nouvel appareil",
     ("Une connexion à votre espace citoyen a été détectée depuis un nouvel appareil.",
      "Si vous n'êtes pas à l'origine de cette connexion, modifiez votre mot de passe.")),
    ("Alerte météo : vigilance orange vents violents",
     ("Le département est placé en vigilance orange vents violents jusqu'à demain matin.",
      "Les parcs et jardins municipaux sont fermés par précaution.")),
)  # fmt: skip

# Spam: commercial mailings with their footer, phishing without a greeting.
SPAM_OFFERS = (
    ("-50 % sur votre assurance habitation, cette semaine seulement",
     "Comparez les offres de nos partenaires et économisez jusqu'à 400 € par an.",
     "Je compare maintenant"),
    ("Votre devis panneaux solaires offert",
     "Profitez des aides de l'État pour installer des panneaux photovoltaïques : étude "
     "gratuite et sans engagement.", "Obtenir mon devis"),
    ("Dernière chance : -70 % sur les grandes marques",
     "Nos ventes privées se terminent ce soir à minuit. Livraison offerte dès 49 €.",
     "J'en profite"),
)  # fmt: skip
SPAM_PHISHING = (
    ("Votre colis est en attente de livraison",
     ("Votre colis n'a pas pu être livré faute de frais de port acquittés (1,99 €).",
      "Veuillez confirmer le paiement sous 48 heures pour reprogrammer la livraison :")),
    ("Remboursement en attente sur votre compte",
     ("Un remboursement de 237,50 € est en attente de validation.",
      "Pour le recevoir, mettez à jour vos coordonnées bancaires avant la fin de la journée :")),
    ("Action requise : votre compte sera suspendu",
     ("Nous n'avons pas pu vérifier vos informations de facturation.",
      "Sans action de votre part sous 24 heures, votre compte sera suspendu :")),
)  # fmt: skip

# Delivery reports of the persona's provider, as Postfix writes them in French.
REPORT_HEAD = "Ceci est le système de messagerie de {host}."
DELIVERED_NOTICE = (
    "Votre message a été remis avec succès au(x) destinataire(s) ci-dessous.",
    "S'il a été déposé dans une boîte aux lettres, vous ne recevrez pas d'autre notification.",
    "Sinon, d'autres systèmes pourront encore vous signaler une erreur de remise.",
)
DELAYED_NOTICE = (
    "#############################################################################",
    "# CECI EST UN SIMPLE AVERTISSEMENT. VOUS N'AVEZ PAS À RENVOYER VOTRE MESSAGE. #",
    "#############################################################################",
    "",
    "Votre message n'a pas encore pu être remis depuis {hours} heures.",
    "Nous continuerons d'essayer pendant 5 jours.",
)
