"""Metadata and references on transfers and accounts, indexes to search transfers and read
balances at a moment, account status (active, frozen, closed), entry times kept in order.

Existing rows: accounts are active with no name and empty metadata, and learn the time of
their newest entry; transfers have empty metadata and no reference.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 07:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EMPTY = sa.text("'{}'::jsonb")


def upgrade() -> None:
    op.add_column(
        "accounts", sa.Column("status", sa.Text(), server_default="active", nullable=False)
    )
    op.add_column("accounts", sa.Column("name", sa.Text(), nullable=True))
    op.add_column(
        "accounts",
        sa.Column("metadata", postgresql.JSONB(astext_type=sa.Text()), server_default=_EMPTY, nullable=False),
    )
    op.add_column("accounts", sa.Column("last_entry_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE accounts SET last_entry_at = newest.at FROM"
        " (SELECT account_id, max(created_at) AS at FROM ledger_entries GROUP BY account_id)"
        " AS newest WHERE newest.account_id = accounts.id"
    )
    for name, condition in (
        ("status_known", "status IN ('active', 'frozen', 'closed')"),
        ("name_length", "char_length(name) BETWEEN 1 AND 80"),
        ("metadata_object", "jsonb_typeof(metadata) = 'object'"),
    ):
        op.create_check_constraint(op.f(f"ck_accounts_{name}"), "accounts", condition)

    op.add_column("transfers", sa.Column("reference", sa.Text(), nullable=True))
    op.add_column(
        "transfers",
        sa.Column("metadata", postgresql.JSONB(astext_type=sa.Text()), server_default=_EMPTY, nullable=False),
    )
    op.add_column("transfers", sa.Column("created_by", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_transfers_created_by_users"), "transfers", "users", ["created_by"], ["id"]
    )
    for name, condition in (
        ("reference_visible_ascii", "reference ~ '^[\\x21-\\x7E]{1,64}$'"),
        ("metadata_object", "jsonb_typeof(metadata) = 'object'"),
    ):
        op.create_check_constraint(op.f(f"ck_transfers_{name}"), "transfers", condition)
    op.create_index(
        "uq_transfers_created_by_reference",
        "transfers",
        ["created_by", "reference"],
        unique=True,
        postgresql_where=sa.text("reference IS NOT NULL"),
    )
    op.create_index(
        "ix_transfers_reference",
        "transfers",
        ["reference"],
        postgresql_where=sa.text("reference IS NOT NULL"),
    )
    op.create_index(
        "ix_transfers_from_account_id_created_at",
        "transfers",
        ["from_account_id", "created_at", "id"],
    )
    op.create_index(
        "ix_transfers_to_account_id_created_at", "transfers", ["to_account_id", "created_at", "id"]
    )
    op.create_index(
        "ix_transfers_metadata",
        "transfers",
        ["metadata"],
        postgresql_using="gin",
        postgresql_ops={"metadata": "jsonb_path_ops"},
        postgresql_where=sa.text("metadata <> '{}'::jsonb"),
    )
    op.create_index(
        op.f("ix_ledger_entries_account_id_created_at"),
        "ledger_entries",
        ["account_id", "created_at"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_ledger_entries_account_id_created_at"), table_name="ledger_entries")
    for index in (
        "ix_transfers_metadata",
        "ix_transfers_to_account_id_created_at",
        "ix_transfers_from_account_id_created_at",
        "ix_transfers_reference",
        "uq_transfers_created_by_reference",
    ):
        op.drop_index(index, table_name="transfers")
    op.drop_constraint(op.f("fk_transfers_created_by_users"), "transfers", type_="foreignkey")
    for column in ("created_by", "metadata", "reference"):
        op.drop_column("transfers", column)
    for column in ("last_entry_at", "metadata", "name", "status"):
        op.drop_column("accounts", column)
