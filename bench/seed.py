"""Bench data, written with COPY: users, accounts funded by real deposits (so the ledger
reconciles), and the same accounts and balances in the baseline's tables."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
from argon2 import PasswordHasher

from adapters.jwt_tokens import JwtTokenIssuer
from adapters.system_clock import SystemClock
from domain.account import funding_account_id
from domain.chain import GENESIS_HASH, chain_hash, encode_entry

BASELINE_SCHEMA = """
CREATE TABLE IF NOT EXISTS baseline_accounts (id uuid PRIMARY KEY, balance bigint NOT NULL);
CREATE TABLE IF NOT EXISTS baseline_transfers (
    id uuid PRIMARY KEY,
    from_account_id uuid NOT NULL REFERENCES baseline_accounts (id),
    to_account_id uuid NOT NULL REFERENCES baseline_accounts (id),
    amount bigint NOT NULL,
    currency text NOT NULL,
    description text,
    created_at timestamptz NOT NULL
);
"""


ACCOUNT_COLUMNS = (
    "id",
    "owner_id",
    "kind",
    "currency",
    "balance",
    "entry_count",
    "created_at",
    "head_hash",
)
TRANSFER_COLUMNS = (
    "id",
    "from_account_id",
    "to_account_id",
    "amount",
    "currency",
    "description",
    "created_at",
    "kind",
    "status",
    "posted_amount",
)


# Every bench user's password, on a throwaway database; h) logs in with it.
PASSWORD = "bench-password"  # noqa: S105


def user_email(n: int) -> str:
    """The n-th seeded user's email: users are seeded in the order of their accounts."""
    return f"bench{n}@example.com"


@dataclass(frozen=True)
class BenchAccount:
    id: uuid.UUID
    owner_id: uuid.UUID
    token: str


def eur_entry_hash(
    previous: bytes,
    account_id: uuid.UUID,
    sequence: int,
    transfer_id: uuid.UUID,
    amount: int,
    balance_after: int,
    created_at: datetime,
    kind: str,
) -> bytes:
    """A bench entry's chain hash (every bench account holds EUR): the seed's deposits and the
    database-limit contender's transfers chain like hexbank's own entries."""
    return chain_hash(
        previous,
        encode_entry(
            account_id=account_id,
            sequence=sequence,
            transfer_id=transfer_id,
            amount=amount,
            balance_after=balance_after,
            currency="EUR",
            created_at=created_at,
            transfer_kind=kind,
        ),
    )


async def seed(
    dsn: str, secret: str, users: int, accounts_per_user: int, balance: int
) -> list[BenchAccount]:
    now = datetime.now(UTC)
    tokens = JwtTokenIssuer(secret, timedelta(days=1), SystemClock())
    password_hash = PasswordHasher().hash(PASSWORD)
    user_rows, accounts = [], []
    for n in range(users):
        user_id = uuid.uuid4()
        user_rows.append((user_id, user_email(n), f"Bench {n}", password_hash, True, now))
        token = tokens.issue(user_id).token
        accounts += [BenchAccount(uuid.uuid4(), user_id, token) for _ in range(accounts_per_user)]

    funding = funding_account_id("EUR")
    total = balance * len(accounts)
    transfer_rows, entry_rows = [], []
    account_rows: list[tuple[uuid.UUID, uuid.UUID | None, str, str, int, int, datetime, bytes]] = []
    funding_head = GENESIS_HASH

    for n, account in enumerate(accounts, start=1):
        transfer_id = uuid.uuid4()
        transfer_rows.append(
            (
                transfer_id,
                funding,
                account.id,
                balance,
                "EUR",
                None,
                now,
                "deposit",
                "posted",
                balance,
            )
        )
        # Each entry chained as the write path would have (domain/chain.py).
        funding_head = eur_entry_hash(
            funding_head, funding, n, transfer_id, -balance, -balance * n, now, "deposit"
        )
        head = eur_entry_hash(
            GENESIS_HASH, account.id, 1, transfer_id, balance, balance, now, "deposit"
        )
        entry_rows.append(
            (uuid.uuid4(), funding, transfer_id, n, -balance, -balance * n, now, funding_head)
        )
        entry_rows.append((uuid.uuid4(), account.id, transfer_id, 1, balance, balance, now, head))
        account_rows.append(
            (account.id, account.owner_id, "customer", "EUR", balance, 1, now, head)
        )
    account_rows.insert(
        0, (funding, None, "funding", "EUR", -total, len(accounts), now, funding_head)
    )

    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(BASELINE_SCHEMA)
        for table, rows, columns in (
            ("users", user_rows, None),
            ("accounts", account_rows, ACCOUNT_COLUMNS),
            ("transfers", transfer_rows, TRANSFER_COLUMNS),
            ("ledger_entries", entry_rows, None),
            ("baseline_accounts", [(a.id, balance) for a in accounts], None),
        ):
            await connection.copy_records_to_table(table, records=rows, columns=columns)
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return accounts
