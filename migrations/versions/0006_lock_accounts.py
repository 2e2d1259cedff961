"""lock_accounts(ids, at): lock the accounts in id order, then read them with what their
holds keep back, in one round trip. Two statements inside, so at READ COMMITTED the read takes
a new snapshot after the locks are granted: a hold committed while the lock was awaited
writes no account row, and one statement would still sum the holds as they were before.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 09:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION lock_accounts(account_ids uuid[], at timestamptz)
        RETURNS TABLE (account accounts, held bigint)
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
            ), 0) AS bigint)
            FROM accounts AS a WHERE a.id = ANY (account_ids);
        END
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION lock_accounts(uuid[], timestamptz)")
