"""What kind of reply is this? A parsed message in; a kind, the evidence, and whether to doubt it.

Kinds: ``answer``, ``acknowledgement``, ``out_of_office``, ``bounce``, ``read_receipt``,
``redirect``, ``other``. ``answer`` is earned, never a default: it needs a person (no automation
signal, a sender that is not a mail system or a no-reply address) who *replied* (a thread
relation — In-Reply-To, References, a reply prefix on the subject — or a quoted original).
Mail that is neither a reply nor a report is ``other``, which never moves a contact's status.
A result the rules cannot vouch for carries ``unsure=True``: the tracker sends it to triage
with its evidence, where a coordinator sets its class.

Decision order, first match wins; language-neutral signals before any wording:

1. **read_receipt**: an RFC 3798 report (``report-type=disposition-notification`` or a
   ``message/disposition-notification`` part), else a receipt subject (« Lu : », "Read:");
   but a report whose disposition is ``automatic-action`` + ``deleted`` (Sieve's reject,
   RFC 5429) is a **bounce**.
2. **other** (abuse report): an ARF ``report-type=feedback-report`` / ``message/feedback-report``.
3. delivery reports (``channels.bounces``): an RFC 3464 DSN whose recipients were all
   delivered, relayed, expanded or deliverable, or whose statuses are all 2.x.x, is **other**
   (a success report); any failed/delayed action or 4.x.x/5.x.x status is a **bounce**, as is a
   mail-system sender (MAILER-DAEMON with or without a domain, postmaster, post_master, "Mail
   Delivery System"), ``X-Failed-Recipients``, a bounce subject, or a null return path with
   bounce wording. A bounce on the sender's name alone is unsure. A failed DSN whose text is a
   challenge-response question (Boxbe) is **other**; one whose text says nothing of a failure
   but is a receipt (« I received your message ») is an **acknowledgement**. Any other
   ``multipart/report`` (DMARC,
   TLS reports) and an unsubscribe request are **other**.
4. **other** (spam): ``X-Spam-Flag: YES``, ``X-Spam-Status: Yes``, a « [SPAM] » subject.
5. **automatic** messages: header *values*, not presence — RFC 3834 ``Auto-Submitted`` other
   than ``no``; ``X-Autoreply``/``X-Autorespond``/``X-Autoresponder`` with a value that is
   not empty nor no/false/0; ``Precedence: auto_reply``; Exchange's
   ``X-MS-Exchange-Inbox-Rules-Loop``, ``X-MS-Exchange-Generated-Message-Source`` and
   ``X-Auto-Response-Suppress`` (only the first says *reply*: the others also come on
   notifications); ``X-POST-MessageClass: Autoresponder``; an auto-reply subject
   in any of our languages; a no-reply or mailing-list-server sender; a null Return-Path
   (RFC 5321 §4.5.5); ``Precedence: bulk|junk`` *with* reply wording (the classic vacation
   program). Then wording: absence → **out_of_office** (an absent agent often says
   « veuillez vous adresser à », so absence first); redirect wording → **redirect**; a
   challenge-response question → **other**; receipt wording → **acknowledgement**; Sieve's
   « (vacation) » comment → **out_of_office** (after the wording: the vacation action sends
   receipts too). With no such wording: Outlook's automatic-replies subject prefix (« Réponse
   automatique : », "Automatic reply:", « Automatyczna odpowiedź: »: its out-of-office
   assistant) is an **out_of_office** (unsure); another ``auto-replied`` message or
   auto-reply subject is an **acknowledgement** (unsure); a notification (``auto-generated``,
   a no-reply sender, a list server) is **other**.
6. **other** (bulk): ``List-Id``, ``List-Unsubscribe``, ``Precedence: bulk|list|junk`` — unless
   a person-like sender (or a mail client) replies through the list in a thread; a person's new
   post to a list replies to nobody: **other**, unsure —, a calendar part (an invitation or its
   answer), an unsubscribe footer in a message that replies to nothing, a message that replies
   to nothing and names no recipient but its sender (a mailing sent by hand, everyone in Bcc),
   or a challenge-response filter asking the sender to prove itself.
7. **people**, on the new text only (no quoted original, no signature): absence wording in a
   short text (at most 120 words; small-town webmails send vacation replies without any header)
   → **out_of_office**; redirect wording in at most 150 words → **redirect**; receipt or delay
   wording (« la réponse sera retardée », « die Beantwortung wird sich verzögern ») in at most
   80 words *and no substantive sentence* → **acknowledgement** (every sentence a greeting, the
   receipt, a holding promise or its reason, thanks or a closing). Else a reply (a thread
   relation or a quote of two lines at least) is an **answer** (a reply prefix alone, from no
   person-like sender and with machine-made signs, is not). A message that replies to nothing is
   unsure either way (``channels.senders`` weighs who wrote it): an **acknowledgement** when its
   subject is a receipt and no person-like sender wrote it (a filing system's notice); **other**
   with machine-made signs (a bulk-sending service's headers, little else than a link, readers
   in many organisations, a person's name over an unrelated address) or when it only carries an
   attached message; an **answer** when it has the form of a letter (a greeting first, a closing
   or a signature last) or comes from a sender named like a person with nothing machine-made (no
   program's mailer, not a service's address, no Reply-To elsewhere) — people do answer by
   writing a new message, and only the tracker's match can tell —; **other** otherwise.

All wording is matched after folding case and accents (``channels.content.fold``); the
word lists live in ``channels.wording``.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Literal, get_args

from channels import senders
from channels.bounces import BounceInfo, Severity, delivery_report, rejection_report
from channels.content import fold
from channels.mime import ParsedMessage
from channels.wording import (
    ABSENCE,
    ACK,
    AUTO_SUBJECT,
    CHALLENGE,
    DELAY,
    HOLDING,
    MDN_SUBJECT,
    OOF_SUBJECT,
    REDIRECT,
    SPAM_SUBJECT,
    UNSUBSCRIBE,
    WAITING,
    find,
)

__all__ = ["KINDS", "BounceInfo", "Classification", "Kind", "Severity", "classify"]

Kind = Literal[
    "answer", "acknowledgement", "out_of_office", "bounce", "read_receipt", "redirect", "other"
]
KINDS: tuple[Kind, ...] = get_args(Kind)

_AUTO_SCAN = 5_000  # characters of an automatic reply looked at for wording
HUMAN_ABSENCE_MAX_WORDS = 120
HUMAN_REDIRECT_MAX_WORDS = 150
HUMAN_ACK_MAX_WORDS = 80


@dataclass(frozen=True, slots=True)
class Classification:
    kind: Kind
    evidence: tuple[str, ...]
    bounce: BounceInfo | None = None
    # The rules could not vouch for ``kind``: the tracker sends the message to triage.
    unsure: bool = False


_REPLY_PREFIX = re.compile(
    # Reply prefixes only: a forward ("Fwd:", « TR : », "WG:") is how spam fakes a relation.
    r"^\s*(\[[^\]]{0,40}\]\s*)?(re|r|aw|antw|sv|vs|odp|rif)\s*(\[\d+\])?\s*:",
    re.IGNORECASE,
)
_NOT_AUTO = frozenset({"", "no", "false", "0", "off", "none"})


def classify(parsed: ParsedMessage) -> Classification:
    """The kind of ``parsed``, the evidence that decided it, and whether it is unsure."""
    subject = fold(parsed.subject).strip()
    return (
        _read_receipt(parsed, subject)
        or _feedback_report(parsed)
        or _delivery_report(parsed, subject)
        or _other_report(parsed, subject)
        or _spam(parsed, subject)
        or _automatic(parsed, subject)
        or _bulk(parsed, subject)
        or _human(parsed, subject)
    )


# A human receipt says it got the request, maybe that someone will come back, and nothing
# else. Each sentence of the new text is sorted: greeting, receipt, holding promise, thanks,
# closing, a short line (a name), or *substantive*; one substantive sentence makes an answer
# of a text that opens with « Nous avons bien reçu votre demande ».
_SENTENCES = re.compile(r"(?<=[.!?;])\s+|\n\s*\n")
_BIEN_RECU = re.compile(r"^(bien recu|bonne reception|message recu|demande recue)\b")
_SHORT_LINE_WORDS = 4


_LEADING_GREETING = re.compile(
    r"^(bonjour|bonsoir|hello|hi|dear \w+|guten tag|buenos dias|buongiorno)"
    r"( (madame|monsieur|mesdames|messieurs|a (vous|tous)))?\s*,\s*"
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


def _before_closing(text: str) -> str:
    """The folded text up to its closing formula: what follows is a name and a disclaimer."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if index and _CLOSING.match(line.strip(" ,*")):
            return "\n".join(lines[:index])
    return text


def _substantive_sentences(text: str) -> list[str]:
    """Sentences that are neither greeting, receipt, holding promise, thanks nor closing."""
    found: list[str] = []
    for sentence in _sentences(_before_closing(text)):
        if len(sentence.split()) <= _SHORT_LINE_WORDS:
            continue
        if find(ACK, sentence) or _BIEN_RECU.search(sentence):
            # The receipt sentence itself; another clause of it may still say more.
            for clause in (part.strip() for part in sentence.split(",")):
                if len(clause.split()) <= _SHORT_LINE_WORDS or _receipt_or_holding(clause):
                    continue
                found.append(clause)
            continue
        if find(HOLDING, sentence) or find(DELAY, sentence) or find(WAITING, sentence):
            continue
        found.append(sentence)
    return found


def _receipt_or_holding(clause: str) -> bool:
    return bool(find(ACK, clause) or _BIEN_RECU.search(clause) or find(HOLDING, clause))


def _absence(subject: str, text: str) -> str | None:
    """Evidence of absence wording, in the text first, else in the subject."""
    shown = find(ABSENCE, text)
    if shown:
        return f'text matches "{shown}"'
    shown = find(ABSENCE, subject)
    return f'subject matches "{shown}"' if shown else None


def _thread(parsed: ParsedMessage) -> str | None:
    """Evidence that the message replies to another: thread headers, a reply prefix."""
    if parsed.in_reply_to:
        return f"In-Reply-To {parsed.in_reply_to[:100]}"
    if parsed.references:
        return f"References {parsed.references[-1][:100]}"
    prefix = _REPLY_PREFIX.match(parsed.subject)
    if prefix:
        return f'subject prefix "{prefix.group(0).strip()}"'
    return None


# -- 1-2. receipts and abuse reports ----------------------------------------------------------


def _read_receipt(parsed: ParsedMessage, subject: str) -> Classification | None:
    evidence: list[str] = []
    if parsed.report_type == "disposition-notification":
        evidence.append("multipart/report; report-type=disposition-notification")
    elif any(p.content_type == "message/disposition-notification" for p in parsed.report_parts):
        evidence.append("message/disposition-notification part")
    if evidence:
        rejected = rejection_report(parsed)
        if rejected is not None:
            return Classification("bounce", (*evidence, *rejected.evidence), rejected.info)
        for part in parsed.report_parts:
            for name, value in part.fields():
                if name.lower() == "disposition":
                    evidence.append(f"Disposition: {value}")
        return Classification("read_receipt", tuple(evidence))
    shown = find(MDN_SUBJECT, subject)
    if shown:
        return Classification("read_receipt", (f'subject matches "{shown}"',))
    return None


def _feedback_report(parsed: ParsedMessage) -> Classification | None:
    if parsed.report_type == "feedback-report" or any(
        p.content_type == "message/feedback-report" for p in parsed.report_parts
    ):
        return Classification("other", ("ARF feedback report (report-type=feedback-report)",))
    return None


# -- 3. delivery reports ------------------------------------------------------------------------


def _delivery_report(parsed: ParsedMessage, subject: str) -> Classification | None:
    report = delivery_report(parsed, subject)
    if report is None:
        return None
    if report.kind == "success":
        return Classification("other", report.evidence)
    worded = any(item.startswith("text matches") for item in report.evidence)
    challenge = None if worded else find(CHALLENGE, fold(parsed.text[:_AUTO_SCAN]))
    if challenge and not parsed.quoted_text.strip():
        # Challenge-response filters (Boxbe…) wrap their question in a failed DSN that says
        # nothing of a failure in its text.
        return Classification("other", (*report.evidence, f'but challenge-response: "{challenge}"'))
    receipt = None if worded else find(ACK, fold(parsed.new_text[:_AUTO_SCAN]))
    if receipt and not parsed.quoted_text.strip():
        # A report whose own text says nothing of a failure but confirms the message arrived
        # (a guest-list filter's « I received your message … »): a receipt in a DSN's dress.
        return Classification(
            "acknowledgement", (*report.evidence, f'but its text is a receipt: "{receipt}"')
        )
    return Classification("bounce", report.evidence, report.info, unsure=report.unsure)


def _other_report(parsed: ParsedMessage, subject: str) -> Classification | None:
    """Machine reports that are no DSN nor MDN (DMARC, TLS, unknown types), and the mail a
    client sends to unsubscribe (RFC 2369 mailto: links say « subject=unsubscribe »)."""
    if parsed.content_type == "multipart/report":
        kind = parsed.report_type or "none"
        return Classification("other", (f"multipart/report; report-type={kind}: a machine report",))
    apple = (parsed.header("X-Apple-Unsubscribe") or "").strip().lower()
    if subject in ("unsubscribe", "subscribe") or apple == "true":
        shown = "header X-Apple-Unsubscribe: true" if apple == "true" else f'subject "{subject}"'
        return Classification("other", (f"an unsubscribe request ({shown})",))
    return None


# -- 4. spam --------------------------------------------------------------------------------------


def _spam(parsed: ParsedMessage, subject: str) -> Classification | None:
    flag = (parsed.header("X-Spam-Flag") or "").strip().lower()
    if flag.startswith("yes"):
        return Classification("other", ("header X-Spam-Flag: YES",))
    status = (parsed.header("X-Spam-Status") or "").strip().lower()
    if status.startswith("yes"):
        return Classification("other", ("header X-Spam-Status: Yes",))
    shown = find(SPAM_SUBJECT, subject)
    if shown:
        return Classification("other", (f'subject matches "{shown}"',))
    return None


# -- 5. automatic messages ---------------------------------------------------------------------


def _auto_headers(parsed: ParsedMessage) -> tuple[list[str], bool]:
    """Automation evidence from header values, and whether one says *reply* (not notice)."""
    evidence: list[str] = []
    replied = False
    auto_submitted = (parsed.header("Auto-Submitted") or "").strip()
    value = auto_submitted.split(";")[0].split("(")[0].strip().lower()
    if value and value != "no":
        evidence.append(f"header Auto-Submitted: {auto_submitted[:60]}")
        replied = value == "auto-replied"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Autogenerated"):
        header = parsed.header(name)
        if header is not None and header.strip().lower() not in _NOT_AUTO:
            evidence.append(f"header {name}: {header.strip()[:60]}")
            replied = replied or name != "X-Autogenerated"
    if (parsed.header("Precedence") or "").strip().lower() == "auto_reply":
        evidence.append("header Precedence: auto_reply")
        replied = True
    # An Exchange inbox rule answered a message; the other two only say a program sent it
    # (Exchange puts them on auto-replies, but also ticketing, alert and workflow systems on
    # their notifications): automatic, not by themselves a reply.
    for name in (
        "X-MS-Exchange-Inbox-Rules-Loop",
        "X-MS-Exchange-Generated-Message-Source",
        "X-Auto-Response-Suppress",
    ):
        header = parsed.header(name)
        if header is not None and header.strip():
            evidence.append(f"header {name}: {header.strip()[:60]}")
            replied = replied or name == "X-MS-Exchange-Inbox-Rules-Loop"
    message_class = (parsed.header("X-POST-MessageClass") or "").lower()
    if "autoresponder" in message_class:
        evidence.append(f"header X-POST-MessageClass: {message_class.strip()[:40]}")
        replied = True
    return evidence, replied


def _automatic(parsed: ParsedMessage, subject: str) -> Classification | None:
    evidence, replied = _auto_headers(parsed)
    shown = find(AUTO_SUBJECT, subject)
    if shown:
        evidence.append(f'subject matches "{shown}"')
        replied = True
    no_reply = senders.no_reply(parsed)
    if no_reply:
        evidence.append(f"no-reply sender {no_reply}")
    robot = senders.list_robot(parsed)
    if robot:
        evidence.append(f"mailing-list server {robot}")
    if parsed.return_path == "":
        # RFC 5321 §4.5.5: the null reverse-path is for notifications, never a person's mail.
        evidence.append("null Return-Path <>")
    text = fold((parsed.new_text or parsed.text)[:_AUTO_SCAN])
    precedence = (parsed.header("Precedence") or "").strip().lower()
    if not evidence:
        # The classic vacation program sends Precedence: junk or bulk: automatic only when the
        # text says it is a reply; otherwise a list or a newsletter (step 6).
        if precedence not in ("bulk", "junk") or not (
            _absence(subject, text) or find(ACK, text) or find(REDIRECT, text)
        ):
            return None
        evidence.append(f"header Precedence: {precedence}")
        replied = True
    absence = _absence(subject, text)
    if absence:
        return Classification("out_of_office", (*evidence, absence))
    redirect = find(REDIRECT, text)
    if redirect:
        return Classification("redirect", (*evidence, f'text matches "{redirect}"'))
    challenge = find(CHALLENGE, text)
    if challenge:
        return Classification("other", (*evidence, f'challenge-response: "{challenge}"'))
    ack = find(ACK, text) or find(ACK, subject)
    if ack:
        return Classification("acknowledgement", (*evidence, f'text matches "{ack}"'))
    vacation = _vacation(parsed)
    if vacation:
        # Sieve's vacation action sends receipts too: its comment counts after the wording.
        return Classification("out_of_office", (*evidence, vacation))
    oof = find(OOF_SUBJECT, subject)
    if oof:
        # Outlook's « Automatic Replies » is its out-of-office assistant: with no wording to
        # say otherwise (a receipt or a redirect would have said so above), an absence.
        return Classification(
            "out_of_office",
            (*evidence, f'subject prefix "{oof}" (Outlook\'s out-of-office assistant)'),
            unsure=True,
        )
    if replied or (_thread(parsed) and not robot):
        # An automatic reply that is neither an absence nor a redirect is, for the
        # barometer, a receipt; without wording to say so it is a guess.
        return Classification(
            "acknowledgement", (*evidence, "no receipt wording"), unsure=not shown
        )
    return Classification("other", (*evidence, "a notification: no reply wording"))


def _vacation(parsed: ParsedMessage) -> str | None:
    """Sieve's vacation action says so in a comment: « Auto-Submitted: auto-replied
    (vacation) »."""
    value = (parsed.header("Auto-Submitted") or "").lower()
    return "Auto-Submitted comment (vacation)" if "(vacation" in value else None


# -- 6. bulk ---------------------------------------------------------------------------------


def _bulk(parsed: ParsedMessage, subject: str) -> Classification | None:
    evidence: list[str] = []
    for name in ("List-Id", "List-Unsubscribe"):
        if (parsed.header(name) or "").strip():
            evidence.append(f"header {name}")
    precedence = (parsed.header("Precedence") or "").strip().lower()
    if precedence in ("bulk", "list", "junk"):
        evidence.append(f"header Precedence: {precedence}")
    post = _posted_by_a_person(parsed) if evidence else None
    if post == "reply":
        evidence = []  # a person's reply relayed by a list: judged as a person's
    elif post == "new post":
        # A person's new question to a list's readers: it replies to nobody, and whether it
        # is what a persona waits for only triage can tell.
        evidence.append("a person's new post to the list: it replies to nothing")
        return Classification("other", tuple(evidence), unsure=True)
    calendar = senders.calendar(parsed)
    if calendar:
        evidence.append(f"{calendar}: an invitation or its answer")
    quoted = bool(parsed.quoted_text.strip())
    if not evidence and _thread(parsed) is None and not quoted:
        # The sender's own text only: a reply quoting a mailing keeps the mailing's footer.
        own = f"{parsed.new_text}\n{parsed.signature}"
        footer = find(UNSUBSCRIBE, fold(own[-3_000:]))
        if footer:
            evidence.append(f'unsubscribe footer ("{footer}"), replies to nothing')
    if not evidence and _thread(parsed) is None and not quoted:
        hidden = _hidden_recipients(parsed)
        if hidden:
            evidence.append(f"{hidden}, replies to nothing")
    if not evidence and not quoted:
        challenge = find(CHALLENGE, fold(parsed.text[:_AUTO_SCAN]))
        if challenge:
            evidence.append(f'challenge-response: text matches "{challenge}"')
    if not evidence:
        return None
    return Classification("other", tuple(evidence))


def _posted_by_a_person(parsed: ParsedMessage) -> Literal["reply", "new post"] | None:
    """A list relays people's messages with List-* and Precedence headers: a person-like
    sender (or a mail client) who replies in a thread is still a person answering; the same
    sender's new post to the list replies to nobody."""
    if senders.no_reply(parsed) or senders.list_robot(parsed):
        return None
    client, program = senders.mail_client(parsed)
    if program or not (senders.person_like(parsed.from_) or client):
        return None
    threaded = bool(parsed.in_reply_to or parsed.references or _quotes(parsed))
    return "reply" if threaded else "new post"


def _hidden_recipients(parsed: ParsedMessage) -> str | None:
    """A mass mailing sent by hand: every reader in Bcc, none named in To or Cc."""
    sender = (parsed.from_.address if parsed.from_ else "").strip().lower()
    readers = [a for a in (*parsed.to, *parsed.cc) if a.address]
    shown = {a.address.strip().lower() for a in readers}
    if parsed.header("To") is not None and not shown:
        return "no recipient named (undisclosed recipients, everyone in Bcc)"
    # Anonymised samples write every address as x@x.com: another name is another person.
    names = {a.name.strip().lower() for a in readers if a.name.strip()}
    own = (parsed.from_.name if parsed.from_ else "").strip().lower()
    if sender and shown == {sender} and names <= {own}:
        return "addressed to its own sender (everyone in Bcc)"
    return None


# -- 7. people -------------------------------------------------------------------------------


def _human(parsed: ParsedMessage, subject: str) -> Classification:
    evidence: list[str] = []
    auto_submitted = parsed.header("Auto-Submitted")
    if auto_submitted is not None and auto_submitted.strip():
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
    redirect = find(REDIRECT, text)
    if redirect and words <= HUMAN_REDIRECT_MAX_WORDS:
        return Classification("redirect", (*evidence, f'text matches "{redirect}"', size))
    ack = (
        find(ACK, text)
        or _sentence_ack(text)
        or find(DELAY, text)
        or (find(ACK, subject) if text else None)
    )
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
    thread = _thread(parsed)
    quoted = _quotes(parsed)
    client, program = senders.mail_client(parsed)
    person = senders.person_like(parsed.from_) or client
    if thread or quoted:
        evidence += [e for e in (thread, "quotes the original" if quoted else None) if e]
        if not (parsed.in_reply_to or parsed.references or quoted or person):
            # A reply prefix alone is how spam fakes a relation: not from a person-like
            # sender, and with strong machine-made signs, it earns nothing. (A service's
            # address or a ticketing tool's mailer is no such sign: town halls answer so.)
            strong, _ = senders.machine_signs(parsed, program)
            if strong:
                return Classification("other", (*evidence, *strong, size), unsure=True)
        return Classification("answer", (*evidence, size))
    return _unthreaded(
        parsed, subject, [*evidence, "replies to nothing: no thread relation, no quote"]
    )


def _quotes(parsed: ParsedMessage) -> bool:
    """A quoted original: two lines at least (one ``> …`` line is as often a converted HTML
    tag or a marketing teaser as a quote)."""
    return sum(1 for line in parsed.quoted_text.splitlines() if line.strip()) >= 2


def _unthreaded(parsed: ParsedMessage, subject: str, evidence: list[str]) -> Classification:
    """Mail that replies to nothing: an answer only on positive evidence that a person wrote
    it (a letter's form, or a person-like sender or mail client with nothing machine-made),
    and unsure either way: people do answer by writing a new message (another agent, a
    copied address), and only the tracker's match can tell whether it answers our request."""
    size = f"new text {len(parsed.new_text.split())} words"
    forwarded = senders.forwarded_only(parsed)
    if forwarded:
        return Classification("other", (*evidence, forwarded))
    _, program = senders.mail_client(parsed)
    receipt = find(ACK, subject)
    if receipt and not senders.person_like(parsed.from_):
        # A filing system's or a ticketing tool's notice that replies to nothing but whose
        # subject is a receipt (« Vaše emailová zpráva byla převzata »): its body lists the
        # registration number and the date, which no rule calls a greeting or a promise.
        return Classification(
            "acknowledgement", (*evidence, f'subject is a receipt: "{receipt}"'), unsure=True
        )
    strong, weak = senders.machine_signs(parsed, program)
    if strong:
        return Classification("other", (*evidence, *strong, size), unsure=True)
    letter = _letter_form(parsed)
    if letter:
        return Classification("answer", (*evidence, letter, size), unsure=True)
    # A mail client alone proves little (spam names one): the sender must be named like a
    # person, from a person's address, with nothing machine-made.
    person = senders.person_like(parsed.from_)
    if person and not weak:
        return Classification("answer", (*evidence, person, size), unsure=True)
    missing = "; ".join(weak) if person else "no letter's form, no person-like sender"
    return Classification("other", (*evidence, missing, size), unsure=True)


_GREETING = re.compile(
    r"^(bonjour|bonsoir|madame|monsieur|mesdames|messieurs|cher|chere|hello|hi|dear|"
    r"good (morning|afternoon)|sehr geehrte\w*|guten tag|hallo|liebe\w?|estimad[oa]s?|"
    r"buenos dias|hola|gentile|egregi[oa]|buongiorno|salve|dzien dobry|szanown\w*|"
    r"senhora?|prezad[oa]s?|caro|cara|ola|bom dia|boa tarde|geachte|beste|dobry den|"
    r"vazen[aiy]\w*)\b"
)
_CLOSING = re.compile(
    r"^(cordialement|bien cordialement|salutations|sinceres salutations|bien a vous|"
    r"veuillez agreer|je vous prie|(best |kind |warm )?regards|sincerely|yours|thanks|"
    r"thank you|cheers|mit freundlichen gru(ss|ß)en|(freundliche|viele|beste) gru(ss|ß)e|"
    r"(un )?saludo|saludos|atentamente|cordiali saluti|distinti saluti|pozdrawiam|"
    r"atenciosamente|cumprimentos|com os melhores cumprimentos|abracos|"
    r"met vriendelijke groet(en)?|s pozdravem|s pratelskym pozdravem)\b"
)


_TAG = re.compile(r"<[^<>]{0,200}>")


def _letter_form(parsed: ParsedMessage) -> str | None:
    """Evidence that the new text is a letter from a person: a greeting and a closing."""
    # HTML sent as text/plain keeps its <p> and its entities (« Gr&uuml;&szlig;en »).
    text = fold(html.unescape(_TAG.sub("", parsed.new_text)))
    lines = [line.strip(" ,*") for line in text.splitlines() if line.strip(" ,*")]
    # Letters of public bodies often open with a reference block (« Ihre Nachricht vom … »).
    if len(lines) < 2 or not any(_GREETING.match(line) for line in lines[:6]):
        return None
    if parsed.signature.strip() or any(_CLOSING.match(line) for line in lines[1:]):
        return "a letter from a person (greeting and closing)"
    return None
