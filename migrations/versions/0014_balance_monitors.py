"""balance_monitors: edge-triggered conditions on an account's balance or available amount,
read by every movement of the account, in its transaction.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 05:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# 0006's function, with the monitors of a watched account as a JSON array (null for none).
_LOCK_ACCOUNTS = """
CREATE FUNCTION lock_accounts(account_ids uuid[], at timestamptz)
RETURNS TABLE (account accounts, held bigint{returns})
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
BEGIN
    -- In id order: two movements in opposite directions queue, never deadlock.
    PERFORM 1 FROM accounts WHERE accounts.id = ANY (account_ids)
        ORDER BY accounts.id FOR UPDATE;
    RETURN QUERY
    SELECT a, CAST(COALESCE((
        SELECT sum(t.amount) FROM transfers AS t
        WHERE t.from_account_id = a.id AND t.status = 'pending'
          AND (t.expires_at IS NULL OR t.expires_at > at)
    ), 0) AS bigint){monitors}
    FROM accounts AS a WHERE a.id = ANY (account_ids);
END
$$
"""
_MONITORS = """,
    CASE WHEN a.monitor_count > 0 THEN (
        SELECT json_agg(json_build_object(
            'id', m.id, 'account_id', m.account_id, 'field', m.field, 'op', m.op, 'value', m.value,
            'description', m.description, 'created_at', m.created_at
        ) ORDER BY m.created_at, m.id)
        FROM balance_monitors AS m WHERE m.account_id = a.id
    ) END"""


def upgrade() -> None:
    op.create_table(
        "balance_monitors",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("field", sa.Text(), nullable=False),
        sa.Column("op", sa.Text(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "field IN ('balance', 'available')", name=op.f("ck_balance_monitors_field_known")
        ),
        sa.CheckConstraint(
            "op IN ('lt', 'lte', 'gt', 'gte', 'eq')", name=op.f("ck_balance_monitors_op_known")
        ),
        sa.CheckConstraint(
            "char_length(description) <= 140",
            name=op.f("ck_balance_monitors_description_length"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_balance_monitors_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_balance_monitors")),
    )
    op.create_index(
        "ix_balance_monitors_account_id_created_at",
        "balance_monitors",
        ["account_id", "created_at", "id"],
    )
    # Kept with the monitors (no account has one yet): a movement reads the monitors of an
    # account only when it has some, so the many with none cost no read.
    op.add_column(
        "accounts",
        sa.Column("monitor_count", sa.Integer(), server_default="0", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_accounts_monitor_count_non_negative"), "accounts", "monitor_count >= 0"
    )
    # The lock also reads a watched account's monitors, after its locks are granted (a new
    # snapshot at READ COMMITTED: a monitor made while the lock was awaited is seen), so a
    # movement needs no round trip of its own for them.
    op.execute("DROP FUNCTION lock_accounts(uuid[], timestamptz)")
    op.execute(_LOCK_ACCOUNTS.format(returns=", monitors json", monitors=_MONITORS))


def downgrade() -> None:
    op.execute("DROP FUNCTION lock_accounts(uuid[], timestamptz)")
    op.execute(_LOCK_ACCOUNTS.format(returns="", monitors=""))
    op.drop_constraint(op.f("ck_accounts_monitor_count_non_negative"), "accounts", type_="check")
    op.drop_column("accounts", "monitor_count")
    op.drop_index("ix_balance_monitors_account_id_created_at", table_name="balance_monitors")
    op.drop_table("balance_monitors")
