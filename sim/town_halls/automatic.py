"""The messages a service's machines send: automatic acknowledgements and absence replies.

    acknowledgement: by the service's auto-responder, drawn once per service (``Voice``):
        a ticket system (« ne-pas-repondre@ », a request number, ``Auto-Submitted:
        auto-replied``, to the Reply-To) or Exchange (« Réponse automatique : »,
        ``X-Auto-Response-Suppress``, to the From address)
    out_of_office: the first agent is away until ``planned.back_on``: Outlook's automatic reply
        (Exchange headers) or a Sieve vacation (``auto-replied (vacation)``, ``Precedence:
        bulk``, to the envelope sender), giving another desk's address and phone

Both follow RFC 3834: an empty Return-Path and an ``Auto-Submitted`` header, as real ones do.
"""

from __future__ import annotations

from datetime import timedelta

from sim.profiles import PlannedReaction
from sim.town_halls.french import french_date, short_date, to_phrase
from sim.town_halls.incoming import REPLY_PREFIX
from sim.town_halls.writer import Writer, Written


def acknowledgement(writer: Writer, planned: PlannedReaction) -> Written:
    voice, rng, req = writer.voice, writer.rng, writer.request
    received = french_date(writer.sent_on())
    subject_of = REPLY_PREFIX.sub("", req.subject)
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
        to = writer.reply_address()
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
    return writer.finish(
        text,
        sender_name=sender_name,
        sender=sender,
        to=to,
        subject=subject,
        planned=planned,
        style="ticket" if voice.autoresponder == "ticket" else "outlook",
        auto_headers=voice.autoresponder,
    )


def out_of_office(writer: Writer, planned: PlannedReaction) -> Written:
    voice, rng, req = writer.voice, writer.rng, writer.request
    agent = voice.agents[0]
    back_on = planned.back_on or (planned.at + timedelta(days=7)).date()
    last_day = voice.service.calendar.add_business_days(back_on, -1)
    absent = "absente" if agent.feminine else "absent"
    if voice.service.address.startswith("accueil@"):
        desk, desk_address = "le secrétariat de la mairie", f"secretariat@{voice.domain}"
    else:
        desk, desk_address = "l'accueil de la mairie", f"accueil@{voice.domain}"
    subject_of = REPLY_PREFIX.sub("", req.subject)
    if voice.client == "outlook":
        subject = f"Réponse automatique : {subject_of}"
        text = [
            "Bonjour,",
            "",
            f"Je suis {absent} du bureau jusqu'au {french_date(last_day)} inclus. "
            "Pendant mon absence, vos messages ne seront pas lus.",
            f"Pour toute demande urgente, veuillez vous adresser {to_phrase(desk)}, par courriel "
            f"({desk_address}) ou par téléphone au {voice.phone}.",
            "",
            "Cordialement,",
            agent.name,
        ]
        headers = "exchange"
        to = req.persona
    else:
        subject = rng.choice(("Absence", f"Auto: {subject_of}", f"{absent.capitalize()} "
                              f"jusqu'au {short_date(last_day)}"))  # fmt: skip
        text = [
            "Bonjour,",
            "",
            f"Je suis actuellement en congé, de retour le {french_date(back_on)}.",
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
    return writer.finish(
        text,
        sender_name=agent.name,
        sender=voice.service.address,
        to=to,
        subject=subject,
        planned=planned,
        style=voice.client,
        auto_headers=headers,
    )
