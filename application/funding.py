"""The bank's side of deposits and withdrawals: its funding account of each currency."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from application.ports.unit_of_work import UnitOfWork
from domain.account import Account, funding_account_id
from domain.errors import AccountNotFound


async def lock_with_funding(
    uow: UnitOfWork, account_id: UUID, owner_id: UUID, *, at: datetime
) -> tuple[Account, Account]:
    """Lock a customer's account and the funding account of its currency, in id order like
    every lock, and check ownership on the locked row: (customer account, funding account).

    An account's currency never changes, so an unlocked read may name the funding account.
    The funding account is created on first use."""
    account = await uow.accounts.get(account_id, at=at)
    if account is None:
        raise AccountNotFound(f"Account {account_id} not found.")
    funding_id = funding_account_id(account.currency)
    locked = await uow.accounts.lock((funding_id, account_id), at=at)
    if funding_id not in locked:
        await uow.accounts.add_if_absent(Account.funding(currency=account.currency, now=at))
        locked = await uow.accounts.lock((funding_id, account_id), at=at)
    customer = locked.get(account_id)
    if customer is None or not customer.is_owned_by(owner_id):
        raise AccountNotFound(f"Account {account_id} not found.")
    return customer, locked[funding_id]
