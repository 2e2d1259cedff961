from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from adapters.in_memory.storage import InMemoryStorage, PendingChanges
from application.ports.idempotency import IdempotencyKey, IdempotencyStore, Outcome, StoredRequest
from domain.errors import IdempotencyKeyInFlight


class InMemoryIdempotencyStore(IdempotencyStore):
    def __init__(self, storage: InMemoryStorage, pending: PendingChanges) -> None:
        self._storage = storage
        self._pending = pending

    async def claim(
        self, key: IdempotencyKey, *, now: datetime, expired_before: datetime
    ) -> StoredRequest | None:
        scoped = (key.user_id, key.key)
        if scoped in self._storage.claimed_keys:
            raise IdempotencyKeyInFlight("A request with this Idempotency-Key is in progress.")
        stored = self._storage.requests.get(scoped)
        if stored is not None and stored[1] >= expired_before:
            return stored[0]
        self._storage.claimed_keys.add(scoped)
        self._pending.claims[scoped] = (StoredRequest(key.fingerprint, Outcome()), now)
        return None

    async def complete(self, key: IdempotencyKey, outcome: Outcome) -> None:
        scoped = (key.user_id, key.key)
        _, claimed_at = self._pending.claims[scoped]
        self._pending.claims[scoped] = (StoredRequest(key.fingerprint, outcome), claimed_at)

    async def claim_many(
        self, keys: Sequence[IdempotencyKey], *, now: datetime, expired_before: datetime
    ) -> dict[tuple[UUID, str], StoredRequest]:
        stored = {}
        for key in keys:
            found = await self.claim(key, now=now, expired_before=expired_before)
            if found is not None:
                stored[key.user_id, key.key] = found
        return stored

    async def complete_many(self, outcomes: Sequence[tuple[IdempotencyKey, Outcome]]) -> None:
        for key, outcome in outcomes:
            await self.complete(key, outcome)

    async def purge(self, expired_before: datetime) -> int:
        expired = [k for k, (_, at) in self._storage.requests.items() if at < expired_before]
        for scoped in expired:
            del self._storage.requests[scoped]
        return len(expired)
