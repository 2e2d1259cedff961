"""The events outbox: every state change that matters writes its event in the same
transaction; a relay delivers them to the broker, the feed serves them to customers.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("position", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column(
            "transaction_id",
            sa.BigInteger(),
            server_default=sa.text("(pg_current_xact_id()::text)::bigint"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("accounts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("user_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("traceparent", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_events")),
        sa.UniqueConstraint("id", name=op.f("uq_events_id")),
    )
    op.create_index("ix_events_user_ids", "events", ["user_ids"], postgresql_using="gin")
    op.create_index(
        "ix_events_transaction_id_position", "events", ["transaction_id", "position"]
    )
    op.create_index(
        "ix_events_undelivered",
        "events",
        ["transaction_id", "position"],
        postgresql_where=sa.text("delivered_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("events")
