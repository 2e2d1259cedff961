"""Group commit on real PostgreSQL: transfers that queue while a slot is busy are decided in
one transaction, in arrival order, each with its own answer; a group that fails is run again
one by one; a COMMIT of unknown fate is nobody's second chance."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import datetime
from functools import partial
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import text

from adapters.sqlalchemy.accounts import SqlAlchemyAccountRepository
from adapters.sqlalchemy.ledger import SqlAlchemyLedgerRepository
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.errors import StorageUnavailable, TransientConflict
from application.events import Event
from application.group_commit import GroupCommit
from application.receipts import TransferReceipt
from application.teller import Teller
from application.transfer_requests import TransferRequest
from application.use_cases.deposit import Deposit
from application.use_cases.transfer_funds import TransferFunds
from application.use_cases.withdraw import Withdraw
from application.write_pipeline import WritePipeline
from domain.account import Account
from domain.errors import DuplicateReference, IdempotencyKeyReused, InsufficientFunds
from domain.ledger import Posting
from entrypoints.container import Container
from tests.integration.test_concurrency import assert_books_balance, customers

pytestmark = pytest.mark.integration

TRACE: contextvars.ContextVar[str | None] = contextvars.ContextVar("trace", default=None)


class Gate:
    """Holds the first unit of work at its lock until opened, so the transfers behind it
    queue; records the size of every bulk write."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.opened = asyncio.Event()
        self.groups: list[int] = []
        self.locks = 0
        lock = SqlAlchemyAccountRepository.lock
        record_many = SqlAlchemyLedgerRepository.record_many

        async def gated_lock(
            repository: SqlAlchemyAccountRepository, ids: Collection[UUID], *, at: datetime
        ) -> dict[UUID, Account]:
            self.locks += 1
            if self.locks == 1:
                await self.opened.wait()
            return await lock(repository, ids, at=at)

        async def counted(
            repository: SqlAlchemyLedgerRepository,
            postings: Sequence[Posting],
            events: Sequence[Event] = (),
        ) -> None:
            self.groups.append(len(postings))
            await record_many(repository, postings, events)

        monkeypatch.setattr(SqlAlchemyAccountRepository, "lock", gated_lock)
        monkeypatch.setattr(SqlAlchemyLedgerRepository, "record_many", counted)


def group_writes_conflict(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every group's write fails after it is counted, as a serialization failure would; a
    transfer running alone writes through `record`, not `record_many`, and is untouched."""
    counted = SqlAlchemyLedgerRepository.record_many

    async def conflicted(
        repository: SqlAlchemyLedgerRepository,
        postings: Sequence[Posting],
        events: Sequence[Event] = (),
    ) -> None:
        await counted(repository, postings, events)
        raise TransientConflict("a serialization failure, as PostgreSQL may answer")

    monkeypatch.setattr(SqlAlchemyLedgerRepository, "record_many", conflicted)


def teller(container: Container, **options: Any) -> Teller:
    pipeline = WritePipeline(
        container.unit_of_work,
        container.clock(),
        container.transaction_retry(),
        current_trace=TRACE.get,
    )
    group_commit = GroupCommit(
        pipeline,
        enabled=True,
        slots=options.pop("slots", 1),
        max_group=options.pop("max_group", 1000),
        min_overlap=options.pop("min_overlap", 1),
    )
    return Teller(group_commit, container.unit_of_work)


def transfers(container: Container, **options: Any) -> TransferFunds:
    return TransferFunds(teller(container, **options))


async def queued_behind_a_busy_slot(
    gate: Gate, calls: Sequence[Callable[[], Awaitable[TransferReceipt]]]
) -> list[TransferReceipt | BaseException]:
    """The first call takes the only slot and waits at the gate; the rest queue behind it
    in order; then the gate opens."""
    tasks = []
    for call in calls:
        tasks.append(asyncio.ensure_future(call()))
        await asyncio.sleep(0)  # each one reaches the queue before the next is started
    await asyncio.sleep(0.05)
    gate.opened.set()
    return list(await asyncio.gather(*tasks, return_exceptions=True))


async def test_queued_transfers_are_decided_in_arrival_order_in_one_transaction(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    (ada, rich), (bob, poor), (carol, payee) = await customers(container, 3, 1_000)
    gate = Gate(monkeypatch)
    transfer = transfers(container)
    plan = [
        (ada, TransferRequest(rich, payee, 10, "EUR")),  # alone: takes the slot
        (bob, TransferRequest(poor, payee, 600, "EUR")),
        (bob, TransferRequest(poor, payee, 600, "EUR")),  # the second one finds 400 left
        (ada, TransferRequest(rich, poor, 300, "EUR")),
        (bob, TransferRequest(poor, rich, 700, "EUR")),  # 400 + 300 arrived just before
        (ada, TransferRequest(rich, payee, 5, "EUR", reference="order-1")),
        (ada, TransferRequest(rich, payee, 5, "EUR", reference="order-1")),
    ]
    answers = await queued_behind_a_busy_slot(
        gate, [partial(transfer, user, request) for user, request in plan]
    )

    # The first ran alone (a lone movement's own write); the six queued behind it, one write.
    assert gate.groups == [4]
    assert isinstance(answers[2], InsufficientFunds)
    assert isinstance(answers[6], DuplicateReference)
    made = [a for a in answers if isinstance(a, TransferReceipt)]
    assert len({a.transfer.id for a in made}) == 5
    assert (await container.get_account()(bob, poor)).balance == 0
    await assert_books_balance(container, [(ada, rich), (bob, poor), (carol, payee)], 3_000)


async def test_duplicates_of_one_key_in_a_queue_move_money_once(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    (ada, source), (_, destination) = await customers(container, 2, 1_000)
    gate = Gate(monkeypatch)
    transfer = transfers(container)
    request = TransferRequest(source, destination, 100, "EUR")
    other = TransferRequest(source, destination, 1, "EUR")
    calls = [lambda: transfer(ada, TransferRequest(source, destination, 7, "EUR"))]
    calls += [lambda: transfer(ada, request, "same-key") for _ in range(6)]
    calls += [lambda: transfer(ada, other, "same-key")]

    answers = await queued_behind_a_busy_slot(gate, calls)

    receipts = [a for a in answers[1:7] if isinstance(a, TransferReceipt)]
    assert len(receipts) == 6, answers
    assert len({r.transfer.id for r in receipts}) == 1
    assert sum(not r.replayed for r in receipts) == 1
    assert isinstance(answers[7], IdempotencyKeyReused)
    assert (await container.get_account()(ada, source)).balance == 1_000 - 7 - 100


async def test_a_group_whose_transaction_fails_runs_again_one_by_one(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    pairs = await customers(container, 4, 1_000)
    gate = Gate(monkeypatch)
    group_writes_conflict(monkeypatch)
    transfer = transfers(container)
    calls = [
        lambda n=n: transfer(
            pairs[n % 4][0], TransferRequest(pairs[n % 4][1], pairs[(n + 1) % 4][1], 1, "EUR")
        )
        for n in range(1, 9)
    ]

    answers = await queued_behind_a_busy_slot(gate, calls)

    assert all(isinstance(a, TransferReceipt) for a in answers), answers
    assert 7 in gate.groups  # tried together, then each alone
    await assert_books_balance(container, pairs, 4_000)
    async with container.engine().connect() as connection:
        made = await connection.scalar(text("SELECT count(*) FROM transfers WHERE amount = 1"))
    assert made == 8


async def test_a_commit_of_unknown_fate_is_every_members_answer(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    (ada, source), (_, destination) = await customers(container, 2, 1_000)
    gate = Gate(monkeypatch)
    commit = SqlAlchemyUnitOfWork.commit

    async def lost(uow: SqlAlchemyUnitOfWork) -> None:
        if gate.groups and gate.groups[-1] > 1:
            raise StorageUnavailable("the connection dropped during COMMIT")
        await commit(uow)

    monkeypatch.setattr(SqlAlchemyUnitOfWork, "commit", lost)
    transfer = transfers(container)
    request = TransferRequest(source, destination, 10, "EUR")

    answers = await queued_behind_a_busy_slot(gate, [lambda: transfer(ada, request)] * 4)

    assert isinstance(answers[0], TransferReceipt)
    assert all(isinstance(a, StorageUnavailable) for a in answers[1:]), answers
    assert gate.groups == [3]  # not run again: running them again could pay twice


async def test_each_event_of_a_group_carries_its_own_callers_trace(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    (ada, source), (_, destination) = await customers(container, 2, 1_000)
    gate = Gate(monkeypatch)
    transfer = transfers(container)

    async def traced(n: int) -> TransferReceipt:
        TRACE.set(f"trace-{n}")
        return await transfer(ada, TransferRequest(source, destination, n + 1, "EUR"))

    answers = await queued_behind_a_busy_slot(gate, [partial(traced, n) for n in range(5)])

    assert gate.groups == [4]
    async with container.engine().connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT data->>'id' AS transfer_id, traceparent FROM events"
                " WHERE type = 'transfer.posted'"
            )
        )
        traces = {row.transfer_id: row.traceparent for row in rows}
    for n, answer in enumerate(answers):
        assert isinstance(answer, TransferReceipt)
        if n > 0:  # the lone first one is written where the tracer, not TRACE, is current
            assert traces[str(answer.transfer.id)] == f"trace-{n}"


async def test_a_caller_that_went_away_before_its_group_moves_nothing(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    (ada, source), (_, destination) = await customers(container, 2, 1_000)
    gate = Gate(monkeypatch)
    transfer = transfers(container)
    first = asyncio.ensure_future(transfer(ada, TransferRequest(source, destination, 1, "EUR")))
    await asyncio.sleep(0)
    gone = asyncio.ensure_future(transfer(ada, TransferRequest(source, destination, 50, "EUR")))
    kept = asyncio.ensure_future(transfer(ada, TransferRequest(source, destination, 2, "EUR")))
    await asyncio.sleep(0.05)
    gone.cancel()
    gate.opened.set()
    await asyncio.gather(first, kept)

    assert gone.cancelled()
    assert (await container.get_account()(ada, source)).balance == 1_000 - 1 - 2


async def test_group_commit_off_runs_every_transfer_alone(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    (ada, source), (_, destination) = await customers(container, 2, 1_000)
    gate = Gate(monkeypatch)
    group_commit = GroupCommit(
        container.write_pipeline(), enabled=False, slots=1, max_group=1000, min_overlap=1
    )
    transfer = TransferFunds(Teller(group_commit, container.unit_of_work))
    request = TransferRequest(source, destination, 1, "EUR")

    answers = await queued_behind_a_busy_slot(gate, [lambda: transfer(ada, request)] * 5)

    assert all(isinstance(a, TransferReceipt) for a in answers)
    assert gate.groups == []  # every one its own movement, none a bulk write


async def test_groups_in_flight_never_share_an_account_and_none_overtakes_on_one(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    (ada, a), (_, b), (carol, c), (_, d), (eve, e), (_, f) = await customers(container, 6, 100)
    gate = Gate(monkeypatch)
    transfer = transfers(container, slots=2)
    first = asyncio.ensure_future(transfer(ada, TransferRequest(a, b, 1, "EUR")))
    await asyncio.sleep(0)
    waits = asyncio.ensure_future(transfer(ada, TransferRequest(a, c, 2, "EUR")))  # a is moving
    behind = asyncio.ensure_future(transfer(carol, TransferRequest(c, d, 3, "EUR")))  # c: after
    free = asyncio.ensure_future(transfer(eve, TransferRequest(e, f, 4, "EUR")))

    await asyncio.wait_for(free, timeout=10)  # the second slot runs it meanwhile

    assert not waits.done()
    assert not behind.done()
    gate.opened.set()
    await asyncio.gather(first, waits, behind)
    assert gate.groups == [2]  # the two that waited, together, in arrival order
    assert (await container.get_account()(carol, c)).balance == 100 + 2 - 3


async def held_and_one_behind(
    held: Callable[[], Awaitable[TransferReceipt]], behind: Callable[[], Awaitable[TransferReceipt]]
) -> tuple[asyncio.Future[TransferReceipt], asyncio.Future[TransferReceipt]]:
    """The first takes a slot and waits at the gate; the second, started next, has not run
    a moment later."""
    first = asyncio.ensure_future(held())
    await asyncio.sleep(0)
    second = asyncio.ensure_future(behind())
    await asyncio.sleep(0.05)
    assert not second.done()
    return first, second


async def test_beside_a_running_transaction_another_starts_only_for_enough_transfers(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = await customers(container, 8, 100)
    (ada, a), (_, b), (carol, c), (_, d), (eve, e), (_, f), (gus, g), (_, h) = people
    gate = Gate(monkeypatch)
    transfer = transfers(container, slots=2, min_overlap=3)
    # A slot is free, but one transfer is not worth a transaction beside the first.
    first, one = await held_and_one_behind(
        partial(transfer, ada, TransferRequest(a, b, 1, "EUR")),
        partial(transfer, carol, TransferRequest(c, d, 2, "EUR")),
    )

    two = asyncio.ensure_future(transfer(eve, TransferRequest(e, f, 3, "EUR")))
    three = asyncio.ensure_future(transfer(gus, TransferRequest(g, h, 4, "EUR")))
    await asyncio.wait_for(asyncio.gather(one, two, three), timeout=10)  # three are

    assert not first.done()
    assert gate.groups == [3]
    gate.opened.set()
    await first
    assert gate.groups == [3]  # the first ran alone
    await assert_books_balance(container, people, 800)


async def test_what_waits_behind_a_running_transaction_goes_when_it_ends(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    (ada, a), (_, b), (carol, c), (_, d) = await customers(container, 4, 100)
    gate = Gate(monkeypatch)
    transfer = transfers(container, slots=2, min_overlap=1000)
    first, waiting = await held_and_one_behind(
        partial(transfer, ada, TransferRequest(a, b, 1, "EUR")),
        partial(transfer, carol, TransferRequest(c, d, 2, "EUR")),
    )

    gate.opened.set()

    await asyncio.wait_for(asyncio.gather(first, waiting), timeout=10)
    assert (await container.get_account()(carol, c)).balance == 98


async def test_a_failed_group_runs_again_in_arrival_order(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    (ada, source), (_, destination) = await customers(container, 2, 1_000)
    gate = Gate(monkeypatch)
    group_writes_conflict(monkeypatch)
    transfer = transfers(container)
    request = TransferRequest(source, destination, 100, "EUR")

    answers = await queued_behind_a_busy_slot(gate, [lambda: transfer(ada, request)] * 12)

    # 100 alone, then the group of 11 fails and runs again one by one: 9 fit, in order.
    made = [isinstance(answer, TransferReceipt) for answer in answers]
    assert made == [True] * 10 + [False] * 2, answers
    assert all(isinstance(answer, InsufficientFunds) for answer in answers[10:])
    assert gate.groups == [9]  # the group decided 9 (and refused 2) before its write failed


async def test_a_group_without_a_database_answers_503_to_all_without_trying_each(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    (ada, source), (_, destination) = await customers(container, 2, 1_000)
    gate = Gate(monkeypatch)
    lock = SqlAlchemyAccountRepository.lock
    calls: list[int] = []

    async def away(
        repository: SqlAlchemyAccountRepository, ids: Collection[UUID], *, at: datetime
    ) -> dict[UUID, Account]:
        calls.append(len(ids))
        if len(calls) > 1:
            raise StorageUnavailable("the database did not answer in time")
        return await lock(repository, ids, at=at)

    monkeypatch.setattr(SqlAlchemyAccountRepository, "lock", away)
    transfer = transfers(container)
    request = TransferRequest(source, destination, 10, "EUR")

    answers = await queued_behind_a_busy_slot(gate, [lambda: transfer(ada, request)] * 5)

    assert isinstance(answers[0], TransferReceipt)
    assert all(isinstance(answer, StorageUnavailable) for answer in answers[1:]), answers
    assert len(calls) == 2  # the lone one, the group: nobody was tried again alone


async def test_deposits_and_withdrawals_queue_and_go_as_one_group(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every deposit and withdrawal moves the funding account: one group at a time, each
    group one write, instead of one transaction each on the funding account's row."""
    people = await customers(container, 3, 1_000)
    gate = Gate(monkeypatch)
    shared = teller(container)
    deposit, withdraw = Deposit(shared), Withdraw(shared)
    calls: list[Callable[[], Awaitable[TransferReceipt]]] = []
    for user, account in people:
        calls.append(partial(deposit, user, account, 100))
        calls.append(partial(withdraw, user, account, 50))
    calls.append(partial(withdraw, people[0][0], people[0][1], 10_000))  # more than it holds

    answers = await queued_behind_a_busy_slot(gate, calls)

    assert gate.groups == [5]  # the first alone, then one write for the rest but the refusal
    assert isinstance(answers[-1], InsufficientFunds)
    assert all(isinstance(answer, TransferReceipt) for answer in answers[:-1])
    await assert_books_balance(container, people, 3 * 1_050)
