"""What the webhook ports must do, in memory and in PostgreSQL: endpoints are stored and
counted per user; committed events fan out once into deliveries for the endpoints that take
them; leases are shared out, settled only by their holder, released; the log pages; replay
queues again; and names resolve to the addresses the guard checks."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from adapters.http_webhooks import SystemHostResolver
from adapters.in_memory.webhooks import StaticHostResolver
from application.events import AccountState, Event
from application.ports.outbox import FeedPosition
from application.ports.unit_of_work import UnitOfWorkFactory
from application.ports.webhooks import DeliveryOutcome, DeliveryStatus, HostResolver
from domain.user import User
from domain.webhook import WebhookEndpoint
from tests.contract.test_persistence_contract import saved_user

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
LEASED = NOW + timedelta(minutes=1)


def an_event(user: User, type_: str = "transfer.posted") -> Event:
    state = AccountState(uuid4(), 3, 500, 400, user.id, bytes(32), 2)
    return Event(uuid4(), type_, NOW, {"amount": 1}, (state,), (user.id,))


async def saved_endpoint(
    uow_factory: UnitOfWorkFactory, user: User, event_types: list[str] | None = None
) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.create(
        user_id=user.id,
        url="https://hooks.example.com/x",
        event_types=event_types,
        description=None,
        now=NOW - timedelta(minutes=5),
    )
    async with uow_factory() as uow:
        assert await uow.webhook_endpoints.lock_user_and_count(user.id) >= 0
        await uow.webhook_endpoints.add(endpoint)
        await uow.commit()
    return endpoint


async def written(uow_factory: UnitOfWorkFactory, events: list[Event]) -> None:
    async with uow_factory() as uow:
        await uow.outbox.add(events)
        await uow.commit()


async def fanned_out(uow_factory: UnitOfWorkFactory) -> int:
    total = 0
    while True:
        async with uow_factory() as uow:
            # Leased until NOW: already over, so the tests below lease them as due ones.
            read = (await uow.webhook_deliveries.fan_out(2, now=NOW, until=NOW)).read
            await uow.commit()
        if not read:
            return total
        total += read


async def test_endpoints_round_trip_count_change_and_go(uow_factory: UnitOfWorkFactory) -> None:
    ada = await saved_user(uow_factory)
    endpoint = await saved_endpoint(uow_factory, ada, ["transfer.posted"])
    second = await saved_endpoint(uow_factory, ada)
    async with uow_factory() as uow:
        assert await uow.webhook_endpoints.get(endpoint.id) == endpoint
        assert await uow.webhook_endpoints.of_user(ada.id) in (
            [endpoint, second],
            [second, endpoint],
        )
        assert await uow.webhook_endpoints.lock_user_and_count(ada.id) == 2
    rotated = replace(endpoint.rotated(NOW), enabled=False, description="d")
    async with uow_factory() as uow:
        await uow.webhook_endpoints.save(rotated)
        await uow.webhook_endpoints.note_attempt(endpoint.id, succeeded=False, at=NOW)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.webhook_endpoints.note_attempt(endpoint.id, succeeded=False, at=LEASED)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.webhook_endpoints.get(endpoint.id) == replace(rotated, failing_since=NOW)
        await uow.webhook_endpoints.note_attempt(endpoint.id, succeeded=True, at=LEASED)
        await uow.webhook_endpoints.delete(second.id)
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.webhook_endpoints.get(endpoint.id)
        assert found is not None
        assert found.failing_since is None
        assert await uow.webhook_endpoints.get(second.id) is None


async def test_committed_events_fan_out_once_to_the_endpoints_that_take_them(
    uow_factory: UnitOfWorkFactory,
) -> None:
    ada, bob = await saved_user(uow_factory), await saved_user(uow_factory, "bob@example.com")
    everything = await saved_endpoint(uow_factory, ada)
    transfers_only = await saved_endpoint(uow_factory, ada, ["transfer.posted"])
    bobs = await saved_endpoint(uow_factory, bob)
    off = replace(await saved_endpoint(uow_factory, ada), enabled=False)
    async with uow_factory() as uow:
        await uow.webhook_endpoints.save(off)
        await uow.commit()
    events = [an_event(ada), an_event(ada, "account.opened"), an_event(ada), an_event(bob)]
    await written(uow_factory, events)
    async with uow_factory() as uow:
        await uow.outbox.add([an_event(ada)])  # rolled back: never fanned out
    assert await fanned_out(uow_factory) >= 4
    assert await fanned_out(uow_factory) == 0  # once only

    async with uow_factory() as uow:
        page = await uow.webhook_deliveries.page(everything.id, status=None, before=None, limit=9)
        assert [d.event_id for d in page] == [e.id for e in reversed(events[:3])]
        assert all(d.status is DeliveryStatus.PENDING and d.attempts == 0 for d in page)
        assert page[0].next_attempt_at == NOW
        only = await uow.webhook_deliveries.page(
            transfers_only.id, status=None, before=None, limit=9
        )
        assert [d.event_id for d in only] == [events[2].id, events[0].id]
        theirs = await uow.webhook_deliveries.page(bobs.id, status=None, before=None, limit=9)
        assert [d.event_id for d in theirs] == [events[3].id]
        assert await uow.webhook_deliveries.page(off.id, status=None, before=None, limit=9) == []
        older = await uow.webhook_deliveries.page(
            everything.id, status=None, before=page[0].id, limit=1
        )
        assert older == page[1:2]
        backlog = await uow.webhook_deliveries.backlog()
        assert (backlog.pending, backlog.retrying, backlog.oldest) == (6, 0, NOW)


async def test_the_fan_out_hands_fresh_deliveries_over_leased_but_a_failing_endpoints(
    uow_factory: UnitOfWorkFactory,
) -> None:
    ada = await saved_user(uow_factory)
    sound = await saved_endpoint(uow_factory, ada)
    failing = await saved_endpoint(uow_factory, ada)
    async with uow_factory() as uow:
        await uow.webhook_endpoints.note_attempt(failing.id, succeeded=False, at=NOW)
        await uow.commit()
    events = [an_event(ada), an_event(ada)]
    await written(uow_factory, events)
    async with uow_factory() as uow:
        fanned = await uow.webhook_deliveries.fan_out(9, now=NOW, until=LEASED)
        await uow.commit()
    assert (fanned.read, fanned.unleased) == (2, 2)
    assert [(lease.endpoint.id, lease.event.event.id) for lease in fanned.leased] == [
        (sound.id, event.id) for event in events
    ]
    assert all(lease.leased_until == LEASED for lease in fanned.leased)
    assert fanned.leased[0].event.event.accounts[0].previous_sequence == 2
    async with uow_factory() as uow:
        due = await uow.webhook_deliveries.lease(
            9, now=NOW, until=LEASED, excluding=[], per_endpoint=9
        )
        await uow.commit()
    # The sound endpoint's are leased already; the failing one's wait for a lease of their own.
    assert sorted(lease.event.event.id for lease in due) == sorted(e.id for e in events)
    assert {lease.endpoint.id for lease in due} == {failing.id}
    first = fanned.leased[0]
    async with uow_factory() as uow:
        await uow.webhook_deliveries.settle(
            [DeliveryOutcome(first.delivery.id, LEASED, DeliveryStatus.DELIVERED, None, 200, None)]
        )
        await uow.webhook_deliveries.release([fanned.leased[1].delivery.id], leased_until=LEASED)
        await uow.commit()
    async with uow_factory() as uow:
        delivered = await uow.webhook_deliveries.page(
            sound.id, status=DeliveryStatus.DELIVERED, before=None, limit=9
        )
        again = await uow.webhook_deliveries.lease(
            9, now=NOW, until=LEASED, excluding=[failing.id], per_endpoint=9
        )
        await uow.commit()
    assert [d.event_id for d in delivered] == [events[0].id]
    assert [lease.delivery.id for lease in again] == [fanned.leased[1].delivery.id]


async def test_leases_are_shared_settled_by_their_holder_and_released(
    uow_factory: UnitOfWorkFactory,
) -> None:
    ada = await saved_user(uow_factory)
    endpoint = await saved_endpoint(uow_factory, ada)
    other = await saved_endpoint(uow_factory, ada)
    await written(uow_factory, [an_event(ada), an_event(ada)])
    await fanned_out(uow_factory)
    async with uow_factory() as uow:
        first = await uow.webhook_deliveries.lease(
            3, now=NOW, until=LEASED, excluding=[other.id], per_endpoint=9
        )
        await uow.commit()
    assert {lease.endpoint.id for lease in first} == {endpoint.id}
    assert len(first) == 2
    assert first[0].event.event.accounts[0].previous_sequence == 2
    assert first[0].endpoint == endpoint
    async with uow_factory() as uow:
        second = await uow.webhook_deliveries.lease(
            9, now=NOW, until=LEASED, excluding=[], per_endpoint=9
        )
        await uow.commit()
    assert {lease.endpoint.id for lease in second} == {other.id}  # the first two are leased
    done, waiting = first
    later = NOW + timedelta(seconds=30)
    async with uow_factory() as uow:
        await uow.webhook_deliveries.settle(
            [
                DeliveryOutcome(
                    done.delivery.id, LEASED, DeliveryStatus.DELIVERED, None, 200, None
                ),
                # not this lease: ignored
                DeliveryOutcome(waiting.delivery.id, NOW, DeliveryStatus.FAILED, None, 500, None),
            ]
        )
        await uow.webhook_deliveries.release([waiting.delivery.id], leased_until=LEASED)
        await uow.commit()
    async with uow_factory() as uow:
        again = await uow.webhook_deliveries.lease(
            9, now=NOW, until=later, excluding=[other.id], per_endpoint=9
        )
        await uow.commit()
    assert [lease.delivery.id for lease in again] == [waiting.delivery.id]
    async with uow_factory() as uow:
        await uow.webhook_deliveries.settle(
            [
                DeliveryOutcome(
                    waiting.delivery.id, later, DeliveryStatus.PENDING, LEASED, None, "refused"
                )
            ]
        )
        await uow.commit()
    async with uow_factory() as uow:
        assert (
            await uow.webhook_deliveries.lease(
                9, now=NOW, until=later, excluding=[], per_endpoint=9
            )
            == []
        )
        page = await uow.webhook_deliveries.page(endpoint.id, status=None, before=None, limit=9)
        delivered = await uow.webhook_deliveries.page(
            endpoint.id, status=DeliveryStatus.DELIVERED, before=None, limit=9
        )
        backlog = await uow.webhook_deliveries.backlog()
    assert [(d.status, d.attempts, d.last_status_code, d.last_error) for d in page] == [
        (DeliveryStatus.PENDING, 1, None, "refused"),
        (DeliveryStatus.DELIVERED, 1, 200, None),
    ]
    assert [d.id for d in delivered] == [done.delivery.id]
    assert (backlog.pending, backlog.retrying) == (3, 1)
    async with uow_factory() as uow:  # due again once its time comes (the other lease ran out)
        due = await uow.webhook_deliveries.lease(
            9, now=LEASED, until=later, excluding=[], per_endpoint=9
        )
    assert {lease.delivery.id for lease in due} >= {waiting.delivery.id}


async def test_replay_queues_every_taken_event_after_a_position_again(
    uow_factory: UnitOfWorkFactory,
) -> None:
    ada = await saved_user(uow_factory)
    endpoint = await saved_endpoint(uow_factory, ada, ["transfer.posted"])
    events = [an_event(ada), an_event(ada, "account.opened"), an_event(ada)]
    await written(uow_factory, events)
    await fanned_out(uow_factory)
    async with uow_factory() as uow:
        [first, *_] = await uow.outbox.feed(ada.id, after=None, types=(), limit=1)
        [lease, _] = await uow.webhook_deliveries.lease(
            9, now=NOW, until=LEASED, excluding=[], per_endpoint=9
        )
        await uow.webhook_deliveries.settle(
            [DeliveryOutcome(lease.delivery.id, LEASED, DeliveryStatus.FAILED, None, 500, None)]
        )
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.webhook_deliveries.requeue(endpoint, after=first.position, now=LEASED) == 1
        assert (
            await uow.webhook_deliveries.requeue(endpoint, after=FeedPosition(0, 0), now=LEASED)
            == 2
        )
        await uow.commit()
    async with uow_factory() as uow:
        page = await uow.webhook_deliveries.page(endpoint.id, status=None, before=None, limit=9)
    assert [(d.status, d.next_attempt_at, d.queued_at) for d in page] == [
        (DeliveryStatus.PENDING, LEASED, LEASED)
    ] * 2


@pytest.fixture(params=["static", "system"])
def resolver(request: pytest.FixtureRequest) -> HostResolver:
    return StaticHostResolver() if request.param == "static" else SystemHostResolver()


async def test_localhost_resolves_to_loopback(resolver: HostResolver) -> None:
    addresses = await resolver.resolve("localhost", 443)
    assert addresses
    assert set(addresses) <= {"127.0.0.1", "::1"}


async def test_a_lease_takes_at_most_per_endpoint_of_each_endpoint(
    uow_factory: UnitOfWorkFactory,
) -> None:
    ada = await saved_user(uow_factory)
    busy = await saved_endpoint(uow_factory, ada, ["transfer.posted"])
    quiet = await saved_endpoint(uow_factory, ada, ["account.opened"])
    await written(uow_factory, [an_event(ada) for _ in range(5)])
    await written(uow_factory, [an_event(ada, "account.opened")])
    await fanned_out(uow_factory)
    async with uow_factory() as uow:
        leased = await uow.webhook_deliveries.lease(
            9, now=NOW, until=LEASED, excluding=[], per_endpoint=2
        )
        await uow.commit()
    by_endpoint = [lease.endpoint.id for lease in leased]
    assert sorted(map(str, by_endpoint)) == sorted(map(str, [busy.id, busy.id, quiet.id]))
    async with uow_factory() as uow:
        more = await uow.webhook_deliveries.lease(
            9, now=NOW, until=LEASED, excluding=[], per_endpoint=2
        )
    assert [lease.endpoint.id for lease in more] == [busy.id, busy.id]


async def test_fan_outs_at_once_queue_each_event_once(uow_factory: UnitOfWorkFactory) -> None:
    ada = await saved_user(uow_factory)
    endpoint = await saved_endpoint(uow_factory, ada)
    events = [an_event(ada) for _ in range(30)]
    await written(uow_factory, events)

    async def fan_out() -> int:
        read = 0
        for _ in range(20):
            async with uow_factory() as uow:
                read += (await uow.webhook_deliveries.fan_out(3, now=NOW, until=LEASED)).read
                await uow.commit()
        return read

    reads = await asyncio.gather(*(fan_out() for _ in range(4)))
    assert sum(reads) == 30  # every event read by exactly one of them
    async with uow_factory() as uow:
        page = await uow.webhook_deliveries.page(endpoint.id, status=None, before=None, limit=99)
    assert sorted(str(d.event_id) for d in page) == sorted(str(e.id) for e in events)


async def test_an_endpoint_deleted_while_its_outcomes_are_settled_waits_its_turn(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """A worker settles a delivery, then notes the attempt on its endpoint, while the owner
    deletes that endpoint: one waits for the other, and neither is a deadlock (the settle
    takes the endpoint before its deliveries, as the delete's cascade does)."""
    ada = await saved_user(uow_factory)
    endpoint = await saved_endpoint(uow_factory, ada)
    await written(uow_factory, [an_event(ada)])
    await fanned_out(uow_factory)
    async with uow_factory() as uow:
        [leased] = await uow.webhook_deliveries.lease(
            9, now=NOW, until=LEASED, excluding=[], per_endpoint=9
        )
        await uow.commit()
    settled = asyncio.Event()

    async def delete() -> None:
        await settled.wait()
        async with uow_factory() as uow:
            await uow.webhook_endpoints.delete(endpoint.id)
            await uow.commit()

    deleting = asyncio.create_task(delete())
    async with uow_factory() as uow:
        await uow.webhook_deliveries.settle(
            [DeliveryOutcome(leased.delivery.id, LEASED, DeliveryStatus.DELIVERED, None, 200, None)]
        )
        settled.set()
        await asyncio.sleep(0.2)  # the delete, under way, reaches the endpoint's row
        await uow.webhook_endpoints.note_attempt(endpoint.id, succeeded=True, at=NOW)
        await uow.commit()
    await asyncio.wait_for(deleting, 10)
    async with uow_factory() as uow:
        assert await uow.webhook_endpoints.get(endpoint.id) is None
