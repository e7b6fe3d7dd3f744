"""${message[:1].upper() + message[1:]}.
% if not down_revision:

The first revision: every table of storage/models.py as it stood when this file was
generated, with the names that ``Base.metadata``'s naming convention gives constraints and
indexes. Times are ``DateTime(timezone=True)`` (``storage.types.UTCDateTime`` in the models).

Revision ID: ${up_revision}
Revises: nothing (first revision)
% else:

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
% endif
Create Date: ${create_date}
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}
revision: str = ${repr(up_revision)}
down_revision: str | Sequence[str] | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
