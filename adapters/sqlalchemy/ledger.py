from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, bindparam, cast, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.tables import accounts, ledger_entries, transfers
from application.ports.ledger import (
    AccountTotals,
    BalanceMismatch,
    BrokenChain,
    ReconciliationReport,
    UnbalancedTransfer,
)
from domain.errors import AccountNotFound
from domain.ledger import Posting
from domain.transfer import LedgerEntry, Transfer

_new_balances = (
    update(accounts)
    .where(accounts.c.id == bindparam("account_id"))
    .values(balance=bindparam("new_balance"), entry_count=bindparam("new_entry_count"))
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


def _sum(expression: Any, where: Any = None) -> Any:
    """SUM as a BIGINT, 0 over no rows; PostgreSQL's SUM(bigint) is NUMERIC otherwise."""
    total = func.sum(expression) if where is None else func.sum(expression).filter(where)
    return cast(func.coalesce(total, 0), BigInteger)


class SqlAlchemyLedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(self, posting: Posting) -> None:
        transfer = posting.transfer
        await self._session.execute(
            insert(transfers).values(
                id=transfer.id,
                from_account_id=transfer.from_account_id,
                to_account_id=transfer.to_account_id,
                amount=transfer.amount,
                currency=transfer.currency,
                description=transfer.description,
                created_at=transfer.created_at,
            )
        )
        await self._session.execute(
            insert(ledger_entries).values(
                [
                    {
                        "id": entry.id,
                        "account_id": entry.account_id,
                        "transfer_id": entry.transfer_id,
                        "sequence": entry.sequence,
                        "amount": entry.amount,
                        "balance_after": entry.balance_after,
                        "created_at": entry.created_at,
                    }
                    for entry in (posting.debit, posting.credit)
                ]
            )
        )
        await self._session.execute(
            _new_balances,
            [
                {
                    "account_id": account.id,
                    "new_balance": account.balance,
                    "new_entry_count": account.entry_count,
                }
                for account in (posting.source, posting.destination)
            ],
        )

    async def get_transfer(self, transfer_id: UUID) -> Transfer | None:
        statement = select(transfers).where(transfers.c.id == transfer_id)
        row = (await self._session.execute(statement)).first()
        return None if row is None else _transfer(row)

    async def entries(
        self, account_id: UUID, *, before_sequence: int | None, limit: int
    ) -> list[LedgerEntry]:
        statement = select(ledger_entries).where(ledger_entries.c.account_id == account_id)
        if before_sequence is not None:
            statement = statement.where(ledger_entries.c.sequence < before_sequence)
        statement = statement.order_by(ledger_entries.c.sequence.desc()).limit(limit)
        return [_entry(row) for row in await self._session.execute(statement)]

    async def totals(self, account_id: UUID) -> AccountTotals:
        amount = ledger_entries.c.amount
        statement = (
            select(
                accounts.c.balance,
                _sum(amount, amount > 0).label("total_in"),
                _sum(-amount, amount < 0).label("total_out"),
                func.count().filter(amount > 0).label("count_in"),
                func.count().filter(amount < 0).label("count_out"),
            )
            .select_from(accounts.outerjoin(ledger_entries))
            .where(accounts.c.id == account_id)
            .group_by(accounts.c.id)
        )
        row = (await self._session.execute(statement)).first()
        if row is None:
            raise AccountNotFound(f"Account {account_id} not found.")
        return AccountTotals(
            balance=row.balance,
            total_in=row.total_in,
            total_out=row.total_out,
            count_in=row.count_in,
            count_out=row.count_out,
        )

    async def reconcile(self) -> ReconciliationReport:
        # One snapshot for every check, so concurrent postings cannot look like differences.
        await self._session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return ReconciliationReport(
            totals_by_currency=await self._totals_by_currency(),
            balance_mismatches=await self._balance_mismatches(),
            broken_chains=await self._broken_chains(),
            unbalanced_transfers=await self._unbalanced_transfers(),
        )

    async def _totals_by_currency(self) -> dict[str, int]:
        statement = (
            select(accounts.c.currency, _sum(ledger_entries.c.amount).label("total"))
            .select_from(ledger_entries.join(accounts))
            .group_by(accounts.c.currency)
        )
        return {row.currency: row.total for row in await self._session.execute(statement)}

    async def _balance_mismatches(self) -> list[BalanceMismatch]:
        sums = (
            select(ledger_entries.c.account_id, _sum(ledger_entries.c.amount).label("total"))
            .group_by(ledger_entries.c.account_id)
            .subquery()
        )
        total = func.coalesce(sums.c.total, 0)
        statement = (
            select(accounts.c.id, accounts.c.balance, total.label("total"))
            .select_from(accounts.outerjoin(sums, sums.c.account_id == accounts.c.id))
            .where(accounts.c.balance != total)
        )
        return [
            BalanceMismatch(row.id, row.balance, row.total)
            for row in await self._session.execute(statement)
        ]

    async def _broken_chains(self) -> list[BrokenChain]:
        running = (
            select(
                ledger_entries,
                cast(
                    func.sum(ledger_entries.c.amount).over(
                        partition_by=ledger_entries.c.account_id,
                        order_by=ledger_entries.c.sequence,
                    ),
                    BigInteger,
                ).label("running_sum"),
            )
        ).subquery()
        statement = select(running).where(running.c.balance_after != running.c.running_sum)
        return [
            BrokenChain(row.id, row.account_id, row.sequence, row.balance_after, row.running_sum)
            for row in await self._session.execute(statement)
        ]

    async def _unbalanced_transfers(self) -> list[UnbalancedTransfer]:
        amount = ledger_entries.c.amount
        count = func.count(ledger_entries.c.id)
        total = _sum(amount)
        statement = (
            select(transfers.c.id, count.label("entry_count"), total.label("total"))
            .select_from(transfers.outerjoin(ledger_entries))
            .group_by(transfers.c.id)
            .having(
                (count != 2) | (total != 0) | (func.max(amount) != func.max(transfers.c.amount))
            )
        )
        return [
            UnbalancedTransfer(row.id, row.entry_count, row.total)
            for row in await self._session.execute(statement)
        ]
