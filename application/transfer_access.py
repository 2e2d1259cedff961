"""Who may act on an existing transfer: its payer posts or voids a hold, its payee reverses
it; the other party is told no (403), anyone else learns nothing (404)."""

from __future__ import annotations

from uuid import UUID

from domain.account import Account
from domain.errors import NotPayee, NotPayer, TransferNotFound
from domain.transfer import Transfer


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
