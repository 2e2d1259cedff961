"""Indexes that keep every list bounded, whatever a user's history.

- accounts (owner_id, created_at, id): an owner's accounts are keyset-paged in creation
  order, read in index order and cut at the page size (it replaces the owner_id index).
- transfers (account, kind, created_at, id) and (account, status, created_at, id), from
  either side: a search by kind or status reads the matching transfers newest first and
  stops at the page size. With only the (account, created_at, id) index, a kind or status
  that matched nothing read the account's whole history to say so.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 23:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TRANSFER_INDEXES = {
    f"ix_transfers_{side}_account_id_{column}_created_at": [
        f"{side}_account_id",
        column,
        "created_at",
        "id",
    ]
    for side in ("from", "to")
    for column in ("kind", "status")
}


def upgrade() -> None:
    op.create_index(
        "ix_accounts_owner_id_created_at", "accounts", ["owner_id", "created_at", "id"]
    )
    op.drop_index("ix_accounts_owner_id", table_name="accounts")
    for name, columns in _TRANSFER_INDEXES.items():
        op.create_index(name, "transfers", columns)


def downgrade() -> None:
    for name in _TRANSFER_INDEXES:
        op.drop_index(name, table_name="transfers")
    op.create_index("ix_accounts_owner_id", "accounts", ["owner_id"])
    op.drop_index("ix_accounts_owner_id_created_at", table_name="accounts")
