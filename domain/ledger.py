"""Double-entry posting: the one place where balances change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from domain.account import Account
from domain.errors import CurrencyMismatch, InsufficientFunds, InvalidAmount, SameAccountTransfer
from domain.money import Money
from domain.transfer import LedgerEntry, Transfer


@dataclass(frozen=True, slots=True)
class Posting:
    """A transfer with its debit and credit entries and both accounts after the move."""

    transfer: Transfer
    debit: LedgerEntry
    credit: LedgerEntry
    source: Account
    destination: Account


def post_transfer(
    *,
    transfer_id: UUID,
    source: Account,
    destination: Account,
    amount: Money,
    description: str | None,
    now: datetime,
) -> Posting:
    """Check every money rule, then move the balances; nothing changes when a rule refuses."""
    if source.id == destination.id:
        raise SameAccountTransfer("A transfer needs two different accounts.")
    if amount.amount <= 0:
        raise InvalidAmount("An amount must be greater than zero.")
    if source.currency != amount.currency:
        raise CurrencyMismatch(
            f"Account {source.id} holds {source.currency}, not {amount.currency}."
        )
    if destination.currency != amount.currency:
        # The payer may not own the destination: say nothing of what it holds.
        raise CurrencyMismatch(f"The destination account cannot receive {amount.currency}.")
    if not source.can_pay(amount.amount):
        raise InsufficientFunds(f"Account {source.id} has insufficient funds.")
    if not (source.can_hold(-amount.amount) and destination.can_hold(amount.amount)):
        raise InvalidAmount("The amount would take a balance past what the books can hold.")

    transfer = Transfer(
        id=transfer_id,
        from_account_id=source.id,
        to_account_id=destination.id,
        amount=amount.amount,
        currency=amount.currency,
        description=description,
        created_at=now,
    )
    debit_sequence, debit_balance = source.apply(-amount.amount)
    credit_sequence, credit_balance = destination.apply(amount.amount)
    return Posting(
        transfer=transfer,
        debit=LedgerEntry(
            id=uuid4(),
            account_id=source.id,
            transfer_id=transfer_id,
            sequence=debit_sequence,
            amount=-amount.amount,
            balance_after=debit_balance,
            created_at=now,
        ),
        credit=LedgerEntry(
            id=uuid4(),
            account_id=destination.id,
            transfer_id=transfer_id,
            sequence=credit_sequence,
            amount=amount.amount,
            balance_after=credit_balance,
            created_at=now,
        ),
        source=source,
        destination=destination,
    )
