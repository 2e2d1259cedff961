from __future__ import annotations

from types import TracebackType
from typing import Self

from adapters.in_memory.accounts import InMemoryAccountRepository
from adapters.in_memory.api_keys import InMemoryApiKeyRepository
from adapters.in_memory.idempotency import InMemoryIdempotencyStore
from adapters.in_memory.ledger import InMemoryLedgerRepository
from adapters.in_memory.monitors import InMemoryMonitorRepository
from adapters.in_memory.outbox import InMemoryOutbox
from adapters.in_memory.storage import InMemoryStorage, PendingChanges
from adapters.in_memory.users import InMemoryUserRepository
from adapters.in_memory.webhooks import (
    InMemoryWebhookDeliveryQueue,
    InMemoryWebhookEndpointRepository,
)
from application.ports.unit_of_work import UnitOfWork


class InMemoryUnitOfWork(UnitOfWork):
    """Writes go to pending changes and reach the shared storage only on commit."""

    def __init__(self, storage: InMemoryStorage) -> None:
        self.storage = storage
        self._pending = PendingChanges()
        self.users = InMemoryUserRepository(storage, self._pending)
        self.accounts = InMemoryAccountRepository(storage, self._pending)
        self.ledger = InMemoryLedgerRepository(storage, self._pending)
        self.idempotency = InMemoryIdempotencyStore(storage, self._pending)
        self.outbox = InMemoryOutbox(storage, self._pending)
        self.api_keys = InMemoryApiKeyRepository(storage, self._pending)
        self.webhook_endpoints = InMemoryWebhookEndpointRepository(storage, self._pending)
        self.webhook_deliveries = InMemoryWebhookDeliveryQueue(storage, self._pending)
        self.monitors = InMemoryMonitorRepository(storage, self._pending)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.rollback()

    async def commit(self) -> None:
        self._pending.apply_to(self.storage)

    async def rollback(self) -> None:
        self._pending.release(self.storage)
