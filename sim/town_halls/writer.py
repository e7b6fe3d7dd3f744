"""What every message of a simulated service is made of: the shared pieces of its writers.

    Writer(voice, request, scenario, rng, received)
        greeting, closing and signature, the quoted request (in the style of the service's mail
        client), the envelope (Date a few seconds before delivery, From, To, Subject, threading,
        the client's own headers), the body (plain, plus HTML for Outlook and Zimbra people)
        --finish--> Written: the raw bytes as the persona's provider delivers them (its trace
        headers, and the spam filter's for a message filed in Junk)

Each kind of message is a function of its own module (``human``, ``automatic``, ``tickets``,
``mailings``, ``bounces``) that takes a ``Writer`` and a planned reaction; ``compose`` picks it.
Machines write with the headers of their vendor (``platforms``): ``finish`` takes them as given,
with the return path (empty for RFC 3834 auto-replies) and the thread (ours, the ticket
system's own, or none). Every draw comes from the writer's generator, in a fixed order: the
same seed writes the same bytes.
"""

from __future__ import annotations

import html
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime

from scenarios.catalog import Scenario
from sim.decisions import PlannedReaction
from sim.town_halls.french import DEFAULT_TOPIC, FORMAL, FORMULAS, TOPICS, french_date
from sim.town_halls.incoming import REPLY_PREFIX, Incoming
from sim.town_halls.voices import Agent, Voice, civility


@dataclass(frozen=True)
class Written:
    """A message ready to deliver, and what the truth records of it."""

    raw: bytes
    message_id: str
    sender: str
    recipient: str
    subject: str
    included: tuple[str, ...] = ()
    omitted: tuple[str, ...] = ()
    threaded: bool = False  # In-Reply-To/References name our request
    form: str = ""  # how it was written: the vendor, system or kind of mailing


# Mail clients a person writes with: each adds its own headers to what it sends.
CLIENTS = ("outlook", "thunderbird", "zimbra", "roundcube")


class Writer:
    """The pieces of one reaction to one request (deterministic for its generator)."""

    def __init__(
        self,
        voice: Voice,
        request: Incoming,
        scenario: Scenario | None,
        rng: random.Random,
        received: datetime,
    ) -> None:
        self.voice = voice
        self.request = request
        self.sent = request.date or received  # a request without a Date header: its arrival
        self.scenario = scenario
        self.rng = rng
        self.tz = voice.service.calendar.tz

    # -- pieces of the text --

    def _message_id(self, style: str) -> str:
        rng, domain = self.rng, self.voice.domain
        if style == "outlook":
            parts = [f"{rng.getrandbits(32):08x}" for _ in range(3)]
            return f"<000001dc{parts[0]}${parts[1]}${parts[2]}@{domain}>"
        if style == "zimbra":
            return (
                f"<{rng.randrange(10**8, 10**9)}.{rng.randrange(10**5, 10**6)}."
                f"{rng.randrange(10**12, 10**13)}.JavaMail.zimbra@{domain}>"
            )
        if style in ("roundcube", "sieve"):
            return f"<{rng.getrandbits(128):032x}@{domain}>"
        if style == "gmail":
            alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
            return f"<CA{''.join(rng.choice(alphabet) for _ in range(44))}@mail.gmail.com>"
        return f"<{uuid.UUID(int=rng.getrandbits(128), version=4)}@{domain}>"

    def greeting(self) -> str:
        title = civility(self.request.persona_name)
        if title:
            return self.rng.choice((f"Bonjour {title},", f"{title},", "Bonjour,"))
        return self.rng.choice(("Bonjour,", "Madame, Monsieur,", "Bonjour Madame, Monsieur,"))

    def _signature(self, agent: Agent, *, full: bool) -> list[str]:
        voice = self.voice
        lines = [agent.name]
        if full:
            style = self.rng.randrange(3)
            if style >= 1:
                lines.append(agent.role)
            lines.append(f"{voice.service_name} - {voice.town_hall}")
            if style == 2:
                lines.append(f"Tél. : {voice.phone}")
        return lines

    def closing(self, agent: Agent, *, full: bool = True) -> list[str]:
        title = civility(self.request.persona_name) or "Madame, Monsieur"
        formula = self.rng.choice((*FORMULAS, FORMAL.format(civility=title)))
        lines = [formula]
        if formula.endswith("."):
            lines.append("")
        if self.voice.client == "thunderbird":
            lines += ["", "-- "]
        return lines + self._signature(agent, full=full)

    def topic(self) -> tuple[str, str]:
        return TOPICS.get(self.scenario.id, DEFAULT_TOPIC) if self.scenario else DEFAULT_TOPIC

    def sent_on(self) -> date:
        return self.sent.astimezone(self.tz).date()

    def quote(self) -> list[str]:
        req, voice = self.request, self.voice
        sent = self.sent.astimezone(self.tz)
        body = req.body.rstrip("\n").split("\n")
        name, address = req.persona_name, req.persona
        if voice.client == "outlook":
            head = self.rng.choice(("-----Message d'origine-----", "_" * 32))
            return [
                "",
                head,
                f"De : {name} <{address}>",
                f"Envoyé : {french_date(sent.date())} {sent:%H:%M}",
                f"À : {voice.service.address}",
                f"Objet : {req.subject}",
                "",
                *body,
            ]
        if voice.client == "zimbra":
            return [
                "",
                "----- Mail original -----",
                f'De: "{name}" <{address}>',
                f"À: {voice.service.address}",
                f"Envoyé: {french_date(sent.date()).capitalize()} {sent:%H:%M:%S}",
                f"Objet: {req.subject}",
                "",
                *body,
            ]
        if voice.client == "roundcube":
            head = f"Le {sent:%Y-%m-%d %H:%M}, {name} a écrit :"
        else:
            head = f"Le {sent:%d/%m/%Y à %H:%M}, {name} a écrit :"
        return ["", head, *[f"> {line}" if line else ">" for line in body]]

    # -- messages --

    def _envelope(
        self,
        *,
        sender_name: str,
        sender: str,
        to: str,
        subject: str,
        at: datetime,
        threaded: bool,
        style: str,
        automatic: bool,
        message_id: str | None,
        thread_of: str | None,
    ) -> tuple[EmailMessage, str]:
        msg = EmailMessage(policy=SMTP_POLICY)
        message_id = message_id or self._message_id(style)
        req = self.request
        written = at - timedelta(seconds=self.rng.randint(2, 40) if not automatic else 1)
        msg["Date"] = format_datetime(written.astimezone(self.tz))
        msg["From"] = f"{sender_name} <{sender}>" if sender_name else sender
        if "@" not in to:  # a group: everyone in Bcc (« undisclosed-recipients:; »)
            msg["To"] = to
        else:
            msg["To"] = f"{req.persona_name} <{to}>" if req.persona_name != to else to
        msg["Subject"] = subject
        msg["Message-ID"] = message_id
        if threaded and req.message_id:
            msg["In-Reply-To"] = req.message_id
            refs = [r for r in req.references if r != req.message_id]
            msg["References"] = " ".join((*refs, req.message_id))
        elif thread_of:  # a ticket system's own thread, not ours
            msg["In-Reply-To"] = thread_of
            msg["References"] = thread_of
        if style in ("outlook", "exchange"):
            msg["Thread-Topic"] = REPLY_PREFIX.sub("", req.subject)
            msg["Thread-Index"] = "AdyS" + f"{self.rng.getrandbits(96):024x}"
            msg["Content-Language"] = "fr-FR"
            if style == "outlook":
                msg["X-Mailer"] = "Microsoft Outlook 16.0"
            else:  # the server writes it: Exchange's empty MAPI headers, as real ones carry
                msg["X-MS-Has-Attach"] = ""
                msg["X-MS-TNEF-Correlator"] = ""
        elif style == "thunderbird":
            msg["User-Agent"] = "Mozilla Thunderbird"
            msg["Content-Language"] = "fr"
        elif style == "zimbra":
            msg["X-Mailer"] = "Zimbra 9.0.0_GA_4546 (ZimbraWebClient - FF115 (Linux)/9.0.0_GA)"
            msg["Thread-Topic"] = REPLY_PREFIX.sub("", req.subject)
        elif style == "roundcube":
            msg["User-Agent"] = "Roundcube Webmail/1.6.5"
        msg["MIME-Version"] = "1.0"
        return msg, message_id

    def _body(self, msg: EmailMessage, lines: list[str], *, html_part: bool) -> None:
        text = "\n".join(lines).rstrip("\n") + "\n"
        msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
        if html_part:
            paragraphs = "\n".join(
                f"<p>{'<br>'.join(html.escape(line) for line in block.split(chr(10)))}</p>"
                for block in text.split("\n\n")
            )
            msg.add_alternative(
                f'<html><head><meta charset="utf-8"></head><body>{paragraphs}</body></html>\n',
                subtype="html",
                charset="utf-8",
                cte="quoted-printable",
            )

    def reply_subject(self, threaded: bool, subject_of_new: str) -> str:
        if not threaded:
            return subject_of_new
        original = self.request.subject
        if REPLY_PREFIX.match(original):
            return original
        return self.voice.prefix + original

    def reply_address(self) -> str:
        return self.request.reply_to or self.request.persona

    def finish(
        self,
        text: list[str],
        *,
        sender_name: str,
        sender: str,
        to: str,
        subject: str,
        planned: PlannedReaction,
        style: str,
        included: tuple[str, ...] = (),
        omitted: tuple[str, ...] = (),
        headers: Sequence[tuple[str, str]] = (),
        return_path: str | None = None,
        threaded: bool | None = None,
        thread_of: str | None = None,
        message_id: str | None = None,
        html: str | None = None,
        form: str = "",
        recipient: str | None = None,
    ) -> Written:
        """The message from its lines: the envelope, ``headers`` (an auto-responder's or a
        mailing platform's, as given), the body (``html`` as its HTML alternative, else one
        for Outlook and Zimbra people), the provider's trace. ``return_path`` None is the
        sender, "" the null path; ``threaded`` None is as planned; ``thread_of`` a thread of
        the sender's own (a ticket system's) when not threaded to our request; ``recipient``
        the address it is delivered to when ``to`` (the header) does not name it (Bcc)."""
        threaded = planned.threaded if threaded is None else threaded
        msg, message_id = self._envelope(
            sender_name=sender_name,
            sender=sender,
            to=to,
            subject=subject,
            at=planned.at,
            threaded=threaded,
            style=style,
            automatic=planned.automatic,
            message_id=message_id,
            thread_of=thread_of,
        )
        for name, value in headers:
            msg[name] = value
        if html is not None:
            self._body(msg, text, html_part=False)
            msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
        else:
            person = style in ("outlook", "zimbra") and not planned.automatic
            self._body(msg, text, html_part=person)
        if msg.is_multipart():
            # The email package draws boundaries from the global generator: the seed's instead,
            # so the same seed writes the same bytes.
            msg.set_boundary(f"----=_Part_{self.rng.getrandbits(64):016x}")
        raw = as_delivered(
            msg.as_bytes(),
            return_path=sender if return_path is None else return_path,
            recipient=recipient or to,
            relay=f"mx.{sender.rsplit('@', 1)[-1]}",
            at=planned.at,
            rng=self.rng,
            spam=planned.mailbox == "Junk",
        )
        return Written(raw, message_id, sender, recipient or to, subject, included, omitted,
                       threaded, form)  # fmt: skip


def as_delivered(
    raw: bytes,
    *,
    return_path: str,
    recipient: str,
    relay: str | None,
    at: datetime,
    rng: random.Random,
    spam: bool,
) -> bytes:
    """``raw`` with the trace headers the persona's provider adds when it delivers it."""
    domain = recipient.rsplit("@", 1)[-1]
    stamp = format_datetime(at.astimezone(UTC))
    queue_id = f"{rng.getrandbits(40):010X}"
    received = (
        f"Received: from {relay} ({relay} [192.0.2.{rng.randrange(2, 250)}])\r\n"
        f"\tby mx.{domain} (Postfix) with ESMTPS id {queue_id}\r\n"
        f"\tfor <{recipient}>; {stamp}\r\n"
        if relay
        else f"Received: by mx.{domain} (Postfix) id {queue_id}; {stamp}\r\n"
    )
    trace = f"Return-Path: <{return_path}>\r\nDelivered-To: {recipient}\r\n{received}"
    if spam:
        # The provider's filter files it in Junk; rspamd leaves these headers (no verdict
        # flag that a reader would mistake for an X-Spam-Flag from the sender).
        score = rng.uniform(6.0, 9.5)
        trace += f"X-Spamd-Result: default: False [{score:.2f} / 15.00]\r\nX-Spam: Yes\r\n"
    return trace.encode() + raw
