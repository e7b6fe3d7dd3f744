"""Domain vocabulary shared by every package: channels, kinds, contact states.

Values are stored as these strings in the database; never rename one without a migration.
"""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    EMAIL = "email"
    LETTER = "letter"
    PHONE = "phone"
    VISIT = "visit"


class CollectivityKind(StrEnum):
    COMMUNE = "commune"
    EPCI = "epci"
    DEPARTEMENT = "departement"
    REGION = "region"


class ContactStatus(StrEnum):
    """Life of one mystery contact.

    email:  planned -> sending -> sent -> acknowledged -> answered
                               \\-> undeliverable;  any open state -> closed (censored)
    letter: planned -> printed -> posted -> acknowledged -> answered
    phone/visit: planned -> assigned -> in_progress -> done | failed | cancelled
    """

    PLANNED = "planned"
    SENDING = "sending"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    ANSWERED = "answered"
    UNDELIVERABLE = "undeliverable"
    PRINTED = "printed"
    POSTED = "posted"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    CLOSED = "closed"


# States a re-plan (``campaign plan --replace``) may delete: nothing has reached anyone yet.
REPLACEABLE_STATUSES: frozenset[ContactStatus] = frozenset(
    {ContactStatus.PLANNED, ContactStatus.ASSIGNED}
)
