"""The per-account hash chain: ledger_entries.entry_hash and accounts.head_hash.

Every entry already written is chained here, account by account in sequence order, with the
one definition of the chain (domain/chain.py, documented in docs/statements.md): from then
on the write path hashes each entry in the statement that writes it. The entries are read a
page at a time in (account_id, sequence) order, so the migration's memory does not grow with
the ledger.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 05:30:00
"""

from collections.abc import Sequence
from uuid import UUID

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from domain.chain import GENESIS_HASH, chain_hash, encode_entry

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAGE = 5_000

_PAGE = sa.text(
    "SELECT e.id, e.account_id, e.sequence, e.transfer_id, e.amount, e.balance_after,"
    " e.created_at, a.currency, t.kind"
    " FROM ledger_entries AS e JOIN accounts AS a ON a.id = e.account_id"
    " JOIN transfers AS t ON t.id = e.transfer_id"
    " WHERE (e.account_id, e.sequence) > (:after_account, :after_sequence)"
    " ORDER BY e.account_id, e.sequence LIMIT :page"
)
_SET_ENTRIES = sa.text(
    "UPDATE ledger_entries SET entry_hash = u.entry_hash"
    " FROM unnest(:ids, :hashes) AS u (id, entry_hash) WHERE ledger_entries.id = u.id"
).bindparams(
    sa.bindparam("ids", type_=postgresql.ARRAY(sa.Uuid())),
    sa.bindparam("hashes", type_=postgresql.ARRAY(sa.LargeBinary())),
)
_SET_HEADS = sa.text(
    "UPDATE accounts SET head_hash = u.head_hash"
    " FROM unnest(:ids, :hashes) AS u (id, head_hash) WHERE accounts.id = u.id"
).bindparams(
    sa.bindparam("ids", type_=postgresql.ARRAY(sa.Uuid())),
    sa.bindparam("hashes", type_=postgresql.ARRAY(sa.LargeBinary())),
)


def upgrade() -> None:
    op.add_column(
        "accounts",
        sa.Column(
            "head_hash",
            sa.LargeBinary(),
            server_default=sa.text("decode(repeat('00', 32), 'hex')"),
            nullable=False,
        ),
    )
    op.create_check_constraint(
        op.f("ck_accounts_head_hash_sha256"), "accounts", "octet_length(head_hash) = 32"
    )
    op.add_column("ledger_entries", sa.Column("entry_hash", sa.LargeBinary(), nullable=True))
    _chain_existing_entries(op.get_bind())
    op.alter_column("ledger_entries", "entry_hash", nullable=False)
    op.create_check_constraint(
        op.f("ck_ledger_entries_entry_hash_sha256"),
        "ledger_entries",
        "octet_length(entry_hash) = 32",
    )


def _chain_existing_entries(connection: sa.Connection) -> None:
    after_account, after_sequence = UUID(int=0), 0
    previous = GENESIS_HASH
    while True:
        rows = connection.execute(
            _PAGE,
            {"after_account": after_account, "after_sequence": after_sequence, "page": PAGE},
        ).all()
        if not rows:
            return
        ids, hashes, heads = [], [], {}
        for row in rows:
            if row.account_id != after_account:
                previous = GENESIS_HASH
            previous = chain_hash(
                previous,
                encode_entry(
                    account_id=row.account_id,
                    sequence=row.sequence,
                    transfer_id=row.transfer_id,
                    amount=row.amount,
                    balance_after=row.balance_after,
                    currency=row.currency,
                    created_at=row.created_at,
                    transfer_kind=row.kind,
                ),
            )
            ids.append(row.id)
            hashes.append(previous)
            heads[row.account_id] = previous
            after_account, after_sequence = row.account_id, row.sequence
        connection.execute(_SET_ENTRIES, {"ids": ids, "hashes": hashes})
        connection.execute(_SET_HEADS, {"ids": list(heads), "hashes": list(heads.values())})


def downgrade() -> None:
    op.drop_constraint(
        op.f("ck_ledger_entries_entry_hash_sha256"), "ledger_entries", type_="check"
    )
    op.drop_column("ledger_entries", "entry_hash")
    op.drop_constraint(op.f("ck_accounts_head_hash_sha256"), "accounts", type_="check")
    op.drop_column("accounts", "head_hash")
