"""Bounces: the DSN the persona's provider sends back when the service's server refused a request.

    bounce: a Postfix-style ``multipart/report; report-type=delivery-status`` (RFC 3464) from
        MAILER-DAEMON of the persona's provider, to the envelope sender: a notice (French 40 %
        of the time, else Postfix's English), the delivery status (5.1.1, the remote MTA's 550
        reply), and the returned request itself as ``message/rfc822``

This is what a dead address that accepts at RCPT and bounces later looks like; an address
refused at RCPT gets no message at all (the simulator's ``rcpt_rule``).
"""

from __future__ import annotations

from email.header import Header
from email.utils import format_datetime

from sim.profiles import PlannedReaction
from sim.town_halls.incoming import REPLY_PREFIX
from sim.town_halls.writer import Writer, Written, as_delivered


def bounce(writer: Writer, planned: PlannedReaction) -> Written:
    """A DSN from the persona's provider: the service's server refused the request."""
    req, rng = writer.request, writer.rng
    persona_domain = req.envelope_sender.rsplit("@", 1)[-1]
    host = f"smtp.{persona_domain}"
    service = writer.voice.service.address
    queue_id = "".join(rng.choice("0123456789BCDFGHJKLMNPQRSTVWXZbcdfghjklmnpqrstvwxz")
                       for _ in range(14))  # fmt: skip
    message_id = f"<{queue_id}@{host}>"
    boundary = f"{queue_id}.{int(planned.at.timestamp())}/{host}"
    local = planned.at.astimezone(writer.tz)
    arrival = (req.date or planned.at).astimezone(writer.tz)
    diagnostic = (
        f"550 5.1.1 <{service}>: Recipient address rejected: User unknown in virtual mailbox table"
    )
    french = rng.random() < 0.4
    if french:
        subject = f"Échec de la remise : {REPLY_PREFIX.sub('', req.subject)}"
        notice = [
            f"Ceci est le système de messagerie de {host}.",
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
    subject_header = Header(subject, "utf-8").encode() if not subject.isascii() else subject
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
        "Action: failed",
        "Status: 5.1.1",
        f"Remote-MTA: dns; mx.{writer.voice.domain}",
        f"Diagnostic-Code: smtp; {diagnostic}",
        "",
        f"--{boundary}",
        "Content-Description: Undelivered Message",
        "Content-Type: message/rfc822",
        "Content-Transfer-Encoding: 8bit",
        "",
    ]
    original = req.raw.replace(b"\r\n", b"\n").rstrip(b"\n")
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
    return Written(raw, message_id, f"MAILER-DAEMON@{host}", req.envelope_sender, subject)
