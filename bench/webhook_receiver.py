"""A webhook receiver for the bench: plain HTTP/1.1 on loopback, keep-alive, 200 to every POST,
counting deliveries and distinct `Hexbank-Event-Id`s. asyncio on its own thread, so it costs
the bench process little and never makes the sender wait."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


@dataclass
class Received:
    deliveries: int = 0
    event_ids: set[str] = field(default_factory=set)
    last_at: float = 0.0


class WebhookReceiver:
    def __init__(self) -> None:
        self.received = Received()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhook-receiver", daemon=True)
        self.port = 0
        self.open: set[asyncio.Transport] = set()
        """Connections kept alive (closed before the loop stops)."""

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the bench's webhook receiver did not start")
        return self

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self._shut(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _shut(self) -> None:
        """Close the listener and the connections kept alive, before the loop stops."""
        if self._server is not None:
            self._server.close()
        for transport in list(self.open):
            transport.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def snapshot(self) -> tuple[int, int]:
        with self._lock:
            return self.received.deliveries, len(self.received.event_ids)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            self._loop.create_server(self._connection, "127.0.0.1", 0, backlog=1024)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    def _connection(self) -> asyncio.Protocol:
        return _Answering(self)

    def count(self, event_id: str) -> None:
        with self._lock:
            self.received.deliveries += 1
            self.received.event_ids.add(event_id)
            self.received.last_at = time.monotonic()


class _Answering(asyncio.Protocol):
    """One keep-alive connection: each complete request (head, then `Content-Length` bytes)
    is counted and answered 200. A protocol, not streams: the receiver stands in for a
    machine of its own, so it should take as little of this one as it can."""

    def __init__(self, receiver: WebhookReceiver) -> None:
        self._receiver = receiver
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._receiver.open.add(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._receiver.open.discard(self._transport)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            length, event_id = 0, ""
            for line in self._buffer[:end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                key = name.strip().lower()
                if key == b"content-length":
                    length = int(value.strip())
                elif key == b"hexbank-event-id":
                    event_id = value.strip().decode()
            if len(self._buffer) < end + 4 + length:
                return
            self._buffer = self._buffer[end + 4 + length :]
            self._receiver.count(event_id)
            if self._transport is not None:
                self._transport.write(OK)
