from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, DateTime, Text, Uuid, bindparam, cast, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.tables import accounts, ledger_entries, transfers
from application.ports.ledger import AccountTotals, LedgerRepository
from domain.errors import AccountNotFound
from domain.ledger import Posting
from domain.transfer import LedgerEntry, Transfer

# Foreign keys are checked at the end of the statement, so the entries may reference the
# transfer inserted by the same statement. Entry sequence doubles as the account's entry count.
_RECORD_POSTING = text(
    """
    WITH new_transfer AS (
        INSERT INTO transfers
            (id, from_account_id, to_account_id, amount, currency, description, created_at)
        VALUES (:transfer_id, :from_account_id, :to_account_id, :amount, :currency,
                :description, :created_at)
    ), new_entries AS (
        INSERT INTO ledger_entries
            (id, account_id, transfer_id, sequence, amount, balance_after, created_at)
        VALUES
            (:debit_id, :from_account_id, :transfer_id, :debit_sequence, :debit_amount,
             :debit_balance, :created_at),
            (:credit_id, :to_account_id, :transfer_id, :credit_sequence, :credit_amount,
             :credit_balance, :created_at)
    )
    UPDATE accounts
    SET balance = moved.balance, entry_count = moved.entry_count
    FROM (VALUES
        (CAST(:from_account_id AS uuid), CAST(:debit_balance AS bigint),
         CAST(:debit_sequence AS bigint)),
        (CAST(:to_account_id AS uuid), CAST(:credit_balance AS bigint),
         CAST(:credit_sequence AS bigint))
    ) AS moved (id, balance, entry_count)
    WHERE accounts.id = moved.id
    """
).bindparams(
    bindparam("transfer_id", type_=Uuid),
    bindparam("from_account_id", type_=Uuid),
    bindparam("to_account_id", type_=Uuid),
    bindparam("debit_id", type_=Uuid),
    bindparam("credit_id", type_=Uuid),
    bindparam("created_at", type_=DateTime(timezone=True)),
    bindparam("description", type_=Text),
)


def _transfer(row: Any) -> Transfer:
    return Transfer(
        id=row.id,
        from_account_id=row.from_account_id,
        to_account_id=row.to_account_id,
        amount=row.amount,
        currency=row.currency,
        description=row.description,
        created_at=row.created_at,
    )


def _entry(row: Any) -> LedgerEntry:
    return LedgerEntry(
        id=row.id,
        account_id=row.account_id,
        transfer_id=row.transfer_id,
        sequence=row.sequence,
        amount=row.amount,
        balance_after=row.balance_after,
        created_at=row.created_at,
    )


def sum_as_bigint(expression: Any, where: Any = None) -> Any:
    """SUM as a BIGINT, 0 over no rows; PostgreSQL's SUM(bigint) is NUMERIC otherwise."""
    total = func.sum(expression) if where is None else func.sum(expression).filter(where)
    return cast(func.coalesce(total, 0), BigInteger)


_TRANSFER = select(transfers).where(transfers.c.id == bindparam("transfer_id"))
_NEWEST = 2**63 - 1
_ENTRIES = (
    select(ledger_entries)
    .where(
        ledger_entries.c.account_id == bindparam("account_id"),
        ledger_entries.c.sequence < bindparam("before_sequence"),
    )
    .order_by(ledger_entries.c.sequence.desc())
    .limit(bindparam("limit"))
)
_amount = ledger_entries.c.amount
_TOTALS = (
    select(
        accounts.c.balance,
        sum_as_bigint(_amount, _amount > 0).label("total_in"),
        sum_as_bigint(-_amount, _amount < 0).label("total_out"),
        func.count().filter(_amount > 0).label("count_in"),
        func.count().filter(_amount < 0).label("count_out"),
    )
    .select_from(accounts.outerjoin(ledger_entries))
    .where(accounts.c.id == bindparam("account_id"))
    .group_by(accounts.c.id)
)


class SqlAlchemyLedgerRepository(LedgerRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(self, posting: Posting) -> None:
        """One statement, one round trip: the transfer, both entries, both new balances."""
        transfer, debit, credit = posting.transfer, posting.debit, posting.credit
        await self._session.execute(
            _RECORD_POSTING,
            {
                "transfer_id": transfer.id,
                "from_account_id": transfer.from_account_id,
                "to_account_id": transfer.to_account_id,
                "amount": transfer.amount,
                "currency": transfer.currency,
                "description": transfer.description,
                "created_at": transfer.created_at,
                "debit_id": debit.id,
                "debit_sequence": debit.sequence,
                "debit_amount": debit.amount,
                "debit_balance": debit.balance_after,
                "credit_id": credit.id,
                "credit_sequence": credit.sequence,
                "credit_amount": credit.amount,
                "credit_balance": credit.balance_after,
            },
        )

    async def get_transfer(self, transfer_id: UUID) -> Transfer | None:
        row = (await self._session.execute(_TRANSFER, {"transfer_id": transfer_id})).first()
        return None if row is None else _transfer(row)

    async def entries(
        self, account_id: UUID, *, before_sequence: int | None, limit: int
    ) -> list[LedgerEntry]:
        rows = await self._session.execute(
            _ENTRIES,
            {
                "account_id": account_id,
                # Sequences start at 1: "below the maximum" means the newest page.
                "before_sequence": _NEWEST if before_sequence is None else before_sequence,
                "limit": limit,
            },
        )
        return [_entry(row) for row in rows]

    async def totals(self, account_id: UUID) -> AccountTotals:
        row = (await self._session.execute(_TOTALS, {"account_id": account_id})).first()
        if row is None:
            raise AccountNotFound(f"Account {account_id} not found.")
        return AccountTotals(
            balance=row.balance,
            total_in=row.total_in,
            total_out=row.total_out,
            count_in=row.count_in,
            count_out=row.count_out,
        )
