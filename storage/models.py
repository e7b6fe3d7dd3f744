"""SQLAlchemy 2 models of the domain (see ../shared/design.md, "Domain model").

Every time column is ``UTCDateTime``: aware UTC in, aware UTC out. Enumerated values are
stored as the strings of ``scenarios.domain``. Secrets never appear here: a persona's
password is a reference (``env:VAR`` or ``file:PATH``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.event_facts import drop_triggers, install_triggers
from storage.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONDict = dict[str, Any]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        JSONDict: JSON(),
        date: Date(),
    }


class Collectivity(Base):
    __tablename__ = "collectivity"

    id: Mapped[int] = mapped_column(primary_key=True)
    insee_code: Mapped[str] = mapped_column(String(9), unique=True)
    siren: Mapped[str | None] = mapped_column(String(9))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    population: Mapped[int] = mapped_column(Integer)
    departement: Mapped[str] = mapped_column(String(3), index=True)
    region: Mapped[str | None] = mapped_column(String(3))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    services: Mapped[list[Service]] = relationship(back_populates="collectivity")


class Service(Base):
    __tablename__ = "service"
    __table_args__ = (UniqueConstraint("collectivity_id", "kind", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    collectivity_id: Mapped[int] = mapped_column(ForeignKey("collectivity.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(300))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(120))
    opening_hours: Mapped[str | None] = mapped_column(String(300))
    # WGS 84 position of the counter, when known: an auditor's arrival is compared with it
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    collectivity: Mapped[Collectivity] = relationship(back_populates="services")


class Persona(Base):
    """A citizen identity the system writes as. The password is a reference, never a value."""

    __tablename__ = "persona"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    address: Mapped[str | None] = mapped_column(String(300))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(120))
    smtp_host: Mapped[str | None] = mapped_column(String(253))
    smtp_port: Mapped[int | None]
    smtp_security: Mapped[str | None] = mapped_column(String(10))  # starttls | tls | none
    imap_host: Mapped[str | None] = mapped_column(String(253))
    imap_port: Mapped[int | None]
    imap_security: Mapped[str | None] = mapped_column(String(10))
    username: Mapped[str | None] = mapped_column(String(254))
    password_ref: Mapped[str | None] = mapped_column(String(300))
    subaddress_separator: Mapped[str | None] = mapped_column(String(1))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class Auditor(Base):
    """A real person on the bot; bound to a Telegram user only through an invite code."""

    __tablename__ = "auditor"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    region: Mapped[str | None] = mapped_column(String(60))
    role: Mapped[str] = mapped_column(String(20), default="auditor")
    language: Mapped[str] = mapped_column(String(5), default="fr")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class Campaign(Base):
    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str | None] = mapped_column(String(300))
    window_start: Mapped[date]
    window_end: Mapped[date]
    seed: Mapped[int] = mapped_column(BigInteger)
    spec: Mapped[JSONDict]  # the validated campaign file, as planned
    state: Mapped[str] = mapped_column(String(20), default="planned")
    created_at: Mapped[datetime]
    planned_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class Contact(Base):
    """One mystery contact: campaign x service x scenario x (persona | auditor) x time."""

    __tablename__ = "contact"
    __table_args__ = (
        Index("ix_contact_due", "channel", "status", "planned_at"),
        Index("ix_contact_campaign_status", "campaign_id", "status"),
        # the back office: the progress table (covering), the steps waiting to be retried
        Index("ix_contact_progress", "campaign_id", "channel", "status", "planned_at"),
        Index("ix_contact_campaign_retry", "campaign_id", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    collectivity_id: Mapped[int] = mapped_column(ForeignKey("collectivity.id"), index=True)
    scenario_id: Mapped[str] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(10))
    wording: Mapped[int] = mapped_column(Integer, default=0)
    persona_id: Mapped[int | None] = mapped_column(ForeignKey("persona.id"), index=True)
    auditor_id: Mapped[int | None] = mapped_column(ForeignKey("auditor.id"), index=True)
    planned_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="planned")
    status_at: Mapped[datetime]
    # dispatch (email): lease before talking to SMTP, Message-ID stored before sending
    message_id: Mapped[str | None] = mapped_column(String(250), unique=True)
    reply_token: Mapped[str | None] = mapped_column(String(40), unique=True)
    lease_owner: Mapped[str | None] = mapped_column(String(80))
    lease_expires_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    server_reply: Mapped[str | None] = mapped_column(Text)
    # replies (email, letter)
    first_ack_at: Mapped[datetime | None]
    first_answer_at: Mapped[datetime | None]
    followup_due_at: Mapped[datetime | None]
    followup_message_id: Mapped[str | None] = mapped_column(String(250), unique=True)
    followup_sent_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    outcome_reason: Mapped[str | None] = mapped_column(Text)
    checks: Mapped[JSONDict | None]
    # What the statistics read of the timeline and grid answers, kept by the database's
    # triggers in the writer's transaction (storage.event_facts): never written by Python.
    ev_origin_us: Mapped[int | None] = mapped_column(BigInteger)
    ev_reply_us: Mapped[int | None] = mapped_column(BigInteger)
    ev_waiting_us: Mapped[int | None] = mapped_column(BigInteger)
    ev_service_us: Mapped[int | None] = mapped_column(BigInteger)
    ev_picked: Mapped[int | None] = mapped_column(SmallInteger)
    ev_pickup_us: Mapped[int | None] = mapped_column(BigInteger)
    ev_transfers: Mapped[int | None] = mapped_column(BigInteger)
    ev_attempts: Mapped[int | None] = mapped_column(BigInteger)
    ev_detailed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ContactEvent(Base):
    """The timeline of a contact: send attempts, bot button presses, replies, reviews."""

    __tablename__ = "contact_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime]
    actor: Mapped[str | None] = mapped_column(String(80))
    detail: Mapped[JSONDict | None]


class Blob(Base):
    """Raw bytes, content-addressed (SHA-256): emails as received, photos."""

    __tablename__ = "blob"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class Message(Base):
    """Every email in or out. Unique on (persona, mailbox, UIDVALIDITY, UID) when fetched."""

    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("persona_id", "mailbox", "uidvalidity", "uid"),
        Index("ix_message_triage", "triage_state", "internal_date"),  # the triage queue
        # The tracker's reads by class, for every batch: own copies, what is left unprocessed.
        Index("ix_message_persona_class", "persona_id", "classification"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    persona_id: Mapped[int | None] = mapped_column(ForeignKey("persona.id"), index=True)
    mailbox: Mapped[str | None] = mapped_column(String(200))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    raw_sha256: Mapped[str] = mapped_column(ForeignKey("blob.sha256"), index=True)
    message_id: Mapped[str | None] = mapped_column(String(250), index=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(250))
    references: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(Text)
    from_address: Mapped[str | None] = mapped_column(String(254))
    to_addresses: Mapped[str | None] = mapped_column(Text)
    date_header: Mapped[datetime | None]
    internal_date: Mapped[datetime | None]
    text: Mapped[str | None] = mapped_column(Text)
    new_text: Mapped[str | None] = mapped_column(Text)
    html_sanitised: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[JSONDict | None]
    classification: Mapped[str | None] = mapped_column(String(20))
    evidence: Mapped[JSONDict | None]
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"), index=True)
    match_method: Mapped[str | None] = mapped_column(String(30))
    match_confidence: Mapped[float | None] = mapped_column(Float)
    triage_state: Mapped[str | None] = mapped_column(String(20))  # pending | matched | ignored
    quarantine_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class MailboxCheckpoint(Base):
    """Last UID seen per (persona, mailbox, UIDVALIDITY)."""

    __tablename__ = "mailbox_checkpoint"
    __table_args__ = (UniqueConstraint("persona_id", "mailbox", "uidvalidity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    persona_id: Mapped[int] = mapped_column(ForeignKey("persona.id"))
    mailbox: Mapped[str] = mapped_column(String(200))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    server_count: Mapped[int | None]
    checked_at: Mapped[datetime | None]


class Observation(Base):
    """One answer to one grid question for one contact, with who, when and evidence."""

    __tablename__ = "observation"
    __table_args__ = (UniqueConstraint("contact_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(80))
    value: Mapped[Any] = mapped_column(JSON)
    auditor_id: Mapped[int | None] = mapped_column(ForeignKey("auditor.id"))
    answered_at: Mapped[datetime]
    photo_sha256: Mapped[str | None] = mapped_column(ForeignKey("blob.sha256"))
    note: Mapped[str | None] = mapped_column(Text)
    review_state: Mapped[str | None] = mapped_column(String(20))  # to_fix | accepted
    review_note: Mapped[str | None] = mapped_column(Text)


class InviteCode(Base):
    """A single-use, expiring code that binds a Telegram user to an auditor (hash only)."""

    __tablename__ = "invite_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 hex of the code
    auditor_id: Mapped[int] = mapped_column(ForeignKey("auditor.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[int | None] = mapped_column(BigInteger)  # Telegram user id


class BotState(Base):
    """Where one Telegram user is in the bot, written through on every update.

    ``stage`` names the flow step (``bot.flows``), ``contact_id`` / ``question_id`` /
    ``attempt`` what it is about; wrong invite codes are counted here for the rate limit.
    """

    __tablename__ = "bot_state"

    telegram_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    auditor_id: Mapped[int | None] = mapped_column(ForeignKey("auditor.id", ondelete="SET NULL"))
    stage: Mapped[str] = mapped_column(String(30), default="idle")
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    question_id: Mapped[str | None] = mapped_column(String(80))
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    data: Mapped[JSONDict | None]
    failed_codes: Mapped[int] = mapped_column(Integer, default=0)
    failed_since: Mapped[datetime | None]
    refused_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class CampaignCoordinator(Base):
    """Which campaigns a coordinator follows (digest, ``/avancement``)."""

    __tablename__ = "campaign_coordinator"
    __table_args__ = (UniqueConstraint("campaign_id", "auditor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    auditor_id: Mapped[int] = mapped_column(ForeignKey("auditor.id", ondelete="CASCADE"))


class BotReminder(Base):
    """A reminder or digest sent (or being sent): one per auditor, slot and local day."""

    __tablename__ = "bot_reminder"
    __table_args__ = (UniqueConstraint("auditor_id", "slot", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    auditor_id: Mapped[int] = mapped_column(ForeignKey("auditor.id", ondelete="CASCADE"))
    slot: Mapped[str] = mapped_column(String(20))
    day: Mapped[date]
    sent_at: Mapped[datetime]


class WebAccount(Base):
    """A person who logs in to the web back office or portal (``web/``).

    ``role``: coordinator (everything), consultant (reads everything, comments), collectivity
    (its own portal only: ``collectivity_id`` is set for that role and only for it).
    ``password_hash`` is an argon2 hash, None until the invitation is used. ``session_epoch``
    is written in every session cookie: bumping it (disable, new password) ends them all.
    """

    __tablename__ = "web_account"
    __table_args__ = (
        CheckConstraint(
            "(role = 'collectivity' AND collectivity_id IS NOT NULL)"
            " OR (role <> 'collectivity' AND collectivity_id IS NULL)",
            name="role_collectivity",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(254), unique=True)  # folded to lower case
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    collectivity_id: Mapped[int | None] = mapped_column(
        ForeignKey("collectivity.id", ondelete="CASCADE"), index=True
    )
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]


class WebInvite(Base):
    """A single-use, expiring link that lets a web account choose its password (hash only)."""

    __tablename__ = "web_invite"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 hex
    account_id: Mapped[int] = mapped_column(
        ForeignKey("web_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class WebLoginFailure(Base):
    """A failed log-in, kept for the rate limit (per login and per client address)."""

    __tablename__ = "web_login_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(254), index=True)
    client: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(index=True)


class ReportComment(Base):
    """A consultant's comment on a collectivity's barometer for one campaign, signed and dated.

    ``channel`` is one of ``scenarios.domain.Channel`` or NULL for the comment on the whole
    report. ``author`` is the name shown under it; ``web_account_id`` links it to the web
    account that wrote it, when it came through the back office (NULL from the command line).
    """

    __tablename__ = "report_comment"
    __table_args__ = (Index("ix_report_comment_target", "campaign_id", "collectivity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    collectivity_id: Mapped[int] = mapped_column(ForeignKey("collectivity.id", ondelete="CASCADE"))
    channel: Mapped[str | None] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(200))
    web_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("web_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]


class BarometerFigures(Base):
    """A closed campaign's national and peer figures, computed once for every collectivity's
    barometer (``reports.figures_store``; the data is ``reports.figures_json``'s compressed
    JSON, never pickle).

    One row per campaign and report options (``options``: the instant figures are as of,
    ``min_cell``, the strata bounds); ``version`` is the data version they were computed on
    (the code's, the catalogue's and ``storage.backoffice.campaign_stamp``'s): a reader whose
    version differs computes them again rather than show stale figures.
    """

    __tablename__ = "barometer_figures"
    __table_args__ = (UniqueConstraint("campaign_id", "options"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    options: Mapped[str] = mapped_column(String(400))
    version: Mapped[str] = mapped_column(Text)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    computed_at: Mapped[datetime]


# The ev_* columns of contact are the triggers' (storage.event_facts): created with the
# tables (tests, benchmarks, ``temoin`` on a fresh database) as migration 0006 creates them.
event.listen(Base.metadata, "after_create", install_triggers)
event.listen(Base.metadata, "before_drop", drop_triggers)
