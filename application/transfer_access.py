"""Who may act on an existing transfer: its payer posts or voids a hold, its payee reverses
it; the other party is told no (403), anyone else learns nothing (404)."""

from __future__ import annotations

from uuid import UUID

from application.moment import Moment
from application.ports.unit_of_work import UnitOfWork
from domain.account import Account
from domain.errors import NotPayee, NotPayer, TransferNotFound
from domain.transfer import Transfer


async def locked_transfer(
    uow: UnitOfWork, transfer_id: UUID, moment: Moment
) -> tuple[Transfer, Account, Account]:
    """The transfer and both its accounts, locked (the transfer first, as everyone does);
    the moment is then the time the locks were held."""
    transfer = await uow.ledger.lock_transfer(transfer_id)
    if transfer is None:
        raise TransferNotFound(f"Transfer {transfer_id} not found.")
    accounts = await moment.lock(uow, (transfer.from_account_id, transfer.to_account_id))
    return transfer, accounts[transfer.from_account_id], accounts[transfer.to_account_id]


def require_payer(transfer: Transfer, source: Account, destination: Account, user_id: UUID) -> None:
    if source.is_owned_by(user_id):
        return
    if destination.is_owned_by(user_id):
        raise NotPayer(f"Only the payer of transfer {transfer.id} may do this.")
    raise TransferNotFound(f"Transfer {transfer.id} not found.")


def require_payee(transfer: Transfer, source: Account, destination: Account, user_id: UUID) -> None:
    if destination.is_owned_by(user_id):
        return
    if source.is_owned_by(user_id):
        raise NotPayee(f"Only the payee of transfer {transfer.id} may reverse it.")
    raise TransferNotFound(f"Transfer {transfer.id} not found.")
