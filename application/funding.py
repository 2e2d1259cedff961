"""The bank's side of deposits and withdrawals: its funding account of each currency."""

from __future__ import annotations

from uuid import UUID

from application.moment import Moment
from application.ports.unit_of_work import UnitOfWork
from application.transfer_requests import Labels
from domain.account import Account, funding_account_id
from domain.errors import AccountNotFound
from domain.ids import new_id
from domain.ledger import Posting, post_transfer
from domain.money import Money
from domain.transfer import TransferKind


async def lock_with_funding(
    uow: UnitOfWork, account_id: UUID, owner_id: UUID, moment: Moment
) -> tuple[Account, Account]:
    """Lock a customer's account and the funding account of its currency, in id order like
    every lock, and check ownership on the locked row: (customer account, funding account).

    An account's currency never changes, so an unlocked read may name the funding account.
    The funding account is created on first use."""
    account = await uow.accounts.get(account_id, at=moment.now)
    if account is None:
        raise AccountNotFound(f"Account {account_id} not found.")
    funding_id = funding_account_id(account.currency)
    locked = await moment.lock(uow, (funding_id, account_id))
    if funding_id not in locked:
        await uow.accounts.add_if_absent(Account.funding(currency=account.currency, now=moment.now))
        locked = await moment.lock(uow, (funding_id, account_id))
    customer = locked.get(account_id)
    if customer is None or not customer.is_owned_by(owner_id):
        raise AccountNotFound(f"Account {account_id} not found.")
    return customer, locked[funding_id]


async def post_with_funding(
    uow: UnitOfWork,
    *,
    user_id: UUID,
    account_id: UUID,
    amount: int,
    kind: TransferKind,
    description: str | None,
    labels: Labels,
    moment: Moment,
) -> Posting:
    """A deposit (from the funding account) or a withdrawal (back to it) of the caller's
    account: the same locks, checks and labels, in opposite directions."""
    await labels.refuse_if_taken(uow, user_id)
    account, funding = await lock_with_funding(uow, account_id, user_id, moment)
    source, destination = (funding, account) if kind is TransferKind.DEPOSIT else (account, funding)
    return post_transfer(
        transfer_id=new_id(),
        source=source,
        destination=destination,
        amount=Money(amount, account.currency),
        description=description,
        now=moment.now,
        kind=kind,
        created_by=user_id,
        reference=labels.reference,
        metadata=labels.metadata,
    )
