"""Webhooks: the endpoints users register, the queue of deliveries owed to them, and the two
things a delivery needs from the outside world (a name resolved, a POST sent)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from application.ports.outbox import FeedPosition, StoredEvent
from domain.webhook import WebhookEndpoint


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One event owed to one endpoint."""

    id: int
    endpoint_id: UUID
    event_id: UUID
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    """When it is tried next (None once delivered or failed)."""
    last_status_code: int | None
    last_error: str | None
    queued_at: datetime
    """Its retries stop HEXBANK_WEBHOOK_RETRY_HOURS after this."""


@dataclass(frozen=True, slots=True)
class LeasedDelivery:
    delivery: WebhookDelivery
    endpoint: WebhookEndpoint
    event: StoredEvent
    leased_until: datetime


@dataclass(frozen=True, slots=True)
class FanOut:
    read: int
    """Events read (0: none new, or another fan-out had them)."""
    leased: list[LeasedDelivery]
    """The deliveries it queued already leased to the caller: every one of an endpoint that
    is not failing (a failing endpoint's wait for the lease, one at a time)."""
    unleased: int = 0
    """The deliveries it queued and did not lease."""


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """What one attempt ends in, written only while the lease that made it still holds."""

    delivery_id: int
    leased_until: datetime
    status: DeliveryStatus
    next_attempt_at: datetime | None
    status_code: int | None
    error: str | None


@dataclass(frozen=True, slots=True)
class DeliveryBacklog:
    pending: int
    retrying: int
    """Pending deliveries tried at least once already."""
    oldest: datetime | None
    """When the oldest pending delivery was queued."""


class WebhookEndpointRepository(Protocol):
    async def add(self, endpoint: WebhookEndpoint) -> None: ...

    async def get(self, endpoint_id: UUID) -> WebhookEndpoint | None: ...

    async def of_user(self, user_id: UUID) -> list[WebhookEndpoint]:
        """The user's endpoints, oldest first."""
        ...

    async def lock_user_and_count(self, user_id: UUID) -> int:
        """Hold the user's endpoint creations until the unit of work ends and count the
        user's endpoints, as committed once it holds."""
        ...

    async def save(self, endpoint: WebhookEndpoint) -> None:
        """Write every field of an existing endpoint."""
        ...

    async def delete(self, endpoint_id: UUID) -> None:
        """The endpoint and its deliveries."""
        ...

    async def note_attempt(self, endpoint_id: UUID, *, succeeded: bool, at: datetime) -> None:
        """A success clears `failing_since`; a failure sets it unless it is set already."""
        ...


class WebhookDeliveryQueue(Protocol):
    async def fan_out(self, limit: int, *, now: datetime, until: datetime) -> FanOut:
        """Queue the next committed events (at most `limit`, in commit order, after where the
        last fan-out stopped) for every enabled endpoint of their users that takes their type
        and existed when they were written, due `now`, and move past them. What it queues for
        endpoints that are not failing comes back leased until `until`: a fresh delivery
        costs no lease of its own.
        Two fan-outs at once: one of them reads nothing (0) and queues nothing."""
        ...

    async def lease(
        self,
        limit: int,
        *,
        now: datetime,
        until: datetime,
        excluding: Collection[UUID],
        per_endpoint: int,
    ) -> list[LeasedDelivery]:
        """Lease pending deliveries due by `now` of enabled endpoints not in `excluding`
        (oldest due first, at most `per_endpoint` of one endpoint) until `until`; another
        worker skips them meanwhile."""
        ...

    async def release(self, delivery_ids: Collection[int], *, leased_until: datetime) -> None:
        """End a lease taken but not used, unless it has passed to another worker since."""
        ...

    async def settle(
        self, outcomes: Sequence[DeliveryOutcome], *, endpoints_next: bool = True
    ) -> None:
        """Record attempts, each unless the lease it was made under has passed to another.
        `endpoints_next`: the same unit of work changes their endpoints afterwards, so a store
        that locks takes the endpoints first (the order a deletion's cascade takes them in)."""
        ...

    async def page(
        self,
        endpoint_id: UUID,
        *,
        status: DeliveryStatus | None,
        before: int | None,
        limit: int,
    ) -> list[WebhookDelivery]:
        """The endpoint's deliveries, newest first, with ids below `before`."""
        ...

    async def requeue(
        self, endpoint: WebhookEndpoint, *, after: FeedPosition, now: datetime
    ) -> int:
        """Queue again, due now, every committed event of the endpoint's user after `after`
        that the endpoint takes (a delivered or failed one too); how many."""
        ...

    async def backlog(self) -> DeliveryBacklog: ...


class HostResolver(Protocol):
    async def resolve(self, host: str, port: int) -> list[str]:
        """Every address the name resolves to (none: it does not resolve)."""
        ...


@dataclass(frozen=True, slots=True)
class WebhookResponse:
    status_code: int | None
    error: str | None = None
    """Why no status came back: refused, timed out, unsafe..."""


class WebhookTransport(Protocol):
    async def post(
        self, url: str, address: str, body: bytes, headers: Mapping[str, str]
    ) -> WebhookResponse:
        """POST `body` to `url`, connecting to `address` (its host's checked address, not a
        second resolution that could differ), within the delivery timeout."""
        ...

    async def close(self) -> None:
        """Close its connections (on the way out)."""
        ...
