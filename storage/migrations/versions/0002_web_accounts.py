"""Web accounts.

The web back office and portal (``web/``): accounts with their role (a collectivity account
bound to one collectivity, checked by a constraint), single-use invitations (hash only) and
failed log-ins for the rate limit.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 13:04:55.355392+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=254), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_login_failure")),
    )
    with op.batch_alter_table("web_login_failure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_login_failure_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_web_login_failure_client"), ["client"], unique=False)
        batch_op.create_index(batch_op.f("ix_web_login_failure_login"), ["login"], unique=False)

    op.create_table(
        "web_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("collectivity_id", sa.Integer(), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("session_epoch", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(role = 'collectivity' AND collectivity_id IS NOT NULL) OR (role <> 'collectivity' AND collectivity_id IS NULL)",
            name=op.f("ck_web_account_role_collectivity"),
        ),
        sa.ForeignKeyConstraint(
            ["collectivity_id"],
            ["collectivity.id"],
            name=op.f("fk_web_account_collectivity_id_collectivity"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_account")),
        sa.UniqueConstraint("login", name=op.f("uq_web_account_login")),
    )
    with op.batch_alter_table("web_account", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_web_account_collectivity_id"), ["collectivity_id"], unique=False
        )

    op.create_table(
        "web_invite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["web_account.id"],
            name=op.f("fk_web_invite_account_id_web_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_invite")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_invite_token_hash")),
    )
    with op.batch_alter_table("web_invite", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_invite_account_id"), ["account_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("web_invite", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_invite_account_id"))

    op.drop_table("web_invite")
    with op.batch_alter_table("web_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_account_collectivity_id"))

    op.drop_table("web_account")
    with op.batch_alter_table("web_login_failure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_login_failure_login"))
        batch_op.drop_index(batch_op.f("ix_web_login_failure_client"))
        batch_op.drop_index(batch_op.f("ix_web_login_failure_at"))

    op.drop_table("web_login_failure")
