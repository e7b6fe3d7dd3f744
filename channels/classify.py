"""What kind of reply is this? A parsed message in, a kind and the evidence that decided out.

Kinds: ``answer``, ``acknowledgement``, ``out_of_office``, ``bounce``, ``read_receipt``,
``redirect``, ``other``. Decision order, first match wins:

1. **read_receipt**: a ``multipart/report; report-type=disposition-notification`` (MDN) or a
   ``message/disposition-notification`` part; else a receipt subject (« Lu : », "Read:",
   « Non lu : », « Accusé de lecture », « Accusé de réception (affiché) »). First, because an
   MDN is a report with a null return path too and would otherwise pass for a bounce.
2. **bounce**: a delivery-status report (DSN) whose actions are not all successes; else a
   bouncer sender (MAILER-DAEMON, postmaster, "Mail Delivery System"), an Exim
   ``X-Failed-Recipients`` header, a bounce subject (« Non remis », "Undeliverable", "Mail
   delivery failed", "Delivery Status Notification (Failure)"…), or a null return path with
   bounce wording in the text. Hard for 5.x.x, soft for 4.x.x (or, without a status code,
   from the DSN action, the SMTP reply code, then the wording). A DSN that only reports
   success is ``other``.
3. **other** (spam): ``X-Spam-Flag: YES``, ``X-Spam-Status: Yes``, a « [SPAM] » subject.
4. **other** (bulk): ``List-Id``, ``List-Unsubscribe`` or ``Precedence: bulk|list|junk``, when
   nothing says auto-reply (no auto header, no absence or acknowledgement wording): the
   classic vacation program also sends ``Precedence: junk``.
5. **automatic** messages: RFC 3834 ``Auto-Submitted`` other than ``no``, ``X-Autoreply``,
   ``X-Autorespond``, ``X-Autoresponder``, ``Precedence: auto_reply``,
   ``X-Auto-Response-Suppress``, Exchange's ``X-MS-Exchange-Inbox-Rules-Loop`` and
   ``X-MS-Exchange-Generated-Message-Source``, or an auto-reply subject (« Réponse
   automatique », "Automatic reply", "Auto:", « Absence »…). Then, on subject and text:
   absence wording gives **out_of_office** (an absent agent's reply often says « veuillez
   vous adresser à » a colleague, so absence is checked before redirect); else redirect
   wording gives **redirect**; else **acknowledgement** (an automatic reply that is neither
   an absence nor a redirect is, for the barometer, a receipt).
6. **human** messages (no automatic signal, or ``Auto-Submitted: no``), on the new text only
   (no quoted original, no signature): absence wording in a short text (at most 120 words;
   many small-town webmails send vacation replies without any header) gives
   **out_of_office**; redirect wording in at most 150 words gives **redirect**;
   acknowledgement wording (« nous avons bien reçu… », or « bien reçu » opening a sentence)
   in at most 80 words *and no substantive sentence* gives a human **acknowledgement**: every
   sentence is a greeting, the receipt, a holding promise (« je reviens vers vous », « dans
   les meilleurs délais »), thanks or a closing. A short text that opens with a receipt and
   then answers (« La délivrance est gratuite. ») is an **answer**, as is everything else.

All wording is matched after folding case and accents (``channels.content.fold``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from channels.content import fold
from channels.mime import ParsedMessage

Kind = Literal[
    "answer", "acknowledgement", "out_of_office", "bounce", "read_receipt", "redirect", "other"
]
Severity = Literal["hard", "soft", "unknown"]

_TEXT_SCAN = 20_000  # characters of a bounce looked at for wording and addresses
_AUTO_SCAN = 5_000  # characters of an automatic reply looked at for wording
HUMAN_ABSENCE_MAX_WORDS = 120
HUMAN_REDIRECT_MAX_WORDS = 150
HUMAN_ACK_MAX_WORDS = 80


@dataclass(frozen=True, slots=True)
class BounceInfo:
    severity: Severity  # hard (5.x.x), soft (4.x.x), unknown
    status: str | None  # enhanced status code, e.g. "5.1.1"
    recipient: str | None  # the address that failed
    original_message_id: str | None  # Message-ID of the message that bounced
    diagnostic: str | None
    dsn: bool  # a machine-readable delivery-status report


@dataclass(frozen=True, slots=True)
class Classification:
    kind: Kind
    evidence: tuple[str, ...]
    bounce: BounceInfo | None = None


# -- wording ---------------------------------------------------------------------------------
# (as shown in evidence, pattern on folded text)
_Wording = tuple[tuple[str, re.Pattern[str]], ...]


def _wording(*items: tuple[str, str]) -> _Wording:
    return tuple((shown, re.compile(pattern)) for shown, pattern in items)


_MDN_SUBJECT = _wording(
    ("Lu :", r"^lu\s*:"),
    ("Non lu :", r"^non lu\s*:"),
    ("Read:", r"^read\s*:"),
    ("Not read:", r"^not read\s*:"),
    ("Accusé de lecture", r"^accuse de lecture"),
    ("Confirmation de lecture", r"^confirmation de lecture"),
    ("Read receipt", r"^read receipt"),
    ("Accusé de réception (affiché)", r"^accuse de reception \((affiche|displayed)\)"),
    ("Return Receipt (displayed)", r"^return receipt \(displayed\)"),
)
_BOUNCE_SUBJECT = _wording(
    ("Non remis", r"^non remis\b"),
    ("Message non remis", r"^message non remis\b"),
    ("Non distribuable", r"^non distribuable\b"),
    ("Undeliverable", r"^undeliverable\b"),
    ("Undelivered Mail Returned to Sender", r"^undelivered mail returned to sender"),
    ("Mail delivery failed", r"^mail delivery failed"),
    ("Delivery Status Notification (Failure)", r"delivery status notification \(failure\)"),
    ("Delivery Status Notification (Delay)", r"delivery status notification \(delay\)"),
    ("Returned mail", r"^returned mail\b"),
    ("Delivery failure", r"^(mail )?delivery failure\b"),
    ("failure notice", r"^failure notice\b"),
    ("Échec de la remise", r"^echec de (la )?(remise|distribution)\b"),
    ("Notification d'état de remise", r"^notification d'etat de (la )?(remise|distribution)"),
    ("Warning: message delayed", r"^warning: message .* delayed"),
    ("Delivery delayed", r"^delivery delayed\b"),
)
_BOUNCE_TEXT = _wording(
    ("could not be delivered", r"\bcould ?n[o']t be delivered\b"),
    ("wasn't delivered", r"\bwas ?n[o']t delivered\b"),
    ("delivery has failed", r"\bdelivery has failed\b"),
    ("permanent error", r"\bpermanent error\b"),
    ("the following address(es) failed", r"\bfollowing address\(es\) failed\b"),
    ("user unknown", r"\buser unknown\b"),
    ("address not found", r"\baddress not found\b"),
    ("n'a pas pu être remis", r"\bn'a pas pu etre (remis|distribue|delivre)e?\b"),
    ("la remise a échoué", r"\b(la )?remise (a|de ce message a) echoue\b"),
    ("adresse introuvable", r"\badresse introuvable\b"),
    ("destinataire inconnu", r"\bdestinataire inconnu\b"),
    ("message non remis", r"\bmessage non remis\b"),
)
_SPAM_SUBJECT = _wording(("[SPAM]", r"^\s*(\[spam\]|\*+\s*spam\s*\*+)"))
_AUTO_SUBJECT = _wording(
    ("Réponse automatique", r"^reponse automatique\b"),
    ("Message automatique", r"^message automatique\b"),
    ("Automatic reply", r"^automatic reply\b"),
    ("Auto:", r"^auto\s*:"),
    ("Autoreply", r"^auto-?reply\b"),
    ("Auto-Reply", r"^auto reply\b"),
    ("Out of Office", r"^out of (the )?office\b"),
    ("Absence", r"^absen(ce|te?)\b"),
    ("Accusé de réception", r"^accuse de reception\b"),
)
_ABSENCE = _wording(
    ("je suis absent(e) jusqu'au", r"\bje suis (actuellement )?absente? jusqu'(au|a)\b"),
    ("absent(e) du bureau", r"\babsente? du bureau\b"),
    ("je suis absent(e)", r"\bje suis (actuellement |momentanement )?absente?\b"),
    ("je serai absent(e)", r"\bje serai absente?\b"),
    ("absent(e) jusqu'au", r"\babsente? jusqu'(au|a|a la)\b"),
    ("actuellement absent", r"\bactuellement absente?\b"),
    ("en congé", r"\ben conges?\b"),
    ("de retour le", r"\bde retour (le|lundi|mardi|mercredi|jeudi|vendredi)\b"),
    ("hors du bureau", r"\bhors du bureau\b"),
    ("Out of Office", r"\bout of (the )?office\b"),
    ("I am away", r"\bi (am|will be) (currently )?(away|out)\b"),
    ("on leave", r"\bon (annual )?leave\b"),
    ("Absence", r"^absen(ce|te?)\b"),
)
_ACK = _wording(
    ("accusé de réception", r"\baccuse de reception\b"),
    ("nous accusons réception", r"\b(nous accusons|j'accuse) reception\b"),
    (
        "nous avons bien reçu votre demande",
        r"\b(nous avons|j'ai|avons) bien (recu|pris en compte) votre "
        r"(demande|message|courriel|mail|e-mail|envoi|requete|sollicitation)\b",
    ),
    (
        "votre message a bien été reçu",
        r"\bvotre (demande|message|courriel|mail|e-mail|requete|sollicitation) "
        r"a bien ete (recue?|enregistree?|prise? en compte)\b",
    ),
    ("votre demande a été enregistrée", r"\bvotre (demande|requete) a ete enregistree\b"),
    ("bien reçu", r"^bien recu\b"),
    ("we have received your message", r"\bwe (have )?received your (message|request|e-?mail)\b"),
)
_REDIRECT = _wording(
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
    ("adressez-vous à", r"\badressez-vous (a|au|aux)\b"),
    ("vous rapprocher de", r"\b(vous rapprocher|rapprochez-vous) (de|du|des)\b"),
    (
        "nous transmettons votre demande au service compétent",
        r"\b(nous transmettons|je transmets|nous avons transmis|j'ai transmis) votre "
        r"(demande|message|courriel) (au|aux|a la|a l')",
    ),
    ("transmise au service compétent", r"\btransmise? (au|aux) services? competents?\b"),
    ("not our department", r"\bnot (our|the right) (department|service)\b"),
)

_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.]\d)")
_SMTP_CODE = re.compile(r"(?:said|error|erreur|code|:|#)\s*:?\s*([45][0-5]\d)\b")
_ADDRESS = re.compile(r"[\w.+'=-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+")
_QUOTED_MESSAGE_ID = re.compile(r"^[ \t>]*Message-ID:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)
_FAILED_LIST = re.compile(
    r"(?:following (?:address\(es\)|recipients?)(?: failed)?|"
    r"delivered to|distribue a|remis a|destinataires? suivants?)[^@\n]{0,60}?\s*:?\s*"
    r"<?([\w.+'=-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+)",
    re.IGNORECASE,
)
_BOUNCERS = re.compile(r"^(mailer-daemon|mailer_daemon|mail-daemon|postmaster)@", re.IGNORECASE)
_BOUNCER_NAMES = re.compile(r"^mail delivery (system|subsystem)$", re.IGNORECASE)


def classify(parsed: ParsedMessage) -> Classification:
    """The kind of ``parsed`` and the evidence that decided it (see the module docstring)."""
    subject = fold(parsed.subject).strip()
    return (
        _read_receipt(parsed, subject)
        or _bounce(parsed, subject)
        or _spam_or_bulk(parsed, subject)
        or _automatic(parsed, subject)
        or _human(parsed, subject)
    )


def _find(wording: _Wording, text: str) -> str | None:
    for shown, pattern in wording:
        if pattern.search(text):
            return shown
    return None


# A human receipt says it got the request, maybe that someone will come back, and nothing
# else. Each sentence of the new text is sorted: greeting, receipt, holding promise, thanks,
# closing, a short line (a name), or *substantive*; one substantive sentence makes an answer
# of a text that opens with « Nous avons bien reçu votre demande ».
_SENTENCES = re.compile(r"(?<=[.!?;])\s+|\n\s*\n")
_BIEN_RECU = re.compile(r"^(bien recu|bonne reception|message recu|demande recue)\b")
_NOT_SUBSTANCE = re.compile(
    r"^(bonjour|bonsoir|madame|monsieur|mesdames|messieurs|cher|chere|hello|"
    r"cordialement|bien cordialement|bien a (vous|toi)|salutations|sinceres salutations|"
    r"veuillez agreer|je vous prie|nous vous prions|recevez|bonne (journee|soiree)|"
    r"belle journee|merci|best regards|regards|kind regards)\b"
    r"|\b(revien\w*|revenons|revenir) vers vous\b"
    r"|\bvous (repondr\w*|sera repondu|recontact\w*|rappell?er\w*|tiendr\w* inform\w*)"
    r"|\bdans les (meilleurs|plus brefs) delais\b|\bdes que possible\b"
    r"|\ben cours de (traitement|instruction|examen)\b"
    r"|\b(sera|va etre|seront) (traitee?s?|etudiee?s?|examinee?s?|instruite?s?)\b"
    r"|\bnous ne manquerons pas\b|\bvous en remerci\w*|\bmerci (pour|de) votre\b"
    r"|\btransmise? (au|a la|aux|a l') ?(service|personne|agent|collegue)s?\b"
    r"|\b(je |nous )?(la |le |les |vous )?(transmets|transmettons|transfere|transferons)\b"
)
_SHORT_LINE_WORDS = 4


_LEADING_GREETING = re.compile(
    r"^(bonjour|bonsoir|hello)( (madame|monsieur|mesdames|messieurs|a (vous|tous)))?\s*,\s*"
)


def _sentences(text: str) -> list[str]:
    """Sentences of folded text, a greeting on the same line (« bonjour, … ») removed."""
    # Mail clients wrap lines inside a sentence: only blank lines and punctuation split.
    parts = (" ".join(part.split()).strip(" ,-") for part in _SENTENCES.split(text))
    return [_LEADING_GREETING.sub("", part) for part in parts if part]


def _sentence_ack(text: str) -> str | None:
    """Receipt wording at the start of a sentence (« Bonjour, Bien reçu, je… »)."""
    for sentence in _sentences(text):
        if _BIEN_RECU.search(sentence):
            return "bien reçu"
    return None


def _substantive_sentences(text: str) -> list[str]:
    """Sentences that are neither greeting, receipt, holding promise, thanks nor closing."""
    found: list[str] = []
    for sentence in _sentences(text):
        if len(sentence.split()) <= _SHORT_LINE_WORDS:
            continue
        if _find(_ACK, sentence) or _BIEN_RECU.search(sentence):
            # The receipt sentence itself; what follows a comma may still say more.
            rest = sentence.split(",", 1)[1] if "," in sentence else ""
            if len(rest.split()) > _SHORT_LINE_WORDS and not _NOT_SUBSTANCE.search(rest.strip()):
                found.append(rest.strip())
            continue
        if _NOT_SUBSTANCE.search(sentence):
            continue
        found.append(sentence)
    return found


def _absence(subject: str, text: str) -> str | None:
    """Evidence of absence wording, in the text first, else in the subject."""
    shown = _find(_ABSENCE, text)
    if shown:
        return f'text matches "{shown}"'
    shown = _find(_ABSENCE, subject)
    return f'subject matches "{shown}"' if shown else None


def _report_fields(parsed: ParsedMessage, ctype: str) -> list[tuple[str, str]]:
    return [
        item for part in parsed.report_parts if part.content_type == ctype for item in part.fields()
    ]


# -- 1. read receipts -------------------------------------------------------------------------


def _read_receipt(parsed: ParsedMessage, subject: str) -> Classification | None:
    evidence: list[str] = []
    if parsed.report_type == "disposition-notification":
        evidence.append("multipart/report; report-type=disposition-notification")
    elif any(p.content_type == "message/disposition-notification" for p in parsed.report_parts):
        evidence.append("message/disposition-notification part")
    if evidence:
        for name, value in _report_fields(parsed, "message/disposition-notification"):
            if name.lower() == "disposition":
                evidence.append(f"Disposition: {value}")
        return Classification("read_receipt", tuple(evidence))
    shown = _find(_MDN_SUBJECT, subject)
    if shown:
        return Classification("read_receipt", (f'subject matches "{shown}"',))
    return None


# -- 2. bounces -------------------------------------------------------------------------------


def _bounce(parsed: ParsedMessage, subject: str) -> Classification | None:
    dsn_fields = _report_fields(parsed, "message/delivery-status")
    is_dsn = parsed.report_type == "delivery-status" or any(
        p.content_type == "message/delivery-status" for p in parsed.report_parts
    )
    evidence: list[str] = []
    if is_dsn:
        evidence.append("multipart/report; report-type=delivery-status")
        actions = [v.strip().lower() for n, v in dsn_fields if n.lower() == "action"]
        if actions and all(a in ("delivered", "relayed", "expanded") for a in actions):
            return Classification("other", (*evidence, f"DSN action {actions[0]} (success)"))
    sender = parsed.from_.address if parsed.from_ else ""
    sender_name = parsed.from_.name if parsed.from_ else ""
    if _BOUNCERS.match(sender) or _BOUNCER_NAMES.match(sender_name.strip()):
        evidence.append(f"sender {sender or sender_name}")
    failed_header = parsed.header("X-Failed-Recipients")
    if failed_header:
        evidence.append(f"header X-Failed-Recipients: {failed_header[:100]}")
    shown = _find(_BOUNCE_SUBJECT, subject)
    if shown:
        evidence.append(f'subject matches "{shown}"')
    if not evidence and parsed.return_path != "":
        return None
    text = fold(parsed.text[:_TEXT_SCAN])
    if not evidence:  # a null return path alone is also how auto-replies are sent
        wording = _find(_BOUNCE_TEXT, text)
        if not wording:
            return None
        evidence += ["null Return-Path <>", f'text matches "{wording}"']
    info = _bounce_info(parsed, dsn_fields, is_dsn, text, failed_header)
    if info.status:
        evidence.append(f"{'DSN' if is_dsn else 'text'} status {info.status}")
    evidence.append(f"{info.severity} bounce")
    return Classification("bounce", tuple(evidence), info)


def _bounce_info(
    parsed: ParsedMessage,
    dsn_fields: list[tuple[str, str]],
    is_dsn: bool,
    folded_text: str,
    failed_header: str | None,
) -> BounceInfo:
    fields: dict[str, str] = {}
    for name, value in dsn_fields:
        key = name.lower()
        # The first failed recipient's group wins; later groups only fill what is missing.
        fields.setdefault(key, value.strip())
    status = None
    if "status" in fields:
        found = _STATUS.search(fields["status"])
        status = found.group(0) if found else None
    text = parsed.text[:_TEXT_SCAN]
    if status is None:
        found = _STATUS.search(fields.get("diagnostic-code", "")) or _STATUS.search(text)
        status = found.group(0) if found else None
    severity = _severity(status, fields.get("action", ""), text, folded_text)

    recipient = None
    if failed_header:
        found_address = _ADDRESS.search(failed_header)
        recipient = found_address.group(0) if found_address else None
    for key in ("final-recipient", "original-recipient"):
        if recipient is None and key in fields:
            recipient = _after_type(fields[key])
    if recipient is None:
        listed = _FAILED_LIST.search(folded_text)
        if listed:
            recipient = listed.group(1)
    if recipient is None:
        original_to = _embedded(parsed, "to")
        found_address = _ADDRESS.search(original_to or "")
        recipient = found_address.group(0) if found_address else None

    original_id = _embedded(parsed, "message-id")
    if original_id:
        original_id = original_id.strip()
    else:
        quoted = _QUOTED_MESSAGE_ID.search(parsed.text)
        original_id = quoted.group(1) if quoted else None

    diagnostic = fields.get("diagnostic-code")
    return BounceInfo(
        severity=severity,
        status=status,
        recipient=recipient,
        original_message_id=original_id,
        diagnostic=" ".join(_after_type(diagnostic).split())[:500] if diagnostic else None,
        dsn=is_dsn,
    )


def _severity(status: str | None, action: str, text: str, folded_text: str) -> Severity:
    if status:
        return "hard" if status.startswith("5") else "soft" if status.startswith("4") else "unknown"
    action = action.strip().lower()
    if action == "failed":
        return "hard"
    if action == "delayed":
        return "soft"
    code = _SMTP_CODE.search(text)
    if code:
        return "hard" if code.group(1).startswith("5") else "soft"
    if re.search(r"\b(permanent|permanente|definitive)\b", folded_text):
        return "hard"
    if re.search(
        r"\b(temporary|temporaire|delayed|retarde|differe|will (retry|try again))\b", folded_text
    ):
        return "soft"
    return "unknown"


def _after_type(value: str) -> str:
    """ "rfc822; a@b" -> "a@b", "smtp; 550 …" -> "550 …"."""
    kind, sep, rest = value.partition(";")
    return rest.strip() if sep and " " not in kind.strip() else value.strip()


def _embedded(parsed: ParsedMessage, name: str) -> str | None:
    for key, value in parsed.embedded_headers:
        if key.lower() == name:
            return value
    return None


# -- 3-4. spam and bulk -------------------------------------------------------------------------


def _spam_or_bulk(parsed: ParsedMessage, subject: str) -> Classification | None:
    flag = (parsed.header("X-Spam-Flag") or "").strip().lower()
    if flag.startswith("yes"):
        return Classification("other", ("header X-Spam-Flag: YES",))
    status = (parsed.header("X-Spam-Status") or "").strip().lower()
    if status.startswith("yes"):
        return Classification("other", ("header X-Spam-Status: Yes",))
    shown = _find(_SPAM_SUBJECT, subject)
    if shown:
        return Classification("other", (f'subject matches "{shown}"',))

    evidence: list[str] = []
    for name in ("List-Id", "List-Unsubscribe"):
        if parsed.header(name) is not None:
            evidence.append(f"header {name}")
    precedence = (parsed.header("Precedence") or "").strip().lower()
    if precedence in ("bulk", "list", "junk"):
        evidence.append(f"header Precedence: {precedence}")
    if not evidence or _auto_headers(parsed) or _auto_subject(subject):
        return None
    text = fold(parsed.new_text[:_TEXT_SCAN])
    if _find(_ABSENCE, text) or _find(_ACK, text):
        return None
    return Classification("other", (*evidence, "no auto-reply header or wording"))


# -- 5. automatic replies -------------------------------------------------------------------------


def _auto_headers(parsed: ParsedMessage) -> list[str]:
    evidence: list[str] = []
    auto_submitted = parsed.header("Auto-Submitted")
    if auto_submitted and auto_submitted.split(";")[0].strip().lower() != "no":
        evidence.append(f"header Auto-Submitted: {auto_submitted.strip()[:60]}")
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Autogenerated"):
        value = parsed.header(name)
        if value is not None and value.strip().lower() not in ("no", "false", "0"):
            evidence.append(f"header {name}: {value.strip()[:60]}")
    precedence = (parsed.header("Precedence") or "").strip().lower()
    if precedence == "auto_reply":
        evidence.append("header Precedence: auto_reply")
    for name in (
        "X-Auto-Response-Suppress",
        "X-MS-Exchange-Inbox-Rules-Loop",
        "X-MS-Exchange-Generated-Message-Source",
    ):
        value = parsed.header(name)
        if value is not None:
            evidence.append(f"header {name}: {value.strip()[:60]}")
    return evidence


def _auto_subject(subject: str) -> str | None:
    return _find(_AUTO_SUBJECT, subject)


def _automatic(parsed: ParsedMessage, subject: str) -> Classification | None:
    evidence = _auto_headers(parsed)
    shown = _auto_subject(subject)
    if shown:
        evidence.append(f'subject matches "{shown}"')
    if not evidence:
        return None
    text = fold((parsed.new_text or parsed.text)[:_AUTO_SCAN])
    absence = _absence(subject, text)
    if absence:
        if absence not in evidence:
            evidence.append(absence)
        return Classification("out_of_office", tuple(evidence))
    redirect = _find(_REDIRECT, text)
    if redirect:
        return Classification("redirect", (*evidence, f'text matches "{redirect}"'))
    ack = _find(_ACK, text)
    if ack:
        evidence.append(f'text matches "{ack}"')
    return Classification("acknowledgement", tuple(evidence))


# -- 6. people -------------------------------------------------------------------------------


def _human(parsed: ParsedMessage, subject: str) -> Classification:
    evidence: list[str] = []
    auto_submitted = parsed.header("Auto-Submitted")
    if auto_submitted is not None:
        evidence.append(f"header Auto-Submitted: {auto_submitted.strip()[:20]} (sent by a person)")
    else:
        evidence.append("no automatic header")
    words = len(parsed.new_text.split())
    size = f"new text {words} words"
    # Wording only decides in short texts; a long one is an answer whatever it says.
    text = fold(parsed.new_text) if words <= HUMAN_REDIRECT_MAX_WORDS else ""

    absence = _absence(subject, text)
    if absence and words <= HUMAN_ABSENCE_MAX_WORDS:
        return Classification("out_of_office", (*evidence, absence, size))
    redirect = _find(_REDIRECT, text)
    if redirect and words <= HUMAN_REDIRECT_MAX_WORDS:
        return Classification("redirect", (*evidence, f'text matches "{redirect}"', size))
    ack = _find(_ACK, text) or _sentence_ack(text)
    substance = _substantive_sentences(text) if ack else []
    if ack and words <= HUMAN_ACK_MAX_WORDS and not substance:
        return Classification("acknowledgement", (*evidence, f'text matches "{ack}"', size))
    if ack and substance:
        evidence.append(f'text matches "{ack}", but also says: "{substance[0][:60]}"')
        ack = None
    if absence:
        evidence.append(f"{absence}, but in a longer text")
    if ack:
        evidence.append(f'text matches "{ack}", but in a longer text')
    if parsed.in_reply_to:
        evidence.append(f"In-Reply-To {parsed.in_reply_to[:100]}")
    return Classification("answer", (*evidence, size))
