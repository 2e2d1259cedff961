"""The outbox: events written in the same transaction as the change they report."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from application.events import Event


@dataclass(frozen=True, slots=True)
class FeedPosition:
    """Where an event stands in commit order: (transaction, position within it). Readers only
    read below the oldest transaction still running, so no later commit can land behind a
    position already handed out."""

    transaction: int
    position: int


@dataclass(frozen=True, slots=True)
class StoredEvent:
    event: Event
    position: FeedPosition
    traceparent: str | None = None
    """The W3C trace context of the request that made it, to continue the trace downstream."""


@dataclass(frozen=True, slots=True)
class ClaimedEvent:
    """An event leased for the broker, as the broker carries it: its document already
    encoded. The relay passes the bytes on; it never rebuilds the event to encode it again."""

    id: UUID
    type: str
    payload: bytes
    """`Event.document()` (every touched account listed), as JSON."""
    position: FeedPosition
    traceparent: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxBacklog:
    undelivered: int
    oldest: datetime | None


class Outbox(Protocol):
    async def add(self, events: Sequence[Event]) -> None:
        """Write the events in this unit of work; they exist once it commits."""
        ...

    async def feed(
        self,
        user_id: UUID,
        *,
        after: FeedPosition | None,
        types: Collection[str],
        limit: int,
        accounts: Collection[UUID] | None = None,
    ) -> list[StoredEvent]:
        """The user's committed events after `after`, oldest first (optionally of `types`;
        with `accounts`, only those touching one of these accounts)."""
        ...

    async def claim_undelivered(
        self, limit: int, *, now: datetime, until: datetime
    ) -> list[ClaimedEvent]:
        """Lease the oldest events not yet delivered (and not leased by another relay) until
        `until`, in this unit of work, in outbox order. Commit it at once: the relay publishes
        outside any transaction, so no lock is held across the network and the feed is never
        held up."""
        ...

    async def mark_delivered(self, events: Collection[ClaimedEvent]) -> None:
        """Delivered for good. Doing it again is harmless (a mark whose commit was lost)."""
        ...

    async def release(self, events: Collection[ClaimedEvent], *, leased_until: datetime) -> None:
        """End the lease of events not published, so the next pass takes them at once: only
        the lease this relay took (`until` of its claim), never one another relay took since
        (after this one's ran out). Doing it again is harmless."""
        ...

    async def backlog(self) -> OutboxBacklog: ...
