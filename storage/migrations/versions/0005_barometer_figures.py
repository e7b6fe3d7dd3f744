"""Barometer figures: a closed campaign's national and peer figures, kept for the portal.

Computed once when the campaign is closed (or by the first reader), as compressed JSON, with
the data version they were computed on (``reports.figures_store``): every web worker and a
restarted server read them instead of the whole campaign. Added by the helper `warm`; if
another 0005 lands first, re-chain this one after it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 18:36:12.871501+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "barometer_figures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("options", sa.String(length=400), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_barometer_figures_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_barometer_figures")),
        sa.UniqueConstraint(
            "campaign_id", "options", name=op.f("uq_barometer_figures_campaign_id_options")
        ),
    )


def downgrade() -> None:
    op.drop_table("barometer_figures")
