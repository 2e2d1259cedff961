"""What every EventPublisher must do, the in-memory fake and NATS JetStream alike.

"Stored" is what a JetStream consumer of the stream receives (for the fake, what it kept).
The real broker goes down by stopping the private nats-server (or, on NATS_TEST_URL, by a
proxy that cuts and refuses connections), and comes back at the same address; the same
publisher object must work again, with no restart of its owner.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import nats
import pytest
from nats.js import JetStreamContext
from nats.js.api import StorageType

from adapters.embedded_nats import EmbeddedNats, EmbeddedNatsError
from adapters.in_memory.event_publisher import InMemoryEventPublisher
from adapters.nats_publisher import NatsJetStreamPublisher
from application.ports.event_publisher import (
    DUPLICATE_WINDOW,
    MESSAGE_ID_HEADER,
    STREAM_NAME,
    SUBJECT_PREFIX,
    EventNotDelivered,
    EventPublisher,
    OutgoingEvent,
)
from application.turns import ITEMS_PER_TURN
from tests.faults import FaultProxy
from tests.nats_server import (
    SHARED_URL,
    Received,
    delete_stream,
    private_nats_server,
    read_stream,
    unique_names,
)

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
# Short, so the tests of an outage do not wait long; the bounds below are what the contract
# promises: a broker that is down is reported within these, never a hang.
PUBLISH_TIMEOUT_S = 2.0
CONNECT_TIMEOUT_S = 1.0
FAIL_WITHIN_S = PUBLISH_TIMEOUT_S + CONNECT_TIMEOUT_S + 1.0
BACK_WITHIN_S = 20.0


def an_event(event_type: str = "transfer.posted", **headers: str) -> OutgoingEvent:
    event_id = uuid4()
    payload = f'{{"id": "{event_id}", "type": "{event_type}"}}'.encode()
    return OutgoingEvent(id=event_id, type=event_type, payload=payload, headers=headers)


@dataclass(frozen=True)
class Broker:
    """One implementation of the port, and a way to see what it stored and to break it."""

    publisher: EventPublisher
    subject_prefix: str
    stored: Callable[[], Awaitable[list[Received]]]
    go_down: Callable[[], Awaitable[None]]
    come_back: Callable[[], Awaitable[None]]
    outlive_duplicate_window: Callable[[], Awaitable[None]]


BrokerFactory = Callable[[timedelta], Awaitable[Broker]]

KINDS = [
    "in_memory",
    pytest.param("jetstream", marks=pytest.mark.nats),
    *([pytest.param("shared_nats", marks=pytest.mark.nats)] if SHARED_URL else []),
]


@pytest.fixture(scope="session")
def nats_server() -> Iterator[EmbeddedNats]:
    with private_nats_server() as server:
        yield server


def nats_publisher(url: str, stream: str, prefix: str, window: timedelta) -> NatsJetStreamPublisher:
    return NatsJetStreamPublisher(
        url,
        stream=stream,
        subject_prefix=prefix,
        duplicate_window=window,
        publish_timeout_s=PUBLISH_TIMEOUT_S,
        connect_timeout_s=CONNECT_TIMEOUT_S,
        reconnect_wait_s=0.2,
    )


def jetstream_broker(
    publisher: NatsJetStreamPublisher,
    window: timedelta,
    url: str,
    stream: str,
    prefix: str,
    go_down: Callable[[], Awaitable[None]],
    come_back: Callable[[], Awaitable[None]],
) -> Broker:
    async def stored() -> list[Received]:
        return await read_stream(url, stream, f"{prefix}.>")

    async def outlive_window() -> None:
        # The server forgets ids on a timer that runs once per window: allow two of them.
        await asyncio.sleep(2 * window.total_seconds() + 0.5)

    return Broker(publisher, prefix, stored, go_down, come_back, outlive_window)


@pytest.fixture(params=KINDS)
async def make_broker(request: pytest.FixtureRequest) -> AsyncIterator[BrokerFactory]:
    """Brokers made in a test are torn down after it: publishers closed, the server back up,
    the test's stream deleted."""
    cleanups: list[Callable[[], Awaitable[None]]] = []
    server: EmbeddedNats | None = (
        request.getfixturevalue("nats_server") if request.param == "jetstream" else None
    )

    async def in_memory(window: timedelta) -> Broker:
        now = [0.0]
        publisher = InMemoryEventPublisher(duplicate_window=window, clock=lambda: now[0])

        async def stored() -> list[Received]:
            return [Received(m.subject, m.payload, m.headers) for m in publisher.messages]

        async def go_down() -> None:
            publisher.broker_down = True

        async def come_back() -> None:
            publisher.broker_down = False

        async def outlive_window() -> None:
            now[0] += window.total_seconds() + 1

        return Broker(publisher, SUBJECT_PREFIX, stored, go_down, come_back, outlive_window)

    async def jetstream(window: timedelta) -> Broker:
        assert server is not None
        url = server.url
        await delete_stream(url, STREAM_NAME)  # private server: the real names, a clean slate
        publisher = nats_publisher(url, STREAM_NAME, SUBJECT_PREFIX, window)

        async def go_down() -> None:
            await asyncio.to_thread(server.stop)

        async def come_back() -> None:
            await asyncio.to_thread(server.start)

        async def cleanup() -> None:
            await publisher.close()
            await come_back()
            await delete_stream(url, STREAM_NAME)

        cleanups.append(cleanup)
        return jetstream_broker(
            publisher, window, url, STREAM_NAME, SUBJECT_PREFIX, go_down, come_back
        )

    async def shared(window: timedelta) -> Broker:
        assert SHARED_URL is not None
        stream, prefix = unique_names()
        proxy = await FaultProxy(SHARED_URL).start()
        publisher = nats_publisher(proxy.url, stream, prefix, window)

        async def go_down() -> None:
            proxy.refuse()
            proxy.cut()

        async def come_back() -> None:
            proxy.refuse(False)

        async def cleanup() -> None:
            await publisher.close()
            await proxy.stop()
            await delete_stream(SHARED_URL, stream)

        cleanups.append(cleanup)
        return jetstream_broker(publisher, window, SHARED_URL, stream, prefix, go_down, come_back)

    factories: dict[str, BrokerFactory] = {
        "in_memory": in_memory,
        "jetstream": jetstream,
        "shared_nats": shared,
    }
    yield factories[request.param]
    for cleanup in reversed(cleanups):
        await cleanup()


@pytest.fixture
async def broker(make_broker: BrokerFactory) -> Broker:
    return await make_broker(DUPLICATE_WINDOW)


async def publish_when_back(publisher: EventPublisher, event: OutgoingEvent) -> None:
    """What the relay does: try again until the broker takes it."""
    deadline = time.monotonic() + BACK_WITHIN_S
    while True:
        try:
            await publisher.publish(event)
            return
        except EventNotDelivered:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


async def test_an_event_reaches_a_consumer_on_its_subject_with_its_headers(
    broker: Broker,
) -> None:
    await broker.publisher.ensure_stream()
    event = an_event("transfer.posted", traceparent=TRACEPARENT)

    await broker.publisher.publish(event)

    [received] = await broker.stored()
    assert received.subject == f"{broker.subject_prefix}.transfer.posted"
    assert received.payload == event.payload
    assert received.headers[MESSAGE_ID_HEADER] == str(event.id)
    assert received.headers["traceparent"] == TRACEPARENT


async def test_events_are_stored_in_the_order_they_were_published(broker: Broker) -> None:
    await broker.publisher.ensure_stream()
    events = [an_event(kind) for kind in ("account.opened", "deposit.posted", "transfer.posted")]

    for event in events:
        await broker.publisher.publish(event)

    stored = await broker.stored()
    assert [r.headers[MESSAGE_ID_HEADER] for r in stored] == [str(e.id) for e in events]
    assert [r.subject.removeprefix(f"{broker.subject_prefix}.") for r in stored] == [
        "account.opened",
        "deposit.posted",
        "transfer.posted",
    ]


async def test_the_same_id_published_twice_is_stored_once(broker: Broker) -> None:
    await broker.publisher.ensure_stream()
    event, other = an_event(), an_event()

    await broker.publisher.publish(event)
    await broker.publisher.publish(other)
    await broker.publisher.publish(event)  # the relay crashed before marking it: again

    stored = await broker.stored()
    assert [r.headers[MESSAGE_ID_HEADER] for r in stored] == [str(event.id), str(other.id)]


async def test_publish_all_stores_every_event_in_order_and_each_id_once(broker: Broker) -> None:
    await broker.publisher.ensure_stream()
    earlier = an_event()
    await broker.publisher.publish(earlier)
    events = [an_event(kind) for kind in ("account.opened", "deposit.posted", "transfer.posted")]

    # The relay crashed before marking `earlier`: it comes again, among new ones.
    results = await broker.publisher.publish_all([events[0], earlier, *events[1:], events[0]])

    assert results == [None] * 5
    stored = await broker.stored()
    assert [r.headers[MESSAGE_ID_HEADER] for r in stored] == [str(e.id) for e in (earlier, *events)]
    assert await broker.publisher.publish_all([]) == []


async def test_publish_all_without_a_stream_or_a_broker_fails_each_quickly(
    broker: Broker,
) -> None:
    events = [an_event(), an_event()]

    results = await broker.publisher.publish_all(events)

    assert [type(r) for r in results] == [EventNotDelivered] * 2
    assert await broker.stored() == []
    await broker.publisher.ensure_stream()
    await broker.go_down()
    started = time.monotonic()
    results = await broker.publisher.publish_all(events)
    assert [type(r) for r in results] == [EventNotDelivered] * 2
    assert time.monotonic() - started < FAIL_WITHIN_S
    await broker.come_back()
    deadline = time.monotonic() + BACK_WITHIN_S
    while (results := await broker.publisher.publish_all(events)) != [None, None]:
        assert time.monotonic() < deadline, results
        await asyncio.sleep(0.1)
    stored = await broker.stored()
    assert [r.headers[MESSAGE_ID_HEADER] for r in stored] == [str(e.id) for e in events]


async def test_an_id_is_stored_again_once_its_duplicate_window_has_passed(
    make_broker: BrokerFactory,
) -> None:
    broker = await make_broker(timedelta(seconds=1))
    await broker.publisher.ensure_stream()
    event = an_event()
    await broker.publisher.publish(event)

    await broker.outlive_duplicate_window()
    await broker.publisher.publish(event)

    assert len(await broker.stored()) == 2


async def test_ensure_stream_again_keeps_the_stream_and_what_it_holds(broker: Broker) -> None:
    await broker.publisher.ensure_stream()
    await broker.publisher.ensure_stream()
    first = an_event()
    await broker.publisher.publish(first)

    await broker.publisher.ensure_stream()
    second = an_event()
    await broker.publisher.publish(second)

    stored = await broker.stored()
    assert [r.headers[MESSAGE_ID_HEADER] for r in stored] == [str(first.id), str(second.id)]


async def test_without_a_stream_nothing_is_delivered(broker: Broker) -> None:
    with pytest.raises(EventNotDelivered):
        await broker.publisher.publish(an_event())

    assert await broker.stored() == []


async def test_a_broker_that_goes_down_refuses_quickly_and_works_again_when_back(
    broker: Broker,
) -> None:
    await broker.publisher.ensure_stream()
    before, during = an_event(), an_event()
    await broker.publisher.publish(before)

    await broker.go_down()
    started = time.monotonic()
    with pytest.raises(EventNotDelivered):
        await broker.publisher.publish(during)
    with pytest.raises(EventNotDelivered):
        await broker.publisher.ensure_stream()
    assert time.monotonic() - started < 2 * FAIL_WITHIN_S

    await broker.come_back()
    await publish_when_back(broker.publisher, during)  # the kept row, published again
    after = an_event()
    await broker.publisher.publish(after)

    stored = await broker.stored()
    assert [r.headers[MESSAGE_ID_HEADER] for r in stored] == [
        str(before.id),
        str(during.id),
        str(after.id),
    ]


async def test_a_broker_down_at_first_use_is_reported_and_used_once_it_is_up(
    broker: Broker,
) -> None:
    await broker.go_down()
    started = time.monotonic()
    with pytest.raises(EventNotDelivered):
        await broker.publisher.ensure_stream()
    assert time.monotonic() - started < FAIL_WITHIN_S

    await broker.come_back()
    deadline = time.monotonic() + BACK_WITHIN_S
    while True:
        try:
            await broker.publisher.ensure_stream()
            break
        except EventNotDelivered:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
    event = an_event()
    await broker.publisher.publish(event)

    [received] = await broker.stored()
    assert received.headers[MESSAGE_ID_HEADER] == str(event.id)


async def test_close_is_safe_before_use_and_twice_and_a_later_use_reconnects(
    broker: Broker,
) -> None:
    await broker.publisher.close()
    await broker.publisher.ensure_stream()
    await broker.publisher.close()
    await broker.publisher.close()

    event = an_event()
    await broker.publisher.publish(event)

    assert [r.headers[MESSAGE_ID_HEADER] for r in await broker.stored()] == [str(event.id)]


async def test_the_fake_gives_back_the_events_it_stored_and_tells_it_was_closed() -> None:
    publisher = InMemoryEventPublisher()
    await publisher.ensure_stream()
    event = an_event("account.opened", traceparent=TRACEPARENT)
    await publisher.publish(event)
    await publisher.publish(event)

    await publisher.close()

    assert publisher.events == (event,)
    assert publisher.closed


# -- JetStream only: the stream's settings ---------------------------------------------------


@pytest.fixture
async def jetstream_admin(nats_server: EmbeddedNats) -> AsyncIterator[JetStreamContext]:
    await delete_stream(nats_server.url, STREAM_NAME)
    client = await nats.connect(nats_server.url, allow_reconnect=False)
    yield client.jetstream(timeout=5)
    await client.close()
    await delete_stream(nats_server.url, STREAM_NAME)


async def test_ensure_stream_creates_the_documented_stream(
    nats_server: EmbeddedNats, jetstream_admin: JetStreamContext
) -> None:
    publisher = NatsJetStreamPublisher(nats_server.url)
    try:
        await publisher.ensure_stream()
    finally:
        await publisher.close()

    config = (await jetstream_admin.stream_info(STREAM_NAME)).config
    assert config.subjects == ["hexbank.events.>"]
    assert config.storage == StorageType.FILE
    assert config.duplicate_window == DUPLICATE_WINDOW.total_seconds()


async def test_ensure_stream_updates_a_stream_with_other_settings_and_keeps_the_rest(
    nats_server: EmbeddedNats, jetstream_admin: JetStreamContext
) -> None:
    await jetstream_admin.add_stream(
        name=STREAM_NAME,
        subjects=["hexbank.events.transfer.>"],
        storage=StorageType.FILE,
        duplicate_window=10,
        max_age=3600,
    )
    await jetstream_admin.publish("hexbank.events.transfer.posted", b"{}")
    publisher = NatsJetStreamPublisher(nats_server.url)
    try:
        await publisher.ensure_stream()
    finally:
        await publisher.close()

    info = await jetstream_admin.stream_info(STREAM_NAME)
    assert info.config.subjects == ["hexbank.events.>"]
    assert info.config.duplicate_window == DUPLICATE_WINDOW.total_seconds()
    assert info.config.max_age == 3600  # an operator's limit is not ours to undo
    assert info.state.messages == 1


async def test_a_stream_that_cannot_be_brought_to_the_settings_is_reported(
    nats_server: EmbeddedNats, jetstream_admin: JetStreamContext
) -> None:
    await jetstream_admin.add_stream(
        name=STREAM_NAME, subjects=["hexbank.events.>"], storage=StorageType.MEMORY
    )
    publisher = NatsJetStreamPublisher(nats_server.url)
    try:
        with pytest.raises(EventNotDelivered, match="refused"):
            await publisher.ensure_stream()
    finally:
        await publisher.close()


# -- the event itself ----------------------------------------------------------------------


async def test_publish_all_stops_at_an_event_too_large_for_the_broker_and_leaves_nothing_pending(
    nats_server: EmbeddedNats, jetstream_admin: JetStreamContext
) -> None:
    publisher = nats_publisher(nats_server.url, STREAM_NAME, SUBJECT_PREFIX, DUPLICATE_WINDOW)
    try:
        await publisher.ensure_stream()
        first, after = an_event(), an_event()
        huge = OutgoingEvent(uuid4(), "transfer.posted", b"x" * (2 * 1024 * 1024), {})

        results = await publisher.publish_all([first, huge, after])

        assert results[0] is None
        assert [type(r) for r in results[1:]] == [EventNotDelivered] * 2
        assert "bytes, the broker takes" in str(results[1])
        js = publisher._js  # what the adapter keeps between passes: no ack left waiting
        assert js is None or js[1].publish_async_pending() == 0
        assert await publisher.publish_all([after]) == [None]
    finally:
        await publisher.close()
    stored = await read_stream(nats_server.url, STREAM_NAME, f"{SUBJECT_PREFIX}.>")
    assert [m.headers[MESSAGE_ID_HEADER] for m in stored] == [str(first.id), str(after.id)]


async def test_a_turn_of_events_leaves_for_the_broker_in_one_write(
    nats_server: EmbeddedNats, jetstream_admin: JetStreamContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not a system call per event: nats-py's flusher writes whatever is buffered whenever
    the event loop reaches it, so a send that goes round the loop is a write of its own. (On
    Python 3.11, which hexbank supports, `asyncio.wait_for` with a timeout went round it for
    every send; from 3.12 it does not, so there this passes with or without the publisher's
    care.)"""
    publisher = nats_publisher(nats_server.url, STREAM_NAME, SUBJECT_PREFIX, DUPLICATE_WINDOW)
    try:
        await publisher.ensure_stream()
        assert await publisher.publish_all([an_event()]) == [None]  # connected, acks subscribed
        client = publisher._client
        assert client is not None
        assert client._transport is not None
        writes: list[int] = []
        write = client._transport.writelines

        def counted(lines: list[bytes]) -> None:
            writes.append(len(lines))
            write(lines)

        monkeypatch.setattr(client._transport, "writelines", counted)
        turn = [an_event() for _ in range(ITEMS_PER_TURN)]
        assert await publisher.publish_all(turn) == [None] * ITEMS_PER_TURN
    finally:
        await publisher.close()
    assert len(writes) <= 2, writes
    stored = await read_stream(nats_server.url, STREAM_NAME, f"{SUBJECT_PREFIX}.>")
    assert [m.headers[MESSAGE_ID_HEADER] for m in stored][1:] == [str(e.id) for e in turn]


@pytest.mark.parametrize("event_type", ["", "transfer posted", "transfer.*", "account.>", "a..b"])
def test_an_event_type_must_make_a_plain_subject(event_type: str) -> None:
    with pytest.raises(ValueError, match="event type"):
        OutgoingEvent(id=uuid4(), type=event_type, payload=b"{}")


@pytest.mark.parametrize(
    "headers",
    [
        {"traceparent": "00-a\r\nNats-Msg-Id: forged"},
        {"bad name": "x"},
        {"Nats-Msg-Id": "chosen-by-the-caller"},
        {"nats-expected-stream": "OTHER"},
    ],
)
def test_headers_cannot_forge_lines_or_steer_the_broker(headers: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="header"):
        OutgoingEvent(id=uuid4(), type="transfer.posted", payload=b"{}", headers=headers)


def test_an_event_keeps_its_own_copy_of_the_headers() -> None:
    headers = {"traceparent": TRACEPARENT}
    event = OutgoingEvent(id=uuid4(), type="transfer.posted", payload=b"{}", headers=headers)
    headers["traceparent"] = "changed"

    assert event.headers["traceparent"] == TRACEPARENT
    assert hash(event) == hash(event)


# -- the embedded server -------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
# A process that starts an embedded server and is then killed, so it never stops it.
OWNER = (
    "import sys, time\n"
    "from pathlib import Path\n"
    "from adapters.embedded_nats import EmbeddedNats\n"
    "print(EmbeddedNats(Path(sys.argv[1])).start(), flush=True)\n"
    "time.sleep(120)\n"
)


async def publish_one(url: str) -> None:
    publisher = NatsJetStreamPublisher(url)
    try:
        await publisher.ensure_stream()
        await publisher.publish(an_event())
    finally:
        await publisher.close()


def refuses_connections(url: str) -> bool:
    host, port = url.removeprefix("nats://").rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.fixture
def owned_dir(tmp_path: Path) -> Iterator[Path]:
    """Whatever a test leaves running on the directory is stopped, even if the test failed:
    a start stops a server whose owner is gone."""
    yield tmp_path
    with suppress(EmbeddedNatsError), EmbeddedNats(tmp_path) as server:
        server.start()


@pytest.mark.nats
def test_a_server_left_by_a_killed_owner_is_stopped_on_the_next_start_and_its_store_kept(
    owned_dir: Path,
) -> None:
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(owned_dir)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert owner.stdout is not None
        first_url = owner.stdout.readline().strip()
        asyncio.run(publish_one(first_url))
        with pytest.raises(EmbeddedNatsError, match=f"process {owner.pid}"):
            EmbeddedNats(owned_dir).start()  # its owner still runs: not ours to stop
    finally:
        owner.kill()
        owner.wait()

    with EmbeddedNats(owned_dir) as server:
        url = server.start()

        assert refuses_connections(first_url)
        stored = asyncio.run(read_stream(url, STREAM_NAME, f"{SUBJECT_PREFIX}.>"))
        assert len(stored) == 1


@pytest.mark.nats
def test_a_port_in_use_is_reported_in_one_line_and_the_server_says_nothing_on_the_terminal(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(EmbeddedNatsError, match="address already in use") as refused:
            EmbeddedNats(tmp_path, port=port).start()

    assert "\n" not in str(refused.value)
    assert capfd.readouterr() == ("", "")  # its FATAL line went to its log file


@pytest.mark.nats
def test_a_start_interrupted_inside_popen_leaves_no_server_running(
    owned_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM during a first start (tests/integration/test_signals.py) can land while
    Popen has started the child but not returned it: the start stops that child anyway."""
    started: list[subprocess.Popen[bytes]] = []
    real_popen = subprocess.Popen

    def interrupted(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        started.append(real_popen(*args, **kwargs))
        raise KeyboardInterrupt  # as a signal handler raises, after the fork

    monkeypatch.setattr(subprocess, "Popen", interrupted)  # the module embedded_nats calls
    with pytest.raises(KeyboardInterrupt):
        EmbeddedNats(owned_dir).start()
    monkeypatch.undo()
    [child] = started
    assert child.wait(timeout=10) is not None  # stopped, not left running
