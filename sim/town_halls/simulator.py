"""Simulated town halls: the services that react to the personas' requests, in simulated time.

    persona --SMTP--> SmtpProvider --on_message (provider thread)--> arrivals queue
                      (dead address, RCPT mode: the provider refuses with 550, truth records it)
    pump_async(now) --drain arrivals--> Incoming.parse; the scenario from the demo's resolver,
              else recognised from the wording (recognise.py)
              --decide (profiles.decide: outcome, instants, elements, threading)-->
              --compose each planned reaction (compose.py: human, automatic, tickets, mailings,
              bounces), record each decision in the truth--> schedule by simulated instant
    pump_async(now) --due reactions--> IMAP APPEND (aioimaplib, mailboxes.py) into the
              persona's mailbox (INBOX or Junk) with INTERNALDATE = the reaction's instant, one
              connection per mailbox user for the pump; read the INTERNALDATE back, record the
              delivery in the truth

Simulate a period in the past: Dovecot replaces an INTERNALDATE later than its own clock with
its own clock. The simulator records the date the server kept (the truth is what the mailbox
says), logs a warning and counts it in ``clamped_dates``.

``on_message`` runs in one of the provider's threads: it only stamps the arrival with the
simulated clock and queues it; everything else happens in ``pump_async``, which one caller at a
time runs (the demo from its loop, ``run`` on a timer). ``pump`` is the same for synchronous
callers: it runs ``pump_async`` on a loop of its own in a worker thread, so it also works from
inside a running loop (never at the same time as ``pump_async``). A request is handled once per
(Message-ID, service); a persona's follow-up in the same thread gets no new reaction (it is
kept in ``followups``).

What the services write is what such mail looks like in France (see writer.py and voices.py):
a mail client per service with its own subject prefix, quote style and headers; a few agents per
service with their roles and signatures; answers that contain exactly the expected elements
chosen by the profile; automatic acknowledgements and absence replies in the headers of the
service's platform or ticket system (RFC 3834), absence replies from a client rule without any
header, answers written in a ticket system's own thread, redirects, and delivery reports
(RFC 3464: failures, delays, successes) from the persona's provider's MAILER-DAEMON. And the
mail that answers nothing: the town's newsletter (after a persona's first request to the
town), platform notifications, spam (decided by the profiles too, recorded as kind ``other``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import heapq
import itertools
import logging
import queue
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from scenarios.catalog import Catalog, Scenario
from scenarios.clock import Clock
from sim.decisions import Decision, Request, decide
from sim.dovecot import DovecotServer
from sim.profiles import DeadAddress, SimulatedService, request_rng
from sim.smtp_provider import ReceivedMessage, SmtpProvider
from sim.town_halls.compose import compose
from sim.town_halls.incoming import Incoming
from sim.town_halls.mailboxes import Mailboxes
from sim.town_halls.recognise import ScenarioRecogniser
from sim.town_halls.voices import voice_of
from sim.town_halls.writer import Writer
from sim.truth.journal import Truth
from sim.truth.records import TruthReaction

log = logging.getLogger(__name__)

_BOUNCE_MODES = {"failed": "dsn", "delayed": "delayed"}  # the truth's bounce_mode


@dataclass(frozen=True)
class ContactInfo:
    """What the demo knows about a request, found from its Message-ID."""

    scenario_id: str | None
    contact_id: str | None = None


Resolver = Callable[[str], ContactInfo | None]


@dataclass(frozen=True)
class Delivery:
    """A reaction put into a persona's mailbox."""

    reaction: TruthReaction
    raw: bytes


@dataclass(frozen=True)
class _Arrival:
    item: ReceivedMessage
    received_at: datetime


@dataclass(frozen=True)
class _Scheduled:
    reaction_id: str
    user: str
    mailbox: str
    raw: bytes


class SimulatedCollectivities:
    """Town-hall services answering the personas, in simulated time, into real mailboxes.

    ``profiles`` maps each service address to the service it is; ``persona_mailboxes`` maps
    each persona address to its Dovecot user (sub-addresses ``local+token@domain`` reach the
    same user). ``resolve`` (optional) maps a request's Message-ID to what the demo knows of
    the contact; without it, or when it knows nothing, the scenario is recognised from the
    request's wording.
    """

    def __init__(
        self,
        provider: SmtpProvider,
        dovecot: DovecotServer,
        clock: Clock,
        profiles: Mapping[str, SimulatedService],
        persona_mailboxes: Mapping[str, str],
        catalog: Catalog,
        seed: int | str,
        *,
        resolve: Resolver | None = None,
        truth: Truth | None = None,
        subaddress_separator: str = "+",
    ) -> None:
        self.provider = provider
        self.dovecot = dovecot
        self.clock = clock
        self.services = {address.lower(): s for address, s in profiles.items()}
        self.persona_mailboxes = {a.lower(): user for a, user in persona_mailboxes.items()}
        self.catalog = catalog
        self.seed = seed
        self.resolve = resolve
        self.truth = truth if truth is not None else Truth()
        self.separator = subaddress_separator
        self.followups: list[str] = []
        self.clamped_dates = 0  # deliveries whose INTERNALDATE the server did not keep
        self._recogniser = ScenarioRecogniser(catalog)
        self._voices = {a: voice_of(s, seed) for a, s in self.services.items()}
        self._arrivals: queue.SimpleQueue[_Arrival] = queue.SimpleQueue()
        self._pending: list[tuple[datetime, int, _Scheduled]] = []
        self._sequence = itertools.count()
        self._handled: set[tuple[str, str]] = set()
        self._requests: dict[str, str] = {}  # our Message-ID -> service address
        self._towns: set[tuple[str, str]] = set()  # (persona, domain) that wrote to a town
        self._pump_lock = asyncio.Lock()
        self._previous = provider.on_message
        provider.on_message = self._on_message
        provider.rules.append(self._rcpt_rule)

    def detach(self) -> None:
        """Stop listening to the provider (what is queued can still be pumped)."""
        if self.provider.on_message == self._on_message:
            self.provider.on_message = self._previous
        if self._rcpt_rule in self.provider.rules:
            self.provider.rules.remove(self._rcpt_rule)

    # -- provider threads --

    def _on_message(self, item: ReceivedMessage) -> None:
        self._arrivals.put(_Arrival(item, self.clock.now()))
        if self._previous is not None:
            self._previous(item)

    def _rcpt_rule(self, stage: str, address: str, attempt: int) -> str | None:
        service = self.services.get(address.lower())
        if stage != "RCPT" or service is None or service.profile.dead is not DeadAddress.RCPT:
            return None
        reply = f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        self.truth.record_refusal(address, self.clock.now(), reply, attempt)
        return reply

    # -- pumping --

    @property
    def pending(self) -> int:
        """Reactions decided and not delivered yet."""
        return len(self._pending)

    def next_due(self) -> datetime | None:
        pending = self._pending
        return pending[0][0] if pending else None

    async def pump_async(self, now: datetime | None = None) -> list[Delivery]:
        """Decide on new requests, then deliver every reaction due at ``now``."""
        async with self._pump_lock:
            while True:
                try:
                    arrival = self._arrivals.get_nowait()
                except queue.Empty:
                    break
                self._handle(arrival)
            instant = now if now is not None else self.clock.now()
            delivered: list[Delivery] = []
            async with Mailboxes(self.dovecot) as mailboxes:
                while self._pending and self._pending[0][0] <= instant:
                    item = heapq.heappop(self._pending)
                    at, _, scheduled = item
                    try:
                        kept = await mailboxes.append(
                            scheduled.user, scheduled.mailbox, scheduled.raw, at
                        )
                    except Exception:
                        heapq.heappush(self._pending, item)  # not delivered: try again later
                        raise
                    stored = kept.internal_date
                    if stored != at:
                        self.clamped_dates += 1
                        log.warning(
                            "Dovecot stored INTERNALDATE %s instead of %s for %s: it replaces "
                            "dates after its own clock with its own clock; simulate a period "
                            "in the past",
                            stored.isoformat(),
                            at.isoformat(),
                            scheduled.reaction_id,
                        )
                    reaction = self.truth.record_delivery(
                        scheduled.reaction_id,
                        stored,
                        mailbox=scheduled.mailbox,
                        uidvalidity=kept.uidvalidity,
                        uid=kept.uid,
                    )
                    delivered.append(Delivery(reaction, scheduled.raw))
            return delivered

    def pump(self, now: datetime | None = None) -> list[Delivery]:
        """``pump_async`` for synchronous callers, on its own loop in a worker thread."""
        with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="town-halls") as pool:
            return pool.submit(asyncio.run, self.pump_async(now)).result()

    async def run(self, stop: asyncio.Event, interval: float = 0.1) -> None:
        """Pump every ``interval`` real seconds until ``stop`` is set."""
        while not stop.is_set():
            await self.pump_async()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
        await self.pump_async()

    # -- deciding --

    def _mailbox_user(self, address: str) -> str | None:
        address = address.lower()
        user = self.persona_mailboxes.get(address)
        if user is None and self.separator in address.split("@", 1)[0]:
            local, domain = address.split("@", 1)
            user = self.persona_mailboxes.get(f"{local.split(self.separator, 1)[0]}@{domain}")
        return user

    def _handle(self, arrival: _Arrival) -> None:
        try:
            request = Incoming.parse(arrival.item)
        except Exception:  # a request we cannot read gets no reaction; say so
            log.exception("unreadable request from %s", arrival.item.mail_from)
            return
        for recipient in arrival.item.recipients:
            address = recipient.lower()
            service = self.services.get(address)
            if service is None:
                continue
            key = (request.message_id or "", address)
            if key in self._handled:
                continue
            self._handled.add(key)
            if any(self._requests.get(ref) == address for ref in request.references):
                self.followups.append(request.message_id or "")
                continue
            if request.message_id:
                self._requests[request.message_id] = address
            self._react(service, request, arrival.received_at)

    def _react(self, service: SimulatedService, request: Incoming, received: datetime) -> None:
        info = self.resolve(request.message_id) if self.resolve and request.message_id else None
        scenario: Scenario | None = None
        if info is not None and info.scenario_id:
            scenario = self.catalog.scenarios.get(info.scenario_id)
        if scenario is None:
            scenario = self._recogniser.recognise(request.subject, request.body)
        elements = tuple(e.id for e in scenario.expected_elements) if scenario else ()
        rng = request_rng(self.seed, service.address, request.message_id)
        town = (request.persona, service.address.rsplit("@", 1)[-1].lower())
        first_contact = town not in self._towns
        self._towns.add(town)
        decision = decide(
            service.profile, Request(received, elements, first_contact), service.calendar, rng
        )
        base = TruthReaction(
            reaction_id="",
            contact_message_id=request.message_id,
            service=service.address.lower(),
            persona=request.persona,
            kind="none",
            received_at=decision.received_at,
            profile=service.profile.key,
            outcome=decision.outcome.value if decision.outcome else None,
            scenario_id=scenario.id if scenario else None,
            contact_id=info.contact_id if info else None,
        )
        if not decision.reactions:
            self.truth.record_decision(replace(base, reaction_id=f"none:{request.message_id}:"
                                             f"{service.address.lower()}"))  # fmt: skip
            return
        self._schedule(service, request, scenario, decision, base)

    def _schedule(
        self,
        service: SimulatedService,
        request: Incoming,
        scenario: Scenario | None,
        decision: Decision,
        base: TruthReaction,
    ) -> None:
        voice = self._voices[service.address.lower()]
        for index, planned in enumerate(decision.reactions):
            rng = random.Random(
                f"{self.seed}|write|{service.address.lower()}|{request.message_id}|{index}"
            )
            written = compose(Writer(voice, request, scenario, rng, base.received_at), planned)
            user = self._mailbox_user(written.recipient)
            if user is None:
                log.warning("no mailbox for %s: reaction dropped", written.recipient)
                continue
            self.truth.record_decision(
                replace(
                    base,
                    reaction_id=written.message_id,
                    kind=planned.kind,
                    planned_at=planned.at,
                    reaction_message_id=written.message_id,
                    sender=written.sender,
                    recipient=written.recipient,
                    subject=written.subject,
                    threaded=written.threaded,
                    automatic=planned.automatic,
                    other_agent=planned.other_agent,
                    included=written.included,
                    omitted=written.omitted,
                    mailbox=planned.mailbox,
                    mailbox_user=user,
                    bounce_mode=_BOUNCE_MODES.get(planned.form)
                    if planned.kind == "bounce"
                    else None,
                    form=written.form or None,
                )
            )
            scheduled = _Scheduled(written.message_id, user, planned.mailbox, written.raw)
            heapq.heappush(self._pending, (planned.at, next(self._sequence), scheduled))
