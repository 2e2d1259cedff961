"""The audit of the books in PostgreSQL: every check in one REPEATABLE READ snapshot."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, case, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sqlalchemy.errors import translated_errors
from adapters.sqlalchemy.tables import (
    accounts,
    ledger_entries,
    sum_as_bigint,
    transfers,
    written_in,
)
from application.ports.reconciliation import (
    BalanceMismatch,
    BrokenChain,
    BrokenHashChain,
    LedgerReconciliation,
    OverdrawnAccount,
    ReconciliationReport,
    TransferMismatch,
    UnbalancedTransfer,
)
from domain.account import AccountKind
from domain.chain import ChainedEntry, ChainVerifier
from domain.transfer import TransferStatus


class SqlAlchemyLedgerReconciliation(LedgerReconciliation):
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def reconcile(self, at: datetime) -> ReconciliationReport:
        async with translated_errors(), self._session_factory() as session:
            # One snapshot for every check, so concurrent postings cannot look like differences.
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            return ReconciliationReport(
                totals_by_currency=await _totals_by_currency(session),
                balance_mismatches=await _balance_mismatches(session),
                broken_chains=await _broken_chains(session),
                unbalanced_transfers=await _unbalanced_transfers(session),
                mismatched_transfers=await _mismatched_transfers(session),
                overdrawn_accounts=await _overdrawn_accounts(session, at),
                broken_hash_chains=await _broken_hash_chains(session),
            )


async def _totals_by_currency(session: AsyncSession) -> dict[str, int]:
    statement = (
        select(accounts.c.currency, sum_as_bigint(ledger_entries.c.amount).label("total"))
        .select_from(ledger_entries.join(accounts))
        .group_by(accounts.c.currency)
    )
    return {row.currency: row.total for row in await session.execute(statement)}


async def _balance_mismatches(session: AsyncSession) -> list[BalanceMismatch]:
    sums = (
        select(ledger_entries.c.account_id, sum_as_bigint(ledger_entries.c.amount).label("total"))
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
        BalanceMismatch(row.id, row.balance, row.total) for row in await session.execute(statement)
    ]


async def _broken_chains(session: AsyncSession) -> list[BrokenChain]:
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
        for row in await session.execute(statement)
    ]


async def _unbalanced_transfers(session: AsyncSession) -> list[UnbalancedTransfer]:
    amount = ledger_entries.c.amount
    count = func.count(ledger_entries.c.id)
    total = sum_as_bigint(amount)
    posted = transfers.c.status == TransferStatus.POSTED.value
    statement = (
        select(transfers.c.id, count.label("entry_count"), total.label("total"))
        .select_from(transfers.outerjoin(ledger_entries))
        .group_by(transfers.c.id)
        .having(
            case(
                (
                    posted,
                    (count != 2)
                    | (total != 0)
                    | (func.max(amount) != func.max(transfers.c.posted_amount)),
                ),
                else_=count != 0,
            )
        )
    )
    return [
        UnbalancedTransfer(row.id, row.entry_count, row.total)
        for row in await session.execute(statement)
    ]


async def _mismatched_transfers(session: AsyncSession) -> list[TransferMismatch]:
    reversal = transfers.alias("reversal")
    reversals = sum_as_bigint(reversal.c.amount)
    original = transfers
    statement = (
        select(
            original.c.id,
            original.c.amount,
            original.c.posted_amount,
            original.c.reversed_amount,
            reversals.label("sum_of_reversals"),
        )
        .select_from(original.outerjoin(reversal, reversal.c.reversal_of == original.c.id))
        .group_by(original.c.id)
        .having(
            (func.coalesce(original.c.posted_amount, 0) > original.c.amount)
            | (original.c.reversed_amount > func.coalesce(original.c.posted_amount, 0))
            | (original.c.reversed_amount != reversals)
        )
    )
    return [
        TransferMismatch(
            row.id, row.amount, row.posted_amount, row.reversed_amount, row.sum_of_reversals
        )
        for row in await session.execute(statement)
    ]


async def _overdrawn_accounts(session: AsyncSession, at: datetime) -> list[OverdrawnAccount]:
    held = sum_as_bigint(transfers.c.amount)
    pending = (
        select(transfers.c.from_account_id, held.label("held"))
        .where(
            transfers.c.status == written_in(TransferStatus.PENDING.value),
            or_(transfers.c.expires_at.is_(None), transfers.c.expires_at > at),
        )
        .group_by(transfers.c.from_account_id)
        .subquery()
    )
    statement = (
        select(accounts.c.id, accounts.c.balance, pending.c.held)
        .select_from(accounts.join(pending, pending.c.from_account_id == accounts.c.id))
        .where(
            accounts.c.kind == AccountKind.CUSTOMER.value,
            accounts.c.balance + accounts.c.overdraft_limit < pending.c.held,
        )
    )
    return [
        OverdrawnAccount(row.id, row.balance, row.held) for row in await session.execute(statement)
    ]


_CHAIN_READ_BATCH = 5_000


async def _broken_hash_chains(session: AsyncSession) -> list[BrokenHashChain]:
    """Every account's chain, recomputed with the write path's own definition
    (domain/chain.py) from its entries read in sequence order, streamed: memory does not
    grow with the ledger. The first link that fails is reported; the rest of that account's
    entries are passed over."""
    statement = (
        select(
            accounts.c.id.label("account"),
            accounts.c.currency,
            accounts.c.head_hash,
            accounts.c.entry_count,
            ledger_entries.c.account_id,
            ledger_entries.c.sequence,
            ledger_entries.c.transfer_id,
            ledger_entries.c.amount,
            ledger_entries.c.balance_after,
            ledger_entries.c.created_at,
            ledger_entries.c.entry_hash,
            transfers.c.kind,
        )
        .select_from(
            accounts.outerjoin(ledger_entries).outerjoin(
                transfers, transfers.c.id == ledger_entries.c.transfer_id
            )
        )
        .order_by(accounts.c.id, ledger_entries.c.sequence)
        .execution_options(yield_per=_CHAIN_READ_BATCH)
    )
    broken: list[BrokenHashChain] = []
    current: Any = None
    verifier = ChainVerifier()
    failed = False

    def close(account: Any) -> None:
        if not failed:
            found = verifier.check_head(bytes(account.head_hash), account.entry_count)
            if found is not None:
                broken.append(BrokenHashChain(account.account, found.sequence, found.reason))

    async for row in await session.stream(statement):
        if current is None or row.account != current.account:
            if current is not None:
                close(current)
            current, verifier, failed = row, ChainVerifier(), False
        if row.account_id is None or failed:  # no entries, or already broken
            continue
        found = verifier.check(_chained(row))
        if found is not None:
            failed = True
            broken.append(BrokenHashChain(row.account, found.sequence, found.reason))
    if current is not None:
        close(current)
    return broken


def _chained(row: Any) -> ChainedEntry:
    return ChainedEntry(
        account_id=row.account_id,
        sequence=row.sequence,
        transfer_id=row.transfer_id,
        amount=row.amount,
        balance_after=row.balance_after,
        currency=row.currency,
        created_at=row.created_at,
        transfer_kind=row.kind,
        entry_hash=bytes(row.entry_hash),
    )
