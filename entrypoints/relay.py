"""The events relay as a running loop: inside `hexbank serve` (one per worker) or on its own
(`hexbank relay`). Several may run at once: rows are claimed with SKIP LOCKED."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

import structlog

from application.errors import ApplicationError
from application.ports.clock import Clock
from application.use_cases.relay_events import RelayEvents
from entrypoints.observability.relay_metrics import RelayMetrics

if TYPE_CHECKING:
    from entrypoints.container import Container

logger = structlog.get_logger("hexbank.relay")


class RelayLoop:
    def __init__(
        self,
        relay: RelayEvents,
        metrics: RelayMetrics,
        clock: Clock,
        *,
        idle_s: float,
        retry_s: float,
        sweep: Callable[[], Awaitable[object]] | None = None,
        sweep_every_s: float = 30.0,
    ) -> None:
        self._relay = relay
        self._metrics = metrics
        self._clock = clock
        self._idle_s = idle_s
        self._retry_s = retry_s
        self._sweep = sweep
        self._sweep_every_s = sweep_every_s
        self._next_sweep = 0.0
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Until `stop()`: drain the outbox as fast as the broker takes it, then poll. A broker
        or database outage only slows the relay down; it never ends it."""
        while not self._stop.is_set():
            try:
                await self._sweep_when_due()
                result = await self._relay()
            except ApplicationError as error:  # the database is away: try again later
                logger.warning("relay pass failed", code=error.code, detail=error.detail)
                await self._pause(self._retry_s)
                continue
            except Exception:  # a bug must not stop delivery for good; it is logged
                logger.exception("relay pass failed unexpectedly")
                await self._pause(self._retry_s)
                continue
            self._metrics.observe(result, self._clock.now())
            if result.failed:
                await self._pause(self._retry_s)
            elif result.published == 0:
                await self._pause(self._idle_s)

    async def _sweep_when_due(self) -> None:
        """Write down the holds that expired (their `transfer.expired` events), now and then:
        reads already treat them as expired; this keeps the outbox telling it."""
        now = asyncio.get_running_loop().time()
        if self._sweep is None or now < self._next_sweep:
            return
        self._next_sweep = now + self._sweep_every_s
        await self._sweep()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)


@contextlib.asynccontextmanager
async def delivering_events(container: Container, metrics: RelayMetrics) -> AsyncIterator[None]:
    """Run the relay beside whatever runs inside (the API), when events are delivered at all;
    stop it, and close the broker connection, on the way out."""
    settings = container.settings()
    if settings.events == "off" or container.nats_url() is None:
        yield
        return
    loop = RelayLoop(
        container.relay_events(),
        metrics,
        container.clock(),
        idle_s=settings.relay_idle_s,
        retry_s=settings.relay_retry_s,
        sweep=container.expire_holds(),
    )
    task = asyncio.create_task(loop.run(), name="events-relay")
    try:
        yield
    finally:
        loop.stop()
        await task
        await container.event_publisher().close()
