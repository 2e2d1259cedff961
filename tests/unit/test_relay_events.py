"""The relay's count of what still waits: every pass while the backlog is small, at most once
a second while it keeps finding full batches (the count reads the whole backlog)."""

from __future__ import annotations

from uuid import uuid4

from adapters.in_memory.event_publisher import InMemoryEventPublisher
from application.events import Event
from application.use_cases.relay_events import COUNT_EVERY, RelayEvents
from tests.fakes import InMemoryBank


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
