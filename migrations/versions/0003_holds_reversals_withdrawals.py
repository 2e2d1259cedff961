"""Transfers get a kind and a status: holds (two-phase), reversals, withdrawals; batch
outcomes for idempotency keys.

Existing transfers become what they were: posted, in full; those from a funding account
are deposits.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "transfers", sa.Column("kind", sa.Text(), server_default="transfer", nullable=False)
    )
    op.add_column(
        "transfers", sa.Column("status", sa.Text(), server_default="posted", nullable=False)
    )
    op.add_column("transfers", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("transfers", sa.Column("posted_amount", sa.BigInteger(), nullable=True))
    op.add_column(
        "transfers",
        sa.Column("reversed_amount", sa.BigInteger(), server_default="0", nullable=False),
    )
    op.add_column("transfers", sa.Column("reversal_of", sa.Uuid(), nullable=True))
    op.execute("UPDATE transfers SET posted_amount = amount")
    op.execute(
        "UPDATE transfers SET kind = 'deposit' FROM accounts"
        " WHERE accounts.id = transfers.from_account_id AND accounts.kind = 'funding'"
    )
    op.create_foreign_key(
        op.f("fk_transfers_reversal_of_transfers"), "transfers", "transfers", ["reversal_of"], ["id"]
    )
    for name, condition in (
        ("kind_known", "kind IN ('transfer', 'deposit', 'withdrawal', 'reversal')"),
        ("status_known", "status IN ('posted', 'pending', 'voided', 'expired')"),
        ("posted_amount_when_posted", "(status = 'posted') = (posted_amount IS NOT NULL)"),
        ("posted_amount_within_amount", "posted_amount > 0 AND posted_amount <= amount"),
        (
            "reversed_within_posted",
            "reversed_amount >= 0 AND reversed_amount <= coalesce(posted_amount, 0)",
        ),
        ("reversal_names_original", "(kind = 'reversal') = (reversal_of IS NOT NULL)"),
        ("only_holds_expire", "expires_at IS NULL OR kind = 'transfer'"),
    ):
        op.create_check_constraint(op.f(f"ck_transfers_{name}"), "transfers", condition)
    op.create_index(
        "ix_transfers_pending_from_account_id",
        "transfers",
        ["from_account_id"],
        postgresql_where=sa.text("status = 'pending'"),
        postgresql_include=["amount", "expires_at"],
    )
    op.create_index(
        "ix_transfers_pending_expires_at",
        "transfers",
        ["expires_at"],
        postgresql_where=sa.text("status = 'pending' AND expires_at IS NOT NULL"),
    )
    op.create_index(
        op.f("ix_transfers_reversal_of"),
        "transfers",
        ["reversal_of"],
        postgresql_where=sa.text("reversal_of IS NOT NULL"),
    )
    op.add_column("idempotency_keys", sa.Column("error_index", sa.Integer(), nullable=True))
    op.add_column(
        "idempotency_keys",
        sa.Column("items", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("idempotency_keys", "items")
    op.drop_column("idempotency_keys", "error_index")
    op.drop_index(op.f("ix_transfers_reversal_of"), table_name="transfers")
    op.drop_index("ix_transfers_pending_expires_at", table_name="transfers")
    op.drop_index("ix_transfers_pending_from_account_id", table_name="transfers")
    op.drop_constraint(op.f("fk_transfers_reversal_of_transfers"), "transfers", type_="foreignkey")
    for column in ("reversal_of", "reversed_amount", "posted_amount", "expires_at", "status", "kind"):
        op.drop_column("transfers", column)
