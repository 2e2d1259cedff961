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
        current = asyncio.current_task()
        for task in asyncio.all_tasks():
            if task is not current:
                task.cancel()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def snapshot(self) -> tuple[int, int]:
        with self._lock:
            return self.received.deliveries, len(self.received.event_ids)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=1024)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length, event_id = 0, ""
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    key = name.strip().lower()
                    if key == b"content-length":
                        length = int(value.strip())
                    elif key == b"hexbank-event-id":
                        event_id = value.strip().decode()
                if length:
                    await reader.readexactly(length)
                with self._lock:
                    self.received.deliveries += 1
                    self.received.event_ids.add(event_id)
                    self.received.last_at = time.monotonic()
                writer.write(OK)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            pass  # the receiver is shutting down
        finally:
            writer.close()
