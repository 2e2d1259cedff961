from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.errors import DomainError


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """A client's key, scoped to the user who sent it, with the fingerprint of the request."""

    user_id: UUID
    key: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a request ended with: the transfer it made, or the domain error it met; for a
    batch, one outcome per item (`items`), or the refusal of item `error_index` that
    stopped an atomic one."""

    transfer_id: UUID | None = None
    error_code: str | None = None
    error_detail: str | None = None
    items: tuple[Outcome, ...] | None = None
    error_index: int | None = None

    @classmethod
    def failed(cls, error: DomainError, index: int | None = None) -> Outcome:
        return cls(error_code=error.code, error_detail=error.detail, error_index=index)


@dataclass(frozen=True, slots=True)
class StoredRequest:
    fingerprint: str
    outcome: Outcome


class IdempotencyStore(Protocol):
    async def claim(
        self, key: IdempotencyKey, *, now: datetime, expired_before: datetime
    ) -> StoredRequest | None:
        """Reserve the key for this unit of work, or return the request stored under it.

        A key stored before `expired_before` is free again. While another unit of work holds
        the key, wait for it to end, or raise `IdempotencyKeyInFlight` when that takes too long.
        """
        ...

    async def complete(self, key: IdempotencyKey, outcome: Outcome) -> None:
        """Store the outcome under the claimed key; it becomes visible on commit."""
        ...

    async def claim_many(
        self, keys: Sequence[IdempotencyKey], *, now: datetime, expired_before: datetime
    ) -> dict[tuple[UUID, str], StoredRequest]:
        """`claim` for many keys (distinct (user, key) pairs) at once: reserve the free ones,
        return the stored request of each taken one, by (user_id, key)."""
        ...

    async def complete_many(self, outcomes: Sequence[tuple[IdempotencyKey, Outcome]]) -> None:
        """`complete` for many claimed keys at once."""
        ...

    async def purge(self, expired_before: datetime) -> int:
        """Forget requests stored before `expired_before`; return how many."""
        ...
