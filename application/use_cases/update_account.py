from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

from application.events import TraceContext, account_event, untraced
from application.moment import Moment
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.account import Account, normalize_account_name
from domain.errors import AccountNotFound
from domain.metadata import merge_metadata

_UNCHANGED = object()


@dataclass(frozen=True, slots=True)
class AccountChanges:
    """What a PATCH may change: the name (None removes it) and metadata, merged key by key
    (a key set to None is removed). Money is never among them."""

    name: str | object | None = _UNCHANGED
    metadata: Mapping[str, str | None] | None = None

    @property
    def renames(self) -> bool:
        return self.name is not _UNCHANGED


class UpdateAccount:
    def __init__(
        self, uow_factory: UnitOfWorkFactory, clock: Clock, trace: TraceContext = untraced
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._trace = trace

    async def __call__(self, owner_id: UUID, account_id: UUID, changes: AccountChanges) -> Account:
        moment = Moment(self._clock)
        async with self._uow_factory() as uow:
            locked = await moment.lock(uow, (account_id,))
            account = locked.get(account_id)
            if account is None or not account.is_owned_by(owner_id):
                raise AccountNotFound(f"Account {account_id} not found.")
            if changes.renames:
                name = changes.name
                account.name = normalize_account_name(name if isinstance(name, str) else None)
            if changes.metadata is not None:
                account.metadata = merge_metadata(account.metadata, changes.metadata)
            await uow.accounts.update(account)
            await uow.outbox.add(
                [account_event("updated", account, moment.now, traceparent=self._trace())]
            )
            await uow.commit()
        return account
