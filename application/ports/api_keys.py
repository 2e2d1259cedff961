from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.api_key import ApiKey


class ApiKeyRepository(Protocol):
    """API keys, stored with the hash of their secret (never the secret)."""

    async def add(self, key: ApiKey) -> None: ...

    async def get(self, key_id: UUID) -> ApiKey | None: ...

    async def with_prefix(self, prefix: str) -> list[ApiKey]:
        """The keys whose secret starts with `prefix` (almost always one, or none): what a
        presented secret is looked up by before its hash is compared."""
        ...

    async def live_of(self, user_id: UUID, *, at: datetime) -> list[ApiKey]:
        """The user's keys neither revoked nor expired at `at`, oldest first."""
        ...

    async def lock_user_and_count_live(self, user_id: UUID, *, at: datetime) -> int:
        """Hold the user's key creations until the unit of work ends (a second creation by the
        same user waits here) and count the user's live keys, as committed once it holds."""
        ...

    async def revoke(self, key_id: UUID, *, at: datetime) -> None:
        """Write `revoked_at`, unless the key has one already."""
        ...

    async def touch(self, key_id: UUID, *, at: datetime, unless_since: datetime) -> None:
        """Write `last_used_at = at`, unless it is at or after `unless_since` already (another
        instance wrote it lately): the row is written at most once per interval whatever the
        number of instances."""
        ...
