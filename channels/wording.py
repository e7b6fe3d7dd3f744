"""The words the classifier reads, in several languages, as data: (shown, pattern) pairs.

Patterns are regular expressions over *folded* text (``channels.content.fold``: lower case,
accents stripped, lines kept), so « Réponse automatique » is written ``reponse automatique``
and « Empfangsbestätigung » ``empfangsbestatigung``. The ``shown`` half is what evidence
prints. French comes first in every list, then English, German, Spanish, Italian, and the
few other languages real mail taught us (Polish, Dutch, Japanese for bounces).

Wording is the classifier's second line: the language-neutral signals (RFC 3464 reports,
RFC 3798 receipts, RFC 3834 ``Auto-Submitted``, ARF, null return paths, bouncer and no-reply
senders, list headers) decide first; see ``channels.classify``.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

# The standard library's own regular-expression parser (``sre_parse`` is its deprecated
# name), to read which literals a pattern requires; typeshed has no stubs for it.
sre_parse: Any = importlib.import_module("re._parser")
sre_constants: Any = importlib.import_module("re._constants")

Item = tuple[str, re.Pattern[str], frozenset[str] | None]


class Wording(tuple[Item, ...]):
    """(shown, pattern, needles) triples, in order: ``needles`` are literal strings one of
    which every match of the pattern contains (None: none found, the pattern always runs).
    ``all_needles`` is their union; ``always`` says some pattern has none."""

    all_needles: tuple[str, ...] = ()
    always: bool = False


def wording(*items: tuple[str, str]) -> Wording:
    compiled = [(shown, re.compile(pattern)) for shown, pattern in items]
    words = Wording((shown, pattern, needles(pattern)) for shown, pattern in compiled)
    found = [required for _shown, _pattern, required in words]
    words.all_needles = tuple(sorted(set().union(*(r for r in found if r is not None))))
    words.always = None in found
    return words


def find(words: Wording, text: str) -> str | None:
    """The ``shown`` form of the first pattern found in ``text``, or None.

    A pattern runs only when ``text`` holds one of its needles: a substring test is far
    cheaper than a regular expression search, and most texts hold no needle of most lists.
    The list's needles are looked for once, then each pattern's set is checked against
    those found."""
    present = frozenset(needle for needle in words.all_needles if needle in text)
    if not present and not words.always:
        return None
    for shown, pattern, required in words:
        if required is not None and required.isdisjoint(present):
            continue
        if pattern.search(text):
            return shown
    return None


def needles(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Literal strings one of which is in every match of ``pattern``, the most selective set
    found in its parse tree (its shortest string longest); None when there is none."""
    if pattern.flags & (re.IGNORECASE | re.VERBOSE):
        return None
    try:
        tree = sre_parse.parse(pattern.pattern, pattern.flags)
    except re.error:  # pragma: no cover - the pattern compiled already
        return None
    found = _required(list(tree))
    return frozenset(found) if found and all(found) else None


def _required(sequence: list[tuple[Any, Any]]) -> set[str] | None:
    """Any-of sets of literals each required by a sequence of opcodes; the best one."""
    candidates: list[set[str]] = []
    run: list[str] = []
    for op, argument in sequence:
        if op is sre_constants.LITERAL:
            run.append(chr(argument))
            continue
        if run:
            candidates.append({"".join(run)})
            run = []
        inner: set[str] | None = None
        if op is sre_constants.SUBPATTERN:
            _group, add_flags, del_flags, sub = argument
            if not add_flags and not del_flags:
                inner = _required(list(sub))
        elif op is sre_constants.BRANCH:
            inner = set()
            for alternative in argument[1]:
                found = _required(list(alternative))
                if not found:
                    inner = None
                    break
                inner |= found
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            low, _high, sub = argument
            if low >= 1:
                inner = _required(list(sub))
        if inner:
            candidates.append(inner)
    if run:
        candidates.append({"".join(run)})
    if not candidates:
        return None
    return max(candidates, key=lambda found: min(len(needle) for needle in found))


# Subjects of read receipts (RFC 3798 reports are recognised by structure first).
MDN_SUBJECT = wording(
    ("Lu :", r"^lu\s*:"),
    ("Non lu :", r"^non lu\s*:"),
    ("Accusé de lecture", r"^accuse de lecture"),
    ("Confirmation de lecture", r"^confirmation de lecture"),
    ("Accusé de réception (affiché)", r"^accuse de reception \((affiche|displayed)\)"),
    ("Read:", r"^read\s*:"),
    ("Not read:", r"^not read\s*:"),
    ("Read receipt", r"^read receipt"),
    ("Return Receipt (displayed)", r"^return receipt \(displayed\)"),
    ("Gelesen:", r"^gelesen\s*:"),
    ("Ungelesen:", r"^ungelesen\s*:"),
    ("Leído:", r"^leido\s*:"),
    ("Letto:", r"^letto\s*:"),
)

BOUNCE_SUBJECT = wording(
    ("Non remis", r"^(message )?non remis\b"),
    ("Non distribuable", r"^non distribuable\b"),
    ("Échec de la remise", r"^echec de (la )?(remise|distribution)\b"),
    ("Notification d'état de remise", r"^notification d'etat de (la )?(remise|distribution)"),
    ("Undeliverable", r"^undeliver(able|ed)\b"),
    ("Non-Delivery", r"^non[- ]?delivery\b"),
    ("Mail Delivery Warning", r"^(mail )?delivery warning\b"),
    ("Mail delivery failed", r"^mail delivery fail(ed|ure)"),
    ("Delivery Status Notification (Failure)", r"delivery status notification \((failure|delay)\)"),
    ("Delivery Status Notification: error", r"^delivery status notification: error"),
    ("Returned mail", r"^returned mail\b"),
    ("Delivery failure", r"^(mail )?delivery (failure|has failed)\b"),
    ("DELIVERY FAILURE", r"^delivery failure:"),
    ("Delivery Notification: Delivery has failed", r"^delivery notification: delivery has failed"),
    ("failure notice", r"^failure notice\b"),
    ("Mail System Error - Returned Mail", r"^mail system error\b"),
    ("There was an error sending your mail", r"^there was an error sending your mail"),
    ("your message could not be delivered", r"\bmessage (could not|couldn't|was not) be delivered"),
    ("Warning: message delayed", r"^warning: (message .* delayed|could not send message)"),
    ("Delayed Mail", r"^delay(ed mail| notification)\b"),
    ("Delivery delayed", r"^delivery delayed\b"),
    ("NOTICE: mail delivery status", r"^notice: mail delivery status"),
    ("Unzustellbar", r"^(unzustellbar|nicht zustellbar)\b"),
    ("Non recapitabile", r"^non recapitabile\b"),
    ("No se puede entregar", r"^no (se puede|se pudo) entregar\b"),
    ("メールエラー通知", r"^メールエラー"),
)

BOUNCE_TEXT = wording(
    ("n'a pas pu être remis", r"\bn'a pas pu etre (remis|distribue|delivre)e?\b"),
    ("la remise a échoué", r"\b(la )?remise (a|de ce message a) echoue\b"),
    ("adresse introuvable", r"\badresse (introuvable|inconnue)\b"),
    ("destinataire inconnu", r"\bdestinataire inconnu\b"),
    ("message non remis", r"\bmessage non remis\b"),
    ("could not be delivered", r"\bcould ?n[o']t be delivered\b"),
    ("wasn't delivered", r"\bwas ?n[o']t delivered\b"),
    ("delivery has failed", r"\bdelivery (has failed|to the following recipients? failed)"),
    ("wasn't able to deliver", r"\b(was ?n[o']t|not) able to deliver\b"),
    ("did not reach the following recipient", r"\bdid not reach the following recipient"),
    ("permanent error", r"\bpermanent (error|failure)\b"),
    ("the following address(es) failed", r"\bfollowing address\(es\) failed\b"),
    ("user unknown", r"\b(user unknown|unknown user|no such user|invalid user)\b"),
    ("address not found", r"\baddress not found\b"),
    ("mailbox full", r"\bmailbox (is )?full\b"),
    ("not listed in Domino Directory", r"\bnot listed in (the )?(domino|public name)"),
    ("konnte nicht zugestellt werden", r"\b(konnte|kann) nicht zugestellt werden\b"),
    ("no se pudo entregar", r"\bno (se )?pudo (ser )?entregar"),
    ("non è stato possibile consegnare", r"\bnon e stato possibile (consegnare|recapitare)"),
    ("送信できませんでした", r"(送信|配信)できませんでした"),
    ("не может быть доставлено", r"не может быть доставлено"),
)

SPAM_SUBJECT = wording(("[SPAM]", r"^\s*(\[spam\]|\*+\s*spam\s*\*+)"))

# Subjects that mark a reply as automatic, in any position where the word is unambiguous.
AUTO_SUBJECT = wording(
    ("Réponse automatique", r"^\[?(re\s*:\s*)?reponse automatique\b"),
    ("Message automatique", r"^\[?message automatique\b"),
    ("Accusé de réception", r"^\[?accuse de reception\b"),
    ("Absence", r"^\[?absen(ce|te?)\b"),
    ("Automatic reply", r"^\[?automatic (reply|response)\b"),
    ("(Automatic Response)", r"\(automatic (response|reply)\)"),
    ("Auto:", r"^auto\s*:"),
    ("Autoreply", r"^\[?auto[- ]?(reply|response)\b"),
    ("Out of Office", r"^\[?(out of (the )?office|ooo)\b"),
    ("is out of the office", r"\bis out of (the )?office\b"),
    ("Thank you for your e-mail", r"^\[?thank(s| you) for (your|contacting)\b"),
    ("Acknowledgement of receipt", r"^\[?acknowledge?ment( of receipt)?\b"),
    ("We have received your message", r"^\[?we (have )?received your\b"),
    ("Automatische Antwort", r"^\[?automatische antwort\b"),
    ("Abwesenheitsnotiz", r"^\[?abwesenheit"),
    ("Empfangsbestätigung", r"\b(empfangs|eingangs)best"),
    ("Respuesta automática", r"^\[?respuesta automatica\b"),
    ("Fuera de la oficina", r"^\[?fuera de la oficina\b"),
    ("Risposta automatica", r"^\[?risposta automatica\b"),
    ("Fuori ufficio", r"^\[?fuori (ufficio|sede)\b"),
    ("Automatyczna odpowiedź", r"^\[?automatyczna odpowiedz\b"),
    ("Afwezig", r"^\[?(afwezig|automatisch antwoord)\b"),
)

# The subject prefix of Exchange/Outlook's « Automatic Replies » (the out-of-office
# assistant), in the reader's language: an automatic reply that says nothing else (a
# source cut its text) is more likely an absence than a receipt.
OOF_SUBJECT = wording(
    ("Réponse automatique", r"^\[?reponse automatique\s*:"),
    ("Automatic reply", r"^\[?automatic reply\s*:"),
    ("Automatische Antwort", r"^\[?automatische antwort\s*:"),
    ("Respuesta automática", r"^\[?respuesta automatica\s*:"),
    ("Risposta automatica", r"^\[?risposta automatica\s*:"),
    ("Automatyczna odpowiedź", r"^\[?automatyczna odpowiedz\s*:"),
    ("Automatisch antwoord", r"^\[?automatisch antwoord\s*:"),
)

ABSENCE = wording(
    ("je suis absent(e) jusqu'au", r"\bje suis (actuellement )?absente? jusqu'(au|a)\b"),
    ("absent(e) du bureau", r"\babsente? du bureau\b"),
    ("je suis absent(e)", r"\bje suis (actuellement |momentanement )?absente?\b"),
    ("je serai absent(e)", r"\bje serai (absente?|de retour)\b"),
    ("absent(e) jusqu'au", r"\babsente? jusqu'(au|a|a la)\b"),
    ("actuellement absent", r"\bactuellement absente?\b"),
    ("en congé", r"\ben (conges?|vacances)\b"),
    ("de retour le", r"\bde retour (le|au|lundi|mardi|mercredi|jeudi|vendredi)\b"),
    ("hors du bureau", r"\bhors (du|de mon) bureau\b"),
    ("en formation jusqu'au", r"\ben (formation|deplacement|mission|seminaire) (jusqu'|du |le )"),
    ("en arrêt maladie", r"\ben arret (maladie|de travail)\b"),
    ("pendant mon absence", r"\b(pendant|durant|en) mon absence\b"),
    (
        "je n'aurai pas accès à ma messagerie",
        r"\b(n'aurai|n'ai|ne dispose) (pas|qu'un|que d'un|d'aucun) (d')?acces (limite )?a "
        r"(ma|mes) (messagerie|mails|courriels|e-mails|messages)\b",
    ),
    (
        "je ne pourrai pas consulter mes messages",
        r"\bne (pourrai|serai) pas (en mesure de )?(consulter|lire|traiter) (mes|vos) "
        r"(messages|courriels|mails|e-mails)\b",
    ),
    ("Out of Office", r"\bout of (the )?office\b"),
    ("I am away", r"\bi (am|will be|'m) (currently )?(away|out|on (vacation|holiday|leave))\b"),
    ("away until", r"\baway (until|till|from the office|on (vacation|holiday))\b"),
    ("on leave", r"\bon (annual |parental |sick )?leave\b"),
    ("on vacation", r"\bon (vacation|holiday)\b"),
    ("back in the office", r"\bback in the office\b"),
    ("abwesend", r"\b(abwesend|nicht im (buro|hause)|ausser haus)\b"),
    ("im Urlaub", r"\b(im|in) urlaub\b"),
    ("fuera de la oficina", r"\b(fuera de la oficina|estoy de vacaciones)\b"),
    ("fuori ufficio", r"\b(fuori ufficio|sono assente|in ferie)\b"),
    ("nieobecny", r"\bnieobecn"),
    ("atvaļinājumā", r"\batvalinajum"),
    ("Absence", r"^absen(ce|te?)\b"),
)

ACK = wording(
    ("accusé de réception", r"\baccuse de reception\b"),
    ("nous accusons réception", r"\b(nous accusons|j'accuse) (bonne )?reception\b"),
    (
        "nous avons bien reçu votre demande",
        r"\b(nous avons|j'ai|avons) bien (recu|pris en compte) votre "
        r"(demande|message|courriel|mail|e-mail|envoi|requete|sollicitation)\b",
    ),
    (
        "votre message a bien été reçu",
        # « Votre message à destination du service « État civil » a bien été reçu »
        r"\bvotre (demande|message|courriel|mail|e-mail|requete|sollicitation)\b[^.!?\n]{0,80}?"
        r" a bien ete (recue?|enregistree?|prise? en compte|transmise?)\b",
    ),
    ("votre demande a été enregistrée", r"\bvotre (demande|requete) a ete enregistree\b"),
    ("bien reçu", r"^bien recu\b"),
    (
        "merci pour votre message",
        r"\bmerci (pour|de) votre (envoi|message|courriel|mail|e-mail|demande|sollicitation)\b",
    ),
    (
        "we have received your message",
        r"\b(we|i) (have )?received your (\w+ ){0,3}"
        r"(message|request|e-?mail|enquiry|inquiry|letter|query|correspondence)\b",
    ),
    (
        "thank you for your e-mail",
        r"\bthank(s| you) for (your|you) (\w+ ){0,4}"
        r"(e-?mail|message|enquiry|inquiry|request|letter|query|correspondence)\b",
    ),
    (
        "will reply as soon as possible",
        r"\b(reply|respond|get back to you) (to you )?as soon as (possible|we can)\b",
    ),
    ("acknowledgement of receipt", r"\backnowledge?ment of receipt\b"),
    ("Empfangsbestätigung", r"\b(empfangs|eingangs)best"),
    (
        "vielen Dank für Ihre Nachricht",
        r"\b(vielen )?dank fur ihre (elektronische )?(nachricht|e-mail|anfrage)",
    ),
    (
        "Ihre Nachricht ist eingegangen",
        r"\bihre (nachricht|anfrage|e-mail) ist (bei uns )?eingegangen",
    ),
    ("hemos recibido su", r"\bhemos recibido su\b"),
    ("gracias por su mensaje", r"\bgracias por su (mensaje|correo|solicitud|consulta)\b"),
    ("acuse de recibo", r"\bacuse de recibo\b"),
    ("abbiamo ricevuto", r"\babbiamo ricevuto\b"),
    ("grazie per il suo messaggio", r"\bgrazie per (il suo|la sua|il tuo) (messaggio|e-?mail)\b"),
    ("potwierdzenie otrzymania", r"\bpotwierdzenie (otrzymania|odbioru)\b"),
    (
        "zpráva byla převzata",
        r"\b(zprava|podani|zadost)\b.{0,60}\bbyl[ao]? (prevzat|prijat|dorucen|zaevidovan)[ao]?\b",
    ),
    (
        "recebemos a sua mensagem",
        r"\b(recebemos|recebido) (a sua|o seu|sua|seu) (mensagem|pedido)\b",
    ),
    (
        "wij hebben uw bericht ontvangen",
        r"\b(wij|we) hebben uw (bericht|e-?mail|verzoek) ontvangen\b",
    ),
)

REDIRECT = wording(
    ("ce n'est pas notre service", r"\bce n'est pas (notre|mon|le bon) service\b"),
    (
        "ne relève pas de notre service",
        r"\bne relevent? pas (de (notre|nos|mon|ce)|du) (service|competence)",
    ),
    ("n'est pas de notre compétence", r"\bn'est pas de (notre|ma) competence\b"),
    ("relève de la compétence de", r"\breleve de la competence (de|du|des)\b"),
    (
        "veuillez vous adresser à",
        r"\b(veuillez|merci de|je vous invite a|nous vous invitons a) vous adresser\b",
    ),
    (
        "nous vous invitons à adresser votre demande à",
        r"\b(veuillez|merci d'|merci de|je vous invite a|nous vous invitons a) "
        r"((re)?adresser|renvoyer|reformuler) "
        r"(votre|vos) (demande|message|courriel|question|correspondance)s?\b",
    ),
    ("adressez-vous à", r"\badressez-vous (a|au|aux)\b"),
    ("vous rapprocher de", r"\b(vous rapprocher|rapprochez-vous) (de|du|des)\b"),
    (
        "nous transmettons votre demande au service compétent",
        r"\b(nous transmettons|je transmets|nous avons transmis|j'ai transmis) votre "
        r"(demande|message|courriel) (au|aux|a la|a l')",
    ),
    ("transmise au service compétent", r"\btransmise? (au|aux) services? competents?\b"),
    (
        "cette adresse n'est plus utilisée",
        r"\bcette (adresse|boite|messagerie)( (mail|e-mail|electronique|aux lettres))? "
        r"(n'est plus (utilisee|consultee|active|valide|lue)|est desactivee)\b",
    ),
    ("not our department", r"\bnot (our|the right) (department|service)\b"),
    (
        "this address is no longer in use",
        r"\b(this|my) (e-?mail )?(address|inbox|mailbox|account) (\S+@\S+ )?is no longer "
        r"(in use|used|active|monitored|read)\b",
    ),
    (
        "please contact … instead",
        r"\bplease (contact|write to|send your \w+ to) .{0,60}\binstead\b",
    ),
)

# Bulk mail that carries no list header: its footer still says how to leave.
UNSUBSCRIBE = wording(
    ("se désinscrire", r"\b(se |vous )?(desinscrire|desabonner|desinscription|desabonnement)\b"),
    ("ne souhaitez plus recevoir", r"\bne (souhaitez|voulez|desirez) plus recevoir\b"),
    ("unsubscribe", r"\bunsubscribe\b"),
    ("opt out", r"\b(opt[- ]?out|to be removed|remove request|be removed from)\b"),
    ("abmelden", r"\b(newsletter )?abbestellen|abmelden\b"),
    ("darse de baja", r"\bdarse de baja\b"),
    ("cancellarti", r"\b(cancellarti|disiscriviti)\b"),
)

# Challenge-response filters (Bluebottle, Boxbe, SpamArrest…) ask the sender to prove itself.
CHALLENGE = wording(
    (
        "click the link to be added to the allowed list",
        r"\b(click|follow|visit) (on )?(the|this) (following )?link\b.{0,120}"
        r"\b(allowed|approved|whitelist|verif|confirm)",
    ),
    ("this account is protected by", r"\b(account|mailbox|inbox) is protected by\b"),
    (
        "verify that you are a human being",
        r"\bverify\s+that\s+you\s+(are|'re)\s+(a\s+real|a\s+human|human|not\s+a)"
        r"|\byour\s+(e-?mail|message)\s+requires\s+(verification|confirmation)\b",
    ),
    (
        "add yourself to my guest list",
        r"\badd (yourself|your (e-?mail )?address) to (my|the|our) .{0,30}"
        r"\b(guest|allowed|approved|safe|white) ?(list|senders)\b",
    ),
)

# A holding reply: the answer is coming, later. Said by a person, it is a receipt with a
# delay (« la réponse à votre demande nécessite un délai supplémentaire »), not an answer.
DELAY = wording(
    (
        "la réponse sera retardée",
        r"\b(reponse|traitement)\b.{0,60}\b(retard\w*|delai supplementaire|plus de temps)\b"
        r"|\bnous ne sommes pas (encore )?en mesure de (vous )?repondre\b",
    ),
    (
        "the answer will be delayed",
        r"\b(answer|reply|response)\b.{0,60}\b(delayed|take (a little |some )?(more |longer )?"
        r"time|longer than)\b"
        r"|\b(not yet|not) (be )?(able|in a position) to (answer|reply|respond)\b",
    ),
    (
        "die Beantwortung wird sich verzögern",
        r"\b(beantwortung|antwort|bearbeitung)\b.{0,60}\b(verzoger\w*|dauer\w* (noch )?"
        r"(etwas )?(langer|an))\b",
    ),
    (
        "la respuesta se retrasará",
        r"\b(respuesta|contestacion)\b.{0,60}\b(retras\w*|demor\w*)\b"
        r"|\b(risposta)\b.{0,60}\b(ritard\w*)\b",
    ),
)

# Why the answer waits: the information is not all there yet. Said in a holding reply, it
# is the reason for the delay, not an answer.
WAITING = wording(
    (
        "information not yet complete",
        r"\bnoch nicht (vollstandig |alle )?(vor|vorhanden|verfugbar|zusammen)"
        r"|\bnot yet (all |fully )?(available|complete|gathered|in our possession)"
        r"|\bpas encore (toutes? )?(les |en notre |en possession|disponibles?|reuni)"
        r"|\btodavia no (disponemos|tenemos)\b|\bnon ancora (disponibil|complet)",
    ),
)

# What a person's receipt says besides the receipt itself: greetings, thanks, a holding
# promise, that the request went to a colleague, a closing. A sentence that is none of these
# is *substance*, and makes an answer of a text that opens with a receipt.
HOLDING = wording(
    (
        "greeting, thanks or closing",
        r"^(bonjour|bonsoir|madame|monsieur|mesdames|messieurs|cher|chere|hello|hi|dear|"
        r"cordialement|bien cordialement|bien a (vous|toi)|salutations|sinceres salutations|"
        r"veuillez agreer|je vous prie|nous vous prions|recevez|bonne (journee|soiree)|"
        r"belle journee|merci|best regards|regards|kind regards|yours|many thanks|thanks|"
        r"thank you|sehr geehrte|guten tag|mit freundlichen|vielen dank|danke|estimad[oa]|"
        r"gracias|saludos|atentamente|gentile|grazie|cordiali saluti|distinti saluti)\b",
    ),
    (
        "we will come back to you",
        r"\b(revien\w*|revenons|revenir) vers vous\b"
        r"|\bvous (repondr\w*|sera repondu|recontact\w*|rappell?er\w*|tiendr\w* inform\w*)"
        r"|\b(will|shall|'ll) (get back|come back|respond|reply|be in touch|contact you|"
        r"write to you|keep you (informed|updated))"
        r"|\b(werden|wird) (uns|sich) .{0,40}\b(melden|zuruckmelden)\b"
        r"|\b(le|les) (responderemos|contactaremos)\b|\b(le|ti|vi) (risponderemo|contatteremo)\b",
    ),
    (
        "as soon as possible",
        r"\bdans les (meilleurs|plus brefs) delais\b|\bdes que possible\b"
        r"|\bas soon as (possible|we can)\b|\bin due course\b|\bmoglichst bald\b"
        r"|\blo antes posible\b|\bal piu presto\b",
    ),
    (
        "being dealt with",
        r"\ben cours de (traitement|instruction|examen)\b"
        r"|\b(sera|va etre|seront) (traitee?s?|etudiee?s?|examinee?s?|instruite?s?)\b"
        r"|\bnous ne manquerons pas\b|\bvous en remerci\w*|\bmerci (pour|de) votre\b"
        r"|\b(will|is being|are being) (be )?(dealt with|processed|handled|considered|reviewed)\b"
        r"|\b(wird|werden) (bearbeitet|gepruft)\b|\bsera (tramitad|atendid)[oa]\b"
        r"|\b(sara|verra) (elaborat|esaminat|gestit)[oa]\b",
    ),
    (
        "passed on to a colleague",
        r"\btransmise? (au|a la|aux|a l') ?(service|personne|agent|collegue)s?\b"
        r"|\b(je |nous )?(la |le |les |vous )?(transmets|transmettons|transfere|transferons)\b"
        r"|\b(forwarded|passed|sent) (it|this|your \w+( \w+)?) (on )?to\b"
        r"|\bweitergeleitet\b|\b(reenviado|remitido|trasladado)\b|\binoltrat[oa]\b",
    ),
)
