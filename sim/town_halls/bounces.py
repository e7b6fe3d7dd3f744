"""Delivery reports of the persona's provider (RFC 3464, as Postfix writes them).

    bounce: the service's server refused the request (a dead address that accepts at RCPT and
        bounces later): « Undelivered Mail Returned to Sender » (French 40 % of the time),
        ``Action: failed``, ``Status: 5.1.1``, the remote MTA's 550, and the returned request
        itself as ``message/rfc822``
    delayed: the service's server has been unreachable for hours: « Delayed Mail (still being
        retried) », ``Action: delayed``, ``Status: 4.4.1``, a connection timeout, when the
        provider will give up, and the request's headers (``text/rfc822-headers``): a warning,
        not a failure; the request is delivered later
    delivered: a report of success the provider sends on delivery: « Successful Mail Delivery
        Report », ``Action: relayed`` (a server that does not speak DSN) or ``delivered``,
        ``Status: 2.0.0``, the remote server's 250, the request's headers: answers nothing

All come from MAILER-DAEMON of the persona's provider, to the envelope sender, with a null
Return-Path and ``Auto-Submitted: auto-replied``. An address refused at RCPT gets no message
at all (the simulator's ``rcpt_rule``).
"""

from __future__ import annotations

from datetime import timedelta
from email.header import Header
from email.utils import format_datetime

from sim.decisions import PlannedReaction
from sim.profiles import DELAY_WARNING_HOURS
from sim.town_halls.french_auto import DELAYED_NOTICE, DELIVERED_NOTICE, REPORT_HEAD
from sim.town_halls.incoming import REPLY_PREFIX
from sim.town_halls.writer import Writer, Written, as_delivered

_QUEUE_ID = "0123456789BCDFGHJKLMNPQRSTVWXZbcdfghjklmnpqrstvwxz"


def bounce(writer: Writer, planned: PlannedReaction) -> Written:
    """The service's server refused the request."""
    service, rng = writer.voice.service.address, writer.rng
    host = _host(writer)
    diagnostic = (
        f"550 5.1.1 <{service}>: Recipient address rejected: User unknown in virtual mailbox table"
    )
    if rng.random() < 0.4:
        subject = f"Échec de la remise : {REPLY_PREFIX.sub('', writer.request.subject)}"
        notice = [
            REPORT_HEAD.format(host=host),
            "",
            "Votre message n'a pas pu être remis à un ou plusieurs destinataires.",
            "Il est joint à ce message.",
            "",
            f"<{service}> : le serveur de {writer.voice.domain} a répondu :",
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
            f"<{service}>: host mx.{writer.voice.domain}[192.0.2.{rng.randrange(2, 250)}] said:",
            f"    {diagnostic} (in reply to RCPT TO command)",
        ]
    fields = ["Action: failed", "Status: 5.1.1", f"Remote-MTA: dns; mx.{writer.voice.domain}",
              f"Diagnostic-Code: smtp; {diagnostic}"]  # fmt: skip
    return _report(writer, planned, subject, notice, fields, whole=True, form="failed")


def delayed(writer: Writer, planned: PlannedReaction) -> Written:
    """A warning: the service's server has not taken the request yet."""
    domain, rng = writer.voice.domain, writer.rng
    host = _host(writer)
    address = f"192.0.2.{rng.randrange(2, 250)}"
    reason = f"connect to mx.{domain}[{address}]:25: Connection timed out"
    until = (writer.sent + timedelta(days=5)).astimezone(writer.tz)
    if rng.random() < 0.4:
        subject = "Remise différée (nouvelles tentatives en cours)"
        warning = [line.format(hours=DELAY_WARNING_HOURS) for line in DELAYED_NOTICE]
        notice = [REPORT_HEAD.format(host=host), "", *warning, ""]
    else:
        subject = "Delayed Mail (still being retried)"
        notice = [
            f"This is the mail system at host {host}.",
            "",
            "####################################################################",
            "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #",
            "####################################################################",
            "",
            f"Your message could not be delivered for {DELAY_WARNING_HOURS}.0 hours.",
            "It will be retried until it is 5.0 days old.",
            "",
        ]
    notice += [f"<{writer.voice.service.address}>: {reason}"]
    fields = ["Action: delayed", "Status: 4.4.1", f"Diagnostic-Code: X-Postfix; {reason}",
              f"Will-Retry-Until: {format_datetime(until)}"]  # fmt: skip
    return _report(writer, planned, subject, notice, fields, whole=False, form="delayed")


def delivered(writer: Writer, planned: PlannedReaction) -> Written:
    """A report of success: the request reached the service's server."""
    domain, rng = writer.voice.domain, writer.rng
    host = _host(writer)
    service = writer.voice.service.address
    relayed = rng.random() < 0.5
    reply = f"250 2.0.0 Ok: queued as {''.join(rng.choice(_QUEUE_ID) for _ in range(10))}"
    how = "relayed to non-DSN-aware mailer" if relayed else "delivery via"
    if rng.random() < 0.4:
        subject = "Rapport de remise du message"
        notice = [REPORT_HEAD.format(host=host), "", *DELIVERED_NOTICE, ""]
    else:
        subject = "Successful Mail Delivery Report"
        notice = [
            f"This is the mail system at host {host}.",
            "",
            "Your message was successfully delivered to the destination(s)",
            "listed below. If the message was delivered to mailbox you will",
            "receive no further notifications. Otherwise you may still receive",
            "notifications of mail delivery errors from other systems.",
            "",
            "                   The mail system",
            "",
        ]
    notice += [f"<{service}>: {how} mx.{domain}[192.0.2.{rng.randrange(2, 250)}]:25: {reply}"]
    fields = [f"Action: {'relayed' if relayed else 'delivered'}", "Status: 2.0.0",
              f"Remote-MTA: dns; mx.{domain}", f"Diagnostic-Code: smtp; {reply}"]  # fmt: skip
    return _report(writer, planned, subject, notice, fields, whole=False, form="delivered")


def _host(writer: Writer) -> str:
    return f"smtp.{writer.request.envelope_sender.rsplit('@', 1)[-1]}"


def _report(
    writer: Writer,
    planned: PlannedReaction,
    subject: str,
    notice: list[str],
    recipient_fields: list[str],
    *,
    whole: bool,
    form: str,
) -> Written:
    """The multipart/report: the notice, the delivery status, the request (``whole``: the
    message itself, else its headers only)."""
    req, rng = writer.request, writer.rng
    host = _host(writer)
    service = writer.voice.service.address
    queue_id = "".join(rng.choice(_QUEUE_ID) for _ in range(14))
    message_id = f"<{queue_id}@{host}>"
    boundary = f"{queue_id}.{int(planned.at.timestamp())}/{host}"
    local = planned.at.astimezone(writer.tz)
    arrival = (req.date or planned.at).astimezone(writer.tz)
    subject_header = Header(subject, "utf-8").encode() if not subject.isascii() else subject
    original = req.raw.replace(b"\r\n", b"\n").rstrip(b"\n")
    if whole:
        part = ["Content-Description: Undelivered Message", "Content-Type: message/rfc822"]
    else:
        original = original.split(b"\n\n", 1)[0]
        part = ["Content-Description: Message Headers", "Content-Type: text/rfc822-headers"]
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
        *recipient_fields,
        "",
        f"--{boundary}",
        *part,
        "Content-Transfer-Encoding: 8bit",
        "",
    ]
    body = ("\n".join(head) + "\n").encode() + original
    body += f"\n\n--{boundary}--\n".encode()
    raw = as_delivered(
        body.replace(b"\n", b"\r\n"),
        return_path="",
        recipient=req.envelope_sender,
        relay=None,
        at=planned.at,
        rng=rng,
        spam=False,
    )
    return Written(raw, message_id, f"MAILER-DAEMON@{host}", req.envelope_sender, subject,
                   form=form)  # fmt: skip
