"""The outbox, the feed and delivery to NATS JetStream, end to end on PostgreSQL: no event
without its movement, no movement without its event, at least once, de-duplicated by the
broker, and a broker outage that costs the API nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from dependency_injector import providers
from httpx import ASGITransport, AsyncClient
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.embedded_nats import EmbeddedNats
from adapters.in_memory.event_publisher import InMemoryEventPublisher
from application.errors import StorageUnavailable
from application.ports.event_publisher import EventNotDelivered, EventPublisher, OutgoingEvent
from application.transfer_requests import TransferRequest
from domain.errors import InsufficientFunds
from entrypoints.app import create_app
from entrypoints.container import Container, build_container
from entrypoints.observability.relay_metrics import RelayMetrics
from entrypoints.relay import RelayLoop
from tests.conftest import make_settings
from tests.http.helpers import assert_problem, payer_and_payee
from tests.http.test_movements_api import transfer_body
from tests.integration.test_concurrency import customers
from tests.nats_server import private_nats_server, read_stream
from tests.waiting import eventually

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def nats() -> Iterator[EmbeddedNats]:
    with private_nats_server() as server:
        yield server


@asynccontextmanager
async def instance(
    database_url: str, data_dir: Path, nats_url: str | None, **settings: object
) -> AsyncIterator[Container]:
    container = build_container(
        make_settings(database_url, data_dir, events="on", relay_idle_s=0.05, **settings),
        database_url,
        nats_url,
    )
    await container.init_resources()  # type: ignore[misc]
    try:
        yield container
    finally:
        await container.event_publisher().close()
        await container.shutdown_resources()  # type: ignore[misc]


@asynccontextmanager
async def relaying(container: Container) -> AsyncIterator[RelayLoop]:
    loop = RelayLoop(
        container.relay_events(),
        RelayMetrics(CollectorRegistry()),
        container.clock(),
        idle_s=0.05,
        retry_s=0.1,
    )
    task = asyncio.create_task(loop.run())
    try:
        yield loop
    finally:
        loop.stop()
        await task


async def drained(container: Container) -> None:
    left = -1

    async def nothing_waits() -> bool:
        nonlocal left
        async with container.unit_of_work() as uow:
            left = (await uow.outbox.backlog()).undelivered
        return left == 0

    await eventually(nothing_waits, lambda: f"the outbox to drain ({left} events waiting)")


async def test_the_feed_shows_each_user_their_own_events_in_commit_order(
    client: AsyncClient,
) -> None:
    ada, bob, source, destination = await payer_and_payee(client, funds=1_000)
    paid = await client.post(
        "/api/v1/transfers", json=transfer_body(source, destination, 300), headers=ada
    )
    refused = await client.post(
        "/api/v1/transfers", json=transfer_body(source, destination, 10**6), headers=ada
    )
    assert_problem(refused, 422, "insufficient-funds")

    feed = await client.get("/api/v1/events", headers=ada)
    assert feed.status_code == 200, feed.text
    types = [item["type"] for item in feed.json()["items"]]
    assert types == ["user.registered", "account.opened", "deposit.posted", "transfer.posted"]
    posted = feed.json()["items"][-1]
    assert set(posted) == {"id", "type", "occurred_at", "schema_version", "data", "accounts"}
    assert posted["data"]["id"] == paid.json()["id"]
    head = (await client.get(f"/api/v1/accounts/{source}", headers=ada)).json()["head_hash"]
    assert posted["accounts"] == [
        {
            "id": source,
            "sequence": 2,
            "entry_hash": head,
            "previous_sequence": 1,
            "balance": 700,
            "available": 700,
        }
    ]
    bobs = await client.get("/api/v1/events", params={"type": "transfer.posted"}, headers=bob)
    [seen] = bobs.json()["items"]
    assert seen["id"] == posted["id"]
    assert [a["id"] for a in seen["accounts"]] == [destination]  # never the payer's balance

    cursor = feed.json()["next_cursor"]
    nothing_new = await client.get("/api/v1/events", params={"after": cursor}, headers=ada)
    assert nothing_new.json() == {"items": [], "next_cursor": cursor}
    await client.post("/api/v1/transfers", json=transfer_body(source, destination, 1), headers=ada)
    later = await client.get("/api/v1/events", params={"after": cursor}, headers=ada)
    assert [item["type"] for item in later.json()["items"]] == ["transfer.posted"]
    for bad, slug in (
        ({"after": "x"}, "invalid-page"),
        ({"type": "money.gone"}, "invalid-page"),
        ({"limit": "101"}, "validation-error"),
    ):
        response = await client.get("/api/v1/events", params=bad, headers=ada)
        assert_problem(response, 422, slug)


async def test_concurrent_transfers_on_two_instances_give_exactly_one_event_each(
    database_url: str, tmp_path: Path, nats: EmbeddedNats
) -> None:
    async with (
        instance(database_url, tmp_path, nats.url) as first,
        instance(database_url, tmp_path, nats.url) as second,
    ):
        accounts = await customers(first, 6, 1_000)
        async with relaying(first), relaying(second):
            outcomes = await asyncio.gather(
                *(
                    (first, second)[n % 2].transfer_funds()(
                        payer,
                        TransferRequest(source, accounts[(n + 1) % 6][1], 1 + n % 400, "EUR"),
                    )
                    for n, (payer, source) in enumerate(accounts * 10)
                ),
                return_exceptions=True,
            )
            posted = [o for o in outcomes if not isinstance(o, BaseException)]
            assert all(
                isinstance(o, InsufficientFunds) for o in outcomes if isinstance(o, BaseException)
            )
            await drained(first)
        stored = [
            message
            for message in await read_stream(nats.url, "HEXBANK_EVENTS", "hexbank.events.>")
            if message.subject == "hexbank.events.transfer.posted"
        ]
        ours = {str(account) for _, account in accounts}
        delivered = [
            document
            for document in (json.loads(message.payload) for message in stored)
            if document["data"]["from_account_id"] in ours
        ]
        assert len(posted) > 30  # the test moved real money
        assert sorted(d["data"]["id"] for d in delivered) == sorted(
            str(receipt.transfer.id) for receipt in posted
        )
        assert all(m.headers["Nats-Msg-Id"] == json.loads(m.payload)["id"] for m in stored)
        in_feeds: set[str] = set()
        for user, _ in accounts:
            cursor = None
            while True:
                page = await first.read_event_feed()(
                    user, after=cursor, types=("transfer.posted",), limit=100
                )
                in_feeds |= {item["data"]["id"] for item in page.items}
                if not page.items:
                    break
                cursor = page.next_cursor
        assert in_feeds == {str(receipt.transfer.id) for receipt in posted}


class _Later:
    def __init__(self, ahead: timedelta) -> None:
        self._ahead = ahead

    def now(self) -> datetime:
        return datetime.now(UTC) + self._ahead


class _CrashAfterPublishing(EventPublisher):
    """Publishes the first few, then dies before the relay can mark anything: the process
    crash case."""

    def __init__(self, inner: EventPublisher, crash_after: int) -> None:
        self._inner = inner
        self._crash_after = crash_after

    async def ensure_stream(self) -> None:
        await self._inner.ensure_stream()

    async def publish(self, event: OutgoingEvent) -> None:
        raise AssertionError("the relay publishes what it leased together, with publish_all")

    async def publish_all(self, events: Sequence[OutgoingEvent]) -> list[EventNotDelivered | None]:
        await self._inner.publish_all(events[: self._crash_after])
        raise RuntimeError("the relay died after publishing, before marking")

    async def close(self) -> None:
        await self._inner.close()


async def test_a_relay_that_dies_after_publishing_publishes_again_and_the_broker_drops_it(
    database_url: str, tmp_path: Path, nats: EmbeddedNats
) -> None:
    async with instance(database_url, tmp_path, nats.url) as bank:
        accounts = await customers(bank, 2, 1_000)  # 2 registrations, 2 openings, 2 deposits
        dying = _CrashAfterPublishing(bank.event_publisher(), crash_after=3)
        bank.event_publisher.override(providers.Object(dying))
        bank.relay_events.reset()
        with pytest.raises(RuntimeError):
            await bank.relay_events()()
        bank.event_publisher.reset_override()
        # The dead relay's lease runs out (a minute); the next pass takes its events over.
        bank.clock.override(providers.Object(_Later(timedelta(minutes=1, seconds=1))))
        bank.relay_events.reset()
        again = await bank.relay_events()()
        assert again.published == 6  # all of them, the 3 already published included
        stored = await read_stream(nats.url, "HEXBANK_EVENTS", "hexbank.events.>")
        ids = [json.loads(m.payload)["id"] for m in stored]
        mine = [i for i in ids if i in {str(e) for e in await _event_ids(bank)}]
        assert len(mine) == 6  # each once: the second copies were dropped by the broker
        assert len(set(mine)) == 6
        assert len(accounts) == 2


class _TakesThePoolAfterPublishing(EventPublisher):
    """Publishes, then checks out the pool's only connection before the relay can mark: the
    pool exhausted at the mark step, as under load."""

    def __init__(self, inner: EventPublisher, engine: AsyncEngine) -> None:
        self._inner = inner
        self._engine = engine
        self._held: AsyncConnection | None = None

    async def ensure_stream(self) -> None:
        await self._inner.ensure_stream()

    async def publish(self, event: OutgoingEvent) -> None:
        raise AssertionError("the relay publishes what it leased together, with publish_all")

    async def publish_all(self, events: Sequence[OutgoingEvent]) -> list[EventNotDelivered | None]:
        results = await self._inner.publish_all(events)
        if self._held is None:
            self._held = await self._engine.connect()
        return results

    async def let_go(self) -> None:
        if self._held is not None:
            await self._held.close()

    async def close(self) -> None:
        await self._inner.close()


async def test_events_whose_mark_met_an_exhausted_pool_are_marked_on_the_next_pass(
    database_url: str, tmp_path: Path
) -> None:
    async with instance(
        database_url,
        tmp_path,
        "nats://unused:4222",
        db_pool_size=1,
        db_max_overflow=0,
        db_pool_timeout_s=0.3,
    ) as bank:
        await customers(bank, 2, 1_000)  # 2 registrations, 2 openings, 2 deposits
        broker = InMemoryEventPublisher()
        hog = _TakesThePoolAfterPublishing(broker, bank.engine())
        bank.event_publisher.override(providers.Object(hog))
        bank.relay_events.reset()
        relay = bank.relay_events()
        try:
            with pytest.raises(StorageUnavailable):
                await relay()
        finally:
            await hog.let_go()  # the held connection goes back even when the check fails

        again = await relay()  # at once: the lease (a minute) has not run out
        assert (again.published, again.backlog.undelivered) == (0, 0)
        assert len(broker.events) == 6  # published once, marked on the second pass
        async with bank.engine().connect() as connection:
            left = await connection.scalar(text("SELECT count(*) FROM event_deliveries"))
        assert left == 0


async def _event_ids(bank: Container) -> list[UUID]:
    async with bank.engine().connect() as connection:
        result = await connection.execute(text("SELECT id FROM events"))
        return [row.id for row in result]


async def test_a_broker_outage_costs_the_api_nothing_and_the_backlog_drains_after(
    database_url: str, tmp_path: Path
) -> None:
    broker = InMemoryEventPublisher()
    broker.broker_down = True
    settings = make_settings(
        database_url, tmp_path, events="on", relay_idle_s=0.05, relay_retry_s=0.1
    )
    container = build_container(settings, database_url, "nats://unused:4222")
    container.event_publisher.override(providers.Object(broker))
    app = create_app(container)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://hexbank.test") as client,
    ):
        ada, _, source, destination = await payer_and_payee(client, funds=1_000)
        for n in range(10):
            response = await client.post(
                "/api/v1/transfers", json=transfer_body(source, destination, 1 + n), headers=ada
            )
            assert response.status_code == 201, response.text
        ready = await client.get("/health/ready")
        assert ready.status_code == 200
        await asyncio.sleep(0.3)
        waiting = (await client.get("/health/ready")).json()["events"]
        assert waiting["backlog"] >= 10
        metrics = app.state.metrics.render().decode()
        assert "hexbank_events_backlog" in metrics
        assert "hexbank_events_publish_failures_total" in metrics
        assert broker.events == ()

        broker.broker_down = False
        await drained(container)
        delivered: list[OutgoingEvent] = list(broker.events)
        posted = [event for event in delivered if event.type == "transfer.posted"]
        assert len(posted) == 10
        amounts = [json.loads(event.payload)["data"]["amount"] for event in posted]
        assert amounts == list(range(1, 11))  # in order
        after = (await client.get("/health/ready")).json()["events"]
        assert after["backlog"] == 0


class _SlowBroker(EventPublisher):
    """Takes its time to acknowledge, as a broker on a bad day does."""

    def __init__(self) -> None:
        self.publishing = asyncio.Event()
        self.go_on = asyncio.Event()

    async def ensure_stream(self) -> None:
        return None

    async def publish(self, event: OutgoingEvent) -> None:
        self.publishing.set()
        await self.go_on.wait()

    async def publish_all(self, events: Sequence[OutgoingEvent]) -> list[EventNotDelivered | None]:
        for event in events:
            await self.publish(event)
        return [None] * len(events)

    async def close(self) -> None:
        return None


async def test_the_feed_moves_on_while_the_relay_waits_for_the_broker(
    database_url: str, tmp_path: Path
) -> None:
    async with instance(database_url, tmp_path, "nats://unused:4222") as bank:
        [(payer, source), (_, destination)] = await customers(bank, 2, 1_000)
        broker = _SlowBroker()
        bank.event_publisher.override(providers.Object(broker))
        bank.relay_events.reset()
        relay_pass = asyncio.create_task(bank.relay_events()())
        await asyncio.wait_for(broker.publishing.wait(), timeout=10)
        paid = await bank.transfer_funds()(payer, TransferRequest(source, destination, 5, "EUR"))
        page = await bank.read_event_feed()(payer, types=("transfer.posted",))
        assert [item["data"]["id"] for item in page.items] == [str(paid.transfer.id)]
        broker.go_on.set()
        await relay_pass


async def test_an_event_stored_before_the_hash_chain_reaches_the_broker_with_its_fields(
    container: Container,
) -> None:
    """A row written before the chain (and before owners were kept) has accounts without
    `entry_hash`, `previous_sequence` or `owner_id`: the broker's copy still has every field
    the document promises, as nulls, and decodes to the same document as the feed's."""
    event_id, account_id = (
        "0b5c6a1e-9d1c-4d5e-8f0a-2b3c4d5e6f70",
        "3f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
    )
    async with container.engine().begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO events (id, type, occurred_at, schema_version, data, accounts,"
                " user_ids) VALUES (:id, 'deposit.posted', '2025-11-02 08:15:00.000250+00', 1,"
                " CAST(:data AS json), CAST(:accounts AS json), '{}')"
            ),
            {
                "id": event_id,
                "data": '{"amount": 5, "note": "\\u00e9"}',
                "accounts": json.dumps(
                    [{"id": account_id, "sequence": 2, "balance": 5, "available": 5}]
                ),
            },
        )
    now = datetime.now(UTC)
    async with container.unit_of_work() as uow:
        (claimed,) = await uow.outbox.claim_undelivered(10, now=now, until=now)
    assert json.loads(claimed.payload) == {
        "id": event_id,
        "type": "deposit.posted",
        "occurred_at": "2025-11-02T08:15:00.000250Z",
        "schema_version": 1,
        "data": {"amount": 5, "note": "é"},
        "accounts": [
            {
                "id": account_id,
                "sequence": 2,
                "entry_hash": None,
                "previous_sequence": None,
                "balance": 5,
                "available": 5,
            }
        ],
    }
