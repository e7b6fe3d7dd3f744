"""Indexes for the back office's pages.

The progress table of a campaign reads (channel, status, planned time) of every contact: an
index on (campaign, channel, status, planned time) covers it. The steps waiting to be retried
are found by (campaign, next attempt); the triage queue by (triage state, arrival).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 16:20:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_contact_progress", "contact", ["campaign_id", "channel", "status", "planned_at"]
    )
    op.create_index("ix_contact_campaign_retry", "contact", ["campaign_id", "next_attempt_at"])
    op.create_index("ix_message_triage", "message", ["triage_state", "internal_date"])


def downgrade() -> None:
    op.drop_index("ix_message_triage", table_name="message")
    op.drop_index("ix_contact_campaign_retry", table_name="contact")
    op.drop_index("ix_contact_progress", table_name="contact")
