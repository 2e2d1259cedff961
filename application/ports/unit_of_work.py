from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Protocol, Self

from application.ports.accounts import AccountRepository
from application.ports.api_keys import ApiKeyRepository
from application.ports.idempotency import IdempotencyStore
from application.ports.ledger import LedgerRepository
from application.ports.monitors import MonitorRepository
from application.ports.outbox import Outbox
from application.ports.users import UserRepository
from application.ports.webhooks import WebhookDeliveryQueue, WebhookEndpointRepository


class UnitOfWork(Protocol):
    """One atomic piece of work: everything in it is committed together or not at all.

    Leaving the `async with` block without `commit()` rolls back, also on errors.
    """

    users: UserRepository
    accounts: AccountRepository
    ledger: LedgerRepository
    idempotency: IdempotencyStore
    outbox: Outbox
    api_keys: ApiKeyRepository
    webhook_endpoints: WebhookEndpointRepository
    webhook_deliveries: WebhookDeliveryQueue
    monitors: MonitorRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
"""Builds a fresh unit of work per call, so concurrent requests never share one."""
