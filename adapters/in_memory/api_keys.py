from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from uuid import UUID

from adapters.in_memory.storage import InMemoryStorage, PendingChanges
from application.ports.api_keys import ApiKeyRepository
from domain.api_key import ApiKey


class InMemoryApiKeyRepository(ApiKeyRepository):
    """Keys are frozen values: a change is a new value among the pending changes."""

    def __init__(self, storage: InMemoryStorage, pending: PendingChanges) -> None:
        self._storage = storage
        self._pending = pending

    def _all(self) -> dict[UUID, ApiKey]:
        return {**self._storage.api_keys, **self._pending.api_keys}

    async def add(self, key: ApiKey) -> None:
        self._pending.api_keys[key.id] = key

    async def get(self, key_id: UUID) -> ApiKey | None:
        return self._all().get(key_id)

    async def with_prefix(self, prefix: str) -> list[ApiKey]:
        return [key for key in self._all().values() if key.prefix == prefix]

    async def live_of(self, user_id: UUID, *, at: datetime) -> list[ApiKey]:
        mine = [key for key in self._all().values() if key.user_id == user_id and key.is_live(at)]
        return sorted(mine, key=lambda key: (key.created_at, key.id))

    async def lock_user_and_count_live(self, user_id: UUID, *, at: datetime) -> int:
        # One event loop, and the fakes never suspend: nothing runs between this count and
        # the unit of work's commit.
        return len(await self.live_of(user_id, at=at))

    async def revoke(self, key_id: UUID, *, at: datetime) -> None:
        key = self._all().get(key_id)
        if key is not None:
            self._pending.api_keys[key_id] = key.revoked(at)

    async def touch(self, key_id: UUID, *, at: datetime, unless_since: datetime) -> None:
        key = self._all().get(key_id)
        if key is not None and (key.last_used_at is None or key.last_used_at < unless_since):
            self._pending.api_keys[key_id] = replace(key, last_used_at=at)
