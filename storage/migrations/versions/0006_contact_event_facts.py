"""Contact columns kept from the timeline by triggers, for the statistics.

``contact.ev_*`` hold what the statistics read of a contact's events and grid answers
(origin, letter reply, visit durations, call outcome, ``detailed``); triggers on
``contact_event`` and ``observation`` keep them in the writer's transaction, and the
columns of the existing contacts are computed here by the same SQL
(``storage.event_facts``; the module is imported, not copied, so that the backfill and the
triggers are the rules the statistics read).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 19:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.event_facts import backfill_sql, drop_ddl, trigger_ddl

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG = ("ev_origin_us", "ev_reply_us", "ev_waiting_us", "ev_service_us", "ev_pickup_us")


def upgrade() -> None:
    for name in _BIG:
        op.add_column("contact", sa.Column(name, sa.BigInteger(), nullable=True))
    op.add_column("contact", sa.Column("ev_picked", sa.SmallInteger(), nullable=True))
    op.add_column("contact", sa.Column("ev_transfers", sa.BigInteger(), nullable=True))
    op.add_column("contact", sa.Column("ev_attempts", sa.BigInteger(), nullable=True))
    op.add_column(
        "contact",
        sa.Column("ev_detailed", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    dialect = op.get_bind().dialect.name
    op.execute(sa.text(backfill_sql(dialect)))
    for statement in trigger_ddl(dialect):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_ddl(op.get_bind().dialect.name):
        op.execute(statement)
    with op.batch_alter_table("contact", schema=None) as batch_op:
        for name in (*_BIG, "ev_picked", "ev_transfers", "ev_attempts", "ev_detailed"):
            batch_op.drop_column(name)
