"""Overdraft limits on real PostgreSQL: racing debits, holds among them, never take an account
past its limit, and the database itself refuses a balance below -overdraft_limit."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from adapters.sqlalchemy.errors import constraint_name
from application.transfer_requests import TransferRequest
from domain.errors import InsufficientFunds, PreconditionFailed
from domain.monitor import MonitorField, MonitorOp
from entrypoints.container import Container
from tests.integration.test_concurrency import ATTEMPTS, customers, running

pytestmark = pytest.mark.integration

LIMIT = 2_000


@pytest.mark.parametrize("isolation", ["READ COMMITTED", "SERIALIZABLE"])
async def test_64_racing_debits_with_holds_never_pass_the_overdraft_limit(
    database_url: str, tmp_path: Path, isolation: str
) -> None:
    settings = {"db_isolation_level": isolation, "transfer_retry_attempts": ATTEMPTS[isolation]}
    async with (
        running(database_url, tmp_path, **settings) as first,
        running(database_url, tmp_path, **settings) as second,
    ):
        [(payer, source), (_, destination)] = await customers(first, 2, 1_000)
        await first.set_overdraft_limit()(source, LIMIT)
        rng = random.Random(64)
        plan = [(n, rng.randint(50, 250), n % 3) for n in range(64)]

        async def debit(n: int, amount: int, kind: int) -> BaseException | None:
            instance: Container = (first, second)[n % 2]
            try:
                if kind == 0:
                    await instance.transfer_funds()(
                        payer, TransferRequest(source, destination, amount, "EUR", pending=True)
                    )
                elif kind == 1:
                    await instance.withdraw()(payer, source, amount)
                else:
                    await instance.transfer_funds()(
                        payer, TransferRequest(source, destination, amount, "EUR")
                    )
            except BaseException as error:  # judged below
                return error
            return None

        outcomes = await asyncio.gather(*(debit(*step) for step in plan))
        refusals = [o for o in outcomes if o is not None]
        assert all(isinstance(r, InsufficientFunds) for r in refusals), refusals[:3]
        assert refusals, "the plan asks for more than the limit allows: some must be refused"
        assert len(refusals) < len(outcomes)

        after = await first.get_account()(payer, source)
        assert after.balance >= -LIMIT
        assert after.available >= 0  # holds counted: balance - held >= -limit
        assert after.available < 250  # nearly everything was spent
        report = await first.reconcile_ledger()()
        assert report.is_clean, report


async def test_the_database_refuses_a_balance_below_the_overdraft_limit(
    container: Container,
) -> None:
    [(_, account)] = await customers(container, 1, 1)
    await container.set_overdraft_limit()(account, 500)
    async with container.engine().begin() as connection:
        await connection.execute(
            text("UPDATE accounts SET balance = -500 WHERE id = :id"), {"id": account}
        )
        await connection.rollback()
    async with container.engine().begin() as connection:
        with pytest.raises(IntegrityError) as refused:
            await connection.execute(
                text("UPDATE accounts SET balance = -501 WHERE id = :id"), {"id": account}
            )
    assert constraint_name(refused.value) == "ck_accounts_customer_balance_within_overdraft"


async def test_a_lowered_limit_allows_the_old_debt_only_until_it_is_repaid(
    container: Container,
) -> None:
    [(payer, source), (payee, destination)] = await customers(container, 2, 1)
    await container.set_overdraft_limit()(source, 1_000)
    await container.transfer_funds()(payer, TransferRequest(source, destination, 801, "EUR"))
    await container.set_overdraft_limit()(source, 100)
    await container.transfer_funds()(payee, TransferRequest(destination, source, 500, "EUR"))

    async def debt_above_limit(account: UUID) -> int:
        async with container.engine().connect() as connection:
            found = await connection.scalar(
                text("SELECT debt_above_limit FROM accounts WHERE id = :id"), {"id": account}
            )
        return int(found)

    assert await debt_above_limit(source) == 200  # -300 against a limit of 100
    async with container.engine().begin() as connection:
        with pytest.raises(IntegrityError) as refused:  # what a debit past it would write
            await connection.execute(
                text("UPDATE accounts SET balance = -301 WHERE id = :id"), {"id": source}
            )
    assert constraint_name(refused.value) == "ck_accounts_customer_balance_within_overdraft"
    report = await container.reconcile_ledger()()
    assert report.is_clean, report


@pytest.mark.parametrize("isolation", ["READ COMMITTED", "SERIALIZABLE"])
async def test_racing_conditional_debits_with_one_expected_sequence_let_exactly_one_win(
    database_url: str, tmp_path: Path, isolation: str
) -> None:
    settings = {"db_isolation_level": isolation, "transfer_retry_attempts": ATTEMPTS[isolation]}
    async with (
        running(database_url, tmp_path, **settings) as first,
        running(database_url, tmp_path, **settings) as second,
    ):
        [(payer, source), (_, destination)] = await customers(first, 2, 10_000)
        for round_ in range(3):
            seen = (await first.get_account()(payer, source)).entry_count

            async def debit(n: int, seen: int = seen) -> BaseException | None:
                instance: Container = (first, second)[n % 2]
                try:
                    if n % 2:
                        await instance.withdraw()(payer, source, 10, expected_sequence=seen)
                    else:
                        request = TransferRequest(
                            source, destination, 10, "EUR", expected_sequence=seen
                        )
                        await instance.transfer_funds()(payer, request)
                except BaseException as error:  # judged below
                    return error
                return None

            outcomes = await asyncio.gather(*(debit(n) for n in range(16)))
            won = [o for o in outcomes if o is None]
            assert len(won) == 1, (round_, outcomes)
            lost = [o for o in outcomes if o is not None]
            assert all(isinstance(o, PreconditionFailed) for o in lost), lost[:3]
            assert {o.sequence for o in lost if isinstance(o, PreconditionFailed)} == {seen + 1}
        after = await first.get_account()(payer, source)
        assert after.balance == 10_000 - 3 * 10
        report = await first.reconcile_ledger()()
        assert report.is_clean, report


async def test_racing_movements_report_every_monitor_crossing_once_in_sequence_order(
    database_url: str, tmp_path: Path
) -> None:
    """Two instances move one watched account both ways at once: the events are exactly the
    crossings its entries show, one per crossing, in sequence order."""
    async with running(database_url, tmp_path) as first, running(database_url, tmp_path) as second:
        [(ada, watched), (bob, other)] = await customers(first, 2, 1_000)
        monitor = await first.create_monitor()(
            ada, watched, field=MonitorField.BALANCE, op=MonitorOp.LT, value=1_000
        )

        async def move(n: int, out: bool, amount: int) -> None:
            instance: Container = (first, second)[n % 2]
            if out:
                request = TransferRequest(watched, other, amount, "EUR")
                await instance.transfer_funds()(ada, request)
            else:
                await instance.transfer_funds()(bob, TransferRequest(other, watched, amount, "EUR"))

        for wave in range(8):  # down 250 and back, 8 racing movements both ways each time
            down = wave % 2 == 0
            steps = [(down, 50)] * 6 + [(not down, 25)] * 2
            await asyncio.gather(*(move(n, out, amount) for n, (out, amount) in enumerate(steps)))
        async with first.engine().connect() as connection:
            entries = (
                await connection.execute(
                    text(
                        "SELECT sequence, balance_after FROM ledger_entries"
                        " WHERE account_id = :id ORDER BY sequence"
                    ),
                    {"id": watched},
                )
            ).all()
            events = (
                await connection.execute(
                    text(
                        "SELECT type, (data ->> 'sequence')::bigint AS sequence FROM events"
                        " WHERE type LIKE 'account.monitor.%' ORDER BY transaction_id, position"
                    )
                )
            ).all()
        expected = []
        below = False  # the deposit left 1000: not below
        for sequence, balance in entries:
            if (balance < monitor.value) != below:
                below = not below
                expected.append(
                    ("account.monitor." + ("triggered" if below else "cleared"), sequence)
                )
        assert len(expected) >= 8, "every wave crossed the line"
        assert [(row.type, row.sequence) for row in events] == expected
