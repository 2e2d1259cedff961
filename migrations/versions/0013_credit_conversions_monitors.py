"""Overdraft limits and currency conversions.

Every account gets `overdraft_limit` (0: none), set by an operator, and the customer balance
CHECK becomes `balance >= -overdraft_limit`, widened by `debt_above_limit`. The bank gets a
third kind of account, `fx` (one per currency, the other side of conversion legs, which may
go negative like the funding accounts); transfers get the kind `conversion` and the
`conversion_id` both legs carry; `conversions` keeps each conversion with its rate.

Why the second column: an operator may lower a limit below the account's current debt (the
balance stays where it is, further debits are refused). A plain `balance >=
-overdraft_limit` would refuse that very UPDATE. `debt_above_limit` is the part of the debt
the lowered limit no longer covers; it is recomputed to `max(0, -balance - overdraft_limit)`
by every write of the row, so it only shrinks as the debt is repaid, and a debit past the
limit is still refused by the database even if the domain let it through.

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-05 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "accounts",
        sa.Column("overdraft_limit", sa.BigInteger(), server_default="0", nullable=False),
    )
    op.add_column(
        "accounts",
        sa.Column("debt_above_limit", sa.BigInteger(), server_default="0", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_accounts_overdraft_limit_non_negative"), "accounts", "overdraft_limit >= 0"
    )
    op.create_check_constraint(
        op.f("ck_accounts_debt_above_limit_non_negative"), "accounts", "debt_above_limit >= 0"
    )
    op.drop_constraint(op.f("ck_accounts_customer_balance_non_negative"), "accounts")
    op.create_check_constraint(
        op.f("ck_accounts_customer_balance_within_overdraft"),
        "accounts",
        "kind <> 'customer' OR balance >= -(overdraft_limit + debt_above_limit)",
    )
    op.drop_constraint(op.f("ck_accounts_kind_known"), "accounts")
    op.create_check_constraint(
        op.f("ck_accounts_kind_known"), "accounts", "kind IN ('customer', 'funding', 'fx')"
    )

    op.add_column("transfers", sa.Column("conversion_id", sa.Uuid(), nullable=True))
    op.drop_constraint(op.f("ck_transfers_kind_known"), "transfers")
    op.create_check_constraint(
        op.f("ck_transfers_kind_known"),
        "transfers",
        "kind IN ('transfer', 'deposit', 'withdrawal', 'reversal', 'conversion')",
    )
    op.create_check_constraint(
        op.f("ck_transfers_conversion_legs_named"),
        "transfers",
        "(kind = 'conversion') = (conversion_id IS NOT NULL)",
    )
    op.create_index(
        "ix_transfers_conversion_id",
        "transfers",
        ["conversion_id"],
        postgresql_where=sa.text("conversion_id IS NOT NULL"),
    )
    op.create_table(
        "conversions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("from_account_id", sa.Uuid(), nullable=False),
        sa.Column("to_account_id", sa.Uuid(), nullable=False),
        sa.Column("source_amount", sa.BigInteger(), nullable=False),
        sa.Column("source_currency", sa.Text(), nullable=False),
        sa.Column("target_amount", sa.BigInteger(), nullable=False),
        sa.Column("target_currency", sa.Text(), nullable=False),
        sa.Column("rate", sa.Text(), nullable=False),
        sa.Column("debit_transfer_id", sa.Uuid(), nullable=False),
        sa.Column("credit_transfer_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("reference", sa.Text(), nullable=True),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "source_amount > 0", name=op.f("ck_conversions_source_amount_positive")
        ),
        sa.CheckConstraint(
            "target_amount > 0", name=op.f("ck_conversions_target_amount_positive")
        ),
        sa.CheckConstraint(
            "source_currency <> target_currency", name=op.f("ck_conversions_currencies_differ")
        ),
        sa.CheckConstraint(
            "rate ~ '^(0|[1-9][0-9]*)([.][0-9]+)?$'", name=op.f("ck_conversions_rate_decimal")
        ),
        sa.CheckConstraint(
            "jsonb_typeof(metadata) = 'object'", name=op.f("ck_conversions_metadata_object")
        ),
        sa.ForeignKeyConstraint(
            ["from_account_id"], ["accounts.id"], name=op.f("fk_conversions_from_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["to_account_id"], ["accounts.id"], name=op.f("fk_conversions_to_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["debit_transfer_id"],
            ["transfers.id"],
            name=op.f("fk_conversions_debit_transfer_id_transfers"),
        ),
        sa.ForeignKeyConstraint(
            ["credit_transfer_id"],
            ["transfers.id"],
            name=op.f("fk_conversions_credit_transfer_id_transfers"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_conversions_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversions")),
    )


def downgrade() -> None:
    """Refused (by the restored CHECKs) while a customer balance is below zero or any
    conversion is on the books: this is a way back for a database that used neither."""
    op.drop_table("conversions")
    op.drop_index("ix_transfers_conversion_id", table_name="transfers")
    op.drop_constraint(op.f("ck_transfers_conversion_legs_named"), "transfers")
    op.drop_constraint(op.f("ck_transfers_kind_known"), "transfers")
    op.create_check_constraint(
        op.f("ck_transfers_kind_known"),
        "transfers",
        "kind IN ('transfer', 'deposit', 'withdrawal', 'reversal')",
    )
    op.drop_column("transfers", "conversion_id")
    op.drop_constraint(op.f("ck_accounts_kind_known"), "accounts")
    op.create_check_constraint(
        op.f("ck_accounts_kind_known"), "accounts", "kind IN ('customer', 'funding')"
    )
    op.drop_constraint(op.f("ck_accounts_customer_balance_within_overdraft"), "accounts")
    op.create_check_constraint(
        op.f("ck_accounts_customer_balance_non_negative"),
        "accounts",
        "kind = 'funding' OR balance >= 0",
    )
    op.drop_constraint(op.f("ck_accounts_debt_above_limit_non_negative"), "accounts")
    op.drop_constraint(op.f("ck_accounts_overdraft_limit_non_negative"), "accounts")
    op.drop_column("accounts", "debt_above_limit")
    op.drop_column("accounts", "overdraft_limit")
