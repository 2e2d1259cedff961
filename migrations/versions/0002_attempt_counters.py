"""Attempt counters for login and registration throttling, shared by every instance.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 15:41:06.571732
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attempt_counters",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("count > 0", name=op.f("ck_attempt_counters_count_positive")),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_attempt_counters")),
    )


def downgrade() -> None:
    op.drop_table("attempt_counters")
