"""The mailbox watchers' glue: from raw IMAP messages to contacts timed to the second.

    watcher (channels/imap_watcher.py) ──deliver(batch)──► PersonaSink
        1. store raw bytes + advance the checkpoint (one transaction, storage/mail.py)
        2. parse + classify in worker processes (runners/analysis_pool.py: channels/mime.py,
           channels/classify.py); not an email at all → quarantined with its reason
        3. one transaction: claim the rows, match (channels/matching.py), record the effects
    deliver() returns after step 1 with steps 2–3 under way, so the watcher fetches the next
    batch meanwhile; batch n+1 is parsed while batch n is recorded, and recorded after it —
    with the batches that arrived meanwhile, in one transaction of up to ``record_batch``
    messages when recording falls behind. Within a transaction each message is matched
    against the contacts as the messages before it left them (``_landed``): where batches
    start and end changes nothing that is stored (tests/runners/test_ingest_batches.py).
    ``settle()`` waits for the queue and raises its error (the watcher then backs off; the
    rows stay stored, unprocessed, and ``pending()`` takes them up on the next connection).

A class the rules are unsure of, and mail classified ``other`` (it answers nothing: a town's
newsletter, a notification from its domain), are tied to a contact only by a match that names
our request (``CONFIRMING_MATCHES``); matched by a guess, they wait in triage with the guess
as a suggestion. The effects on the contact are pure and live in runners/effects.py; parsing
and classification in channels/analysis.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from channels.analysis import analyse
from channels.classify import KINDS, Classification
from channels.content_checks import AnswerText, check_answer
from channels.imap_session import FetchedMessage, ImapAccount
from channels.imap_watcher import MailboxWatcher, WatchConfig
from channels.matching import ContactRef, MatchIndex, normalise_subject
from channels.mime import ParsedMessage
from runners import accounts
from runners.analysis_pool import Analysed, AnalysisPool
from runners.effects import Reply, reply_effect, status_after
from runners.secrets import SecretError
from runners.tracking_rows import (
    Item,
    ProcessReport,
    add_report,
    confirmed,
    evidence_of,
    match_evidence,
    only_confirmed,
    result_row,
)
from scenarios.calendar import BusinessCalendar
from scenarios.catalog import Catalog, Scenario, UnknownScenario
from scenarios.clock import Clock
from scenarios.i18n import Translator
from scenarios.render import CollectivityView, PersonaView, ServiceView, render_wording
from storage import mail, mail_census, mail_match, triage
from storage.db import Database
from storage.mail import ContactView, EventRow, MessageResult, RawMessage
from storage.mail_match import MatchRow
from storage.personas import PersonaInfo

log = logging.getLogger("temoin.tracking")


@dataclass(frozen=True)
class TrackingConfig:
    watch: WatchConfig = field(default_factory=WatchConfig)
    match_threshold: float = 0.7
    persona_refresh_seconds: float = 600.0
    # Processes that parse and classify (runners/analysis_pool.py); 0: a thread of this one.
    parse_workers: int = 0
    # At most this many messages in one recording transaction (several fetched batches when
    # recording falls behind); as many may wait, parsed or being parsed, behind it.
    record_batch: int = 400


class TriageError(Exception):
    """A triage decision that cannot be applied (unknown ids, wrong persona, too early).

    ``code`` and ``params`` name the case for the reader (``cli.triage.error.<code>``):
    ``unknown_kind``, ``no_message``, ``matched``, ``classified``, ``quarantined``,
    ``no_contact``, ``other_persona``, ``too_early``, ``changed``."""

    def __init__(self, message: str, code: str = "", /, **params: str | int) -> None:
        super().__init__(message)
        self.code = code
        self.params = params

    def said(self, t: Translator) -> str:
        """The refusal in the reader's language (``cli.triage.error.<code>``, a class by its
        catalogue label); its English words when it has no code."""
        if not self.code:
            return str(self)
        params = dict(self.params)
        if self.code == "classified":
            key = f"cli.kind.{params['kind'] or 'unknown'}"
            params["kind"] = t(key) if t.has(key) else str(params["kind"])
        return t(f"cli.triage.error.{self.code}", **params)


# -- the sink: one per persona mailbox -------------------------------------------------------


class PersonaSink:
    """The ``MailboxSink`` of one persona: storage first, then processing.

    Each delivered batch is stored, handed to the parsers, and queued; one recorder task takes
    the queue in order, as many batches at once as wait there (up to ``record_batch``
    messages): when recording falls behind, the next transaction holds several fetched
    batches, and what each transaction costs whatever its size (the persona's contacts read,
    the match index built, the claims, the commit) is paid once for all of them. A batch's
    matches see its earlier messages as they land (``_landed``), so where batches start and
    end changes nothing that is stored."""

    def __init__(self, tracker: Tracker, persona: PersonaInfo) -> None:
        self.tracker = tracker
        self.persona = persona
        self._queue: list[tuple[list[Item], asyncio.Future[list[Analysed]]]] = []
        self._taken = asyncio.Event()
        self._recording: asyncio.Task[None] | None = None

    async def last_uid(self, folder: str, uidvalidity: int) -> int:
        async with self.tracker.database.session() as session:
            return await mail.last_uid(session, self.persona.id, folder, uidvalidity)

    async def deliver(
        self, folder: str, uidvalidity: int, messages: Sequence[FetchedMessage], up_to: int
    ) -> None:
        items = [RawMessage.of(m.uid, m.internal_date, m.raw) for m in messages]
        async with self.tracker.database.session() as session:
            outcome = await mail.store_raw(
                session, persona_id=self.persona.id, mailbox=folder, uidvalidity=uidvalidity,
                items=items, up_to=up_to, now=self.tracker.clock.now(),
            )  # fmt: skip
        by_uid = {m.uid: m for m in items}
        batch = [
            Item(id_, folder, by_uid[uid].internal_date, by_uid[uid].raw, by_uid[uid].sha256)
            for id_, uid in outcome.to_process
            if uid in by_uid
        ]
        if not batch:
            return
        task = self._recording
        if task is not None and task.done():
            self._recording = None
            task.result()  # the recorder failed: raise it (the queue was dropped)
        analysing = asyncio.ensure_future(self.tracker.analyser.analyse([i.raw for i in batch]))
        self._queue.append((batch, analysing))
        if self._recording is None:
            self._recording = asyncio.create_task(self._record_queue())
        limit = self.tracker.config.record_batch
        while sum(len(b) for b, _ in self._queue) >= limit and not self._recording.done():
            self._taken.clear()  # enough waits already: let the recorder take some first
            taken = asyncio.ensure_future(self._taken.wait())
            await asyncio.wait({self._recording, taken}, return_when=asyncio.FIRST_COMPLETED)
            taken.cancel()

    async def _record_queue(self) -> None:
        """Record the queue in order, all that waits at once (up to ``record_batch``)."""
        limit = self.tracker.config.record_batch
        try:
            while self._queue:
                taken: list[tuple[list[Item], asyncio.Future[list[Analysed]]]] = []
                size = 0
                while self._queue and (not taken or size + len(self._queue[0][0]) <= limit):
                    taken.append(self._queue.pop(0))
                    size += len(taken[-1][0])
                self._taken.set()
                try:
                    analyses = [a for _batch, future in taken for a in await future]
                except BaseException:
                    for _batch, future in taken:
                        future.cancel()
                    raise
                items = [item for batch, _future in taken for item in batch]
                await self.tracker.record(self.persona, items, analyses)
        except BaseException:
            # What is left stays stored, unprocessed: ``pending()`` takes it up later.
            for _batch, future in self._queue:
                future.cancel()
            self._queue.clear()
            self._taken.set()
            raise

    async def settle(self) -> None:
        """Wait until what deliver() queued is recorded; raise what recording raised."""
        task, self._recording = self._recording, None
        if task is not None:
            await task

    async def census(self, folder: str, uidvalidity: int, server_count: int) -> int:
        async with self.tracker.database.session() as session:
            return await mail_census.record_census(
                session, self.persona.id, folder, uidvalidity, server_count,
                self.tracker.clock.now(),
            )  # fmt: skip

    async def missing(self, folder: str, uidvalidity: int, uids: Sequence[int]) -> list[int]:
        async with self.tracker.database.session() as session:
            stored = await mail_census.stored_uids(session, self.persona.id, folder, uidvalidity)
        return [uid for uid in uids if uid not in stored]

    async def pending(self) -> None:
        await self.tracker.process_pending(self.persona)


# -- the tracker -----------------------------------------------------------------------------


class Tracker:
    def __init__(
        self,
        database: Database,
        catalog: Catalog,
        clock: Clock,
        config: TrackingConfig | None = None,
    ) -> None:
        self.database = database
        self.catalog = catalog
        self.clock = clock
        self.config = config or TrackingConfig()
        self._subjects: dict[int, str | None] = {}
        self._refs: dict[int, tuple[tuple[Any, ...], ContactRef]] = {}
        self.watchers: dict[int, MailboxWatcher] = {}
        self.analyser = AnalysisPool(self.config.parse_workers)

    async def start(self) -> None:
        """What the first batch would otherwise pay for, done once beforehand, as ``temoin
        worker`` starts: the parser processes, and the holiday calendars (the first read
        imports the holidays library's data, a few tenths of a second)."""
        await self.analyser.start()
        year = self.clock.now().year
        await asyncio.to_thread(BusinessCalendar.for_departement("75").holidays, year)

    def close(self) -> None:
        """Stop the parser processes (started again when needed)."""
        self.analyser.close()

    # -- watchers --------------------------------------------------------------------------

    def account(self, persona: PersonaInfo) -> ImapAccount | None:
        """The persona's IMAP account, or None (no IMAP host, or its secret is missing)."""
        if not persona.imap_host or not persona.password_ref:
            return None
        try:
            return accounts.imap_account(persona, accounts.password(persona))
        except SecretError as exc:
            log.error("persona %s: mailbox not watched: %s", persona.key, exc)
            return None

    def watcher(self, persona: PersonaInfo, account: ImapAccount) -> MailboxWatcher:
        return MailboxWatcher(persona.key, account, PersonaSink(self, persona), self.config.watch)

    async def personas(self) -> list[PersonaInfo]:
        async with self.database.session() as session:
            return [p for p in await mail.persona_accounts(session) if p.imap_host]

    async def sync_all(self, *, census: bool = True) -> dict[str, str]:
        """One pass over every watched mailbox; returns the errors by persona key."""
        errors: dict[str, str] = {}
        for persona in await self.personas():
            account = self.account(persona)
            if account is None:
                errors[persona.key] = "no usable IMAP account"
                continue
            try:
                await self.watcher(persona, account).sync_once(census=census)
            except Exception as exc:  # one broken mailbox never stops the others
                errors[persona.key] = f"{type(exc).__name__}: {exc}"
                log.warning("persona %s: %s", persona.key, exc)
        return errors

    async def run(self, stop: asyncio.Event) -> None:
        """A watcher per persona mailbox until ``stop``; the persona list is re-read regularly."""
        running: dict[int, tuple[asyncio.Task[None], asyncio.Event, tuple[Any, ...]]] = {}
        try:
            await self.start()
            while not stop.is_set():
                try:
                    personas = await self.personas()
                except Exception as exc:  # the database is away: keep what runs
                    log.error("tracking: cannot read personas: %s", exc)
                    personas = None
                if personas is not None:
                    self._reconcile(personas, running)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.config.persona_refresh_seconds)
        finally:
            for _task, own_stop, _key in running.values():
                own_stop.set()
            tasks = [task for task, _, _ in running.values()]
            if tasks:
                _done, late = await asyncio.wait(tasks, timeout=15)
                for task in late:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.to_thread(self.close)

    def _reconcile(
        self,
        personas: Sequence[PersonaInfo],
        running: dict[int, tuple[asyncio.Task[None], asyncio.Event, tuple[Any, ...]]],
    ) -> None:
        wanted = {p.id: p for p in personas}
        for persona_id in list(running):
            task, own_stop, key = running[persona_id]
            persona = wanted.get(persona_id)
            if persona is None or _key(persona) != key or task.done():
                own_stop.set()
                del running[persona_id]
        for persona in personas:
            if persona.id in running:
                continue
            account = self.account(persona)
            if account is None:
                continue
            own_stop = asyncio.Event()
            watcher = self.watcher(persona, account)
            self.watchers[persona.id] = watcher
            task = asyncio.create_task(watcher.run(own_stop), name=f"watch:{persona.key}")
            running[persona.id] = (task, own_stop, _key(persona))

    # -- processing --------------------------------------------------------------------------

    async def process_pending(self, persona: PersonaInfo, limit: int = 200) -> int:
        """Process what was stored raw but not processed (a crash between the two steps)."""
        done = 0
        while True:
            async with self.database.session() as session:
                rows = await mail.pending_raw(session, persona.id, limit)
            if not rows:
                return done
            items = [Item(r.id, r.mailbox, r.internal_date, r.raw, r.sha256) for r in rows]
            await self.process(persona, items)
            done += len(items)
            if len(rows) < limit:
                return done

    async def process(self, persona: PersonaInfo, items: Sequence[Item]) -> ProcessReport:
        analyses = await self.analyser.analyse([item.raw for item in items])
        return await self.record(persona, items, analyses)

    async def record(
        self, persona: PersonaInfo, items: Sequence[Item], analyses: Sequence[Analysed]
    ) -> ProcessReport:
        """Record analysed messages: one transaction, else one per message."""
        try:
            async with self.database.session() as session:
                return await self._record(session, persona, items, analyses)
        except SQLAlchemyError as exc:
            if len(items) == 1:
                return await self._quarantine_unrecordable(items[0], exc)
            log.warning("persona %s: batch not recorded (%s); one by one", persona.key, exc)
        report = ProcessReport()
        for item, analysis in zip(items, analyses, strict=True):
            try:
                async with self.database.session() as session:
                    one = await self._record(session, persona, [item], [analysis])
            except SQLAlchemyError as exc:
                one = await self._quarantine_unrecordable(item, exc)
            add_report(report, one)
        return report

    async def _quarantine_unrecordable(self, item: Item, exc: Exception) -> ProcessReport:
        """A message whose results the database refuses: kept raw, quarantined with the reason.
        If even that fails, the database is away: raise, the watcher backs off."""
        reason = f"cannot record: {type(exc).__name__}: {str(exc)[:300]}"
        async with self.database.session() as session:
            if await mail.claim(session, [item.id]):
                await mail.save_results(session, [mail.quarantine(item.id, reason)])
        log.error("message %s quarantined: %s", item.id, reason)
        return ProcessReport(processed=1, quarantined=1)

    async def _record(
        self, session: AsyncSession, persona: PersonaInfo, items: Sequence[Item],
        analyses: Sequence[Analysed],
    ) -> ProcessReport:  # fmt: skip
        report = ProcessReport()
        claimed = await mail.claim(session, [item.id for item in items])
        todo = [(i, a) for i, a in zip(items, analyses, strict=True) if i.id in claimed]
        if not todo:
            return report
        contacts = await mail_match.persona_contacts(session, persona.id)
        own_subjects = await mail_match.own_copy_subjects(session, persona.id)
        index = MatchIndex(
            persona.email,
            persona.subaddress_separator,
            [self._ref(persona, c, own_subjects.get(c.id, ())) for c in contacts],
        )
        seen = await mail_match.seen_before(
            session, persona.id, [i.sha256 for i, _ in todo],
            [mid for _, a in todo if a.analysis.parsed and (mid := a.analysis.parsed.message_id)],
            [i.id for i, _ in todo],
        )  # fmt: skip
        by_sha = {s.raw_sha256: (s.id, s.contact_id) for s in seen}
        by_mid = {
            (s.message_id, s.from_address): (s.id, s.contact_id) for s in seen if s.message_id
        }
        results: list[MessageResult] = []
        replies: list[tuple[Reply, ParsedMessage, AnswerText | None]] = []
        threshold = self.config.match_threshold
        for item, analysed in todo:
            analysis = analysed.analysis
            report.processed += 1
            parsed, result = analysis.parsed, analysis.classification
            if parsed is None or result is None:
                results.append(mail.quarantine(item.id, analysis.quarantine_reason or "unknown"))
                report.quarantined += 1
                continue
            row = result_row(item, parsed, result, analysis.spam_flagged)
            sender = parsed.from_.address if parsed.from_ else None
            original = by_sha.get(item.sha256)
            if original is None and parsed.message_id:
                original = by_mid.get((parsed.message_id, sender))
            if original is not None:
                row.contact_id, row.match_method = original[1], "duplicate"
                row.match_confidence = 1.0 if original[1] is not None else None
                evidence_of(row)["duplicate_of"] = original[0]
                report.duplicates += 1
                results.append(row)
                continue
            match = index.match(
                parsed, item.internal_date, bounce=result.bounce, threshold=threshold
            )
            if result.kind == "other" and not match.own_copy:
                match = only_confirmed(match)
            evidence_of(row)["match"] = match_evidence(match)
            if match.own_copy:
                row.classification, row.direction = mail.OWN_COPY, "out"
                report.own_copies += 1
            if match.contact_id is not None and result.unsure and not match.own_copy:
                if confirmed(result, match):
                    # The rules could not vouch for the class, but the reply names our request
                    # (our Message-ID or its reply token): the match confirms it.
                    evidence_of(row)["unsure_confirmed_by"] = match.method
                else:
                    # Unsure, and matched only by a guess: a person decides (the suggested
                    # contact stays in the match evidence), nothing moves meanwhile.
                    evidence_of(row)["unsure"] = True
                    suggestions = evidence_of(row)["match"]["suggestions"]
                    if all(hint["contact"] != match.contact_id for hint in suggestions):
                        suggestions.insert(0, {"contact": match.contact_id, "method": match.method,
                                               "confidence": match.confidence})  # fmt: skip
                    row.triage_state = mail.PENDING
                    report.triage += 1
                    report.by_kind[row.classification] = (
                        report.by_kind.get(row.classification, 0) + 1
                    )
                    by_sha[item.sha256] = (item.id, row.contact_id)  # as stored: seen before
                    if parsed.message_id:
                        by_mid[(parsed.message_id, sender)] = (item.id, row.contact_id)
                    results.append(row)
                    continue
            if match.contact_id is None:
                if result.unsure:
                    evidence_of(row)["unsure"] = True
                row.triage_state = mail.PENDING
                report.triage += 1
            else:
                row.contact_id, row.match_method = match.contact_id, match.method
                row.match_confidence = match.confidence
                if not match.own_copy:
                    report.matched += 1
                    reply = Reply(item.id, match.contact_id, result.kind, item.internal_date,
                                  parsed.date, match.method or "", match.confidence or 0.0,
                                  result.bounce)  # fmt: skip
                    replies.append((reply, parsed, analysed.answer))
                _landed(index, match.contact_id, result, parsed.subject, own_copy=match.own_copy)
            by_sha[item.sha256] = (item.id, row.contact_id)
            if parsed.message_id:
                by_mid[(parsed.message_id, sender)] = (item.id, row.contact_id)
            report.by_kind[row.classification] = report.by_kind.get(row.classification, 0) + 1
            results.append(row)
        await self._apply(session, persona, replies)
        await mail.save_results(session, results)
        return report

    async def _apply(
        self,
        session: AsyncSession,
        persona: PersonaInfo,
        replies: Sequence[tuple[Reply, ParsedMessage, AnswerText | None]],
        *,
        locked: dict[int, ContactView] | None = None,
    ) -> None:
        """Lock the contacts concerned, apply each reply in receipt order, write the changes."""
        if not replies:
            return
        if locked is None:
            locked = await mail.lock_contacts(session, {reply[0].contact_id for reply in replies})
        before = locked
        after = dict(before)
        events: list[EventRow] = []
        in_order = sorted(replies, key=lambda rp: (rp[0].received_at, rp[0].message))
        for reply, parsed, answer in in_order:
            contact_id = reply.contact_id
            view = after.get(contact_id)
            if view is None:
                continue
            scenario = self._scenario(view.scenario_id)
            checks: Callable[[], dict[str, Any]] | None = None
            if reply.kind in ("answer", "redirect"):
                checks = partial(
                    check_answer, parsed, scenario.expected_elements if scenario else (),
                    message=reply.message, computed_at=self.clock.now(),
                    redirect=reply.kind == "redirect", persona_email=persona.email,
                    service_email=view.service_email, service_phone=view.service_phone,
                    text=answer,
                )  # fmt: skip
            after[contact_id], new_events = reply_effect(
                view, reply, scenario=scenario, checks=checks
            )
            events.extend(new_events)
        await mail.save_contacts(session, before, after)
        await mail.add_events(session, events)

    # -- triage ------------------------------------------------------------------------------

    async def match_manually(
        self, message_id: int, contact_id: int, *, actor: str, kind: str | None = None
    ) -> Reply:
        """A coordinator's decision: ``message_id`` belongs to ``contact_id`` (and, with
        ``kind``, is of that class whatever the classifier said). Its effects are recorded as for
        an automatic match (method ``manual``, confidence 1.0), at the message's INTERNALDATE."""
        if kind is not None and kind not in KINDS:
            raise TriageError(
                f"unknown class {kind!r}: one of {', '.join(KINDS)}", "unknown_kind", kind=kind,
                kinds=", ".join(KINDS),
            )  # fmt: skip
        async with self.database.session() as session:
            rows = await triage.triage_rows(session, message_id=message_id)
            stored = await mail.raw_of(session, message_id)
        if not rows or stored is None:
            raise TriageError(f"no message {message_id}", "no_message", message=message_id)
        row = rows[0]
        if row.triage_state not in (mail.PENDING, "ignored"):
            where = f"contact {row.contact_id}" if row.contact_id else row.classification
            raise TriageError(
                f"message {message_id} is not in triage (already {where})",
                "matched" if row.contact_id else "classified",
                message=message_id, contact=row.contact_id or 0, kind=row.classification or "",
            )  # fmt: skip
        analysis = await asyncio.to_thread(analyse, stored.raw)
        if analysis.parsed is None or analysis.classification is None:
            raise TriageError(
                f"message {message_id} is quarantined: {analysis.quarantine_reason}",
                "quarantined", message=message_id, reason=str(analysis.quarantine_reason),
            )  # fmt: skip
        persona = next((p for p in await self.personas_all() if p.id == row.persona_id), None)
        async with self.database.session() as session:
            before = await mail.lock_contacts(session, [contact_id])
            view = before.get(contact_id)
            if view is None:
                raise TriageError(f"no contact {contact_id}", "no_contact", contact=contact_id)
            if view.persona_id != row.persona_id or persona is None:
                raise TriageError(
                    f"contact {contact_id} was written by another persona than the mailbox "
                    f"message {message_id} arrived in",
                    "other_persona", contact=contact_id, message=message_id,
                )  # fmt: skip
            if view.sent_at is None or stored.internal_date < view.sent_at:
                raise TriageError(
                    f"message {message_id} was received before contact {contact_id} was sent",
                    "too_early", contact=contact_id, message=message_id,
                )  # fmt: skip
            classified = analysis.classification
            reply = Reply(message_id, contact_id, kind or classified.kind,
                          stored.internal_date, analysis.parsed.date, "manual", 1.0,
                          classified.bounce if (kind or classified.kind) == "bounce" else None,
                          classified_by=actor if kind else None)  # fmt: skip
            evidence = dict(row.evidence or {})
            evidence["triage"] = {"by": actor, "at": self.clock.now().isoformat(),
                                  "contact": contact_id}  # fmt: skip
            if kind is not None:
                evidence["triage"] |= {"class": kind, "classifier_said": classified.kind}
            if not await triage.set_triage(
                session, message_id, state="matched", expect=row.triage_state or mail.PENDING,
                contact_id=contact_id, method="manual", confidence=1.0, evidence=evidence,
                classification=kind,
            ):  # fmt: skip
                raise TriageError(
                    f"message {message_id} changed meanwhile; try again", "changed",
                    message=message_id,
                )  # fmt: skip
            await self._apply(session, persona, [(reply, analysis.parsed, None)], locked=before)
        return reply

    async def personas_all(self) -> list[PersonaInfo]:
        async with self.database.session() as session:
            return await mail.persona_accounts(session, active_only=False)

    def _scenario(self, scenario_id: str) -> Scenario | None:
        try:
            return self.catalog.get(scenario_id)
        except UnknownScenario:
            return None

    def _ref(self, persona: PersonaInfo, view: MatchRow, own: Sequence[str]) -> ContactRef:
        """What matching knows of a contact; the last one kept per contact while it holds."""
        key = (view.status, view.sent_at, view.message_id, view.followup_message_id,
               view.reply_token, view.service_id, view.service_email, view.collectivity_id,
               tuple(own))  # fmt: skip
        cached = self._refs.get(view.id)
        if cached is not None and cached[0] == key:
            return cached[1]
        subjects = {normalise_subject(s) for s in own}
        rendered = self._rendered_subject(persona, view)
        if rendered:
            subjects.add(rendered)
        ref = ContactRef(
            id=view.id, status=view.status, sent_at=view.sent_at, message_id=view.message_id,
            followup_message_id=view.followup_message_id, reply_token=view.reply_token,
            service_id=view.service_id, service_email=view.service_email,
            collectivity_id=view.collectivity_id, subjects=tuple(s for s in subjects if s),
        )  # fmt: skip
        self._refs[view.id] = (key, ref)
        return ref

    def _rendered_subject(self, persona: PersonaInfo, view: MatchRow) -> str | None:
        """The subject the dispatcher wrote (same rendering), normalised, cached per contact."""
        if view.id in self._subjects:
            return self._subjects[view.id]
        subject: str | None = None
        scenario = self._scenario(view.scenario_id)
        if scenario is not None and scenario.wordings:
            first, _, last = persona.display_name.partition(" ")
            try:
                rendered = render_wording(
                    scenario.wordings[view.wording % len(scenario.wordings)],
                    PersonaView(persona.display_name, first, last or first, persona.email,
                                persona.address or "", persona.postal_code or "",
                                persona.city or ""),
                    ServiceView.of_kind(view.service_name, view.service_kind,
                                        view.service_city or ""),
                    CollectivityView(view.collectivity_name),
                )  # fmt: skip
                subject = rendered.subject or scenario.title
            except Exception:  # an unknown kind or a template error: no subject to compare
                subject = None
        normalised = normalise_subject(subject) if subject else None
        self._subjects[view.id] = normalised
        return normalised


def _landed(index: MatchIndex, contact_id: int, result: Classification, subject: str | None,
            *, own_copy: bool) -> None:  # fmt: skip
    """A message of this batch was tied to ``contact_id``: the messages after it are matched
    against the contact as that message left it, as if each batch held one message (its
    reply may have closed the contact; our own copy adds the subject it was sent with)."""
    ref = index.contact(contact_id)
    if ref is None:
        return
    if own_copy:
        stored = mail.own_copy_subject(subject)
        normalised = normalise_subject(stored) if stored else ""
        if normalised and normalised not in ref.subjects:
            index.update(replace(ref, subjects=(*ref.subjects, normalised)))
        return
    status = status_after(ref.status, result.kind, result.bounce)
    if status != ref.status:
        index.update(replace(ref, status=status))


def _key(persona: PersonaInfo) -> tuple[Any, ...]:
    return (persona.email, persona.subaddress_separator, persona.imap_host, persona.imap_port,
            persona.imap_security, persona.username, persona.password_ref)  # fmt: skip
