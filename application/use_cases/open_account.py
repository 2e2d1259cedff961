from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from application.events import TraceContext, account_event, untraced
from application.ports.clock import Clock
from application.ports.retry import TransactionRetry
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.account import Account, require_room_for_account


class OpenAccount:
    """Opens an account if the owner has room for one more: the owner's openings are
    serialized in the store (the count is taken under the owner's hold), so two concurrent
    openings at the limit cannot both succeed. An opening the store aborts for a conflict
    with another (SERIALIZABLE) runs again, and then counts what the other committed."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        retry: TransactionRetry,
        max_open_accounts: int,
        trace: TraceContext = untraced,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._retry = retry
        self._max_open_accounts = max_open_accounts
        self._trace = trace

    async def __call__(
        self,
        owner_id: UUID,
        currency: str,
        *,
        name: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Account:
        now = self._clock.now()
        account = Account.open(
            owner_id=owner_id,
            currency=currency,
            now=now,
            name=name,
            metadata=dict(metadata) if metadata is not None else None,
        )
        opened = account_event("opened", account, now, traceparent=self._trace())

        async def store() -> None:
            async with self._uow_factory() as uow:
                open_accounts = await uow.accounts.lock_owner_and_count_open(owner_id)
                require_room_for_account(open_accounts, self._max_open_accounts)
                await uow.accounts.add(account)
                await uow.outbox.add([opened])
                await uow.commit()

        await self._retry.run(store)
        return account
