"""An index on message (persona, classification), for the mail tracker.

For every batch it records, the tracker reads the subjects of the persona's own sent copies
(``classification = 'own_copy'``), and at each connection the messages stored but not yet
processed (``classification IS NULL``). Through the persona index alone, both read every
message the persona ever received: a cost that grows with the mailbox, batch after batch.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 21:55:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_message_persona_class", "message", ["persona_id", "classification"])


def downgrade() -> None:
    op.drop_index("ix_message_persona_class", table_name="message")
