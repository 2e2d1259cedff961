from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from uuid import UUID

from adapters.in_memory.storage import InMemoryStorage, PendingChanges
from application.ports.outbox import FeedPosition, StoredEvent
from application.ports.webhooks import (
    DeliveryBacklog,
    DeliveryOutcome,
    DeliveryStatus,
    FanOut,
    HostResolver,
    LeasedDelivery,
    WebhookDelivery,
    WebhookDeliveryQueue,
    WebhookEndpointRepository,
    WebhookResponse,
    WebhookTransport,
)
from domain.webhook import WebhookEndpoint


class InMemoryWebhookEndpointRepository(WebhookEndpointRepository):
    """Writes wait among the pending changes; reads see what is committed."""

    def __init__(self, storage: InMemoryStorage, pending: PendingChanges) -> None:
        self._storage = storage
        self._pending = pending

    def _write(self, endpoint_id: UUID, endpoint: WebhookEndpoint | None) -> None:
        def write(storage: InMemoryStorage) -> None:
            if endpoint is None:
                storage.webhook_endpoints.pop(endpoint_id, None)
                for delivery_id, delivery in list(storage.webhook_deliveries.items()):
                    if delivery.endpoint_id == endpoint_id:
                        del storage.webhook_deliveries[delivery_id]
            else:
                storage.webhook_endpoints[endpoint_id] = endpoint

        self._pending.webhook_writes.append(write)

    async def add(self, endpoint: WebhookEndpoint) -> None:
        self._write(endpoint.id, endpoint)

    async def get(self, endpoint_id: UUID) -> WebhookEndpoint | None:
        return self._storage.webhook_endpoints.get(endpoint_id)

    async def of_user(self, user_id: UUID) -> list[WebhookEndpoint]:
        mine = [e for e in self._storage.webhook_endpoints.values() if e.user_id == user_id]
        return sorted(mine, key=lambda endpoint: (endpoint.created_at, endpoint.id))

    async def lock_user_and_count(self, user_id: UUID) -> int:
        # One event loop, and the fakes never suspend: nothing runs between this count and
        # the unit of work's commit.
        return len(await self.of_user(user_id))

    async def save(self, endpoint: WebhookEndpoint) -> None:
        if endpoint.id in self._storage.webhook_endpoints:
            self._write(endpoint.id, endpoint)

    async def delete(self, endpoint_id: UUID) -> None:
        self._write(endpoint_id, None)

    async def note_attempt(self, endpoint_id: UUID, *, succeeded: bool, at: datetime) -> None:
        def write(storage: InMemoryStorage) -> None:
            endpoint = storage.webhook_endpoints.get(endpoint_id)
            if endpoint is None:
                return
            since = None if succeeded else (endpoint.failing_since or at)
            storage.webhook_endpoints[endpoint_id] = replace(endpoint, failing_since=since)

        self._pending.webhook_writes.append(write)


def _queue(
    storage: InMemoryStorage, endpoint_id: UUID, event_id: UUID, now: datetime, *, again: bool
) -> bool:
    """Queue one event for one endpoint; `again`: also a delivery it has already (replay)."""
    for delivery_id, delivery in storage.webhook_deliveries.items():
        if delivery.endpoint_id == endpoint_id and delivery.event_id == event_id:
            if again:
                storage.webhook_deliveries[delivery_id] = replace(
                    delivery, status=DeliveryStatus.PENDING, next_attempt_at=now, queued_at=now
                )
                storage.webhook_leases.pop(delivery_id, None)
            return again
    delivery_id = max(storage.webhook_deliveries, default=0) + 1
    storage.webhook_deliveries[delivery_id] = WebhookDelivery(
        delivery_id, endpoint_id, event_id, DeliveryStatus.PENDING, 0, now, None, None, now
    )
    return True


class InMemoryWebhookDeliveryQueue(WebhookDeliveryQueue):
    def __init__(self, storage: InMemoryStorage, pending: PendingChanges) -> None:
        self._storage = storage
        self._pending = pending

    def _events(self) -> dict[UUID, StoredEvent]:
        return {stored.event.id: stored for stored in self._storage.events}

    async def fan_out(self, limit: int, *, now: datetime, until: datetime) -> FanOut:
        start = self._storage.webhook_fanned_out
        batch = self._storage.events[start : start + limit]
        taken = {
            (delivery.endpoint_id, delivery.event_id)
            for delivery in self._storage.webhook_deliveries.values()
        }
        next_id = max(self._storage.webhook_deliveries, default=0) + 1
        queued: list[WebhookDelivery] = []
        leased: list[LeasedDelivery] = []
        for stored in batch:
            event = stored.event
            for endpoint in self._storage.webhook_endpoints.values():
                if (
                    endpoint.enabled
                    and endpoint.user_id in event.user_ids
                    and endpoint.takes(event.type)
                    and endpoint.created_at <= event.occurred_at
                    and (endpoint.id, event.id) not in taken
                ):
                    delivery = WebhookDelivery(
                        next_id, endpoint.id, event.id, DeliveryStatus.PENDING, 0, now, None,
                        None, now,
                    )  # fmt: skip
                    next_id += 1
                    queued.append(delivery)
                    if endpoint.failing_since is None:
                        leased.append(LeasedDelivery(delivery, endpoint, stored, until))

        def write(storage: InMemoryStorage) -> None:
            if storage.webhook_fanned_out != start:
                return  # another fan-out moved past these first
            for delivery in queued:
                storage.webhook_deliveries[delivery.id] = delivery
            storage.webhook_leases.update(dict.fromkeys((d.delivery.id for d in leased), until))
            storage.webhook_fanned_out = start + len(batch)

        self._pending.webhook_writes.append(write)
        return FanOut(len(batch), leased, len(queued) - len(leased))

    async def lease(
        self,
        limit: int,
        *,
        now: datetime,
        until: datetime,
        excluding: Collection[UUID],
        per_endpoint: int,
    ) -> list[LeasedDelivery]:
        events = self._events()
        due = [
            delivery
            for delivery in self._storage.webhook_deliveries.values()
            if delivery.status is DeliveryStatus.PENDING
            and delivery.next_attempt_at is not None
            and delivery.next_attempt_at <= now
            and self._storage.webhook_leases.get(delivery.id, now) <= now
            and delivery.endpoint_id not in excluding
            and (endpoint := self._storage.webhook_endpoints.get(delivery.endpoint_id)) is not None
            and endpoint.enabled
            and delivery.event_id in events
        ]
        due.sort(key=lambda delivery: (delivery.next_attempt_at or now, delivery.id))
        taken: dict[UUID, int] = {}
        capped = []
        for delivery in due:
            if taken.get(delivery.endpoint_id, 0) < per_endpoint:
                taken[delivery.endpoint_id] = taken.get(delivery.endpoint_id, 0) + 1
                capped.append(delivery)
        leased = capped[:limit]
        ids = [delivery.id for delivery in leased]

        def write(storage: InMemoryStorage) -> None:
            storage.webhook_leases.update(dict.fromkeys(ids, until))

        self._pending.webhook_writes.append(write)
        return [
            LeasedDelivery(
                delivery,
                self._storage.webhook_endpoints[delivery.endpoint_id],
                events[delivery.event_id],
                until,
            )
            for delivery in leased
        ]

    async def release(self, delivery_ids: Collection[int], *, leased_until: datetime) -> None:
        ids = list(delivery_ids)

        def write(storage: InMemoryStorage) -> None:
            for delivery_id in ids:
                if storage.webhook_leases.get(delivery_id) == leased_until:
                    del storage.webhook_leases[delivery_id]

        self._pending.webhook_writes.append(write)

    async def settle(
        self, outcomes: Sequence[DeliveryOutcome], *, endpoints_next: bool = True
    ) -> None:
        settled = list(outcomes)

        def write(storage: InMemoryStorage) -> None:
            for outcome in settled:
                delivery = storage.webhook_deliveries.get(outcome.delivery_id)
                if delivery is None:
                    continue
                if storage.webhook_leases.get(delivery.id) != outcome.leased_until:
                    continue
                storage.webhook_deliveries[delivery.id] = replace(
                    delivery,
                    status=outcome.status,
                    attempts=delivery.attempts + 1,
                    next_attempt_at=outcome.next_attempt_at,
                    last_status_code=outcome.status_code,
                    last_error=outcome.error,
                )
                del storage.webhook_leases[delivery.id]

        self._pending.webhook_writes.append(write)

    async def page(
        self,
        endpoint_id: UUID,
        *,
        status: DeliveryStatus | None,
        before: int | None,
        limit: int,
    ) -> list[WebhookDelivery]:
        found = [
            delivery
            for delivery in self._storage.webhook_deliveries.values()
            if delivery.endpoint_id == endpoint_id
            and (status is None or delivery.status is status)
            and (before is None or delivery.id < before)
        ]
        return sorted(found, key=lambda delivery: -delivery.id)[:limit]

    async def requeue(
        self, endpoint: WebhookEndpoint, *, after: FeedPosition, now: datetime
    ) -> int:
        start = (after.transaction, after.position)
        ids = [
            stored.event.id
            for stored in self._storage.events
            if (stored.position.transaction, stored.position.position) > start
            and endpoint.user_id in stored.event.user_ids
            and endpoint.takes(stored.event.type)
        ]

        def write(storage: InMemoryStorage) -> None:
            for event_id in ids:
                _queue(storage, endpoint.id, event_id, now, again=True)

        self._pending.webhook_writes.append(write)
        return len(ids)

    async def backlog(self) -> DeliveryBacklog:
        pending = [
            delivery
            for delivery in self._storage.webhook_deliveries.values()
            if delivery.status is DeliveryStatus.PENDING
        ]
        return DeliveryBacklog(
            len(pending),
            sum(1 for delivery in pending if delivery.attempts > 0),
            min((delivery.queued_at for delivery in pending), default=None),
        )


class StaticHostResolver(HostResolver):
    """Names resolved from a table (`localhost` to loopback by default): no DNS in tests."""

    def __init__(self, names: Mapping[str, list[str]] | None = None) -> None:
        self._names = {"localhost": ["127.0.0.1", "::1"], **(names or {})}

    async def resolve(self, host: str, port: int) -> list[str]:
        return list(self._names.get(host.lower(), []))


class RecordingWebhookTransport(WebhookTransport):
    """Answers every POST with `status_code` and keeps what was sent."""

    def __init__(self, status_code: int = 200) -> None:
        self.status_code = status_code
        self.sent: list[tuple[str, str, bytes, dict[str, str]]] = []

    async def post(
        self, url: str, address: str, body: bytes, headers: Mapping[str, str]
    ) -> WebhookResponse:
        self.sent.append((url, address, body, dict(headers)))
        return WebhookResponse(self.status_code)

    async def close(self) -> None:
        return None
