"""Mail that lands in the persona's mailbox and answers no request.

    newsletter: the town's newsletter, which a first contact subscribed the persona to: from
        the town's communication address, through an emailing platform (``List-Unsubscribe``
        with its one-click ``List-Unsubscribe-Post``, ``Feedback-ID``, a bounce address at
        the platform) or the town's own list server (Sympa-like: ``List-Id``,
        ``List-Unsubscribe``, ``Precedence: list``, ``X-Loop``), text and HTML, three news
        items, the unsubscribe footer; or, in a small town, sent by hand by the secretary
        from her mail client, every reader in Bcc (``To: undisclosed-recipients:;``), with a
        greeting, a closing and « merci de nous le signaler » for who wants no more
    notification: a platform's notice from a no-reply address (an alert service, the citizen
        portal): ``Auto-Submitted: auto-generated``, sometimes sent through Exchange Online
        (``X-Auto-Response-Suppress``)
    spam: a commercial offer with its unsubscribe footer, or phishing (a parcel, a refund, an
        account to unlock) with a link, from domains that have nothing to do with the town

None of them is threaded to anything; the choices that belong to the town (its newsletter's
title, sender and platform) are drawn from its domain, the same for every issue.
"""

from __future__ import annotations

import html
import random

from sim.decisions import PlannedReaction
from sim.town_halls.french import french_date
from sim.town_halls.french_auto import (
    BULLETIN_FOOTER,
    BULLETIN_INTRO,
    BULLETIN_OPENINGS,
    NEWSLETTER_FOOTER,
    NEWSLETTER_ITEMS,
    NEWSLETTER_TITLES,
    NOTIFICATIONS,
    SPAM_OFFERS,
    SPAM_PHISHING,
)
from sim.town_halls.writer import Writer, Written

_SPAM_DOMAINS = (
    "promo-avantages.example",
    "offres-du-jour.example",
    "mega-remises.example",
    "suivi-colis-fr.example",
    "espace-remboursement.example",
    "secure-compte.example",
)


def _town_rng(writer: Writer, what: str) -> random.Random:
    """Choices that belong to the town, not to one message: the same for every issue."""
    return random.Random(f"{what}|{writer.voice.domain}")


def _html(title: str, paragraphs: list[str], link: str | None = None) -> str:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs if p)
    if link:
        body += f'<p><a href="{html.escape(link)}">{html.escape(link)}</a></p>'
    return (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body>"
        f'<table role="presentation" width="600"><tr><td>{body}</td></tr></table>'
        "</body></html>\n"
    )


def newsletter(writer: Writer, planned: PlannedReaction) -> Written:
    voice, rng = writer.voice, writer.rng
    town = voice.town
    own = _town_rng(writer, "newsletter")
    title = own.choice(NEWSLETTER_TITLES).format(town=town)
    local = own.choice(("lettre-info", "newsletter", "communication", "info"))
    sender = f"{local}@{voice.domain}"
    way = own.choice(("platform", "platform", "list", "by_hand"))
    if way == "by_hand":
        return _bulletin(writer, planned)
    through_list = way == "list"
    issue = own.randrange(12, 140) + (planned.at.toordinal() - 738000) // 14
    items = rng.sample(NEWSLETTER_ITEMS, 3)
    day = planned.at.astimezone(writer.tz).date()
    unsubscribe = f"https://lettre.{voice.domain}/desinscription?u={rng.getrandbits(48):012x}"
    lines = [f"{title} - n° {issue}", french_date(day).capitalize(), ""]
    for heading, paragraph in items:
        lines += [heading.upper(), paragraph, ""]
    lines += [NEWSLETTER_FOOTER.format(town=town), f"Se désinscrire : {unsubscribe}"]
    headers: list[tuple[str, str]]
    if through_list:
        list_host = f"listes.{voice.domain}"
        headers = [
            ("List-Id", f"<{local}.{list_host}>"),
            ("List-Unsubscribe", f"<mailto:sympa@{list_host}?subject=unsubscribe%20{local}>"),
            ("List-Help", f"<mailto:sympa@{list_host}?subject=help>"),
            ("Precedence", "list"),
            ("X-Loop", f"{local}@{list_host}"),
            ("X-Sequence", str(issue)),
        ]
        return_path = f"{local}-owner@{list_host}"
    else:
        platform = own.choice(("envoi.campagnes-mail.example", "mta.routeur-emailing.example"))
        campaign = rng.getrandbits(32)
        headers = [
            ("List-Unsubscribe", f"<{unsubscribe}>, <mailto:unsub-{campaign:x}@{platform}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ("Feedback-ID", f"{campaign}:{own.getrandbits(20)}:newsletter:{platform}"),
            ("X-Mailer", "Campagnes Mail 5"),
        ]
        return_path = f"bounce-{campaign:x}@{platform}"
    paragraphs = [f"{title} - n° {issue}"] + [f"{h} : {p}" for h, p in items]
    paragraphs.append(NEWSLETTER_FOOTER.format(town=town))
    return writer.finish(
        lines,
        sender_name=f"Ville de {town}" if voice.service.collectivity else voice.town_hall,
        sender=sender,
        to=writer.request.persona,
        subject=f"{title} - {french_date(day).split(' ', 1)[1]}",
        planned=planned,
        style="mailing",
        headers=headers,
        return_path=return_path,
        threaded=False,
        html=_html(title, paragraphs, unsubscribe),
        form="newsletter",
    )


def _bulletin(writer: Writer, planned: PlannedReaction) -> Written:
    """The news sent by hand, everyone in Bcc: no list header, only its form tells."""
    voice, rng = writer.voice, writer.rng
    agent = voice.agents[2]
    items = rng.sample(NEWSLETTER_ITEMS, 2)
    text = [_town_rng(writer, "bulletin").choice(BULLETIN_OPENINGS), "", BULLETIN_INTRO, ""]
    for heading, paragraph in items:
        text += [f"- {heading} : {paragraph}", ""]
    text += [BULLETIN_FOOTER, "", "Bien cordialement,", "", agent.name, voice.town_hall]
    return writer.finish(
        text,
        sender_name=voice.town_hall,
        sender=f"mairie@{voice.domain}",  # the town hall's secretariat, whichever service
        to="undisclosed-recipients:;",
        subject=f"Informations municipales - {voice.town}",
        planned=planned,
        style=voice.client,
        threaded=False,
        recipient=writer.request.persona,
        form="bulletin",
    )


def notification(writer: Writer, planned: PlannedReaction) -> Written:
    voice, rng = writer.voice, writer.rng
    subject, (first, second) = rng.choice(NOTIFICATIONS)
    own = _town_rng(writer, "notification")
    senders = ("ne-pas-repondre@", "noreply@espace-citoyen.", "alerte@")
    sender = own.choice(senders) + voice.domain
    headers = [("Auto-Submitted", "auto-generated")]
    if own.random() < 0.5:  # the town's platform sends through Exchange Online
        headers.append(("X-Auto-Response-Suppress", "All"))
    link = f"https://www.{voice.domain}/actualites"
    text = [first, second, "", f"Plus d'informations : {link}", "",
            "Ce message vous est envoyé automatiquement, merci de ne pas y répondre."]  # fmt: skip
    return writer.finish(
        text,
        sender_name=f"{voice.town_hall} - Alertes",
        sender=sender,
        to=writer.request.persona,
        subject=subject,
        planned=planned,
        style="mailing",
        headers=headers,
        threaded=False,
        html=_html(subject, [first, second], link),
        form="notification",
    )


def spam(writer: Writer, planned: PlannedReaction) -> Written:
    rng = writer.rng
    domain = rng.choice(_SPAM_DOMAINS)
    link = f"https://{domain}/{rng.getrandbits(40):010x}"
    headers: list[tuple[str, str]] = []
    if rng.random() < 0.5:
        subject, pitch, action = rng.choice(SPAM_OFFERS)
        sender_name, sender = "Offres Privilège", f"offres@{domain}"
        text = [pitch, "", f"{action} : {link}", "",
                "Vous recevez ce message car vous êtes inscrit(e) auprès de l'un de nos "
                "partenaires. Pour vous désinscrire, cliquez ici : "
                f"https://{domain}/desinscription"]  # fmt: skip
        headers.append(("List-Unsubscribe", f"<https://{domain}/desinscription>"))
        paragraphs = [pitch, action]
    else:
        subject, (first, second) = rng.choice(SPAM_PHISHING)
        sender_name, sender = "Service Client", f"service-client@{domain}"
        text = [first, second, link, "", "Service Client"]
        paragraphs = [first, second]
    return writer.finish(
        text,
        sender_name=sender_name,
        sender=sender,
        to=writer.request.persona,
        subject=subject,
        planned=planned,
        style="mailing",
        headers=headers,
        threaded=False,
        html=_html(subject, paragraphs, link),
        form="spam",
    )
