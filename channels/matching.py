"""Which contact does an incoming message belong to, and how sure are we? Pure code, no I/O.

Methods, tried in this order; the first that points at exactly one contact decides:

==================  ==========  ======================================================
method              confidence  evidence
==================  ==========  ======================================================
own_copy            1.0         From is the persona and the Message-ID is one we sent
                                (the provider's blind copy): never a reply
thread              1.0         one of our Message-IDs in In-Reply-To, else References
reply_token         1.0         ``persona+TOKEN@domain`` in To, Cc, Delivered-To,
                                X-Original-To or Envelope-To
bounce_original     1.0         a bounce returning one of our Message-IDs
sender_address      0.9         From (for a bounce: the failed recipient) is the
                                service's address, and exactly one open contact of the
                                persona writes to that service
sender_subject      0.8         as above but several open contacts, of which exactly one
                                has a similar subject
sender_domain       0.7         the sender's domain is the service's (not a public
                                webmail), and the persona has exactly one open contact
                                with that collectivity
domain_subject      0.7         as above but several open contacts there, of which
                                exactly one has a similar subject
subject             0.6         a similar subject (« Re : », « TR : », "Fwd:", « Relance : »
                                stripped, case and accents folded) in exactly one open
                                contact
==================  ==========  ======================================================

Heuristics only consider *open* contacts (``sent`` or ``acknowledged``) sent before the
message was received (its INTERNALDATE); header and token methods prove the link by themselves.
A result below the threshold (setting ``tracking.match_threshold``, default 0.7) is not a match:
the message goes to triage with its suggestions, never to a guess. So is an ambiguous one.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from itertools import islice

from channels.classify import BounceInfo
from channels.content import fold
from channels.mime import ParsedMessage

OPEN_STATUSES = frozenset({"sent", "acknowledged"})

# Addresses at these domains say nothing about which collectivity wrote.
PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "orange.fr", "wanadoo.fr", "free.fr", "laposte.net",
        "sfr.fr", "neuf.fr", "club-internet.fr", "bbox.fr", "numericable.fr", "aliceadsl.fr",
        "hotmail.com", "hotmail.fr", "live.fr", "live.com", "outlook.com", "outlook.fr",
        "msn.com", "yahoo.com", "yahoo.fr", "aol.com", "aol.fr", "icloud.com", "me.com",
        "gmx.fr", "gmx.com", "protonmail.com", "proton.me", "mailo.com", "netcourrier.com",
    }
)  # fmt: skip

_PREFIX = re.compile(
    r"^\s*(?:(?:re|tr|fwd?|aw|wg|sv|vs|rep|reponse|ref|transfert|relance)\s*(?:\[\d+\]|\(\d+\))?"
    r"\s*:\s*|\[[^\]]{0,40}\]\s*)"
)
_NOT_WORD = re.compile(r"[^\w]+")
SUBJECT_SIMILARITY = 0.85
_SUGGESTIONS = 10  # kept with an unmatched message
TOKEN_HEADERS = ("to", "cc", "delivered-to", "x-original-to", "envelope-to")
_ADDRESS = re.compile(r"[\w.+'=-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+")


def normalise_subject(subject: str) -> str:
    """« RE : TR: Relance : Demande d'acte » -> "demande d acte"."""
    text = fold(subject or "")
    while True:
        stripped = _PREFIX.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    return " ".join(_NOT_WORD.sub(" ", text).split())


@lru_cache(maxsize=65_536)
def similar_subjects(a: str, b: str) -> bool:
    """Both already normalised. Cached: a persona's contacts share a few subjects."""
    if not a or not b:
        return False
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    if len(short) >= 12 and short in long_:
        return True
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return (
        matcher.real_quick_ratio() >= SUBJECT_SIMILARITY
        and matcher.quick_ratio() >= SUBJECT_SIMILARITY
        and matcher.ratio() >= SUBJECT_SIMILARITY
    )


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[-1].strip().lower().rstrip(".")


@dataclass(frozen=True, slots=True)
class ContactRef:
    """What matching needs to know of a contact."""

    id: int
    status: str
    sent_at: datetime | None
    message_id: str | None
    followup_message_id: str | None
    reply_token: str | None
    service_id: int
    service_email: str | None
    collectivity_id: int
    subjects: tuple[str, ...] = ()  # normalised subjects we sent


@dataclass(frozen=True, slots=True)
class Suggestion:
    contact_id: int
    method: str
    confidence: float


@dataclass(frozen=True, slots=True)
class MatchResult:
    contact_id: int | None
    method: str | None
    confidence: float | None
    suggestions: tuple[Suggestion, ...] = ()
    reason: str = ""
    own_copy: bool = False

    @property
    def matched(self) -> bool:
        return self.contact_id is not None


# Positions in ``MatchIndex.contacts`` (ascending) of contacts open when the pool was built,
# and the latest of their sending times.
_Pool = tuple[list[int], datetime | None]


@dataclass
class MatchIndex:
    """The persona's contacts, indexed for one batch of messages."""

    persona_email: str
    separator: str | None
    contacts: Sequence[ContactRef]
    by_message_id: dict[str, ContactRef] = field(init=False)
    by_token: dict[str, ContactRef] = field(init=False)
    by_service_email: dict[str, list[ContactRef]] = field(init=False)
    by_domain: dict[str, list[ContactRef]] = field(init=False)

    def __post_init__(self) -> None:
        self._contacts = list(self.contacts)
        self.contacts = self._contacts
        self._positions = {contact.id: n for n, contact in enumerate(self.contacts)}
        self.by_message_id = {}
        self.by_token = {}
        self.by_service_email = defaultdict(list)
        self.by_domain = defaultdict(list)
        for contact in self.contacts:
            for mid in (contact.message_id, contact.followup_message_id):
                if mid:
                    self.by_message_id[mid.strip().lower()] = contact
            if contact.reply_token:
                self.by_token[contact.reply_token.lower()] = contact
            if contact.service_email:
                email = contact.service_email.strip().lower()
                self.by_service_email[email].append(contact)
                self.by_domain[domain_of(email)].append(contact)
        local, _, domain = self.persona_email.strip().lower().rpartition("@")
        self._local, self._domain = local, domain
        self._by_subject: dict[str, list[int]] | None = None
        self._pools: dict[str, tuple[_Pool, _Pool]] = {}

    def contact(self, contact_id: int) -> ContactRef | None:
        position = self._positions.get(contact_id)
        return None if position is None else self._contacts[position]

    def update(self, contact: ContactRef) -> None:
        """Put a contact's new state in place of its old one (its status moved, or one of our
        sent copies showed another subject): the index is then the one built over the
        contacts as they are now, for the messages that follow in the same batch."""
        position = self._positions.get(contact.id)
        if position is None:
            return
        old = self._contacts[position]
        self._contacts[position] = contact
        for mid in (old.message_id, old.followup_message_id):
            if mid and self.by_message_id.get(key := mid.strip().lower()) is old:
                self.by_message_id[key] = contact
        if old.reply_token and self.by_token.get(key := old.reply_token.lower()) is old:
            self.by_token[key] = contact
        if old.service_email:
            email = old.service_email.strip().lower()
            for found in (self.by_service_email.get(email), self.by_domain.get(domain_of(email))):
                if found is not None:
                    found[:] = [contact if ref is old else ref for ref in found]
        if contact.subjects != old.subjects:
            self._by_subject = None
            self._pools.clear()
        elif contact.status in OPEN_STATUSES and old.status not in OPEN_STATUSES:
            self._pools.clear()  # pools hold the contacts that were open when built
        # Otherwise the pools stand: they are read through positions, statuses as they are.

    def _subject_positions(self) -> dict[str, list[int]]:
        """Positions in ``contacts`` (ascending) of the contacts that sent each subject."""
        if self._by_subject is None:
            self._by_subject = defaultdict(list)
            for position, contact in enumerate(self.contacts):
                for subject in dict.fromkeys(contact.subjects):
                    self._by_subject[subject].append(position)
        return self._by_subject

    def _open_with_subject(self, subject: str, received_at: datetime) -> list[ContactRef]:
        """``by_subject(self._open(self.contacts, received_at))`` of ``_heuristics``, for a
        non-empty subject, from the subject index rather than a pass over every contact: the
        contacts sending ``subject``, else those sending a subject similar to it, in
        ``contacts`` order, open ones only. Similar subjects are looked for among all the
        persona's subjects, once per subject; a contact's own subjects are among them, so it
        qualifies exactly when it would among the open contacts' subjects."""
        exact, near = self._subject_pools(subject)
        found = self._sent_by(exact, received_at)
        if found or not near[0]:
            return found
        return self._sent_by(near, received_at)

    def _subject_pools(self, subject: str) -> tuple[_Pool, _Pool]:
        """The open contacts that sent ``subject``, and those that sent a similar one."""
        pools = self._pools.get(subject)
        if pools is None:
            positions = self._subject_positions()
            alike = [s for s in positions if similar_subjects(subject, s)]
            near = sorted({p for s in alike for p in positions[s]})
            pools = (self._pool(positions.get(subject, ())), self._pool(near))
            self._pools[subject] = pools
        return pools

    def _pool(self, positions: Iterable[int]) -> _Pool:
        contacts = self._contacts
        found = [p for p in positions if contacts[p].status in OPEN_STATUSES]
        found = [p for p in found if contacts[p].sent_at is not None]
        sent = (contacts[p].sent_at for p in found)
        return found, max((t for t in sent if t is not None), default=None)

    def _sent_by(self, pool: _Pool, received_at: datetime) -> list[ContactRef]:
        """``_open`` of the pool's contacts: all of them (still open, see ``update``) when
        the last was sent in time."""
        positions, last_sent = pool
        contacts = self._contacts
        if last_sent is not None and last_sent <= received_at:
            return [c for p in positions if (c := contacts[p]).status in OPEN_STATUSES]
        return [
            c
            for p in positions
            if (c := contacts[p]).status in OPEN_STATUSES
            and c.sent_at is not None
            and c.sent_at <= received_at
        ]

    # -- own copies --------------------------------------------------------------------------

    def own_copy(self, parsed: ParsedMessage) -> ContactRef | None:
        sender = parsed.from_.address.strip().lower() if parsed.from_ else ""
        if sender != self.persona_email.strip().lower() or not parsed.message_id:
            return None
        return self.by_message_id.get(parsed.message_id.strip().lower())

    # -- matching ----------------------------------------------------------------------------

    def match(
        self,
        parsed: ParsedMessage,
        received_at: datetime,
        *,
        bounce: BounceInfo | None = None,
        threshold: float = 0.7,
    ) -> MatchResult:
        own = self.own_copy(parsed)
        if own is not None:
            return MatchResult(own.id, "own_copy", 1.0, reason="our own sent email", own_copy=True)
        for decided in (self._thread(parsed), self._token(parsed), self._bounce(bounce)):
            if decided is not None:
                return decided
        return self._heuristics(parsed, received_at, bounce, threshold)

    def _thread(self, parsed: ParsedMessage) -> MatchResult | None:
        ids = [parsed.in_reply_to] if parsed.in_reply_to else []
        ids += list(reversed(parsed.references))
        for mid in ids:
            contact = self.by_message_id.get(mid.strip().lower())
            if contact is not None:
                header = "In-Reply-To" if mid == parsed.in_reply_to else "References"
                return MatchResult(contact.id, "thread", 1.0, reason=f"{header} {mid}")
        return None

    def _token(self, parsed: ParsedMessage) -> MatchResult | None:
        if not self.separator or not self.by_token:
            return None
        prefix = self._local + self.separator.lower()
        for name in TOKEN_HEADERS:
            for value in parsed.header_all(name):
                for address in _ADDRESS.findall(value):
                    local, _, domain = address.lower().rpartition("@")
                    if domain != self._domain or not local.startswith(prefix):
                        continue
                    contact = self.by_token.get(local[len(prefix) :])
                    if contact is not None:
                        return MatchResult(contact.id, "reply_token", 1.0, reason=f"{name} token")
        return None

    def _bounce(self, bounce: BounceInfo | None) -> MatchResult | None:
        if bounce is None or not bounce.original_message_id:
            return None
        contact = self.by_message_id.get(bounce.original_message_id.strip().lower())
        if contact is None:
            return None
        return MatchResult(
            contact.id, "bounce_original", 1.0, reason=f"returns {bounce.original_message_id}"
        )

    def _open(self, contacts: Iterable[ContactRef], received_at: datetime) -> list[ContactRef]:
        return [
            c
            for c in contacts
            if c.status in OPEN_STATUSES and c.sent_at is not None and c.sent_at <= received_at
        ]

    def _heuristics(
        self,
        parsed: ParsedMessage,
        received_at: datetime,
        bounce: BounceInfo | None,
        threshold: float,
    ) -> MatchResult:
        subject = normalise_subject(parsed.subject)
        suggestions: list[Suggestion] = []

        def decide(contact: ContactRef, method: str, confidence: float, why: str) -> MatchResult:
            if confidence >= threshold:
                return MatchResult(contact.id, method, confidence, reason=why)
            found = Suggestion(contact.id, method, confidence)
            return MatchResult(None, None, None, (*suggestions, found), f"{why}: below threshold")

        def by_subject(pool: Sequence[ContactRef]) -> list[ContactRef]:
            exact = [c for c in pool if subject in c.subjects]
            if exact or not subject:
                return exact
            # Contacts share a few subjects: compare each distinct one once.
            distinct = {s for c in pool for s in c.subjects}
            alike = {s for s in distinct if similar_subjects(subject, s)}
            return [c for c in pool if not alike.isdisjoint(c.subjects)] if alike else []

        if bounce is not None and bounce.recipient:
            sender, method = bounce.recipient.strip().lower(), "bounce_recipient"
        else:
            sender = parsed.from_.address.strip().lower() if parsed.from_ else ""
            method = "sender_address"
        if sender:
            same = self._open(self.by_service_email.get(sender, ()), received_at)
            if len(same) == 1:
                return decide(same[0], method, 0.9, f"{method} {sender}")
            if len(same) > 1:
                narrowed = by_subject(same)
                if len(narrowed) == 1:
                    return decide(narrowed[0], "sender_subject", 0.8, f"{sender} and subject")
                suggestions += [Suggestion(c.id, method, 0.9 / len(same)) for c in same]
            domain = domain_of(sender)
            if domain and domain not in PUBLIC_MAIL_DOMAINS and bounce is None:
                pool = self._open(self.by_domain.get(domain, ()), received_at)
                if len(pool) == 1:
                    return decide(pool[0], "sender_domain", 0.7, f"domain {domain}")
                narrowed = by_subject(pool)
                if len(narrowed) == 1:
                    return decide(narrowed[0], "domain_subject", 0.7, f"{domain} and subject")
                if pool and not suggestions:
                    suggestions += [
                        Suggestion(c.id, "sender_domain", 0.7 / len(pool)) for c in pool
                    ]
        if subject:
            pool = self._open_with_subject(subject, received_at)
            if len(pool) == 1:
                return decide(pool[0], "subject", 0.6, "similar subject")
            known = {s.contact_id for s in suggestions}
            fresh = (c for c in pool if c.id not in known)
            room = max(0, _SUGGESTIONS - len(suggestions))  # only the first ones are kept
            suggestions += [
                Suggestion(c.id, "subject", 0.6 / len(pool)) for c in islice(fresh, room)
            ]
        reason = "ambiguous" if suggestions else "no candidate"
        return MatchResult(None, None, None, tuple(suggestions[:_SUGGESTIONS]), reason)
