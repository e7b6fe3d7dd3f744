"""The truth's journal: every record in memory and, with a path, appended as JSON lines.

    simulators --record_decision / record_delivery / record_refusal / record_acceptance /
               record_field--> Truth (memory + one JSON line per record, ``{"v": 1, "event": …}``)
    Truth.load(path) --> Truth   (a bad line: ValueError naming the file and line)
    readers: reactions, refusals, acceptances, fields, delivered(), for_contact(), …

Thread-safe: the town halls record from the SMTP provider's threads and from their pump.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from sim.truth.records import (
    TRUTH_VERSION,
    Acceptance,
    FieldRecord,
    Refusal,
    TruthReaction,
    iso,
    parse_time,
    utc,
)


class Truth:
    """Every decision and delivery, in memory and (with ``path``) appended as JSON lines.

    Thread-safe: the simulator records from the SMTP provider's threads and from its pump.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._reactions: dict[str, TruthReaction] = {}
        self._refusals: list[Refusal] = []
        self._acceptances: list[Acceptance] = []
        self._fields: dict[int, FieldRecord] = {}
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    # -- recording ------------------------------------------------------------------------

    def record_decision(self, reaction: TruthReaction) -> None:
        with self._lock:
            if reaction.reaction_id in self._reactions:
                raise ValueError(f"reaction {reaction.reaction_id} already recorded")
            self._reactions[reaction.reaction_id] = reaction
            self._write({"event": "decision", **reaction.to_json()})

    def record_delivery(
        self,
        reaction_id: str,
        delivered_at: datetime,
        *,
        mailbox: str,
        uidvalidity: int,
        uid: int,
    ) -> TruthReaction:
        delivered_at = utc(delivered_at)
        if delivered_at.microsecond:
            raise ValueError("an INTERNALDATE has whole seconds")
        with self._lock:
            reaction = replace(
                self._reactions[reaction_id],
                delivered_at=delivered_at,
                mailbox=mailbox,
                uidvalidity=uidvalidity,
                uid=uid,
            )
            self._reactions[reaction_id] = reaction
            self._write(
                {
                    "event": "delivery",
                    "reaction_id": reaction_id,
                    "delivered_at": iso(delivered_at),
                    "mailbox": mailbox,
                    "uidvalidity": uidvalidity,
                    "uid": uid,
                }
            )
            return reaction

    def record_refusal(self, service: str, at: datetime, reply: str, attempt: int = 1) -> None:
        refusal = Refusal(service.lower(), utc(at), reply, attempt)
        with self._lock:
            self._refusals.append(refusal)
            self._write(
                {
                    "event": "refusal",
                    "service": refusal.service,
                    "at": iso(refusal.at),
                    "reply": reply,
                    "attempt": attempt,
                }
            )

    def record_acceptance(
        self, message_id: str | None, recipients: Sequence[str], at: datetime
    ) -> Acceptance:
        """The provider accepted a message for ``recipients`` at simulated instant ``at``."""
        acceptance = Acceptance(message_id, tuple(r.lower() for r in recipients), utc(at))
        with self._lock:
            self._acceptances.append(acceptance)
            self._write({"event": "acceptance", **acceptance.to_json()})
        return acceptance

    def record_field(self, record: FieldRecord) -> None:
        """What an auditor really did on one call, visit or letter (the latest record wins)."""
        with self._lock:
            self._fields[record.contact_id] = record
            self._write({"event": "field", **record.to_json()})

    def _write(self, record: dict[str, Any]) -> None:
        if self.path is None:
            return
        line = json.dumps({"v": TRUTH_VERSION, **record}, ensure_ascii=False, sort_keys=True)
        with self.path.open("a", encoding="utf-8") as stream:
            stream.write(line + "\n")

    # -- reading --------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path) -> Truth:
        """The truth recorded in ``path`` (read only: the result writes nowhere)."""
        truth = cls()
        with path.open(encoding="utf-8") as stream:
            for number, line in enumerate(stream, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    event = record.pop("event")
                    record.pop("v", None)
                    if event == "decision":
                        truth.record_decision(TruthReaction.from_json(record))
                    elif event == "delivery":
                        truth.record_delivery(
                            record["reaction_id"],
                            cast(datetime, parse_time(record["delivered_at"])),
                            mailbox=record["mailbox"],
                            uidvalidity=int(record["uidvalidity"]),
                            uid=int(record["uid"]),
                        )
                    elif event == "refusal":
                        truth.record_refusal(
                            record["service"],
                            cast(datetime, parse_time(record["at"])),
                            record["reply"],
                            int(record.get("attempt", 1)),
                        )
                    elif event == "acceptance":
                        truth.record_acceptance(
                            record.get("message_id"),
                            list(record["recipients"]),
                            cast(datetime, parse_time(record["at"])),
                        )
                    elif event == "field":
                        truth.record_field(FieldRecord.from_json(record))
                    else:
                        raise ValueError(f"unknown event {event!r}")
                except (KeyError, TypeError, ValueError) as exc:
                    raise ValueError(f"{path}:{number}: bad truth record: {exc}") from exc
        return truth

    @property
    def reactions(self) -> list[TruthReaction]:
        with self._lock:
            return list(self._reactions.values())

    @property
    def refusals(self) -> list[Refusal]:
        with self._lock:
            return list(self._refusals)

    @property
    def acceptances(self) -> list[Acceptance]:
        with self._lock:
            return list(self._acceptances)

    @property
    def fields(self) -> list[FieldRecord]:
        with self._lock:
            return list(self._fields.values())

    def reaction(self, reaction_id: str) -> TruthReaction:
        with self._lock:
            return self._reactions[reaction_id]

    def delivered(self) -> list[TruthReaction]:
        return [r for r in self.reactions if r.delivered]

    def for_contact(self, message_id: str) -> list[TruthReaction]:
        return [r for r in self.reactions if r.contact_message_id == message_id]

    def refusing_services(self) -> set[str]:
        return {refusal.service for refusal in self.refusals}
