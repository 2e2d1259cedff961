"""Holds, reversals, withdrawals and batches under concurrent load, on two app instances of
one PostgreSQL: nothing lost or created, no hold settled twice, reconcile clean."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from dependency_injector import providers

from application.transfer_requests import TransferRequest
from domain.errors import (
    DomainError,
    ExceedsReversibleAmount,
    InsufficientFunds,
    NotReversible,
    TransferNotPending,
)
from domain.transfer import TransferStatus
from entrypoints.container import Container
from tests.fakes import ManualClock
from tests.integration.test_concurrency import ATTEMPTS, customers, running
from tests.postgres import connect
from tests.waiting import eventually

pytestmark = pytest.mark.integration

# Refusals a random mixed workload meets by design; anything else is a failure.
EXPECTED_REFUSALS = (
    InsufficientFunds,
    TransferNotPending,
    ExceedsReversibleAmount,
    NotReversible,
)


async def test_a_hold_is_settled_once_whatever_races_to_settle_it(
    database_url: str, tmp_path: Path
) -> None:
    async with running(database_url, tmp_path) as first, running(database_url, tmp_path) as second:
        [(payer, source), (_, destination)] = await customers(first, 2, 1_000)
        for round_ in range(5):
            placed = await first.transfer_funds()(
                payer, TransferRequest(source, destination, 100, "EUR", pending=True)
            )
            hold_id = placed.transfer.id
            attempts: list[Awaitable[object]] = []
            for n in range(12):
                instance = (first, second)[n % 2]
                if (n + round_) % 3:
                    attempts.append(instance.post_hold()(payer, hold_id))
                else:
                    attempts.append(instance.void_hold()(payer, hold_id))
            outcomes = await asyncio.gather(*attempts, return_exceptions=True)
            settled = [o for o in outcomes if not isinstance(o, BaseException)]
            refused = [o for o in outcomes if isinstance(o, BaseException)]
            assert len(settled) == 1, outcomes
            assert all(isinstance(r, TransferNotPending) for r in refused), refused
        report = await first.reconcile_ledger()()
        assert report.is_clean, report
        account = await first.get_account()(payer, source)
        assert account.held == 0
        assert account.balance >= 1_000 - 5 * 100


@pytest.mark.parametrize("isolation", ["READ COMMITTED", "SERIALIZABLE"])
async def test_a_mixed_workload_on_two_instances_keeps_every_invariant(
    database_url: str, tmp_path: Path, isolation: str
) -> None:
    settings = {"db_isolation_level": isolation, "transfer_retry_attempts": ATTEMPTS[isolation]}
    async with (
        running(database_url, tmp_path, **settings) as first,
        running(database_url, tmp_path, **settings) as second,
    ):
        accounts = await customers(first, 8, 5_000)
        money_in = 8 * 5_000
        rng = random.Random(11)
        holds: list[tuple[UUID, UUID]] = []  # (payer, hold id)
        posted: list[tuple[UUID, UUID]] = []  # (payee, transfer id)
        withdrawn = 0
        done: list[int] = []  # the kind of step of every success
        gate = asyncio.Semaphore(16)
        lock = asyncio.Lock()

        async def step(n: int) -> BaseException | None:
            nonlocal withdrawn
            instance: Container = (first, second)[n % 2]
            (payer, source), (payee, destination) = rng.sample(accounts, 2)
            choice = n % 7
            async with gate:
                try:
                    if choice == 0:
                        receipt = await instance.transfer_funds()(
                            payer,
                            TransferRequest(
                                source,
                                destination,
                                rng.randint(1, 900),
                                "EUR",
                                pending=True,
                                timeout_seconds=rng.choice([None, 1]),
                            ),
                        )
                        holds.append((payer, receipt.transfer.id))
                    elif choice == 1 and holds:
                        owner, hold = rng.choice(holds)
                        if rng.random() < 0.5:
                            await instance.post_hold()(owner, hold, None)
                        else:
                            await instance.void_hold()(owner, hold)
                    elif choice == 2 and posted:
                        owner, original = rng.choice(posted)
                        await instance.reverse_transfer()(owner, original, rng.randint(1, 300))
                    elif choice == 3:
                        amount = rng.randint(1, 200)
                        await instance.withdraw()(payer, source, amount)
                        async with lock:
                            withdrawn += amount
                    elif choice == 4:
                        requests = [
                            TransferRequest(source, destination, rng.randint(1, 400), "EUR")
                            for _ in range(5)
                        ]
                        batch = await instance.transfer_batch()(payer, requests, atomic=bool(n % 2))
                        posted.extend((payee, r.transfer.id) for r in batch.results if r.transfer)
                    else:
                        paid = await instance.transfer_funds()(
                            payer, TransferRequest(source, destination, rng.randint(1, 900), "EUR")
                        )
                        posted.append((payee, paid.transfer.id))
                except BaseException as error:  # judged below
                    return error
                done.append(choice)
                return None

        outcomes = await asyncio.gather(*(step(n) for n in range(350)))
        assert set(done) == set(range(7)), sorted(set(done))  # every kind of step succeeded
        unexpected = [
            o
            for o in outcomes
            if o is not None
            and not (isinstance(o, DomainError) and isinstance(o, EXPECTED_REFUSALS))
            and type(o).__name__ != "BatchRefused"
        ]
        assert unexpected == [], unexpected[:3]
        await asyncio.sleep(1.1)  # every 1-second hold has expired by now
        expired = await first.expire_holds()()
        assert all(t.status is TransferStatus.EXPIRED for t in expired)

        balances = [(await first.get_account()(o, a)) for o, a in accounts]
        assert sum(a.balance for a in balances) == money_in - withdrawn
        assert all(a.available >= 0 for a in balances)
        report = await first.reconcile_ledger()()
        assert report.is_clean, report


class _SlowClock:
    """An instance whose clock runs behind the others', as real hosts' clocks do."""

    def __init__(self, behind: timedelta) -> None:
        self._behind = behind

    def now(self) -> datetime:
        return datetime.now(UTC) - self._behind


async def test_an_accounts_entries_are_in_time_order_along_their_sequence(
    database_url: str, tmp_path: Path
) -> None:
    """Contended accounts, two instances, one of them with a clock two seconds behind: the
    entries of every account still carry times that never go back as the sequence goes up,
    so `balance at a moment` is true."""
    async with running(database_url, tmp_path) as first, running(database_url, tmp_path) as second:
        second.clock.override(providers.Object(_SlowClock(timedelta(seconds=2))))
        accounts = await customers(first, 4, 100_000)
        rng = random.Random(5)

        async def one(n: int) -> None:
            (payer, source), (_, destination) = rng.sample(accounts, 2)
            instance = (first, second)[n % 2]
            await instance.transfer_funds()(
                payer, TransferRequest(source, destination, rng.randint(1, 50), "EUR")
            )

        await asyncio.gather(*(one(n) for n in range(160)))
        connection = await connect(database_url)
        try:
            backwards = await connection.fetchval(
                """
                SELECT count(*) FROM (
                    SELECT created_at < lag(created_at) OVER (
                        PARTITION BY account_id ORDER BY sequence) AS earlier
                    FROM ledger_entries
                ) AS steps WHERE earlier
                """
            )
        finally:
            await connection.close()
        assert backwards == 0
        report = await first.reconcile_ledger()()
        assert report.is_clean, report


@pytest.mark.parametrize("isolation", ["READ COMMITTED", "SERIALIZABLE"])
async def test_a_hold_committed_while_a_debit_waits_for_the_lock_is_counted(
    database_url: str, tmp_path: Path, isolation: str
) -> None:
    """A hold writes no account row; a debit that waited on the account's lock must still see
    it once the lock is granted, or the account is spent twice (available below zero)."""
    async with running(
        database_url, tmp_path, db_isolation_level=isolation, transfer_retry_attempts=10
    ) as app:
        [(payer, source), (_, destination)] = await customers(app, 2, 100)
        holder = await connect(database_url)
        try:
            transaction = holder.transaction(isolation=isolation.lower().replace(" ", "_"))
            await transaction.start()
            await holder.execute(
                "SELECT 1 FROM accounts WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE",
                [source, destination],
            )
            await holder.execute(
                "INSERT INTO transfers (id, from_account_id, to_account_id, amount, currency,"
                " created_at, kind, status, created_by)"
                " VALUES ($1, $2, $3, 100, 'EUR', now(), 'transfer', 'pending', $4)",
                uuid4(),
                source,
                destination,
                payer,
            )
            debit = asyncio.create_task(
                app.transfer_funds()(payer, TransferRequest(source, destination, 100, "EUR"))
            )

            async def debit_waits() -> bool:
                waiting = await holder.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND datname = current_database()"
                )
                return bool(waiting)

            await eventually(debit_waits, "the debit to wait for the account lock")
            await transaction.commit()
        finally:
            await holder.close()
        with pytest.raises(InsufficientFunds):
            await debit
        account = await app.get_account()(payer, source)
        assert (account.balance, account.held, account.available) == (100, 100, 0)
        report = await app.reconcile_ledger()()
        assert report.is_clean, report


@pytest.mark.parametrize("step", ["void", "post"])
async def test_a_hold_that_expires_while_its_settlement_waits_for_the_locks_is_expired(
    database_url: str, tmp_path: Path, step: str
) -> None:
    """Another movement holds the accounts past the hold's expiry (and may spend what it kept
    back): once the locks are granted, the void or post must find the hold expired."""
    async with running(database_url, tmp_path) as app:
        clock = ManualClock(datetime.now(UTC))
        app.clock.override(providers.Object(clock))
        [(payer, source), (_, destination)] = await customers(app, 2, 1_000)
        request = TransferRequest(source, destination, 300, "EUR", pending=True, timeout_seconds=10)
        hold = (await app.transfer_funds()(payer, request)).transfer
        clock.advance(seconds=9)  # pending when the settlement starts
        holder = await connect(database_url)
        try:
            transaction = holder.transaction()
            await transaction.start()
            await holder.execute(
                "SELECT 1 FROM accounts WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE",
                [source, destination],
            )
            settle = app.void_hold() if step == "void" else app.post_hold()
            settling = asyncio.create_task(settle(payer, hold.id))

            async def settlement_waits() -> bool:
                waiting = await holder.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND datname = current_database()"
                )
                return bool(waiting)

            await eventually(settlement_waits, "the settlement to wait for the account locks")
            clock.advance(seconds=2)  # the lock holder's time: past the expiry
            await transaction.commit()
        finally:
            await holder.close()
        with pytest.raises(TransferNotPending, match="expired"):
            await settling
        assert (await app.get_transfer()(payer, hold.id)).status is TransferStatus.EXPIRED
        account = await app.get_account()(payer, source)
        assert (account.balance, account.held, account.available) == (1_000, 0, 1_000)
        report = await app.reconcile_ledger()()
        assert report.is_clean, report
