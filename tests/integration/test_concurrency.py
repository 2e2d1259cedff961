"""The ledger under concurrent load on real PostgreSQL: nothing lost, nothing created."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from adapters.sqlalchemy.errors import constraint_name
from application.transfer_requests import TransferRequest
from application.use_cases.register_user import Registration
from domain.errors import DomainError, EmailAlreadyRegistered, InsufficientFunds
from entrypoints.container import Container, build_container
from tests.conftest import make_settings

pytestmark = pytest.mark.integration

# Under SERIALIZABLE every waiter on a hot row fails once the holder commits, and each round
# lets one through: a hot spot needs more attempts than the default (see the settings).
ATTEMPTS = {"READ COMMITTED": 10, "SERIALIZABLE": 25}


@asynccontextmanager
async def running(
    database_url: str, data_dir: Path, **settings: object
) -> AsyncIterator[Container]:
    container = build_container(make_settings(database_url, data_dir, **settings), database_url)
    await container.init_resources()  # type: ignore[misc]
    try:
        yield container
    finally:
        await container.shutdown_resources()  # type: ignore[misc]


async def customers(container: Container, count: int, balance: int) -> list[tuple[UUID, UUID]]:
    """(owner, account) pairs, each account funded with `balance`."""
    pairs = []
    for n in range(count):
        user = await container.register_user()(
            Registration(f"user{n}@example.com", "password1", f"User {n}")
        )
        account = await container.open_account()(user.id, "EUR")
        await container.deposit()(user.id, account.id, balance)
        pairs.append((user.id, account.id))
    return pairs


async def assert_books_balance(
    container: Container, accounts: list[tuple[UUID, UUID]], total: int
) -> None:
    balances = [
        (await container.get_account()(owner, account)).balance for owner, account in accounts
    ]
    assert sum(balances) == total
    assert min(balances) >= 0
    report = await container.reconcile_ledger()()
    assert report.is_clean, report


async def random_transfers(
    containers: list[Container], accounts: list[tuple[UUID, UUID]], count: int, seed: int
) -> list[BaseException | None]:
    rng = random.Random(seed)
    hot = accounts[:2]  # the same pair both ways, again and again: the deadlock recipe
    plan = []
    for n in range(count):
        if n % 3 == 0:
            source, destination = hot if n % 2 else hot[::-1]
        else:
            source, destination = rng.sample(accounts, 2)
        plan.append((containers[n % len(containers)], source, destination, rng.randint(1, 4_000)))

    gate = asyncio.Semaphore(24)

    async def one(
        container: Container, source: tuple[UUID, UUID], destination: tuple[UUID, UUID], amount: int
    ) -> BaseException | None:
        async with gate:
            try:
                await container.transfer_funds()(
                    source[0], TransferRequest(source[1], destination[1], amount, "EUR")
                )
            except BaseException as error:  # collected and judged below
                return error
            return None

    return await asyncio.gather(*(one(*step) for step in plan))


@pytest.mark.parametrize("isolation", ["READ COMMITTED", "SERIALIZABLE"])
async def test_hundreds_of_concurrent_transfers_keep_every_invariant(
    database_url: str, tmp_path: Path, isolation: str
) -> None:
    async with running(
        database_url,
        tmp_path,
        db_isolation_level=isolation,
        transfer_retry_attempts=ATTEMPTS[isolation],
    ) as container:
        accounts = await customers(container, 10, 5_000)
        outcomes = await random_transfers([container], accounts, 300, seed=7)

        failures = [o for o in outcomes if o is not None]
        assert all(isinstance(f, InsufficientFunds) for f in failures), failures[:3]
        assert len(failures) < len(outcomes)  # the test moved real money
        await assert_books_balance(container, accounts, 10 * 5_000)


async def test_two_app_instances_on_one_database_keep_every_invariant(
    database_url: str, tmp_path: Path
) -> None:
    async with (
        running(database_url, tmp_path) as first,
        running(database_url, tmp_path) as second,
    ):
        accounts = await customers(first, 8, 3_000)
        outcomes = await random_transfers([first, second], accounts, 200, seed=11)
        assert all(o is None or isinstance(o, InsufficientFunds) for o in outcomes)
        await assert_books_balance(second, accounts, 8 * 3_000)


async def test_concurrent_duplicates_of_one_idempotency_key_move_money_once(
    container: Container,
) -> None:
    (ada, source), (_, destination) = await customers(container, 2, 1_000)
    request = TransferRequest(source, destination, 100, "EUR")

    receipts = await asyncio.gather(
        *(container.transfer_funds()(ada, request, "same-key") for _ in range(12)),
        return_exceptions=True,
    )

    assert not [r for r in receipts if isinstance(r, BaseException)], receipts
    assert len({r.transfer.id for r in receipts}) == 1  # type: ignore[union-attr]
    assert sum(not r.replayed for r in receipts) == 1  # type: ignore[union-attr]
    assert (await container.get_account()(ada, source)).balance == 900


async def test_a_registration_race_gives_one_user_and_clean_refusals(container: Container) -> None:
    outcomes = await asyncio.gather(
        *(
            container.register_user()(Registration(email, "password1", "Racer"))
            for email in ["race@example.com", "RACE@example.com", "Race@Example.com"] * 2
        ),
        return_exceptions=True,
    )
    refusals = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(outcomes) - len(refusals) == 1
    assert all(isinstance(r, EmailAlreadyRegistered) for r in refusals), refusals


async def test_the_database_refuses_a_negative_customer_balance(container: Container) -> None:
    ((_, account),) = await customers(container, 1, 10)
    async with container.engine().begin() as connection:
        with pytest.raises(IntegrityError) as refused:
            await connection.execute(
                text("UPDATE accounts SET balance = -1 WHERE id = :id"), {"id": account}
            )
    assert constraint_name(refused.value) == "ck_accounts_customer_balance_within_overdraft"


async def test_domain_errors_are_the_only_refusals_a_transfer_gives(container: Container) -> None:
    (ada, source), (_, destination) = await customers(container, 2, 50)
    with pytest.raises(DomainError):
        await container.transfer_funds()(ada, TransferRequest(source, destination, 51, "EUR"))
