"""Webhook delivery, off the money path: committed events are fanned out into one delivery
per endpoint (`DispatchWebhooks`), and workers lease due deliveries (several share them, SKIP
LOCKED) and POST them, signed, each endpoint at most `concurrency` at a time
(`DeliverWebhooks`). A transfer's transaction does no webhook work at all."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

from application.errors import ApplicationError
from application.events import webhook_endpoint_disabled
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from application.ports.webhooks import (
    DeliveryOutcome,
    DeliveryStatus,
    LeasedDelivery,
    WebhookResponse,
    WebhookTransport,
)
from application.webhook_urls import WebhookUrlGuard
from domain.errors import DomainError
from domain.webhook import retry_delay, signature_header

LEASE = timedelta(minutes=1)
"""How long a worker may take over an attempt (10 s at most) before another worker takes the
delivery over (after a crash): the copy that makes shares its `Hexbank-Event-Id`."""


class DispatchWebhooks:
    """One pass of the fan-out: the next committed events become deliveries."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, batch_size: int) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._batch_size = batch_size

    async def __call__(self) -> int:
        """How many events it read (0: none new, or another dispatcher had them)."""
        async with self._uow_factory() as uow:
            read = await uow.webhook_deliveries.fan_out(self._batch_size, now=self._clock.now())
            await uow.commit()
        return read


def webhook_body(leased: LeasedDelivery) -> bytes:
    """The event as the endpoint's owner reads it in the feed: only the owner's accounts."""
    event = leased.event.event
    mine = {state.id for state in event.accounts if state.owner_id == leased.endpoint.user_id}
    return json.dumps(event.document(visible_accounts=mine), separators=(",", ":")).encode()


class DeliverWebhooks:
    """Lease due deliveries and send each in a task of its own. An endpoint at its bound of
    attempts in flight is left out of the next lease, so a slow or dead endpoint holds only
    its own slots; the rest go on. Each attempt is recorded in a transaction of its own,
    under the lease it was made with: a worker killed mid-attempt leaves the delivery to
    another once the lease runs out (at least once)."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        guard: WebhookUrlGuard,
        transport: WebhookTransport,
        *,
        retry_window: timedelta,
        concurrency: int,
        batch_size: int,
        on_outcome: Callable[[str], None] = lambda outcome: None,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._guard = guard
        self._transport = transport
        self._retry_window = retry_window
        self._concurrency = concurrency
        self._batch_size = batch_size
        self._on_outcome = on_outcome
        self._in_flight: dict[UUID, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def __call__(self) -> int:
        """Lease and start what is due; how many attempts it started."""
        room = self._batch_size * 4 - len(self._tasks)
        if room <= 0:
            return 0
        full = [endpoint for endpoint, n in self._in_flight.items() if n >= self._concurrency]
        now = self._clock.now()
        async with self._uow_factory() as uow:
            leased = await uow.webhook_deliveries.lease(
                min(self._batch_size, room), now=now, until=now + LEASE, excluding=full
            )
            await uow.commit()
        surplus: list[int] = []
        for lease in leased:
            endpoint = lease.endpoint.id
            if self._in_flight.get(endpoint, 0) >= self._concurrency:
                surplus.append(lease.delivery.id)
                continue
            self._in_flight[endpoint] = self._in_flight.get(endpoint, 0) + 1
            task = asyncio.create_task(self._attempt(lease), name="webhook-delivery")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if surplus:  # beyond the endpoint's bound: for the next pass (or another worker)
            async with self._uow_factory() as uow:
                await uow.webhook_deliveries.release(surplus, leased_until=now + LEASE)
                await uow.commit()
        return len(leased) - len(surplus)

    async def drain(self) -> None:
        """Wait for the attempts under way (on the way out)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _attempt(self, lease: LeasedDelivery) -> None:
        endpoint = lease.endpoint
        try:
            now = self._clock.now()
            body = webhook_body(lease)
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "hexbank-webhooks",
                "Hexbank-Event-Id": str(lease.event.event.id),
                "Hexbank-Event-Type": lease.event.event.type,
                "Hexbank-Delivery-Attempt": str(lease.delivery.attempts + 1),
                "Hexbank-Signature": signature_header(
                    endpoint.signing_secrets(now), int(now.timestamp()), body
                ),
            }
            try:
                checked = await self._guard(endpoint.url)
                response = await self._transport.post(endpoint.url, checked.address, body, headers)
            except DomainError as refused:  # unsafe now (DNS rebinding), or no longer resolves
                response = WebhookResponse(None, f"{refused.code}: {refused.detail}")
            await self._record(lease, response)
        except ApplicationError:
            # The database is away: the lease runs out and the delivery is tried again.
            self._on_outcome("unrecorded")
        finally:
            left = self._in_flight.get(endpoint.id, 1) - 1
            if left:
                self._in_flight[endpoint.id] = left
            else:
                self._in_flight.pop(endpoint.id, None)

    async def _record(self, lease: LeasedDelivery, response: WebhookResponse) -> None:
        now = self._clock.now()
        code = response.status_code
        delivery, endpoint = lease.delivery, lease.endpoint
        disable: str | None = None
        if code is not None and 200 <= code < 300:
            status, next_at, outcome = DeliveryStatus.DELIVERED, None, "delivered"
        elif code == 410:
            status, next_at, outcome, disable = DeliveryStatus.FAILED, None, "gone", "gone"
        elif now >= delivery.queued_at + self._retry_window:
            status, next_at, outcome = DeliveryStatus.FAILED, None, "failed"
        else:
            status, outcome = DeliveryStatus.PENDING, "retried"
            next_at = now + retry_delay(delivery.attempts + 1)
        succeeded = status is DeliveryStatus.DELIVERED
        failing_since = None if succeeded else (endpoint.failing_since or now)
        if (
            disable is None
            and failing_since is not None
            and now >= failing_since + self._retry_window
        ):
            disable = "failing"
        async with self._uow_factory() as uow:
            await uow.webhook_deliveries.settle(
                DeliveryOutcome(
                    delivery.id, lease.leased_until, status, next_at, code, response.error
                )
            )
            await uow.webhook_endpoints.note_attempt(endpoint.id, succeeded=succeeded, at=now)
            if disable is not None:
                await _disable(uow, endpoint.id, disable, now)
            await uow.commit()
        self._on_outcome(outcome)


async def _disable(uow: UnitOfWork, endpoint_id: UUID, reason: str, now: datetime) -> None:
    """Disable an endpoint the bank gave up on, and say so in its user's feed (once)."""
    current = await uow.webhook_endpoints.get(endpoint_id)
    if current is None or not current.enabled:
        return
    await uow.webhook_endpoints.save(replace(current, enabled=False))
    disabled = webhook_endpoint_disabled(current.id, current.user_id, current.url, reason, now)
    await uow.outbox.add([disabled])
