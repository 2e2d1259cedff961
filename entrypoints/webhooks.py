"""Webhook delivery as a running loop: inside `hexbank serve` (one per worker) or on its own
(`hexbank webhooks`). Several may run at once: the fan-out moves one guarded position, and
deliveries are leased with SKIP LOCKED."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import structlog

from application.errors import ApplicationError
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from application.use_cases.deliver_webhooks import DeliverWebhooks, DispatchWebhooks
from entrypoints.observability.webhook_metrics import WebhookMetrics

if TYPE_CHECKING:
    from entrypoints.container import Container

logger = structlog.get_logger("hexbank.webhooks")

BACKLOG_EVERY_S = 5.0
"""How often the backlog gauges are read (a count of the pending deliveries)."""
BUSY_PASS_EVERY_S = 0.02
"""While attempts are under way and the queue is caught up, a pass at most this often: each
pass costs the database a fan-out and a lease whatever they find, so passes as fast as
attempts end would spend it on passes of one or two deliveries."""


class WebhookLoop:
    def __init__(
        self,
        dispatch: DispatchWebhooks,
        deliver: DeliverWebhooks,
        uow_factory: UnitOfWorkFactory,
        metrics: WebhookMetrics,
        clock: Clock,
        *,
        idle_s: float,
        batch_size: int,
        retry_s: float = 2.0,
    ) -> None:
        self._dispatch = dispatch
        self._deliver = deliver
        self._uow_factory = uow_factory
        self._metrics = metrics
        self._clock = clock
        self._idle_s = idle_s
        self._batch_size = batch_size
        self._retry_s = retry_s
        self._next_count = 0.0
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Until `stop()`: fan out and start deliveries as fast as they come, then poll; the
        attempts under way finish before it returns. A database outage only slows it."""
        try:
            while not self._stop.is_set():
                try:
                    fanned = await self._dispatch()
                    read = fanned.read
                    await self._deliver.take(fanned)
                    self._deliver.slot_freed.clear()  # before the lease: no end is missed
                    started = await self._deliver()
                    await self._count_when_due()
                except ApplicationError as error:
                    logger.warning("webhook pass failed", code=error.code, detail=error.detail)
                    await self._pause(self._retry_s)
                    continue
                except Exception:  # a bug must not stop delivery for good; it is logged
                    logger.exception("webhook pass failed unexpectedly")
                    await self._pause(self._retry_s)
                    continue
                if read >= self._dispatch.batch_size or started >= self._batch_size:
                    continue  # behind: the next pass at once
                if started or self._deliver.in_flight:
                    await self._pause(BUSY_PASS_EVERY_S)
                else:
                    # Caught up and nothing sent: wait, so that a stream of events no endpoint
                    # takes costs a pass per idle_s, not a pass per commit.
                    await self._pause(self._idle_s, self._deliver.slot_freed)
        finally:
            try:
                await self._deliver.drain()
            except ApplicationError as error:  # not recorded: their leases run out, resent
                logger.warning("webhook outcomes not recorded", code=error.code)

    async def _count_when_due(self) -> None:
        now = asyncio.get_running_loop().time()
        if now < self._next_count:
            return
        self._next_count = now + BACKLOG_EVERY_S
        async with self._uow_factory() as uow:
            backlog = await uow.webhook_deliveries.backlog()
        self._metrics.observe(backlog, self._clock.now())

    async def _pause(self, seconds: float, or_until: asyncio.Event | None = None) -> None:
        """`seconds`, unless stopped (or `or_until` is set: an attempt ended, a slot is free)."""
        waits = [asyncio.ensure_future(self._stop.wait())]
        if or_until is not None:
            waits.append(asyncio.ensure_future(or_until.wait()))
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()


def webhook_loop(container: Container, metrics: WebhookMetrics) -> WebhookLoop:
    settings = container.settings()
    return WebhookLoop(
        container.dispatch_webhooks(),
        container.deliver_webhooks(on_outcome=metrics.outcome),
        container.unit_of_work,
        metrics,
        container.clock(),
        idle_s=settings.webhook_idle_s,
        batch_size=settings.webhook_batch_size,
    )


@contextlib.asynccontextmanager
async def delivering_webhooks(container: Container, metrics: WebhookMetrics) -> AsyncIterator[None]:
    """Run webhook delivery beside whatever runs inside (the API), unless HEXBANK_WEBHOOKS is
    off; stop it, let the attempts under way end, and close the HTTP client on the way out."""
    if container.settings().webhooks == "off":
        yield
        return
    loop = webhook_loop(container, metrics)
    task = asyncio.create_task(loop.run(), name="webhooks")
    try:
        yield
    finally:
        loop.stop()
        await task
        await container.webhook_transport().close()
