"""Who wrote this message: an application, or a person? Evidence from the envelope alone.

    sender address --no-reply / list robot?---------------------> an application
    display name, address --named like a person?----------------> person-like sender
    X-Mailer / User-Agent --a mail client people type into?-----> personal mail client
                          --a library or a mailing program?------> an application's mailer
    headers and body --calendar, a forwarded message only, a bulk-sending service, little
                       else than a link, readers in many organisations, a person's name
                       over an unrelated address, a service's address, Reply-To
                       elsewhere?-------------------------------------> machine-made mail

The classifier (``channels.classify``) asks these questions of mail that replies to nothing:
such mail is an answer only on positive evidence that a person wrote it (a letter's form, a
sender named like a person, from that person's address), and ``other`` when it looks
machine-made; and of list mail, which a person-like sender may post from a mail client.
None of these signals depends on the language of the text. HTML-only mail is no sign either
way: webmails (Outlook Web Access) send it as readily as mailing programs.
"""

from __future__ import annotations

import re
import unicodedata

from channels.mime import Address, ParsedMessage

# Local parts of programs that send and never read: no-reply in any spelling, notifiers.
NO_REPLY = re.compile(
    r"^([^@]*[-_.])?(no[-_.]?reply|do[-_.]?not[-_.]?reply|dont[-_.]?reply|"
    r"\w*pas[-_.]?repondre|notifications?|notify|alerts?|newsletters?|mailer|automailer|"
    r"bounces?|auto[-_.]?reply|autoresponder|noreponse|no[-_.]?response)([-+._][^@]*)?@",
    re.IGNORECASE,
)
# Mailing-list servers write from owner-LIST, LIST-owner, LIST-admin, LIST-request and their
# own names (fml, Majordomo, LISTSERV, Sympa, Mailman): never a person answering.
LIST_ROBOT = re.compile(
    r"^(owner-[^@]+|[^@]+-(owner|admin|request|bounces?)|majordomo|listserv|sympa|mailman)"
    r"(\+[^@]*)?@",
    re.IGNORECASE,
)

# Mail clients people type into (X-Mailer, User-Agent). Spam fakes some of them too, which
# is why a client alone never makes an answer of mail that replies to nothing.
_PERSONAL_MUA = re.compile(
    r"\b(outlook|thunderbird|icedove|seamonkey|mozilla|apple mail|iphone mail|ipad mail|"
    r"lotus notes|notes release|evolution|kmail|mutt|neomutt|alpine|pine|gnus|roundcube|"
    r"squirrelmail|horde|imp/|zimbra|bluemind|sogo|rainloop|snappymail|claws|sylpheed|eudora|"
    r"pegasus|the bat|opera|k-9|fairemail|mailspring|postbox|em client|windows live mail|"
    r"windows mail|groupwise|novell|mail\.ru agent|webmail|open-xchange|ox app suite|"
    r"airmail|spark|canary|mailmate|geary|trojita|balsa|yahoomail|wanderlust|mew|"
    r"becky|mailbird|nylas|superhuman|hey)\b",
    re.IGNORECASE,
)
# Libraries and mailing programs: an application wrote the message.
_APP_MAILER = re.compile(
    r"\b(mime::lite|phpmailer|swiftmailer|symfony|zend|laminas|nodemailer|javamail|"
    r"aspnetemail|cdo for windows|microsoft cdo|python|perl|ruby|rails|actionmailer|django|"
    r"drupal|wordpress|joomla|typo3|mailchimp|mandrill|sendgrid|sendinblue|brevo|mailjet|"
    r"mailgun|sparkpost|postmark|amazon ses|campaign|newsletter|mass ?mail|bulk|emailer|"
    r"otrs|request tracker|zendesk|freshdesk|ticket|mail service|smtp mailer|"
    r"mailer\b(?! daemon)|mailing)",
    re.IGNORECASE,
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that name an organisation, a service or a program rather than a person (folded).
_ROLE_WORDS = _words(
    "service services mairie ville commune city council conseil department departement "
    "direction office bureau accueil secretariat support team equipe info infos information "
    "informations contact contacts admin administrator administrateur administration system "
    "systeme server serveur newsletter notification notifications news mail email e-mail "
    "courriel messagerie compte account customer customers client clients store shop boutique "
    "sales marketing billing facturation security securite alert alerts robot bot daemon "
    "postmaster webmaster helpdesk hotline assistance communication press presse group groupe "
    "club association bank banque agence agency gmbh inc ltd llc sarl sas corp company online "
    "password passe orders commande commandes livraison delivery reply noreply the and et "
    "und y international national reports report rapport announcement announcements "
    "annonces update updates events evenements jobs careers recrutement survey sondage "
    "promotions promo deals offers offres actualites lettre digest abonnement "
    # French public services: the names their shared mailboxes carry
    "ccas cias mediatheque bibliotheque piscine police municipale urbanisme etat civil hotel "
    "prefecture region metropole agglomeration communaute syndicat tourisme ecole college "
    "lycee universite centre maison pole cabinet guichet standard administratif"
)
_PARTICLES = _words("de du des da di del della van von der den le la el al bin ben y")
# Headers that bulk-sending services put on every mailing (a ticketing tool answering a thread
# may send through them too, which is why only unthreaded mail is judged by them).
_BULK_SERVICE = re.compile(
    r"^(feedback-id|x-campaign[\w-]*|x-mailgun-[\w-]+|x-ses-outgoing|x-sg-eid|x-sg-id|"
    r"x-mc-user|x-mandrill-user|x-mj-[\w-]+|x-mailjet-[\w-]+|x-sib-[\w-]+|x-csa-complaints|"
    r"x-report-abuse[\w-]*|x-newsletter[\w-]*|x-mailer-recptid|x-rpcampaign|x-ems-[\w-]+|"
    r"x-marketing[\w-]*|x-emv-[\w-]+|x-mailchimp[\w-]*)$",
    re.IGNORECASE,
)
_LINK_MARK = re.compile(r"https?://|www\.", re.IGNORECASE)
_FEW_WORDS = 15  # a message that is little else than a link
# A person writing to a body copies a few others; spam sent by hand names dozens.
_MANY_ORGANISATIONS = 5
_CALENDAR = frozenset({"text/calendar", "application/ics"})
_MESSAGE_PARTS = frozenset({"message/rfc822", "message/global", "text/rfc822-headers"})


def _plain(text: str) -> str:
    return "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    ).lower()


def sender(parsed: ParsedMessage) -> str:
    return (parsed.from_.address if parsed.from_ else "").strip()


def no_reply(parsed: ParsedMessage) -> str | None:
    """The sender, when it is a no-reply or notifier address."""
    address = sender(parsed)
    return address if NO_REPLY.match(address) else None


def list_robot(parsed: ParsedMessage) -> str | None:
    """The sender, when it is a mailing-list server (owner-, -admin, -request…)."""
    address = sender(parsed)
    return address if LIST_ROBOT.match(address) else None


def person_like(address: Address | None) -> str | None:
    """Evidence that the sender is named like a person (« Jeanne Martin », « DUPONT, Jean »,
    jeanne.martin@…), not like a service, a program or a random string."""
    if address is None:
        return None
    name = " ".join(address.name.replace('"', " ").replace(",", " ").split())
    if not name and "@" not in address.address:
        name = " ".join(address.address.split())  # « From: "Kate Symes" » without an address
    if name and "@" not in name:
        # The name the sender chose says who writes: a service's name is a service.
        return (
            f"sender named like a person ({name[:40]})"
            if _named_like_a_person(name.split())
            else None
        )
    local = address.address.split("@", 1)[0]
    parts = [p for p in re.split(r"[._-]", local) if p]
    if (
        2 <= len(parts) <= 3
        and all(p.isalpha() for p in parts)
        and max(len(p) for p in parts) >= 3
        and not any(_plain(p) in _ROLE_WORDS for p in parts)
    ):
        return f"sender address like a person's name ({local[:40]})"
    return None


def _named_like_a_person(tokens: list[str]) -> bool:
    if not 2 <= len(tokens) <= 4:
        return False
    letters = 0
    for index, token in enumerate(tokens):
        bare = re.sub(r"[-'’.]", "", token)
        if not bare.isalpha() or _plain(bare) in _ROLE_WORDS:
            return False
        if _plain(token) in _PARTICLES and index:
            continue
        if not token[0].isupper():
            return False
        letters += len(bare) >= 2
    return letters >= 2


def mail_client(parsed: ParsedMessage) -> tuple[str | None, str | None]:
    """(a personal mail client, an application's mailer) named by X-Mailer or User-Agent.
    Outlook's Thread-Index is no evidence: Exchange adds it to whatever it converts."""
    agent = (parsed.header("X-Mailer") or parsed.header("User-Agent") or "").strip()
    if agent and _PERSONAL_MUA.search(agent):
        return f"mail client {agent[:40]}", None
    if agent and _APP_MAILER.search(agent):
        return None, f"sent by a program ({agent[:40]})"
    return None, None


def calendar(parsed: ParsedMessage) -> str | None:
    """A calendar invitation or its answer (an iCalendar part)."""
    for attachment in parsed.attachments:
        if attachment.content_type in _CALENDAR:
            return f"calendar part {attachment.content_type}"
    content_class = (parsed.header("Content-Class") or "").lower()
    if "calendarmessage" in content_class:
        return "Content-Class: calendarmessage"
    return None


def forwarded_only(parsed: ParsedMessage) -> str | None:
    """No text of its own around an attached message: a report or a forward, not a reply."""
    if parsed.new_text.strip() or parsed.quoted_text.strip():
        return None
    if parsed.embedded_headers or any(a.content_type in _MESSAGE_PARTS for a in parsed.attachments):
        return "an attached message and no text of its own"
    return None


def machine_signs(parsed: ParsedMessage, program: str | None) -> tuple[list[str], list[str]]:
    """What makes mail look machine-made rather than typed: (strong signs, which outweigh a
    letter's form, and weak ones, which only keep a person-like sender from counting)."""
    strong: list[str] = []
    for name, value in parsed.headers:
        if value.strip() and _BULK_SERVICE.match(name):
            strong.append(f"header {name}: a bulk-sending service")
            break
    links = _link_words(parsed.new_text)
    words = len(parsed.new_text.split()) - links
    if links and words <= _FEW_WORDS:
        strong.append(f"a link and {words} other words")
    domains = {
        a.address.rsplit("@", 1)[-1].lower() for a in (*parsed.to, *parsed.cc) if "@" in a.address
    }
    others = domains - {sender(parsed).rsplit("@", 1)[-1].lower()}
    if len(others) >= _MANY_ORGANISATIONS:
        strong.append(f"readers in {len(others)} other organisations")
    unlike = _name_unlike_address(parsed.from_)
    if unlike:
        strong.append(unlike)
    weak = [program] if program else []
    role = _role_address(parsed.from_)
    if role:
        weak.append(role)
    reply_to = _reply_elsewhere(parsed)
    if reply_to:
        weak.append(reply_to)
    return strong, weak


def _link_words(text: str) -> int:
    """How many words (runs of non-space) hold a link. Counted word by word: the regular
    expression "\\S*(https?://|www\\.)\\S*" it replaces backtracked over every long run with
    no link in it, quadratic (a minute for 256,000 characters of "&")."""
    if not _LINK_MARK.search(text):
        return 0
    return sum(1 for word in text.split() if _LINK_MARK.search(word))


def _name_unlike_address(address: Address | None) -> str | None:
    """A person's name over an address that has nothing of it (« Darrell Shaw »
    <subventive@…>): how spam dresses as a person. Initials and short local parts pass."""
    if address is None or not address.name.strip() or "@" not in address.address:
        return None
    if not person_like(address):
        return None
    local = re.sub(r"[^a-z]", "", _plain(address.address.split("@", 1)[0]))
    if len(local) <= 3:
        return None
    for token in address.name.replace(",", " ").split():
        bare = re.sub(r"[^a-z]", "", _plain(token))
        if len(bare) >= 3 and bare[:4] in local:
            return None
    return f"a person's name over another address ({address.address[:40]})"


def _role_address(address: Address | None) -> str | None:
    """An address of a service or a program (info@, contact@, news@…)."""
    if address is None or "@" not in address.address:
        return None
    local = _plain(address.address.split("@", 1)[0])
    if any(part in _ROLE_WORDS for part in re.split(r"[._+-]", local)):
        return f"a service's address ({address.address[:40]})"
    return None


def _reply_elsewhere(parsed: ParsedMessage) -> str | None:
    """Replies asked to another organisation than the sender's (lists excepted)."""
    if not parsed.reply_to or parsed.header("List-Id") or parsed.header("Precedence"):
        return None
    own = sender(parsed).rsplit("@", 1)[-1].lower()
    elsewhere = [a.address for a in parsed.reply_to if a.address.rsplit("@", 1)[-1].lower() != own]
    return f"Reply-To another domain ({elsewhere[0][:40]})" if elsewhere else None
