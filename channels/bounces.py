"""Delivery reports: is this a bounce, a success report, and what failed.

    ParsedMessage --DSN (RFC 3464)?--> actions and status classes:
                     every recipient delivered/relayed/expanded/deliverable or 2.x.x -> success
                     any failed/delayed, or a 4.x.x/5.x.x status ....................-> bounce
                  --no DSN--> bouncer sender (MAILER-DAEMON with or without a domain,
                     postmaster, post_master, "Mail Delivery System"), X-Failed-Recipients,
                     a bounce subject, or a null return path with bounce wording -> bounce
                  --bounce--> BounceInfo: severity (5.x.x hard, 4.x.x soft), status, failed
                     recipient, Message-ID of the returned original, diagnostic

The recipient of a bounce without a DSN is looked for in its headers and wording first; when
none is found, ``flufl.bounce`` (GNU Mailman's bounce detectors, 40-odd MTA formats) reads
the text (through ``channels.bounce_scan``, which skips its line loops that cannot match). It
costs a full parse, so it only runs on messages already known to be bounces.
"""

from __future__ import annotations

import email.message
import re
from dataclasses import dataclass
from typing import Literal

from channels.bounce_scan import scan
from channels.content import fold
from channels.mime import ParsedMessage
from channels.wording import BOUNCE_SUBJECT, BOUNCE_TEXT, find

Severity = Literal["hard", "soft", "unknown"]

TEXT_SCAN = 20_000  # characters of a bounce looked at for wording and addresses
SUCCESS_ACTIONS = frozenset({"delivered", "relayed", "expanded", "deliverable"})
FAILURE_ACTIONS = frozenset({"failed", "delayed", "undeliverable"})


@dataclass(frozen=True, slots=True)
class BounceInfo:
    severity: Severity  # hard (5.x.x), soft (4.x.x), unknown
    status: str | None  # enhanced status code, e.g. "5.1.1"
    recipient: str | None  # the address that failed
    original_message_id: str | None  # Message-ID of the message that bounced
    diagnostic: str | None
    dsn: bool  # a machine-readable delivery-status report


@dataclass(frozen=True, slots=True)
class Report:
    """What the delivery-report side of a message says."""

    kind: Literal["bounce", "success"]
    evidence: tuple[str, ...]
    info: BounceInfo | None = None
    unsure: bool = False


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
# The local part alone: "From: mailer-daemon" (no domain) is a bouncer too.
BOUNCERS = re.compile(
    r"^(mailer[-_.]?daemon|mail[-_.]?daemon|post[-_.]?master|mail[-_.]?delivery[-_.]?"
    r"(system|subsystem))(@|$)",
    re.IGNORECASE,
)
BOUNCER_NAMES = re.compile(
    r"^(mail delivery (system|subsystem)|mailer[- ]daemon|mail administrator|postmaster)$",
    re.IGNORECASE,
)
_SES = re.compile(r'"notificationType"\s*:\s*"(Bounce|Complaint|Delivery)"')


def report_fields(parsed: ParsedMessage, ctype: str) -> list[tuple[str, str]]:
    return [
        item for part in parsed.report_parts if part.content_type == ctype for item in part.fields()
    ]


def is_bouncer(parsed: ParsedMessage) -> str | None:
    """The sender, when it is a mail system rather than a person or an application."""
    address = parsed.from_.address if parsed.from_ else ""
    name = (parsed.from_.name if parsed.from_ else "").strip()
    if BOUNCERS.match(address.strip()) or BOUNCER_NAMES.match(name):
        return address or name
    return None


def delivery_report(parsed: ParsedMessage, subject: str) -> Report | None:
    """A bounce or a success report, or None when the message is neither."""
    dsn_fields = report_fields(parsed, "message/delivery-status")
    is_dsn = parsed.report_type == "delivery-status" or any(
        p.content_type == "message/delivery-status" for p in parsed.report_parts
    )
    evidence: list[str] = []
    if is_dsn:
        evidence.append("multipart/report; report-type=delivery-status")
        actions = [v.strip().lower() for n, v in dsn_fields if n.lower() == "action"]
        statuses = [found.group(0) for n, v in dsn_fields if n.lower() == "status"
                    for found in [_STATUS.search(v)] if found]  # fmt: skip
        failed = [a for a in actions if a in FAILURE_ACTIONS]
        if not failed and not any(s[0] in "45" for s in statuses):
            if actions and all(a in SUCCESS_ACTIONS for a in actions):
                return Report("success", (*evidence, f"DSN action {actions[0]} (success)"))
            if statuses and all(s.startswith("2") for s in statuses):
                return Report("success", (*evidence, f"DSN status {statuses[0]} (success)"))
    else:
        ses = _SES.search(parsed.text[:TEXT_SCAN])
        if ses and ses.group(1) != "Bounce":
            return Report("success", (f"Amazon SES {ses.group(1).lower()} notification",))
        if ses:
            evidence.append("Amazon SES bounce notification")
    bouncer = is_bouncer(parsed)
    if bouncer:
        evidence.append(f"sender {bouncer}")
    failed_header = parsed.header("X-Failed-Recipients")
    if failed_header and failed_header.strip():
        evidence.append(f"header X-Failed-Recipients: {failed_header.strip()[:100]}")
    shown = find(BOUNCE_SUBJECT, subject)
    if shown:
        evidence.append(f'subject matches "{shown}"')
    if not evidence and parsed.return_path != "":
        return None  # most mail stops here, before its text is read for wording
    text = fold(parsed.text[:TEXT_SCAN])
    wording = find(BOUNCE_TEXT, text)
    if not evidence:
        # A null return path alone is also how auto-replies are sent: wording must agree.
        if not wording:
            return None
        evidence.append("null Return-Path <>")
    if wording:
        evidence.append(f'text matches "{wording}"')
    info = _bounce_info(parsed, dsn_fields, is_dsn, text, failed_header)
    if info.status:
        evidence.append(f"{'DSN' if is_dsn else 'text'} status {info.status}")
    evidence.append(f"{info.severity} bounce")
    # A bouncer's address with nothing else failing (no report, no status, no wording) may be a
    # postmaster writing by hand: a bounce, but one a coordinator should look at.
    weak = not (is_dsn or failed_header or shown or wording or info.status)
    return Report("bounce", tuple(evidence), info, unsure=weak)


def rejection_report(parsed: ParsedMessage) -> Report | None:
    """An RFC 3798 report that says the recipient's system threw the message away unread:
    Sieve's ``reject`` (RFC 5429) answers with « automatic-action/…; deleted » and, in
    Dovecot's and Cyrus's words, « Auto-Submitted: auto-replied (rejected) »; RFC 2298's
    ``failed``/``error`` modifiers say the same. A bounce, not a read receipt."""
    fields = {
        n.lower(): v.strip() for n, v in report_fields(parsed, "message/disposition-notification")
    }
    disposition = fields.get("disposition", "").lower()
    mode, _, kind = disposition.partition(";")
    automatic = mode.strip().startswith("automatic-action")
    # Sieve implementations also say it in a comment: « Auto-Submitted: auto-replied
    # (rejected) », which stands when a relay emptied the report's parts.
    rejected = "(rejected" in (parsed.header("Auto-Submitted") or "").lower()
    if not (automatic and re.search(r"\b(deleted|denied|failed|error)\b", kind)) and not rejected:
        return None
    if not (automatic and kind):
        disposition = "none read; Auto-Submitted: auto-replied (rejected)"
    recipient = fields.get("final-recipient") or fields.get("original-recipient")
    info = BounceInfo(
        severity="hard",
        status=None,
        recipient=_after_type(recipient) if recipient else None,
        original_message_id=fields.get("original-message-id"),
        diagnostic=None,
        dsn=False,
    )
    evidence = (f"Disposition: {disposition[:80]} (rejected unread, RFC 5429)", "hard bounce")
    return Report("bounce", evidence, info)


def _bounce_info(
    parsed: ParsedMessage,
    dsn_fields: list[tuple[str, str]],
    is_dsn: bool,
    folded_text: str,
    failed_header: str | None,
) -> BounceInfo:
    fields: dict[str, str] = {}
    for name, value in dsn_fields:
        # The first failed recipient's group wins; later groups only fill what is missing.
        fields.setdefault(name.lower(), value.strip())
    status = None
    if "status" in fields:
        found = _STATUS.search(fields["status"])
        status = found.group(0) if found else None
    text = parsed.text[:TEXT_SCAN]
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
    if recipient is None and not is_dsn:
        recipient = _flufl_recipient(parsed)
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


def _flufl_recipient(parsed: ParsedMessage) -> str | None:
    """The failed address as GNU Mailman's detectors read the bounce's text."""
    message = flufl_message(parsed)
    try:
        found = scan(message)
    except Exception:  # third-party detectors on hostile text: never fatal
        return None
    addresses = sorted(a.decode("ascii", "replace") if isinstance(a, bytes) else str(a)
                       for a in found)  # fmt: skip
    return addresses[0] if addresses else None


def flufl_message(parsed: ParsedMessage) -> email.message.Message:
    """What flufl's detectors are given: the bounce's text and a few of its headers."""
    message = email.message.Message()
    # The sender as we parsed it: a From that parses to no address at all makes one of the
    # detectors (Yale's) raise and log a traceback; this is a bounce, so name the bouncer.
    message["From"] = (parsed.from_.address if parsed.from_ else "") or "MAILER-DAEMON"
    for name in ("Subject", "To", "X-Failed-Recipients"):
        value = parsed.header(name)
        if value is not None:
            message[name] = value
    message.set_payload(parsed.text[:TEXT_SCAN])
    return message


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
