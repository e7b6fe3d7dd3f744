"""Report comments.

A consultant's comments on a collectivity's barometer, per channel or for the whole report
(channel NULL), signed (author, and the web account when written in the back office) and
dated; shown in the personal report (``reports.render_personal``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 16:00:19.861995+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("collectivity_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("web_account_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_report_comment_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["collectivity_id"],
            ["collectivity.id"],
            name=op.f("fk_report_comment_collectivity_id_collectivity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["web_account_id"],
            ["web_account.id"],
            name=op.f("fk_report_comment_web_account_id_web_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_comment")),
    )
    with op.batch_alter_table("report_comment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_report_comment_target", ["campaign_id", "collectivity_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("report_comment", schema=None) as batch_op:
        batch_op.drop_index("ix_report_comment_target")

    op.drop_table("report_comment")
