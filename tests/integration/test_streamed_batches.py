"""A non-atomic batch written a part at a time, each part while the next is decided, on real
PostgreSQL: the parts land whole and in order, a part that fails takes the batch's retry
with it, and a batch cancelled with a part in flight leaves nothing and a sound pool."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from uuid import UUID

import pytest
from sqlalchemy import text
from sqlalchemy.pool import QueuePool

from adapters.sqlalchemy.ledger import SqlAlchemyLedgerRepository
from application.errors import TransientConflict
from application.events import Event
from application.ports.ledger import POSTINGS_PER_WRITE, Write
from application.transfer_requests import TransferRequest
from domain.ledger import Posting
from entrypoints.container import Container
from tests.integration.test_concurrency import assert_books_balance, customers
from tests.integration.test_entry_chain import assert_every_chain_holds

pytestmark = pytest.mark.integration

FUNDS = 10_000


class Parts:
    """The writes the ledger prepares: their sizes, in order; a chosen one may fail once
    after writing, or signal that it is in flight and wait to be let go."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, failing: int | None = None) -> None:
        self.sizes: list[int] = []
        self.failing = failing
        self.in_flight = asyncio.Event()
        self.let_go = asyncio.Event()
        self.let_go.set()
        prepare_many = SqlAlchemyLedgerRepository.prepare_many
        parts = self

        async def prepared(
            ledger: SqlAlchemyLedgerRepository,
            postings: Sequence[Posting],
            events: Sequence[Event] = (),
        ) -> Write:
            parts.sizes.append(len(postings))
            number = len(parts.sizes)
            write = await prepare_many(ledger, postings, events)

            async def watched() -> None:
                await write()
                parts.in_flight.set()
                await parts.let_go.wait()
                if number == parts.failing:
                    raise TransientConflict("a serialization failure, as PostgreSQL may answer")

            return watched

        monkeypatch.setattr(SqlAlchemyLedgerRepository, "prepare_many", prepared)


def batch_of(source: UUID, destination: UUID, count: int) -> list[TransferRequest]:
    return [TransferRequest(source, destination, 1 + n % 7, "EUR") for n in range(count)]


async def transfers_written(container: Container) -> int:
    async with container.engine().connect() as connection:
        return int((await connection.execute(text("SELECT count(*) FROM transfers"))).scalar_one())


async def test_a_thousand_item_batch_lands_whole_in_parts(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    pairs = await customers(container, 2, FUNDS)
    (ada, mine), (_, bobs) = pairs
    parts = Parts(monkeypatch)
    requests = batch_of(mine, bobs, 998)
    requests[10:10] = [TransferRequest(mine, bobs, 0, "EUR")] * 2  # refused on their own
    before = await transfers_written(container)

    receipt = await container.transfer_batch()(ada, requests, atomic=False)

    moved = [result.transfer for result in receipt.results if result.transfer is not None]
    assert len(moved) == 998
    assert parts.sizes == [POSTINGS_PER_WRITE] * 3 + [998 - 3 * POSTINGS_PER_WRITE]
    assert await transfers_written(container) == before + 998
    assert (await container.get_account()(ada, mine)).balance == FUNDS - sum(
        t.amount for t in moved
    )
    await assert_books_balance(container, pairs, 2 * FUNDS)
    await assert_every_chain_holds(container, [mine, bobs])


async def test_a_part_that_fails_to_write_is_retried_with_its_whole_batch(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    pairs = await customers(container, 2, FUNDS)
    (ada, mine), (_, bobs) = pairs
    parts = Parts(monkeypatch, failing=2)  # the second part, on the first attempt only
    before = await transfers_written(container)

    receipt = await container.transfer_batch()(
        ada, batch_of(mine, bobs, 3 * POSTINGS_PER_WRITE), atomic=False
    )

    assert all(result.transfer is not None for result in receipt.results)
    # Three prepared on the first attempt (the third while the failing second was in
    # flight), three on the retry.
    assert parts.sizes == [POSTINGS_PER_WRITE] * 6
    assert await transfers_written(container) == before + 3 * POSTINGS_PER_WRITE
    await assert_books_balance(container, pairs, 2 * FUNDS)
    await assert_every_chain_holds(container, [mine, bobs])


async def test_a_batch_cancelled_with_a_part_in_flight_leaves_nothing(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    pairs = await customers(container, 2, FUNDS)
    (ada, mine), (_, bobs) = pairs
    parts = Parts(monkeypatch)
    parts.let_go.clear()  # the first part stays in flight, its statement run
    before = await transfers_written(container)

    batch = asyncio.create_task(
        container.transfer_batch()(ada, batch_of(mine, bobs, 600), atomic=False)
    )
    await asyncio.wait_for(parts.in_flight.wait(), timeout=30)
    batch.cancel()
    parts.let_go.set()
    with pytest.raises(asyncio.CancelledError):
        await batch

    assert await transfers_written(container) == before
    pool = container.engine().pool
    assert isinstance(pool, QueuePool)
    assert pool.checkedout() == 0
    await assert_books_balance(container, pairs, 2 * FUNDS)
    # The pool's connections are sound: the next batch commits.
    receipt = await container.transfer_batch()(ada, batch_of(mine, bobs, 300), atomic=False)
    assert all(result.transfer is not None for result in receipt.results)
    assert await transfers_written(container) == before + 300
