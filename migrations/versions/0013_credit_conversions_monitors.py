"""Overdraft limits: every account gets `overdraft_limit` (0: none), set by an operator, and
the customer balance CHECK becomes `balance >= -overdraft_limit`, widened by
`debt_above_limit`.

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

revision: str = "0013"
down_revision: str | None = "0010"
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
        "kind = 'funding' OR balance >= -(overdraft_limit + debt_above_limit)",
    )


def downgrade() -> None:
    """Refused (by the restored CHECK) while a customer balance is below zero: repay first."""
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
