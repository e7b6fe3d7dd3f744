"""Initial.

The first revision: every table of storage/models.py as it stood when this file was
generated, with the names that ``Base.metadata``'s naming convention gives constraints and
indexes. Times are ``DateTime(timezone=True)`` (``storage.types.UTCDateTime`` in the models).

Revision ID: 0001
Revises: nothing (first revision)
Create Date: 2026-11-29 16:57:02.336435+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auditor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=True),
        sa.Column("region", sa.String(length=60), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auditor")),
        sa.UniqueConstraint("key", name=op.f("uq_auditor_key")),
        sa.UniqueConstraint("telegram_user_id", name=op.f("uq_auditor_telegram_user_id")),
    )
    op.create_table(
        "blob",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_blob")),
    )
    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=True),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
        sa.UniqueConstraint("name", name=op.f("uq_campaign_name")),
    )
    op.create_table(
        "collectivity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("insee_code", sa.String(length=9), nullable=False),
        sa.Column("siren", sa.String(length=9), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("departement", sa.String(length=3), nullable=False),
        sa.Column("region", sa.String(length=3), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collectivity")),
        sa.UniqueConstraint("insee_code", name=op.f("uq_collectivity_insee_code")),
    )
    with op.batch_alter_table("collectivity", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_collectivity_departement"), ["departement"], unique=False
        )

    op.create_table(
        "persona",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("postal_code", sa.String(length=10), nullable=True),
        sa.Column("city", sa.String(length=120), nullable=True),
        sa.Column("smtp_host", sa.String(length=253), nullable=True),
        sa.Column("smtp_port", sa.Integer(), nullable=True),
        sa.Column("smtp_security", sa.String(length=10), nullable=True),
        sa.Column("imap_host", sa.String(length=253), nullable=True),
        sa.Column("imap_port", sa.Integer(), nullable=True),
        sa.Column("imap_security", sa.String(length=10), nullable=True),
        sa.Column("username", sa.String(length=254), nullable=True),
        sa.Column("password_ref", sa.String(length=300), nullable=True),
        sa.Column("subaddress_separator", sa.String(length=1), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persona")),
        sa.UniqueConstraint("email", name=op.f("uq_persona_email")),
        sa.UniqueConstraint("key", name=op.f("uq_persona_key")),
    )
    op.create_table(
        "bot_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("auditor_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["auditor_id"],
            ["auditor.id"],
            name=op.f("fk_bot_reminder_auditor_id_auditor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_reminder")),
        sa.UniqueConstraint(
            "auditor_id", "slot", "day", name=op.f("uq_bot_reminder_auditor_id_slot_day")
        ),
    )
    op.create_table(
        "campaign_coordinator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("auditor_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["auditor_id"],
            ["auditor.id"],
            name=op.f("fk_campaign_coordinator_auditor_id_auditor"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_campaign_coordinator_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_coordinator")),
        sa.UniqueConstraint(
            "campaign_id", "auditor_id", name=op.f("uq_campaign_coordinator_campaign_id_auditor_id")
        ),
    )
    op.create_table(
        "invite_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("auditor_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["auditor_id"],
            ["auditor.id"],
            name=op.f("fk_invite_code_auditor_id_auditor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invite_code")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_invite_code_code_hash")),
    )
    op.create_table(
        "mailbox_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("persona_id", sa.Integer(), nullable=False),
        sa.Column("mailbox", sa.String(length=200), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("server_count", sa.Integer(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["persona_id"], ["persona.id"], name=op.f("fk_mailbox_checkpoint_persona_id_persona")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mailbox_checkpoint")),
        sa.UniqueConstraint(
            "persona_id",
            "mailbox",
            "uidvalidity",
            name=op.f("uq_mailbox_checkpoint_persona_id_mailbox_uidvalidity"),
        ),
    )
    op.create_table(
        "service",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collectivity_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("postal_code", sa.String(length=10), nullable=True),
        sa.Column("city", sa.String(length=120), nullable=True),
        sa.Column("opening_hours", sa.String(length=300), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["collectivity_id"],
            ["collectivity.id"],
            name=op.f("fk_service_collectivity_id_collectivity"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service")),
        sa.UniqueConstraint(
            "collectivity_id", "kind", "name", name=op.f("uq_service_collectivity_id_kind_name")
        ),
    )
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_collectivity_id"), ["collectivity_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_service_kind"), ["kind"], unique=False)

    op.create_table(
        "contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("collectivity_id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.String(length=80), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("wording", sa.Integer(), nullable=False),
        sa.Column("persona_id", sa.Integer(), nullable=True),
        sa.Column("auditor_id", sa.Integer(), nullable=True),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.String(length=250), nullable=True),
        sa.Column("reply_token", sa.String(length=40), nullable=True),
        sa.Column("lease_owner", sa.String(length=80), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("server_reply", sa.Text(), nullable=True),
        sa.Column("first_ack_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_answer_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("followup_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("followup_message_id", sa.String(length=250), nullable=True),
        sa.Column("followup_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome_reason", sa.Text(), nullable=True),
        sa.Column("checks", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["auditor_id"], ["auditor.id"], name=op.f("fk_contact_auditor_id_auditor")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_contact_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["collectivity_id"],
            ["collectivity.id"],
            name=op.f("fk_contact_collectivity_id_collectivity"),
        ),
        sa.ForeignKeyConstraint(
            ["persona_id"], ["persona.id"], name=op.f("fk_contact_persona_id_persona")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["service.id"], name=op.f("fk_contact_service_id_service")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact")),
        sa.UniqueConstraint("followup_message_id", name=op.f("uq_contact_followup_message_id")),
        sa.UniqueConstraint("message_id", name=op.f("uq_contact_message_id")),
        sa.UniqueConstraint("reply_token", name=op.f("uq_contact_reply_token")),
    )
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_auditor_id"), ["auditor_id"], unique=False)
        batch_op.create_index("ix_contact_campaign_status", ["campaign_id", "status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_contact_collectivity_id"), ["collectivity_id"], unique=False
        )
        batch_op.create_index("ix_contact_due", ["channel", "status", "planned_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_contact_persona_id"), ["persona_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contact_service_id"), ["service_id"], unique=False)

    op.create_table(
        "bot_state",
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("auditor_id", sa.Integer(), nullable=True),
        sa.Column("stage", sa.String(length=30), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("question_id", sa.String(length=80), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("failed_codes", sa.Integer(), nullable=False),
        sa.Column("failed_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["auditor_id"],
            ["auditor.id"],
            name=op.f("fk_bot_state_auditor_id_auditor"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contact.id"],
            name=op.f("fk_bot_state_contact_id_contact"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("telegram_user_id", name=op.f("pk_bot_state")),
    )
    op.create_table(
        "contact_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contact.id"],
            name=op.f("fk_contact_event_contact_id_contact"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_event")),
    )
    with op.batch_alter_table("contact_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contact_event_contact_id"), ["contact_id"], unique=False
        )

    op.create_table(
        "message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("persona_id", sa.Integer(), nullable=True),
        sa.Column("mailbox", sa.String(length=200), nullable=True),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=True),
        sa.Column("uid", sa.BigInteger(), nullable=True),
        sa.Column("raw_sha256", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=250), nullable=True),
        sa.Column("in_reply_to", sa.String(length=250), nullable=True),
        sa.Column("references", sa.Text(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("from_address", sa.String(length=254), nullable=True),
        sa.Column("to_addresses", sa.Text(), nullable=True),
        sa.Column("date_header", sa.DateTime(timezone=True), nullable=True),
        sa.Column("internal_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("new_text", sa.Text(), nullable=True),
        sa.Column("html_sanitised", sa.Text(), nullable=True),
        sa.Column("attachments", sa.JSON(), nullable=True),
        sa.Column("classification", sa.String(length=20), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("match_method", sa.String(length=30), nullable=True),
        sa.Column("match_confidence", sa.Float(), nullable=True),
        sa.Column("triage_state", sa.String(length=20), nullable=True),
        sa.Column("quarantine_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contact.id"], name=op.f("fk_message_contact_id_contact")
        ),
        sa.ForeignKeyConstraint(
            ["persona_id"], ["persona.id"], name=op.f("fk_message_persona_id_persona")
        ),
        sa.ForeignKeyConstraint(
            ["raw_sha256"], ["blob.sha256"], name=op.f("fk_message_raw_sha256_blob")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message")),
        sa.UniqueConstraint(
            "persona_id",
            "mailbox",
            "uidvalidity",
            "uid",
            name=op.f("uq_message_persona_id_mailbox_uidvalidity_uid"),
        ),
    )
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_contact_id"), ["contact_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_message_id"), ["message_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_persona_id"), ["persona_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_raw_sha256"), ["raw_sha256"], unique=False)

    op.create_table(
        "observation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=80), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("auditor_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("photo_sha256", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("review_state", sa.String(length=20), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["auditor_id"], ["auditor.id"], name=op.f("fk_observation_auditor_id_auditor")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contact.id"],
            name=op.f("fk_observation_contact_id_contact"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["photo_sha256"], ["blob.sha256"], name=op.f("fk_observation_photo_sha256_blob")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observation")),
        sa.UniqueConstraint(
            "contact_id", "question_id", name=op.f("uq_observation_contact_id_question_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("observation")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_raw_sha256"))
        batch_op.drop_index(batch_op.f("ix_message_persona_id"))
        batch_op.drop_index(batch_op.f("ix_message_message_id"))
        batch_op.drop_index(batch_op.f("ix_message_contact_id"))

    op.drop_table("message")
    with op.batch_alter_table("contact_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_event_contact_id"))

    op.drop_table("contact_event")
    op.drop_table("bot_state")
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_service_id"))
        batch_op.drop_index(batch_op.f("ix_contact_persona_id"))
        batch_op.drop_index("ix_contact_due")
        batch_op.drop_index(batch_op.f("ix_contact_collectivity_id"))
        batch_op.drop_index("ix_contact_campaign_status")
        batch_op.drop_index(batch_op.f("ix_contact_auditor_id"))

    op.drop_table("contact")
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_kind"))
        batch_op.drop_index(batch_op.f("ix_service_collectivity_id"))

    op.drop_table("service")
    op.drop_table("mailbox_checkpoint")
    op.drop_table("invite_code")
    op.drop_table("campaign_coordinator")
    op.drop_table("bot_reminder")
    op.drop_table("persona")
    with op.batch_alter_table("collectivity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_collectivity_departement"))

    op.drop_table("collectivity")
    op.drop_table("campaign")
    op.drop_table("blob")
    op.drop_table("auditor")
