"""What every outbox must do, in memory and in PostgreSQL: events become visible with their
unit of work, in commit order, to the users they concern; the relay claims, marks, counts, and
a mark that failed is done on the next pass, not when the lease runs out."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from adapters.in_memory.event_publisher import InMemoryEventPublisher
from application.errors import StorageUnavailable
from application.events import AccountState, Event
from application.ports.event_publisher import MESSAGE_ID_HEADER
from application.ports.unit_of_work import UnitOfWorkFactory
from application.use_cases.relay_events import RelayEvents
from tests.contract.test_persistence_contract import saved_user
from tests.fakes import ManualClock, PoolExhaustedAt

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
LEASED = NOW + timedelta(minutes=1)
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def an_event(user_ids: tuple[object, ...], type_: str = "transfer.posted") -> Event:
    state = AccountState(uuid4(), 3, 500, 400, None, bytes(32))
    return Event(uuid4(), type_, NOW, {"amount": 1}, (state,), user_ids)  # type: ignore[arg-type]


async def test_events_are_seen_after_commit_in_order_by_their_users(
    uow_factory: UnitOfWorkFactory,
) -> None:
    ada, bob = await saved_user(uow_factory), await saved_user(uow_factory, "bob@example.com")
    first = [an_event((ada.id,)), an_event((ada.id, bob.id), "deposit.posted")]
    async with uow_factory() as uow:
        await uow.outbox.add(first)
        assert await uow.outbox.feed(ada.id, after=None, types=(), limit=10) == []
        await uow.commit()
    async with uow_factory() as uow:
        await uow.outbox.add([an_event((bob.id,))])
        # rolled back: never seen
    second = an_event((ada.id,), "account.updated")
    async with uow_factory() as uow:
        await uow.outbox.add([second])
        await uow.commit()

    async with uow_factory() as uow:
        seen = await uow.outbox.feed(ada.id, after=None, types=(), limit=10)
        assert [s.event for s in seen] == [*first, second]
        assert seen[0].event.accounts == first[0].accounts
        after_first = await uow.outbox.feed(ada.id, after=seen[0].position, types=(), limit=10)
        assert [s.event.id for s in after_first] == [first[1].id, second.id]
        only = await uow.outbox.feed(ada.id, after=None, types=("account.updated",), limit=10)
        assert [s.event.id for s in only] == [second.id]
        bobs = await uow.outbox.feed(bob.id, after=None, types=(), limit=10)
        assert [s.event.id for s in bobs] == [first[1].id]
        assert await uow.outbox.feed(ada.id, after=None, types=(), limit=1) == seen[:1]


async def test_an_event_keeps_the_trace_context_it_was_made_in(
    uow_factory: UnitOfWorkFactory,
) -> None:
    ada = await saved_user(uow_factory)
    traced = replace(an_event((ada.id,)), traceparent=TRACEPARENT)
    async with uow_factory() as uow:
        await uow.outbox.add([traced, an_event((ada.id,))])
        await uow.commit()
    async with uow_factory() as uow:
        fed = await uow.outbox.feed(ada.id, after=None, types=(), limit=10)
        assert [s.traceparent for s in fed] == [TRACEPARENT, None]
        claimed = await uow.outbox.claim_undelivered(10, now=NOW, until=LEASED)
        assert [s.traceparent for s in claimed] == [TRACEPARENT, None]


async def test_a_claimed_event_carries_its_document_as_the_broker_does(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """The relay passes the claimed bytes on as they are: they must be `Event.document()`,
    every touched account listed, with no owner in it (the broker's consumers never had it)."""
    ada, bob = await saved_user(uow_factory), await saved_user(uow_factory, "bob@example.com")
    payer = AccountState(uuid4(), 7, -250, 0, ada.id, bytes(range(32)), 5)
    payee = AccountState(uuid4(), 1, 250, 250, bob.id, bytes(32), None)
    data = {
        "amount": 250,
        "metadata": {"note": 'caf\u00e9 "quoted" \\ \u2603'},
        "nested": [1, None],
    }
    event = Event(
        uuid4(),
        "transfer.posted",
        NOW.replace(microsecond=0),
        data,
        (payer, payee),
        (ada.id, bob.id),
        traceparent=TRACEPARENT,
    )
    async with uow_factory() as uow:
        await uow.outbox.add([event])
        await uow.commit()
    async with uow_factory() as uow:
        (claimed,) = await uow.outbox.claim_undelivered(10, now=NOW, until=LEASED)
    assert (claimed.id, claimed.type, claimed.traceparent) == (event.id, event.type, TRACEPARENT)
    assert json.loads(claimed.payload) == event.document()
    assert json.loads(claimed.payload)["occurred_at"] == "2026-03-01T09:30:00Z"


async def test_the_relay_claims_marks_and_counts(uow_factory: UnitOfWorkFactory) -> None:
    ada = await saved_user(uow_factory)
    events = [an_event((ada.id,)) for _ in range(3)]
    async with uow_factory() as uow:
        await uow.outbox.add(events)
        await uow.commit()
    async with uow_factory() as uow:
        backlog = await uow.outbox.backlog()
        assert (backlog.undelivered, backlog.oldest) == (3, NOW)
        claimed = await uow.outbox.claim_undelivered(2, now=NOW, until=LEASED)
        assert [s.id for s in claimed] == [e.id for e in events[:2]]
        await uow.commit()
    async with uow_factory() as uow:
        # Leased: another relay gets only what is left.
        other = await uow.outbox.claim_undelivered(10, now=NOW, until=LEASED)
        assert [s.id for s in other] == [events[2].id]
        await uow.commit()
    async with uow_factory() as uow:
        await uow.outbox.mark_delivered([claimed[0]])
        await uow.outbox.release([claimed[1]], leased_until=LEASED)
        assert (await uow.outbox.backlog()).undelivered == 2  # its own mark counts at once
        await uow.commit()
    async with uow_factory() as uow:
        assert (await uow.outbox.backlog()).undelivered == 2
        released = await uow.outbox.claim_undelivered(10, now=NOW, until=LEASED)
        assert [s.id for s in released] == [events[1].id]
        # Not committed: the lease is not taken.
    async with uow_factory() as uow:
        after_the_lease = await uow.outbox.claim_undelivered(10, now=LEASED, until=LEASED)
        assert [s.id for s in after_the_lease] == [events[1].id, events[2].id]


async def test_a_relay_whose_mark_failed_settles_it_on_its_next_pass_within_the_lease(
    uow_factory: UnitOfWorkFactory,
) -> None:
    ada = await saved_user(uow_factory)
    events = [an_event((ada.id,)) for _ in range(3)]
    async with uow_factory() as uow:
        await uow.outbox.add(events)
        await uow.commit()
    publisher = InMemoryEventPublisher()
    clock = ManualClock(NOW)
    relay = RelayEvents(PoolExhaustedAt(uow_factory, {2}), publisher, clock, batch_size=2)

    with pytest.raises(StorageUnavailable):
        await relay()  # two published; the mark found no connection
    clock.advance(seconds=2)  # the relay's retry: both still leased for most of a minute

    second, third = await relay(), await relay()
    assert (second.published, second.backlog.undelivered) == (1, 0)
    assert third.published == 0
    assert [message.headers[MESSAGE_ID_HEADER] for message in publisher.messages] == [
        str(event.id) for event in events
    ]  # each once, in order: the two were marked, not published again


async def test_a_release_ends_only_the_releasing_relays_own_lease(
    uow_factory: UnitOfWorkFactory,
) -> None:
    ada = await saved_user(uow_factory)
    async with uow_factory() as uow:
        await uow.outbox.add([an_event((ada.id,))])
        await uow.commit()
    async with uow_factory() as uow:
        first = await uow.outbox.claim_undelivered(10, now=NOW, until=LEASED)
        await uow.commit()
    later = LEASED + timedelta(minutes=1)
    async with uow_factory() as uow:  # the first relay's lease ran out; another takes over
        second = await uow.outbox.claim_undelivered(10, now=LEASED, until=later)
        assert [s.id for s in second] == [s.id for s in first]
        await uow.commit()
    async with uow_factory() as uow:  # the first relay's late release
        await uow.outbox.release(first, leased_until=LEASED)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.outbox.claim_undelivered(10, now=LEASED, until=later) == []
        await uow.outbox.release(second, leased_until=later)
        await uow.commit()
    async with uow_factory() as uow:
        again = await uow.outbox.claim_undelivered(10, now=LEASED, until=later)
        assert [s.id for s in again] == [s.id for s in first]
