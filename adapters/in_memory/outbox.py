from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from uuid import UUID

from adapters.in_memory.storage import InMemoryStorage, PendingChanges
from application.events import Event
from application.ports.outbox import (
    ClaimedEvent,
    FeedPosition,
    Outbox,
    OutboxBacklog,
    StoredEvent,
)


class InMemoryOutbox(Outbox):
    """Events reach the shared storage on commit, in commit order (one at a time here)."""

    def __init__(self, storage: InMemoryStorage, pending: PendingChanges) -> None:
        self._storage = storage
        self._pending = pending

    async def add(self, events: Sequence[Event]) -> None:
        self._pending.events.extend(events)

    async def feed(
        self,
        user_id: UUID,
        *,
        after: FeedPosition | None,
        types: Collection[str],
        limit: int,
        accounts: Collection[UUID] | None = None,
    ) -> list[StoredEvent]:
        start = after or FeedPosition(0, 0)
        found = [
            stored
            for stored in self._storage.events
            if user_id in stored.event.user_ids
            and (stored.position.transaction, stored.position.position)
            > (start.transaction, start.position)
            and (not types or stored.event.type in types)
            and (accounts is None or any(state.id in accounts for state in stored.event.accounts))
        ]
        return found[:limit]

    async def claim_undelivered(
        self, limit: int, *, now: datetime, until: datetime
    ) -> list[ClaimedEvent]:
        leases = self._storage.leases
        claimed = [
            stored
            for stored in self._storage.events
            if stored.event.id not in self._storage.delivered
            and leases.get(stored.event.id, now) <= now
        ][:limit]
        self._pending.leases.update((stored.event.id, until) for stored in claimed)
        return [_claimed(stored) for stored in claimed]

    async def mark_delivered(self, events: Collection[ClaimedEvent]) -> None:
        self._pending.delivered.update(claimed.id for claimed in events)

    async def release(self, events: Collection[ClaimedEvent], *, leased_until: datetime) -> None:
        leases = self._storage.leases
        self._pending.released.update(
            claimed.id for claimed in events if leases.get(claimed.id) == leased_until
        )

    async def backlog(self) -> OutboxBacklog:
        delivered = self._storage.delivered | self._pending.delivered  # its own marks too
        waiting = [s for s in self._storage.events if s.event.id not in delivered]
        return OutboxBacklog(
            len(waiting), min((s.event.occurred_at for s in waiting), default=None)
        )


def _claimed(stored: StoredEvent) -> ClaimedEvent:
    payload = json.dumps(stored.event.document(), separators=(",", ":")).encode()
    return ClaimedEvent(
        stored.event.id, stored.event.type, payload, stored.position, stored.traceparent
    )
