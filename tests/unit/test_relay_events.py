"""The relay's count of what still waits: every pass while the backlog is small, at most once
a second while it keeps finding full batches (the count reads the whole backlog). A mark that
fails is done on the next pass: its events do not wait for their lease to run out."""

from __future__ import annotations

from uuid import uuid4

import pytest

from adapters.in_memory.event_publisher import InMemoryEventPublisher
from application.errors import StorageUnavailable
from application.events import Event
from application.use_cases.relay_events import COUNT_EVERY, LEASE, RelayEvents
from tests.fakes import InMemoryBank, PoolExhaustedAt


async def queued(bank: InMemoryBank, count: int) -> None:
    events = [
        Event(uuid4(), "user.registered", bank.clock.now(), {"n": n}, (), ()) for n in range(count)
    ]
    async with bank.uow() as uow:
        await uow.outbox.add(events)
        await uow.commit()


async def test_the_backlog_is_counted_each_pass_when_small_and_once_a_second_when_not() -> None:
    bank = InMemoryBank()
    publisher = InMemoryEventPublisher()
    relay = RelayEvents(bank.uow, publisher, bank.clock, batch_size=2)
    await queued(bank, 7)

    first = await relay()
    second = await relay()  # a full batch again, within the second: the first count stands
    bank.clock.advance(seconds=COUNT_EVERY.total_seconds())
    third = await relay()  # a second later: counted again
    fourth = await relay()  # less than a full batch: counted

    assert [p.published for p in (first, second, third, fourth)] == [2, 2, 2, 1]
    assert [p.backlog.undelivered for p in (first, second, third, fourth)] == [5, 5, 1, 0]
    assert len(publisher.messages) == 7


async def test_a_failed_mark_is_done_on_the_next_pass_not_when_the_lease_runs_out() -> None:
    bank = InMemoryBank()
    publisher = InMemoryEventPublisher()
    units = PoolExhaustedAt(bank.uow, failing={2})  # the first pass's mark
    relay = RelayEvents(units, publisher, bank.clock, batch_size=10)
    await queued(bank, 3)

    with pytest.raises(StorageUnavailable):
        await relay()
    assert len(publisher.messages) == 3  # published, not marked
    await queued(bank, 1)

    again = await relay()  # the clock has not moved: the lease of the three still runs
    assert (again.published, again.backlog.undelivered) == (1, 0)
    assert len(publisher.messages) == 4  # the three were marked, not published again
    assert bank.storage.leases.keys() <= bank.storage.delivered


async def test_a_failed_mark_releases_what_the_broker_did_not_take_for_the_next_pass() -> None:
    bank = InMemoryBank()
    publisher = InMemoryEventPublisher()
    publisher.broker_down = True
    units = PoolExhaustedAt(bank.uow, failing={2})
    relay = RelayEvents(units, publisher, bank.clock, batch_size=10)
    await queued(bank, 3)

    with pytest.raises(StorageUnavailable):
        await relay()
    publisher.broker_down = False
    bank.clock.advance(seconds=2)  # the relay's retry, well inside the lease

    again = await relay()
    assert (again.published, again.failed, again.backlog.undelivered) == (3, False, 0)
    assert len(publisher.messages) == 3


async def test_a_late_settlement_leaves_alone_a_lease_another_relay_took_over() -> None:
    bank = InMemoryBank()
    publisher = InMemoryEventPublisher()
    publisher.broker_down = True
    relay = RelayEvents(
        PoolExhaustedAt(bank.uow, failing={2}), publisher, bank.clock, batch_size=10
    )
    await queued(bank, 2)
    with pytest.raises(StorageUnavailable):
        await relay()
    publisher.broker_down = False

    bank.clock.advance(seconds=LEASE.total_seconds())  # the database was away all that time
    async with bank.uow() as uow:  # another relay takes the events over
        now = bank.clock.now()
        taken = await uow.outbox.claim_undelivered(10, now=now, until=now + LEASE)
        await uow.commit()

    again = await relay()
    assert (again.published, again.backlog.undelivered) == (0, 2)  # the other relay's to send
    assert set(bank.storage.leases) == {claimed.id for claimed in taken}
    assert publisher.messages == ()


async def test_the_stream_is_made_on_the_first_pass_before_any_event() -> None:
    """A consumer started ahead of the first event (the README's durable one) finds the
    stream: the relay makes it on start, not only when it has something to publish."""
    bank = InMemoryBank()
    publisher = InMemoryEventPublisher()
    relay = RelayEvents(bank.uow, publisher, bank.clock, batch_size=10)

    idle = await relay()

    assert idle.published == 0
    assert publisher._has_stream
